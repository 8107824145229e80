//! Writes a large, realistic synthetic CPU profile for benchmarks (see
//! `benches/support/synthetic.rs`), gzipped:
//!
//!     cargo run --release --example gen_profile -- 1000000 big.pb.gz [functions]
//!
//! Deterministic: the same arguments always give the same file.

use rprof::pb;

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let samples: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let out = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| format!("synthetic-{samples}.pb.gz"));
    let functions: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let p = synthetic::cpu_profile(samples, functions);
    if let Err(e) = std::fs::write(&out, synthetic::gzipped(&p)) {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    }
    eprintln!("wrote {out}: {samples} samples, {functions} functions");
}
