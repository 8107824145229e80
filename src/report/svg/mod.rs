//! `svg` and `web`: the call graph drawn as SVG.
//!
//! As pprof does, the DOT text goes through Graphviz's `dot -Tsvg` and the
//! result is made pannable and zoomable in a browser (`graphviz`). Without
//! Graphviz (or with `RPROF_NO_GRAPHVIZ=1`), a pure-Rust layout (the
//! `layout-rs` crate) draws the same [`Drawing`] (`builtin`), so a fresh
//! machine still gets a graph.

mod builtin;
mod graphviz;

pub use builtin::{builtin, builtin_static};
pub use graphviz::{massage, render_dot, run_dot};

use crate::report::dot::Drawing;
use crate::report::error::RenderError;
use crate::ui::Ui;

/// Set to a non-empty value other than `0` to skip Graphviz.
pub const NO_GRAPHVIZ_ENV: &str = "RPROF_NO_GRAPHVIZ";

/// Which renderer drew an SVG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renderer {
    Graphviz,
    Builtin,
}

/// Draws a call graph as a browser-ready SVG: with Graphviz when `dot` is
/// on PATH (and not disabled), else with the built-in layout. A Graphviz
/// failure falls back to the built-in layout with a warning.
pub fn render(drawing: &Drawing, ui: &mut dyn Ui) -> Result<(String, Renderer), RenderError> {
    if !graphviz_disabled() {
        match render_dot(&drawing.to_dot()) {
            Ok(Some(svg)) => return Ok((svg, Renderer::Graphviz)),
            Ok(None) => {}
            Err(e) => ui.warn(&format!("rprof: {e}; using the built-in graph layout")),
        }
    }
    builtin(drawing).map(|svg| (svg, Renderer::Builtin))
}

/// Whether `RPROF_NO_GRAPHVIZ` asks not to use Graphviz.
pub fn graphviz_disabled() -> bool {
    std::env::var_os(NO_GRAPHVIZ_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}
