//! Runs trials in parallel and merges their results deterministically.
//!
//! Trials are cut into fixed-size chunks of [`CHUNK_TRIALS`], and chunks into batches
//! of [`BATCH_CHUNKS`]. Each chunk is summarised on its own, on whichever thread rayon
//! gives it; a batch's summary is its chunks' summaries merged in chunk order, from an
//! empty summary; the run's summary is the batches' summaries merged in batch order.
//! Each trial draws only from streams seeded by `(seed, trial index)`. The result is
//! therefore the same, bit for bit, on any number of threads — and on any number of
//! machines, when each runs a range of batches and their batch summaries are merged in
//! order (`nines run --shard`, `nines merge`).
//!
//! Memory holds one batch of chunk summaries at a time, whatever the number of trials.
//! A run that stops early (`--precision`) decides after each batch, on the summary
//! merged so far: the decision, like the result, does not depend on threads.

use rayon::prelude::*;
use std::ops::Range;

/// Trials per chunk. Part of the output's definition: changing it changes the order of
/// floating-point merges, and so the last bits of some results.
pub const CHUNK_TRIALS: u64 = 256;

/// Chunks per batch: the unit of merging across machines, of progress reports and of
/// early stops. Part of the output's definition, like [`CHUNK_TRIALS`].
pub const BATCH_CHUNKS: u64 = 16;

/// Trials per batch.
pub const BATCH_TRIALS: u64 = CHUNK_TRIALS * BATCH_CHUNKS;

/// A summary that can absorb the summary of the trials that follow it.
pub trait Merge {
    fn merge(&mut self, later: &Self);
}

impl Merge for crate::summary::RunSummary {
    fn merge(&mut self, later: &Self) {
        crate::summary::RunSummary::merge(self, later)
    }
}

/// Batches needed for `trials` trials.
pub fn batch_count(trials: u64) -> u64 {
    trials.div_ceil(BATCH_TRIALS)
}

/// The batches of shard `index` of `count`: contiguous, as equal as can be, covering
/// every batch once over all shards.
pub fn shard_batches(trials: u64, index: u64, count: u64) -> Range<u64> {
    let batches = batch_count(trials);
    let start = batches * index / count;
    let end = batches * (index + 1) / count;
    start..end
}

/// Runs the trials of batches `batches` (of a run of `trials` trials) and hands each
/// batch's summary, in batch order, to `on_batch(batch index, summary)`; returning
/// `true` from it stops the run.
///
/// - `empty` makes an empty summary;
/// - `workspace` makes per-thread scratch state (reused across that thread's trials);
/// - `trial(workspace, index, summary)` runs one trial and adds it to `summary`.
///
/// Runs on the current rayon pool: use `ThreadPool::install` to choose the threads.
pub fn run_batches<S, W>(
    trials: u64,
    batches: Range<u64>,
    empty: impl Fn() -> S + Sync,
    workspace: impl Fn() -> W + Sync,
    trial: impl Fn(&mut W, u64, &mut S) + Sync,
    mut on_batch: impl FnMut(u64, S) -> bool,
) where
    S: Merge + Send,
{
    let chunks = trials.div_ceil(CHUNK_TRIALS);
    for batch in batches {
        let first = batch * BATCH_CHUNKS;
        let end = (first + BATCH_CHUNKS).min(chunks);
        let summaries: Vec<S> = (first..end)
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
        let mut batch_summary = empty();
        for summary in &summaries {
            batch_summary.merge(summary);
        }
        if on_batch(batch, batch_summary) {
            break;
        }
    }
}

/// Runs trials `0..trials` and returns their merged summary. `after_batch(done,
/// summary)` is called after each batch with the number of trials done and their
/// summary; returning `true` stops the run there.
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
    let mut total = empty();
    run_batches(
        trials,
        0..batch_count(trials),
        &empty,
        workspace,
        trial,
        |batch, summary| {
            total.merge(&summary);
            after_batch(((batch + 1) * BATCH_TRIALS).min(trials), &total)
        },
    );
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A floating-point sum whose bits depend on the order of additions.
    #[derive(Default, Clone)]
    struct Sum(f64, u64);
    impl Merge for Sum {
        fn merge(&mut self, later: &Self) {
            self.0 += later.0;
            self.1 += later.1;
        }
    }

    fn add(_: &mut (), i: u64, s: &mut Sum) {
        s.0 += 1.0 / (i as f64 + 1.0);
        s.1 += 1;
    }

    fn sum_on(threads: usize) -> Sum {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| run(10_000, Sum::default, || (), add, |_, _| false))
    }

    #[test]
    fn results_do_not_depend_on_threads() {
        let one = sum_on(1);
        let three = sum_on(3);
        assert_eq!(one.1, 10_000);
        assert_eq!(one.0.to_bits(), three.0.to_bits());
    }

    #[test]
    fn a_run_stops_after_the_batch_that_asks() {
        // Stop once 5,000 trials are done: batches hold 16 × 256 = 4,096 trials, so the
        // run stops after the second batch, at 8,192 trials.
        let summary = run(100_000, Sum::default, || (), add, |done, _| done >= 5_000);
        assert_eq!(summary.1, 8_192);
    }

    #[test]
    fn shards_cover_every_batch_once_and_merge_to_the_same_bits() {
        // 50,000 trials: 13 batches (12 full ones of 4,096 and one of 848). Three
        // shards get batches 0..4, 4..8 and 8..13.
        let trials = 50_000;
        assert_eq!(batch_count(trials), 13);
        let shards: Vec<Range<u64>> = (0..3).map(|i| shard_batches(trials, i, 3)).collect();
        assert_eq!(shards, vec![0..4, 4..8, 8..13]);
        let mut parts: Vec<(u64, Sum)> = Vec::new();
        for range in shards.into_iter().rev() {
            run_batches(
                trials,
                range,
                Sum::default,
                || (),
                add,
                |b, s| {
                    parts.push((b, s));
                    false
                },
            );
        }
        parts.sort_by_key(|&(b, _)| b);
        let mut merged = Sum::default();
        for (_, part) in &parts {
            merged.merge(part);
        }
        let whole = run(trials, Sum::default, || (), add, |_, _| false);
        assert_eq!(merged.1, trials);
        assert_eq!(merged.0.to_bits(), whole.0.to_bits());
    }
}
