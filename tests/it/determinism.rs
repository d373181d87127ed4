//! Same scenario and seed: the same bytes of JSON, whatever the threads.

use crate::common::{nines, shipped};
use std::path::Path;

fn run_json(scenario: &Path, dir: &Path, name: &str, extra: &[&str]) -> String {
    let out = dir.join(name);
    let status = nines()
        .arg("run")
        .arg(scenario)
        .args(["--trials", "600", "--quiet", "--json"])
        .arg(&out)
        .args(extra)
        .status()
        .expect("nines runs");
    assert!(status.success());
    std::fs::read_to_string(out).expect("the JSON was written")
}

#[test]
fn threads_do_not_change_a_single_byte() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped("ec2-one-zone.json");
    let one = run_json(&scenario, dir.path(), "one.json", &["--threads", "1"]);
    let two = run_json(&scenario, dir.path(), "two.json", &["--threads", "2"]);
    let three = run_json(&scenario, dir.path(), "three.json", &["--threads", "3"]);
    assert_eq!(one, two);
    assert_eq!(one, three);
}

#[test]
fn the_seed_decides_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped("ec2-one-zone.json");
    let first = run_json(&scenario, dir.path(), "a.json", &["--seed", "7"]);
    let again = run_json(&scenario, dir.path(), "b.json", &["--seed", "7"]);
    let other = run_json(&scenario, dir.path(), "c.json", &["--seed", "8"]);
    assert_eq!(first, again);
    assert_ne!(first, other);
    let value: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(value["seed"], 7);
    assert_eq!(value["trials"], 600);
}
