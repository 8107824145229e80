//! A Go binary built with `-ldflags='-s -w'` (no symbol table, no DWARF):
//! its frames are named from the `.gopclntab` section, as `go tool pprof`
//! names them. Needs no Go: the binary (`fixtures/gostripped/hello_sw`,
//! from `tests/data/gostripped/main.go`) and its CPU profile with functions
//! and lines removed (`cpu.pb`) are committed, with what `go tool pprof`
//! printed for them (`expected/gostripped_*.txt`). See fixtures/README.md;
//! `regenerate_gostripped` (ignored, needs Go 1.19) rebuilds them all.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    common::fixtures().join("gostripped")
}

/// The cases: name and arguments (run in `fixtures/gostripped/`).
const CASES: [(&str, &[&str]); 2] = [
    ("gostripped_top", &["-top", "hello_sw", "cpu.pb"]),
    (
        "gostripped_top_lines",
        &["-top", "-lines", "hello_sw", "cpu.pb"],
    ),
];

fn expected(name: &str) -> PathBuf {
    common::fixtures()
        .join("expected")
        .join(format!("{name}.txt"))
}

#[test]
fn stripped_go_binary_is_symbolized_from_pclntab() {
    for (name, args) in CASES {
        let out = common::run_in(&dir(), args);
        let got = String::from_utf8(out.stdout).unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "rprof {args:?}: {err}");
        assert!(got.contains("main.hashLoop"), "{name}: {got}\n{err}");
        assert!(got.contains("main.sortLoop"), "{name}: {got}");
        assert!(
            !got.contains("[hello_sw]"),
            "{name}: unsymbolized frames\n{got}"
        );
        assert!(
            !err.contains("has a symbol"),
            "{name}: warned that nothing was named: {err}"
        );
        let want = std::fs::read_to_string(expected(name)).unwrap();
        assert!(
            want == got,
            "{name} differs from go tool pprof:\n{}\n--- pprof:\n{want}\n--- rprof:\n{got}",
            common::first_difference(&want, &got)
        );
    }
}

/// With -lines, the lines are those of the source: each `main.go:N` that
/// the report names is a line of main.go inside the named function.
#[test]
fn stripped_go_lines_match_the_source() {
    let src =
        std::fs::read_to_string(common::repo().join("tests/data/gostripped/main.go")).unwrap();
    let src: Vec<&str> = src.lines().collect();
    let out = common::run_in(&dir(), &["-top", "-lines", "hello_sw", "cpu.pb"]);
    let got = String::from_utf8(out.stdout).unwrap();
    let mut seen = 0;
    for l in got.lines() {
        let Some(i) = l
            .find("main.hashLoop ")
            .or_else(|| l.find("main.sortLoop "))
        else {
            continue;
        };
        let func = l[i..]
            .split(' ')
            .next()
            .unwrap()
            .trim_start_matches("main.");
        let at = l.rsplit("main.go:").next().unwrap();
        let line: usize = at.split_whitespace().next().unwrap().parse().unwrap();
        // The function's declaration is the nearest `func` line above.
        let decl = src[..line]
            .iter()
            .rev()
            .find(|s| s.starts_with("func "))
            .unwrap();
        assert!(
            decl.starts_with(&format!("func {func}(")),
            "{l}: line {line} is in {decl}"
        );
        assert!(!src[line - 1].trim().is_empty(), "{l}: empty line {line}");
        seen += 1;
    }
    assert!(seen >= 2, "{got}");
}

/// Rebuilds the fixtures (dev machines with Go 1.19 only):
/// `cargo test --test integration -- --ignored regenerate_gostripped`.
#[test]
#[ignore]
fn regenerate_gostripped() {
    assert!(common::have_go(), "needs go");
    let tmp = Path::new("/tmp/gostripped");
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp).unwrap();
    let exe = tmp.join("hello_sw");
    let run = |c: &mut Command| {
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    run(Command::new("go")
        .args(["build", "-trimpath", "-ldflags=-s -w", "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(common::repo().join("tests/data/gostripped"))
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off"));
    run(Command::new(&exe).args(["cpu.pb.gz", "2"]).current_dir(tmp));
    let dst = dir();
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::copy(&exe, dst.join("hello_sw")).unwrap();
    common::strip_symbols(&tmp.join("cpu.pb.gz"), &dst.join("cpu.pb"));
    for (name, args) in CASES {
        let out = run(Command::new("go")
            .args(["tool", "pprof"])
            .args(args)
            .current_dir(&dst)
            .env("TZ", "UTC")
            .env("PPROF_BINARY_PATH", "/nonexistent"));
        std::fs::write(expected(name), out).unwrap();
    }
    std::fs::remove_dir_all(tmp).unwrap();
}
