//! The report layer's errors. Their messages are what users see after
//! `rprof: `.

use super::peek::NoMatches;

/// Drawing a call graph (SVG, PNG, PDF...) failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Graphviz's `dot` could not be run.
    #[error("failed to execute dot: {0}")]
    Spawn(#[source] std::io::Error),
    /// `dot` ran and failed: its exit status and first line of stderr.
    #[error("dot failed ({status}): {message}")]
    Graphviz { status: String, message: String },
    /// The built-in layout gave up on the graph.
    #[error("the built-in graph layout failed")]
    Layout,
    /// Too many boxes for the built-in layout to draw in reasonable time.
    #[error("the built-in graph layout draws at most {limit} boxes, this graph has {nodes}: lower -nodecount or install Graphviz")]
    TooManyNodes { nodes: usize, limit: usize },
    /// A format only Graphviz draws, and it is not installed (or disabled).
    #[error("install Graphviz (dot) for {0} output, or use png/pdf/svg")]
    NeedsGraphviz(&'static str),
    /// Converting the built-in layout's SVG to PNG or PDF failed.
    #[error("drawing the graph image: {0}")]
    Convert(String),
}

/// `list` failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("list requires a regexp argument")]
    NoRegexp,
    /// No function name matches the regexp.
    #[error(transparent)]
    NoMatches(#[from] NoMatches),
    /// Sources are searched from the current directory, which is gone.
    #[error("could not stat current dir: {0}")]
    CurrentDir(#[source] std::io::Error),
}

/// Drawing a flame graph failed.
#[derive(Debug, thiserror::Error)]
pub enum FlameError {
    /// inferno adds widths up in a `usize`.
    #[error("flame graph: sample values too large to draw (their sum overflows)")]
    TooLarge,
    #[error("flame graph: {0}")]
    Draw(#[source] std::io::Error),
}

/// Any report's failure.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    List(#[from] ListError),
    #[error(transparent)]
    Flame(#[from] FlameError),
    #[error(transparent)]
    NoMatches(#[from] NoMatches),
    #[error(transparent)]
    Asm(#[from] super::disasm::AsmError),
}
