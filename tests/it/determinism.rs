//! Same scenario and seed: the same bytes of JSON, whatever the threads.

use crate::common::{nines, shipped};
use std::path::Path;

fn run_json(scenario: &Path, dir: &Path, name: &str, extra: &[&str]) -> String {
    let out = dir.join(name);
    let status = nines()
        .arg("run")
        .arg(scenario)
        .args(["--quiet", "--json"])
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
    let args = |threads| ["--trials", "600", "--threads", threads];
    let one = run_json(&scenario, dir.path(), "one.json", &args("1"));
    let two = run_json(&scenario, dir.path(), "two.json", &args("2"));
    let three = run_json(&scenario, dir.path(), "three.json", &args("3"));
    assert_eq!(one, two);
    assert_eq!(one, three);
}

#[test]
fn the_seed_decides_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped("ec2-one-zone.json");
    let first = run_json(
        &scenario,
        dir.path(),
        "a.json",
        &["--trials", "600", "--seed", "7"],
    );
    let again = run_json(
        &scenario,
        dir.path(),
        "b.json",
        &["--trials", "600", "--seed", "7"],
    );
    let other = run_json(
        &scenario,
        dir.path(),
        "c.json",
        &["--trials", "600", "--seed", "8"],
    );
    assert_eq!(first, again);
    assert_ne!(first, other);
    let value: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(value["seed"], 7);
    assert_eq!(value["trials"], 600);
}

#[test]
fn running_to_precision_stops_at_the_same_trial_on_any_threads() {
    // The stopping rule is checked after every batch of 16 chunks of 256 trials (4,096
    // trials), on the summary merged so far, so the trial count is a multiple of 4,096
    // (or the limit) and the same on one thread or two.
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped("ec2-one-zone.json");
    let run = |threads: &str, name: &str| {
        let out = dir.path().join(name);
        let status = nines()
            .arg("run")
            .arg(&scenario)
            .args([
                "--precision",
                "0.2",
                "--max-trials",
                "30000",
                "--quiet",
                "--threads",
                threads,
                "--json",
            ])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        std::fs::read_to_string(out).unwrap()
    };
    let one = run("1", "one.json");
    assert_eq!(one, run("2", "two.json"));
    let report: serde_json::Value = serde_json::from_str(&one).unwrap();
    let trials = report["trials"].as_u64().unwrap();
    assert!(trials.is_multiple_of(4096) || trials == 30_000, "{trials}");
    assert_eq!(report["precision"]["relative"], 0.2);
    assert!(report["precision"]["converged"].is_boolean());
    // Asking for both a trial count and a precision is refused.
    let both = nines()
        .arg("run")
        .arg(&scenario)
        .args(["--precision", "0.1", "--trials", "5"])
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn shards_merge_to_the_same_bytes_as_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = shipped("ec2-two-zones.json");
    let single = run_json(&scenario, dir.path(), "single.json", &["--trials", "9000"]);
    // Three shards of 9,000 trials: batches of 4,096 trials, so 3 batches: one each.
    let mut parts = Vec::new();
    for i in 1..=3 {
        let part = dir.path().join(format!("part{i}.json"));
        let status = nines()
            .arg("run")
            .arg(&scenario)
            .args([
                "--trials",
                "9000",
                "--quiet",
                "--shard",
                &format!("{i}/3"),
                "--json",
            ])
            .arg(&part)
            .status()
            .unwrap();
        assert!(status.success());
        parts.push(part);
    }
    let merged = dir.path().join("merged.json");
    // Parts in any order.
    let status = nines()
        .args(["merge", "--quiet", "--json"])
        .arg(&merged)
        .arg(&parts[2])
        .arg(&parts[0])
        .arg(&parts[1])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(&merged).unwrap(), single);

    // A missing shard is named; a part from another seed is refused.
    let out = nines()
        .arg("merge")
        .arg(&parts[0])
        .arg(&parts[2])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing shard(s) 2 of 3"));
    let other = dir.path().join("other.json");
    let status = nines()
        .arg("run")
        .arg(&scenario)
        .args([
            "--trials", "9000", "--seed", "5", "--quiet", "--shard", "2/3", "--json",
        ])
        .arg(&other)
        .status()
        .unwrap();
    assert!(status.success());
    let out = nines()
        .arg("merge")
        .arg(&parts[0])
        .arg(&other)
        .arg(&parts[2])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("its seed differs"));
}
