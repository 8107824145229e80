//! `folded` and `flame` (beyond pprof's CLI): collapsed stacks, the input
//! format of flame graph tools, and an interactive flame graph SVG drawn
//! with inferno.
//!
//! Folded lines are `root;caller;...;leaf value`: frames at the current
//! granularity (inlined functions are frames of their own), one line per
//! distinct stack, its value in the selected sample type. Lines are sorted
//! by stack (byte order), so outputs diff well.

use std::collections::HashMap;

use inferno::flamegraph::{self, color::BasicPalette, color::Palette};

use super::graph::NodeTable;
use super::Report;

/// The distinct stacks of the prepared profile with their values, sorted
/// by stack. Zero totals are left out; with a base, values can be negative.
pub fn folded_stacks(rpt: &mut Report) -> Vec<(String, i64)> {
    let table = rpt.node_table();
    let p = &rpt.prof;
    let sel = rpt.opts.sample;
    let names = frame_names(p, &table);
    // Sum per distinct location list first: names are built once per stack.
    let mut by_stack: HashMap<&[u32], (i64, i64)> = HashMap::new();
    let s = &p.samples;
    for i in 0..s.len() {
        let values = s.values(i);
        let (w, dw) = (values[sel.index], if sel.mean { values[0] } else { 0 });
        let acc = by_stack.entry(s.stack(i)).or_insert((0, 0));
        acc.0 = acc.0.wrapping_add(w);
        acc.1 = acc.1.wrapping_add(dw);
    }
    let mut folded: HashMap<String, (i64, i64)> = HashMap::new();
    let mut line = String::new();
    for (stack, (w, dw)) in by_stack {
        line.clear();
        for &loc in stack.iter().rev() {
            // Frames are innermost first: the caller comes first here.
            for &key in table.frames(loc).iter().rev() {
                if !line.is_empty() {
                    line.push(';');
                }
                line.push_str(&names[key as usize]);
            }
        }
        if line.is_empty() {
            continue;
        }
        // Different location lists can fold to the same frames.
        let acc = folded.entry(line.clone()).or_insert((0, 0));
        acc.0 = acc.0.wrapping_add(w);
        acc.1 = acc.1.wrapping_add(dw);
    }
    let ratio = rpt.opts.ratio;
    let mut out: Vec<(String, i64)> = folded
        .into_iter()
        .map(|(stack, (w, dw))| {
            let mut v = if dw != 0 { w / dw } else { w };
            if ratio > 0.0 && ratio != 1.0 {
                v = (v as f64 * ratio) as i64;
            }
            (stack, v)
        })
        .filter(|(_, v)| *v != 0)
        .collect();
    out.sort();
    out
}

/// Frame names: the printable node names, without the characters that
/// separate frames and lines in the folded format.
fn frame_names(p: &crate::profile::Profile, table: &NodeTable) -> Vec<String> {
    table
        .infos
        .iter()
        .map(|info| {
            info.printable_name(p)
                .replace(';', ":")
                .replace(['\n', '\r'], " ")
        })
        .collect()
}

/// Prints the collapsed stacks (`folded`).
pub fn print_folded(rpt: &mut Report) -> String {
    let mut out = String::new();
    for (stack, v) in folded_stacks(rpt) {
        out.push_str(&stack);
        out.push(' ');
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

/// Draws the flame graph (`flame`). With `base` (the same report on the
/// base profiles), the graph is differential: widths show the profile,
/// colours the change since the base (red grew, blue shrank).
pub fn print_flame(rpt: &mut Report, base: Option<&mut Report>) -> Result<String, String> {
    let stacks = folded_stacks(rpt);
    let differential = base.is_some();
    let mut lines = Vec::new();
    match base {
        None => {
            // Flame graphs have no negative widths.
            for (stack, v) in &stacks {
                if *v > 0 {
                    lines.push(format!("{stack} {v}"));
                }
            }
        }
        Some(base) => {
            // `stacks` is current minus base (as -base reports it): add the
            // base back to get the current values.
            let before: HashMap<String, i64> = folded_stacks(base).into_iter().collect();
            let mut after: HashMap<&str, i64> = HashMap::new();
            for (stack, v) in &stacks {
                after.insert(stack, *v);
            }
            let mut all: Vec<&str> = before.keys().map(String::as_str).collect();
            all.extend(after.keys().copied());
            all.sort_unstable();
            all.dedup();
            for stack in all {
                let b = before.get(stack).copied().unwrap_or(0).max(0);
                let a = after
                    .get(stack)
                    .copied()
                    .unwrap_or(0)
                    .wrapping_add(b)
                    .max(0);
                if a != 0 || b != 0 {
                    lines.push(format!("{stack} {b} {a}"));
                }
            }
        }
    }
    let o = &rpt.opts;
    let mut opts = flamegraph::Options::default();
    let name = if o.title.is_empty() {
        "rprof".to_string()
    } else {
        o.title.clone()
    };
    opts.title = format!("{name}: {}", o.sample_type);
    if differential {
        opts.subtitle = Some(
            "Differential: width is the profile, red grew and blue shrank since the base".into(),
        );
    }
    opts.count_name = if o.sample_unit.is_empty() {
        "samples".into()
    } else {
        o.sample_unit.clone()
    };
    opts.colors = if ["space", "objects", "bytes", "alloc", "inuse"]
        .iter()
        .any(|w| o.sample_type.contains(w))
    {
        Palette::Basic(BasicPalette::Mem)
    } else {
        Palette::Basic(BasicPalette::Hot)
    };
    // Same colours for the same frames from run to run.
    opts.hash = true;
    opts.deterministic = true;
    let mut svg = Vec::new();
    let result = flamegraph::from_lines(&mut opts, lines.iter().map(String::as_str), &mut svg);
    match result {
        Ok(()) => Ok(String::from_utf8_lossy(&svg).into_owned()),
        // inferno still writes an SVG saying there is nothing to draw.
        Err(e) if !svg.is_empty() => {
            eprintln!("rprof: flame graph: {e}");
            Ok(String::from_utf8_lossy(&svg).into_owned())
        }
        Err(e) => Err(format!("flame graph: {e}")),
    }
}
