//! Parallelism as a value: a fit owns a thread pool of the size asked for (or none, for one
//! thread), and hands it blocks of work whose results land in per-block slots. Results are
//! then reduced in block order by the caller, so they never depend on the thread count.

use rayon::prelude::*;

use crate::error::{Error, Result};

pub(crate) struct Parallel {
    pool: Option<rayon::ThreadPool>,
    n_threads: usize,
}

impl Parallel {
    /// `None` means every core the operating system offers.
    pub(crate) fn new(n_threads: Option<usize>) -> Result<Parallel> {
        let n = n_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if n == 0 {
            return Err(Error::InvalidParameter {
                name: "n_threads",
                value: "0".into(),
                expected: "n_threads must be at least 1 (or None for all cores).",
            });
        }
        let pool = if n > 1 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().map_err(|e| {
                Error::InvalidParameter {
                    name: "n_threads",
                    value: format!("{n} ({e})"),
                    expected: "a thread pool of that size could not be started.",
                }
            })?;
            Some(pool)
        } else {
            None
        };
        Ok(Parallel { pool, n_threads: n })
    }

    pub(crate) fn n_threads(&self) -> usize {
        self.n_threads
    }

    /// Index of the calling worker, below `n_threads()`: selects its scratch.
    pub(crate) fn worker(&self) -> usize {
        rayon::current_thread_index().unwrap_or(0) % self.n_threads
    }

    /// Runs `f` inside the pool (rayon's parallel iterators in `f` then use its threads).
    pub(crate) fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(f),
            None => f(),
        }
    }

    /// Calls `f(b, &mut items[b])` for every block `b`, on the pool.
    pub(crate) fn for_each<T: Send>(&self, items: &mut [T], f: impl Fn(usize, &mut T) + Sync + Send) {
        match &self.pool {
            Some(pool) => pool.install(|| items.par_iter_mut().enumerate().for_each(|(b, t)| f(b, t))),
            None => items.iter_mut().enumerate().for_each(|(b, t)| f(b, t)),
        }
    }
}
