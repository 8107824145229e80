//! Go's `.gopclntab`: function names, files and lines of a Go binary that
//! has neither symbol table nor DWARF (built with `-ldflags='-s -w'`), as
//! `go tool pprof` reads them through `debug/gosym`.
//!
//! Only the Go 1.18/1.19 (magic `0xfffffff0`) and Go 1.20+ (`0xfffffff1`)
//! layouts are read. The table is a header, then sub-tables at offsets the
//! header gives (all relative to the table's start):
//!
//! - header: magic (u32), two zero bytes, the pc quantum (`minLC`), the
//!   pointer size, then eight pointer-sized words: number of functions,
//!   number of files, text start, and the offsets of the function name
//!   table, the compilation unit table (`cutab`), the file name table, the
//!   pc-value tables (`pctab`) and the function table;
//! - function table: `nfunc + 1` pairs of u32 (entry offset from the text
//!   start, offset of the function's `_func` from the function table), the
//!   last entry's pc ending the last function;
//! - `_func`: u32 fields: entry offset, name offset, args, deferreturn,
//!   pcsp, pcfile, pcln, npcdata, cu offset, and (1.20+) the start line;
//! - pc-value table: pairs of varints (zigzag value delta, pc delta in
//!   quanta), ended by a zero value delta after the first pair; the value
//!   starts at -1 and the pc at the function's entry;
//! - file names: `cutab[cu offset + file number]` (u32) is an offset into
//!   the file name table; names are NUL-terminated.
//!
//! Every offset comes from the file, so every read is bounds-checked: a
//! truncated or garbage table gives `None`, never a panic.

use super::dwarf::Frame;

const GO118_MAGIC: u32 = 0xffff_fff0;
const GO120_MAGIC: u32 = 0xffff_fff1;

/// A parsed header: where the sub-tables are in the table's bytes.
#[derive(Clone, Debug)]
pub struct Pclntab {
    big_endian: bool,
    go120: bool,
    quantum: u32,
    text_start: u64,
    nfunc: usize,
    funcnames: usize,
    cutab: usize,
    filetab: usize,
    pctab: usize,
    /// The function table, which is also the base of `_func` offsets.
    functab: usize,
}

impl Pclntab {
    /// Parses the header of `data` (the section's bytes). `text` is the
    /// `.text` section's address, which Go prefers to the header's (which
    /// may be unrelocated); `None` uses the header's.
    pub fn parse(data: &[u8], text: Option<u64>) -> Option<Pclntab> {
        let head = data.get(..8)?;
        if head[4] != 0 || head[5] != 0 {
            return None;
        }
        let quantum = head[6];
        let ptr = head[7];
        if !matches!(quantum, 1 | 2 | 4) || !matches!(ptr, 4 | 8) {
            return None;
        }
        let le = u32::from_le_bytes(head[..4].try_into().ok()?);
        let be = u32::from_be_bytes(head[..4].try_into().ok()?);
        let (big_endian, go120) = match (le, be) {
            (GO118_MAGIC, _) => (false, false),
            (GO120_MAGIC, _) => (false, true),
            (_, GO118_MAGIC) => (true, false),
            (_, GO120_MAGIC) => (true, true),
            _ => return None,
        };
        let word = |i: usize| -> Option<u64> {
            let at = 8 + i * ptr as usize;
            if ptr == 8 {
                read_u64(data, at, big_endian)
            } else {
                read_u32(data, at, big_endian).map(u64::from)
            }
        };
        let off = |i: usize| -> Option<usize> {
            let o = usize::try_from(word(i)?).ok()?;
            (o <= data.len()).then_some(o)
        };
        let nfunc = usize::try_from(word(0)?).ok()?;
        let header_text = word(2)?;
        let t = Pclntab {
            big_endian,
            go120,
            quantum: u32::from(quantum),
            text_start: text.unwrap_or(header_text),
            nfunc,
            funcnames: off(3)?,
            cutab: off(4)?,
            filetab: off(5)?,
            pctab: off(6)?,
            functab: off(7)?,
        };
        // The function table, with its closing entry, must fit.
        let size = nfunc.checked_mul(8)?.checked_add(4)?;
        if t.functab.checked_add(size)? > data.len() {
            return None;
        }
        Some(t)
    }

    fn u32(&self, data: &[u8], at: usize) -> Option<u32> {
        read_u32(data, at, self.big_endian)
    }

    /// The function table's `i`th pc (i in 0..=nfunc).
    fn entry_pc(&self, data: &[u8], i: usize) -> Option<u64> {
        let at = self.functab.checked_add(i.checked_mul(8)?)?;
        let off = self.u32(data, at)?;
        Some(self.text_start.wrapping_add(u64::from(off)))
    }

    /// Every function as (entry, end, name), in table order: the symbol
    /// table of a binary that has none (`disasm` on a stripped Go binary).
    /// Bounded by `nfunc`, which `parse` checked against the table's size.
    pub fn functions(&self, data: &[u8]) -> Vec<(u64, u64, String)> {
        let mut out = Vec::new();
        for i in 0..self.nfunc {
            let (Some(start), Some(end)) = (self.entry_pc(data, i), self.entry_pc(data, i + 1))
            else {
                break;
            };
            if end <= start {
                continue;
            }
            if let Some(f) = self.frame(data, start) {
                out.push((start, end, f.func));
            }
        }
        out
    }

    /// The frame at `pc`: function name, file, line (and, in Go 1.20+
    /// tables, the function's start line). `None` when no function covers
    /// `pc` or the table is malformed there.
    pub fn frame(&self, data: &[u8], pc: u64) -> Option<Frame> {
        if self.nfunc == 0 {
            return None;
        }
        let first = self.entry_pc(data, 0)?;
        let end = self.entry_pc(data, self.nfunc)?;
        if pc < first || pc >= end {
            return None;
        }
        // The last function whose entry is <= pc.
        let (mut lo, mut hi) = (0usize, self.nfunc);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.entry_pc(data, mid)? <= pc {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let funcoff = self.u32(data, self.functab.checked_add(lo * 8 + 4)?)?;
        let f = self.functab.checked_add(funcoff as usize)?;
        let field = |n: usize| self.u32(data, f.checked_add(4 * n)?);
        let entry = self.text_start.wrapping_add(u64::from(field(0)?));
        let name = cstr(data, self.funcnames.checked_add(field(1)? as usize)?)?;
        if name.is_empty() {
            return None;
        }
        let pcfile = field(5)?;
        let pcln = field(6)?;
        let cu = field(8)?;
        let line = self.pcvalue(data, pcln, entry, pc).unwrap_or(-1);
        let file = self
            .pcvalue(data, pcfile, entry, pc)
            .and_then(|n| self.file_name(data, cu, n))
            .unwrap_or_default();
        let start_line = if self.go120 {
            field(9).map_or(0, |l| i64::from(l as i32).max(0))
        } else {
            0
        };
        Some(Frame {
            func: name.to_string(),
            file: file.to_string(),
            line: i64::from(line).max(0),
            start_line,
        })
    }

    /// The value of the pc-value table at `off` for `target` in the
    /// function entered at `entry`.
    fn pcvalue(&self, data: &[u8], off: u32, entry: u64, target: u64) -> Option<i32> {
        if off == 0 {
            return None;
        }
        let mut p = self.pctab.checked_add(off as usize)?;
        let mut val: i32 = -1;
        let mut pc = entry;
        loop {
            let uv = varint(data, &mut p)?;
            // As Go: a zero delta ends the table except at the entry.
            if uv == 0 && pc != entry {
                return None;
            }
            let delta = if uv & 1 != 0 { !(uv >> 1) } else { uv >> 1 } as i32;
            let pcdelta = varint(data, &mut p)?.wrapping_mul(self.quantum);
            pc = pc.checked_add(u64::from(pcdelta))?;
            val = val.wrapping_add(delta);
            if target < pc {
                return Some(val);
            }
        }
    }

    /// File number `n` of the compilation unit at `cu`.
    fn file_name<'a>(&self, data: &'a [u8], cu: u32, n: i32) -> Option<&'a str> {
        let n = u32::try_from(n).ok()?;
        let i = (cu as usize).checked_add(n as usize)?.checked_mul(4)?;
        let fnoff = self.u32(data, self.cutab.checked_add(i)?)?;
        if fnoff == u32::MAX {
            return None;
        }
        cstr(data, self.filetab.checked_add(fnoff as usize)?)
    }
}

fn read_u32(data: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(b)
    } else {
        u32::from_le_bytes(b)
    })
}

fn read_u64(data: &[u8], at: usize, big_endian: bool) -> Option<u64> {
    let b: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(if big_endian {
        u64::from_be_bytes(b)
    } else {
        u64::from_le_bytes(b)
    })
}

/// A little-endian base-128 varint of at most 32 bits, as Go writes them.
fn varint(data: &[u8], p: &mut usize) -> Option<u32> {
    let mut v: u32 = 0;
    let mut shift = 0u32;
    loop {
        let b = *data.get(*p)?;
        *p += 1;
        if shift >= 32 {
            return None;
        }
        v |= u32::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

/// The NUL-terminated UTF-8 string at `at`.
fn cstr(data: &[u8], at: usize) -> Option<&str> {
    let rest = data.get(at..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// The `.gopclntab` section of `obj` (ELF; Mach-O's `__gopclntab` too) as
/// a range of the file's bytes, and the `.text` section's address.
pub fn locate(obj: &object::File) -> Option<(std::ops::Range<usize>, Option<u64>)> {
    use object::{Object, ObjectSection};
    let sec = obj
        .section_by_name(".gopclntab")
        .or_else(|| obj.section_by_name("__gopclntab"))?;
    let (off, size) = sec.file_range()?;
    let start = usize::try_from(off).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    let text = obj
        .section_by_name(".text")
        .or_else(|| obj.section_by_name("__text"))
        .map(|s| s.address());
    Some((start..end, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made little-endian Go 1.20 table with two functions.
    fn table() -> Vec<u8> {
        let mut d = vec![0xf1, 0xff, 0xff, 0xff, 0, 0, 1, 8];
        // nfunc, nfiles, text, funcnames, cutab, filetab, pctab, functab
        let words: [u64; 8] = [2, 1, 0x1000, 72, 88, 92, 104, 116];
        for w in words {
            d.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(d.len(), 72);
        d.extend_from_slice(b"main.a\0main.bb\0\0"); // 72..88
        d.extend_from_slice(&0u32.to_le_bytes()); // cutab 88..92
        d.extend_from_slice(b"x/main.go\0\0\0"); // filetab 92..104
                                                 // pctab 104..116: at 1, a line table (11 up to pc 0x10, then 12
                                                 // for 0x10 more), at 6, a file table (file 0 for 0x40).
        d.extend_from_slice(&[0, 24, 0x10, 2, 0x10, 0, 2, 0x40, 0, 0, 0, 0]);
        // functab 116..: (0, f0), (0x20, f1), (0x40 end)
        let f0 = 28u32;
        let f1 = f0 + 40;
        for v in [0u32, f0, 0x20, f1, 0x40] {
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(&[0; 8]); // pad to functab + 28
        for (entry, name, start) in [(0u32, 0u32, 10u32), (0x20, 7, 20)] {
            // entry, name, args, deferreturn, pcsp, pcfile, pcln, npcdata, cu, startLine
            for v in [entry, name, 0, 0, 0, 6, 1, 0, 0, start] {
                d.extend_from_slice(&v.to_le_bytes());
            }
        }
        d
    }

    #[test]
    fn reads_names_files_and_lines() {
        let d = table();
        let t = Pclntab::parse(&d, None).unwrap();
        let f = t.frame(&d, 0x1004).unwrap();
        assert_eq!(
            (f.func.as_str(), f.file.as_str(), f.line, f.start_line),
            ("main.a", "x/main.go", 11, 10)
        );
        assert_eq!(t.frame(&d, 0x1010).unwrap().line, 12);
        let g = t.frame(&d, 0x1020).unwrap();
        assert_eq!((g.func.as_str(), g.line, g.start_line), ("main.bb", 11, 20));
        assert!(t.frame(&d, 0x1040).is_none());
        assert!(t.frame(&d, 0xfff).is_none());
        // The .text address wins over the header's.
        let moved = Pclntab::parse(&d, Some(0x2000)).unwrap();
        assert_eq!(moved.frame(&d, 0x2021).unwrap().func, "main.bb");
    }

    #[test]
    fn truncated_and_garbage_tables_do_not_panic() {
        let d = table();
        for n in 0..d.len() {
            if let Some(t) = Pclntab::parse(&d[..n], None) {
                for pc in [0, 0x1000, 0x1004, 0x1010, 0x1020, 0x103f, u64::MAX] {
                    let _ = t.frame(&d[..n], pc);
                }
            }
        }
        // Every byte flipped in turn, and pseudo-random garbage.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..d.len() {
            for x in [0xffu8, 0x80, 0x01] {
                let mut bad = d.clone();
                bad[i] ^= x;
                if let Some(t) = Pclntab::parse(&bad, None) {
                    for pc in [0x1000, 0x1011, 0x1030, u64::MAX] {
                        let _ = t.frame(&bad, pc);
                    }
                }
            }
            let mut junk = d.clone();
            for b in junk.iter_mut().skip(8) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *b = seed as u8;
            }
            if let Some(t) = Pclntab::parse(&junk, None) {
                let _ = t.frame(&junk, 0x1000 + i as u64);
            }
        }
        assert!(Pclntab::parse(b"", None).is_none());
        assert!(Pclntab::parse(&[0xf0, 0xff, 0xff, 0xff, 0, 0, 3, 8], None).is_none());
        // Huge counts and offsets.
        let mut huge = d.clone();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Pclntab::parse(&huge, None).is_none());
        let mut far = d;
        far[64..72].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        assert!(Pclntab::parse(&far, None).is_none());
    }

    #[test]
    fn varints() {
        let mut p = 0;
        assert_eq!(varint(&[0x96, 0x01], &mut p), Some(150));
        assert_eq!(p, 2);
        let mut p = 0;
        assert_eq!(varint(&[0x80, 0x80], &mut p), None);
        let mut p = 0;
        assert_eq!(varint(&[0xff; 10], &mut p), None);
    }

    /// The committed `-s -w` Go fixture: real lookups, then its table
    /// with bytes garbled and cut short.
    #[test]
    fn real_table_and_damaged_copies() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/gostripped/hello_sw");
        let bin = std::fs::read(path).unwrap();
        let obj = object::File::parse(&bin[..]).unwrap();
        let (range, text) = locate(&obj).unwrap();
        let data = &bin[range];
        let t = Pclntab::parse(data, text).unwrap();
        let first = t.entry_pc(data, 0).unwrap();
        let end = t.entry_pc(data, t.nfunc).unwrap();
        let mut named = 0;
        let pcs: Vec<u64> = (0..64).map(|i| first + (end - first) / 64 * i).collect();
        for &pc in &pcs {
            if let Some(f) = t.frame(data, pc) {
                assert!(!f.func.is_empty());
                named += 1;
            }
        }
        assert!(named > 60, "{named}");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..300 {
            let mut bad = data.to_vec();
            for _ in 0..8 {
                let i = (next() as usize) % bad.len();
                bad[i] = next() as u8;
            }
            let cut = (next() as usize) % bad.len();
            for d in [&bad[..], &bad[..cut]] {
                if let Some(t) = Pclntab::parse(d, text) {
                    for &pc in pcs.iter().step_by(7) {
                        let _ = t.frame(d, pc);
                    }
                }
            }
        }
    }
}
