//! `traces`: every sample on its own, in profile order: its labels, its
//! value and its call stack, leaf first.

use std::collections::HashMap;

use super::graph::NodeTable;
use super::Report;
use crate::paths;
use crate::profile::{Label, Profile, StrId};
use crate::units;

const SEPARATOR: &str = "-----------+-------------------------------------------------------";
/// The blank value column of a stack's further lines.
const INDENT: &str = "          ";
/// The most text of locations' frames made once (and u32 offsets fit).
const LOC_TEXT_MAX: usize = 256 << 20;

/// Prints the report as `go tool pprof -traces` does.
pub fn print_traces(rpt: &mut Report) -> String {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; the text is UTF-8 (made of strings).
    let _ = write_traces(rpt, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes the traces report to `w` sample by sample (it can be far larger
/// than the profile: nothing but one sample's text is held). Control
/// characters of names and labels are escaped here
/// ([`crate::ui::escape_controls`]), as for every text report.
pub fn write_traces(rpt: &mut Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = rpt.profile_labels().join("\n");
    out.push('\n');

    clean_file_names(&mut rpt.prof);
    let p = &rpt.prof;
    let table = NodeTable::new(p, false);
    // Each location's frame lines once, escaped, each line indented by
    // `INDENT` columns that the sample's first line fills with its value:
    // a sample is then one copy per location.
    let names: Vec<String> = table
        .infos
        .iter()
        .map(|i| crate::ui::escape_controls(&i.printable_name(p)).into_owned())
        .collect();
    let push_frames = |t: &mut String, loc: u32| {
        let frames = table.frames(loc);
        for (j, &key) in frames.iter().enumerate() {
            t.push_str(INDENT);
            t.push_str("   ");
            t.push_str(&names[key as usize]);
            if j + 1 != frames.len() {
                t.push_str(" (inline)");
            }
            t.push('\n');
        }
    };
    // Many locations can share one long name: past a bound the text is made
    // per sample instead.
    let text_len: usize = (0..p.locations.len() as u32)
        .flat_map(|l| table.frames(l))
        .map(|&k| names[k as usize].len() + INDENT.len() + 13)
        .fold(0usize, usize::saturating_add);
    let mut text = String::new();
    let loc_text: Option<Vec<u32>> = (text_len <= LOC_TEXT_MAX).then(|| {
        text.reserve(text_len);
        let mut ends = Vec::with_capacity(p.locations.len() + 1);
        ends.push(0);
        for loc in 0..p.locations.len() as u32 {
            push_frames(&mut text, loc);
            ends.push(text.len() as u32);
        }
        ends
    });
    let units: HashMap<StrId, &str> = rpt
        .opts
        .num_label_units
        .iter()
        .filter_map(|(k, u)| Some((p.strings.find(k)?, u.as_str())))
        .collect();
    let sel = rpt.opts.sample;

    let s = &p.samples;
    let rpt = &*rpt;
    let (text, loc_text) = (&text, loc_text.as_deref());
    let frame_text = |loc: u32| -> std::borrow::Cow<'_, str> {
        match loc_text {
            Some(o) => match (o.get(loc as usize), o.get(loc as usize + 1)) {
                (Some(&a), Some(&b)) => text.get(a as usize..b as usize).unwrap_or("").into(),
                _ => "".into(),
            },
            None => {
                let mut t = String::new();
                push_frames(&mut t, loc);
                t.into()
            }
        }
    };
    // The text of samples `range`, escaped.
    let format = |range: std::ops::Range<usize>| -> String {
        let mut out = String::new();
        let mut label_lines: Vec<String> = Vec::new();
        // Sample values repeat: each is formatted once per block.
        let mut value_text: HashMap<i64, String> = HashMap::new();
        for i in range {
            let stack = s.stack(i);
            if stack.iter().all(|&l| table.frames(l).is_empty()) {
                continue;
            }
            out.push_str(SEPARATOR);
            out.push('\n');

            // String labels, then numeric ones, each as sorted `key:  values`.
            for numeric in [false, true] {
                label_lines.clear();
                collect_label_lines(p, s.labels(i), numeric, &units, &mut label_lines);
                label_lines.sort_unstable();
                for l in &label_lines {
                    out.push_str(&crate::ui::escape_controls(l));
                }
            }

            let values = s.values(i);
            let mut v = values[sel.index];
            if sel.mean && values[0] != 0 {
                v = v.wrapping_div(values[0]);
            }
            let mut first = true;
            for &loc in stack {
                let t = frame_text(loc);
                if t.is_empty() {
                    continue;
                }
                if first {
                    first = false;
                    let value = value_text
                        .entry(v)
                        .or_insert_with(|| format!("{:>10}", rpt.format_value(v)));
                    out.push_str(value);
                    out.push_str(t.get(INDENT.len()..).unwrap_or(""));
                } else {
                    out.push_str(&t);
                }
            }
        }
        out
    };
    w.write_all(crate::ui::escape_controls(&out).as_bytes())?;
    // Blocks of samples are formatted on two threads, in turns, and
    // written in order as they come.
    const BLOCK: usize = 2048;
    let n = s.len();
    if n < 8 * BLOCK {
        w.write_all(format(0..n).as_bytes())?;
    } else {
        let blocks = n.div_ceil(BLOCK);
        let format = &format;
        std::thread::scope(|scope| -> std::io::Result<()> {
            let mut queues = Vec::new();
            for first in 0..2 {
                let (tx, rx) = std::sync::mpsc::sync_channel::<String>(8);
                scope.spawn(move || {
                    for b in (first..blocks).step_by(2) {
                        let text = format(b * BLOCK..((b + 1) * BLOCK).min(n));
                        if tx.send(text).is_err() {
                            // The writer stopped (a closed pipe).
                            return;
                        }
                    }
                });
                queues.push(rx);
            }
            for b in 0..blocks {
                match queues[b % 2].recv() {
                    Ok(text) => w.write_all(text.as_bytes())?,
                    // A worker died (a bug): its blocks are made here.
                    Err(_) => {
                        w.write_all(format(b * BLOCK..((b + 1) * BLOCK).min(n)).as_bytes())?
                    }
                }
            }
            Ok(())
        })?;
    }
    w.write_all(SEPARATOR.as_bytes())?;
    w.write_all(b"\n")?;
    w.flush()
}

/// One `%10s:  v1 v2` line per label key of the requested kind, values in
/// profile order; numeric values are auto-scaled in their key's unit.
fn collect_label_lines(
    p: &Profile,
    labels: &[Label],
    numeric: bool,
    units: &HashMap<StrId, &str>,
    lines: &mut Vec<String>,
) {
    let mut keys: Vec<StrId> = Vec::new();
    for l in labels {
        if l.is_numeric() == numeric && !keys.contains(&l.key) {
            keys.push(l.key);
        }
    }
    for key in keys {
        let mut line = format!("{:>10}:  ", p.str(key));
        let mut sep = "";
        for l in labels
            .iter()
            .filter(|l| l.key == key && l.is_numeric() == numeric)
        {
            line.push_str(sep);
            sep = " ";
            if numeric {
                let unit = units.get(&key).copied().unwrap_or("");
                line.push_str(&units::label(l.num, unit));
            } else {
                line.push_str(p.str(l.str));
            }
        }
        line.push('\n');
        lines.push(line);
    }
}

/// pprof cleans source file names (without trimming them, unlike graph
/// reports) before naming frames.
fn clean_file_names(p: &mut Profile) {
    let mut cleaned: HashMap<StrId, StrId> = HashMap::new();
    for i in 0..p.functions.len() {
        let f = p.functions[i].filename;
        if f == 0 {
            continue;
        }
        let id = match cleaned.get(&f) {
            Some(&id) => id,
            None => {
                let c = paths::clean(p.str(f));
                let id = p.strings.intern(&c);
                cleaned.insert(f, id);
                id
            }
        };
        p.functions[i].filename = id;
    }
}
