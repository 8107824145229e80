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

    fn frames(&self, loc: u32) -> &[u32] {
        &self.keys[self.start[loc as usize] as usize..self.start[loc as usize + 1] as usize]
    }
}

/// How sample values are read.
#[derive(Clone, Copy, Debug)]
pub struct ValueSel {
    pub index: usize,
    /// For `mean` reports: values are divided by sample type 0 (the count).
    pub mean: bool,
}

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
    pub fn build(p: &Profile, table: &NodeTable, sel: ValueSel, kept: Option<&[bool]>) -> Graph {
        let mut g = Graph {
            arena: Vec::new(),
            edges: Vec::new(),
            nodes: Vec::new(),
        };
        let mut node_of = vec![NONE; table.infos.len()];
        let mut node_seen: Vec<u32> = Vec::new();
        let mut edge_index: FastMap<(u32, u32), u32> = FastMap::default();
        let mut edge_seen: Vec<u32> = Vec::new();
        let s = &p.samples;
        for i in 0..s.len() {
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
                let frames = table.frames(loc);
                for ni in (0..frames.len()).rev() {
                    let key = frames[ni] as usize;
                    if kept.is_some_and(|k| !k[key]) {
                        residual = true;
                        continue;
                    }
                    let mut n = node_of[key];
                    if n == NONE {
                        n = g.arena.len() as u32;
                        g.arena.push(Node {
                            info: table.infos[key],
                            ..Default::default()
                        });
                        node_seen.push(NONE);
                        node_of[key] = n;
                    }
                    if node_seen[n as usize] != stamp {
                        node_seen[n as usize] = stamp;
                        let node = &mut g.arena[n as usize];
                        node.cum = node.cum.wrapping_add(w);
                        node.cum_div = node.cum_div.wrapping_add(dw);
                    }
                    if parent != NONE && n != parent {
                        let inline = ni != frames.len() - 1;
                        let next = g.edges.len() as u32;
                        let e = *edge_index.entry((parent, n)).or_insert(next);
                        if e == next {
                            g.edges.push(Edge {
                                src: parent,
                                dest: n,
                                weight: 0,
                                weight_div: 0,
                                residual,
                                inline,
                                removed: false,
                            });
                            edge_seen.push(NONE);
                            g.arena[parent as usize].outs.push(e);
                            g.arena[n as usize].ins.push(e);
                        }
                        if edge_seen[e as usize] != stamp {
                            edge_seen[e as usize] = stamp;
                            let edge = &mut g.edges[e as usize];
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
                let node = &mut g.arena[parent as usize];
                node.flat = node.flat.wrapping_add(w);
                node.flat_div = node.flat_div.wrapping_add(dw);
            }
        }
        g.nodes = (0..g.arena.len() as u32)
            .filter(|&n| {
                let node = &g.arena[n as usize];
                node.cum != 0 || node.flat != 0
            })
            .collect();
        g
    }

    pub fn node(&self, n: u32) -> &Node {
        &self.arena[n as usize]
    }

    /// Keys (into the node table) of the listed nodes, as a kept set.
    pub fn kept_set(&self, table: &NodeTable, nodes: &[u32]) -> Vec<bool> {
        let mut index: FastMap<NodeInfo, u32> = FastMap::default();
        for (k, info) in table.infos.iter().enumerate() {
            index.insert(*info, k as u32);
        }
        let mut kept = vec![false; table.infos.len()];
        for &n in nodes {
            if let Some(&k) = index.get(&self.node(n).info) {
                kept[k as usize] = true;
            }
        }
        kept
    }

    /// Sorts listed nodes by |flat| (or |cum|), then name, as pprof does.
    pub fn sort_nodes(&mut self, p: &Profile, cum: bool) {
        let names: Vec<String> = self
            .arena
            .iter()
            .map(|n| n.info.printable_name(p))
            .collect();
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
        self.nodes.iter().fold(0i64, |s, &n| s.wrapping_add(self.node(n).flat))
    }
}
