//! Profiles from producers rprof did not write (gperftools' libprofiler on a
//! C binary, `go test -cpuprofile/-memprofile`, runtime/pprof labels,
//! pprof-rs), compared byte for byte with what `go tool pprof` printed for
//! the cases of `fixtures/producers/cases.txt` (run from
//! `fixtures/producers/`, see `fixtures/gen-producers.sh`).

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn producers() -> PathBuf {
    common::fixtures().join("producers")
}

/// rprof run from `fixtures/producers/` as `gen-producers.sh` ran pprof.
fn run(args: &[&str]) -> Output {
    Command::new(common::rprof_bin())
        .args(args)
        .current_dir(producers())
        .env("TZ", "UTC")
        .env("PPROF_BINARY_PATH", "/nonexistent-pprof-binaries")
        .env_remove("GOROOT")
        .output()
        .expect("run rprof")
}

fn read_cases() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(producers().join("cases.txt")).expect("cases.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, args) = l.split_once('\t').expect("case line has a tab");
            let args = args
                .split(' ')
                .filter(|a| !a.is_empty())
                .map(str::to_string);
            (name.to_string(), args.collect())
        })
        .collect()
}

fn check(prefix: &str) {
    let cases: Vec<_> = read_cases()
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .collect();
    common::compare_cases(
        &format!("producers/cases.txt ({prefix}*)"),
        &cases,
        &common::fixtures().join("expected/producers"),
        run,
    );
}

#[test]
fn every_case_has_its_expected_output() {
    let cases = read_cases();
    let mut names: Vec<&str> = cases.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "duplicate case names");
    for name in names {
        assert!(
            common::fixtures()
                .join("expected/producers")
                .join(format!("{name}.txt"))
                .is_file(),
            "no expected output for {name}"
        );
    }
}

#[test]
fn gperftools_cpu_profile_of_a_pie_binary() {
    check("prod_gperf_pie_");
}

#[test]
fn gperftools_cpu_profile_of_a_non_pie_binary() {
    check("prod_gperf_nopie_");
}

#[test]
fn gperftools_profile_symbolized_by_pprof_stays_as_it_is() {
    check("prod_gperf_sym_");
}

#[test]
fn go_test_cpu_and_memory_profiles() {
    check("prod_gobench_");
}

#[test]
fn go_cpu_profile_with_labels() {
    check("prod_golabels_");
}

#[test]
fn pprof_rs_cpu_profile() {
    check("prod_pprofrs_");
}

/// Not compared with pprof: go tool pprof 1.19 finds no symbols in the
/// non-PIE binary (its object reader takes the executable segment's address
/// as the load address of a mapping that starts at the read-only first
/// segment, so it looks 0x1000 too far) and prints `[burn-nopie]` only.
/// rprof names the same functions as in the PIE build.
#[test]
fn gperftools_non_pie_binary_is_symbolized() {
    let show = "-show=^(main|batch|online|sieve|hash_rounds|mix|fib|now)$";
    let names = |bin: &str, prof: &str| -> Vec<String> {
        let out = run(&["-top", "-nodecount=100", show, bin, prof]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut names: Vec<String> = text
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("flat"))
            .skip(1)
            .filter_map(|l| l.split_whitespace().last().map(str::to_string))
            .collect();
        names.sort();
        names
    };
    let nopie = names("gperf/burn-nopie", "gperf/burn-nopie.prof");
    for f in [
        "main",
        "batch",
        "online",
        "sieve",
        "hash_rounds",
        "mix",
        "fib",
    ] {
        assert!(nopie.iter().any(|n| n == f), "{f} missing: {nopie:?}");
    }
    assert_eq!(nopie, names("gperf/burn-pie", "gperf/burn-pie.prof"));
}
