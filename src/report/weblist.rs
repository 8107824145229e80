//! `weblist`: the annotated source of the functions matching a regexp as
//! a self-contained HTML page (styles and script inline, nothing fetched),
//! like `go tool pprof -weblist`: each source line with its flat and cum
//! values (the numbers `list` prints), and under every line that has
//! instructions, hidden until the line is clicked, its assembly with the
//! values of each instruction (as `disasm` computes them).
//!
//! [`fragment`] renders the listings as an HTML body fragment (for a page
//! of a web UI), [`page`] wraps one as a whole document. Every string from
//! the profile, the binary or a source file is HTML-escaped.

use std::collections::HashMap;
use std::fmt::Write;

use super::disasm::{self, AsmError, AsmRow};
use super::error::ReportError;
use super::list::{self, Listed};
use super::source_path::Fallbacks;
use super::Report;
use crate::paths::base_name;
use crate::ui::Ui;
use crate::units::percentage;

/// The styles of the listing (pprof's look: grey line numbers and dead
/// lines, green assembly, hidden until its line is clicked).
const CSS: &str = r#"<style type="text/css">
body { font-family: sans-serif; }
h1 { font-size: 1.5em; }
.legend { font-size: 1.25em; }
.line, .nop, .unimportant { color: #aaaaaa; }
.inlinesrc { color: #000066; }
.livesrc { cursor: pointer; }
.livesrc:hover { background-color: #eeeeee; }
.asm { color: #008800; display: none; }
</style>"#;

/// Clicking a line with assembly shows or hides the block after it. One
/// listener on the document, not an inline handler in the fragment: the
/// web UI's Content-Security-Policy forbids those (its ui.js does this).
const SCRIPT: &str = r#"<script type="text/javascript">
document.addEventListener("click", rprofToggleAsm);
function rprofToggleAsm(event) {
  var t = event.target;
  while (t && !(t.classList && t.classList.contains("livesrc"))) {
    t = t.parentNode;
  }
  if (!t) return;
  var asm = t.nextSibling;
  if (asm && asm.className === "asm") {
    asm.style.display = asm.style.display === "block" ? "" : "block";
    event.preventDefault();
  }
}
</script>"#;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    crate::markup::escape(s, "&#34;", |c, out| out.push(c))
}

/// The whole page: `weblist`'s output.
pub fn print_weblist(rpt: &mut Report, ui: &mut dyn Ui) -> Result<String, ReportError> {
    let body = fragment(rpt, ui, Fallbacks::from_env())?;
    Ok(page("rprof listing", &body))
}

/// An HTML document around a body `fragment`.
pub fn page(title: &str, fragment: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n<title>{}</title>\n{CSS}\n{SCRIPT}\n</head>\n<body>\n{fragment}</body>\n</html>\n",
        escape(title)
    )
}

/// The listings as a body fragment: the profile's legend, then per
/// function and file a heading and a `<pre>` of source lines, each
/// followed by its hidden assembly.
pub fn fragment(
    rpt: &mut Report,
    ui: &mut dyn Ui,
    fallbacks: Fallbacks,
) -> Result<String, ReportError> {
    let l = listing(rpt, ui, fallbacks, false)?;
    Ok(l.legend + &l.body)
}

/// A [`fragment`] in parts, for pages that show the legend their own way.
pub struct Listing {
    /// The profile's legend and total (`<div class="legend">`).
    pub legend: String,
    /// The headings and `<pre>`s of the listings.
    pub body: String,
    /// Some line has assembly: false when no binary could be read, none
    /// of its functions matched, or their source files were not found.
    pub assembly: bool,
    /// The binary gave instructions of the functions (with their lines).
    pub instructions: bool,
}

/// The listings as [`fragment`] makes them, legend and body apart. With
/// `need_assembly` (a page that shows them only when some line has
/// assembly), a listing no binary gives instructions for comes back empty,
/// unmade.
pub fn listing(
    rpt: &mut Report,
    ui: &mut dyn Ui,
    fallbacks: Fallbacks,
    need_assembly: bool,
) -> Result<Listing, ReportError> {
    // Disassembling first (when the listing would not fail: it is made
    // for its error) tells whether the listing is needed at all.
    let early = (need_assembly && !rpt.opts.drop_negative && some_function_matches(rpt))
        .then(|| disasm::routines(rpt, ui, "weblist"));
    if let Some(routines) = &early {
        if routines
            .as_ref()
            .map_or(true, |r| r.iter().all(|r| r.rows.is_empty()))
        {
            if let Err(e) = routines {
                if !matches!(e, AsmError::NoMatches(_)) {
                    ui.warn(&format!("weblist: no assembly: {e}"));
                }
            }
            return Ok(Listing {
                legend: String::new(),
                body: String::new(),
                assembly: false,
                instructions: false,
            });
        }
    }
    // The source lines' values are `list`'s, computed as it does at line
    // granularity (on a copy: this report is by address, for the
    // assembly, and a line reached twice in one stack, by recursion, counts
    // once in its cum but once per address here).
    let mut by_line = rpt.prof.clone();
    by_line.aggregate(true, true, true, true, false);
    let mut lines_rpt = Report::new(by_line, rpt.opts.clone(), rpt.total);
    let listings = list::listings(&mut lines_rpt, fallbacks)?;
    // The instructions of the matching functions, by source file base name
    // and line. Without a binary (or none matching) the lines stand alone.
    // Each row with its place in the disassembly, to tell blocks apart.
    let mut asm: HashMap<(String, i64), Vec<(usize, AsmRow)>> = HashMap::new();
    let mut seq = 0;
    match early.unwrap_or_else(|| disasm::routines(rpt, ui, "weblist")) {
        Ok(routines) => {
            for r in routines {
                // Not adjacent to the previous function's last row.
                seq += 1;
                for row in r.rows {
                    seq += 1;
                    if row.file.is_empty() {
                        continue;
                    }
                    // Under its own line and the lines of the calls it was
                    // inlined into, each once.
                    let mut at = vec![(row.file.clone(), row.line)];
                    for l in &row.inlined_into {
                        if !at.contains(l) {
                            at.push(l.clone());
                        }
                    }
                    for key in at {
                        asm.entry(key).or_default().push((seq, row.clone()));
                    }
                }
            }
        }
        Err(AsmError::NoMatches(_)) => {}
        Err(e) => ui.warn(&format!("weblist: no assembly: {e}")),
    }
    for rows in asm.values_mut() {
        rows.sort_by_key(|r| r.1.address);
        rows.dedup_by_key(|r| r.1.address);
    }

    let labels: Vec<String> = rpt.profile_labels().iter().map(|l| escape(l)).collect();
    let legend = format!(
        "<div class=\"legend\">{}<br>Total: {}</div>\n",
        labels.join("<br>\n"),
        escape(&rpt.format_value(rpt.total))
    );
    let mut w = String::new();
    let mut assembly = false;
    for l in listings {
        let l = match l {
            Listed::NoSource(name) => {
                let _ = writeln!(
                    w,
                    "<h2>{}</h2><p class=\"filename\">No source information</p>",
                    escape(&name)
                );
                continue;
            }
            Listed::Source(l) => l,
        };
        let _ = write!(
            w,
            "<h2>{}</h2><p class=\"filename\">{}</p>\n<pre class=\"weblist\">\n  Total:  {:>10} {:>10} (flat, cum) {}\n",
            escape(&l.name),
            escape(&l.file),
            escape(&rpt.format_value(l.flat)),
            escape(&rpt.format_value(l.cum)),
            escape(&percentage(l.cum, rpt.total))
        );
        let rows = match l.rows {
            Ok(rows) => rows,
            Err(e) => {
                let _ = writeln!(w, " Error: {}\n</pre>", escape(&e));
                continue;
            }
        };
        let file = base_name(&l.file).to_string();
        for r in rows {
            let flat = escape(&disasm::value_or_dot(rpt, r.flat));
            let cum = escape(&disasm::value_or_dot(rpt, r.cum));
            let insts = asm.get(&(file.clone(), r.lineno));
            let class = if insts.is_some() { "livesrc" } else { "nop" };
            let _ = write!(
                w,
                "<span class=\"line\"> {:>6}</span> <span class=\"{class}\">  {flat:>10} {cum:>10} {:8}  {} </span>",
                r.lineno,
                "",
                escape(&r.text)
            );
            if let Some(insts) = insts {
                assembly = true;
                w.push_str("<span class=\"asm\">");
                let indent = indentation(&r.text) + 4;
                let mut last: Option<usize> = None;
                for (at, a) in insts {
                    // A gap between blocks of instructions.
                    if last.is_some_and(|p| p + 1 != *at) {
                        let _ = writeln!(w, " {:8} {:>28}", "", "⋮");
                    }
                    last = Some(*at);
                    let text = format!("{:indent$}{}", "", a.text);
                    let _ = writeln!(
                        w,
                        " {:8} {:>10} {:>10} {:8x}: {:<80} <span class=\"unimportant\">{}:{}</span>",
                        "",
                        escape(&disasm::value_or_dot(rpt, a.flat_value())),
                        escape(&disasm::value_or_dot(rpt, a.cum_value())),
                        a.address,
                        escape(&text),
                        escape(&a.file),
                        a.line
                    );
                }
                w.push_str("</span>");
            }
            w.push('\n');
        }
        w.push_str("</pre>\n");
    }
    Ok(Listing {
        legend,
        body: w,
        assembly,
        instructions: !asm.is_empty(),
    })
}

/// Whether a function with samples has a name the regexp matches (what
/// `list` needs not to fail; names are the same at every granularity).
fn some_function_matches(rpt: &mut Report) -> bool {
    let Some(rx) = rpt.opts.symbol.clone() else {
        return false;
    };
    rpt.sampled_matching(&|p, info| rx.is_match(p.str(info.name)))
        .0
}

/// The width of a line's leading white space, tabs to multiples of 8.
fn indentation(line: &str) -> usize {
    let mut col = 0;
    for c in line.chars() {
        match c {
            ' ' => col += 1,
            '\t' => col = (col / 8 + 1) * 8,
            _ => break,
        }
    }
    col
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(indentation("\t  x"), 10);
        assert!(page("t<", "<p>x</p>").contains("<title>t&lt;</title>"));
    }
}
