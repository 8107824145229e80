//! Reading profile files: gzip detected by content, then decoded as a
//! protobuf profile or, failing that, as one of the legacy formats pprof
//! still reads (as pprof's `ParseData` does).

use std::io::Read;
use std::path::Path;

use super::budget::{self, Counts, PreScan, Stop};
use super::decode::{decode_counted, decode_unscanned, DecodeError, EarlySamples, StringTable};
use super::legacy::{self, LegacyError};
use super::limits::Limits;
use super::model::Profile;

/// Why a profile file could not be loaded. Displayed after the file name:
/// `rprof: current.heap: not a profile: gzip stream truncated`.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Io(String),
    #[error("not a profile: {0}")]
    Gzip(String),
    /// Neither the protobuf decoder nor a legacy parser recognizes the
    /// data: the decoder's detail (a wire error) would not help the user.
    #[error("not a profile: unrecognized profile format")]
    Unrecognized,
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Recognized as a legacy format, but broken (or over a limit).
    #[error(transparent)]
    Legacy(#[from] LegacyError),
    #[error(
        "profile too large: more than {0} MB of data (raise the limit with -max_decompressed_mb)"
    )]
    TooLarge(u64),
}

fn io_message(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        NotFound => "no such file".to_string(),
        PermissionDenied => "permission denied".to_string(),
        IsADirectory => "is a directory".to_string(),
        _ => e.to_string(),
    }
}

/// Reads a whole file, with a clear message for the usual failures. A
/// regular file or a pipe (`<(curl ...)`); devices such as `/dev/zero` are
/// refused, and at most `max_bytes` + 1 bytes are read (enough for the
/// caller to see the file is over its limit).
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| LoadError::Io(io_message(&e)))?;
    if meta.is_dir() {
        return Err(LoadError::Io("is a directory".into()));
    }
    if !meta.is_file() && !is_pipe(&meta) {
        return Err(LoadError::Io("not a regular file or a pipe".into()));
    }
    let mut data = Vec::new();
    // Sized from the file (a hint: a pipe says 0): no regrowing copies.
    let _ = data.try_reserve_exact(meta.len().min(max_bytes.saturating_add(1)) as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes.saturating_add(1)).read_to_end(&mut data))
        .map_err(|e| LoadError::Io(io_message(&e)))?;
    Ok(data)
}

#[cfg(unix)]
fn is_pipe(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_fifo()
}

#[cfg(not(unix))]
fn is_pipe(_: &std::fs::Metadata) -> bool {
    false
}

/// Whether the bytes start with the gzip magic number.
pub fn is_gzip(data: &[u8]) -> bool {
    data.len() >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

/// The most bytes DEFLATE can produce from one compressed byte (a run of
/// 258-byte matches in fixed codes), rounded up.
const MAX_DEFLATE_RATIO: usize = 1032;

/// Decompresses gzip data (all members, as Go's reader does).
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, LoadError> {
    gunzip_limited(data, &Limits::default())
}

/// Decompresses gzip data, stopping as soon as the output passes the
/// decompressed-size limit (a gzip bomb never gets fully inflated).
pub fn gunzip_limited(data: &[u8], limits: &Limits) -> Result<Vec<u8>, LoadError> {
    let max = limits.max_decompressed_bytes;
    // Sizing the buffer from the trailer avoids regrowing (and briefly
    // doubling) a large one.
    let trailer = trailer_size(data);
    // The trailer is input too: never believe more than DEFLATE can give
    // (about 1032 bytes per compressed byte), and reserve fallibly.
    let most = data.len().saturating_mul(MAX_DEFLATE_RATIO);
    let guess = if trailer >= data.len() / 2 {
        trailer.min(most)
    } else {
        data.len().saturating_mul(4)
    };
    let mut out = Vec::new();
    // Only a hint: when it cannot be had, the buffer grows as data comes.
    let _ = out.try_reserve_exact(guess.min(usize::try_from(max).unwrap_or(usize::MAX)));
    flate2::read::MultiGzDecoder::new(data)
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            LoadError::Gzip(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => "gzip stream truncated".to_string(),
                _ => format!("corrupt gzip stream ({e})"),
            })
        })?;
    if out.len() as u64 > max {
        return Err(LoadError::TooLarge(limits.max_decompressed_mb()));
    }
    Ok(out)
}

/// The uncompressed size a gzip trailer gives (mod 4 GiB; input, so only a
/// hint), 0 without one.
fn trailer_size(data: &[u8]) -> usize {
    data.len()
        .checked_sub(4)
        .and_then(|i| data.get(i..))
        .and_then(|t| t.try_into().ok())
        .map_or(0, |t: [u8; 4]| u32::from_le_bytes(t) as usize)
}

/// Inflates a gzip file of one member in one call (libdeflate), into a
/// buffer of the size its trailer gives, when that size is within the
/// limits and what DEFLATE can give. None when it cannot: more members,
/// trailing bytes, a wrong size, damage; the streaming path then inflates
/// it and says what is wrong.
fn inflate_whole(data: &[u8], limits: &Limits) -> Option<Vec<u8>> {
    let size = trailer_size(data);
    if size == 0
        || size > WHOLE_MAX
        || size as u64 > limits.max_decompressed_bytes
        || size as u64 > limits.max_memory_bytes
        || size > data.len().saturating_mul(MAX_DEFLATE_RATIO)
    {
        return None;
    }
    let mut out = Vec::new();
    out.try_reserve_exact(size).ok()?;
    out.resize(size, 0);
    let (used, made) = gunzip_member(data, &mut out)?;
    (used == data.len() && made == size).then_some(out)
}

/// The largest size [`inflate_whole`] allocates up front on a trailer's
/// word (past it, the streaming path stops a bomb as it inflates).
const WHOLE_MAX: usize = 64 << 20;

/// libdeflate's decompression of the gzip member `data` starts with into
/// `out`: (input bytes used, bytes made), None on any error.
fn gunzip_member(data: &[u8], out: &mut [u8]) -> Option<(usize, usize)> {
    use libdeflate_sys as ld;
    let (mut used, mut made) = (0usize, 0usize);
    // SAFETY: the decompressor is used on this thread only and freed below;
    // the pointers and lengths are those of live slices, and libdeflate
    // reads at most `data.len()` bytes and writes at most `out.len()`.
    let ok = unsafe {
        let d = ld::libdeflate_alloc_decompressor();
        if d.is_null() {
            return None;
        }
        let r = ld::libdeflate_gzip_decompress_ex(
            d,
            data.as_ptr().cast(),
            data.len(),
            out.as_mut_ptr().cast(),
            out.len(),
            &mut used,
            &mut made,
        );
        ld::libdeflate_free_decompressor(d);
        r == ld::libdeflate_result_LIBDEFLATE_SUCCESS
    };
    ok.then_some((used, made))
}

/// Parses profile bytes, compressed or not.
pub fn parse(data: &[u8]) -> Result<Profile, LoadError> {
    parse_with(data, &Limits::default())
}

/// Parses profile bytes, compressed or not, within limits.
pub fn parse_with(data: &[u8], limits: &Limits) -> Result<Profile, LoadError> {
    if data.is_empty() {
        return Err(DecodeError::Wire("empty file".into()).into());
    }
    if data.len() as u64 > limits.max_decompressed_bytes {
        return Err(LoadError::TooLarge(limits.max_decompressed_mb()));
    }
    if is_gzip(data) {
        let limits = &limits.for_compressed(data.len());
        let inflated = inflate_scanned(data, limits, StringTable::Deduplicated)?;
        return inflated.decode(limits);
    }
    decode_any(data, limits)
}

/// The input's bytes and the estimate of the decoder's allocations pass
/// the memory budget.
fn over_budget(limits: &Limits) -> LoadError {
    DecodeError::OverBudget(limits.max_memory_mb()).into()
}

fn scan_stop(stop: Stop, limits: &Limits) -> LoadError {
    match stop {
        Stop::OverBudget => over_budget(limits),
        Stop::TooManySamples(n) => DecodeError::TooManySamples(n).into(),
        Stop::Invalid => LoadError::Unrecognized,
        Stop::ZeroId(what) => {
            DecodeError::Malformed(format!("found {what} with reserved id=0")).into()
        }
    }
}

/// Uncompressed data: pre-scanned (so that nothing is allocated for a
/// profile over the memory budget), then decoded as a protobuf or, failing
/// that, as one of the legacy formats. When no legacy parser recognizes
/// the data either, the data is not a profile (as pprof says,
/// `unrecognized profile format`), unless the protobuf decoded but is
/// malformed.
fn decode_any(data: &[u8], limits: &Limits) -> Result<Profile, LoadError> {
    match budget::scan_all(data, limits.max_samples, limits.max_memory_bytes) {
        Ok(scan) => decode_scanned(data, limits, &scan.counts(), None),
        Err(Stop::Invalid) => legacy_fallback(data, limits, invalid_protobuf()),
        Err(Stop::ZeroId(what)) => legacy_fallback(
            data,
            limits,
            DecodeError::Malformed(format!("found {what} with reserved id=0")),
        ),
        Err(stop) => Err(scan_stop(stop, limits)),
    }
}

/// What the decoder says of data the pre-scan found to be no protobuf.
fn invalid_protobuf() -> DecodeError {
    DecodeError::Wire("invalid protobuf".into())
}

fn decode_scanned(
    data: &[u8],
    limits: &Limits,
    counts: &Counts,
    early: Option<EarlySamples>,
) -> Result<Profile, LoadError> {
    match decode_counted(data, limits.max_samples, counts, early) {
        Ok(p) => Ok(p),
        Err(e) if e.is_final() => Err(e.into()),
        Err(e) => legacy_fallback(data, limits, e),
    }
}

/// The legacy formats, for data the protobuf decoder rejected with `e`.
fn legacy_fallback(data: &[u8], limits: &Limits, e: DecodeError) -> Result<Profile, LoadError> {
    // Only when some parser may take it: else the estimate does not apply.
    if maybe_legacy(data, true)
        && (data.len() as u64).saturating_add(legacy_cost(data.len())) > limits.max_memory_bytes
    {
        return Err(over_budget(limits));
    }
    match legacy::parse(data, limits.max_samples) {
        Ok(p) => Ok(p),
        Err(LegacyError::Unrecognized) => Err(match e {
            DecodeError::Wire(_) => LoadError::Unrecognized,
            other => other.into(),
        }),
        Err(le) => Err(le.into()),
    }
}

/// What the legacy parsers allocate per byte of input, at most: measured
/// about 12 on a text heap profile of short lines (its samples, stacks and
/// the merge), rounded up.
const LEGACY_COST_PER_BYTE: u64 = 16;

/// The legacy parsers' estimated allocations for `len` bytes of input.
fn legacy_cost(len: usize) -> u64 {
    (len as u64).saturating_mul(LEGACY_COST_PER_BYTE)
}

/// Bytes inflated between two steps of the pre-scan.
const CHUNK: usize = 256 << 10;
/// How much of the start of data that is no protobuf is looked at for a
/// legacy format's header (the binary CPU header, or a text header line).
const SNIFF: usize = 1 << 20;
/// Once gzipped data is known to be no profile, inflating goes on (into a
/// scratch buffer) for at most this much more, so that a damaged stream or
/// one over the size limit is reported as such, as when it was inflated
/// whole; a bomb is not inflated further.
const DRAIN: u64 = 64 << 20;

fn gzip_error(e: std::io::Error) -> LoadError {
    LoadError::Gzip(match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "gzip stream truncated".to_string(),
        _ => format!("corrupt gzip stream ({e})"),
    })
}

/// Reads what the stream gives into `buf` (0 at its end).
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, LoadError> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(gzip_error(e)),
        }
    }
}

/// A gzip stream inflated step by step into a buffer that grows within
/// the limits.
struct Inflater<'a> {
    gz: flate2::read::MultiGzDecoder<&'a [u8]>,
    buf: Vec<u8>,
    eof: bool,
    limits: Limits,
}

impl<'a> Inflater<'a> {
    fn new(data: &'a [u8], limits: &Limits) -> Self {
        let mut buf = Vec::new();
        // The gzip trailer holds the uncompressed size (mod 4 GiB): sizing
        // the buffer from it avoids regrowing (and briefly doubling) a
        // large one. The trailer is input too: never believe more than
        // DEFLATE can give, nor more than the limits allow; reserve
        // fallibly (only a hint: the buffer grows as data comes).
        let trailer = data
            .len()
            .checked_sub(4)
            .and_then(|i| data.get(i..))
            .and_then(|t| t.try_into().ok())
            .map_or(0, |t: [u8; 4]| u32::from_le_bytes(t) as u64);
        let len = data.len() as u64;
        if trailer >= len / 2 {
            let guess = trailer
                .min(len.saturating_mul(MAX_DEFLATE_RATIO as u64))
                .min(limits.max_decompressed_bytes.saturating_add(1));
            if guess <= limits.max_memory_bytes {
                let _ = buf.try_reserve_exact(guess as usize);
            }
        }
        Inflater {
            gz: flate2::read::MultiGzDecoder::new(data),
            buf,
            eof: false,
            limits: *limits,
        }
    }

    /// Inflates up to [`CHUNK`] more bytes; false at the end of the
    /// stream. The buffer grows only when it (while the old one is still
    /// held) and, later, the decoder's estimated allocations `cost` fit
    /// the budget.
    fn step(&mut self, cost: u64) -> Result<bool, LoadError> {
        if self.eof {
            return Ok(false);
        }
        let len = self.buf.len();
        // Filling a buffer reserved from the size trailer is checked too.
        if (len as u64).saturating_add(cost) > self.limits.max_memory_bytes {
            return Err(over_budget(&self.limits));
        }
        let spare = self.buf.capacity() - len;
        let n = if spare == 0 {
            let mut probe = [0u8; 4096];
            let n = read_some(&mut self.gz, &mut probe)?;
            if n > 0 {
                let old = self.buf.capacity() as u64;
                let cap = self
                    .limits
                    .max_decompressed_bytes
                    .saturating_add(probe.len() as u64 + 1);
                let new = old
                    .saturating_mul(2)
                    .max((len + CHUNK) as u64)
                    .min(cap)
                    .max((len + n) as u64);
                let budget = self.limits.max_memory_bytes;
                if old.saturating_add(new) > budget || new.saturating_add(cost) > budget {
                    return Err(over_budget(&self.limits));
                }
                let extra = usize::try_from(new).unwrap_or(usize::MAX) - len;
                self.buf
                    .try_reserve_exact(extra)
                    .map_err(|_| DecodeError::OutOfMemory(new.div_ceil(1 << 20)))?;
                self.buf.extend_from_slice(&probe[..n]);
            }
            n
        } else {
            (&mut self.gz)
                .take(spare.min(CHUNK) as u64)
                .read_to_end(&mut self.buf)
                .map_err(gzip_error)?
        };
        if self.buf.len() as u64 > self.limits.max_decompressed_bytes {
            return Err(LoadError::TooLarge(self.limits.max_decompressed_mb()));
        }
        self.eof = n == 0;
        Ok(!self.eof)
    }

    /// Inflates the rest of a legacy (text or binary CPU) profile, held to
    /// the budget with the legacy parsers' cost per byte.
    fn finish_legacy(&mut self) -> Result<(), LoadError> {
        while self.step(legacy_cost(self.buf.capacity()))? {}
        Ok(())
    }
}

/// Inflated data, with the pre-scan's counts when it is a protobuf, and
/// the samples decoded while it inflated.
struct Inflated {
    data: Vec<u8>,
    counts: Option<Counts>,
    early: Option<EarlySamples>,
    /// The profile, when it was decoded right away.
    decoded: Option<Profile>,
}

impl Inflated {
    fn decode(self, limits: &Limits) -> Result<Profile, LoadError> {
        if let Some(p) = self.decoded {
            return Ok(p);
        }
        match &self.counts {
            Some(counts) => decode_scanned(&self.data, limits, counts, self.early),
            None => legacy_fallback(&self.data, limits, invalid_protobuf()),
        }
    }
}

/// Inflates gzip data while pre-scanning the protobuf: the first invalid
/// field stops inflating (data that is no protobuf is inflated further only
/// when its start looks like a legacy format), and so does an estimate of
/// the decoder's allocations over the memory budget.
fn inflate_scanned(
    data: &[u8],
    limits: &Limits,
    strings: StringTable,
) -> Result<Inflated, LoadError> {
    if data.len() < EARLY_MIN {
        // Small files inflate whole, then are scanned: no thread would
        // decode their samples early anyway.
        if let Some(buf) = inflate_whole(data, limits) {
            let budget = limits.max_memory_bytes.saturating_sub(buf.len() as u64);
            if let Some(p) = decode_unscanned(&buf, limits.max_samples, budget, strings) {
                return Ok(Inflated {
                    data: Vec::new(),
                    counts: None,
                    early: None,
                    decoded: Some(p),
                });
            }
            match budget::scan_all(&buf, limits.max_samples, limits.max_memory_bytes) {
                Ok(scan) => {
                    return Ok(Inflated {
                        data: buf,
                        counts: Some(scan.counts()),
                        early: None,
                        decoded: None,
                    })
                }
                // Not a protobuf: the streaming path tries the legacy
                // formats and says what is wrong.
                Err(Stop::Invalid) => {}
                Err(stop) => return Err(scan_stop(stop, limits)),
            }
        }
        return inflate_scanning(data, limits, None);
    }
    // Samples come first in the usual encoding: a second thread decodes
    // them while the rest inflates (copies of the scanned fields, so that
    // the buffer can keep growing).
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(16);
        // Used buffers go back to be filled again: fresh ones would cost
        // page faults on the inflating thread.
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let early = scope.spawn(move || {
            let mut early = EarlySamples::new();
            for fields in rx {
                early.feed(&fields);
                let _ = back_tx.send(fields);
            }
            early
        });
        let inflated = inflate_scanning(data, limits, Some((tx, back_rx)));
        let early = early.join().ok();
        inflated.map(|mut i| {
            if i.counts.is_some() {
                i.early = early;
            }
            i
        })
    })
}

/// Compressed inputs from which samples are decoded while inflating: a
/// smaller profile is not worth a thread (and fleets of them are loaded
/// on two threads already).
const EARLY_MIN: usize = 4 << 20;

/// Where scanned fields go to be decoded early, and their buffers come back.
type EarlyChannel = (
    std::sync::mpsc::SyncSender<Vec<u8>>,
    std::sync::mpsc::Receiver<Vec<u8>>,
);

/// [`inflate_scanned`], sending the scanned fields to `early` as they come.
fn inflate_scanning(
    data: &[u8],
    limits: &Limits,
    mut early: Option<EarlyChannel>,
) -> Result<Inflated, LoadError> {
    let mut sent = 0;
    let mut inf = Inflater::new(data, limits);
    let most = (data.len() as u64).saturating_mul(MAX_DEFLATE_RATIO as u64);
    let mut scan = PreScan::new(limits.max_samples);
    let budget = limits.max_memory_bytes;
    let valid = loop {
        let more = inf.step(scan.cost())?;
        let buffer = inf.buf.capacity() as u64;
        match scan.feed(&inf.buf, most, buffer, budget) {
            Ok(()) => {}
            Err(Stop::Invalid) => break false,
            Err(stop) => return Err(scan_stop(stop, limits)),
        }
        if let (Some((tx, back)), Some(end)) = (&early, scan.complete()) {
            if end > sent {
                let mut fields = back.try_recv().unwrap_or_default();
                fields.clear();
                fields.extend_from_slice(&inf.buf[sent..end]);
                sent = end;
                if tx.send(fields).is_err() {
                    early = None;
                }
            }
        }
        if !more {
            break scan.finish(&inf.buf).is_ok();
        }
    };
    if inf.buf.is_empty() && inf.eof {
        return Err(LoadError::Gzip("gzip stream holds no data".into()));
    }
    if valid {
        return Ok(Inflated {
            data: inf.buf,
            counts: Some(scan.counts()),
            early: None,
            decoded: None,
        });
    }
    // No protobuf: perhaps a legacy profile, gzipped.
    while inf.buf.len() < SNIFF && inf.step(0)? {}
    if maybe_legacy(&inf.buf, inf.eof) {
        inf.finish_legacy()?;
        return Ok(Inflated {
            data: inf.buf,
            counts: None,
            early: None,
            decoded: None,
        });
    }
    // Not a profile; but a damaged stream or one over the size limit is
    // reported as such, as long as that shows soon.
    let mut total = inf.buf.len() as u64;
    let stop = total.saturating_add(DRAIN);
    let mut scratch = vec![0u8; 64 << 10];
    while !inf.eof && total < stop {
        let n = read_some(&mut inf.gz, &mut scratch)?;
        inf.eof = n == 0;
        total += n as u64;
        if total > limits.max_decompressed_bytes {
            return Err(LoadError::TooLarge(limits.max_decompressed_mb()));
        }
    }
    Err(LoadError::Unrecognized)
}

/// Whether data whose start is `start` (all of it when `complete`) may be
/// a legacy profile: the binary CPU header, or a first line (not blank,
/// not a comment) that a text format's header could match (they all say
/// `profile` or `---`; none holds a NUL byte or invalid UTF-8), within the
/// first [`SNIFF`] bytes. When this is false, every legacy parser would say
/// the data is unrecognized (but for a header line past the first MiB).
fn maybe_legacy(start: &[u8], complete: bool) -> bool {
    legacy_cpu_header(start) || legacy_text_header(start, complete)
}

/// The header words `0, 3, 0|1, period > 0, 0` of a binary CPU profile,
/// in any of the word sizes and byte orders the parser tries.
fn legacy_cpu_header(d: &[u8]) -> bool {
    [(4, true), (4, false), (8, true), (8, false)]
        .into_iter()
        .any(|(size, le)| {
            if d.len() < 5 * size {
                return false;
            }
            let word = |i: usize| {
                let b = &d[i * size..(i + 1) * size];
                let fold = |v: u64, &x: &u8| v << 8 | u64::from(x);
                if le {
                    b.iter().rev().fold(0, fold)
                } else {
                    b.iter().fold(0, fold)
                }
            };
            word(0) == 0 && word(1) == 3 && word(2) <= 1 && word(3) > 0 && word(4) == 0
        })
}

fn legacy_text_header(start: &[u8], complete: bool) -> bool {
    let complete = complete && start.len() <= SNIFF;
    let mut rest = &start[..start.len().min(SNIFF)];
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let text = String::from_utf8_lossy(line);
        let t = text.trim();
        if !t.is_empty() && !t.starts_with('#') {
            // Headers are text: binary data (a protobuf) is not taken
            // for one because it happens to hold the words.
            let binary = line.contains(&0) || std::str::from_utf8(line).is_err();
            return !binary && (t.contains("profile") || t.contains("---"));
        }
        rest = next;
    }
    // Only blank lines and comments so far.
    !complete
}

/// Loads a profile file.
pub fn load(path: &Path) -> Result<Profile, LoadError> {
    load_with(path, &Limits::default())
}

/// Loads a profile file within limits; an oversized file is refused
/// before it is read.
pub fn load_with(path: &Path, limits: &Limits) -> Result<Profile, LoadError> {
    load_file(path, limits, StringTable::Deduplicated)
}

/// [`load_with`] for a profile that is only to be merged: a small file's
/// string table may be kept as listed ([`StringTable::AsListed`]).
pub fn load_to_merge(path: &Path, limits: &Limits) -> Result<Profile, LoadError> {
    load_file(path, limits, StringTable::AsListed)
}

fn load_file(path: &Path, limits: &Limits, strings: StringTable) -> Result<Profile, LoadError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_file() && meta.len() > limits.max_decompressed_bytes {
            return Err(LoadError::TooLarge(limits.max_decompressed_mb()));
        }
    }
    let data = read_file(path, limits.max_decompressed_bytes)?;
    if is_gzip(&data) && !data.is_empty() {
        let limits = &limits.for_compressed(data.len());
        let inflated = inflate_scanned(&data, limits, strings)?;
        // The compressed bytes are not needed while decoding.
        drop(data);
        return inflated.decode(limits);
    }
    parse_with(&data, limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use prost::Message;

    /// A profile whose gzip (stored, uncompressed) passes [`EARLY_MIN`], so
    /// that its samples are decoded while it inflates.
    fn big_profile() -> pb::Profile {
        let mut strings: Vec<String> = ["", "samples", "count", "cpu", "nanoseconds", "worker"]
            .map(String::from)
            .to_vec();
        let mut function = Vec::new();
        for i in 0..3000u64 {
            strings.push(format!("pkg.F{i}"));
            function.push(pb::Function {
                id: i + 1,
                name: strings.len() as i64 - 1,
                system_name: strings.len() as i64 - 1,
                filename: 0,
                start_line: 0,
            });
        }
        strings.push("w1".into());
        let location = (0..30_000u64)
            .map(|i| pb::Location {
                id: i + 1,
                address: 0x1000 + i,
                line: vec![pb::Line {
                    function_id: i % 3000 + 1,
                    line: i as i64,
                    column: 0,
                }],
                ..Default::default()
            })
            .collect();
        let mut x = 12345u64;
        let sample = (0..80_000)
            .map(|i| {
                let location_id = (0..20)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        x % 30_000 + 1
                    })
                    .collect();
                let label = match i % 3 {
                    0 => vec![pb::Label {
                        key: 5,
                        str: strings.len() as i64 - 1,
                        ..Default::default()
                    }],
                    1 => vec![pb::Label {
                        key: 5,
                        num: i,
                        num_unit: 2,
                        ..Default::default()
                    }],
                    _ => vec![],
                };
                pb::Sample {
                    location_id,
                    value: vec![1, i],
                    label,
                }
            })
            .collect();
        pb::Profile {
            sample_type: vec![
                pb::ValueType { r#type: 1, unit: 2 },
                pb::ValueType { r#type: 3, unit: 4 },
            ],
            sample,
            location,
            function,
            string_table: strings,
            ..Default::default()
        }
    }

    fn stored_gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::none());
        w.write_all(bytes).expect("in memory");
        w.finish().expect("in memory")
    }

    /// Loading gzipped (samples decoded early) and plain gives the same
    /// profile, or the same error.
    fn same_both_ways(p: &pb::Profile) -> Result<Vec<u8>, String> {
        let bytes = p.encode_to_vec();
        let gz = stored_gzip(&bytes);
        assert!(gz.len() >= EARLY_MIN, "{} bytes", gz.len());
        let early = parse(&gz).map(|p| crate::profile::encode::encode(&p));
        let plain = parse(&bytes).map(|p| crate::profile::encode::encode(&p));
        match (early, plain) {
            (Ok(a), Ok(b)) => {
                assert!(a == b, "profiles differ");
                Ok(a)
            }
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string());
                Err(a.to_string())
            }
            (a, b) => panic!("early {:?} vs plain {:?}", a.err(), b.err()),
        }
    }

    #[test]
    fn samples_decoded_while_inflating_equal_the_plain_decode() {
        let mut p = big_profile();
        let gz = stored_gzip(&p.encode_to_vec());
        let inflated =
            inflate_scanned(&gz, &Limits::default(), StringTable::Deduplicated).expect("inflates");
        assert_eq!(inflated.early.as_ref().map(|e| e.decoded()), Some(80_000));
        let encoded = same_both_ways(&p).expect("valid");
        assert!(encoded.len() > 1000);
        // A sample type after the samples: decoded after inflating.
        let t = p.sample_type.pop().expect("two types");
        let moved = pb::Profile {
            sample_type: vec![],
            ..p.clone()
        };
        let mut bytes = moved.encode_to_vec();
        for vt in [p.sample_type[0], t] {
            // Field 1, after every other field.
            bytes.push(0x0a);
            bytes.push(vt.encoded_len() as u8);
            bytes.extend(vt.encode_to_vec());
        }
        let gz = stored_gzip(&bytes);
        let a = parse(&gz).map(|p| crate::profile::encode::encode(&p));
        let b = parse(&bytes).map(|p| crate::profile::encode::encode(&p));
        assert!(a.is_ok() && a.ok() == b.ok());
    }

    #[test]
    fn bad_samples_give_the_plain_decode_errors() {
        let base = big_profile();
        let mut p = base.clone();
        p.sample[70_000].location_id[3] = 99_999;
        assert_eq!(
            same_both_ways(&p).err().as_deref(),
            Some("malformed profile: sample refers to unknown location id 99999")
        );
        let mut p = base.clone();
        p.sample[60_000].label[0].key = 1 << 40;
        assert!(same_both_ways(&p)
            .err()
            .is_some_and(|e| e.contains("string index 1099511627776 out of range")));
        let mut p = base.clone();
        p.sample[10].label[0].key = 10_000;
        assert!(same_both_ways(&p)
            .err()
            .is_some_and(|e| e.contains("string index 10000 out of range")));
        let mut p = base;
        p.sample[50_000].value.push(3);
        assert!(same_both_ways(&p)
            .err()
            .is_some_and(|e| e.contains("mismatch: sample has 3 values vs. 2 types")));
    }

    /// One gzip member inflates in one call; anything else (more members,
    /// trailing bytes, a trailer that lies, damage) is left to the
    /// streaming path, which gives what Go's reader gives.
    #[test]
    fn whole_gzip_members_only() {
        use std::io::Write;
        let limits = Limits::default();
        let text: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        w.write_all(&text).expect("in memory");
        let one = w.finish().expect("in memory");
        assert_eq!(inflate_whole(&one, &limits).as_deref(), Some(&text[..]));
        let two = [one.clone(), stored_gzip(b"more")].concat();
        assert_eq!(inflate_whole(&two, &limits), None);
        let mut want = text.clone();
        want.extend_from_slice(b"more");
        assert_eq!(gunzip(&two).expect("two members"), want);
        let trailing = [one.clone(), vec![0]].concat();
        assert_eq!(inflate_whole(&trailing, &limits), None);
        for delta in [1u32, u32::MAX] {
            let mut lying = one.clone();
            let n = lying.len();
            let size = u32::from_le_bytes(lying[n - 4..].try_into().expect("4 bytes"));
            lying[n - 4..].copy_from_slice(&size.wrapping_add(delta).to_le_bytes());
            assert_eq!(inflate_whole(&lying, &limits), None);
        }
        let mut damaged = one.clone();
        damaged[20] ^= 0x55;
        assert_eq!(inflate_whole(&damaged, &limits), None);
        assert_eq!(inflate_whole(&one[..one.len() - 1], &limits), None);
        let small = Limits {
            max_decompressed_bytes: 1000,
            ..Limits::default()
        };
        assert_eq!(inflate_whole(&one, &small), None);
    }

    /// Everything a merge decides, ids included.
    fn dump(p: &Profile) -> String {
        let strings: Vec<&str> = p.strings.iter().collect();
        format!(
            "{strings:?}\n{:?}\n{:?}\n{:?}\n{}",
            p.functions,
            p.locations,
            p.samples,
            crate::report::raw::profile_string(p)
        )
    }

    /// A string table that lists "main" and "worker" twice: loaded to merge,
    /// both ids stay; merged, the profile is the one of the usual load.
    #[test]
    fn tables_as_listed_merge_as_deduplicated_ones() {
        let strings = [
            "", "samples", "count", "main", "main", "worker", "worker", "w1",
        ];
        let p = pb::Profile {
            string_table: strings.map(String::from).to_vec(),
            sample_type: vec![pb::ValueType { r#type: 1, unit: 2 }],
            function: (1..=4)
                .map(|id| pb::Function {
                    id,
                    name: 2 + id as i64,
                    system_name: 2 + id as i64,
                    ..Default::default()
                })
                .collect(),
            location: (1..=4)
                .map(|id| pb::Location {
                    id,
                    line: vec![pb::Line {
                        function_id: id,
                        line: 1,
                        column: 0,
                    }],
                    ..Default::default()
                })
                .collect(),
            sample: [vec![1, 3], vec![2, 4], vec![2, 3]]
                .into_iter()
                .enumerate()
                .map(|(i, location_id)| pb::Sample {
                    location_id,
                    value: vec![1 + i as i64],
                    label: vec![pb::Label {
                        key: 5 + i as i64 % 2,
                        str: 7,
                        ..Default::default()
                    }],
                })
                .collect(),
            ..Default::default()
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("dup.pb.gz");
        std::fs::write(&path, stored_gzip(&p.encode_to_vec())).expect("write");
        let listed = load_to_merge(&path, &Limits::default()).expect("loads");
        let usual = load(&path).expect("loads");
        assert_eq!(listed.strings.len(), strings.len());
        assert_eq!(usual.strings.len(), strings.len() - 2);
        let merged = |ps: &[Profile]| {
            let mut m = crate::profile::merge::Streaming::new(&ps[0]);
            for q in &ps[1..] {
                assert!(m.add(q));
            }
            let p = m.finish();
            dump(&p)
        };
        let listed3 = [listed.clone(), listed.clone(), listed];
        let usual3 = [usual.clone(), usual.clone(), usual];
        assert_eq!(merged(&listed3), merged(&usual3));
        assert_eq!(
            merged(&usual3),
            dump(&crate::profile::merge::merge(&usual3).expect("merge"))
        );
    }
}
