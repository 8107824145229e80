//! Reading profile files: gzip detected by content, then decoded as a
//! protobuf profile or, failing that, as one of the legacy formats pprof
//! still reads (as pprof's `ParseData` does).

use std::io::Read;
use std::path::Path;

use super::budget::{self, Counts, PreScan, Stop};
use super::decode::{decode_counted, DecodeError};
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
    // The gzip trailer holds the uncompressed size (mod 4 GiB): sizing the
    // buffer from it avoids regrowing (and briefly doubling) a large one.
    let trailer = data
        .len()
        .checked_sub(4)
        .and_then(|i| data.get(i..))
        .and_then(|t| t.try_into().ok())
        .map_or(0, |t: [u8; 4]| u32::from_le_bytes(t) as usize);
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
        let inflated = inflate_scanned(data, limits)?;
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
        Ok(scan) => decode_scanned(data, limits, &scan.counts()),
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

fn decode_scanned(data: &[u8], limits: &Limits, counts: &Counts) -> Result<Profile, LoadError> {
    match decode_counted(data, limits.max_samples, counts) {
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

/// Inflated data, with the pre-scan's counts when it is a protobuf.
struct Inflated {
    data: Vec<u8>,
    counts: Option<Counts>,
}

impl Inflated {
    fn decode(self, limits: &Limits) -> Result<Profile, LoadError> {
        match &self.counts {
            Some(counts) => decode_scanned(&self.data, limits, counts),
            None => legacy_fallback(&self.data, limits, invalid_protobuf()),
        }
    }
}

/// Inflates gzip data while pre-scanning the protobuf: the first invalid
/// field stops inflating (data that is no protobuf is inflated further only
/// when its start looks like a legacy format), and so does an estimate of
/// the decoder's allocations over the memory budget.
fn inflate_scanned(data: &[u8], limits: &Limits) -> Result<Inflated, LoadError> {
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
        });
    }
    // No protobuf: perhaps a legacy profile, gzipped.
    while inf.buf.len() < SNIFF && inf.step(0)? {}
    if maybe_legacy(&inf.buf, inf.eof) {
        inf.finish_legacy()?;
        return Ok(Inflated {
            data: inf.buf,
            counts: None,
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
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_file() && meta.len() > limits.max_decompressed_bytes {
            return Err(LoadError::TooLarge(limits.max_decompressed_mb()));
        }
    }
    let data = read_file(path, limits.max_decompressed_bytes)?;
    if is_gzip(&data) && !data.is_empty() {
        let limits = &limits.for_compressed(data.len());
        let inflated = inflate_scanned(&data, limits)?;
        // The compressed bytes are not needed while decoding.
        drop(data);
        return inflated.decode(limits);
    }
    parse_with(&data, limits)
}
