//! The DOT text of a [`Drawing`], as `go tool pprof -dot` writes it.

use std::fmt::Write;

use super::drawing::{Drawing, Justify, Label, Shape, NODE_FILL};
use super::escape;

impl Label {
    /// The label as a DOT string's contents (escaped, with `\n` and `\l`
    /// line breaks).
    pub fn to_dot(&self) -> String {
        let mut s = String::new();
        for l in &self.lines {
            s.push_str(&escape(&l.text));
            s.push_str(match l.end {
                Some(Justify::Center) => "\\n",
                Some(Justify::Left) => "\\l",
                None => "",
            });
        }
        s
    }
}

impl Drawing {
    /// The DOT text: every string attribute escaped (quotes, backslashes).
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph \"{}\" {{", escape(&self.name));
        let _ = writeln!(out, "node [style=filled fillcolor=\"{NODE_FILL}\"]");
        if let Some(l) = &self.legend {
            let _ = write!(
                out,
                "subgraph cluster_L {{ \"{}\" [shape=box fontsize=16 label=\"{}\"",
                escape(&l.name),
                l.label.to_dot()
            );
            if let Some(t) = &l.tooltip {
                let _ = write!(out, " tooltip=\"{}\"", escape(t));
            }
            out.push_str("] }\n");
        }
        // A nodelet's edge comes right after it.
        let mut into_nodelet: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let mut calls = Vec::new();
        for (i, e) in self.edges.iter().enumerate() {
            match e.to {
                Some(t) if self.nodes[t].nodelet => into_nodelet[t].push(i),
                _ => calls.push(i),
            }
        }
        for (i, n) in self.nodes.iter().enumerate() {
            let shape = match n.shape {
                Shape::Box => "box",
                Shape::Box3d => "box3d",
            };
            // pprof spaces the `=` of nodelet labels.
            let eq = if n.nodelet { " = " } else { "=" };
            let _ = write!(
                out,
                "{} [label{eq}\"{}\" id=\"{}\" fontsize={} shape={shape} tooltip=\"{}\"",
                n.name,
                n.label.to_dot(),
                escape(&n.id),
                n.font_size,
                escape(&n.tooltip)
            );
            if let Some(c) = &n.color {
                let _ = write!(out, " color=\"{}\"", escape(c));
            }
            if let Some(f) = &n.fill {
                let _ = write!(out, " fillcolor=\"{}\"", escape(f));
            }
            out.push_str("]\n");
            for &e in &into_nodelet[i] {
                self.write_edge(&mut out, e);
            }
        }
        for e in calls {
            self.write_edge(&mut out, e);
        }
        out.push_str("}\n");
        out
    }

    fn write_edge(&self, out: &mut String, i: usize) {
        let e = &self.edges[i];
        let name = |n: Option<usize>| n.map_or("N0", |n| self.nodes[n].name.as_str());
        let _ = write!(
            out,
            "{} -> {} [label=\"{}\"",
            name(Some(e.from)),
            name(e.to),
            e.label.to_dot()
        );
        if let Some(w) = e.weight {
            let _ = write!(out, " weight={w}");
        }
        if let Some(w) = e.penwidth {
            let _ = write!(out, " penwidth={w}");
        }
        if let Some(c) = &e.color {
            let _ = write!(out, " color=\"{}\"", escape(c));
        }
        let tip = escape(&e.tooltip);
        let _ = write!(out, " tooltip=\"{tip}\" labeltooltip=\"{tip}\"");
        if e.dotted {
            out.push_str(" style=\"dotted\"");
        }
        if let Some(m) = e.minlen {
            let _ = write!(out, " minlen={m}");
        }
        out.push_str("]\n");
    }
}
