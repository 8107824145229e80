//! `-top`/`-text` compared byte for byte with `go tool pprof` on the Go
//! fixtures (heap with and without bases, allocs, CPU, goroutine, mutex,
//! block; filters, granularities, units, node trimming).

use crate::common;

#[test]
fn top_matches_go_tool_pprof() {
    common::check_case_file("top.txt");
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let wd = common::Workdir::new();
    let out = wd.run(&[
        "-top",
        "-output",
        "report.txt",
        "-base",
        "base.heap",
        "goapp",
        "current.heap",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Generating report in report.txt\n"
    );
    let written = std::fs::read_to_string(wd.go().join("report.txt")).unwrap();
    let want = std::fs::read_to_string(common::fixtures().join("expected/seed_base.txt")).unwrap();
    assert_eq!(written, want);
}

#[test]
fn help_lists_flags() {
    let out = common::run_in(&common::fixtures(), &["-help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "-top",
        "-nodecount",
        "-focus",
        "-base",
        "-diff_base",
        "-sample_index",
        "-lines",
        "-output",
    ] {
        assert!(text.contains(flag), "help lacks {flag}");
    }
}

#[test]
fn top_matches_go_tool_pprof_on_hand_made_edge_cases() {
    common::check_case_file("synthetic.txt");
}
