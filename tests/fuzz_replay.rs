//! The fuzz targets' inputs on stable, in `cargo test`: every seed under
//! `fuzz/seeds/<target>/` and every minimized crash under
//! `fuzz/regressions/<target>/` (targets `decode`, `legacy`, `symbolize`)
//! goes through the targets' own code (`fuzz/harness.rs`, included
//! below), and a property test mutates real
//! fixture profiles (bit flips, truncation, inserted and overwritten bytes)
//! and checks that decoding and reporting never panic.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of a directory, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && !p.ends_with("README.md"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 3] = [
    ("decode", harness::decode),
    ("legacy", harness::legacy),
    ("symbolize", harness::symbolize),
];

/// Runs each file through its target, listing every panic (not only the
/// first); returns how many files ran.
fn replay(kind: &str, failures: &mut Vec<String>) -> usize {
    let mut n = 0;
    for (name, target) in TARGETS {
        for file in files_in(&fuzz_dir().join(kind).join(name)) {
            let data = std::fs::read(&file).expect("read fuzz input");
            n += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failures.push(format!("{name}: {} panics", file.display()));
            }
        }
    }
    n
}

#[test]
fn seeds_replay() {
    let mut failures = Vec::new();
    let n = replay("seeds", &mut failures);
    assert!(n >= 40, "only {n} seed files under fuzz/seeds");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn regressions_replay() {
    let mut failures = Vec::new();
    replay("regressions", &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Real profiles to damage: raw protobuf (so mutations reach the decoder
/// rather than the gzip checksum), one gzipped, and legacy text and binary.
const FIXTURES: [&str; 8] = [
    "decode/go-cpu.pb.raw",
    "decode/go-current.heap.raw",
    "decode/go-mutex.pb.raw",
    "decode/synthetic-edge.pb.raw",
    "decode/go-block.pb.gz",
    "legacy/corpus-cppbench.heap",
    "legacy/corpus-java.contention",
    "legacy/go-debug1-heap.debug1",
];

#[derive(Clone, Debug)]
enum Mutation {
    FlipBit(Index, u8),
    Truncate(Index),
    Insert(Index, u8),
    Overwrite(Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        // Bytes that change protobuf structure: 0 and varint continuation.
        2 => (any::<Index>(), prop_oneof![Just(0u8), Just(0x80), Just(0xff), any::<u8>()])
            .prop_map(|(i, b)| Mutation::Overwrite(i, b)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    if data.is_empty() {
        return;
    }
    match *m {
        Mutation::FlipBit(ref i, bit) => {
            let at = i.index(data.len());
            data[at] ^= 1 << bit;
        }
        Mutation::Truncate(ref i) => data.truncate(i.index(data.len())),
        Mutation::Insert(ref i, b) => data.insert(i.index(data.len() + 1), b),
        Mutation::Overwrite(ref i, b) => {
            let at = i.index(data.len());
            data[at] = b;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Damaged real profiles: parse (protobuf or legacy) then every report
    /// of the fuzz target, and the legacy parsers directly.
    #[test]
    fn damaged_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut data = std::fs::read(fuzz_dir().join("seeds").join(FIXTURES[which]))
            .expect("seed fixture");
        for m in &mutations {
            apply(&mut data, m);
        }
        harness::decode(&data);
        if FIXTURES[which].starts_with("legacy/") {
            harness::legacy(&data);
        }
    }
}
