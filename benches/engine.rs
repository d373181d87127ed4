//! The engine on a failure–repair farm (`farm/mod.rs`): N independent components, time
//! to failure exponential with mean 10,000 h, repair exponential with mean 10 h,
//! one-year horizon. Each iteration runs a block of whole trials (initial state,
//! sampling, queue, state changes), each with its own random streams, and throughput is
//! reported in events per second. Two yardsticks run the same model beside it: a plain
//! binary-heap loop, and a bare calendar loop that does the engine's work for this
//! model and nothing else (checked here to fire the same events).
//!
//! A block holds at least 100,000 events (57 trials at N = 1,000, one at N = 100,000):
//! repeating one short trial would let the processor's branch predictor learn its
//! every branch, and measure a speed that no Monte Carlo run, whose trials all differ,
//! ever sees (at N = 1,000, twice the true figure).

mod farm;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use farm::BareCalendar;
use nines::engine::Scheduler;
use nines::reliability::Dynamics;
use std::collections::BinaryHeap;

/// Trials per block for `n` components: enough for 100,000 events (about 1.75 per
/// component-year).
fn trials_per_block(n: usize) -> u64 {
    (100_000 / (n as u64 * 7 / 4).max(1)).max(1)
}

/// Benches `trial` (which runs one trial and returns its events) over the block of
/// trials for `n` components, in events per second.
fn bench_block(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    n: usize,
    mut trial: impl FnMut(u64) -> u64,
) {
    let block = 0..trials_per_block(n);
    let mut run_block = || block.clone().map(&mut trial).sum::<u64>();
    group.throughput(Throughput::Elements(run_block()));
    group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| b.iter(&mut run_block));
}

fn bench_farm(c: &mut Criterion) {
    let mut group = c.benchmark_group("farm");
    group.sample_size(20);
    for n in [1_000usize, 100_000] {
        let structure = farm::structure(n);
        let mut dynamics = Dynamics::new(&structure, &[], ());
        let mut scheduler = Scheduler::new(farm::HORIZON);
        let mut bare = BareCalendar::new(n);
        for trial in 0..trials_per_block(n) {
            assert_eq!(
                farm::engine_trial(&mut dynamics, &mut scheduler, trial),
                bare.trial(trial),
                "the bare calendar loop fires the engine's events"
            );
        }
        bench_block(&mut group, "nines", n, |trial| {
            farm::engine_trial(&mut dynamics, &mut scheduler, trial)
        });
        bench_block(&mut group, "bare_calendar", n, |trial| bare.trial(trial));
        let mut heap = BinaryHeap::with_capacity(n);
        let mut up = vec![true; n];
        bench_block(&mut group, "binary_heap", n, |trial| {
            farm::binary_heap_trial(&mut heap, &mut up, trial)
        });
    }
    group.finish();
}

criterion_group!(benches, bench_farm);
criterion_main!(benches);
