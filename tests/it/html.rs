//! HTML reports (`--report`): one self-contained document each for `run`, `compare` and
//! `sweep`, with the scenario's text escaped. (tests/browser/check.sh renders them in a
//! real browser.)

use crate::common::{nines, shipped};
use std::path::{Path, PathBuf};

/// Runs nines with `args`, then `--quiet --report OUT`, and returns the report.
fn report(args: &[&str], paths: &[&Path]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let output = nines()
        .arg(args[0])
        .args(paths)
        .args(&args[1..])
        .arg("--quiet")
        .arg("--report")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "nines {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(&out).unwrap()
}

/// Crude checks that every report must pass: a whole HTML5 document whose tags
/// balance, with charts, and nothing that a browser would fetch.
fn check_document(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..80]);
    assert!(html.trim_end().ends_with("</html>"));
    for tag in [
        "html", "head", "body", "style", "svg", "table", "section", "figure",
    ] {
        let opened = html.matches(&format!("<{tag}>")).count()
            + html.matches(&format!("<{tag} ")).count()
            + html.matches(&format!("<{tag}\n")).count();
        let closed = html.matches(&format!("</{tag}>")).count();
        assert_eq!(
            opened, closed,
            "<{tag}> opened {opened} times, closed {closed}"
        );
    }
    assert!(html.contains("<svg"), "no chart");
    // Nothing from the network: no URL at all, no script, stylesheet, image or frame.
    for forbidden in [
        "http://", "https://", "<script", "<link", "<img", "<iframe", "src=", "href=", "url(",
        "@import",
    ] {
        assert!(
            !html.contains(forbidden),
            "the report contains {forbidden:?}"
        );
    }
}

fn count(html: &str, what: &str) -> usize {
    html.matches(what).count()
}

#[test]
fn a_run_report_shows_the_headline_every_sla_and_a_sample_year() {
    let html = report(
        &["run", "--trials", "300"],
        &[&shipped("ec2-one-zone.json")],
    );
    check_document(&html);
    for heading in [
        "<h1>EC2: four instances in one zone (us-east)</h1>",
        "<h2>ec2 <span class=\"kind\">(compute)</span></h2>",
        "<h3>Downtime per year</h3>",
        "<h3>SLA: EC2 SLA (2008): 99.95% a service year</h3>",
        "<h3>SLA: EC2 region SLA (current): 99.99% a month</h3>",
        "<h3>SLA: Downtime 99.95% a year</h3>",
        "<h2>A sample year: trial 0 of seed 1</h2>",
    ] {
        assert!(html.contains(heading), "missing {heading}");
    }
    for text in [
        "availability",
        "P(a year has a breach)",
        "expected credit a year, on a monthly bill of 1000",
        "Credit tiers: 10 % credit below 99.99 %; 30 % credit below 99 %",
        "component failures",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    // The downtime chart and histogram, the causes of downtime, an uptime histogram
    // per SLA and the timeline.
    assert_eq!(count(&html, "<svg"), 2 + 1 + 3 + 1);
    assert!(html.contains("What was down while the service was down"));
    assert!(html.contains("bandwidth provider isp-a"));
    // Hours are written as the terminal table writes them.
    assert!(html.contains(" h ") && html.contains(" m "));
}

#[test]
fn a_comparison_report_shows_designs_side_by_side_and_their_differences() {
    let html = report(
        &["compare", "--trials", "300"],
        &[
            &shipped("ec2-one-zone.json"),
            &shipped("ec2-two-zones.json"),
        ],
    );
    check_document(&html);
    for text in [
        "<h1>Comparison of 2 designs</h1>",
        "EC2: four instances in two zones (us-east, us-west)",
        "<h2>ec2 <span class=\"kind\">(compute)</span></h2>",
        "<h3>Availability</h3>",
        "<h3>SLA: EC2 region SLA (current): 99.99% a month</h3>",
        "<h3>Differences to A</h3>",
        "B vs A",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    // A second zone is a significant improvement, even in 300 trials.
    assert!(html.contains("★ yes"));
    // Availability and each of the three SLAs' breach probability.
    assert_eq!(count(&html, "<svg"), 1 + 3);
}

#[test]
fn a_sweep_report_has_a_row_and_a_point_per_point() {
    let html = report(
        &[
            "sweep",
            "--set",
            "services[0].compute.min_up=1..2",
            "--trials",
            "200",
        ],
        &[&shipped("ec2-one-zone.json")],
    );
    check_document(&html);
    for text in [
        "<h1>Sweep: EC2: four instances in one zone (us-east)</h1>",
        "<code>services[0].compute.min_up</code>",
        "<h3>Availability</h3>",
        "<h3>SLA: Downtime 99.95% a year</h3>",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
    assert_eq!(count(&html, "<svg"), 1 + 3);
    // One point mark per sweep point in each chart.
    assert_eq!(count(&html, "class=\"point\""), 2 * (1 + 3));
}

/// ec2-one-zone.json with markup in its name and in an SLA's name.
fn hostile_scenario(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(shipped("ec2-one-zone.json")).unwrap();
    let mut scenario: serde_json::Value = serde_json::from_str(&text).unwrap();
    scenario["name"] = r#"Zone <b>& "quoted" 'single'"#.into();
    scenario["services"][0]["slas"][2]["name"] = "Budget <i>99.95%</i>".into();
    let path = dir.join("hostile.json");
    std::fs::write(&path, scenario.to_string()).unwrap();
    path
}

#[test]
fn text_from_the_scenario_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = hostile_scenario(dir.path());
    let reports = [
        report(&["run", "--trials", "100"], &[&hostile]),
        report(
            &["compare", "--trials", "100"],
            &[&hostile, &shipped("ec2-one-zone.json")],
        ),
        report(
            &[
                "sweep",
                "--set",
                "services[0].compute.min_up=1,2",
                "--trials",
                "100",
            ],
            &[&hostile],
        ),
    ];
    for html in &reports {
        check_document(html);
        assert!(html.contains("Zone &lt;b&gt;&amp; &quot;quoted&quot; &#39;single&#39;"));
        assert!(html.contains("Budget &lt;i&gt;99.95%&lt;/i&gt;"));
        assert!(!html.contains("<b>&") && !html.contains("<i>99"));
    }
    // The title too.
    assert!(reports[0].contains("<title>nines: Zone &lt;b&gt;&amp;"));
}

#[test]
fn a_storage_report_shows_durability() {
    // Three copies in one flood-prone site lose data about once a century: with 2,000
    // trials some are lost, so the closest calls and the causes appear too.
    let html = report(
        &["run", "--trials", "2000"],
        &[&shipped("three-copies-one-dc.json")],
    );
    check_document(&html);
    for text in [
        "<h3>Durability: 3 replicas over 1000 object groups</h3>",
        "P(any group lost within the horizon)",
        "nines per object-year",
        "Closest calls",
        "flood plain flood-us-east + flood plain flood-us-east + flood plain flood-us-east",
        "Estimated by plain Monte Carlo.",
    ] {
        assert!(html.contains(text), "missing {text}");
    }
}
