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

#[test]
fn a_trace_follows_pieces_of_stored_data() {
    // One group of two replicas on two disks of one site, only disks failing: disk 0
    // fails at 1,000 h (deterministic, from new) and disk 1 at 1,000 h too but is
    // replaced in 1 h; copies take 10 h, noticed at once. At 1,000 h both pieces are
    // lost at once: "1 of 2", then "0 of 2" and the group is lost; the service goes
    // down for good, and nothing is re-created.
    let world = crate::common::world(serde_json::json!({
        "name": "two pieces", "initial_state": "all_new", "horizon": "2000 h",
        "components": { "disk": { "fail": { "deterministic": { "value": "1000 h" } },
                                  "repair": { "deterministic": { "value": "1 h" } } } },
        "datacenters": [ { "id": "a", "region": "r", "racks": 1, "hosts_per_rack": 1,
                           "disks_per_host": 2 } ],
        "services": [ { "name": "store", "storage": { "object_groups": 1,
            "placement": { "per_datacenter": { "a": 2 } },
            "repair": { "detection": "0 s", "copy": { "deterministic": { "value": "10 h" } } } } } ]
    }));
    let trace = nines::trace::trace(&world, 1, 0);
    let pieces: Vec<(&str, &str)> = trace
        .events
        .iter()
        .filter_map(|e| Some((e.state, e.pieces.as_deref()?)))
        .collect();
    assert_eq!(
        pieces,
        [
            ("piece lost", "1 of 2 pieces"),
            ("piece lost", "0 of 2 pieces"),
            ("group lost", "0 of 2 pieces")
        ]
    );
    let service: Vec<(f64, &str)> = trace
        .events
        .iter()
        .filter(|e| e.service)
        .map(|e| (e.time_hours, e.state))
        .collect();
    assert_eq!(service, [(1000.0, "down")]);
    // 1,000 h down out of 2,000: the same as the run's measurement.
    assert_eq!(trace.services[0].downtime_hours, 1000.0);
}
