//! Reading profile files: gzip detected by content, then decoded as a
//! protobuf profile or, failing that, as one of the legacy formats pprof
//! still reads (as pprof's `ParseData` does).

use std::io::Read;
use std::path::Path;

use super::decode::{decode_with_limits, DecodeError};
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

/// Reads a whole file, with a clear message for the usual failures.
pub fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    if path.is_dir() {
        return Err(LoadError::Io("is a directory".into()));
    }
    std::fs::read(path).map_err(|e| LoadError::Io(io_message(&e)))
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
        let raw = gunzip_limited(data, limits)?;
        if raw.is_empty() {
            return Err(LoadError::Gzip("gzip stream holds no data".into()));
        }
        return decode_any(&raw, limits);
    }
    decode_any(data, limits)
}

/// Protobuf first; legacy formats when that fails. When no legacy parser
/// recognizes the data either, the data is not a profile (as pprof says,
/// `unrecognized profile format`), unless the protobuf decoded but is
/// malformed.
fn decode_any(data: &[u8], limits: &Limits) -> Result<Profile, LoadError> {
    match decode_with_limits(data, limits.max_samples) {
        Ok(p) => Ok(p),
        Err(DecodeError::TooManySamples(n)) => Err(DecodeError::TooManySamples(n).into()),
        Err(e) => match legacy::parse(data, limits.max_samples) {
            Ok(p) => Ok(p),
            Err(LegacyError::Unrecognized) => Err(match e {
                DecodeError::Wire(_) => LoadError::Unrecognized,
                other => other.into(),
            }),
            Err(le) => Err(le.into()),
        },
    }
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
    let data = read_file(path)?;
    if is_gzip(&data) && !data.is_empty() {
        let raw = gunzip_limited(&data, limits)?;
        // The compressed bytes are not needed while decoding.
        drop(data);
        if raw.is_empty() {
            return Err(LoadError::Gzip("gzip stream holds no data".into()));
        }
        return decode_any(&raw, limits);
    }
    parse_with(&data, limits)
}
