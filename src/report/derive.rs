//! A filtered report's node values and sample index from those of the
//! report its samples were filtered from (the web UI's unfiltered views,
//! prepared first): the parent's sums minus the samples the filter dropped
//! or rewrote, plus the rewritten ones, instead of a pass over all kept
//! samples. Sums wrap, so the result is exactly what the pass gives.

use std::sync::{Arc, OnceLock};

use super::graph::{self, Graph, Node, NONE};
use super::Report;

/// What a filter did to a profile's samples (see
/// `driver::prepare::prepare_report_from`).
#[derive(Clone, Debug, Default)]
pub struct Derivation {
    /// Parent sample → kept sample, for samples kept unchanged; [`NONE`]
    /// for samples dropped or rewritten.
    pub p2c: Vec<u32>,
    /// The kept samples that were rewritten (ascending).
    pub images: Vec<u32>,
    /// The parent samples dropped or rewritten (ascending).
    pub redo: Vec<u32>,
    /// Locations whose frames the filter changed.
    pub changed: Vec<bool>,
    /// The parent's node sums over `redo`, when the filter had them made
    /// while it copied the kept samples ([`Report::sums_of`]).
    pub dropped_sums: Option<DroppedSums>,
}

/// Node sums (`[cum, cum_div, flat, flat_div]` per key) of some samples,
/// with the table and selection they were counted with.
#[derive(Clone)]
pub struct DroppedSums {
    table: Arc<graph::NodeTable>,
    sel: graph::ValueSel,
    sums: Vec<[i64; 4]>,
}

impl std::fmt::Debug for DroppedSums {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DroppedSums({} keys)", self.sums.len())
    }
}

impl Report {
    /// Takes this (filtered) report's node values and sample index from
    /// `parent`'s when they are at hand and `parent` holds the samples
    /// `d` describes; otherwise leaves them to be computed.
    pub fn derive(&mut self, parent: &Report, mut d: Derivation) {
        let n_locs = self.prof.locations.len();
        if parent.prof.locations.len() != n_locs
            || d.changed.len() != n_locs
            || d.p2c.len() != parent.prof.samples.len()
        {
            return;
        }
        self.derive_values(parent, &mut d);
        if let Some(post) = graph::Postings::derived(
            parent.postings.clone(),
            d.p2c,
            d.images,
            d.changed,
            self.prof.samples.clone(),
        ) {
            self.postings = Arc::new(OnceLock::from(post));
        }
    }

    /// Builds the sample index now, where [`Report::prime`] would build it
    /// in the background (or not at all, for small profiles).
    pub fn index_samples(&mut self) {
        let n_locs = self.prof.locations.len();
        let samples = &self.prof.samples;
        self.postings
            .get_or_init(|| graph::Postings::new(samples, n_locs));
    }

    /// Whether node values are at hand, and whether the sample index is
    /// derived from a parent's (for tests of [`Report::derive`]).
    #[cfg(test)]
    pub(crate) fn derived_parts(&self) -> (bool, bool) {
        (
            self.values.is_some(),
            self.postings.get().is_some_and(|p| p.is_derived()),
        )
    }

    /// This report's node sums over `samples` (indexes into its samples),
    /// counted as its values graph counts them; None before that graph.
    pub fn sums_of(&self, samples: &[u32]) -> Option<DroppedSums> {
        let (Some((sel, _)), Some(table)) = (&self.values, &self.table) else {
            return None;
        };
        Some(DroppedSums {
            table: table.clone(),
            sel: *sel,
            sums: graph::sample_sums(&self.prof, table, *sel, samples),
        })
    }

    fn derive_values(&mut self, parent: &Report, d: &mut Derivation) {
        let sel = self.opts.sample;
        let (Some((psel, pvals)), Some(ptable)) = (&parent.values, &parent.table) else {
            return;
        };
        if *psel != sel {
            return;
        }
        // Not worth it when most samples were dropped: a pass over the
        // kept ones costs less.
        let kept = self.prof.samples.len();
        if d.redo.len() + d.images.len() >= kept {
            return;
        }
        let table = self.node_table_from(parent);
        // Parent node → node, through the locations the filter left alone
        // (their frames must be the same nodes).
        let mut key_map = vec![NONE; ptable.infos.len()];
        for l in 0..self.prof.locations.len() {
            if d.changed[l] {
                continue;
            }
            let (a, b) = (ptable.frames(l as u32), table.frames(l as u32));
            if a.len() != b.len() {
                return;
            }
            for (&x, &y) in a.iter().zip(b) {
                if ptable.infos[x as usize] != table.infos[y as usize] {
                    return;
                }
                let m = &mut key_map[x as usize];
                if *m != NONE && *m != y {
                    return;
                }
                *m = y;
            }
        }
        if pvals.arena.len() != ptable.infos.len() {
            return;
        }
        let early = d
            .dropped_sums
            .take()
            .filter(|e| e.sel == sel && Arc::ptr_eq(&e.table, ptable));
        let neg = match early {
            Some(e) => e.sums,
            None => graph::sample_sums(&parent.prof, ptable, sel, &d.redo),
        };
        let mut sums = graph::sample_sums(&self.prof, &table, sel, &d.images);
        for (k, n) in pvals.arena.iter().enumerate() {
            let v = [
                n.cum.wrapping_sub(neg[k][0]),
                n.cum_div.wrapping_sub(neg[k][1]),
                n.flat.wrapping_sub(neg[k][2]),
                n.flat_div.wrapping_sub(neg[k][3]),
            ];
            match key_map[k] {
                // Only in dropped or rewritten samples: nothing is left.
                NONE if v == [0; 4] => {}
                NONE => return,
                c => {
                    let s = &mut sums[c as usize];
                    for (a, b) in s.iter_mut().zip(v) {
                        *a = a.wrapping_add(b);
                    }
                }
            }
        }
        let arena: Vec<Node> = table
            .infos
            .iter()
            .zip(&sums)
            .map(|(&info, s)| Node {
                info,
                cum: s[0],
                cum_div: s[1],
                flat: s[2],
                flat_div: s[3],
                ins: Vec::new(),
                outs: Vec::new(),
            })
            .collect();
        // As a values pass lists them.
        let nodes = (0..arena.len() as u32)
            .filter(|&k| arena[k as usize].cum != 0 || arena[k as usize].flat != 0)
            .collect();
        let g = Graph {
            arena,
            edges: Vec::new(),
            nodes,
            tags: Vec::new(),
        };
        self.values = Some((sel, Arc::new(g)));
    }
}
