//! Whole trials of the shipped scenarios, in trials per second (one thread), and one
//! simulated year of a big fleet (`benches/big-fleet.json`: three data centres of
//! 20 racks × 40 hosts × 12 disks, 100,000 object groups of six copies).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nines::trial::TrialRunner;
use std::path::Path;

fn load(relative: &str) -> nines::world::World {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    nines::scenario::load(&path).expect("bundled scenarios are valid")
}

fn bench_scenarios(c: &mut Criterion) {
    let mut group = c.benchmark_group("scenario");
    group.sample_size(20);
    for name in ["s3-six-copies", "ec2-two-zones"] {
        let world = load(&format!("scenarios/{name}.json"));
        let mut runner = TrialRunner::new(&world);
        // 100 consecutive trials per iteration, so that quiet and busy years average out.
        group.throughput(Throughput::Elements(100));
        let mut next = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut events = 0;
                for _ in 0..100 {
                    events += runner.run(1, next).events;
                    next += 1;
                }
                events
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("big-fleet");
    group.sample_size(10);
    let world = load("benches/big-fleet.json");
    let mut runner = TrialRunner::new(&world);
    group.throughput(Throughput::Elements(1));
    let mut next = 0u64;
    group.bench_function("one year", |b| {
        b.iter(|| {
            next += 1;
            runner.run(1, next).events
        })
    });
    group.finish();
}

criterion_group!(benches, bench_scenarios);
criterion_main!(benches);
