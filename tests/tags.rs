//! `-tags` compared byte for byte with `go tool pprof` on the Go fixtures
//! (string and numeric tags, units, tag filters, bases).

use crate::common;

#[test]
fn tags_match_go_tool_pprof() {
    common::check_case_file("tags.txt");
}

/// `-tagroot` / `-tagleaf`: label values as pseudo-frames, in every report.
#[test]
fn tagroot_and_tagleaf_match_go_tool_pprof() {
    common::check_case_file("tagroot.txt");
}
