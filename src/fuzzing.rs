//! Bodies of the fuzz targets, kept in the library so that the regular test suite can
//! replay the fuzz corpus without cargo-fuzz (see `fuzz/README.md` and
//! `tests/it/fuzz_corpus.rs`).
//!
//! - [`load`] (target `fuzz/fuzz_targets/load.rs`) feeds arbitrary bytes to the
//!   scenario reader: parsing, checking and lowering must answer `Ok` or `Err` and
//!   never panic (the fuzz build checks integer overflow too).
//! - [`simulate`] (target `fuzz/fuzz_targets/simulate.rs`) goes on, for scenarios that
//!   validate and are small enough to simulate quickly, to run a few trials, summarise
//!   them and render the report as JSON and as a table, checking on the way a few
//!   properties that hold for every world.
//!
//! Nothing here is used by the simulator itself; these functions exist for fuzzing.

use crate::reliability::NodeId;
use crate::report::Report;
use crate::streams::ComponentRng;
use crate::summary::RunSummary;
use crate::trial::{TrialOutcome, TrialRunner};
use crate::world::World;

/// [`simulate`] skips worlds whose reliability structure has more nodes than this.
pub const MAX_NODES: usize = 2_000;

/// [`simulate`] skips worlds whose horizon is longer than this many hours (2 years).
pub const MAX_HORIZON_HOURS: f64 = 17_520.0;

/// [`simulate`] skips worlds expected to fire more events than this in one trial (see
/// [`expected_events`]), so that a fuzz input cannot make one execution run for hours.
pub const MAX_EXPECTED_EVENTS: f64 = 100_000.0;

/// [`simulate`] skips worlds whose expected events times nodes exceeds this: one event
/// can change the state of every node that depends on it (a power grid's outage reaches
/// every disk of its data centres), so the cost of a trial grows with both. (The
/// shipped EC2 scenarios come to about 4 million.)
pub const MAX_EVENTS_TIMES_NODES: f64 = 10_000_000.0;

/// Trials that [`simulate`] runs.
pub const TRIALS: u64 = 3;

/// Fuzz target `load`: reads `bytes` as a scenario, if they are UTF-8, and ignores
/// whether it is valid. It exists for fuzzing: whatever the input, the scenario reader
/// must return, never panic.
pub fn load(bytes: &[u8]) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = crate::scenario::from_str(text);
    }
}

/// Fuzz target `simulate`: if `bytes` are a valid scenario (UTF-8 JSON) whose world is
/// small (see [`small_enough`]), runs [`TRIALS`] trials of it with [`TrialRunner`]
/// (seeded with the scenario's seed), pushes them into a [`RunSummary`], builds the
/// [`Report`] and renders it with [`Report::to_json`] and [`Report::to_table`]. Other
/// inputs are ignored.
///
/// It exists for fuzzing: nothing may panic. It also asserts (so that a violation
/// shows up as a crash) properties that every world must satisfy: outcomes have one
/// entry per service and per SLA; downtime is finite and within the horizon; an SLA's
/// breached units and credit tiers add up to its units and its unavailabilities are
/// finite; a trial's outcome does not depend on what the runner ran before; and the
/// JSON report is valid JSON.
pub fn simulate(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    // Building a world of millions of components takes seconds: skip those that are
    // certainly too big before building them (the `load` target covers building them).
    match crate::scenario::parse(text) {
        Ok(raw) if nodes_at_least(&raw) <= MAX_NODES as u64 => {}
        _ => return,
    }
    let Ok(world) = crate::scenario::from_str(text) else {
        return;
    };
    if !small_enough(&world) {
        return;
    }
    let seed = world.default_seed;
    let mut summary = RunSummary::new(&world);
    let mut runner = TrialRunner::new(&world);
    let mut last = TrialOutcome::default();
    for trial in 0..TRIALS {
        let outcome = runner.run(seed, trial);
        check_outcome(&world, outcome);
        summary.push(outcome);
        last = outcome.clone();
    }
    // A fresh runner gives the last trial the same outcome as the runner that ran the
    // earlier trials first: a reused runner carries nothing over from one trial to
    // the next.
    let fresh = TrialRunner::new(&world).run(seed, TRIALS - 1).clone();
    assert!(
        same_outcome(&fresh, &last),
        "trial {} differs between a fresh runner and a reused one:\n{fresh:?}\nvs\n{last:?}",
        TRIALS - 1
    );
    assert_eq!(summary.trials, TRIALS);
    let report = Report::new(&world, seed, &summary, None);
    let json = report.to_json();
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&json) {
        panic!("the JSON report is not valid JSON ({e}):\n{json}");
    }
    let _ = report.to_table();
}

/// Whether [`simulate`] runs `world`: small enough to simulate a few trials in well
/// under a second — at most [`MAX_NODES`] nodes, a horizon of at most
/// [`MAX_HORIZON_HOURS`], at most [`MAX_EXPECTED_EVENTS`] expected events a trial and
/// at most [`MAX_EVENTS_TIMES_NODES`] expected events times nodes.
pub fn small_enough(world: &World) -> bool {
    let nodes = world.structure.node_count();
    if nodes > MAX_NODES || world.horizon > MAX_HORIZON_HOURS {
        return false;
    }
    let events = expected_events(world);
    events <= MAX_EXPECTED_EVENTS && events * nodes as f64 <= MAX_EVENTS_TIMES_NODES
}

/// A lower bound on the nodes of the world that `raw` lowers into: one per data
/// centre, rack, host, disk, object group and instance.
fn nodes_at_least(raw: &crate::scenario::raw::Scenario) -> u64 {
    let sites = raw.datacenters.iter().map(|d| {
        let racks = u64::from(d.racks);
        let hosts = racks * u64::from(d.hosts_per_rack);
        let disks = hosts.saturating_mul(u64::from(d.disks_per_host));
        (1 + racks).saturating_add(hosts).saturating_add(disks)
    });
    let services = raw.services.iter().map(|s| {
        let groups = s.storage.as_ref().map_or(0, |s| u64::from(s.object_groups));
        let instances = s.compute.as_ref().map_or(0, |c| {
            c.instances.values().map(|&n| u64::from(n)).sum::<u64>()
        });
        groups + instances
    });
    sites.chain(services).fold(0, u64::saturating_add)
}

/// A rough, deliberately pessimistic estimate of the events one trial of `world`
/// fires: each process fails and is repaired about `horizon / cycle` times, where a
/// phase lasts the smaller of its law's mean and the median of a few samples (a
/// heavy-tailed law with a tiny median fires far more often than its mean suggests).
pub fn expected_events(world: &World) -> f64 {
    let structure = &world.structure;
    let mut rng = ComponentRng::new(0, 0, 0);
    let mut previous: Option<(&crate::reliability::Process, f64)> = None;
    let mut events = 0.0;
    for node in 0..structure.node_count() {
        let Some(process) = structure.process(NodeId(node as u32)) else {
            continue;
        };
        // Components of a kind share their laws: reuse the last estimate.
        let cycle = match previous {
            Some((p, cycle)) if p == process => cycle,
            _ => {
                let cycle = typical(&process.up, &mut rng) + typical(&process.down, &mut rng);
                previous = Some((process, cycle));
                cycle
            }
        };
        events += 2.0 * (world.horizon / cycle + 1.0);
    }
    events
}

/// The smaller of a law's mean and the median of a few of its samples, in hours.
fn typical(law: &crate::laws::Law, rng: &mut ComponentRng) -> f64 {
    let mut samples: [f64; 9] = std::array::from_fn(|_| law.sample(rng));
    samples.sort_by(f64::total_cmp);
    law.mean().min(samples[samples.len() / 2])
}

/// Checks what every outcome of `world` satisfies.
fn check_outcome(world: &World, outcome: &TrialOutcome) {
    let horizon = world.horizon;
    assert_eq!(outcome.services.len(), world.services.len());
    for (service, measured) in world.services.iter().zip(&outcome.services) {
        let name = &service.name;
        assert!(
            measured.downtime.is_finite()
                && measured.downtime >= 0.0
                && measured.downtime <= horizon * (1.0 + 1e-9),
            "service `{name}`: downtime {} h outside [0, {horizon}]",
            measured.downtime
        );
        assert_eq!(measured.slas.len(), service.slas.len());
        for (sla, o) in service.slas.iter().zip(&measured.slas) {
            let sla = &sla.name;
            assert!(
                o.breached <= o.units,
                "service `{name}`, SLA `{sla}`: {} of {} units breached",
                o.breached,
                o.units
            );
            assert_eq!(
                o.tiers.iter().map(|&t| u64::from(t)).sum::<u64>(),
                u64::from(o.units),
                "service `{name}`, SLA `{sla}`: credit tiers do not add up to the units"
            );
            assert_eq!(o.unavailability.len(), o.units as usize);
            assert!(
                o.unavailability.iter().all(|u| u.is_finite()),
                "service `{name}`, SLA `{sla}`: unavailability not finite: {:?}",
                o.unavailability
            );
            assert!(o.years_breached <= o.years);
            assert!(o.credit_percent.is_finite() && o.credit_bills.is_finite());
        }
    }
}

/// Equality of outcomes, where NaN equals NaN (the check is about determinism).
fn same_outcome(a: &TrialOutcome, b: &TrialOutcome) -> bool {
    let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || x == y;
    a.events == b.events
        && a.services.len() == b.services.len()
        && a.services.iter().zip(&b.services).all(|(s, t)| {
            same(s.downtime, t.downtime)
                && s.outages == t.outages
                && s.slas.len() == t.slas.len()
                && s.slas.iter().zip(&t.slas).all(|(p, q)| {
                    p.units == q.units
                        && p.breached == q.breached
                        && p.tiers == q.tiers
                        && same(p.credit_percent, q.credit_percent)
                        && same(p.credit_bills, q.credit_bills)
                        && p.years == q.years
                        && p.years_breached == q.years_breached
                        && p.unavailability.len() == q.unavailability.len()
                        && p.unavailability
                            .iter()
                            .zip(&q.unavailability)
                            .all(|(&x, &y)| same(x, y))
                })
        })
}
