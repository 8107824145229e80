//! `tags`: for every label key, the total value of the samples carrying
//! each of its values, heaviest first.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::tabwriter::TabWriter;
use super::Report;
use crate::profile::StrId;
use crate::units::{self, percentage};

/// Prints the report as `go tool pprof -tags` does.
pub fn print_tags(rpt: &mut Report) -> String {
    let p = &rpt.prof;
    let o = &rpt.opts;

    // Sums per distinct label first: formatting a value once per distinct
    // label, not once per sample.
    let mut str_sums: HashMap<(StrId, StrId), i64> = HashMap::new();
    let mut num_sums: HashMap<(StrId, i64), i64> = HashMap::new();
    let s = &p.samples;
    for i in 0..s.len() {
        let v = s.values(i)[o.sample.index];
        for l in s.labels(i) {
            let sum = if l.is_numeric() {
                num_sums.entry((l.key, l.num)).or_insert(0)
            } else {
                str_sums.entry((l.key, l.str)).or_insert(0)
            };
            *sum = sum.wrapping_add(v);
        }
    }

    // Then per key and shown value. Numeric values are shown in their key's
    // unit, scaled to the output unit; values that print the same add up.
    let mut tags: BTreeMap<&str, HashMap<String, i64>> = BTreeMap::new();
    let mut add = |key: StrId, value: String, sum: i64| {
        let c = tags
            .entry(p.str(key))
            .or_default()
            .entry(value)
            .or_insert(0);
        *c = c.wrapping_add(sum);
    };
    for (&(key, value), &sum) in &str_sums {
        add(key, p.str(value).to_string(), sum);
    }
    for (&(key, num), &sum) in &num_sums {
        let unit = o.num_label_units.get(p.str(key)).map_or("", String::as_str);
        add(key, units::scaled_label(num, unit, &o.output_unit), sum);
    }

    let scaled = |v: i64| {
        let (f, u) = units::scale(v, &o.sample_unit, &o.output_unit);
        format!("{f:.1}{u}")
    };
    let mut text = String::new();
    for (key, values) in &tags {
        let total = values.values().fold(0i64, |a, &c| a.wrapping_add(c));
        let _ = writeln!(text, "{key}:\t Total {}", scaled(total));
        let mut sorted: Vec<(&String, i64)> = values.iter().map(|(n, &c)| (n, c)).collect();
        sorted.sort_by(tag_order);
        for (name, c) in sorted {
            if total > 0 {
                let _ = writeln!(
                    text,
                    " \t{} ({}):\t {name}",
                    scaled(c),
                    percentage(c, total)
                );
            } else {
                let _ = writeln!(text, " \t{}:\t {name}", scaled(c));
            }
        }
        text.push('\n');
    }
    TabWriter {
        min_width: 0,
        padding: 1,
        pad_char: ' ',
        align_right: true,
    }
    .format(&text)
}

/// pprof's tag order: larger absolute value first, then by name. pprof
/// leaves values of equal magnitude and opposite signs unordered; the sign
/// breaks that tie here so the order is total.
fn tag_order(a: &(&String, i64), b: &(&String, i64)) -> Ordering {
    b.1.unsigned_abs()
        .cmp(&a.1.unsigned_abs())
        .then_with(|| a.0.cmp(b.0))
        .then_with(|| b.1.cmp(&a.1))
}
