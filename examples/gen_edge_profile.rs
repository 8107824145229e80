//! Writes a small hand-made profile exercising what the Go fixtures lack:
//! a build id, comments (one hidden by `#`), drop_frames/keep_frames, a
//! default sample type, numeric labels with units, mutex-style types for
//! `-mean`, a location without lines and one with an unknown function name.
//!
//!     cargo run --example gen_edge_profile -- fixtures/synthetic/edge.pb.gz
//!
//! The committed file and `go tool pprof`'s outputs for it are fixtures; see
//! fixtures/cases/synthetic.txt.

use std::io::Write;

use prost::Message;
use rprof::pb;

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "edge.pb.gz".to_string());
    let mut strings: Vec<String> = vec![String::new()];
    let mut s = |x: &str| -> i64 {
        if let Some(i) = strings.iter().position(|y| y == x) {
            return i as i64;
        }
        strings.push(x.to_string());
        strings.len() as i64 - 1
    };
    let funcs = [
        "main",
        "server.handle",
        "server.lock",
        "sync.(*Mutex).Lock",
        "malloc",
        "operator new(unsigned long)",
        "pool.get",
        "pool.refill",
        "db.query",
        "db.(*Conn).exec",
    ];
    let function: Vec<pb::Function> = funcs
        .iter()
        .enumerate()
        .map(|(i, f)| pb::Function {
            id: i as u64 + 1,
            name: s(f),
            system_name: s(f),
            filename: s(&format!(
                "/build/src/{}.cc",
                f.split('.').next().unwrap_or("x")
            )),
            start_line: 10 * i as i64 + 1,
        })
        .collect();
    let mk_loc = |id: u64, fns: &[u64], line: i64| pb::Location {
        id,
        mapping_id: 1,
        address: 0x1000 + id * 0x10,
        line: fns
            .iter()
            .map(|&f| pb::Line {
                function_id: f,
                line: line + f as i64,
                column: 0,
            })
            .collect(),
        is_folded: false,
    };
    let mut location = vec![
        mk_loc(1, &[1], 5),      // main
        mk_loc(2, &[2], 7),      // server.handle
        mk_loc(3, &[4, 3], 9),   // sync Lock inlined into server.lock
        mk_loc(4, &[5], 1),      // malloc (dropped by drop_frames)
        mk_loc(5, &[6], 1),      // operator new (dropped)
        mk_loc(6, &[7], 3),      // pool.get
        mk_loc(7, &[8], 4),      // pool.refill
        mk_loc(8, &[10, 9], 12), // db exec inlined in query
    ];
    // An address-only location in a second mapping (a shared library).
    location.push(pb::Location {
        id: 9,
        mapping_id: 2,
        address: 0x7f00_0000_1234,
        line: vec![],
        is_folded: false,
    });
    let key_bytes = s("bytes");
    let key_req = s("request");
    let key_tier = s("tier");
    let gold = s("gold");
    let free = s("free");
    let unit_b = s("bytes");
    let samples: Vec<(Vec<u64>, i64, i64, Vec<pb::Label>)> = vec![
        (
            vec![3, 2, 1],
            5,
            5_000_000,
            vec![pb::Label {
                key: key_tier,
                str: gold,
                num: 0,
                num_unit: 0,
            }],
        ),
        (
            vec![4, 5, 6, 2, 1],
            2,
            150_000,
            vec![pb::Label {
                key: key_bytes,
                str: 0,
                num: 4096,
                num_unit: unit_b,
            }],
        ),
        (
            vec![4, 7, 6, 2, 1],
            1,
            2_500_000,
            vec![pb::Label {
                key: key_req,
                str: 0,
                num: 512,
                num_unit: 0,
            }],
        ),
        (
            vec![8, 2, 1],
            7,
            31_000_000,
            vec![pb::Label {
                key: key_tier,
                str: free,
                num: 0,
                num_unit: 0,
            }],
        ),
        (vec![9, 8, 2, 1], 3, 800_000, vec![]),
        (vec![9, 1], 1, 1_000, vec![]),
        (vec![3, 8, 2, 1], 0, 0, vec![]),
    ];
    let sample = samples
        .into_iter()
        .map(|(locs, c, d, label)| pb::Sample {
            location_id: locs,
            value: vec![c, d],
            label,
        })
        .collect();
    let p = pb::Profile {
        sample_type: vec![
            pb::ValueType {
                r#type: s("contentions"),
                unit: s("count"),
            },
            pb::ValueType {
                r#type: s("delay"),
                unit: s("nanoseconds"),
            },
        ],
        sample,
        mapping: vec![
            pb::Mapping {
                id: 1,
                memory_start: 0x1000,
                memory_limit: 0x9000,
                file_offset: 0,
                filename: s("/usr/local/bin/server"),
                build_id: s("4a1b9c0de2f3"),
                has_functions: true,
                has_filenames: true,
                has_line_numbers: true,
                has_inline_frames: true,
            },
            pb::Mapping {
                id: 2,
                memory_start: 0x7f00_0000_0000,
                memory_limit: 0x7f00_0010_0000,
                file_offset: 0,
                // A path that exists on no machine, so no local libc is read.
                filename: s("/opt/rprof-fixture/lib/libc.so.6"),
                build_id: 0,
                has_functions: false,
                has_filenames: false,
                has_line_numbers: false,
                has_inline_frames: false,
            },
        ],
        location,
        function,
        drop_frames: s("malloc|operator new.*"),
        keep_frames: s("pool\\.refill"),
        time_nanos: 1_764_000_000_000_000_000,
        duration_nanos: 10_000_000_000,
        period_type: Some(pb::ValueType {
            r#type: s("contentions"),
            unit: s("count"),
        }),
        period: 1,
        comment: vec![s("build: release 1.2.3"), s("# internal note")],
        default_sample_type: s("delay"),
        string_table: Vec::new(),
    };
    let p = pb::Profile {
        string_table: strings,
        ..p
    };
    let file = std::fs::File::create(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    gz.write_all(&p.encode_to_vec())
        .and_then(|_| gz.finish().map(|_| ()))
        .unwrap_or_else(|e| panic!("{out}: {e}"));
    eprintln!("wrote {out}");
}
