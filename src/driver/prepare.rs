//! Preparing a report: the command's overrides applied to the options, a
//! copy of the profile filtered and aggregated, its total computed (in
//! pprof's order), and the options mapped onto `report::Options`.

use std::collections::HashMap;

use regex::Regex;

use super::commands::Command;
use super::filters::{aggregate, apply_focus, compile, compile_tag, last_line, warn_no_match};
use super::Error;
use crate::options::{Config, Sort};
use crate::profile::model::{Label, SampleData};
use crate::profile::{Profile, Samples};
use crate::report::{self, graph::ValueSel, Derivation, Format, Report};
use crate::ui::{NoUi, Ui};

/// Prepares a report for a command: copies the profile, filters and
/// aggregates it, and computes the total, in pprof's order.
pub fn prepare_report(
    p: &Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<Report, Error> {
    let cfg = cmd.spec.configure(cfg);
    let base = match (&p.base, cmd.spec.format) {
        // Differential flame graphs need the base on its own, filtered
        // the same way (its warnings were given for the main profile).
        (Some(b), Format::Flame) => Some(Box::new(prepare_with(
            (**b).clone(),
            cmd,
            &cfg,
            &mut NoUi,
            &mut Filter::Full,
        )?)),
        _ => None,
    };
    let mut rpt = prepare_with(p.clone(), cmd, &cfg, ui, &mut Filter::Full)?;
    rpt.base = base;
    Ok(rpt)
}

/// [`prepare_report`] for a server that keeps prepared reports: when only
/// focus, ignore and hide select the samples, they are filtered in one
/// pass that records which samples it kept and changed, and `parent` (the
/// report prepared from `p` with the same options but no filters, if at
/// hand) then gives the node values and the sample index without a pass
/// over all samples. The result is the same report either way.
pub fn prepare_report_from(
    p: &Profile,
    parent: Option<&Report>,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<Report, Error> {
    let c = cmd.spec.configure(cfg);
    let simple = p.base.is_none()
        && !matches!(cmd.spec.format, Format::Raw | Format::Proto)
        && [
            &c.focus,
            &c.ignore,
            &c.hide,
            &c.show,
            &c.tagfocus,
            &c.tagignore,
        ]
        .iter()
        .any(|v| !v.is_empty())
        && [
            &c.show_from,
            &c.tagshow,
            &c.taghide,
            &c.prune_from,
            &c.tagroot,
            &c.tagleaf,
        ]
        .iter()
        .all(|v| v.is_empty());
    if !simple {
        return prepare_report(p, cmd, cfg, ui);
    }
    // The parent must hold these very samples, unfiltered.
    let parent = parent.filter(|r| r.prof.samples.same(&p.samples));
    let mut filter = Filter::Fast { parent, done: None };
    let mut rpt = prepare_with(p.clone(), cmd, &c, ui, &mut filter)?;
    if let (Filter::Fast { done: Some(d), .. }, Some(parent)) = (filter, parent) {
        rpt.derive(parent, d);
    }
    Ok(rpt)
}

/// How [`prepare_with`] filters samples: as the command line does, or
/// (focus, ignore, hide and show only) in one pass recording what it did.
enum Filter<'a> {
    Full,
    Fast {
        /// The unfiltered report the filtered one will derive from: its
        /// sums over the dropped samples are made while they are copied.
        parent: Option<&'a Report>,
        done: Option<Derivation>,
    },
}

/// `apply_focus` for focus, ignore, hide, show, tagfocus and tagignore
/// alone (the web UI's Refine menu), with the same results and warnings as
/// `Profile::filter_samples_by_name` then `filter_samples_by_tag`, but in
/// one pass copying kept samples by runs, and returning which samples were
/// dropped or rewritten.
fn fast_filter(
    p: &mut Profile,
    units: &HashMap<String, String>,
    cfg: &Config,
    ui: &mut dyn Ui,
    parent: Option<&Report>,
) -> Result<Derivation, Error> {
    use crate::profile::filter::{TagMemo, FOCUSED, IGNORED};
    const NONE: u32 = u32::MAX;
    // Mark bits of their own beside the verdict's (1 and 2).
    const CHANGED: u8 = 4;
    let focus = compile("focus", &cfg.focus)?;
    let ignore = compile("ignore", &cfg.ignore)?;
    let hide = compile("hide", &cfg.hide)?;
    let show = compile("show", &cfg.show)?;
    let tagfocus = compile_tag("tagfocus", &cfg.tagfocus, units, ui)?;
    let tagignore = compile_tag("tagignore", &cfg.tagignore, units, ui)?;
    let key = LastFilterKey {
        filters: [
            cfg.focus.clone(),
            cfg.ignore.clone(),
            cfg.hide.clone(),
            cfg.show.clone(),
            cfg.tagfocus.clone(),
            cfg.tagignore.clone(),
        ],
        tables: [p.locations.len(), p.functions.len(), p.strings.len()],
    };
    let reused = LAST_FILTER.with_borrow(|last| {
        let last = last
            .as_ref()
            .filter(|l| l.key == key && l.input.same(&p.samples))?;
        for (matched, what) in last.matched.iter().zip(FILTER_NAMES) {
            warn_no_match(*matched, what, ui);
        }
        for (i, lines) in &last.hidden_lines {
            if let Some(loc) = p.locations.get_mut(*i) {
                loc.lines = lines.clone();
            }
        }
        p.samples = last.output.clone();
        Some(last.derivation.clone())
    });
    if let Some(d) = reused {
        return Ok(d);
    }
    let n_locs = p.locations.len();
    let v = p.location_verdicts(
        focus.as_ref(),
        ignore.as_ref(),
        hide.as_ref(),
        show.as_ref(),
    );
    let (fm, im, hm, sm) = (
        v.focus_matched,
        v.ignore_matched,
        v.hide_matched,
        v.show_matched,
    );
    let (verdict, hidden, changed) = (v.verdict, v.hidden, v.changed);
    let mut matched = [
        focus.is_none() || fm,
        ignore.is_none() || im,
        hide.is_none() || hm,
        show.is_none() || sm,
        true,
        true,
    ];
    for (matched, what) in matched.iter().zip(FILTER_NAMES).take(4) {
        warn_no_match(*matched, what, ui);
    }
    let input = p.samples.clone();
    // The locations whose lines hide changed (in place, above).
    let hidden_lines: Vec<_> = (0..n_locs)
        .filter(|&i| changed[i])
        .filter_map(|i| Some((i, p.locations.get(i)?.lines.clone())))
        .collect();
    let s = &p.samples;
    let n = s.len();
    let w = s.width;
    let mut d = Derivation {
        p2c: vec![NONE; n],
        images: Vec::new(),
        redo: Vec::new(),
        changed,
        dropped_sums: None,
    };
    // What becomes of a sample, from the union of its locations' marks
    // (and its labels').
    let fate = |m: u8| {
        if m & FOCUSED == 0 || m & IGNORED != 0 || m & TAG_DROPPED != 0 {
            Fate::Drop
        } else if m & CHANGED == 0 {
            Fate::Keep
        } else {
            Fate::Rewrite
        }
    };
    let marks: Vec<u8> = (0..n_locs)
        .map(|l| {
            verdict[l] | if d.changed[l] { CHANGED } else { 0 } | if hidden[l] { HIDDEN } else { 0 }
        })
        .collect();
    // Per sample its marks, and per half what the half keeps (so that
    // each half is then copied straight to its place in the output), on
    // two threads for large profiles.
    let mut status = vec![0u8; n];
    let (tf, ti) = (tagfocus.as_ref(), tagignore.as_ref());
    // Without name filters every location is focused: the walk's result
    // is known (a sample without frames is dropped, as pprof does).
    let names = focus.is_some() || ignore.is_some() || hide.is_some() || show.is_some();
    let classify = |from: usize, out: &mut [u8]| -> Sizes {
        let mut z = Sizes::default();
        let (mut focus_memo, mut ignore_memo) = (TagMemo::default(), TagMemo::default());
        for (k, o) in out.iter_mut().enumerate() {
            let stack = s.stack(from + k);
            let (mut m, mut shown) = (0u8, 0usize);
            if names {
                for &l in stack {
                    let x = marks[l as usize];
                    m |= x;
                    shown += usize::from(x & HIDDEN == 0);
                }
            } else if !stack.is_empty() {
                m = FOCUSED;
            }
            let locs = match fate(m) {
                Fate::Keep => stack.len(),
                Fate::Rewrite if shown > 0 => shown,
                _ => {
                    *o = m;
                    continue;
                }
            };
            // The tag filters see the samples the name filters keep.
            let labels = s.labels(from + k);
            let focused = tf.is_none_or(|f| f.matches_memo(p, labels, &mut focus_memo));
            let ignored = ti.is_some_and(|f| f.matches_memo(p, labels, &mut ignore_memo));
            z.tag_focused |= focused;
            z.tag_ignored |= ignored;
            if !focused || ignored {
                *o = m | TAG_DROPPED;
                continue;
            }
            *o = m;
            z.samples += 1;
            z.locs += locs;
            z.labels += labels.len();
        }
        z
    };
    let half = if n >= 100_000 { n / 2 } else { n };
    let (za, zb) = {
        let (a, b) = status.split_at_mut(half);
        std::thread::scope(|scope| {
            let h = (!b.is_empty()).then(|| scope.spawn(|| classify(half, b)));
            let za = classify(0, a);
            (za, h.map(joined).unwrap_or_default())
        })
    };
    matched[4] = tagfocus.is_none() || za.tag_focused || zb.tag_focused;
    matched[5] = tagignore.is_none() || za.tag_ignored || zb.tag_ignored;
    for (matched, what) in matched.iter().zip(FILTER_NAMES).skip(4) {
        warn_no_match(*matched, what, ui);
    }
    let redo: Vec<u32> = (0..n as u32)
        .filter(|&i| fate(status[i as usize]) != Fate::Keep)
        .collect();
    // From memory made ready while the server waited, when it is.
    use crate::profile::reserve;
    let mut out = SampleData {
        width: w,
        values: reserve::take_i64((za.samples + zb.samples) * w),
        loc_start: reserve::take_u32(za.samples + zb.samples + 1),
        locs: reserve::take_u32(za.locs + zb.locs),
        label_start: reserve::take_u32(za.samples + zb.samples + 1),
        labels: reserve::take_labels(za.labels + zb.labels),
    };
    let (values_a, values_b) = out.values.split_at_mut(za.samples * w);
    let (locs_a, locs_b) = out.locs.split_at_mut(za.locs);
    let (labels_a, labels_b) = out.labels.split_at_mut(za.labels);
    let (loc_ends_a, loc_ends_b) = out.loc_start[1..].split_at_mut(za.samples);
    let (label_ends_a, label_ends_b) = out.label_start[1..].split_at_mut(za.samples);
    let (p2c_a, p2c_b) = d.p2c.split_at_mut(half);
    let part_a = Part {
        values: values_a,
        locs: locs_a,
        labels: labels_a,
        loc_ends: loc_ends_a,
        label_ends: label_ends_a,
        p2c: p2c_a,
        base: Sizes::default(),
    };
    let part_b = Part {
        values: values_b,
        locs: locs_b,
        labels: labels_b,
        loc_ends: loc_ends_b,
        label_ends: label_ends_b,
        p2c: p2c_b,
        base: za,
    };
    let (status, marks) = (&status, &marks);
    let (images, sums) = std::thread::scope(|scope| {
        // The parent's sums over the samples dropped or rewritten (those
        // its values lose) are made while the kept ones are copied, when
        // fewer than those (else the filtered report makes its own pass).
        let sums = parent
            .filter(|_| redo.len() < n - redo.len())
            .map(|r| scope.spawn(|| r.sums_of(&redo)));
        // Rewriting goes sample by sample: on two threads when most
        // samples are rewritten (copying runs is bound by memory).
        let rewritten = status.iter().filter(|&&m| fate(m) == Fate::Rewrite).count();
        let mut images = if half < n && rewritten * 4 >= n {
            let h = scope.spawn(move || copy_samples(s, status, marks, fate, half..n, part_b));
            let mut a = copy_samples(s, status, marks, fate, 0..half, part_a);
            a.extend(joined(h));
            a
        } else {
            let mut a = copy_samples(s, status, marks, fate, 0..half, part_a);
            a.extend(copy_samples(s, status, marks, fate, half..n, part_b));
            a
        };
        images.shrink_to_fit();
        (images, sums.and_then(|h| h.join().ok()).flatten())
    });
    d.images = images;
    d.redo = redo;
    p.samples = out.into();
    LAST_FILTER.set(Some(LastFilter {
        key,
        input,
        matched,
        hidden_lines,
        output: p.samples.clone(),
        derivation: d.clone(),
    }));
    d.dropped_sums = sums;
    Ok(d)
}

/// The filters [`fast_filter`] applies, as its warnings name them.
const FILTER_NAMES: [&str; 6] = ["Focus", "Ignore", "Hide", "Show", "TagFocus", "TagIgnore"];

/// What [`fast_filter`] does to a sample.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Drop,
    Keep,
    /// Kept without its hidden locations (dropped when none is left).
    Rewrite,
}

/// What part of the samples [`fast_filter`] keeps: samples, frames and
/// labels.
#[derive(Clone, Copy, Default)]
struct Sizes {
    samples: usize,
    locs: usize,
    labels: usize,
    /// Whether the tag filters matched a sample the name filters kept.
    tag_focused: bool,
    tag_ignored: bool,
}

/// A location's mark: every frame of it hidden.
const HIDDEN: u8 = 8;
/// A sample's mark: dropped by its labels (tagfocus, tagignore).
const TAG_DROPPED: u8 = 16;

/// A scoped thread's result; its panic (a bug) goes on here.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Where one part of the input samples goes in [`fast_filter`]'s output:
/// its place in each array, sized by the classifying pass.
struct Part<'a> {
    values: &'a mut [i64],
    locs: &'a mut [u32],
    labels: &'a mut [Label],
    /// Each output sample's end in the whole `locs` and `labels`.
    loc_ends: &'a mut [u32],
    label_ends: &'a mut [u32],
    /// Per input sample of the part: its output number when kept as it is.
    p2c: &'a mut [u32],
    /// What the parts before this one keep.
    base: Sizes,
}

/// Copies the samples `range` keeps into `o` (rewritten ones without
/// their hidden frames); returns the output numbers of the rewritten ones.
fn copy_samples(
    s: &SampleData,
    status: &[u8],
    marks: &[u8],
    fate: impl Fn(u8) -> Fate,
    range: std::ops::Range<usize>,
    mut o: Part,
) -> Vec<u32> {
    let w = s.width;
    let (from, to) = (range.start, range.end);
    let mut at = Sizes::default();
    let mut images = Vec::new();
    let mut run = from;
    let (mut scratch, mut shown): (Vec<u32>, Vec<usize>) = (Vec::new(), Vec::new());
    for i in range {
        match fate(status[i]) {
            Fate::Keep => {
                // Kept samples are copied by runs of consecutive ones.
                o.p2c[i - from] = (o.base.samples + at.samples + (i - run)) as u32;
                continue;
            }
            Fate::Drop => {}
            Fate::Rewrite => {
                copy_run(s, &mut o, &mut at, run, i);
                let stack = s.stack(i);
                if scratch.len() < stack.len() {
                    scratch.resize(stack.len(), 0);
                    shown.resize(stack.len(), 0);
                }
                // The frames' marks first, then the shown frames, without
                // branches (a hidden frame is written over by the next): a
                // store whose place hangs on a table lookup would hold up
                // the lookups after it.
                for (m, &l) in shown.iter_mut().zip(stack) {
                    *m = usize::from(marks[l as usize] & HIDDEN == 0);
                }
                let mut k = 0;
                for (&l, &m) in stack.iter().zip(&shown) {
                    scratch[k] = l;
                    k += m;
                }
                run = i + 1;
                if k == 0 {
                    continue;
                }
                images.push((o.base.samples + at.samples) as u32);
                let labels = s.labels(i);
                o.values[at.samples * w..(at.samples + 1) * w].copy_from_slice(s.values(i));
                o.locs[at.locs..at.locs + k].copy_from_slice(&scratch[..k]);
                o.labels[at.labels..at.labels + labels.len()].copy_from_slice(labels);
                at.locs += k;
                at.labels += labels.len();
                o.loc_ends[at.samples] = (o.base.locs + at.locs) as u32;
                o.label_ends[at.samples] = (o.base.labels + at.labels) as u32;
                at.samples += 1;
                continue;
            }
        }
        copy_run(s, &mut o, &mut at, run, i);
        run = i + 1;
    }
    copy_run(s, &mut o, &mut at, run, to);
    images
}

/// Copies input samples `from..to`, all kept as they are, to `o` at `at`.
fn copy_run(s: &SampleData, o: &mut Part, at: &mut Sizes, from: usize, to: usize) {
    if from == to {
        return;
    }
    let w = s.width;
    let k = to - from;
    let (l0, l1) = (s.loc_start[from] as usize, s.loc_start[to] as usize);
    let (b0, b1) = (s.label_start[from] as usize, s.label_start[to] as usize);
    o.values[at.samples * w..(at.samples + k) * w].copy_from_slice(&s.values[from * w..to * w]);
    o.locs[at.locs..at.locs + (l1 - l0)].copy_from_slice(&s.locs[l0..l1]);
    o.labels[at.labels..at.labels + (b1 - b0)].copy_from_slice(&s.labels[b0..b1]);
    let dl = ((o.base.locs + at.locs) as u32).wrapping_sub(l0 as u32);
    let db = ((o.base.labels + at.labels) as u32).wrapping_sub(b0 as u32);
    let ends = o.loc_ends[at.samples..at.samples + k].iter_mut();
    for (e, &x) in ends.zip(&s.loc_start[from + 1..=to]) {
        *e = x.wrapping_add(dl);
    }
    let ends = o.label_ends[at.samples..at.samples + k].iter_mut();
    for (e, &x) in ends.zip(&s.label_start[from + 1..=to]) {
        *e = x.wrapping_add(db);
    }
    at.samples += k;
    at.locs += l1 - l0;
    at.labels += b1 - b0;
}

/// The last [`fast_filter`]'s result, for the next preparation of the
/// same samples with the same filters: the web UI's Source view prepares
/// `weblist`'s report, then `list`'s; the shell's commands after a
/// `focus` each prepare their own. Holding the input keeps its address
/// from being reused by other samples.
struct LastFilter {
    key: LastFilterKey,
    input: Samples,
    matched: [bool; 6],
    hidden_lines: Vec<(usize, crate::profile::model::Lines)>,
    output: Samples,
    derivation: Derivation,
}

#[derive(PartialEq, Eq)]
struct LastFilterKey {
    filters: [String; 6],
    /// The tables the locations' verdicts come from (a profile's copies
    /// that share samples share them, unless labels made frames).
    tables: [usize; 3],
}

thread_local! {
    // Per thread: a web request's preparations run on its worker thread.
    static LAST_FILTER: std::cell::RefCell<Option<LastFilter>> = const { std::cell::RefCell::new(None) };
}

/// [`prepare_report`] on an owned copy, with the command overrides applied.
fn prepare_with(
    mut p: Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
    filter: &mut Filter<'_>,
) -> Result<Report, Error> {
    if matches!(cmd.spec.format, Format::Raw | Format::Proto) {
        // These show the tables: numbered as pprof's merge numbers them.
        crate::profile::merge::renumber_as_merged(&mut p);
    }
    let units = p.num_label_units();
    let mut apply = |p: &mut Profile, ui: &mut dyn Ui| -> Result<(), Error> {
        match filter {
            Filter::Full => apply_focus(p, &units, cfg, ui),
            Filter::Fast { parent, done } => {
                *done = Some(fast_filter(p, &units, cfg, ui, *parent)?);
                Ok(())
            }
        }
    };
    // Before filtering, so that filters can match the new frames.
    add_label_frames(&mut p, cfg, ui);
    let relative = cfg.relative_percentages;
    if relative {
        apply(&mut p, ui)?;
    }
    let index = p.sample_index(&cfg.sample_index).map_err(Error::Usage)?;
    let st = p.sample_types[index];
    let mut sample_type = p.str(st.ty).to_string();
    if cfg.mean {
        sample_type = format!("mean_{sample_type}");
    }
    let sel = ValueSel {
        index,
        mean: cfg.mean,
    };
    let mut opts = report::Options {
        format: cmd.spec.format,
        cum_sort: false,
        call_tree: cfg.call_tree,
        drop_negative: cfg.drop_negative,
        compact_labels: false,
        ratio: 1.0,
        node_count: 0,
        node_fraction: 0.0,
        edge_fraction: 0.0,
        active_filters: active_filters(cfg),
        num_label_units: units.clone(),
        sample: sel,
        sample_type,
        sample_unit: p.str(st.unit).to_string(),
        output_unit: String::new(),
        source_path: cfg.source_path.clone(),
        trim_path: cfg.trim_path.clone(),
        symbol: None,
        intel_syntax: cfg.intel_syntax,
        title: p
            .mappings
            .first()
            .filter(|m| m.file != 0)
            .map_or(String::new(), |m| {
                crate::paths::base_name(p.str(m.file)).to_string()
            }),
    };
    set_output_fields(&mut opts, cmd, cfg)?;
    let total = report::compute_total(&p, sel);
    if !relative {
        apply(&mut p, ui)?;
    }
    aggregate(&mut p, cfg);
    Ok(Report::new(p, opts, total))
}

/// `tagroot` / `tagleaf`: pseudo-frames from label values.
fn add_label_frames(p: &mut Profile, cfg: &Config, ui: &mut dyn Ui) {
    if cfg.tagroot.is_empty() && cfg.tagleaf.is_empty() {
        return;
    }
    fn keys(s: &str) -> Vec<&str> {
        s.split(',').filter(|k| !k.is_empty()).collect()
    }
    let (rm, lm) = p.add_label_frames(&keys(&cfg.tagroot), &keys(&cfg.tagleaf), &cfg.unit);
    warn_no_match(cfg.tagroot.is_empty() || rm, "TagRoot", ui);
    warn_no_match(cfg.tagleaf.is_empty() || lm, "TagLeaf", ui);
}

/// The filters in effect, as the header's `Active filters:` lists them.
fn active_filters(cfg: &Config) -> Vec<String> {
    [
        ("focus", &cfg.focus),
        ("ignore", &cfg.ignore),
        ("hide", &cfg.hide),
        ("show", &cfg.show),
        ("show_from", &cfg.show_from),
        ("tagfocus", &cfg.tagfocus),
        ("tagignore", &cfg.tagignore),
        ("tagshow", &cfg.tagshow),
        ("taghide", &cfg.taghide),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={v}"))
    .collect()
}

/// The options that only shape the output (not which samples count), from
/// an already configured `cfg`: the one mapping shared by a fresh
/// preparation and a reused one.
fn set_output_fields(o: &mut report::Options, cmd: &Command, cfg: &Config) -> Result<(), Error> {
    if cfg.divide_by == 0.0 {
        return Err(Error::Usage("zero divisor specified".into()));
    }
    o.symbol = compile_argument(cmd)?;
    o.format = cmd.spec.format;
    o.cum_sort = cfg.sort == Sort::Cum;
    o.compact_labels = cfg.compact_labels;
    o.ratio = 1.0 / cfg.divide_by;
    o.node_count = cfg.nodecount;
    o.node_fraction = cfg.nodefraction;
    o.edge_fraction = cfg.edgefraction;
    o.output_unit = cfg.unit.clone();
    o.intel_syntax = cfg.intel_syntax;
    Ok(())
}

/// Sets a prepared report's output options for `cmd` and `cfg`, so a
/// prepared report can be reused with new ones.
pub fn set_output_options(rpt: &mut Report, cmd: &Command, cfg: &Config) -> Result<(), Error> {
    set_output_fields(&mut rpt.opts, cmd, &cmd.spec.configure(cfg))
}

/// The command's regexp argument (`list RE`, `peek RE`), compiled.
fn compile_argument(cmd: &Command) -> Result<Option<Regex>, Error> {
    cmd.arg
        .as_ref()
        .map(|a| {
            Regex::new(a).map_err(|e| Error::Argument {
                arg: a.clone(),
                reason: last_line(&e.to_string()),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::render;

    use crate::report::graph::tests::synthetic;

    fn fixture(name: &str) -> Profile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/go");
        crate::profile::load(&path.join(name)).expect("fixture")
    }

    /// Profiles with inlined frames, several sample types, labels.
    fn profiles() -> Vec<(&'static str, Profile)> {
        let bytes = synthetic::gzipped(&synthetic::random_stacks_profile(3_000, 600, 3));
        vec![
            ("cpu", fixture("cpu.pb.gz")),
            ("allocs", fixture("allocs.pb.gz")),
            (
                "random",
                crate::profile::parse(&bytes).expect("synthetic profile"),
            ),
        ]
    }

    fn out(rpt: &mut Report, cmd: &Command, warnings: &[String]) -> String {
        let mut ui: Vec<String> = Vec::new();
        let text = match render(rpt, cmd, &mut ui) {
            Ok(o) => o.into_text(),
            Err(e) => format!("error: {e}"),
        };
        format!("{warnings:?}\n{ui:?}\n{text}")
    }

    /// The binaries `weblist` and `disasm` search, found by a scan of the
    /// samples, are those of the values graph's matching nodes.
    #[test]
    fn scanned_matches_equal_the_graphs() {
        for (name, p) in profiles() {
            for re in ["json", "T1[0-9]\\)", "runtime", "zzz", "Method2$", "."] {
                let rx = regex::Regex::new(re).expect("regexp");
                let hit =
                    |p: &Profile, i: &crate::report::graph::NodeInfo| rx.is_match(p.str(i.name));
                let cmd = Command::new("weblist", Some(re)).expect("weblist");
                let mut scanned =
                    prepare_report(&p, &cmd, &Config::default(), &mut NoUi).expect("report");
                let mut graphed = scanned.clone();
                graphed.prime();
                let (a, b) = (
                    scanned.sampled_matching(&hit),
                    graphed.sampled_matching(&hit),
                );
                assert_eq!(a, b, "{name} {re}");
            }
        }
    }

    /// A second preparation with the same filters reuses the first's
    /// filtered samples, and prints what the command line prints,
    /// warnings included.
    #[test]
    fn reused_filters_print_as_fresh_ones() {
        let filters: &[&[(&str, &str)]] = &[
            &[("focus", "encoding|T1")],
            &[("ignore", "no such function"), ("hide", "Method2")],
            &[
                ("tagfocus", "1kb:"),
                ("tagignore", "zzz"),
                ("hide", "Method2"),
            ],
        ];
        let commands = [
            ("weblist", Some("Less|Method1")),
            ("list", Some("Less|Method1")),
            ("top", None),
        ];
        for (name, p) in profiles() {
            for f in filters {
                let mut cfg = Config::default();
                for (k, v) in *f {
                    cfg.set(k, v).expect("filter");
                }
                let mut first: Option<Samples> = None;
                for (c, arg) in commands {
                    let cmd = Command::new(c, arg).expect("command");
                    let mut w1: Vec<String> = Vec::new();
                    let mut slow = prepare_report(&p, &cmd, &cfg, &mut w1).expect("report");
                    let mut w2: Vec<String> = Vec::new();
                    let mut fast =
                        prepare_report_from(&p, None, &cmd, &cfg, &mut w2).expect("report");
                    let fs = &fast.prof.samples;
                    match &first {
                        None => first = Some(fs.clone()),
                        Some(s) => assert!(s.same(fs), "{name} {f:?} {c}: not reused"),
                    }
                    assert_eq!(
                        out(&mut slow, &cmd, &w1),
                        out(&mut fast, &cmd, &w2),
                        "{name} {f:?} {c}"
                    );
                }
            }
        }
    }

    /// A filtered report prepared in one pass and derived from its
    /// unfiltered parent prints exactly what the command line prints.
    #[test]
    fn derived_reports_equal_prepared_ones() {
        let filters: &[&[(&str, &str)]] = &[
            &[("ignore", "json")],
            &[("hide", "json|sort")],
            &[("focus", "encoding")],
            &[
                ("focus", "runtime"),
                ("ignore", "Less"),
                ("hide", "memmove"),
            ],
            &[("ignore", "T1[0-9]\\)"), ("hide", "T2[0-9]\\)")],
            &[("hide", "Method[0-3]")],
            &[("hide", "server")],
            &[("show", "json|T1|main")],
            &[("focus", "T1"), ("show", "Method[0-3]")],
            &[("ignore", "no such function")],
            &[("hide", ".")],
            &[("tagfocus", "worker=hash,w1")],
            &[("tagignore", "w2|sort"), ("hide", "json|Method2")],
            &[("focus", "T1"), ("tagfocus", "zzz")],
            &[("tagfocus", "bytes=1kb:")],
        ];
        let commands: &[(&str, Option<&str>)] = &[
            ("top", None),
            ("dot", None),
            ("peek", Some("Less|Method0|encode")),
            ("list", Some("Less|Method1")),
            ("traces", None),
        ];
        let options: &[&[(&str, &str)]] = &[
            &[],
            &[("mean", "true")],
            &[("sample_index", "0"), ("granularity", "lines")],
            &[("relative_percentages", "true"), ("nodecount", "8")],
        ];
        let mut derived = (0, 0);
        for (name, p) in profiles() {
            for opts in options {
                for (c, arg) in commands {
                    let Ok(cmd) = Command::new(c, *arg) else {
                        panic!("command {c}");
                    };
                    let mut base = Config::default();
                    for (k, v) in *opts {
                        base.set(k, v).expect("option");
                    }
                    let mut parent = prepare_report(&p, &cmd, &base, &mut NoUi).expect("parent");
                    parent.prime();
                    parent.index_samples();
                    for f in filters {
                        let mut cfg = base.clone();
                        for (k, v) in *f {
                            cfg.set(k, v).expect("filter");
                        }
                        let what = format!("{name} {c} {opts:?} {f:?}");
                        let mut w1: Vec<String> = Vec::new();
                        let slow = prepare_report(&p, &cmd, &cfg, &mut w1)
                            .map(|mut r| out(&mut r, &cmd, &w1))
                            .map_err(|e| e.to_string());
                        let mut w2: Vec<String> = Vec::new();
                        let fast = prepare_report_from(&p, Some(&parent), &cmd, &cfg, &mut w2)
                            .map(|mut r| {
                                let (v, i) = r.derived_parts();
                                derived.0 += v as usize;
                                derived.1 += i as usize;
                                r.prime();
                                out(&mut r, &cmd, &w2)
                            })
                            .map_err(|e| e.to_string());
                        assert_eq!(slow, fast, "{what}");
                    }
                }
            }
        }
        // The derivations were made, not skipped.
        assert!(derived.0 > 100 && derived.1 > 100, "{derived:?}");
    }

    /// A listing made while the values graph is computed on another
    /// thread prints what a listing from the whole graph prints, and so
    /// do the reports after it.
    #[test]
    fn listings_do_not_wait_for_the_values_graph() {
        let bytes = synthetic::gzipped(&synthetic::random_stacks_profile(120_000, 600, 5));
        let p = crate::profile::parse(&bytes).expect("synthetic profile");
        let list = Command::new("list", Some("T1[0-9]\\)")).expect("list");
        let cfg = Config::default();
        let mut primed = prepare_report(&p, &list, &cfg, &mut NoUi).expect("report");
        let mut later = primed.clone();
        primed.prime();
        later.prime_later();
        let mut first = later.clone();
        let want = out(&mut primed.clone(), &list, &[]);
        assert!(want.contains("ROUTINE"), "{want}");
        assert_eq!(out(&mut first, &list, &[]), want);
        let (a, b) = (primed.values_graph(), later.values_graph());
        assert_eq!(a.nodes, b.nodes);
        for (x, y) in a.arena.iter().zip(&b.arena) {
            assert_eq!((x.flat, x.cum), (y.flat, y.cum));
        }
        assert_eq!(out(&mut later, &list, &[]), want);
    }

    /// Pages of a long peek, one after the other, hold the whole peek's
    /// node sections (sum% included) under the same header.
    #[test]
    fn peek_pages_make_up_the_whole_peek() {
        let bytes = synthetic::gzipped(&synthetic::random_stacks_profile(1_500, 600, 7));
        let p = crate::profile::parse(&bytes).expect("synthetic profile");
        let peek = Command::new("peek", Some("T1")).expect("peek");
        let mut cfg = Config::default();
        cfg.set("granularity", "lines").expect("option");
        let mut rpt = prepare_report(&p, &peek, &cfg, &mut NoUi).expect("report");
        rpt.prime();
        let whole = crate::report::peek::print_peek(&mut rpt.clone()).expect("matches");
        // Header and legend, then node sections, then a closing separator.
        let legend_end = whole.find("context \t \t \n").expect("legend") + 13;
        let (head, body) = whole.split_at(legend_end);
        let sep = "----------------------------------------------------------+-------------\n";
        let mut joined = String::new();
        let mut start = 0;
        let mut pages = 0;
        loop {
            let (text, page) = crate::report::peek::print_peek_page(&mut rpt.clone(), start, 4_000)
                .expect("matches");
            assert_eq!(page.start, start);
            assert!(text.starts_with(head), "page {pages}");
            let section = text[head.len()..]
                .strip_suffix(sep)
                .expect("closing separator");
            joined.push_str(section);
            pages += 1;
            if page.end == page.matched {
                break;
            }
            assert!(page.end > start);
            start = page.end;
        }
        joined.push_str(sep);
        assert!(pages > 3, "{pages} pages");
        assert_eq!(joined, body);
        // A start past the end shows no node.
        let (text, page) = crate::report::peek::print_peek_page(&mut rpt.clone(), usize::MAX, 100)
            .expect("matches");
        assert_eq!((page.start, page.end), (page.matched, page.matched));
        assert_eq!(text, format!("{head}{sep}"));
    }

    /// The one-pass filter leaves the profile as `apply_focus` does.
    #[test]
    fn fast_filter_equals_apply_focus() {
        // Over 100k samples, mostly rewritten by hide: copied in two halves.
        let big = synthetic::gzipped(&synthetic::random_stacks_profile(120_000, 600, 9));
        let big = crate::profile::parse(&big).expect("synthetic profile");
        // A sample without frames (dropped by any filter, as pprof does).
        let mut frameless = profiles().swap_remove(0).1;
        let (v, l) = (
            frameless.samples.values(0).to_vec(),
            frameless.samples.labels(0).to_vec(),
        );
        frameless.samples.push(&v, &[], &l);
        let extra = [("random 120k", big), ("frameless", frameless)];
        for (name, p) in profiles().into_iter().chain(extra) {
            for filters in [
                &[("ignore", "json|T1")][..],
                &[("hide", "json|sort|Method2")],
                &[("focus", "encoding|T3")],
                &[("hide", ".")],
                &[("focus", "zzz")],
                &[("show", "json|T1|main")],
                &[("show", "zzz")],
                &[("tagfocus", "worker=hash,w1")],
                &[("tagignore", "w2|sort")],
                &[("tagfocus", "zzz")],
                &[("tagfocus", "1:")],
                &[("hide", "json|Method2"), ("tagfocus", "hash|w3")],
                &[("focus", "T1"), ("tagignore", "worker=w4")],
                &[
                    ("focus", "main"),
                    ("tagfocus", "w5|json"),
                    ("tagignore", "zzz"),
                ],
            ] {
                let mut cfg = Config::default();
                for (k, v) in filters {
                    cfg.set(k, v).expect("filter");
                }
                let (mut a, mut b) = (p.clone(), p.clone());
                let (mut wa, mut wb): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
                let units = p.num_label_units();
                apply_focus(&mut a, &units, &cfg, &mut wa).expect("filter");
                let d = fast_filter(&mut b, &units, &cfg, &mut wb, None).expect("filter");
                let what = format!("{name} {filters:?}");
                assert_eq!(wa, wb, "{what}");
                let (sa, sb) = (&a.samples, &b.samples);
                assert_eq!(sa.values, sb.values, "{what}");
                assert_eq!(sa.loc_start, sb.loc_start, "{what}");
                assert_eq!(sa.locs, sb.locs, "{what}");
                assert_eq!(sa.label_start, sb.label_start, "{what}");
                assert_eq!(sa.labels, sb.labels, "{what}");
                for (la, lb) in a.locations.iter().zip(&b.locations) {
                    assert_eq!(format!("{la:?}"), format!("{lb:?}"), "{what}");
                }
                // Kept unchanged samples map to themselves.
                for (i, &j) in d.p2c.iter().enumerate() {
                    if j != u32::MAX {
                        assert_eq!(p.samples.stack(i), b.samples.stack(j as usize));
                    }
                }
                assert_eq!(
                    d.p2c.iter().filter(|&&j| j != u32::MAX).count() + d.images.len(),
                    b.samples.len(),
                    "{what}"
                );
                assert!(d.images.windows(2).all(|w| w[0] < w[1]), "{what}");
                assert!(d.redo.windows(2).all(|w| w[0] < w[1]), "{what}");
            }
        }
    }
}
