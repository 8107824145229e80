//! `top` / `text`: the flat table of the heaviest nodes.

use std::fmt::Write;

use super::Report;
use crate::units::percentage;

/// One row of the table.
pub struct TextItem {
    pub name: String,
    /// `(inline)`, `(partial-inline)` or empty.
    pub inline_label: &'static str,
    pub flat: i64,
    pub cum: i64,
    pub flat_format: String,
    pub cum_format: String,
}

/// Prints the report as `go tool pprof -top` does.
pub fn print_text(rpt: &mut Report) -> String {
    let (items, labels) = items_and_labels(rpt);
    let mut out = String::new();
    for l in &labels {
        out.push_str(l);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{:>10} {:>5}% {:>5}% {:>10} {:>5}%",
        "flat", "flat", "sum", "cum", "cum"
    );
    let mut flat_sum = 0i64;
    for item in &items {
        flat_sum = flat_sum.wrapping_add(item.flat);
        let inl = if item.inline_label.is_empty() {
            String::new()
        } else {
            format!(" {}", item.inline_label)
        };
        let _ = writeln!(
            out,
            "{:>10} {} {} {:>10} {}  {}{}",
            item.flat_format,
            percentage(item.flat, rpt.total),
            percentage(flat_sum, rpt.total),
            item.cum_format,
            percentage(item.cum, rpt.total),
            item.name,
            inl
        );
    }
    out
}

/// The rows and header lines of a text report.
pub fn items_and_labels(rpt: &mut Report) -> (Vec<TextItem>, Vec<String>) {
    let mut t = rpt.trimmed_nodes();
    rpt.select_output_unit(&t.graph);
    // Text reports do not mention dropped edges.
    t.dropped_edges = 0;
    let labels = rpt.report_labels(&t, false);
    let g = &t.graph;
    let mut items = Vec::with_capacity(g.nodes.len());
    for &n in &g.nodes {
        let node = g.node(n);
        let (mut inline, mut noinline) = (false, false);
        for e in g.in_edges(n) {
            if e.inline {
                inline = true;
            } else {
                noinline = true;
            }
        }
        let inline_label = match (inline, noinline) {
            (true, true) => "(partial-inline)",
            (true, false) => "(inline)",
            _ => "",
        };
        items.push(TextItem {
            name: node.info.printable_name(&rpt.prof),
            inline_label,
            flat: node.flat_value(),
            cum: node.cum_value(),
            flat_format: rpt.format_value(node.flat_value()),
            cum_format: rpt.format_value(node.cum_value()),
        });
    }
    (items, labels)
}
