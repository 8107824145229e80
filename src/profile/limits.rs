//! Limits on what one profile file may hold, so that absurd inputs (a gzip
//! bomb, billions of samples, millions of empty table entries) are refused
//! with a message instead of exhausting memory.

/// Default cap on a profile's decompressed size: 4 GiB.
pub const DEFAULT_MAX_DECOMPRESSED_MB: u64 = 4096;
/// Default cap on the number of samples in one profile.
pub const DEFAULT_MAX_SAMPLES: usize = 100_000_000;
/// The default memory budget is a quarter of physical memory, at most this.
pub const MAX_DEFAULT_MEMORY_MB: u64 = 16384;
/// The default memory budget when physical memory is unknown.
pub const FALLBACK_MEMORY_MB: u64 = 2048;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of profile data (after gunzip) that one file may hold.
    pub max_decompressed_bytes: u64,
    pub max_samples: usize,
    /// Bytes that loading one profile may allocate (estimated before
    /// allocating: the decompressed data plus the decoded tables).
    pub max_memory_bytes: u64,
    /// For gzipped input: memory at most this many times the compressed
    /// size (but at least [`MIN_EXPANSION_BUDGET`]), so that a small file
    /// cannot make rprof use gigabytes; `None` when the user set
    /// `-max_memory_mb` (then that alone applies).
    pub max_expansion: Option<u64>,
}

/// What any gzipped input may use, however small: real profiles of a few
/// KB need far less.
pub const MIN_EXPANSION_BUDGET: u64 = 512 << 20;
/// Memory per compressed byte allowed by default. Real profiles need about
/// 10 (a 27 MB gzipped 1M-sample profile: 246 MB); a gzip bomb of empty
/// messages needs thousands.
pub const DEFAULT_MAX_EXPANSION: u64 = 128;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_MB << 20,
            max_samples: DEFAULT_MAX_SAMPLES,
            max_memory_bytes: default_max_memory_bytes(),
            max_expansion: Some(DEFAULT_MAX_EXPANSION),
        }
    }
}

impl Limits {
    /// The decompressed-size cap in MB, for messages.
    pub fn max_decompressed_mb(&self) -> u64 {
        self.max_decompressed_bytes >> 20
    }

    /// The memory budget in MB, for messages.
    pub fn max_memory_mb(&self) -> u64 {
        self.max_memory_bytes >> 20
    }

    /// The limits for `compressed` bytes of gzip: the memory budget held
    /// to the expansion cap.
    pub fn for_compressed(&self, compressed: usize) -> Limits {
        let mut l = *self;
        if let Some(x) = self.max_expansion {
            let cap = (compressed as u64)
                .saturating_mul(x)
                .max(MIN_EXPANSION_BUDGET);
            l.max_memory_bytes = l.max_memory_bytes.min(cap);
        }
        l
    }
}

/// The default memory budget: a quarter of physical memory (at most
/// [`MAX_DEFAULT_MEMORY_MB`]; [`FALLBACK_MEMORY_MB`] when unknown), and no
/// more than half of an address-space or data-segment limit (`ulimit -v`,
/// `ulimit -d`), so that the budget runs out before an allocation fails.
pub fn default_max_memory_bytes() -> u64 {
    let budget = physical_memory()
        .map_or(FALLBACK_MEMORY_MB << 20, |b| b / 4)
        .min(MAX_DEFAULT_MEMORY_MB << 20);
    match memory_rlimit() {
        Some(limit) => budget.min(limit / 2),
        None => budget,
    }
}

#[cfg(unix)]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let pages = u64::try_from(pages).ok().filter(|&p| p > 0)?;
    let size = u64::try_from(size).ok().filter(|&s| s > 0)?;
    Some(pages.saturating_mul(size))
}

#[cfg(not(unix))]
fn physical_memory() -> Option<u64> {
    None
}

/// The smaller of the address-space and data-segment soft limits, if any.
#[cfg(unix)]
fn memory_rlimit() -> Option<u64> {
    let get = |resource| {
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        let ok = unsafe { libc::getrlimit(resource, &mut rl) } == 0;
        // rlim_t is not u64 everywhere.
        #[allow(clippy::unnecessary_cast)]
        let cur = rl.rlim_cur as u64;
        (ok && rl.rlim_cur != libc::RLIM_INFINITY).then_some(cur)
    };
    [get(libc::RLIMIT_AS), get(libc::RLIMIT_DATA)]
        .into_iter()
        .flatten()
        .min()
}

#[cfg(not(unix))]
fn memory_rlimit() -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_is_bounded() {
        let b = default_max_memory_bytes();
        assert!(b > 0);
        assert!(b <= MAX_DEFAULT_MEMORY_MB << 20);
    }
}
