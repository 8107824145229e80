//! Column alignment with the layout rules of Go's `text/tabwriter`.
//!
//! pprof aligns some reports (`tags`) by writing tab-separated cells through
//! a tabwriter; its exact rules (which lines form a column block, where the
//! padding goes, that the text after the last tab is not part of a column)
//! decide the output byte for byte, so they are reproduced here.
//!
//! Supported: minimum cell width, padding, a non-tab padding character and
//! right or left alignment. Not supported (pprof does not use them): tab
//! padding, escapes, HTML filtering, discarding empty columns, debug bars.

/// A tabwriter configuration; [`TabWriter::format`] lays out a whole text.
#[derive(Clone, Copy, Debug)]
pub struct TabWriter {
    /// Minimum width of a cell, padding included.
    pub min_width: usize,
    /// Added to the widest cell of a column.
    pub padding: usize,
    pub pad_char: char,
    /// Pads cells on the left (Go's `AlignRight`).
    pub align_right: bool,
}

/// One line: its cells, the last one being the text after the last tab.
struct Line<'a> {
    cells: Vec<&'a str>,
    /// Ended by a newline or form feed (only the final line may not be).
    terminated: bool,
}

impl TabWriter {
    /// Lays out `text`: cells end at `\t` or `\v`, lines at `\n` or `\f`;
    /// a `\f` also ends every column block (Go flushes there) and is
    /// written as a newline.
    pub fn format(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + text.len() / 4);
        let mut section: Vec<Line> = Vec::new();
        let mut cells = Vec::new();
        let mut start = 0;
        for (i, c) in text.char_indices() {
            match c {
                '\t' | '\x0b' => {
                    cells.push(&text[start..i]);
                    start = i + 1;
                }
                '\n' | '\x0c' => {
                    cells.push(&text[start..i]);
                    start = i + 1;
                    section.push(Line {
                        cells: std::mem::take(&mut cells),
                        terminated: true,
                    });
                    if c == '\x0c' {
                        self.write_section(&section, &mut out);
                        section.clear();
                    }
                }
                _ => {}
            }
        }
        // Go only keeps a non-empty trailing cell of an unfinished line.
        if start < text.len() {
            cells.push(&text[start..]);
        }
        if !cells.is_empty() {
            section.push(Line {
                cells,
                terminated: false,
            });
        }
        self.write_section(&section, &mut out);
        out
    }

    fn write_section(&self, lines: &[Line], out: &mut String) {
        let mut widths = Vec::new();
        self.format_block(lines, 0, lines.len(), &mut widths, out);
    }

    /// Finds the column blocks of column `widths.len()` in `lines[line0..line1]`
    /// (runs of lines that have a cell in that column), sizes each and lays
    /// out the columns to its right recursively; other lines are written
    /// with the widths known so far.
    fn format_block(
        &self,
        lines: &[Line],
        mut line0: usize,
        line1: usize,
        widths: &mut Vec<usize>,
        out: &mut String,
    ) {
        let column = widths.len();
        let in_column = |l: &Line| l.cells.len() > column + 1;
        let mut this = line0;
        while this < line1 {
            if !in_column(&lines[this]) {
                this += 1;
                continue;
            }
            self.write_lines(lines, line0, this, widths, out);
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && in_column(&lines[this]) {
                width = width.max(lines[this].cells[column].chars().count() + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format_block(lines, line0, this, widths, out);
            widths.pop();
            line0 = this;
        }
        self.write_lines(lines, line0, line1, widths, out);
    }

    fn write_lines(
        &self,
        lines: &[Line],
        from: usize,
        to: usize,
        widths: &[usize],
        out: &mut String,
    ) {
        for line in &lines[from..to] {
            for (j, cell) in line.cells.iter().enumerate() {
                let pad = widths
                    .get(j)
                    .map_or(0, |w| w.saturating_sub(cell.chars().count()));
                // `repeat_n` would need Rust 1.82; the MSRV is 1.80.
                let padding = std::iter::repeat_n(self.pad_char, pad);
                if self.align_right {
                    out.extend(padding);
                    out.push_str(cell);
                } else {
                    out.push_str(cell);
                    out.extend(padding);
                }
            }
            if line.terminated {
                out.push('\n');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn right() -> TabWriter {
        TabWriter {
            min_width: 0,
            padding: 1,
            pad_char: ' ',
            align_right: true,
        }
    }

    #[test]
    fn right_aligned_blocks() {
        let text =
            "tier:\t Total 7.4s\n \t4.9s (66.35%):\t batch\n \t12.5s (3%):\t online\n\nk:\t x\n";
        assert_eq!(
            right().format(text),
            " tier: Total 7.4s\n       4.9s (66.35%): batch\n          12.5s (3%): online\n\n k: x\n"
        );
    }

    #[test]
    fn left_aligned_and_unterminated() {
        let w = TabWriter {
            align_right: false,
            ..right()
        };
        assert_eq!(w.format("a\tbb\tc\nccc\td"), "a   bb c\nccc d");
        assert_eq!(w.format(""), "");
        assert_eq!(w.format("\n"), "\n");
    }

    #[test]
    fn form_feed_ends_blocks() {
        assert_eq!(right().format("a\tx\n\x0cbbb\ty\n"), " ax\n\n bbby\n");
        assert_eq!(right().format("a\tx\x0cbbb\ty\n"), " ax\n bbby\n");
    }

    #[test]
    fn min_width_and_wide_chars() {
        let w = TabWriter {
            min_width: 4,
            ..right()
        };
        assert_eq!(w.format("é\t.\nab\t.\n"), "   é.\n  ab.\n");
    }

    #[test]
    fn nested_columns() {
        // Expected outputs from Go's text/tabwriter.
        assert_eq!(
            right().format("a\tb\tc\nxx\tyyy\n\tz\tw\n"),
            "  a bc\n xxyyy\n    zw\n"
        );
        assert_eq!(
            right().format("a\x0b\tb\tc\nxx\tyyy\n\tz\tw\ttrail"),
            "  a  bc\n xxyyy\n    z wtrail"
        );
    }
}
