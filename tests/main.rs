//! The integration tests: one test binary (as ripgrep does) instead of one
//! per file, so the harness and rprof's library are compiled and linked
//! once. Each `tests/<name>.rs` is a module here, and its tests are named
//! `<name>::<test>`: `cargo test --test integration symbolize_c::` runs one
//! file's tests.
//!
//! Cargo.toml sets `autotests = false` and names this file in `[[test]]`,
//! so cargo does not also build each module as a test crate of its own. A
//! new `tests/<name>.rs` must be declared below;
//! `every_test_file_is_a_module` fails when one is not.

// The shared harness.
mod common;
mod http_server;
// Synthetic profiles (benches/support/synthetic.rs), for tests that need a
// big one.
#[path = "../benches/support/synthetic.rs"]
#[allow(dead_code)]
mod synthetic;
use rprof::pb;

mod browser;
mod cli;
mod corpus;
mod disasm;
mod dot;
mod errors;
mod formats;
mod fuzz_replay;
mod graph;
mod http;
mod images;
mod list;
mod list_edge;
mod peek;
mod producers;
mod shell;
mod symbolize_c;
mod symbolize_go;
mod symbolize_gopclntab;
mod symbolize_rust;
mod tags;
mod top;
mod traces;
mod web;
mod web_browser;
mod weblist;

#[test]
fn every_test_file_is_a_module() {
    let main = include_str!("main.rs");
    let dir = common::repo().join("tests");
    let mut missing = Vec::new();
    for e in std::fs::read_dir(&dir).expect("tests/") {
        let path = e.expect("entry").path();
        let (Some(stem), Some("rs")) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|s| s.to_str()),
        ) else {
            continue;
        };
        if stem != "main" && !main.contains(&format!("\nmod {stem};\n")) {
            missing.push(stem.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "tests/{{{}}}.rs not declared in tests/main.rs: never compiled nor run",
        missing.join(",")
    );
}
