//! `-disasm`: compared with `go tool pprof -disasm` on a Go binary
//! (`fixtures/godisasm/`, see fixtures/README.md), hostile binaries, a PIE
//! C binary and the syntax options.

use crate::common;

use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    common::fixtures().join("godisasm")
}

/// Cases run in `fixtures/godisasm/`, expected output in
/// `fixtures/expected/<name>.txt` (`go tool pprof <args>` there, TZ=UTC).
const CASES: [(&str, &[&str]); 5] = [
    (
        "disasm_main_hash_work",
        &["-disasm=main\\.(hashLoop|work)", "hello_w", "cpu.pb.gz"],
    ),
    ("disasm_main", &["-disasm=main", "hello_w", "cpu.pb.gz"]),
    ("disasm_all", &["-disasm=.", "hello_w", "cpu.pb.gz"]),
    (
        "disasm_sort_mean",
        &["-disasm=sortLoop", "-mean", "hello_w", "cpu.pb.gz"],
    ),
    (
        "disasm_main_focus_unit",
        &[
            "-disasm=main",
            "-focus=sortLoop",
            "-unit=s",
            "hello_w",
            "cpu.pb.gz",
        ],
    ),
];

/// One line of a disasm listing with the instruction text left out:
/// flat, cum, address and the location annotation (`;fn file:line`),
/// which pprof prints after the text padded to 40 columns, or for a text
/// of 40 bytes or more on a line of its own before it. Other lines
/// (Total, ROUTINE, the function's totals) as they are.
#[derive(Debug, PartialEq)]
enum Line {
    Row {
        flat: String,
        cum: String,
        addr: String,
        loc: Option<String>,
    },
    Other(String),
}

fn without_instruction_text(s: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for l in s.lines() {
        if let Some(loc) = l
            .strip_prefix(&" ".repeat(74))
            .and_then(|r| r.strip_prefix(';'))
        {
            pending = Some(loc.to_string());
            continue;
        }
        let row = (l.len() > 34 && &l[32..34] == ": ")
            .then(|| (&l[..10], &l[11..21], &l[22..32], &l[34..]));
        match row {
            Some((flat, cum, addr, rest)) => {
                let mut loc = pending.take();
                if loc.is_none() && rest.len() > 40 && rest.as_bytes()[40] == b';' {
                    loc = Some(rest[41..].to_string());
                }
                out.push(Line::Row {
                    flat: flat.to_string(),
                    cum: cum.to_string(),
                    addr: addr.to_string(),
                    loc,
                });
            }
            None => out.push(Line::Other(l.to_string())),
        }
    }
    out
}

/// Addresses, values, locations, headers and totals equal pprof's; the
/// instruction text is not compared: Go 1.19's pprof prints Go assembler
/// syntax (`MOVQ BX, CX`), rprof AT&T (`mov %rbx,%rcx`) or Intel.
#[test]
fn disasm_matches_go_tool_pprof_except_instruction_text() {
    let mut failures = Vec::new();
    for (name, args) in CASES {
        let out = common::run_in(&dir(), args);
        let got = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read_to_string(common::fixtures().join(format!("expected/{name}.txt")))
            .expect("expected output");
        let (w, g) = (
            without_instruction_text(&want),
            without_instruction_text(&got),
        );
        if w != g {
            let i = w
                .iter()
                .zip(&g)
                .position(|(a, b)| a != b)
                .unwrap_or(w.len().min(g.len()));
            failures.push(format!(
                "{name}: {} lines vs {}; first difference at {i}: want {:?} got {:?}",
                w.len(),
                g.len(),
                w.get(i),
                g.get(i)
            ));
        }
        // Every instruction row has text.
        assert!(
            got.lines().all(|l| !l.ends_with(": ")),
            "{name}: empty instruction"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn att_by_default_intel_on_request() {
    let att = common::run_in(&dir(), &["-disasm=hashLoop", "hello_w", "cpu.pb.gz"]);
    let att = String::from_utf8_lossy(&att.stdout).into_owned();
    assert!(att.contains("4ab100: xor    %ecx,%ecx "), "{att}");
    assert!(att.contains("imul   %rsi,%rdx"), "{att}");
    let intel = common::run_in(
        &dir(),
        &["-disasm=hashLoop", "-intel_syntax", "hello_w", "cpu.pb.gz"],
    );
    let intel = String::from_utf8_lossy(&intel.stdout).into_owned();
    assert!(intel.contains("4ab100: xor    ecx,ecx "), "{intel}");
    assert!(intel.contains("imul   rdx,rsi"), "{intel}");
    assert_eq!(
        without_instruction_text(&att),
        without_instruction_text(&intel)
    );
}

#[test]
fn no_match_is_pprofs_error() {
    let out = common::run_in(&dir(), &["-disasm=nomatch", "hello_w", "cpu.pb.gz"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no matches found for regexp: nomatch"),
        "{err}"
    );
}

/// The profile's mapping names `/tmp/godisasm/hello_w`: without the binary
/// on the command line (and nothing there), the binary cannot be opened;
/// rprof says so and, as pprof, finds no match.
#[test]
fn missing_binary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::copy(dir().join("cpu.pb.gz"), tmp.path().join("cpu.pb.gz")).expect("copy");
    let out = common::run_in(tmp.path(), &["-disasm=hashLoop", "cpu.pb.gz"]);
    let err = String::from_utf8_lossy(&out.stderr);
    if Path::new("/tmp/godisasm/hello_w").exists() {
        return; // A developer's regeneration left the binary there.
    }
    assert!(!out.status.success(), "{err}");
    // pprof's words (it prints them on stdout).
    assert!(
        err.contains("open /tmp/godisasm/hello_w: no such file or directory\n"),
        "{err}"
    );
    assert!(
        err.contains("no matches found for regexp: hashLoop"),
        "{err}"
    );
}

/// `hello_w` with main.hashLoop's symbol size set to `size`.
fn with_symbol_size(dst: &Path, size: u64) {
    use object::{Object, ObjectSection, ObjectSymbol};
    let mut data = std::fs::read(dir().join("hello_w")).expect("read");
    let obj = object::File::parse(&*data).expect("elf");
    let sym = obj
        .symbols()
        .find(|s| s.name() == Ok("main.hashLoop"))
        .expect("symbol");
    let (off, _) = obj
        .section_by_name(".symtab")
        .and_then(|s| s.file_range())
        .expect("symtab");
    // Elf64_Sym: 24 bytes, st_size at 16.
    let at = (off + sym.index().0 as u64 * 24 + 16) as usize;
    drop(obj);
    data[at..at + 8].copy_from_slice(&size.to_le_bytes());
    std::fs::write(dst, data).expect("write");
}

/// A symbol whose size runs past its section (and the file) lists the
/// section's instructions from the symbol on, no further; no panic.
#[test]
fn absurd_symbol_size_is_cut_at_the_section() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bin = tmp.path().join("hello_w");
    with_symbol_size(&bin, u64::MAX / 2);
    std::fs::copy(dir().join("cpu.pb.gz"), tmp.path().join("cpu.pb.gz")).expect("copy");
    let out = common::run_in(
        tmp.path(),
        &["-disasm=main.hashLoop", "hello_w", "cpu.pb.gz"],
    );
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        got.contains("ROUTINE ======================== main.hashLoop\n"),
        "{got}"
    );
    assert!(got.lines().count() < 200_000);
}

/// A truncated binary: an error or nothing matched, never a panic.
#[test]
fn truncated_binary() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = std::fs::read(dir().join("hello_w")).expect("read");
    std::fs::copy(dir().join("cpu.pb.gz"), tmp.path().join("cpu.pb.gz")).expect("copy");
    for len in [64, 4096, data.len() / 3, data.len() - 1] {
        std::fs::write(tmp.path().join("hello_w"), &data[..len]).expect("write");
        let out = common::run_in(tmp.path(), &["-disasm=main", "hello_w", "cpu.pb.gz"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{len}: {err}");
        assert!(out.status.code().is_some(), "{len}: killed");
    }
}

/// A PIE C binary (gperftools profile): runtime addresses are translated
/// to the file's, so its functions are listed (Go 1.19's pprof compares
/// runtime addresses with the file's and finds none); the per-instruction
/// values add up to the function's totals.
#[test]
fn pie_c_binary() {
    let wd = common::fixtures().join("producers");
    let out = common::run_in(
        &wd,
        &[
            "-disasm=hash_rounds",
            "gperf/burn-pie",
            "gperf/burn-pie.prof",
        ],
    );
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        got.contains("ROUTINE ======================== hash_rounds\n"),
        "{got}"
    );
    assert!(got.contains("push   %rbp"), "{got}");
    assert!(got.contains(";burn.c:3"), "{got}");
    let header = got.lines().nth(2).expect("totals line");
    assert_eq!(header.split_whitespace().next(), Some("290ms"), "{got}");
    let flat: i64 = got
        .lines()
        .skip(3)
        .filter_map(|l| l.get(..10)?.trim().strip_suffix("ms")?.parse::<i64>().ok())
        .sum();
    assert_eq!(flat, 290, "{got}");
}

/// Rebuilds `fixtures/godisasm/` and its expected outputs (dev machines
/// with Go 1.19 only; see fixtures/README.md):
/// `cargo test --test integration -- --ignored regenerate_godisasm`.
#[test]
#[ignore]
fn regenerate_godisasm() {
    use std::process::Command;
    assert!(common::have_go(), "needs go");
    let tmp = Path::new("/tmp/godisasm");
    let _ = std::fs::remove_dir_all(tmp);
    std::fs::create_dir_all(tmp).expect("mkdir");
    let exe = tmp.join("hello_w");
    let run = |c: &mut Command| {
        let out = c.output().expect("run");
        assert!(
            out.status.success(),
            "{c:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // The program of fixtures/gostripped, with its symbol table (-w drops
    // only the DWARF: Go 1.19's pprof lists functions from the symbols).
    run(Command::new("go")
        .args(["build", "-trimpath", "-buildvcs=false", "-ldflags=-w", "-o"])
        .arg(&exe)
        .arg(".")
        .current_dir(common::repo().join("tests/data/gostripped"))
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .env("GOWORK", "off"));
    run(Command::new(&exe).args(["cpu.pb.gz", "2"]).current_dir(tmp));
    let dst = dir();
    std::fs::create_dir_all(&dst).expect("mkdir");
    for f in ["hello_w", "cpu.pb.gz"] {
        std::fs::copy(tmp.join(f), dst.join(f)).expect("copy");
    }
    let list: &[&str] = &[
        "-list=main\\.(hashLoop|sortLoop)",
        "-source_path=../../tests/data",
        "hello_w",
        "cpu.pb.gz",
    ];
    let cases = CASES.iter().copied().chain([("godisasm_list", list)]);
    for (name, args) in cases {
        let out = run(Command::new("go")
            .args(["tool", "pprof"])
            .args(args)
            .current_dir(&dst)
            .env("TZ", "UTC")
            .env("PPROF_BINARY_PATH", "/nonexistent"));
        std::fs::write(common::fixtures().join(format!("expected/{name}.txt")), out)
            .expect("write expected");
    }
    // Gone, so that `missing_binary` finds nothing there.
    std::fs::remove_dir_all(tmp).expect("remove /tmp/godisasm");
}

/// The shell's `disasm RE` prints what `-disasm=RE` prints, and
/// `intel_syntax=true` switches the syntax.
#[test]
fn shell_disasm_and_intel_syntax() {
    let cli = common::run_in(&dir(), &["-disasm=sortLoop", "hello_w", "cpu.pb.gz"]);
    let cli = String::from_utf8_lossy(&cli.stdout).into_owned();
    let out = common::run_script_in(
        &dir(),
        &["hello_w", "cpu.pb.gz"],
        &[],
        b"disasm sortLoop\nintel_syntax=true\ndisasm sortLoop\n",
    );
    let shell = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shell.contains(&cli), "{shell}");
    let intel = common::run_in(
        &dir(),
        &["-disasm=sortLoop", "-intel_syntax", "hello_w", "cpu.pb.gz"],
    );
    assert!(
        shell.contains(&*String::from_utf8_lossy(&intel.stdout)),
        "{shell}"
    );
}

/// A Go binary without symbol table or DWARF (`-ldflags='-s -w'`): its
/// functions and lines come from `.gopclntab` (Go 1.19's pprof finds no
/// symbols there); each function's flat is the sum of its instructions'.
#[test]
fn stripped_go_binary_from_pclntab() {
    let wd = common::fixtures().join("gostripped");
    let out = common::run_in(
        &wd,
        &["-disasm=main\\.(hashLoop|sortLoop)", "hello_sw", "cpu.pb"],
    );
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let routines: Vec<&str> = got
        .split("ROUTINE ======================== ")
        .skip(1)
        .collect();
    assert_eq!(routines.len(), 2, "{got}");
    for (r, name) in routines.iter().zip(["main.hashLoop", "main.sortLoop"]) {
        assert!(r.starts_with(&format!("{name}\n")), "{r}");
        assert!(r.contains(";main.go:"), "{r}");
        let ms = |s: &str| -> i64 {
            let s = s.trim();
            if s == "." || s == "0" {
                return 0;
            }
            if let Some(v) = s.strip_suffix("ms") {
                return v.parse().expect("ms");
            }
            let secs: f64 = s.strip_suffix('s').expect("unit").parse().expect("s");
            (secs * 1000.0).round() as i64
        };
        let mut lines = r.lines().skip(1);
        let header = lines.next().expect("totals");
        let flat: i64 = lines.filter(|l| l.len() > 34).map(|l| ms(&l[..10])).sum();
        assert_eq!(flat, ms(&header[..10]), "{r}");
    }
}
