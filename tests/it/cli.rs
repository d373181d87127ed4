//! The command line: every shipped scenario runs, and bad input gets exit code 2 and a
//! message that names the field.

use crate::common::{nines, shipped};
use std::io::Write;

fn shipped_scenarios() -> Vec<std::path::PathBuf> {
    let mut paths: Vec<_> = std::fs::read_dir(shipped(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_shipped_scenario_checks_and_runs() {
    let scenarios = shipped_scenarios();
    assert!(scenarios.len() >= 4);
    let dir = tempfile::tempdir().unwrap();
    for path in scenarios {
        let check = nines().arg("check").arg(&path).output().unwrap();
        assert!(
            check.status.success(),
            "check {}: {}",
            path.display(),
            String::from_utf8_lossy(&check.stderr)
        );
        let json = dir.path().join("out.json");
        let run = nines()
            .arg("run")
            .arg(&path)
            .args(["--trials", "300", "--json"])
            .arg(&json)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "run {}: {}",
            path.display(),
            String::from_utf8_lossy(&run.stderr)
        );
        let table = String::from_utf8(run.stdout).unwrap();
        assert!(table.contains("availability"), "{table}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["schema_version"], 1);
        assert_eq!(report["tool"], "nines");
        assert_eq!(report["trials"], 300);
        for service in report["services"].as_array().unwrap() {
            let a = &service["availability"];
            let (mean, lo, hi) = (
                a["mean"].as_f64().unwrap(),
                a["ci95"][0].as_f64().unwrap(),
                a["ci95"][1].as_f64().unwrap(),
            );
            assert!(
                (0.0..=1.0).contains(&mean) && lo <= mean && mean <= hi,
                "{a}"
            );
            for key in ["mean", "p50", "p90", "p99", "max"] {
                assert!(service["downtime_hours_per_year"][key].as_f64().unwrap() >= 0.0);
            }
            // The downtime histogram's bands hold every trial once.
            let total: f64 = service["downtime_hours_per_year"]["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["probability"].as_f64().unwrap())
                .sum();
            assert!((total - 1.0).abs() < 1e-9, "{total}");
            for sla in service["slas"].as_array().unwrap() {
                let p = &sla["breach_probability"];
                assert!(p["ci95"][0].as_f64().unwrap() <= p["mean"].as_f64().unwrap());
                assert!(p["mean"].as_f64().unwrap() <= p["ci95"][1].as_f64().unwrap());
            }
        }
    }
}

#[test]
fn check_summarises_the_world() {
    let out = nines()
        .arg("check")
        .arg(shipped("s3-six-copies.json"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // 3 data centres × 10 racks × 8 hosts × 4 disks = 960 disks.
    assert!(text.contains("320 disks"), "{text}");
    assert!(text.contains("grid-us-east"), "{text}");
    assert!(text.contains("1000 object groups × 6 replicas"), "{text}");
    assert!(
        text.contains("SLA \"S3 SLA (2007): 99.9% a month\""),
        "{text}"
    );
    assert!(
        text.contains("10 % below 99.9 %, 25 % below 99 %, 100 % below 95 %"),
        "{text}"
    );
}

#[test]
fn schema_is_json_and_covers_the_scenario() {
    let out = nines().arg("schema").output().unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let properties = &schema["properties"];
    for key in [
        "name",
        "horizon",
        "failure_domains",
        "datacenters",
        "components",
        "services",
    ] {
        assert!(properties.get(key).is_some(), "schema lacks {key}");
    }
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn budget_prints_the_allowed_downtime() {
    let out = nines().args(["budget", "99.95"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    // 0.05 % of 8760 h = 4.38 h = 4 h 22 m 48 s; of 720 h = 0.36 h = 21 m 36 s.
    assert!(text.contains("4 h 22 m 48 s"), "{text}");
    assert!(text.contains("21 m 36 s"), "{text}");
    let out = nines().args(["budget", "99.9%"]).output().unwrap();
    // 0.1 % of 720 h = 0.72 h = 43 m 12 s.
    assert!(String::from_utf8(out.stdout).unwrap().contains("43 m 12 s"));
    let bad = nines().args(["budget", "abc"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// Runs `nines check` on a variant of the S3 scenario, returning (exit code, stderr).
fn check_variant(edit: impl FnOnce(&mut serde_json::Value)) -> (Option<i32>, String) {
    let text = std::fs::read_to_string(shipped("s3-six-copies.json")).unwrap();
    let mut scenario: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut scenario);
    check_text(&scenario.to_string())
}

/// Runs both `nines check` and `nines run` on `text`; they must refuse it alike.
fn check_text(text: &str) -> (Option<i32>, String) {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    let check = nines().arg("check").arg(file.path()).output().unwrap();
    let run = nines()
        .arg("run")
        .arg(file.path())
        .args(["--trials", "1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(check.stderr).unwrap();
    assert_eq!(check.status.code(), run.status.code());
    assert_eq!(stderr, String::from_utf8(run.stderr).unwrap());
    (check.status.code(), stderr)
}

#[test]
fn bad_input_names_the_field_and_exits_2() {
    use serde_json::json;
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "unknown field",
            Box::new(|s| s["colour"] = json!("blue")),
            "unknown field `colour`",
        ),
        (
            "missing domain",
            Box::new(|s| s["datacenters"][0]["on"][0] = json!("grid-mars")),
            "datacenters[0].on[0]",
        ),
        (
            "negative mean",
            Box::new(|s| {
                s["failure_domains"][0]["between_events"] = json!({"exponential": {"mean": "-3 h"}})
            }),
            "failure_domains[0].between_events.exponential.mean",
        ),
        (
            "zero mean",
            Box::new(|s| {
                s["components"]["disk"]["repair"] = json!({"exponential": {"mean": "0 h"}})
            }),
            "components.disk.repair.exponential.mean",
        ),
        (
            "weibull shape",
            Box::new(|s| s["components"]["disk"]["fail"]["weibull"]["shape"] = json!(0.0)),
            "components.disk.fail.weibull.shape",
        ),
        (
            "empty empirical",
            Box::new(|s| {
                s["components"]["rack"]["repair"] = json!({"empirical": {"observations": []}})
            }),
            "components.rack.repair.empirical.observations",
        ),
        (
            "no unit",
            Box::new(|s| s["horizon"] = json!("12")),
            "`horizon`",
        ),
        (
            "unknown law",
            Box::new(|s| s["components"]["host"]["fail"] = json!({"pareto": {"mean": "1 h"}})),
            "components.host.fail",
        ),
        (
            "too many replicas",
            Box::new(|s| {
                s["services"][0]["storage"]["placement"]["per_datacenter"]["eu-ireland"] =
                    json!(400);
                s["services"][0]["storage"]["replicas"] = json!(404);
            }),
            "placement.per_datacenter.eu-ireland",
        ),
        (
            "missing data centre",
            Box::new(|s| {
                s["services"][0]["storage"]["placement"]["per_datacenter"]["ap-tokyo"] = json!(2)
            }),
            "per_datacenter.ap-tokyo",
        ),
        (
            "replica count",
            Box::new(|s| s["services"][0]["storage"]["replicas"] = json!(5)),
            "services[0].storage.replicas",
        ),
        (
            "duplicate id",
            Box::new(|s| s["datacenters"][1]["id"] = json!("us-east")),
            "datacenters[1].id",
        ),
        (
            "ride-through",
            Box::new(|s| s["failure_domains"][0]["ride_through"] = json!(1.5)),
            "failure_domains[0].ride_through",
        ),
        (
            "provider kind",
            Box::new(|s| s["datacenters"][0]["providers"][0] = json!("grid-us-east")),
            "datacenters[0].providers[0]",
        ),
        (
            "target",
            Box::new(|s| s["services"][0]["slas"][0]["target"] = json!("199%")),
            "services[0].slas[0].target",
        ),
        (
            "huge",
            Box::new(|s| s["datacenters"][0]["racks"] = json!(4_000_000_000u64)),
            "datacenters[0]",
        ),
        (
            "window longer than horizon",
            Box::new(|s| s["horizon"] = json!("10 days")),
            "services[0].slas[0].window",
        ),
        (
            "huge mean",
            Box::new(|s| {
                s["failure_domains"][0]["outage"] = json!({"exponential": {"mean": "1e308 years"}})
            }),
            "failure_domains[0].outage.exponential.mean",
        ),
        (
            "infinite duration",
            Box::new(|s| {
                s["components"]["rack"]["fail"] = json!({"deterministic": {"value": "1e400 h"}})
            }),
            "components.rack.fail.deterministic.value",
        ),
        (
            "no data centres",
            Box::new(|s| s["datacenters"] = json!([])),
            "`datacenters`",
        ),
        (
            "empty id",
            Box::new(|s| s["failure_domains"][1]["id"] = json!(" ")),
            "failure_domains[1].id",
        ),
        (
            "zero object groups",
            Box::new(|s| s["services"][0]["storage"]["object_groups"] = json!(0)),
            "services[0].storage.object_groups",
        ),
        (
            "negative count",
            Box::new(|s| s["datacenters"][0]["racks"] = json!(-1)),
            "datacenters[0].racks",
        ),
    ];
    for (what, edit, expected) in cases {
        let (code, stderr) = check_variant(edit);
        assert_eq!(code, Some(2), "{what}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{what}: expected `{expected}` in: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}

#[test]
fn unreadable_input_exits_2() {
    let (code, stderr) = check_text("{ not json");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("error"), "{stderr}");
    // A file cut short names no field, only where the text ended.
    let (code, stderr) = check_text(r#"{ "name": "x", "datacenters": []"#);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("EOF while parsing") && !stderr.contains("`?`"),
        "{stderr}"
    );
    let out = nines()
        .args(["run", "/no/such/scenario.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = nines()
        .args(["run"])
        .arg(shipped("ec2-one-zone.json"))
        .args(["--threads", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failed_run_leaves_an_existing_output_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("result.json");
    std::fs::write(&out, "previous").unwrap();
    let status = nines()
        .args(["run", "/no/such/scenario.json", "--json"])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous");
    // And nothing else was left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
