//! The in-memory profile: compact and index-based.
//!
//! Strings are interned once ([`StrId`]); locations, functions and mappings
//! refer to each other by position in their tables; samples live in flat
//! arrays so a million samples cost a handful of allocations, not millions.

use std::sync::Arc;

/// A location's lines: one (the common case) is held inline.
pub type Lines = smallvec::SmallVec<[Line; 1]>;

/// Index into [`Strings`]. 0 is always the empty string.
pub type StrId = u32;

/// Interned strings: each distinct string is stored once, all of them in
/// one buffer (no allocation per string), found through a table of ids.
#[derive(Clone)]
pub struct Strings {
    text: String,
    /// String `i` is `text[ends[i - 1]..ends[i]]` (`ends[-1]` = 0).
    ends: Vec<usize>,
    index: hashbrown::HashTable<StrId>,
}

impl PartialEq for Strings {
    /// The same strings under the same ids (the index follows from them).
    fn eq(&self, other: &Strings) -> bool {
        self.ends == other.ends && self.text == other.text
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One seeded hash for every string table of the process (profile text is
/// untrusted input), so that a string's hash is the same in any table.
pub(crate) fn str_hash(s: &str) -> u64 {
    use std::hash::BuildHasher;
    static STATE: std::sync::OnceLock<foldhash::fast::FixedState> = std::sync::OnceLock::new();
    STATE
        .get_or_init(|| {
            let seed = std::collections::hash_map::RandomState::new().hash_one(0x5eed_u64);
            foldhash::fast::FixedState::with_seed(seed)
        })
        .hash_one(s)
}

impl Default for Strings {
    fn default() -> Self {
        let mut s = Strings {
            text: String::new(),
            ends: Vec::new(),
            index: hashbrown::HashTable::new(),
        };
        s.intern("");
        s
    }
}

impl Strings {
    /// Room for `n` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, n: usize, bytes: usize) {
        self.text.reserve(bytes);
        self.ends.reserve(n);
        let ends = &self.ends;
        let text = &self.text;
        self.index
            .reserve(n, |&id| str_hash(Self::slice(text, ends, id)));
    }

    /// Where string `id` is in the text: (start, end).
    fn span_in(ends: &[usize], id: StrId) -> (usize, usize) {
        let i = id as usize;
        (if i == 0 { 0 } else { ends[i - 1] }, ends[i])
    }

    fn slice<'a>(text: &'a str, ends: &[usize], id: StrId) -> &'a str {
        let (start, end) = Self::span_in(ends, id);
        &text[start..end]
    }

    /// Appends `s` to the text under the next id (the index untouched).
    fn append(text: &mut String, ends: &mut Vec<usize>, s: &str) -> StrId {
        let id = ends.len() as StrId;
        text.push_str(s);
        ends.push(text.len());
        id
    }

    pub fn intern(&mut self, s: &str) -> StrId {
        let hash = str_hash(s);
        let (text, ends) = (&self.text, &self.ends);
        let entry = self.index.entry(
            hash,
            |&id| Self::slice(text, ends, id) == s,
            |&id| str_hash(Self::slice(text, ends, id)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(e) => {
                let id = Self::append(&mut self.text, &mut self.ends, s);
                e.insert(id);
                id
            }
        }
    }

    pub fn get(&self, id: StrId) -> &str {
        if (id as usize) < self.ends.len() {
            Self::slice(&self.text, &self.ends, id)
        } else {
            ""
        }
    }

    /// Appends `s` under a new id without indexing it ([`Strings::find`]
    /// and [`Strings::intern`] do not see it): for a table kept as listed
    /// in a file, whose strings are only read by id.
    pub(crate) fn push_unindexed(&mut self, s: &str) -> StrId {
        Self::append(&mut self.text, &mut self.ends, s)
    }

    /// Where string `id` is in [`Strings::text`]: (start, end).
    pub(crate) fn span(&self, id: StrId) -> (usize, usize) {
        Self::span_in(&self.ends, id)
    }

    /// Every string, one after the other.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    pub fn find(&self, s: &str) -> Option<StrId> {
        self.index
            .find(str_hash(s), |&id| self.get(id) == s)
            .copied()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Every string in id order (id 0, the empty string, first), as the
    /// profile format's string table lists them.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.ends.len()).map(|i| Self::slice(&self.text, &self.ends, i as StrId))
    }

    pub fn is_empty(&self) -> bool {
        self.ends.len() <= 1
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ValueType {
    pub ty: StrId,
    pub unit: StrId,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    pub id: u64,
    pub start: u64,
    pub limit: u64,
    pub offset: u64,
    pub file: StrId,
    pub build_id: StrId,
    pub has_functions: bool,
    pub has_filenames: bool,
    pub has_line_numbers: bool,
    pub has_inline_frames: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Function {
    pub id: u64,
    pub name: StrId,
    pub system_name: StrId,
    pub filename: StrId,
    pub start_line: i64,
}

/// One frame of a location: a function and a line in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Line {
    /// Index into [`Profile::functions`].
    pub function: u32,
    pub line: i64,
    pub column: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Location {
    pub id: u64,
    /// Index into [`Profile::mappings`].
    pub mapping: Option<u32>,
    pub address: u64,
    /// Innermost (inlined callee) first, caller last, as in the format.
    pub lines: Lines,
    pub is_folded: bool,
}

/// A sample label: a string label when `str != 0`, else a numeric one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Label {
    pub key: StrId,
    pub str: StrId,
    pub num: i64,
    pub unit: StrId,
}

impl Label {
    pub fn is_numeric(&self) -> bool {
        self.str == 0
    }
}

/// All samples, stored column-wise in flat arrays.
#[derive(Clone, Debug)]
pub struct SampleData {
    /// Values per sample (= number of sample types).
    pub width: usize,
    /// `width` values per sample, sample after sample.
    pub values: Vec<i64>,
    /// Sample `i`'s stack is `locs[loc_start[i]..loc_start[i + 1]]`, leaf first.
    pub loc_start: Vec<u32>,
    /// Indexes into [`Profile::locations`].
    pub locs: Vec<u32>,
    /// Sample `i`'s labels are `labels[label_start[i]..label_start[i + 1]]`.
    pub label_start: Vec<u32>,
    pub labels: Vec<Label>,
}

impl SampleData {
    pub fn new(width: usize) -> Self {
        SampleData {
            width,
            values: Vec::new(),
            loc_start: vec![0],
            locs: Vec::new(),
            label_start: vec![0],
            labels: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.loc_start.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn values(&self, i: usize) -> &[i64] {
        &self.values[i * self.width..(i + 1) * self.width]
    }

    pub fn stack(&self, i: usize) -> &[u32] {
        &self.locs[self.loc_start[i] as usize..self.loc_start[i + 1] as usize]
    }

    pub fn labels(&self, i: usize) -> &[Label] {
        &self.labels[self.label_start[i] as usize..self.label_start[i + 1] as usize]
    }

    /// Appends a sample; the slices are copied into the flat arrays.
    pub fn push(&mut self, values: &[i64], stack: &[u32], labels: &[Label]) {
        self.values.extend_from_slice(values);
        self.locs.extend_from_slice(stack);
        self.loc_start.push(self.locs.len() as u32);
        self.labels.extend_from_slice(labels);
        self.label_start.push(self.labels.len() as u32);
    }
}

/// The samples of a profile, shared between copies of the profile until
/// one of them changes them: a report's working copy costs nothing unless
/// a filter rewrites samples.
#[derive(Clone, Debug)]
pub struct Samples(Arc<SampleData>);

impl Default for Samples {
    fn default() -> Self {
        Samples::new(0)
    }
}

impl std::ops::Deref for Samples {
    type Target = SampleData;
    fn deref(&self) -> &SampleData {
        &self.0
    }
}

impl From<SampleData> for Samples {
    fn from(d: SampleData) -> Self {
        Samples(Arc::new(d))
    }
}

impl Samples {
    /// A weak reference to these shared sample arrays: it upgrades to the
    /// same arrays (not just equal ones) while any copy holds them.
    pub fn downgrade(&self) -> std::sync::Weak<SampleData> {
        Arc::downgrade(&self.0)
    }

    /// Whether `w` refers to these very arrays.
    pub fn is(&self, w: &std::sync::Weak<SampleData>) -> bool {
        std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.0))
    }

    pub fn new(width: usize) -> Self {
        SampleData::new(width).into()
    }

    /// Whether both are the very same samples (not merely equal ones).
    pub fn same(&self, other: &Samples) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn data_mut(&mut self) -> &mut SampleData {
        Arc::make_mut(&mut self.0)
    }

    pub fn values_mut(&mut self, i: usize) -> &mut [i64] {
        let d = self.data_mut();
        let w = d.width;
        &mut d.values[i * w..(i + 1) * w]
    }

    /// Appends a sample; the slices are copied into the flat arrays.
    pub fn push(&mut self, values: &[i64], stack: &[u32], labels: &[Label]) {
        self.data_mut().push(values, stack, labels);
    }

    /// Combines samples with the same stack and labels (values summed into
    /// the first) and drops all-zero ones, compacting the arrays in place.
    pub fn dedupe(&mut self) {
        let d = self.data_mut();
        let n = d.len();
        let w = d.width;
        let hashes = crate::profile::merge::SampleIndex::hashes(d, 0..n);
        // Only samples whose hash is shared can be duplicates: find those
        // hashes by sorting (cheaper than a table of every sample); most
        // profiles have none, and no all-zero sample: nothing to do.
        let shared: rustc_hash::FxHashSet<u64> = {
            let mut sorted = hashes.clone();
            sorted.sort_unstable();
            sorted
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect()
        };
        if shared.is_empty() && (0..n).all(|i| d.values(i).iter().any(|&v| v != 0)) {
            return;
        }
        // Sized for every sample only now (most profiles returned above).
        let mut index = crate::profile::merge::SampleIndex::new(n);
        let mut scratch = Vec::new();
        // Write cursors; they never pass the read position, so reading
        // sample r (whose bounds are saved before being overwritten) is safe.
        let (mut ws, mut wl, mut wlab) = (0usize, 0usize, 0usize);
        let (mut start, mut lab_start) = (0usize, 0usize);
        for (r, &hash) in hashes.iter().enumerate() {
            let end = d.loc_start[r + 1] as usize;
            let lab_end = d.label_start[r + 1] as usize;
            let zero = d.values[r * w..(r + 1) * w].iter().all(|&v| v == 0);
            if !zero {
                // Register the compacted copy so later duplicates find it
                // (nothing moves until a sample has been dropped).
                if ws != r {
                    d.values.copy_within(r * w..(r + 1) * w, ws * w);
                    d.locs.copy_within(start..end, wl);
                    d.labels.copy_within(lab_start..lab_end, wlab);
                }
                let (nl, nlab) = (wl + end - start, wlab + lab_end - lab_start);
                d.loc_start[ws + 1] = nl as u32;
                d.label_start[ws + 1] = nlab as u32;
                let found = if shared.contains(&hash) {
                    index.find_or_insert(d, ws, hash, &mut scratch)
                } else {
                    index.skip();
                    None
                };
                match found {
                    Some(j) => {
                        let j = j as usize;
                        for k in 0..w {
                            d.values[j * w + k] =
                                d.values[j * w + k].wrapping_add(d.values[ws * w + k]);
                        }
                    }
                    None => {
                        ws += 1;
                        wl = nl;
                        wlab = nlab;
                    }
                }
            }
            start = end;
            lab_start = lab_end;
        }
        d.values.truncate(ws * w);
        d.locs.truncate(wl);
        d.labels.truncate(wlab);
        d.loc_start.truncate(ws + 1);
        d.label_start.truncate(ws + 1);
        // Duplicates can sum to zero: drop those too.
        if (0..ws).any(|i| d.values(i).iter().all(|&v| v == 0)) {
            let keep: Vec<bool> = (0..self.len())
                .map(|i| self.values(i).iter().any(|&v| v != 0))
                .collect();
            self.retain_map(|i, stack, out| {
                out.extend_from_slice(stack);
                keep[i]
            });
        }
    }

    /// Keeps the samples for which `keep` returns a stack (possibly shortened
    /// or rewritten through the scratch buffer it is given).
    pub fn retain_map<F>(&mut self, mut keep: F)
    where
        F: FnMut(usize, &[u32], &mut Vec<u32>) -> bool,
    {
        let mut out = super::reserve::room_for(self);
        let mut scratch = Vec::new();
        for i in 0..self.len() {
            scratch.clear();
            if keep(i, self.stack(i), &mut scratch) {
                out.push(self.values(i), &scratch, self.labels(i));
            }
        }
        // Room for every sample, and a filter may keep a few: the rest
        // goes back (a report keeps its samples as long as it is cached).
        if out.locs.len() < out.locs.capacity() / 2 {
            out.values.shrink_to_fit();
            out.loc_start.shrink_to_fit();
            out.locs.shrink_to_fit();
            out.label_start.shrink_to_fit();
            out.labels.shrink_to_fit();
        }
        *self = out.into();
    }
}

/// A decoded (and, once loaded, merged) profile.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    pub strings: Strings,
    pub sample_types: Vec<ValueType>,
    pub default_sample_type: StrId,
    pub samples: Samples,
    pub mappings: Vec<Mapping>,
    pub locations: Vec<Location>,
    pub functions: Vec<Function>,
    pub drop_frames: StrId,
    pub keep_frames: StrId,
    pub time_nanos: i64,
    pub duration_nanos: i64,
    pub period_type: ValueType,
    pub period: i64,
    pub comments: Vec<StrId>,
    /// The -base/-diff_base profiles as loaded (merged, not negated), for
    /// reports that show both sides (differential flame graphs).
    pub base: Option<std::sync::Arc<Profile>>,
}

impl Profile {
    pub fn str(&self, id: StrId) -> &str {
        self.strings.get(id)
    }

    /// Sample type names in order (`alloc_objects`, `alloc_space`, ...).
    pub fn sample_type_names(&self) -> Vec<&str> {
        self.sample_types.iter().map(|t| self.str(t.ty)).collect()
    }

    /// Resolves a `sample_index` option: empty means the default sample type
    /// (or the last one), a number is an index, otherwise a type name, with
    /// a leading `inuse_` optional for legacy `space`/`objects` profiles.
    pub fn sample_index(&self, spec: &str) -> Result<usize, String> {
        let names = self.sample_type_names();
        if names.is_empty() {
            return Err("profile has no samples".into());
        }
        if spec.is_empty() {
            let dst = self.str(self.default_sample_type);
            if !dst.is_empty() {
                if let Some(i) = names.iter().position(|n| *n == dst) {
                    return Ok(i);
                }
            }
            return Ok(names.len() - 1);
        }
        if let Ok(i) = spec.parse::<i64>() {
            if i < 0 || i as usize >= names.len() {
                return Err(format!(
                    "sample_index {spec} is outside the range [0..{}]",
                    names.len() - 1
                ));
            }
            return Ok(i as usize);
        }
        let no_inuse = spec.strip_prefix("inuse_").unwrap_or(spec);
        names
            .iter()
            .position(|n| *n == spec || *n == no_inuse)
            .ok_or_else(|| {
                format!(
                    "sample_index {spec:?} must be one of: [{}]",
                    names.join(" ")
                )
            })
    }

    /// The function of a line.
    pub fn function(&self, line: &Line) -> &Function {
        &self.functions[line.function as usize]
    }

    /// The file of the mapping of a location, or "".
    pub fn mapping_file(&self, loc: &Location) -> &str {
        loc.mapping
            .and_then(|m| self.mappings.get(m as usize))
            .map_or("", |m| self.str(m.file))
    }

    /// Multiplies every value of every sample by `ratios[type]`, rounding,
    /// and drops samples that become all zero (where a ratio applied).
    pub fn scale_n(&mut self, ratios: &[f64]) {
        if ratios.iter().all(|&r| r == 1.0) {
            return;
        }
        let mut keep = vec![false; self.samples.len()];
        for (i, k) in keep.iter_mut().enumerate() {
            for (v, &r) in self.samples.values_mut(i).iter_mut().zip(ratios) {
                if r != 1.0 {
                    *v = (*v as f64 * r).round() as i64;
                    *k |= *v != 0;
                }
            }
        }
        self.samples.retain_map(|i, stack, out| {
            out.extend_from_slice(stack);
            keep[i]
        });
    }

    pub fn scale(&mut self, ratio: f64) {
        let ratios = vec![ratio; self.sample_types.len()];
        self.scale_n(&ratios);
    }

    /// Adds a string label to every sample (used to mark -diff_base samples).
    pub fn set_label(&mut self, key: &str, value: &str) {
        let key = self.strings.intern(key);
        let value = self.strings.intern(value);
        let old = std::mem::replace(&mut self.samples, Samples::new(self.sample_types.len()));
        let mut labels = Vec::new();
        for i in 0..old.len() {
            labels.clear();
            labels.extend(
                old.labels(i)
                    .iter()
                    .filter(|l| l.key != key || l.is_numeric()),
            );
            labels.push(Label {
                key,
                str: value,
                num: 0,
                unit: 0,
            });
            self.samples.push(old.values(i), old.stack(i), &labels);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(key: StrId, str: StrId) -> Label {
        Label {
            key,
            str,
            num: 0,
            unit: 0,
        }
    }

    #[test]
    fn dedupe_combines_identical_samples_in_place() {
        let mut s = Samples::new(2);
        s.push(&[1, 10], &[1, 2, 3], &[label(1, 2), label(3, 4)]);
        s.push(&[0, 0], &[9], &[]);
        s.push(&[2, 20], &[1, 2], &[]);
        // Same labels in another order: the same sample as the first.
        s.push(&[4, 40], &[1, 2, 3], &[label(3, 4), label(1, 2)]);
        s.push(&[5, 50], &[1, 2], &[label(1, 2)]);
        s.push(&[-2, -20], &[1, 2], &[]);
        s.dedupe();
        assert_eq!(s.len(), 2);
        assert_eq!((s.values(0), s.stack(0)), (&[5, 50][..], &[1, 2, 3][..]));
        assert_eq!(s.labels(0), &[label(1, 2), label(3, 4)]);
        assert_eq!((s.values(1), s.stack(1)), (&[5, 50][..], &[1, 2][..]));
        assert_eq!(s.labels(1), &[label(1, 2)]);
    }
}
