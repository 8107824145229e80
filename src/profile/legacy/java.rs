//! Java agent profiles: `--- heapz 1 ---` and `--- contentionz 1 ---` text
//! profiles, and the symbol section of binary Java CPU profiles. Stacks are
//! made of ids (`0x...`) that a trailing section maps to frames:
//!
//! ```text
//! --- heapz 1 ---
//! format = java
//! resolution = bytes
//!   7048     1 @ 0x00000003 0x00000004
//!  0x00000003 com.example.function003 (Source003.java:103)
//! ```
//!
//! Ids are not addresses: once resolved they are dropped (set to 0), so
//! locations merge by frame.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::cpu::{parse_samples, Word};
use super::{
    hex_addresses, malformed, maps, parse_go_int, parse_go_uint, re, scale_heap_sample, vt,
    Builder, LegacyError, RawFunction, RawSample, SP,
};

static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| re(r"([0-9A-Za-z_ ]+)=([0-9A-Za-z_ ]+)"));
static SAMPLE: LazyLock<Regex> = LazyLock::new(|| re(r" *([0-9]+) +([0-9]+) +@ +([ x0-9a-f]*)"));
static LOCATION: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^{SP}*0x([[:xdigit:]]+){SP}+(.*){SP}*$")));
static LOCATION_FILE_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"^(.*){SP}+\((.+):(-?[0-9]+)\)$")));
static LOCATION_PATH: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"^(.*){SP}+\((.*)\)$")));

/// Java's sampling rate for heap profiles (512 KiB).
const JAVA_HEAPZ_SAMPLING_RATE: i64 = 524288;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Heap,
    Contention,
}

/// Splits off the lines that end with `\n` one at a time, as pprof's Java
/// header and sample readers do (a last line without newline is left).
fn next_line(b: &str) -> Option<(&str, &str)> {
    b.find('\n').map(|i| (&b[..i], &b[i + 1..]))
}

/// A Java heapz or contentionz profile.
pub(super) fn parse(text: &str, max_samples: usize) -> Result<Builder, LegacyError> {
    let (header, rest) = next_line(text).ok_or(LegacyError::Unrecognized)?;
    let kind = match header.trim() {
        "--- heapz 1 ---" => Kind::Heap,
        "--- contentionz 1 ---" => Kind::Contention,
        _ => return Err(LegacyError::Unrecognized),
    };
    let mut p = Builder::new(max_samples);
    let rest = parse_header(kind, rest, &mut p)?;
    let rest = parse_java_samples(kind, rest, &mut p)?;
    parse_locations(rest, &mut p)?;
    strip_addresses(&mut p);
    Ok(p)
}

/// A binary Java CPU profile (header already read): samples, then the
/// symbol section as text.
pub(super) fn cpu_profile(
    data: &[u8],
    period_us: i64,
    w: Word,
    max_samples: usize,
) -> Result<Builder, LegacyError> {
    let mut p = Builder::new(max_samples);
    p.period = period_us.wrapping_mul(1000);
    p.period_type = vt("cpu", "nanoseconds");
    p.sample_types = vec![vt("samples", "count"), vt("cpu", "nanoseconds")];
    let rest = parse_samples(data, w, false, &mut p)?;
    let text = String::from_utf8_lossy(rest.unwrap_or_default());
    parse_locations(&text, &mut p)?;
    strip_addresses(&mut p);
    Ok(p)
}

/// `name = value` lines; returns the text from the first other line.
fn parse_header<'a>(kind: Kind, mut b: &'a str, p: &mut Builder) -> Result<&'a str, LegacyError> {
    while let Some((raw, rest)) = next_line(b) {
        let line = raw.trim();
        if !line.is_empty() {
            let Some(h) = ATTRIBUTE.captures(line) else {
                return Ok(b);
            };
            let attr = h.get(1).map_or("", |m| m.as_str()).trim();
            let value = h.get(2).map_or("", |m| m.as_str()).trim();
            let int = || {
                parse_go_int(value, 0)
                    .ok_or_else(|| malformed(format!("failed to parse attribute {line}")))
            };
            match (kind, attr) {
                (_, "format") => {
                    if value != "java" {
                        return Err(LegacyError::Unrecognized);
                    }
                }
                (Kind::Heap, "resolution") => {
                    p.sample_types = vec![vt("inuse_objects", "count"), vt("inuse_space", value)];
                }
                (Kind::Contention, "resolution") => {
                    p.sample_types = vec![vt("contentions", "count"), vt("delay", value)];
                }
                (Kind::Contention, "sampling period") => {
                    p.period_type = vt("contentions", "count");
                    p.period = int()?;
                }
                (Kind::Contention, "ms since reset") => {
                    p.duration_nanos = int()?.wrapping_mul(1_000_000);
                }
                _ => return Err(LegacyError::Unrecognized),
            }
        }
        b = rest;
    }
    Ok(b)
}

/// `value1 value2 @ ids` lines; returns the text from the first other line.
fn parse_java_samples<'a>(
    kind: Kind,
    mut b: &'a str,
    p: &mut Builder,
) -> Result<&'a str, LegacyError> {
    while let Some((raw, rest)) = next_line(b) {
        let line = raw.trim();
        if !line.is_empty() {
            let Some(c) = SAMPLE.captures(line) else {
                return Ok(b);
            };
            let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
            let bad = |e: &str| malformed(format!("parsing sample {line}: {e}"));
            let addrs = hex_addresses(g(3)).map_err(|e| bad(&e))?;
            let locs = addrs.iter().map(|&a| p.location(a)).collect();
            // The columns are swapped compared to other formats.
            let mut v0 = parse_go_int(g(2), 0).ok_or_else(|| bad("bad number"))?;
            let mut v1 = parse_go_int(g(1), 0).ok_or_else(|| bad("bad number"))?;
            let mut num_labels = Vec::new();
            match kind {
                Kind::Heap => {
                    if v0 == 0 {
                        return Err(bad("second value must be non-zero"));
                    }
                    num_labels.push(("bytes", v1.wrapping_div(v0)));
                    (v0, v1) = scale_heap_sample(v0, v1, JAVA_HEAPZ_SAMPLING_RATE);
                }
                Kind::Contention => {
                    if p.period != 0 {
                        v0 = v0.wrapping_mul(p.period);
                        v1 = v1.wrapping_mul(p.period);
                    }
                }
            }
            p.push_sample(RawSample {
                values: vec![v0, v1],
                locs,
                num_labels,
            })?;
        }
        b = rest;
    }
    Ok(b)
}

/// The `0xid frame` section: gives each used location its frame.
fn parse_locations(b: &str, p: &mut Builder) -> Result<(), LegacyError> {
    let mut functions: HashMap<String, usize> = HashMap::new();
    for raw in b.split_inclusive('\n') {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some(c) = LOCATION.captures(line) else {
            continue;
        };
        let id = c.get(1).map_or("", |m| m.as_str());
        let frame = c.get(2).map_or("", |m| m.as_str());
        let addr = parse_go_uint(id, 16)
            .ok_or_else(|| malformed(format!("parsing sample {line}: bad id")))?;
        let Some(&loc) = p.by_address.get(&addr) else {
            continue; // not used by any sample
        };
        let (mut func, mut file, mut line_no) = (frame.to_string(), String::new(), 0);
        if let Some(fl) = LOCATION_FILE_LINE.captures(frame) {
            // `function (file:line)`
            func = fl[1].to_string();
            file = fl[2].to_string();
            line_no = parse_go_int(&fl[3], 10).filter(|&n| n > 0).unwrap_or(0);
        } else if let Some(fp) = LOCATION_PATH.captures(frame) {
            // `function (path)`: a shared library; its name is enough.
            func = fp[1].to_string();
            file = crate::paths::base_name(&fp[2]).to_string();
        } else if frame.contains("generated stub/JIT") {
            func = "STUB".to_string();
        }
        // Functions are shared by name: the first file seen for one stays.
        let f = match functions.get(&func) {
            Some(&f) => f,
            None => {
                p.functions.push(RawFunction {
                    name: func.clone(),
                    filename: file,
                });
                functions.insert(func, p.functions.len() - 1);
                p.functions.len() - 1
            }
        };
        let l = &mut p.locations[loc];
        l.line = Some((f, line_no));
        l.address = 0;
    }
    p.remap_location_ids();
    p.remap_function_ids();
    maps::remap_mapping_ids(p);
    Ok(())
}

/// Ids that were not resolved are dropped too, so that equal frames merge.
fn strip_addresses(p: &mut Builder) {
    for l in &mut p.locations {
        l.address = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let text = "--- contentionz 1 ---\nformat = java\nresolution = microseconds\n\
                    sampling period = 100\n  1 2 @ 0x1 0x2 0x3\n\
                    0x1 a.b (A.java:12)\n0x2 c.d (/lib/libx.so)\n0x3 generated stub/JIT\n";
        let p = parse(text, 10).unwrap();
        assert_eq!(p.samples[0].values, [200, 100]);
        let names: Vec<(&str, &str, i64)> = p.samples[0]
            .locs
            .iter()
            .map(|&l| {
                let (f, line) = p.locations[l].line.unwrap();
                (
                    p.functions[f].name.as_str(),
                    p.functions[f].filename.as_str(),
                    line,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("a.b", "A.java", 12),
                ("c.d", "libx.so", 0),
                ("STUB", "", 0)
            ]
        );
        assert!(p.mappings.is_empty());
    }
}
