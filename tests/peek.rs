//! `-peek=regexp` compared byte for byte with `go tool pprof` on the Go
//! fixtures (callers/callees, edge order, inline marks, bases, lines).

use crate::common;

#[test]
fn peek_matches_go_tool_pprof() {
    common::check_case_file("peek.txt");
}

#[test]
fn peek_without_match_fails_and_prints_nothing() {
    let wd = common::Workdir::new();
    let out = wd.run(&["-peek=no_such_function_anywhere", "current.heap"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no matches found for regexp: no_such_function_anywhere"));
}
