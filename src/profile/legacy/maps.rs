//! The memory map section of legacy profiles (`/proc/self/maps` lines or
//! pprof's brief `start-end: file` form), the mapping repairs pprof applies
//! (`massageMappings`) and the assignment of locations to mappings.

use std::sync::LazyLock;

use regex::Regex;

use super::{re, Builder, RawMapping, Scanner, NSP, SP};

fn pattern(full: bool) -> String {
    let c_hex = "(?:0x)?([[:xdigit:]]+)";
    let c_hex_range = format!(r"{SP}*{c_hex}[\t\n\f\r -]?{SP}*{c_hex}:?");
    let c_perm = format!("(?:{SP}+([-rwxp]+))?");
    let c_space_string = format!("(?:{SP}+({NSP}+))?");
    let c_space_hex = format!("(?:{SP}+([[:xdigit:]]+))?");
    if full {
        // start-end perms offset dev inode file
        let hex_pair = format!("{SP}+[[:xdigit:]]+:[[:xdigit:]]+");
        let space_digits = format!("{SP}+[[:digit:]]+");
        format!("^{c_hex_range}{c_perm}{c_space_hex}{hex_pair}{space_digits}{c_space_string}")
    } else {
        // start-end [perms] [file] [(@offset)] [build id]
        let c_space_at_offset = format!(r"(?:{SP}+\(@([[:xdigit:]]+)\))?");
        format!("^{c_hex_range}{c_perm}{c_space_string}{c_space_at_offset}{c_space_hex}")
    }
}

static PROC_MAPS: LazyLock<Regex> = LazyLock::new(|| re(&pattern(true)));
static BRIEF_MAPS: LazyLock<Regex> = LazyLock::new(|| re(&pattern(false)));
/// A glog prefix (`I0102 15:04:05.000000 1234 file.cc:42] `).
static LOG_INFO: LazyLock<Regex> = LazyLock::new(|| re(r"^[^\[\]]+:[0-9]+\][\t\n\f\r ]"));
static LIB: LazyLock<Regex> = LazyLock::new(|| re(r"([.]so$|[.]so[._][0-9]+)"));

/// One map line: `Ok(None)` for non-executable entries, `Err(())` when
/// the line is not a mapping at all.
fn parse_mapping_entry(l: &str) -> Result<Option<RawMapping>, ()> {
    let group = |c: &regex::Captures, i: usize| c.get(i).map_or("", |m| m.as_str()).to_string();
    let (start, end, perm, offset, file, build_id) = if let Some(c) = PROC_MAPS.captures(l) {
        let g = |i| group(&c, i);
        (g(1), g(2), g(3), g(4), g(5), String::new())
    } else if let Some(c) = BRIEF_MAPS.captures(l) {
        let g = |i| group(&c, i);
        (g(1), g(2), g(3), g(5), g(4), g(6))
    } else {
        return Err(());
    };
    if !perm.is_empty() && !perm.contains('x') {
        return Ok(None);
    }
    let hex = |s: &str| super::parse_go_uint(s, 16).ok_or(());
    Ok(Some(RawMapping {
        start: hex(&start)?,
        limit: hex(&end)?,
        offset: if offset.is_empty() { 0 } else { hex(&offset)? },
        file,
        build_id,
    }))
}

/// Go's `strings.Replacer` over `$name` → value pairs: scanning left to
/// right, the earliest-defined name matching at a position wins.
fn replace_attrs(line: &str, attrs: &[(String, String)]) -> String {
    if attrs.is_empty() {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        match attrs.iter().find(|(k, _)| rest.starts_with(k.as_str())) {
            Some((k, v)) => {
                out.push_str(v);
                rest = &rest[k.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Reads the mapping lines left in the scanner. Unrecognized lines are
/// skipped, except `name=value` ones, which define `$name` for later lines.
fn parse_proc_maps(s: &mut Scanner) -> Vec<RawMapping> {
    let mut mappings = Vec::new();
    let mut attrs: Vec<(String, String)> = Vec::new();
    while s.scan() {
        let text = s.text();
        let text = match LOG_INFO.find(text) {
            Some(m) => &text[m.end()..],
            None => text,
        };
        let line = replace_attrs(text, &attrs);
        match parse_mapping_entry(&line) {
            Ok(Some(m)) => mappings.push(m),
            Ok(None) => {}
            Err(()) => {
                if let Some((k, v)) = line.split_once('=') {
                    let key = format!("${}", k.trim());
                    // An earlier definition of the same name wins.
                    if !attrs.iter().any(|(k, _)| *k == key) {
                        attrs.push((key, v.trim().to_string()));
                    }
                }
            }
        }
    }
    mappings
}

/// Parses the memory map, then renumbers locations, functions and
/// mappings, assigning each location its mapping.
pub(super) fn parse_memory_map(s: &mut Scanner, b: &mut Builder) {
    let parsed = parse_proc_maps(s);
    b.mappings.extend(parsed);
    massage_mappings(b);
    b.remap_location_ids();
    b.remap_function_ids();
    remap_mapping_ids(b);
}

/// Whether `m2` continues `m1` (one mapping split in two).
fn adjacent(m1: &RawMapping, m2: &RawMapping) -> bool {
    if !m1.file.is_empty() && !m2.file.is_empty() && m1.file != m2.file {
        return false;
    }
    if !m1.build_id.is_empty() && !m2.build_id.is_empty() && m1.build_id != m2.build_id {
        return false;
    }
    if m1.limit != m2.start {
        return false;
    }
    if m1.offset != 0 && m2.offset != 0 {
        let offset = m1.offset.wrapping_add(m1.limit.wrapping_sub(m1.start));
        if offset != m2.offset {
            return false;
        }
    }
    true
}

/// Joins split mappings and moves the main binary's mapping first (pprof
/// names the profile after it). Locations have no mappings yet here.
fn massage_mappings(b: &mut Builder) {
    if b.mappings.len() > 1 {
        let mut merged: Vec<RawMapping> = Vec::with_capacity(b.mappings.len());
        for m in std::mem::take(&mut b.mappings) {
            match merged.last_mut() {
                Some(lm) if adjacent(lm, &m) => {
                    lm.limit = m.limit;
                    if !m.file.is_empty() {
                        lm.file = m.file;
                    }
                    if !m.build_id.is_empty() {
                        lm.build_id = m.build_id;
                    }
                }
                _ => merged.push(m),
            }
        }
        b.mappings = merged;
    }
    let main = b.mappings.iter().position(|m| {
        let file = m.file.replace("(deleted)", "");
        let file = file.trim();
        !file.is_empty() && !LIB.is_match(file) && !file.starts_with('[')
    });
    if let Some(i) = main {
        b.mappings.swap(0, i);
    }
}

/// pprof's `remapMappingIDs`: repairs a few known mapping quirks, then
/// gives each location with an address the mapping that contains it (or
/// a catch-all mapping without a file, as Go's legacy profiles need).
pub(super) fn remap_mapping_ids(b: &mut Builder) {
    // A leading /anon_hugepage region directly before the next one is the
    // remapped text of the binary: drop it.
    if b.mappings.len() > 1
        && b.mappings[0].file.starts_with("/anon_hugepage")
        && b.mappings[0].limit == b.mappings[1].start
    {
        b.mappings.remove(0);
    }
    // A main mapping that starts at the usual 0x400000 once its offset is
    // taken off was recorded with its offset added: undo that.
    if let Some(m) = b.mappings.first_mut() {
        const EXPECTED_START: u64 = 0x400000;
        if m.start.wrapping_sub(m.offset) == EXPECTED_START {
            m.start = EXPECTED_START;
            m.offset = 0;
        }
    }
    let mut fake = None;
    for i in 0..b.location_list.len() {
        let l = b.location_list[i];
        let a = b.locations[l].address;
        if b.locations[l].mapping.is_some() || a == 0 {
            continue;
        }
        if let Some(m) = b.mappings.iter().position(|m| m.start <= a && a < m.limit) {
            b.locations[l].mapping = Some(m);
            continue;
        }
        // Legacy handlers sometimes omit the first part of a mapping split
        // into adjacent ranges: extend the mapping back over it.
        if let Some(m) = b
            .mappings
            .iter()
            .position(|m| m.offset != 0 && m.start.wrapping_sub(m.offset) <= a && a < m.start)
        {
            let mm = &mut b.mappings[m];
            mm.start = mm.start.wrapping_sub(mm.offset);
            mm.offset = 0;
            b.locations[l].mapping = Some(m);
            continue;
        }
        let f = *fake.get_or_insert_with(|| {
            b.mappings.push(RawMapping {
                limit: u64::MAX,
                ..Default::default()
            });
            b.mappings.len() - 1
        });
        b.locations[l].mapping = Some(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_lines() {
        let m = parse_mapping_entry("00400000-00fcb000 r-xp 00000000 fc:01 123 /bin/app")
            .unwrap()
            .unwrap();
        assert_eq!((m.start, m.limit, m.offset), (0x400000, 0xfcb000, 0));
        assert_eq!(m.file, "/bin/app");
        assert!(
            parse_mapping_entry("00400000-00fcb000 rw-p 00000000 fc:01 123 /bin/app")
                .unwrap()
                .is_none()
        );
        let m = parse_mapping_entry("  7f00-7fff: /lib/libc.so (@10) abcdef")
            .unwrap()
            .unwrap();
        assert_eq!((m.start, m.limit, m.offset), (0x7f00, 0x7fff, 0x10));
        assert_eq!(
            (m.file.as_str(), m.build_id.as_str()),
            ("/lib/libc.so", "abcdef")
        );
        assert!(parse_mapping_entry("build=1234").is_err());
    }

    #[test]
    fn attributes_replace() {
        let attrs = vec![
            ("$a".to_string(), "X".to_string()),
            ("$ab".to_string(), "Y".to_string()),
        ];
        assert_eq!(replace_attrs("$ab-$a", &attrs), "Xb-X");
    }
}
