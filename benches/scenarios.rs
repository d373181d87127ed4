//! Whole trials of the shipped scenarios, in trials per second (one thread).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nines::trial::TrialRunner;
use std::path::Path;

fn bench_scenarios(c: &mut Criterion) {
    let mut group = c.benchmark_group("scenario");
    group.sample_size(20);
    for name in ["s3-six-copies", "ec2-two-zones"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join(format!("{name}.json"));
        let world = nines::scenario::load(&path).expect("shipped scenarios are valid");
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
}

criterion_group!(benches, bench_scenarios);
criterion_main!(benches);
