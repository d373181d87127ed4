//! Explaining downtime: what was down while a service was down.

use crate::common::{nines, shipped};

fn run_json(scenario: &std::path::Path, trials: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let status = nines()
        .arg("run")
        .arg(scenario)
        .args(["--trials", trials, "--quiet", "--json"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn overlapping_outages_are_attributed_to_each_cause_and_their_combination() {
    // The site's facility is down [8700, 8748) h and an earthquake zone it sits in is
    // down [8720, 8730) h (both deterministic, from new). The service is down 48 h:
    // 38 h with the facility alone down, 10 h with both. The facility is involved in
    // all 48 h (share 1); the earthquake zone in 10 h (share 10/48 = 0.2083).
    let scenario = r#"{
      "name": "two causes", "initial_state": "all_new",
      "failure_domains": [ { "id": "quake", "kind": "custom", "label": "earthquake zone",
        "between_events": { "deterministic": { "value": "8720 h" } },
        "outage": { "deterministic": { "value": "10 h" } } } ],
      "datacenters": [ { "id": "a", "region": "r", "on": ["quake"],
        "facility": { "fail": { "deterministic": { "value": "8700 h" } },
                      "repair": { "deterministic": { "value": "48 h" } } } } ],
      "services": [ { "name": "web", "compute": { "instances": { "a": 1 }, "min_up": 1 } } ]
    }"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    std::fs::write(&path, scenario).unwrap();
    let report = run_json(&path, "2");
    let causes = &report["services"][0]["downtime_causes"];
    let involved: Vec<(&str, f64, f64)> = causes["involved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cause"].as_str().unwrap(),
                c["hours_per_year"].as_f64().unwrap(),
                c["share"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(involved[0], ("facility", 48.0, 1.0));
    assert_eq!(involved[1].0, "earthquake zone quake");
    assert_eq!(involved[1].1, 10.0);
    assert!((involved[1].2 - 10.0 / 48.0).abs() < 1e-12);
    let combinations = causes["combinations"].as_array().unwrap();
    assert_eq!(combinations[0]["causes"], serde_json::json!(["facility"]));
    assert_eq!(combinations[0]["hours_per_year"], 38.0);
    assert_eq!(
        combinations[1]["causes"],
        serde_json::json!(["earthquake zone quake", "facility"])
    );
    assert_eq!(combinations[1]["hours_per_year"], 10.0);
}

#[test]
fn every_hour_of_downtime_is_explained() {
    // The combinations partition the downtime: their hours add up to all of it (when
    // there are at most ten of them, as here).
    let report = run_json(&shipped("ec2-one-zone.json"), "300");
    let service = &report["services"][0];
    let combinations = service["downtime_causes"]["combinations"]
        .as_array()
        .unwrap();
    assert!(combinations.len() < 10);
    let explained: f64 = combinations
        .iter()
        .map(|c| c["hours_per_year"].as_f64().unwrap())
        .sum();
    let downtime = service["downtime_hours_per_year"]["mean"].as_f64().unwrap();
    assert!(
        (explained - downtime).abs() < 1e-9 * downtime.max(1.0),
        "{explained} vs {downtime}"
    );
    // A single zone's outages come from its own site: its provider above all.
    assert_eq!(
        service["downtime_causes"]["involved"][0]["cause"],
        "bandwidth provider isp-a"
    );
}
