//! `raw` (pprof's `Profile.String()` of the prepared profile) and
//! `comments` (the profile's comments, one per line).

use std::fmt::Write;

use crate::profile::{Label, Profile};

use super::Report;

/// pprof's `-raw`: the profile as its Go `String()` method dumps it.
pub fn print_raw(rpt: &Report) -> String {
    profile_string(&rpt.prof)
}

/// pprof's `-comments`: every comment on its own line.
pub fn print_comments(rpt: &Report) -> String {
    let p = &rpt.prof;
    let mut out = String::new();
    for &c in &p.comments {
        out.push_str(p.str(c));
        out.push('\n');
    }
    out
}

/// Go's `Profile.String()` (pprof as vendored in Go 1.19).
pub fn profile_string(p: &Profile) -> String {
    let mut ss: Vec<String> = Vec::new();
    for &c in &p.comments {
        ss.push(format!("Comment: {}", p.str(c)));
    }
    // pprof's copy of the profile always has a period type (empty
    // strings when the producer wrote none).
    ss.push(format!(
        "PeriodType: {} {}",
        p.str(p.period_type.ty),
        p.str(p.period_type.unit)
    ));
    ss.push(format!("Period: {}", p.period));
    if p.time_nanos != 0 {
        ss.push(format!("Time: {}", go_time(p.time_nanos)));
    }
    if p.duration_nanos != 0 {
        ss.push(format!("Duration: {}", go_duration_4(p.duration_nanos)));
    }
    ss.push("Samples:".into());
    let dflt = p.str(p.default_sample_type);
    let mut sh = String::new();
    for t in &p.sample_types {
        let mark = if p.str(t.ty) == dflt { "[dflt]" } else { "" };
        let _ = write!(sh, "{}/{}{mark} ", p.str(t.ty), p.str(t.unit));
    }
    ss.push(sh.trim().to_string());
    for i in 0..p.samples.len() {
        let mut s = String::new();
        for v in p.samples.values(i) {
            let _ = write!(s, " {v:>10}");
        }
        s.push_str(": ");
        for &l in p.samples.stack(i) {
            let _ = write!(s, "{} ", p.locations[l as usize].id);
        }
        ss.push(s);
        let (strs, nums) = sample_labels(p, p.samples.labels(i));
        if !strs.is_empty() {
            ss.push(format!("{:16}{strs}", ""));
        }
        if !nums.is_empty() {
            ss.push(format!("{:16}{nums}", ""));
        }
    }
    ss.push("Locations".into());
    for l in &p.locations {
        let mut head = format!("{:6}: {:#x} ", l.id, l.address);
        if let Some(m) = l.mapping.and_then(|m| p.mappings.get(m as usize)) {
            let _ = write!(head, "M={} ", m.id);
        }
        if l.is_folded {
            head.push_str("[F] ");
        }
        if l.lines.is_empty() {
            ss.push(head.clone());
        }
        for ln in &l.lines {
            let f = p.function(ln);
            let mut s = format!(
                "{} {}:{} s={}",
                p.str(f.name),
                p.str(f.filename),
                ln.line,
                f.start_line
            );
            if p.str(f.name) != p.str(f.system_name) {
                let _ = write!(s, "({})", p.str(f.system_name));
            }
            ss.push(format!("{head}{s}"));
            head = " ".repeat(13);
        }
    }
    ss.push("Mappings".into());
    for m in &p.mappings {
        let mut bits = String::new();
        for (on, b) in [
            (m.has_functions, "[FN]"),
            (m.has_filenames, "[FL]"),
            (m.has_line_numbers, "[LN]"),
            (m.has_inline_frames, "[IN]"),
        ] {
            if on {
                bits.push_str(b);
            }
        }
        ss.push(format!(
            "{}: {:#x}/{:#x}/{:#x} {} {} {bits}",
            m.id,
            m.start,
            m.limit,
            m.offset,
            p.str(m.file),
            p.str(m.build_id)
        ));
    }
    ss.join("\n") + "\n"
}

/// A sample's string and numeric labels as Go prints its label maps:
/// `key:[v1 v2]` sorted, and `key:[5 bytes]` (values with their units when
/// every value has one).
fn sample_labels(p: &Profile, labels: &[Label]) -> (String, String) {
    let mut strs: Vec<(&str, Vec<&str>)> = Vec::new();
    // key, values, units (as Go pads them: "" for values without one).
    type Num<'a> = (&'a str, Vec<i64>, Vec<&'a str>);
    let mut nums: Vec<Num> = Vec::new();
    for l in labels {
        let key = p.str(l.key);
        if !l.is_numeric() {
            match strs.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(p.str(l.str)),
                None => strs.push((key, vec![p.str(l.str)])),
            }
        } else if l.num != 0 || l.unit != 0 {
            let i = match nums.iter().position(|(k, _, _)| *k == key) {
                Some(i) => i,
                None => {
                    nums.push((key, Vec::new(), Vec::new()));
                    nums.len() - 1
                }
            };
            let (_, vals, units) = &mut nums[i];
            if l.unit != 0 {
                units.resize(vals.len(), "");
                units.push(p.str(l.unit));
            }
            vals.push(l.num);
        }
    }
    let mut s: Vec<String> = strs
        .iter()
        .map(|(k, v)| format!("{k}:[{}]", v.join(" ")))
        .collect();
    s.sort();
    let mut n: Vec<String> = nums
        .iter_mut()
        .map(|(k, v, units)| {
            if !units.is_empty() {
                units.resize(v.len(), "");
            }
            let vals: Vec<String> = if units.len() == v.len() {
                v.iter()
                    .zip(units.iter())
                    .map(|(v, u)| format!("{v} {u}"))
                    .collect()
            } else {
                v.iter().map(i64::to_string).collect()
            };
            format!("{k}:[{}]", vals.join(" "))
        })
        .collect();
    n.sort();
    (s.join(" "), n.join(" "))
}

/// Go's `time.Unix(0, ns).String()` in the local time zone:
/// `2006-01-02 15:04:05.999999999 -0700 MST`.
fn go_time(ns: i64) -> String {
    let Ok(t) = jiff::Timestamp::from_nanosecond(i128::from(ns)) else {
        return ns.to_string();
    };
    let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
    let z = t.to_zoned(tz);
    let frac = format!("{:09}", z.subsec_nanosecond());
    let frac = frac.trim_end_matches('0');
    let dot = if frac.is_empty() { "" } else { "." };
    format!(
        "{}{dot}{frac}{}",
        z.strftime("%Y-%m-%d %H:%M:%S"),
        z.strftime(" %z %Z")
    )
}

/// Go's `%.4v` of a `time.Duration` (its String, cut to 4 characters).
pub fn go_duration_4(ns: i64) -> String {
    let u = ns.unsigned_abs();
    let sign = if ns < 0 { "-" } else { "" };
    let s = if u < 1_000_000_000 {
        let (unit, div) = match u {
            0 => ("s", 1),
            1..=999 => ("ns", 1),
            1_000..=999_999 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        let frac = format!("{:0w$}", u % div, w = (div as f64).log10() as usize);
        let frac = frac.trim_end_matches('0');
        let dot = if frac.is_empty() { "" } else { "." };
        format!("{sign}{}{dot}{frac}{unit}", u / div)
    } else {
        let (secs, nanos) = (u / 1_000_000_000, u % 1_000_000_000);
        let frac = format!("{nanos:09}");
        let frac = frac.trim_end_matches('0');
        let dot = if frac.is_empty() { "" } else { "." };
        let mut s = format!("{}{dot}{frac}s", secs % 60);
        let mins = secs / 60;
        if mins > 0 {
            s = format!("{}m{s}", mins % 60);
            if mins >= 60 {
                s = format!("{}h{s}", mins / 60);
            }
        }
        format!("{sign}{s}")
    };
    s.chars().take(4).collect()
}
