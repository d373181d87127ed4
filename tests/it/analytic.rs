//! Simulated availability against answers derived by hand.

use crate::common::{assert_close, deterministic, exponential, simulate, world};
use serde_json::{Value, json};

/// `count` instances in one site that never fails, each with its own fail/repair laws,
/// up while `min_up` of them are up.
fn instances(fail: Value, repair: Value, count: u32, min_up: u32) -> Value {
    json!({
        "name": "instances",
        "datacenters": [ { "id": "dc", "region": "r" } ],
        "components": { "instance": { "fail": fail, "repair": repair } },
        "services": [ { "name": "app",
                        "compute": { "instances": { "dc": count }, "min_up": min_up } } ]
    })
}

/// Availability estimate and its standard error (the trial is the unit).
fn availability(world: &nines::world::World, seed: u64, trials: u64) -> (f64, f64) {
    let summary = simulate(world, seed, trials);
    let u = &summary.services[0].unavailability;
    (1.0 - u.mean(), u.std_error())
}

#[test]
fn one_repairable_unit_with_exponential_times() {
    // MTTF 100 h, MTTR 10 h: A = 100 / (100 + 10) = 0.909091.
    let w = world(instances(exponential(100.0), exponential(10.0), 1, 1));
    let (a, se) = availability(&w, 1, 2000);
    assert_close("availability", a, se, 100.0 / 110.0);
}

#[test]
fn one_repairable_unit_with_weibull_up_times() {
    // Renewal theory: in steady state, A = E[up] / (E[up] + E[down]) whatever the laws.
    // Up: Weibull(shape 2, scale 112.838 h), mean = 112.838 × Γ(1.5) = 112.838 × 0.886227
    //     = 100.000 h. Down: log-normal(median 8 h, sigma 0.5), mean = 8 × e^(0.125)
    //     = 9.06520 h. A = 100 / 109.06520 = 0.916882.
    let scale = 100.0 / 0.886_226_925_452_758;
    let fail = json!({ "weibull": { "shape": 2.0, "scale": format!("{scale} h") } });
    let repair = json!({ "lognormal": { "median": "8 h", "sigma": 0.5 } });
    let w = world(instances(fail, repair, 1, 1));
    let (a, se) = availability(&w, 2, 2000);
    let exact = 100.0 / (100.0 + 8.0 * (0.125f64).exp());
    assert_close("availability", a, se, exact);
}

#[test]
fn one_repairable_unit_with_deterministic_repairs() {
    // Up: gamma(shape 3, scale 50 h), mean 150 h; down: deterministic 30 h.
    // A = 150 / 180 = 0.833333.
    let fail = json!({ "gamma": { "shape": 3.0, "scale": "50 h" } });
    let w = world(instances(fail, deterministic(30.0), 1, 1));
    let (a, se) = availability(&w, 3, 2000);
    assert_close("availability", a, se, 150.0 / 180.0);
}

#[test]
fn k_of_n_independent_units_match_the_binomial() {
    // Five independent units, each up with a = 100 / (100 + 25) = 0.8; the service
    // needs three. A = Σ_{k=3..5} C(5,k) a^k (1-a)^(5-k)
    //   = 10 × 0.512 × 0.04 + 5 × 0.4096 × 0.2 + 0.32768 = 0.2048 + 0.4096 + 0.32768
    //   = 0.94208.
    let w = world(instances(exponential(100.0), exponential(25.0), 5, 3));
    let (a, se) = availability(&w, 4, 2000);
    assert_close("3-of-5 availability", a, se, 0.94208);
}

/// Two sites, each holding one replica of one object group, each with its own facility
/// (up 200 h, down 20 h) and on a power grid (up 100 h, down 20 h) whose outages each
/// site rides through with probability 0.5; `shared` puts both sites on one grid.
fn two_sites(shared: bool) -> Value {
    let grid = |id: &str| {
        json!({ "id": id, "kind": "power_grid",
                "between_events": exponential(100.0), "outage": exponential(20.0),
                "ride_through": 0.5 })
    };
    let (domains, grid_b) = if shared {
        (json!([grid("grid-a")]), "grid-a")
    } else {
        (json!([grid("grid-a"), grid("grid-b")]), "grid-b")
    };
    json!({
        "name": if shared { "shared grid" } else { "separate grids" },
        "failure_domains": domains,
        "components": { "facility": { "fail": exponential(200.0), "repair": exponential(20.0) } },
        "datacenters": [
            { "id": "a", "region": "r", "on": ["grid-a"] },
            { "id": "b", "region": "r", "on": [grid_b] }
        ],
        "services": [ { "name": "store",
                        "storage": { "object_groups": 1, "replicas": 2,
                                     "placement": { "per_datacenter": { "a": 1, "b": 1 } } } } ]
    })
}

#[test]
fn sites_on_separate_grids_fail_independently() {
    // Facility a_f = 200/220 = 0.909091; grid a_g = 100/120 = 0.833333; ride-through
    // p = 0.5. A site has power unless the grid is down and it does not ride through:
    // q = a_f (a_g + (1 - a_g) p) = 0.909091 × 0.916667 = 0.833333.
    // The sites are independent: A = 1 - (1 - q)^2 = 1 - 0.166667^2 = 0.972222.
    let (a_f, a_g, p): (f64, f64, f64) = (200.0 / 220.0, 100.0 / 120.0, 0.5);
    let q = a_f * (a_g + (1.0 - a_g) * p);
    let exact = 1.0 - (1.0 - q) * (1.0 - q);
    let (a, se) = availability(&world(two_sites(false)), 5, 4000);
    assert_close("separate grids", a, se, exact);
}

#[test]
fn sites_sharing_a_grid_fail_together() {
    // Same figures, one grid. Condition on the grid: while it is up (a_g), each site is
    // up with a_f; while it is down, each site independently rides through (p) and has
    // its facility up (a_f). A = a_g (1 - (1 - a_f)^2) + (1 - a_g)(1 - (1 - a_f p)^2)
    //   = 0.833333 × 0.991736 + 0.166667 × (1 - 0.545455^2)
    //   = 0.826446 + 0.117080 = 0.943526, well below 0.972222 for separate grids.
    let (a_f, a_g, p): (f64, f64, f64) = (200.0 / 220.0, 100.0 / 120.0, 0.5);
    let exact = a_g * (1.0 - (1.0 - a_f).powi(2)) + (1.0 - a_g) * (1.0 - (1.0 - a_f * p).powi(2));
    let (a, se) = availability(&world(two_sites(true)), 6, 4000);
    assert_close("shared grid", a, se, exact);
    assert!(exact < 0.95);
}

#[test]
fn outage_rate_of_one_unit() {
    // Exponential up 100 h, down 10 h: one outage per 110 h cycle, so
    // 8760 / 110 = 79.6364 outages a year on average in steady state.
    let w = world(instances(exponential(100.0), exponential(10.0), 1, 1));
    let summary = simulate(&w, 7, 2000);
    let outages = &summary.services[0].outages_per_year;
    assert_close(
        "outages per year",
        outages.mean(),
        outages.std_error(),
        8760.0 / 110.0,
    );
}

#[test]
fn yearly_breach_probability_of_one_unit() {
    // A unit that starts new, fails at rate λ = 1/20000 per hour and takes exactly 10 h
    // to repair, against 99.9 % a year (budget 8.76 h). Any failure before
    // 8760 - 8.76 = 8751.24 h costs more than 8.76 h of the year; a later one less, and
    // leaves no time for another. P(breach) = 1 - exp(-8751.24 / 20000)
    //   = 1 - exp(-0.437562) = 0.354379.
    let mut scenario = instances(exponential(20000.0), deterministic(10.0), 1, 1);
    scenario["initial_state"] = json!("all_new");
    scenario["services"][0]["slas"] =
        json!([ { "name": "yearly", "target": "99.9%", "window": "year" } ]);
    let w = world(scenario);
    let trials = 4000;
    let summary = simulate(&w, 8, trials);
    let breaches = &summary.services[0].slas[0].breaches;
    let p = breaches.estimate();
    let exact = 1.0 - (-8751.24f64 / 20000.0).exp();
    let se = (exact * (1.0 - exact) / trials as f64).sqrt();
    assert_close("breach probability", p, se, exact);
    let (lo, hi) = breaches.ci(0.95);
    assert!(lo < p && p < hi);
    assert!(hi - lo < 0.04, "interval [{lo}, {hi}] too wide");
}
