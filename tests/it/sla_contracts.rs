//! SLAs measured as their contracts measure them, on histories worked out by hand and
//! against an exact answer.

use crate::common::{deterministic, exponential, simulate, world};
use crate::occupation::p_downtime_exceeds;
use nines::report::Report;
use serde_json::{Value, json};

/// Sites `a` (and `b`, if given) in region "r", each with a deterministic facility
/// (up, down) history that starts new; `service` runs on them.
fn sites(a: (f64, f64), b: Option<(f64, f64)>, service: Value) -> nines::world::World {
    let site = |id: &str, (up, down): (f64, f64)| {
        json!({ "id": id, "region": "r",
                "facility": { "fail": deterministic(up), "repair": deterministic(down) } })
    };
    let mut datacenters = vec![site("a", a)];
    if let Some(b) = b {
        datacenters.push(site("b", b));
    }
    world(json!({
        "name": "contract test",
        "initial_state": "all_new",
        "datacenters": datacenters,
        "services": [service]
    }))
}

fn report(w: &nines::world::World, trials: u64) -> Value {
    let summary = simulate(w, 1, trials);
    serde_json::to_value(Report::new(w, 1, &summary, None)).unwrap()
}

#[test]
fn s3_contracts_on_a_two_day_outage_in_december() {
    // One object group on site a, which is down from 8700 h to 8748 h: inside December
    // [8016, 8760), a 744-hour month. Error rate 100 % for 48 h: uptime
    // 100 × (1 - 48/744) = 93.548 %. Under the 2007 contract that is the 25 % tier
    // (below 99.0 %); under the current one, below 95.0 %: 100 %. One month of twelve
    // breaches; the credit is 0.25 and 1 monthly bill a year, 250 and 1000 on a bill of
    // 1000 a month.
    let w = sites(
        (8700.0, 48.0),
        None,
        json!({ "name": "s3", "monthly_bill": 1000,
                "storage": { "object_groups": 1, "replicas": 1, "placement": { "per_datacenter": { "a": 1 } } },
                "slas": [ { "contract": "s3-2007" }, { "contract": "s3-current" } ] }),
    );
    let r = report(&w, 2);
    let slas = &r["services"][0]["slas"];
    for (k, tier, money) in [(0, 1, 250.0), (1, 2, 1000.0)] {
        let sla = &slas[k];
        assert_eq!(sla["breach_probability"]["mean"], 1.0 / 12.0);
        assert!((sla["uptime_percent"]["min"].as_f64().unwrap() - 93.548_387).abs() < 1e-3);
        assert_eq!(
            sla["credit"]["tiers"][tier]["probability"]["mean"],
            1.0 / 12.0
        );
        let paid = sla["credit"]["expected_money_per_year"]["mean"]
            .as_f64()
            .unwrap();
        assert!((paid - money).abs() < 1e-9, "{paid}");
    }
}

/// Two instances, one per site or both on site a, with the 2008 and current
/// region-level EC2 contracts.
fn ec2(instances: Value, b: Option<(f64, f64)>) -> Value {
    let w = sites(
        (1000.0, 2.0),
        b,
        json!({ "name": "ec2",
                "compute": { "instances": instances, "min_up": 1 },
                "slas": [ { "contract": "ec2-2008" }, { "contract": "ec2-region-current" } ] }),
    );
    report(&w, 1)
}

#[test]
fn ec2_in_one_zone_is_never_region_unavailable() {
    // Site a is down [1000, 1002), [2002, 2004), ... : 8 outages of 2 h in a year (the
    // ninth would start at 9008 h), 16 h in all. Both instances are there, so the
    // service is down 16 h, yet one zone can never make a region unavailable.
    let r = ec2(json!({ "a": 2 }), None);
    let service = &r["services"][0];
    let down = service["downtime_hours_per_year"]["mean"].as_f64().unwrap();
    assert!((down - 16.0).abs() < 1e-9, "{down}");
    for sla in service["slas"].as_array().unwrap() {
        assert_eq!(sla["uptime_percent"]["mean"], 100.0);
        assert_eq!(sla["breach_probability"]["mean"], 0.0);
    }
}

#[test]
fn ec2_in_two_zones_counts_only_overlapping_outages() {
    // Site a is down [1000, 1002), [2002, 2004), ...; site b [1001, 1003),
    // [2004, 2006), ... Both are down only in [1001, 1002): 12 five-minute periods of
    // the 105,120 in the year: uptime 100 × (1 - 12/105120) = 99.98858 %, above 99.95 %.
    // The current contract counts minutes per month: February [744, 1416) has 40,320
    // minutes, 60 of them unavailable: 100 × (1 - 60/40320) = 99.85119 %, below
    // 99.99 %: one breached month of twelve, 10 % of one monthly bill.
    let r = ec2(json!({ "a": 1, "b": 1 }), Some((1001.0, 2.0)));
    let service = &r["services"][0];
    let down = service["downtime_hours_per_year"]["mean"].as_f64().unwrap();
    assert!((down - 1.0).abs() < 1e-9, "{down}");
    let y2008 = &service["slas"][0];
    assert!((y2008["uptime_percent"]["mean"].as_f64().unwrap() - 99.988_584).abs() < 1e-5);
    assert_eq!(y2008["breach_probability"]["mean"], 0.0);
    let current = &service["slas"][1];
    assert!((current["uptime_percent"]["min"].as_f64().unwrap() - 99.851_190).abs() < 1e-5);
    assert_eq!(current["breach_probability"]["mean"], 1.0 / 12.0);
    let bills = current["credit"]["expected_monthly_bills_per_year"]["mean"]
        .as_f64()
        .unwrap();
    assert!((bills - 0.1).abs() < 1e-12);
}

#[test]
fn monthly_breach_probability_of_one_unit_matches_the_markov_chain() {
    // One unit, exponential up (mean 1000 h) and down (mean 1 h), in steady state; SLA
    // 99.9 % per 30-day month by downtime: a month breaches when its downtime exceeds
    // 0.1 % of 720 h = 0.72 h. The exact probability comes from the distribution of
    // the occupation time of the two-state Markov chain (see occupation.rs):
    // P(D_720 > 0.72) = 0.311797 for λ = 1/1000, μ = 1. The year holds twelve 30-day
    // months; each is a stationary window of the same chain.
    let exact = p_downtime_exceeds(1.0 / 1000.0, 1.0, 720.0, 0.72);
    assert!((exact - 0.311_797).abs() < 1e-6);
    let w = world(json!({
        "name": "one unit",
        "datacenters": [ { "id": "dc", "region": "r" } ],
        "components": { "instance": { "fail": exponential(1000.0), "repair": exponential(1.0) } },
        "services": [ { "name": "app", "compute": { "instances": { "dc": 1 }, "min_up": 1 },
                        "slas": [ { "name": "monthly", "target": "99.9%", "window": "month_30_days" } ] } ]
    }));
    let summary = simulate(&w, 11, 4000);
    let breaches = &summary.services[0].slas[0].breaches;
    let (lo, hi) = breaches.ci(0.95);
    // The clustered interval's half-width is 1.96 standard errors.
    let se = (hi - lo) / (2.0 * 1.959_964);
    crate::common::assert_close("monthly breach probability", breaches.estimate(), se, exact);
    assert_eq!(breaches.units(), 4000 * 12);
}

#[test]
fn instance_level_sla_judges_each_instance() {
    // Two instances on site a, down with it from 8700 h to 8748 h, in December (744 h):
    // each instance's December uptime is 100 × (1 - 48/744) = 93.548 %, below 95.0 %:
    // 100 % credit on its share of the bill. Units: 12 months × 2 instances = 24 a
    // trial, 2 of them breached; credit 2 × 100 % × (1/2 of a monthly bill) = 1 bill.
    let w = sites(
        (8700.0, 48.0),
        None,
        json!({ "name": "ec2", "monthly_bill": 600,
                "compute": { "instances": { "a": 2 }, "min_up": 1 },
                "slas": [ { "contract": "ec2-instance-current" } ] }),
    );
    let r = report(&w, 1);
    let sla = &r["services"][0]["slas"][0];
    assert_eq!(sla["windows_per_trial"], 24);
    assert_eq!(sla["breach_probability"]["mean"], 2.0 / 24.0);
    assert_eq!(sla["credit"]["tiers"][2]["probability"]["mean"], 2.0 / 24.0);
    let money = sla["credit"]["expected_money_per_year"]["mean"]
        .as_f64()
        .unwrap();
    assert!((money - 600.0).abs() < 1e-9, "{money}");
}

#[test]
fn popular_groups_weigh_more_in_the_error_rate() {
    // Zipf exponent 1 over two groups: weights 1/1 and 1/2, shares 2/3 and 1/3. Both
    // groups share site a's fate here, so the error rate during an outage is still
    // 100 %; what this checks is that weights add up to a whole (no residue after the
    // outage) and that the request rate scales the error rate: 0.001 requests a second
    // give a five-minute period a request with probability 1 - e^(-0.3) = 0.259182.
    // December uptime: 100 × (1 - 0.259182 × 48/744) = 98.32786 %.
    let w = sites(
        (8700.0, 48.0),
        None,
        json!({ "name": "s3",
                "storage": { "object_groups": 2, "replicas": 1,
                             "placement": { "per_datacenter": { "a": 1 } },
                             "requests": { "per_second": 0.001, "zipf_exponent": 1.0 } },
                "slas": [ { "contract": "s3-current" } ] }),
    );
    let r = report(&w, 1);
    let sla = &r["services"][0]["slas"][0];
    let worst = sla["uptime_percent"]["min"].as_f64().unwrap();
    let expected = 100.0 * (1.0 - (1.0 - (-0.3f64).exp()) * 48.0 / 744.0);
    assert!((worst - expected).abs() < 1e-3, "{worst} vs {expected}");
    // Eleven months untouched: exactly 100 %.
    assert_eq!(
        sla["uptime_percent"]["histogram"][0]["probability"],
        11.0 / 12.0
    );
}
