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

/// A few nodes' values from the samples that hold them (found by a scan of
/// the stacks, or by the index) equal their values in the whole graph.
#[test]
fn values_of_a_few_nodes_from_their_samples_only() {
    let bytes = synthetic::gzipped(&synthetic::random_stacks_profile(20_000, 2_000, 3));
    let p = crate::profile::parse(&bytes).expect("parse");
    let table = NodeTable::new(&p, false);
    let sel = ValueSel {
        index: 1,
        mean: false,
    };
    let all = Graph::build(&p, &table, sel, None, false);
    let touching: Vec<bool> = (0..table.infos.len()).map(|k| k % 97 == 5).collect();
    let n_locs = p.locations.len();
    let scanned = scan_samples_touching(&p.samples, &table, &touching, n_locs).expect("few");
    let indexed = Postings::new(&p.samples, n_locs)
        .samples_touching(&table, &touching, n_locs)
        .expect("few");
    assert_eq!(scanned, indexed);
    assert!(scanned.len() > 100 && scanned.len() < p.samples.len() / 4);
    let some = Graph::values_subset(&p, &table, sel, &scanned);
    let mut checked = 0;
    for (k, t) in touching.iter().enumerate() {
        if *t {
            let (a, b) = (&all.arena[k], &some.arena[k]);
            assert_eq!((a.flat, a.cum), (b.flat, b.cum), "node {k}");
            checked += (a.cum != 0) as usize;
        }
    }
    assert!(checked > 5);
    // Every sample holds a node: no partial pass.
    assert_eq!(
        scan_samples_touching(&p.samples, &table, &vec![true; table.infos.len()], n_locs),
        None
    );
}
