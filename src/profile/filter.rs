//! Sample filters (focus, ignore, hide, show, show_from, tag filters),
//! frame pruning (drop_frames, prune_from) and aggregation to a granularity.
//! Each one rewrites the working copy of a profile the way pprof's does, so
//! that every report built afterwards sees the same samples.

use regex::Regex;

use super::model::{Function, Label, Line, Lines, Location, Profile};
use crate::units;
use std::collections::HashMap;

/// A location's verdict in [`Verdicts::verdict`].
pub const NEITHER: u8 = 0;
pub const FOCUSED: u8 = 1;
pub const IGNORED: u8 = 2;

/// [`Profile::location_verdicts`]: per location, what focus and ignore say
/// of it, whether hide and show removed all its frames or some; and
/// whether each regexp matched anything.
pub struct Verdicts {
    pub verdict: Vec<u8>,
    pub hidden: Vec<bool>,
    pub changed: Vec<bool>,
    pub focus_matched: bool,
    pub ignore_matched: bool,
    pub hide_matched: bool,
    /// Some location keeps a frame after show.
    pub show_matched: bool,
}

impl Profile {
    fn line_matches(&self, ln: &super::model::Line, re: &Regex) -> bool {
        let f = self.function(ln);
        re.is_match(self.str(f.name)) || re.is_match(self.str(f.filename))
    }

    fn mapping_matches(&self, loc: &Location, re: &Regex) -> bool {
        loc.mapping.is_some() && re.is_match(self.mapping_file(loc))
    }

    /// Whether any frame of the location (function name or file) or its
    /// mapping's file matches.
    pub fn location_matches(&self, loc: &Location, re: &Regex) -> bool {
        loc.lines.iter().any(|ln| self.line_matches(ln, re)) || self.mapping_matches(loc, re)
    }

    /// focus/ignore keep or drop whole samples by their frames; hide/show
    /// remove frames. Returns whether each expression matched anything.
    pub fn filter_samples_by_name(
        &mut self,
        focus: Option<&Regex>,
        ignore: Option<&Regex>,
        hide: Option<&Regex>,
        show: Option<&Regex>,
    ) -> (bool, bool, bool, bool) {
        if focus.is_none() && ignore.is_none() && hide.is_none() && show.is_none() {
            // Nothing to match: pprof still drops samples without frames.
            if (0..self.samples.len()).any(|i| self.samples.stack(i).is_empty()) {
                self.samples.retain_map(|_, stack, out| {
                    out.extend_from_slice(stack);
                    !stack.is_empty()
                });
            }
            return (!self.locations.is_empty(), false, false, false);
        }
        let v = self.location_verdicts(focus, ignore, hide, show);
        let (fm, im, hm) = (v.focus_matched, v.ignore_matched, v.hide_matched);
        let hnm = v.show_matched;
        let (verdict, hidden) = (v.verdict, v.hidden);
        let any_hidden = hidden.iter().any(|&h| h);
        self.samples.retain_map(|_, stack, out| {
            let mut focused = false;
            for &l in stack {
                match verdict[l as usize] {
                    FOCUSED => focused = true,
                    IGNORED => return false,
                    _ => {}
                }
            }
            if !focused {
                return false;
            }
            out.extend(
                stack
                    .iter()
                    .filter(|&&l| !any_hidden || !hidden[l as usize]),
            );
            !out.is_empty()
        });
        (fm, im, hm, hnm)
    }

    /// What focus, ignore and hide say of each location, hide and show
    /// applied to the locations' lines. As pprof, focus and ignore are
    /// decided on a location's frames before hide and show remove any.
    pub fn location_verdicts(
        &mut self,
        focus: Option<&Regex>,
        ignore: Option<&Regex>,
        hide: Option<&Regex>,
        show: Option<&Regex>,
    ) -> Verdicts {
        let n = self.locations.len();
        let mut v = Verdicts {
            verdict: vec![NEITHER; n],
            hidden: vec![false; n],
            changed: vec![false; n],
            focus_matched: false,
            ignore_matched: false,
            hide_matched: false,
            show_matched: false,
        };
        for i in 0..n {
            let loc = &self.locations[i];
            if ignore.is_some_and(|re| self.location_matches(loc, re)) {
                v.ignore_matched = true;
                v.verdict[i] = IGNORED;
            } else if focus.is_none_or(|re| self.location_matches(loc, re)) {
                v.focus_matched = true;
                v.verdict[i] = FOCUSED;
            }
            if let Some(re) = hide {
                if self.location_matches(loc, re) {
                    v.hide_matched = true;
                    let lines: Vec<Line> = if self.mapping_matches(loc, re) {
                        Vec::new()
                    } else {
                        loc.lines
                            .iter()
                            .filter(|ln| !self.line_matches(ln, re))
                            .copied()
                            .collect()
                    };
                    v.hidden[i] = lines.is_empty();
                    v.changed[i] = true;
                    self.locations[i].lines = lines.into();
                }
            }
            if let Some(re) = show {
                // Only the frames show matches stay; a location left
                // without frames (or that had none) is hidden.
                let loc = &self.locations[i];
                if !self.mapping_matches(loc, re) {
                    // Each line matched once (most locations have one,
                    // kept inline: no allocation).
                    let lines: Lines = loc
                        .lines
                        .iter()
                        .filter(|ln| self.line_matches(ln, re))
                        .copied()
                        .collect();
                    if lines.len() != loc.lines.len() {
                        v.changed[i] = true;
                        self.locations[i].lines = lines;
                    }
                }
                if self.locations[i].lines.is_empty() {
                    v.hidden[i] = true;
                    v.changed[i] = true;
                } else {
                    v.show_matched = true;
                }
            }
        }
        v
    }

    /// Drops frames above (callers of) the outermost frame matching `re`,
    /// and samples that have no such frame.
    pub fn show_from(&mut self, re: &Regex) -> bool {
        let mut from = vec![false; self.locations.len()];
        for (i, hit) in from.iter_mut().enumerate() {
            let loc = &self.locations[i];
            if self.mapping_matches(loc, re) {
                *hit = true;
            } else if let Some(j) = loc.lines.iter().rposition(|ln| self.line_matches(ln, re)) {
                self.locations[i].lines.truncate(j + 1);
                *hit = true;
            }
        }
        let matched = from.iter().any(|&h| h);
        self.samples.retain_map(|_, stack, out| {
            match stack.iter().rposition(|&l| from[l as usize]) {
                Some(j) => {
                    out.extend_from_slice(&stack[..=j]);
                    true
                }
                None => false,
            }
        });
        matched
    }

    /// Keeps samples that `focus` accepts and `ignore` rejects.
    pub fn filter_samples_by_tag(
        &mut self,
        focus: Option<&TagFilter>,
        ignore: Option<&TagFilter>,
    ) -> (bool, bool) {
        if focus.is_none() && ignore.is_none() {
            return (true, false);
        }
        let (mut fm, mut im) = (false, false);
        let mut keep = Vec::with_capacity(self.samples.len());
        let (mut focus_memo, mut ignore_memo) = (TagMemo::default(), TagMemo::default());
        for i in 0..self.samples.len() {
            let labels = self.samples.labels(i);
            let focused = focus.is_none_or(|f| f.matches_memo(self, labels, &mut focus_memo));
            let ignored = ignore.is_some_and(|f| f.matches_memo(self, labels, &mut ignore_memo));
            fm |= focused;
            im |= ignored;
            keep.push(focused && !ignored);
        }
        self.samples.retain_map(|i, stack, out| {
            out.extend_from_slice(stack);
            keep[i]
        });
        (fm, im)
    }

    /// tagshow/taghide: removes labels by key.
    pub fn filter_tags_by_name(
        &mut self,
        show: Option<&Regex>,
        hide: Option<&Regex>,
    ) -> (bool, bool) {
        let (mut sm, mut hm) = (false, false);
        let strings = &self.strings;
        let mut remove = |key: &str| {
            let s = show.is_none_or(|re| re.is_match(key));
            let h = hide.is_some_and(|re| re.is_match(key));
            sm |= s;
            hm |= h;
            !s || h
        };
        let old = std::mem::take(&mut self.samples);
        let mut out = super::model::Samples::new(old.width);
        let mut labels: Vec<Label> = Vec::new();
        for i in 0..old.len() {
            labels.clear();
            labels.extend(old.labels(i).iter().filter(|l| !remove(strings.get(l.key))));
            out.push(old.values(i), old.stack(i), &labels);
        }
        self.samples = out;
        (sm, hm)
    }

    /// Removes frames beneath (callees of) the first frame whose function
    /// matches `re`.
    pub fn prune_from(&mut self, re: &Regex) {
        let mut beneath = vec![false; self.locations.len()];
        for (i, below) in beneath.iter_mut().enumerate() {
            let loc = &self.locations[i];
            let hit = loc.lines.iter().position(|ln| {
                let name = self.str(self.function(ln).name);
                !name.is_empty() && re.is_match(simplify_func(name))
            });
            if let Some(j) = hit {
                *below = true;
                self.locations[i].lines.drain(..j);
            }
        }
        self.samples.retain_map(|_, stack, out| {
            let start = stack.iter().position(|&l| beneath[l as usize]).unwrap_or(0);
            out.extend_from_slice(&stack[start..]);
            true
        });
    }

    /// Applies the profile's own drop_frames/keep_frames expressions.
    pub fn remove_uninteresting(&mut self) -> Result<(), regex::Error> {
        let drop = self.str(self.drop_frames);
        if drop.is_empty() {
            return Ok(());
        }
        let drop = Regex::new(&format!("^({drop})$"))?;
        let keep = match self.str(self.keep_frames) {
            "" => None,
            k => Some(Regex::new(&format!("^({k})$"))?),
        };
        self.prune(&drop, keep.as_ref());
        Ok(())
    }

    /// Removes frames that match `drop` (unless they match `keep`) at the
    /// leaf end of stacks, i.e. below the last frame of user code.
    pub fn prune(&mut self, drop: &Regex, keep: Option<&Regex>) {
        let n = self.locations.len();
        let mut prune = vec![false; n];
        let mut beneath = vec![false; n];
        for i in 0..n {
            let loc = &self.locations[i];
            let hit = loc.lines.iter().rposition(|ln| {
                let name = self.str(self.function(ln).name);
                if name.is_empty() {
                    return false;
                }
                let f = simplify_func(name);
                drop.is_match(f) && keep.is_none_or(|k| !k.is_match(f))
            });
            if let Some(j) = hit {
                beneath[i] = true;
                if j == loc.lines.len() - 1 {
                    prune[i] = true;
                } else {
                    self.locations[i].lines.drain(..=j);
                }
            }
        }
        self.samples.retain_map(|_, stack, out| {
            let mut found_user = false;
            let mut start = 0;
            for j in (0..stack.len()).rev() {
                let l = stack[j] as usize;
                if !prune[l] && !beneath[l] {
                    found_user = true;
                    continue;
                }
                if !found_user {
                    continue;
                }
                start = if prune[l] { j + 1 } else { j };
                break;
            }
            out.extend_from_slice(&stack[start..]);
            true
        });
    }

    /// Forgets what the granularity does not distinguish: function names,
    /// file names, line numbers, addresses, inlined frames.
    pub fn aggregate(
        &mut self,
        inlines: bool,
        function: bool,
        filename: bool,
        linenumber: bool,
        address: bool,
    ) {
        for m in &mut self.mappings {
            m.has_inline_frames &= inlines;
            m.has_functions &= function;
            m.has_filenames &= filename;
            m.has_line_numbers &= linenumber;
        }
        if !function || !filename {
            for f in &mut self.functions {
                if !function {
                    f.name = 0;
                    f.system_name = 0;
                }
                if !filename {
                    f.filename = 0;
                }
            }
        }
        if !inlines || !address || !linenumber {
            for l in &mut self.locations {
                if !inlines && l.lines.len() > 1 {
                    l.lines.drain(..l.lines.len() - 1);
                }
                if !linenumber {
                    for ln in &mut l.lines {
                        ln.line = 0;
                    }
                }
                if !address {
                    l.address = 0;
                }
            }
        }
    }

    /// The unit of each numeric label key: the first unit seen for it, else
    /// `bytes` for `alignment`/`request`, else the key itself.
    pub fn num_label_units(&self) -> std::collections::HashMap<String, String> {
        let mut units = std::collections::HashMap::new();
        let mut keys = std::collections::BTreeSet::new();
        for l in &self.samples.labels {
            if !l.is_numeric() {
                continue;
            }
            keys.insert(l.key);
            if l.unit != 0 {
                units
                    .entry(self.str(l.key).to_string())
                    .or_insert_with(|| self.str(l.unit).to_string());
            }
        }
        for k in keys {
            let key = self.str(k);
            units.entry(key.to_string()).or_insert_with(|| match key {
                "alignment" | "request" => "bytes".to_string(),
                _ => key.to_string(),
            });
        }
        units
    }
}

/// Strips argument lists from a function name for drop_frames matching,
/// keeping C++'s `(anonymous namespace)` and `operator()`.
fn simplify_func(name: &str) -> &str {
    let name = name.strip_prefix('.').unwrap_or(name);
    let mut i = 0;
    while let Some(off) = name[i..].find('(') {
        let at = i + off;
        let rest = &name[at..];
        if let Some(r) = ["(anonymous namespace)", "operator()"]
            .iter()
            .find(|r| rest.starts_with(**r))
        {
            i = at + r.len();
            continue;
        }
        // `operator()` is matched from its start, before the paren.
        if name[..at].ends_with("operator") && rest.starts_with("()") {
            i = at + 2;
            continue;
        }
        return &name[..at];
    }
    name
}

/// Per string label (key, value): which regexes of a [`TagFilter`] match it.
#[derive(Default)]
pub struct TagMemo(rustc_hash::FxHashMap<(super::model::StrId, super::model::StrId), u64>);

/// A compiled -tagfocus/-tagignore expression.
#[derive(Debug)]
pub enum TagFilter {
    /// `key=regex,regex` or `regex,regex` against `key:value` strings.
    Str {
        key: Option<String>,
        res: Vec<Regex>,
    },
    /// A numeric range such as `64kb:` or `bytes=1:1024`.
    Num {
        key: Option<String>,
        units: std::collections::HashMap<String, String>,
        range: NumRange,
    },
}

#[derive(Debug)]
pub struct NumRange {
    unit: String,
    low: Option<f64>,
    high: Option<f64>,
}

impl NumRange {
    fn contains(&self, v: i64, unit: &str) -> bool {
        let (sv, su) = units::scale(v, unit, &self.unit);
        su == self.unit && self.low.is_none_or(|l| sv >= l) && self.high.is_none_or(|h| sv <= h)
    }
}

/// The first two `[+-]digits[letters]` terms of a numeric range, leftmost
/// first (as the regexp `([+-]?[0-9]+)([a-zA-Z]+)?` would find them):
/// start, end, value and unit.
fn range_terms(s: &str) -> Vec<(usize, usize, i64, String)> {
    let b = s.as_bytes();
    let mut terms = Vec::new();
    let mut i = 0;
    while i < b.len() && terms.len() < 2 {
        let sign = (b[i] == b'+' || b[i] == b'-') && b.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !sign && !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        i += usize::from(sign);
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits_end = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if let Ok(v) = s[start..digits_end].parse::<i64>() {
            terms.push((start, i, v, s[digits_end..i].to_string()));
        }
    }
    terms
}

fn parse_range(filter: &str) -> Option<NumRange> {
    let terms = range_terms(filter);
    let (s0, e0, v0, u0) = terms.first()?.clone();
    let (low, unit) = units::scale(v0, &u0, &u0);
    let first = &filter[s0..e0];
    if terms.len() == 1 {
        return if filter == first {
            Some(NumRange {
                unit,
                low: Some(low),
                high: Some(low),
            })
        } else if filter == format!("{first}:") {
            Some(NumRange {
                unit,
                low: Some(low),
                high: None,
            })
        } else if filter == format!(":{first}") {
            Some(NumRange {
                unit,
                low: None,
                high: Some(low),
            })
        } else {
            None
        };
    }
    let (s1, e1, v1, u1) = terms[1].clone();
    if filter != format!("{first}:{}", &filter[s1..e1]) {
        return None;
    }
    let (high, unit2) = units::scale(v1, &u1, &unit);
    if unit2 != unit {
        return None;
    }
    Some(NumRange {
        unit,
        low: Some(low),
        high: Some(high),
    })
}

impl TagFilter {
    /// Compiles `value` as pprof does: a numeric range when it looks like
    /// one (the bool says so, pprof tells the user), else regexes.
    pub fn compile(
        value: &str,
        units: &std::collections::HashMap<String, String>,
    ) -> Result<(TagFilter, bool), regex::Error> {
        let (key, value) = match value.split_once('=') {
            Some((k, v)) => (Some(k.to_string()), v),
            None => (None, value),
        };
        if let Some(range) = parse_range(value) {
            return Ok((
                TagFilter::Num {
                    key,
                    units: units.clone(),
                    range,
                },
                true,
            ));
        }
        let res = value
            .split(',')
            .map(Regex::new)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((TagFilter::Str { key, res }, false))
    }

    /// [`TagFilter::matches`], remembering per string label (key and value)
    /// which regexes it matches: samples share few label values, and
    /// matching formats each label.
    pub fn matches_memo(&self, p: &Profile, labels: &[Label], memo: &mut TagMemo) -> bool {
        let TagFilter::Str { key, res } = self else {
            return self.matches(p, labels);
        };
        if res.len() > 64 {
            return self.matches(p, labels);
        }
        let mut seen = 0u64;
        for l in labels.iter().filter(|l| !l.is_numeric()) {
            seen |= *memo.0.entry((l.key, l.str)).or_insert_with(|| {
                let (k, v) = (p.str(l.key), p.str(l.str));
                // Without a key the regexes see `key:value`, with one the
                // values of that key only.
                let (applies, text) = match key {
                    None => (true, format!("{k}:{v}")),
                    Some(want) => (want == k, v.to_string()),
                };
                res.iter().enumerate().fold(0u64, |bits, (j, re)| {
                    bits | (u64::from(applies && re.is_match(&text)) << j)
                })
            });
        }
        match key {
            // Every regex matched by some label.
            None => {
                let all = u64::MAX.checked_shr(64 - res.len() as u32).unwrap_or(0);
                seen & all == all
            }
            // Some regex matched by a value of the key.
            Some(_) => seen != 0,
        }
    }

    pub fn matches(&self, p: &Profile, labels: &[Label]) -> bool {
        match self {
            TagFilter::Num { key, units, range } => labels.iter().any(|l| {
                if !l.is_numeric() {
                    return false;
                }
                let k = p.str(l.key);
                if key.as_deref().is_some_and(|want| want != k) {
                    return false;
                }
                let unit = units.get(k).map_or("", |u| u.as_str());
                range.contains(l.num, unit)
            }),
            TagFilter::Str { key: None, res } => res.iter().all(|re| {
                labels
                    .iter()
                    .filter(|l| !l.is_numeric())
                    .any(|l| re.is_match(&format!("{}:{}", p.str(l.key), p.str(l.str))))
            }),
            TagFilter::Str { key: Some(k), res } => {
                let vals: Vec<&str> = labels
                    .iter()
                    .filter(|l| !l.is_numeric() && p.str(l.key) == k)
                    .map(|l| p.str(l.str))
                    .collect();
                res.iter().any(|re| vals.iter().any(|v| re.is_match(v)))
            }
        }
    }
}

impl Profile {
    /// `-tagroot` / `-tagleaf`: for each sample, pseudo-frames named after
    /// its values of the given label keys (numeric values in `output_unit`),
    /// added at the root (the first key outermost) and at the leaf (the
    /// last key innermost), as pprof does. Each frame's function is the
    /// sample's values joined by `,` (empty when it has none) with the key as
    /// its file name. Returns whether any sample had a root key, a leaf key.
    pub fn add_label_frames(
        &mut self,
        root_keys: &[&str],
        leaf_keys: &[&str],
        output_unit: &str,
    ) -> (bool, bool) {
        let mut interned: HashMap<(String, String), u32> = HashMap::new();
        let mut next_loc = self.locations.iter().map(|l| l.id).max().unwrap_or(0) + 1;
        let mut next_fn = self.functions.iter().map(|f| f.id).max().unwrap_or(0) + 1;
        // Per sample: the frames to add, leaf end then root end.
        let mut leaves: Vec<Vec<u32>> = Vec::with_capacity(self.samples.len());
        let mut roots: Vec<Vec<u32>> = Vec::with_capacity(self.samples.len());
        let (mut root_match, mut leaf_match) = (false, false);
        for i in 0..self.samples.len() {
            let mut frames = |keys: &[&str], matched: &mut bool| -> Vec<u32> {
                let mut out = Vec::with_capacity(keys.len());
                // Backwards: the first key ends up closest to the root.
                for &key in keys.iter().rev() {
                    let values = self.label_values(i, key, output_unit);
                    *matched |= !values.is_empty();
                    let name = values.join(",");
                    let k = (name, key.to_string());
                    let loc = match interned.get(&k) {
                        Some(&l) => l,
                        None => {
                            let name = self.strings.intern(&k.0);
                            let filename = self.strings.intern(key);
                            self.functions.push(Function {
                                id: next_fn,
                                name,
                                system_name: 0,
                                filename,
                                start_line: 0,
                            });
                            next_fn += 1;
                            self.locations.push(Location {
                                id: next_loc,
                                mapping: None,
                                address: 0,
                                lines: smallvec::smallvec![Line {
                                    function: (self.functions.len() - 1) as u32,
                                    line: 0,
                                    column: 0,
                                }],
                                is_folded: false,
                            });
                            next_loc += 1;
                            let l = (self.locations.len() - 1) as u32;
                            interned.insert(k, l);
                            l
                        }
                    };
                    out.push(loc);
                }
                out
            };
            roots.push(frames(root_keys, &mut root_match));
            leaves.push(frames(leaf_keys, &mut leaf_match));
        }
        self.samples.retain_map(|i, stack, out| {
            out.extend_from_slice(&leaves[i]);
            out.extend_from_slice(stack);
            out.extend_from_slice(&roots[i]);
            true
        });
        (root_match, leaf_match)
    }

    /// A sample's values of label `key`: its string values, then its
    /// numeric ones scaled to `output_unit` (pprof's formatLabelValues).
    fn label_values(&self, sample: usize, key: &str, output_unit: &str) -> Vec<String> {
        let labels = self.samples.labels(sample);
        let mut values: Vec<String> = Vec::new();
        let is_key = |l: &&Label| self.str(l.key) == key;
        values.extend(
            labels
                .iter()
                .filter(|l| !l.is_numeric())
                .filter(is_key)
                .map(|l| self.str(l.str).to_string()),
        );
        let nums: Vec<&Label> = labels
            .iter()
            .filter(|l| l.is_numeric())
            .filter(is_key)
            .collect();
        let has_units = nums.iter().any(|l| l.unit != 0);
        for l in nums {
            values.push(if has_units {
                units::scaled_label(l.num, self.str(l.unit), output_unit)
            } else {
                units::scaled_label(l.num, "", "")
            });
        }
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify() {
        assert_eq!(simplify_func("foo(int)"), "foo");
        assert_eq!(simplify_func(".foo"), "foo");
        assert_eq!(
            simplify_func("(anonymous namespace)::f(int)"),
            "(anonymous namespace)::f"
        );
        assert_eq!(simplify_func("A::operator()(int)"), "A::operator()");
    }

    #[test]
    fn ranges() {
        let r = parse_range("1kb:").expect("range");
        assert!(r.contains(2048, "bytes"));
        assert!(!r.contains(10, "bytes"));
        assert!(parse_range("hash").is_none());
        let r = parse_range("1:10").expect("range");
        assert_eq!((r.low, r.high), (Some(1.0), Some(10.0)));
    }

    #[test]
    fn remembered_tag_matches_equal_matches() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/go/cpu.pb.gz");
        let p = crate::profile::load(std::path::Path::new(path)).expect("fixture");
        let units = HashMap::new();
        let mut kept = Vec::new();
        for spec in [
            "worker=hash",
            "worker=hash,sort",
            "sort",
            "worker:hash",
            "hash,tier:batch",
            "hash,batch",
            "tier=",
            "nosuch=.",
            "1:",
        ] {
            let (f, _) = TagFilter::compile(spec, &units).expect("filter");
            let mut memo = TagMemo::default();
            let mut n = 0;
            for i in 0..p.samples.len() {
                let labels = p.samples.labels(i);
                let want = f.matches(&p, labels);
                assert_eq!(f.matches_memo(&p, labels, &mut memo), want, "{spec} {i}");
                n += usize::from(want);
            }
            kept.push(n);
        }
        // Each filter kept what it should (some none, some all).
        assert_eq!(kept, [158, 347, 189, 158, 158, 158, 522, 0, 0]);
    }
}
