//! Property tests: random valid scenarios (and deliberately broken ones) against what
//! must hold for every scenario, not just the shipped ones.
//!
//! Each property runs a fixed number of cases from a fixed proptest seed (ChaCha), with
//! no failure persistence, so a run is deterministic: it always passes or always fails,
//! and a failure prints the minimal scenario as one line of JSON (`nines check` it).

use crate::common::{nines, simulate};
use nines::report::Report;
use nines::trial::TrialRunner;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};
use std::fmt;
use std::path::Path;
use std::process::Output;

/// A deterministic runner: `cases` cases drawn from `seed`, nothing written to disk.
fn runner(cases: u32, seed: u64, max_shrink_iters: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters,
        ..Config::default()
    })
}

/// Runs a property, panicking with proptest's report (reason and minimal input).
fn check<S: Strategy>(
    mut runner: TestRunner,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: fmt::Debug,
{
    if let Err(error) = runner.run(&strategy, test) {
        panic!("{error}");
    }
}

// ---------------------------------------------------------------------------------
// Random valid scenarios.
// ---------------------------------------------------------------------------------

/// Rounds to three decimals (a tidy scenario, and exactly what the file says).
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A duration of `hours`, written in one of a few units.
fn duration(hours: f64, unit: usize) -> String {
    let (name, per) = [("h", 1.0), ("days", 24.0), ("min", 1.0 / 60.0)][unit % 3];
    let (name, value) = if hours / per >= 1.0 {
        (name, hours / per)
    } else {
        ("min", hours * 60.0)
    };
    format!("{} {name}", round3(value))
}

/// A law whose typical duration lies between `lo` and `hi` hours (log-uniformly).
fn law(lo: f64, hi: f64) -> BoxedStrategy<Value> {
    let hours = move || (lo.ln()..hi.ln()).prop_map(f64::exp);
    let unit = || 0usize..3;
    prop_oneof![
        (hours(), unit()).prop_map(|(m, u)| json!({ "exponential": { "mean": duration(m, u) } })),
        (0.5f64..3.0, hours(), unit()).prop_map(|(k, s, u)| {
            json!({ "weibull": { "shape": round3(k), "scale": duration(s, u) } })
        }),
        (hours(), 0.1f64..2.0, unit()).prop_map(|(m, sigma, u)| {
            json!({ "lognormal": { "median": duration(m, u), "sigma": round3(sigma) } })
        }),
        (0.3f64..5.0, hours(), unit()).prop_map(|(k, mean, u)| {
            json!({ "gamma": { "shape": round3(k), "scale": duration(mean / k, u) } })
        }),
        (hours(), unit())
            .prop_map(|(v, u)| json!({ "deterministic": { "value": duration(v, u) } })),
        (prop::collection::vec(hours(), 1..=5), unit()).prop_map(|(obs, u)| {
            let obs: Vec<String> = obs.into_iter().map(|h| duration(h, u)).collect();
            json!({ "empirical": { "observations": obs } })
        }),
    ]
    .boxed()
}

/// A component kind's laws: fails every 50 h to 5 years, repaired in 6 min to 2 days,
/// or now and then in 1 day to 3 months (waiting for parts), which makes for trials
/// that differ wildly and so for wide intervals.
fn fail_repair() -> BoxedStrategy<Value> {
    let repair = prop_oneof![4 => law(0.1, 48.0), 1 => law(24.0, 2000.0)];
    (law(50.0, 43_800.0), repair)
        .prop_map(|(fail, repair)| json!({ "fail": fail, "repair": repair }))
        .boxed()
}

const DOMAIN_KINDS: [&str; 4] = ["power_grid", "flood_plain", "custom", "bandwidth_provider"];

#[derive(Clone, Debug)]
struct Domain {
    kind: usize,
    between_events: Value,
    outage: Value,
    ride_through: Option<f64>,
    destroy: bool,
}

#[derive(Clone, Debug)]
struct Site {
    racks: u32,
    hosts_per_rack: u32,
    disks_per_host: u32,
    region: u8,
    /// Bit i: the site sits on (or is served by) domain i, when the kind fits.
    on: u8,
    providers: u8,
    facility: Option<Value>,
}

impl Site {
    /// Places for replicas: disks, else hosts, else racks, else the site itself.
    fn places(&self) -> u32 {
        if self.racks == 0 {
            1
        } else {
            self.racks * self.hosts_per_rack.max(1) * self.disks_per_host.max(1)
        }
    }
}

#[derive(Clone, Debug)]
enum Sla {
    Downtime {
        target: &'static str,
        year: bool,
        explicit_measure: bool,
        credits: bool,
    },
    Contract(&'static str),
}

#[derive(Clone, Debug)]
struct Storage {
    object_groups: u32,
    /// Replicas per site (0: none there), one entry per site.
    per_site: Vec<u32>,
    per_second: Option<f64>,
    zipf: Option<f64>,
    slas: Vec<Sla>,
    monthly_bill: Option<f64>,
}

#[derive(Clone, Debug)]
struct Compute {
    /// Instances per site (0: none there), one entry per site.
    per_site: Vec<u32>,
    min_up: u32,
    slas: Vec<Sla>,
    monthly_bill: Option<f64>,
}

#[derive(Clone)]
struct Design {
    domains: Vec<Domain>,
    /// Laws of facility, rack, host, disk, instance (None: that kind never fails).
    components: [Option<Value>; 5],
    sites: Vec<Site>,
    storage: Option<Storage>,
    compute: Option<Compute>,
    all_new: bool,
    seed: Option<u64>,
}

impl Design {
    /// Whether replicas can be lost for good: a destroying domain, or disks that fail.
    fn loses_data(&self) -> bool {
        self.domains.iter().any(|d| d.destroy)
            || (self.components[3].is_some() && self.sites.iter().any(|s| s.disks_per_host > 0))
    }
}

/// A failing case prints as its scenario file, ready for `nines check`.
impl fmt::Debug for Design {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.scenario())
    }
}

fn domain() -> impl Strategy<Value = Domain> {
    (
        0usize..4,
        law(500.0, 87_600.0),
        law(0.2, 24.0),
        prop::option::of(0.0f64..0.99),
        any::<bool>(),
    )
        .prop_map(|(kind, between_events, outage, ride, destroy)| Domain {
            kind,
            between_events,
            outage,
            ride_through: ride.filter(|_| kind == 0).map(round3),
            destroy: destroy && kind == 1,
        })
}

fn site() -> impl Strategy<Value = Site> {
    (
        0u32..=3,
        0u32..=3,
        0u32..=2,
        0u8..2,
        any::<u8>(),
        any::<u8>(),
        prop::option::weighted(0.2, fail_repair()),
    )
        .prop_map(|(racks, hosts, disks, region, on, providers, facility)| {
            // Hosts need racks and disks need hosts.
            let hosts_per_rack = if racks == 0 { 0 } else { hosts };
            let disks_per_host = if hosts_per_rack == 0 { 0 } else { disks };
            Site {
                racks,
                hosts_per_rack,
                disks_per_host,
                region,
                on,
                providers,
                facility,
            }
        })
}

fn slas(contracts: &'static [&'static str]) -> impl Strategy<Value = Vec<Sla>> {
    const TARGETS: &[&str] = &["90%", "99%", "99.5%", "99.9%", "99.95%", "99.99%"];
    let sla = prop_oneof![
        (
            prop::sample::select(TARGETS),
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(target, year, explicit_measure, credits)| Sla::Downtime {
                target,
                year,
                explicit_measure,
                credits
            }),
        prop::sample::select(contracts).prop_map(Sla::Contract),
    ];
    prop::collection::vec(sla, 0..=3)
}

fn bill() -> impl Strategy<Value = Option<f64>> {
    prop::option::of((0.0f64..5000.0).prop_map(round3))
}

fn storage() -> impl Strategy<Value = Storage> {
    (
        1u32..=6,
        prop::collection::vec(0u32..=6, 4),
        prop::option::weighted(0.3, 0.001f64..10.0),
        prop::option::weighted(0.3, 0.0f64..2.0),
        slas(&["s3-2007", "s3-current"]),
        bill(),
    )
        .prop_map(
            |(object_groups, per_site, per_second, zipf, slas, monthly_bill)| Storage {
                object_groups,
                per_site,
                per_second: per_second.map(round3).filter(|&r| r > 0.0),
                zipf: zipf.map(round3),
                slas,
                monthly_bill,
            },
        )
}

fn compute() -> impl Strategy<Value = Compute> {
    (
        prop::collection::vec(0u32..=3, 4),
        1u32..=12,
        slas(&["ec2-2008", "ec2-region-current", "ec2-instance-current"]),
        bill(),
    )
        .prop_map(|(per_site, min_up, slas, monthly_bill)| Compute {
            per_site,
            min_up,
            slas,
            monthly_bill,
        })
}

/// Random valid scenarios: 1–4 sites on 0–4 (shared) failure domains, small racks,
/// hosts and disks, random laws, one storage and/or one compute service with SLAs.
fn design() -> impl Strategy<Value = Design> {
    let components = (
        prop::option::of(fail_repair()),
        prop::option::of(fail_repair()),
        prop::option::of(fail_repair()),
        prop::option::of(fail_repair()),
        prop::option::of(fail_repair()),
    );
    (
        prop::collection::vec(domain(), 0..=4),
        components,
        prop::collection::vec(site(), 1..=4),
        storage(),
        compute(),
        0u8..3,
        any::<bool>(),
        prop::option::of(0u64..1000),
    )
        .prop_map(
            |(domains, (fa, ra, ho, di, ins), sites, storage, compute, which, all_new, seed)| {
                let n = sites.len();
                // Replicas: at most the site's places, and at least one in all.
                let mut storage = storage;
                storage.per_site.truncate(n);
                for (count, site) in storage.per_site.iter_mut().zip(&sites) {
                    *count = (*count).min(site.places());
                }
                if storage.per_site.iter().all(|&c| c == 0) {
                    storage.per_site[0] = 1;
                }
                // Instances: at least one in all, and 1 <= min_up <= their number.
                let mut compute = compute;
                compute.per_site.truncate(n);
                if compute.per_site.iter().all(|&c| c == 0) {
                    compute.per_site[0] = 1;
                }
                let total: u32 = compute.per_site.iter().sum();
                compute.min_up = 1 + (compute.min_up - 1) % total;
                Design {
                    domains,
                    components: [fa, ra, ho, di, ins],
                    sites,
                    storage: (which != 1).then_some(storage),
                    compute: (which != 0).then_some(compute),
                    all_new,
                    seed,
                }
            },
        )
}

fn sla_json(slas: &[Sla]) -> Value {
    let mut seen = Vec::new();
    let list: Vec<Value> = slas
        .iter()
        .enumerate()
        .map(|(k, sla)| match sla {
            Sla::Downtime {
                target,
                year,
                explicit_measure,
                credits,
            } => {
                let mut v = json!({ "name": format!("sla {k}"), "target": target,
                                    "window": if *year { "year" } else { "month" } });
                if *explicit_measure {
                    v["measure"] = json!("downtime");
                }
                if *credits {
                    v["credits"] = json!([ { "below": target, "credit": "10%" },
                                           { "below": "50%", "credit": "100%" } ]);
                }
                v
            }
            Sla::Contract(key) => {
                let mut v = json!({ "contract": key });
                // A contract's default name is its title: rename repeats.
                if seen.contains(key) {
                    v["name"] = json!(format!("sla {k}"));
                }
                seen.push(*key);
                v
            }
        })
        .collect();
    Value::Array(list)
}

fn counts(sites: &[Site], per_site: &[u32]) -> Value {
    let map: serde_json::Map<String, Value> = sites
        .iter()
        .enumerate()
        .zip(per_site)
        .filter(|&(_, &c)| c > 0)
        .map(|((i, _), &c)| (format!("dc{i}"), json!(c)))
        .collect();
    Value::Object(map)
}

impl Design {
    fn scenario(&self) -> Value {
        let domains: Vec<Value> = self
            .domains
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let mut v = json!({ "id": format!("fd{i}"), "kind": DOMAIN_KINDS[d.kind],
                                    "between_events": d.between_events, "outage": d.outage });
                if let Some(p) = d.ride_through {
                    v["ride_through"] = json!(p);
                }
                if d.destroy {
                    v["effect"] = json!("destroy");
                }
                if d.kind == 2 {
                    v["label"] = json!("seismic_zone");
                }
                v
            })
            .collect();
        let member = |mask: u8, providers: bool| -> Vec<String> {
            (0..self.domains.len())
                .filter(|&i| mask & (1 << i) != 0)
                .filter(|&i| (self.domains[i].kind == 3) == providers)
                .map(|i| format!("fd{i}"))
                .collect()
        };
        let sites: Vec<Value> = self
            .sites
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut v = json!({ "id": format!("dc{i}"), "region": format!("r{}", s.region),
                                    "racks": s.racks, "hosts_per_rack": s.hosts_per_rack,
                                    "disks_per_host": s.disks_per_host });
                let on = member(s.on, false);
                if !on.is_empty() {
                    v["on"] = json!(on);
                }
                let providers = member(s.providers, true);
                if !providers.is_empty() {
                    v["providers"] = json!(providers);
                }
                if let Some(f) = &s.facility {
                    v["facility"] = f.clone();
                }
                v
            })
            .collect();
        let mut components = serde_json::Map::new();
        for (name, laws) in ["facility", "rack", "host", "disk", "instance"]
            .iter()
            .zip(&self.components)
        {
            if let Some(laws) = laws {
                components.insert(name.to_string(), laws.clone());
            }
        }
        let mut services = Vec::new();
        if let Some(s) = &self.storage {
            let per_datacenter = counts(&self.sites, &s.per_site);
            let mut storage = json!({ "object_groups": s.object_groups,
                                      "replicas": s.per_site.iter().sum::<u32>(),
                                      "placement": { "per_datacenter": per_datacenter } });
            if s.per_second.is_some() || s.zipf.is_some() {
                let mut requests = json!({});
                if let Some(r) = s.per_second {
                    requests["per_second"] = json!(r);
                }
                if let Some(z) = s.zipf {
                    requests["zipf_exponent"] = json!(z);
                }
                storage["requests"] = requests;
            }
            let mut v = json!({ "name": "store", "storage": storage, "slas": sla_json(&s.slas) });
            if let Some(b) = s.monthly_bill {
                v["monthly_bill"] = json!(b);
            }
            services.push(v);
        }
        if let Some(c) = &self.compute {
            let mut v = json!({ "name": "app",
                                "compute": { "instances": counts(&self.sites, &c.per_site),
                                             "min_up": c.min_up },
                                "slas": sla_json(&c.slas) });
            if let Some(b) = c.monthly_bill {
                v["monthly_bill"] = json!(b);
            }
            services.push(v);
        }
        let mut v = json!({
            "name": "generated",
            "horizon": "1 year",
            "failure_domains": domains,
            "components": components,
            "datacenters": sites,
            "services": services,
        });
        if self.all_new {
            v["initial_state"] = json!("all_new");
        }
        if let Some(seed) = self.seed {
            v["seed"] = json!(seed);
        }
        v
    }

    fn world(&self) -> Result<nines::world::World, TestCaseError> {
        nines::scenario::from_str(&self.scenario().to_string())
            .map_err(|e| TestCaseError::fail(format!("a valid scenario was rejected: {e}")))
    }

    /// Index of the storage and of the compute service in `services`.
    fn storage_index(&self) -> usize {
        0
    }

    fn compute_index(&self) -> usize {
        usize::from(self.storage.is_some())
    }
}

// ---------------------------------------------------------------------------------
// (1) Every reported probability is a probability, and its interval holds its mean.
// ---------------------------------------------------------------------------------

/// `{ "mean": m, "ci95": [lo, hi] }` with 0 <= lo <= m <= hi <= 1.
fn assert_probability(what: &str, estimate: &Value) -> Result<(), TestCaseError> {
    let mean = estimate["mean"].as_f64();
    let lo = estimate["ci95"][0].as_f64();
    let hi = estimate["ci95"][1].as_f64();
    let (Some(mean), Some(lo), Some(hi)) = (mean, lo, hi) else {
        return Err(TestCaseError::fail(format!(
            "{what}: not numbers: {estimate}"
        )));
    };
    prop_assert!(
        (0.0..=1.0).contains(&lo) && lo <= mean && mean <= hi && hi <= 1.0,
        "{}: expected 0 <= lo <= mean <= hi <= 1, got {}",
        what,
        estimate
    );
    Ok(())
}

#[test]
fn reported_probabilities_are_probabilities() {
    // Availability is a time fraction of a horizon and a breach probability a share of
    // windows: both lie in [0, 1], and so must every interval around them (the report
    // clamps availability's interval; Wilson intervals lie in [0, 1] by construction),
    // which must also contain the point estimate it is built around. Trial counts down
    // to 1 exercise the degenerate intervals.
    let strategy = (design(), any::<u64>(), prop_oneof![1u64..=4, 5u64..=64]);
    check(
        runner(512, 0x6e69_6e65_7301, 1024),
        strategy,
        |(design, seed, trials)| {
            let world = design.world()?;
            let summary = simulate(&world, seed, trials);
            let report = Report::new(&world, seed, &summary, None);
            let report = serde_json::to_value(&report).expect("reports serialise");
            let services = report["services"].as_array().expect("services");
            prop_assert_eq!(services.len(), world.services.len());
            for service in services {
                let name = service["name"].as_str().unwrap_or("?");
                assert_probability(&format!("{name}: availability"), &service["availability"])?;
                for sla in service["slas"].as_array().expect("slas") {
                    let what = format!("{name}: SLA {}", sla["name"]);
                    assert_probability(
                        &format!("{what}: breach_probability"),
                        &sla["breach_probability"],
                    )?;
                    let year = &sla["breach_in_a_year_probability"];
                    if !year.is_null() {
                        assert_probability(&format!("{what}: breach_in_a_year_probability"), year)?;
                    }
                    for tier in sla["credit"]["tiers"].as_array().expect("tiers") {
                        assert_probability(
                            &format!("{what}: tier below {}", tier["below_percent"]),
                            &tier["probability"],
                        )?;
                    }
                }
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------
// (2) Common random numbers: more redundancy never costs a trial any downtime.
// ---------------------------------------------------------------------------------

const CRN_TRIALS: u64 = 50;

fn downtimes(world: &nines::world::World, service: usize, seed: u64) -> Vec<f64> {
    let mut runner = TrialRunner::new(world);
    (0..CRN_TRIALS)
        .map(|t| runner.run(seed, t).services[service].downtime)
        .collect()
}

/// Every trial of `more` has at most the downtime of the same trial of `base`.
fn no_trial_worse(
    what: &str,
    base: &Design,
    more: &Design,
    service: usize,
    seed: u64,
) -> Result<(), TestCaseError> {
    let (a, b) = (
        downtimes(&base.world()?, service, seed),
        downtimes(&more.world()?, service, seed),
    );
    for (t, (a, b)) in a.iter().zip(&b).enumerate() {
        prop_assert!(
            b <= a,
            "{}: trial {} has {} h of downtime with it but {} h without; with it: {:?}",
            what,
            t,
            b,
            a,
            more
        );
    }
    Ok(())
}

#[test]
fn more_redundancy_never_adds_downtime_in_any_trial() {
    // Each component draws from its own stream keyed by its identity, and replica i of a
    // group in a site is placed the same way whatever the count: the design with one
    // more replica (or instance) has every component of the other with the same history,
    // plus one. A storage group is up while any replica is, a compute service while at
    // least min_up instances are: both are monotone, so the service is up at every
    // instant it was up before, and no trial's downtime can grow.
    //
    // For storage this holds while no replica is lost for good: a design with another
    // replica re-creates lost ones elsewhere (a place it already uses is not free, a
    // site's count differs), so histories part after the first permanent loss.
    let strategy = (design(), any::<Index>(), any::<Index>(), any::<u64>());
    check(
        runner(384, 0x6e69_6e65_7302, 1024),
        strategy,
        |(design, site, instance_site, seed)| {
            if let Some(storage) = design.storage.as_ref().filter(|_| !design.loses_data()) {
                let room: Vec<usize> = (0..design.sites.len())
                    .filter(|&i| storage.per_site[i] < design.sites[i].places())
                    .collect();
                if !room.is_empty() {
                    let i = room[site.index(room.len())];
                    let mut more = design.clone();
                    more.storage.as_mut().expect("storage").per_site[i] += 1;
                    let what = format!("another replica in dc{i}");
                    no_trial_worse(&what, &design, &more, design.storage_index(), seed)?;
                }
            }
            if design.compute.is_some() {
                let i = instance_site.index(design.sites.len());
                let mut more = design.clone();
                more.compute.as_mut().expect("compute").per_site[i] += 1;
                let what = format!("another instance in dc{i}");
                no_trial_worse(&what, &design, &more, design.compute_index(), seed)?;
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------
// (3) The number of threads changes nothing.
// ---------------------------------------------------------------------------------

fn run_cli(scenario: &Path, args: &[&str]) -> Output {
    nines()
        .arg("run")
        .arg(scenario)
        .args(args)
        .output()
        .expect("nines runs")
}

#[test]
fn threads_change_no_byte_of_a_generated_scenario() {
    // Trial i draws only from streams seeded by (seed, i, component), and trials run in
    // fixed chunks (of 256) merged in order: one thread or two must write the same
    // bytes. More than one chunk, so that two threads do share the work.
    let dir = tempfile::tempdir().unwrap();
    check(
        runner(4, 0x6e69_6e65_7303, 16),
        (design(), 0u64..1000, 257u64..=1000),
        |(design, seed, trials)| {
            let scenario = dir.path().join("scenario.json");
            std::fs::write(&scenario, design.scenario().to_string()).unwrap();
            let (seed, trials) = (seed.to_string(), trials.to_string());
            let mut outputs = Vec::new();
            for threads in ["1", "2"] {
                let json = dir.path().join(format!("out-{threads}.json"));
                let json_arg = json.to_str().unwrap();
                let args = [
                    "--trials",
                    &trials,
                    "--seed",
                    &seed,
                    "--threads",
                    threads,
                    "--json",
                    json_arg,
                    "--quiet",
                ];
                let out = run_cli(&scenario, &args);
                prop_assert!(
                    out.status.success(),
                    "run --threads {} failed: {}",
                    threads,
                    String::from_utf8_lossy(&out.stderr)
                );
                outputs.push(std::fs::read(&json).unwrap());
            }
            if outputs[0] != outputs[1] {
                let (one, two) = (
                    String::from_utf8_lossy(&outputs[0]),
                    String::from_utf8_lossy(&outputs[1]),
                );
                let first = one.lines().zip(two.lines()).position(|(a, b)| a != b);
                let line = |text: &str| {
                    first
                        .and_then(|i| text.lines().nth(i))
                        .unwrap_or("")
                        .to_string()
                };
                prop_assert!(
                    false,
                    "--threads 1 and --threads 2 wrote different JSON, first at line {:?}:\n{}\n{}",
                    first.map(|i| i + 1),
                    line(&one),
                    line(&two)
                );
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------
// (4) `check` accepts exactly what `run` accepts.
// ---------------------------------------------------------------------------------

/// Ways to break a valid scenario; each always makes it invalid.
const BREAKS: &[&str] = &[
    "unknown field",
    "missing reference",
    "negative duration",
    "duration without a known unit",
    "zero replicas or instances",
    "bad percentage",
    "duplicate id",
    "missing required field",
    "hosts without racks or disks without hosts",
    "more replicas than places, or min_up above the instances",
    "ride-through outside [0, 1)",
    "contract or measure of the other service kind",
    "bad law parameter",
    "not JSON",
    "wrong type",
    "no data centre",
    "horizon shorter than an SLA window",
    "empty name",
    "service with both or neither of storage and compute",
    "unknown enum value",
];

fn pick<T: Clone>(items: &[T], index: &Index) -> T {
    items[index.index(items.len())].clone()
}

/// JSON pointers of every duration string in a scenario.
fn duration_pointers(value: &Value, pointer: &str, key: &str, out: &mut Vec<String>) {
    match value {
        Value::String(_)
            if [
                "horizon",
                "mean",
                "scale",
                "median",
                "value",
                "observations",
            ]
            .contains(&key) =>
        {
            out.push(pointer.to_string());
        }
        Value::Object(map) => {
            for (k, v) in map {
                duration_pointers(v, &format!("{pointer}/{k}"), k, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                duration_pointers(v, &format!("{pointer}/{i}"), key, out);
            }
        }
        _ => {}
    }
}

/// `{ dc: 1 }`.
fn one_in(dc: &str) -> Value {
    let mut map = serde_json::Map::new();
    map.insert(dc.to_string(), json!(1));
    Value::Object(map)
}

/// The scenario's text after breaking it in way `kind`; `index` chooses where.
fn broken(design: &Design, kind: usize, index: &Index) -> String {
    let mut s = design.scenario();
    let service = if design.storage.is_some() {
        "storage"
    } else {
        "compute"
    };
    let first_dc = "dc0".to_string();
    let storage_dc = design.storage.as_ref().map(|st| {
        let i = st.per_site.iter().position(|&c| c > 0).expect("a replica");
        (i, format!("dc{i}"))
    });
    match BREAKS[kind] {
        "unknown field" => {
            let mut places = vec!["", "/datacenters/0", "/services/0", "/components"];
            places.push(if service == "storage" {
                "/services/0/storage"
            } else {
                "/services/0/compute"
            });
            if !design.domains.is_empty() {
                places.push("/failure_domains/0");
            }
            let place = pick(&places, index);
            s.pointer_mut(place).unwrap()["colour"] = json!("blue");
        }
        "missing reference" => match index.index(3) {
            0 => s["datacenters"][0]["on"] = json!(["atlantis"]),
            1 => s["datacenters"][0]["providers"] = json!(["atlantis"]),
            _ => {
                let counts = if service == "storage" {
                    s["services"][0]["storage"]["replicas"] =
                        json!(s["services"][0]["storage"]["replicas"].as_u64().unwrap() + 1);
                    &mut s["services"][0]["storage"]["placement"]["per_datacenter"]
                } else {
                    &mut s["services"][0]["compute"]["instances"]
                };
                counts["atlantis"] = json!(1);
            }
        },
        "negative duration" | "duration without a known unit" => {
            let mut pointers = Vec::new();
            duration_pointers(&s, "", "", &mut pointers);
            let pointer = pick(&pointers, index);
            let target = s.pointer_mut(&pointer).unwrap();
            *target = if BREAKS[kind] == "negative duration" {
                json!("-3 h")
            } else {
                pick(
                    &[json!("3 parsecs"), json!("12"), json!("h"), json!("")],
                    index,
                )
            };
        }
        "zero replicas or instances" => match &storage_dc {
            Some((_, dc)) => {
                let storage = &mut s["services"][0]["storage"];
                match index.index(3) {
                    0 => storage["replicas"] = json!(0),
                    1 => storage["object_groups"] = json!(0),
                    _ => storage["placement"]["per_datacenter"][dc] = json!(0),
                }
            }
            None => {
                let compute = &mut s["services"][0]["compute"];
                let dc = compute["instances"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .next()
                    .unwrap()
                    .clone();
                compute["instances"][dc] = json!(0);
            }
        },
        "bad percentage" => {
            let bad = pick(&["99.9", "150%", "0%", "-5%", "abc%", "%", "100.5%"], index);
            let slas = s["services"][0]["slas"].as_array_mut().unwrap();
            slas.push(json!({ "name": "bad", "target": bad, "window": "month" }));
        }
        "duplicate id" => match index.index(3) {
            0 => {
                let dc = s["datacenters"][0].clone();
                s["datacenters"].as_array_mut().unwrap().push(dc);
            }
            1 if !design.domains.is_empty() => {
                let d = s["failure_domains"][0].clone();
                s["failure_domains"].as_array_mut().unwrap().push(d);
            }
            _ => {
                let service = s["services"][0].clone();
                s["services"].as_array_mut().unwrap().push(service);
            }
        },
        "missing required field" => {
            let (object, field) = pick(
                &[
                    ("", "name"),
                    ("", "datacenters"),
                    ("/datacenters/0", "id"),
                    ("/datacenters/0", "region"),
                    ("/services/0", "name"),
                ],
                index,
            );
            s.pointer_mut(object)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(field);
        }
        "hosts without racks or disks without hosts" => {
            let dc = &mut s["datacenters"][0];
            if index.index(2) == 0 {
                dc["racks"] = json!(0);
                dc["hosts_per_rack"] = json!(2);
            } else {
                dc["hosts_per_rack"] = json!(0);
                dc["disks_per_host"] = json!(1);
            }
        }
        "more replicas than places, or min_up above the instances" => match &storage_dc {
            Some((i, dc)) => {
                let storage = &mut s["services"][0]["storage"];
                let extra =
                    design.sites[*i].places() + 1 - design.storage.as_ref().unwrap().per_site[*i];
                let replicas = storage["replicas"].as_u64().unwrap() + u64::from(extra);
                storage["replicas"] = json!(replicas);
                storage["placement"]["per_datacenter"][dc] = json!(design.sites[*i].places() + 1);
            }
            None => {
                let total: u32 = design.compute.as_ref().unwrap().per_site.iter().sum();
                s["services"][0]["compute"]["min_up"] =
                    json!(if index.index(2) == 0 { 0 } else { total + 1 });
            }
        },
        "ride-through outside [0, 1)" => {
            let p = pick(&[1.0, 1.5, -0.1], index);
            s["failure_domains"].as_array_mut().unwrap().push(json!({
                "id": "extra-grid", "kind": "power_grid",
                "between_events": { "exponential": { "mean": "1 year" } },
                "outage": { "exponential": { "mean": "2 h" } },
                "ride_through": p,
            }));
        }
        "contract or measure of the other service kind" => {
            let sla = match (service, index.index(2)) {
                ("storage", 0) => json!({ "contract": "ec2-2008" }),
                ("storage", _) => json!({ "name": "x", "target": "99%", "window": "month",
                                          "measure": "instance_uptime" }),
                (_, 0) => json!({ "contract": "s3-current" }),
                _ => json!({ "name": "x", "target": "99%", "window": "month",
                             "measure": "error_rate" }),
            };
            s["services"][0]["slas"].as_array_mut().unwrap().push(sla);
        }
        "bad law parameter" => {
            let bad = pick(
                &[
                    json!({ "weibull": { "shape": 0.0, "scale": "1 h" } }),
                    json!({ "lognormal": { "median": "1 h", "sigma": -1.0 } }),
                    json!({ "gamma": { "shape": 1.0, "scale": "0 h" } }),
                    json!({ "exponential": { "mean": "0 s" } }),
                    json!({ "empirical": { "observations": [] } }),
                    json!({ "deterministic": { "value": "2e12 h" } }),
                ],
                index,
            );
            s["components"]["rack"] =
                json!({ "fail": bad, "repair": { "exponential": { "mean": "1 h" } } });
        }
        "not JSON" => {
            let text = s.to_string();
            return match index.index(3) {
                0 => text[..text.len() - 1].to_string(),
                1 => format!("{text} trailing"),
                _ => text.replacen(':', "=", 1),
            };
        }
        "wrong type" => {
            let (pointer, value) = pick(
                &[
                    ("/datacenters/0/racks", json!("three")),
                    ("/datacenters/0/racks", json!(-1)),
                    ("/horizon", json!(8760)),
                    ("/datacenters", json!({})),
                    ("/services/0/slas", json!("none")),
                    ("/name", json!(7)),
                ],
                index,
            );
            *s.pointer_mut(pointer).unwrap() = value;
        }
        "no data centre" => s["datacenters"] = json!([]),
        "horizon shorter than an SLA window" => {
            s["horizon"] = json!("20 days");
            s["services"][0]["slas"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "name": "monthly", "target": "99%", "window": "month" }));
        }
        "empty name" => match index.index(3) {
            0 => s["name"] = json!(" "),
            1 => s["datacenters"][0]["id"] = json!(""),
            _ => s["datacenters"][0]["region"] = json!(""),
        },
        "service with both or neither of storage and compute" => {
            let service = s["services"][0].as_object_mut().unwrap();
            if index.index(2) == 0 {
                service.remove("storage");
                service.remove("compute");
            } else if service.contains_key("storage") {
                service.insert(
                    "compute".into(),
                    json!({ "instances": one_in(&first_dc), "min_up": 1 }),
                );
            } else {
                service.insert(
                    "storage".into(),
                    json!({ "object_groups": 1, "replicas": 1,
                            "placement": { "per_datacenter": one_in(&first_dc) } }),
                );
            }
        }
        "unknown enum value" => match index.index(4) {
            0 => s["initial_state"] = json!("warm"),
            1 => {
                s["datacenters"][0]["facility"] = json!({
                "fail": { "pareto": { "alpha": 2 } },
                "repair": { "exponential": { "mean": "1 h" } } })
            }
            2 => s["services"][0]["slas"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "contract": "s3-2099" })),
            _ => s["services"][0]["slas"]
                .as_array_mut()
                .unwrap()
                .push(json!({ "name": "w", "target": "99%", "window": "fortnight" })),
        },
        other => unreachable!("{other}"),
    }
    s.to_string()
}

#[test]
fn check_accepts_exactly_what_run_accepts() {
    // `check` and `run` load a scenario through the same function and report its error
    // the same way, so on any file they agree: both succeed, or both exit 2 with the
    // same message. Valid scenarios must pass both (run must not panic on any of them,
    // even for one trial), and each break must be caught.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.json");
    let case = prop_oneof![
        1 => Just(None),
        3 => (0..BREAKS.len(), any::<Index>()).prop_map(Some),
    ];
    check(
        runner(96, 0x6e69_6e65_7304, 256),
        (design(), case),
        |(design, case)| {
            let text = match &case {
                None => design.scenario().to_string(),
                Some((kind, index)) => broken(&design, *kind, index),
            };
            std::fs::write(&scenario, &text).unwrap();
            let checked = nines().arg("check").arg(&scenario).output().unwrap();
            let ran = run_cli(&scenario, &["--trials", "1", "--quiet"]);
            let expected = if case.is_some() { 2 } else { 0 };
            let what = match case {
                None => "valid".to_string(),
                Some((kind, _)) => BREAKS[kind].to_string(),
            };
            let stderr = |o: &Output| String::from_utf8_lossy(&o.stderr).into_owned();
            prop_assert_eq!(
                checked.status.code(),
                Some(expected),
                "check, {} scenario {}: {}",
                what,
                text,
                stderr(&checked)
            );
            prop_assert_eq!(
                ran.status.code(),
                Some(expected),
                "run, {} scenario {}: {}",
                what,
                text,
                stderr(&ran)
            );
            prop_assert_eq!(stderr(&checked), stderr(&ran), "{} scenario {}", what, text);
            if expected == 2 {
                prop_assert!(
                    stderr(&ran).starts_with("error: invalid scenario "),
                    "{}",
                    stderr(&ran)
                );
            }
            Ok(())
        },
    );
}
