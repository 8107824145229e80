//! Loading: profile sources (files or URLs) and their bases, the binary
//! search (`PPROF_BINARY_PATH`), merging, base subtraction and
//! normalization, then symbolization: everything up to one `Profile`.

use std::path::{Path, PathBuf};

use super::Error;
use crate::profile::{self, Mapping, Profile};
use crate::symbolize;
use crate::ui::{NoUi, Ui};

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
    let ok = crate::files::open_regular(Path::new(path)).and_then(|mut f| f.read_exact(&mut magic));
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

/// Loads one source; `to_merge`: the profile is only to be merged (see
/// [`profile::load_to_merge`]).
fn load_one(path: &str, src: &Sources, ui: &mut dyn Ui, to_merge: bool) -> Result<Profile, Error> {
    let load_error = |source| Error::Load {
        path: path.to_string(),
        source,
    };
    let mut p = match crate::fetch::adjust_url(path, src.seconds, src.timeout) {
        Some(target) => {
            // One byte over the limit is enough for parse_with to refuse it.
            let max = src.limits.max_decompressed_bytes.saturating_add(1);
            let bytes = crate::fetch::get(&target, max, ui).map_err(|source| Error::Fetch {
                path: path.to_string(),
                source,
            })?;
            profile::parse_with(&bytes, &src.limits).map_err(load_error)?
        }
        None if to_merge => {
            profile::load_to_merge(Path::new(path), &src.limits).map_err(load_error)?
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
    // As pprof: a profile without mappings gets a fake one (for
    // symbolization; `raw` and `proto` show it).
    if p.mappings.is_empty() {
        p.mappings.push(Mapping {
            id: 1,
            ..Default::default()
        });
        for l in &mut p.locations {
            l.mapping = Some(0);
        }
    }
    if src.exec_name.is_none() && src.build_id.is_none() {
        return;
    }
    if let Some(exe) = &src.exec_name {
        p.mappings[0].file = p.strings.intern(exe);
    }
    if let Some(id) = &src.build_id {
        p.mappings[0].build_id = p.strings.intern(id);
    }
}

/// Loads and merges a list of profiles. Many profiles are loaded on two
/// threads and merged as they come, in order, each dropped once merged
/// (a fleet of profiles is never in memory at once); when the streamed
/// merge cannot give [`combine`]'s result (units to scale, an error...),
/// the list is loaded again and combined whole.
fn grab(paths: &[String], src: &Sources, ui: &mut dyn Ui) -> Result<Profile, Error> {
    if paths.len() >= 3 {
        if let Some(p) = grab_streaming(paths, src, ui) {
            return Ok(p);
        }
    }
    let mut profiles = paths
        .iter()
        .map(|path| load_one(path, src, ui, false))
        .collect::<Result<Vec<_>, _>>()?;
    combine(&mut profiles)
}

/// [`grab`]'s streamed merge; None when it must start over (nothing has
/// been said to `ui` then).
fn grab_streaming(paths: &[String], src: &Sources, ui: &mut dyn Ui) -> Option<Profile> {
    use profile::merge::{Resolved, Snapshot, Streaming};
    use std::sync::mpsc::sync_channel;
    use std::sync::{Arc, Mutex};
    type Loaded = (Result<Profile, Error>, Option<Resolved>, Vec<String>);
    // The merged tables so far, in which the loaders look their profiles
    // up, so that the merging thread has less to do.
    let latest: Mutex<Option<Arc<Snapshot>>> = Mutex::new(None);
    let load = |path: &String| -> Loaded {
        let mut warnings = Vec::new();
        let p = load_one(path, src, &mut warnings, true);
        let snapshot = latest.lock().map(|s| s.clone()).unwrap_or_default();
        let found = match (&p, snapshot) {
            (Ok(p), Some(snap)) => Some(snap.resolve(p)),
            _ => None,
        };
        (p, found, warnings)
    };
    let mut warnings = Vec::new();
    let timings = std::env::var_os("RPROF_TIMINGS").is_some();
    let merged = std::thread::scope(|scope| {
        let mut queues = Vec::new();
        let mut loaders = Vec::new();
        for first in 0..2 {
            let (tx, rx) = sync_channel::<Loaded>(2);
            let load = &load;
            loaders.push(scope.spawn(move || {
                for path in paths.iter().skip(first).step_by(2) {
                    let loaded = load(path);
                    let failed = loaded.0.is_err();
                    if tx.send(loaded).is_err() || failed {
                        break;
                    }
                }
                thread_cpu()
            }));
            queues.push(rx);
        }
        let (mut merging, mut waiting) = (0.0, 0.0);
        let mut merged: Option<Streaming> = None;
        for k in 0..paths.len() {
            let asked = std::time::Instant::now();
            let received = queues[k % 2].recv();
            waiting += asked.elapsed().as_secs_f64();
            let (p, found, w) = received.ok()?;
            let p = p.ok()?;
            warnings.extend(w);
            let start = thread_cpu();
            let m = match &mut merged {
                None => merged.insert(Streaming::new(&p)),
                Some(m) => {
                    if !m.add_resolved(&p, found) {
                        return None;
                    }
                    m
                }
            };
            if let Some(snap) = m.snapshot() {
                if let Ok(mut l) = latest.lock() {
                    *l = Some(Arc::new(snap));
                }
            }
            merging += thread_cpu() - start;
        }
        if timings {
            let loading: Vec<String> = loaders
                .into_iter()
                .map(|h| format!("{:.3}s", h.join().unwrap_or(0.0)))
                .collect();
            eprintln!(
                "rprof: streamed merge: merging {merging:.3}s CPU, {waiting:.3}s waiting; loaders {} CPU",
                loading.join(" + ")
            );
        }
        merged.map(Streaming::finish)
    })?;
    for w in &warnings {
        ui.warn(w);
    }
    Some(merged)
}

/// The CPU time of the calling thread in seconds (for `RPROF_TIMINGS`;
/// 0 where unknown).
fn thread_cpu() -> f64 {
    #[cfg(unix)]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `t` is a valid timespec for the call to fill.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0 {
            return t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9;
        }
    }
    0.0
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
    fetch_profiles_with(src, &mut crate::ui::StderrUi)
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
        b.remove_uninteresting().map_err(Error::DropFrames)?;
        p.base = Some(std::sync::Arc::new(b));
    }
    p.remove_uninteresting().map_err(Error::DropFrames)?;
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
        crate::fetch::save(&p, ui)?;
    }
    Ok(p)
}
