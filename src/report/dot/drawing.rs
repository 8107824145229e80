//! The drawing of a trimmed call graph: what `-dot` writes and the built-in
//! SVG layout draws, computed once from the report.

use super::{arena_names, dot_color, multiline_name};
use crate::report::graph::{sort_tags, Edge, Graph, Tag, MAX_NODELETS};
use crate::report::Report;
use crate::units::{self, percentage};

/// How a label line is placed: DOT ends centred lines with `\n` and
/// left-justified ones with `\l`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Justify {
    Center,
    Left,
}

/// One line of a label, without DOT escapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    /// The line break after the text; `None` for a last line written
    /// without one (drawn centred).
    pub end: Option<Justify>,
}

/// A multi-line label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Label {
    pub lines: Vec<Line>,
}

impl Label {
    /// A label of one line without a line break.
    pub fn text(s: &str) -> Label {
        let mut l = Label::default();
        l.push(s);
        l
    }

    /// The open line (the last one, while it has no line break).
    fn open(&mut self) -> &mut String {
        if self.lines.last().is_none_or(|l| l.end.is_some()) {
            self.lines.push(Line {
                text: String::new(),
                end: None,
            });
        }
        let last = self.lines.len() - 1;
        &mut self.lines[last].text
    }

    /// Appends text to the open line.
    pub fn push(&mut self, s: &str) {
        self.open().push_str(s);
    }

    pub fn push_char(&mut self, c: char) {
        self.open().push(c);
    }

    /// Ends the open line (an empty one if none is open).
    pub fn end_line(&mut self, j: Justify) {
        self.open();
        if let Some(l) = self.lines.last_mut() {
            l.end = Some(j);
        }
    }

    /// The lines to draw: each with whether it is left-justified, without
    /// an empty last line that has no break.
    pub fn drawn_lines(&self) -> impl Iterator<Item = (&str, bool)> {
        let n = match self.lines.last() {
            Some(l) if l.end.is_none() && l.text.is_empty() => self.lines.len() - 1,
            _ => self.lines.len(),
        };
        self.lines[..n]
            .iter()
            .map(|l| (l.text.as_str(), l.end == Some(Justify::Left)))
    }
}

/// Node shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A function (or line, file...) node.
    Box,
    /// A nodelet: a tag under its node.
    Box3d,
}

/// The legend box (pprof's `cluster_L`): the report's header lines.
#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    /// Its first line, which also names it.
    pub name: String,
    /// Every header line, left-justified.
    pub label: Label,
    /// The report's title, when there is one.
    pub tooltip: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DrawNode {
    /// The DOT node name (`N1`, `N1_0`, `NN1_0_0`).
    pub name: String,
    /// The element id in SVG (`node1`; nodelets use their name).
    pub id: String,
    pub label: Label,
    pub tooltip: String,
    pub font_size: i64,
    pub shape: Shape,
    /// Border colour; `None` for the default (black).
    pub color: Option<String>,
    /// Fill colour; `None` for the graph's default ([`NODE_FILL`]).
    pub fill: Option<String>,
    /// A tag of the node before it: written right before the one edge
    /// that leads to it.
    pub nodelet: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DrawEdge {
    /// Index into [`Drawing::nodes`].
    pub from: usize,
    /// Index into [`Drawing::nodes`]; `None` for a callee that is not
    /// drawn (dropped by `-drop_negative`), which pprof names `N0`.
    pub to: Option<usize>,
    pub label: Label,
    /// The call was inlined.
    pub inline: bool,
    pub tooltip: String,
    /// `None` when the report has no total to compare with.
    pub color: Option<String>,
    pub penwidth: Option<i64>,
    /// Graphviz's edge weight (a layout hint), when above 1.
    pub weight: Option<i64>,
    /// A residual edge (through dropped nodes), or a nodelet's edge for a
    /// cum-only tag.
    pub dotted: bool,
    /// Minimum rank distance (keeps callees clear of nodelets).
    pub minlen: Option<i64>,
}

/// The graph's default node fill.
pub const NODE_FILL: &str = "#f8f8f8";

/// A call graph ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Drawing {
    /// The graph's name: the report's title, or `unnamed`.
    pub name: String,
    pub legend: Option<Legend>,
    /// In DOT order: each node followed by its nodelets.
    pub nodes: Vec<DrawNode>,
    /// In DOT order: nodelet edges, then the call edges heaviest first.
    pub edges: Vec<DrawEdge>,
}

impl Drawing {
    /// The drawing of a trimmed graph with its legend (`labels`, the
    /// report's header lines).
    pub fn new(rpt: &Report, g: &Graph, labels: &[String]) -> Drawing {
        let title = &rpt.opts.title;
        let mut d = Drawing {
            name: if title.is_empty() {
                "unnamed".to_string()
            } else {
                title.clone()
            },
            legend: None,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        if let Some(first) = labels.first() {
            let mut label = Label::default();
            for l in labels {
                label.push(l);
                label.end_line(Justify::Left);
            }
            d.legend = Some(Legend {
                name: first.clone(),
                label,
                tooltip: (!title.is_empty()).then(|| title.clone()),
            });
        }
        if g.nodes.is_empty() {
            return d;
        }

        let p = &rpt.prof;
        let names = arena_names(g, p);
        // Nodes are numbered from 1 in list order; `index` maps arena nodes
        // to drawn ones (edges to nodes off the list have none).
        let mut index = vec![None; g.arena.len()];
        let mut max_flat = g.node(g.nodes[0]).flat_value().wrapping_abs() as f64;
        for &n in &g.nodes {
            max_flat = max_flat.max(g.node(n).flat_value().wrapping_abs() as f64);
        }
        let mut has_nodelets = vec![false; g.arena.len()];
        let mut edges: Vec<u32> = Vec::new();
        for (i, &n) in g.nodes.iter().enumerate() {
            index[n as usize] = Some(d.nodes.len());
            d.function_node(rpt, g, n, i + 1, max_flat, &names);
            has_nodelets[n as usize] = d.nodelets(rpt, g, n, i + 1);
            edges.extend(
                g.arena[n as usize]
                    .outs
                    .iter()
                    .copied()
                    .filter(|&e| !g.edges[e as usize].removed),
            );
        }
        // Heaviest edges first: a hint for the layout engine.
        g.sort_edges(&mut edges, &names);
        for e in edges {
            let edge = &g.edges[e as usize];
            let Some(from) = index[edge.src as usize] else {
                continue;
            };
            d.call_edge(
                rpt,
                edge,
                (from, index[edge.dest as usize]),
                (&names[edge.src as usize], &names[edge.dest as usize]),
                has_nodelets[edge.src as usize],
            );
        }
        d
    }

    fn function_node(
        &mut self,
        rpt: &Report,
        g: &Graph,
        n: u32,
        id: usize,
        max_flat: f64,
        names: &[String],
    ) {
        let node = g.node(n);
        let (flat, cum) = (node.flat_value(), node.cum_value());
        let total = rpt.total;
        let mut label = Label::default();
        multiline_name(&mut label, &node.info, &rpt.prof);
        let flat_value = rpt.format_value(flat);
        if flat != 0 {
            label.push(&format!(
                "{flat_value} ({})",
                percentage(flat, total).trim()
            ));
        } else {
            label.push("0");
        }
        let mut cum_value = flat_value;
        if cum != flat {
            if flat != 0 {
                label.end_line(Justify::Center);
            } else {
                label.push(" ");
            }
            cum_value = rpt.format_value(cum);
            label.push(&format!(
                "of {cum_value} ({})",
                percentage(cum, total).trim()
            ));
        }
        // Font sizes grow from 8 to 24 with the square root of flat.
        let mut font_size = 8;
        let abs_flat = flat.wrapping_abs() as f64;
        if max_flat != 0.0 && flat != 0 && abs_flat <= max_flat {
            font_size += (16.0 * (abs_flat / max_flat).sqrt()).ceil() as i64;
        }
        let score = cum as f64 / total.wrapping_abs() as f64;
        self.nodes.push(DrawNode {
            name: format!("N{id}"),
            id: format!("node{id}"),
            label,
            tooltip: format!("{} ({cum_value})", names[n as usize]),
            font_size,
            shape: Shape::Box,
            color: Some(dot_color(score, false)),
            fill: Some(dot_color(score, true)),
            nodelet: false,
        });
    }

    /// A nodelet and the edge to it from node `from`.
    fn nodelet(
        &mut self,
        rpt: &Report,
        from: usize,
        name: String,
        tag: &str,
        w: i64,
        dotted: bool,
    ) {
        let weight = rpt.format_value(w);
        // String tags are label sets, one `key:value` per line.
        let mut label = Label::default();
        let mut parts = tag.split("\\n").peekable();
        while let Some(part) = parts.next() {
            label.push(part);
            if parts.peek().is_some() {
                label.end_line(Justify::Center);
            }
        }
        self.nodes.push(DrawNode {
            id: name.clone(),
            name,
            label,
            tooltip: weight.clone(),
            font_size: 8,
            shape: Shape::Box3d,
            color: None,
            fill: None,
            nodelet: true,
        });
        self.edges.push(DrawEdge {
            from,
            to: Some(self.nodes.len() - 1),
            label: Label::text(&format!(" {weight}")),
            inline: false,
            tooltip: weight,
            color: None,
            penwidth: None,
            weight: Some(100),
            dotted,
            minlen: None,
        });
    }

    /// Nodelets: a node's heaviest label sets (flat for nodes with callees,
    /// cum for leaves) and its numeric tags, bucketed. Returns whether any
    /// was drawn.
    fn nodelets(&mut self, rpt: &Report, g: &Graph, n: u32, id: usize) -> bool {
        let Some(tags) = g.tags.get(n as usize) else {
            return false;
        };
        let node = self.nodes.len() - 1;
        let start = self.nodes.len();
        let flat_tags = g.out_edges(n).next().is_some();
        let mut labels = tags.labels.clone();
        sort_tags(&mut labels, flat_tags);
        labels.truncate(MAX_NODELETS);
        let numeric = |set: &str| {
            tags.numeric
                .iter()
                .find(|(s, v)| s == set && !v.is_empty())
                .map(|(_, v)| v)
        };
        for (i, t) in labels.iter().enumerate() {
            let w = if flat_tags {
                t.flat_value()
            } else {
                t.cum_value()
            };
            if w == 0 {
                continue;
            }
            let name = format!("N{id}_{i}");
            self.nodelet(rpt, node, name.clone(), &t.name, w, false);
            if let Some(nts) = numeric(&t.name) {
                let from = self.nodes.len() - 1;
                self.numeric_nodelets(rpt, nts, flat_tags, from, &name);
            }
        }
        if let Some(nts) = numeric("") {
            self.numeric_nodelets(rpt, nts, flat_tags, node, &format!("N{id}"));
        }
        self.nodes.len() != start
    }

    fn numeric_nodelets(
        &mut self,
        rpt: &Report,
        tags: &[Tag],
        flat_tags: bool,
        from: usize,
        source: &str,
    ) {
        for (j, t) in collapsed_tags(tags, MAX_NODELETS, flat_tags)
            .iter()
            .enumerate()
        {
            let (w, dotted) = if flat_tags || t.flat_value() == t.cum_value() {
                (t.flat_value(), false)
            } else {
                (t.cum_value(), true)
            };
            if w == 0 {
                continue;
            }
            // pprof's names: `N` before the source's (`NN1_0`, `NN1_0_0`).
            self.nodelet(rpt, from, format!("N{source}_{j}"), &t.name, w, dotted);
        }
    }

    fn call_edge(
        &mut self,
        rpt: &Report,
        e: &Edge,
        (from, to): (usize, Option<usize>),
        (src_name, dest_name): (&str, &str),
        has_nodelets: bool,
    ) {
        let wv = e.weight_value();
        let w = rpt.format_value(wv);
        let mut label = Label::text(&format!(" {w}"));
        if e.inline {
            label.end_line(Justify::Center);
            label.push(" (inline)");
        }
        let total = rpt.total;
        let (mut weight, mut penwidth, mut color) = (None, None, None);
        if total != 0 {
            // An edge can weigh more than the total in a diff: cap both.
            let wt = 1 + wv
                .wrapping_mul(100)
                .wrapping_div(total)
                .wrapping_abs()
                .min(100);
            weight = (wt > 1).then_some(wt);
            let width = 1 + wv.wrapping_mul(5).wrapping_div(total).wrapping_abs().min(5);
            penwidth = (width > 1).then_some(width);
            color = Some(dot_color(wv as f64 / total.wrapping_abs() as f64, false));
        }
        let arrow = if e.residual { "..." } else { "->" };
        self.edges.push(DrawEdge {
            from,
            to,
            label,
            inline: e.inline,
            tooltip: format!("{src_name} {arrow} {dest_name} ({w})"),
            color,
            penwidth,
            weight,
            dotted: e.residual,
            // Keeps callees clear of the caller's nodelets.
            minlen: has_nodelets.then_some(2),
        });
    }
}

/// At most `count` numeric tags: the heaviest ones seed groups, the others
/// join the group whose seed value is closest; groups become ranges.
fn collapsed_tags(tags: &[Tag], count: usize, flat: bool) -> Vec<Tag> {
    let mut ts = tags.to_vec();
    sort_tags(&mut ts, flat);
    if ts.len() <= count {
        return ts;
    }
    let mut groups: Vec<Vec<&Tag>> = ts[..count].iter().map(|t| vec![t]).collect();
    for t in &ts[count..] {
        let mut best = (0, tag_distance(t, groups[0][0]));
        for (i, g) in groups.iter().enumerate().skip(1) {
            let d = tag_distance(t, g[0]);
            if d < best.1 {
                best = (i, d);
            }
        }
        groups[best.0].push(t);
    }
    let mut out: Vec<Tag> = groups.iter().map(|g| group_tag(g)).collect();
    sort_tags(&mut out, flat);
    out
}

fn tag_distance(t: &Tag, u: &Tag) -> f64 {
    let (v, _) = units::scale(u.value, &u.unit, &t.unit);
    (t.value as f64 - v).abs()
}

/// A group of numeric tags as one: its value range and summed weights.
/// Names are auto-scaled, not in the output unit: tags are often much
/// smaller than node values.
fn group_tag(g: &[&Tag]) -> Tag {
    if let [t] = g {
        return Tag {
            name: units::label(t.value, &t.unit),
            flat: t.flat_value(),
            cum: t.cum_value(),
            ..Default::default()
        };
    }
    let Some(&first) = g.first() else {
        return Tag::default();
    };
    let (mut min, mut max) = (first, first);
    let (mut f, mut df, mut c, mut dc) = (0i64, 0i64, 0i64, 0i64);
    for (i, t) in g.iter().enumerate() {
        if i > 0 {
            if (units::scale(t.value, &t.unit, &min.unit).0 as i64) < min.value {
                min = t;
            }
            if (units::scale(t.value, &t.unit, &max.unit).0 as i64) > max.value {
                max = t;
            }
        }
        f = f.wrapping_add(t.flat);
        df = df.wrapping_add(t.flat_div);
        c = c.wrapping_add(t.cum);
        dc = dc.wrapping_add(t.cum_div);
    }
    if df != 0 {
        f /= df;
    }
    if dc != 0 {
        c /= dc;
    }
    Tag {
        name: format!(
            "{}..{}",
            units::label(min.value, &min.unit),
            units::label(max.value, &max.unit)
        ),
        flat: f,
        cum: c,
        ..Default::default()
    }
}
