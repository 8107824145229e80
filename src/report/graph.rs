//! The call graph: one node per distinct frame at the current granularity,
//! with flat and cumulative values, and caller→callee edges.
//!
//! Built as pprof builds it (node identity, cum counted once per sample,
//! residual edges across dropped nodes, inline edges), because `top`'s
//! numbers, order and `(inline)` marks all come out of it.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use crate::paths::base_name;
use crate::profile::{Profile, StrId};

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<rustc_hash::FxHasher>>;

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
        let mut parts: Vec<String> = Vec::with_capacity(3);
        if self.address != 0 {
            parts.push(format!("{:016x}", self.address));
        }
        let name = p.str(self.name);
        if !name.is_empty() {
            parts.push(name.to_string());
        }
        if self.lineno != 0 {
            parts.push(format!("{}:{}", p.str(self.file), self.lineno));
        } else if self.file != 0 {
            parts.push(p.str(self.file).to_string());
        } else if !name.is_empty() {
        } else if self.objfile != 0 {
            parts.push(format!("[{}]", base_name(p.str(self.objfile))));
        } else {
            parts.push("<unknown>".to_string());
        }
        parts.join(" ")
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
        if self.flat_div == 0 {
            self.flat
        } else {
            self.flat.wrapping_div(self.flat_div)
        }
    }

    pub fn cum_value(&self) -> i64 {
        if self.cum_div == 0 {
            self.cum
        } else {
            self.cum.wrapping_div(self.cum_div)
        }
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

/// Node identities per location, computed once per profile/granularity and
/// reused for every graph built from it.
pub struct NodeTable {
    pub infos: Vec<NodeInfo>,
    /// Location `l`'s frames are `keys[start[l]..start[l + 1]]`, innermost first.
    start: Vec<u32>,
    keys: Vec<u32>,
}

impl NodeTable {
    /// `obj_names` keeps binary names on named nodes (address-level reports).
    pub fn new(p: &Profile, obj_names: bool) -> NodeTable {
        let mut index: FastMap<NodeInfo, u32> = FastMap::default();
        let mut t = NodeTable {
            infos: Vec::new(),
            start: Vec::with_capacity(p.locations.len() + 1),
            keys: Vec::new(),
        };
        t.start.push(0);
        for loc in &p.locations {
            let objfile = loc
                .mapping
                .and_then(|m| p.mappings.get(m as usize))
                .map_or(0, |m| m.file);
            let mut push = |info: NodeInfo| {
                let next = t.infos.len() as u32;
                let k = *index.entry(info).or_insert(next);
                if k == next {
                    t.infos.push(info);
                }
                t.keys.push(k);
            };
            if loc.lines.is_empty() {
                push(NodeInfo {
                    address: loc.address,
                    objfile,
                    ..Default::default()
                });
            }
            for ln in &loc.lines {
                let f = p.function(ln);
                let mut info = NodeInfo {
                    address: loc.address,
                    lineno: ln.line,
                    name: f.name,
                    file: f.filename,
                    ..Default::default()
                };
                if obj_names || info.name == 0 {
                    info.objfile = objfile;
                    info.start_line = f.start_line;
                }
                push(info);
            }
            t.start.push(t.keys.len() as u32);
        }
        t
    }

    /// Node keys (indexes into `infos`) of a location's frames, innermost first.
    pub fn frames(&self, loc: u32) -> &[u32] {
        &self.keys[self.start[loc as usize] as usize..self.start[loc as usize + 1] as usize]
    }
}

/// One pass over (part of) the samples: node values and edges.
/// A node's counters during a pass, together so that visiting a frame
/// touches one cache line.
#[derive(Clone, Copy)]
struct Acc {
    seen: u32,
    cum: i64,
    cum_div: i64,
    flat: i64,
    flat_div: i64,
}

struct Pass {
    acc: Vec<Acc>,
    edge_list: Vec<Edge>,
    edge_index: FastMap<u64, u32>,
    edge_seen: Vec<u32>,
}

impl Pass {
    fn new(n_keys: usize) -> Pass {
        Pass {
            acc: vec![
                Acc {
                    seen: NONE,
                    cum: 0,
                    cum_div: 0,
                    flat: 0,
                    flat_div: 0,
                };
                n_keys
            ],
            edge_list: Vec::new(),
            edge_index: FastMap::default(),
            edge_seen: Vec::new(),
        }
    }

    fn edge(&mut self, src: u32, dest: u32, residual: bool, inline: bool) -> u32 {
        let next = self.edge_list.len() as u32;
        let key = (src as u64) << 32 | dest as u64;
        let e = *self.edge_index.entry(key).or_insert(next);
        if e == next {
            self.edge_list.push(Edge {
                src,
                dest,
                weight: 0,
                weight_div: 0,
                residual,
                inline,
                removed: false,
            });
            self.edge_seen.push(NONE);
        }
        e
    }

    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: Option<(&[bool], &[bool])>,
        edges: bool,
        touching: Option<&[bool]>,
        range: std::ops::Range<usize>,
    ) {
        let s = &p.samples;
        for i in range {
            let values = s.values(i);
            let w = values[sel.index];
            let dw = if sel.mean { values[0] } else { 0 };
            if w == 0 && dw == 0 {
                continue;
            }
            let stamp = i as u32;
            let mut parent = NONE;
            let mut residual = false;
            for &loc in s.stack(i).iter().rev() {
                if kept.is_some_and(|(_, locs)| !locs[loc as usize]) {
                    residual = true;
                    continue;
                }
                let frames = table.frames(loc);
                for ni in (0..frames.len()).rev() {
                    let n = frames[ni];
                    if kept.is_some_and(|(k, _)| !k[n as usize]) {
                        residual = true;
                        continue;
                    }
                    let a = &mut self.acc[n as usize];
                    if a.seen != stamp {
                        a.seen = stamp;
                        a.cum = a.cum.wrapping_add(w);
                        a.cum_div = a.cum_div.wrapping_add(dw);
                    }
                    if edges
                        && parent != NONE
                        && n != parent
                        && touching.is_none_or(|t| t[n as usize] || t[parent as usize])
                    {
                        let inline = ni != frames.len() - 1;
                        let e = self.edge(parent, n, residual, inline) as usize;
                        if self.edge_seen[e] != stamp {
                            self.edge_seen[e] = stamp;
                            let edge = &mut self.edge_list[e];
                            edge.weight = edge.weight.wrapping_add(w);
                            edge.weight_div = edge.weight_div.wrapping_add(dw);
                            edge.residual |= residual;
                            edge.inline &= inline;
                        }
                    }
                    parent = n;
                    residual = false;
                }
            }
            if parent != NONE && !residual {
                let k = parent as usize;
                let a = &mut self.acc[k];
                a.flat = a.flat.wrapping_add(w);
                a.flat_div = a.flat_div.wrapping_add(dw);
            }
        }
    }

    /// Adds another pass's sums to this one.
    fn absorb(&mut self, other: Pass) {
        for (a, b) in self.acc.iter_mut().zip(&other.acc) {
            a.cum = a.cum.wrapping_add(b.cum);
            a.cum_div = a.cum_div.wrapping_add(b.cum_div);
            a.flat = a.flat.wrapping_add(b.flat);
            a.flat_div = a.flat_div.wrapping_add(b.flat_div);
        }
        for oe in other.edge_list {
            let e = self.edge(oe.src, oe.dest, oe.residual, oe.inline) as usize;
            let edge = &mut self.edge_list[e];
            edge.weight = edge.weight.wrapping_add(oe.weight);
            edge.weight_div = edge.weight_div.wrapping_add(oe.weight_div);
            edge.residual |= oe.residual;
            edge.inline &= oe.inline;
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
#[derive(Clone, Copy, Debug)]
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
}

const NONE: u32 = u32::MAX;

impl Graph {
    /// Builds the graph from samples. With `kept`, only nodes whose key is
    /// set are built; edges then jump over the others (residual edges).
    /// Without `edges`, only node values are computed (a cheaper pass used
    /// to decide which nodes to keep).
    ///
    /// Node `i` of the arena is key `i` of the table; hot counters live in
    /// flat arrays during the pass to keep it cache-friendly.
    pub fn build(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: Option<&[bool]>,
        edges: bool,
    ) -> Graph {
        let mode = if edges { Edges::All } else { Edges::None };
        Graph::build_edges(p, table, sel, kept, mode)
    }

    /// [`Graph::build`] choosing which edges to record: reports about a few
    /// nodes (peek) need only the edges that touch them, which saves most
    /// of the work on large profiles.
    pub fn build_edges(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: Option<&[bool]>,
        mode: Edges,
    ) -> Graph {
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(2);
        Graph::build_threads(p, table, sel, kept, mode, threads)
    }

    fn build_threads(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: Option<&[bool]>,
        mode: Edges,
        threads: usize,
    ) -> Graph {
        let edges = !matches!(mode, Edges::None);
        let touching = match mode {
            Edges::Touching(t) => Some(t),
            _ => None,
        };
        let n_keys = table.infos.len();
        let n = p.samples.len();
        // With few nodes kept, most locations have none: skip them whole.
        let loc_kept: Option<Vec<bool>> = kept.map(|k| {
            (0..p.locations.len() as u32)
                .map(|l| table.frames(l).iter().any(|&f| k[f as usize]))
                .collect()
        });
        let kept = kept.map(|k| (k, loc_kept.as_deref().unwrap_or(&[])));
        // Two halves on two threads when there is enough work; the partial
        // sums are then added (values and edge weights are plain sums).
        let acc = if threads > 1 && n >= 50_000 {
            let mid = n / 2;
            let (mut a, b) = std::thread::scope(|scope| {
                let h = scope.spawn(|| {
                    let mut b = Pass::new(n_keys);
                    b.run(p, table, sel, kept, edges, touching, mid..n);
                    b
                });
                let mut a = Pass::new(n_keys);
                a.run(p, table, sel, kept, edges, touching, 0..mid);
                (a, h.join())
            });
            match b {
                Ok(b) => a.absorb(b),
                // A panicking worker is a bug; redo its half here.
                Err(_) => a.run(p, table, sel, kept, edges, touching, mid..n),
            }
            a
        } else {
            let mut a = Pass::new(n_keys);
            a.run(p, table, sel, kept, edges, touching, 0..n);
            a
        };
        let Pass {
            acc: sums,
            edge_list,
            ..
        } = acc;
        let mut arena: Vec<Node> = (0..n_keys)
            .map(|k| Node {
                info: table.infos[k],
                flat: sums[k].flat,
                flat_div: sums[k].flat_div,
                cum: sums[k].cum,
                cum_div: sums[k].cum_div,
                ins: Vec::new(),
                outs: Vec::new(),
            })
            .collect();
        for (e, edge) in edge_list.iter().enumerate() {
            arena[edge.src as usize].outs.push(e as u32);
            arena[edge.dest as usize].ins.push(e as u32);
        }
        let nodes = (0..n_keys as u32)
            .filter(|&n| sums[n as usize].cum != 0 || sums[n as usize].flat != 0)
            .collect();
        Graph {
            arena,
            edges: edge_list,
            nodes,
        }
    }

    pub fn node(&self, n: u32) -> &Node {
        &self.arena[n as usize]
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

    /// Removes edges into listed nodes lighter than `cutoff`; returns how many.
    pub fn trim_low_frequency_edges(&mut self, cutoff: i64) -> usize {
        let mut dropped = 0;
        for &n in &self.nodes {
            for &e in &self.arena[n as usize].ins {
                let edge = &mut self.edges[e as usize];
                if !edge.removed && edge.weight.wrapping_abs() < cutoff {
                    edge.removed = true;
                    dropped += 1;
                }
            }
        }
        dropped
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_threads_build_the_same_graph_as_one() {
        let bytes = crate::synthetic::gzipped(&crate::synthetic::cpu_profile(60_000, 2_000));
        let p = crate::profile::parse(&bytes).expect("parse");
        let table = NodeTable::new(&p, false);
        let sel = ValueSel {
            index: 1,
            mean: false,
        };
        let one = Graph::build_threads(&p, &table, sel, None, Edges::All, 1);
        let two = Graph::build_threads(&p, &table, sel, None, Edges::All, 2);
        assert_eq!(one.nodes, two.nodes);
        for (a, b) in one.arena.iter().zip(&two.arena) {
            assert_eq!((a.flat, a.cum, a.ins.len()), (b.flat, b.cum, b.ins.len()));
        }
        let key = |e: &Edge| (e.src, e.dest, e.weight, e.residual, e.inline);
        let mut e1: Vec<_> = one.edges.iter().map(key).collect();
        let mut e2: Vec<_> = two.edges.iter().map(key).collect();
        e1.sort();
        e2.sort();
        assert_eq!(e1, e2);
        assert!(e1.len() > 1000);
    }
}
