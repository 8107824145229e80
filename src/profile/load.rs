//! Reading profile files: gzip detected by content, then decoded.

use std::io::Read;
use std::path::Path;

use super::decode::{decode, DecodeError};
use super::model::Profile;

/// Why a profile file could not be loaded. Displayed after the file name:
/// `rprof: current.heap: not a profile: gzip stream truncated`.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Io(String),
    #[error("not a profile: {0}")]
    Gzip(String),
    #[error(transparent)]
    Decode(#[from] DecodeError),
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

/// Decompresses gzip data (all members, as Go's reader does).
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, LoadError> {
    let mut out = Vec::with_capacity(data.len() * 4);
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .map_err(|e| {
            LoadError::Gzip(match e.kind() {
                std::io::ErrorKind::UnexpectedEof => "gzip stream truncated".to_string(),
                _ => format!("corrupt gzip stream ({e})"),
            })
        })?;
    Ok(out)
}

/// Parses profile bytes, compressed or not.
pub fn parse(data: &[u8]) -> Result<Profile, LoadError> {
    if data.is_empty() {
        return Err(DecodeError::Wire("empty file".into()).into());
    }
    if is_gzip(data) {
        let raw = gunzip(data)?;
        if raw.is_empty() {
            return Err(LoadError::Gzip("gzip stream holds no data".into()));
        }
        return Ok(decode(&raw)?);
    }
    Ok(decode(data)?)
}

/// Loads a profile file.
pub fn load(path: &Path) -> Result<Profile, LoadError> {
    parse(&read_file(path)?)
}
