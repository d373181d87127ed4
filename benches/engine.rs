//! The engine on a failure–repair farm: N independent components, time to failure
//! exponential with mean 10,000 h, repair exponential with mean 10 h, one-year horizon.
//! Each iteration runs a block of whole trials (initial state, sampling, queue, state
//! changes), each with its own random streams, and throughput is reported in events per
//! second. A plain binary-heap loop on the same model runs beside it as the yardstick.
//!
//! A block holds at least 100,000 events (57 trials at N = 1,000, one at N = 100,000):
//! repeating one short trial would let the processor's branch predictor learn its
//! every branch, and measure a speed that no Monte Carlo run, whose trials all differ,
//! ever sees (at N = 1,000, twice the true figure).

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use nines::engine::{self, Scheduler};
use nines::laws::Law;
use nines::reliability::{
    Dynamics, InitialState, NodeId, Process, Requirement, Structure, StructureBuilder,
};
use nines::streams::ComponentRng;
use rand::RngExt;
use rand_distr::Exp1;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const HORIZON: f64 = 8760.0;
const MTTF: f64 = 10_000.0;
const MTTR: f64 = 10.0;

fn farm(n: usize) -> Structure {
    let process = Process {
        up: Law::exponential(MTTF).unwrap(),
        down: Law::exponential(MTTR).unwrap(),
    };
    let mut builder = StructureBuilder::new();
    for _ in 0..n {
        builder.add(
            &builder.len().to_string(),
            Some(process.clone()),
            Requirement::All,
            &[],
        );
    }
    builder.build()
}

/// Trials per block for `n` components: enough for 100,000 events (about 1.75 per
/// component-year).
fn trials_per_block(n: usize) -> u64 {
    (100_000 / (n as u64 * 7 / 4).max(1)).max(1)
}

/// Trial `trial` of the farm on the engine; returns the events fired.
fn engine_trial(
    dynamics: &mut Dynamics<'_, ()>,
    scheduler: &mut Scheduler<NodeId>,
    trial: u64,
) -> u64 {
    scheduler.reset(HORIZON);
    dynamics.start(scheduler, InitialState::AllNew, 1, trial);
    engine::run(dynamics, scheduler)
}

/// The same model as a plain loop over a binary heap of (time, component), one stream
/// per trial.
fn binary_heap_trial(
    heap: &mut BinaryHeap<Reverse<(u64, u32)>>,
    up: &mut [bool],
    trial: u64,
) -> u64 {
    let mut rng = ComponentRng::new(1, trial, 0);
    heap.clear();
    for (i, state) in up.iter_mut().enumerate() {
        *state = true;
        let t: f64 = rng.sample::<f64, _>(Exp1) * MTTF;
        if t < HORIZON {
            // Non-negative f64s order like their bit patterns.
            heap.push(Reverse((t.to_bits(), i as u32)));
        }
    }
    let mut events = 0;
    while let Some(Reverse((bits, i))) = heap.pop() {
        let now = f64::from_bits(bits);
        events += 1;
        let i = i as usize;
        up[i] = !up[i];
        let mean = if up[i] { MTTF } else { MTTR };
        let next = now + rng.sample::<f64, _>(Exp1) * mean;
        if next < HORIZON {
            heap.push(Reverse((next.to_bits(), i as u32)));
        }
    }
    events
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
        let structure = farm(n);
        let mut dynamics = Dynamics::new(&structure, &[], ());
        let mut scheduler = Scheduler::new(HORIZON);
        bench_block(&mut group, "nines", n, |trial| {
            engine_trial(&mut dynamics, &mut scheduler, trial)
        });
        let mut heap = BinaryHeap::with_capacity(n);
        let mut up = vec![true; n];
        bench_block(&mut group, "binary_heap", n, |trial| {
            binary_heap_trial(&mut heap, &mut up, trial)
        });
    }
    group.finish();
}

criterion_group!(benches, bench_farm);
criterion_main!(benches);
