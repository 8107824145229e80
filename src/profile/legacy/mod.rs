//! Legacy (pre-protobuf) profile formats that `go tool pprof` still reads:
//! gperftools binary CPU profiles, `heap profile:` text heap profiles (C++
//! heapz/growthz and Go's `?debug=1` output), Go count profiles (goroutine,
//! threadcreate), contention/mutex text profiles, threadz dumps and Java
//! heapz/contentionz/CPU profiles.
//!
//! Each parser fills a [`Builder`], a small mutable model shaped like
//! pprof's own `Profile` structure, because the legacy parsers' heuristics
//! (frame stripping, id remapping, mapping repairs) are easiest to follow on
//! that shape. [`Builder::into_profile`] then produces the compact model.
//! Parsers are tried in pprof's order; the first that recognizes the data
//! wins, and one that recognizes it but finds it broken stops the search.

mod contention;
mod cpu;
mod go_count;
mod java;
mod maps;
mod text_heap;
mod thread;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::model::{Function, Label, Line, Location, Mapping, Profile, Samples, ValueType};

/// Why data is not a legacy profile.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    /// No legacy parser recognized the data.
    #[error("unrecognized profile format")]
    Unrecognized,
    /// A parser recognized the format but the content is broken.
    #[error("malformed profile: {0}")]
    Malformed(String),
    #[error("too many samples: more than {0} (raise the limit with -max_samples)")]
    TooManySamples(usize),
}

fn malformed(msg: impl Into<String>) -> LegacyError {
    LegacyError::Malformed(msg.into())
}

/// Parses a legacy profile, refusing more than `max_samples` samples.
pub fn parse(data: &[u8], max_samples: usize) -> Result<Profile, LegacyError> {
    let mut b = match cpu::parse(data, max_samples) {
        Err(LegacyError::Unrecognized) => parse_text(data, max_samples)?,
        r => r?,
    };
    b.add_legacy_frame_info();
    b.into_profile()
}

fn parse_text(data: &[u8], max_samples: usize) -> Result<Builder, LegacyError> {
    // Text formats are matched as Go matches strings: invalid UTF-8 is
    // replaced, which no pattern below depends on.
    let text = String::from_utf8_lossy(data);
    type TextParser = fn(&str, usize) -> Result<Builder, LegacyError>;
    const PARSERS: [TextParser; 5] = [
        text_heap::parse,
        go_count::parse,
        thread::parse,
        contention::parse,
        java::parse,
    ];
    for parser in PARSERS {
        match parser(&text, max_samples) {
            Err(LegacyError::Unrecognized) => continue,
            r => return r,
        }
    }
    Err(LegacyError::Unrecognized)
}

/// Compiles one of the built-in patterns below (never input-derived).
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in regex compiles")
}

/// Go's `\s` and `\S`: ASCII whitespace only, unlike the regex crate's.
const SP: &str = r"[\t\n\f\r ]";
const NSP: &str = r"[^\t\n\f\r ]";

static HEX_NUMBER: LazyLock<Regex> = LazyLock::new(|| re("0x[0-9a-f]+"));

/// All `0x...` numbers in a line, as pprof extracts stack addresses.
fn hex_addresses(s: &str) -> Result<Vec<u64>, String> {
    HEX_NUMBER
        .find_iter(s)
        .map(|m| {
            u64::from_str_radix(&m.as_str()[2..], 16)
                .map_err(|_| format!("failed to parse as hex 64-bit number: {}", m.as_str()))
        })
        .collect()
}

fn is_space_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn is_memory_map_sentinel(line: &str) -> bool {
    line.contains("--- Memory map: ---") || line.contains("MAPPED_LIBRARIES:")
}

/// Line reader with the behavior of Go's `bufio.Scanner` on lines: `\n`
/// separated, one trailing `\r` dropped, no empty token after a final
/// newline, and an empty current text once exhausted (parsers look at the
/// current line after loops end, as pprof's do).
struct Scanner<'a> {
    rest: &'a str,
    text: &'a str,
}

impl<'a> Scanner<'a> {
    fn new(s: &'a str) -> Self {
        Scanner { rest: s, text: "" }
    }

    fn scan(&mut self) -> bool {
        if self.rest.is_empty() {
            self.text = "";
            return false;
        }
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, ""),
        };
        self.text = line.strip_suffix('\r').unwrap_or(line);
        self.rest = rest;
        true
    }

    fn text(&self) -> &'a str {
        self.text
    }
}

/// Moves to the memory map section (if any) and parses it, then renumbers
/// as pprof's `parseAdditionalSections` does.
fn parse_additional_sections(s: &mut Scanner, b: &mut Builder) {
    while !is_memory_map_sentinel(s.text()) && s.scan() {}
    maps::parse_memory_map(s, b);
}

/// Go's `strconv.ParseUint` (bases 0, 10, 16): base 0 takes `0x`, `0o`,
/// `0b` prefixes, a leading `0` as octal, and `_` separators.
fn parse_go_uint(s: &str, base: u32) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let s0 = s;
    let (mut digits, base, base0) = if base == 0 {
        let b = s.as_bytes();
        if b[0] == b'0' && b.len() >= 3 && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
            let base = match b[1] | 0x20 {
                b'b' => 2,
                b'o' => 8,
                _ => 16,
            };
            (&s[2..], base, true)
        } else if b[0] == b'0' {
            (&s[1..], 8, true)
        } else {
            (s, 10, true)
        }
    } else {
        (s, base, false)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    while let Some(c) = digits.chars().next() {
        digits = &digits[c.len_utf8()..];
        if c == '_' && base0 {
            underscores = true;
            continue;
        }
        let d = c.to_digit(36)?;
        if d >= base {
            return None;
        }
        n = n.checked_mul(base as u64)?.checked_add(d as u64)?;
    }
    if underscores && !underscore_ok(s0) {
        return None;
    }
    Some(n)
}

/// Go's rule for `_` in base-0 numbers: only between digits.
fn underscore_ok(s: &str) -> bool {
    let mut b = s.as_bytes();
    if let Some((b'+' | b'-', rest)) = b.split_first() {
        b = rest;
    }
    let mut saw = b'^';
    let mut hex = false;
    let mut i = 0;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && (c | 0x20).is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go's `strconv.ParseInt`: an optional sign, then as [`parse_go_uint`].
fn parse_go_int(s: &str, base: u32) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = parse_go_uint(digits, base)?;
    if neg {
        if n > 1 << 63 {
            return None;
        }
        Some((n as i64).wrapping_neg())
    } else {
        i64::try_from(n).ok()
    }
}

/// Go's float-to-int64 conversion as compiled for amd64: values out of
/// range (and NaN) become `i64::MIN` rather than saturating.
fn go_f64_to_i64(f: f64) -> i64 {
    let limit = 2f64.powi(63);
    if f.is_nan() || !(-limit..limit).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// Undoes heap sampling: each sample is divided by the probability of
/// recording an allocation of its average size with a Poisson sampler of
/// mean `rate` (1 - e^(-size/rate)), as pprof's `scaleHeapSample` does.
fn scale_heap_sample(count: i64, size: i64, rate: i64) -> (i64, i64) {
    if count == 0 || size == 0 {
        return (0, 0);
    }
    if rate <= 1 {
        // rate 1 means everything was recorded; below that it is unknown.
        return (count, size);
    }
    let avg = size as f64 / count as f64;
    let scale = 1.0 / (1.0 - (-avg / rate as f64).exp());
    (
        go_f64_to_i64(count as f64 * scale),
        go_f64_to_i64(size as f64 * scale),
    )
}

#[derive(Clone, Debug, Default)]
struct RawSample {
    values: Vec<i64>,
    /// Indexes into [`Builder::locations`], leaf first.
    locs: Vec<usize>,
    /// Numeric labels without units (heap block sizes).
    num_labels: Vec<(&'static str, i64)>,
}

#[derive(Clone, Debug, Default)]
struct RawLocation {
    address: u64,
    /// Index into [`Builder::mappings`], set by `maps::remap_mapping_ids`.
    mapping: Option<usize>,
    /// (index into [`Builder::functions`], line number) for Java frames.
    line: Option<(usize, i64)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RawMapping {
    start: u64,
    limit: u64,
    offset: u64,
    file: String,
    build_id: String,
}

#[derive(Clone, Debug, Default)]
struct RawFunction {
    name: String,
    filename: String,
}

/// A legacy profile under construction. Locations and functions live in
/// arenas; `location_list`/`function_list` are the profile's tables (what
/// pprof's `remap*IDs` leave), in order.
#[derive(Debug)]
struct Builder {
    sample_types: Vec<(String, String)>,
    period_type: (String, String),
    period: i64,
    duration_nanos: i64,
    samples: Vec<RawSample>,
    locations: Vec<RawLocation>,
    location_list: Vec<usize>,
    functions: Vec<RawFunction>,
    function_list: Vec<usize>,
    mappings: Vec<RawMapping>,
    drop_frames: &'static str,
    keep_frames: &'static str,
    max_samples: usize,
    /// Address → location, for parsers that share locations by address.
    by_address: HashMap<u64, usize>,
}

fn vt(ty: &str, unit: &str) -> (String, String) {
    (ty.to_string(), unit.to_string())
}

impl Builder {
    fn new(max_samples: usize) -> Self {
        Builder {
            sample_types: Vec::new(),
            period_type: (String::new(), String::new()),
            period: 0,
            duration_nanos: 0,
            samples: Vec::new(),
            locations: Vec::new(),
            location_list: Vec::new(),
            functions: Vec::new(),
            function_list: Vec::new(),
            mappings: Vec::new(),
            drop_frames: "",
            keep_frames: "",
            max_samples,
            by_address: HashMap::new(),
        }
    }

    /// The location at `addr`, created on first use.
    fn location(&mut self, addr: u64) -> usize {
        if let Some(&l) = self.by_address.get(&addr) {
            return l;
        }
        let l = self.locations.len();
        self.locations.push(RawLocation {
            address: addr,
            ..Default::default()
        });
        self.location_list.push(l);
        self.by_address.insert(addr, l);
        l
    }

    fn push_sample(&mut self, sample: RawSample) -> Result<(), LegacyError> {
        if self.samples.len() >= self.max_samples {
            return Err(LegacyError::TooManySamples(self.max_samples));
        }
        self.samples.push(sample);
        Ok(())
    }

    /// Locations in order of first use by samples; unused ones go.
    fn remap_location_ids(&mut self) {
        let mut seen = vec![false; self.locations.len()];
        let mut list = Vec::new();
        for s in &self.samples {
            for &l in &s.locs {
                if !seen[l] {
                    seen[l] = true;
                    list.push(l);
                }
            }
        }
        self.location_list = list;
    }

    /// Functions in order of first use by listed locations.
    fn remap_function_ids(&mut self) {
        let mut seen = vec![false; self.functions.len()];
        let mut list = Vec::new();
        for &l in &self.location_list {
            if let Some((f, _)) = self.locations[l].line {
                if !seen[f] {
                    seen[f] = true;
                    list.push(f);
                }
            }
        }
        self.function_list = list;
    }

    /// The frames pprof drops by default for this kind of profile
    /// (allocator, lock or CPU profiler internals).
    fn add_legacy_frame_info(&mut self) {
        let types: Vec<&str> = self.sample_types.iter().map(|t| t.0.as_str()).collect();
        const HEAPZ: &[&[&str]] = &[
            &["allocations", "size"],
            &["objects", "space"],
            &["inuse_objects", "inuse_space"],
            &["alloc_objects", "alloc_space"],
            &[
                "alloc_objects",
                "alloc_space",
                "inuse_objects",
                "inuse_space",
            ],
        ];
        if HEAPZ.contains(&types.as_slice()) {
            self.drop_frames = ALLOC_RX;
            self.keep_frames = ALLOC_SKIP_RX;
        } else if types == ["contentions", "delay"] {
            self.drop_frames = LOCK_RX;
            self.keep_frames = "";
        } else {
            self.drop_frames = CPU_PROFILER_RX;
            self.keep_frames = "";
        }
    }

    /// The compact model, after pprof's validity checks.
    fn into_profile(self) -> Result<Profile, LegacyError> {
        let width = self.sample_types.len();
        if width == 0 && !self.samples.is_empty() {
            return Err(malformed("missing sample type information"));
        }
        if let Some(s) = self.samples.iter().find(|s| s.values.len() != width) {
            return Err(malformed(format!(
                "mismatch: sample has {} values vs. {width} types",
                s.values.len()
            )));
        }
        let mut p = Profile::default();
        let intern_vt = |p: &mut Profile, (ty, unit): &(String, String)| ValueType {
            ty: p.strings.intern(ty),
            unit: p.strings.intern(unit),
        };
        p.sample_types = self
            .sample_types
            .iter()
            .map(|t| intern_vt(&mut p, t))
            .collect();
        p.period_type = intern_vt(&mut p, &self.period_type);
        p.period = self.period;
        p.duration_nanos = self.duration_nanos;
        p.drop_frames = p.strings.intern(self.drop_frames);
        p.keep_frames = p.strings.intern(self.keep_frames);

        for (i, m) in self.mappings.iter().enumerate() {
            let file = p.strings.intern(&m.file);
            let build_id = p.strings.intern(&m.build_id);
            p.mappings.push(Mapping {
                id: i as u64 + 1,
                start: m.start,
                limit: m.limit,
                offset: m.offset,
                file,
                build_id,
                ..Default::default()
            });
        }
        let mut function_index = vec![u32::MAX; self.functions.len()];
        for (i, &f) in self.function_list.iter().enumerate() {
            let rf = &self.functions[f];
            function_index[f] = i as u32;
            let name = p.strings.intern(&rf.name);
            let filename = p.strings.intern(&rf.filename);
            p.functions.push(Function {
                id: i as u64 + 1,
                name,
                system_name: name,
                filename,
                start_line: 0,
            });
        }
        let mut location_index = vec![u32::MAX; self.locations.len()];
        for (i, &l) in self.location_list.iter().enumerate() {
            let rl = &self.locations[l];
            location_index[l] = i as u32;
            let lines = rl
                .line
                .map(|(f, line)| Line {
                    function: function_index[f],
                    line,
                    column: 0,
                })
                .into_iter()
                .filter(|ln| ln.function != u32::MAX)
                .collect();
            p.locations.push(Location {
                id: i as u64 + 1,
                mapping: rl.mapping.map(|m| m as u32),
                address: rl.address,
                lines,
                is_folded: false,
            });
        }

        p.samples = Samples::new(width);
        let mut stack = Vec::new();
        let mut labels = Vec::new();
        for s in &self.samples {
            stack.clear();
            for &l in &s.locs {
                match location_index[l] {
                    u32::MAX => {
                        return Err(malformed("sample has a location missing from the table"))
                    }
                    ix => stack.push(ix),
                }
            }
            labels.clear();
            for &(key, num) in &s.num_labels {
                labels.push(Label {
                    key: p.strings.intern(key),
                    str: 0,
                    num,
                    unit: 0,
                });
            }
            p.samples.push(&s.values, &stack, &labels);
        }
        Ok(p)
    }
}

/// Allocator frames dropped from heap profiles.
const ALLOC_RX: &str = concat!(
    // POSIX entry points.
    r"calloc|cfree|malloc|free|memalign|do_memalign|(__)?posix_memalign|pvalloc|valloc|realloc|",
    // tcmalloc.
    r"tcmalloc::.*|tc_calloc|tc_cfree|tc_malloc|tc_free|tc_memalign|tc_posix_memalign|tc_pvalloc|",
    r"tc_valloc|tc_realloc|tc_new|tc_delete|tc_newarray|tc_deletearray|tc_new_nothrow|",
    r"tc_newarray_nothrow|",
    // OS X.
    r"malloc_zone_malloc|malloc_zone_calloc|malloc_zone_valloc|malloc_zone_realloc|",
    r"malloc_zone_memalign|malloc_zone_free|",
    // Go runtime.
    r"runtime\..*|",
    // Other allocation routines.
    r"BaseArena::.*|(::)?do_malloc_no_errno|(::)?do_malloc_pages|(::)?do_malloc|",
    r"DoSampledAllocation|MallocedMemBlock::MallocedMemBlock|_M_allocate|",
    r"__builtin_(vec_)?delete|__builtin_(vec_)?new|__gnu_cxx::new_allocator::allocate|",
    r"__libc_malloc|__malloc_alloc_template::allocate|allocate|cpp_alloc|operator new(\[\])?|",
    r"simple_alloc::allocate",
);

/// Go runtime frames kept in heap profiles when in the middle of stacks.
const ALLOC_SKIP_RX: &str = r"runtime\.panic|runtime\.reflectcall|runtime\.call[0-9]*";

/// Signal-handler frames of the gperftools CPU profiler.
const CPU_PROFILER_RX: &str = concat!(
    r"ProfileData::Add|ProfileData::prof_handler|CpuProfiler::prof_handler|",
    r"__pthread_sighandler|__restore",
);

/// Lock implementation frames dropped from contention profiles.
const LOCK_RX: &str = concat!(
    r"RecordLockProfileData|(base::)?RecordLockProfileData.*|(base::)?SubmitMutexProfileData.*|",
    r"(base::)?SubmitSpinLockProfileData.*|(base::Mutex::)?AwaitCommon.*|",
    r"(base::Mutex::)?Unlock.*|(base::Mutex::)?UnlockSlow.*|(base::Mutex::)?ReaderUnlock.*|",
    r"(base::MutexLock::)?~MutexLock.*|(Mutex::)?AwaitCommon.*|(Mutex::)?Unlock.*|",
    r"(Mutex::)?UnlockSlow.*|(Mutex::)?ReaderUnlock.*|(MutexLock::)?~MutexLock.*|",
    r"(SpinLock::)?Unlock.*|(SpinLock::)?SlowUnlock.*|(SpinLockHolder::)?~SpinLockHolder.*",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_ints() {
        assert_eq!(parse_go_int("010", 0), Some(8));
        assert_eq!(parse_go_int("09", 0), None);
        assert_eq!(parse_go_int("0x1f", 0), Some(31));
        assert_eq!(parse_go_int("1_000", 0), Some(1000));
        assert_eq!(parse_go_int("1__0", 0), None);
        assert_eq!(parse_go_int("1_000", 10), None);
        assert_eq!(parse_go_int("-9223372036854775808", 10), Some(i64::MIN));
        assert_eq!(parse_go_int("9223372036854775808", 10), None);
        assert_eq!(parse_go_int("0", 0), Some(0));
        assert_eq!(parse_go_int("0x", 0), None);
        assert_eq!(parse_go_int("", 10), None);
        assert_eq!(parse_go_uint("ffffffffffffffff", 16), Some(u64::MAX));
        assert_eq!(parse_go_uint("1ffffffffffffffff", 16), None);
    }

    #[test]
    fn drop_frame_patterns_compile() {
        for rx in [ALLOC_RX, ALLOC_SKIP_RX, CPU_PROFILER_RX, LOCK_RX] {
            assert!(Regex::new(&format!("^({rx})$")).is_ok(), "{rx}");
        }
    }

    #[test]
    fn scanner_lines() {
        let mut s = Scanner::new("a\r\nb\n\nc");
        let mut got = Vec::new();
        while s.scan() {
            got.push(s.text());
        }
        assert_eq!(got, ["a", "b", "", "c"]);
        assert_eq!(s.text(), "");
        let mut s = Scanner::new("a\n");
        assert!(s.scan());
        assert!(!s.scan());
    }
}
