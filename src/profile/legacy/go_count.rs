//! Go count profiles as `/debug/pprof/goroutine?debug=1` and
//! `threadcreate?debug=1` write them:
//!
//! ```text
//! threadcreate profile: total 7
//! 1 @ 0x44cb3 0x45045 ...
//! ```

use std::sync::LazyLock;

use regex::Regex;

use super::{
    is_space_or_comment, malformed, parse_additional_sections, parse_go_int, parse_go_uint, re, vt,
    Builder, LegacyError, RawSample, Scanner, NSP,
};

static COUNT_START: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"\A({NSP}+) profile: total [0-9]+\z")));
static COUNT: LazyLock<Regex> = LazyLock::new(|| re(r"\A([0-9]+) @(( 0x[0-9a-f]+)+)\z"));

pub(super) fn parse(text: &str, max_samples: usize) -> Result<Builder, LegacyError> {
    let mut s = Scanner::new(text);
    while s.scan() && is_space_or_comment(s.text()) {}
    let m = COUNT_START
        .captures(s.text())
        .ok_or(LegacyError::Unrecognized)?;
    let profile_type = m.get(1).map_or("", |g| g.as_str());
    let mut p = Builder::new(max_samples);
    p.period_type = vt(profile_type, "count");
    p.period = 1;
    p.sample_types = vec![vt(profile_type, "count")];
    while s.scan() {
        let line = s.text();
        if is_space_or_comment(line) {
            continue;
        }
        if line.starts_with("---") {
            break;
        }
        let bad = || malformed(format!("bad count profile line: {line}"));
        let m = COUNT.captures(line).ok_or_else(bad)?;
        let n = m
            .get(1)
            .and_then(|g| parse_go_int(g.as_str(), 0))
            .ok_or_else(bad)?;
        let mut locs = Vec::new();
        for frame in m.get(2).map_or("", |g| g.as_str()).split_whitespace() {
            let addr = parse_go_uint(frame, 0).ok_or_else(bad)?;
            // Every frame, the leaf included, is a return address here.
            locs.push(p.location(addr.wrapping_sub(1)));
        }
        p.push_sample(RawSample {
            values: vec![n],
            locs,
            num_labels: Vec::new(),
        })?;
    }
    parse_additional_sections(&mut s, &mut p);
    Ok(p)
}
