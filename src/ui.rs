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
        eprintln!("{}", escape_controls(msg));
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

/// Text from a profile (or a server) made safe for a terminal: control
/// characters other than newline and tab (ESC, BEL, NUL, CR, DEL, the C1
/// range) are shown as `\xNN`, so a hostile name cannot clear the screen,
/// retitle the window or hide lines. Text without them is returned as it
/// is, so normal reports stay byte-identical to pprof's.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    // A byte scan first (it vectorizes; reports run to gigabytes): control
    // characters are C0 bytes, DEL, or C1 (U+0080..U+009F, 0xC2 0x80..0x9F
    // in UTF-8); a lead byte 0xC2 sends the text to the exact check.
    let maybe = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f || b == 0xc2;
    let suspect = s
        .as_bytes()
        .chunks(64)
        .any(|c| c.iter().fold(false, |a, &b| a | maybe(b)));
    if !suspect || !s.contains(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Lowers the calling thread's scheduling priority: work done ahead for
/// later requests (indexes, warm caches) then takes no CPU from the
/// request being answered on a machine with few cores.
pub fn background_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only changes the scheduling of the calling
    // thread (on Linux, `who` 0 with PRIO_PROCESS is the calling thread).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 15);
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn controls_are_escaped() {
        assert_eq!(escape_controls("main.f\n\tx"), "main.f\n\tx");
        assert_eq!(
            escape_controls("a\u{1b}[2Jb\u{7}\u{0}\r\u{9b}c\u{7f}"),
            "a\\x1b[2Jb\\x07\\x00\\x0d\\x9bc\\x7f"
        );
        assert!(matches!(
            escape_controls("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
