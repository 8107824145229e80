//! `peek` (and `tree`): pprof's "tree" text format. Each listed node is
//! shown between separators with its callers above it and its callees
//! below, each edge also as a share of the node's cumulative value.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt::Write;

use super::graph::Edge;
use super::Report;
use crate::units::percentage;

const SEPARATOR: &str = "----------------------------------------------------------+-------------";
// pprof's legend ends in literal tabs and spaces; users diff the output.
const LEGEND: &str = "      flat  flat%   sum%        cum   cum%   calls calls% + context \t \t ";

/// `peek` found no node whose name matches its regexp: pprof then prints
/// nothing and fails with this message.
#[derive(Debug, thiserror::Error)]
#[error("no matches found for regexp: {0}")]
pub struct NoMatches(pub String);

/// Prints the report as `go tool pprof -peek=regexp` does (or `-tree`,
/// which has no regexp and lists every node of the trimmed graph).
pub fn print_peek(rpt: &mut Report) -> Result<String, NoMatches> {
    print_peek_page(rpt, 0, usize::MAX).map(|(out, _)| out)
}

/// Which of the matching nodes a page of the report shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeekPage {
    /// The first shown and the one after the last shown, in report order.
    pub start: usize,
    pub end: usize,
    /// How many nodes match.
    pub matched: usize,
}

/// [`print_peek`] from the `start`th matching node (0-based), stopping
/// after the node that takes the text past `max_bytes`: a regexp that
/// matches thousands of functions gives a report of hundreds of MB, too
/// much for one web page. Each shown node's lines, sum% included, are those
/// of the whole report.
pub fn print_peek_page(
    rpt: &mut Report,
    start: usize,
    max_bytes: usize,
) -> Result<(String, PeekPage), NoMatches> {
    // Only the edges of printed nodes are built: of the matching nodes, a
    // page's worth at a time (all at once for the whole report).
    let rx = rpt.opts.symbol.clone();
    let (mut t, edge_source) = match &rx {
        Some(rx) => {
            let (t, e) = rpt.peek_nodes(&|name: &str| rx.is_match(name));
            (t, Some(e))
        }
        None => (rpt.trimmed_graph(), None),
    };
    rpt.select_output_unit_of(&t.graph, t.listed());
    // The tree format does not mention dropped edges.
    t.dropped_edges = 0;
    let mut out = String::new();
    for l in rpt.report_labels(&t, false) {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(SEPARATOR);
    out.push('\n');
    out.push_str(LEGEND);
    out.push('\n');

    let matching = &t.graph.nodes;
    let start = start.min(matching.len());
    // The running sum% counts the nodes before the page.
    let mut flat_sum = matching[..start]
        .iter()
        .fold(0i64, |s, &n| s.wrapping_add(t.graph.node(n).flat_value()));
    let mut names = Names::new(t.graph.arena.len());
    let body_start = out.len();
    let mut end = start;
    // Chunks of nodes: 32, then as many as the page should still hold at
    // the size per node so far, and a quarter more (each chunk is a pass
    // over the samples that hold its nodes; nodes past the page's end
    // only cost their edges).
    let mut chunk = if max_bytes == usize::MAX {
        usize::MAX
    } else {
        32
    };
    while end < matching.len() && (end == start || out.len() - body_start <= max_bytes) {
        let nodes = &matching[end..end.saturating_add(chunk).min(matching.len())];
        let built;
        let g = match &edge_source {
            Some(e) => {
                built = rpt.peek_edges(e, nodes);
                &built
            }
            None => &t.graph,
        };
        names.add(rpt, g, nodes);
        let rank = name_ranks(&names.text, &names.shown);
        let mut edges: Vec<&Edge> = Vec::new();
        let mut shown = HashMap::new();
        for &n in nodes {
            if end > start && out.len() - body_start > max_bytes {
                break;
            }
            end += 1;
            let node = t.graph.node(n);
            let (flat, cum) = (node.flat_value(), node.cum_value());
            out.push_str(SEPARATOR);
            out.push('\n');

            let mut lines = EdgeLines {
                rpt,
                rank: &rank,
                names: &names.text,
                shown: &mut shown,
                cum,
                pcts: HashMap::new(),
            };
            lines.write(&mut out, &mut edges, g.in_edges(n), |e| e.src);

            flat_sum = flat_sum.wrapping_add(flat);
            let _ = writeln!(
                out,
                "{:>10} {} {} {:>10} {}                | {}",
                rpt.format_value(flat),
                percentage(flat, rpt.total),
                percentage(flat_sum, rpt.total),
                rpt.format_value(cum),
                percentage(cum, rpt.total),
                names.text[n as usize]
            );

            lines.write(&mut out, &mut edges, g.out_edges(n), |e| e.dest);
        }
        if chunk != usize::MAX {
            let used = out.len() - body_start;
            let per_node = used / (end - start).max(1) + 1;
            let left = max_bytes.saturating_sub(used) / per_node;
            chunk = (left + left / 4).max(8);
        }
    }
    if !matching.is_empty() {
        out.push_str(SEPARATOR);
        out.push('\n');
    }
    let page = PeekPage {
        start,
        end,
        matched: matching.len(),
    };
    match rx {
        Some(rx) if matching.is_empty() => Err(NoMatches(rx.as_str().to_string())),
        _ => Ok((out, page)),
    }
}

/// Printable names of the nodes printed so far and of their edges' ends
/// (the arena holds every key: most are never printed).
struct Names {
    text: Vec<String>,
    shown: Vec<bool>,
}

impl Names {
    fn new(n: usize) -> Names {
        Names {
            text: vec![String::new(); n],
            shown: vec![false; n],
        }
    }

    /// Names `nodes` and the ends of their edges in `g`.
    fn add(&mut self, rpt: &Report, g: &super::graph::Graph, nodes: &[u32]) {
        let mut name = |k: u32| {
            let k = k as usize;
            if let (Some(false), Some(node)) = (self.shown.get(k).copied(), g.arena.get(k)) {
                self.shown[k] = true;
                self.text[k] = node.info.printable_name(&rpt.prof);
            }
        };
        for &n in nodes {
            name(n);
            g.in_edges(n).for_each(|e| name(e.src));
            g.out_edges(n).for_each(|e| name(e.dest));
        }
    }
}

/// A node's caller or callee lines. pprof shows raw edge weights here
/// (not divided for mean reports), as a share of the node's cum. Weights
/// are formatted once each (`shown`): a large report repeats a few of them.
struct EdgeLines<'a> {
    rpt: &'a Report,
    rank: &'a [u32],
    names: &'a [String],
    /// Padded weights, for every node of the page.
    shown: &'a mut HashMap<i64, String>,
    cum: i64,
    /// Percentages of `cum`, for this node's lines.
    pcts: HashMap<i64, String>,
}

impl EdgeLines<'_> {
    /// The `list` edges in pprof's order, each with the name of its end
    /// `other` (`edges` is scratch).
    fn write<'g>(
        &mut self,
        out: &mut String,
        edges: &mut Vec<&'g Edge>,
        list: impl Iterator<Item = &'g Edge>,
        other: fn(&Edge) -> u32,
    ) {
        edges.clear();
        edges.extend(list);
        edges.sort_by(|a, b| edge_order(a, b, self.rank));
        let (rpt, cum) = (self.rpt, self.cum);
        for e in edges.iter() {
            // Weights repeat: each padded weight and percentage is made once.
            let weight = self
                .shown
                .entry(e.weight)
                .or_insert_with(|| format!("{:>50}", rpt.format_value(e.weight)));
            let pct = self
                .pcts
                .entry(e.weight)
                .or_insert_with(|| percentage(e.weight, cum));
            for part in [
                weight.as_str(),
                " ",
                pct,
                " |   ",
                &self.names[other(e) as usize],
            ] {
                out.push_str(part);
            }
            if e.inline {
                out.push_str(" (inline)");
            }
            out.push('\n');
        }
    }
}

/// pprof's edge order: heavier (by absolute weight) first, then by caller
/// name, then by callee name. pprof leaves weights of equal magnitude and
/// opposite signs unordered; the sign breaks that tie here so the order is
/// total.
fn edge_order(a: &Edge, b: &Edge, rank: &[u32]) -> Ordering {
    b.weight
        .unsigned_abs()
        .cmp(&a.weight.unsigned_abs())
        .then_with(|| rank[a.src as usize].cmp(&rank[b.src as usize]))
        .then_with(|| rank[a.dest as usize].cmp(&rank[b.dest as usize]))
        .then_with(|| b.weight.cmp(&a.weight))
}

/// Each name's place in name order (equal names, equal places): edges
/// are sorted by it, without comparing their strings again and again.
fn name_ranks(names: &[String], shown: &[bool]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..names.len() as u32)
        .filter(|&n| shown[n as usize])
        .collect();
    order.sort_unstable_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut rank = vec![u32::MAX; names.len()];
    let mut r = 0u32;
    for (i, &n) in order.iter().enumerate() {
        if i > 0 && names[order[i - 1] as usize] != names[n as usize] {
            r += 1;
        }
        rank[n as usize] = r;
    }
    rank
}
