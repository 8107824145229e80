//! `-dot` compared byte for byte with `go tool pprof -dot` on the Go
//! fixtures (entropy node order, nodelets, colours, residual edges).

use crate::common;

#[test]
fn dot_matches_go_tool_pprof() {
    common::check_case_file("dot.txt");
}
