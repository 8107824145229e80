//! `folded` and `flame` (beyond pprof's CLI): collapsed stacks, the input
//! format of flame graph tools, and an interactive flame graph SVG drawn
//! with inferno.
//!
//! Folded lines are `root;caller;...;leaf value`: frames at the current
//! granularity (inlined functions are frames of their own), one line per
//! distinct stack, its value in the selected sample type. Lines are sorted
//! frame by frame by frame name (a stack comes before the stacks it is a
//! prefix of), so outputs are stable and diff well.

use std::collections::HashMap;

use inferno::flamegraph::{self, color::BasicPalette, color::Palette};

use super::error::FlameError;
use super::graph::NodeTable;
use super::Report;
use crate::ui::Ui;

/// The distinct stacks of a prepared profile: frames as node keys, caller
/// first, with their values.
pub struct Folded {
    /// Frame names by node key.
    pub names: Vec<String>,
    /// Sorted frame by frame by name (a stack before its extensions).
    pub stacks: Vec<(Vec<u32>, i64)>,
}

impl Folded {
    /// The `a;b;c` text of a stack.
    pub fn line(&self, frames: &[u32]) -> String {
        let mut line = String::new();
        for (i, &k) in frames.iter().enumerate() {
            if i > 0 {
                line.push(';');
            }
            line.push_str(&self.names[k as usize]);
        }
        line
    }
}

/// The distinct stacks of the prepared profile with their values, sorted
/// by stack. Zero totals are left out; with a base, values can be negative.
pub fn folded_stacks(rpt: &mut Report) -> Folded {
    let table = rpt.node_table();
    let p = &rpt.prof;
    let sel = rpt.opts.sample;
    let names = frame_names(p, &table);
    // Sum per distinct location list first, then per frame list (different
    // location lists can fold to the same frames). Strings are only made
    // for the output.
    let mut by_stack: HashMap<&[u32], (i64, i64)> = HashMap::new();
    let s = &p.samples;
    for i in 0..s.len() {
        let values = s.values(i);
        let (w, dw) = (values[sel.index], if sel.mean { values[0] } else { 0 });
        let acc = by_stack.entry(s.stack(i)).or_insert((0, 0));
        acc.0 = acc.0.wrapping_add(w);
        acc.1 = acc.1.wrapping_add(dw);
    }
    let mut by_frames: HashMap<Vec<u32>, (i64, i64)> = HashMap::new();
    for (stack, (w, dw)) in by_stack {
        let mut frames = Vec::with_capacity(stack.len());
        for &loc in stack.iter().rev() {
            // Frames are innermost first: the caller comes first here.
            frames.extend(table.frames(loc).iter().rev());
        }
        if frames.is_empty() {
            continue;
        }
        let acc = by_frames.entry(frames).or_insert((0, 0));
        acc.0 = acc.0.wrapping_add(w);
        acc.1 = acc.1.wrapping_add(dw);
    }
    let ratio = rpt.opts.ratio;
    let mut stacks: Vec<(Vec<u32>, i64)> = by_frames
        .into_iter()
        .map(|(frames, (w, dw))| {
            let mut v = if dw != 0 { w.wrapping_div(dw) } else { w };
            if ratio > 0.0 && ratio != 1.0 {
                v = (v as f64 * ratio) as i64;
            }
            (frames, v)
        })
        .filter(|(_, v)| *v != 0)
        .collect();
    // Frame by frame, by name: compare name ranks, not strings.
    let rank = name_ranks(&names);
    for (frames, _) in &mut stacks {
        // Sort on ranks, then map back (ranks of equal names are equal, and
        // equal names print the same).
        for k in frames.iter_mut() {
            *k = rank[*k as usize];
        }
    }
    stacks.sort_unstable();
    let by_rank: Vec<u32> = {
        let mut v = vec![0u32; names.len()];
        for (k, &r) in rank.iter().enumerate() {
            v[r as usize] = k as u32;
        }
        v
    };
    for (frames, _) in &mut stacks {
        for k in frames.iter_mut() {
            *k = by_rank[*k as usize];
        }
    }
    Folded { names, stacks }
}

/// Each name's rank in sorted order; equal names share a rank.
fn name_ranks(names: &[String]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..names.len() as u32).collect();
    order.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let mut rank = vec![0u32; names.len()];
    for (i, w) in order.iter().enumerate() {
        let same = i > 0 && names[order[i - 1] as usize] == names[*w as usize];
        rank[*w as usize] = if same {
            rank[order[i - 1] as usize]
        } else {
            i as u32
        };
    }
    rank
}

/// A frame of the pruned call tree: its parent, its name (as a node key of
/// that name) and the value of the samples through it.
struct TreeNode {
    parent: u32,
    key: u32,
    total: i64,
    /// Samples ending here.
    own: i64,
    /// Too narrow to be drawn: kept as a leaf holding its whole subtree.
    pruned: bool,
}

/// The flame graph's input lines, from the call tree of the samples pruned
/// of frames inferno would not draw anyway (narrower than half its
/// `min_width` percent of the total), with their total width: a frame
/// too narrow is one line holding its subtree's value, so every drawn
/// frame keeps its width and its position. On a million incoherent stacks
/// this is a few thousand lines instead of a million, and no per-sample
/// strings. None when values are not plain sums (negative values, means,
/// ratios): those fold whole stacks first.
fn pruned_lines(rpt: &mut Report, min_width_pct: f64) -> Option<(Vec<String>, u128)> {
    use crate::report::graph::FastMap;
    let ratio = rpt.opts.ratio;
    let sel = rpt.opts.sample;
    if sel.mean || (ratio > 0.0 && ratio != 1.0) {
        return None;
    }
    let table = rpt.node_table();
    let p = &rpt.prof;
    let s = &p.samples;
    let mut total: u128 = 0;
    for i in 0..s.len() {
        let w = s.values(i)[sel.index];
        if w < 0 {
            return None;
        }
        if w > 0 && s.stack(i).iter().any(|&l| !table.frames(l).is_empty()) {
            total += w as u128;
        }
    }
    // Every sum below is at most the total: with the total in an i64
    // none overflows (larger totals go the folded way, which refuses them).
    if total > i64::MAX as u128 {
        return None;
    }
    let names = frame_names(p, &table);
    let rank = name_ranks(&names);
    let threshold = min_width_pct / 100.0 * total as f64 * 0.5;
    // The root (index 0) is no frame.
    let mut tree = vec![TreeNode {
        parent: u32::MAX,
        key: u32::MAX,
        total: 0,
        own: 0,
        pruned: false,
    }];
    // A sample on its way down: next location (counted from the root end),
    // next frame in it (callers first), current tree node.
    struct Cursor {
        sample: u32,
        loc: u32,
        frame: u32,
        node: u32,
    }
    let mut active: Vec<Cursor> = (0..s.len() as u32)
        .filter(|&i| s.values(i as usize)[sel.index] > 0)
        .map(|sample| Cursor {
            sample,
            loc: 0,
            frame: 0,
            node: 0,
        })
        .collect();
    let mut children: FastMap<u64, u32> = FastMap::default();
    while !active.is_empty() {
        children.clear();
        active.retain_mut(|c| {
            let i = c.sample as usize;
            let w = s.values(i)[sel.index];
            let stack = s.stack(i);
            // The next frame: innermost-first frames of the locations,
            // read from the root end.
            let key = loop {
                let Some(&loc) = stack
                    .len()
                    .checked_sub(1 + c.loc as usize)
                    .map(|j| &stack[j])
                else {
                    break None;
                };
                let frames = table.frames(loc);
                if (c.frame as usize) < frames.len() {
                    let k = frames[frames.len() - 1 - c.frame as usize];
                    c.frame += 1;
                    break Some(k);
                }
                c.loc += 1;
                c.frame = 0;
            };
            let Some(key) = key else {
                tree[c.node as usize].own += w;
                return false;
            };
            let id = (c.node as u64) << 32 | rank[key as usize] as u64;
            let next = tree.len() as u32;
            let child = *children.entry(id).or_insert(next);
            if child == next {
                tree.push(TreeNode {
                    parent: c.node,
                    key,
                    total: 0,
                    own: 0,
                    pruned: false,
                });
            }
            tree[child as usize].total += w;
            c.node = child;
            true
        });
        let level = tree.len() - children.len();
        for n in &mut tree[level..] {
            n.pruned = (n.total as f64) < threshold;
        }
        active.retain(|c| !tree[c.node as usize].pruned);
    }
    // Siblings in name order: a run of adjacent too-narrow siblings is one
    // line (named as its first) while their sum stays too narrow too, so
    // every drawn frame keeps its place.
    let mut order: Vec<u32> = (1..tree.len() as u32).collect();
    order.sort_unstable_by_key(|&i| {
        let n = &tree[i as usize];
        (n.parent, rank[n.key as usize])
    });
    let mut lines = Vec::new();
    let mut path = Vec::new();
    let mut emit = |node: u32, v: i64, lines: &mut Vec<String>| {
        path.clear();
        let mut j = node;
        while j != 0 {
            path.push(tree[j as usize].key);
            j = tree[j as usize].parent;
        }
        let mut line = String::new();
        for &k in path.iter().rev() {
            if !line.is_empty() {
                line.push(';');
            }
            line.push_str(&names[k as usize]);
        }
        line.push(' ');
        line.push_str(&v.to_string());
        lines.push(line);
    };
    // The open run: its first node, its parent and its sum.
    let mut run: Option<(u32, u32, i64)> = None;
    for &i in &order {
        let n = &tree[i as usize];
        if n.pruned {
            if let Some((first, parent, sum)) = run {
                if parent == n.parent && ((sum + n.total) as f64) < threshold {
                    run = Some((first, parent, sum + n.total));
                    continue;
                }
                emit(first, sum, &mut lines);
            }
            run = Some((i, n.parent, n.total));
            continue;
        }
        if let Some((first, _, sum)) = run.take() {
            emit(first, sum, &mut lines);
        }
        if n.own != 0 {
            emit(i, n.own, &mut lines);
        }
    }
    if let Some((first, _, sum)) = run {
        emit(first, sum, &mut lines);
    }
    Some((lines, total))
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
    use std::fmt::Write;
    let f = folded_stacks(rpt);
    let mut out = String::new();
    for (frames, v) in &f.stacks {
        for (i, &k) in frames.iter().enumerate() {
            if i > 0 {
                out.push(';');
            }
            out.push_str(&f.names[k as usize]);
        }
        let _ = writeln!(out, " {v}");
    }
    out
}

/// Draws the flame graph (`flame`). With `base` (the same report on the
/// base profiles), the graph is differential: widths show the profile,
/// colours the change since the base (red grew, blue shrank).
///
/// A drawing inferno completes despite an error (it still writes an SVG
/// saying there is nothing to draw) is returned, with a warning to `ui`.
pub fn print_flame(
    rpt: &mut Report,
    base: Option<&mut Report>,
    ui: &mut dyn Ui,
) -> Result<String, FlameError> {
    let differential = base.is_some();
    let mut lines = Vec::new();
    // inferno adds the widths up in a usize (a panic where overflow checks
    // are on): refuse sums it cannot hold rather than draw wrapped widths.
    let mut sums = [0u128; 2];
    let pruned = match base {
        None => pruned_lines(rpt, flamegraph::Options::default().min_width),
        Some(_) => None,
    };
    match base {
        None if pruned.is_some() => {
            if let Some((l, total)) = pruned {
                lines = l;
                sums[0] = total;
            }
        }
        None => {
            let folded = folded_stacks(rpt);
            // Flame graphs have no negative widths.
            for (frames, v) in &folded.stacks {
                if *v > 0 {
                    sums[0] += *v as u128;
                    let mut line = folded.line(frames);
                    line.push(' ');
                    line.push_str(&v.to_string());
                    lines.push(line);
                }
            }
        }
        Some(base) => {
            // The profile's stacks are current minus base (as -base reports
            // them): adding the base back gives the current values.
            let folded = folded_stacks(rpt);
            let b = folded_stacks(base);
            let mut both: HashMap<String, (i64, i64)> = HashMap::new();
            for (frames, v) in &b.stacks {
                let e = both.entry(b.line(frames)).or_default();
                e.0 = e.0.wrapping_add(*v);
                e.1 = e.1.wrapping_add(*v);
            }
            for (frames, v) in &folded.stacks {
                let e = both.entry(folded.line(frames)).or_default();
                e.1 = e.1.wrapping_add(*v);
            }
            for (stack, (before, after)) in both {
                let (before, after) = (before.max(0), after.max(0));
                if before != 0 || after != 0 {
                    sums[0] += before as u128;
                    sums[1] += after as u128;
                    lines.push(format!("{stack} {before} {after}"));
                }
            }
        }
    }
    if sums.iter().any(|&s| s > isize::MAX as u128) {
        return Err(FlameError::TooLarge);
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
            ui.warn(&format!("rprof: flame graph: {e}"));
            Ok(String::from_utf8_lossy(&svg).into_owned())
        }
        Err(e) => Err(FlameError::Draw(e)),
    }
}
