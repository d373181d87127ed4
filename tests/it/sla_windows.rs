//! SLA windows on histories fixed by deterministic laws, worked out by hand.

use crate::common::{deterministic, simulate, world};
use serde_json::json;

/// One instance that starts new, is up for `up` hours and down for `down` hours, over
/// `horizon`, with a monthly 99.9 % SLA, and a yearly one if the horizon holds a year.
fn periodic(up: f64, down: f64, horizon: &str) -> nines::world::World {
    let mut slas = vec![json!({ "name": "monthly", "target": "99.9%", "window": "month" })];
    if horizon == "1 year" {
        slas.push(json!({ "name": "yearly", "target": "99.9%", "window": "year" }));
    }
    world(json!({
        "name": "periodic",
        "horizon": horizon,
        "initial_state": "all_new",
        "datacenters": [ { "id": "dc", "region": "r" } ],
        "components": { "instance": { "fail": deterministic(up), "repair": deterministic(down) } },
        "services": [ { "name": "app", "compute": { "instances": { "dc": 1 }, "min_up": 1 },
                        "slas": slas } ]
    }))
}

#[test]
fn one_outage_a_month_breaches_eleven_months() {
    // Up 744 h, down 1 h: outages start at 744, 1489, 2234, ..., 8194 (11 of them, the
    // next would start at 8939 > 8760). Month boundaries (h): Jan [0, 744), Feb [744,
    // 1416), Mar [1416, 2160), Apr [2160, 2880), May [2880, 3624), Jun [3624, 4344),
    // Jul [4344, 5088), Aug [5088, 5832), Sep [5832, 6552), Oct [6552, 7296),
    // Nov [7296, 8016), Dec [8016, 8760). Each outage falls wholly inside one of
    // Feb..Dec, and 1 h exceeds every month's budget (0.1 % of 672..744 h = 0.672..0.744
    // h). January has none. So 11 of 12 months breach; the year has 11 h down, more
    // than its 8.76 h budget, and breaches too.
    let w = periodic(744.0, 1.0, "1 year");
    let summary = simulate(&w, 1, 3);
    let service = &summary.services[0];
    assert_eq!(service.unavailability.mean(), 11.0 / 8760.0);
    assert_eq!(service.outages_per_year.mean(), 11.0);
    let monthly = &service.slas[0].breaches;
    assert_eq!(monthly.estimate(), 11.0 / 12.0);
    assert_eq!(service.slas[0].breached_per_year.mean(), 11.0);
    assert_eq!(service.slas[1].breaches.estimate(), 1.0);
}

#[test]
fn an_outage_across_midnight_is_split_between_months() {
    // Up 743.5 h, down 1 h: the first outage is [743.5, 744.5), half in January (budget
    // 0.744 h) and half in February (budget 0.672 h): neither breaches, though a 1 h
    // outage inside either month would. Horizon 59 days = 1416 h = January + February;
    // the next outage would start at 1488 h, after the horizon.
    let w = periodic(743.5, 1.0, "59 days");
    let summary = simulate(&w, 1, 1);
    let service = &summary.services[0];
    assert_eq!(service.unavailability.mean(), 1.0 / 1416.0);
    assert_eq!(service.slas[0].breaches.estimate(), 0.0);
    assert_eq!(service.slas[0].breaches.units(), 2);
}

#[test]
fn an_outage_running_past_the_horizon_is_cut_at_the_horizon() {
    // Up 8000 h, down 1000 h: down from 8000 h to the end of the year, 760 h.
    let w = periodic(8000.0, 1000.0, "1 year");
    let summary = simulate(&w, 1, 1);
    assert_eq!(summary.services[0].unavailability.mean(), 760.0 / 8760.0);
}
