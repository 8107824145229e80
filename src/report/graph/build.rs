//! Building graphs: node identities per location, then one pass (or two
//! on two threads) over the samples for node values and edges.

use super::tags::{collect_tags, split_from, TagSpec};
use super::{Edge, Edges, FastMap, Graph, Node, NodeInfo, ValueSel, NONE};
use crate::profile::model::Samples;
use crate::profile::Profile;
use std::sync::{Arc, OnceLock};

/// Node identities per location, computed once per profile/granularity and
/// reused for every graph built from it.
pub struct NodeTable {
    pub infos: Vec<NodeInfo>,
    /// Location `l`'s frames are `keys[start[l]..start[l + 1]]`, innermost first.
    start: Vec<u32>,
    keys: Vec<u32>,
    /// Per location: its node when it has one frame, else [`MULTI_BIT`] |
    /// the offset of its frame list in `multi` (a count, then the keys);
    /// the values pass reads these two arrays instead of `start` then
    /// `keys`, and can fetch both ahead.
    one: Vec<u32>,
    multi: Vec<u32>,
    /// The most frames a location has.
    max_frames: usize,
    /// Nodes that are inlined into another frame somewhere (the callees
    /// of inline edges).
    pub inlined: Vec<bool>,
}

impl NodeTable {
    /// `obj_names` keeps binary names on named nodes (address-level reports).
    pub fn new(p: &Profile, obj_names: bool) -> NodeTable {
        let mut index: FastMap<NodeInfo, u32> = FastMap::default();
        let mut t = NodeTable {
            infos: Vec::new(),
            start: Vec::with_capacity(p.locations.len() + 1),
            keys: Vec::new(),
            one: Vec::new(),
            multi: Vec::new(),
            max_frames: 1,
            inlined: Vec::new(),
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
        t.one = Vec::with_capacity(p.locations.len());
        for w in t.start.windows(2) {
            let frames = &t.keys[w[0] as usize..w[1] as usize];
            t.max_frames = t.max_frames.max(frames.len());
            let off = t.multi.len();
            t.one.push(match frames {
                [k] if *k < MULTI_BIT => *k,
                _ if off < MULTI_BIT as usize - 1 => {
                    t.multi.push(frames.len() as u32);
                    t.multi.extend_from_slice(frames);
                    MULTI_BIT | off as u32
                }
                _ => FRAMES,
            });
        }
        t.inlined = vec![false; t.infos.len()];
        for w in t.start.windows(2) {
            // Frames are innermost first: all but the last are inlined.
            let (a, b) = (w[0] as usize, w[1] as usize);
            for &k in &t.keys[a..b.saturating_sub(1).max(a)] {
                t.inlined[k as usize] = true;
            }
        }
        t
    }

    /// Per location: whether one of its frames is a node set in `nodes`.
    pub fn locations_holding(&self, nodes: &[bool]) -> Vec<bool> {
        (0..self.start.len().saturating_sub(1) as u32)
            .map(|l| {
                self.frames(l)
                    .iter()
                    .any(|&k| nodes.get(k as usize).copied().unwrap_or(false))
            })
            .collect()
    }

    /// The node keys of a stack's frames, innermost first, written into
    /// `buf` (grown as needed) without stores that wait on table loads.
    #[inline]
    pub fn gather<'b>(&self, stack: &[u32], buf: &'b mut Vec<u32>) -> &'b [u32] {
        let need = stack.len() * self.max_frames;
        if buf.len() < need {
            buf.resize(need, 0);
        }
        let mut n = 0;
        for &loc in stack {
            let v = self.one.get(loc as usize).copied().unwrap_or(FRAMES);
            let list = if v & MULTI_BIT == 0 {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = v;
                }
                n += 1;
                continue;
            } else if let Some(list) = multi_frames(&self.multi, v) {
                list
            } else {
                self.frames(loc)
            };
            for &k in list {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = k;
                }
                n += 1;
            }
        }
        buf.get(..n).unwrap_or_default()
    }

    /// Node keys (indexes into `infos`) of a location's frames, innermost first.
    pub fn frames(&self, loc: u32) -> &[u32] {
        &self.keys[self.start[loc as usize] as usize..self.start[loc as usize + 1] as usize]
    }
}

/// [`NodeTable::one`]'s mark of an entry that is an offset into `multi`.
const MULTI_BIT: u32 = 1 << 31;
/// [`NodeTable::one`]'s entry for a location whose frames are only in
/// `keys` (tables too large for the offset to fit).
const FRAMES: u32 = u32::MAX;

/// The frame list a [`NodeTable::one`] entry with [`MULTI_BIT`] points at
/// (`None` for [`FRAMES`]).
#[inline(always)]
fn multi_frames(multi: &[u32], v: u32) -> Option<&[u32]> {
    if v == FRAMES {
        return None;
    }
    let off = (v & !MULTI_BIT) as usize;
    let n = *multi.get(off)? as usize;
    multi.get(off + 1..off + 1 + n)
}

/// A node's counters in a values-only pass: one 16-byte slot per visit.
#[derive(Clone, Copy)]
struct Hot {
    cum: i64,
    seen: u32,
}

/// Node values (flat, cum) of samples `range` when no mean is asked for:
/// the common values-only pass, without the general pass's edges and kept
/// checks (and without frame lists for single-frame locations).
/// The flat value goes to the innermost frame of the leaf location, the
/// cum value once per sample to every node on the stack, as the general
/// pass does.
fn values_single(
    p: &Profile,
    table: &NodeTable,
    index: usize,
    samples: impl Iterator<Item = usize>,
) -> (Vec<i64>, Vec<i64>) {
    let n_keys = table.infos.len();
    let mut hot = vec![Hot { cum: 0, seen: NONE }; n_keys];
    let mut flat = vec![0i64; n_keys];
    let mut keys: Vec<u32> = Vec::new();
    let s = &p.samples;
    for i in samples {
        let w = s.values(i)[index];
        if w == 0 {
            continue;
        }
        // The sample's node keys first, then its counters: a store whose
        // address waits on table loads holds up the loads after it, so
        // gathering (loads only) and then counting (addresses at hand) is
        // several times faster than counting frame by frame.
        let keys = table.gather(s.stack(i), &mut keys);
        if let Some(&leaf) = keys.first() {
            let f = &mut flat[leaf as usize];
            *f = f.wrapping_add(w);
        }
        let stamp = i as u32;
        for &k in keys {
            let h = &mut hot[k as usize];
            if h.seen != stamp {
                h.seen = stamp;
                h.cum = h.cum.wrapping_add(w);
            }
        }
    }
    (hot.into_iter().map(|h| h.cum).collect(), flat)
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
        samples: impl Iterator<Item = usize>,
    ) {
        let s = &p.samples;
        for i in samples {
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

    /// The graph of this pass's sums and edges.
    fn into_graph(self, table: &NodeTable) -> Graph {
        let n_keys = table.infos.len();
        let Pass {
            acc: sums,
            edge_list,
            ..
        } = self;
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

    pub(crate) fn build_threads(
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
        let loc_kept: Option<Vec<bool>> = kept.map(|k| table.locations_holding(k));
        let kept = kept.map(|k| (k, loc_kept.as_deref().unwrap_or(&[])));
        if !edges && kept.is_none() && !sel.mean {
            return Graph::values_only(p, table, sel, threads);
        }
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
        acc.into_graph(table)
    }

    /// Node values (no edges) of the listed samples only: exact for the
    /// nodes those samples all hold ([`scan_samples_touching`]).
    pub fn values_subset(p: &Profile, table: &NodeTable, sel: ValueSel, samples: &[u32]) -> Graph {
        let mut pass = Pass::new(table.infos.len());
        let it = samples.iter().map(|&i| i as usize);
        pass.run(p, table, sel, None, false, None, it);
        pass.into_graph(table)
    }

    /// The values-only graph over single-frame locations ([`values_single`]),
    /// on two threads when there is enough work.
    fn values_only(p: &Profile, table: &NodeTable, sel: ValueSel, threads: usize) -> Graph {
        let n = p.samples.len();
        let (cum, flat) = in_halves(n, threads, |r| values_single(p, table, sel.index, r));
        let arena: Vec<Node> = (0..table.infos.len())
            .map(|k| Node {
                info: table.infos[k],
                flat: flat[k],
                flat_div: 0,
                cum: cum[k],
                cum_div: 0,
                ins: Vec::new(),
                outs: Vec::new(),
            })
            .collect();
        let nodes = (0..arena.len() as u32)
            .filter(|&k| cum[k as usize] != 0 || flat[k as usize] != 0)
            .collect();
        Graph {
            arena,
            edges: Vec::new(),
            nodes,
            tags: Vec::new(),
        }
    }

    /// [`Graph::build_edges`] over the listed samples only (ascending): the
    /// edges of `Edges::Touching` nodes, from the samples that hold them
    /// ([`Postings::samples_touching`]). Node values are partial: see
    /// [`Graph::take_values`].
    pub fn build_edges_subset(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: Option<&[bool]>,
        mode: Edges,
        samples: &[u32],
    ) -> Graph {
        let touching = match mode {
            Edges::Touching(t) => Some(t),
            _ => None,
        };
        let loc_kept: Option<Vec<bool>> = kept.map(|k| table.locations_holding(k));
        let kept2 = kept.map(|k| (k, loc_kept.as_deref().unwrap_or(&[])));
        let mut pass = Pass::with_kept(table.infos.len(), kept);
        let edges = !matches!(mode, Edges::None);
        pass.run(
            p,
            table,
            sel,
            kept2,
            edges,
            touching,
            samples.iter().map(|&i| i as usize),
        );
        let mut arena: Vec<Node> = table
            .infos
            .iter()
            .map(|&info| Node {
                info,
                flat: 0,
                flat_div: 0,
                cum: 0,
                cum_div: 0,
                ins: Vec::new(),
                outs: Vec::new(),
            })
            .collect();
        for (e, edge) in pass.edge_list.iter().enumerate() {
            arena[edge.src as usize].outs.push(e as u32);
            arena[edge.dest as usize].ins.push(e as u32);
        }
        Graph {
            arena,
            edges: pass.edge_list,
            nodes: Vec::new(),
            tags: Vec::new(),
        }
    }

    /// [`Graph::build_tagged`] with edges over the listed samples only
    /// (those holding a kept node: [`Postings::samples_touching`]), node
    /// values from `values` (the values-only graph of all samples).
    pub fn build_tagged_subset(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        kept: &[bool],
        values: &Graph,
        samples: &[u32],
        tags: &TagSpec,
    ) -> Graph {
        let mut g = Graph::build_edges_subset(p, table, sel, Some(kept), Edges::All, samples);
        g.take_values(values, Some(kept));
        g.tags = collect_tags(p, table, sel, Some(kept), tags, Some(samples), split_from());
        g
    }

    /// Node values (and the node list) from the values-only graph of all
    /// samples, for the nodes of `kept` (all when None): what a full
    /// rebuild with `kept` gives them.
    pub fn take_values(&mut self, values: &Graph, kept: Option<&[bool]>) {
        for (n, v) in self.arena.iter_mut().zip(&values.arena) {
            n.flat = v.flat;
            n.flat_div = v.flat_div;
            n.cum = v.cum;
            n.cum_div = v.cum_div;
        }
        self.nodes = (0..self.arena.len() as u32)
            .filter(|&k| {
                let n = &self.arena[k as usize];
                kept.is_none_or(|kept| kept[k as usize]) && (n.cum != 0 || n.flat != 0)
            })
            .collect();
        if let Some(kept) = kept {
            for (k, n) in self.arena.iter_mut().enumerate() {
                if !kept[k] {
                    n.flat = 0;
                    n.flat_div = 0;
                    n.cum = 0;
                    n.cum_div = 0;
                }
            }
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
            g.tags = collect_tags(p, table, sel, kept, spec, None, split_from());
        }
        g
    }
}

/// `values(0..n)` as the sum of its two halves, each on a thread, when
/// there are threads and enough work (`(cum, flat)` per key).
fn in_halves(
    n: usize,
    threads: usize,
    values: impl Fn(std::ops::Range<usize>) -> (Vec<i64>, Vec<i64>) + Sync,
) -> (Vec<i64>, Vec<i64>) {
    if threads < 2 || n < 50_000 {
        return values(0..n);
    }
    let mid = n / 2;
    let (a, b) = std::thread::scope(|scope| {
        let h = scope.spawn(|| values(mid..n));
        (values(0..mid), h.join())
    });
    let (mut cum, mut flat) = a;
    // A panicking worker is a bug; redo its half here.
    let (c2, f2) = b.unwrap_or_else(|_| values(mid..n));
    for (a, b) in cum.iter_mut().zip(c2) {
        *a = a.wrapping_add(b);
    }
    for (a, b) in flat.iter_mut().zip(f2) {
        *a = a.wrapping_add(b);
    }
    (cum, flat)
}

/// Node sums `[cum, cum_div, flat, flat_div]` per key of the listed
/// samples, counted as a values pass counts them (cum once per sample).
pub fn sample_sums(
    p: &Profile,
    table: &NodeTable,
    sel: ValueSel,
    samples: &[u32],
) -> Vec<[i64; 4]> {
    if !sel.mean {
        // The values-only pass (no divisors without a mean).
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
        let (cum, flat) = in_halves(samples.len(), threads, |r| {
            let list = samples.get(r).unwrap_or_default();
            values_single(p, table, sel.index, list.iter().map(|&i| i as usize))
        });
        return cum
            .into_iter()
            .zip(flat)
            .map(|(c, f)| [c, 0, f, 0])
            .collect();
    }
    let mut pass = Pass::new(table.infos.len());
    pass.run(
        p,
        table,
        sel,
        None,
        false,
        None,
        samples.iter().map(|&i| i as usize),
    );
    pass.acc
        .iter()
        .map(|a| [a.cum, a.cum_div, a.flat, a.flat_div])
        .collect()
}

/// Which samples hold each location (a CSR index: location `l`'s samples
/// are `samples[start[l]..start[l + 1]]`, ascending), so that reports about
/// a few nodes visit only the samples that hold them. A filtered report's
/// index can instead be derived from its parent's ([`Postings::derived`]).
pub struct Postings {
    start: Vec<u32>,
    samples: Vec<u32>,
    derived: Option<Derived>,
}

/// The index of a filtered profile's samples through the index of the
/// samples they were filtered from.
struct Derived {
    parent: Arc<OnceLock<Postings>>,
    /// Parent sample → this profile's sample, for samples kept unchanged;
    /// [`NONE`] for dropped or rewritten ones.
    p2c: Vec<u32>,
    /// This profile's samples that were rewritten (ascending).
    images: Vec<u32>,
    /// Locations whose frames the filter changed: the parent's lists do
    /// not tell which samples hold them now.
    changed: Vec<bool>,
    samples: Samples,
}

impl Postings {
    pub fn new(s: &crate::profile::model::SampleData, n_locs: usize) -> Postings {
        let mut start = vec![0u32; n_locs + 1];
        for &l in &s.locs {
            if let Some(c) = start.get_mut(l as usize + 1) {
                *c += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut samples = vec![0u32; s.locs.len()];
        for i in 0..s.len() {
            for &l in s.stack(i) {
                if let Some(f) = fill.get_mut(l as usize) {
                    // A location twice in a stack is listed twice; the
                    // sample list is deduplicated when read.
                    samples[*f as usize] = i as u32;
                    *f += 1;
                }
            }
        }
        Postings {
            start,
            samples,
            derived: None,
        }
    }

    /// The index of `samples`, filtered from the samples `parent` indexes:
    /// `p2c` maps the parent's samples kept unchanged, `images` lists the
    /// samples the filter rewrote, `changed` the locations it changed.
    /// None unless the parent's index is built (and not itself derived).
    pub fn derived(
        parent: Arc<OnceLock<Postings>>,
        p2c: Vec<u32>,
        images: Vec<u32>,
        changed: Vec<bool>,
        samples: Samples,
    ) -> Option<Postings> {
        let built = parent.get()?;
        if built.derived.is_some() || built.start.len() != changed.len() + 1 {
            return None;
        }
        Some(Postings {
            start: Vec::new(),
            samples: Vec::new(),
            derived: Some(Derived {
                parent,
                p2c,
                images,
                changed,
                samples,
            }),
        })
    }

    #[cfg(test)]
    pub(crate) fn is_derived(&self) -> bool {
        self.derived.is_some()
    }

    /// The samples (ascending, once each) holding a frame of a `touching`
    /// node, or None when they are too many for a partial pass to pay off.
    pub fn samples_touching(
        &self,
        table: &NodeTable,
        touching: &[bool],
        n_locs: usize,
    ) -> Option<Vec<u32>> {
        if let Some(d) = &self.derived {
            return d.samples_touching(table, touching, n_locs);
        }
        let total = self.samples.len();
        let mut out = Vec::new();
        for l in 0..n_locs.min(self.start.len().saturating_sub(1)) {
            if table.frames(l as u32).iter().any(|&k| touching[k as usize]) {
                let (a, b) = (self.start[l] as usize, self.start[l + 1] as usize);
                out.extend_from_slice(&self.samples[a..b]);
                if out.len() > total / 8 {
                    return None;
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

/// [`Postings::samples_touching`] without an index: one scan of the
/// stacks (the one-shot commands build no index). None when more than a
/// quarter of the samples hold a touching node: the partial pass (one
/// thread, general) then costs about what the full one (two threads) does.
pub fn scan_samples_touching(
    s: &crate::profile::model::SampleData,
    table: &NodeTable,
    touching: &[bool],
    n_locs: usize,
) -> Option<Vec<u32>> {
    let mut touched = table.locations_holding(touching);
    touched.resize(n_locs, false);
    let holds = |i: usize| {
        s.stack(i)
            .iter()
            .any(|&l| touched.get(l as usize).copied().unwrap_or(false))
    };
    // Most samples holding one is the common case of a broad regexp: a
    // look at every 16th sample says so before a whole scan is wasted.
    let probe = (0..s.len()).step_by(16);
    let (seen, held) = (probe.len(), probe.filter(|&i| holds(i)).count());
    if held * 4 > seen + 16 {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..s.len() {
        if holds(i) {
            out.push(i as u32);
            if out.len() > s.len() / 4 {
                return None;
            }
        }
    }
    Some(out)
}

impl Derived {
    /// [`Postings::samples_touching`]: the parent's samples of unchanged
    /// locations that were kept unchanged, and the rewritten samples that
    /// hold a touching location.
    fn samples_touching(
        &self,
        table: &NodeTable,
        touching: &[bool],
        n_locs: usize,
    ) -> Option<Vec<u32>> {
        let parent = self.parent.get()?;
        if n_locs != self.changed.len() || parent.start.len() != n_locs + 1 {
            return None;
        }
        let total = self.samples.locs.len();
        let mut out = Vec::new();
        let mut touched = vec![false; n_locs];
        let mut any = false;
        for (l, t) in touched.iter_mut().enumerate() {
            if !table.frames(l as u32).iter().any(|&k| touching[k as usize]) {
                continue;
            }
            *t = true;
            any = true;
            if self.changed[l] {
                continue;
            }
            let (a, b) = (parent.start[l] as usize, parent.start[l + 1] as usize);
            for &i in &parent.samples[a..b] {
                let j = *self.p2c.get(i as usize)?;
                if j != NONE {
                    out.push(j);
                }
            }
            if out.len() > total / 8 {
                return None;
            }
        }
        if any {
            for &j in &self.images {
                if self
                    .samples
                    .stack(j as usize)
                    .iter()
                    .any(|&l| touched.get(l as usize).copied().unwrap_or(false))
                {
                    out.push(j);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}
