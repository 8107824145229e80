//! `-list` compared byte for byte with `go tool pprof` on the Go fixtures,
//! plus rprof's source search beyond pprof's (toolchain directories).

use crate::common;

use std::process::Command;

#[test]
fn list_matches_go_tool_pprof() {
    common::check_case_file("list.txt");
}

/// A standard library file pprof cannot find (list_missing_source) is
/// listed from `$GOROOT/src`; everything else stays as pprof prints it.
#[test]
fn list_finds_standard_library_in_goroot() {
    let wd = common::Workdir::new();
    let goroot = tempfile::tempdir().unwrap();
    let dir = goroot.path().join("src/crypto/sha256");
    std::fs::create_dir_all(&dir).unwrap();
    let text: String = (1..=2000).map(|i| format!("asm line {i}\n")).collect();
    std::fs::write(dir.join("sha256block_amd64.s"), text).unwrap();

    let out = Command::new(common::rprof_bin())
        .args(["-list=sha256\\.block$", "-source_path=../src", "cpu.pb.gz"])
        .current_dir(wd.go())
        .env("TZ", "UTC")
        .env("GOROOT", goroot.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let got = String::from_utf8(out.stdout).unwrap();
    let want = std::fs::read_to_string(common::fixtures().join("expected/list_missing_source.txt"))
        .unwrap();
    // Same Total, ROUTINE and summary lines; source rows instead of the error.
    let header: Vec<&str> = want.lines().take(3).collect();
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[..3], header[..]);
    assert!(lines.len() > 3, "no source rows:\n{got}");
    let mut flat_rows = 0;
    for row in &lines[3..] {
        let (values, text) = row.split_once(':').unwrap();
        let lineno = values.split_whitespace().last().unwrap();
        assert_eq!(text, format!("asm line {lineno}"), "row {row:?}");
        if !values.trim_start().starts_with('.') {
            flat_rows += 1;
        }
    }
    assert!(flat_rows > 0, "no sampled line:\n{got}");
}

#[test]
fn list_without_matches_fails() {
    let wd = common::Workdir::new();
    let out = wd.run(&["-list=no_such_function", "current.heap"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no matches found for regexp: no_such_function"));
}
