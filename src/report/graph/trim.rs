//! Trimming for drawings: pprof's entropy order, node counting with
//! nodelets, the tag and edge cutoffs and redundant residual edges.

use super::tags::{Tag, MAX_NODELETS};
use super::{FastMap, Graph};
use crate::profile::Profile;

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

    /// Live incoming edge indexes of a node.
    pub(super) fn live_ins(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        self.arena[n as usize]
            .ins
            .iter()
            .copied()
            .filter(|&e| !self.edges[e as usize].removed)
    }

    /// Live outgoing edge indexes of a node.
    pub(super) fn live_outs(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
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
