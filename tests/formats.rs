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

/// `-callgrind -call_tree`: pprof's ties among context copies of a node
/// are in map order (see fixtures/cases/callgrind_tree.txt), which moves
/// whole node blocks, renumbers the `[i/n]` suffixes and with them the
/// name compression and relative addresses. So outputs are decoded (names
/// and addresses made absolute, suffix numbers dropped) and compared as
/// sets of node blocks; the `EXACT` cases also byte for byte.
#[test]
fn callgrind_call_tree_matches_go_tool_pprof() {
    // pprof prints these the same every time (mutex, block: no ties), or
    // (heap) one of two orders, and the committed one is rprof's.
    const EXACT: [&str; 4] = [
        "callgrind_heap_call_tree",
        "callgrind_heap_base_call_tree",
        "callgrind_mutex_call_tree",
        "callgrind_block_mean_call_tree",
    ];
    let wd = common::Workdir::new();
    let cases = common::read_cases("callgrind_tree.txt");
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for (name, args) in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = wd.run(&argv);
        assert!(out.status.success(), "{name}");
        let got = String::from_utf8_lossy(&out.stdout);
        let want = expected(name);
        if decoded_callgrind(&got) != decoded_callgrind(&want) {
            failures.push(format!("{name}: differs beyond tie order"));
        } else if EXACT.contains(&name.as_str()) && got != want {
            failures.push(format!("{name}: {}", common::first_difference(&want, &got)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Callgrind text as sorted node blocks with names and addresses spelled
/// out: each block is its ob/fl/fn, cost line and sorted calls.
fn decoded_callgrind(s: &str) -> Vec<Vec<String>> {
    use std::collections::HashMap;
    let suffix = regex::Regex::new(r" \[\d+/(\d+)\]$").expect("regex");
    let compressed = regex::Regex::new(r"^\((\d+)\)(?: (.*))?$").expect("regex");
    let mut tables: [HashMap<String, String>; 3] = Default::default();
    let mut name = |table: usize, v: &str| -> String {
        let Some(c) = compressed.captures(v) else {
            return v.to_string();
        };
        let id = c[1].to_string();
        let t = &mut tables[table];
        if let Some(n) = c.get(2) {
            t.insert(id.clone(), n.as_str().to_string());
        }
        suffix
            .replace(t.get(&id).map_or("?", String::as_str), " [/$1]")
            .into_owned()
    };
    let resolve = |prev: u64, a: &str| -> u64 {
        if a == "*" {
            prev
        } else if let Some(h) = a.strip_prefix("0x") {
            u64::from_str_radix(h, 16).expect("hex address")
        } else {
            prev.wrapping_add_signed(a.parse::<i64>().expect("relative address"))
        }
    };
    let (mut ob, mut fl, mut func) = (String::new(), String::new(), String::new());
    let (mut prev, mut this, mut cfl, mut cfn) = (0u64, 0u64, String::new(), String::new());
    let mut blocks: Vec<Vec<String>> = Vec::new();
    for line in s.lines() {
        if let Some(v) = line.strip_prefix("ob=") {
            ob = name(0, v);
        } else if let Some(v) = line.strip_prefix("fl=") {
            fl = name(1, v);
        } else if let Some(v) = line.strip_prefix("fn=") {
            func = name(2, v);
        } else if let Some(v) = line.strip_prefix("cfl=") {
            cfl = name(1, v);
        } else if let Some(v) = line.strip_prefix("cfn=") {
            cfn = name(2, v);
        } else if let Some(v) = line.strip_prefix("calls=0 ") {
            let (a, l) = v.split_once(' ').expect("calls line");
            let call = format!("  {cfl} {cfn} {:#x} {l}", resolve(prev, a));
            blocks.last_mut().expect("block").push(call);
        } else if let Some(v) = line.strip_prefix("* * ") {
            blocks
                .last_mut()
                .expect("block")
                .last_mut()
                .expect("call")
                .push_str(&format!(" {v}"));
        } else if line.is_empty() || line.starts_with("positions:") || line.starts_with("events:") {
            if let Some(b) = blocks.last_mut() {
                b[1..].sort();
            }
            blocks.push(vec![line.to_string()]);
        } else {
            prev = this;
            let (a, rest) = line.split_once(' ').expect("cost line");
            this = resolve(prev, a);
            if let Some(b) = blocks.last_mut() {
                b[1..].sort();
            }
            blocks.push(vec![format!("{ob} {fl} {func} {this:#x} {rest}")]);
        }
    }
    if let Some(b) = blocks.last_mut() {
        b[1..].sort();
    }
    blocks.retain(|b| !(b.len() == 1 && b[0].is_empty()));
    blocks.sort();
    blocks
}
