//! Object files on disk: loading (memory-mapped), build id, load segments,
//! the translation of a profile's runtime addresses to the file's own
//! virtual addresses, and the symbol table.
//!
//! Address translation follows pprof's `elfexec.GetBase` and its program
//! header selection, so an address resolves to the same place as pprof
//! would resolve it (ET_EXEC, PIE and shared libraries, and the whole
//! address space mappings some tools write with already-relative addresses).

use std::path::{Path, PathBuf};

use object::read::elf::{FileHeader, ProgramHeader};
use object::{elf, Object, ObjectSection, ObjectSegment, ObjectSymbol, SymbolKind};

/// Why a file cannot be used for symbolization. Displayed after
/// `Local symbolization failed for NAME: `.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BinaryError {
    #[error("{0}")]
    Io(String),
    #[error("unrecognized binary format: {0}")]
    Format(String),
    #[error("error reading {path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("could not identify base for {path}: {msg}")]
    Base { path: String, msg: String },
}

/// A loadable segment (ELF `PT_LOAD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub off: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub exec: bool,
}

/// What decides how runtime addresses translate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    ElfExec,
    ElfDyn,
    ElfRel,
    ElfOther(u16),
    /// Mach-O, with the `__TEXT` segment's address.
    MachO {
        text_vmaddr: Option<u64>,
    },
    Pe {
        image_base: u64,
    },
    Other,
}

/// A function symbol: `[addr, addr + size)` (size 0: up to the next one).
#[derive(Clone, Debug)]
pub struct Symbol {
    pub addr: u64,
    pub size: u64,
    pub name: String,
}

/// A binary opened for symbolization. The file stays mapped: its DWARF is
/// read only when an address is first looked up.
pub struct Binary {
    pub path: PathBuf,
    pub build_id: Option<String>,
    pub kind: Kind,
    pub loads: Vec<Segment>,
    /// The executable load segment holding `.text`.
    pub text: Option<Segment>,
    pub symbols: Vec<Symbol>,
    pub has_dwarf: bool,
    /// `.gnu_debuglink` file name, for a separate debug file.
    pub debuglink: Option<String>,
    map: memmap2::Mmap,
}

/// Lower-case hex, as pprof prints build ids.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_object_magic(head: &[u8]) -> bool {
    matches!(
        head,
        [0x7f, b'E', b'L', b'F', ..]
            | [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
            | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..]
            | [0xca, 0xfe, 0xba, 0xbe, ..]
            | [b'M', b'Z', ..]
    )
}

impl Binary {
    /// Maps and parses `path`. Never panics on bad input: a file that is
    /// not an object file, is truncated or malformed gives an error.
    pub fn open(path: &Path) -> Result<Binary, BinaryError> {
        let shown = path.display().to_string();
        let file = crate::files::open_regular(path)
            .map_err(|e| BinaryError::Io(format!("{shown}: {e}")))?;
        // SAFETY: the map is only read. A file truncated by someone else
        // while mapped could fault; that is the accepted risk of every
        // mmap-based symbolizer (addr2line, llvm-symbolizer do the same).
        let map = unsafe { memmap2::Mmap::map(&file) }
            .map_err(|e| BinaryError::Io(format!("{shown}: {e}")))?;
        if !is_object_magic(&map[..map.len().min(4)]) {
            return Err(BinaryError::Format(shown));
        }
        let parse_err = |e: object::Error| BinaryError::Parse {
            path: shown.clone(),
            msg: e.to_string(),
        };
        let obj = object::File::parse(&*map).map_err(parse_err)?;
        let (kind, loads) = match object::FileKind::parse(&*map).map_err(parse_err)? {
            object::FileKind::Elf32 => {
                elf_layout::<elf::FileHeader32<object::Endianness>>(&map).map_err(parse_err)?
            }
            object::FileKind::Elf64 => {
                elf_layout::<elf::FileHeader64<object::Endianness>>(&map).map_err(parse_err)?
            }
            object::FileKind::MachO32 | object::FileKind::MachO64 => {
                let text_vmaddr = obj
                    .segments()
                    .find(|s| s.name().ok().flatten() == Some("__TEXT"))
                    .map(|s| s.address());
                (Kind::MachO { text_vmaddr }, Vec::new())
            }
            object::FileKind::Pe32 | object::FileKind::Pe64 => (
                Kind::Pe {
                    image_base: obj.relative_address_base(),
                },
                Vec::new(),
            ),
            _ => (Kind::Other, Vec::new()),
        };
        let text = obj.section_by_name(".text").and_then(|s| {
            let a = s.address();
            loads
                .iter()
                .copied()
                .find(|p| p.exec && a >= p.vaddr && a < p.vaddr.wrapping_add(p.memsz))
        });
        // A malformed note or debuglink is no reason to give up the file.
        let build_id = obj.build_id().ok().flatten().map(hex);
        let debuglink = obj
            .gnu_debuglink()
            .ok()
            .flatten()
            .map(|(name, _crc)| String::from_utf8_lossy(name).into_owned());
        let has_dwarf = obj
            .section_by_name(".debug_info")
            .is_some_and(|s| s.size() > 0);
        let symbols = read_symbols(&obj);
        Ok(Binary {
            path: path.to_path_buf(),
            build_id,
            kind,
            loads,
            text,
            symbols,
            has_dwarf,
            debuglink,
            map,
        })
    }

    /// The mapped bytes, to parse sections from.
    pub fn data(&self) -> &[u8] {
        &self.map
    }

    /// The symbol covering `addr` (a file virtual address).
    pub fn symbol(&self, addr: u64) -> Option<&Symbol> {
        let i = self.symbols.partition_point(|s| s.addr <= addr);
        let s = self.symbols.get(i.checked_sub(1)?)?;
        if s.size > 0 && addr - s.addr >= s.size {
            return None;
        }
        Some(s)
    }

    /// The amount to subtract from a runtime address of the mapping
    /// `[start, limit)` at file `offset` to get the file's virtual address;
    /// `addr` (an address in the mapping) picks the segment when several
    /// match, as in pprof.
    pub fn base(&self, start: u64, limit: u64, offset: u64, addr: u64) -> Result<u64, BinaryError> {
        let err = |msg: String| BinaryError::Base {
            path: self.path.display().to_string(),
            msg,
        };
        // Tools that write already relative addresses (jemalloc_pprof, say)
        // give a mapping of the whole address space.
        if start == 0 && offset == 0 && (limit == u64::MAX || limit == 0) {
            return Ok(0);
        }
        match self.kind {
            Kind::MachO { text_vmaddr } => {
                let Some(text) = text_vmaddr else {
                    return Err(err("no __TEXT segment".into()));
                };
                if text > start {
                    return Err(err(format!(
                        "__TEXT segment address (0x{text:x}) > mapping start address (0x{start:x})"
                    )));
                }
                return Ok(start - text);
            }
            Kind::Pe { image_base } => {
                return Ok(if start > 0 {
                    start.wrapping_sub(image_base)
                } else {
                    0
                })
            }
            Kind::Other => return Err(err("unsupported object file".into())),
            _ => {}
        }
        if addr < start || addr >= limit {
            return Err(err(format!(
                "address {addr:x} is outside the mapping range [{start:x}, {limit:x}]"
            )));
        }
        let ph = self
            .program_header(start, limit, offset, addr)
            .map_err(err)?;
        elf_base(self.kind, ph, start, limit, offset).map_err(err)
    }

    /// pprof's segment choice for a mapping and an address in it.
    fn program_header(
        &self,
        start: u64,
        limit: u64,
        offset: u64,
        addr: u64,
    ) -> Result<Option<Segment>, String> {
        if start >= limit || limit >= 1 << 63 {
            return Ok(self.text);
        }
        if self.loads.is_empty() {
            return Ok(None);
        }
        let headers = headers_for_mapping(&self.loads, offset, limit - start);
        match headers.len() {
            0 => Err("no program header matches mapping info".into()),
            1 => Ok(Some(headers[0])),
            _ => header_for_file_offset(&headers, (addr - start).wrapping_add(offset)).map(Some),
        }
    }
}

/// File type and load segments of an ELF file.
fn elf_layout<H: FileHeader<Endian = object::Endianness>>(
    data: &[u8],
) -> Result<(Kind, Vec<Segment>), object::Error> {
    let h = H::parse(data)?;
    let e = h.endian()?;
    let kind = match h.e_type(e) {
        elf::ET_EXEC => Kind::ElfExec,
        elf::ET_DYN => Kind::ElfDyn,
        elf::ET_REL => Kind::ElfRel,
        t => Kind::ElfOther(t),
    };
    let mut loads = Vec::new();
    for p in h.program_headers(e, data)? {
        if p.p_type(e) == elf::PT_LOAD {
            loads.push(Segment {
                off: p.p_offset(e).into(),
                vaddr: p.p_vaddr(e).into(),
                filesz: p.p_filesz(e).into(),
                memsz: p.p_memsz(e).into(),
                exec: p.p_flags(e) & elf::PF_X != 0,
            });
        }
    }
    Ok((kind, loads))
}

/// Defined function symbols sorted by address (the static table, else the
/// dynamic one), the first name kept for an address.
fn read_symbols(obj: &object::File) -> Vec<Symbol> {
    let mut out: Vec<Symbol> = Vec::new();
    for table in [obj.symbols(), obj.dynamic_symbols()] {
        for s in table {
            if s.kind() != SymbolKind::Text || s.is_undefined() || s.address() == 0 {
                continue;
            }
            let Ok(name) = s.name() else { continue };
            if name.is_empty() {
                continue;
            }
            out.push(Symbol {
                addr: s.address(),
                size: s.size(),
                name: name.to_string(),
            });
        }
        if !out.is_empty() {
            break;
        }
    }
    // Global names before local aliases at one address would be nicer, but
    // the first in the table is what nm -n lists first too.
    out.sort_by_key(|s| s.addr);
    out.dedup_by_key(|s| s.addr);
    out
}

/// pprof's `GetBase` for user-space ELF files (no kernel relocation
/// symbol), with its kernel-image heuristics for the rest.
fn elf_base(
    kind: Kind,
    ph: Option<Segment>,
    start: u64,
    limit: u64,
    offset: u64,
) -> Result<u64, String> {
    let general = |p: Segment| {
        start
            .wrapping_sub(offset)
            .wrapping_add(p.off)
            .wrapping_sub(p.vaddr)
    };
    match kind {
        Kind::ElfExec => {
            let Some(p) = ph else { return Ok(0) };
            if start > 0 && start < 1 << 63 {
                return Ok(general(p));
            }
            if let Some(b) = kernel_base(p, start, limit, offset) {
                return Ok(b);
            }
            if start == 0 && limit != 0 {
                return Ok(start.wrapping_sub(p.vaddr));
            }
            Err(format!(
                "don't know how to handle EXEC segment: start=0x{start:x} limit=0x{limit:x} offset=0x{offset:x}"
            ))
        }
        Kind::ElfRel => {
            if offset != 0 {
                return Err("don't know how to handle mapping.Offset".into());
            }
            Ok(start)
        }
        Kind::ElfDyn => {
            let Some(p) = ph else {
                return Ok(start.wrapping_sub(offset));
            };
            if let Some(b) = kernel_base(p, start, limit, offset) {
                return Ok(b);
            }
            Ok(general(p))
        }
        Kind::ElfOther(t) => Err(format!("don't know how to handle FileHeader.Type {t}")),
        _ => Err("not an ELF file".into()),
    }
}

/// pprof's kernel heuristics without a `_stext` symbol.
fn kernel_base(p: Segment, start: u64, limit: u64, offset: u64) -> Option<u64> {
    const PAGE_OFFSET_PPC64: u64 = 0xc000_0000_0000_0000;
    if p.vaddr == start.wrapping_sub(offset) {
        return Some(offset);
    }
    if start >= p.vaddr
        && limit > start
        && (offset == 0 || offset == PAGE_OFFSET_PPC64 || offset == start)
    {
        return Some(start - p.vaddr);
    }
    None
}

/// The load segments overlapping a mapping of `map_sz` bytes at file
/// offset `map_off` (pprof's `ProgramHeadersForMapping`).
fn headers_for_mapping(loads: &[Segment], map_off: u64, map_sz: u64) -> Vec<Segment> {
    const PAGE: u64 = 4096;
    let map_limit = map_off.saturating_add(map_sz);
    let mut out = Vec::new();
    for p in loads {
        // Zero-sized file parts have unreliable offsets.
        if p.filesz == 0 {
            continue;
        }
        let seg_limit = p.off.saturating_add(p.memsz);
        if map_off < seg_limit && p.off < map_limit {
            let aligned = p.off.saturating_sub(p.vaddr & (PAGE - 1));
            if map_off < aligned {
                continue;
            }
            if map_off > p.off
                && seg_limit < map_off.saturating_add(PAGE)
                && map_limit >= seg_limit.saturating_add(PAGE)
            {
                continue;
            }
            out.push(*p);
        }
    }
    out
}

fn header_for_file_offset(headers: &[Segment], off: u64) -> Result<Segment, String> {
    let mut found: Option<Segment> = None;
    for h in headers {
        if off >= h.off && off < h.off.saturating_add(h.memsz) {
            if found.is_some() {
                return Err(format!(
                    "found a second program header that matches file offset {off:x}; is this a stripped binary?"
                ));
            }
            found = Some(*h);
        }
    }
    found.ok_or_else(|| format!("no program header matches file offset {off:x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(off: u64, vaddr: u64, sz: u64, exec: bool) -> Segment {
        Segment {
            off,
            vaddr,
            filesz: sz,
            memsz: sz,
            exec,
        }
    }

    #[test]
    fn pie_text_segment_base() {
        // A typical gcc PIE: r at 0, r-x at 0x1000, r at 0x2000, rw at 0x2db0/0x3db0.
        let loads = vec![
            seg(0, 0, 0x628, false),
            seg(0x1000, 0x1000, 0x1c5, true),
            seg(0x2000, 0x2000, 0x114, false),
            seg(0x2db0, 0x3db0, 0x260, false),
        ];
        let h = headers_for_mapping(&loads, 0x1000, 0x1000);
        assert_eq!(h, vec![loads[1]]);
        let start = 0x5555_5555_5000;
        let base = elf_base(Kind::ElfDyn, Some(h[0]), start, start + 0x1000, 0x1000).unwrap();
        assert_eq!(base, 0x5555_5555_4000);
    }

    #[test]
    fn exec_and_whole_space() {
        let text = seg(0x1000, 0x401000, 0x2000, true);
        assert_eq!(
            elf_base(Kind::ElfExec, Some(text), 0x401000, 0x403000, 0x1000).unwrap(),
            0
        );
        assert_eq!(elf_base(Kind::ElfExec, None, 1, 2, 0).unwrap(), 0);
        assert!(elf_base(Kind::ElfOther(4), None, 1, 2, 0).is_err());
    }

    #[test]
    fn bad_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x");
        std::fs::write(&p, b"hello world").unwrap();
        assert!(matches!(Binary::open(&p), Err(BinaryError::Format(_))));
        std::fs::write(&p, b"\x7fELF\x02\x01\x01").unwrap();
        assert!(matches!(Binary::open(&p), Err(BinaryError::Parse { .. })));
        assert!(matches!(
            Binary::open(&dir.path().join("missing")),
            Err(BinaryError::Io(_))
        ));
        assert!(Binary::open(dir.path()).is_err());
    }
}
