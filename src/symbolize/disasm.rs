//! Disassembly for `disasm` and `weblist`: a binary's function symbols
//! (with their sizes, as pprof's object reader lists them) and the x86-64
//! instructions of an address range, decoded by `iced-x86`, each with the
//! source line of its innermost code.
//!
//! Everything here reads untrusted files: a symbol's size is only a hint,
//! the bytes decoded are those of the section holding the symbol (never
//! past its end or the file's), and a section that cannot be read is an
//! error, not a panic.

use iced_x86::{
    Decoder, DecoderOptions, Formatter, FormatterOutput, FormatterTextKind, GasFormatter,
    IntelFormatter, SymbolResolver, SymbolResult,
};
use std::sync::Arc;

use object::{Architecture, Object, ObjectSection, ObjectSymbol, SectionKind, SymbolKind};

use super::Loaded;

/// Why a range could not be disassembled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DisasmError {
    #[error("{path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("{path}: disassembly of {arch} code is not supported (x86-64 only)")]
    Architecture { path: String, arch: String },
    #[error("{path}: no executable section holds address {addr:#x}")]
    NoSection { path: String, addr: u64 },
}

/// A function of the binary: `[start, end)` in file virtual addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncSym {
    pub name: String,
    pub start: u64,
    pub end: u64,
}

/// One decoded instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inst {
    pub addr: u64,
    pub text: String,
    /// The innermost source file and line of the instruction ("" and 0
    /// where no debug information covers it).
    pub file: String,
    pub line: i64,
    /// The lines of the calls its code was inlined into, innermost first.
    pub inlined_into: Vec<(String, i64)>,
}

/// The function symbols of the binary, in address order: the static symbol
/// table as pprof's object reader lists it (every named, sized symbol,
/// aliases included), else the dynamic one, else (a Go binary built with
/// `-ldflags=-s`) the functions of Go's pc-line table. Names are raw
/// (mangled); sizes are as written, unchecked.
pub fn function_symbols(l: &Loaded) -> Vec<FuncSym> {
    let mut out = Vec::new();
    if let Ok(obj) = object::File::parse(l.bin.data()) {
        for table in [obj.symbols(), obj.dynamic_symbols()] {
            for s in table {
                if s.kind() != SymbolKind::Text || s.is_undefined() || s.size() == 0 {
                    continue;
                }
                let Ok(name) = s.name() else { continue };
                if name.is_empty() {
                    continue;
                }
                out.push(FuncSym {
                    name: name.to_string(),
                    start: s.address(),
                    end: s.address().saturating_add(s.size()),
                });
            }
            if !out.is_empty() {
                break;
            }
        }
    }
    if out.is_empty() {
        out = l
            .go_functions()
            .into_iter()
            .map(|(start, end, name)| FuncSym { name, start, end })
            .collect();
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.name.cmp(&b.name)));
    out
}

/// Decodes the instructions starting in `[start, end)`, cut at the end of
/// the executable section holding `start`. `names` (sorted by start) name
/// branch and call targets; shared, as every function of a binary uses
/// them. AT&T syntax unless `intel`.
pub fn disassemble(
    l: &Loaded,
    start: u64,
    end: u64,
    intel: bool,
    names: &Arc<[FuncSym]>,
) -> Result<Vec<Inst>, DisasmError> {
    let path = l.bin.path.display().to_string();
    let obj = object::File::parse(l.bin.data()).map_err(|e| DisasmError::Parse {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    if obj.architecture() != Architecture::X86_64 {
        return Err(DisasmError::Architecture {
            path,
            arch: format!("{:?}", obj.architecture()),
        });
    }
    let section = obj
        .sections()
        .find(|s| {
            s.kind() == SectionKind::Text && start >= s.address() && start - s.address() < s.size()
        })
        .ok_or_else(|| DisasmError::NoSection {
            path: path.clone(),
            addr: start,
        })?;
    // A truncated file gives an error here rather than short data.
    let data = section.data().map_err(|e| DisasmError::Parse {
        path: path.clone(),
        msg: e.to_string(),
    })?;
    let base = section.address();
    let from = usize::try_from(start - base).unwrap_or(usize::MAX);
    let to = usize::try_from(end.saturating_sub(base)).unwrap_or(usize::MAX);
    let Some(code) = data.get(from..to.min(data.len())) else {
        return Ok(Vec::new());
    };

    let mut decoder = Decoder::with_ip(64, code, start, DecoderOptions::NONE);
    let resolver = Box::new(Names(names.clone()));
    let mut formatter: Box<dyn Formatter> = if intel {
        Box::new(IntelFormatter::with_options(Some(resolver), None))
    } else {
        Box::new(GasFormatter::with_options(Some(resolver), None))
    };
    // objdump's look: `mov    %rsp,%rbp`, hex immediates.
    let fo = formatter.options_mut();
    fo.set_first_operand_char_index(7);
    fo.set_uppercase_hex(false);
    fo.set_small_hex_numbers_in_decimal(false);
    fo.set_hex_prefix("0x");
    fo.set_hex_suffix("");
    fo.set_show_branch_size(false);
    fo.set_branch_leading_zeros(false);
    fo.set_show_symbol_address(true);
    let mut out = Vec::new();
    let mut instr = iced_x86::Instruction::default();
    let mut text = Text(String::new());
    while decoder.can_decode() {
        let at = decoder.position();
        let addr = decoder.ip();
        decoder.decode_out(&mut instr);
        text.0.clear();
        if instr.is_invalid() {
            // objdump's word for bytes that decode to nothing; like pprof's
            // disassemblers, go on at the next byte (an instruction cut by
            // the end of the range is such bytes too).
            text.0.push_str("(bad)");
            let _ = decoder.set_position(at + 1);
            decoder.set_ip(addr.wrapping_add(1));
        } else {
            formatter.format(&instr, &mut text);
        }
        let mut lines = l.source_lines(addr).into_iter();
        let (file, line) = lines.next().unwrap_or_default();
        out.push(Inst {
            addr,
            text: text.0.trim_end().to_string(),
            file,
            line,
            inlined_into: lines.collect(),
        });
    }
    Ok(out)
}

/// A formatter's output into a string.
struct Text(String);

impl FormatterOutput for Text {
    fn write(&mut self, text: &str, _kind: FormatterTextKind) {
        self.0.push_str(text);
    }
}

/// Names branch targets after the function holding them, as objdump's
/// `<name+0x10>`.
struct Names(Arc<[FuncSym]>);

impl SymbolResolver for Names {
    fn symbol(
        &mut self,
        _instruction: &iced_x86::Instruction,
        _operand: u32,
        _instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        let i = self.0.partition_point(|s| s.start <= address);
        let s = self.0.get(i.checked_sub(1)?)?;
        (address < s.end).then(|| SymbolResult::with_string(s.start, s.name.clone()))
    }
}
