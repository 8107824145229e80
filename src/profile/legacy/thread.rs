//! gperftools/Google threadz dumps: one stack per thread, addresses with
//! or without symbols, `[same as previous thread]` for repeated stacks.
//!
//! ```text
//! --- threadz 1 ---
//! --- Thread 7f794ab90940 (name: main/14748) stack: ---
//!   PC:  0x00bc8f1c: helper(arg *)
//!   0x0040be31: main
//! ```

use std::sync::LazyLock;

use regex::Regex;

use super::{
    hex_addresses, is_memory_map_sentinel, is_space_or_comment, malformed,
    parse_additional_sections, re, vt, Builder, LegacyError, RawSample, Scanner,
};

static THREADZ_START: LazyLock<Regex> = LazyLock::new(|| re(r"--- threadz [0-9]+ ---"));
static THREAD_START: LazyLock<Regex> =
    LazyLock::new(|| re(r"--- Thread ([[:xdigit:]]+) \(name: (.*)/([0-9]+)\) stack: ---"));

pub(super) fn parse(text: &str, max_samples: usize) -> Result<Builder, LegacyError> {
    let mut s = Scanner::new(text);
    while s.scan() && is_space_or_comment(s.text()) {}
    let mut line = s.text();
    if THREADZ_START.is_match(line) {
        // Skip the preamble up to the first thread (or the memory map).
        while s.scan() {
            line = s.text();
            if is_memory_map_sentinel(line) || line.starts_with('-') {
                break;
            }
        }
    } else if !THREAD_START.is_match(line) {
        return Err(LegacyError::Unrecognized);
    }

    let mut p = Builder::new(max_samples);
    p.sample_types = vec![vt("thread", "count")];
    p.period_type = vt("thread", "count");
    p.period = 1;
    // `line` is always a thread header here, or the loop ends.
    let mut line = line.to_string();
    while !is_memory_map_sentinel(&line) {
        if line.starts_with("---- no stack trace for") {
            line.clear();
            break;
        }
        if !THREAD_START.is_match(&line) {
            return Err(LegacyError::Unrecognized);
        }
        let (next, addrs) = parse_thread_sample(&mut s)?;
        line = next;
        let Some(addrs) = addrs.filter(|a| !a.is_empty()) else {
            // Same stack as the thread before: count it there.
            if let Some(last) = p.samples.last_mut() {
                last.values[0] = last.values[0].wrapping_add(1);
            }
            continue;
        };
        let mut locs = Vec::with_capacity(addrs.len());
        for (i, &addr) in addrs.iter().enumerate() {
            // Callers' addresses are return addresses; the leaf is not.
            let addr = if i > 0 { addr.wrapping_sub(1) } else { addr };
            locs.push(p.location(addr));
        }
        p.push_sample(RawSample {
            values: vec![1],
            locs,
            num_labels: Vec::new(),
        })?;
    }
    parse_additional_sections(&mut s, &mut p);
    super::cpu::cleanup_duplicate_locations(&mut p);
    Ok(p)
}

/// Reads one thread's stack: returns the line that ended it (the next
/// `---` header, or the last line read) and its addresses, or `None` for
/// a `same as previous thread` marker.
fn parse_thread_sample(s: &mut Scanner) -> Result<(String, Option<Vec<u64>>), LegacyError> {
    let mut line = "";
    let mut same_as_previous = false;
    let mut addrs = Vec::new();
    while s.scan() {
        line = s.text().trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("---") {
            break;
        }
        if line.contains("same as previous thread") {
            same_as_previous = true;
            continue;
        }
        let found =
            hex_addresses(line).map_err(|e| malformed(format!("malformed sample: {line}: {e}")))?;
        addrs.extend(found);
    }
    Ok((line.to_string(), (!same_as_previous).then_some(addrs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_a_closing_section() {
        // pprof only accepts a dump whose last stack is followed by a
        // `---` line (memory map or another marker).
        let text = "--- threadz 1 ---\n--- Thread 1 (name: a/1) stack: ---\n  0x10\n";
        assert!(matches!(parse(text, 10), Err(LegacyError::Unrecognized)));
        let text = format!("{text}--- Memory map: ---\n");
        let p = parse(&text, 10).unwrap();
        assert_eq!(p.samples.len(), 1);
    }
}
