//! What the fuzz targets run. `tests/fuzz_replay.rs` includes this same file
//! (by path), so a replayed seed or regression input takes exactly the path
//! the fuzzer took, on stable, in `cargo test`.
//!
//! Nothing here may panic on any input: errors are the expected outcome for
//! most bytes and are ignored; a panic is a bug.

#![allow(dead_code)]

use std::path::PathBuf;

use rprof::driver::{self, Command};
use rprof::options::Config;
use rprof::profile::{self, legacy, Limits, Location, Mapping, Profile, Samples, ValueType};
use rprof::symbolize::{self, Loaded, Symbolizer};

/// Smaller caps than the command line's (4 GiB, 100M samples), which are
/// sized for real files: a few-kilobyte gzip bomb would otherwise inflate
/// past the fuzzer's memory limit, legitimately. The limits themselves
/// are tested in `tests/errors.rs`.
pub const LIMITS: Limits = Limits {
    max_decompressed_bytes: 64 << 20,
    max_samples: 200_000,
    max_memory_bytes: 1 << 30,
    max_expansion: None,
};

use rprof::ui::NoUi as Quiet;

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
    Command::new("top", None).expect("command")
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
            granularity: rprof::options::Granularity::Lines,
            sort: rprof::options::Sort::Cum,
            ..Default::default()
        },
        Config {
            show_from: ".".into(),
            prune_from: "x".into(),
            tagignore: "thread=1".into(),
            tagshow: ".".into(),
            granularity: rprof::options::Granularity::Addresses,
            noinlines: true,
            mean: true,
            sample_index: "0".into(),
            relative_percentages: true,
            ..Default::default()
        },
        Config {
            show: ".".into(),
            taghide: "bytes".into(),
            call_tree: true,
            granularity: rprof::options::Granularity::Files,
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

    // As `driver::fetch_profiles` does for one source, less symbolization:
    // mapping file names here are arbitrary paths (the `symbolize` target
    // covers it, on a file of its own).
    let Ok(mut one) = driver::combine(&mut [p.clone()]) else {
        return;
    };
    if one.remove_uninteresting().is_err() {
        return;
    }
    for cfg in &cfgs {
        let _ = driver::generate(&one, &top, cfg, &mut quiet);
    }
    for name in ["tree", "traces", "tags", "dot", "folded", "flame"] {
        let cmd = Command::new(name, None).expect("command");
        let _ = driver::generate(&one, &cmd, &cfgs[0], &mut quiet);
    }
    // The call tree (`-call_tree`) builds its graph separately.
    let dot = Command::new("dot", None).expect("command");
    let _ = driver::generate(&one, &dot, &cfgs[3], &mut quiet);
    let peek = Command::new("peek", Some(".")).expect("command");
    let _ = driver::generate(&one, &peek, &cfgs[1], &mut quiet);

    // Two sources merged.
    if let Ok(both) = driver::combine(&mut [p.clone(), one.clone()]) {
        let _ = driver::generate(&both, &top, &cfgs[0], &mut quiet);
    }

    // Base subtraction, as `driver::fetch_profiles` does it.
    for diff_base in [false, true] {
        let mut cur = p.clone();
        let mut base = p.clone();
        let mut kept = p.clone();
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
        // The kept base of differential flame graphs.
        if kept.remove_uninteresting().is_ok() {
            diff.base = Some(std::sync::Arc::new(kept));
            let flame = Command::new("flame", None).expect("command");
            let _ = driver::generate(&diff, &flame, &cfgs[0], &mut quiet);
        }
    }
}

/// A directory for the object files under test: the symbolizer opens
/// paths (it maps the file) and looks for separate debug files next to
/// them, which must find nothing else. Made anew if removed meanwhile.
fn scratch_dir() -> Option<PathBuf> {
    let dir = std::env::temp_dir().join("rprof-fuzz-objects");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

/// `symbolize` target: bytes as an object file (ELF, Mach-O, PE), read by
/// the symbolizer directly (symbols, frames, address translation) and
/// through a profile whose mappings name it, then reported.
pub fn symbolize(data: &[u8]) {
    let Some(dir) = scratch_dir() else { return };
    // One file per process and thread (tests replay in parallel), removed
    // once read: it is mapped while in use.
    let path = dir.join(format!(
        "{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&path, data).is_ok() {
        symbolize_file(&path, &dir);
    }
    let _ = std::fs::remove_file(&path);
}

fn symbolize_file(path: &std::path::Path, dir: &std::path::Path) {
    let dirs = [dir.to_path_buf()];
    let Ok(loaded) = Loaded::open(path, &dirs) else {
        return;
    };
    let bin = &loaded.bin;
    let mut addrs: Vec<u64> = bin
        .symbols
        .iter()
        .take(32)
        .flat_map(|s| [s.addr, s.addr.wrapping_add(s.size / 2)])
        .collect();
    addrs.extend(bin.loads.iter().take(8).map(|s| s.vaddr));
    addrs.extend([0, 1, u64::MAX]);
    for &a in &addrs {
        let _ = loaded.frames(a);
        let _ = bin.symbol(a);
    }
    let _ = loaded.debug_error();

    // Mappings as producers write them: a non-PIE executable, a PIE or a
    // library mapped high (with a file offset), relative addresses over
    // the whole space, an empty and an inverted range.
    let shapes: [(u64, u64, u64); 5] = [
        (0x40_0000, 0x80_0000, 0),
        (0x7f00_0000_0000, 0x7f00_0010_0000, 0x1000),
        (0, u64::MAX, 0),
        (0x1000, 0x1000, 0),
        (u64::MAX - 0xfff, 0x1000, u64::MAX),
    ];
    let mut p = Profile::default();
    let file = p.strings.intern(&path.to_string_lossy());
    p.sample_types = vec![ValueType {
        ty: p.strings.intern("samples"),
        unit: p.strings.intern("count"),
    }];
    p.samples = Samples::new(1);
    for (mi, &(start, limit, offset)) in shapes.iter().enumerate() {
        p.mappings.push(Mapping {
            id: mi as u64 + 1,
            start,
            limit,
            offset,
            file,
            ..Default::default()
        });
        for &a in &addrs {
            let loc = p.locations.len() as u32;
            p.locations.push(Location {
                id: u64::from(loc) + 1,
                mapping: Some(mi as u32),
                address: start.wrapping_add(a),
                ..Default::default()
            });
            p.samples.push(&[1], &[loc], &[]);
        }
    }
    let opts = symbolize::Options {
        debug_dirs: dirs.to_vec(),
        ..Default::default()
    };
    Symbolizer::new(opts).run(&mut p, &mut Quiet);
    let cfg = Config {
        granularity: rprof::options::Granularity::Lines,
        ..Default::default()
    };
    let _ = driver::generate(&p, &top(), &cfg, &mut Quiet);

    // Disassembly: the symbols with their (unchecked) sizes, decoded in
    // both syntaxes, and the reports built on it.
    let syms: std::sync::Arc<[_]> = symbolize::disasm::function_symbols(&loaded).into();
    for s in syms.iter().take(8) {
        for intel in [false, true] {
            let _ = symbolize::disasm::disassemble(&loaded, s.start, s.end, intel, &syms);
        }
    }
    for (name, intel) in [("disasm", false), ("disasm", true), ("weblist", false)] {
        let cfg = Config {
            intel_syntax: intel,
            ..Default::default()
        };
        if let Ok(cmd) = Command::new(name, Some(".")) {
            let _ = driver::generate(&p, &cmd, &cfg, &mut Quiet);
        }
    }
}
