//! Durability against exact continuous-time Markov chains: permanent losses,
//! re-creation, crews and erasure codes, simulated with plain Monte Carlo where the
//! probability of loss is large enough to see.

use crate::common::{assert_close, exponential, simulate, world};
use nines::markov::{self, Repair};
use serde_json::{Value, json};

/// One object group whose pieces live on the disks of one data centre (one rack, one
/// host, `disks` disks; only disks fail, after Exp(`mttf`)), re-created at once
/// after Exp(`copy`) hours, with `crews` copies at most at a time.
fn one_group(
    storage: Value,
    disks: u32,
    mttf: f64,
    copy: f64,
    crews: Option<u32>,
    horizon: f64,
) -> Value {
    let mut repair = json!({ "detection": "0 s", "copy": exponential(copy) });
    if let Some(c) = crews {
        repair["crews"] = json!(c);
    }
    let mut storage = storage;
    storage["object_groups"] = json!(1);
    storage["repair"] = repair;
    json!({
        "name": "one group",
        "horizon": format!("{horizon} h"),
        "initial_state": "all_new",
        "components": {
            "disk": { "fail": exponential(mttf), "repair": exponential(0.5) }
        },
        "datacenters": [ { "id": "a", "region": "r", "racks": 1, "hosts_per_rack": 1,
                           "disks_per_host": disks } ],
        "services": [ { "name": "store", "storage": storage } ]
    })
}

/// Simulates `scenario` and checks its probability of losing data against `exact`.
fn check_loss_probability(what: &str, scenario: Value, trials: u64, exact: f64) {
    let world = world(scenario);
    let summary = simulate(&world, 11, trials);
    let durability = summary.services[0].durability.as_ref().expect("storage");
    let (p, _) = durability.loss_probability();
    let se = (exact * (1.0 - exact) / trials as f64).sqrt();
    assert_close(what, p, se, exact);
}

#[test]
fn two_replicas_match_their_birth_death_chain() {
    // λ = 1/1000 h per piece, μ = 1/50 h per copy, one year of 2000 h. The chain on
    // pieces lost (0 → 1 at 2λ, 1 → 0 at μ, 1 → 2 at λ) gives P(loss by 2000 h); its
    // mean time to loss, (3λ + μ) / (2λ²) = (0.003 + 0.02) / 2e-6 = 11,500 h, puts the
    // probability near 1 - e^(-2000/11500) ≈ 0.16.
    let (lambda, mu, horizon) = (1e-3, 0.02, 2000.0);
    let chain = markov::pieces_lost(2, 1, lambda, mu, Repair::Independent);
    let exact = chain.loss_probability_by(horizon).unwrap();
    assert!((0.1..0.2).contains(&exact), "{exact}");
    let scenario = one_group(
        json!({ "replicas": 2, "placement": { "per_datacenter": { "a": 2 } } }),
        12,
        1000.0,
        50.0,
        None,
        horizon,
    );
    check_loss_probability("2 replicas", scenario, 20_000, exact);
}

#[test]
fn three_replicas_with_one_crew_match_their_chain() {
    // One crew: from 2 pieces lost, repairs go one at a time (rate μ, not 2μ).
    // λ = 1/500 h, μ = 1/100 h, 4000 h.
    let (lambda, mu, horizon) = (2e-3, 0.01, 4000.0);
    let one_crew = markov::pieces_lost(3, 2, lambda, mu, Repair::Crews(1));
    let exact = one_crew.loss_probability_by(horizon).unwrap();
    let independent = markov::pieces_lost(3, 2, lambda, mu, Repair::Independent)
        .loss_probability_by(horizon)
        .unwrap();
    // The crew limit matters here: the two answers are far apart.
    assert!(exact > 1.3 * independent, "{exact} vs {independent}");
    let scenario = one_group(
        json!({ "replicas": 3, "placement": { "per_datacenter": { "a": 3 } } }),
        12,
        500.0,
        100.0,
        Some(1),
        horizon,
    );
    check_loss_probability("3 replicas, one crew", scenario, 20_000, exact);
}

#[test]
fn a_four_plus_two_code_matches_its_chain() {
    // 6 fragments, lost when more than 2 are gone: the chain on fragments lost, 0..3.
    // λ = 1/400 h, μ = 1/40 h, 3000 h.
    let (lambda, mu, horizon) = (2.5e-3, 0.025, 3000.0);
    let chain = markov::pieces_lost(6, 2, lambda, mu, Repair::Independent);
    let exact = chain.loss_probability_by(horizon).unwrap();
    let scenario = one_group(
        json!({ "erasure_code": { "data": 4, "parity": 2 },
                "placement": { "per_datacenter": { "a": 6 } } }),
        16,
        400.0,
        40.0,
        None,
        horizon,
    );
    check_loss_probability("4+2 code", scenario, 20_000, exact);
}

/// Estimates the loss probability of `scenario`'s first service by splitting, to
/// ±20 %, and checks it against `exact` within 4 of the estimate's own standard
/// errors (its reported interval is ±1.96 of them).
fn check_rare(what: &str, scenario: Value, exact: f64) -> nines::rare::Estimate {
    let world = world(scenario);
    let target = nines::rare::Target {
        relative_error: 0.2,
        ..nines::rare::Target::default()
    };
    let estimate =
        nines::rare::estimate_loss(&world, 0, 5, target).unwrap_or_else(|e| panic!("{e}"));
    let se = (estimate.ci95[1] - estimate.ci95[0]) / 2.0 / 1.96;
    eprintln!("{what}: {estimate:?}");
    assert_close(what, estimate.probability, se, exact);
    assert!(estimate.reliable, "{what}: {estimate:?}");
    estimate
}

#[test]
fn splitting_finds_a_one_in_a_hundred_million_loss() {
    // Three replicas, Exp(64,000 h) disks, Exp(10 h) copies, a year: the chain gives
    // P ≈ 3λ³T/μ² = 3 × (1/64000)³ × 8760 / 0.01 ≈ 1.0e-8 (exact value from the chain).
    let (mttf, copy, horizon) = (64_000.0, 10.0, 8760.0);
    let exact = markov::pieces_lost(3, 2, 1.0 / mttf, 1.0 / copy, Repair::Independent)
        .loss_probability_by(horizon)
        .unwrap();
    assert!((5e-9..2e-8).contains(&exact), "{exact}");
    let scenario = one_group(
        json!({ "replicas": 3, "placement": { "per_datacenter": { "a": 3 } } }),
        12,
        mttf,
        copy,
        None,
        horizon,
    );
    check_rare("3 replicas, 1e-8", scenario, exact);
}

#[test]
fn splitting_finds_a_one_in_ten_billion_loss() {
    // λ = 1/300,000 h: P ≈ 3λ³T/μ² = 3 × 3.7e-17 × 8760 / 0.01 ≈ 1e-10.
    let (mttf, copy, horizon) = (300_000.0, 10.0, 8760.0);
    let exact = markov::pieces_lost(3, 2, 1.0 / mttf, 1.0 / copy, Repair::Independent)
        .loss_probability_by(horizon)
        .unwrap();
    assert!((5e-11..2e-10).contains(&exact), "{exact}");
    let scenario = one_group(
        json!({ "replicas": 3, "placement": { "per_datacenter": { "a": 3 } } }),
        12,
        mttf,
        copy,
        None,
        horizon,
    );
    check_rare("3 replicas, 1e-10", scenario, exact);
}
