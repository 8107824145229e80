//! The Rust service case: `examples/leaky-rust` (tikv-jemallocator with
//! profiling, jemalloc_pprof) leaks per session and dumps base/current heap
//! profiles holding only addresses. rprof symbolizes them from the binary's
//! DWARF: `crate::function` names with their values, the inlined helper,
//! and `list` on the real source lines.
//!
//! The example is built here with cargo (into a target directory kept
//! between runs), with source paths remapped to the repository so that
//! `list` finds them from the repository root.

mod common;

use std::path::PathBuf;
use std::process::Command;

/// Each session keeps a 64 KiB buffer and a 4 KiB name (examples/leaky-rust).
const SESSIONS_BETWEEN: i64 = 300 - 100;

struct Run {
    _dir: tempfile::TempDir,
    exe: PathBuf,
    base: PathBuf,
    current: PathBuf,
}

fn build_and_run() -> Run {
    let repo = common::repo();
    let crate_dir = repo.join("examples/leaky-rust");
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("leaky-rust");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release", "--locked", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env(
            "RUSTFLAGS",
            format!(
                "--remap-path-prefix={}=examples/leaky-rust",
                crate_dir.display()
            ),
        )
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "building examples/leaky-rust failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exe = target.join("release/leaky-rust");
    let dir = tempfile::tempdir().unwrap();
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
