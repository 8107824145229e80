//! `-raw`, `-comments`, `-callgrind` compared byte for byte with
//! `go tool pprof`; `-proto` and `-topproto` by round trip (their bytes
//! are not pprof's, what reads them back is); `kcachegrind`'s launch.

use crate::common;

#[test]
fn raw_comments_callgrind_match_go_tool_pprof() {
    common::check_case_file("formats.txt");
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(
        common::fixtures()
            .join("expected")
            .join(format!("{name}.txt")),
    )
    .unwrap_or_else(|_| panic!("expected output for {name}"))
}

/// `rprof -<format> args` into `file` in the work directory.
fn write_profile(wd: &common::Workdir, format: &str, args: &[String], file: &str) {
    let mut argv = vec![format!("-{format}")];
    argv.extend(args.iter().cloned());
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = wd.run(&argv);
    assert!(
        out.status.success(),
        "rprof {}: {}",
        argv.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(&out.stdout[..2], &[0x1f, 0x8b], "gzipped");
    std::fs::write(wd.go().join(file), &out.stdout).expect("write profile");
}

fn top_of(wd: &common::Workdir, file: &str) -> String {
    let out = wd.run(&["-top", file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `go tool pprof -top` on rprof's `-proto` output (the expected files)
/// equals `rprof -top` on it; without filters, also `rprof -top` on the
/// original profiles. `-topproto`: `rprof -top` on rprof's output equals
/// `go tool pprof -top` on pprof's own.
#[test]
fn proto_and_topproto_round_trip() {
    let wd = common::Workdir::new();
    let mut failures = Vec::new();
    for (name, args) in common::read_cases("roundtrip.txt") {
        let (format, file) = if name.starts_with("topproto_") {
            ("topproto", format!("{name}.pb.gz"))
        } else {
            ("proto", format!("{name}.pb.gz"))
        };
        write_profile(&wd, format, &args, &file);
        let got = top_of(&wd, &file);
        let want = expected(&name);
        if got != want {
            failures.push(format!("{name}: {}", common::first_difference(&want, &got)));
        }
        let filtered = args
            .iter()
            .any(|a| a.starts_with("-focus") || a.starts_with("-hide") || a.starts_with("-tag"));
        if format == "proto" && !filtered && !args.iter().any(|a| a.starts_with("-divide_by")) {
            let mut argv = vec!["-top".to_string()];
            argv.extend(args.iter().cloned());
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let orig = String::from_utf8_lossy(&wd.run(&argv).stdout).into_owned();
            if orig != got {
                failures.push(format!(
                    "{name}: -top of the original differs: {}",
                    common::first_difference(&orig, &got)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn proto_output_flag_writes_the_same_bytes() {
    let wd = common::Workdir::new();
    let stdout = wd.run(&["-proto", "-focus=main", "goapp", "cpu.pb.gz"]);
    assert!(stdout.status.success());
    let out = wd.run(&[
        "-proto",
        "-focus=main",
        "-output",
        "out.pb.gz",
        "goapp",
        "cpu.pb.gz",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Generating report in out.pb.gz\n"
    );
    let written = std::fs::read(wd.go().join("out.pb.gz")).unwrap();
    assert_eq!(written, stdout.stdout);
    // Not escaped as text: the profile reads back.
    assert_eq!(top_of(&wd, "out.pb.gz"), expected("proto_cpu_focus"));
}

#[test]
fn shell_proto_redirect_writes_a_profile() {
    let wd = common::Workdir::new();
    let out = common::run_script_in(
        &wd.go(),
        &["goapp", "current.heap"],
        &[],
        b"proto > shell.pb.gz\nquit\n",
    );
    assert!(out.status.success());
    assert_eq!(top_of(&wd, "shell.pb.gz"), expected("proto_heap"));
}

/// A directory holding only a fake `kcachegrind` that copies the file it
/// is given to `opened` there.
fn fake_kcachegrind(dir: &std::path::Path) {
    let script = dir.join("kcachegrind");
    let opened = dir.join("opened");
    let body = format!("#!/bin/sh\nexec /bin/cp \"$1\" '{}'\n", opened.display());
    common::write_script(&script, &body);
}

#[test]
fn kcachegrind_opens_the_callgrind_file() {
    let wd = common::Workdir::new();
    let bin = tempfile::tempdir().unwrap();
    fake_kcachegrind(bin.path());
    let out = std::process::Command::new(common::rprof_bin())
        .args(["-kcachegrind", "goapp", "current.heap"])
        .current_dir(wd.go())
        .env("PATH", bin.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let opened = std::fs::read_to_string(bin.path().join("opened")).expect("kcachegrind ran");
    assert_eq!(opened, expected("callgrind_heap"));
}

#[test]
fn kcachegrind_missing_says_where_the_file_is() {
    let wd = common::Workdir::new();
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::rprof_bin())
        .args(["-kcachegrind", "goapp", "current.heap"])
        .current_dir(wd.go())
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let path = err
        .trim()
        .rsplit_once("the report is in ")
        .map(|(_, p)| p.to_string())
        .unwrap_or_else(|| panic!("no file named: {err}"));
    assert!(path.ends_with(".grind"), "{path}");
    let written = std::fs::read_to_string(&path).expect("report file");
    let _ = std::fs::remove_file(&path);
    assert_eq!(written, expected("callgrind_heap"));
}
