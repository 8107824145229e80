//! The flame graph view's data: the prepared `flame` report's samples as a
//! call tree (root first, one node per distinct call path), pruned and
//! written as JSON for the page's icicle drawing.
//!
//! Pruning: a frame narrower than `total / PRUNE_DIVISOR` (under a pixel
//! when the graph is 2000 pixels wide) is not sent. Totals stay exact: a
//! node's value always includes its pruned callees, and the sum of those
//! is sent as the node's `pruned` figure, drawn as a hatched "other" part
//! next to its callees. Small profiles lose nothing.

use rustc_hash::FxHashMap;

use super::escape::push_json_str;
use crate::report::Report;

/// Frames below `total / PRUNE_DIVISOR` are aggregated into their parent.
pub const PRUNE_DIVISOR: i64 = 2000;

struct Node {
    key: u32,
    /// Width: the current profile's value (for a comparison, current =
    /// the difference plus the base).
    cum: i64,
    cum_div: i64,
    flat: i64,
    flat_div: i64,
    /// The base's value, for a comparison.
    before: i64,
    children: Vec<u32>,
}

/// A call tree over node keys of one report's node table.
struct Tree {
    nodes: Vec<Node>,
    index: FxHashMap<(u32, u32), u32>,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: vec![Node {
                key: u32::MAX,
                cum: 0,
                cum_div: 0,
                flat: 0,
                flat_div: 0,
                before: 0,
                children: Vec::new(),
            }],
            index: FxHashMap::default(),
        }
    }

    fn child(&mut self, parent: u32, key: u32) -> u32 {
        if let Some(&c) = self.index.get(&(parent, key)) {
            return c;
        }
        let c = self.nodes.len() as u32;
        self.nodes.push(Node {
            key,
            cum: 0,
            cum_div: 0,
            flat: 0,
            flat_div: 0,
            before: 0,
            children: Vec::new(),
        });
        self.nodes[parent as usize].children.push(c);
        self.index.insert((parent, key), c);
        c
    }

    /// Adds a report's samples: `cur` to widths, `before` to base values.
    fn add(&mut self, rpt: &mut Report, names: &mut Names, cur: bool, before: bool) {
        let table = rpt.node_table();
        let p = &rpt.prof;
        let sel = rpt.opts.sample;
        // Identical stacks first (real profiles repeat them a lot).
        let mut by_stack: FxHashMap<&[u32], (i64, i64)> = FxHashMap::default();
        let s = &p.samples;
        for i in 0..s.len() {
            let values = s.values(i);
            let (w, d) = (values[sel.index], if sel.mean { values[0] } else { 0 });
            let acc = by_stack.entry(s.stack(i)).or_insert((0, 0));
            acc.0 = acc.0.wrapping_add(w);
            acc.1 = acc.1.wrapping_add(d);
        }
        let key_map: Vec<u32> = table
            .infos
            .iter()
            .map(|info| names.intern(info.printable_name(p)))
            .collect();
        for (stack, (w, d)) in by_stack {
            let mut node = 0u32;
            let mut any = false;
            for &loc in stack.iter().rev() {
                for &k in table.frames(loc).iter().rev() {
                    node = self.child(node, key_map[k as usize]);
                    let n = &mut self.nodes[node as usize];
                    if cur {
                        n.cum = n.cum.wrapping_add(w);
                        n.cum_div = n.cum_div.wrapping_add(d);
                    }
                    if before {
                        n.before = n.before.wrapping_add(w);
                    }
                    any = true;
                }
            }
            if any {
                let n = &mut self.nodes[node as usize];
                if cur {
                    n.flat = n.flat.wrapping_add(w);
                    n.flat_div = n.flat_div.wrapping_add(d);
                }
                let r = &mut self.nodes[0];
                if cur {
                    r.cum = r.cum.wrapping_add(w);
                    r.cum_div = r.cum_div.wrapping_add(d);
                }
                if before {
                    r.before = r.before.wrapping_add(w);
                }
            }
        }
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
    /// Nodes sent and nodes in the full tree.
    pub sent: usize,
    pub all: usize,
}

/// The call tree of a prepared `flame` report (and of its base, for a
/// comparison) as JSON: `{"names": [...], "unit": .., "ratio": ..,
/// "diff": bool, "total": .., "threshold": .., "root": NODE}` where a NODE
/// is `[name, value, self, pruned, before, [NODE...]]`.
pub fn flame_json(rpt: &mut Report) -> FlameJson {
    let mut names = Names::default();
    let mut tree = Tree::new();
    let mut base = rpt.base.take();
    let diff = base.is_some();
    if let Some(b) = base.as_deref_mut() {
        // The profile holds current - base: adding the base back gives the
        // current values.
        tree.add(b, &mut names, true, true);
    }
    tree.add(rpt, &mut names, true, false);
    rpt.base = base;
    let root = &tree.nodes[0];
    let total = value(root.cum, root.cum_div).max(0);
    let threshold = (total / PRUNE_DIVISOR).max(1);
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
    let mut sent = 0usize;
    write_node(
        &tree,
        0,
        threshold,
        ratio,
        &mut used,
        &mut used_names,
        &mut body,
        &mut sent,
    );
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
        sent,
        all: tree.nodes.len(),
    }
}

fn scaled(v: i64, ratio: f64) -> i64 {
    if ratio != 1.0 {
        (v as f64 * ratio) as i64
    } else {
        v
    }
}

#[allow(clippy::too_many_arguments)]
fn write_node(
    tree: &Tree,
    n: u32,
    threshold: i64,
    ratio: f64,
    used: &mut FxHashMap<u32, u32>,
    used_names: &mut Vec<u32>,
    out: &mut String,
    sent: &mut usize,
) {
    use std::fmt::Write;
    *sent += 1;
    let node = &tree.nodes[n as usize];
    let name = if n == 0 {
        u32::MAX
    } else {
        *used.entry(node.key).or_insert_with(|| {
            used_names.push(node.key);
            (used_names.len() - 1) as u32
        })
    };
    let cum = value(node.cum, node.cum_div).max(0);
    let flat = value(node.flat, node.flat_div).max(0);
    let mut kids: Vec<(i64, u32)> = node
        .children
        .iter()
        .map(|&c| {
            let k = &tree.nodes[c as usize];
            (value(k.cum, k.cum_div).max(0), c)
        })
        .collect();
    let mut pruned = 0i64;
    kids.retain(|&(v, _)| {
        let keep = v >= threshold;
        if !keep {
            pruned = pruned.wrapping_add(v);
        }
        keep
    });
    // Widest first; equal widths by name for a stable drawing.
    kids.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let name_field = if n == 0 { -1 } else { name as i64 };
    let _ = write!(
        out,
        "[{name_field},{},{},{},{},[",
        scaled(cum, ratio),
        scaled(flat, ratio),
        scaled(pruned, ratio),
        scaled(node.before.max(0), ratio)
    );
    for (i, &(_, c)) in kids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_node(tree, c, threshold, ratio, used, used_names, out, sent);
    }
    out.push_str("]]");
}
