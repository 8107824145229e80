//! Bad input: every broken file gives one line `rprof: FILE: <what is
//! wrong>` on stderr and exit status 1, never a panic; damaged but still
//! decodable profiles give a report. Bad files are made in a temp dir from
//! the real fixtures.

use crate::common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use prost::Message;
use rprof::pb;

/// A temp dir to write bad files into.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, data).expect("write bad file");
        path
    }
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(common::fixtures().join(rel)).expect("fixture")
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("gunzip fixture");
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A real CPU profile, uncompressed protobuf bytes.
fn cpu_raw() -> Vec<u8> {
    gunzip(&fixture("go/cpu.pb.gz"))
}

fn cpu_pb() -> pb::Profile {
    pb::Profile::decode(cpu_raw().as_slice()).expect("fixture decodes")
}

fn rprof(args: &[&str]) -> Output {
    common::run_in(&std::env::temp_dir(), args)
}

fn top(path: &Path) -> Output {
    rprof(&["-top", path.to_str().expect("utf-8 path")])
}

/// Exit 1 and exactly one stderr line `rprof: PATH: ...` containing `what`.
#[track_caller]
fn assert_error(out: &Output, path: &Path, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let prefix = format!("rprof: {}: ", path.display());
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr:?}");
    assert!(stderr.ends_with('\n'), "{stderr:?}");
    assert!(
        stderr.starts_with(&prefix),
        "{stderr:?} should start with {prefix:?}"
    );
    assert!(stderr.contains(what), "{stderr:?} should mention {what:?}");
    assert!(out.stdout.is_empty(), "no report expected");
}

/// Either a report (exit 0) or a clean one-line error (exit 1): no panic.
#[track_caller]
fn assert_report_or_error(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) => assert!(!out.stdout.is_empty(), "{what}: empty report"),
        Some(1) => {
            assert_eq!(stderr.lines().count(), 1, "{what}: {stderr:?}");
            assert!(stderr.starts_with("rprof: "), "{what}: {stderr:?}");
        }
        code => panic!("{what}: exit {code:?}, stderr {stderr:?}"),
    }
}

#[track_caller]
fn assert_report(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
    assert!(!out.stdout.is_empty(), "{what}: empty report");
}

/// Deterministic pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn encode(p: &pb::Profile) -> Vec<u8> {
    p.encode_to_vec()
}

// ---- files that cannot be read ----

#[test]
fn empty_file() {
    let s = Scratch::new();
    let path = s.write("empty.pb", b"");
    assert_error(&top(&path), &path, "empty");
}

#[test]
fn missing_file() {
    let s = Scratch::new();
    let path = s.dir.path().join("nope.pb.gz");
    assert_error(&top(&path), &path, "no such file");
}

#[test]
fn directory() {
    let s = Scratch::new();
    assert_error(&top(s.dir.path()), s.dir.path(), "is a directory");
}

#[cfg(unix)]
#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    let path = s.write("secret.pb.gz", &fixture("go/cpu.pb.gz"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    // Root (as in CI containers) reads files whatever their mode: then the
    // case cannot be produced, so it is skipped.
    if std::fs::read(&path).is_ok() {
        eprintln!("skipped: running with privileges that ignore chmod 000");
        return;
    }
    assert_error(&top(&path), &path, "permission denied");
}

// ---- compression ----

#[test]
fn truncated_gzip() {
    let s = Scratch::new();
    let gz = fixture("go/cpu.pb.gz");
    for cut in [11, gz.len() / 2, gz.len() - 1] {
        let path = s.write(&format!("cut{cut}.pb.gz"), &gz[..cut]);
        assert_error(&top(&path), &path, "gzip");
    }
}

#[test]
fn gzip_of_garbage() {
    let s = Scratch::new();
    let path = s.write("garbage.pb.gz", &gzip(&Rng(7).bytes(5000)));
    assert_error(&top(&path), &path, "not a profile");
}

#[test]
fn corrupt_gzip_body() {
    let s = Scratch::new();
    let mut gz = fixture("go/cpu.pb.gz");
    let n = gz.len();
    gz[n / 2] ^= 0x55;
    let path = s.write("corrupt.pb.gz", &gz);
    assert_error(&top(&path), &path, "gzip");
}

// ---- protobuf wire errors ----

#[test]
fn truncated_protobuf() {
    let s = Scratch::new();
    let raw = cpu_raw();
    // Inside the first sample type message: certainly mid-field.
    let path = s.write("cut.pb", &raw[..3]);
    assert_error(&top(&path), &path, "not a profile");
    // Elsewhere a cut may fall between fields: an error or a report.
    for cut in [raw.len() / 3, raw.len() / 2, raw.len() - 1] {
        let path = s.write(&format!("cut{cut}.pb"), &raw[..cut]);
        assert_report_or_error(&top(&path), &format!("cut at {cut}"));
    }
}

#[test]
fn random_bytes() {
    let s = Scratch::new();
    let mut rng = Rng(42);
    for (i, n) in [1, 2, 7, 100, 4096].into_iter().enumerate() {
        let mut data = rng.bytes(n);
        if data[0] == 0x1f {
            data[0] = 0; // not the gzip magic: that is another case
        }
        let path = s.write(&format!("random{i}"), &data);
        let out = top(&path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{n} random bytes: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
        assert!(
            stderr.starts_with(&format!("rprof: {}: ", path.display())),
            "{stderr:?}"
        );
        // As pprof: no protobuf internals for data that is no profile.
        assert!(!stderr.contains("protobuf"), "{stderr:?}");
    }
}

#[test]
fn oversized_varints() {
    let s = Scratch::new();
    // period (field 12, varint) with 11 continuation bytes.
    let mut data = vec![0x60];
    data.extend([0xff; 10]);
    data.push(0x01);
    let path = s.write("varint.pb", &data);
    assert_error(&top(&path), &path, "not a profile");
    // A 10-byte varint whose last byte overflows 64 bits.
    let mut data = vec![0x60];
    data.extend([0xff; 9]);
    data.push(0x7f);
    let path = s.write("varint2.pb", &data);
    assert_error(&top(&path), &path, "not a profile");
    // A string (field 6) claiming u64::MAX bytes.
    let mut data = vec![0x32];
    data.extend([0xff; 9]);
    data.push(0x01);
    data.extend(b"abc");
    let path = s.write("length.pb", &data);
    assert_error(&top(&path), &path, "not a profile");
    // A valid profile followed by a key without its value.
    let mut data = cpu_raw();
    data.extend([0x60, 0x80]);
    let path = s.write("tail.pb", &data);
    assert_error(&top(&path), &path, "not a profile");
}

// ---- ids and indexes ----

/// Writes a modified copy of the CPU profile and runs `-top` on it.
fn top_of(s: &Scratch, name: &str, edit: impl FnOnce(&mut pb::Profile)) -> (PathBuf, Output) {
    let mut p = cpu_pb();
    edit(&mut p);
    let path = s.write(name, &encode(&p));
    let out = top(&path);
    (path, out)
}

#[test]
fn string_index_out_of_range() {
    let s = Scratch::new();
    let n = cpu_pb().string_table.len() as i64;
    let (path, out) = top_of(&s, "str.pb", |p| p.sample_type[0].r#type = n);
    assert_error(&out, &path, "string index");
    let (path, out) = top_of(&s, "neg.pb", |p| p.function[0].name = -1);
    assert_error(&out, &path, "string index");
    let (path, out) = top_of(&s, "label.pb", |p| {
        let l = p
            .sample
            .iter_mut()
            .find(|s| !s.label.is_empty())
            .expect("labels");
        l.label[0].key = i64::MAX;
    });
    assert_error(&out, &path, "string index");
    let (path, out) = top_of(&s, "first.pb", |p| p.string_table[0] = "x".into());
    assert_error(&out, &path, "string table");
}

#[test]
fn location_ids() {
    let s = Scratch::new();
    let (path, out) = top_of(&s, "unknown.pb", |p| p.sample[0].location_id[0] = 1 << 40);
    assert_error(&out, &path, "location id");
    let (path, out) = top_of(&s, "zero_ref.pb", |p| p.sample[0].location_id[0] = 0);
    assert_error(&out, &path, "location id");
    let (path, out) = top_of(&s, "zero.pb", |p| p.location[0].id = 0);
    assert_error(&out, &path, "id=0");
    let (path, out) = top_of(&s, "dup.pb", |p| p.location[1].id = p.location[0].id);
    assert_error(&out, &path, "same id");
}

#[test]
fn function_ids() {
    let s = Scratch::new();
    let (path, out) = top_of(&s, "unknown.pb", |p| {
        p.location[0].line[0].function_id = 99_999
    });
    assert_error(&out, &path, "function");
    let (path, out) = top_of(&s, "zero_ref.pb", |p| p.location[0].line[0].function_id = 0);
    assert_error(&out, &path, "function");
    let (path, out) = top_of(&s, "zero.pb", |p| p.function[0].id = 0);
    assert_error(&out, &path, "id=0");
}

#[test]
fn mapping_ids() {
    let s = Scratch::new();
    let (path, out) = top_of(&s, "zero.pb", |p| p.mapping[0].id = 0);
    assert_error(&out, &path, "id=0");
    let (path, out) = top_of(&s, "dup.pb", |p| {
        let m = p.mapping[0];
        p.mapping.push(m);
    });
    assert_error(&out, &path, "same id");
    // An unknown mapping id leaves the location unmapped, as in pprof.
    let (_, out) = top_of(&s, "unknown.pb", |p| {
        for l in &mut p.location {
            l.mapping_id = 12345;
        }
    });
    assert_report(&out, "unknown mapping id");
}

// ---- values ----

#[test]
fn value_count_mismatch() {
    let s = Scratch::new();
    let (path, out) = top_of(&s, "more.pb", |p| p.sample[3].value.push(1));
    assert_error(&out, &path, "mismatch: sample has 3 values vs. 2 types");
    let (path, out) = top_of(&s, "fewer.pb", |p| p.sample[0].value.clear());
    assert_error(&out, &path, "mismatch");
    let (path, out) = top_of(&s, "notypes.pb", |p| p.sample_type.clear());
    assert_error(&out, &path, "sample type");
}

/// Reports over extreme values: sums overflow, as they silently do in
/// pprof; nothing may panic.
#[test]
fn extreme_values() {
    let s = Scratch::new();
    type Edit = fn(&mut pb::Profile);
    let variants: [(&str, Edit); 6] = [
        ("max", |p| {
            p.sample
                .iter_mut()
                .for_each(|s| s.value.iter_mut().for_each(|v| *v = i64::MAX))
        }),
        ("min", |p| {
            p.sample
                .iter_mut()
                .for_each(|s| s.value.iter_mut().for_each(|v| *v = i64::MIN))
        }),
        ("negative", |p| {
            p.sample
                .iter_mut()
                .for_each(|s| s.value.iter_mut().for_each(|v| *v = -*v))
        }),
        ("mixed", |p| {
            for (i, s) in p.sample.iter_mut().enumerate() {
                let v = if i % 2 == 0 { i64::MAX } else { i64::MIN };
                s.value.iter_mut().for_each(|x| *x = v);
            }
        }),
        ("header", |p| {
            p.duration_nanos = i64::MAX;
            p.time_nanos = i64::MIN;
            p.period = i64::MIN;
        }),
        ("count_minus_one", |p| {
            for s in &mut p.sample {
                s.value[0] = -1;
                s.value[1] = i64::MIN;
            }
        }),
    ];
    for (name, edit) in variants {
        let mut p = cpu_pb();
        edit(&mut p);
        let path = s.write(&format!("{name}.pb"), &encode(&p));
        let file = path.to_str().expect("utf-8");
        for flags in [
            &["-top"][..],
            &["-top", "-cum"],
            &["-top", "-sample_index=0"],
            &["-top", "-mean", "-sample_index=1"],
            &["-top", "-lines", "-nodecount=3"],
            &["-top", "-unit=ms"],
            &["-top", "-divide_by=0.5"],
            &["-top", "-base", file],
            &["-top", "-diff_base", file],
            &["-top", "-normalize", "-base", file],
            // Every report sums values somewhere (found by fuzzing: peek's
            // running flat sum, the call tree's node and edge sums).
            &["-peek=."],
            &["-tree", "-mean", "-sample_index=1"],
            &["-dot"],
            &["-dot", "-call_tree"],
            &["-folded"],
            &["-flame"],
            &["-flame", "-diff_base", file],
            &["-traces"],
            &["-tags"],
        ] {
            let mut args = flags.to_vec();
            args.push(file);
            assert_report_or_error(&rprof(&args), &format!("{name}: {}", args.join(" ")));
        }
    }
}

#[test]
fn overlapping_mappings() {
    let s = Scratch::new();
    let (_, out) = top_of(&s, "overlap.pb", |p| {
        let mut m = p.mapping[0];
        m.id = 1000;
        m.memory_start = m.memory_start.saturating_add(16);
        m.memory_limit = m.memory_limit.saturating_add(4096);
        p.mapping.push(m);
        let mut inverted = p.mapping[0];
        inverted.id = 1001;
        std::mem::swap(&mut inverted.memory_start, &mut inverted.memory_limit);
        p.mapping.push(inverted);
        for (i, l) in p.location.iter_mut().enumerate() {
            l.mapping_id = [1, 1000, 1001][i % 3];
        }
    });
    assert_report(&out, "overlapping mappings");
}

// ---- legacy formats ----

#[test]
fn malformed_legacy_profiles() {
    let s = Scratch::new();
    let cases: [(&str, &str, &str); 5] = [
        (
            "heap",
            "heap profile: 1: 1 [1: 1] @ heapprofile\n0: 5 [0: 0] @ 0x1\n",
            "count was 0",
        ),
        (
            "heap2",
            "heap profile: 1: 1 [1: 1] @ heapprofile\nbogus\n",
            "malformed profile",
        ),
        (
            "count",
            "goroutine profile: total 1\n1 @ zz\n",
            "malformed profile",
        ),
        (
            "hex",
            "heap profile: 1: 1 [1: 1] @ heapprofile\n1: 1 [1: 1] @ 0x1ffffffffffffffff\n",
            "hex",
        ),
        (
            "java",
            "--- heapz 1 ---\nformat = java\nresolution = bytes\n 5 0 @ 0x1\n",
            "non-zero",
        ),
    ];
    for (name, text, what) in cases {
        let path = s.write(name, text.as_bytes());
        assert_error(&top(&path), &path, what);
    }
    // Samples without sample types (no `resolution` attribute).
    let path = s.write("java2", b"--- heapz 1 ---\nformat = java\n 5 1 @ 0x1\n");
    assert_error(&top(&path), &path, "sample type");
    // Text that no parser recognizes: not a profile, without decoder detail.
    let path = s.write("text", b"hello, world\n");
    assert_error(
        &top(&path),
        &path,
        "not a profile: unrecognized profile format",
    );
}

// ---- limits ----

#[test]
fn decompressed_size_limit() {
    let s = Scratch::new();
    // 3 MB of zeros compress to a few KB: refused while inflating.
    let path = s.write("bomb.pb.gz", &gzip(&vec![0u8; 3 << 20]));
    let file = path.to_str().expect("utf-8");
    let out = rprof(&["-top", "-max_decompressed_mb=1", file]);
    assert_error(&out, &path, "-max_decompressed_mb");
    // An uncompressed file over the limit is refused before being read.
    let path = s.write("big.pb", &vec![0u8; (1 << 20) + 1]);
    let out = rprof(&[
        "-top",
        "-max_decompressed_mb=1",
        path.to_str().expect("utf-8"),
    ]);
    assert_error(&out, &path, "too large");
    // Real profiles are far below the default.
    let cpu = common::fixtures().join("go/cpu.pb.gz");
    assert_report(
        &rprof(&[
            "-top",
            "-max_decompressed_mb=1",
            cpu.to_str().expect("utf-8"),
        ]),
        "cpu",
    );
}

#[test]
fn sample_count_limit() {
    for rel in [
        "go/cpu.pb.gz",
        "corpus/cppbench.heap",
        "corpus/java.cpu",
        "corpus/cppbench.cpu",
    ] {
        let path = common::fixtures().join(rel);
        let out = rprof(&["-top", "-max_samples=2", path.to_str().expect("utf-8")]);
        assert_error(&out, &path, "too many samples");
        let out = rprof(&["-top", "-max_samples=100000", path.to_str().expect("utf-8")]);
        assert_report(&out, rel);
    }
    let out = rprof(&["-top", "-max_samples=lots", "x"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn help_documents_limits() {
    let out = rprof(&["-help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("-max_decompressed_mb"), "{help}");
    assert!(help.contains("-max_samples"), "{help}");
}

// ---- bit flips: never a panic ----

/// Runs the whole flow (load, merge, report) in process on each damaged
/// copy; collects panics instead of stopping at the first.
///
/// `RPROF_FLIP_SCALE=N` runs N times as many seeds (for longer hunts).
fn flip_bits(name: &str, original: &[u8], seeds: u64, flips: usize) -> Vec<String> {
    use rprof::driver::{self, Command, Sources};
    use rprof::options::Config;

    use rprof::ui::NoUi as Quiet;

    let s = Scratch::new();
    let mut failures = Vec::new();
    let configs = [
        Config::default(),
        Config {
            granularity: rprof::options::Granularity::Lines,
            ..Default::default()
        },
        Config {
            mean: true,
            sample_index: "0".into(),
            ..Default::default()
        },
        Config {
            sort: rprof::options::Sort::Cum,
            granularity: rprof::options::Granularity::Addresses,
            ..Default::default()
        },
    ];
    let scale: u64 = std::env::var("RPROF_FLIP_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    for seed in 0..seeds * scale {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut data = original.to_vec();
        for _ in 0..=rng.below(flips) {
            let i = rng.below(data.len());
            data[i] ^= 1 << rng.below(8);
        }
        let path = s.write(name, &data);
        let src = Sources {
            sources: vec![path.to_string_lossy().into_owned()],
            ..Default::default()
        };
        let cmd = Command::new("top", None).expect("command");
        let result = std::panic::catch_unwind(|| {
            let Ok(p) = driver::fetch_profiles(&src) else {
                return;
            };
            for cfg in &configs {
                let _ = driver::generate(&p, &cmd, cfg, &mut Quiet);
            }
        });
        if result.is_err() {
            // Kept outside the scratch dir for inspection.
            let kept = std::env::temp_dir().join(format!("rprof-panic-{name}-{seed}"));
            let _ = std::fs::write(&kept, &data);
            failures.push(format!(
                "{name} seed {seed}: panic (input kept in {})",
                kept.display()
            ));
        }
    }
    failures
}

#[test]
fn bit_flips_never_panic() {
    let mut failures = Vec::new();
    failures.extend(flip_bits("cpu.pb", &cpu_raw(), 600, 3));
    failures.extend(flip_bits(
        "heap.pb",
        &gunzip(&fixture("go/current.heap")),
        400,
        3,
    ));
    failures.extend(flip_bits("cpu.pb.gz", &fixture("go/cpu.pb.gz"), 100, 1));
    for legacy in [
        "corpus/cppbench.cpu",
        "corpus/cppbench.heap",
        "corpus/gobench.heap",
        "corpus/cppbench.contention",
        "corpus/cppbench.thread",
        "corpus/go.godoc.thread",
        "corpus/java.heap",
        "corpus/java.cpu",
        "corpus/java.contention",
    ] {
        let name = legacy.trim_start_matches("corpus/");
        failures.extend(flip_bits(name, &fixture(legacy), 150, 4));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A few damaged files through the binary: exit 0 or one clean line.
#[test]
fn bit_flips_through_the_cli() {
    let s = Scratch::new();
    let raw = cpu_raw();
    let mut rng = Rng(99);
    for i in 0..40 {
        let mut data = raw.clone();
        for _ in 0..3 {
            let at = rng.below(data.len());
            data[at] ^= 1 << rng.below(8);
        }
        let path = s.write(&format!("flip{i}.pb"), &data);
        assert_report_or_error(&top(&path), &format!("flip {i}"));
    }
}

/// A gzip trailer claiming 4 GiB (the data holds a few bytes) must not be
/// believed: under a 2 GiB address-space limit rprof still answers with a
/// one-line error instead of aborting on the allocation.
#[cfg(unix)]
#[test]
fn forged_gzip_size_trailer() {
    let s = Scratch::new();
    let mut gz = gzip(b"");
    let n = gz.len();
    gz[n - 4..].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let path = s.write("forged.pb.gz", &gz);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 2000000 && exec \"{}\" -top \"{}\"",
            common::rprof_bin(),
            path.display()
        ))
        .output()
        .expect("run sh");
    assert_error(&out, &path, "gzip");
}

/// Names in a profile that lead to a FIFO or a device (a mapping's binary,
/// a source file for `list`) are not opened for reading: no hang, no
/// endless read.
#[cfg(unix)]
#[test]
fn fifos_and_devices_named_by_a_profile() {
    let s = Scratch::new();
    let fifo = s.dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|st| st.success());
    if !made {
        eprintln!("SKIP: mkfifo is not available");
        return;
    }
    let mut p = cpu_pb();
    let fifo_name = p.string_table.len() as i64;
    p.string_table.push(fifo.display().to_string());
    let zero = p.string_table.len() as i64;
    p.string_table.push("/dev/zero".into());
    // The main binary is the FIFO, address-only: symbolization opens it.
    for m in &mut p.mapping {
        m.filename = fifo_name;
        m.has_functions = false;
        m.has_filenames = false;
        m.has_line_numbers = false;
    }
    // Source files are the FIFO and /dev/zero.
    for (i, f) in p.function.iter_mut().enumerate() {
        f.filename = if i % 2 == 0 { fifo_name } else { zero };
    }
    let path = s.write("fifo.pb", &p.encode_to_vec());
    for args in [&["-top"][..], &["-list=main", "-symbolize=none"]] {
        let start = std::time::Instant::now();
        let mut argv = args.to_vec();
        argv.push(path.to_str().expect("utf-8"));
        let out = rprof(&argv);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            start.elapsed() < std::time::Duration::from_secs(20),
            "{args:?}"
        );
    }
    // A device as the profile itself is refused at once.
    let out = rprof(&["-top", "/dev/zero"]);
    assert_error(&out, Path::new("/dev/zero"), "not a regular file");
}

// ---- memory budget: hostile shapes ----

/// `copies` gzip members, each of `chunk` repeated to 1 MiB: a small file
/// that inflates to `copies` MiB (gzip readers join members).
fn gzip_members(chunk: &[u8], copies: usize) -> Vec<u8> {
    let block: Vec<u8> = chunk.iter().copied().cycle().take(1 << 20).collect();
    let member = gzip(&block);
    member.repeat(copies)
}

/// Runs `rprof ARGS FILE` under a 2 GB address-space limit; with how long
/// it took.
#[cfg(unix)]
fn rprof_2g(args: &[&str], path: &Path) -> (Output, std::time::Duration) {
    let start = std::time::Instant::now();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 2000000 && exec \"{}\" {} \"{}\"",
            common::rprof_bin(),
            args.join(" "),
            path.display()
        ))
        .output()
        .expect("run sh");
    (out, start.elapsed())
}

/// Runs of empty table entries (mappings, locations, functions, strings:
/// each two bytes, each costing the decoder far more) are refused by the
/// memory budget before the decoder allocates anything, and never abort
/// the process, whatever the address-space limit.
#[cfg(unix)]
#[test]
fn empty_table_entries_refused_by_the_memory_budget() {
    let s = Scratch::new();
    for (what, entry) in [
        // Each with id 1 (an empty one has id 0: refused on sight, below).
        ("mapping", &[0x1a, 0x02, 0x08, 0x01][..]),
        ("location", &[0x22, 0x02, 0x08, 0x01]),
        ("function", &[0x2a, 0x02, 0x08, 0x01]),
        ("string", &[0x32, 0x00]),
    ] {
        // 200 MiB inflated, about 200 KB on disk.
        let path = s.write(&format!("{what}s.pb.gz"), &gzip_members(entry, 200));
        let (out, took) = rprof_2g(&["-top"], &path);
        assert_error(&out, &path, "-max_memory_mb");
        assert!(
            took < std::time::Duration::from_secs(20),
            "{what}: {took:?}"
        );
        // The default budget (no address-space limit) refuses it too.
        assert_error(&top(&path), &path, "profile needs more than");
        // Uncompressed: the same estimate, before decoding.
        let raw = entry.repeat(4 << 20);
        let path = s.write(&format!("{what}s.pb"), &raw);
        let out = rprof(&["-top", "-max_memory_mb=64", path.to_str().expect("utf-8")]);
        assert_error(&out, &path, "needs more than 64 MB of memory");
    }
    // Empty mappings, locations, functions have the reserved id 0: the
    // scan refuses the first one, before inflating further.
    for (what, key) in [("mapping", 0x1a), ("location", 0x22), ("function", 0x2a)] {
        let path = s.write(
            &format!("empty-{what}s.pb.gz"),
            &gzip_members(&[key, 0x00], 200),
        );
        let (out, took) = rprof_2g(&["-top"], &path);
        assert_error(&out, &path, &format!("found {what} with reserved id=0"));
        assert!(
            took < std::time::Duration::from_secs(30),
            "{what}: {took:?}"
        );
    }
    let mut few = vec![0x32, 0x00];
    few.extend([0x22, 0x00].repeat(1000));
    let path = s.write("few.pb", &few);
    let out = rprof(&["-top", "-max_memory_mb=100", path.to_str().expect("utf-8")]);
    assert_error(&out, &path, "reserved id=0");
}

/// A small gzip whose entries are valid but many (empty samples: each two
/// bytes) is held to a budget proportional to its compressed size: refused
/// quickly instead of decoding gigabytes; -max_memory_mb lifts the cap.
#[cfg(unix)]
#[test]
fn small_gzip_cannot_claim_gigabytes() {
    let s = Scratch::new();
    // 190 MiB of empty samples, about 190 KB gzipped.
    let path = s.write("samples.pb.gz", &gzip_members(&[0x12, 0x00], 190));
    let (out, took) = rprof_2g(&["-top"], &path);
    assert_error(&out, &path, "needs more than 512 MB of memory");
    // Generous: a debug build on a busy machine (release: about 0.3 s).
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}

/// A gzip bomb of zeros is no protobuf (tag 0): refused after the first
/// chunk, not inflated whole.
#[cfg(unix)]
#[test]
fn gzip_bomb_refused_while_inflating() {
    let s = Scratch::new();
    // 2 GiB of zeros in about 2 MB.
    let path = s.write("zeros.pb.gz", &gzip_members(&[0], 2048));
    let (out, took) = rprof_2g(&["-top"], &path);
    assert_error(&out, &path, "not a profile");
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    // A valid profile followed by zeros: the same.
    let mut data = gzip(&cpu_raw());
    data.extend(gzip_members(&[0], 512));
    let path = s.write("tail.pb.gz", &data);
    let (out, took) = rprof_2g(&["-top"], &path);
    assert_error(&out, &path, "not a profile");
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    // A string claiming 100 MiB is charged before its bytes arrive (a
    // claim past what the compressed bytes can give is no protobuf).
    let mut head = vec![0x32];
    let mut n: u64 = 100 << 20;
    while n >= 0x80 {
        head.push(n as u8 | 0x80);
        n >>= 7;
    }
    head.push(n as u8);
    let mut data = gzip(&head);
    data.extend(gzip_members(b"a", 128));
    let path = s.write("long.pb.gz", &data);
    let (out, _) = rprof_2g(&["-top", "-max_memory_mb=50"], &path);
    assert_error(&out, &path, "-max_memory_mb");
}

/// Gzipped legacy text profiles are still recognized after the protobuf
/// pre-scan gives up on them.
#[test]
fn gzipped_legacy_profiles() {
    let s = Scratch::new();
    for rel in [
        "corpus/cppbench.heap",
        "corpus/java.cpu",
        "corpus/cppbench.cpu",
    ] {
        let path = s.write("legacy.gz", &gzip(&fixture(rel)));
        assert_report(&top(&path), rel);
    }
}

/// Many sample types times many samples: the values array is sized by
/// what the samples hold, not by the product.
#[cfg(unix)]
#[test]
fn sample_types_times_samples() {
    let s = Scratch::new();
    let mut data = vec![0x32, 0x00];
    data.extend([0x0a, 0x00].repeat(1 << 20));
    data.extend([0x12, 0x00].repeat(1 << 20));
    let path = s.write("product.pb", &data);
    let (out, _) = rprof_2g(&["-top"], &path);
    assert_error(&out, &path, "mismatch");
}

#[test]
fn help_documents_memory_limit() {
    let out = rprof(&["-help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("-max_memory_mb"), "{help}");
    let out = rprof(&["-top", "-max_memory_mb=lots", "x"]);
    assert_eq!(out.status.code(), Some(1));
}

/// A small gzip of a legacy text heap profile with hundreds of MB of
/// sample lines is held to the budget too (legacy parsers allocate several
/// times their input): refused quickly, no abort under 2 GB.
#[cfg(unix)]
#[test]
fn legacy_text_bomb_refused_by_the_memory_budget() {
    let s = Scratch::new();
    let mut gz = gzip(b"heap profile: 1: 1 [1: 1] @ heap/1048576\n");
    gz.extend(gzip_members(b"1: 1 [1: 1] @ 0x1 0x2\n", 400));
    let path = s.write("legacy-bomb.gz", &gz);
    let (out, took) = rprof_2g(&["-top"], &path);
    assert_error(&out, &path, "needs more than");
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}
