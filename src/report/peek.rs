//! `peek` (and `tree`): pprof's "tree" text format. Each listed node is
//! shown between separators with its callers above it and its callees
//! below, each edge also as a share of the node's cumulative value.

use std::cmp::Ordering;
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
    // Only edges of matching nodes are printed, so only those are built.
    let rx = rpt.opts.symbol.clone();
    let mut t = match &rx {
        Some(rx) => rpt.trimmed_graph_touching(Some(&|name: &str| rx.is_match(name))),
        None => rpt.trimmed_graph(),
    };
    rpt.select_output_unit(&t.graph);
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

    let g = &t.graph;
    // Names of the nodes and edge ends only (the arena holds every key).
    let mut shown = vec![false; g.arena.len()];
    for &n in &g.nodes {
        shown[n as usize] = true;
    }
    for e in g.edges.iter().filter(|e| !e.removed) {
        shown[e.src as usize] = true;
        shown[e.dest as usize] = true;
    }
    let names: Vec<String> = g
        .arena
        .iter()
        .zip(&shown)
        .map(|(n, &s)| {
            if s {
                n.info.printable_name(&rpt.prof)
            } else {
                String::new()
            }
        })
        .collect();
    let rank = name_ranks(&names, &shown);
    let rx = rpt.opts.symbol.as_ref();
    let mut matched = 0usize;
    let mut flat_sum = 0i64;
    let mut edges: Vec<&Edge> = Vec::new();
    for &n in &g.nodes {
        let name = &names[n as usize];
        if rx.is_some_and(|rx| !rx.is_match(name)) {
            continue;
        }
        matched += 1;
        let node = g.node(n);
        let (flat, cum) = (node.flat_value(), node.cum_value());
        out.push_str(SEPARATOR);
        out.push('\n');

        edges.clear();
        edges.extend(g.in_edges(n));
        edges.sort_by(|a, b| edge_order(a, b, &rank));
        for e in &edges {
            write_edge(&mut out, rpt, e, cum, &names[e.src as usize]);
        }

        flat_sum = flat_sum.wrapping_add(flat);
        let _ = writeln!(
            out,
            "{:>10} {} {} {:>10} {}                | {}",
            rpt.format_value(flat),
            percentage(flat, rpt.total),
            percentage(flat_sum, rpt.total),
            rpt.format_value(cum),
            percentage(cum, rpt.total),
            name
        );

        edges.clear();
        edges.extend(g.out_edges(n));
        edges.sort_by(|a, b| edge_order(a, b, &rank));
        for e in &edges {
            write_edge(&mut out, rpt, e, cum, &names[e.dest as usize]);
        }
    }
    if !g.nodes.is_empty() {
        out.push_str(SEPARATOR);
        out.push('\n');
    }
    match rx {
        Some(rx) if matched == 0 => Err(NoMatches(rx.as_str().to_string())),
        _ => Ok(out),
    }
}

/// One caller or callee line. pprof shows raw edge weights here (not
/// divided for mean reports), as a share of the node's cum.
fn write_edge(out: &mut String, rpt: &Report, e: &Edge, cum: i64, other: &str) {
    let inline = if e.inline { " (inline)" } else { "" };
    let _ = writeln!(
        out,
        "{:>50} {} |   {other}{inline}",
        rpt.format_value(e.weight),
        percentage(e.weight, cum)
    );
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
