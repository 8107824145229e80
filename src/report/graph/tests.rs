use super::*;
use crate::pb;

#[path = "../../../benches/support/synthetic.rs"]
#[allow(dead_code)]
pub(crate) mod synthetic;

#[test]
fn two_threads_build_the_same_graph_as_one() {
    let bytes = synthetic::gzipped(&synthetic::cpu_profile(60_000, 2_000));
    let p = crate::profile::parse(&bytes).expect("parse");
    let table = NodeTable::new(&p, false);
    let sel = ValueSel {
        index: 1,
        mean: false,
    };
    let one = Graph::build_threads(&p, &table, sel, None, Edges::All, 1);
    let two = Graph::build_threads(&p, &table, sel, None, Edges::All, 2);
    assert_eq!(one.nodes, two.nodes);
    for (a, b) in one.arena.iter().zip(&two.arena) {
        assert_eq!((a.flat, a.cum, a.ins.len()), (b.flat, b.cum, b.ins.len()));
    }
    let key = |e: &Edge| (e.src, e.dest, e.weight, e.residual, e.inline);
    let mut e1: Vec<_> = one.edges.iter().map(key).collect();
    let mut e2: Vec<_> = two.edges.iter().map(key).collect();
    e1.sort();
    e2.sort();
    assert_eq!(e1, e2);
    assert!(e1.len() > 1000);
}
