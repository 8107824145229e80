//! `dot`: the call graph in Graphviz's DOT language, as `go tool pprof -dot`
//! writes it (also the input of `svg` and `web`).
//!
//! Nodes are trimmed for drawing: sorted by pprof's entropy score (nodes that
//! only pass weight through rank low), nodelets (sample labels) count towards
//! `nodecount`, and residual edges that another path already shows are
//! dropped.

use std::fmt::Write;
use std::sync::OnceLock;

use regex::Regex;

use super::graph::{sort_tags, Graph, Node, NodeInfo, Tag, TagSpec, MAX_NODELETS};
use super::{Report, Trimmed};
use crate::paths::base_name;
use crate::profile::Profile;
use crate::units::{self, percentage};

/// pprof's test for nodes dropped by `-drop_negative`.
fn is_negative(n: &Node) -> bool {
    n.flat < 0 || (n.flat == 0 && n.cum < 0)
}

impl Report {
    /// The graph trimmed for drawing: pprof's `newTrimmedGraph` in visual
    /// mode (entropy order, nodelets counted as nodes, tag trimming,
    /// redundant residual edges removed).
    pub fn visual_graph(&mut self) -> Trimmed {
        if self.opts.call_tree {
            return self.visual_tree();
        }
        // Node values do not depend on edges: the (shared) values-only pass
        // finds the nodes under nodefraction before the full build.
        let values = self.values_graph();
        let table = self.node_table();
        let p = &self.prof;
        let o = &self.opts;
        let sel = o.sample;
        let spec = TagSpec {
            bytes_unit: o.num_label_units.get("bytes").cloned().unwrap_or_default(),
            output_unit: o.output_unit.clone(),
        };
        let drop_negative = o.drop_negative;
        let build = |kept: Option<&[bool]>| {
            let mut g = Graph::build_tagged(p, &table, sel, kept, true, Some(&spec));
            if drop_negative {
                // Dropped from the list only: their edges stay, as in pprof.
                let arena = &g.arena;
                g.nodes.retain(|&n| !is_negative(&arena[n as usize]));
            }
            g
        };

        let mut listed = values.nodes.clone();
        if drop_negative {
            listed.retain(|&n| !is_negative(values.node(n)));
        }
        let total_value = listed
            .iter()
            .fold(0i64, |s, &n| s.wrapping_add(values.node(n).flat));
        let node_cutoff = super::cutoff(total_value, o.node_fraction);
        let edge_cutoff = super::cutoff(total_value, o.edge_fraction);
        let mut dropped_nodes = 0;
        let mut kept: Option<Vec<bool>> = None;
        if node_cutoff > 0 {
            let above: Vec<u32> = listed
                .iter()
                .copied()
                .filter(|&n| values.node(n).cum.wrapping_abs() >= node_cutoff)
                .collect();
            if above.len() != listed.len() {
                dropped_nodes = listed.len() - above.len();
                kept = Some(values.kept_set(&above));
            }
        }
        let mut g = build(kept.as_deref());
        let orig_count = g.nodes.len();
        g.sort_nodes_entropy(p);
        if o.node_count > 0 {
            // Light tags and edges must not count when choosing nodes.
            g.trim_low_frequency_tags(node_cutoff);
            g.trim_low_frequency_edges(edge_cutoff);
            let keep = g.top_nodes_visual(o.node_count as usize);
            if keep != g.nodes.len() {
                let kept = g.kept_set(&g.nodes[..keep]);
                g = build(Some(&kept));
                g.sort_nodes_entropy(p);
            }
        }
        g.trim_low_frequency_tags(node_cutoff);
        let dropped_edges = g.trim_low_frequency_edges(edge_cutoff);
        let names = arena_names(&g, p);
        g.remove_redundant_edges(&names);
        Trimmed {
            graph: g,
            orig_count,
            dropped_nodes,
            dropped_edges,
        }
    }
}

impl Report {
    /// [`Report::visual_graph`] for `call_tree`: the same steps on a tree,
    /// trimmed in place (dropped nodes' callees move up to their callers).
    fn visual_tree(&mut self) -> Trimmed {
        let table = self.node_table();
        let p = &self.prof;
        let o = &self.opts;
        let spec = TagSpec {
            bytes_unit: o.num_label_units.get("bytes").cloned().unwrap_or_default(),
            output_unit: o.output_unit.clone(),
        };
        let mut g = Graph::build_tree(p, &table, o.sample, Some(&spec));
        if o.drop_negative {
            let arena = &g.arena;
            g.nodes.retain(|&n| !is_negative(&arena[n as usize]));
        }
        let names = arena_names(&g, p);
        let total_value = g.flat_sum();
        let node_cutoff = super::cutoff(total_value, o.node_fraction);
        let edge_cutoff = super::cutoff(total_value, o.edge_fraction);
        let mut dropped_nodes = 0;
        if node_cutoff > 0 {
            let above = g.nodes_above(node_cutoff);
            if above.len() != g.nodes.len() {
                dropped_nodes = g.nodes.len() - above.len();
                let kept = g.kept_set(&above);
                g.trim_tree(&kept, &names);
            }
        }
        let orig_count = g.nodes.len();
        g.sort_nodes_entropy(p);
        if o.node_count > 0 {
            g.trim_low_frequency_tags(node_cutoff);
            g.trim_low_frequency_edges(edge_cutoff);
            let keep = g.top_nodes_visual(o.node_count as usize);
            if keep != g.nodes.len() {
                let kept = g.kept_set(&g.nodes[..keep]);
                g.trim_tree(&kept, &names);
                g.sort_nodes_entropy(p);
            }
        }
        g.trim_low_frequency_tags(node_cutoff);
        let dropped_edges = g.trim_low_frequency_edges(edge_cutoff);
        g.remove_redundant_edges(&names);
        Trimmed {
            graph: g,
            orig_count,
            dropped_nodes,
            dropped_edges,
        }
    }
}

/// Printable names of the listed nodes and of every edge end.
fn arena_names(g: &Graph, p: &Profile) -> Vec<String> {
    let mut names = vec![String::new(); g.arena.len()];
    let mut name = |n: u32| {
        if names[n as usize].is_empty() {
            names[n as usize] = g.arena[n as usize].info.printable_name(p);
        }
    };
    for &n in &g.nodes {
        name(n);
    }
    for e in &g.edges {
        name(e.src);
        name(e.dest);
    }
    names
}

/// Prints the report as `go tool pprof -dot` does.
pub fn print_dot(rpt: &mut Report) -> String {
    let t = rpt.visual_graph();
    rpt.select_output_unit(&t.graph);
    let labels = rpt.report_labels(&t, true);
    compose(rpt, &t.graph, &labels)
}

/// Writes the DOT text of a trimmed graph with its legend.
fn compose(rpt: &Report, g: &Graph, labels: &[String]) -> String {
    let p = &rpt.prof;
    let title = &rpt.opts.title;
    let mut out = String::new();
    let graph_name = if title.is_empty() { "unnamed" } else { title };
    let _ = writeln!(out, "digraph \"{graph_name}\" {{");
    out.push_str("node [style=filled fillcolor=\"#f8f8f8\"]\n");
    if let Some(first) = labels.first() {
        let escaped: Vec<String> = labels.iter().map(|l| escape(l)).collect();
        let _ = write!(
            out,
            "subgraph cluster_L {{ \"{}\" [shape=box fontsize=16 label=\"{}\\l\"",
            escape(first),
            escaped.join("\\l")
        );
        if !title.is_empty() {
            let _ = write!(out, " tooltip=\"{title}\"");
        }
        out.push_str("] }\n");
    }
    if g.nodes.is_empty() {
        out.push_str("}\n");
        return out;
    }

    let names = arena_names(g, p);
    // Node ids are 1-based positions in the list; 0 for nodes off the list
    // (pprof prints edges to nodes dropped by -drop_negative that way).
    let mut ids = vec![0usize; g.arena.len()];
    let mut max_flat = g.node(g.nodes[0]).flat_value().wrapping_abs() as f64;
    for (i, &n) in g.nodes.iter().enumerate() {
        ids[n as usize] = i + 1;
        max_flat = max_flat.max(g.node(n).flat_value().wrapping_abs() as f64);
    }
    let mut has_nodelets = vec![false; g.arena.len()];
    let mut edges: Vec<u32> = Vec::new();
    for &n in &g.nodes {
        let id = ids[n as usize];
        write_node(&mut out, rpt, g, n, id, max_flat, &names);
        has_nodelets[n as usize] = write_nodelets(&mut out, rpt, g, n, id);
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
        write_edge(
            &mut out,
            rpt,
            edge,
            (ids[edge.src as usize], ids[edge.dest as usize]),
            (&names[edge.src as usize], &names[edge.dest as usize]),
            has_nodelets[edge.src as usize],
        );
    }
    out.push_str("}\n");
    out
}

fn write_node(
    out: &mut String,
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
    let mut label = multiline_name(&node.info, &rpt.prof);
    let flat_value = rpt.format_value(flat);
    if flat != 0 {
        let _ = write!(label, "{flat_value} ({})", percentage(flat, total).trim());
    } else {
        label.push('0');
    }
    let mut cum_value = flat_value;
    if cum != flat {
        label.push_str(if flat != 0 { "\\n" } else { " " });
        cum_value = rpt.format_value(cum);
        let _ = write!(label, "of {cum_value} ({})", percentage(cum, total).trim());
    }
    // Font sizes grow from 8 to 24 with the square root of flat.
    let mut font_size = 8;
    let abs_flat = flat.wrapping_abs() as f64;
    if max_flat != 0.0 && flat != 0 && abs_flat <= max_flat {
        font_size += (16.0 * (abs_flat / max_flat).sqrt()).ceil() as i64;
    }
    let score = cum as f64 / total.wrapping_abs() as f64;
    let _ = writeln!(
        out,
        "N{id} [label=\"{label}\" id=\"node{id}\" fontsize={font_size} shape=box tooltip=\"{} ({cum_value})\" color=\"{}\" fillcolor=\"{}\"]",
        escape(&names[n as usize]),
        dot_color(score, false),
        dot_color(score, true)
    );
}

/// Nodelets: a node's heaviest label sets (flat for nodes with callees,
/// cum for leaves) and its numeric tags, bucketed. Returns whether any
/// was written.
fn write_nodelets(out: &mut String, rpt: &Report, g: &Graph, n: u32, id: usize) -> bool {
    let Some(tags) = g.tags.get(n as usize) else {
        return false;
    };
    let start = out.len();
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
        let weight = rpt.format_value(w);
        let _ = writeln!(
            out,
            "N{id}_{i} [label = \"{}\" id=\"N{id}_{i}\" fontsize=8 shape=box3d tooltip=\"{weight}\"]",
            t.name
        );
        let _ = writeln!(
            out,
            "N{id} -> N{id}_{i} [label=\" {weight}\" weight=100 tooltip=\"{weight}\" labeltooltip=\"{weight}\"]"
        );
        if let Some(nts) = numeric(&t.name) {
            numeric_nodelets(out, rpt, nts, flat_tags, &format!("N{id}_{i}"));
        }
    }
    if let Some(nts) = numeric("") {
        numeric_nodelets(out, rpt, nts, flat_tags, &format!("N{id}"));
    }
    out.len() != start
}

fn numeric_nodelets(out: &mut String, rpt: &Report, tags: &[Tag], flat_tags: bool, source: &str) {
    for (j, t) in collapsed_tags(tags, MAX_NODELETS, flat_tags)
        .iter()
        .enumerate()
    {
        let (w, attr) = if flat_tags || t.flat_value() == t.cum_value() {
            (t.flat_value(), "")
        } else {
            (t.cum_value(), " style=\"dotted\"")
        };
        if w == 0 {
            continue;
        }
        let weight = rpt.format_value(w);
        let _ = writeln!(
            out,
            "N{source}_{j} [label = \"{}\" id=\"N{source}_{j}\" fontsize=8 shape=box3d tooltip=\"{weight}\"]",
            t.name
        );
        let _ = writeln!(
            out,
            "{source} -> N{source}_{j} [label=\" {weight}\" weight=100 tooltip=\"{weight}\" labeltooltip=\"{weight}\"{attr}]"
        );
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

fn write_edge(
    out: &mut String,
    rpt: &Report,
    e: &super::graph::Edge,
    (from, to): (usize, usize),
    (src_name, dest_name): (&str, &str),
    has_nodelets: bool,
) {
    let inline = if e.inline { "\\n (inline)" } else { "" };
    let wv = e.weight_value();
    let w = rpt.format_value(wv);
    let mut attr = format!("label=\" {w}{inline}\"");
    let total = rpt.total;
    if total != 0 {
        // An edge can weigh more than the total in a diff: cap both.
        let weight = 1 + wv
            .wrapping_mul(100)
            .wrapping_div(total)
            .wrapping_abs()
            .min(100);
        if weight > 1 {
            let _ = write!(attr, " weight={weight}");
        }
        let width = 1 + wv.wrapping_mul(5).wrapping_div(total).wrapping_abs().min(5);
        if width > 1 {
            let _ = write!(attr, " penwidth={width}");
        }
        let _ = write!(
            attr,
            " color=\"{}\"",
            dot_color(wv as f64 / total.wrapping_abs() as f64, false)
        );
    }
    let arrow = if e.residual { "..." } else { "->" };
    let tooltip = format!(
        "\"{} {arrow} {} ({w})\"",
        escape(src_name),
        escape(dest_name)
    );
    let _ = write!(attr, " tooltip={tooltip} labeltooltip={tooltip}");
    if e.residual {
        attr.push_str(" style=\"dotted\"");
    }
    if has_nodelets {
        // Keeps callees clear of the caller's nodelets.
        attr.push_str(" minlen=2");
    }
    let _ = writeln!(out, "N{from} -> N{to} [{attr}]");
}

/// pprof's colour for a score in [-1, 1]: grey near 0, red for positive
/// values, green for negative ones (shrinking in a diff); pale for fills.
pub fn dot_color(score: f64, background: bool) -> String {
    // Scores move away from grey by this much, to use more of the range.
    const SHIFT: f64 = 0.7;
    let (mut saturation, value) = if background { (0.1, 0.93) } else { (1.0, 0.7) };
    // Go's Min/Max propagate NaN (Rust's ignore it).
    let mut score = if score.is_nan() {
        score
    } else {
        score.clamp(-1.0, 1.0)
    };
    if score.abs() < 0.2 {
        saturation *= score.abs() / 0.2;
    }
    if score > 0.0 {
        score = score.powf(1.0 - SHIFT);
    }
    if score < 0.0 {
        score = -(-score).powf(1.0 - SHIFT);
    }
    let (r, g);
    if score < 0.0 {
        g = value;
        r = value * (1.0 + saturation * score);
    } else {
        r = value;
        g = value * (1.0 - saturation * score);
    }
    let b = value * (1.0 - saturation);
    format!(
        "#{:02x}{:02x}{:02x}",
        (r * 255.0) as u8,
        (g * 255.0) as u8,
        (b * 255.0) as u8
    )
}

/// Escapes quotes and backslashes for DOT strings; newlines become
/// left-justified line breaks.
pub fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\l")
}

/// A node's name on several lines: package path, type and function parts
/// each on their own, then the file (base name) or address.
fn multiline_name(info: &NodeInfo, p: &Profile) -> String {
    let name = escape(&shorten_function_name(p.str(info.name)))
        .replace("::", "\\n")
        // Go reports type parameters as "[...]": keep that ellipsis whole.
        .replace("[...]", "[…]")
        .replace('.', "\\n");
    let mut parts: Vec<String> = Vec::with_capacity(3);
    if info.address != 0 {
        parts.push(format!("{:016x}", info.address));
    }
    if !name.is_empty() {
        parts.push(name.clone());
    }
    let file = base_name(p.str(info.file));
    if info.lineno != 0 {
        parts.push(format!("{file}:{}", info.lineno));
    } else if info.file != 0 {
        parts.push(file.to_string());
    } else if !name.is_empty() {
    } else if info.objfile != 0 {
        parts.push(format!("[{}]", base_name(p.str(info.objfile))));
    } else {
        parts.push("<unknown>".to_string());
    }
    let mut s = parts.join("\\n");
    s.push_str("\\n");
    s
}

struct Shorteners {
    anonymous: Regex,
    go_version: Regex,
    /// Go, Java and C++ name patterns, tried in this order.
    names: [Regex; 3],
}

fn shorteners() -> Option<&'static Shorteners> {
    static CELL: OnceLock<Option<Shorteners>> = OnceLock::new();
    CELL.get_or_init(|| {
        // `\w` is ASCII in Go's regexps.
        Some(Shorteners {
            anonymous: Regex::new(r"^\(anonymous namespace\)::").ok()?,
            go_version: Regex::new(r"^(.*?)/v(?:[2-9]|[1-9][0-9]+)([./].*)$").ok()?,
            names: [
                Regex::new(r"^(?:(?-u:[\w\-\.])+/)+(.+)").ok()?,
                Regex::new(
                    r"^(?:[a-z](?-u:\w)*\.)*([A-Z](?-u:[\w\$])*\.(?:<init>|[a-z](?-u:[\w\$])*(?:\$(?-u:\d)+)?))(?:(?:\()|$)",
                )
                .ok()?,
                Regex::new(
                    r"^(?:[_a-zA-Z](?-u:\w)*::)+(_*[A-Z](?-u:\w)*::~?[_a-zA-Z](?-u:\w)*(?:<.*>)?)",
                )
                .ok()?,
            ],
        })
    })
    .as_ref()
}

/// pprof's short function names: no package path (Go), package (Java) or
/// namespaces (C++).
pub fn shorten_function_name(f: &str) -> String {
    let Some(s) = shorteners() else {
        return f.to_string();
    };
    let f = s.anonymous.replace_all(f, "");
    let f = s.go_version.replace_all(&f, "${1}${2}");
    for re in &s.names {
        if let Some(c) = re.captures(&f) {
            return c
                .iter()
                .skip(1)
                .map(|m| m.map_or("", |m| m.as_str()))
                .collect();
        }
    }
    f.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_match_pprof() {
        assert_eq!(dot_color(1.0, false), "#b20000");
        assert_eq!(dot_color(1.0, true), "#edd5d5");
        assert_eq!(dot_color(0.0, false), "#b2b2b2");
        assert_eq!(dot_color(-1.0, false), "#00b200");
    }

    #[test]
    fn short_names() {
        for (long, short) in [
            ("runtime/pprof.Do", "pprof.Do"),
            ("main.handleRequest", "main.handleRequest"),
            ("github.com/a/b/v2/c.F", "c.F"),
            ("github.com/a/b/v2.F", "b.F"),
            ("java.lang.String.valueOf(int)", "String.valueOf"),
            ("(anonymous namespace)::Foo::Bar", "Foo::Bar"),
            ("std::vector::push_back", "std::vector::push_back"),
        ] {
            assert_eq!(shorten_function_name(long), short, "{long}");
        }
    }
}
