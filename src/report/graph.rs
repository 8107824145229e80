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
    /// With few kept nodes, edges are found in a dense kept × kept matrix
    /// instead of the hash map: `compact` numbers the kept keys.
    compact: Vec<u32>,
    dense: Vec<u32>,
    n_kept: usize,
}

/// Kept-node counts up to which the dense edge matrix is used (4 MB).
const DENSE_EDGES_MAX: usize = 1024;

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
            compact: Vec::new(),
            dense: Vec::new(),
            n_kept: 0,
        }
    }

    /// A pass whose edges only join `kept` nodes; uses the dense edge
    /// matrix when they are few.
    fn with_kept(n_keys: usize, kept: Option<&[bool]>) -> Pass {
        let mut pass = Pass::new(n_keys);
        if let Some(k) = kept {
            let n_kept = k.iter().filter(|&&b| b).count();
            if n_kept <= DENSE_EDGES_MAX {
                let mut next = 0u32;
                pass.compact = k
                    .iter()
                    .map(|&b| {
                        if b {
                            next += 1;
                            next - 1
                        } else {
                            NONE
                        }
                    })
                    .collect();
                pass.dense = vec![NONE; n_kept * n_kept];
                pass.n_kept = n_kept;
            }
        }
        pass
    }

    fn edge(&mut self, src: u32, dest: u32, residual: bool, inline: bool) -> u32 {
        let next = self.edge_list.len() as u32;
        let e = if self.dense.is_empty() {
            let key = (src as u64) << 32 | dest as u64;
            *self.edge_index.entry(key).or_insert(next)
        } else {
            let (a, b) = (self.compact[src as usize], self.compact[dest as usize]);
            let slot = &mut self.dense[a as usize * self.n_kept + b as usize];
            if *slot == NONE {
                *slot = next;
            }
            *slot
        };
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
    /// Sample labels per arena node, when built with a [`TagSpec`] (graph
    /// reports draw them as nodelets); empty otherwise.
    pub tags: Vec<NodeTags>,
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
                    let mut b = Pass::with_kept(n_keys, kept.map(|(k, _)| k));
                    b.run(p, table, sel, kept, edges, touching, mid..n);
                    b
                });
                let mut a = Pass::with_kept(n_keys, kept.map(|(k, _)| k));
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
            let mut a = Pass::with_kept(n_keys, kept.map(|(k, _)| k));
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
            tags: Vec::new(),
        }
    }

    /// [`Graph::build`], also collecting the samples' labels per node when
    /// `tags` is given (pprof's LabelTags and NumericTags, for drawings).
    pub fn build_tagged(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: Option<&[bool]>,
        edges: bool,
        tags: Option<&TagSpec>,
    ) -> Graph {
        let mut g = Graph::build(p, table, sel, kept, edges);
        if let Some(spec) = tags {
            g.tags = collect_tags(p, table, sel, kept, spec);
        }
        g
    }

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

/// Which sample labels become node tags: pprof's graphs keep every string
/// label and, of numeric ones, only `bytes` (heap profiles' allocation size).
#[derive(Clone, Debug, Default)]
pub struct TagSpec {
    /// The unit of the `bytes` label.
    pub bytes_unit: String,
    /// The unit numeric tag names are printed in.
    pub output_unit: String,
}

/// Sample annotations on a node, with the part of the node's value that
/// carried them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tag {
    pub name: String,
    /// Empty for string labels.
    pub unit: String,
    pub value: i64,
    pub flat: i64,
    pub flat_div: i64,
    pub cum: i64,
    pub cum_div: i64,
}

impl Tag {
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

/// A node's tags.
#[derive(Clone, Debug, Default)]
pub struct NodeTags {
    /// One tag per distinct set of string labels (`key:value` pairs, sorted,
    /// joined by a DOT line break `\n`).
    pub labels: Vec<Tag>,
    /// Numeric tags grouped by the string label set of their samples (""
    /// for samples without string labels).
    pub numeric: Vec<(String, Vec<Tag>)>,
}

/// The tags of one distinct label list.
struct SampleSig {
    /// Index into `Tagger::sets`; 0 is the empty set.
    set: u32,
    /// (index into `Tagger::names`, value) per `bytes` value.
    numeric: Vec<(u32, i64)>,
}

#[derive(Default)]
struct TagAcc {
    value: i64,
    flat: i64,
    flat_div: i64,
    cum: i64,
    cum_div: i64,
}

impl TagAcc {
    fn add(&mut self, w: i64, dw: i64, flat: bool) {
        if flat {
            self.flat = self.flat.wrapping_add(w);
            self.flat_div = self.flat_div.wrapping_add(dw);
        } else {
            self.cum = self.cum.wrapping_add(w);
            self.cum_div = self.cum_div.wrapping_add(dw);
        }
    }
}

/// Accumulates tags per node while the graph is built.
struct Tagger<'a> {
    spec: &'a TagSpec,
    bytes_key: Option<StrId>,
    base_key: Option<StrId>,
    by_labels: FastMap<Vec<crate::profile::Label>, u32>,
    sigs: Vec<SampleSig>,
    sets: Vec<String>,
    set_index: FastMap<String, u32>,
    names: Vec<String>,
    name_index: FastMap<String, u32>,
    label_tags: FastMap<(u32, u32), TagAcc>,
    num_tags: FastMap<(u32, u32, u32), TagAcc>,
}

impl<'a> Tagger<'a> {
    fn new(p: &Profile, spec: &'a TagSpec) -> Tagger<'a> {
        let mut set_index = FastMap::default();
        set_index.insert(String::new(), 0);
        Tagger {
            spec,
            bytes_key: p.strings.find("bytes"),
            // pprof drops the label marking -diff_base samples from graphs.
            base_key: p.strings.find("pprof::base"),
            by_labels: FastMap::default(),
            sigs: Vec::new(),
            sets: vec![String::new()],
            set_index,
            names: Vec::new(),
            name_index: FastMap::default(),
            label_tags: FastMap::default(),
            num_tags: FastMap::default(),
        }
    }

    /// The tag signature of sample `i` (computed once per distinct label list).
    fn sample_tags(&mut self, p: &Profile, i: usize) -> u32 {
        let labels = p.samples.labels(i);
        if let Some(&sig) = self.by_labels.get(labels) {
            return sig;
        }
        let mut pairs: Vec<String> = labels
            .iter()
            .filter(|l| !l.is_numeric() && Some(l.key) != self.base_key)
            .map(|l| format!("{}:{}", p.str(l.key), p.str(l.str)))
            .collect();
        pairs.sort();
        let joined = pairs.join("\\n");
        let next = self.sets.len() as u32;
        let set = *self.set_index.entry(joined.clone()).or_insert(next);
        if set == next {
            self.sets.push(joined);
        }
        let mut numeric = Vec::new();
        for l in labels {
            if !l.is_numeric() || self.bytes_key != Some(l.key) {
                continue;
            }
            let name =
                crate::units::scaled_label(l.num, &self.spec.bytes_unit, &self.spec.output_unit);
            let next = self.names.len() as u32;
            let id = *self.name_index.entry(name.clone()).or_insert(next);
            if id == next {
                self.names.push(name);
            }
            numeric.push((id, l.num));
        }
        let sig = self.sigs.len() as u32;
        self.sigs.push(SampleSig { set, numeric });
        self.by_labels.insert(labels.to_vec(), sig);
        sig
    }

    fn add(&mut self, node: u32, sig: u32, w: i64, dw: i64, flat: bool) {
        let Some(s) = self.sigs.get(sig as usize) else {
            return;
        };
        if s.set != 0 {
            self.label_tags
                .entry((node, s.set))
                .or_default()
                .add(w, dw, flat);
        }
        for &(name, value) in &s.numeric {
            // The first value seen under a name stays the tag's value.
            self.num_tags
                .entry((node, s.set, name))
                .or_insert_with(|| TagAcc {
                    value,
                    ..Default::default()
                })
                .add(w, dw, flat);
        }
    }

    fn finish(self, n_nodes: usize) -> Vec<NodeTags> {
        let mut out = vec![NodeTags::default(); n_nodes];
        let tag = |name: &str, unit: &str, a: &TagAcc| Tag {
            name: name.to_string(),
            unit: unit.to_string(),
            value: a.value,
            flat: a.flat,
            flat_div: a.flat_div,
            cum: a.cum,
            cum_div: a.cum_div,
        };
        for ((node, set), a) in &self.label_tags {
            if let Some(t) = out.get_mut(*node as usize) {
                t.labels.push(tag(&self.sets[*set as usize], "", a));
            }
        }
        for ((node, set, name), a) in &self.num_tags {
            let Some(t) = out.get_mut(*node as usize) else {
                continue;
            };
            let set = &self.sets[*set as usize];
            let new = tag(&self.names[*name as usize], &self.spec.bytes_unit, a);
            match t.numeric.iter_mut().find(|(s, _)| s == set) {
                Some((_, v)) => v.push(new),
                None => t.numeric.push((set.clone(), vec![new])),
            }
        }
        // Hash map order is arbitrary: make it reproducible.
        for t in &mut out {
            t.labels.sort_by(|a, b| a.name.cmp(&b.name));
            t.numeric.sort_by(|a, b| a.0.cmp(&b.0));
            for (_, v) in &mut t.numeric {
                v.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        out
    }
}

/// Tags per node (indexed like the graph's arena): a sample's labels count
/// towards the cum of every kept node on its stack (once) and towards the
/// flat of its leaf when that is kept, as the values do.
fn collect_tags(
    p: &Profile,
    table: &NodeTable,
    sel: ValueSel,
    kept: Option<&[bool]>,
    spec: &TagSpec,
) -> Vec<NodeTags> {
    let n_keys = table.infos.len();
    let mut tagger = Tagger::new(p, spec);
    let mut node_seen = vec![NONE; n_keys];
    let s = &p.samples;
    for i in 0..s.len() {
        let values = s.values(i);
        let w = values[sel.index];
        let dw = if sel.mean { values[0] } else { 0 };
        if w == 0 && dw == 0 {
            continue;
        }
        let sig = tagger.sample_tags(p, i);
        let stamp = i as u32;
        let mut leaf = NONE;
        let mut residual = false;
        for &loc in s.stack(i).iter().rev() {
            for &n in table.frames(loc).iter().rev() {
                if kept.is_some_and(|k| !k[n as usize]) {
                    residual = true;
                    continue;
                }
                if node_seen[n as usize] != stamp {
                    node_seen[n as usize] = stamp;
                    tagger.add(n, sig, w, dw, false);
                }
                leaf = n;
                residual = false;
            }
        }
        if leaf != NONE && !residual {
            tagger.add(leaf, sig, w, dw, true);
        }
    }
    tagger.finish(n_keys)
}

/// pprof's tag order: heavier first (by |cum| unless `flat`, then |flat|),
/// then by name.
pub fn sort_tags(tags: &mut [Tag], flat: bool) {
    tags.sort_by(|a, b| {
        let mut o = std::cmp::Ordering::Equal;
        if !flat && a.cum != b.cum {
            o = b.cum.unsigned_abs().cmp(&a.cum.unsigned_abs());
        }
        if o == std::cmp::Ordering::Equal && a.flat != b.flat {
            o = b.flat.unsigned_abs().cmp(&a.flat.unsigned_abs());
        }
        o.then_with(|| a.name.cmp(&b.name))
    });
}

/// Most tags drawn per node (and per label set for numeric tags).
pub const MAX_NODELETS: usize = 4;

/// Go's float64 to int64 conversion on amd64: NaN and out-of-range values
/// become the minimum int64.
fn go_f64_to_i64(x: f64) -> i64 {
    // 2^63: the first value past int64's range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if x.is_nan() || !(-LIMIT..LIMIT).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// Go's `math.Log2`: exact for powers of two.
fn go_log2(x: f64) -> f64 {
    if x > 0.0 && x.is_finite() {
        let bits = x.to_bits();
        let exp_bits = ((bits >> 52) & 0x7ff) as i64;
        if exp_bits != 0 {
            // frexp: x = frac * 2^exp with frac in [0.5, 1).
            let exp = exp_bits - 1022;
            let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
            if frac == 0.5 {
                return (exp - 1) as f64;
            }
            return frac.ln() * std::f64::consts::LOG2_E + exp as f64;
        }
    }
    x.log2()
}

impl Graph {
    /// Live incoming edge indexes of a node.
    fn live_ins(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.arena[n as usize]
            .ins
            .iter()
            .copied()
            .filter(|&e| !self.edges[e as usize].removed)
    }

    /// Live outgoing edge indexes of a node.
    fn live_outs(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.arena[n as usize]
            .outs
            .iter()
            .copied()
            .filter(|&e| !self.edges[e as usize].removed)
    }

    /// pprof's entropy score: how much a node tells in a drawing. Nodes that
    /// only pass their callers' weight to one callee score low.
    fn entropy_score(&self, n: u32) -> i64 {
        let node = &self.arena[n as usize];
        let mut score = 0.0f64;
        let ins: Vec<i64> = self
            .live_ins(n)
            .map(|e| self.edges[e as usize].weight)
            .collect();
        let outs: Vec<i64> = self
            .live_outs(n)
            .map(|e| self.edges[e as usize].weight)
            .collect();
        if ins.is_empty() {
            score += 1.0;
        } else {
            score += edge_entropy(&ins, 0);
        }
        if outs.is_empty() {
            score += 1.0;
        } else {
            score += edge_entropy(&outs, node.flat);
        }
        go_f64_to_i64(score * node.cum as f64).wrapping_add(node.flat)
    }

    /// Sorts the listed nodes for drawing (pprof's EntropyOrder): by |entropy
    /// score|, then name, then |flat|.
    pub fn sort_nodes_entropy(&mut self, p: &Profile) {
        let mut names = vec![String::new(); self.arena.len()];
        let mut score = vec![0i64; self.arena.len()];
        for &n in &self.nodes {
            names[n as usize] = self.arena[n as usize].info.printable_name(p);
            score[n as usize] = self.entropy_score(n);
        }
        let arena = &self.arena;
        // Go's abs64 leaves the minimum int64 negative: keep that order.
        let abs = |v: i64| v.wrapping_abs();
        self.nodes.sort_by(|&a, &b| {
            let (l, r) = (&arena[a as usize], &arena[b as usize]);
            abs(score[b as usize])
                .cmp(&abs(score[a as usize]))
                .then_with(|| names[a as usize].cmp(&names[b as usize]))
                .then_with(|| r.flat.wrapping_abs().cmp(&l.flat.wrapping_abs()))
                .then_with(|| l.info.sprint(p).cmp(&r.info.sprint(p)))
        });
    }

    /// Tags with a non-zero flat value: what a drawing shows as nodelets.
    fn count_tags(&self, n: u32) -> usize {
        let Some(t) = self.tags.get(n as usize) else {
            return 0;
        };
        t.labels.iter().filter(|t| t.flat != 0).count()
            + t.numeric
                .iter()
                .flat_map(|(_, v)| v)
                .filter(|t| t.flat != 0)
                .count()
    }

    /// How many of the (sorted) listed nodes to keep for at most `max_nodes`
    /// boxes in a drawing, where each node's nodelets count as boxes too.
    pub fn top_nodes_visual(&self, max_nodes: usize) -> usize {
        let mut keep = max_nodes;
        if max_nodes > 0 {
            let mut count = 0;
            for (i, &n) in self.nodes.iter().enumerate() {
                count += self.count_tags(n).min(MAX_NODELETS) + 1;
                if count >= max_nodes {
                    keep = i + 1;
                    break;
                }
            }
        }
        keep.min(self.nodes.len())
    }

    /// Drops the tags of listed nodes lighter than `cutoff` (by flat and cum).
    pub fn trim_low_frequency_tags(&mut self, cutoff: i64) {
        let keep = |t: &Tag| t.flat.wrapping_abs() >= cutoff || t.cum.wrapping_abs() >= cutoff;
        for &n in &self.nodes {
            if let Some(t) = self.tags.get_mut(n as usize) {
                t.labels.retain(keep);
                for (_, v) in &mut t.numeric {
                    v.retain(keep);
                }
            }
        }
    }

    /// Edge indexes in pprof's edge order: heavier first, then by caller and
    /// callee names. Weights of equal magnitude and opposite signs are
    /// ordered positive first (pprof leaves them unordered).
    pub fn sort_edges(&self, edges: &mut [u32], names: &[String]) {
        let es = &self.edges;
        edges.sort_by(|&a, &b| {
            let (x, y) = (&es[a as usize], &es[b as usize]);
            let mut o = std::cmp::Ordering::Equal;
            if x.weight != y.weight {
                o = y.weight.unsigned_abs().cmp(&x.weight.unsigned_abs());
            }
            o.then_with(|| names[x.src as usize].cmp(&names[y.src as usize]))
                .then_with(|| names[x.dest as usize].cmp(&names[y.dest as usize]))
                .then_with(|| y.weight.cmp(&x.weight))
        });
    }

    /// Removes residual edges whose callee the caller also reaches through
    /// other edges (lightest first), as pprof does to unclutter drawings.
    pub fn remove_redundant_edges(&mut self, names: &[String]) {
        for i in (0..self.nodes.len()).rev() {
            let n = self.nodes[i];
            let mut ins: Vec<u32> = self.live_ins(n).collect();
            self.sort_edges(&mut ins, names);
            for &e in ins.iter().rev() {
                if !self.edges[e as usize].residual {
                    // Never remove an edge heavier than a direct call.
                    break;
                }
                if self.is_redundant_edge(e) {
                    self.edges[e as usize].removed = true;
                }
            }
        }
    }

    /// Whether the caller of edge `e` reaches its callee without it.
    fn is_redundant_edge(&self, e: u32) -> bool {
        let (src, dest) = (self.edges[e as usize].src, self.edges[e as usize].dest);
        let mut seen: FastMap<u32, ()> = FastMap::default();
        seen.insert(dest, ());
        let mut queue = std::collections::VecDeque::from([dest]);
        while let Some(n) = queue.pop_front() {
            for ie in self.live_ins(n) {
                let from = self.edges[ie as usize].src;
                if ie == e || seen.contains_key(&from) {
                    continue;
                }
                if from == src {
                    return true;
                }
                seen.insert(from, ());
                queue.push_back(from);
            }
        }
        false
    }
}

/// Entropy of a node's edge weights (plus its own weight `own` for
/// callees), as pprof computes it.
fn edge_entropy(weights: &[i64], own: i64) -> f64 {
    let mut score = 0.0f64;
    let mut total = own;
    for &w in weights {
        if w > 0 {
            total = total.wrapping_add(w.wrapping_abs());
        }
    }
    if total != 0 {
        for &w in weights {
            let frac = w.wrapping_abs() as f64 / total as f64;
            score += -frac * go_log2(frac);
        }
        if own > 0 {
            let frac = own.wrapping_abs() as f64 / total as f64;
            score += -frac * go_log2(frac);
        }
    }
    score
}

impl Graph {
    /// Builds a call tree (pprof's `call_tree`): a node per distinct path
    /// from the root, so a function reached through different callers
    /// appears once per caller path.
    pub fn build_tree(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        tags: Option<&TagSpec>,
    ) -> Graph {
        let mut tagger = tags.map(|spec| Tagger::new(p, spec));
        let mut arena: Vec<Node> = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        // (parent node or NONE, node key) -> node.
        let mut index: FastMap<(u32, u32), u32> = FastMap::default();
        // The edge into each node from its parent (NONE for roots).
        let mut in_edge: Vec<u32> = Vec::new();
        let s = &p.samples;
        for i in 0..s.len() {
            let values = s.values(i);
            let w = values[sel.index];
            let dw = if sel.mean { values[0] } else { 0 };
            if w == 0 && dw == 0 {
                continue;
            }
            let sample_tags = tagger.as_mut().map(|t| t.sample_tags(p, i));
            let mut parent = NONE;
            for &loc in s.stack(i).iter().rev() {
                let frames = table.frames(loc);
                for fi in (0..frames.len()).rev() {
                    let key = frames[fi];
                    let next = arena.len() as u32;
                    let n = *index.entry((parent, key)).or_insert(next);
                    if n == next {
                        arena.push(Node {
                            info: table.infos[key as usize],
                            ..Default::default()
                        });
                        in_edge.push(NONE);
                    }
                    let node = &mut arena[n as usize];
                    node.cum = node.cum.wrapping_add(w);
                    node.cum_div = node.cum_div.wrapping_add(dw);
                    if let (Some(t), Some(st)) = (tagger.as_mut(), sample_tags) {
                        t.add(n, st, w, dw, false);
                    }
                    if parent != NONE {
                        let inline = fi != frames.len() - 1;
                        let e = in_edge[n as usize];
                        if e == NONE {
                            in_edge[n as usize] = edges.len() as u32;
                            edges.push(Edge {
                                src: parent,
                                dest: n,
                                weight: w,
                                weight_div: dw,
                                residual: false,
                                inline,
                                removed: false,
                            });
                        } else {
                            let edge = &mut edges[e as usize];
                            edge.weight = edge.weight.wrapping_add(w);
                            edge.weight_div = edge.weight_div.wrapping_add(dw);
                            edge.inline &= inline;
                        }
                    }
                    parent = n;
                }
            }
            if parent != NONE {
                let node = &mut arena[parent as usize];
                node.flat = node.flat.wrapping_add(w);
                node.flat_div = node.flat_div.wrapping_add(dw);
                if let (Some(t), Some(st)) = (tagger.as_mut(), sample_tags) {
                    t.add(parent, st, w, dw, true);
                }
            }
        }
        for (e, edge) in edges.iter().enumerate() {
            arena[edge.src as usize].outs.push(e as u32);
            arena[edge.dest as usize].ins.push(e as u32);
        }
        let nodes = (0..arena.len() as u32)
            .filter(|&n| arena[n as usize].cum != 0 || arena[n as usize].flat != 0)
            .collect();
        let tags = tagger.map_or_else(Vec::new, |t| t.finish(arena.len()));
        Graph {
            arena,
            edges,
            nodes,
            tags,
        }
    }

    /// Keeps only the `kept` nodes of a call tree: a dropped node's callees
    /// hang from its caller through residual edges (inline only if both
    /// edges were), or become roots when it had no caller.
    pub fn trim_tree(&mut self, kept: &[bool], names: &[String]) {
        let old = std::mem::take(&mut self.nodes);
        for &cur in &old {
            if kept.get(cur as usize).copied().unwrap_or(false) {
                self.nodes.push(cur);
                continue;
            }
            let outs: Vec<u32> = self.live_outs(cur).collect();
            let Some(up) = self.live_ins(cur).next() else {
                // A dropped root: its callees become roots.
                for e in outs {
                    self.edges[e as usize].removed = true;
                }
                continue;
            };
            let parent = self.edges[up as usize].src;
            let parent_inline = self.edges[up as usize].inline;
            self.edges[up as usize].removed = true;
            for e in outs {
                let edge = &mut self.edges[e as usize];
                edge.src = parent;
                edge.residual = true;
                edge.inline &= parent_inline;
                self.arena[parent as usize].outs.push(e);
            }
            // The edges now leave from the parent.
            let edges = &self.edges;
            self.arena[cur as usize]
                .outs
                .retain(|&e| edges[e as usize].src == cur);
        }
        self.remove_redundant_edges(names);
    }
}
