//! Common random numbers: a component keeps its history in every design that has it,
//! so adding redundancy can only help, trial by trial.

use crate::common::{shipped, world};
use nines::trial::TrialRunner;
use serde_json::Value;

fn scenario(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(shipped(name)).unwrap()).unwrap()
}

/// Downtime of the first service in each of `trials` trials.
fn downtimes(scenario: &Value, trials: u64) -> Vec<f64> {
    let w = world(scenario.clone());
    let mut runner = TrialRunner::new(&w);
    (0..trials)
        .map(|t| runner.run(1, t).services[0].downtime)
        .collect()
}

#[test]
fn another_replica_never_adds_downtime() {
    // Two copies per data centre, one data centre on a worse grid; then a third copy in
    // us-east. Every trial's downtime with the extra copy is at most the one without.
    let mut base = scenario("s3-six-copies.json");
    base["services"][0]["storage"]["placement"]["per_datacenter"] =
        serde_json::json!({ "us-east": 1, "us-west": 1 });
    base["services"][0]["storage"]["replicas"] = 2.into();
    let mut more = base.clone();
    more["services"][0]["storage"]["placement"]["per_datacenter"]["us-east"] = 2.into();
    more["services"][0]["storage"]["replicas"] = 3.into();
    let (a, b) = (downtimes(&base, 300), downtimes(&more, 300));
    assert!(a.iter().zip(&b).all(|(a, b)| b <= a));
    // And it does help somewhere: the designs differ in some trial.
    assert!(a.iter().zip(&b).any(|(a, b)| b < a));
}

#[test]
fn another_zone_never_adds_downtime() {
    // ec2-one-zone has four instances in us-east; add two in us-west.
    let base = scenario("ec2-one-zone.json");
    let mut more = base.clone();
    more["services"][0]["compute"]["instances"]["us-west"] = 2.into();
    let (a, b) = (downtimes(&base, 300), downtimes(&more, 300));
    assert!(a.iter().zip(&b).all(|(a, b)| b <= a));
    assert!(a.iter().zip(&b).any(|(a, b)| b < a));
}
