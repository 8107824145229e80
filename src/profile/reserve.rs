//! Memory made ready ahead of need: zeroed sample arrays whose pages are
//! already in memory, for the next filtered copy of a profile's samples.
//!
//! A copy writes fresh memory, and the first touch of each page costs a
//! page fault and the clearing of the page: 0.5 ms per MB here, 1.6 ms per
//! MB on a virtual machine whose freed pages went back to its host, so
//! 50-170 ms of a web UI request that copies 1M samples (100 MB). The web
//! server keeps this reserve filled from a background thread while it
//! waits for requests ([`keep_filled`]); a request then takes its arrays
//! from it ([`take_u32`] and friends) and only copies.

use std::sync::{Condvar, Mutex};

use super::model::{Label, SampleData};

/// Arrays smaller than this are allocated as usual (faulting them in costs
/// little, and the reserve is kept for the big ones).
const MIN_BYTES: usize = 1 << 20;

/// Zeroed arrays, each with `len == capacity`.
struct Pool<T> {
    free: Mutex<Vec<Vec<T>>>,
}

impl<T: Copy + Default> Pool<T> {
    const fn new() -> Self {
        Pool {
            free: Mutex::new(Vec::new()),
        }
    }

    /// `n` zeros: the smallest pooled array that holds them, cut to `n`
    /// (its tail given back to the system), else a fresh one.
    fn take(&self, n: usize) -> Vec<T> {
        if n * std::mem::size_of::<T>() >= MIN_BYTES {
            let found = {
                let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
                let best = (0..free.len())
                    .filter(|&i| free[i].len() >= n)
                    .min_by_key(|&i| free[i].len());
                best.map(|i| free.swap_remove(i))
            };
            if let Some(mut v) = found {
                v.truncate(n);
                v.shrink_to_fit();
                *TAKEN.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                TAKEN.1.notify_all();
                return v;
            }
        }
        vec![T::default(); n]
    }

    /// Makes the pool hold arrays of these lengths (the ones missing are
    /// allocated and written, which faults their pages in).
    fn fill(&self, lens: &[usize]) {
        let mut want: Vec<usize> = lens
            .iter()
            .copied()
            .filter(|&n| n * std::mem::size_of::<T>() >= MIN_BYTES)
            .collect();
        // Largest first on both sides: each held array stands for the
        // largest wanted length it holds.
        want.sort_unstable_by(|a, b| b.cmp(a));
        {
            let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let mut held: Vec<usize> = free.iter().map(Vec::len).collect();
            held.sort_unstable_by(|a, b| b.cmp(a));
            for len in held {
                if let Some(k) = want.iter().position(|&n| n <= len) {
                    want.remove(k);
                }
            }
        }
        for n in want {
            let mut v = Vec::new();
            if v.try_reserve_exact(n).is_err() {
                return;
            }
            // Written, not calloc'ed: the point is to touch every page.
            v.resize(n, T::default());
            self.free.lock().unwrap_or_else(|e| e.into_inner()).push(v);
        }
    }
}

static U32S: Pool<u32> = Pool::new();
static I64S: Pool<i64> = Pool::new();
static LABELS: Pool<Label> = Pool::new();

/// How many arrays were taken from the reserve so far, and its signal
/// (for [`keep_filled`]).
static TAKEN: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

/// `n` zeroed `u32`s (from the reserve when it holds enough).
pub fn take_u32(n: usize) -> Vec<u32> {
    U32S.take(n)
}

/// `n` zeroed `i64`s (from the reserve when it holds enough).
pub fn take_i64(n: usize) -> Vec<i64> {
    I64S.take(n)
}

/// `n` default labels (from the reserve when it holds enough).
pub fn take_labels(n: usize) -> Vec<Label> {
    LABELS.take(n)
}

/// Empty sample arrays with room for `like`'s, from the reserve when it
/// holds enough (for a filter that pushes the samples it keeps).
pub fn room_for(like: &SampleData) -> SampleData {
    fn empty<T>(mut v: Vec<T>) -> Vec<T> {
        v.clear();
        v
    }
    let starts = || {
        let mut v = empty(take_u32(like.len() + 1));
        v.push(0);
        v
    };
    SampleData {
        width: like.width,
        values: empty(take_i64(like.values.len())),
        loc_start: starts(),
        locs: empty(take_u32(like.locs.len())),
        label_start: starts(),
        labels: empty(take_labels(like.labels.len())),
    }
}

/// Fills the reserve with arrays for a copy of `s`'s samples.
pub fn fill_for(s: &SampleData) {
    let n = s.len();
    I64S.fill(&[s.values.len()]);
    U32S.fill(&[n + 1, s.locs.len(), n + 1]);
    LABELS.fill(&[s.labels.len()]);
}

/// Keeps the reserve filled for copies of `s`'s samples, for ever: fills
/// it, then waits until something is taken, and a little more (the request
/// that took it is still at work), before filling it again (run on a
/// background thread).
pub fn keep_filled(s: &SampleData) -> ! {
    loop {
        let seen = *TAKEN.0.lock().unwrap_or_else(|e| e.into_inner());
        fill_for(s);
        let mut taken = TAKEN.0.lock().unwrap_or_else(|e| e.into_inner());
        while *taken == seen {
            taken = TAKEN.1.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
        drop(taken);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taken_arrays_are_zeroed_and_cut_to_size() {
        let pool: Pool<u32> = Pool::new();
        let big = MIN_BYTES; // in u32s: 4 MB
        pool.fill(&[big, 2 * big]);
        pool.fill(&[big]); // already there: nothing added
        pool.fill(&[2 * big, big]); // the same, in another order
        assert_eq!(pool.free.lock().unwrap().len(), 2);
        let a = pool.take(big - 5);
        assert_eq!(a.len(), big - 5);
        assert!(a.iter().all(|&x| x == 0));
        // The smallest that fits was taken; the other one is left.
        assert_eq!(pool.free.lock().unwrap()[0].len(), 2 * big);
        let b = pool.take(2 * big + 1); // none is big enough
        assert_eq!(b.len(), 2 * big + 1);
        assert_eq!(pool.free.lock().unwrap().len(), 1);
        let c = pool.take(10); // small: never from the pool
        assert_eq!(c, vec![0; 10]);
        assert_eq!(pool.free.lock().unwrap().len(), 1);
    }
}
