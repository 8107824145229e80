//! `-list` on a synthetic profile covering the corners of pprof's listing:
//! start lines, one function in two files, no file name, a missing
//! absolute file, CRLF, a line too long for Go's scanner, a directory, a
//! sampled line past the end of the file, a window that ends before it
//! starts, line 0, `/proc/self/cwd/`, inlined frames, negative values.
//!
//! The expected text was printed by `go tool pprof -list=.` (Go 1.19) on
//! the same profile and sources, run from the sources' directory.

use std::path::Path;
use std::process::Command;

use prost::Message;
use rprof::pb;

#[derive(Default)]
struct Builder {
    p: pb::Profile,
}

impl Builder {
    fn new() -> Builder {
        let mut b = Builder::default();
        b.p.string_table.push(String::new());
        let (ty, unit) = (b.s("samples"), b.s("count"));
        b.p.sample_type.push(pb::ValueType { r#type: ty, unit });
        let file = b.s("/bin/edge");
        b.p.mapping.push(pb::Mapping {
            id: 1,
            memory_start: 0x1000,
            memory_limit: 0x100000,
            filename: file,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            ..Default::default()
        });
        b
    }

    fn s(&mut self, v: &str) -> i64 {
        if let Some(i) = self.p.string_table.iter().position(|x| x == v) {
            return i as i64;
        }
        self.p.string_table.push(v.to_string());
        self.p.string_table.len() as i64 - 1
    }

    fn func(&mut self, name: &str, file: &str, start_line: i64) -> u64 {
        let id = self.p.function.len() as u64 + 1;
        let (name, filename) = (self.s(name), self.s(file));
        self.p.function.push(pb::Function {
            id,
            name,
            system_name: name,
            filename,
            start_line,
        });
        id
    }

    /// One sample of `value` at a location with `frames` (innermost first).
    fn sample(&mut self, frames: &[(u64, i64)], value: i64) {
        let id = self.p.location.len() as u64 + 1;
        self.p.location.push(pb::Location {
            id,
            mapping_id: 1,
            address: 0x1000 + id * 16,
            line: frames
                .iter()
                .map(|&(function_id, line)| pb::Line {
                    function_id,
                    line,
                    column: 0,
                })
                .collect(),
            is_folded: false,
        });
        self.p.sample.push(pb::Sample {
            location_id: vec![id],
            value: vec![value],
            label: vec![],
        });
    }
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, data).unwrap();
}

fn numbered(prefix: &str, n: usize) -> String {
    (1..=n).map(|i| format!("{prefix}{i}\n")).collect()
}

/// Writes the sources under `root` and returns the encoded profile.
fn fixture(root: &Path) -> Vec<u8> {
    write(root, "edge/a.go", numbered("// a.go line ", 60).as_bytes());
    write(root, "edge/b.go", numbered("\tb.go line ", 20).as_bytes());
    let crlf: String = (1..15).map(|i| format!("crlf line {i}\r\n")).collect();
    write(root, "edge/crlf.go", crlf.as_bytes());
    let long: String = (1..30)
        .map(|i| {
            if i == 8 {
                format!("{}\n", "x".repeat(70000))
            } else {
                format!("long line {i}\n")
            }
        })
        .collect();
    write(root, "edge/long.go", long.as_bytes());
    write(root, "edge/noeol.go", b"one\ntwo\nthree");
    write(root, "edge/short.go", b"short 1\nshort 2\n");
    std::fs::create_dir_all(root.join("edge/adir")).unwrap();

    let mut b = Builder::new();
    let with_start = b.func("pkg.withStart", "edge/a.go", 10);
    let multi_b = b.func("pkg.multiFile", "edge/b.go", 0);
    let multi_a = b.func("pkg.multiFile", "edge/a.go", 0);
    let no_file = b.func("pkg.noFile", "", 0);
    let abs = b.func("pkg.absMissing", "/nonexistent/dir/x.go", 0);
    let crlf = b.func("pkg.crlf", "edge/crlf.go", 0);
    let long = b.func("pkg.longLine", "edge/long.go", 0);
    let dir = b.func("pkg.dir", "edge/adir", 0);
    let beyond = b.func("pkg.beyondEOF", "edge/short.go", 0);
    let start_after = b.func("pkg.startAfter", "edge/missing.go", 50);
    let zero = b.func("pkg.zeroLine", "edge/a.go", 0);
    let proc_self = b.func("pkg.procSelf", "/proc/self/cwd/edge/b.go", 0);
    let noeol = b.func("pkg.noeol", "edge/noeol.go", 0);
    let inlined = b.func("pkg.inlined", "edge/a.go", 40);
    let negative = b.func("pkg.negative", "edge/b.go", 0);
    b.sample(&[(with_start, 12)], 5);
    b.sample(&[(with_start, 30)], 7);
    b.sample(&[(multi_b, 3)], 7);
    b.sample(&[(multi_a, 50)], 2);
    b.sample(&[(no_file, 1)], 1);
    b.sample(&[(abs, 9)], 1);
    b.sample(&[(crlf, 7)], 3);
    b.sample(&[(long, 5)], 1);
    b.sample(&[(long, 12)], 1);
    b.sample(&[(dir, 3)], 1);
    b.sample(&[(beyond, 1000)], 1);
    b.sample(&[(start_after, 20)], 1);
    b.sample(&[(zero, 0)], 1);
    b.sample(&[(proc_self, 4)], 1);
    b.sample(&[(noeol, 2)], 1);
    b.sample(&[(inlined, 42), (with_start, 13)], 4);
    b.sample(&[(negative, 15)], -3);
    b.p.encode_to_vec()
}

const WANT: &str = include_str!("../fixtures/expected/list_edge.txt");

#[test]
fn list_edge_cases_match_go_tool_pprof() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let profile = fixture(&src);
    std::fs::write(dir.path().join("edge.pb"), profile).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rprof"))
            .arg("-list=.")
            .args(extra)
            .arg("../edge.pb")
            .current_dir(&src)
            .env_remove("GOROOT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let got = run(&[]);
    if got != WANT {
        let at = got.lines().zip(WANT.lines()).position(|(g, w)| g != w);
        panic!("differs at line {at:?}:\n{got}");
    }
    // pprof drops the negative node and nothing else.
    let dropped = run(&["-drop_negative"]);
    let start = WANT
        .find("ROUTINE ======================== pkg.negative")
        .unwrap();
    let end = WANT.find("No source information").unwrap();
    assert_eq!(dropped, format!("{}{}", &WANT[..start], &WANT[end..]));
}
