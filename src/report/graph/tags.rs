//! Sample labels per node: pprof's LabelTags and NumericTags, which
//! drawings show as nodelets.

use super::build::NodeTable;
use super::{FastMap, ValueSel, NONE};
use crate::profile::{Profile, StrId};

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
        super::divided(self.flat, self.flat_div)
    }

    pub fn cum_value(&self) -> i64 {
        super::divided(self.cum, self.cum_div)
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
pub(super) struct Tagger<'a> {
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
    pub(super) fn new(p: &Profile, spec: &'a TagSpec) -> Tagger<'a> {
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
    pub(super) fn sample_tags(&mut self, p: &Profile, i: usize) -> u32 {
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

    pub(super) fn add(&mut self, node: u32, sig: u32, w: i64, dw: i64, flat: bool) {
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

    pub(super) fn finish(self, n_nodes: usize) -> Vec<NodeTags> {
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
/// `samples` lists the samples to read (all when None); lists of
/// `min_split` samples or more ([`split_from`]) are read in two halves on
/// two threads and their tags added.
pub(super) fn collect_tags(
    p: &Profile,
    table: &NodeTable,
    sel: ValueSel,
    kept: Option<&[bool]>,
    spec: &TagSpec,
    samples: Option<&[u32]>,
    min_split: usize,
) -> Vec<NodeTags> {
    let n = samples.map_or(p.samples.len(), <[u32]>::len);
    let part = |range: std::ops::Range<usize>| SampleList { samples, range };
    let within =
        |range| collect_tags_within(p, table, sel, kept, spec, part(range), Sums::MOST_CELLS);
    if n < min_split || p.samples.labels.is_empty() {
        return within(0..n);
    }
    let mid = n / 2;
    let (a, b) = std::thread::scope(|scope| {
        let h = scope.spawn(|| within(mid..n));
        let a = within(0..mid);
        (a, h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    a.into_iter()
        .zip(b)
        .map(|(mut a, b)| {
            add_tags(&mut a, b);
            a
        })
        .collect()
}

/// The sample count from which [`collect_tags`] splits its work (none on
/// one core).
pub(super) fn split_from() -> usize {
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    if threads > 1 {
        50_000
    } else {
        usize::MAX
    }
}

/// Positions `range` of a sample list (of all samples when None).
struct SampleList<'s> {
    samples: Option<&'s [u32]>,
    range: std::ops::Range<usize>,
}

impl Iterator for SampleList<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        let k = self.range.next()?;
        match self.samples {
            None => Some(k),
            Some(list) => list.get(k).map(|&i| i as usize),
        }
    }
}

/// Adds a later part's tags of a node to an earlier part's: sums added, a
/// numeric tag's value the earlier part's when it has the tag (the first
/// value seen, as one pass over both parts keeps).
fn add_tags(a: &mut NodeTags, b: NodeTags) {
    fn add_list(a: &mut Vec<Tag>, b: Vec<Tag>) {
        for t in b {
            match a.binary_search_by(|x| x.name.cmp(&t.name)) {
                Ok(i) => {
                    let x = &mut a[i];
                    x.flat = x.flat.wrapping_add(t.flat);
                    x.flat_div = x.flat_div.wrapping_add(t.flat_div);
                    x.cum = x.cum.wrapping_add(t.cum);
                    x.cum_div = x.cum_div.wrapping_add(t.cum_div);
                }
                Err(i) => a.insert(i, t),
            }
        }
    }
    add_list(&mut a.labels, b.labels);
    for (set, tags) in b.numeric {
        match a.numeric.binary_search_by(|(s, _)| s.cmp(&set)) {
            Ok(i) => add_list(&mut a.numeric[i].1, tags),
            Err(i) => a.numeric.insert(i, (set, tags)),
        }
    }
}

/// [`collect_tags`] with at most `most_cells` sums per node and label list.
fn collect_tags_within(
    p: &Profile,
    table: &NodeTable,
    sel: ValueSel,
    kept: Option<&[bool]>,
    spec: &TagSpec,
    samples: impl Iterator<Item = usize>,
    most_cells: usize,
) -> Vec<NodeTags> {
    let n_keys = table.infos.len();
    if p.samples.labels.is_empty() {
        // No sample has a label: no node has a tag (and no pass is made).
        return vec![NodeTags::default(); n_keys];
    }
    let mut tagger = Tagger::new(p, spec);
    let mut sums = Sums::new(n_keys, most_cells);
    let mut node_seen = vec![NONE; n_keys];
    let mut keys = Vec::new();
    // With few nodes kept (a drawing's), most samples hold none: they are
    // passed over before their labels are looked up.
    let loc_kept = kept.map(|k| table.locations_holding(k));
    let s = &p.samples;
    for i in samples {
        let values = s.values(i);
        let w = values[sel.index];
        let dw = if sel.mean { values[0] } else { 0 };
        if w == 0 && dw == 0 {
            continue;
        }
        if let Some(lk) = &loc_kept {
            if !s.stack(i).iter().any(|&l| lk[l as usize]) {
                continue;
            }
        }
        let sig = tagger.sample_tags(p, i);
        let stamp = i as u32;
        let mut leaf = NONE;
        let mut residual = false;
        // Outermost frame first. The keys are gathered first, as in the
        // values pass: lookups, then counters.
        for &n in table.gather(s.stack(i), &mut keys).iter().rev() {
            if kept.is_some_and(|k| !k[n as usize]) {
                residual = true;
                continue;
            }
            if node_seen[n as usize] != stamp {
                node_seen[n as usize] = stamp;
                sums.add(&mut tagger, n, sig, w, dw, false);
            }
            leaf = n;
            residual = false;
        }
        if leaf != NONE && !residual {
            sums.add(&mut tagger, leaf, sig, w, dw, true);
        }
    }
    sums.flush(&mut tagger);
    tagger.finish(n_keys)
}

/// [`collect_tags`]'s sums per node and label list, in an array per label
/// list (there are few, usually), handed to the tagger at the end in the
/// order first seen (so the tags are the ones adding each sample gives):
/// one hash-map update per frame was most of a drawing's time when every
/// sample holds the drawn nodes. Past `most_cells` (many label lists),
/// samples go to the tagger one by one.
struct Sums {
    n_keys: usize,
    most_cells: usize,
    /// Per signature, per node: its entry in `acc` (NONE: none yet).
    cells: Vec<Vec<u32>>,
    /// (node, signature, [cum, cum_div, flat, flat_div]), first seen first.
    acc: Vec<(u32, u32, [i64; 4])>,
    direct: bool,
}

impl Sums {
    const MOST_CELLS: usize = 1 << 22;

    fn new(n_keys: usize, most_cells: usize) -> Sums {
        Sums {
            n_keys,
            most_cells,
            cells: Vec::new(),
            acc: Vec::new(),
            direct: false,
        }
    }

    fn add(&mut self, tagger: &mut Tagger, n: u32, sig: u32, w: i64, dw: i64, flat: bool) {
        let s = sig as usize;
        if !self.direct && self.cells.get(s).is_none_or(|c| c.is_empty()) {
            if (s + 1).saturating_mul(self.n_keys) > self.most_cells {
                self.flush(tagger);
                self.direct = true;
            } else {
                if self.cells.len() <= s {
                    self.cells.resize_with(s + 1, Vec::new);
                }
                self.cells[s] = vec![NONE; self.n_keys];
            }
        }
        if self.direct {
            return tagger.add(n, sig, w, dw, flat);
        }
        let cell = &mut self.cells[s][n as usize];
        if *cell == NONE {
            *cell = self.acc.len() as u32;
            self.acc.push((n, sig, [0; 4]));
        }
        let a = &mut self.acc[*cell as usize].2;
        let k = if flat { 2 } else { 0 };
        a[k] = a[k].wrapping_add(w);
        a[k + 1] = a[k + 1].wrapping_add(dw);
    }

    fn flush(&mut self, tagger: &mut Tagger) {
        for (n, sig, [cum, cum_div, flat, flat_div]) in self.acc.drain(..) {
            tagger.add(n, sig, cum, cum_div, false);
            if flat != 0 || flat_div != 0 {
                tagger.add(n, sig, flat, flat_div, true);
            }
        }
        self.cells.clear();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags summed per label list equal tags added sample by sample, also
    /// when the sums run out of room part way.
    #[test]
    fn summed_tags_equal_added_ones() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/go/current.heap");
        let p = crate::profile::load(std::path::Path::new(path)).expect("fixture");
        let table = NodeTable::new(&p, false);
        let spec = TagSpec {
            bytes_unit: "B".into(),
            output_unit: "MB".into(),
        };
        let show = |t: &[NodeTags]| format!("{t:?}");
        for index in 0..p.sample_types.len() {
            let sel = ValueSel { index, mean: false };
            let kept: Vec<bool> = (0..table.infos.len()).map(|k| k % 3 != 1).collect();
            for kept in [None, Some(kept.as_slice())] {
                let all = 0..p.samples.len();
                let one_by_one = collect_tags_within(&p, &table, sel, kept, &spec, all.clone(), 0);
                assert!(one_by_one.iter().any(|t| !t.numeric.is_empty()));
                for most in [table.infos.len() * 2, Sums::MOST_CELLS] {
                    let summed =
                        collect_tags_within(&p, &table, sel, kept, &spec, all.clone(), most);
                    assert_eq!(show(&summed), show(&one_by_one), "{index} {most}");
                }
                // In two halves, all samples or a list of some.
                let halves = collect_tags(&p, &table, sel, kept, &spec, None, 0);
                assert_eq!(show(&halves), show(&one_by_one), "{index} halves");
                let some: Vec<u32> = (0..p.samples.len() as u32).filter(|i| i % 4 != 2).collect();
                let listed = some.iter().map(|&i| i as usize);
                let want = collect_tags_within(&p, &table, sel, kept, &spec, listed, 0);
                let halves = collect_tags(&p, &table, sel, kept, &spec, Some(&some), 0);
                assert_eq!(show(&halves), show(&want), "{index} listed halves");
            }
        }
    }
}
