//! `dot`: the call graph in Graphviz's DOT language, as `go tool pprof -dot`
//! writes it (also the input of `svg` and `web`).
//!
//! Nodes are trimmed for drawing: sorted by pprof's entropy score (nodes that
//! only pass weight through rank low), nodelets (sample labels) count towards
//! `nodecount`, and residual edges that another path already shows are
//! dropped.
//!
//! The trimmed graph becomes a [`Drawing`] (`drawing`): nodes and edges with
//! their labels, tooltips, colours and sizes, computed once. The DOT text
//! (`text`) is written from it, and so is the built-in SVG layout
//! (`report::svg`), so neither parses the other's output.

use crate::report::is_negative;
use std::sync::OnceLock;

use regex::Regex;

mod drawing;
mod text;

pub use drawing::{DrawEdge, DrawNode, Drawing, Justify, Label, Legend, Line, Shape, NODE_FILL};

use super::graph::{Graph, NodeInfo, TagSpec};
use super::{Report, Trimmed};
use crate::paths::base_name;
use crate::profile::Profile;

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
        // With few kept nodes, the shell's index of samples by location
        // (when built) gives the samples that can touch them.
        let postings = self.postings.get();
        let build = |kept: Option<&[bool]>| {
            let subset = kept.zip(postings).and_then(|(k, post)| {
                Some((k, post.samples_touching(&table, k, p.locations.len())?))
            });
            let mut g = match subset {
                Some((k, samples)) => {
                    Graph::build_tagged_subset(p, &table, sel, k, &values, &samples, &spec)
                }
                None => Graph::build_tagged(p, &table, sel, kept, true, Some(&spec)),
            };
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
            listed: None,
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
            listed: None,
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

/// The drawing of the report's call graph: [`Report::visual_graph`] with
/// pprof's labels, colours and sizes.
pub fn drawing(rpt: &mut Report) -> Drawing {
    let t = rpt.visual_graph();
    rpt.select_output_unit(&t.graph);
    let labels = rpt.report_labels(&t, true);
    Drawing::new(rpt, &t.graph, &labels)
}

/// Prints the report as `go tool pprof -dot` does.
pub fn print_dot(rpt: &mut Report) -> String {
    drawing(rpt).to_dot()
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
/// each on their own (centred), then the file (base name) or address.
fn multiline_name(label: &mut Label, info: &NodeInfo, p: &Profile) {
    if info.address != 0 {
        label.push(&format!("{:016x}", info.address));
        label.end_line(Justify::Center);
    }
    // Go reports type parameters as "[...]": keep that ellipsis whole.
    let name = shorten_function_name(p.str(info.name)).replace("[...]", "[…]");
    if !name.is_empty() {
        // pprof breaks lines at `::` and `.`; a newline in a name ends a
        // left-justified line (`\l`).
        let mut rest = name.as_str();
        while let Some(c) = rest.chars().next() {
            if let Some(r) = rest.strip_prefix("::") {
                label.end_line(Justify::Center);
                rest = r;
                continue;
            }
            match c {
                '.' => label.end_line(Justify::Center),
                '\n' => label.end_line(Justify::Left),
                c => label.push_char(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        label.end_line(Justify::Center);
    }
    let file = base_name(p.str(info.file));
    if info.lineno != 0 {
        label.push(&format!("{file}:{}", info.lineno));
    } else if info.file != 0 {
        label.push(file);
    } else if !name.is_empty() {
        return;
    } else if info.objfile != 0 {
        label.push(&format!("[{}]", base_name(p.str(info.objfile))));
    } else {
        label.push("<unknown>");
    }
    label.end_line(Justify::Center);
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
