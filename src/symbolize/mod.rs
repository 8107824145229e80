//! Symbolization: function names, files and lines for the locations of
//! mappings that have none (profiles from jemalloc_pprof, perf, C/C++
//! profilers), read from the binaries on this machine.
//!
//! It follows pprof's local symbolization: which mappings are symbolized
//! (those used by a location that have no functions, file names or line
//! numbers yet; here also those with locations without lines, and only
//! such locations are symbolized, so names a producer gave are kept),
//! which file is read (the mapping's file, which the binary on
//! the command line or `PPROF_BINARY_PATH` may have replaced), the build id
//! check, the warnings, and how frames become functions and lines. Frames
//! come from the DWARF (with inlined calls, innermost first), else from the
//! symbol table, else (Go binaries built with `-ldflags='-s -w'`) from Go's
//! `.gopclntab` ([`gopclntab`]), and names are demangled ([`demangle`]).

pub mod binary;
pub mod debugfile;
pub mod demangle;
pub mod disasm;
pub mod dwarf;
pub mod gopclntab;

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::profile::{Function, Line, Profile, StrId};
use crate::ui::Ui;
use binary::{Binary, BinaryError, Symbol};
use dwarf::{Dwarf, Frame};

/// Whether to symbolize at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    None,
    #[default]
    Local,
}

/// Symbolization settings (`-symbolize`) and where debug files live.
#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    /// Symbolize mappings that already have functions too.
    pub force: bool,
    /// Roots of separate debug files (`/usr/lib/debug`).
    pub debug_dirs: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mode: Mode::Local,
            force: false,
            debug_dirs: vec![PathBuf::from("/usr/lib/debug")],
        }
    }
}

impl Options {
    /// Parses a `-symbolize` value as pprof does: `:`-separated words;
    /// `none`/`no` turn symbolization off, `force` redoes symbolized
    /// mappings. `remote` and `fastlocal` mean local here (rprof fetches
    /// nothing). Returns the warnings for unknown words.
    pub fn parse(spec: &str) -> (Options, Vec<String>) {
        let mut o = Options::default();
        let mut warnings = Vec::new();
        for word in spec.to_lowercase().split(':') {
            match word {
                "" | "local" | "fastlocal" | "remote" => {}
                "none" | "no" => o.mode = Mode::None,
                "force" => o.force = true,
                w if matches!(
                    w.strip_prefix("demangle="),
                    Some("full" | "none" | "templates" | "default")
                ) => {}
                _ => {
                    warnings.push(format!(
                        "ignoring unrecognized symbolization option: {spec}"
                    ));
                    warnings.push(
                        "expecting -symbolize=[local|fastlocal|remote|none][:force][:demangle=[none|full|templates|default]"
                            .to_string(),
                    );
                    break;
                }
            }
        }
        (o, warnings)
    }
}

/// Symbolizes `p` in place as `opts` says, warning through `ui`.
pub fn symbolize(p: &mut Profile, opts: &Options, ui: &mut dyn Ui) {
    if opts.mode == Mode::None {
        return;
    }
    Symbolizer::new(opts.clone()).run(p, ui);
}

/// An opened binary with its debug information, read on first use.
pub struct Loaded {
    pub bin: Binary,
    debug: OnceCell<DebugInfo>,
    debug_dirs: Vec<PathBuf>,
    /// Go's `.gopclntab` (where in the file, and its header), read the
    /// first time neither DWARF nor symbols name an address.
    pcln: OnceCell<Option<(std::ops::Range<usize>, gopclntab::Pclntab)>>,
}

struct DebugInfo {
    dwarf: Option<Dwarf>,
    /// The debug file's symbols when the binary is stripped.
    symbols: Vec<Symbol>,
    /// Why the DWARF could not be read, to warn about once.
    error: Option<String>,
}

impl Loaded {
    pub fn open(path: &Path, debug_dirs: &[PathBuf]) -> Result<Loaded, BinaryError> {
        Ok(Loaded {
            bin: Binary::open(path)?,
            debug: OnceCell::new(),
            debug_dirs: debug_dirs.to_vec(),
            pcln: OnceCell::new(),
        })
    }

    fn debug(&self) -> &DebugInfo {
        self.debug.get_or_init(|| {
            let separate = if self.bin.has_dwarf {
                None
            } else {
                debugfile::find(&self.bin, &self.debug_dirs)
            };
            let source = separate.as_ref().unwrap_or(&self.bin);
            let mut info = DebugInfo {
                dwarf: None,
                symbols: Vec::new(),
                error: None,
            };
            if let Some(d) = &separate {
                if self.bin.symbols.is_empty() {
                    info.symbols = d.symbols.clone();
                }
            }
            if source.has_dwarf {
                let dirs = &self.debug_dirs;
                let loaded = object::File::parse(source.data())
                    .map_err(|e| e.to_string())
                    .and_then(|obj| {
                        let alt = debugfile::find_altlink(&obj, &source.path, dirs);
                        let alt_obj = alt
                            .as_ref()
                            .and_then(|a| object::File::parse(a.data()).ok());
                        Dwarf::load(&obj, alt_obj.as_ref()).map_err(|e| e.to_string())
                    });
                match loaded {
                    Ok(d) => info.dwarf = Some(d),
                    Err(e) => {
                        info.error =
                            Some(format!("reading DWARF of {}: {e}", source.path.display()))
                    }
                }
            }
            info
        })
    }

    /// A problem with the debug information (the symbol table is used).
    pub fn debug_error(&self) -> Option<&str> {
        self.debug().error.as_deref()
    }

    fn symbol(&self, addr: u64) -> Option<&Symbol> {
        self.bin.symbol(addr).or_else(|| {
            let syms = &self.debug().symbols;
            let i = syms.partition_point(|s| s.addr <= addr);
            let s = syms.get(i.checked_sub(1)?)?;
            (s.size == 0 || addr - s.addr < s.size).then_some(s)
        })
    }

    /// Go's pc-line table, parsed on first use (None: the binary has none).
    fn pclntab(&self) -> Option<(&[u8], &gopclntab::Pclntab)> {
        let (range, table) = self
            .pcln
            .get_or_init(|| {
                let obj = object::File::parse(self.bin.data()).ok()?;
                let (range, text) = gopclntab::locate(&obj)?;
                let data = self.bin.data().get(range.clone())?;
                Some((range, gopclntab::Pclntab::parse(data, text)?))
            })
            .as_ref()?;
        Some((self.bin.data().get(range.clone())?, table))
    }

    /// The functions of Go's pc-line table as (start, end, name).
    pub fn go_functions(&self) -> Vec<(u64, u64, String)> {
        self.pclntab()
            .map_or_else(Vec::new, |(data, t)| t.functions(data))
    }

    /// The source lines of the code at a file virtual address, innermost
    /// first (the first is what `objdump -l` and Go's disassembler show
    /// beside instructions; the others are the calls it was inlined
    /// into): from the DWARF, else Go's pc-line table.
    pub fn source_lines(&self, addr: u64) -> Vec<(String, i64)> {
        if let Some(d) = &self.debug().dwarf {
            let lines: Vec<(String, i64)> = d
                .frames(addr)
                .into_iter()
                .filter(|f| !f.file.is_empty())
                .map(|f| (f.file, f.line))
                .collect();
            if !lines.is_empty() {
                return lines;
            }
        }
        self.go_frame(addr)
            .filter(|f| !f.file.is_empty())
            .map(|f| (f.file, f.line))
            .into_iter()
            .collect()
    }

    /// The frame Go's pc-line table gives for `addr`, if the binary has one.
    fn go_frame(&self, addr: u64) -> Option<Frame> {
        let (data, table) = self.pclntab()?;
        table.frame(data, addr)
    }

    /// Frames at a file virtual address, leaf first: from the DWARF, with
    /// the symbol table naming what the DWARF leaves unnamed, else (a Go
    /// binary without either) from Go's `.gopclntab`.
    pub fn frames(&self, addr: u64) -> Vec<Frame> {
        let mut frames = match &self.debug().dwarf {
            Some(d) => d.frames(addr),
            None => Vec::new(),
        };
        frames.retain(|f| !(f.func.is_empty() && f.file.is_empty() && f.line == 0));
        let needs_name = frames.last().is_none_or(|f| f.func.is_empty());
        if needs_name {
            if let Some(s) = self.symbol(addr) {
                match frames.last_mut() {
                    Some(f) => f.func = s.name.clone(),
                    None => frames.push(Frame {
                        func: s.name.clone(),
                        ..Default::default()
                    }),
                }
            }
        }
        if frames.is_empty() {
            frames.extend(self.go_frame(addr));
        }
        frames
    }
}

/// Binaries opened so far, by path (each is read once).
pub struct Symbolizer {
    opts: Options,
    cache: HashMap<PathBuf, Rc<Result<Loaded, BinaryError>>>,
}

/// pprof's "skip well-known system mappings".
fn unsymbolizable(file: &str) -> bool {
    let base = file.rsplit('/').next().unwrap_or(file);
    base.starts_with('[') || base.starts_with("linux-vdso") || file.starts_with("/dev/dri/")
}

fn is_http_url(file: &str) -> bool {
    file.split_once("://")
        .is_some_and(|(scheme, _)| !scheme.is_empty() && scheme.to_lowercase().contains("http"))
}

impl Symbolizer {
    pub fn new(opts: Options) -> Symbolizer {
        Symbolizer {
            opts,
            cache: HashMap::new(),
        }
    }

    /// The binary at `path`, opened once.
    pub fn open(&mut self, path: &str) -> Rc<Result<Loaded, BinaryError>> {
        let key = PathBuf::from(path);
        let dirs = &self.opts.debug_dirs;
        self.cache
            .entry(key)
            .or_insert_with_key(|k| Rc::new(Loaded::open(k, dirs)))
            .clone()
    }

    /// Chooses the binaries of the mappings to symbolize, with pprof's
    /// checks and warnings.
    fn binaries(
        &mut self,
        p: &Profile,
        ui: &mut dyn Ui,
    ) -> Vec<Option<Rc<Result<Loaded, BinaryError>>>> {
        let mut used = vec![false; p.mappings.len()];
        for l in &p.locations {
            if let Some(u) = l.mapping.and_then(|m| used.get_mut(m as usize)) {
                *u = true;
            }
        }
        let mut out = vec![None; p.mappings.len()];
        let mut missing = false;
        for (i, m) in p.mappings.iter().enumerate() {
            if !used[i] {
                continue;
            }
            // pprof's rule: a mapping the producer marked as symbolized is
            // left as it is, even where some frames have no name, unless
            // -symbolize=force.
            let symbolized = m.has_functions || m.has_filenames || m.has_line_numbers;
            if !self.opts.force && symbolized {
                continue;
            }
            let file = p.str(m.file);
            if file.is_empty() {
                if i == 0 {
                    ui.warn("Main binary filename not available.");
                } else {
                    missing = true;
                }
                continue;
            }
            if unsymbolizable(file) || (m.build_id == 0 && is_http_url(file)) {
                continue;
            }
            let want = p.str(m.build_id);
            let mut name = crate::paths::base_name(file).to_string();
            if !want.is_empty() {
                name.push_str(&format!(" (build ID {want})"));
            }
            let loaded = self.open(file);
            match &*loaded {
                Err(e) => {
                    ui.warn(&format!("Local symbolization failed for {name}: {e}"));
                    missing = true;
                    continue;
                }
                Ok(l) => {
                    if let Some(have) = &l.bin.build_id {
                        if !want.is_empty() && !want.eq_ignore_ascii_case(have) {
                            ui.warn(&format!(
                                "Local symbolization failed for {name}: build ID mismatch ({file} has build ID {have})"
                            ));
                            continue;
                        }
                    }
                }
            }
            out[i] = Some(loaded);
        }
        if missing {
            ui.warn(
                "Some binary filenames not available. Symbolization may be incomplete.\n\
                 Try setting PPROF_BINARY_PATH to the search path for local binaries.",
            );
        }
        out
    }

    /// Symbolizes every location of the chosen mappings.
    pub fn run(&mut self, p: &mut Profile, ui: &mut dyn Ui) {
        let bins = self.binaries(p, ui);
        if bins.iter().all(Option::is_none) {
            return;
        }
        // Per mapping: the base, computed from its first location's address
        // as pprof does (None: not yet; Some(None): failed, skip).
        let mut bases: Vec<Option<Option<u64>>> = vec![None; p.mappings.len()];
        let mut warned_debug = vec![false; p.mappings.len()];
        let mut names: HashMap<String, (StrId, StrId)> = HashMap::new();
        let mut functions: HashMap<(StrId, StrId, StrId, i64), u32> = HashMap::new();
        let mut files: HashMap<String, StrId> = HashMap::new();
        // Per mapping: addresses looked up, and how many found a name.
        let mut looked = vec![0usize; p.mappings.len()];
        let mut named = vec![0usize; p.mappings.len()];
        for li in 0..p.locations.len() {
            let Some(mi) = p.locations[li].mapping.map(|m| m as usize) else {
                continue;
            };
            let Some(Some(loaded)) = bins.get(mi) else {
                continue;
            };
            let Ok(obj) = &**loaded else { continue };
            // What is symbolized stays as it is (unless forced).
            if !self.opts.force && !p.locations[li].lines.is_empty() {
                continue;
            }
            let m = &p.mappings[mi];
            let address = p.locations[li].address;
            let base = match bases[mi] {
                Some(b) => b,
                None => {
                    let b = match obj.bin.base(m.start, m.limit, m.offset, address) {
                        Ok(b) => Some(b),
                        Err(e) => {
                            ui.warn(&format!(
                                "Local symbolization failed for {}: {e}",
                                crate::paths::base_name(p.str(m.file))
                            ));
                            None
                        }
                    };
                    bases[mi] = Some(b);
                    b
                }
            };
            let Some(base) = base else { continue };
            let frames = obj.frames(address.wrapping_sub(base));
            looked[mi] += 1;
            named[mi] += usize::from(!frames.is_empty());
            if !warned_debug[mi] {
                warned_debug[mi] = true;
                if let Some(e) = obj.debug_error() {
                    ui.warn(&format!(
                        "Local symbolization of {}: {e}; using the symbol table",
                        crate::paths::base_name(p.str(m.file))
                    ));
                }
            }
            if frames.is_empty() {
                continue;
            }
            let mut lines = Vec::with_capacity(frames.len());
            let (mut has_func, mut has_file, mut has_line) = (false, false, false);
            for f in &frames {
                has_func |= !f.func.is_empty();
                has_file |= !f.file.is_empty();
                has_line |= f.line != 0;
                let (name, system_name) = match names.get(&f.func) {
                    Some(&ids) => ids,
                    None => {
                        let ids = (
                            p.strings.intern(&demangle::demangle(&f.func)),
                            p.strings.intern(&f.func),
                        );
                        names.insert(f.func.clone(), ids);
                        ids
                    }
                };
                let filename = match files.get(&f.file) {
                    Some(&id) => id,
                    None => {
                        let id = p.strings.intern(&f.file);
                        files.insert(f.file.clone(), id);
                        id
                    }
                };
                let key = (name, system_name, filename, f.start_line);
                let function = *functions.entry(key).or_insert_with(|| {
                    p.functions.push(Function {
                        id: p.functions.len() as u64 + 1,
                        name,
                        system_name,
                        filename,
                        start_line: f.start_line,
                    });
                    (p.functions.len() - 1) as u32
                });
                lines.push(Line {
                    function,
                    line: f.line,
                    column: 0,
                });
            }
            let loc = &mut p.locations[li];
            loc.lines = lines.into();
            loc.is_folded = false;
            let m = &mut p.mappings[mi];
            m.has_functions |= has_func;
            m.has_filenames |= has_file;
            m.has_line_numbers |= has_line;
            m.has_inline_frames = true;
        }
        // A binary that named none of its addresses (no symbol table, no
        // DWARF, no Go pc-line table: a C binary run through strip, say) leaves the
        // report with `[binary]` frames: say so rather than stay silent.
        for (mi, (&l, &n)) in looked.iter().zip(&named).enumerate() {
            if l > 0 && n == 0 {
                ui.warn(&format!(
                    "Local symbolization of {}: none of its {l} addresses has a symbol (no symbol table or debug information found)",
                    crate::paths::base_name(p.str(p.mappings[mi].file))
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(Options::parse("").0.mode, Mode::Local);
        assert_eq!(Options::parse("none").0.mode, Mode::None);
        assert_eq!(Options::parse("No").0.mode, Mode::None);
        let (o, w) = Options::parse("remote:force");
        assert!(o.force && o.mode == Mode::Local && w.is_empty());
        assert!(Options::parse("local:demangle=full").1.is_empty());
        assert_eq!(Options::parse("bogus").1.len(), 2);
    }

    #[inline(never)]
    fn marker_function() -> u64 {
        std::hint::black_box(42)
    }

    /// In a mapping marked symbolized, only the locations without lines are
    /// symbolized; the names the producer gave stay.
    #[test]
    fn marked_mappings_only_when_forced() {
        assert_eq!(marker_function(), 42);
        let exe = std::env::current_exe().unwrap();
        let bin = Binary::open(&exe).unwrap();
        let sym = bin
            .symbols
            .iter()
            .find(|s| demangle::demangle(&s.name).ends_with("tests::marker_function"))
            .expect("marker symbol")
            .clone();
        let mut p = Profile::default();
        let file = p.strings.intern(&exe.to_string_lossy());
        // A whole-address-space mapping: addresses are the file's own.
        p.mappings.push(crate::profile::Mapping {
            id: 1,
            start: 0,
            limit: u64::MAX,
            file,
            has_functions: true,
            ..Default::default()
        });
        let name = p.strings.intern("producer::named");
        p.functions.push(Function {
            id: 1,
            name,
            system_name: name,
            ..Default::default()
        });
        for (i, lines) in [
            vec![Line {
                function: 0,
                line: 7,
                column: 0,
            }],
            vec![],
        ]
        .into_iter()
        .enumerate()
        {
            p.locations.push(crate::profile::Location {
                id: i as u64 + 1,
                mapping: Some(0),
                address: sym.addr + 1,
                lines: lines.into(),
                is_folded: false,
            });
        }
        let names = |p: &Profile, l: usize| -> Vec<String> {
            p.locations[l]
                .lines
                .iter()
                .map(|ln| p.str(p.functions[ln.function as usize].name).to_string())
                .collect()
        };
        // Marked as symbolized: left alone, as pprof does.
        let mut marked = p.clone();
        let mut warnings: Vec<String> = Vec::new();
        symbolize(&mut marked, &Options::default(), &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(names(&marked, 0), vec!["producer::named"]);
        assert!(names(&marked, 1).is_empty());
        // Forced: every location from the binary.
        let force = Options {
            force: true,
            ..Options::default()
        };
        symbolize(&mut p, &force, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        for l in 0..2 {
            let got = names(&p, l);
            assert!(
                got.last()
                    .is_some_and(|n| n.ends_with("symbolize::tests::marker_function")),
                "{got:?}"
            );
        }
        let f = &p.functions[p.locations[1].lines[0].function as usize];
        assert!(p.str(f.filename).ends_with("src/symbolize/mod.rs"));
        assert!(f.start_line > 0);
    }

    #[test]
    fn system_mappings() {
        assert!(unsymbolizable("[vdso]"));
        assert!(unsymbolizable("linux-vdso.so.1"));
        assert!(unsymbolizable("/dev/dri/card0"));
        assert!(!unsymbolizable("/lib/x86_64-linux-gnu/libc.so.6"));
        assert!(is_http_url("https://example.com/bin"));
        assert!(!is_http_url("/usr/bin/ls"));
    }
}
