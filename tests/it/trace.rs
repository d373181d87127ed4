//! `nines trace`: one trial, event by event.

use crate::common::{nines, shipped};

#[test]
fn a_trace_lists_root_causes_service_changes_and_breached_windows() {
    // One site whose facility is up 8,700 h then down 48 h (from new); the service's
    // one instance runs there. Events: the facility fails at 8,700 h and the service
    // with it; both come back at 8,748 h. December [8016, 8760) loses 48 of 744 h:
    // uptime 100 × (1 - 48/744) = 93.548 %, breached; the other months are whole.
    let scenario = r#"{
      "name": "one outage", "initial_state": "all_new",
      "datacenters": [ { "id": "a", "region": "r",
        "facility": { "fail": { "deterministic": { "value": "8700 h" } },
                      "repair": { "deterministic": { "value": "48 h" } } } } ],
      "services": [ { "name": "web", "compute": { "instances": { "a": 1 }, "min_up": 1 },
                      "slas": [ { "name": "monthly", "target": "99.9%", "window": "month" } ] } ]
    }"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.json");
    std::fs::write(&path, scenario).unwrap();
    let out = dir.path().join("trace.json");
    let run = nines()
        .arg("trace")
        .arg(&path)
        .args(["--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success());
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(text.contains("day 363, 12:00:00  down dc:a"), "{text}");
    assert!(text.contains("1 of 12 windows breached"), "{text}");
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    let events: Vec<(f64, &str, &str)> = trace["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["time_hours"].as_f64().unwrap(),
                e["name"].as_str().unwrap(),
                e["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        vec![
            (8700.0, "dc:a", "down"),
            (8700.0, "service:web", "down"),
            (8748.0, "dc:a", "up"),
            (8748.0, "service:web", "up"),
        ]
    );
    let windows = &trace["services"][0]["slas"][0]["windows"];
    assert_eq!(windows[11]["breached"], true);
    assert!((windows[11]["uptime_percent"].as_f64().unwrap() - 93.548_387).abs() < 1e-4);
    assert_eq!(windows[10]["uptime_percent"], 100.0);
    assert_eq!(trace["services"][0]["downtime_hours"], 48.0);
}

#[test]
fn a_trace_replays_the_trial_that_run_measured() {
    // Trial 0 of a one-trial run is the traced trial: the same downtime.
    let dir = tempfile::tempdir().unwrap();
    let (trace, run) = (dir.path().join("t.json"), dir.path().join("r.json"));
    let scenario = shipped("ec2-one-zone.json");
    assert!(
        nines()
            .arg("trace")
            .arg(&scenario)
            .args(["--quiet", "--json"])
            .arg(&trace)
            .status()
            .unwrap()
            .success()
    );
    assert!(
        nines()
            .arg("run")
            .arg(&scenario)
            .args(["--trials", "1", "--quiet", "--json"])
            .arg(&run)
            .status()
            .unwrap()
            .success()
    );
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (trace, run) = (read(&trace), read(&run));
    let traced = trace["services"][0]["downtime_hours"].as_f64().unwrap();
    let measured = run["services"][0]["downtime_hours_per_year"]["mean"]
        .as_f64()
        .unwrap();
    assert!((traced - measured).abs() < 1e-9, "{traced} vs {measured}");
    assert!(!trace["events"].as_array().unwrap().is_empty());
}
