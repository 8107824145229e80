//! `disasm`: the assembly of the functions matching a regexp, read from the
//! binaries of the profile's mappings, each instruction annotated with the
//! flat and cum values of the samples at its address, laid out as
//! `go tool pprof -disasm` prints it.
//!
//! pprof's choices kept here: the regexp picks the binaries (those with a
//! sampled node whose printable name matches it) and then their symbols
//! (by name); a symbol lists only when samples fall in it; a symbol's range
//! ends one byte before its size says (pprof's `End = Start + Size - 1`);
//! samples between two instructions count for the first; an instruction's
//! location (`;function file:line`) is printed only when it changes.
//! The instruction text is rprof's own (AT&T or Intel syntax by iced-x86,
//! where Go 1.19's pprof prints Go assembler syntax).

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

use super::graph::Node;
use super::peek::NoMatches;
use super::Report;
use crate::paths::base_name;
use crate::symbolize::demangle::demangle;
use crate::symbolize::disasm::{self as dis, DisasmError, FuncSym};
use crate::symbolize::Loaded;
use crate::ui::Ui;
use crate::units::percentage;

/// `disasm` (or `weblist`) failed.
#[derive(Debug, thiserror::Error)]
pub enum AsmError {
    #[error("{0} requires a regexp argument")]
    NoRegexp(&'static str),
    #[error(transparent)]
    NoMatches(#[from] NoMatches),
    #[error(transparent)]
    Disasm(#[from] DisasmError),
}

/// One instruction with the samples at its address.
#[derive(Clone, Debug, Default)]
pub struct AsmRow {
    pub address: u64,
    pub text: String,
    /// The sampled function at this address ("" where nothing was).
    pub function: String,
    /// The instruction's source file as the binary names it, its base name
    /// and line (from the samples where the binary has none).
    pub path: String,
    pub file: String,
    pub line: i64,
    /// The calls (base name of the file, line) the instruction's code was
    /// inlined into, innermost first.
    pub inlined_into: Vec<(String, i64)>,
    pub flat: i64,
    pub flat_div: i64,
    pub cum: i64,
    pub cum_div: i64,
}

impl AsmRow {
    pub fn flat_value(&self) -> i64 {
        super::graph::divided(self.flat, self.flat_div)
    }
    pub fn cum_value(&self) -> i64 {
        super::graph::divided(self.cum, self.cum_div)
    }
}

/// A function of a binary with its annotated instructions.
#[derive(Clone, Debug)]
pub struct Routine {
    pub name: String,
    /// Sums of the raw values of its samples (pprof's header numbers).
    pub flat: i64,
    pub cum: i64,
    pub rows: Vec<AsmRow>,
}

/// The regexp as a number (`0x4ab100`, `0o17`, `255`), as pprof reads it
/// with Go's `strconv.ParseUint(s, 0, 64)`: mappings holding that address
/// are searched even without matching samples.
fn as_address(s: &str) -> Option<u64> {
    let (digits, radix) = match s.get(..2) {
        Some("0x" | "0X") => (&s[2..], 16),
        Some("0o" | "0O") => (&s[2..], 8),
        Some("0b" | "0B") => (&s[2..], 2),
        _ if s.len() > 1 && s.starts_with('0') => (&s[1..], 8),
        _ => (s, 10),
    };
    let digits = if radix == 10 {
        digits.to_string()
    } else {
        // Go allows underscores between digits after a base prefix.
        digits.replace('_', "")
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

/// The annotated functions matching the report's regexp, sorted by name
/// and address. Binaries that cannot be opened are reported through `ui`
/// and skipped, as pprof does; no function at all is [`NoMatches`].
pub fn routines(
    rpt: &mut Report,
    ui: &mut dyn Ui,
    command: &'static str,
) -> Result<Vec<Routine>, AsmError> {
    let Some(rx) = rpt.opts.symbol.clone() else {
        return Err(AsmError::NoRegexp(command));
    };
    // Only binaries with samples whose name matches are searched.
    // pprof's disasm matches the printable name (address, function,
    // file:line), its weblist the function name.
    let (_, sampled) = if command == "weblist" {
        rpt.sampled_matching(&|p, info| rx.is_match(p.str(info.name)))
    } else {
        rpt.sampled_matching(&|p, info| rx.is_match(&info.printable_name(p)))
    };
    let p = &rpt.prof;
    let address = as_address(rx.as_str());
    // `disasm` keeps pprof's `End = Start + Size - 1` (its last byte, often
    // a `ret`, is not listed); pprof's weblist lists whole functions.
    let symbol_end = |s: &FuncSym| {
        if command == "weblist" {
            s.end
        } else {
            s.end.saturating_sub(1)
        }
    };

    // Binaries by path, opened once (None: could not be).
    type Opened = Option<(Loaded, Arc<[FuncSym]>)>;
    let mut opened: HashMap<PathBuf, Opened> = HashMap::new();
    // (binary, base, symbol): one per matching symbol per mapping, as pprof.
    let mut found: Vec<(PathBuf, u64, FuncSym)> = Vec::new();
    for m in &p.mappings {
        let in_range = address.is_some_and(|a| m.start <= a && a <= m.limit);
        if !sampled.contains(&m.file) && !in_range {
            continue;
        }
        let path = PathBuf::from(p.str(m.file));
        let entry = opened.entry(path.clone()).or_insert_with(|| {
            // Separate debug files where symbolization looks for them.
            let debug_dirs = crate::symbolize::Options::default().debug_dirs;
            match Loaded::open(&path, &debug_dirs) {
                Ok(l) => {
                    let syms = dis::function_symbols(&l);
                    Some((l, syms.into()))
                }
                Err(e) => {
                    // pprof's words where the file is missing or unreadable.
                    let msg = match std::fs::metadata(&path) {
                        Err(io) => format!(
                            "open {}: {}",
                            path.display(),
                            super::source_path::go_error_text(&io)
                        ),
                        Ok(_) => e.to_string(),
                    };
                    ui.warn(&msg);
                    None
                }
            }
        });
        let Some((loaded, syms)) = entry else {
            continue;
        };
        // Runtime addresses to the file's (0 for executables; the load
        // bias for PIE and shared libraries).
        let base = if m.start == 0 && m.limit == 0 {
            0
        } else {
            match loaded.bin.base(m.start, m.limit, m.offset, m.start) {
                Ok(b) => b,
                Err(e) => {
                    ui.warn(&e.to_string());
                    continue;
                }
            }
        };
        for s in syms.iter() {
            let name = demangle(&s.name);
            if !(rx.is_match(&name) || rx.is_match(&s.name)) {
                continue;
            }
            if address.is_some_and(|a| a != 0 && !(s.start <= a && a < s.end)) {
                continue;
            }
            found.push((path.clone(), base, s.clone()));
        }
    }

    if found.is_empty() {
        return Err(NoMatches(rx.as_str().to_string()).into());
    }
    // Each symbol's samples: nodes whose file address is in it (pprof's
    // range ends a byte early). Nodes sorted by address, so each symbol
    // (there may be many: `disasm .`) finds its own by binary search.
    let g = rpt.values_graph();
    let mut by_addr: Vec<&Node> = g.nodes.iter().map(|&n| g.node(n)).collect();
    by_addr.sort_by_key(|n| n.info.address);
    let mut routines: Vec<(Routine, PathBuf, u64, FuncSym, Vec<&Node>)> = Vec::new();
    for (path, base, s) in found {
        let end = symbol_end(&s);
        let in_symbol = |n: &Node| {
            let a = n.info.address.wrapping_sub(base);
            a >= s.start && a < end
        };
        let mine: Vec<&Node> = match (s.start.checked_add(base), end.checked_add(base)) {
            (Some(lo), Some(hi)) => {
                let from = by_addr.partition_point(|n| n.info.address < lo);
                let to = by_addr.partition_point(|n| n.info.address < hi);
                by_addr[from..to.max(from)].to_vec()
            }
            // The range wraps around: check every node.
            _ => by_addr.iter().copied().filter(|n| in_symbol(n)).collect(),
        };
        if mine.is_empty() {
            continue;
        }
        let flat = mine.iter().fold(0i64, |a, n| a.wrapping_add(n.flat));
        let cum = mine.iter().fold(0i64, |a, n| a.wrapping_add(n.cum));
        let r = Routine {
            name: demangle(&s.name),
            flat,
            cum,
            rows: Vec::new(),
        };
        routines.push((r, path, base, s, mine));
    }
    if routines.is_empty() {
        return Err(NoMatches(rx.as_str().to_string()).into());
    }
    routines.sort_by(|a, b| a.0.name.cmp(&b.0.name).then(a.3.start.cmp(&b.3.start)));

    let intel = rpt.opts.intel_syntax;
    let mut out = Vec::with_capacity(routines.len());
    for (mut r, path, base, s, samples) in routines {
        let Some(Some((loaded, syms))) = opened.get(&path) else {
            continue;
        };
        let insts = dis::disassemble(loaded, s.start, symbol_end(&s), intel, syms)?;
        r.rows = annotate(rpt, &insts, &samples, base);
        out.push(r);
    }
    Ok(out)
}

/// Adds the samples up to each instruction's successor to it (a sample in
/// the middle of an instruction counts for it), taking the function, file
/// and line of the first sample where the binary names none.
fn annotate(rpt: &Report, insts: &[dis::Inst], samples: &[&Node], base: u64) -> Vec<AsmRow> {
    let p = &rpt.prof;
    let mut s = 0;
    let mut rows = Vec::with_capacity(insts.len());
    for (i, inst) in insts.iter().enumerate() {
        let mut row = AsmRow {
            address: inst.addr,
            text: inst.text.clone(),
            path: inst.file.clone(),
            file: if inst.file.is_empty() {
                String::new()
            } else {
                base_name(&inst.file).to_string()
            },
            line: inst.line,
            inlined_into: inst
                .inlined_into
                .iter()
                .map(|(f, l)| (base_name(f).to_string(), *l))
                .collect(),
            ..Default::default()
        };
        let next = insts.get(i + 1).map_or(u64::MAX, |n| n.addr);
        while let Some(n) = samples.get(s) {
            if n.info.address.wrapping_sub(base) >= next {
                break;
            }
            row.flat = row.flat.wrapping_add(n.flat);
            row.flat_div = row.flat_div.wrapping_add(n.flat_div);
            row.cum = row.cum.wrapping_add(n.cum);
            row.cum_div = row.cum_div.wrapping_add(n.cum_div);
            let file = p.str(n.info.file);
            if !file.is_empty() && row.file.is_empty() {
                row.path = file.to_string();
                row.file = base_name(file).to_string();
            }
            if n.info.lineno != 0 && row.line == 0 {
                row.line = n.info.lineno;
            }
            let name = p.str(n.info.name);
            if !name.is_empty() && row.function.is_empty() {
                row.function = name.to_string();
            }
            s += 1;
        }
        rows.push(row);
    }
    rows
}

/// A value, or `.` for zero.
pub fn value_or_dot(rpt: &Report, v: i64) -> String {
    if v == 0 {
        ".".to_string()
    } else {
        rpt.format_value(v)
    }
}

/// The report as `go tool pprof -disasm=RE` prints it.
pub fn print_disasm(rpt: &mut Report, ui: &mut dyn Ui) -> Result<String, AsmError> {
    let routines = routines(rpt, ui, "disasm")?;
    let mut w = String::new();
    let _ = writeln!(w, "Total: {}", rpt.format_value(rpt.total));
    for r in &routines {
        let _ = writeln!(w, "ROUTINE ======================== {}", r.name);
        let _ = writeln!(
            w,
            "{:>10} {:>10} (flat, cum) {} of Total",
            rpt.format_value(r.flat),
            rpt.format_value(r.cum),
            percentage(r.cum, rpt.total)
        );
        let (mut function, mut file, mut line) = ("", "", 0);
        for n in &r.rows {
            let mut loc = String::new();
            if (n.function.as_str(), n.file.as_str(), n.line) != (function, file, line) {
                (function, file, line) = (&n.function, &n.file, n.line);
                if !n.function.is_empty() {
                    loc = format!("{} ", n.function);
                }
                if !n.file.is_empty() {
                    loc.push_str(&n.file);
                    if n.line != 0 {
                        let _ = write!(loc, ":{}", n.line);
                    }
                }
            }
            let (flat, cum) = (
                value_or_dot(rpt, n.flat_value()),
                value_or_dot(rpt, n.cum_value()),
            );
            if loc.is_empty() {
                let _ = writeln!(w, "{flat:>10} {cum:>10} {:>10x}: {}", n.address, n.text);
            } else if n.text.len() < 40 {
                let _ = writeln!(
                    w,
                    "{flat:>10} {cum:>10} {:>10x}: {:<40};{loc}",
                    n.address, n.text
                );
            } else {
                // A long instruction: its location on a line of its own.
                let _ = writeln!(w, "{:74};{loc}", "");
                let _ = writeln!(w, "{flat:>10} {cum:>10} {:>10x}: {}", n.address, n.text);
            }
        }
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::as_address;

    #[test]
    fn regexps_that_are_addresses() {
        assert_eq!(as_address("0x4ab100"), Some(0x4ab100));
        assert_eq!(as_address("0X1_0"), Some(16));
        assert_eq!(as_address("017"), Some(15));
        assert_eq!(as_address("42"), Some(42));
        assert_eq!(as_address("main"), None);
        assert_eq!(as_address("0x"), None);
        assert_eq!(as_address("+1"), None);
        assert_eq!(as_address("1_0"), None);
    }
}
