//! The Rust service case: `examples/leaky-rust` (tikv-jemallocator with
//! profiling, jemalloc_pprof) leaks per session and dumps base/current heap
//! profiles holding only addresses. rprof symbolizes them from the binary's
//! DWARF: `crate::function` names with their values, the inlined helper,
//! and `list` on the real source lines.
//!
//! The example is built here with cargo, in a cache outside the checkout
//! so that a fresh clone on the same machine (CI's) reuses the few minutes
//! of its jemalloc build: `$RPROF_LEAKY_RUST_CACHE` if set, else
//! `${XDG_CACHE_HOME:-$HOME/.cache}/rprof/leaky-rust`. Its sources are
//! copied to `<cache>/src` (files rewritten only when they differ) and
//! built there into `<cache>/target`, with `<cache>/src` remapped to
//! `examples/leaky-rust`: every clone then gives cargo the same paths and
//! the same RUSTFLAGS, so cargo's own fingerprints decide what to rebuild
//! (changed sources or Cargo.lock, another rustc) and clones do not
//! thrash each other's build. `list` finds the sources from the
//! repository root through the remapped paths.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Each session keeps a 64 KiB buffer and a 4 KiB name (examples/leaky-rust).
const SESSIONS_BETWEEN: i64 = 300 - 100;

struct Run {
    _dir: tempfile::TempDir,
    exe: PathBuf,
    base: PathBuf,
    current: PathBuf,
}

/// Where examples/leaky-rust is built (see the module comment).
fn cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("RPROF_LEAKY_RUST_CACHE") {
        return PathBuf::from(dir);
    }
    match (var("XDG_CACHE_HOME"), var("HOME")) {
        (Some(cache), _) => PathBuf::from(cache).join("rprof/leaky-rust"),
        (None, Some(home)) => PathBuf::from(home).join(".cache/rprof/leaky-rust"),
        // No home: at least keep it between runs of this checkout.
        (None, None) => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("leaky-rust"),
    }
}

/// The files of the example (its sources, Cargo.toml, Cargo.lock; not a
/// `target/` left by a build in place), relative to `root`, sorted.
fn example_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
            return;
        };
        for e in rd.map(|e| e.expect("read_dir entry")) {
            let rel = rel.join(e.file_name());
            let ty = e.file_type().expect("file type");
            if ty.is_dir() && rel != Path::new("target") {
                walk(root, &rel, out);
            } else if ty.is_file() {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, Path::new(""), &mut out);
    out.sort();
    out
}

/// Makes `to` a copy of `from`: writes only the files whose content
/// differs (atomically, so that a concurrent build never reads half a
/// file; unchanged files keep their mtimes and cargo rebuilds nothing) and
/// removes the files `from` does not have. Returns whether it changed
/// anything.
fn sync_tree(from: &Path, to: &Path) -> bool {
    let want = example_files(from);
    let mut changed = false;
    for rel in example_files(to) {
        if !want.contains(&rel) {
            std::fs::remove_file(to.join(&rel)).expect("remove stale cached source");
            changed = true;
        }
    }
    for rel in &want {
        let data = std::fs::read(from.join(rel)).expect("read example source");
        let dest = to.join(rel);
        if std::fs::read(&dest).is_ok_and(|old| old == data) {
            continue;
        }
        std::fs::create_dir_all(dest.parent().unwrap()).expect("mkdir in cache");
        let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &data).expect("write cached source");
        std::fs::rename(&tmp, &dest).expect("rename cached source");
        changed = true;
    }
    changed
}

fn build_and_run() -> Run {
    let example = common::repo().join("examples/leaky-rust");
    let cache = cache_dir();
    let src = cache.join("src");
    let target = cache.join("target");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Another checkout's test may sync other sources into the cache while
    // this one builds: then build again (cargo locks the target directory).
    let mut attempts = 0;
    loop {
        sync_tree(&example, &src);
        eprintln!(
            "building examples/leaky-rust in {} (several minutes the first time)",
            target.display()
        );
        let out = Command::new(&cargo)
            .args(["build", "--release", "--locked", "--manifest-path"])
            .arg(src.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .current_dir(&src)
            .env(
                "RUSTFLAGS",
                format!("--remap-path-prefix={}=examples/leaky-rust", src.display()),
            )
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building examples/leaky-rust (copied to {}) failed:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        attempts += 1;
        if !sync_tree(&example, &src) {
            break;
        }
        assert!(
            attempts < 3,
            "{} keeps changing: another checkout is building other sources there",
            src.display()
        );
    }
    // A private copy, under the same name (rprof prints the mapping's base
    // name): the profiles' mapping names it, and a concurrent build cannot
    // replace it mid-test.
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("leaky-rust");
    std::fs::copy(target.join("release/leaky-rust"), &exe).expect("copy leaky-rust");
    let run = Command::new(&exe).arg(dir.path()).output().unwrap();
    assert!(
        run.status.success(),
        "leaky-rust failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    Run {
        exe,
        base: dir.path().join("base.heap"),
        current: dir.path().join("current.heap"),
        _dir: dir,
    }
}

fn rprof(args: &[&str]) -> (String, String) {
    let out = common::run_in(&common::repo(), args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "rprof {args:?}: {stderr}");
    (stdout, stderr)
}

/// (flat, cum) of a `-top` row, in bytes (`-unit=B`).
fn top_row(out: &str, name: &str) -> Option<(i64, i64)> {
    out.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.get(5..)?.join(" ") != name {
            return None;
        }
        let bytes = |s: &str| s.trim_end_matches('B').parse::<i64>().ok();
        Some((bytes(f[0])?, bytes(f[3])?))
    })
}

fn line_of(text: &str) -> usize {
    let src =
        std::fs::read_to_string(common::repo().join("examples/leaky-rust/src/main.rs")).unwrap();
    src.lines().position(|l| l.contains(text)).unwrap() + 1
}

#[test]
fn jemalloc_pprof_heap_profiles() {
    let r = build_and_run();
    let (exe, base, current) = (
        r.exe.to_str().unwrap(),
        r.base.to_str().unwrap(),
        r.current.to_str().unwrap(),
    );
    let session = SESSIONS_BETWEEN * 64 * 1024;
    let name = SESSIONS_BETWEEN * 4096;

    // With the binary on the command line, and with the mapping's own file.
    for args in [
        vec!["-top", "-unit=B", "--base", base, exe, current],
        vec!["-top", "-unit=B", "--base", base, current],
    ] {
        let (out, err) = rprof(&args);
        assert!(out.starts_with("File: leaky-rust\nBuild ID: "), "{out}");
        assert!(!err.contains("leaky-rust"), "warnings: {err}");
        assert_eq!(
            top_row(&out, "leaky_rust::new_session"),
            Some((0, session + name)),
            "{out}"
        );
        assert_eq!(
            top_row(&out, "leaky_rust::user_name (inline)"),
            Some((0, name)),
            "{out}"
        );
        let (_, cum) = top_row(&out, "leaky_rust::handle_request").expect("handle_request");
        assert!(cum >= session + name, "{out}");
        assert!(top_row(&out, "leaky_rust::main").is_some(), "{out}");
    }

    // Focused on the crate, new_session's allocations are its own.
    let (out, _) = rprof(&[
        "-top",
        "-unit=B",
        "-show=^leaky_rust::",
        "--base",
        base,
        exe,
        current,
    ]);
    assert_eq!(
        top_row(&out, "leaky_rust::new_session"),
        Some((session, session + name)),
        "{out}"
    );
    assert_eq!(
        top_row(&out, "leaky_rust::user_name (inline)"),
        Some((name, name)),
        "{out}"
    );

    // The listing annotates the source lines (paths remapped to the repo).
    let (out, _) = rprof(&[
        "-list=leaky_rust::new_session$",
        "--base",
        base,
        exe,
        current,
    ]);
    assert!(
        out.contains(
            "ROUTINE ======================== leaky_rust::new_session in examples/leaky-rust/src/main.rs\n"
        ),
        "{out}"
    );
    let row = |lineno: usize| -> Option<(String, String, String)> {
        out.lines().find_map(|l| {
            let (values, text) = l.split_once(':')?;
            let f: Vec<&str> = values.split_whitespace().collect();
            (f.len() == 3 && f[2] == lineno.to_string())
                .then(|| (f[0].to_string(), f[1].to_string(), text.to_string()))
        })
    };
    let decl = line_of("pub fn new_session(id: u64) -> Session {");
    assert_eq!(
        out.lines()
            .nth(3)
            .and_then(|l| l.split_once(':'))
            .map(|(v, _)| v.split_whitespace().nth(2).map(str::to_string)),
        Some(Some(decl.to_string())),
        "{out}"
    );
    let user = line_of("let user = user_name(id);");
    assert_eq!(
        row(user),
        Some((
            ".".into(),
            "800kB".into(),
            "    let user = user_name(id);".into()
        )),
        "{out}"
    );
    let buf = line_of("let buf = vec![1u8; SESSION_BUF];");
    assert_eq!(row(buf).map(|r| r.1), Some("12.50MB".into()), "{out}");

    // A binary of another build is refused, not misread.
    let other = std::env::current_exe().unwrap();
    let (out, err) = rprof(&["-top", "--base", base, other.to_str().unwrap(), current]);
    assert!(err.contains("build ID mismatch"), "{err}");
    assert!(top_row(&out, "leaky_rust::new_session").is_none(), "{out}");

    // -symbolize=none leaves the addresses.
    let (out, _) = rprof(&["-top", "-symbolize=none", "--base", base, exe, current]);
    assert!(top_row(&out, "leaky_rust::new_session").is_none(), "{out}");
}
