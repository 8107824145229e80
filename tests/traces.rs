//! `-traces` compared byte for byte with `go tool pprof` on the Go
//! fixtures (sample order, string and numeric labels, inline frames).

use crate::common;

#[test]
fn traces_match_go_tool_pprof() {
    common::check_case_file("traces.txt");
}
