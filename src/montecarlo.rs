//! Runs trials in parallel and merges their results deterministically.
//!
//! Trials are cut into fixed-size chunks: chunk `c` holds trials
//! `c * CHUNK_TRIALS .. (c + 1) * CHUNK_TRIALS`. Each chunk is summarised on its own,
//! on whichever thread rayon gives it, and chunk summaries are merged strictly in chunk
//! order. Each trial draws only from streams seeded by `(seed, trial index)`. The
//! result is therefore the same, bit for bit, on any number of threads.
//!
//! Chunks are processed in batches of a fixed number of chunks, so that memory holds
//! one batch of chunk summaries at a time, whatever the number of trials. A run that
//! stops early (`--precision`) decides after each batch, on the summary merged so far:
//! the decision, like the result, does not depend on the number of threads.

use rayon::prelude::*;

/// Trials per chunk. Part of the output's definition: changing it changes the order of
/// floating-point merges, and so the last bits of some results.
pub const CHUNK_TRIALS: u64 = 256;

/// Chunks per batch: how often progress is reported and an early stop considered.
pub const BATCH_CHUNKS: u64 = 16;

/// A summary that can absorb the summary of the trials that follow it.
pub trait Merge {
    fn merge(&mut self, later: &Self);
}

impl Merge for crate::summary::RunSummary {
    fn merge(&mut self, later: &Self) {
        crate::summary::RunSummary::merge(self, later)
    }
}

/// Runs trials `0..trials`, returning their merged summary.
///
/// - `empty` makes an empty summary;
/// - `workspace` makes per-thread scratch state (reused across that thread's trials);
/// - `trial(workspace, index, summary)` runs one trial and adds it to `summary`;
/// - `after_batch(done, summary)` is called after each batch with the number of trials
///   done and their summary; returning `true` stops the run there.
///
/// Runs on the current rayon pool: use `ThreadPool::install` to choose the threads.
pub fn run<S, W>(
    trials: u64,
    empty: impl Fn() -> S + Sync,
    workspace: impl Fn() -> W + Sync,
    trial: impl Fn(&mut W, u64, &mut S) + Sync,
    mut after_batch: impl FnMut(u64, &S) -> bool,
) -> S
where
    S: Merge + Send,
{
    let chunks = trials.div_ceil(CHUNK_TRIALS);
    let mut total = empty();
    let mut next = 0;
    while next < chunks {
        let end = (next + BATCH_CHUNKS).min(chunks);
        let summaries: Vec<S> = (next..end)
            .into_par_iter()
            .map_init(&workspace, |ws, chunk| {
                let mut summary = empty();
                let first = chunk * CHUNK_TRIALS;
                let last = (first + CHUNK_TRIALS).min(trials);
                for index in first..last {
                    trial(ws, index, &mut summary);
                }
                summary
            })
            .collect();
        for summary in &summaries {
            total.merge(summary);
        }
        next = end;
        if after_batch((end * CHUNK_TRIALS).min(trials), &total) {
            break;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A floating-point sum whose bits depend on the order of additions.
    #[derive(Default)]
    struct Sum(f64, u64);
    impl Merge for Sum {
        fn merge(&mut self, later: &Self) {
            self.0 += later.0;
            self.1 += later.1;
        }
    }

    fn sum_on(threads: usize) -> Sum {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            run(
                10_000,
                Sum::default,
                || (),
                |_, i, s| {
                    s.0 += 1.0 / (i as f64 + 1.0);
                    s.1 += 1;
                },
                |_, _| false,
            )
        })
    }

    #[test]
    fn a_run_stops_after_the_batch_that_asks() {
        // Stop once 5,000 trials are done: batches hold 16 × 256 = 4,096 trials, so the
        // run stops after the second batch, at 8,192 trials.
        let summary = run(
            100_000,
            Sum::default,
            || (),
            |_, _, s| s.1 += 1,
            |done, _| done >= 5_000,
        );
        assert_eq!(summary.1, 8_192);
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let one = sum_on(1);
        let three = sum_on(3);
        assert_eq!(one.1, 10_000);
        assert_eq!(one.0.to_bits(), three.0.to_bits());
    }
}
