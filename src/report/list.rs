//! `list`: source listings of the functions matching a regexp, each line
//! annotated with its flat and cumulative values, as `go tool pprof -list`
//! prints them.

use std::collections::HashMap;
use std::fmt::Write;
use std::io::Read;

use super::error::ListError;
use super::graph::{Node, NodeInfo};
use super::peek::NoMatches;
use super::source_path::{go_getwd, Fallbacks, SourceSearch};
use super::Report;
use crate::profile::{Profile, StrId};
use crate::units::percentage;

/// Lines shown before the first and after the last sampled line.
const MARGIN: i64 = 5;

/// Go's `bufio.Scanner` stops at a line this long (terminator included),
/// and pprof then lists the lines read so far.
const MAX_LINE: usize = 64 * 1024;

/// Prints the listing, searching sources as pprof does and then in the
/// toolchain locations of the environment. Fails when nothing matches.
pub fn print_list(rpt: &mut Report) -> Result<String, ListError> {
    print_list_with(rpt, Fallbacks::from_env())
}

/// One function's listing in one source file.
pub struct Listing {
    pub name: String,
    pub file: String,
    /// Sums of the raw node values (pprof's header numbers).
    pub flat: i64,
    pub cum: i64,
    /// The lines, or why the source could not be read.
    pub rows: Result<Vec<Row>, String>,
}

/// A function without any source file name.
pub enum Listed {
    Source(Listing),
    NoSource(String),
}

/// [`print_list`] with explicit fallback locations.
pub fn print_list_with(rpt: &mut Report, fallbacks: Fallbacks) -> Result<String, ListError> {
    let listings = listings(rpt, fallbacks)?;
    let mut out = String::new();
    let _ = writeln!(out, "Total: {}", rpt.format_value(rpt.total));
    for l in listings {
        let l = match l {
            Listed::NoSource(name) => {
                let _ = writeln!(out, "No source information for {name}");
                continue;
            }
            Listed::Source(l) => l,
        };
        let _ = writeln!(
            out,
            "ROUTINE ======================== {} in {}",
            l.name, l.file
        );
        let _ = writeln!(
            out,
            "{:>10} {:>10} (flat, cum) {} of Total",
            rpt.format_value(l.flat),
            rpt.format_value(l.cum),
            percentage(l.cum, rpt.total)
        );
        match l.rows {
            Err(e) => {
                let _ = writeln!(out, " Error: {e}");
            }
            Ok(rows) => {
                for r in rows {
                    let _ = writeln!(
                        out,
                        "{:>10} {:>10} {:>6}:{}",
                        value_or_dot(rpt, r.flat),
                        value_or_dot(rpt, r.cum),
                        r.lineno,
                        r.text
                    );
                }
            }
        }
    }
    Ok(out)
}

/// The listings `list` prints (and `weblist` draws): per matching
/// function, by name, and per source file, by name, the window of source
/// lines with their values. Fails when nothing matches.
pub fn listings(rpt: &mut Report, fallbacks: Fallbacks) -> Result<Vec<Listed>, ListError> {
    let Some(symbol) = rpt.opts.symbol.clone() else {
        return Err(ListError::NoRegexp);
    };
    // Node values of the matching functions are all a listing needs.
    // Line-level nodes share names: each name is matched once (0: not
    // yet, 1: no, 2: yes, by string id).
    let matched = std::cell::RefCell::new(Vec::<u8>::new());
    let name_matches = |p: &Profile, name: StrId| {
        let mut m = matched.borrow_mut();
        if m.is_empty() {
            m.resize(p.strings.len(), 0);
        }
        match m.get_mut(name as usize) {
            Some(seen @ 0) => {
                *seen = 1 + symbol.is_match(p.str(name)) as u8;
                *seen == 2
            }
            Some(seen) => *seen == 2,
            None => symbol.is_match(p.str(name)),
        }
    };
    let g = rpt.values_graph_for(&|p: &Profile, info: &NodeInfo| name_matches(p, info.name));
    let p = &rpt.prof;

    // Matching nodes, grouped by function name.
    let mut functions: Vec<(StrId, Vec<&Node>)> = Vec::new();
    let mut by_name: HashMap<StrId, usize> = HashMap::new();
    for &n in &g.nodes {
        let node = g.node(n);
        if rpt.opts.drop_negative && is_negative(node) {
            continue;
        }
        if !name_matches(p, node.info.name) {
            continue;
        }
        let i = *by_name.entry(node.info.name).or_insert_with(|| {
            functions.push((node.info.name, Vec::new()));
            functions.len() - 1
        });
        functions[i].1.push(node);
    }
    if functions.is_empty() {
        return Err(NoMatches(symbol.as_str().to_string()).into());
    }
    functions.sort_by(|a, b| p.str(a.0).cmp(p.str(b.0)));

    let search_path = if rpt.opts.source_path.is_empty() {
        go_getwd().map_err(ListError::CurrentDir)?
    } else {
        rpt.opts.source_path.clone()
    };
    let mut reader = SourceReader::new(SourceSearch::new(
        &search_path,
        &rpt.opts.trim_path,
        fallbacks,
    ));

    let mut out = Vec::new();
    for (name, nodes) in &functions {
        let name = p.str(*name);
        // The function's nodes, grouped by source file.
        let mut files: Vec<(StrId, Vec<&Node>)> = Vec::new();
        for node in nodes {
            let file = node.info.file;
            if file == 0 {
                continue;
            }
            match files.iter_mut().find(|(f, _)| *f == file) {
                Some((_, v)) => v.push(node),
                None => files.push((file, vec![node])),
            }
        }
        if files.is_empty() {
            out.push(Listed::NoSource(name.to_string()));
            continue;
        }
        files.sort_by(|a, b| p.str(a.0).cmp(p.str(b.0)));

        for (file, fns) in &files {
            let file = p.str(*file);
            // pprof sums the raw values here, not the per-sample means.
            let flat = fns.iter().fold(0i64, |s, n| s.wrapping_add(n.flat));
            let cum = fns.iter().fold(0i64, |s, n| s.wrapping_add(n.cum));
            let rows = annotate(&mut reader, file, fns);
            out.push(Listed::Source(Listing {
                name: name.to_string(),
                file: file.to_string(),
                flat,
                cum,
                rows,
            }));
        }
    }
    Ok(out)
}

/// pprof's test for nodes dropped by -drop_negative.
fn is_negative(n: &Node) -> bool {
    n.cum < 0 || (n.cum == 0 && n.flat < 0)
}

fn value_or_dot(rpt: &Report, v: i64) -> String {
    if v == 0 {
        ".".to_string()
    } else {
        rpt.format_value(v)
    }
}

/// One listed source line.
pub struct Row {
    pub lineno: i64,
    pub flat: i64,
    pub cum: i64,
    pub text: String,
}

/// The window of source around the sampled lines of one function in one
/// file: from its start line (or 5 lines before the first node's line) to 5
/// lines after the last sampled line, cut at the end of the file.
fn annotate(reader: &mut SourceReader, file: &str, fns: &[&Node]) -> Result<Vec<Row>, String> {
    let Some(first) = fns.first() else {
        return Ok(Vec::new());
    };
    let node_start = |n: &Node| {
        if n.info.start_line != 0 {
            n.info.start_line
        } else {
            n.info.lineno.saturating_sub(MARGIN)
        }
    };
    let mut start = node_start(first);
    let mut end = first.info.lineno.saturating_add(MARGIN);
    let mut values: HashMap<i64, (i64, i64)> = HashMap::new();
    for n in fns {
        let lineno = n.info.lineno;
        let (s, e) = (node_start(n), lineno.saturating_add(MARGIN));
        // As in pprof, a node that moves the start never moves the end.
        if s < start {
            start = s;
        } else if e > end {
            end = e;
        }
        let v = values.entry(lineno).or_default();
        v.0 = v.0.wrapping_add(n.flat);
        v.1 = v.1.wrapping_add(n.cum);
    }
    let start = start.max(1);
    if start > end {
        // pprof never reads the file then, so reports no error either.
        return Ok(Vec::new());
    }
    let lines = reader.lines(file)?;
    let mut rows = Vec::new();
    for lineno in start..=end {
        let Some(text) = usize::try_from(lineno - 1).ok().and_then(|i| lines.get(i)) else {
            break;
        };
        let (flat, cum) = values.get(&lineno).copied().unwrap_or_default();
        rows.push(Row {
            lineno,
            flat,
            cum,
            text: text.clone(),
        });
    }
    Ok(rows)
}

/// The most bytes read of one source file.
const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Source files by profile file name, read once.
struct SourceReader {
    search: SourceSearch,
    files: HashMap<String, Result<Vec<String>, String>>,
}

impl SourceReader {
    fn new(search: SourceSearch) -> SourceReader {
        SourceReader {
            search,
            files: HashMap::new(),
        }
    }

    fn lines(&mut self, name: &str) -> Result<&[String], String> {
        if !self.files.contains_key(name) {
            let loaded = self.search.open(name).map(|(f, _)| {
                let mut buf = Vec::new();
                // Like pprof, a read error (a directory, say) keeps what
                // was read and is not reported.
                // Capped: a source path is profile data, and no source file
                // is this large.
                let _ = f.take(MAX_SOURCE_BYTES).read_to_end(&mut buf);
                split_lines(&buf)
            });
            self.files.insert(name.to_string(), loaded);
        }
        match self.files.get(name) {
            Some(Ok(lines)) => Ok(lines),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(&[]),
        }
    }
}

/// Lines as Go's `bufio.Scanner` splits them: on `\n`, dropping one
/// trailing `\r`, stopping at a line too long for its buffer.
fn split_lines(buf: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = buf;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if line.len() >= MAX_LINE {
            break;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        lines.push(String::from_utf8_lossy(line).into_owned());
        rest = next;
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_bufio_scanner() {
        assert_eq!(split_lines(b""), Vec::<String>::new());
        assert_eq!(split_lines(b"a\r\nb\n\nc"), vec!["a", "b", "", "c"]);
        assert_eq!(split_lines(b"a\n"), vec!["a"]);
        let mut long = b"x\n".to_vec();
        long.extend(vec![b'y'; MAX_LINE]);
        long.extend(b"\nz\n");
        assert_eq!(split_lines(&long), vec!["x"]);
        let mut fits = vec![b'y'; MAX_LINE - 1];
        fits.extend(b"\nz");
        assert_eq!(split_lines(&fits).len(), 2);
    }
}
