//! Command-line behaviours around the reports: the local time zone in
//! `Time:`, the binary given after the profile, usage without arguments,
//! `-version`.

use crate::common;

use std::process::Command;

/// The Go CPU fixture as protobuf messages, to be altered by a test.
fn cpu_profile() -> rprof::pb::Profile {
    use prost::Message;
    use std::io::Read;
    let gz = std::fs::read(common::fixtures().join("go/cpu.pb.gz")).expect("fixture");
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .read_to_end(&mut raw)
        .expect("gunzip");
    rprof::pb::Profile::decode(raw.as_slice()).expect("decode")
}

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
    let tmp = tempfile::tempdir().expect("tempdir");
    let listing_out = tmp.path().join("out.txt");
    let listing_out = listing_out.to_str().expect("utf-8 path");
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
        if matches!(flag.as_str(), "-gif" | "-ps" | "-eps" | "-gv") && !common::have_graphviz() {
            continue; // only Graphviz draws them (tests/images.rs)
        }
        let out = if matches!(flag.as_str(), "-disasm" | "-weblist") {
            // They read the profile's binary: the Go fixture that has one.
            args.extend(["-output", listing_out, "hello_w", "cpu.pb.gz"]);
            common::run_in(&common::fixtures().join("godisasm"), &args)
        } else {
            args.extend(["-output", "out.txt", "goapp", "current.heap"]);
            wd.run(&args)
        };
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A profile whose names and labels carry terminal escapes (clear screen,
/// window title, bell): no report lets them reach the terminal raw.
#[test]
fn control_characters_are_escaped_in_every_output() {
    use prost::Message;
    let mut p = cpu_profile();
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2J\u{0}\r";
    for s in p.string_table.iter_mut() {
        if s.starts_with("main.") || s == "json" || s == "worker" {
            *s = format!("{s}{hostile}");
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hostile.pb");
    std::fs::write(&path, p.encode_to_vec()).expect("write");
    let file = path.to_str().expect("utf-8");
    for args in [
        &["-top"][..],
        &["-traces"],
        &["-tags"],
        &["-peek=main"],
        &["-tree"],
        &["-list=main"],
        &["-dot"],
        &["-folded"],
        &["-top", "-focus=nomatch"],
    ] {
        let mut argv = args.to_vec();
        argv.push(file);
        let out = common::run_in(dir.path(), &argv);
        assert!(out.status.success(), "{args:?}");
        for (what, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let bad = bytes
                .iter()
                .position(|&b| b < 0x20 && b != b'\n' && b != b'\t');
            assert_eq!(
                bad,
                None,
                "{args:?} {what}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
        if args[0] != "-top" || args.len() == 1 {
            let text = String::from_utf8_lossy(&out.stdout);
            // folded keeps `;` as its separator: it writes `:` instead.
            let shown = if args[0] == "-folded" {
                "\\x1b]0:owned\\x07\\x1b[2J\\x00"
            } else {
                "\\x1b]0;owned\\x07\\x1b[2J\\x00\\x0d"
            };
            assert!(text.contains(shown), "{args:?}: {text}");
        }
    }
}

/// `web` writes its SVG to an unpredictable, private file in the temp
/// directory and hands that path to `$BROWSER`.
#[cfg(unix)]
#[test]
fn web_uses_a_private_unpredictable_file() {
    use std::os::unix::fs::PermissionsExt;
    let wd = common::Workdir::new();
    let tmp = tempfile::tempdir().expect("tempdir");
    let seen = tmp.path().join("seen");
    let browser = tmp.path().join("browser.sh");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" >> {}\n", seen.display()),
    )
    .expect("script");
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut paths = Vec::new();
    for _ in 0..2 {
        let out = Command::new(common::rprof_bin())
            .args(["-web", "goapp", "current.heap"])
            .current_dir(wd.go())
            .env("TZ", "UTC")
            .env("TMPDIR", tmp.path())
            .env("BROWSER", &browser)
            .env("RPROF_NO_GRAPHVIZ", "1")
            .output()
            .expect("run rprof");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for line in std::fs::read_to_string(&seen).expect("browser ran").lines() {
        let path = std::path::PathBuf::from(line);
        assert_eq!(path.parent(), Some(tmp.path()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("rprof") && name.ends_with(".svg"),
            "{name}"
        );
        assert_eq!(name.len(), "rprof".len() + 12 + ".svg".len(), "{name}");
        let mode = std::fs::metadata(&path).expect("kept").permissions().mode();
        assert_eq!(mode & 0o077, 0, "{name}: mode {mode:o}");
        assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
        paths.push(path);
    }
    assert_eq!(paths.len(), 2);
    assert_ne!(paths[0], paths[1]);
}

/// Label values and names crafted to break out of DOT strings (a clickable
/// `javascript:` link, an external stylesheet) and control characters stay
/// text: the DOT parses, every SVG is well-formed XML with no such link or
/// stylesheet, with Graphviz and with the built-in layout, and the flame graph.
#[test]
fn hostile_strings_stay_text_in_graphs() {
    use prost::Message;
    let mut p = cpu_profile();
    let js = r#"v" URL="javascript:alert(document.domain)" target="_top"#;
    let css = r#"v"] graph [stylesheet="http://127.0.0.1:9/evil.css"] Z [label="z"#;
    for s in p.string_table.iter_mut() {
        match s.as_str() {
            "json" => *s = js.to_string(),
            "sha" => *s = css.to_string(),
            _ if s.starts_with("main.") => *s = format!("{s}\u{1b}[2J\"<b>&"),
            _ => {}
        }
    }
    let name = p.string_table.len() as i64;
    p.string_table.push("/srv/we\"ird\\app <x>".into());
    for m in &mut p.mapping {
        m.filename = name;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hostile.pb");
    std::fs::write(&path, p.encode_to_vec()).expect("write");
    let file = path.to_str().expect("utf-8");
    let has_dot = Command::new("dot").arg("-V").output().is_ok();
    let run = |args: &[&str], no_graphviz: bool| {
        let mut c = Command::new(common::rprof_bin());
        c.args(args)
            .arg(file)
            .current_dir(dir.path())
            .env("TZ", "UTC");
        if no_graphviz {
            c.env("RPROF_NO_GRAPHVIZ", "1");
        }
        let out = c.output().expect("run rprof");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    };
    // Labels are drawn as nodelets: make sure the hostile values are there.
    let dot = run(&["-dot", "-tagfocus=worker=."], false);
    assert!(dot.contains("javascript:alert"), "{dot}");
    if has_dot {
        let out = Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(dot.as_bytes())?;
                child.wait_with_output()
            })
            .expect("run dot");
        assert!(
            out.status.success(),
            "DOT does not parse: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut svgs = vec![
        ("builtin", run(&["-svg", "-tagfocus=worker=."], true)),
        ("flame", run(&["-flame"], false)),
    ];
    if has_dot {
        svgs.push(("graphviz", run(&["-svg", "-tagfocus=worker=."], false)));
    }
    for (what, svg) in svgs {
        let doc = roxmltree::Document::parse_with_options(
            &svg,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .unwrap_or_else(|e| panic!("{what}: not XML: {e}"));
        assert!(!svg.contains("xml-stylesheet"), "{what}: stylesheet");
        for n in doc.descendants() {
            for a in n.attributes() {
                assert!(
                    !(a.name() == "href" && a.value().trim_start().starts_with("javascript:")),
                    "{what}: javascript: link"
                );
                assert_ne!(a.name(), "stylesheet", "{what}");
            }
        }
        assert!(!svg.contains('\u{1b}'), "{what}: raw ESC");
    }
}
