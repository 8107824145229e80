//! Symbolization speed: 100k distinct addresses spread over the functions
//! of a large binary with debug info, through the same path as a profile
//! (open, address translation, DWARF with inlined frames, demangling).
//!
//!     cargo build                     # target/debug/rprof: ~50 MB with DWARF
//!     cargo bench --bench symbolize [-- BINARY [COUNT]]
//!
//! Without `target/debug/rprof` it symbolizes its own binary (line tables
//! only, from `[profile.bench]`; the release profile has no debug info).

use std::time::Instant;

use rprof::profile::{Location, Mapping, Profile};
use rprof::symbolize::{binary::Binary, Options, Symbolizer};

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not,
    // and then a small run only checks that the benchmark works.
    let bench = std::env::args().any(|a| a == "--bench");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    // rprof's dev build (full DWARF); without it, this benchmark's own
    // binary ([profile.bench] keeps line tables, the release profile none).
    let default = concat!(env!("CARGO_MANIFEST_DIR"), "/target/debug/rprof");
    let own = std::env::current_exe().map(|p| p.to_string_lossy().into_owned());
    let path = match (args.first(), &own) {
        (Some(p), _) => p.as_str(),
        (None, Ok(own)) if !std::path::Path::new(default).exists() => {
            eprintln!("{default} not built: symbolizing this benchmark's binary");
            own.as_str()
        }
        (None, _) => default,
    };
    let count: usize = args
        .get(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(if bench { 100_000 } else { 1_000 });
    let bin = match Binary::open(std::path::Path::new(path)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e} (run `cargo build` first, or name a binary)");
            return;
        }
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let Some(text) = bin.loads.iter().find(|s| s.exec).copied() else {
        eprintln!("{path}: no executable segment");
        return;
    };
    // Addresses inside functions, spread over all of them, all distinct.
    let funcs: Vec<_> = bin
        .symbols
        .iter()
        .filter(|s| s.size > 1 && s.addr >= text.vaddr && s.addr < text.vaddr + text.memsz)
        .collect();
    let mut addrs = std::collections::BTreeSet::new();
    let mut i = 0usize;
    while addrs.len() < count && i < count * 20 {
        let f = funcs[(i * 7919) % funcs.len()];
        addrs.insert(f.addr + ((i as u64 * 104_729) % f.size));
        i += 1;
    }
    // Loaded as a PIE is: text segment mapped at a random page.
    let base = 0x5555_0000_0000u64;
    let page = |x: u64| x & !0xfff;
    let mut p = Profile::default();
    let file = p.strings.intern(path);
    p.mappings.push(Mapping {
        id: 1,
        start: base + page(text.vaddr),
        limit: base + text.vaddr + text.memsz,
        offset: page(text.off),
        file,
        ..Default::default()
    });
    for (i, a) in addrs.iter().enumerate() {
        p.locations.push(Location {
            id: i as u64 + 1,
            mapping: Some(0),
            address: base + a,
            lines: Default::default(),
            is_folded: false,
        });
    }
    drop(bin);

    let t = Instant::now();
    let mut warnings: Vec<String> = Vec::new();
    Symbolizer::new(Options::default()).run(&mut p, &mut warnings);
    let secs = t.elapsed().as_secs_f64();
    let with_lines = p.locations.iter().filter(|l| !l.lines.is_empty()).count();
    let frames: usize = p.locations.iter().map(|l| l.lines.len()).sum();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    println!(
        "symbolize: {} addresses ({with_lines} resolved, {frames} frames, {} functions) against {path} ({:.1} MB) in {secs:.3} s",
        p.locations.len(),
        p.functions.len(),
        size as f64 / 1e6
    );
}
