//! Decoding the pprof protobuf format into the compact model.
//!
//! The top-level `Profile` message, its samples, locations and functions
//! are walked by hand so that they go straight into flat arrays (no
//! allocation per sample or location); mappings, sample types and labels
//! use the prost-generated types. Large gzipped inputs have their samples
//! decoded on another thread while the rest inflates (`EarlySamples`).

use std::collections::HashMap;

use prost::encoding::{decode_key, decode_varint, skip_field, DecodeContext, WireType};
use prost::Message;

use super::budget::{self, Counts, Stop};
use super::model::{
    Function, Label, Line, Lines, Location, Mapping, Profile, SampleData, Samples, StrId, ValueType,
};
use crate::pb;

/// Why bytes are not a valid profile.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("not a profile: {0}")]
    Wire(String),
    #[error("malformed profile: {0}")]
    Malformed(String),
    #[error("too many samples: more than {0} (raise the limit with -max_samples)")]
    TooManySamples(usize),
    /// The estimate made before allocating passes the memory budget.
    #[error(
        "profile needs more than {0} MB of memory to load (raise the limit with -max_memory_mb)"
    )]
    OverBudget(u64),
    /// An allocation within the budget failed (little memory left).
    #[error("out of memory: could not allocate {0} MB while loading the profile")]
    OutOfMemory(u64),
}

impl DecodeError {
    /// Whether the error stands whatever the format (no legacy parser is
    /// tried after it).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DecodeError::TooManySamples(_)
                | DecodeError::OverBudget(_)
                | DecodeError::OutOfMemory(_)
        )
    }
}

/// Reserves room for `n` more elements, failing cleanly when the memory
/// is not there.
fn reserve<T>(v: &mut Vec<T>, n: usize) -> Result<(), DecodeError> {
    v.try_reserve_exact(n)
        .map_err(|_| out_of_memory(n.saturating_mul(std::mem::size_of::<T>())))
}

fn out_of_memory(bytes: usize) -> DecodeError {
    DecodeError::OutOfMemory((bytes as u64).div_ceil(1 << 20))
}

fn wire(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::Wire(format!("invalid protobuf ({e})"))
}

fn malformed(msg: String) -> DecodeError {
    DecodeError::Malformed(msg)
}

/// Raw pieces of the message, borrowed from the input until tables are known.
#[derive(Default)]
struct Raw<'a> {
    sample_types: Vec<pb::ValueType>,
    samples: Vec<&'a [u8]>,
    sample_count: usize,
    mappings: Vec<pb::Mapping>,
    locations: Vec<RawLocation>,
    /// The locations' lines, in order: location `i`'s end at
    /// `locations[i].lines_end`.
    lines: Vec<RawLine>,
    functions: Vec<pb::Function>,
    strings: Vec<&'a [u8]>,
    drop_frames: i64,
    keep_frames: i64,
    time_nanos: i64,
    duration_nanos: i64,
    period_type: Option<pb::ValueType>,
    period: i64,
    comments: Vec<i64>,
    default_sample_type: i64,
}

/// A location as read (its lines in [`Raw::lines`]): read by hand into
/// flat lists, as prost would allocate a line list per location.
#[derive(Default)]
struct RawLocation {
    id: u64,
    mapping_id: u64,
    address: u64,
    lines_end: u32,
    is_folded: bool,
}

#[derive(Default)]
struct RawLine {
    function_id: u64,
    line: i64,
    column: i64,
}

/// Walks the fields of a message: `field` reads the value of the fields it
/// knows (returning true), the others are skipped, as prost does.
fn fields(
    mut buf: &[u8],
    mut field: impl FnMut(u32, WireType, &mut &[u8]) -> Result<bool, DecodeError>,
) -> Result<(), DecodeError> {
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        if !field(tag, wt, &mut buf)? {
            skip_field(wt, tag, &mut buf, DecodeContext::default()).map_err(wire)?;
        }
    }
    Ok(())
}

fn read_location(buf: &mut &[u8], wt: WireType, raw: &mut Raw) -> Result<(), DecodeError> {
    if wt != WireType::LengthDelimited {
        return Err(DecodeError::Wire("unexpected wire type".into()));
    }
    let msg = take_bytes(buf)?;
    if read_location_plain(msg, raw) {
        return Ok(());
    }
    let mut loc = RawLocation::default();
    let lines = &mut raw.lines;
    fields(msg, |tag, wt, buf| {
        match tag {
            1 => loc.id = read_varint(buf, wt)?,
            2 => loc.mapping_id = read_varint(buf, wt)?,
            3 => loc.address = read_varint(buf, wt)?,
            4 => {
                if wt != WireType::LengthDelimited {
                    return Err(DecodeError::Wire("unexpected wire type".into()));
                }
                let mut line = RawLine::default();
                fields(take_bytes(buf)?, |tag, wt, buf| {
                    match tag {
                        1 => line.function_id = read_varint(buf, wt)?,
                        2 => line.line = read_varint(buf, wt)? as i64,
                        3 => line.column = read_varint(buf, wt)? as i64,
                        _ => return Ok(false),
                    }
                    Ok(true)
                })?;
                if lines.len() >= u32::MAX as usize {
                    return Err(malformed("too many location lines".into()));
                }
                // Amortized growth: the count of lines is not known ahead.
                lines
                    .try_reserve(1)
                    .map_err(|_| out_of_memory(lines.len() * std::mem::size_of::<RawLine>()))?;
                lines.push(line);
            }
            5 => loc.is_folded = read_varint(buf, wt)? != 0,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    loc.lines_end = raw.lines.len() as u32;
    raw.locations.push(loc);
    Ok(())
}

/// A varint that ends within `buf` in at most 9 bytes, else None (the
/// general path then decides).
#[inline(always)]
fn plain_varint(buf: &mut &[u8]) -> Option<u64> {
    let b = *buf;
    if let [b0, ref rest @ ..] = *b {
        if b0 < 0x80 {
            *buf = rest;
            return Some(u64::from(b0));
        }
    }
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(9) {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *buf = &b[i + 1..];
            return Some(v);
        }
    }
    None
}

/// The fields of a message as every producer writes them: one-byte keys of
/// known tags, each with its expected wire type; `field` stores a varint
/// (or reads a length-delimited value) and says whether the tag is known.
/// Anything else gives false, and the general walk reads the message
/// again, with its errors.
#[inline(always)]
fn plain_fields(mut msg: &[u8], mut field: impl FnMut(u8, &mut &[u8]) -> bool) -> bool {
    while let [k, ref rest @ ..] = *msg {
        msg = rest;
        if !field(k, &mut msg) {
            return false;
        }
    }
    true
}

/// [`read_location`] for the usual encoding (a one-byte key per field,
/// varints of up to 9 bytes, lines with function and line numbers); false
/// (nothing added) for anything else.
#[inline]
fn read_location_plain(msg: &[u8], raw: &mut Raw) -> bool {
    let mut loc = RawLocation::default();
    let before = raw.lines.len();
    let lines = &mut raw.lines;
    let ok = plain_fields(msg, |k, buf| {
        let v = match k {
            0x08 | 0x10 | 0x18 | 0x28 => plain_varint(buf),
            0x22 => {
                let Some(len) = plain_varint(buf) else {
                    return false;
                };
                let Some((mut sub, rest)) = usize::try_from(len)
                    .ok()
                    .filter(|&n| n <= buf.len())
                    .map(|n| buf.split_at(n))
                else {
                    return false;
                };
                *buf = rest;
                let mut line = RawLine::default();
                while let [k, ref rest @ ..] = *sub {
                    sub = rest;
                    let Some(v) = plain_varint(&mut sub) else {
                        return false;
                    };
                    match k {
                        0x08 => line.function_id = v,
                        0x10 => line.line = v as i64,
                        0x18 => line.column = v as i64,
                        _ => return false,
                    }
                }
                if lines.len() >= u32::MAX as usize || lines.try_reserve(1).is_err() {
                    return false;
                }
                lines.push(line);
                return true;
            }
            _ => return false,
        };
        let Some(v) = v else {
            return false;
        };
        match k {
            0x08 => loc.id = v,
            0x10 => loc.mapping_id = v,
            0x18 => loc.address = v,
            _ => loc.is_folded = v != 0,
        }
        true
    });
    if !ok {
        raw.lines.truncate(before);
        return false;
    }
    loc.lines_end = raw.lines.len() as u32;
    raw.locations.push(loc);
    true
}

/// [`read_function`] for the usual encoding; None for anything else.
#[inline]
fn read_function_plain(msg: &[u8]) -> Option<pb::Function> {
    let mut f = pb::Function::default();
    let ok = plain_fields(msg, |k, buf| {
        let Some(v) = plain_varint(buf) else {
            return false;
        };
        match k {
            0x08 => f.id = v,
            0x10 => f.name = v as i64,
            0x18 => f.system_name = v as i64,
            0x20 => f.filename = v as i64,
            0x28 => f.start_line = v as i64,
            _ => return false,
        }
        true
    });
    ok.then_some(f)
}

fn read_function(buf: &mut &[u8], wt: WireType) -> Result<pb::Function, DecodeError> {
    if wt != WireType::LengthDelimited {
        return Err(DecodeError::Wire("unexpected wire type".into()));
    }
    let msg = take_bytes(buf)?;
    if let Some(f) = read_function_plain(msg) {
        return Ok(f);
    }
    let mut f = pb::Function::default();
    fields(msg, |tag, wt, buf| {
        match tag {
            1 => f.id = read_varint(buf, wt)?,
            2 => f.name = read_varint(buf, wt)? as i64,
            3 => f.system_name = read_varint(buf, wt)? as i64,
            4 => f.filename = read_varint(buf, wt)? as i64,
            5 => f.start_line = read_varint(buf, wt)? as i64,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(f)
}

/// A varint, decoded inline (addresses take four bytes or more); errors
/// (and a tenth byte) through prost, for its messages.
#[inline(always)]
fn varint(buf: &mut &[u8]) -> Result<u64, DecodeError> {
    match plain_varint(buf) {
        Some(v) => Ok(v),
        None => decode_varint(buf).map_err(wire),
    }
}

/// A field key: one byte inline (tags up to 15), else prost's checks.
#[inline(always)]
fn key(buf: &mut &[u8]) -> Result<(u32, WireType), DecodeError> {
    if let [b, ref rest @ ..] = **buf {
        if (0x08..0x80).contains(&b) {
            if let Ok(wt) = WireType::try_from(u64::from(b & 7)) {
                *buf = rest;
                return Ok((u32::from(b >> 3), wt));
            }
        }
    }
    decode_key(buf).map_err(wire)
}

#[inline]
fn take_bytes<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8], DecodeError> {
    let len = varint(buf)?;
    if len > buf.len() as u64 {
        return Err(DecodeError::Wire("truncated protobuf message".into()));
    }
    let (head, tail) = buf.split_at(len as usize);
    *buf = tail;
    Ok(head)
}

/// Reads a repeated integer field, packed or not.
fn read_ints(buf: &mut &[u8], wt: WireType, mut push: impl FnMut(u64)) -> Result<(), DecodeError> {
    match wt {
        WireType::Varint => push(varint(buf)?),
        WireType::LengthDelimited => {
            let mut packed = take_bytes(buf)?;
            while !packed.is_empty() {
                // Short varints (most ids and values) inline; anything
                // else, errors included, through prost.
                match packed {
                    [b, rest @ ..] if *b < 0x80 => {
                        push(*b as u64);
                        packed = rest;
                    }
                    [b0, b1, rest @ ..] if *b1 < 0x80 => {
                        push((*b0 & 0x7f) as u64 | (*b1 as u64) << 7);
                        packed = rest;
                    }
                    // Location ids up to 2M (a big table's) take three.
                    [b0, b1, b2, rest @ ..] if *b2 < 0x80 => {
                        push((*b0 & 0x7f) as u64 | ((*b1 & 0x7f) as u64) << 7 | (*b2 as u64) << 14);
                        packed = rest;
                    }
                    _ => push(decode_varint(&mut packed).map_err(wire)?),
                }
            }
        }
        _ => return Err(DecodeError::Wire("unexpected wire type".into())),
    }
    Ok(())
}

#[inline(always)]
fn read_varint(buf: &mut &[u8], wt: WireType) -> Result<u64, DecodeError> {
    if wt != WireType::Varint {
        return Err(DecodeError::Wire("unexpected wire type".into()));
    }
    varint(buf)
}

fn read_message<M: Message + Default>(buf: &mut &[u8], wt: WireType) -> Result<M, DecodeError> {
    if wt != WireType::LengthDelimited {
        return Err(DecodeError::Wire("unexpected wire type".into()));
    }
    M::decode(take_bytes(buf)?).map_err(wire)
}

/// The top-level fields; the samples' bytes are listed when `samples`
/// (else only counted: they were decoded early).
fn scan<'a>(
    mut buf: &'a [u8],
    max_samples: usize,
    n: &Counts,
    samples: bool,
    budget: Option<u64>,
    mut raw: Raw<'a>,
) -> Result<Raw<'a>, DecodeError> {
    // Sized from the pre-scan: the lists never regrow.
    reserve(&mut raw.sample_types, n.sample_types)?;
    if samples {
        reserve(&mut raw.samples, n.samples.min(max_samples))?;
    }
    reserve(&mut raw.mappings, n.mappings)?;
    reserve(&mut raw.locations, n.locations)?;
    reserve(&mut raw.functions, n.functions)?;
    reserve(&mut raw.strings, n.strings)?;
    reserve(&mut raw.comments, n.comments)?;
    let mut cost = budget::BASE_COST;
    while !buf.is_empty() {
        let before = buf.len();
        let (tag, wt) = key(&mut buf)?;
        match tag {
            1 => raw.sample_types.push(read_message(&mut buf, wt)?),
            2 if wt == WireType::LengthDelimited => {
                // Checked while scanning: the sample list itself is big.
                if raw.sample_count >= max_samples {
                    return Err(DecodeError::TooManySamples(max_samples));
                }
                raw.sample_count += 1;
                let bytes = take_bytes(&mut buf)?;
                if samples {
                    raw.samples.push(bytes);
                }
            }
            3 => raw.mappings.push(read_message(&mut buf, wt)?),
            4 => read_location(&mut buf, wt, &mut raw)?,
            5 => raw.functions.push(read_function(&mut buf, wt)?),
            6 if wt == WireType::LengthDelimited => raw.strings.push(take_bytes(&mut buf)?),
            7 => raw.drop_frames = read_varint(&mut buf, wt)? as i64,
            8 => raw.keep_frames = read_varint(&mut buf, wt)? as i64,
            9 => raw.time_nanos = read_varint(&mut buf, wt)? as i64,
            10 => raw.duration_nanos = read_varint(&mut buf, wt)? as i64,
            11 => raw.period_type = Some(read_message(&mut buf, wt)?),
            12 => raw.period = read_varint(&mut buf, wt)? as i64,
            13 => read_ints(&mut buf, wt, |v| raw.comments.push(v as i64))?,
            14 => raw.default_sample_type = read_varint(&mut buf, wt)? as i64,
            2 | 6 => return Err(DecodeError::Wire("unexpected wire type".into())),
            _ => skip_field(wt, tag, &mut buf, DecodeContext::default()).map_err(wire)?,
        }
        if let Some(budget) = budget {
            // The pre-scan's estimate, made as the fields are read: four
            // times over, as the lists here grow by doubling (a list and
            // its new block) where the pre-scan's counts reserve them.
            cost = cost.saturating_add(budget::field_cost(tag, (before - buf.len()) as u64));
            if cost.saturating_mul(4) > budget {
                return Err(DecodeError::OverBudget(budget >> 20));
            }
        }
    }
    Ok(raw)
}

/// Maps the profile's string indexes to interned ids, checking bounds.
struct StringMap {
    ids: Vec<StrId>,
}

impl StringMap {
    fn get(&self, index: i64) -> Result<StrId, DecodeError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.ids.get(i).copied())
            .ok_or_else(|| {
                malformed(format!(
                    "string index {index} out of range (string table has {} entries)",
                    self.ids.len()
                ))
            })
    }
}

/// Table ids → indexes. Seeded fast hashing: ids are untrusted input, and
/// SipHash showed in the decoding of fleets of profiles.
type IdMap = HashMap<u64, u32, foldhash::fast::RandomState>;

/// Table ids → indexes: most profiles number their tables 1..=n in order
/// (nothing to look up), else ids are dense enough for an array, else a
/// hash map.
enum Ids {
    Sequential(u64),
    Dense(Vec<u32>),
    Map(IdMap),
}

impl Ids {
    fn get(&self, id: u64) -> Option<u32> {
        match self {
            Ids::Sequential(n) => (id >= 1 && id <= *n).then(|| (id - 1) as u32),
            Ids::Dense(v) => v.get(id as usize).copied().filter(|&x| x != u32::MAX),
            Ids::Map(m) => m.get(&id).copied(),
        }
    }
}

/// Builds an id → table index map, rejecting id 0 and duplicates.
fn index_ids(
    what: &str,
    ids: impl ExactSizeIterator<Item = u64> + Clone,
) -> Result<Ids, DecodeError> {
    let n = ids.len();
    if ids.clone().enumerate().all(|(i, id)| id == i as u64 + 1) {
        return Ok(Ids::Sequential(n as u64));
    }
    let mut map = IdMap::default();
    map.try_reserve(n)
        .map_err(|_| out_of_memory(n.saturating_mul(32)))?;
    let mut max = 0;
    for (i, id) in ids.enumerate() {
        if id == 0 {
            return Err(malformed(format!("found {what} with reserved id=0")));
        }
        if map.insert(id, i as u32).is_some() {
            return Err(malformed(format!("multiple {what}s with same id: {id}")));
        }
        max = max.max(id);
    }
    if max as usize <= n * 2 + 16 {
        let mut v = Vec::new();
        reserve(&mut v, max as usize + 1)?;
        v.resize(max as usize + 1, u32::MAX);
        for (&id, &ix) in &map {
            v[id as usize] = ix;
        }
        return Ok(Ids::Dense(v));
    }
    Ok(Ids::Map(map))
}

/// Decodes an uncompressed protobuf profile.
pub fn decode(data: &[u8]) -> Result<Profile, DecodeError> {
    decode_with_limits(data, super::limits::DEFAULT_MAX_SAMPLES)
}

/// Decodes an uncompressed protobuf profile of at most `max_samples`
/// samples, within the default memory budget.
pub fn decode_with_limits(data: &[u8], max_samples: usize) -> Result<Profile, DecodeError> {
    let budget = super::limits::default_max_memory_bytes();
    let counts = match budget::scan_all(data, max_samples, budget) {
        Ok(s) => s.counts(),
        Err(Stop::OverBudget) => return Err(DecodeError::OverBudget(budget >> 20)),
        Err(Stop::TooManySamples(n)) => return Err(DecodeError::TooManySamples(n)),
        Err(Stop::ZeroId(what)) => {
            return Err(malformed(format!("found {what} with reserved id=0")))
        }
        // The decoder says what is wrong.
        Err(Stop::Invalid) => Counts::default(),
    };
    decode_counted(data, max_samples, &counts, None)
}

/// Decodes an uncompressed protobuf profile whose top-level fields were
/// counted (and its memory estimated) by the pre-scan.
pub(crate) fn decode_counted(
    data: &[u8],
    max_samples: usize,
    counts: &Counts,
    early: Option<EarlySamples>,
) -> Result<Profile, DecodeError> {
    let raw = scan(
        data,
        max_samples,
        counts,
        early.is_none(),
        None,
        Raw::default(),
    )?;
    decode_raw(
        data,
        &raw,
        max_samples,
        counts,
        early,
        StringTable::Deduplicated,
    )
}

/// How a decoded profile's string table is made.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum StringTable {
    /// Each distinct string once (equal strings, equal ids), indexed.
    Deduplicated,
    /// The file's table as listed, not indexed: equal strings may have
    /// different ids. For merging only, which looks each string up again
    /// (a fleet's loaders then hash each string once, not twice).
    AsListed,
}

/// The lists of table entries, kept by a thread between decodes of small
/// profiles (a fleet loads hundreds): grown anew for each, they cost
/// copies and page faults.
#[derive(Default)]
struct Spare {
    locations: Vec<RawLocation>,
    lines: Vec<RawLine>,
    functions: Vec<pb::Function>,
}

thread_local! {
    static SPARE: std::cell::RefCell<Spare> = std::cell::RefCell::default();
}

/// The most a thread keeps in [`Spare`] lists.
const SPARE_MAX_BYTES: usize = 16 << 20;

/// Decodes an uncompressed protobuf profile without the pre-scan, its
/// memory estimated as its fields are read (within `budget`, else None);
/// None at any error too: the pre-scan and [`decode_counted`] then say
/// what is wrong, as they would have.
pub(crate) fn decode_unscanned(
    data: &[u8],
    max_samples: usize,
    budget: u64,
    strings: StringTable,
) -> Option<Profile> {
    let none = Counts::default();
    let spare = SPARE.with(|s| s.take());
    let start = Raw {
        locations: spare.locations,
        lines: spare.lines,
        functions: spare.functions,
        ..Raw::default()
    };
    let raw = scan(data, max_samples, &none, true, Some(budget), start).ok()?;
    let p = decode_raw(data, &raw, max_samples, &none, None, strings).ok();
    let kept = raw.locations.capacity() * std::mem::size_of::<RawLocation>()
        + raw.lines.capacity() * std::mem::size_of::<RawLine>()
        + raw.functions.capacity() * std::mem::size_of::<pb::Function>();
    if kept <= SPARE_MAX_BYTES {
        let (mut locations, mut lines, mut functions) = (raw.locations, raw.lines, raw.functions);
        locations.clear();
        lines.clear();
        functions.clear();
        SPARE.with(|s| {
            s.replace(Spare {
                locations,
                lines,
                functions,
            })
        });
    }
    p
}

fn decode_raw(
    data: &[u8],
    raw: &Raw,
    max_samples: usize,
    counts: &Counts,
    early: Option<EarlySamples>,
    table: StringTable,
) -> Result<Profile, DecodeError> {
    if data.is_empty() {
        return Err(DecodeError::Wire("empty input".into()));
    }
    let mut p = Profile::default();

    if raw.strings.first().is_some_and(|s| !s.is_empty()) {
        return Err(malformed("string table does not start with \"\"".into()));
    }
    let mut ids = Vec::new();
    reserve(&mut ids, raw.strings.len())?;
    p.strings
        .reserve(raw.strings.len(), raw.strings.iter().map(|s| s.len()).sum());
    let as_listed = table == StringTable::AsListed;
    ids.extend(
        raw.strings
            .iter()
            .enumerate()
            // The validation of valid text is the fast one (lossy's is not).
            .map(|(i, s)| match std::str::from_utf8(s) {
                // The table starts with "", id 0 in any table.
                _ if i == 0 => 0,
                Ok(text) if as_listed => p.strings.push_unindexed(text),
                Ok(text) => p.strings.intern(text),
                Err(_) => p.strings.intern(&String::from_utf8_lossy(s)),
            }),
    );
    let strings = StringMap { ids };
    if strings.ids.is_empty() && (raw.sample_count > 0 || !raw.sample_types.is_empty()) {
        return Err(malformed("missing string table".into()));
    }
    let vt = |v: &pb::ValueType| -> Result<ValueType, DecodeError> {
        Ok(ValueType {
            ty: strings.get(v.r#type)?,
            unit: strings.get(v.unit)?,
        })
    };
    reserve(&mut p.sample_types, raw.sample_types.len())?;
    for v in &raw.sample_types {
        p.sample_types.push(vt(v)?);
    }
    if let Some(pt) = &raw.period_type {
        p.period_type = vt(pt)?;
    }
    p.period = raw.period;
    p.time_nanos = raw.time_nanos;
    p.duration_nanos = raw.duration_nanos;
    p.drop_frames = strings.get(raw.drop_frames)?;
    p.keep_frames = strings.get(raw.keep_frames)?;
    p.default_sample_type = strings.get(raw.default_sample_type)?;
    reserve(&mut p.comments, raw.comments.len())?;
    for &c in &raw.comments {
        p.comments.push(strings.get(c)?);
    }

    let mapping_ids = index_ids("mapping", raw.mappings.iter().map(|m| m.id))?;
    reserve(&mut p.mappings, raw.mappings.len())?;
    for m in &raw.mappings {
        p.mappings.push(Mapping {
            id: m.id,
            start: m.memory_start,
            limit: m.memory_limit,
            offset: m.file_offset,
            file: strings.get(m.filename)?,
            build_id: strings.get(m.build_id)?,
            has_functions: m.has_functions,
            has_filenames: m.has_filenames,
            has_line_numbers: m.has_line_numbers,
            has_inline_frames: m.has_inline_frames,
        });
    }
    let function_ids = index_ids("function", raw.functions.iter().map(|f| f.id))?;
    reserve(&mut p.functions, raw.functions.len())?;
    for f in &raw.functions {
        p.functions.push(Function {
            id: f.id,
            name: strings.get(f.name)?,
            system_name: strings.get(f.system_name)?,
            filename: strings.get(f.filename)?,
            start_line: f.start_line,
        });
    }
    let location_ids = index_ids("location", raw.locations.iter().map(|l| l.id))?;
    reserve(&mut p.locations, raw.locations.len())?;
    let mut line_start = 0;
    for l in &raw.locations {
        let raw_lines = raw
            .lines
            .get(line_start..l.lines_end as usize)
            .unwrap_or_default();
        line_start = l.lines_end as usize;
        let mut lines = Lines::new();
        lines
            .try_reserve_exact(raw_lines.len())
            .map_err(|_| out_of_memory(std::mem::size_of_val(raw_lines)))?;
        for ln in raw_lines {
            let function = function_ids.get(ln.function_id).ok_or_else(|| {
                malformed(format!(
                    "location id: {} has a line with nil function",
                    l.id
                ))
            })?;
            lines.push(Line {
                function,
                line: ln.line,
                column: ln.column,
            });
        }
        p.locations.push(Location {
            id: l.id,
            // An unknown mapping id leaves the location unmapped, as pprof does.
            mapping: mapping_ids.get(l.mapping_id),
            address: l.address,
            lines,
            is_folded: l.is_folded,
        });
    }

    let width = p.sample_types.len();
    let early = early
        .filter(|_| width > 0)
        .and_then(|e| e.resolve(raw.sample_count, width, &location_ids, &strings));
    p.samples = match early {
        Some(s) => s.into(),
        None if raw.samples.len() == raw.sample_count => {
            decode_samples(&raw.samples, width, &location_ids, &strings)?
        }
        // Early samples that could not be used: their bytes, again (the
        // walk already succeeded once).
        None => {
            let raw = scan(data, max_samples, counts, true, None, Raw::default())?;
            decode_samples(&raw.samples, width, &location_ids, &strings)?
        }
    };
    Ok(p)
}

/// How many location ids, values and (non-empty) labels the samples hold,
/// at most: a cheap scan (one varint ends at each byte below 0x80).
/// Malformed input just gives a rough count.
#[derive(Default)]
struct SampleCounts {
    locs: usize,
    values: usize,
    labels: usize,
}

fn count_sample_items(raw: &[&[u8]]) -> SampleCounts {
    let mut c = SampleCounts::default();
    for &bytes in raw {
        let mut buf = bytes;
        while !buf.is_empty() {
            let Ok((tag, wt)) = decode_key(&mut buf) else {
                break;
            };
            let n = match tag {
                1 => &mut c.locs,
                2 => &mut c.values,
                _ => &mut c.labels,
            };
            match (tag, wt) {
                (1 | 2, WireType::LengthDelimited) => match take_bytes(&mut buf) {
                    Ok(packed) => *n += packed.iter().filter(|&&b| b < 0x80).count(),
                    Err(_) => break,
                },
                (1 | 2, WireType::Varint) => {
                    *n += 1;
                    if decode_varint(&mut buf).is_err() {
                        break;
                    }
                }
                (3, WireType::LengthDelimited) => match take_bytes(&mut buf) {
                    // An empty label is not kept.
                    Ok(label) => *n += usize::from(!label.is_empty()),
                    Err(_) => break,
                },
                _ => {
                    if skip_field(wt, tag, &mut buf, DecodeContext::default()).is_err() {
                        break;
                    }
                }
            }
        }
    }
    c
}

/// Decodes the samples; many are decoded on two threads, the second
/// half then appended to the first (errors are reported as a single pass
/// would: the first bad sample's).
fn decode_samples(
    raw: &[&[u8]],
    width: usize,
    location_ids: &Ids,
    strings: &StringMap,
) -> Result<Samples, DecodeError> {
    if width == 0 && !raw.is_empty() {
        return Err(malformed("missing sample type information".into()));
    }
    if raw.len() < 100_000 {
        return Ok(decode_part(raw, width, location_ids, strings)?.into());
    }
    let (first, second) = raw.split_at(raw.len() / 2);
    let (a, b) = std::thread::scope(|scope| {
        let h = scope.spawn(|| decode_part(second, width, location_ids, strings));
        let a = decode_part(first, width, location_ids, strings);
        (a, h.join())
    });
    let mut a = a?;
    let b = match b {
        Ok(b) => b?,
        // A panicking worker is a bug; redo its half here.
        Err(_) => decode_part(second, width, location_ids, strings)?,
    };
    let (locs, labels) = (a.locs.len() as u32, a.labels.len() as u32);
    reserve(&mut a.values, b.values.len())?;
    reserve(&mut a.locs, b.locs.len())?;
    reserve(&mut a.labels, b.labels.len())?;
    reserve(&mut a.loc_start, b.len())?;
    reserve(&mut a.label_start, b.len())?;
    a.values.extend_from_slice(&b.values);
    a.locs.extend_from_slice(&b.locs);
    a.labels.extend_from_slice(&b.labels);
    a.loc_start
        .extend(b.loc_start[1..].iter().map(|&x| x + locs));
    a.label_start
        .extend(b.label_start[1..].iter().map(|&x| x + labels));
    Ok(a.into())
}

fn decode_part(
    raw: &[&[u8]],
    width: usize,
    location_ids: &Ids,
    strings: &StringMap,
) -> Result<SampleData, DecodeError> {
    let mut s = SampleData::new(width);
    // Sized exactly up front: growing by doubling would briefly need twice
    // the largest array of the model. Every count is bounded by the bytes
    // of the samples, whatever the sample types say.
    let n = count_sample_items(raw);
    reserve(&mut s.loc_start, raw.len())?;
    reserve(&mut s.label_start, raw.len())?;
    reserve(&mut s.values, raw.len().saturating_mul(width).min(n.values))?;
    reserve(&mut s.locs, n.locs)?;
    reserve(&mut s.labels, n.labels)?;
    let loc = |id: u64| location_ids.get(id);
    let str_of = |i: i64| strings.get(i);
    for &bytes in raw {
        decode_sample(&mut s, bytes, loc, str_of)?;
    }
    Ok(s)
}

/// Decodes one sample onto `s`, location ids and string indexes through
/// `loc` and `str_of`.
#[inline]
fn decode_sample(
    s: &mut SampleData,
    bytes: &[u8],
    loc: impl Fn(u64) -> Option<u32>,
    str_of: impl Fn(i64) -> Result<StrId, DecodeError>,
) -> Result<(), DecodeError> {
    let width = s.width;
    let mut buf = bytes;
    let values_before = s.values.len();
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        match tag {
            1 => {
                let mut bad = None;
                read_ints(&mut buf, wt, |id| match loc(id) {
                    Some(ix) => s.locs.push(ix),
                    None => bad = Some(id),
                })?;
                if let Some(id) = bad {
                    return Err(malformed(format!(
                        "sample refers to unknown location id {id}"
                    )));
                }
            }
            2 => read_ints(&mut buf, wt, |v| s.values.push(v as i64))?,
            3 => {
                let l: pb::Label = read_message(&mut buf, wt)?;
                let key = str_of(l.key)?;
                if l.str != 0 {
                    s.labels.push(Label {
                        key,
                        str: str_of(l.str)?,
                        num: 0,
                        unit: 0,
                    });
                } else if l.num != 0 || l.num_unit != 0 {
                    s.labels.push(Label {
                        key,
                        str: 0,
                        num: l.num,
                        unit: str_of(l.num_unit)?,
                    });
                }
            }
            _ => skip_field(wt, tag, &mut buf, DecodeContext::default()).map_err(wire)?,
        }
    }
    let n = s.values.len() - values_before;
    if n != width {
        return Err(malformed(format!(
            "mismatch: sample has {n} values vs. {width} types"
        )));
    }
    s.loc_start.push(s.locs.len() as u32);
    s.label_start.push(s.labels.len() as u32);
    Ok(())
}

/// Samples decoded while the data still inflates, on another thread: fed
/// the complete top-level fields as they arrive, it keeps location ids and
/// string indexes as read, to be resolved once the tables (which follow
/// the samples in the usual encoding) are known. It is only a head start:
/// at anything unusual (a sample type after a sample, an id over 32 bits,
/// an invalid sample) it gives up, and the samples are decoded after
/// inflating, as without it, with the same errors.
pub(crate) struct EarlySamples {
    s: Option<SampleData>,
    types: usize,
    /// The largest string index a sample named (checked at the end).
    max_string: i64,
}

impl EarlySamples {
    pub(crate) fn new() -> Self {
        EarlySamples {
            s: None,
            types: 0,
            max_string: 0,
        }
    }

    /// Decodes the samples among `fields` (complete top-level fields).
    pub(crate) fn feed(&mut self, mut fields: &[u8]) {
        if self.types == usize::MAX {
            return;
        }
        if self.step(&mut fields).is_err() {
            self.give_up();
        }
    }

    /// How many samples it holds (0 once it gave up).
    #[cfg(test)]
    pub(crate) fn decoded(&self) -> usize {
        self.s.as_ref().map_or(0, |s| s.len())
    }

    fn give_up(&mut self) {
        self.types = usize::MAX;
        self.s = None;
    }

    fn step(&mut self, buf: &mut &[u8]) -> Result<(), DecodeError> {
        while !buf.is_empty() {
            let (tag, wt) = key(buf)?;
            match (tag, wt) {
                (1, _) => {
                    if self.s.is_some() {
                        return Err(malformed(String::new()));
                    }
                    take_bytes(buf)?;
                    self.types += 1;
                }
                (2, WireType::LengthDelimited) => {
                    let bytes = take_bytes(buf)?;
                    let width = self.types;
                    let s = self.s.get_or_insert_with(|| SampleData::new(width));
                    let max = std::cell::Cell::new(self.max_string);
                    let str_of = |i: i64| {
                        max.set(max.get().max(i));
                        StrId::try_from(i).map_err(|_| malformed(String::new()))
                    };
                    decode_sample(s, bytes, |id| u32::try_from(id).ok(), str_of)?;
                    self.max_string = max.get();
                }
                _ => skip_field(wt, tag, buf, DecodeContext::default()).map_err(wire)?,
            }
        }
        Ok(())
    }

    /// The samples with their ids resolved, when every sample was decoded
    /// early (`count` of them) and every id and index is known; None to
    /// decode them again.
    fn resolve(
        self,
        count: usize,
        width: usize,
        location_ids: &Ids,
        strings: &StringMap,
    ) -> Option<SampleData> {
        let mut s = self.s?;
        if s.len() != count || s.width != width || self.types == usize::MAX {
            return None;
        }
        if usize::try_from(self.max_string).ok()? >= strings.ids.len() {
            return None;
        }
        for l in &mut s.labels {
            l.key = strings.ids[l.key as usize];
            l.str = strings.ids[l.str as usize];
            l.unit = strings.ids[l.unit as usize];
        }
        let ok = |part: &mut [u32]| match location_ids {
            // The usual numbering, 1..=n: a loop the compiler vectorizes.
            &Ids::Sequential(n) => {
                let n = u32::try_from(n).unwrap_or(u32::MAX);
                let mut bad = false;
                for x in part.iter_mut() {
                    bad |= x.wrapping_sub(1) >= n;
                    *x = x.wrapping_sub(1);
                }
                !bad
            }
            _ => part
                .iter_mut()
                .all(|x| match location_ids.get(u64::from(*x)) {
                    Some(ix) => {
                        *x = ix;
                        true
                    }
                    None => false,
                }),
        };
        let mid = s.locs.len() / 2;
        let (a, b) = s.locs.split_at_mut(mid);
        let both = std::thread::scope(|scope| {
            let h = scope.spawn(|| ok(b));
            ok(a) && h.join().unwrap_or(false)
        });
        both.then_some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Locations and functions outside the usual encoding (negative and
    /// 64-bit numbers, unknown and repeated fields, fields out of order)
    /// read as prost reads them, whichever path takes them.
    #[test]
    fn unusual_tables_read_as_prost_reads_them() {
        let line = |function_id, line, column| pb::Line {
            function_id,
            line,
            column,
        };
        let mut p = pb::Profile {
            string_table: vec!["".into(), "f".into(), "g.go".into()],
            function: vec![
                pb::Function {
                    id: 1,
                    name: 1,
                    system_name: 1,
                    filename: 2,
                    start_line: -7,
                },
                pb::Function {
                    id: u64::MAX,
                    name: 1,
                    filename: 2,
                    start_line: 1 << 40,
                    ..Default::default()
                },
            ],
            location: vec![
                pb::Location {
                    id: 1,
                    address: u64::MAX,
                    line: vec![line(1, -3, 2), line(u64::MAX, 9, -1)],
                    is_folded: true,
                    ..Default::default()
                },
                pb::Location {
                    id: 2,
                    mapping_id: 5,
                    address: 0x40_1000,
                    line: vec![line(u64::MAX, 1 << 33, 0)],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let mut bytes = p.encode_to_vec();
        // A third location: an unknown field, the address before the id,
        // the id given twice (the last one counts), a line's fields
        // reversed.
        let loc: &[u8] = &[
            0x48, 0x01, 0x18, 0x80, 0x01, 0x08, 0x09, 0x08, 0x03, 0x22, 0x04, 0x10, 0x05, 0x08,
            0x01,
        ];
        bytes.extend([0x22, loc.len() as u8]);
        bytes.extend(loc);
        // A third function, with a two-byte key for its start line.
        let f: &[u8] = &[0x08, 0x07, 0x10, 0x01, 0xa8, 0x00, 0x04];
        bytes.extend([0x2a, f.len() as u8]);
        bytes.extend(f);
        p = pb::Profile::decode(bytes.as_slice()).expect("prost reads it");
        let got = decode(&bytes).expect("decodes");
        assert_eq!(got.functions.len(), 3);
        for (a, b) in got.functions.iter().zip(&p.function) {
            assert_eq!(
                (a.id, got.str(a.name), got.str(a.system_name), a.start_line),
                (
                    b.id,
                    p.string_table[b.name as usize].as_str(),
                    p.string_table[b.system_name as usize].as_str(),
                    b.start_line
                )
            );
        }
        assert_eq!(got.locations.len(), 3);
        for (a, b) in got.locations.iter().zip(&p.location) {
            assert_eq!(
                (a.id, a.address, a.is_folded, a.mapping),
                (b.id, b.address, b.is_folded, None)
            );
            let lines: Vec<_> = a
                .lines
                .iter()
                .map(|l| (got.functions[l.function as usize].id, l.line, l.column))
                .collect();
            let want: Vec<_> = b
                .line
                .iter()
                .map(|l| (l.function_id, l.line, l.column))
                .collect();
            assert_eq!(lines, want);
        }
        assert_eq!(got.locations[2].id, 3);
        assert_eq!(got.locations[2].address, 0x80);
    }
}
