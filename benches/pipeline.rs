//! Benchmarks of each stage on a synthetic 100k-sample CPU profile
//! (benches/support/synthetic.rs): decode, merge and base subtraction, the graph, and
//! the top/list/peek reports. Symbolization has its own bench.
//!
//!     cargo bench --bench pipeline
//!
//! BENCHMARKS.md has whole-command figures against go tool pprof.

use criterion::{criterion_group, criterion_main, Criterion};
use rprof::driver::{self, Command};
use rprof::options::Config;
use rprof::profile::{self, merge};
use rprof::report::graph::{Graph, ValueSel};

use rprof::pb;
use rprof::ui::NoUi as Quiet;

#[path = "support/synthetic.rs"]
mod synthetic;

fn cmd(name: &str, arg: Option<&str>) -> Command {
    Command::new(name, arg).expect("command")
}

fn benches(c: &mut Criterion) {
    let bytes = synthetic::gzipped(&synthetic::cpu_profile(100_000, 20_000));
    let p = profile::parse(&bytes).expect("synthetic profile parses");
    let mut g = c.benchmark_group("100k");
    g.sample_size(10);

    g.bench_function("decode (gunzip + protobuf)", |b| {
        b.iter(|| profile::parse(&bytes).expect("parse"))
    });
    g.bench_function("merge two profiles", |b| {
        b.iter(|| merge::merge(&[p.clone(), p.clone()]).expect("merge"))
    });
    g.bench_function("base subtraction", |b| {
        b.iter(|| {
            let mut base = p.clone();
            base.scale(-1.0);
            merge::merge(&[p.clone(), base]).expect("merge")
        })
    });
    g.bench_function("graph (values + edges)", |b| {
        let mut rpt = driver::prepare_report(&p, &cmd("top", None), &Config::default(), &mut Quiet)
            .expect("prepare");
        let table = rpt.node_table();
        let sel = ValueSel {
            index: 1,
            mean: false,
        };
        b.iter(|| Graph::build(&rpt.prof, &table, sel, None, true))
    });
    let cfg = Config::default();
    for (name, c2) in [
        ("top", cmd("top", None)),
        ("list", cmd("list", Some(r"store\.\(\*T0\)\.Method3$"))),
        ("peek", cmd("peek", Some(r"store\.\(\*T0\)\.Method3$"))),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| driver::generate(&p, &c2, &cfg, &mut Quiet).expect("report"))
        });
    }
    g.finish();
}

/// The hard shapes of the performance issue, at bench size: random stacks
/// (few shared prefixes) and a fleet of small profiles, each with its own
/// full tables, merged (as `rprof -top dir/*.pb.gz` does).
fn hard_shapes(c: &mut Criterion) {
    let random = synthetic::gzipped(&synthetic::random_stacks_profile(20_000, 20_000, 1));
    let p = profile::parse(&random).expect("random profile parses");
    let fleet: Vec<Vec<u8>> = (1..=10)
        .map(|i| synthetic::gzipped(&synthetic::random_stacks_profile(1_000, 20_000, i)))
        .collect();
    let mut g = c.benchmark_group("hard");
    g.sample_size(10);
    g.bench_function("random stacks 20k: decode", |b| {
        b.iter(|| profile::parse(&random).expect("parse"))
    });
    let cfg = Config::default();
    for name in ["top", "folded"] {
        let c2 = cmd(name, None);
        g.bench_function(format!("random stacks 20k: {name}"), |b| {
            b.iter(|| driver::generate(&p, &c2, &cfg, &mut Quiet).expect("report"))
        });
    }
    g.bench_function("fleet 10 x 1k: decode + merge", |b| {
        b.iter(|| {
            let mut ps: Vec<_> = fleet
                .iter()
                .map(|f| profile::parse(f).expect("parse"))
                .collect();
            driver::combine(&mut ps).expect("merge")
        })
    });
    g.finish();
}

criterion_group!(pipeline, benches, hard_shapes);
criterion_main!(pipeline);
