//! Orchestration shared by the command line and the shell: fetch and merge
//! the profiles (with bases), then prepare and generate a report.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::options::Config;
use crate::profile::filter::TagFilter;
use crate::profile::{self, Mapping, Profile};
use crate::report::{self, graph::ValueSel, Format, Report};
use crate::symbolize;

/// An error with the input or the options; displayed after `rprof: `.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Load {
        path: String,
        source: profile::LoadError,
    },
    #[error("{0}")]
    Merge(#[from] profile::MergeError),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {msg}")]
    Output { path: String, msg: String },
    #[error("{0}")]
    NoMatches(#[from] report::peek::NoMatches),
    /// A profile source given as a URL could not be fetched.
    #[error("{path}: {source}")]
    Fetch {
        path: String,
        source: crate::fetch::FetchError,
    },
    #[error("{0}")]
    Save(#[from] crate::fetch::SaveError),
}

pub use crate::ui::{NoUi, StderrUi, Ui};

/// The profiles to load and how to combine them.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub sources: Vec<String>,
    /// The binary named before the profiles.
    pub exec_name: Option<String>,
    pub build_id: Option<String>,
    pub base: Vec<String>,
    /// Bases are for comparison (-diff_base), not subtraction (-base).
    pub diff_base: bool,
    pub normalize: bool,
    pub comment: Option<String>,
    /// Size and sample-count caps for each profile file.
    pub limits: profile::Limits,
    /// `-seconds` and `-timeout` for sources fetched over HTTP (≤ 0: unset).
    pub seconds: i64,
    pub timeout: i64,
    /// The `-symbolize` value (empty: local).
    pub symbolize: String,
}

/// Whether the file looks like an executable or shared object (ELF,
/// Mach-O, PE), which is how a binary argument is told from a profile.
pub fn is_object_file(path: &str) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let ok = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut magic));
    if ok.is_err() {
        return false;
    }
    matches!(
        magic,
        [0x7f, b'E', b'L', b'F']
            | [0xfe, 0xed, 0xfa, 0xce | 0xcf]
            | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
            | [0xca, 0xfe, 0xba, 0xbe]
    ) || magic[..2] == *b"MZ"
}

/// Whether an argument is a hex build id (pprof accepts one in place of
/// the binary).
pub fn is_build_id(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_hexdigit())
}

fn load_one(path: &str, src: &Sources, ui: &mut dyn Ui) -> Result<Profile, Error> {
    let load_error = |source| Error::Load {
        path: path.to_string(),
        source,
    };
    let mut p = match crate::fetch::adjust_url(path, src.seconds, src.timeout) {
        Some(target) => {
            // One byte over the limit is enough for parse_with to refuse it.
            let max = src.limits.max_decompressed_bytes.saturating_add(1);
            let bytes = crate::fetch::get(&target, max).map_err(|source| Error::Fetch {
                path: path.to_string(),
                source,
            })?;
            profile::parse_with(&bytes, &src.limits).map_err(load_error)?
        }
        None => profile::load_with(Path::new(path), &src.limits).map_err(load_error)?,
    };
    locate_binaries(&mut p, src, ui);
    Ok(p)
}

/// The directories of `PPROF_BINARY_PATH`, else `$HOME/pprof/binaries`.
fn binary_search_path() -> Vec<PathBuf> {
    match std::env::var_os("PPROF_BINARY_PATH").filter(|v| !v.is_empty()) {
        Some(v) => std::env::split_paths(&v).collect(),
        None => std::env::var_os("HOME")
            .map(|h| vec![PathBuf::from(h).join("pprof").join("binaries")])
            .unwrap_or_default(),
    }
}

/// pprof's candidates for a mapping in one search directory: by build id
/// (`DIR/ID/NAME`, anything in `DIR/ID/`, perf's `DIR/FILE/ID`), then by
/// name (`DIR/NAME`, `DIR/FILE`).
fn binary_candidates(dir: &Path, file: &str, build_id: &str) -> Vec<PathBuf> {
    let base = if file.is_empty() {
        ""
    } else {
        crate::paths::base_name(file)
    };
    let mut out = Vec::new();
    if !build_id.is_empty() {
        out.push(dir.join(build_id).join(base));
        if let Ok(rd) = std::fs::read_dir(dir.join(build_id)) {
            let mut found: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            found.sort();
            out.extend(found);
        }
        out.push(dir.join(file.trim_start_matches('/')).join(build_id));
    }
    if !file.is_empty() {
        if !base.is_empty() {
            out.push(dir.join(base));
        }
        out.push(dir.join(file.trim_start_matches('/')));
    }
    out
}

/// Points mappings at local copies of their binaries found through
/// `PPROF_BINARY_PATH` (a build id must match), then names the main mapping
/// after the binary given on the command line (pprof's header then shows
/// it), adding a mapping when there is none.
fn locate_binaries(p: &mut Profile, src: &Sources, ui: &mut dyn Ui) {
    let dirs: Vec<PathBuf> = binary_search_path()
        .into_iter()
        .filter(|d| d.is_dir())
        .collect();
    if !dirs.is_empty() {
        for i in 0..p.mappings.len() {
            let file = p.str(p.mappings[i].file).to_string();
            let build_id = p.str(p.mappings[i].build_id).to_string();
            let found = dirs.iter().find_map(|d| {
                binary_candidates(d, &file, &build_id)
                    .into_iter()
                    .filter(|c| c.is_file())
                    .find_map(|c| {
                        let bin = symbolize::binary::Binary::open(&c).ok()?;
                        let have = bin.build_id.unwrap_or_default();
                        if !build_id.is_empty() && !build_id.eq_ignore_ascii_case(&have) {
                            ui.warn(&format!(
                                "Ignoring local file {}: build-id mismatch ({build_id} != {have})",
                                c.display()
                            ));
                            return None;
                        }
                        Some(c)
                    })
            });
            if let Some(c) = found {
                p.mappings[i].file = p.strings.intern(&c.to_string_lossy());
            }
        }
    }
    if src.exec_name.is_none() && src.build_id.is_none() {
        return;
    }
    if p.mappings.is_empty() {
        p.mappings.push(Mapping {
            id: 1,
            ..Default::default()
        });
        for l in &mut p.locations {
            l.mapping = Some(0);
        }
    }
    if let Some(exe) = &src.exec_name {
        p.mappings[0].file = p.strings.intern(exe);
    }
    if let Some(id) = &src.build_id {
        p.mappings[0].build_id = p.strings.intern(id);
    }
}

/// Loads and merges a list of profiles.
fn grab(paths: &[String], src: &Sources, ui: &mut dyn Ui) -> Result<Profile, Error> {
    let mut profiles = paths
        .iter()
        .map(|path| load_one(path, src, ui))
        .collect::<Result<Vec<_>, _>>()?;
    combine(&mut profiles)
}

/// Merges profiles (scaled first, as pprof does); base subtraction is a
/// combine with the base scaled by -1. A lone profile is merged in place
/// (taken out of the slice).
pub fn combine(profiles: &mut [Profile]) -> Result<Profile, Error> {
    if let [one] = profiles {
        return Ok(profile::merge::merge_one(std::mem::take(one)));
    }
    profile::merge::scale_profiles(profiles)?;
    Ok(profile::merge::merge(profiles)?)
}

/// Scales `p` so its totals per sample type match the base's (-normalize).
pub fn normalize(p: &mut Profile, base: &Profile) {
    let n = p.sample_types.len();
    let sums = |q: &Profile| {
        let mut s = vec![0i64; n];
        for i in 0..q.samples.len() {
            for (a, v) in s.iter_mut().zip(q.samples.values(i)) {
                *a = a.wrapping_add(*v);
            }
        }
        s
    };
    let (b, s) = (sums(base), sums(p));
    let ratios: Vec<f64> = b
        .iter()
        .zip(&s)
        .map(|(&b, &s)| if s == 0 { 0.0 } else { b as f64 / s as f64 })
        .collect();
    p.scale_n(&ratios);
}

/// Loads the sources and bases and combines them as pprof does: bases are
/// negated and merged in, marked with a label for -diff_base; then
/// symbolizes what has no functions yet. Warnings go to stderr.
pub fn fetch_profiles(src: &Sources) -> Result<Profile, Error> {
    fetch_profiles_with(src, &mut StderrUi)
}

/// [`fetch_profiles`] with warnings sent to `ui`.
pub fn fetch_profiles_with(src: &Sources, ui: &mut dyn Ui) -> Result<Profile, Error> {
    if src.sources.is_empty() {
        return Err(Error::Usage("no profile source specified".into()));
    }
    let (sym_opts, sym_warnings) = symbolize::Options::parse(&src.symbolize);
    for w in &sym_warnings {
        ui.warn(w);
    }
    let mut p = grab(&src.sources, src, ui)?;
    // The bases as loaded (not negated), for differential flame graphs.
    let mut kept_base = None;
    if !src.base.is_empty() {
        let mut base = grab(&src.base, src, ui)?;
        kept_base = Some(base.clone());
        if src.diff_base {
            base.set_label("pprof::base", "true");
        }
        if src.normalize {
            normalize(&mut p, &base);
        }
        base.scale(-1.0);
        let mut both = [p, base];
        p = combine(&mut both)?;
    }
    // As pprof: after merging, before dropping uninteresting frames (whose
    // names symbolization provides).
    symbolize::symbolize(&mut p, &sym_opts, ui);
    if let Some(mut b) = kept_base {
        // Same names as the merged profile; its warnings were given above.
        symbolize::symbolize(&mut b, &sym_opts, &mut NoUi);
        b.remove_uninteresting()
            .map_err(|e| Error::Usage(format!("drop_frames: {e}")))?;
        p.base = Some(std::sync::Arc::new(b));
    }
    p.remove_uninteresting()
        .map_err(|e| Error::Usage(format!("drop_frames: {e}")))?;
    // Mappings named by a URL only point back to where they were fetched.
    for m in &mut p.mappings {
        if m.build_id == 0 && p.strings.get(m.file).contains("://") {
            m.file = 0;
        }
    }
    if let Some(c) = &src.comment {
        let id = p.strings.intern(c);
        p.comments.push(id);
    }
    // As pprof: keep the profile when anything was fetched, so it can be
    // looked at again (or used as a -base) once the service is gone.
    if src
        .sources
        .iter()
        .chain(&src.base)
        .any(|s| crate::fetch::is_url(s))
    {
        crate::fetch::save(&p)?;
    }
    Ok(p)
}

/// A report command: its name and optional regexp argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub name: String,
    pub arg: Option<String>,
}

/// The commands pprof knows, and whether they take an argument.
pub const COMMANDS: &[(&str, bool, &str)] = &[
    ("callgrind", false, "Outputs a graph in callgrind format"),
    ("comments", false, "Output all profile comments"),
    (
        "disasm",
        true,
        "Output assembly listings annotated with samples",
    ),
    ("dot", false, "Outputs a graph in DOT format"),
    ("eog", false, "Visualize graph through eog"),
    ("evince", false, "Visualize graph through evince"),
    (
        "flame",
        false,
        "Outputs an interactive flame graph (SVG); differential with a base",
    ),
    (
        "folded",
        false,
        "Outputs collapsed stacks (a;b;c value) for flame graph tools",
    ),
    ("gif", false, "Outputs a graph image in GIF format"),
    ("gv", false, "Visualize graph through gv"),
    ("kcachegrind", false, "Visualize report in KCachegrind"),
    (
        "list",
        true,
        "Output annotated source for functions matching regexp",
    ),
    ("pdf", false, "Outputs a graph in PDF format"),
    (
        "peek",
        true,
        "Output callers/callees of functions matching regexp",
    ),
    ("png", false, "Outputs a graph image in PNG format"),
    (
        "proto",
        false,
        "Outputs the profile in compressed protobuf format",
    ),
    ("ps", false, "Outputs a graph in PS format"),
    (
        "raw",
        false,
        "Outputs a text representation of the raw profile",
    ),
    ("svg", false, "Outputs a graph in SVG format"),
    ("tags", false, "Outputs all tags in the profile"),
    ("text", false, "Outputs top entries in text form"),
    ("top", false, "Outputs top entries in text form"),
    (
        "topproto",
        false,
        "Outputs top entries in compressed protobuf format",
    ),
    ("traces", false, "Outputs all profile samples in text form"),
    ("tree", false, "Outputs a text rendering of call graph"),
    ("web", false, "Visualize graph through web browser"),
    ("weblist", true, "Display annotated source in a web browser"),
];

fn format_of(cmd: &str) -> Option<Format> {
    match cmd {
        "top" | "text" => Some(Format::Text),
        // `tree` is `peek` without a regexp: pprof prints both alike.
        "peek" | "tree" => Some(Format::Peek),
        "traces" => Some(Format::Traces),
        "tags" => Some(Format::Tags),
        "list" => Some(Format::List),
        "dot" | "svg" | "web" => Some(Format::Dot),
        "folded" => Some(Format::Folded),
        "flame" => Some(Format::Flame),
        _ => None,
    }
}

/// pprof's per-command adjustments: text shows every node by default,
/// graphs 80; listings are never trimmed.
pub fn apply_command_overrides(cmd: &str, cfg: &Config) -> Config {
    let mut cfg = cfg.clone();
    let mut trim = cfg.trim;
    match cmd {
        "disasm" => {
            trim = false;
            cfg.granularity = "addresses".into();
            cfg.noinlines = true;
        }
        "weblist" => {
            trim = false;
            cfg.granularity = "addresses".into();
            cfg.noinlines = false;
        }
        "peek" => trim = false,
        "list" => {
            trim = false;
            cfg.granularity = "lines".into();
        }
        "text" | "top" | "topproto" => {
            if cfg.nodecount == -1 {
                cfg.nodecount = 0;
            }
        }
        _ => {
            if cfg.nodecount == -1 {
                cfg.nodecount = 80;
            }
        }
    }
    if matches!(cmd, "proto" | "raw" | "callgrind" | "kcachegrind") {
        trim = false;
        cfg.granularity = "addresses".into();
        cfg.noinlines = false;
    }
    if !trim {
        cfg.nodecount = 0;
        cfg.nodefraction = 0.0;
        cfg.edgefraction = 0.0;
    }
    cfg
}

fn compile(name: &str, value: &str) -> Result<Option<Regex>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    Regex::new(value).map(Some).map_err(|e| {
        Error::Usage(format!(
            "parsing {name} regexp: {}",
            first_line(&e.to_string())
        ))
    })
}

fn first_line(s: &str) -> String {
    s.lines().last().unwrap_or(s).trim().to_string()
}

fn warn_no_match(matched: bool, what: &str, ui: &mut dyn Ui) {
    if !matched {
        ui.warn(&format!("{what} expression matched no samples"));
    }
}

/// Applies focus/ignore/hide/show/show_from/tag filters to the profile.
fn apply_focus(
    p: &mut Profile,
    units: &std::collections::HashMap<String, String>,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<(), Error> {
    let focus = compile("focus", &cfg.focus)?;
    let ignore = compile("ignore", &cfg.ignore)?;
    let hide = compile("hide", &cfg.hide)?;
    let show = compile("show", &cfg.show)?;
    let show_from = compile("show_from", &cfg.show_from)?;
    let tag = |name: &str, value: &str, ui: &mut dyn Ui| -> Result<Option<TagFilter>, Error> {
        if value.is_empty() {
            return Ok(None);
        }
        let (f, is_range) = TagFilter::compile(value, units).map_err(|e| {
            Error::Usage(format!(
                "parsing {name} regexp: {}",
                first_line(&e.to_string())
            ))
        })?;
        if is_range {
            let v = value.split_once('=').map_or(value, |(_, v)| v);
            ui.warn(&format!("{name}:Interpreted '{v}' as range, not regexp"));
        }
        Ok(Some(f))
    };
    let tagfocus = tag("tagfocus", &cfg.tagfocus, ui)?;
    let tagignore = tag("tagignore", &cfg.tagignore, ui)?;
    let prune_from = compile("prune_from", &cfg.prune_from)?;

    let (fm, im, hm, hnm) = p.filter_samples_by_name(
        focus.as_ref(),
        ignore.as_ref(),
        hide.as_ref(),
        show.as_ref(),
    );
    warn_no_match(focus.is_none() || fm, "Focus", ui);
    warn_no_match(ignore.is_none() || im, "Ignore", ui);
    warn_no_match(hide.is_none() || hm, "Hide", ui);
    warn_no_match(show.is_none() || hnm, "Show", ui);
    if let Some(re) = &show_from {
        let m = p.show_from(re);
        warn_no_match(m, "ShowFrom", ui);
    }
    let (tfm, tim) = p.filter_samples_by_tag(tagfocus.as_ref(), tagignore.as_ref());
    warn_no_match(tagfocus.is_none() || tfm, "TagFocus", ui);
    warn_no_match(tagignore.is_none() || tim, "TagIgnore", ui);
    let tagshow = compile("tagshow", &cfg.tagshow)?;
    let taghide = compile("taghide", &cfg.taghide)?;
    if tagshow.is_some() || taghide.is_some() {
        let (tns, tnh) = p.filter_tags_by_name(tagshow.as_ref(), taghide.as_ref());
        warn_no_match(tagshow.is_none() || tns, "TagShow", ui);
        warn_no_match(taghide.is_none() || tnh, "TagHide", ui);
    }
    if let Some(re) = &prune_from {
        p.prune_from(re);
    }
    Ok(())
}

fn aggregate(p: &mut Profile, cfg: &Config) -> Result<(), Error> {
    let inlines = !cfg.noinlines;
    let (function, filename, linenumber, address) = match cfg.granularity.as_str() {
        "addresses" => {
            if inlines {
                return Ok(());
            }
            (true, true, true, true)
        }
        "lines" => (true, true, true, false),
        "files" => (false, true, false, false),
        "functions" => (true, false, false, false),
        "filefunctions" => (true, true, false, false),
        g => return Err(Error::Usage(format!("unexpected granularity {g:?}"))),
    };
    p.aggregate(inlines, function, filename, linenumber, address);
    Ok(())
}

/// Prepares a report for a command: copies the profile, filters and
/// aggregates it, and computes the total, in pprof's order.
pub fn prepare_report(
    p: &Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<Report, Error> {
    let format = format_of(&cmd.name)
        .ok_or_else(|| Error::Usage(format!("{} is not implemented yet", cmd.name)))?;
    let p = p.clone();
    let units = p.num_label_units();
    let cfg = apply_command_overrides(&cmd.name, cfg);
    let base = match (&p.base, format) {
        // Differential flame graphs need the base on its own, filtered
        // the same way.
        (Some(b), Format::Flame) => {
            let b = (**b).clone();
            let units = b.num_label_units();
            let mut quiet = NoUi;
            Some(Box::new(prepare_with(
                b, cmd, &cfg, format, units, &mut quiet,
            )?))
        }
        _ => None,
    };
    let mut rpt = prepare_with(p, cmd, &cfg, format, units, ui)?;
    rpt.base = base;
    Ok(rpt)
}

/// [`prepare_report`] with the command overrides already applied.
fn prepare_with(
    mut p: Profile,
    cmd: &Command,
    cfg: &Config,
    format: Format,
    units: std::collections::HashMap<String, String>,
    ui: &mut dyn Ui,
) -> Result<Report, Error> {
    if !cfg.tagroot.is_empty() || !cfg.tagleaf.is_empty() {
        return Err(Error::Usage(
            "tagroot/tagleaf are not implemented yet".into(),
        ));
    }
    let relative = cfg.relative_percentages;
    if relative {
        apply_focus(&mut p, &units, cfg, ui)?;
    }
    let index = p.sample_index(&cfg.sample_index).map_err(Error::Usage)?;
    let st = p.sample_types[index];
    let mut sample_type = p.str(st.ty).to_string();
    if cfg.mean {
        sample_type = format!("mean_{sample_type}");
    }
    if cfg.divide_by == 0.0 {
        return Err(Error::Usage("zero divisor specified".into()));
    }
    let mut active_filters = Vec::new();
    for (k, v) in [
        ("focus", &cfg.focus),
        ("ignore", &cfg.ignore),
        ("hide", &cfg.hide),
        ("show", &cfg.show),
        ("show_from", &cfg.show_from),
        ("tagfocus", &cfg.tagfocus),
        ("tagignore", &cfg.tagignore),
        ("tagshow", &cfg.tagshow),
        ("taghide", &cfg.taghide),
    ] {
        if !v.is_empty() {
            active_filters.push(format!("{k}={v}"));
        }
    }
    let symbol = compile_argument(cmd)?;
    let sel = ValueSel {
        index,
        mean: cfg.mean,
    };
    let opts = report::Options {
        format,
        cum_sort: cfg.sort == "cum",
        call_tree: cfg.call_tree,
        drop_negative: cfg.drop_negative,
        compact_labels: cfg.compact_labels,
        ratio: 1.0 / cfg.divide_by,
        node_count: cfg.nodecount,
        node_fraction: cfg.nodefraction,
        edge_fraction: cfg.edgefraction,
        active_filters,
        num_label_units: units.clone(),
        sample: sel,
        sample_type,
        sample_unit: p.str(st.unit).to_string(),
        output_unit: cfg.unit.clone(),
        source_path: cfg.source_path.clone(),
        trim_path: cfg.trim_path.clone(),
        symbol,
        title: p
            .mappings
            .first()
            .filter(|m| m.file != 0)
            .map_or(String::new(), |m| {
                crate::paths::base_name(p.str(m.file)).to_string()
            }),
    };
    let total = report::compute_total(&p, sel);
    if !relative {
        apply_focus(&mut p, &units, cfg, ui)?;
    }
    aggregate(&mut p, cfg)?;
    Ok(Report::new(p, opts, total))
}

/// Sets the options that only shape the output (not which samples count)
/// from `cfg`, so a prepared report can be reused with new ones.
pub fn set_output_options(rpt: &mut Report, cmd: &Command, cfg: &Config) -> Result<(), Error> {
    let cfg = apply_command_overrides(&cmd.name, cfg);
    let o = &mut rpt.opts;
    o.symbol = compile_argument(cmd)?;
    if let Some(f) = format_of(&cmd.name) {
        o.format = f;
    }
    o.cum_sort = cfg.sort == "cum";
    o.compact_labels = cfg.compact_labels;
    o.ratio = 1.0 / cfg.divide_by;
    o.node_count = cfg.nodecount;
    o.node_fraction = cfg.nodefraction;
    o.edge_fraction = cfg.edgefraction;
    o.output_unit = cfg.unit.clone();
    Ok(())
}

/// The command's regexp argument (`list RE`, `peek RE`), compiled.
fn compile_argument(cmd: &Command) -> Result<Option<Regex>, Error> {
    cmd.arg
        .as_ref()
        .map(|a| {
            Regex::new(a).map_err(|e| {
                Error::Usage(format!(
                    "parsing argument regexp {a}: {}",
                    first_line(&e.to_string())
                ))
            })
        })
        .transpose()
}

/// Renders a prepared report.
pub fn render(rpt: &mut Report, cmd: &Command) -> Result<String, Error> {
    match rpt.opts.format {
        Format::Text => Ok(report::text::print_text(rpt)),
        Format::Peek => Ok(report::peek::print_peek(rpt)?),
        Format::Traces => Ok(report::traces::print_traces(rpt)),
        Format::Tags => Ok(report::tags::print_tags(rpt)),
        Format::List => report::list::print_list(rpt).map_err(|e| Error::Usage(e.to_string())),
        Format::Dot => {
            let drawing = report::dot::drawing(rpt);
            if cmd.name == "dot" {
                return Ok(drawing.to_dot());
            }
            report::svg::render(&drawing, &mut StderrUi)
                .map(|(svg, _)| svg)
                .map_err(|e| Error::Usage(e.to_string()))
        }
        Format::Folded => Ok(report::flame::print_folded(rpt)),
        Format::Flame => {
            let mut base = rpt.base.take();
            report::flame::print_flame(rpt, base.as_deref_mut(), &mut StderrUi)
                .map_err(|e| Error::Usage(e.to_string()))
        }
        _ => Err(Error::Usage(format!("{} is not implemented yet", cmd.name))),
    }
}

/// Generates a command's report as text.
pub fn generate(
    p: &Profile,
    cmd: &Command,
    cfg: &Config,
    ui: &mut dyn Ui,
) -> Result<String, Error> {
    let mut rpt = prepare_report(p, cmd, cfg, ui)?;
    render(&mut rpt, cmd)
}

/// Writes a report to standard output, or to `output` when set (saying so
/// on stderr, as pprof does). A closed pipe is not an error.
pub fn write_output(text: &str, output: &str) -> Result<(), Error> {
    use std::io::Write;
    if !output.is_empty() {
        eprintln!("Generating report in {output}");
        return std::fs::write(output, text).map_err(|e| Error::Output {
            path: output.to_string(),
            msg: e.to_string(),
        });
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
            path: "standard output".into(),
            msg: e.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Delivers a generated report. `web` saves the SVG to a temporary file
/// and opens it in a browser; drawings (`svg`, `flame`) that would go to a
/// terminal or the shell's screen are saved to a new `profileNNN.svg` in the
/// current directory instead (as pprof does); everything else goes to
/// `output` or standard output.
pub fn deliver(cmd: &Command, text: &str, output: &str, interactive: bool) -> Result<(), Error> {
    use std::io::IsTerminal;
    if !output.is_empty() {
        return write_output(text, output);
    }
    match cmd.name.as_str() {
        "web" => {
            let (path, mut file) = new_temp_file(&std::env::temp_dir(), "rprof", ".svg")?;
            write_file(&mut file, &path, text)?;
            drop(file);
            if !open_in_browser(&path) {
                eprintln!(
                    "rprof: could not start a browser (set $BROWSER); the graph is in {}",
                    path.display()
                );
            }
            Ok(())
        }
        "svg" | "flame" if interactive || std::io::stdout().is_terminal() => {
            let (path, mut file) = new_temp_file(Path::new(""), "profile", ".svg")?;
            eprintln!("Generating report in {}", path.display());
            write_file(&mut file, &path, text)
        }
        _ => write_output(text, ""),
    }
}

fn write_file(file: &mut std::fs::File, path: &Path, text: &str) -> Result<(), Error> {
    use std::io::Write;
    file.write_all(text.as_bytes()).map_err(|e| Error::Output {
        path: path.display().to_string(),
        msg: e.to_string(),
    })
}

/// Creates `dir/<prefix>NNN<suffix>` with the first free number.
fn new_temp_file(
    dir: &Path,
    prefix: &str,
    suffix: &str,
) -> Result<(std::path::PathBuf, std::fs::File), Error> {
    let mut last = String::new();
    for i in 1..10000 {
        let path = dir.join(format!("{prefix}{i:03}{suffix}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => last = e.to_string(),
        }
    }
    Err(Error::Output {
        path: dir
            .join(format!("{prefix}NNN{suffix}"))
            .display()
            .to_string(),
        msg: format!("could not make a temporary file: {last}"),
    })
}

/// The commands tried to show a file: `$BROWSER` (a `:`-separated list,
/// `%s` standing for the file), then the desktop's opener.
fn browser_commands() -> Vec<Vec<String>> {
    let mut cmds: Vec<Vec<String>> = Vec::new();
    if let Ok(b) = std::env::var("BROWSER") {
        for c in b.split(':').filter(|c| !c.trim().is_empty()) {
            cmds.push(c.split_whitespace().map(str::to_string).collect());
        }
    }
    if cfg!(target_os = "macos") {
        cmds.push(vec!["/usr/bin/open".into()]);
    } else if cfg!(windows) {
        cmds.push(vec!["cmd".into(), "/c".into(), "start".into()]);
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        // xdg-open only makes sense in a desktop session.
        cmds.push(vec!["xdg-open".into()]);
    }
    cmds
}

/// Opens `path` with the first browser command that starts and does not
/// fail right away. Browsers keep running after rprof exits.
fn open_in_browser(path: &Path) -> bool {
    use std::time::{Duration, Instant};
    let file = path.display().to_string();
    for cmd in browser_commands() {
        let Some((program, args)) = cmd.split_first() else {
            continue;
        };
        let mut args: Vec<String> = args.iter().map(|a| a.replace("%s", &file)).collect();
        if !cmd.iter().any(|a| a.contains("%s")) {
            args.push(file.clone());
        }
        let child = std::process::Command::new(program)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            continue;
        };
        // Openers like xdg-open hand the file over and exit: a quick
        // failure means try the next command; still running means started.
        let deadline = Instant::now() + Duration::from_secs(2);
        let started = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(25))
                }
                Ok(None) => break true,
                Err(_) => break false,
            }
        };
        if started {
            return true;
        }
    }
    false
}
