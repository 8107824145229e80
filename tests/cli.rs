//! Command-line behaviours around the reports: the local time zone in
//! `Time:`, the binary given after the profile, usage without arguments,
//! `-version`.

mod common;

use std::process::Command;

fn expected(name: &str) -> String {
    std::fs::read_to_string(common::fixtures().join("expected").join(name)).expect("expected file")
}

/// `Time:` is in the local time zone (`TZ`), abbreviation included, as
/// `go tool pprof` printed it with the same `TZ`.
#[test]
fn time_is_local() {
    let wd = common::Workdir::new();
    for (tz, args, want) in [
        (
            "America/New_York",
            &["-top", "-base", "base.heap", "goapp", "current.heap"][..],
            "seed_base_tz_new_york.txt",
        ),
        (
            "Asia/Kolkata",
            &["-top", "goapp", "current.heap"][..],
            "heap_tz_kolkata.txt",
        ),
    ] {
        let out = Command::new(common::rprof_bin())
            .args(args)
            .current_dir(wd.go())
            .env("TZ", tz)
            .env_remove("PPROF_BINARY_PATH")
            .output()
            .expect("run rprof");
        assert!(out.status.success(), "{tz}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected(want), "{tz}");
    }
}

/// A binary after the profiles is recognised by its content and used as the
/// binary, with a warning: the report equals the one with the usual order.
#[test]
fn binary_after_the_profile() {
    let wd = common::Workdir::new();
    let out = wd.run(&["-top", "-base", "base.heap", "current.heap", "goapp"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        expected("seed_base.txt")
    );
    assert_eq!(
        stderr,
        "rprof: goapp is a binary, not a profile: using it as the binary\n"
    );
}

/// No arguments: the usage, then the reason, exit 1 (as pprof).
#[test]
fn no_arguments_prints_usage() {
    let out = common::run_in(&common::fixtures(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(stderr.starts_with("usage:\n"), "{stderr}");
    assert!(stderr.contains("\n  Output formats"), "{stderr}");
    assert!(
        stderr.ends_with("\nrprof: no profile source specified\n"),
        "{stderr}"
    );
}

#[test]
fn version() {
    for flag in ["-version", "--version"] {
        let out = common::run_in(&common::fixtures(), &[flag]);
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("rprof {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

/// `-help` lists exactly the command table: every format listed works.
#[test]
fn help_lists_only_working_formats() {
    let out = common::run_in(&common::fixtures(), &["-help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    let wd = common::Workdir::new();
    let formats: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.contains("Output formats"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(formats.len(), rprof::driver::COMMANDS.len(), "{help}");
    for f in formats {
        let (flag, arg) = match f.split_once('=') {
            Some((flag, _)) => (flag.to_string(), Some(".")),
            None => (f.to_string(), None),
        };
        let mut args = vec![flag.as_str()];
        args.extend(arg);
        if flag == "-web" {
            continue; // opens a browser
        }
        args.extend(["-output", "out.txt", "goapp", "current.heap"]);
        let out = wd.run(&args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
