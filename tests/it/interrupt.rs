//! Nothing lost: a run stopped by a signal writes a partial result, and resuming it
//! gives the bytes of a run that was never stopped.

use crate::common::nines;
use std::process::Command;
use std::time::Duration;

/// A one-site scenario with a single failing facility: cheap trials.
const TINY: &str = r#"{
  "name": "tiny",
  "datacenters": [ { "id": "a", "region": "r",
    "facility": { "fail": { "exponential": { "mean": "100 h" } },
                  "repair": { "exponential": { "mean": "1 h" } } } } ],
  "services": [ { "name": "web", "compute": { "instances": { "a": 1 }, "min_up": 1 },
                  "slas": [ { "name": "m", "target": "99.9%", "window": "month" } ] } ]
}"#;

#[test]
fn an_interrupted_run_resumes_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("tiny.json");
    std::fs::write(&scenario, TINY).unwrap();
    let partial = dir.path().join("partial.json");
    // Far more trials than the half second before the signal allows.
    let trials = "300000";
    let mut child = nines()
        .arg("run")
        .arg(&scenario)
        .args(["--trials", trials, "--quiet", "--json"])
        .arg(&partial)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "a stopped run exits with 130");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&partial).unwrap()).unwrap();
    let done = saved["partial"]["trials_done"].as_u64().unwrap();
    // Stopped at a batch boundary (4,096 trials), before the end; the report is a
    // valid report of the trials done.
    assert!(done.is_multiple_of(4096) && done < 300_000, "{done}");
    assert_eq!(saved["trials"].as_u64(), Some(done));
    assert_eq!(saved["partial"]["trials_requested"], 300_000);

    let resumed = dir.path().join("resumed.json");
    let status = nines()
        .arg("run")
        .arg(&scenario)
        .arg("--resume")
        .arg(&partial)
        .args(["--quiet", "--json"])
        .arg(&resumed)
        .status()
        .unwrap();
    assert!(status.success());
    let whole = dir.path().join("whole.json");
    let status = nines()
        .arg("run")
        .arg(&scenario)
        .args(["--trials", trials, "--quiet", "--json"])
        .arg(&whole)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(&resumed).unwrap(),
        std::fs::read_to_string(&whole).unwrap()
    );
    // A partial result from another scenario is refused.
    let other = dir.path().join("other.json");
    std::fs::write(&other, TINY.replace("100 h", "200 h")).unwrap();
    let out = nines()
        .arg("run")
        .arg(&other)
        .arg("--resume")
        .arg(&partial)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different scenario"));
}

#[test]
fn a_trial_over_its_event_budget_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("tiny.json");
    std::fs::write(&scenario, TINY).unwrap();
    // About 87 failures and repairs a year: 10 events are not enough.
    let out = nines()
        .arg("run")
        .arg(&scenario)
        .args(["--trials", "10", "--max-events", "10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--max-events"), "{stderr}");
}

#[test]
fn limits_refuse_big_scenarios_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("big.json");
    let big = TINY.replace(
        r#""region": "r","#,
        r#""region": "r", "racks": 100, "hosts_per_rack": 100, "disks_per_host": 100,"#,
    );
    std::fs::write(&scenario, big).unwrap();
    for (flag, value, expected) in [
        ("--max-components", "100000", "--max-components"),
        ("--max-memory", "10", "--max-memory"),
    ] {
        for command in ["check", "run"] {
            let out = nines()
                .arg(command)
                .arg(&scenario)
                .args([flag, value])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(expected), "{stderr}");
            assert!(stderr.contains("datacenters[0]"), "{stderr}");
        }
    }
}
