//! The call graph: one node per distinct frame at the current granularity,
//! with flat and cumulative values, and caller→callee edges.
//!
//! Built as pprof builds it (node identity, cum counted once per sample,
//! residual edges across dropped nodes, inline edges), because `top`'s
//! numbers, order and `(inline)` marks all come out of it.
//!
//! - `build`: node identities ([`NodeTable`]) and the passes over the
//!   samples that build a [`Graph`];
//! - `tags`: sample labels per node ([`Tag`], [`NodeTags`]), drawn as
//!   nodelets;
//! - `trim`: trimming for drawings (entropy order, edge and tag cutoffs,
//!   redundant residual edges);
//! - `call_tree`: the `call_tree` variant (a node per caller path).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::paths::base_name;
use crate::profile::{Profile, StrId};

mod build;
mod call_tree;
mod tags;
#[cfg(test)]
pub(crate) mod tests;
mod trim;

pub use build::{sample_sums, scan_samples_touching, NodeTable, Postings};
pub use tags::{sort_tags, NodeTags, Tag, TagSpec, MAX_NODELETS};

pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<rustc_hash::FxHasher>>;

/// What identifies a node. Mirrors the fields pprof keys nodes by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct NodeInfo {
    pub name: StrId,
    pub orig_name: StrId,
    pub address: u64,
    pub file: StrId,
    pub start_line: i64,
    pub lineno: i64,
    pub objfile: StrId,
}

impl NodeInfo {
    /// The name reports print: `[address] [function] [file[:line]]`.
    pub fn printable_name(&self, p: &Profile) -> String {
        let mut out = String::new();
        self.write_printable_name(p, &mut out);
        out
    }

    /// [`NodeInfo::printable_name`] appended to `out` (no allocation when
    /// it has room: matching every node of a large report reuses one).
    pub fn write_printable_name(&self, p: &Profile, out: &mut String) {
        use std::fmt::Write;
        let start = out.len();
        let sep = |out: &mut String| {
            if out.len() > start {
                out.push(' ');
            }
        };
        if self.address != 0 {
            let _ = write!(out, "{:016x}", self.address);
        }
        let name = p.str(self.name);
        if !name.is_empty() {
            sep(out);
            out.push_str(name);
        }
        if self.lineno != 0 {
            sep(out);
            let _ = write!(out, "{}:{}", p.str(self.file), self.lineno);
        } else if self.file != 0 {
            sep(out);
            out.push_str(p.str(self.file));
        } else if !name.is_empty() {
        } else if self.objfile != 0 {
            sep(out);
            let _ = write!(out, "[{}]", base_name(p.str(self.objfile)));
        } else {
            sep(out);
            out.push_str("<unknown>");
        }
    }

    /// Go's `fmt.Sprint` of pprof's NodeInfo: the last tie-breaker of sorts.
    fn sprint(&self, p: &Profile) -> String {
        format!(
            "{{{} {} {} {} {} {} {}}}",
            p.str(self.name),
            p.str(self.orig_name),
            self.address,
            p.str(self.file),
            self.start_line,
            self.lineno,
            p.str(self.objfile)
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct Node {
    pub info: NodeInfo,
    pub flat: i64,
    pub flat_div: i64,
    pub cum: i64,
    pub cum_div: i64,
    /// Edge indexes into [`Graph::edges`].
    pub ins: Vec<u32>,
    pub outs: Vec<u32>,
}

impl Node {
    pub fn flat_value(&self) -> i64 {
        divided(self.flat, self.flat_div)
    }

    pub fn cum_value(&self) -> i64 {
        divided(self.cum, self.cum_div)
    }
}

/// A value over its divisor (mean reports), or as it is without one.
pub(crate) fn divided(v: i64, div: i64) -> i64 {
    if div == 0 {
        v
    } else {
        v.wrapping_div(div)
    }
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub src: u32,
    pub dest: u32,
    pub weight: i64,
    pub weight_div: i64,
    /// Connects nodes through one or more nodes that were dropped.
    pub residual: bool,
    /// The callee was inlined into the caller.
    pub inline: bool,
    /// Removed by trimming (kept in the arena so indexes stay valid).
    pub removed: bool,
}

impl Edge {
    pub fn weight_value(&self) -> i64 {
        if self.weight_div == 0 {
            self.weight
        } else {
            self.weight.wrapping_div(self.weight_div)
        }
    }
}

/// Which edges a graph records.
#[derive(Clone, Copy, Debug)]
pub enum Edges<'a> {
    None,
    All,
    /// Only edges with an end whose key is set.
    Touching(&'a [bool]),
}

/// How sample values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueSel {
    pub index: usize,
    /// For `mean` reports: values are divided by sample type 0 (the count).
    pub mean: bool,
}

#[derive(Clone)]
pub struct Graph {
    /// All nodes built, listed or not.
    pub arena: Vec<Node>,
    pub edges: Vec<Edge>,
    /// The graph's nodes (indexes into `arena`), in report order once sorted.
    pub nodes: Vec<u32>,
    /// Sample labels per arena node, when built with a [`TagSpec`] (graph
    /// reports draw them as nodelets); empty otherwise.
    pub tags: Vec<NodeTags>,
}

pub const NONE: u32 = u32::MAX;
impl Graph {
    pub fn node(&self, n: u32) -> &Node {
        &self.arena[n as usize]
    }

    /// Listed nodes whose |cum| reaches `cutoff` (nodefraction trimming).
    pub fn nodes_above(&self, cutoff: i64) -> Vec<u32> {
        self.nodes
            .iter()
            .copied()
            .filter(|&n| self.node(n).cum.wrapping_abs() >= cutoff)
            .collect()
    }

    /// The listed nodes as a kept set (arena indexes are table keys).
    pub fn kept_set(&self, nodes: &[u32]) -> Vec<bool> {
        let mut kept = vec![false; self.arena.len()];
        for &n in nodes {
            kept[n as usize] = true;
        }
        kept
    }

    /// Sorts listed nodes by |flat| (or |cum|), then name, as pprof does.
    pub fn sort_nodes(&mut self, p: &Profile, cum: bool) {
        let mut names = vec![String::new(); self.arena.len()];
        for &n in &self.nodes {
            names[n as usize] = self.arena[n as usize].info.printable_name(p);
        }
        let arena = &self.arena;
        self.nodes.sort_by(|&a, &b| {
            let (l, r) = (&arena[a as usize], &arena[b as usize]);
            let (ln, rn) = (&names[a as usize], &names[b as usize]);
            let order = if cum {
                r.cum
                    .wrapping_abs()
                    .cmp(&l.cum.wrapping_abs())
                    .then_with(|| ln.cmp(rn))
                    .then_with(|| r.flat.wrapping_abs().cmp(&l.flat.wrapping_abs()))
            } else {
                r.flat
                    .wrapping_abs()
                    .cmp(&l.flat.wrapping_abs())
                    .then_with(|| ln.cmp(rn))
                    .then_with(|| r.cum.wrapping_abs().cmp(&l.cum.wrapping_abs()))
            };
            order.then_with(|| l.info.sprint(p).cmp(&r.info.sprint(p)))
        });
    }
    /// Live incoming edges of a node.
    pub fn in_edges(&self, n: u32) -> impl Iterator<Item = &Edge> {
        self.arena[n as usize]
            .ins
            .iter()
            .map(|&e| &self.edges[e as usize])
            .filter(|e| !e.removed)
    }

    /// Live outgoing edges of a node.
    pub fn out_edges(&self, n: u32) -> impl Iterator<Item = &Edge> {
        self.arena[n as usize]
            .outs
            .iter()
            .map(|&e| &self.edges[e as usize])
            .filter(|e| !e.removed)
    }

    /// Sum of raw flat values of the listed nodes.
    pub fn flat_sum(&self) -> i64 {
        self.nodes
            .iter()
            .fold(0i64, |s, &n| s.wrapping_add(self.node(n).flat))
    }
}
