//! `callgrind` and `kcachegrind`: the call graph in the callgrind format
//! (as valgrind writes it, read by KCachegrind), as pprof prints it.

use std::collections::HashMap;
use std::fmt::Write;

use super::graph::{Graph, NodeInfo, NONE};
use super::Report;
use crate::units;

/// pprof's callgrind output: one cost line per node (address, line, flat
/// value) under `ob=`/`fl=`/`fn=` headers, and its outgoing calls.
pub fn print_callgrind(rpt: &mut Report) -> String {
    rpt.opts.node_fraction = 0.0;
    rpt.opts.edge_fraction = 0.0;
    rpt.opts.node_count = 0;
    // pprof honours call_tree here (as for dot): a node per call path.
    let g = if rpt.opts.call_tree {
        call_tree(rpt)
    } else {
        rpt.trimmed_graph().graph
    };
    rpt.select_output_unit(&g);
    let call_tree_graph = rpt.opts.call_tree;
    let p = &rpt.prof;
    let o = &rpt.opts;
    let scale = |v: i64| units::scale(v, &o.sample_unit, &o.output_unit).0 as i64;

    // pprof's disambiguated names: nodes sharing a file and name but not a
    // function get a ` [i/n]` suffix. pprof's node.Function is the node of
    // the same name, file, start line and object with address and line 0
    // in the same node map: one map per graph, one per caller in a call tree.
    type FuncKey = (u32, u32, u32, u32, i64, u32);
    let parent = |n: u32| -> u32 {
        if !call_tree_graph {
            return NONE;
        }
        g.in_edges(n).next().map_or(NONE, |e| e.src)
    };
    let func = |n: u32| {
        let i = &g.node(n).info;
        (
            parent(n),
            i.name,
            i.orig_name,
            i.file,
            i.start_line,
            i.objfile,
        )
    };
    let mut index: HashMap<(u32, u32), Vec<FuncKey>> = HashMap::new();
    for &n in &g.nodes {
        let info = &g.node(n).info;
        let fs = index.entry((info.file, info.name)).or_default();
        if !fs.contains(&func(n)) {
            fs.push(func(n));
        }
    }
    let node_name = |n: u32| -> String {
        let info = &g.node(n).info;
        let name = p.str(info.name).to_string();
        match index.get(&(info.file, info.name)) {
            Some(fs) if fs.len() > 1 => {
                let i = fs.iter().position(|f| *f == func(n)).unwrap_or(0);
                format!("{name} [{}/{}]", i + 1, fs.len())
            }
            _ => name,
        }
    };
    let mut names = vec![String::new(); g.arena.len()];
    for (i, n) in g.arena.iter().enumerate() {
        names[i] = n.info.printable_name(p);
    }

    let mut w = String::new();
    w.push_str("positions: instr line\n");
    let _ = writeln!(w, "events: {}({})", o.sample_type, o.output_unit);
    let mut objfiles: HashMap<String, usize> = HashMap::new();
    let mut files: HashMap<String, usize> = HashMap::new();
    let mut fnames: HashMap<String, usize> = HashMap::new();
    let mut prev: Option<NodeInfo> = None;
    for &n in &g.nodes {
        let node = g.node(n);
        let info = &node.info;
        let new_group = prev.as_ref().is_none_or(|pi| {
            info.objfile != pi.objfile || info.file != pi.file || info.name != pi.name
        });
        if new_group {
            w.push('\n');
            let _ = writeln!(w, "ob={}", compress(&mut objfiles, p.str(info.objfile)));
            let _ = writeln!(w, "fl={}", compress(&mut files, p.str(info.file)));
            let _ = writeln!(w, "fn={}", compress(&mut fnames, p.str(info.name)));
        }
        let addr = address(prev.as_ref(), info.address);
        let _ = writeln!(w, "{addr} {} {}", info.lineno, scale(node.flat_value()));
        let mut outs: Vec<u32> = node
            .outs
            .iter()
            .copied()
            .filter(|&e| !g.edges[e as usize].removed)
            .collect();
        g.sort_edges(&mut outs, &names);
        for e in outs {
            let e = &g.edges[e as usize];
            let callee = &g.node(e.dest).info;
            let _ = writeln!(w, "cfl={}", compress(&mut files, p.str(callee.file)));
            let _ = writeln!(w, "cfn={}", compress(&mut fnames, &node_name(e.dest)));
            let _ = writeln!(
                w,
                "calls=0 {} {}",
                address(prev.as_ref(), callee.address),
                callee.lineno
            );
            let _ = writeln!(w, "* * {}", scale(e.weight));
        }
        prev = Some(*info);
    }
    w
}

/// The call tree pprof's callgrind draws with `call_tree`: untrimmed (the
/// fractions and count are 0 here), sorted by flat value.
fn call_tree(rpt: &mut Report) -> Graph {
    let table = rpt.node_table();
    let p = &rpt.prof;
    let mut g = Graph::build_tree(p, &table, rpt.opts.sample, None);
    if rpt.opts.drop_negative {
        let arena = &g.arena;
        g.nodes.retain(|&n| !super::is_negative(&arena[n as usize]));
    }
    g.sort_nodes(p, rpt.opts.cum_sort);
    g
}

/// Callgrind's name compression: `(N) name` the first time, `(N)` after.
fn compress(names: &mut HashMap<String, usize>, name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    if let Some(id) = names.get(name) {
        return format!("({id})");
    }
    let id = names.len() + 1;
    names.insert(name.to_string(), id);
    format!("({id}) {name}")
}

/// Callgrind's subposition compression: `*` for the previous address, a
/// signed offset when shorter than the absolute `0x...`.
fn address(prev: Option<&NodeInfo>, curr: u64) -> String {
    let abs = format!("{curr:#x}");
    let Some(prev) = prev else {
        return abs;
    };
    if prev.address == curr {
        return "*".into();
    }
    let diff = curr.wrapping_sub(prev.address) as i64;
    let relative = format!("{diff:+}");
    if relative.len() < abs.len() {
        relative
    } else {
        abs
    }
}
