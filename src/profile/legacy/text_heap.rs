//! `heap profile:` text profiles: gperftools heapz (v1 and v2 sampling),
//! growthz and fragmentationz profiles, and Go's `/debug/pprof/heap?debug=1`
//! output (`@ heap/<2*rate>`), which has both in-use and allocated values.
//!
//! ```text
//! heap profile: 13: 1595680 [47130736: 2584596557304] @ heap/1048576
//! 1: 524288 [3: 1572864] @ 0x420cef 0x422151 ...
//! ```

use std::sync::LazyLock;

use regex::Regex;

use super::{
    hex_addresses, is_memory_map_sentinel, is_space_or_comment, malformed,
    parse_additional_sections, parse_go_int, re, scale_heap_sample, vt, Builder, LegacyError,
    RawSample, Scanner,
};

static HEAP_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] *@ *(heap[_a-z0-9]*)/?([0-9]*)",
    )
});
static GROWTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @ growthz?")
});
static FRAGMENTATION_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(r"heap profile: *([0-9]+): *([0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @ fragmentationz?")
});
static HEAP_SAMPLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(-?[0-9]+): *(-?[0-9]+) *\[ *([0-9]+): *([0-9]+) *\] @([ x0-9a-f]*)"));

/// How values were sampled.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sampling {
    /// Every allocation recorded, or an unknown scheme: values as they are.
    Plain,
    /// Poisson sampling with the profile's period as the mean: unsampled.
    V2,
}

/// The header's sampling scheme, period, and whether it has allocation
/// values beside the in-use ones; `None` when not a heap header.
fn parse_heap_header(line: &str) -> Option<(Sampling, i64, bool)> {
    let h = HEAP_HEADER.captures(line)?;
    let g = |i: usize| h.get(i).map_or("", |m| m.as_str());
    let mut period = 0;
    if !g(6).is_empty() {
        period = parse_go_int(g(6), 10)?;
    }
    // Allocation columns that differ from the in-use ones (and are not
    // zero) mean the profile tracks both.
    let has_alloc = (g(3) != g(1) && g(3) != "0") || (g(4) != g(2) && g(4) != "0");
    match g(5) {
        "heapz_v2" | "heap_v2" => Some((Sampling::V2, period, has_alloc)),
        "heapprofile" => Some((Sampling::Plain, 1, has_alloc)),
        // Go writes twice the sampling rate after `heap/`.
        "heap" => Some((Sampling::V2, period / 2, has_alloc)),
        _ => None,
    }
}

pub(super) fn parse(text: &str, max_samples: usize) -> Result<Builder, LegacyError> {
    let mut s = Scanner::new(text);
    if !s.scan() {
        return Err(LegacyError::Unrecognized);
    }
    let mut p = Builder::new(max_samples);
    p.period_type = vt("space", "bytes");
    let line = s.text();
    let (sampling, has_alloc) = if HEAP_HEADER.is_match(line) {
        let (sampling, period, has_alloc) =
            parse_heap_header(line).ok_or(LegacyError::Unrecognized)?;
        p.period = period;
        (sampling, has_alloc)
    } else if GROWTH_HEADER.is_match(line) || FRAGMENTATION_HEADER.is_match(line) {
        p.period = 1;
        (Sampling::Plain, false)
    } else {
        return Err(LegacyError::Unrecognized);
    };
    p.sample_types = if has_alloc {
        // Allocations first, so that the default (last) type is inuse_space.
        vec![
            vt("alloc_objects", "count"),
            vt("alloc_space", "bytes"),
            vt("inuse_objects", "count"),
            vt("inuse_space", "bytes"),
        ]
    } else {
        vec![vt("objects", "count"), vt("space", "bytes")]
    };

    while s.scan() {
        let line = s.text().trim();
        if is_space_or_comment(line) {
            continue;
        }
        if is_memory_map_sentinel(line) {
            break;
        }
        let (values, block_size, addrs) = parse_heap_sample(line, p.period, sampling, has_alloc)?;
        // Return addresses point after the call: move onto it.
        let locs = addrs
            .iter()
            .map(|&a| p.location(a.wrapping_sub(1)))
            .collect();
        p.push_sample(RawSample {
            values,
            locs,
            num_labels: vec![("bytes", block_size)],
        })?;
    }
    parse_additional_sections(&mut s, &mut p);
    Ok(p)
}

/// One sample line: values (alloc pair first when present, then in-use),
/// the block size (bytes per object) and the stack.
fn parse_heap_sample(
    line: &str,
    rate: i64,
    sampling: Sampling,
    include_alloc: bool,
) -> Result<(Vec<i64>, i64, Vec<u64>), LegacyError> {
    let c = HEAP_SAMPLE
        .captures(line)
        .ok_or_else(|| malformed(format!("unexpected heap sample line: {line}")))?;
    let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
    let mut values = Vec::with_capacity(4);
    let mut block_size = 0;
    let mut add = |count: &str, size: &str, what: &str| -> Result<(), LegacyError> {
        let bad = || malformed(format!("malformed sample: {line}: number out of range"));
        let mut count = parse_go_int(count, 10).ok_or_else(bad)?;
        let mut size = parse_go_int(size, 10).ok_or_else(bad)?;
        if count == 0 && size != 0 {
            return Err(malformed(format!(
                "{what} count was 0 but {what} bytes was {size}"
            )));
        }
        if count != 0 {
            block_size = size.wrapping_div(count);
            if sampling == Sampling::V2 {
                (count, size) = scale_heap_sample(count, size, rate);
            }
        }
        values.push(count);
        values.push(size);
        Ok(())
    };
    if include_alloc {
        add(g(3), g(4), "allocation")?;
    }
    add(g(1), g(2), "inuse")?;
    let addrs =
        hex_addresses(g(5)).map_err(|e| malformed(format!("malformed sample: {line}: {e}")))?;
    Ok((values, block_size, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_debug1_heap() {
        let text = "heap profile: 2: 64 [3: 96] @ heap/1024\n\
                    1: 32 [2: 64] @ 0x1001 0x2001\n\
                    #\t0x1000\tmain.f+0x10\t/x/main.go:10\n\
                    \n\
                    1: 32 [1: 32] @\n\
                    # runtime.MemStats\n# Alloc = 1\n";
        let p = parse(text, usize::MAX).unwrap();
        assert_eq!(p.period, 512);
        assert_eq!(p.sample_types.len(), 4);
        assert_eq!(p.samples.len(), 2);
        assert!(p.samples[1].locs.is_empty());
        assert_eq!(p.locations[p.samples[0].locs[0]].address, 0x1000);
        // Mappings: one catch-all for the unmapped addresses.
        assert_eq!(p.mappings.len(), 1);
        assert_eq!(p.mappings[0].limit, u64::MAX);
    }

    #[test]
    fn bad_lines() {
        assert!(matches!(
            parse("hello\n", 10),
            Err(LegacyError::Unrecognized)
        ));
        let bad = "heap profile: 1: 1 [1: 1] @ heapprofile\n0: 5 [0: 0] @ 0x1\n";
        assert!(matches!(parse(bad, 10), Err(LegacyError::Malformed(_))));
        let bad = "heap profile: 1: 1 [1: 1] @ heapprofile\nxyz\n";
        assert!(matches!(parse(bad, 10), Err(LegacyError::Malformed(_))));
        let many =
            "heap profile: 1: 1 [1: 1] @ heapprofile\n1: 1 [1: 1] @ 0x1\n1: 1 [1: 1] @ 0x2\n";
        assert!(matches!(
            parse(many, 1),
            Err(LegacyError::TooManySamples(1))
        ));
    }
}
