//! The memory budget of loading one profile, checked before anything is
//! allocated: an incremental scan of the top-level protobuf fields (run as
//! the data inflates) validates each field's key and wire type and adds up
//! an upper bound of what [`super::decode`] will allocate for it.
//!
//! The scan only rejects what the decoder would reject with a wire error
//! (so that the legacy formats are still tried on data that is no
//! protobuf); it looks inside no field, so a field's content is checked by
//! the decoder, once everything is in memory and known to fit the budget.

use std::mem::size_of;

use super::model::{Function, Line, Location, Mapping, StrId, ValueType};
use crate::pb;

/// How many elements of each repeated top-level field the data holds (for
/// `comments`, an upper bound: one per byte of a packed list): the decoder
/// reserves its tables exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sample_types: usize,
    pub samples: usize,
    pub mappings: usize,
    pub locations: usize,
    pub functions: usize,
    pub strings: usize,
    pub comments: usize,
}

/// Why the scan stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Not a protobuf profile: the decoder would fail with a wire error
    /// (or the data ends inside a field).
    Invalid,
    /// More samples than allowed (checked in order, as the decoder does).
    TooManySamples(usize),
    /// The data plus the decoder's estimated allocations pass the budget.
    OverBudget,
    /// A mapping, location or function without an id (the decoder refuses
    /// it too): caught here so that runs of empty messages are refused
    /// before anything is allocated for them.
    ZeroId(&'static str),
}

/// Nesting of unknown groups the scan follows (prost gives up at 100).
const MAX_GROUP_DEPTH: usize = 128;

/// Fixed allowance for everything not proportional to the input (empty
/// tables, the smallest hash tables, the profile struct).
pub(crate) const BASE_COST: u64 = 64 << 10;

/// Bytes per element of a hash table reserved once for `n` elements:
/// hashbrown takes the next power of two of `n * 8 / 7` buckets (so at most
/// `16 / 7` per element), each holding the entry and a control byte.
const fn hash_entry(entry: usize) -> u64 {
    ((entry + 1) * 16 / 7 + 1) as u64
}

/// The smallest heap block malloc hands out, with its header.
const MALLOC_MIN: u64 = 32;

/// What the decoder allocates for one top-level field of `len` bytes (0
/// for a varint): an upper bound. The input buffer itself is counted by
/// the caller.
pub(crate) fn field_cost(tag: u32, len: u64) -> u64 {
    let sz = |n: usize| n as u64;
    match tag {
        // Raw list entry and the model's value type.
        1 => sz(size_of::<pb::ValueType>() + size_of::<ValueType>()),
        // A borrowed slice, the two sample starts; per byte, at most one
        // i64 value (each takes a byte), a u32 location index, or a label
        // (24 bytes for a label of at least 4 bytes): all reserved exactly.
        2 => sz(size_of::<&[u8]>() + 2 * size_of::<u32>()) + 8 * len,
        // Raw message, model entry, id index.
        3 => {
            sz(size_of::<pb::Mapping>() + size_of::<Mapping>())
                + hash_entry(size_of::<(u64, u32)>())
        }
        5 => {
            sz(size_of::<pb::Function>() + size_of::<Function>())
                + hash_entry(size_of::<(u64, u32)>())
        }
        // Raw message, model entry, id index, the dense id table (at most
        // two u32 per location), and the two line lists: prost grows its
        // own (capacity at most twice the lines, or 4, while the old block
        // is copied: 3/2 of a line per byte, as a line takes 2 bytes; a
        // first block of 4 lines), the model's is exact (1/2 per byte).
        4 => {
            sz(size_of::<pb::Location>() + size_of::<Location>())
                + hash_entry(size_of::<(u64, u32)>())
                + sz(2 * size_of::<u32>())
                + sz(4 * size_of::<pb::Line>())
                + 2 * MALLOC_MIN
                + len * sz(3 * size_of::<pb::Line>() + size_of::<Line>()) / 2
        }
        // Raw slice and index; interned: two boxed copies (of up to 3
        // bytes per input byte once invalid UTF-8 is replaced, plus the
        // replaced copy while it is made), a list entry and a hash entry
        // in tables that double (twice the entries, plus the old table
        // while growing).
        6 => {
            sz(size_of::<&[u8]>() + size_of::<StrId>())
                + 2 * MALLOC_MIN
                + 3 * sz(size_of::<Box<str>>())
                + 3 * hash_entry(size_of::<(Box<str>, StrId)>())
                + 9 * len
        }
        // One i64 per value (at least a byte each) and the model's id.
        13 => (len.max(1)) * sz(size_of::<i64>() + size_of::<StrId>()),
        _ => 0,
    }
}

/// Reads a varint at the start of `data`: `Ok(None)` when more bytes are
/// needed, `Err` when it is invalid (as prost's decoder says: more than 10
/// bytes, or over 64 bits).
#[inline]
fn varint(data: &[u8]) -> Result<Option<(u64, usize)>, ()> {
    // Most keys, ids and lengths take a byte or two.
    match *data {
        [b, ..] if b < 0x80 => return Ok(Some((u64::from(b), 1))),
        [b0, b1, ..] if b1 < 0x80 => {
            return Ok(Some((u64::from(b0 & 0x7f) | u64::from(b1) << 7, 2)))
        }
        _ => {}
    }
    let mut v = 0u64;
    for (i, &b) in data.iter().enumerate().take(10) {
        if i == 9 && b >= 0x02 {
            return Err(());
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok(Some((v, i + 1)));
        }
    }
    if data.len() >= 10 {
        Err(())
    } else {
        Ok(None)
    }
}

/// The `id` (field 1) of a mapping, location or function message: 0 when
/// it has none, `None` when the message does not parse (the decoder then
/// says why).
fn element_id(mut msg: &[u8]) -> Option<u64> {
    // Written by every producer: the id first. A later id field would
    // replace it; the decoder checks ids again, so only an empty or
    // id-less message needs the walk below.
    if let [0x08, rest @ ..] = msg {
        if let Ok(Some((id, _))) = varint(rest) {
            if id != 0 {
                return Some(id);
            }
        }
    }
    let mut id = 0;
    while !msg.is_empty() {
        let (key, n) = varint(msg).ok()??;
        msg = &msg[n..];
        let (tag, wt) = (key >> 3, key & 7);
        let skip = match wt {
            0 => {
                let (v, n) = varint(msg).ok()??;
                if tag == 1 {
                    id = v;
                }
                n
            }
            1 => 8,
            5 => 4,
            2 => {
                let (len, n) = varint(msg).ok()??;
                n.checked_add(usize::try_from(len).ok()?)?
            }
            _ => return None,
        };
        msg = msg.get(skip..)?;
    }
    Some(id)
}

/// The incremental scan: feed it the data as it grows.
#[derive(Debug)]
pub struct PreScan {
    /// Bytes of complete fields scanned.
    pos: usize,
    /// Open groups of unknown fields (their tags), innermost last.
    groups: Vec<u32>,
    counts: Counts,
    cost: u64,
    fields: usize,
    max_samples: usize,
}

impl PreScan {
    pub fn new(max_samples: usize) -> Self {
        PreScan {
            pos: 0,
            groups: Vec::new(),
            counts: Counts::default(),
            cost: BASE_COST,
            fields: 0,
            max_samples,
        }
    }

    /// The decoder's estimated allocations for the fields scanned so far
    /// (not counting the input buffer).
    pub fn cost(&self) -> u64 {
        self.cost
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Where the complete top-level fields scanned so far end (None inside
    /// an unknown group).
    pub fn complete(&self) -> Option<usize> {
        self.groups.is_empty().then_some(self.pos)
    }

    /// How many complete top-level fields were scanned.
    pub fn fields(&self) -> usize {
        self.fields
    }

    /// Scans the complete fields of `data` not scanned yet. `most` is the
    /// most bytes the whole input can hold (a field declared to end past
    /// it can never be complete); `buffer` is what the input buffer takes
    /// now; `budget` bounds buffer plus estimate. A field whose length is
    /// known is charged before its bytes arrive.
    pub fn feed(&mut self, data: &[u8], most: u64, buffer: u64, budget: u64) -> Result<(), Stop> {
        loop {
            let rest = &data[self.pos..];
            if rest.is_empty() {
                return Ok(());
            }
            let Some((key, klen)) = varint(rest).map_err(|_| Stop::Invalid)? else {
                return Ok(());
            };
            if key > u64::from(u32::MAX) {
                return Err(Stop::Invalid);
            }
            let wt = key & 7;
            let tag = (key >> 3) as u32;
            if tag == 0 || wt > 5 {
                return Err(Stop::Invalid);
            }
            let top = self.groups.is_empty();
            if top {
                let ok = match tag {
                    1..=6 | 11 => wt == 2,
                    7..=10 | 12 | 14 => wt == 0,
                    13 => wt == 0 || wt == 2,
                    _ => wt != 4,
                };
                if !ok {
                    return Err(Stop::Invalid);
                }
                // The decoder counts samples as it meets their keys.
                if tag == 2 && self.counts.samples >= self.max_samples {
                    return Err(Stop::TooManySamples(self.max_samples));
                }
            }
            let body = &rest[klen..];
            // Bytes of the value (after the key) and of its length prefix.
            let (len, hlen) = match wt {
                0 => match varint(body).map_err(|_| Stop::Invalid)? {
                    Some((_, n)) => (0, n),
                    None => return Ok(()),
                },
                1 => (8, 0),
                5 => (4, 0),
                2 => match varint(body).map_err(|_| Stop::Invalid)? {
                    Some((n, h)) => (n, h),
                    None => return Ok(()),
                },
                3 => {
                    if self.groups.len() >= MAX_GROUP_DEPTH {
                        return Err(Stop::Invalid);
                    }
                    self.groups.push(tag);
                    self.pos += klen;
                    continue;
                }
                _ => {
                    // End of a group: it must close the innermost one.
                    if self.groups.pop() != Some(tag) {
                        return Err(Stop::Invalid);
                    }
                    self.pos += klen;
                    if self.groups.is_empty() {
                        self.fields += 1;
                    }
                    continue;
                }
            };
            let start = (self.pos + klen + hlen) as u64;
            let end = start.checked_add(len).ok_or(Stop::Invalid)?;
            if end > most {
                return Err(Stop::Invalid);
            }
            let cost = if top {
                field_cost(tag, if wt == 2 { len } else { 0 })
            } else {
                0
            };
            if self
                .cost
                .saturating_add(cost)
                .saturating_add(buffer.max(end))
                > budget
            {
                return Err(Stop::OverBudget);
            }
            if end > data.len() as u64 {
                return Ok(());
            }
            self.pos = end as usize;
            if !top {
                continue;
            }
            let what = match tag {
                3 => "mapping",
                4 => "location",
                5 => "function",
                _ => "",
            };
            if !what.is_empty() && element_id(&data[start as usize..end as usize]) == Some(0) {
                return Err(Stop::ZeroId(what));
            }
            self.cost += cost;
            self.fields += 1;
            let c = &mut self.counts;
            match tag {
                1 => c.sample_types += 1,
                2 => c.samples += 1,
                3 => c.mappings += 1,
                4 => c.locations += 1,
                5 => c.functions += 1,
                6 => c.strings += 1,
                13 => c.comments += if wt == 2 { len as usize } else { 1 },
                _ => {}
            }
        }
    }

    /// After the last `feed`: the data must end between fields.
    pub fn finish(&self, data: &[u8]) -> Result<(), Stop> {
        if self.pos == data.len() && self.groups.is_empty() {
            Ok(())
        } else {
            Err(Stop::Invalid)
        }
    }
}

/// Scans complete data in one go.
pub fn scan_all(data: &[u8], max_samples: usize, budget: u64) -> Result<PreScan, Stop> {
    let mut s = PreScan::new(max_samples);
    s.feed(data, data.len() as u64, data.len() as u64, budget)?;
    s.finish(data)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(varint(&[]), Ok(None));
        assert_eq!(varint(&[0x80]), Ok(None));
        assert_eq!(varint(&[0x96, 0x01]), Ok(Some((150, 2))));
        assert_eq!(varint(&[0xff; 9]), Ok(None));
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(varint(&max), Ok(Some((u64::MAX, 10))));
        max[9] = 0x02;
        assert_eq!(varint(&max), Err(()));
        assert_eq!(varint(&[0xff; 11]), Err(()));
    }

    #[test]
    fn fields_and_groups() {
        // sample type, period (varint), unknown fixed64, unknown group.
        let mut data = vec![0x0a, 0x02, 0x08, 0x01, 0x60, 0x05];
        data.extend([0x79, 1, 2, 3, 4, 5, 6, 7, 8]);
        data.extend([0x7b, 0x08, 0x01, 0x7c]);
        let s = scan_all(&data, 10, u64::MAX).expect("valid");
        assert_eq!(s.fields(), 4);
        assert_eq!(s.counts().sample_types, 1);
        // Incomplete: waits, then finish fails.
        let mut s = PreScan::new(10);
        assert_eq!(s.feed(&data[..3], 100, 3, u64::MAX), Ok(()));
        assert_eq!(s.finish(&data[..3]), Err(Stop::Invalid));
        // Tag 0, wrong wire types, stray end group.
        for bad in [&[0x00][..], &[0x08, 0x01], &[0x3a, 0x00], &[0x7c]] {
            assert_eq!(
                scan_all(bad, 10, u64::MAX).err(),
                Some(Stop::Invalid),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn budget_and_samples() {
        assert_eq!(
            scan_all(&[0x22, 0x00], 10, 1 << 30).err(),
            Some(Stop::ZeroId("location"))
        );
        let locations = [0x22, 0x02, 0x08, 0x01].repeat(1000);
        assert!(scan_all(&locations, 10, 1 << 30).is_ok());
        assert_eq!(
            scan_all(&locations, 10, 100_000).err(),
            Some(Stop::OverBudget)
        );
        let samples = [0x12, 0x00].repeat(11);
        assert_eq!(
            scan_all(&samples, 10, u64::MAX).err(),
            Some(Stop::TooManySamples(10))
        );
        // A declared length is charged before its bytes arrive.
        let mut s = PreScan::new(10);
        let head = [0x32, 0x80, 0x80, 0x80, 0x01]; // a 2 MiB string
        assert_eq!(s.feed(&head, 1 << 30, 5, 1 << 20), Err(Stop::OverBudget));
        // ... unless it can never arrive: then the data is no protobuf.
        let mut s = PreScan::new(10);
        assert_eq!(s.feed(&head, 1000, 5, 1 << 20), Err(Stop::Invalid));
    }
}
