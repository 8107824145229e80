//! Shared test harness: runs rprof on the committed fixtures and compares
//! with what `go tool pprof` printed for the same arguments.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    repo().join("fixtures")
}

pub fn rprof_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rprof")
}

/// A scratch copy of `fixtures/go` with an ELF file named `goapp` (the
/// binary argument of the cases; Go profiles are already symbolized, so
/// only its name matters), `../src` for `-source_path=../src` and
/// `../corpus` for the corpus profiles.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Workdir {
        let dir = tempfile::tempdir().expect("tempdir");
        let go = dir.path().join("go");
        std::fs::create_dir(&go).expect("mkdir");
        for e in std::fs::read_dir(fixtures().join("go")).expect("fixtures/go") {
            let e = e.expect("entry");
            let name = e.file_name();
            if name == "goapp" {
                continue;
            }
            std::fs::copy(e.path(), go.join(&name)).expect("copy fixture");
        }
        let exe = std::env::current_exe().expect("test exe");
        std::fs::copy(exe, go.join("goapp")).expect("copy elf");
        // Cases name sibling directories relative to `go/`: `../src`, `../synthetic`.
        #[cfg(unix)]
        for sibling in ["src", "synthetic", "corpus"] {
            std::os::unix::fs::symlink(fixtures().join(sibling), dir.path().join(sibling))
                .expect("symlink fixture dir");
        }
        Workdir { dir }
    }

    pub fn go(&self) -> PathBuf {
        self.dir.path().join("go")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        run_in(&self.go(), args)
    }
}

pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(rprof_bin())
        .args(args)
        .current_dir(cwd)
        .env("TZ", "UTC")
        .env_remove("PPROF_BINARY_PATH")
        // Else rprof's source search finds standard library files that
        // go tool pprof reports missing in the expected outputs.
        .env_remove("GOROOT")
        .output()
        .expect("run rprof")
}

/// One line of a case file: name and arguments.
pub fn read_cases(file: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixtures().join("cases").join(file)).expect("case file");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, args) = l.split_once('\t').expect("case line has a tab");
            (
                name.to_string(),
                args.split(' ')
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
            )
        })
        .collect()
}

/// A short unified-ish diff: the first differing lines.
pub fn first_difference(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i), g.get(i));
        if a != b {
            return format!(
                "line {}:\n  want: {:?}\n  got:  {:?}",
                i + 1,
                a.unwrap_or(&"<end>"),
                b.unwrap_or(&"<end>")
            );
        }
    }
    "trailing newline differs".to_string()
}

/// Runs every case of a case file and fails listing each mismatch.
pub fn check_case_file(file: &str) {
    let wd = Workdir::new();
    compare_cases(
        file,
        &read_cases(file),
        &fixtures().join("expected"),
        |args| wd.run(args),
    );
}

/// A mapping of an unsymbolized profile written by [`write_raw_profile`].
#[derive(Clone, Debug, Default)]
pub struct RawMapping {
    pub start: u64,
    pub limit: u64,
    pub offset: u64,
    pub file: String,
    pub build_id: String,
}

/// Writes a profile with one sample type, locations that are addresses
/// only (one per distinct address, in the mapping containing it) and no
/// functions: what perf, C profilers and jemalloc_pprof produce.
pub fn write_raw_profile(
    path: &Path,
    sample_type: (&str, &str),
    mappings: &[RawMapping],
    samples: &[(Vec<u64>, i64)],
) {
    use prost::Message;
    use rprof::pb;
    let mut strings = vec![String::new()];
    let mut s = |x: &str| -> i64 {
        if let Some(i) = strings.iter().position(|y| y == x) {
            return i as i64;
        }
        strings.push(x.to_string());
        strings.len() as i64 - 1
    };
    let mut p = pb::Profile {
        sample_type: vec![pb::ValueType {
            r#type: s(sample_type.0),
            unit: s(sample_type.1),
        }],
        ..Default::default()
    };
    for (i, m) in mappings.iter().enumerate() {
        p.mapping.push(pb::Mapping {
            id: i as u64 + 1,
            memory_start: m.start,
            memory_limit: m.limit,
            file_offset: m.offset,
            filename: s(&m.file),
            build_id: s(&m.build_id),
            ..Default::default()
        });
    }
    let mut ids: Vec<u64> = Vec::new();
    for (addrs, value) in samples {
        let mut stack = Vec::new();
        for &a in addrs {
            let id = match ids.iter().position(|&x| x == a) {
                Some(i) => i as u64 + 1,
                None => {
                    ids.push(a);
                    let mapping_id = mappings
                        .iter()
                        .position(|m| m.start <= a && a < m.limit)
                        .map_or(0, |i| i as u64 + 1);
                    p.location.push(pb::Location {
                        id: ids.len() as u64,
                        mapping_id,
                        address: a,
                        ..Default::default()
                    });
                    ids.len() as u64
                }
            };
            stack.push(id);
        }
        p.sample.push(pb::Sample {
            location_id: stack,
            value: vec![*value],
            ..Default::default()
        });
    }
    p.string_table = strings;
    std::fs::write(path, p.encode_to_vec()).expect("write profile");
}

/// Whether a program can be run (`prog --version` succeeds).
pub fn have(prog: &str) -> bool {
    Command::new(prog)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether Graphviz's `dot` can be run (`dot -V` succeeds).
pub fn have_graphviz() -> bool {
    Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether Go is installed (`go version` succeeds).
pub fn have_go() -> bool {
    Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs rprof in `cwd` with `args` and `env`, feeding `script` to its
/// shell on stdin (TZ=UTC).
pub fn run_script_in(cwd: &Path, args: &[&str], env: &[(&str, &str)], script: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(rprof_bin())
        .args(args)
        .current_dir(cwd)
        .env("TZ", "UTC")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run rprof");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script)
        .expect("write script");
    child.wait_with_output().expect("wait for rprof")
}

/// Writes the gzipped profile `src` to `dst` (plain protobuf) without
/// functions or lines, its mappings marked unsymbolized: what a producer
/// that records only addresses writes.
pub fn strip_symbols(src: &Path, dst: &Path) {
    use prost::Message;
    use std::io::Read;
    let gz = std::fs::read(src).expect("read profile");
    let mut raw = Vec::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .expect("gunzip");
    let mut p = rprof::pb::Profile::decode(&raw[..]).expect("decode");
    p.function.clear();
    for l in &mut p.location {
        l.line.clear();
    }
    for m in &mut p.mapping {
        m.has_functions = false;
        m.has_filenames = false;
        m.has_line_numbers = false;
        m.has_inline_frames = false;
    }
    std::fs::write(dst, p.encode_to_vec()).expect("write profile");
}

/// Writes an executable shell script. Through a child shell: a file this
/// multi-threaded test process wrote could still be open for writing in
/// another test's forked child, and executing it would fail (ETXTBSY).
pub fn write_script(path: &Path, body: &str) {
    let ok = Command::new("/bin/sh")
        .arg("-c")
        .arg("printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"")
        .arg("sh")
        .arg(body)
        .arg(path)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "writing {}", path.display());
}

/// Runs each case (`name`, args) with `run` and compares its stdout with
/// `expected/<name>.txt`; fails listing every mismatch.
pub fn compare_cases(
    what: &str,
    cases: &[(String, Vec<String>)],
    expected: &Path,
    run: impl Fn(&[&str]) -> Output,
) {
    assert!(!cases.is_empty(), "{what} has no cases");
    let mut failures = Vec::new();
    for (name, args) in cases {
        let want = std::fs::read_to_string(expected.join(format!("{name}.txt")))
            .unwrap_or_else(|_| panic!("expected output for {name}"));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&argv);
        let got = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || got != want {
            failures.push(format!(
                "{name} (rprof {}): exit {:?}, stderr {:?}\n{}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim(),
                first_difference(&want, &got)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases in {what} differ from go tool pprof:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
