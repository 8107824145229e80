//! pprof's `call_tree`: a node per distinct path from the root.

use super::build::NodeTable;
use super::tags::{TagSpec, Tagger};
use super::{Edge, FastMap, Graph, Node, ValueSel, NONE};
use crate::profile::Profile;

impl Graph {
    /// Builds a call tree (pprof's `call_tree`): a node per distinct path
    /// from the root, so a function reached through different callers
    /// appears once per caller path.
    pub fn build_tree(
        p: &Profile,
        table: &NodeTable,
        sel: ValueSel,
        tags: Option<&TagSpec>,
    ) -> Graph {
        let mut tagger = tags.map(|spec| Tagger::new(p, spec));
        let mut arena: Vec<Node> = Vec::new();
        let mut edges: Vec<Edge> = Vec::new();
        // (parent node or NONE, node key) -> node.
        let mut index: FastMap<(u32, u32), u32> = FastMap::default();
        // The edge into each node from its parent (NONE for roots).
        let mut in_edge: Vec<u32> = Vec::new();
        let s = &p.samples;
        for i in 0..s.len() {
            let values = s.values(i);
            let w = values[sel.index];
            let dw = if sel.mean { values[0] } else { 0 };
            if w == 0 && dw == 0 {
                continue;
            }
            let sample_tags = tagger.as_mut().map(|t| t.sample_tags(p, i));
            let mut parent = NONE;
            for &loc in s.stack(i).iter().rev() {
                let frames = table.frames(loc);
                for fi in (0..frames.len()).rev() {
                    let key = frames[fi];
                    let next = arena.len() as u32;
                    let n = *index.entry((parent, key)).or_insert(next);
                    if n == next {
                        arena.push(Node {
                            info: table.infos[key as usize],
                            ..Default::default()
                        });
                        in_edge.push(NONE);
                    }
                    let node = &mut arena[n as usize];
                    node.cum = node.cum.wrapping_add(w);
                    node.cum_div = node.cum_div.wrapping_add(dw);
                    if let (Some(t), Some(st)) = (tagger.as_mut(), sample_tags) {
                        t.add(n, st, w, dw, false);
                    }
                    if parent != NONE {
                        let inline = fi != frames.len() - 1;
                        let e = in_edge[n as usize];
                        if e == NONE {
                            in_edge[n as usize] = edges.len() as u32;
                            edges.push(Edge {
                                src: parent,
                                dest: n,
                                weight: w,
                                weight_div: dw,
                                residual: false,
                                inline,
                                removed: false,
                            });
                        } else {
                            let edge = &mut edges[e as usize];
                            edge.weight = edge.weight.wrapping_add(w);
                            edge.weight_div = edge.weight_div.wrapping_add(dw);
                            edge.inline &= inline;
                        }
                    }
                    parent = n;
                }
            }
            if parent != NONE {
                let node = &mut arena[parent as usize];
                node.flat = node.flat.wrapping_add(w);
                node.flat_div = node.flat_div.wrapping_add(dw);
                if let (Some(t), Some(st)) = (tagger.as_mut(), sample_tags) {
                    t.add(parent, st, w, dw, true);
                }
            }
        }
        for (e, edge) in edges.iter().enumerate() {
            arena[edge.src as usize].outs.push(e as u32);
            arena[edge.dest as usize].ins.push(e as u32);
        }
        let nodes = (0..arena.len() as u32)
            .filter(|&n| arena[n as usize].cum != 0 || arena[n as usize].flat != 0)
            .collect();
        let tags = tagger.map_or_else(Vec::new, |t| t.finish(arena.len()));
        Graph {
            arena,
            edges,
            nodes,
            tags,
        }
    }

    /// Keeps only the `kept` nodes of a call tree: a dropped node's callees
    /// hang from its caller through residual edges (inline only if both
    /// edges were), or become roots when it had no caller.
    pub fn trim_tree(&mut self, kept: &[bool], names: &[String]) {
        let old = std::mem::take(&mut self.nodes);
        for &cur in &old {
            if kept.get(cur as usize).copied().unwrap_or(false) {
                self.nodes.push(cur);
                continue;
            }
            let outs: Vec<u32> = self.live_outs(cur).collect();
            let Some(up) = self.live_ins(cur).next() else {
                // A dropped root: its callees become roots.
                for e in outs {
                    self.edges[e as usize].removed = true;
                }
                continue;
            };
            let parent = self.edges[up as usize].src;
            let parent_inline = self.edges[up as usize].inline;
            self.edges[up as usize].removed = true;
            for e in outs {
                let edge = &mut self.edges[e as usize];
                edge.src = parent;
                edge.residual = true;
                edge.inline &= parent_inline;
                self.arena[parent as usize].outs.push(e);
            }
            // The edges now leave from the parent.
            let edges = &self.edges;
            self.arena[cur as usize]
                .outs
                .retain(|&e| edges[e as usize].src == cur);
        }
        self.remove_redundant_edges(names);
    }
}
