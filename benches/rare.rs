//! The rare-event estimators, timed to a given relative error against problems whose
//! exact answers `nines analyze` gives:
//!
//! - importance sampling on six copies over three flood plains
//!   (`benches/six-copies-one-group.json`, about 3.0e-9) and on the same with 1000-year
//!   floods (about 3.1e-12), each to ±10 %; and on three copies at about 1e-12
//!   (`benches/three-copies-one-group.json` with Exp(1,380,000 h) disks) to ±10 %;
//! - multilevel splitting on three copies at about 1e-8 to ±20 %, and on six copies
//!   within a fixed budget of paths.

use criterion::{Criterion, criterion_group, criterion_main};
use nines::rare::{Method, Target, estimate_loss};
use serde_json::Value;
use std::path::Path;

fn scenario(relative: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    serde_json::from_str(&std::fs::read_to_string(path).expect("bundled scenario"))
        .expect("valid JSON")
}

fn lower(scenario: &Value) -> nines::world::World {
    nines::scenario::from_str(&scenario.to_string()).expect("bundled scenarios are valid")
}

fn bench_importance(c: &mut Criterion) {
    let mut group = c.benchmark_group("importance");
    group.sample_size(10);
    let target = Target::default();
    let six = scenario("benches/six-copies-one-group.json");
    let mut rarer = six.clone();
    for domain in rarer["failure_domains"].as_array_mut().expect("domains") {
        domain["between_events"]["exponential"]["mean"] = "1000 years".into();
    }
    let mut three = scenario("benches/three-copies-one-group.json");
    three["components"]["disk"]["fail"]["exponential"]["mean"] = "1380000 h".into();
    for (name, scenario) in [
        ("six-copies-3e-9-to-10-percent", six),
        ("six-copies-3e-12-to-10-percent", rarer),
        ("three-copies-1e-12-to-10-percent", three),
    ] {
        let world = lower(&scenario);
        group.bench_function(name, |b| {
            b.iter(|| {
                let estimate = estimate_loss(&world, 0, 1, target, Method::Importance)
                    .expect("a storage service");
                assert!(estimate.relative_error <= 0.1, "{estimate:?}");
                estimate.probability
            })
        });
    }
    group.finish();
}

fn bench_splitting(c: &mut Criterion) {
    let mut group = c.benchmark_group("splitting");
    group.sample_size(10);
    let world = lower(&scenario("benches/three-copies-one-group.json"));
    let target = Target {
        relative_error: 0.2,
        ..Target::default()
    };
    group.bench_function("three-copies-1e-8-to-20-percent", |b| {
        b.iter(|| {
            let estimate =
                estimate_loss(&world, 0, 1, target, Method::Splitting).expect("a storage service");
            assert!(estimate.relative_error <= 0.2);
            estimate.probability
        })
    });
    let world = lower(&scenario("benches/six-copies-one-group.json"));
    let target = Target {
        max_paths: 5_000_000,
        ..Target::default()
    };
    group.bench_function("six-copies-5M-paths", |b| {
        b.iter(|| {
            estimate_loss(&world, 0, 1, target, Method::Splitting)
                .expect("a storage service")
                .probability
        })
    });
    group.finish();
}

criterion_group!(benches, bench_importance, bench_splitting);
criterion_main!(benches);
