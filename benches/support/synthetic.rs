//! Synthetic profiles for benchmarks and tests (not part of the library): many functions with several
//! locations each, deep stacks (up to 48 frames), Zipf-like frequencies,
//! labels. Deterministic: the same arguments give the same profile.

// Included by path (`#[path = ".../synthetic.rs"] mod synthetic;`) from the
// benches, examples and tests, so it is no part of the library: the
// including module provides `pb` (rprof's generated protobuf types).
use super::pb;

/// xorshift64*: tiny, deterministic, good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Zipf-like pick in 0..n: small indexes are much more frequent.
    fn zipf(&mut self, n: u64) -> u64 {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        // Inverse of a power-law CDF with exponent ~1.1.
        ((n as f64).powf(u) - 1.0).floor() as u64 % n.max(1)
    }
}

/// How sample stacks are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stacks {
    /// From a pool of Zipf-weighted call paths (shared prefixes, as in a
    /// real service), with 4 locations per function.
    Shared,
    /// Random paths of 1 to 48 frames (24 on average), every frame uniform
    /// over all locations, 3 per function: few stacks share prefixes (the
    /// hard case for graph building and flame graphs).
    Random,
}

/// A CPU profile (`samples/count`, `cpu/nanoseconds`) with `samples`
/// samples over `functions` functions, stacks sharing prefixes.
pub fn cpu_profile(samples: usize, functions: u64) -> pb::Profile {
    build(samples, functions, Stacks::Shared, 0x9e37_79b9_7f4a_7c15)
}

/// A CPU profile whose stacks are random paths ([`Stacks::Random`]); `seed`
/// picks the stacks (the tables are the same for every seed).
pub fn random_stacks_profile(samples: usize, functions: u64, seed: u64) -> pb::Profile {
    // Spread the seed over the word (xorshift needs a non-zero state).
    build(
        samples,
        functions,
        Stacks::Random,
        seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
    )
}

fn build(samples: usize, functions: u64, stacks: Stacks, seed: u64) -> pb::Profile {
    let locs_per_fn: u64 = match stacks {
        Stacks::Shared => 4,
        Stacks::Random => 3,
    };

    let mut strings = vec![String::new()];
    let intern = |s: String, strings: &mut Vec<String>| -> i64 {
        strings.push(s);
        strings.len() as i64 - 1
    };
    let samples_s = intern("samples".into(), &mut strings);
    let count_s = intern("count".into(), &mut strings);
    let cpu_s = intern("cpu".into(), &mut strings);
    let ns_s = intern("nanoseconds".into(), &mut strings);
    let file_s = intern("/usr/local/bin/server".into(), &mut strings);
    let worker_s = intern("worker".into(), &mut strings);
    let worker_vals: Vec<i64> = (0..8)
        .map(|i| intern(format!("w{i}"), &mut strings))
        .collect();

    let mut rng = Rng(seed);
    let pkgs = [
        "net/http",
        "encoding/json",
        "main",
        "github.com/acme/svc/store",
        "runtime",
        "sync",
        "crypto/tls",
        "compress/gzip",
    ];
    let mut function = Vec::with_capacity(functions as usize);
    for i in 0..functions {
        let pkg = pkgs[(i % pkgs.len() as u64) as usize];
        let name = intern(format!("{pkg}.(*T{}).Method{}", i / 7, i % 7), &mut strings);
        let filename = intern(format!("{pkg}/file{}.go", i / 50), &mut strings);
        function.push(pb::Function {
            id: i + 1,
            name,
            system_name: name,
            filename,
            start_line: (i % 500) as i64 + 1,
        });
    }
    let mut location = Vec::with_capacity((functions * locs_per_fn) as usize);
    for i in 0..functions * locs_per_fn {
        let f = i / locs_per_fn;
        let mut line = vec![pb::Line {
            function_id: f + 1,
            line: (f % 500) as i64 + 10 + (i % locs_per_fn) as i64 * 3,
            column: 0,
        }];
        // Some locations carry an inlined callee.
        if i % 11 == 0 {
            let g = (f * 7 + 3) % functions;
            line.insert(
                0,
                pb::Line {
                    function_id: g + 1,
                    line: 5,
                    column: 0,
                },
            );
        }
        location.push(pb::Location {
            id: i + 1,
            mapping_id: 1,
            address: 0x40_0000 + i * 16,
            line,
            is_folded: false,
        });
    }
    let nlocs = functions * locs_per_fn;
    // A pool of call paths so stacks share prefixes as real ones do.
    let paths: Vec<Vec<u64>> = (0..4096)
        .map(|_| {
            let depth = 4 + rng.below(40) as usize;
            (0..depth).map(|_| rng.zipf(nlocs) + 1).collect()
        })
        .collect();
    let mut sample = Vec::with_capacity(samples);
    for _ in 0..samples {
        let ids: Vec<u64> = match stacks {
            Stacks::Shared => {
                let path = &paths[rng.zipf(paths.len() as u64) as usize];
                let leaf_depth = 1 + rng.below(4) as usize;
                let mut ids: Vec<u64> = (0..leaf_depth).map(|_| rng.zipf(nlocs) + 1).collect();
                ids.extend(path.iter().copied());
                ids.truncate(48);
                ids
            }
            Stacks::Random => {
                let depth = 1 + rng.below(48) as usize;
                (0..depth).map(|_| rng.below(nlocs) + 1).collect()
            }
        };
        let n = 1 + rng.zipf(20) as i64;
        sample.push(pb::Sample {
            location_id: ids,
            value: vec![n, n * 10_000_000],
            label: vec![pb::Label {
                key: worker_s,
                str: worker_vals[rng.below(worker_vals.len() as u64) as usize],
                num: 0,
                num_unit: 0,
            }],
        });
    }
    pb::Profile {
        sample_type: vec![
            pb::ValueType {
                r#type: samples_s,
                unit: count_s,
            },
            pb::ValueType {
                r#type: cpu_s,
                unit: ns_s,
            },
        ],
        sample,
        mapping: vec![pb::Mapping {
            id: 1,
            memory_start: 0x40_0000,
            memory_limit: 0x40_0000 + nlocs * 16 + 0x1000,
            file_offset: 0,
            filename: file_s,
            build_id: 0,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
        }],
        location,
        function,
        string_table: strings,
        drop_frames: 0,
        keep_frames: 0,
        time_nanos: 1_700_000_000_000_000_000,
        duration_nanos: 30_000_000_000,
        period_type: Some(pb::ValueType {
            r#type: cpu_s,
            unit: ns_s,
        }),
        period: 10_000_000,
        comment: vec![],
        default_sample_type: 0,
    }
}

/// The profile encoded and gzipped, as a producer would write it.
pub fn gzipped(p: &pb::Profile) -> Vec<u8> {
    use prost::Message;
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(&p.encode_to_vec());
    gz.finish().unwrap_or_default()
}
