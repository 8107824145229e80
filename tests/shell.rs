//! The interactive shell: scripted sessions through stdin compared with
//! `go tool pprof`'s stdout for the same scripts, and a pseudo-terminal
//! session exercising completion, history recall and Ctrl-D.

use crate::common;

use std::process::Command;

fn run_script(wd: &common::Workdir, args: &[String], script: &[u8]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::run_script_in(&wd.go(), &args, &[], script)
}

#[test]
fn scripted_sessions_match_go_tool_pprof() {
    let wd = common::Workdir::new();
    let dir = common::fixtures().join("shell");
    let cases = std::fs::read_to_string(dir.join("cases.txt")).unwrap();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in cases
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, args) = line.split_once('\t').unwrap();
        let args: Vec<String> = args.split(' ').map(str::to_string).collect();
        let script = std::fs::read(dir.join(format!("{name}.script"))).unwrap();
        let want =
            std::fs::read_to_string(common::fixtures().join(format!("expected/shell_{name}.txt")))
                .unwrap();
        let out = run_script(&wd, &args, &script);
        let got = String::from_utf8_lossy(&out.stdout);
        n += 1;
        if !out.status.success() || got != want {
            failures.push(format!(
                "{name}: exit {:?}\n{}",
                out.status.code(),
                common::first_difference(&want, &got)
            ));
        }
    }
    assert!(n >= 5);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn greeting_errors_and_recovery() {
    let wd = common::Workdir::new();
    let out = run_script(
        &wd,
        &["goapp".into(), "current.heap".into()],
        b"nosuchcommand\nfocus=(\ntop 1\nfocus=\ngranularity=nope\nsample_index=bytes\ntop 1\n",
    );
    assert!(out.status.success(), "exit 0 at end of input");
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "File: goapp");
    assert_eq!(lines[1], "Type: inuse_space");
    assert_eq!(
        lines[3],
        "Entering interactive mode (type \"help\" for commands, \"o\" for options)"
    );
    assert_eq!(lines[4], "unrecognized command: \"nosuchcommand\"");
    assert!(
        lines[5].starts_with("parsing focus regexp: "),
        "{}",
        lines[5]
    );
    assert_eq!(lines[6], "invalid \"granularity\" value \"nope\"");
    assert!(
        lines[7].starts_with("sample_index \"bytes\" must be one of"),
        "{}",
        lines[7]
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The last `top 1` still ran, after all the errors.
    assert!(stdout.contains("Showing top 1 nodes out of 18"), "{stdout}");
    assert!(stdout.contains("main.takeSnapshot"));
}

#[test]
fn options_reset_and_redirect() {
    let wd = common::Workdir::new();
    let out = run_script(
        &wd,
        &["current.heap".into()],
        b"nodecount=2\nnodecount=\ntop > top.txt\no\nhelp top\n",
    );
    assert!(out.status.success());
    let report = std::fs::read_to_string(wd.go().join("top.txt")).unwrap();
    // `nodecount=` restored the default: top shows 10 entries.
    assert!(
        report.contains("Showing top 10 nodes out of 18"),
        "{report}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Generating report in top.txt"));
    assert!(
        err.contains("granularity")
            && err.contains("addresses | filefunctions | files | functions | lines")
    );
    assert!(err.contains("Outputs top entries in text form"));
}

#[cfg(unix)]
#[test]
fn terminal_completion_history_and_ctrl_d() {
    let wd = common::Workdir::new();
    let history = wd.dir.path().join("history");
    let mut cmd = Command::new(common::rprof_bin());
    cmd.args(["goapp", "current.heap"])
        .current_dir(wd.go())
        .env("TZ", "UTC")
        .env("TERM", "xterm")
        .env("RPROF_HISTORY", &history);
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    s.exp_string("(pprof) ").unwrap();
    // Tab completes an option name: `nodeco<Tab>=2` sets nodecount (what
    // the terminal shows is redraw sequences, so the effect is checked).
    s.send("nodeco").unwrap();
    s.send("\t").unwrap();
    s.send_line("=2").unwrap();
    s.exp_string("(pprof) ").unwrap();
    s.send_line("top").unwrap();
    s.exp_string("Showing top 2 nodes out of 18").unwrap();
    s.exp_string("(pprof) ").unwrap();
    // Up arrow recalls `top`.
    s.send("\x1b[A").unwrap();
    s.send_line("").unwrap();
    s.exp_string("Showing top 2 nodes out of 18").unwrap();
    s.exp_string("(pprof) ").unwrap();
    // Tab completes a function name from the profile, as a regexp.
    s.send("top main.newSe").unwrap();
    s.send("\t").unwrap();
    s.send_line("").unwrap();
    s.exp_string("focus=main\\.newSession").unwrap();
    s.exp_string("(pprof) ").unwrap();
    // Ctrl-C cancels the line being typed; the shell goes on.
    s.send("top bogus-half-typed").unwrap();
    s.send_control('c').unwrap();
    s.exp_string("(pprof) ").unwrap();
    s.send_line("top 1").unwrap();
    s.exp_string("Showing top 1 nodes out of").unwrap();
    s.exp_string("(pprof) ").unwrap();
    // History is written as commands are entered, not only at exit.
    let so_far = std::fs::read_to_string(&history).unwrap();
    assert!(so_far.contains("top 1"), "{so_far}");
    // Ctrl-D leaves cleanly.
    s.send_control('d').unwrap();
    s.exp_eof().unwrap();
    // WaitStatus comes from nix, which we do not depend on: check its Debug.
    let status = format!("{:?}", s.process().wait().unwrap());
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}"
    );
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(
        saved.contains("nodecount=2") && saved.contains("top"),
        "{saved}"
    );
}

/// A history file that is no regular file (here `/dev/zero`, endless) is
/// not read: the shell says so and works.
#[cfg(unix)]
#[test]
fn terminal_with_unusable_history() {
    let wd = common::Workdir::new();
    let mut cmd = Command::new(common::rprof_bin());
    cmd.args(["goapp", "current.heap"])
        .current_dir(wd.go())
        .env("TZ", "UTC")
        .env("TERM", "xterm")
        .env("RPROF_HISTORY", "/dev/zero");
    let mut s = rexpect::session::spawn_command(cmd, Some(20_000)).expect("spawn in a pty");
    s.exp_string("not using history file /dev/zero: not a regular file")
        .unwrap();
    s.exp_string("(pprof) ").unwrap();
    s.send_line("top 1").unwrap();
    s.exp_string("Showing top 1 nodes out of").unwrap();
    s.exp_string("(pprof) ").unwrap();
    s.send_line("quit").unwrap();
    s.exp_eof().unwrap();
}

/// A line of invalid UTF-8 in a script is one unrecognized command; the
/// script goes on.
#[test]
fn invalid_utf8_line_in_a_script() {
    let wd = common::Workdir::new();
    let args = vec!["goapp".to_string(), "current.heap".to_string()];
    let out = run_script(&wd, &args, b"top 1\n\xff\xfe bad\ntop 2\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("Showing top 1 nodes") && stdout.contains("Showing top 2 nodes"),
        "{stdout}"
    );
    assert!(stderr.contains("unrecognized command"), "{stderr}");
}

/// Ctrl-C during a long report returns to the prompt at once (the report's
/// output is dropped) and the session goes on.
#[cfg(unix)]
#[test]
fn ctrl_c_cancels_a_long_report() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.pb.gz");
    // 1.5 s of `traces` in a debug build here (60k samples, once tens of
    // seconds, now take 0.4 s: the Ctrl-C below came after the report).
    let p = crate::synthetic::cpu_profile(250_000, 5_000);
    std::fs::write(&big, crate::synthetic::gzipped(&p)).unwrap();
    let mut cmd = Command::new(common::rprof_bin());
    cmd.arg(&big)
        .current_dir(dir.path())
        .env("TZ", "UTC")
        .env("TERM", "xterm")
        .env("RPROF_HISTORY", dir.path().join("history"));
    let mut s = rexpect::session::spawn_command(cmd, Some(30_000)).expect("spawn in a pty");
    s.exp_string("(pprof) ").unwrap();
    s.send_line("traces > traces.txt").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let start = std::time::Instant::now();
    s.send_control('c').unwrap();
    s.exp_string("interrupted: the command was cancelled")
        .unwrap();
    s.exp_string("(pprof) ").unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(!dir.path().join("traces.txt").exists());
    s.send_line("top 1").unwrap();
    s.exp_string("Showing top 1 nodes out of").unwrap();
    s.exp_string("(pprof) ").unwrap();
    s.send_line("quit").unwrap();
    s.exp_eof().unwrap();
}
