//! The Go case: a Go program's heap profile with its functions and lines
//! removed, symbolized from the program's binary, gives the same `top`,
//! `-lines` and `list` as the runtime's own symbolized profile.
//!
//! Runs only where Go is installed (dev machines; CI has no Go): without
//! `go` it prints that it is skipped and passes.

use crate::common;

use std::path::Path;
use std::process::Command;

#[test]
fn go_heap_profile_symbolized_from_binary() {
    if !common::have_go() {
        eprintln!("skipping: go is not installed (this test runs on dev machines)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("goheap");
    let src = common::repo().join("tests/data/goheap");
    let out = Command::new("go")
        .args(["build", "-trimpath", "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(&src)
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "go build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let orig = dir.path().join("heap.pb.gz");
    let run = Command::new(&exe).arg(&orig).output().unwrap();
    assert!(run.status.success());
    let stripped = dir.path().join("stripped.pb");
    common::strip_symbols(&orig, &stripped);

    let source_path = format!(
        "-source_path={}",
        common::repo().join("tests/data").display()
    );
    let exe = exe.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["-top"],
        vec!["-top", "-alloc_space"],
        vec!["-top", "-lines"],
        vec!["-top", "-noinlines"],
        vec!["-peek=main\\."],
        vec!["-list=main\\.", &source_path],
    ];
    for args in cases {
        let run = |prof: &Path| {
            let mut a = args.clone();
            a.push(exe);
            a.push(prof.to_str().unwrap());
            let out = common::run_in(dir.path(), &a);
            assert!(out.status.success(), "rprof {a:?}");
            (
                String::from_utf8(out.stdout).unwrap(),
                String::from_utf8(out.stderr).unwrap(),
            )
        };
        let (want, _) = run(&orig);
        let (got, err) = run(&stripped);
        assert!(want.contains("main.newSession"), "{want}");
        assert!(
            want == got,
            "{args:?} differs after symbolization ({err}):\n{}\n--- runtime symbols:\n{want}\n--- from the binary:\n{got}",
            common::first_difference(&want, &got)
        );
    }
}
