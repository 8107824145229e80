//! Where diagnostics go. Every layer that warns (symbolization, fetching,
//! rendering, the driver) takes a `&mut dyn Ui` instead of printing, so the
//! command line sends them to stderr, the shell can replay them, and tests
//! and benchmarks can drop or collect them.

/// A sink for warnings and progress messages (one line each, no newline).
pub trait Ui {
    fn warn(&mut self, msg: &str);
}

/// Prints diagnostics to standard error.
pub struct StderrUi;

impl Ui for StderrUi {
    fn warn(&mut self, msg: &str) {
        eprintln!("{msg}");
    }
}

/// Drops diagnostics (benchmarks, fuzzing, a second pass whose warnings
/// were already given).
pub struct NoUi;

impl Ui for NoUi {
    fn warn(&mut self, _: &str) {}
}

/// Collects diagnostics (tests, and callers that show them elsewhere).
impl Ui for Vec<String> {
    fn warn(&mut self, msg: &str) {
        self.push(msg.to_string());
    }
}
