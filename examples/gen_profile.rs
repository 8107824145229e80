//! Writes large synthetic CPU profiles for benchmarks (see
//! `benches/support/synthetic.rs`), gzipped:
//!
//!     cargo run --release --example gen_profile -- 1000000 big.pb.gz [functions]
//!     cargo run --release --example gen_profile -- --random 1000000 random.pb.gz
//!     cargo run --release --example gen_profile -- --many 200 5000 DIR
//!
//! The default shape has stacks sharing prefixes (Zipf-weighted paths, 4
//! locations per function); `--random` draws random stacks (average depth
//! 24) over 3 locations per function (60k locations for 20k functions), so
//! few stacks share prefixes; `--many COUNT SAMPLES DIR` writes COUNT such
//! random profiles of SAMPLES samples each (each with its own full tables,
//! as a fleet of instances would), DIR/profile-NNN.pb.gz.
//! Deterministic: the same arguments always give the same files.

use rprof::pb;

#[path = "../benches/support/synthetic.rs"]
mod synthetic;

fn write(out: &str, p: &pb::Profile) {
    if let Err(e) = std::fs::write(out, synthetic::gzipped(p)) {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    }
}

fn number(arg: Option<&String>, default: u64) -> u64 {
    arg.and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    const FUNCTIONS: u64 = 20_000;
    match args.first().map(String::as_str) {
        Some("--many") => {
            let count = number(args.get(1), 200);
            let samples = number(args.get(2), 5_000) as usize;
            let dir = args.get(3).cloned().unwrap_or_else(|| "fleet".into());
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("{dir}: {e}");
                std::process::exit(1);
            }
            for i in 0..count {
                let p = synthetic::random_stacks_profile(samples, FUNCTIONS, i + 1);
                write(&format!("{dir}/profile-{:03}.pb.gz", i + 1), &p);
            }
            eprintln!("wrote {count} profiles of {samples} random-stack samples to {dir}");
        }
        Some("--random") => {
            let samples = number(args.get(1), 1_000_000) as usize;
            let out = args
                .get(2)
                .cloned()
                .unwrap_or_else(|| format!("random-{samples}.pb.gz"));
            let functions = number(args.get(3), FUNCTIONS);
            write(
                &out,
                &synthetic::random_stacks_profile(samples, functions, 1),
            );
            eprintln!("wrote {out}: {samples} random-stack samples, {functions} functions");
        }
        _ => {
            let samples = number(args.first(), 100_000) as usize;
            let out = args
                .get(1)
                .cloned()
                .unwrap_or_else(|| format!("synthetic-{samples}.pb.gz"));
            let functions = number(args.get(2), FUNCTIONS);
            write(&out, &synthetic::cpu_profile(samples, functions));
            eprintln!("wrote {out}: {samples} samples, {functions} functions");
        }
    }
}
