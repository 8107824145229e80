//! gperftools binary CPU profiles (also written by Go before protobuf
//! profiles, and by Java agents): a header of five words, then samples of
//! `count, depth, pc...` words, an end marker `0, 1, 0`, and the process's
//! memory map as text. Words are 32 or 64 bits, little or big endian: the
//! header (`0, 3, 0|1, period, 0`) tells which.

use std::collections::HashMap;

use super::{maps, Builder, LegacyError, RawSample, Scanner};

/// Word size and byte order, tried in this order as pprof does.
#[derive(Clone, Copy, Debug)]
pub(super) enum Word {
    Le32,
    Be32,
    Le64,
    Be64,
}

impl Word {
    const ALL: [Word; 4] = [Word::Le32, Word::Be32, Word::Le64, Word::Be64];

    /// Reads one word. `None` input or too few bytes give `(0, None)`:
    /// once the data runs out every later read yields 0, as in pprof.
    fn read(self, b: Option<&[u8]>) -> (u64, Option<&[u8]>) {
        let size = match self {
            Word::Le32 | Word::Be32 => 4,
            Word::Le64 | Word::Be64 => 8,
        };
        let Some(b) = b.filter(|b| b.len() >= size) else {
            return (0, None);
        };
        let (w, rest) = b.split_at(size);
        let mut v = 0u64;
        match self {
            Word::Le32 | Word::Le64 => {
                for &byte in w.iter().rev() {
                    v = v << 8 | byte as u64;
                }
            }
            Word::Be32 | Word::Be64 => {
                for &byte in w {
                    v = v << 8 | byte as u64;
                }
            }
        }
        (v, Some(rest))
    }
}

/// Recognizes the binary header and parses a C++ or Java CPU profile.
pub(super) fn parse(data: &[u8], max_samples: usize) -> Result<Builder, LegacyError> {
    for w in Word::ALL {
        let mut b = Some(data);
        let mut n = [0u64; 5];
        for v in &mut n {
            (*v, b) = w.read(b);
        }
        let Some(rest) = b else { continue };
        if n[0] == 0 && n[1] == 3 && n[3] > 0 && n[4] == 0 {
            let period = n[3] as i64;
            match n[2] {
                0 => return cpp_profile(rest, period, w, max_samples),
                1 => return super::java::cpu_profile(rest, period, w, max_samples),
                _ => {}
            }
        }
    }
    Err(LegacyError::Unrecognized)
}

fn new_cpu_builder(period_us: i64, max_samples: usize) -> Builder {
    let mut p = Builder::new(max_samples);
    p.period = period_us.wrapping_mul(1000);
    p.period_type = super::vt("cpu", "nanoseconds");
    p.sample_types = vec![
        super::vt("samples", "count"),
        super::vt("cpu", "nanoseconds"),
    ];
    p
}

fn cpp_profile(
    data: &[u8],
    period_us: i64,
    w: Word,
    max_samples: usize,
) -> Result<Builder, LegacyError> {
    let mut p = new_cpu_builder(period_us, max_samples);
    let rest = parse_samples(data, w, true, &mut p)?;
    strip_signal_frames(&mut p);
    let text = String::from_utf8_lossy(rest.unwrap_or_default());
    maps::parse_memory_map(&mut Scanner::new(&text), &mut p);
    cleanup_duplicate_locations(&mut p);
    Ok(p)
}

/// When (almost) every sample has the same second frame, that frame was
/// pushed by the signal handler, not called by the program: remove it (up
/// to two such layers). The leaf comes from the signal context, so it is
/// always right.
fn strip_signal_frames(p: &mut Builder) {
    // One differing sample is allowed per this many alike ones.
    const SIMILAR_SAMPLES: usize = 32;
    let n = p.samples.len();
    let margin = n / SIMILAR_SAMPLES;
    for _ in 0..2 {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for s in &p.samples {
            if s.locs.len() > 1 {
                *counts.entry(p.locations[s.locs[1]].address).or_default() += 1;
            }
        }
        // More than half of the samples must agree, so at most one matches.
        let Some(addr) = counts
            .iter()
            .find(|(_, &c)| c >= n - margin)
            .map(|(&a, _)| a)
        else {
            continue;
        };
        for s in &mut p.samples {
            if s.locs.len() > 1 && p.locations[s.locs[1]].address == addr {
                s.locs.remove(1);
            }
        }
    }
}

/// The profiler may record the leaf twice, from the signal context and
/// from unwinding (then adjusted by -1): drop the copy.
pub(super) fn cleanup_duplicate_locations(p: &mut Builder) {
    for s in &mut p.samples {
        if s.locs.len() > 1
            && p.locations[s.locs[0]].address == p.locations[s.locs[1]].address.wrapping_add(1)
        {
            s.locs.remove(1);
        }
    }
}

/// Reads samples up to the end marker (or the end of the data); returns
/// what follows. Return addresses are moved back by one onto the call
/// (`adjust`), except the leaf, which is not a call.
pub(super) fn parse_samples<'a>(
    data: &'a [u8],
    w: Word,
    adjust: bool,
    p: &mut Builder,
) -> Result<Option<&'a [u8]>, LegacyError> {
    let mut b = Some(data);
    while b.is_some_and(|b| !b.is_empty()) {
        let count;
        let depth;
        (count, b) = w.read(b);
        (depth, b) = w.read(b);
        // pprof's sanity bound on the depth (in 4-byte units whatever the
        // word size); it also bounds the allocation below.
        match b {
            Some(r) if depth <= (r.len() / 4) as u64 => {}
            _ => return Err(LegacyError::Unrecognized),
        }
        let mut addrs = Vec::with_capacity(depth as usize);
        for _ in 0..depth {
            let a;
            (a, b) = w.read(b);
            addrs.push(a);
        }
        if count == 0 && depth == 1 && addrs[0] == 0 {
            break;
        }
        let mut locs = Vec::with_capacity(addrs.len());
        for (i, &addr) in addrs.iter().enumerate() {
            let addr = if adjust && i > 0 {
                addr.wrapping_sub(1)
            } else {
                addr
            };
            locs.push(p.location(addr));
        }
        let count = count as i64;
        p.push_sample(RawSample {
            values: vec![count, count.wrapping_mul(p.period)],
            locs,
            num_labels: Vec::new(),
        })?;
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(words: &[u64], w: Word) -> Vec<u8> {
        let mut out = Vec::new();
        for &v in words {
            match w {
                Word::Le32 => out.extend_from_slice(&(v as u32).to_le_bytes()),
                Word::Be32 => out.extend_from_slice(&(v as u32).to_be_bytes()),
                Word::Le64 => out.extend_from_slice(&v.to_le_bytes()),
                Word::Be64 => out.extend_from_slice(&v.to_be_bytes()),
            }
        }
        out
    }

    /// The same profile in every word size and byte order parses alike.
    #[test]
    fn word_layouts() {
        let words = [
            0, 3, 0, 10000, 0, // header: 10ms period
            2, 3, 0x401000, 0x402005, 0x403005, // 2 x leaf, caller, caller
            1, 2, 0x401010, 0x402005, // 1 x
            0, 1, 0, // end
        ];
        let maps = b"00400000-00500000 r-xp 00000000 00:00 0 /bin/app\n";
        let mut first = None;
        for w in Word::ALL {
            let mut data = encode(&words, w);
            data.extend_from_slice(maps);
            let mut b = parse(&data, usize::MAX).unwrap();
            b.add_legacy_frame_info();
            let p = b.into_profile().unwrap();
            assert_eq!(p.samples.len(), 2, "{w:?}");
            assert_eq!(p.period, 10_000_000);
            assert_eq!(p.samples.values(0), &[2, 20_000_000]);
            let addrs: Vec<u64> = p
                .samples
                .stack(0)
                .iter()
                .map(|&l| p.locations[l as usize].address)
                .collect();
            // The shared second frame was stripped as a signal frame.
            assert_eq!(addrs, [0x401000, 0x403004], "{w:?}");
            assert_eq!(p.str(p.mappings[0].file), "/bin/app");
            let summary = format!("{:?}", (addrs, p.samples.values.clone(), p.locations.len()));
            match &first {
                None => first = Some(summary),
                Some(f) => assert_eq!(f, &summary, "{w:?}"),
            }
        }
    }

    #[test]
    fn truncated_and_garbage() {
        assert!(matches!(
            parse(&[], usize::MAX),
            Err(LegacyError::Unrecognized)
        ));
        let mut data = encode(&[0, 3, 0, 100, 0, 1, 1000], Word::Le64);
        assert!(matches!(
            parse(&data, usize::MAX),
            Err(LegacyError::Unrecognized)
        ));
        data.truncate(43);
        assert!(parse(&data, usize::MAX).is_err());
    }
}
