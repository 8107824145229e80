//! DWARF lookups through addr2line: an address to its frames, innermost
//! inlined function first, each with its file, line and the line where the
//! function is declared (`DW_AT_decl_line`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use object::{Object, ObjectSection};

/// Sections are copied out of the map (decompressed when needed) so the
/// context owns its data.
pub type Reader = gimli::EndianRcSlice<gimli::RunTimeEndian>;

/// Why an object file's DWARF cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DwarfError {
    #[error("section {section}: {msg}")]
    Section { section: &'static str, msg: String },
    #[error("{0}")]
    Parse(#[from] gimli::Error),
}

/// One frame at an address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frame {
    /// The symbol's raw (linkage, so possibly mangled) name.
    pub func: String,
    pub file: String,
    pub line: i64,
    pub start_line: i64,
}

/// The debug information of one object file.
pub struct Dwarf {
    ctx: addr2line::Context<Reader>,
    /// Declaration lines by raw function name.
    decl_lines: RefCell<HashMap<String, i64>>,
}

impl Dwarf {
    /// Reads the DWARF sections of `obj`; absent sections are empty.
    /// `sup` is the supplementary file (dwz's `.gnu_debugaltlink`) holding
    /// the strings and entries the main file shares with others.
    pub fn load(obj: &object::File, sup: Option<&object::File>) -> Result<Dwarf, DwarfError> {
        let mut dwarf = gimli::Dwarf::load(|id| section(obj, id))?;
        if let Some(sup) = sup {
            dwarf.load_sup(|id| section(sup, id))?;
        }
        let ctx = addr2line::Context::from_dwarf(dwarf)?;
        Ok(Dwarf {
            ctx,
            decl_lines: RefCell::new(HashMap::new()),
        })
    }

    /// The frames at `addr` (a file virtual address), leaf first. Empty when
    /// no unit covers the address; a malformed unit ends the list early.
    pub fn frames(&self, addr: u64) -> Vec<Frame> {
        let mut out = Vec::new();
        // addr2line looks up `[addr, addr + 1)`, which overflows at the last
        // address (a panic where overflow checks are on); no code lives
        // there. Profile addresses are arbitrary, so it can be asked.
        if addr == u64::MAX {
            return out;
        }
        let Ok(mut iter) = self.ctx.find_frames(addr).skip_all_loads() else {
            return out;
        };
        let mut offsets = Vec::new();
        while let Ok(Some(f)) = iter.next() {
            let func = f
                .function
                .as_ref()
                .and_then(|n| n.raw_name().ok())
                .map(|n| n.into_owned())
                .unwrap_or_default();
            let (file, line) = match &f.location {
                Some(l) => (
                    l.file.unwrap_or_default().to_string(),
                    l.line.map_or(0, i64::from),
                ),
                None => (String::new(), 0),
            };
            offsets.push(f.dw_die_offset);
            out.push(Frame {
                func,
                file,
                line,
                start_line: 0,
            });
        }
        self.fill_start_lines(addr, &mut out, &offsets);
        out
    }

    /// Sets each frame's declaration line, looked up once per function.
    fn fill_start_lines(
        &self,
        addr: u64,
        frames: &mut [Frame],
        offsets: &[Option<gimli::UnitOffset<usize>>],
    ) {
        let mut cache = self.decl_lines.borrow_mut();
        let mut unit = None;
        let mut looked_up = false;
        for (f, off) in frames.iter_mut().zip(offsets) {
            if f.func.is_empty() {
                continue;
            }
            if let Some(&l) = cache.get(&f.func) {
                f.start_line = l;
                continue;
            }
            if !looked_up {
                unit = self.ctx.find_dwarf_and_unit(addr).skip_all_loads();
                looked_up = true;
            }
            let line = match (unit, off) {
                (Some(u), Some(off)) => decl_line(u, *off),
                _ => 0,
            };
            cache.insert(f.func.clone(), line);
            f.start_line = line;
        }
    }
}

/// `DW_AT_decl_line` of a subprogram or inlined call, following abstract
/// origins and specifications within the unit.
fn decl_line(unit: gimli::UnitRef<'_, Reader>, mut off: gimli::UnitOffset<usize>) -> i64 {
    // Origin chains are short; the bound only guards against cycles.
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

/// Refuses a compressed section whose header claims more bytes than its
/// data can expand to: `uncompressed_data` allocates the claimed size up
/// front, so a 17 kB file claiming 4 GiB would ask for 4 GiB. Deflate
/// expands at most 1032:1; zstd at most about 32768:1 (RLE blocks).
fn check_compressed_size(s: &object::Section) -> Result<(), String> {
    let c = s.compressed_data().map_err(|e| e.to_string())?;
    let n = c.data.len() as u64;
    let max = match c.format {
        object::CompressionFormat::None => return Ok(()),
        object::CompressionFormat::Zlib => n.saturating_mul(1032),
        _ => n.saturating_mul(32768),
    };
    if c.uncompressed_size > max.saturating_add(64) {
        return Err(format!(
            "compressed section claims {} bytes from {n}",
            c.uncompressed_size
        ));
    }
    Ok(())
}

/// One DWARF section of `obj`, decompressed if needed; empty when absent.
fn section(obj: &object::File, id: gimli::SectionId) -> Result<Reader, DwarfError> {
    let endian = if obj.is_little_endian() {
        gimli::RunTimeEndian::Little
    } else {
        gimli::RunTimeEndian::Big
    };
    let data: Rc<[u8]> = match obj.section_by_name(id.name()) {
        Some(s) => match check_compressed_size(&s)
            .and_then(|()| s.uncompressed_data().map_err(|e| e.to_string()))
        {
            Ok(d) => Rc::from(&*d),
            Err(e) => {
                return Err(DwarfError::Section {
                    section: id.name(),
                    msg: e,
                })
            }
        },
        None => Rc::from(&[][..]),
    };
    Ok(gimli::EndianRcSlice::new(data, endian))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs the `symbolize` fuzz target found (`fuzz/regressions/`).
    fn regression(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions/symbolize")
            .join(name);
        std::fs::read(path).expect("regression input")
    }

    /// A `-gz` binary whose `.debug_abbrev` header claims 4 GiB: refused
    /// before anything is allocated.
    #[test]
    fn compressed_section_claiming_too_much() {
        let data = regression("oom-compressed-debug-section-4g");
        let obj = object::File::parse(&*data).expect("still an ELF file");
        let err = Dwarf::load(&obj, None).err().expect("refused");
        assert!(err.to_string().contains("claims"), "{err}");
    }

    /// The last address is looked up without overflowing in addr2line.
    #[test]
    fn last_address() {
        let data = regression("crash-addr2line-find-frames-last-address");
        let obj = object::File::parse(&*data).expect("an ELF file");
        let dwarf = Dwarf::load(&obj, None).expect("DWARF loads");
        assert!(dwarf.frames(u64::MAX).is_empty());
    }
}
