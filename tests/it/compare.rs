//! `nines compare`: designs on common random numbers, with paired differences.

use crate::common::{nines, shipped};

fn compare(a: &str, b: &str, trials: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("compare.json");
    let status = nines()
        .arg("compare")
        .arg(shipped(a))
        .arg(shipped(b))
        .args(["--trials", trials, "--quiet", "--json"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

#[test]
fn a_design_against_itself_differs_by_exactly_nothing() {
    let report = compare("ec2-one-zone.json", "ec2-one-zone.json", "800");
    let d = &report["differences"][0]["services"][0];
    assert_eq!(d["availability"]["mean"], 0.0);
    assert_eq!(d["availability"]["ci95"], serde_json::json!([0.0, 0.0]));
    assert_eq!(d["availability"]["significant"], false);
    for sla in d["slas"].as_array().unwrap() {
        assert_eq!(sla["breach_probability"]["significant"], false);
    }
    // Each design's report is the report of a plain run with the same seed and trials.
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.json");
    let status = nines()
        .arg("run")
        .arg(shipped("ec2-one-zone.json"))
        .args(["--trials", "800", "--quiet", "--json"])
        .arg(&run)
        .status()
        .unwrap();
    assert!(status.success());
    let plain: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run).unwrap()).unwrap();
    assert_eq!(report["designs"][0], plain);
}

#[test]
fn a_second_zone_is_a_significant_improvement_with_a_tight_paired_interval() {
    let report = compare("ec2-one-zone.json", "ec2-two-zones.json", "2000");
    let d = &report["differences"][0]["services"][0]["availability"];
    assert_eq!(d["significant"], true);
    let (lo, hi) = (
        d["ci95"][0].as_f64().unwrap(),
        d["ci95"][1].as_f64().unwrap(),
    );
    assert!(lo > 0.0 && lo < hi);
    // The paired interval is narrower than the two designs' own intervals put
    // together, which is what an unpaired comparison would have to use.
    let width = |design: usize| {
        let a = &report["designs"][design]["services"][0]["availability"]["ci95"];
        a[1].as_f64().unwrap() - a[0].as_f64().unwrap()
    };
    assert!(hi - lo < width(0) + width(1));
}

#[test]
fn compare_needs_two_designs() {
    let out = nines()
        .arg("compare")
        .arg(shipped("ec2-one-zone.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn losing_data_is_compared_trial_by_trial() {
    // Six copies in three sites never lost a group in these trials; three copies in one
    // flood-prone site lose all three when it floods (about 1 % a year). The paired
    // difference of the loss indicator then equals B's own loss probability exactly
    // (A contributes 0 in every trial), and it is significant.
    let report = compare("s3-six-copies.json", "three-copies-one-dc.json", "4000");
    let a = &report["designs"][0]["services"][0]["durability"]["loss_probability"]["mean"];
    let b = &report["designs"][1]["services"][0]["durability"]["loss_probability"]["mean"];
    assert_eq!(a.as_f64(), Some(0.0));
    let b = b.as_f64().unwrap();
    assert!(b > 0.002 && b < 0.03, "{b}");
    let d = &report["differences"][0]["services"][0]["data_loss_probability"];
    assert!((d["mean"].as_f64().unwrap() - b).abs() < 1e-12);
    assert_eq!(d["significant"], true);
}
