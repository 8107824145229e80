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

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
