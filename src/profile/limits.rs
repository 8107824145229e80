//! Limits on what one profile file may hold, so that absurd inputs (a gzip
//! bomb, billions of samples) are refused with a message instead of
//! exhausting memory.

/// Default cap on a profile's decompressed size: 4 GiB.
pub const DEFAULT_MAX_DECOMPRESSED_MB: u64 = 4096;
/// Default cap on the number of samples in one profile.
pub const DEFAULT_MAX_SAMPLES: usize = 100_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of profile data (after gunzip) that one file may hold.
    pub max_decompressed_bytes: u64,
    pub max_samples: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_MB << 20,
            max_samples: DEFAULT_MAX_SAMPLES,
        }
    }
}

impl Limits {
    /// The decompressed-size cap in MB, for messages.
    pub fn max_decompressed_mb(&self) -> u64 {
        self.max_decompressed_bytes >> 20
    }
}
