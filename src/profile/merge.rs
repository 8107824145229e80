//! Merging profiles: one string table, deduplicated mappings, functions,
//! locations and samples, values summed. Base subtraction is a merge with a
//! base scaled by -1.

use std::collections::hash_map::Entry;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use super::model::{
    Function, Label, Line, Location, Mapping, Profile, SampleData, Samples, StrId, Strings,
    ValueType,
};
use crate::units;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("no profiles to merge")]
    Empty,
    #[error("incompatible profiles: {0}")]
    Incompatible(String),
}

#[derive(PartialEq, Eq, Hash, Clone, Copy)]
struct MappingKey {
    size: u64,
    offset: u64,
    build_id_or_file: StrId,
}

impl MappingKey {
    /// pprof's key of mapping `m` (its size rounded up to pages), its
    /// strings already mapped to output ids.
    fn of(m: &Mapping, file: StrId, build_id: StrId) -> MappingKey {
        let size = m.limit.wrapping_sub(m.start).wrapping_add(0xfff);
        MappingKey {
            size: size - size % 0x1000,
            offset: m.offset,
            build_id_or_file: if build_id != 0 { build_id } else { file },
        }
    }
}

#[derive(PartialEq, Eq, Hash, Clone, Copy, Default)]
struct FunctionKey {
    start_line: i64,
    name: StrId,
    system_name: StrId,
    filename: StrId,
}

/// What identifies an output location, but for lines after the first.
#[derive(PartialEq, Eq, Clone, Copy, Default)]
struct LocKey {
    address: u64,
    line0: i64,
    func0: u32,
    mapping: u32,
    nlines: u32,
    folded: bool,
}

/// The merged profile's lookup tables (but the strings, which its
/// `Strings` index).
#[derive(Clone, Default)]
struct Tables {
    mappings: FxMap<MappingKey, u32>,
    functions: KeyTable<FunctionKey>,
    /// Output locations by key.
    locations: KeyTable<LocKey>,
    /// The lines after the first of each output location, (function, line),
    /// from where its slot says: a key match is checked here, in some
    /// hundred kB that stay in cache, not in the output location and its
    /// line list (two cache misses).
    tails: Vec<(u32, i64)>,
    hasher: foldhash::fast::FixedState,
}

struct Merger {
    out: Profile,
    t: Tables,
    line_scratch: Vec<Line>,
    /// Sample hash → first output sample with it; collisions chain via `next`.
    samples: FxMap<u64, u32>,
    next: Vec<u32>,
}

/// Per-source translation tables (source index → output index).
struct SourceMaps {
    strings: Vec<StrId>,
    mappings: Vec<Option<(u32, i64)>>,
    functions: Vec<Option<u32>>,
    /// NONE when not mapped yet (4 bytes a slot: the per-frame lookup
    /// stays in cache).
    locations: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl SourceMaps {
    /// Nothing mapped yet.
    fn new(src: &Profile) -> SourceMaps {
        SourceMaps {
            strings: vec![NONE; src.strings.len()],
            mappings: vec![None; src.mappings.len()],
            functions: vec![None; src.functions.len()],
            locations: vec![NONE; src.locations.len()],
        }
    }

    /// Whether these maps are sized for `src`'s tables.
    fn fits(&self, src: &Profile) -> bool {
        self.strings.len() == src.strings.len()
            && self.mappings.len() == src.mappings.len()
            && self.functions.len() == src.functions.len()
            && self.locations.len() == src.locations.len()
    }
}

/// Hash maps keyed by small integers and ids: FxHash is much faster than
/// SipHash there, and profiles are not adversarial to hashing here (a
/// collision costs time, never correctness).
type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

fn type_name(p: &Profile, t: &ValueType) -> String {
    format!("{}/{}", p.str(t.ty), p.str(t.unit))
}

fn compatible(a: &Profile, b: &Profile) -> Result<(), MergeError> {
    let same =
        |x: &ValueType, y: &ValueType| a.str(x.ty) == b.str(y.ty) && a.str(x.unit) == b.str(y.unit);
    if !same(&a.period_type, &b.period_type) {
        return Err(MergeError::Incompatible(format!(
            "period types {} and {} differ",
            type_name(a, &a.period_type),
            type_name(b, &b.period_type)
        )));
    }
    let list = |p: &Profile| {
        p.sample_types
            .iter()
            .map(|t| type_name(p, t))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if a.sample_types.len() != b.sample_types.len()
        || a.sample_types
            .iter()
            .zip(&b.sample_types)
            .any(|(x, y)| !same(x, y))
    {
        return Err(MergeError::Incompatible(format!(
            "sample types [{}] and [{}] differ",
            list(a),
            list(b)
        )));
    }
    Ok(())
}

/// Makes units of several profiles agree, converting each to the finest unit
/// used by any of them (e.g. one profile in ms and one in ns: all in ns).
pub fn scale_profiles(profiles: &mut [Profile]) -> Result<(), MergeError> {
    if profiles.len() <= 1 {
        return Ok(());
    }
    let finest = |types: Vec<(String, String)>| -> Result<(String, String), MergeError> {
        let mut min = types[0].clone();
        for t in &types[1..] {
            let (a, b) = (min.0.trim_end_matches('s'), t.0.trim_end_matches('s'));
            let ok = a == b && units::compatible_units(&min.1, &t.1);
            if !ok {
                return Err(MergeError::Incompatible(format!(
                    "types {}/{} and {}/{} differ",
                    min.0, min.1, t.0, t.1
                )));
            }
            if units::scale(1, &t.1, &min.1).0 < 1.0 {
                min = t.clone();
            }
        }
        Ok(min)
    };
    let owned = |p: &Profile, t: &ValueType| (p.str(t.ty).to_string(), p.str(t.unit).to_string());
    let period = finest(profiles.iter().map(|p| owned(p, &p.period_type)).collect())?;
    let n = profiles[0].sample_types.len();
    if profiles.iter().any(|p| p.sample_types.len() != n) {
        return Err(MergeError::Incompatible(
            "inconsistent sample type counts".into(),
        ));
    }
    let mut common = Vec::with_capacity(n);
    for i in 0..n {
        common.push(finest(
            profiles
                .iter()
                .map(|p| owned(p, &p.sample_types[i]))
                .collect(),
        )?);
    }
    for p in profiles.iter_mut() {
        let unit = p.str(p.period_type.unit).to_string();
        p.period = units::scale(p.period, &unit, &period.1).0 as i64;
        p.period_type.unit = p.strings.intern(&period.1);
        let mut ratios = Vec::with_capacity(n);
        for (i, (_, cu)) in common.iter().enumerate() {
            let unit = p.str(p.sample_types[i].unit).to_string();
            ratios.push(units::scale(1, &unit, cu).0);
            p.sample_types[i].unit = p.strings.intern(cu);
        }
        p.scale_n(&ratios);
    }
    Ok(())
}

/// Merges profiles of the same kind into one. Identical samples are combined
/// and all-zero samples dropped, as pprof does.
pub fn merge(srcs: &[Profile]) -> Result<Profile, MergeError> {
    let first = srcs.first().ok_or(MergeError::Empty)?;

    for s in &srcs[1..] {
        compatible(first, s)?;
    }
    let mut m = Merger::new(first);
    // Sized for the sum of the sources: no regrowth (and brief doubling)
    // of the largest arrays while appending.
    let mut data = SampleData::new(first.sample_types.len());
    data.values
        .reserve(srcs.iter().map(|s| s.samples.values.len()).sum());
    data.locs
        .reserve(srcs.iter().map(|s| s.samples.locs.len()).sum());
    data.labels
        .reserve(srcs.iter().map(|s| s.samples.labels.len()).sum());
    data.loc_start
        .reserve(srcs.iter().map(|s| s.samples.len()).sum());
    data.label_start
        .reserve(srcs.iter().map(|s| s.samples.len()).sum());
    m.out.samples = data.into();
    let mut seen_comments = Vec::new();
    for s in srcs {
        m.header(s, &mut seen_comments);
    }
    m.first_types(first);

    for src in srcs {
        m.add(src);
    }
    m.drop_zero_samples();
    Ok(m.out)
}

/// Merges profiles one at a time as they are loaded, so that a fleet of
/// profiles is never held in memory at once, with the result [`merge`]
/// gives on them all. Where that result would depend on sources not seen
/// yet (units to scale, header strings new to the merged table, an
/// incompatible profile), [`Streaming::add`] says so and the caller merges
/// the whole list with [`merge`] instead.
pub struct Streaming {
    m: Merger,
    /// The first profile's header (types, strings), for compatibility checks.
    first: Profile,
    seen_comments: Vec<String>,
    /// The size of the tables at the last [`Streaming::snapshot`].
    snapped: usize,
}

/// The merged tables at one point of a [`Streaming`] merge, for the threads
/// that load the next profiles: each looks its profile's strings, mappings,
/// functions and locations up here ([`Snapshot::resolve`]) before handing
/// it over, so that the merging thread (a fleet's critical path) only adds
/// what is new, and the samples. A merge only appends to its tables: what
/// a snapshot finds keeps its number.
pub struct Snapshot {
    t: Tables,
    strings: Strings,
    by_text: Option<KeyTable<StrKey>>,
    mappings: Vec<Mapping>,
}

/// A snapshot's strings by (hash, length), each slot with the string's id
/// and where its text starts: one lookup costs the slot and the text, both
/// fetched ahead, where the string table's own index costs four dependent
/// cache misses (control bytes, bucket, string end, text).
#[derive(Clone, Copy, Default, PartialEq)]
struct StrKey {
    hash: u64,
    len: u32,
}

/// [`StrKey`]s of every string of `strings` (their ids in order); None
/// when the text is too long for 32-bit offsets (lookups then use the
/// string table's index).
fn index_text(strings: &Strings) -> Option<KeyTable<StrKey>> {
    let text = strings.text();
    if text.len() > u32::MAX as usize || strings.len() >= NONE as usize {
        return None;
    }
    let mut index = KeyTable::default();
    for id in 0..strings.len() as StrId {
        let (start, end) = strings.span(id);
        let hash = super::model::str_hash(&text[start..end]);
        let len = (end - start) as u32;
        index.insert(hash, StrKey { hash, len }, id, start as u32);
    }
    Some(index)
}

/// What a [`Snapshot`] found of one profile, for [`Streaming::add_resolved`].
pub struct Resolved(SourceMaps);

impl Snapshot {
    /// Looks `src`'s tables up (lookups only, batched as the merge's own).
    pub fn resolve(&self, src: &Profile) -> Resolved {
        let mut maps = SourceMaps::new(src);
        self.find_strings(src, &mut maps.strings);
        self.t
            .prefill(&self.strings, &self.mappings, src, &mut maps);
        Resolved(maps)
    }

    /// Fills `found` with the ids of `src`'s strings in the snapshot, in
    /// three stages some strings apart: a string's slot is fetched, then
    /// its candidate's text, then the two texts compared.
    fn find_strings(&self, src: &Profile, found: &mut [StrId]) {
        let Some(index) = &self.by_text else {
            return;
        };
        let n = src.strings.len().min(found.len());
        let keys: Vec<Option<StrKey>> = (0..n as StrId)
            .map(|i| {
                let s = src.str(i);
                let len = u32::try_from(s.len()).ok()?;
                let hash = super::model::str_hash(s);
                Some(StrKey { hash, len })
            })
            .collect();
        let first = |k: usize| keys[k].and_then(|key| index.first(key.hash, &key, |_| true));
        let mut candidates: Vec<Option<&Slot<StrKey>>> = vec![None; n];
        let text = self.strings.text().as_bytes();
        const SLOT_AHEAD: usize = 16;
        const TEXT_AHEAD: usize = 8;
        for k in 1..n {
            if let Some(Some(key)) = keys.get(k + SLOT_AHEAD) {
                index.prefetch(key.hash);
            }
            if k + TEXT_AHEAD < n {
                let c = first(k + TEXT_AHEAD);
                if let Some(c) = c {
                    prefetch_ptr(text.as_ptr().wrapping_add(c.extra as usize));
                }
                candidates[k + TEXT_AHEAD] = c;
            }
            // The first few had no earlier turn.
            let c = match k <= TEXT_AHEAD {
                true => first(k),
                false => candidates[k],
            };
            let s = src.str(k as StrId);
            found[k] = match c {
                Some(c)
                    if text.get(c.extra as usize..).and_then(|t| t.get(..s.len()))
                        == Some(s.as_bytes()) =>
                {
                    c.ix
                }
                // Another string with the same hash and length: the slow way.
                Some(_) => self.strings.find(s).unwrap_or(NONE),
                None => NONE,
            };
        }
    }
}

impl Streaming {
    /// Starts with the first profile (its header and samples).
    pub fn new(first: &Profile) -> Streaming {
        let header = Profile {
            strings: first.strings.clone(),
            sample_types: first.sample_types.clone(),
            period_type: first.period_type,
            ..Profile::default()
        };
        let mut st = Streaming {
            m: Merger::new(first),
            first: header,
            seen_comments: Vec::new(),
            snapped: 0,
        };
        st.m.header(first, &mut st.seen_comments);
        st.m.first_types(first);
        st.m.add(first);
        st
    }

    /// Adds the next profile; false (nothing added) when [`merge`] of the
    /// whole list would differ: units differ from the first profile's (to
    /// be scaled), the profiles are incompatible, or a comment or default
    /// sample type new to the merged strings would have been numbered
    /// before every sample.
    pub fn add(&mut self, s: &Profile) -> bool {
        self.add_resolved(s, None)
    }

    /// [`Streaming::add`] with what a snapshot of this merge found of `s`
    /// (a `Resolved` from another merge's snapshot would be wrong).
    pub fn add_resolved(&mut self, s: &Profile, found: Option<Resolved>) -> bool {
        if compatible(&self.first, s).is_err() {
            return false;
        }
        let o = &self.m.out;
        let known = |id: StrId| id == 0 || o.strings.find(s.str(id)).is_some();
        let new_comment = s
            .comments
            .iter()
            .any(|&c| !self.seen_comments.iter().any(|x| x == s.str(c)) && !known(c));
        let new_default = o.default_sample_type == 0 && !known(s.default_sample_type);
        if new_comment || new_default {
            return false;
        }
        self.m.header(s, &mut self.seen_comments);
        self.m.add_found(s, found.map(|r| r.0));
        true
    }

    /// A snapshot of the tables when they grew by more than a sixteenth
    /// since the last one (a copy of them, a few MB: a fleet of one
    /// program makes a few, while its first profiles bring new entries).
    pub fn snapshot(&mut self) -> Option<Snapshot> {
        let o = &self.m.out;
        let size = o.strings.len() + o.functions.len() + o.locations.len();
        if o.locations.is_empty() || size <= self.snapped + self.snapped / 16 {
            return None;
        }
        self.snapped = size;
        Some(Snapshot {
            t: self.m.t.clone(),
            strings: o.strings.clone(),
            by_text: index_text(&o.strings),
            mappings: o.mappings.clone(),
        })
    }

    /// The merged profile (all-zero samples dropped, as [`merge`] does).
    pub fn finish(mut self) -> Profile {
        self.m.drop_zero_samples();
        self.m.out
    }
}

/// Merges a lone profile into itself, in place: identical samples
/// (same stack and labels) are combined and all-zero ones dropped, as a
/// merge does, but the tables are kept as they are and no second copy of
/// the samples is made (the common one-file case, on the largest inputs).
pub fn merge_one(mut p: Profile) -> Profile {
    let mut seen_comments = std::collections::HashSet::new();
    p.comments.retain(|c| seen_comments.insert(*c));
    p.samples.dedupe();
    p
}

/// Finds earlier samples with the same stack and labels (labels compared
/// as sets, in key order), through a hash table with collision chains.
pub(crate) struct SampleIndex {
    first: HashMap<u64, u32, BuildHasherDefault<FxHasher>>,
    next: Vec<u32>,
    other: Vec<Label>,
}

impl SampleIndex {
    pub(crate) fn new(n: usize) -> Self {
        let mut first = HashMap::default();
        first.reserve(n);
        SampleIndex {
            first,
            next: Vec::with_capacity(n),
            other: Vec::new(),
        }
    }

    fn sorted(out: &mut Vec<Label>, labels: &[Label]) {
        out.clear();
        out.extend_from_slice(labels);
        out.sort_by_key(|l| (l.key, l.is_numeric()));
    }

    /// The hash [`SampleIndex::find_or_insert`] files sample `i` under.
    pub(crate) fn hash(s: &SampleData, i: usize, scratch: &mut Vec<Label>) -> u64 {
        Self::sorted(scratch, s.labels(i));
        let mut h = FxHasher::default();
        s.stack(i).hash(&mut h);
        scratch.hash(&mut h);
        h.finish()
    }

    /// The hashes of samples `range` of `s`, on two threads when they are
    /// many (hashing reads every stack; the table inserts stay in order).
    pub(crate) fn hashes(s: &SampleData, range: std::ops::Range<usize>) -> Vec<u64> {
        let part = |r: std::ops::Range<usize>| {
            let mut scratch = Vec::new();
            r.map(|i| Self::hash(s, i, &mut scratch))
                .collect::<Vec<u64>>()
        };
        if range.len() < 100_000 {
            return part(range);
        }
        let mid = range.start + range.len() / 2;
        let (mut a, b) = std::thread::scope(|scope| {
            let h = scope.spawn(|| part(mid..range.end));
            (part(range.start..mid), h.join())
        });
        match b {
            Ok(b) => a.extend_from_slice(&b),
            Err(_) => a.extend(part(mid..range.end)),
        }
        a
    }

    /// Numbers the next sample without registering it (one known to have
    /// no duplicate).
    pub(crate) fn skip(&mut self) {
        self.next.push(NONE);
    }

    /// Looks sample `i` of `s`, whose [`SampleIndex::hash`] is `hash`, up
    /// among the samples registered so far (indexes into `s`); registers it
    /// as sample number `next.len()` when new. `scratch` receives its
    /// sorted labels.
    pub(crate) fn find_or_insert(
        &mut self,
        s: &SampleData,
        i: usize,
        hash: u64,
        scratch: &mut Vec<Label>,
    ) -> Option<u32> {
        let new = self.next.len() as u32;
        match self.first.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(new);
            }
            Entry::Occupied(e) => {
                let mut j = *e.get();
                Self::sorted(scratch, s.labels(i));
                loop {
                    if s.stack(j as usize) == s.stack(i) {
                        Self::sorted(&mut self.other, s.labels(j as usize));
                        if self.other == *scratch {
                            return Some(j);
                        }
                    }
                    if self.next[j as usize] == NONE {
                        self.next[j as usize] = new;
                        break;
                    }
                    j = self.next[j as usize];
                }
            }
        }
        self.next.push(NONE);
        None
    }
}

impl Merger {
    fn new(first: &Profile) -> Merger {
        Merger {
            out: Profile {
                samples: Samples::new(first.sample_types.len()),
                ..Profile::default()
            },
            t: Tables::default(),
            line_scratch: Vec::new(),
            samples: FxMap::default(),
            next: Vec::new(),
        }
    }

    /// The header fields [`merge`] takes from each source, in source
    /// order (comments once each by text).
    fn header(&mut self, s: &Profile, seen_comments: &mut Vec<String>) {
        let o = &mut self.out;
        if o.time_nanos == 0 || s.time_nanos < o.time_nanos {
            o.time_nanos = s.time_nanos;
        }
        o.duration_nanos = o.duration_nanos.wrapping_add(s.duration_nanos);
        if o.period == 0 || o.period < s.period {
            o.period = s.period;
        }
        for &c in &s.comments {
            let text = s.str(c);
            if !seen_comments.iter().any(|x: &String| x == text) {
                seen_comments.push(text.to_string());
                let id = o.strings.intern(text);
                o.comments.push(id);
            }
        }
        if o.default_sample_type == 0 {
            o.default_sample_type = o.strings.intern(s.str(s.default_sample_type));
        }
    }

    /// The fields taken from the first profile: frame regexps and types.
    fn first_types(&mut self, first: &Profile) {
        let o = &mut self.out;
        o.drop_frames = o.strings.intern(first.str(first.drop_frames));
        o.keep_frames = o.strings.intern(first.str(first.keep_frames));
        o.period_type = ValueType {
            ty: o.strings.intern(first.str(first.period_type.ty)),
            unit: o.strings.intern(first.str(first.period_type.unit)),
        };
        o.sample_types = first
            .sample_types
            .iter()
            .map(|t| ValueType {
                ty: o.strings.intern(first.str(t.ty)),
                unit: o.strings.intern(first.str(t.unit)),
            })
            .collect();
    }

    fn add(&mut self, src: &Profile) {
        self.add_found(src, None);
    }

    /// [`Merger::add`] with what a snapshot of these tables found of `src`.
    fn add_found(&mut self, src: &Profile, found: Option<SourceMaps>) {
        let mut maps = found
            .filter(|m| m.fits(src))
            .unwrap_or_else(|| SourceMaps::new(src));
        if !self.out.locations.is_empty() {
            self.t
                .prefill(&self.out.strings, &self.out.mappings, src, &mut maps);
        }
        // The first mapping of the first profile stays first: it names the
        // main binary in report headers.
        if self.out.mappings.is_empty() && !src.mappings.is_empty() {
            self.map_mapping(src, &mut maps, 0);
        }
        let mut stack = Vec::new();
        let mut labels = Vec::new();
        for i in 0..src.samples.len() {
            let values = src.samples.values(i);
            if values.iter().all(|&v| v == 0) {
                continue;
            }
            stack.clear();
            for &l in src.samples.stack(i) {
                stack.push(self.map_location(src, &mut maps, l as usize));
            }
            labels.clear();
            for l in src.samples.labels(i) {
                labels.push(Label {
                    key: self.map_str(src, &mut maps, l.key),
                    str: self.map_str(src, &mut maps, l.str),
                    num: l.num,
                    unit: self.map_str(src, &mut maps, l.unit),
                });
            }
            // Same labels in another order are the same sample.
            labels.sort_by_key(|l| (l.key, l.is_numeric()));
            self.add_sample(values, &stack, &labels);
        }
    }

    fn add_sample(&mut self, values: &[i64], stack: &[u32], labels: &[Label]) {
        let mut h = FxHasher::default();
        stack.hash(&mut h);
        labels.hash(&mut h);
        let hash = h.finish();
        let samples = &mut self.out.samples;
        match self.samples.entry(hash) {
            Entry::Occupied(e) => {
                let mut i = *e.get();
                loop {
                    if samples.stack(i as usize) == stack && samples.labels(i as usize) == labels {
                        for (a, b) in samples.values_mut(i as usize).iter_mut().zip(values) {
                            *a = a.wrapping_add(*b);
                        }
                        return;
                    }
                    let n = self.next[i as usize];
                    if n == NONE {
                        break;
                    }
                    i = n;
                }
                let new = samples.len() as u32;
                self.next[i as usize] = new;
            }
            Entry::Vacant(e) => {
                e.insert(samples.len() as u32);
            }
        }
        samples.push(values, stack, labels);
        self.next.push(NONE);
    }

    fn drop_zero_samples(&mut self) {
        let s = &self.out.samples;
        if (0..s.len()).all(|i| s.values(i).iter().any(|&v| v != 0)) {
            return;
        }
        let old = std::mem::take(&mut self.out.samples);
        let mut kept = Samples::new(old.width);
        for i in 0..old.len() {
            if old.values(i).iter().any(|&v| v != 0) {
                kept.push(old.values(i), old.stack(i), old.labels(i));
            }
        }
        self.out.samples = kept;
    }

    fn map_str(&mut self, src: &Profile, maps: &mut SourceMaps, id: StrId) -> StrId {
        if id == 0 {
            return 0;
        }
        let slot = &mut maps.strings[id as usize];
        if *slot == NONE {
            *slot = self.out.strings.intern(src.str(id));
        }
        *slot
    }

    fn map_mapping(&mut self, src: &Profile, maps: &mut SourceMaps, i: usize) -> (u32, i64) {
        if let Some(r) = maps.mappings[i] {
            return r;
        }
        let sm = &src.mappings[i];
        let file = self.map_str(src, maps, sm.file);
        let build_id = self.map_str(src, maps, sm.build_id);
        let key = MappingKey::of(sm, file, build_id);
        let r = match self.t.mappings.get(&key) {
            Some(&ix) => (
                ix,
                (self.out.mappings[ix as usize].start as i64).wrapping_sub(sm.start as i64),
            ),
            None => {
                let ix = self.out.mappings.len() as u32;
                self.out.mappings.push(Mapping {
                    id: ix as u64 + 1,
                    file,
                    build_id,
                    ..sm.clone()
                });
                self.t.mappings.insert(key, ix);
                (ix, 0)
            }
        };
        maps.mappings[i] = Some(r);
        r
    }

    fn map_function(&mut self, src: &Profile, maps: &mut SourceMaps, i: usize) -> u32 {
        if let Some(r) = maps.functions[i] {
            return r;
        }
        let sf = &src.functions[i];
        let f = Function {
            id: 0,
            name: self.map_str(src, maps, sf.name),
            system_name: self.map_str(src, maps, sf.system_name),
            filename: self.map_str(src, maps, sf.filename),
            start_line: sf.start_line,
        };
        let key = FunctionKey {
            start_line: f.start_line,
            name: f.name,
            system_name: f.system_name,
            filename: f.filename,
        };
        let hash = self.t.function_hash(&key);
        let ix = match self.t.functions.find(hash, &key, |_| true) {
            Some(ix) => ix,
            None => {
                let next = self.out.functions.len() as u32;
                self.out.functions.push(Function {
                    id: next as u64 + 1,
                    ..f
                });
                self.t.functions.insert(hash, key, next, 0);
                next
            }
        };
        maps.functions[i] = Some(ix);
        ix
    }

    fn map_location(&mut self, src: &Profile, maps: &mut SourceMaps, i: usize) -> u32 {
        let r = maps.locations[i];
        if r != NONE {
            return r;
        }
        let sl = &src.locations[i];
        let (mapping, offset) = match sl.mapping {
            Some(m) => {
                let (ix, off) = self.map_mapping(src, maps, m as usize);
                (Some(ix), off)
            }
            None => (None, 0),
        };
        let address = (sl.address as i64).wrapping_add(offset) as u64;
        let mut lines = std::mem::take(&mut self.line_scratch);
        lines.clear();
        for ln in &sl.lines {
            let function = self.map_function(src, maps, ln.function as usize);
            lines.push(Line { function, ..*ln });
        }
        let (hash, key) =
            self.t
                .location_key(&self.out.mappings, address, mapping, sl.is_folded, &lines);
        let found = self.t.locations.find(hash, &key, |tail| {
            self.t
                .same_tail(tail, lines.iter().map(|l| (l.function, l.line)))
        });
        let ix = match found {
            Some(j) => j,
            None => {
                let next = self.out.locations.len() as u32;
                self.out.locations.push(Location {
                    id: next as u64 + 1,
                    mapping,
                    address,
                    lines: lines.as_slice().into(),
                    is_folded: sl.is_folded,
                });
                let tail = self.t.tails.len() as u32;
                self.t
                    .tails
                    .extend(lines.iter().skip(1).map(|l| (l.function, l.line)));
                self.t.locations.insert(hash, key, next, tail);
                next
            }
        };
        self.line_scratch = lines;
        maps.locations[i] = ix;
        ix
    }
}

impl Tables {
    /// Whether the lines after the first of the output location whose
    /// tail starts at `tail` are those of `lines` (all of a location's
    /// (function, line): the first one is in the key, already compared, and
    /// so is their number).
    fn same_tail(&self, tail: u32, lines: impl ExactSizeIterator<Item = (u32, i64)>) -> bool {
        if lines.len() <= 1 {
            return true;
        }
        let start = tail as usize;
        let end = start.saturating_add(lines.len() - 1);
        self.tails
            .get(start..end)
            .is_some_and(|t| t.iter().copied().eq(lines.skip(1)))
    }
}

/// Hints the CPU to bring the cache line at `r` in (merging fleets is
/// bound by memory latency: a batch of lookups prefetches its slots ahead).
/// `r` need not be valid: a prefetch never faults.
#[inline(always)]
fn prefetch_ptr<T>(r: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults, whatever the address.
    #[allow(unused_unsafe)]
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(r as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// Entries (output locations and functions, a snapshot's strings) by key:
/// open addressing with linear probing, each slot holding the compact key,
/// so that a lookup touches one slot (one cache miss) instead of a bucket
/// and then the key, and a batch of lookups can prefetch its slots ahead.
#[derive(Clone, Default)]
struct KeyTable<K> {
    slots: Vec<Slot<K>>,
    len: usize,
    /// Each entry's key hash, by index (to move them when the table grows).
    hashes: Vec<u64>,
}

#[derive(Clone, Copy)]
struct Slot<K> {
    key: K,
    /// The output entry, NONE when the slot is free.
    ix: u32,
    /// More about the entry, for the caller's check after a key match (in
    /// what would be the slot's padding).
    extra: u32,
}

impl<K: Copy + Default + PartialEq> KeyTable<K> {
    fn home(&self, hash: u64) -> usize {
        // The high bits: the low ones of an address-heavy key are regular.
        (hash >> 32) as usize & (self.slots.len() - 1)
    }

    /// Hints the CPU to fetch the slot a lookup of `hash` starts at.
    fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            let home = self.slots.as_ptr().wrapping_add(self.home(hash));
            prefetch_ptr(home);
            // The probe often goes on to the next slot, often on the next line.
            prefetch_ptr(home.wrapping_add(1));
        }
    }

    /// The entry with `key` whose slot's `extra` passes `same`.
    fn find(&self, hash: u64, key: &K, same: impl Fn(u32) -> bool) -> Option<u32> {
        self.first(hash, key, same).map(|slot| slot.ix)
    }

    /// The slot of [`KeyTable::find`]'s entry.
    fn first(&self, hash: u64, key: &K, same: impl Fn(u32) -> bool) -> Option<&Slot<K>> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        loop {
            let slot = &self.slots[i];
            if slot.ix == NONE {
                return None;
            }
            if slot.key == *key && same(slot.extra) {
                return Some(slot);
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds entry `ix`, the next one (not in the table).
    fn insert(&mut self, hash: u64, key: K, ix: u32, extra: u32) {
        debug_assert_eq!(ix as usize, self.hashes.len());
        self.hashes.push(hash);
        // At most half full: short probes.
        if (self.len + 1) * 2 > self.slots.len() {
            let size = (self.slots.len() * 2).max(1024);
            let free = Slot {
                key: K::default(),
                ix: NONE,
                extra: 0,
            };
            let old = std::mem::replace(&mut self.slots, vec![free; size]);
            for slot in old.into_iter().filter(|s| s.ix != NONE) {
                self.put(self.hashes[slot.ix as usize], slot);
            }
        }
        self.put(hash, Slot { key, ix, extra });
        self.len += 1;
    }

    fn put(&mut self, hash: u64, slot: Slot<K>) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(hash);
        while self.slots[i].ix != NONE {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }
}

impl Tables {
    /// pprof's location key (the address relative to the mapping, the
    /// mapping, is_folded and the (function, line) of each line), hashed,
    /// and its compact copy. (Fx mixes these regular addresses and ids too
    /// poorly: long probes.)
    fn location_key(
        &self,
        out_mappings: &[Mapping],
        address: u64,
        mapping: Option<u32>,
        folded: bool,
        lines: &[Line],
    ) -> (u64, LocKey) {
        let mut h = std::hash::BuildHasher::build_hasher(&self.hasher);
        match mapping {
            Some(m) => address.wrapping_sub(out_mappings[m as usize].start),
            None => address,
        }
        .hash(&mut h);
        mapping.hash(&mut h);
        folded.hash(&mut h);
        for l in lines {
            (l.function, l.line).hash(&mut h);
        }
        let key = LocKey {
            address,
            line0: lines.first().map_or(0, |l| l.line),
            func0: lines.first().map_or(NONE, |l| l.function),
            mapping: mapping.map_or(NONE, |m| m),
            nlines: lines.len() as u32,
            folded,
        };
        (h.finish(), key)
    }

    fn function_hash(&self, key: &FunctionKey) -> u64 {
        std::hash::BuildHasher::hash_one(&self.hasher, key)
    }

    /// Fills `maps` with what the merged profile already holds of `src`
    /// (strings, mappings, functions, locations), by lookups only: nothing
    /// is added, so numbering stays that of the merge in sample order, but
    /// the lookups run as one batch of independent probes instead of one
    /// chain of dependent ones per location (fleets of profiles of one
    /// program find nearly everything here).
    fn prefill(
        &self,
        strings: &Strings,
        out_mappings: &[Mapping],
        src: &Profile,
        maps: &mut SourceMaps,
    ) {
        // Entries already found (in a snapshot) are skipped.
        for (id, slot) in maps.strings.iter_mut().enumerate().skip(1) {
            if *slot != NONE {
                continue;
            }
            if let Some(found) = strings.find(src.str(id as StrId)) {
                *slot = found;
            }
        }
        let strs = &maps.strings;
        let str_of = |id: StrId| -> Option<StrId> {
            if id == 0 {
                return Some(0);
            }
            strs.get(id as usize).copied().filter(|&x| x != NONE)
        };
        if !out_mappings.is_empty() {
            for (i, sm) in src.mappings.iter().enumerate() {
                if maps.mappings[i].is_some() {
                    continue;
                }
                let (Some(file), Some(build_id)) = (str_of(sm.file), str_of(sm.build_id)) else {
                    continue;
                };
                let key = MappingKey::of(sm, file, build_id);
                if let Some(&ix) = self.mappings.get(&key) {
                    let off =
                        (out_mappings[ix as usize].start as i64).wrapping_sub(sm.start as i64);
                    maps.mappings[i] = Some((ix, off));
                }
            }
        }
        // Keys first, then the lookups, each prefetching a later one's slot.
        const AHEAD: usize = 16;
        let mut fkeys = Vec::with_capacity(src.functions.len());
        for (i, sf) in src.functions.iter().enumerate() {
            if maps.functions[i].is_some() {
                continue;
            }
            let (Some(name), Some(system_name), Some(filename)) =
                (str_of(sf.name), str_of(sf.system_name), str_of(sf.filename))
            else {
                continue;
            };
            let key = FunctionKey {
                start_line: sf.start_line,
                name,
                system_name,
                filename,
            };
            fkeys.push((i as u32, self.function_hash(&key), key));
        }
        for (k, (i, hash, key)) in fkeys.iter().enumerate() {
            if let Some((_, h, _)) = fkeys.get(k + AHEAD) {
                self.functions.prefetch(*h);
            }
            if let Some(ix) = self.functions.find(*hash, key, |_| true) {
                maps.functions[*i as usize] = Some(ix);
            }
        }
        let mut keys = Vec::with_capacity(src.locations.len());
        let mut lines = Vec::new();
        'locations: for (i, sl) in src.locations.iter().enumerate() {
            if maps.locations[i] != NONE {
                continue;
            }
            let (mapping, offset) = match sl.mapping {
                Some(m) => match maps.mappings.get(m as usize).copied().flatten() {
                    Some((ix, off)) => (Some(ix), off),
                    None => continue,
                },
                None => (None, 0),
            };
            let address = (sl.address as i64).wrapping_add(offset) as u64;
            lines.clear();
            for ln in &sl.lines {
                match maps.functions.get(ln.function as usize).copied().flatten() {
                    Some(function) => lines.push(Line { function, ..*ln }),
                    None => continue 'locations,
                }
            }
            let (hash, key) =
                self.location_key(out_mappings, address, mapping, sl.is_folded, &lines);
            keys.push((i as u32, hash, key));
        }
        for (k, (i, hash, key)) in keys.iter().enumerate() {
            if let Some((_, h, _)) = keys.get(k + AHEAD) {
                self.locations.prefetch(*h);
            }
            let sl = &src.locations[*i as usize];
            // Every function of the location is mapped (else no key).
            let lines = sl.lines.iter().map(|l| {
                let f = maps.functions[l.function as usize].unwrap_or(NONE);
                (f, l.line)
            });
            let same = |tail: u32| self.same_tail(tail, lines.clone());
            if let Some(j) = self.locations.find(*hash, key, same) {
                maps.locations[*i as usize] = j;
            }
        }
    }
}

/// Renumbers the tables as pprof's `Merge` leaves them: mappings (the
/// first one first), locations and functions in the order samples first
/// reach them, ids `index + 1`, unreferenced entries dropped. A lone
/// profile is merged in place ([`merge_one`]) with its tables as read;
/// `raw` and `proto` show the tables, so they renumber first.
pub fn renumber_as_merged(p: &mut Profile) {
    const UNSEEN: u32 = u32::MAX;
    let mut map_map = vec![UNSEEN; p.mappings.len()];
    let mut func_map = vec![UNSEEN; p.functions.len()];
    let mut loc_map = vec![UNSEEN; p.locations.len()];
    let (mut mappings, mut functions, mut locations) = (Vec::new(), Vec::new(), Vec::new());
    let mut add_mapping = |m: u32, mappings: &mut Vec<Mapping>| -> u32 {
        if map_map[m as usize] == UNSEEN {
            map_map[m as usize] = mappings.len() as u32;
            let mut new = p.mappings[m as usize].clone();
            new.id = mappings.len() as u64 + 1;
            mappings.push(new);
        }
        map_map[m as usize]
    };
    if !p.mappings.is_empty() {
        add_mapping(0, &mut mappings);
    }
    for i in 0..p.samples.len() {
        for &l in p.samples.stack(i) {
            if loc_map[l as usize] != UNSEEN {
                continue;
            }
            let mut loc = p.locations[l as usize].clone();
            loc.mapping = loc.mapping.map(|m| add_mapping(m, &mut mappings));
            for line in &mut loc.lines {
                let f = line.function as usize;
                if func_map[f] == UNSEEN {
                    func_map[f] = functions.len() as u32;
                    let mut new = p.functions[f].clone();
                    new.id = functions.len() as u64 + 1;
                    functions.push(new);
                }
                line.function = func_map[f];
            }
            loc_map[l as usize] = locations.len() as u32;
            loc.id = locations.len() as u64 + 1;
            locations.push(loc);
        }
    }
    p.samples.retain_map(|_, stack, out| {
        out.extend(stack.iter().map(|&l| loc_map[l as usize]));
        true
    });
    p.mappings = mappings;
    p.functions = functions;
    p.locations = locations;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Profile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/go")
            .join(name);
        crate::profile::load(&path).expect("fixture loads")
    }

    /// Everything a merge decides: string numbering, tables, samples.
    fn dump(p: &Profile) -> String {
        format!(
            "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?} {:?} {} {} {} {:?} {}",
            p.strings.iter().collect::<Vec<_>>(),
            p.mappings,
            p.functions,
            p.locations,
            p.samples,
            p.comments,
            p.sample_types,
            p.period_type,
            p.period,
            p.time_nanos,
            p.duration_nanos,
            p.default_sample_type,
            p.drop_frames,
        )
    }

    fn streamed(srcs: &[Profile]) -> Option<Profile> {
        let mut m = Streaming::new(&srcs[0]);
        for s in &srcs[1..] {
            if !m.add(s) {
                return None;
            }
        }
        Some(m.finish())
    }

    #[test]
    fn streamed_merge_is_the_merge_of_the_list() {
        // Different profiles of one program, and the same one repeated
        // (every lookup of the batch pre-pass hits).
        for names in [
            ["current.heap", "current2.heap", "base.heap"],
            ["cpu.pb.gz", "cpu.pb.gz", "cpu.pb.gz"],
        ] {
            let srcs: Vec<Profile> = names.iter().map(|n| fixture(n)).collect();
            let whole = merge(&srcs).expect("merge");
            let stream = streamed(&srcs).expect("streamed");
            assert_eq!(dump(&stream), dump(&whole), "{names:?}");
        }
    }

    /// A streamed merge whose profiles were looked up in snapshots: the
    /// latest one (`fresh`) or the first one only (missing what came after).
    fn streamed_resolved(srcs: &[Profile], fresh: bool) -> Option<Profile> {
        let mut m = Streaming::new(&srcs[0]);
        let mut snap = m.snapshot();
        for s in &srcs[1..] {
            let found = snap.as_ref().map(|snap| snap.resolve(s));
            if !m.add_resolved(s, found) {
                return None;
            }
            if fresh {
                snap = m.snapshot().or(snap);
            }
        }
        Some(m.finish())
    }

    #[test]
    fn profiles_resolved_in_snapshots_merge_as_the_list() {
        for names in [
            &["current.heap", "current2.heap", "base.heap", "current.heap"][..],
            &["cpu.pb.gz", "cpu.pb.gz", "cpu.pb.gz"],
        ] {
            let srcs: Vec<Profile> = names.iter().map(|n| fixture(n)).collect();
            let whole = merge(&srcs).expect("merge");
            for fresh in [false, true] {
                let stream = streamed_resolved(&srcs, fresh).expect("streamed");
                assert_eq!(dump(&stream), dump(&whole), "{names:?}");
            }
        }
        let inl = [inlined(&[0, 2]), inlined(&[2, 0, 1]), inlined(&[1, 1])];
        for fresh in [false, true] {
            let stream = streamed_resolved(&inl, fresh).expect("streamed");
            assert_eq!(dump(&stream), dump(&merge(&inl).expect("merge")));
        }
    }

    #[test]
    fn snapshot_strings_are_compared_not_only_hashed() {
        let p = inlined(&[0, 1, 2]);
        let mut m = Streaming::new(&p);
        let mut snap = m.snapshot().expect("snapshot");
        let want: Vec<StrId> = p
            .strings
            .iter()
            .map(|s| snap.strings.find(s).unwrap_or(NONE))
            .collect();
        let mut found = vec![NONE; p.strings.len()];
        snap.find_strings(&p, &mut found);
        assert_eq!(found[1..], want[1..]);
        // "f1" filed under "f2"'s hash, and first on "f2"'s path (a lower
        // id, inserted first): "f2" is still found, "f1" no longer (no slot
        // has its hash).
        let (f1, f2) = (
            snap.strings.find("f1").expect("f1"),
            snap.strings.find("f2").expect("f2"),
        );
        assert!(f1 < f2);
        let strings = &snap.strings;
        let text_of = |id| {
            let (start, end) = strings.span(id);
            &strings.text()[start..end]
        };
        let mut index = KeyTable::default();
        for id in 0..strings.len() as StrId {
            let (start, end) = strings.span(id);
            let hash = super::super::model::str_hash(text_of(if id == f1 { f2 } else { id }));
            let len = (end - start) as u32;
            index.insert(hash, StrKey { hash, len }, id, start as u32);
        }
        snap.by_text = Some(index);
        snap.find_strings(&p, &mut found);
        for (i, s) in p.strings.iter().enumerate().skip(1) {
            let expect = if s == "f1" { NONE } else { want[i] };
            assert_eq!(found[i], expect, "{s}");
        }
    }

    #[test]
    fn streamed_merge_defers_to_the_list_merge() {
        // Incompatible sample types, or a comment new to the merged
        // strings: the caller merges the list instead.
        let heap = fixture("current.heap");
        let cpu = fixture("cpu.pb.gz");
        assert!(streamed(&[heap.clone(), cpu]).is_none());
        let mut commented = heap.clone();
        let c = commented.strings.intern("a comment no one has");
        commented.comments.push(c);
        assert!(streamed(&[heap.clone(), commented.clone()]).is_none());
        // A comment of the first profile is fine.
        let stream = streamed(&[commented.clone(), heap.clone()]).expect("streamed");
        let whole = merge(&[commented, heap]).expect("merge");
        assert_eq!(dump(&stream), dump(&whole));
    }

    /// A profile of one program: locations at one address whose inlined
    /// frames differ only after the first line, listed in `order`.
    fn inlined(order: &[usize]) -> Profile {
        let mut p = Profile {
            samples: Samples::new(1),
            ..Profile::default()
        };
        let ty = p.strings.intern("samples");
        let unit = p.strings.intern("count");
        p.sample_types.push(ValueType { ty, unit });
        for name in ["f1", "f2", "f3"] {
            let name = p.strings.intern(name);
            p.functions.push(Function {
                id: p.functions.len() as u64 + 1,
                name,
                ..Function::default()
            });
        }
        let tails = [(1, 7), (2, 7), (1, 8)];
        for &k in order {
            let (function, line) = tails[k];
            let lines = [
                Line {
                    function: 0,
                    line: 5,
                    column: 0,
                },
                Line {
                    function,
                    line,
                    column: 0,
                },
            ];
            p.locations.push(Location {
                id: p.locations.len() as u64 + 1,
                address: 0x10,
                lines: lines.as_slice().into(),
                ..Location::default()
            });
            let l = p.locations.len() as u32 - 1;
            p.samples.push(&[1 + k as i64], &[l], &[]);
        }
        p
    }

    #[test]
    fn inlined_frames_after_the_first_tell_locations_apart() {
        let srcs = [inlined(&[0, 1, 2]), inlined(&[2, 0, 1]), inlined(&[1, 1])];
        let whole = merge(&srcs).expect("merge");
        let stream = streamed(&srcs).expect("streamed");
        assert_eq!(dump(&stream), dump(&whole));
        let tails: Vec<(u32, i64)> = whole
            .locations
            .iter()
            .map(|l| (l.lines[1].function, l.lines[1].line))
            .collect();
        assert_eq!(tails, [(1, 7), (2, 7), (1, 8)]);
        let values: Vec<i64> = (0..whole.samples.len())
            .map(|i| whole.samples.values(i)[0])
            .collect();
        assert_eq!(values, [1 + 1, 2 * 4, 3 + 3]);
        // The tail's start sits in the slot's padding: no bigger slots.
        assert_eq!(std::mem::size_of::<Slot<LocKey>>(), 40);
        assert_eq!(std::mem::size_of::<Slot<FunctionKey>>(), 32);
        // The check after a key match (different hashes rarely meet there).
        let mut m = Merger::new(&srcs[0]);
        m.first_types(&srcs[0]);
        m.add(&srcs[0]);
        let slots = &m.t.locations.slots;
        for (j, l) in whole.locations.iter().enumerate() {
            let slot = slots.iter().find(|s| s.ix == j as u32).expect("slot");
            for (k, other) in whole.locations.iter().enumerate() {
                let lines = other.lines.iter().map(|l| (l.function, l.line));
                assert_eq!(m.t.same_tail(slot.extra, lines), j == k, "{l:?} {other:?}");
            }
        }
    }
}
