//! What the fuzz targets run. `tests/fuzz_replay.rs` includes this same file
//! (by path), so a replayed seed or regression input takes exactly the path
//! the fuzzer took, on stable, in `cargo test`.
//!
//! Nothing here may panic on any input: errors are the expected outcome for
//! most bytes and are ignored; a panic is a bug.

#![allow(dead_code)]

use rprof::driver::{self, Command, Ui};
use rprof::options::Config;
use rprof::profile::{self, legacy, Limits, Profile};

/// Smaller caps than the command line's (4 GiB, 100M samples), which are
/// sized for real files: a few-kilobyte gzip bomb would otherwise inflate
/// past the fuzzer's memory limit, legitimately. The limits themselves
/// are tested in `tests/errors.rs`.
pub const LIMITS: Limits = Limits {
    max_decompressed_bytes: 64 << 20,
    max_samples: 200_000,
};

struct Quiet;

impl Ui for Quiet {
    fn warn(&mut self, _: &str) {}
}

/// `decode` target: bytes as a profile file (gzip detected by content,
/// protobuf then the legacy formats), as the command line loads one.
pub fn decode(data: &[u8]) {
    if let Ok(p) = profile::parse_with(data, &LIMITS) {
        reports(p);
    }
}

/// `legacy` target: bytes straight into the legacy parsers, so that every
/// input reaches them (not only those the protobuf decoder rejects).
pub fn legacy(data: &[u8]) {
    if let Ok(p) = legacy::parse(data, LIMITS.max_samples) {
        reports(p);
    }
}

fn top() -> Command {
    Command {
        name: "top".into(),
        arg: None,
    }
}

/// Report configurations: the default, then filters, granularities and
/// value selections that reach different code.
fn configs() -> Vec<Config> {
    vec![
        Config::default(),
        Config {
            focus: "main|[a-z]".into(),
            ignore: "runtime".into(),
            hide: r"\.go$".into(),
            tagfocus: "1:1000".into(),
            granularity: "lines".into(),
            sort: "cum".into(),
            ..Default::default()
        },
        Config {
            show_from: ".".into(),
            prune_from: "x".into(),
            tagignore: "thread=1".into(),
            tagshow: ".".into(),
            granularity: "addresses".into(),
            noinlines: true,
            mean: true,
            sample_index: "0".into(),
            relative_percentages: true,
            ..Default::default()
        },
        Config {
            show: ".".into(),
            taghide: "bytes".into(),
            granularity: "files".into(),
            drop_negative: true,
            nodecount: 3,
            divide_by: -3.0,
            unit: "kb".into(),
            ..Default::default()
        },
    ]
}

/// The command line's flow on one decoded profile (merge, drop frames,
/// reports), then merged with itself, and with itself as a base
/// (`-base`, `-diff_base -normalize`).
pub fn reports(p: Profile) {
    let mut quiet = Quiet;
    let cfgs = configs();
    let top = top();

    // As `driver::fetch_profiles` does for one source.
    let Ok(mut one) = driver::combine(&mut [p.clone()]) else {
        return;
    };
    if one.remove_uninteresting().is_err() {
        return;
    }
    for cfg in &cfgs {
        let _ = driver::generate(&one, &top, cfg, &mut quiet);
    }
    for name in ["tree", "traces", "tags"] {
        let cmd = Command {
            name: name.into(),
            arg: None,
        };
        let _ = driver::generate(&one, &cmd, &cfgs[0], &mut quiet);
    }
    let peek = Command {
        name: "peek".into(),
        arg: Some(".".into()),
    };
    let _ = driver::generate(&one, &peek, &cfgs[1], &mut quiet);

    // Two sources merged.
    if let Ok(both) = driver::combine(&mut [p.clone(), one.clone()]) {
        let _ = driver::generate(&both, &top, &cfgs[0], &mut quiet);
    }

    // Base subtraction, as `driver::fetch_profiles` does it.
    for diff_base in [false, true] {
        let mut cur = p.clone();
        let mut base = p.clone();
        if diff_base {
            base.set_label("pprof::base", "true");
            driver::normalize(&mut cur, &base);
        }
        base.scale(-1.0);
        let Ok(mut diff) = driver::combine(&mut [cur, base]) else {
            continue;
        };
        if diff.remove_uninteresting().is_err() {
            continue;
        }
        let _ = driver::generate(&diff, &top, &cfgs[usize::from(diff_base)], &mut quiet);
    }
}
