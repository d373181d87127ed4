//! Common random numbers: a component keeps its history in every design that has it,
//! so adding redundancy helps trial by trial (and, where nothing is shared by repairs,
//! can only help).

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
fn another_replica_helps_trial_by_trial() {
    // Two copies per data centre, one data centre on a worse grid; then a third copy in
    // us-east. Every component lives the same history in both designs, so the extra
    // copy can only keep a group readable, except through repair: copies share link
    // bandwidth, and after a flood destroys us-east there are twice as many pieces to
    // copy back, so a group can wait longer for its copy and meet another outage
    // meanwhile. (Seed 1 has one such trial in its first 300: trial 127, where a
    // us-west host fails 41 h after the flood.) Were the histories not shared, a trial
    // with downtime would be about as likely to be worse as better (159 are better);
    // shared, at most 1 % may be worse, and the total must drop.
    let mut base = scenario("s3-six-copies.json");
    base["services"][0]["storage"]["placement"]["per_datacenter"] =
        serde_json::json!({ "us-east": 1, "us-west": 1 });
    base["services"][0]["storage"]["replicas"] = 2.into();
    let mut more = base.clone();
    more["services"][0]["storage"]["placement"]["per_datacenter"]["us-east"] = 2.into();
    more["services"][0]["storage"]["replicas"] = 3.into();
    let (a, b) = (downtimes(&base, 300), downtimes(&more, 300));
    let worse = a.iter().zip(&b).filter(|(a, b)| b > a).count();
    let better = a.iter().zip(&b).filter(|(a, b)| b < a).count();
    assert!(worse <= 3, "{worse} trials worse with the extra copy");
    assert!(better > 10 * worse.max(1), "{better} better, {worse} worse");
    assert!(b.iter().sum::<f64>() < a.iter().sum::<f64>());
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
