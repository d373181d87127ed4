//! The rare-event estimator: time to estimate a probability of data loss near 1e-8
//! to ±20 % (`benches/three-copies-one-group.json`, whose exact answer `nines
//! analyze` gives), and the same for six copies over three flood plains
//! (`benches/six-copies-one-group.json`, about 3e-9) within a fixed budget of paths.

use criterion::{Criterion, criterion_group, criterion_main};
use nines::rare::{Target, estimate_loss};
use std::path::Path;

fn load(relative: &str) -> nines::world::World {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    nines::scenario::load(&path).expect("bundled scenarios are valid")
}

fn bench_splitting(c: &mut Criterion) {
    let mut group = c.benchmark_group("splitting");
    group.sample_size(10);
    let world = load("benches/three-copies-one-group.json");
    let target = Target {
        relative_error: 0.2,
        ..Target::default()
    };
    group.bench_function("three-copies-1e-8-to-20-percent", |b| {
        b.iter(|| {
            let estimate = estimate_loss(&world, 0, 1, target).expect("a storage service");
            assert!(estimate.relative_error <= 0.2);
            estimate.probability
        })
    });
    let world = load("benches/six-copies-one-group.json");
    let target = Target {
        max_paths: 5_000_000,
        ..Target::default()
    };
    group.bench_function("six-copies-5M-paths", |b| {
        b.iter(|| {
            estimate_loss(&world, 0, 1, target)
                .expect("a storage service")
                .probability
        })
    });
    group.finish();
}

criterion_group!(benches, bench_splitting);
criterion_main!(benches);
