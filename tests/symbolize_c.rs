//! Symbolization of a real C program: `tests/data/leak.c` is built with
//! `gcc -g` (PIE, and non-PIE), run, and the call stacks it records with
//! backtrace() under ASLR become an unsymbolized profile with its
//! /proc/self/maps mappings, as a C profiler writes them. rprof must name
//! the functions (with the inlined one), list the source lines, and cope
//! with stripped binaries, debug links, wrong or broken binaries.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::RawMapping;

struct Built {
    dir: tempfile::TempDir,
    exe: PathBuf,
    /// Executable mappings of the run, as /proc/self/maps showed them.
    maps: Vec<RawMapping>,
    /// (site, bytes, return addresses leaf first).
    stacks: Vec<(String, i64, Vec<u64>)>,
}

fn source() -> PathBuf {
    common::repo().join("tests/data/leak.c")
}

/// Line number of the source line holding `marker`.
fn line_of(marker: &str) -> usize {
    let text = std::fs::read_to_string(source()).unwrap();
    text.lines().position(|l| l.contains(marker)).unwrap() + 1
}

/// Builds leak.c with `flags` and runs it; None (the test is skipped, with
/// a message) when there is no gcc.
fn build(flags: &[&str]) -> Option<Built> {
    build_with("gcc", "tests/data/leak.c", flags, 3)
}

fn build_with(compiler: &str, src: &str, flags: &[&str], nstacks: usize) -> Option<Built> {
    if !common::have(compiler) {
        eprintln!("skipping: {compiler} is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("leak");
    let repo = common::repo();
    let out = Command::new(compiler)
        .args(["-g", "-O1"])
        .args(flags)
        // Source names relative to the repository, not this checkout.
        .arg(format!("-fdebug-prefix-map={}=.", repo.display()))
        .arg("-o")
        .arg(&exe)
        .arg(src)
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{compiler} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "leak failed");
    let real_exe = std::fs::canonicalize(&exe).unwrap();
    let mut maps = Vec::new();
    let mut stacks = Vec::new();
    for line in String::from_utf8(run.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
        match f[0] {
            "map" if f[4].contains('x') => {
                let file = if Path::new(f[5]) == real_exe {
                    exe.display().to_string()
                } else {
                    f[5].to_string()
                };
                maps.push(RawMapping {
                    start: hex(f[1]),
                    limit: hex(f[2]),
                    offset: hex(f[3]),
                    file,
                    build_id: String::new(),
                });
            }
            "stack" => stacks.push((
                f[1].to_string(),
                f[2].parse().unwrap(),
                f[3..].iter().map(|a| hex(a)).collect(),
            )),
            _ => {}
        }
    }
    assert_eq!(stacks.len(), nstacks, "allocation stacks");
    // The program's own mapping first, as profilers write it.
    let pos = maps
        .iter()
        .position(|m| m.file == exe.display().to_string());
    let mut first = maps.remove(pos.expect("the executable's text mapping"));
    // Profilers record the build id (perf does), which rprof checks.
    first.build_id = rprof::symbolize::binary::Binary::open(&exe)
        .unwrap()
        .build_id
        .expect("gcc writes a build id");
    maps.insert(0, first);
    Some(Built {
        dir,
        exe,
        maps,
        stacks,
    })
}

impl Built {
    /// Writes the profile (call sites: return addresses - 1) to `name`.
    fn profile(&self, name: &str, maps: &[RawMapping]) -> PathBuf {
        let samples: Vec<(Vec<u64>, i64)> = self
            .stacks
            .iter()
            .map(|(_, bytes, addrs)| (addrs.iter().map(|a| a - 1).collect(), *bytes))
            .collect();
        let path = self.dir.path().join(name);
        common::write_raw_profile(&path, ("space", "bytes"), maps, &samples);
        path
    }

    fn run(&self, args: &[&str]) -> (String, String) {
        let out = common::run_in(self.dir.path(), args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "rprof {args:?} failed: {stderr}\n{stdout}"
        );
        (stdout, stderr)
    }
}

/// The `-top` row of `name`: (flat, cum) as printed.
fn top_row(out: &str, name: &str) -> Option<(String, String)> {
    out.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        let row_name = f.get(5..)?.join(" ");
        (row_name == name).then(|| (f[0].to_string(), f[3].to_string()))
    })
}

fn row(flat: &str, cum: &str) -> Option<(String, String)> {
    Some((flat.to_string(), cum.to_string()))
}

/// The listed row of a source line: (flat, cum).
fn list_row(out: &str, lineno: usize) -> Option<(String, String)> {
    out.lines().find_map(|l| {
        let (values, _) = l.split_once(':')?;
        let f: Vec<&str> = values.split_whitespace().collect();
        (f.len() == 3 && f[2] == lineno.to_string()).then(|| (f[0].to_string(), f[1].to_string()))
    })
}

fn check_symbolized_top(out: &str) {
    assert_eq!(top_row(out, "make_buffer"), row("5500B", "5500B"), "{out}");
    assert_eq!(top_row(out, "new_session"), row("0", "5000B"), "{out}");
    assert_eq!(
        top_row(out, "session_name (inline)"),
        row("0", "1000B"),
        "{out}"
    );
    assert_eq!(top_row(out, "log_request"), row("0", "500B"), "{out}");
    assert_eq!(top_row(out, "handle_request"), row("0", "5500B"), "{out}");
    assert_eq!(top_row(out, "main"), row("0", "5500B"), "{out}");
}

#[test]
fn pie_binary_top_and_list() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    let prof = b.profile("leak.pb", &b.maps);
    let exe = b.exe.to_str().unwrap();
    let prof = prof.to_str().unwrap();
    // The mapping names the binary; giving it on the command line too is
    // the usual way.
    for args in [vec!["-top", prof], vec!["-top", exe, prof]] {
        let (out, err) = b.run(&args);
        check_symbolized_top(&out);
        assert!(out.starts_with("File: leak\nBuild ID: "), "{out}");
        assert!(!err.contains("leak"), "warnings: {err}");
    }

    let repo = common::repo();
    let src = format!("-source_path={}", repo.display());
    let (out, _) = b.run(&["-list=new_session", &src, exe, prof]);
    assert!(
        out.contains("ROUTINE ======================== new_session in tests/data/leak.c\n"),
        "{out}"
    );
    // The inlined call is attributed to its call site in new_session.
    let call_site = line_of("kept[nkept++] = session_name(id);");
    assert_eq!(list_row(&out, call_site), row(".", "1000B"), "{out}");
    assert_eq!(
        list_row(&out, line_of("SITE_SESSION")),
        row(".", "3.91kB"),
        "{out}"
    );
    // The window starts at the function's declaration line.
    let decl = line_of("void new_session(int id)");
    let first = out.lines().nth(3).unwrap_or_default();
    assert!(
        first.ends_with(&format!(
            " {decl}:__attribute__((noinline)) void new_session(int id) {{"
        )),
        "{out}"
    );

    let (out, _) = b.run(&["-list=session_name", &src, exe, prof]);
    assert_eq!(
        list_row(&out, line_of("SITE_INLINE")),
        row(".", "1000B"),
        "{out}"
    );
    let (out, _) = b.run(&["-list=make_buffer", &src, exe, prof]);
    assert_eq!(
        list_row(&out, line_of("SITE_LEAF")),
        row("5.37kB", "5.37kB"),
        "{out}"
    );
}

/// C++ names: demangled without parameters or template arguments, as
/// pprof shows them.
#[test]
fn cpp_names() {
    let Some(b) = build_with("g++", "tests/data/leak.cpp", &["-fPIE", "-pie"], 2) else {
        return;
    };
    let prof = b.profile("leak.pb", &b.maps);
    let (out, _) = b.run(&["-top", b.exe.to_str().unwrap(), prof.to_str().unwrap()]);
    assert_eq!(
        top_row(&out, "app::Pool::grab"),
        row("4500B", "4500B"),
        "{out}"
    );
    assert_eq!(
        top_row(&out, "app::SessionStore::add"),
        row("0", "4000B"),
        "{out}"
    );
    assert_eq!(
        top_row(&out, "app::SessionStore::log"),
        row("0", "500B"),
        "{out}"
    );
    assert_eq!(top_row(&out, "main"), row("0", "4500B"), "{out}");
    let src = format!("-source_path={}", common::repo().display());
    let (out, _) = b.run(&[
        "-list=SessionStore::add",
        &src,
        b.exe.to_str().unwrap(),
        prof.to_str().unwrap(),
    ]);
    assert!(
        out.contains(
            "ROUTINE ======================== app::SessionStore::add in tests/data/leak.cpp\n"
        ),
        "{out}"
    );
    let text = std::fs::read_to_string(common::repo().join("tests/data/leak.cpp")).unwrap();
    let site = text
        .lines()
        .position(|l| l.contains("SITE_SESSION"))
        .unwrap()
        + 1;
    assert_eq!(list_row(&out, site), row(".", "3.91kB"), "{out}");
}

#[test]
fn non_pie_binary() {
    let Some(b) = build(&["-fno-pie", "-no-pie"]) else {
        return;
    };
    let prof = b.profile("leak.pb", &b.maps);
    let (out, _) = b.run(&["-top", b.exe.to_str().unwrap(), prof.to_str().unwrap()]);
    check_symbolized_top(&out);
}

/// Compressed debug sections (`-gz`, zlib) are read.
#[test]
fn compressed_dwarf() {
    let Some(b) = build(&["-fPIE", "-pie", "-gz"]) else {
        return;
    };
    let prof = b.profile("leak.pb", &b.maps);
    let (out, _) = b.run(&[
        "-top",
        "-lines",
        b.exe.to_str().unwrap(),
        prof.to_str().unwrap(),
    ]);
    let site = format!("new_session tests/data/leak.c:{}", line_of("SITE_SESSION"));
    assert!(out.contains(&site), "{out}");
    let (out, _) = b.run(&["-top", b.exe.to_str().unwrap(), prof.to_str().unwrap()]);
    check_symbolized_top(&out);
}

#[test]
fn symbolize_none_leaves_addresses() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    let prof = b.profile("leak.pb", &b.maps);
    let (out, _) = b.run(&[
        "-top",
        "-symbolize=none",
        b.exe.to_str().unwrap(),
        prof.to_str().unwrap(),
    ]);
    assert!(top_row(&out, "make_buffer").is_none(), "{out}");
    assert!(out.contains("  [leak]\n"), "{out}");
}

/// A mapping whose file is not here is found through PPROF_BINARY_PATH,
/// by build id or by name, and the header names the local file.
#[test]
fn binary_search_path() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    let d = b.dir.path();
    let id = b.maps[0].build_id.clone();
    let bins = d.join("binaries");
    std::fs::create_dir_all(bins.join(&id)).unwrap();
    std::fs::copy(&b.exe, bins.join(&id).join("server")).unwrap();
    let mut maps = b.maps.clone();
    maps[0].file = "/opt/app/bin/server".to_string();
    let prof = b.profile("remote.pb", &maps);
    let run = |path: &Path| {
        let out = Command::new(common::rprof_bin())
            .args(["-top", prof.to_str().unwrap()])
            .current_dir(d)
            .env("PPROF_BINARY_PATH", path)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let out = run(&bins);
    assert!(out.starts_with("File: server\n"), "{out}");
    check_symbolized_top(&out);
    // Without it nothing is found: addresses only.
    let out = run(&d.join("elsewhere"));
    assert!(top_row(&out, "make_buffer").is_none(), "{out}");
}

fn have_binutils() -> bool {
    let ok = common::have("objcopy") && common::have("strip");
    if !ok {
        eprintln!("skipping: objcopy/strip (binutils) not installed");
    }
    ok
}

fn tool(prog: &str, args: &[&str], dir: &Path) {
    let out = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{prog} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn stripped_binaries_symbol_table_and_debug_link() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    if !have_binutils() {
        return;
    }
    let d = b.dir.path();
    // No DWARF: names from the symbol table, no inlined frame, no lines.
    tool("strip", &["--strip-debug", "-o", "nodwarf", "leak"], d);
    let mut maps = b.maps.clone();
    maps[0].file = d.join("nodwarf").display().to_string();
    let prof = b.profile("nodwarf.pb", &maps);
    let (out, _) = b.run(&["-top", prof.to_str().unwrap()]);
    assert_eq!(top_row(&out, "new_session"), row("0", "5000B"), "{out}");
    assert_eq!(top_row(&out, "make_buffer"), row("5500B", "5500B"), "{out}");
    assert!(top_row(&out, "session_name (inline)").is_none(), "{out}");

    // Fully stripped, with the DWARF and symbols in leak.debug found
    // through .gnu_debuglink.
    tool("objcopy", &["--only-keep-debug", "leak", "leak.debug"], d);
    tool("strip", &["--strip-all", "-o", "stripped", "leak"], d);
    tool(
        "objcopy",
        &["--add-gnu-debuglink=leak.debug", "stripped"],
        d,
    );
    maps[0].file = d.join("stripped").display().to_string();
    let prof = b.profile("stripped.pb", &maps);
    let (out, _) = b.run(&["-top", prof.to_str().unwrap()]);
    check_symbolized_top(&out);

    // Fully stripped and no debug file: nothing can name its addresses,
    // and rprof says so (pprof stays silent).
    tool("strip", &["--strip-all", "-o", "bare", "leak"], d);
    maps[0].file = d.join("bare").display().to_string();
    let prof = b.profile("bare.pb", &maps);
    let (out, err) = b.run(&["-top", prof.to_str().unwrap()]);
    assert!(out.contains("[bare]"), "{out}");
    assert!(
        err.contains("Local symbolization of bare: none of its")
            && err.contains("addresses has a symbol"),
        "{err}"
    );
}

/// dwz moves what debug files share into a supplementary file
/// (`.gnu_debugaltlink`): names and types come from there.
#[test]
fn dwz_supplementary_file() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    if !common::have("dwz") {
        eprintln!("skipping: dwz is not installed");
        return;
    }
    let d = b.dir.path();
    let other = Command::new("gcc")
        .args(["-g", "-O2", "-fPIE", "-pie", "-o"])
        .arg(d.join("leak2"))
        .arg(source())
        .output()
        .unwrap();
    assert!(other.status.success());
    // The profile's build id stays right: dwz changes only debug sections.
    tool("dwz", &["-m", "common.debug", "leak", "leak2"], d);
    let data = std::fs::read(d.join("leak")).unwrap();
    assert!(
        data.windows(17).any(|w| w == b".gnu_debugaltlink"),
        "dwz made no supplementary file"
    );
    let prof = b.profile("leak.pb", &b.maps);
    let (out, err) = b.run(&["-top", prof.to_str().unwrap()]);
    check_symbolized_top(&out);
    assert!(err.is_empty(), "{err}");
    let src = format!("-source_path={}", common::repo().display());
    let (out, _) = b.run(&["-list=new_session", &src, prof.to_str().unwrap()]);
    assert_eq!(
        list_row(&out, line_of("SITE_SESSION")),
        row(".", "3.91kB"),
        "{out}"
    );
}

#[test]
fn debug_file_by_build_id() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    if !have_binutils() {
        return;
    }
    let d = b.dir.path();
    let id = rprof::symbolize::binary::Binary::open(&b.exe)
        .unwrap()
        .build_id
        .expect("gcc writes a build id");
    let root = d.join("debugroot");
    let dir = root.join(".build-id").join(&id[..2]);
    std::fs::create_dir_all(&dir).unwrap();
    let debug = dir.join(format!("{}.debug", &id[2..]));
    tool(
        "objcopy",
        &["--only-keep-debug", "leak", debug.to_str().unwrap()],
        d,
    );
    tool("strip", &["--strip-all", "-o", "stripped", "leak"], d);
    let mut maps = b.maps.clone();
    maps[0].file = d.join("stripped").display().to_string();
    assert_eq!(maps[0].build_id, id);
    let prof = b.profile("stripped.pb", &maps);

    let mut p = rprof::profile::load(&prof).unwrap();
    let opts = rprof::symbolize::Options {
        debug_dirs: vec![root],
        ..Default::default()
    };
    let mut warnings = Vec::new();
    rprof::symbolize::symbolize(&mut p, &opts, &mut warnings);
    assert!(warnings.is_empty(), "{warnings:?}");
    let names: Vec<&str> = p.functions.iter().map(|f| p.str(f.name)).collect();
    for n in ["make_buffer", "session_name", "new_session", "main"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let f = p
        .functions
        .iter()
        .find(|f| p.str(f.name) == "new_session")
        .unwrap();
    assert_eq!(p.str(f.filename), "./tests/data/leak.c");
    assert_eq!(f.start_line as usize, line_of("void new_session(int id)"));
    assert!(p.mappings[0].has_functions && p.mappings[0].has_line_numbers);
}

/// Binaries that cannot be used: one warning naming the file, the report
/// goes on with the addresses unsymbolized.
#[test]
fn bad_binaries_warn_and_go_on() {
    let Some(b) = build(&["-fPIE", "-pie"]) else {
        return;
    };
    let d = b.dir.path();
    let data = std::fs::read(&b.exe).unwrap();
    std::fs::write(d.join("truncated"), &data[..600]).unwrap();
    std::fs::write(d.join("notes.txt"), "not a binary\n").unwrap();
    let rebuilt = Command::new("gcc")
        .args(["-g", "-O2", "-fPIE", "-pie", "-o"])
        .arg(d.join("rebuilt"))
        .arg(source())
        .output()
        .unwrap();
    assert!(rebuilt.status.success());

    let cases: Vec<(&str, String, &str)> = vec![
        ("truncated", String::new(), "truncated"),
        ("notes.txt", String::new(), "unrecognized binary format"),
        // Another build of the program (as after a redeploy).
        ("rebuilt", String::new(), "build ID mismatch"),
        (
            "leak",
            "0123456789abcdef0123456789abcdef01234567".to_string(),
            "build ID mismatch",
        ),
        ("missing", String::new(), "missing"),
    ];
    for (file, build_id, what) in cases {
        let mut maps = b.maps.clone();
        maps[0].file = d.join(file).display().to_string();
        if !build_id.is_empty() || file == "missing" {
            maps[0].build_id = build_id;
        }
        let prof = b.profile(&format!("{file}.pb"), &maps);
        let (out, err) = b.run(&["-top", prof.to_str().unwrap()]);
        assert!(top_row(&out, "make_buffer").is_none(), "{file}: {out}");
        assert!(out.contains(&format!("  [{file}]\n")), "{file}: {out}");
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("Local symbolization failed for {file}"))
                && err.contains(what),
            "{file}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }

    // Cut anywhere (in the sections, the DWARF): no panic, no wrong names.
    for (i, frac) in [0.1, 0.3, 0.5, 0.7, 0.9, 0.99].iter().enumerate() {
        let name = format!("cut{i}");
        let len = (data.len() as f64 * frac) as usize;
        std::fs::write(d.join(&name), &data[..len]).unwrap();
        let mut maps = b.maps.clone();
        maps[0].file = d.join(&name).display().to_string();
        maps[0].build_id = String::new();
        let prof = b.profile(&format!("{name}.pb"), &maps);
        let (out, err) = b.run(&["-top", prof.to_str().unwrap()]);
        assert!(!err.contains("panicked"), "{name}: {err}");
        for f in ["new_session", "make_buffer"] {
            if let Some(r) = top_row(&out, f) {
                assert!(r.1 == "5000B" || r.1 == "5500B", "{name}: {out}");
            }
        }
    }

    // The truncated file given as the binary replaces the main mapping.
    let prof = b.profile("main.pb", &b.maps);
    let (out, err) = b.run(&["-top", "truncated", prof.to_str().unwrap()]);
    assert!(out.starts_with("File: truncated\n"), "{out}");
    assert!(out.contains("  [truncated]\n"), "{out}");
    assert!(err.contains("truncated"), "{err}");
}
