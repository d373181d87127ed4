//! Durability against exact continuous-time Markov chains: permanent losses,
//! re-creation, crews and erasure codes, simulated with plain Monte Carlo where the
//! probability of loss is large enough to see.

use crate::common::{assert_close, exponential, simulate, world};
use nines::analyze::{self, Options};
use nines::markov::{self, Repair};
use nines::rare::Method;
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

/// Estimates the loss probability of the first service of `world` by `method` to
/// `relative_error`, and checks it against `exact` within 4 of the estimate's own
/// standard errors (its reported interval is ±1.96 of them) and that it calls itself
/// reliable.
fn check_rare_world(
    what: &str,
    world: &nines::world::World,
    exact: f64,
    method: Method,
    relative_error: f64,
) -> nines::rare::Estimate {
    let target = nines::rare::Target {
        relative_error,
        ..nines::rare::Target::default()
    };
    let estimate =
        nines::rare::estimate_loss(world, 0, 5, target, method).unwrap_or_else(|e| panic!("{e}"));
    let se = (estimate.ci95[1] - estimate.ci95[0]) / 2.0 / 1.96;
    eprintln!("{what}: {estimate:?}");
    assert_close(what, estimate.probability, se, exact);
    assert!(estimate.reliable, "{what}: {estimate:?}");
    assert!(
        estimate.relative_error <= relative_error,
        "{what}: {estimate:?}"
    );
    estimate
}

fn check_rare(what: &str, scenario: Value, exact: f64, method: Method) -> nines::rare::Estimate {
    let relative_error = match method {
        Method::Splitting => 0.2,
        _ => 0.1,
    };
    check_rare_world(what, &world(scenario), exact, method, relative_error)
}

/// Three replicas of one group on the disks of one site, Exp(`mttf`) disks, Exp(10 h)
/// copies, a year: `method` against the chain, whose answer must lie in `range`.
fn three_replicas(what: &str, mttf: f64, range: std::ops::Range<f64>, method: Method) {
    let (copy, horizon) = (10.0, 8760.0);
    let exact = markov::pieces_lost(3, 2, 1.0 / mttf, 1.0 / copy, Repair::Independent)
        .loss_probability_by(horizon)
        .unwrap();
    assert!(range.contains(&exact), "{exact}");
    let scenario = one_group(
        json!({ "replicas": 3, "placement": { "per_datacenter": { "a": 3 } } }),
        12,
        mttf,
        copy,
        None,
        horizon,
    );
    let estimate = check_rare(what, scenario, exact, method);
    eprintln!("{what}: exact {exact:.4e}, {} trials", estimate.paths);
}

#[test]
fn splitting_finds_a_one_in_a_hundred_million_loss() {
    // λ = 1/64,000 h, μ = 1/10 h, T = 8760 h: the chain gives
    // P ≈ 3λ³T/μ² = 3 × (1/64000)³ × 8760 / 0.01 ≈ 1.0e-8 (exact value from the chain).
    three_replicas("3 replicas, 1e-8", 64_000.0, 5e-9..2e-8, Method::Splitting);
}

#[test]
fn importance_sampling_finds_losses_from_one_in_a_hundred_million_to_one_in_a_trillion() {
    // P ≈ 3λ³T/μ² with μ = 1/10 h, T = 8760 h (the chain gives the exact values):
    //   λ = 1/64,000 h:      3 × 3.81e-15 × 8760 / 0.01 ≈ 1.0e-8;
    //   λ = 1/300,000 h:     3 × 3.70e-17 × 8760 / 0.01 ≈ 9.7e-11;
    //   λ = 1/1,380,000 h:   3 × 3.81e-19 × 8760 / 0.01 ≈ 1.0e-12.
    // Each to ±10 %.
    three_replicas("IS, 1e-8", 64_000.0, 5e-9..2e-8, Method::Importance);
    three_replicas("IS, 1e-10", 300_000.0, 5e-11..2e-10, Method::Importance);
    three_replicas("IS, 1e-12", 1_380_000.0, 5e-13..2e-12, Method::Importance);
}

// Storage with site disasters against the chain `nines::analyze` builds from the
// scenario itself: one object group under the simulator's rules (re-creation at home,
// else in the live data centre holding the fewest pieces; copies onto a destroyed data
// centre restarted at once; loss when fewer than `needed` pieces are present).

/// A flood plain whose floods destroy what sits on it: Exp(`between`) hours between
/// floods, each lasting Exp(`outage`) hours.
fn flood_plain(id: &str, between: f64, outage: f64) -> Value {
    json!({ "id": id, "kind": "flood_plain", "between_events": exponential(between),
            "outage": exponential(outage), "effect": "destroy" })
}

/// Data centres a, b and c on the flood plains `on` (one rack, one host, 24 disks each;
/// only disks fail, after Exp(`mttf`), and floods), holding one object group of
/// `storage` (its placement given), repaired by `repair`.
fn three_sites(
    on: [&str; 3],
    floods: Vec<Value>,
    storage: Value,
    mttf: f64,
    repair: Value,
    horizon: f64,
    initial_state: &str,
) -> Value {
    let datacenters: Vec<Value> = ["a", "b", "c"]
        .iter()
        .zip(on)
        .map(|(id, plain)| {
            json!({ "id": id, "region": "r", "on": [plain], "racks": 1, "hosts_per_rack": 1,
                    "disks_per_host": 24 })
        })
        .collect();
    let mut storage = storage;
    storage["object_groups"] = json!(1);
    storage["repair"] = repair;
    json!({
        "name": "three sites",
        "horizon": format!("{horizon} h"),
        "initial_state": initial_state,
        "failure_domains": floods,
        "components": { "disk": { "fail": exponential(mttf), "repair": exponential(0.5) } },
        "datacenters": datacenters,
        "services": [ { "name": "store", "storage": storage } ]
    })
}

fn six_copies() -> Value {
    json!({ "replicas": 6, "placement": { "per_datacenter": { "a": 2, "b": 2, "c": 2 } } })
}

/// The chain's answer for the first service of `scenario`, which must be exact.
fn exact_answer(scenario: &Value) -> analyze::ChainAnswer {
    let world = world(scenario.clone());
    let service = analyze::analyze_service(&world, 0, &Options::default());
    assert!(service.exact, "{:?}", service.reasons);
    service.chain.expect("a chain")
}

/// Detection at once, copies after Exp(40 h), disks Exp(400 h), floods every 1000 h
/// lasting Exp(24 h), 2000 h: the rates of the first two tests.
fn flooded_six_copies(on: [&str; 3], plains: &[&str]) -> Value {
    let floods = plains
        .iter()
        .map(|p| flood_plain(p, 1000.0, 24.0))
        .collect();
    let repair = json!({ "detection": "0 s", "copy": exponential(40.0) });
    three_sites(on, floods, six_copies(), 400.0, repair, 2000.0, "all_new")
}

#[test]
fn six_copies_on_three_flood_plains_match_the_analyzed_chain() {
    // Six copies, two per data centre, each data centre on its own flood plain. The
    // chain (189 states: pieces present and copies under way per site, floods under
    // way) has no closed form; its value is P ≈ 0.159 by 2000 h. Roughly: a flood
    // sends a site's two pieces to the other sites (degraded placement, 3 + 3), and a
    // flood of the site holding the three present pieces while the other three are
    // still being copied loses the group; disks add their share. 20,000 trials give a
    // standard error of sqrt(0.159 × 0.841 / 20000) ≈ 0.0026.
    let scenario = flooded_six_copies(["fa", "fb", "fc"], &["fa", "fb", "fc"]);
    let answer = exact_answer(&scenario);
    let exact = answer.loss_probability;
    assert!((0.1..0.25).contains(&exact), "{exact}");
    assert_eq!(answer.fleet_loss_probability_if_independent, exact);
    check_loss_probability("6 copies, 3 flood plains", scenario, 20_000, exact);
}

#[test]
fn the_analyzed_chain_agrees_with_the_sites_chain_where_their_rules_meet() {
    // markov::sites re-creates each lost copy at its own site at rate μ, the site
    // being back at once after a disaster. The simulator's rules meet it when copies
    // are instant, the loss is noticed after Exp(1/μ) (so a lost copy comes back at
    // rate μ), and outages are so short that a loss is noticed after its site is back
    // (otherwise the copy goes to another site and stays there). With outages of mean
    // τ, a lost copy is noticed during the outage with probability about μτ, so the
    // two agree as τ → 0, more slowly for the MTTDL (degraded placements pile up over
    // its ~300 floods) than for the probability by 2000 h (~6 floods).
    let (lambda, mu, delta, horizon) = (1.0 / 400.0, 1.0 / 40.0, 1.0 / 1000.0, 2000.0);
    let reference = markov::sites(&[2, 2, 2], lambda, mu, &[delta; 3]);
    let (mttdl, p) = (
        reference.mean_time_to_loss().unwrap(),
        reference.loss_probability_by(horizon).unwrap(),
    );
    let limit = |tau: f64| {
        let floods = ["fa", "fb", "fc"]
            .iter()
            .map(|id| flood_plain(id, 1.0 / delta, tau))
            .collect();
        let repair = json!({ "detection": exponential(1.0 / mu) });
        let scenario = three_sites(
            ["fa", "fb", "fc"],
            floods,
            six_copies(),
            1.0 / lambda,
            repair,
            horizon,
            "all_new",
        );
        world(scenario)
    };
    let chain = |tau: f64| {
        analyze::group_chain(&limit(tau), 0, &Options::default())
            .unwrap()
            .chain
    };
    // τ = 1e-6 h: the MTTDLs agree to about 2e-5 (μτ times the floods in an MTTDL,
    // times the pieces at stake).
    let near = chain(1e-6).mean_time_to_loss().unwrap();
    let relative = (near - mttdl).abs() / mttdl;
    eprintln!("MTTDL: analyzed {near:e} h, sites {mttdl:e} h, relative {relative:e}");
    assert!(relative < 1e-4, "{near} vs {mttdl}");
    // The probability by 2000 h at τ = 0.1 h and 0.01 h (shorter outages cost more
    // uniformized jumps): within 3 % and 0.3 %, closer for the shorter outages, and
    // above the sites chain (a degraded placement only ever hurts here).
    let mut previous = f64::INFINITY;
    for (tau, tolerance) in [(0.1, 3e-2), (0.01, 3e-3)] {
        let q = chain(tau).loss_probability_by(horizon).unwrap();
        let relative = (q - p) / p;
        eprintln!("τ = {tau} h: P {q:e} vs sites {p:e}, relative {relative:e}");
        assert!(
            relative > 0.0 && relative < tolerance,
            "τ {tau}: {q} vs {p}"
        );
        assert!(relative < previous);
        previous = relative;
    }
    // With the simulator's usual rules instead (loss noticed at once, copies taking
    // Exp(1/μ)), the lost copies leave the flooded site at once and stay where they go:
    // the group ends up on two sites, 3 + 3, and a flood of the one holding the present
    // copies while the others are being copied loses it. So the simulator's rules lose
    // far more than the sites chain, however short the outages (about 7 times more
    // here, and a MTTDL about 9 times shorter).
    let floods = ["fa", "fb", "fc"]
        .iter()
        .map(|id| flood_plain(id, 1.0 / delta, 0.01))
        .collect();
    let repair = json!({ "detection": "0 s", "copy": exponential(1.0 / mu) });
    let usual = three_sites(
        ["fa", "fb", "fc"],
        floods,
        six_copies(),
        1.0 / lambda,
        repair,
        horizon,
        "all_new",
    );
    let answer = exact_answer(&usual);
    eprintln!(
        "detection at once: P {:e}, MTTDL {:e} h",
        answer.loss_probability,
        answer.mttdl_hours.unwrap()
    );
    assert!(answer.loss_probability > 5.0 * p);
    assert!(answer.mttdl_hours.unwrap() < mttdl / 5.0);
}

#[test]
fn two_sites_on_one_flood_plain_match_the_analyzed_chain() {
    // As above, but a and b share one flood plain: one flood destroys four copies at
    // once and the two it sends away go to c (the only live site), while the lone
    // plain of c floods on its own. Sharing raises the chain's P by 2000 h from about
    // 0.159 to about 0.749. The simulation must match the shared chain, and be far from
    // the unshared one: a chain that missed the sharing would fail here.
    let scenario = flooded_six_copies(["fab", "fab", "fc"], &["fab", "fc"]);
    let shared = exact_answer(&scenario).loss_probability;
    let separate =
        exact_answer(&flooded_six_copies(["fa", "fb", "fc"], &["fa", "fb", "fc"])).loss_probability;
    assert!((0.6..0.9).contains(&shared), "{shared}");
    let se = (shared * (1.0 - shared) / 20_000.0).sqrt();
    assert!((shared - separate) / se > 50.0, "{shared} vs {separate}");
    check_loss_probability(
        "6 copies, a and b on one flood plain",
        scenario,
        20_000,
        shared,
    );
}

#[test]
fn a_four_plus_two_code_over_three_flood_plains_matches_the_analyzed_chain() {
    // 4 + 2 fragments, two per data centre: one flood leaves exactly the four needed,
    // so a flood plus any loss before the copies complete loses the group. Floods every
    // 4000 h lasting Exp(300 h), disks Exp(1500 h), copies Exp(40 h), 2000 h. Trials
    // start in steady state: each site is under water at time 0 with probability
    // 300 / 4300 ≈ 7 % (its two fragments lost at once, sent to the other sites), and
    // each disk failed with probability 0.5 / 1500.5; the chain starts from that
    // mixture. Its P ≈ 0.482 is well above the P from everything new (≈ 0.432): a chain
    // that started fresh would be 14 standard errors (0.0035) off.
    let floods = ["fa", "fb", "fc"]
        .iter()
        .map(|id| flood_plain(id, 4000.0, 300.0))
        .collect();
    let code = json!({ "erasure_code": { "data": 4, "parity": 2 },
                       "placement": { "per_datacenter": { "a": 2, "b": 2, "c": 2 } } });
    let repair = json!({ "detection": "0 s", "copy": exponential(40.0) });
    let scenario = three_sites(
        ["fa", "fb", "fc"],
        floods,
        code,
        1500.0,
        repair,
        2000.0,
        "steady_state",
    );
    let answer = exact_answer(&scenario);
    let exact = answer.loss_probability;
    let mut fresh = scenario.clone();
    fresh["initial_state"] = json!("all_new");
    let from_new = exact_answer(&fresh).loss_probability;
    let se = (exact * (1.0 - exact) / 20_000.0).sqrt();
    eprintln!("4+2: steady-state start {exact}, fresh start {from_new}, se {se}");
    assert!((exact - from_new) / se > 4.0, "{exact} vs {from_new}");
    check_loss_probability("4+2 code, 3 flood plains", scenario, 20_000, exact);
}

#[test]
fn analyze_refuses_weibull_disks_and_bandwidth_copies_with_reasons() {
    let three = json!({ "replicas": 3, "placement": { "per_datacenter": { "a": 3 } } });
    // Weibull disks: no exact chain; approximating, the exponential law of the same
    // mean, said so.
    let mut weibull = one_group(three.clone(), 12, 1000.0, 50.0, None, 2000.0);
    weibull["components"]["disk"]["fail"] =
        json!({ "weibull": { "shape": 1.12, "scale": "461386 h" } });
    let w = world(weibull);
    let refused = analyze::analyze_service(&w, 0, &Options::default());
    assert!(refused.chain.is_none() && !refused.markovian && !refused.exact);
    assert!(
        refused
            .reasons
            .iter()
            .any(|r| r.contains("disk failure") && r.contains("weibull")),
        "{:?}",
        refused.reasons
    );
    let approximate = Options {
        approximate: true,
        ..Options::default()
    };
    let approximated = analyze::analyze_service(&w, 0, &approximate);
    assert!(approximated.chain.is_some() && !approximated.exact);
    assert!(
        approximated
            .approximations
            .iter()
            .any(|a| a.contains("weibull"))
    );
    // Copies over shared bandwidth: refused, even approximating.
    let mut bandwidth = one_group(three, 12, 1000.0, 50.0, None, 2000.0);
    bandwidth["services"][0]["storage"]["object_group_size"] = json!("10 GB");
    bandwidth["services"][0]["storage"]["repair"] = json!({
        "detection": "0 s",
        "bandwidth": { "within_datacenter": "100 MB/s", "between_datacenters": "10 MB/s" }
    });
    let b = world(bandwidth);
    for options in [Options::default(), approximate] {
        let refused = analyze::analyze_service(&b, 0, &options);
        assert!(refused.chain.is_none());
        assert!(
            refused.reasons.iter().any(|r| r.contains("bandwidth")),
            "{:?}",
            refused.reasons
        );
    }
    // A group-wise chain cannot be had either.
    assert!(analyze::group_chain(&b, 0, &approximate).is_err());
}

#[test]
fn the_period_model_of_seventeen_plus_three_is_below_the_exact_chain() {
    // The shipped Backblaze-style vault: 17 + 3 on 20 disks of one data centre, an
    // annual failure rate of 0.81 % (disks Exp(1,081,481 h), λ = 9.2467e-7 per hour)
    // and 6.5-day rebuilds (copies Exp(156 h), μ = 1/156 per hour), nothing else
    // failing, a year. With nothing but disks the analyzed chain is the birth–death
    // chain of fragments lost, pieces_lost(20, 3), and the period model reads its
    // inputs back from the chain's rates: AFR = λ × 8760 h = 0.0081, rebuild = 1/μ =
    // 6.5 days.
    // The period model: p = 0.0081 × 6.5 / 365 = 1.4425e-4 per drive and period,
    // P(period) ≈ C(20, 4) p^4 = 4845 × 4.33e-16 = 2.10e-12, times 365 / 6.5 = 56.2
    // periods: 1.18e-10 a year. The chain: loss needs four failures before three
    // rebuilds, at about (20 × 19 × 18 × 17 / 3!) λ^4 / μ^3 = 5.4e-14 an hour, so
    // about 4.7e-10 a year (exactly 4.54e-10). The period model misses losses that
    // straddle two periods and rebuilds that take longer than average: it is below
    // the exact answer by a factor of about 3.9 (printed below).
    let world = nines::scenario::from_str(
        &std::fs::read_to_string(crate::common::shipped("erasure-17-3.json")).unwrap(),
    )
    .unwrap();
    let service = analyze::analyze_service(&world, 0, &Options::default());
    assert!(service.exact, "{:?}", service.reasons);
    let answer = service.chain.unwrap();
    let period = answer
        .period_model
        .expect("an erasure code gets the period model");
    let (lambda, mu) = (1.0 / 1_081_481.0, 1.0 / 156.0);
    assert!((period.annual_failure_rate - 0.0081).abs() < 1e-8);
    assert!((period.rebuild_days - 6.5).abs() < 1e-12);
    let birth_death = markov::pieces_lost(20, 3, lambda, mu, Repair::Independent)
        .loss_probability_by(8760.0)
        .unwrap();
    let exact = period.exact_annual_loss_probability;
    assert!(
        (exact - birth_death).abs() <= 1e-9 * birth_death,
        "{exact} vs {birth_death}"
    );
    assert_eq!(
        period.annual_loss_probability,
        markov::backblaze_period_model(20, 3, period.annual_failure_rate, 6.5)
    );
    eprintln!(
        "17+3: period model {:e}, exact {exact:e}, ratio exact / period {:.2}",
        period.annual_loss_probability,
        exact / period.annual_loss_probability
    );
    assert!(period.annual_loss_probability < exact);
    assert!((1e-10..1e-9).contains(&exact), "{exact}");
}

#[test]
fn analyze_on_the_command_line() {
    use crate::common::{nines, shipped};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let read = |path: &std::path::Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    // The shipped S3 scenario is not Markovian (Weibull disks, log-normal floods, a
    // fixed detection delay, copies sharing bandwidth): exit 0, with the reasons.
    let run = nines()
        .arg("analyze")
        .arg(shipped("s3-six-copies.json"))
        .arg("--json")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(
        text.contains("no exact answer") && text.contains("weibull"),
        "{text}"
    );
    assert!(
        text.contains("bandwidth") && !text.contains("--approximate"),
        "{text}"
    );
    let json = read(&out);
    assert_eq!(json["horizon_hours"], 8760.0);
    let service = &json["services"][0];
    for key in [
        "service",
        "redundancy",
        "object_groups",
        "markovian",
        "exact",
        "reasons",
    ] {
        assert!(service.get(key).is_some(), "no {key} in {service}");
    }
    assert_eq!(service["markovian"], false);
    assert!(service.get("chain").is_none());
    // Approximating (the shared-grid variant copies without bandwidth): a chain,
    // flagged.
    let run = nines()
        .arg("analyze")
        .arg(shipped("shared-grid.json"))
        .args(["--approximate", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(
        text.contains("APPROXIMATE") && text.contains("transient failures ignored"),
        "{text}"
    );
    let json = read(&out);
    let chain = &json["services"][0]["chain"];
    for key in [
        "states",
        "transitions",
        "mttdl_hours",
        "mttdl_years",
        "loss_probability",
        "fleet_loss_probability_if_independent",
    ] {
        assert!(chain.get(key).is_some(), "no {key} in {chain}");
    }
    assert_eq!(json["services"][0]["exact"], false);
    assert!(
        !json["services"][0]["approximations"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The shipped 17 + 3 vault is Markovian: exact, with the period model beside it.
    let run = nines()
        .arg("analyze")
        .arg(shipped("erasure-17-3.json"))
        .arg("--json")
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(text.contains("period model (optimistic)"), "{text}");
    let service = &read(&out)["services"][0];
    assert_eq!(service["exact"], true);
    let period = &service["chain"]["period_model"];
    for key in [
        "annual_failure_rate",
        "rebuild_days",
        "annual_loss_probability",
        "exact_annual_loss_probability",
    ] {
        assert!(period.get(key).is_some(), "no {key} in {period}");
    }
    // A Markovian scenario with a simulation beside it.
    let scenario = dir.path().join("six.json");
    std::fs::write(
        &scenario,
        flooded_six_copies(["fa", "fb", "fc"], &["fa", "fb", "fc"]).to_string(),
    )
    .unwrap();
    let run = nines()
        .arg("analyze")
        .arg(&scenario)
        .args(["--simulate", "--trials", "4000", "--json"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = String::from_utf8(run.stdout).unwrap();
    assert!(
        text.contains("exact") && text.contains("simulated"),
        "{text}"
    );
    let service = &read(&out)["services"][0];
    assert_eq!(service["exact"], true);
    let simulated = &service["simulated"];
    assert_eq!(simulated["trials"], 4000);
    assert!(simulated["z"].as_f64().unwrap().abs() < 4.0, "{simulated}");
    assert!(simulated["ci95"][0].as_f64() <= simulated["loss_probability"].as_f64());
    // Bad input: exit 2, naming the field; a scenario without storage is bad input too.
    let mut bad = flooded_six_copies(["fa", "fb", "fc"], &["fa", "fb", "fc"]);
    bad["services"][0]["storage"]["object_groups"] = json!(0);
    std::fs::write(&scenario, bad.to_string()).unwrap();
    let run = nines().arg("analyze").arg(&scenario).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(
        stderr.contains("services[0].storage.object_groups"),
        "{stderr}"
    );
    let run = nines()
        .arg("analyze")
        .arg(shipped("ec2-one-zone.json"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
}

#[test]
fn splitting_says_when_it_cannot_be_trusted() {
    // Six copies over three flood plains (benches/six-copies-one-group.json): after a
    // flood the lost copies go to the other two sites and stay there, so most of the
    // risk sits in trials whose level (pieces missing now) is back to 0 — a state the
    // splitting does not multiply. With a small budget the estimate is then far from
    // the chain's answer, and it must say so rather than claim an interval it does not
    // have: either it is within 4 of its standard errors of the chain, or it is flagged.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/six-copies-one-group.json");
    let world = nines::scenario::load(&path).unwrap();
    let analysis = nines::analyze::analyze(&world, &nines::analyze::Options::default());
    let exact = analysis.services[0]
        .chain
        .as_ref()
        .expect("an exact chain")
        .loss_probability;
    assert!((1e-9..1e-8).contains(&exact), "{exact}");
    let target = nines::rare::Target {
        max_paths: 2_000_000,
        ..nines::rare::Target::default()
    };
    let estimate = nines::rare::estimate_loss(&world, 0, 5, target, Method::Splitting).unwrap();
    let se = (estimate.ci95[1] - estimate.ci95[0]) / 2.0 / 1.96;
    let z = (estimate.probability - exact) / se.max(f64::MIN_POSITIVE);
    eprintln!("six copies: exact {exact}, {estimate:?}, z = {z:.1}");
    assert!(
        !estimate.reliable || z.abs() < 4.0,
        "an estimate {z:.1} standard errors off claimed to be reliable: {estimate:?}"
    );
    assert!(!estimate.warnings.is_empty() || z.abs() < 4.0);
}

/// Six copies over three 100-year flood plains (benches/six-copies-one-group.json),
/// with floods made rarer by `slower`: the world and the chain's answer.
fn six_copies_over_flood_plains(slower: f64) -> (nines::world::World, f64) {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/six-copies-one-group.json");
    let mut scenario: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for domain in scenario["failure_domains"].as_array_mut().unwrap() {
        domain["between_events"] = exponential(100.0 * 8760.0 * slower);
    }
    let world = world(scenario.clone());
    (world, exact_answer(&scenario).loss_probability)
}

#[test]
fn importance_sampling_sees_flood_driven_losses_that_splitting_misses() {
    // Splitting cannot be trusted here (see above): after a flood the group is whole
    // again at level 0, but crowded into two sites. Importance sampling biases the
    // floods themselves: first loss forced (the threats fail far less than once a
    // year: 6 disks at 1/10 years and 3 floods at 1/100 years), then, while the group
    // misses pieces, its disks and floods share the repair rate 1/day, in proportion
    // to the pieces each would destroy. Against the chain (about 3.0e-9), to ±20 %.
    let (world, exact) = six_copies_over_flood_plains(1.0);
    assert!((1e-9..1e-8).contains(&exact), "{exact}");
    check_rare_world("6 copies, floods", &world, exact, Method::Auto, 0.2);
    // With 1000-year floods the chain gives about 3.1e-12 (three floods, each a tenth
    // as likely, take the answer down by about 10³); the same estimator, to ±20 %.
    let (world, exact) = six_copies_over_flood_plains(10.0);
    assert!((1e-12..1e-11).contains(&exact), "{exact}");
    check_rare_world(
        "6 copies, 1000-year floods",
        &world,
        exact,
        Method::Auto,
        0.2,
    );
}

#[test]
fn importance_sampling_gives_the_same_answer_on_any_number_of_threads() {
    let (world, _) = six_copies_over_flood_plains(1.0);
    let target = nines::rare::Target {
        max_paths: 50_000,
        ..nines::rare::Target::default()
    };
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| nines::rare::estimate_loss(&world, 0, 3, target, Method::Importance))
            .unwrap()
    };
    let one = on(1);
    assert!(one.roots_that_lost_data > 0, "{one:?}");
    assert_eq!(one, on(2));
}

#[test]
fn the_durability_command_reports_its_estimate_and_refuses_bad_arguments() {
    use crate::common::nines;
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches/three-copies-one-group.json");
    let bad = nines()
        .arg("durability")
        .arg(&scenario)
        .args(["--relative-error", "2"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--relative-error"));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let run = nines()
        .arg("durability")
        .arg(&scenario)
        .args(["--relative-error", "0.5", "--threads", "2", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let estimate = &report["services"][0]["estimate"];
    // Disks and copies are exponential: the automatic choice is importance sampling.
    assert_eq!(
        estimate["method"],
        "importance sampling (balanced failure biasing)"
    );
    // Three copies, Exp(64,000 h) disks, Exp(10 h) copies: about 1e-8 (see above).
    let p = estimate["probability"].as_f64().unwrap();
    assert!((1e-9..1e-7).contains(&p), "{p}");
    assert!(String::from_utf8_lossy(&run.stdout).contains("P(any group lost)"));
}

#[test]
fn importance_sampling_on_a_fleet_agrees_with_plain_monte_carlo() {
    // A fleet no chain describes: 100 groups of six copies, two per site, on Weibull
    // disks (worn out, left to their own law) sharing links (10 Gbit/s inside a site,
    // 1 Gbit/s between), with floods every 4 years lasting Exp(5 days): frequent enough
    // for plain Monte Carlo to see losses (a flood leaves every group's copies on two
    // sites for the days the links take to copy them all). Importance sampling biases
    // only the floods; its estimate and plain Monte Carlo's must agree within 4
    // standard errors of their difference, sqrt(se_is² + se_mc²).
    let floods = ["fa", "fb", "fc"]
        .iter()
        .map(|id| flood_plain(id, 4.0 * 8760.0, 120.0))
        .collect::<Vec<_>>();
    let datacenters: Vec<Value> = ["a", "b", "c"]
        .iter()
        .zip(["fa", "fb", "fc"])
        .map(|(id, plain)| {
            json!({ "id": id, "region": "r", "on": [plain], "racks": 2, "hosts_per_rack": 2,
                    "disks_per_host": 4 })
        })
        .collect();
    let scenario = json!({
        "name": "fleet",
        "horizon": "1 year",
        "failure_domains": floods,
        "components": { "disk": {
            "fail": { "weibull": { "shape": 1.12, "scale": "461386 h" } },
            "repair": exponential(24.0) } },
        "datacenters": datacenters,
        "services": [ { "name": "store", "storage": {
            "object_groups": 100, "replicas": 6,
            "placement": { "per_datacenter": { "a": 2, "b": 2, "c": 2 } },
            "object_group_size": "100 GB",
            "repair": { "detection": "15 min",
                        "bandwidth": { "within_datacenter": "10 Gbit/s",
                                       "between_datacenters": "1 Gbit/s" } } } } ]
    });
    let world = world(scenario);
    let trials = 40_000;
    let summary = simulate(&world, 11, trials);
    let (plain, _) = summary.services[0]
        .durability
        .as_ref()
        .expect("storage")
        .loss_probability();
    let se_plain = (plain * (1.0 - plain) / trials as f64).sqrt();
    let target = nines::rare::Target {
        relative_error: 0.2,
        ..nines::rare::Target::default()
    };
    let estimate = nines::rare::estimate_loss(&world, 0, 5, target, Method::Auto).unwrap();
    assert_eq!(
        estimate.method,
        "importance sampling (balanced failure biasing)"
    );
    let se_is = (estimate.ci95[1] - estimate.ci95[0]) / 2.0 / 1.96;
    eprintln!("fleet: plain {plain:.3e} ± {se_plain:.1e}, {estimate:?}");
    assert!(plain > 5e-4, "plain Monte Carlo must see losses: {plain}");
    assert!(estimate.reliable, "{estimate:?}");
    assert_close(
        "fleet, importance sampling against plain Monte Carlo",
        estimate.probability,
        (se_is * se_is + se_plain * se_plain).sqrt(),
        plain,
    );
}
