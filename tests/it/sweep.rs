//! `nines sweep`: the variants of one scenario, one row each.

use crate::common::{nines, shipped};

#[test]
fn a_sweep_runs_every_combination_on_common_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv) = (dir.path().join("sweep.json"), dir.path().join("sweep.csv"));
    let status = nines()
        .arg("sweep")
        .arg(shipped("ec2-one-zone.json"))
        .args(["--set", "services[0].compute.instances.us-west=1..2"])
        .args([
            "--set",
            "components.instance.repair.lognormal.median=20 min,2 h",
        ])
        .args(["--trials", "600", "--quiet", "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .status()
        .unwrap();
    assert!(status.success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let points = report["points"].as_array().unwrap();
    // 2 × 2 points, the first setting varying slowest.
    assert_eq!(points.len(), 4);
    assert_eq!(points[0]["values"], serde_json::json!([1, "20 min"]));
    assert_eq!(points[3]["values"], serde_json::json!([2, "2 h"]));
    // A second instance in us-west never adds downtime in any trial (common random
    // numbers), so availability cannot fall, for either repair time.
    let availability = |i: usize| {
        points[i]["report"]["services"][0]["availability"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(availability(2) >= availability(0));
    assert!(availability(3) >= availability(1));
    // CSV: a header, then one row per point and SLA (three SLAs).
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 4 * 3);
    assert!(lines[0].starts_with("services[0].compute.instances.us-west,"));
    assert!(lines[1].starts_with("1,20 min,ec2,"));
}

#[test]
fn a_scenario_can_carry_its_own_sweep() {
    let mut scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shipped("ec2-one-zone.json")).unwrap())
            .unwrap();
    scenario["sweep"] = serde_json::json!({ "services[0].compute.min_up": [1, 2, 3] });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    let out = dir.path().join("out.json");
    let status = nines()
        .arg("sweep")
        .arg(&path)
        .args(["--trials", "300", "--quiet", "--json"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(report["points"].as_array().unwrap().len(), 3);
    // `run` accepts the same file (it ignores the sweep block).
    assert!(
        nines()
            .arg("check")
            .arg(&path)
            .output()
            .unwrap()
            .status
            .success()
    );
}

#[test]
fn a_bad_setting_names_the_path() {
    for (set, expected) in [
        ("datacenters[7].racks=1", "datacenters[7].racks"),
        ("datacenters[0].racks=-1", "datacenters[0].racks"),
        ("nonsense", "PATH=VALUE"),
    ] {
        let out = nines()
            .arg("sweep")
            .arg(shipped("ec2-one-zone.json"))
            .args(["--set", set, "--trials", "10"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
