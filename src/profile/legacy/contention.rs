//! Contention text profiles: gperftools `--- contentionz` and the Go
//! runtime's `--- mutex:` / `--- contention:` (`?debug=1` of the mutex and
//! block profiles). `name = value` attributes, then `delay count @ pcs`.
//!
//! ```text
//! --- contentionz 1 ---
//! cycles/second = 3201000000
//! sampling period = 100
//! 19490304       27 @ 0xbccc97 0xc61202 ...
//! ```

use std::sync::LazyLock;

use regex::Regex;

use super::{
    hex_addresses, is_space_or_comment, malformed, parse_additional_sections, parse_go_int, re, vt,
    Builder, LegacyError, RawSample, Scanner,
};

static CONTENTION_SAMPLE: LazyLock<Regex> =
    LazyLock::new(|| re(r"([0-9]+) *([0-9]+) @([ x0-9a-f]*)"));

pub(super) fn parse(text: &str, max_samples: usize) -> Result<Builder, LegacyError> {
    let mut s = Scanner::new(text);
    if !s.scan() {
        return Err(LegacyError::Unrecognized);
    }
    let first = s.text();
    if !["--- contentionz ", "--- mutex:", "--- contention:"]
        .iter()
        .any(|prefix| first.starts_with(prefix))
    {
        return Err(LegacyError::Unrecognized);
    }
    let mut p = Builder::new(max_samples);
    p.period_type = vt("contentions", "count");
    p.period = 1;
    p.sample_types = vec![vt("contentions", "count"), vt("delay", "nanoseconds")];

    let mut cpu_hz = 0i64;
    while s.scan() {
        let line = s.text().trim();
        if is_space_or_comment(line) {
            continue;
        }
        if line.starts_with("---") {
            break;
        }
        let Some((key, val)) = line.split_once('=') else {
            break;
        };
        let int = || parse_go_int(val.trim(), 0).ok_or(LegacyError::Unrecognized);
        match key.trim() {
            "cycles/second" => cpu_hz = int()?,
            "sampling period" => p.period = int()?,
            "ms since reset" => p.duration_nanos = int()?.wrapping_mul(1_000_000),
            "discarded samples" => {}
            // `format` and `resolution` are Java's: not this format.
            _ => return Err(LegacyError::Unrecognized),
        }
    }

    loop {
        let line = s.text().trim();
        if line.starts_with("---") {
            break;
        }
        if !is_space_or_comment(line) {
            let (values, addrs) = parse_contention_sample(line, p.period, cpu_hz)?;
            // Return addresses point after the call: move onto it.
            let locs = addrs
                .iter()
                .map(|&a| p.location(a.wrapping_sub(1)))
                .collect();
            p.push_sample(RawSample {
                values,
                locs,
                num_labels: Vec::new(),
            })?;
        }
        if !s.scan() {
            break;
        }
    }
    parse_additional_sections(&mut s, &mut p);
    Ok(p)
}

/// `delay count @ pcs`: values are `[contentions, delay in ns]`, unsampled
/// when the period (and the clock rate, for delays in cycles) are known.
fn parse_contention_sample(
    line: &str,
    period: i64,
    cpu_hz: i64,
) -> Result<(Vec<i64>, Vec<u64>), LegacyError> {
    let c = CONTENTION_SAMPLE
        .captures(line)
        .ok_or(LegacyError::Unrecognized)?;
    let g = |i: usize| c.get(i).map_or("", |m| m.as_str());
    let bad = |e: &str| malformed(format!("malformed sample: {line}: {e}"));
    let mut delay = parse_go_int(g(1), 10).ok_or_else(|| bad("number out of range"))?;
    let mut count = parse_go_int(g(2), 10).ok_or_else(|| bad("number out of range"))?;
    if period > 0 {
        if cpu_hz > 0 {
            let cpu_ghz = cpu_hz as f64 / 1e9;
            delay = super::go_f64_to_i64(delay as f64 * period as f64 / cpu_ghz);
        }
        count = count.wrapping_mul(period);
    }
    let addrs = hex_addresses(g(3)).map_err(|e| bad(&e))?;
    Ok((vec![count, delay], addrs))
}
