//! Arbitrary bytes as an object file, read the way rprof's symbolizer
//! reads a binary.
//!
//! STAND-IN: the symbolizer (`src/symbolize/`, branch `sym`) is not on
//! `main` yet, so this target calls `object` and `addr2line` the way that
//! module does (`Binary::open`: object/ELF layout, build id, debuglink,
//! symbol tables; `Dwarf::load`/`frames`: DWARF sections decompressed,
//! addr2line frames with inlining, declaration lines). Once the module is
//! on `main`, this should call it instead (it opens a path: write the bytes
//! to a temp file, or give it a `Binary::parse(&[u8])`).
#![no_main]

use std::rc::Rc;

use object::read::elf::{FileHeader, ProgramHeader};
use object::{elf, Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

type Reader = gimli::EndianRcSlice<gimli::RunTimeEndian>;

libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

fn run(data: &[u8]) {
    let Ok(obj) = object::File::parse(data) else {
        return;
    };
    // Layout: ELF load segments, Mach-O __TEXT, PE image base.
    let mut loads = Vec::new();
    match object::FileKind::parse(data) {
        Ok(object::FileKind::Elf32) => {
            loads = elf_loads::<elf::FileHeader32<object::Endianness>>(data)
        }
        Ok(object::FileKind::Elf64) => {
            loads = elf_loads::<elf::FileHeader64<object::Endianness>>(data)
        }
        Ok(object::FileKind::MachO32 | object::FileKind::MachO64) => {
            let _ = obj
                .segments()
                .find(|s| s.name().ok().flatten() == Some("__TEXT"))
                .map(|s| s.address());
        }
        Ok(object::FileKind::Pe32 | object::FileKind::Pe64) => {
            let _ = obj.relative_address_base();
        }
        _ => {}
    }
    let _text = obj.section_by_name(".text").and_then(|s| {
        let a = s.address();
        loads
            .iter()
            .copied()
            .find(|&(vaddr, memsz, exec)| exec && a >= vaddr && a < vaddr.wrapping_add(memsz))
    });
    let _ = obj.build_id();
    let _ = obj.gnu_debuglink();

    // Function symbols, static table else dynamic, sorted.
    let mut symbols: Vec<(u64, u64, String)> = Vec::new();
    for table in [obj.symbols(), obj.dynamic_symbols()] {
        for s in table {
            if s.kind() != SymbolKind::Text || s.is_undefined() || s.address() == 0 {
                continue;
            }
            let Ok(name) = s.name() else { continue };
            if !name.is_empty() {
                symbols.push((s.address(), s.size(), name.to_string()));
            }
        }
        if !symbols.is_empty() {
            break;
        }
    }
    symbols.sort_by_key(|s| s.0);
    symbols.dedup_by_key(|s| s.0);

    // DWARF, looked up at each symbol and at the start of .text.
    let Some(ctx) = dwarf(&obj) else { return };
    let mut addrs: Vec<u64> = symbols.iter().map(|s| s.0).take(64).collect();
    addrs.extend(symbols.iter().map(|s| s.0.wrapping_add(s.1 / 2)).take(64));
    if let Some(t) = obj.section_by_name(".text") {
        addrs.push(t.address());
        addrs.push(t.address().wrapping_add(t.size() / 2));
    }
    addrs.push(0);
    for addr in addrs {
        frames(&ctx, addr);
    }
}

/// (vaddr, memsz, executable) of each PT_LOAD.
fn elf_loads<H: FileHeader<Endian = object::Endianness>>(data: &[u8]) -> Vec<(u64, u64, bool)> {
    let Ok(h) = H::parse(data) else {
        return Vec::new();
    };
    let Ok(e) = h.endian() else { return Vec::new() };
    let _ = h.e_type(e);
    let Ok(phs) = h.program_headers(e, data) else {
        return Vec::new();
    };
    phs.iter()
        .filter(|p| p.p_type(e) == elf::PT_LOAD)
        .map(|p| {
            let _: u64 = p.p_offset(e).into();
            let _: u64 = p.p_filesz(e).into();
            (
                p.p_vaddr(e).into(),
                p.p_memsz(e).into(),
                p.p_flags(e) & elf::PF_X != 0,
            )
        })
        .collect()
}

fn dwarf(obj: &object::File) -> Option<addr2line::Context<Reader>> {
    let endian = if obj.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
        let data: Rc<[u8]> = match obj.section_by_name(id.name()) {
            Some(s) if !plausible_size(&s) => return Err(gimli::Error::Io),
            Some(s) => match s.uncompressed_data() {
                Ok(d) => Rc::from(&*d),
                Err(_) => return Err(gimli::Error::Io),
            },
            None => Rc::from(&[][..]),
        };
        Ok(gimli::EndianRcSlice::new(data, endian))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    addr2line::Context::from_dwarf(dwarf).ok()
}

/// Whether a compressed section's claimed size could come from its data:
/// `uncompressed_data` allocates the size in the header up front, so a
/// 4 GiB claim in a 17 kB file (found by this target) asks for 4 GiB.
/// Deflate expands at most 1032:1; zstd (RLE blocks) at most about
/// 32768:1 with a block header per 128 KiB.
fn plausible_size(s: &object::Section) -> bool {
    let Ok(c) = s.compressed_data() else {
        return false;
    };
    let n = c.data.len() as u64;
    let max = match c.format {
        object::CompressionFormat::None => return true,
        object::CompressionFormat::Zlib => n.saturating_mul(1032),
        _ => n.saturating_mul(32768),
    };
    c.uncompressed_size <= max.saturating_add(64)
}

fn frames(ctx: &addr2line::Context<Reader>, addr: u64) {
    // addr2line 0.25 (up to 0.27) looks up `[addr, addr + 1)`, which
    // overflows at the last address (a panic with overflow checks; found by
    // this target). No code lives there.
    if addr == u64::MAX {
        return;
    }
    let Ok(mut iter) = ctx.find_frames(addr).skip_all_loads() else {
        return;
    };
    let mut offsets = Vec::new();
    while let Ok(Some(f)) = iter.next() {
        let _ = f.function.as_ref().and_then(|n| n.raw_name().ok());
        if let Some(l) = &f.location {
            let _ = (l.file, l.line);
        }
        offsets.push(f.dw_die_offset);
    }
    if offsets.is_empty() {
        return;
    }
    let Some(unit) = ctx.find_dwarf_and_unit(addr).skip_all_loads() else {
        return;
    };
    for off in offsets.into_iter().flatten() {
        decl_line(unit, off);
    }
}

/// `DW_AT_decl_line`, following abstract origins and specifications.
fn decl_line(unit: gimli::UnitRef<'_, Reader>, mut off: gimli::UnitOffset<usize>) -> i64 {
    for _ in 0..8 {
        let Ok(entry) = unit.entry(off) else { return 0 };
        if let Ok(Some(v)) = entry.attr_value(gimli::DW_AT_decl_line) {
            return v.udata_value().map_or(0, |l| l as i64);
        }
        let next = [gimli::DW_AT_abstract_origin, gimli::DW_AT_specification]
            .into_iter()
            .find_map(|at| match entry.attr_value(at) {
                Ok(Some(gimli::AttributeValue::UnitRef(o))) => Some(o),
                _ => None,
            });
        match next {
            Some(o) => off = o,
            None => return 0,
        }
    }
    0
}
