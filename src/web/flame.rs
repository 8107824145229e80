//! The flame graph view's data: the prepared `flame` report's samples as a
//! call tree (root first, one node per distinct call path), pruned and
//! written as JSON for the page's icicle drawing.
//!
//! Pruning: a frame narrower than `total / PRUNE_DIVISOR` (under a pixel
//! when the graph is 2000 pixels wide) is not sent. Totals stay exact: a
//! node's value always includes its pruned callees, and the sum of those
//! is sent as the node's `pruned` figure, drawn as a hatched "other" part
//! next to its callees. Small profiles lose nothing.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::escape::push_json_str;
use crate::report::graph::NodeTable;
use crate::report::Report;

/// Frames below `total / PRUNE_DIVISOR` are aggregated into their parent.
pub const PRUNE_DIVISOR: i64 = 2000;

/// No name: a sample without frames.
const NO_FRAME: u32 = u32::MAX;

/// A node of the sent (pruned) tree.
struct Node {
    name: u32,
    /// Width: the current profile's value (for a comparison, current =
    /// the difference plus the base).
    cum: i64,
    cum_div: i64,
    flat: i64,
    flat_div: i64,
    /// The base's value, for a comparison.
    before: i64,
    /// The value of callees too narrow to send.
    pruned: i64,
    children: Vec<u32>,
}

impl Node {
    fn new(name: u32) -> Node {
        Node {
            name,
            cum: 0,
            cum_div: 0,
            flat: 0,
            flat_div: 0,
            before: 0,
            pruned: 0,
            children: Vec::new(),
        }
    }
}

/// A sample on its way down the tree: which profile, which sample, its
/// values, and how far its stack has been read (root first: `loc`
/// locations from the root end, then `frame` frames into the next one).
struct Entry {
    src: u32,
    sample: u32,
    loc: u32,
    frame: u32,
    w: i64,
    d: i64,
    before: i64,
}

/// A profile whose samples the tree is built from.
struct Src<'a> {
    rpt: &'a Report,
    table: Arc<NodeTable>,
    /// Node key → name id.
    names: Vec<u32>,
    /// The samples' values are also the base's.
    base: bool,
}

impl Src<'_> {
    /// Each sample's root frame name ([`NO_FRAME`] when it has no frame).
    fn root_names(&self) -> Vec<u32> {
        let p = &self.rpt.prof;
        // Per location: the name of its outermost frame.
        let outer: Vec<u32> = (0..p.locations.len() as u32)
            .map(|l| {
                let frames = self.table.frames(l);
                frames.last().map_or(NO_FRAME, |&k| self.names[k as usize])
            })
            .collect();
        let s = &p.samples;
        (0..s.len())
            .map(|i| {
                let mut names = s.stack(i).iter().rev().map(|&l| outer[l as usize]);
                names.find(|&k| k != NO_FRAME).unwrap_or(NO_FRAME)
            })
            .collect()
    }

    /// The name of the entry's next frame, moving it on; None at its leaf.
    fn next(&self, e: &mut Entry) -> Option<u32> {
        let stack = self.rpt.prof.samples.stack(e.sample as usize);
        loop {
            let li = e.loc as usize;
            if li >= stack.len() {
                return None;
            }
            let frames = self.table.frames(stack[stack.len() - 1 - li]);
            let fi = e.frame as usize;
            if fi < frames.len() {
                e.frame += 1;
                return Some(self.names[frames[frames.len() - 1 - fi] as usize]);
            }
            e.loc += 1;
            e.frame = 0;
        }
    }
}

/// The samples of the profile (and of its base, for a comparison).
#[derive(Default)]
struct Stacks<'a> {
    srcs: Vec<Src<'a>>,
    entries: Vec<Entry>,
    /// The root's sums (value, count, base value) over every sample.
    root: (i64, i64, i64),
    /// The root's callees too narrow to send, found before the entries
    /// are made: their samples get none.
    root_pruned: i64,
}

impl<'a> Stacks<'a> {
    /// Adds a report's samples; `base`: their values are also the base's.
    fn add(&mut self, rpt: &'a mut Report, names: &mut Names, base: bool) {
        let table = rpt.node_table();
        let rpt: &'a Report = rpt;
        let p = &rpt.prof;
        let key_map: Vec<u32> = table
            .infos
            .iter()
            .map(|info| names.intern(info.printable_name(p)))
            .collect();
        self.srcs.push(Src {
            rpt,
            table,
            names: key_map,
            base,
        });
    }

    /// The total and the pruning threshold, and the entries of the samples
    /// under a root callee at least that wide (or with no frame): in a
    /// profile of unrelated stacks most roots are narrow, and their
    /// samples never reach the tree.
    fn fill(&mut self, n_names: usize) -> (i64, i64) {
        let mut sums = vec![(0i64, 0i64); n_names];
        let mut root = (0i64, 0i64, 0i64);
        let roots: Vec<Vec<u32>> = self.srcs.iter().map(Src::root_names).collect();
        for (src, roots) in self.srcs.iter().zip(&roots) {
            let s = &src.rpt.prof.samples;
            let sel = src.rpt.opts.sample;
            for (i, &k) in roots.iter().enumerate() {
                let values = s.values(i);
                let w = values[sel.index];
                let d = if sel.mean { values[0] } else { 0 };
                root.0 = root.0.wrapping_add(w);
                root.1 = root.1.wrapping_add(d);
                if src.base {
                    root.2 = root.2.wrapping_add(w);
                }
                if let Some(t) = sums.get_mut(k as usize) {
                    *t = (t.0.wrapping_add(w), t.1.wrapping_add(d));
                }
            }
        }
        let total = value(root.0, root.1).max(0);
        let threshold = (total / PRUNE_DIVISOR).max(1);
        let mut pruned = 0i64;
        let kept: Vec<bool> = sums
            .iter()
            .map(|&(w, d)| {
                let v = value(w, d).max(0);
                if v < threshold {
                    pruned = pruned.wrapping_add(v);
                }
                v >= threshold
            })
            .collect();
        self.root = root;
        self.root_pruned = pruned;
        for (src, roots) in roots.iter().enumerate() {
            let wanted = |i: usize| kept.get(roots[i] as usize).is_none_or(|&k| k);
            self.entries_of(src, &wanted);
        }
        (total, threshold)
    }

    /// The entries of source `src`'s `wanted` samples.
    fn entries_of(&mut self, src: usize, wanted: &dyn Fn(usize) -> bool) {
        let srcs = &self.srcs;
        let sr = &srcs[src];
        let (rpt, base) = (sr.rpt, sr.base);
        let s = &rpt.prof.samples;
        let sel = rpt.opts.sample;
        let src = src as u32;
        let entry = |i: usize| {
            let values = s.values(i);
            let w = values[sel.index];
            Entry {
                src,
                sample: i as u32,
                loc: 0,
                frame: 0,
                w,
                d: if sel.mean { values[0] } else { 0 },
                before: if base { w } else { 0 },
            }
        };
        // Samples with the same stack are one entry, when stacks repeat
        // (real profiles): decided on the first samples, as hashing every
        // stack of a profile whose stacks are all different costs more
        // than it saves.
        let probe = s.len().min(20_000);
        let distinct: rustc_hash::FxHashSet<&[u32]> = (0..probe).map(|i| s.stack(i)).collect();
        if distinct.len() * 10 < probe * 7 {
            let mut first: FxHashMap<&[u32], u32> = FxHashMap::default();
            first.reserve(distinct.len() * 4);
            for i in (0..s.len()).filter(|&i| wanted(i)) {
                let e = entry(i);
                let next = self.entries.len() as u32;
                let at = *first.entry(s.stack(i)).or_insert(next);
                if at == next {
                    self.entries.push(e);
                } else {
                    let acc = &mut self.entries[at as usize];
                    acc.w = acc.w.wrapping_add(e.w);
                    acc.d = acc.d.wrapping_add(e.d);
                    acc.before = acc.before.wrapping_add(e.before);
                }
            }
        } else {
            self.entries
                .extend((0..s.len()).filter(|&i| wanted(i)).map(entry));
        }
    }

    /// The call tree, expanded only where frames are at least `threshold`
    /// wide, one depth at a time: each pass reads the next frame of every
    /// sample still under a kept node, in sample order (memory is read
    /// sequentially), sums them by (node, frame), keeps the wide ones and
    /// drops the samples under the others. The work is bounded by the
    /// samples under the nodes sent, not by the size of the full tree.
    fn tree(&mut self, threshold: i64) -> Vec<Node> {
        const NONE: u32 = u32::MAX;
        let mut nodes = vec![Node::new(NONE)];
        {
            let root = &mut nodes[0];
            (root.cum, root.cum_div, root.before) = self.root;
            root.pruned = self.root_pruned;
        }
        let n = self.entries.len();
        let mut alive: Vec<u32> = (0..n as u32).collect();
        let mut node_of: Vec<u32> = vec![0; n];
        // (node, name) → slot; per slot: node, name, sums, child. A name's
        // first node in a pass is found by the name alone (`first`), the
        // map holds the others: most names sit under one node per depth.
        let mut index: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        let n_names = self
            .srcs
            .iter()
            .filter_map(|s| s.names.iter().max())
            .max()
            .map_or(0, |&m| m as usize + 1);
        let mut first: Vec<(u32, u32)> = vec![(NONE, NONE); n_names];
        let mut slots: Vec<(u32, u32, i64, i64, i64, u32)> = Vec::new();
        let mut slot_of: Vec<u32> = Vec::with_capacity(n);
        while !alive.is_empty() {
            index.clear();
            slots.clear();
            slot_of.clear();
            for &i in &alive {
                let e = &mut self.entries[i as usize];
                let parent = node_of[i as usize];
                match self.srcs[e.src as usize].next(e) {
                    None => {
                        let node = &mut nodes[parent as usize];
                        node.flat = node.flat.wrapping_add(e.w);
                        node.flat_div = node.flat_div.wrapping_add(e.d);
                        slot_of.push(NONE);
                    }
                    Some(k) => {
                        let next = slots.len() as u32;
                        let f = &mut first[k as usize];
                        let slot = if f.0 == parent {
                            f.1
                        } else if f.0 == NONE {
                            *f = (parent, next);
                            next
                        } else {
                            *index.entry((parent, k)).or_insert(next)
                        };
                        if slot == next {
                            slots.push((parent, k, 0, 0, 0, NONE));
                        }
                        let acc = &mut slots[slot as usize];
                        acc.2 = acc.2.wrapping_add(e.w);
                        acc.3 = acc.3.wrapping_add(e.d);
                        acc.4 = acc.4.wrapping_add(e.before);
                        slot_of.push(slot);
                    }
                }
            }
            for &(_, name, ..) in &slots {
                first[name as usize] = (NONE, NONE);
            }
            // Children in (parent, name) order, for a stable tree.
            let mut order: Vec<u32> = (0..slots.len() as u32).collect();
            order.sort_unstable_by_key(|&s| (slots[s as usize].0, slots[s as usize].1));
            for s in order {
                let (parent, name, w, d, before, _) = slots[s as usize];
                let v = value(w, d).max(0);
                if v < threshold {
                    let node = &mut nodes[parent as usize];
                    node.pruned = node.pruned.wrapping_add(v);
                    continue;
                }
                let c = nodes.len() as u32;
                let mut child = Node::new(name);
                child.cum = w;
                child.cum_div = d;
                child.before = before;
                nodes.push(child);
                nodes[parent as usize].children.push(c);
                slots[s as usize].5 = c;
            }
            let mut next_alive = Vec::with_capacity(alive.len());
            for (j, &i) in alive.iter().enumerate() {
                let slot = slot_of[j];
                if slot == NONE {
                    continue;
                }
                let child = slots[slot as usize].5;
                if child != NONE {
                    node_of[i as usize] = child;
                    next_alive.push(i);
                }
            }
            alive = next_alive;
        }
        nodes
    }
}

/// Frame names, interned (the same name from the base and the profile is
/// one frame).
#[derive(Default)]
struct Names {
    list: Vec<String>,
    index: FxHashMap<String, u32>,
}

impl Names {
    fn intern(&mut self, s: String) -> u32 {
        if let Some(&i) = self.index.get(&s) {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(s.clone());
        self.index.insert(s, i);
        i
    }
}

/// A value, divided by its count for `-mean`.
fn value(v: i64, div: i64) -> i64 {
    if div != 0 {
        v.wrapping_div(div)
    } else {
        v
    }
}

/// What the page needs besides the tree.
pub struct FlameJson {
    pub json: String,
    /// Nodes sent.
    pub sent: usize,
}

/// The call tree of a prepared `flame` report (and of its base, for a
/// comparison) as JSON: `{"names": [...], "unit": .., "ratio": ..,
/// "diff": bool, "total": .., "threshold": .., "root": NODE}` where a NODE
/// is `[name, value, self, pruned, before, [NODE...]]`.
pub fn flame_json(rpt: &mut Report) -> FlameJson {
    let mut names = Names::default();
    let mut base = rpt.base.take();
    let diff = base.is_some();
    let nodes = {
        let mut stacks = Stacks::default();
        if let Some(b) = base.as_deref_mut() {
            // The profile holds current - base: adding the base back gives
            // the current values.
            stacks.add(b, &mut names, true);
        }
        stacks.add(rpt, &mut names, false);
        let (total, threshold) = stacks.fill(names.list.len());
        (stacks.tree(threshold), total, threshold)
    };
    let (nodes, total, threshold) = nodes;
    rpt.base = base;
    let ratio = if rpt.opts.ratio > 0.0 {
        rpt.opts.ratio
    } else {
        1.0
    };
    let mut out = String::with_capacity(1 << 16);
    // Names used by the sent nodes, renumbered.
    let mut used: FxHashMap<u32, u32> = FxHashMap::default();
    let mut used_names: Vec<u32> = Vec::new();
    let mut body = String::with_capacity(1 << 16);
    write_tree(&nodes, ratio, &mut used, &mut used_names, &mut body);
    out.push_str("{\"names\":[");
    for (i, &n) in used_names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_str(&mut out, &names.list[n as usize]);
    }
    out.push_str("],\"unit\":");
    push_json_str(&mut out, &rpt.opts.sample_unit);
    out.push_str(",\"type\":");
    push_json_str(&mut out, &rpt.opts.sample_type);
    out.push_str(&format!(
        ",\"ratio\":{ratio},\"diff\":{diff},\"total\":{},\"threshold\":{},\"root\":",
        scaled(total, ratio),
        scaled(threshold, ratio)
    ));
    out.push_str(&body);
    out.push('}');
    FlameJson {
        json: out,
        sent: nodes.len(),
    }
}

fn scaled(v: i64, ratio: f64) -> i64 {
    if ratio != 1.0 {
        (v as f64 * ratio) as i64
    } else {
        v
    }
}

/// Writes the tree depth first without recursion (call paths can be
/// deep): `[name, value, self, pruned, before, [children]]`.
fn write_tree(
    nodes: &[Node],
    ratio: f64,
    used: &mut FxHashMap<u32, u32>,
    used_names: &mut Vec<u32>,
    out: &mut String,
) {
    use std::fmt::Write;
    // Open: write a node and push its closing; Close: end its children.
    enum Step {
        Open(u32, bool),
        Close,
    }
    let mut stack = vec![Step::Open(0, true)];
    while let Some(step) = stack.pop() {
        let (n, first) = match step {
            Step::Close => {
                out.push_str("]]");
                continue;
            }
            Step::Open(n, first) => (n, first),
        };
        if !first {
            out.push(',');
        }
        let node = &nodes[n as usize];
        let name_field = if n == 0 {
            -1
        } else {
            *used.entry(node.name).or_insert_with(|| {
                used_names.push(node.name);
                (used_names.len() - 1) as u32
            }) as i64
        };
        let cum = value(node.cum, node.cum_div).max(0);
        let flat = value(node.flat, node.flat_div).max(0);
        let _ = write!(
            out,
            "[{name_field},{},{},{},{},[",
            scaled(cum, ratio),
            scaled(flat, ratio),
            scaled(node.pruned, ratio),
            scaled(node.before.max(0), ratio)
        );
        // Widest first; equal widths by name id for a stable drawing.
        let mut kids: Vec<(i64, u32)> = node
            .children
            .iter()
            .map(|&c| {
                let k = &nodes[c as usize];
                (value(k.cum, k.cum_div).max(0), c)
            })
            .collect();
        kids.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then(nodes[a.1 as usize].name.cmp(&nodes[b.1 as usize].name))
        });
        stack.push(Step::Close);
        for (i, &(_, c)) in kids.iter().enumerate().rev() {
            stack.push(Step::Open(c, i == 0));
        }
    }
}
