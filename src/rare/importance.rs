//! Importance sampling by balanced failure biasing.
//!
//! A trial runs under changed failure rates: the failures that threaten data — of a
//! disk holding a piece, or of a destroying domain (a flood) under a site holding one
//! — are made more likely while they matter, and the trial carries the likelihood
//! ratio `L` of its path under the true laws to its path under the changed ones. The
//! mean of `L · 1{data lost}` over independent trials is an unbiased estimate of the
//! probability of loss, whatever the changed rates (Heidelberger 1995, "Fast
//! simulation of rare events in queueing and reliability models").
//!
//! Only memoryless failures are biased: a component up with failure rate `λ` is given
//! rate `λ' = f λ` from now on by drawing its time to failure again at the new rate,
//! which is exact for an exponential law whatever the phase's age. Rates change only
//! at events, so the likelihood ratio is, over the biased components,
//!
//! ```text
//! ln L = Σ_failures ln(λ / λ')  +  ∫ Σ_biased, up (λ' − λ) dt
//! ```
//!
//! (the first term for each biased failure that happened, the second for every
//! biased component's survival, integrated between events). Repairs, copies and
//! every other draw keep their true laws and contribute nothing.
//!
//! The biasing is chosen automatically, in the manner of balanced failure biasing
//! (Shahabuddin 1994): no parameter to tune.
//!
//! - *Degraded groups.* While groups miss pieces, the components that could take one
//!   more from those missing the most — the disks and destroying domains of their
//!   present pieces — share a total failure rate of `ln 2 / w`, where `w` is the time
//!   until the first of those groups' copies under way is expected to end, in
//!   proportion to the pieces each would destroy ("balanced": a rare flood that would
//!   take three pieces gets three disks' share), unless their own rate is higher. A
//!   further loss then comes before that repair about half the time. The total is
//!   shared among the worst groups rather than given to each, so that a fleet with
//!   many groups degraded at once is not driven into a cascade of failures.
//! - *Forcing.* When the biased threats to the initial placement together fail less
//!   than once per horizon, they share a total rate of one per horizon, in proportion
//!   to the pieces each holds there, so that the first loss is not itself the rare
//!   event. A fleet of many disks fails often enough and is not forced.
//!
//! A repair's window is taken from the copies under way of the worst groups
//! (`Durability::repair_due`): when the earliest ends, as things stand. A flood that
//! sends a thousand copies over one shared link thus leaves a window of weeks, and the
//! bias follows it; before any copy is under way (a loss not yet noticed) nothing is
//! biased.
//!
//! A component asked for two rates (forced, and threatening a degraded group) takes
//! the larger.

use super::{Estimate, Target, Weights};
use crate::engine::Time;
use crate::reliability::NodeId;
use crate::streams::combine;
use crate::trial::{Step, TrialEvent, TrialRunner};
use crate::world::{CopyTime, Effect, ServiceKind, World};
use rayon::prelude::*;

/// Trials per round: the unit of the stopping decision.
const ROUND_TRIALS: u64 = 8192;

/// Trials per chunk of parallel work (merged in order).
const CHUNK_TRIALS: u64 = 256;

/// Expected failures per horizon that forcing brings the threats to data up to.
const FORCING: f64 = 1.0;

/// Separates these trials' streams from the plain run's and splitting's.
const KEY: u64 = 0x6269_6173_0000_0003;

const NONE: u32 = u32::MAX;

/// What may be biased for one store of a world, and how: fixed for a run.
#[derive(Debug, Clone)]
pub struct Biasing {
    store: usize,
    /// Components whose failure destroys data the store may hold, with a memoryless
    /// time to failure, and their true failure rates (per hour).
    nodes: Vec<NodeId>,
    rate: Vec<f64>,
    /// Per node of the structure: its index in `nodes`, or `NONE`.
    index_of: Vec<u32>,
    /// Per anchor: the indices in `nodes` of what destroys its data.
    destroyers: Vec<Vec<u32>>,
    /// Components that destroy data but whose failure law is not memoryless.
    unbiased: usize,
    /// The shortest repair window biasing counts on: a thousandth of the mean time
    /// from a loss to its re-creation (at least a second), so that a repair about to
    /// end does not call for an unbounded rate.
    min_window: Time,
    horizon: Time,
    /// Whether the threats to the initial placement fail less than `FORCING` times a
    /// horizon.
    forcing: bool,
}

impl Biasing {
    /// The biasing of store `store` (index among the world's storage services).
    pub fn new(world: &World, store: usize) -> Self {
        let spec = world
            .services
            .iter()
            .filter_map(|s| match &s.kind {
                ServiceKind::Storage { store, .. } => Some(store),
                _ => None,
            })
            .nth(store)
            .expect("a store of the world");
        let structure = &world.structure;
        let mut nodes = Vec::new();
        let mut rate = Vec::new();
        let mut index_of = vec![NONE; structure.node_count()];
        let mut unbiased = vec![false; structure.node_count()];
        let mut add = |node: NodeId| -> Option<u32> {
            if index_of[node.index()] != NONE {
                return Some(index_of[node.index()]);
            }
            match structure.failure_rate(node) {
                Some(r) if r > 0.0 => {
                    index_of[node.index()] = nodes.len() as u32;
                    nodes.push(node);
                    rate.push(r);
                    Some(nodes.len() as u32 - 1)
                }
                _ => {
                    unbiased[node.index()] = true;
                    None
                }
            }
        };
        let destroyers: Vec<Vec<u32>> = world
            .anchors
            .iter()
            .map(|anchor| {
                let site = &world.datacenters[anchor.datacenter as usize];
                let own = anchor.loses_data.then_some(anchor.node);
                let floods = site
                    .on
                    .iter()
                    .map(|&d| &world.domains[d])
                    .filter(|d| d.effect == Effect::Destroy)
                    .map(|d| d.node);
                own.into_iter().chain(floods).filter_map(&mut add).collect()
            })
            .collect();
        let detection = spec.repair.detection.as_ref().map_or(0.0, |law| law.mean());
        let copy = match &spec.repair.copy {
            CopyTime::Instant => 0.0,
            CopyTime::Law(law) => law.mean(),
            CopyTime::Bandwidth { within, .. } => spec.group_bytes.unwrap_or(0.0) / within,
        };
        let repair = detection + copy;
        // What threatens the initial placement, each once.
        let mut threatens = vec![false; nodes.len()];
        for &a in &spec.pieces {
            for &i in &destroyers[a as usize] {
                threatens[i as usize] = true;
            }
        }
        let initial_rate: f64 = (0..nodes.len())
            .filter(|&i| threatens[i])
            .map(|i| rate[i])
            .sum();
        Biasing {
            store,
            forcing: initial_rate * world.horizon < FORCING,
            nodes,
            rate,
            index_of,
            destroyers,
            unbiased: unbiased.iter().filter(|&&u| u).count(),
            min_window: (repair / 1000.0).max(1.0 / 3600.0),
            horizon: world.horizon,
        }
    }

    /// Whether importance sampling applies: something that destroys the store's data
    /// fails by a memoryless law.
    pub fn applies(&self) -> bool {
        !self.nodes.is_empty()
    }
}

/// One trial's biasing: the rates in force and the likelihood ratio so far.
#[derive(Debug, Clone)]
struct Bias {
    /// Per biased component (index in `Biasing::nodes`): its rate now, 0 when not
    /// biased.
    biased: Vec<f64>,
    /// Those biased now.
    list: Vec<u32>,
    /// Σ over biased components of (biased rate − true rate).
    excess: f64,
    log_ratio: f64,
    /// When `log_ratio` was last brought up to date.
    since: Time,
    /// `Durability::changes` when the rates were last chosen.
    changes_seen: u64,
    // Scratch space for choosing rates.
    wanted: Vec<f64>,
    wanted_list: Vec<u32>,
    members: Vec<u32>,
    mark: Vec<u32>,
    /// Per member: pieces its failure would destroy.
    hits: Vec<u32>,
    stamp: u32,
    redraws: Vec<(NodeId, f64)>,
    /// The threats forcing applies to, with the pieces each would destroy.
    forced: Vec<(u32, u32)>,
}

impl Bias {
    fn new(biasing: &Biasing) -> Self {
        let n = biasing.nodes.len();
        Bias {
            biased: vec![0.0; n],
            list: Vec::new(),
            excess: 0.0,
            log_ratio: 0.0,
            since: 0.0,
            changes_seen: 0,
            wanted: vec![0.0; n],
            wanted_list: Vec::new(),
            members: Vec::new(),
            mark: vec![0; n],
            hits: vec![0; n],
            stamp: 0,
            redraws: Vec::new(),
            forced: Vec::new(),
        }
    }

    fn reset(&mut self) {
        for &i in &self.list {
            self.biased[i as usize] = 0.0;
        }
        self.list.clear();
        self.excess = 0.0;
        self.log_ratio = 0.0;
        self.since = 0.0;
        self.changes_seen = 0;
    }

    /// Brings the likelihood ratio up to `now`: biased components survived until then.
    fn advance(&mut self, now: Time) {
        self.log_ratio += self.excess * (now - self.since);
        self.since = now;
    }

    /// Biased component `i` failed.
    fn failed(&mut self, i: u32, biasing: &Biasing) {
        let rate = self.biased[i as usize];
        if rate > 0.0 {
            let own = biasing.rate[i as usize];
            self.log_ratio += (own / rate).ln();
            self.excess -= rate - own;
            self.biased[i as usize] = 0.0;
            self.list.retain(|&j| j != i);
        }
    }

    /// Shares a total rate `total` among `members`, in proportion to the pieces each
    /// would destroy, asking for at least that share for each.
    fn want(&mut self, total: f64) {
        let pieces: u32 = self.members.iter().map(|&i| self.hits[i as usize]).sum();
        if pieces == 0 {
            return;
        }
        let per_piece = total / f64::from(pieces);
        for &i in &self.members {
            let rate = per_piece * f64::from(self.hits[i as usize]);
            if self.wanted[i as usize] == 0.0 {
                self.wanted_list.push(i);
            }
            self.wanted[i as usize] = self.wanted[i as usize].max(rate);
        }
    }

    /// Adds the up destroyers of anchor `a` to `members`, once each.
    fn gather(&mut self, a: u32, biasing: &Biasing, runner: &TrialRunner) {
        for &i in &biasing.destroyers[a as usize] {
            if self.mark[i as usize] != self.stamp {
                if !runner.own_up(biasing.nodes[i as usize]) {
                    continue;
                }
                self.mark[i as usize] = self.stamp;
                self.members.push(i);
                self.hits[i as usize] = 0;
            }
            self.hits[i as usize] += 1;
        }
    }

    fn next_stamp(&mut self) {
        self.members.clear();
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.fill(0);
            self.stamp = 1;
        }
    }

    /// Chooses the rates for the trial's present state and redraws the failures whose
    /// rate changed.
    fn choose(&mut self, biasing: &Biasing, runner: &mut TrialRunner) {
        let durability = runner.durability();
        self.changes_seen = durability.changes();
        let level = durability.missing_now(biasing.store);
        if biasing.forcing {
            // The threats to the pieces present, weighed by the pieces each would
            // destroy: counted afresh whenever no group misses a piece (cheap then,
            // and where forcing matters), kept while groups are being repaired.
            if level == 0 {
                self.next_stamp();
                durability
                    .for_each_present(biasing.store, 0, |_, a| self.gather(a, biasing, runner));
                self.forced.clear();
                self.forced
                    .extend(self.members.iter().map(|&i| (i, self.hits[i as usize])));
            }
            self.next_stamp();
            for &(i, pieces) in &self.forced {
                if runner.own_up(biasing.nodes[i as usize]) {
                    self.members.push(i);
                    self.hits[i as usize] = pieces;
                }
            }
            let total: f64 = self.members.iter().map(|&i| biasing.rate[i as usize]).sum();
            if !self.members.is_empty() && total * biasing.horizon < FORCING {
                self.want(FORCING / biasing.horizon);
            }
        }
        let now = runner.now();
        if let Some(due) = durability.repair_due(biasing.store, level.max(1), now) {
            self.next_stamp();
            durability
                .for_each_present(biasing.store, level, |_, a| self.gather(a, biasing, runner));
            // About one chance in two of a further loss before the first repair.
            let window = (due - now).max(biasing.min_window);
            self.want(std::f64::consts::LN_2 / window);
        }
        // Components biased now or wanted: set each to what is wanted, if more than its
        // own rate.
        self.redraws.clear();
        let previous = std::mem::take(&mut self.list);
        for &i in previous.iter().chain(&self.wanted_list) {
            let own = biasing.rate[i as usize];
            let wanted = self.wanted[i as usize];
            let new = if wanted > own { wanted } else { 0.0 };
            let old = self.biased[i as usize];
            if new > 0.0 && !self.list.contains(&i) {
                self.list.push(i);
            }
            if new != old {
                let gain = |r: f64| if r > 0.0 { r - own } else { 0.0 };
                self.excess += gain(new) - gain(old);
                self.biased[i as usize] = new;
                let factor = if new > 0.0 { new / own } else { 1.0 };
                self.redraws.push((biasing.nodes[i as usize], factor));
            }
        }
        for &i in &self.wanted_list {
            self.wanted[i as usize] = 0.0;
        }
        self.wanted_list.clear();
        self.redraws.sort_unstable_by_key(|&(node, _)| node.0);
        self.redraws.dedup_by_key(|&mut (node, _)| node.0);
        runner.redraw_failures(&self.redraws);
    }
}

/// Runs trial `trial` under the biasing: its likelihood ratio if it lost data, else 0,
/// and whether it ran out of events.
fn run_trial(
    runner: &mut TrialRunner,
    biasing: &Biasing,
    bias: &mut Bias,
    loss: u32,
    seed: u64,
    trial: u64,
) -> (f64, bool) {
    runner.begin(seed, trial);
    bias.reset();
    bias.choose(biasing, runner);
    loop {
        if runner.missing_now(biasing.store) >= loss {
            return (bias.log_ratio.exp(), false);
        }
        match runner.step() {
            Step::Fired(event) => {
                bias.advance(runner.now());
                let mut again = runner.durability().changes() != bias.changes_seen;
                if let TrialEvent::Node(node) = event {
                    let i = biasing.index_of[node.index()];
                    if i != NONE {
                        if !runner.own_up(node) {
                            bias.failed(i, biasing);
                        }
                        again = true;
                    }
                }
                if again {
                    bias.choose(biasing, runner);
                }
            }
            Step::Horizon => return (0.0, false),
            Step::OutOfEvents => return (0.0, true),
        }
    }
}

/// Estimates the probability that the store of `biasing` reaches `loss` pieces
/// missing in some group within the horizon, by importance sampling.
pub(super) fn estimate(
    world: &World,
    biasing: &Biasing,
    loss: u32,
    seed: u64,
    target: Target,
) -> Estimate {
    let seed = combine(seed, KEY);
    let mut total = Weights::default();
    let mut truncated = 0u64;
    loop {
        let first = total.roots;
        let chunks: Vec<(Weights, u64)> = (0..ROUND_TRIALS / CHUNK_TRIALS)
            .into_par_iter()
            .map_init(
                || (TrialRunner::new(world), Bias::new(biasing)),
                |(runner, bias), chunk| {
                    let mut weights = Weights::default();
                    let mut cut = 0;
                    let start = first + chunk * CHUNK_TRIALS;
                    for trial in start..start + CHUNK_TRIALS {
                        let (y, out) = run_trial(runner, biasing, bias, loss, seed, trial);
                        weights.add(y);
                        cut += u64::from(out);
                    }
                    (weights, cut)
                },
            )
            .collect();
        for (weights, cut) in &chunks {
            total.merge(weights);
            truncated += cut;
        }
        if total.precise(&target) || total.roots >= target.max_paths {
            break;
        }
    }
    let mut warnings = Vec::new();
    if truncated > 0 {
        warnings.push(format!(
            "{truncated} trials ran out of their event budget (counted as no loss)"
        ));
    }
    if biasing.nodes.is_empty() {
        warnings.push(
            "nothing that destroys data fails by a memoryless law: nothing was biased".into(),
        );
    }
    let mut estimate = super::estimate(
        "importance sampling (balanced failure biasing)",
        &total,
        total.roots,
        &target,
        warnings,
    );
    estimate.notes.push(format!(
        "biased {} components that destroy data (memoryless failures)",
        biasing.nodes.len()
    ));
    if biasing.unbiased > 0 {
        estimate.notes.push(format!(
            "left {} to their own laws (not memoryless)",
            biasing.unbiased
        ));
    }
    estimate
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One group of three replicas on the disks of one site whose disks fail by
    /// `disk_fail`, on a destroying flood plain.
    fn world(disk_fail: &str) -> World {
        let text = format!(
            r#"{{ "name": "t", "horizon": "1 year", "initial_state": "all_new",
                 "failure_domains": [ {{ "id": "f", "kind": "flood_plain",
                     "between_events": {{ "exponential": {{ "mean": "100 years" }} }},
                     "outage": {{ "exponential": {{ "mean": "1 h" }} }}, "effect": "destroy" }} ],
                 "components": {{ "disk": {{ "fail": {disk_fail},
                     "repair": {{ "exponential": {{ "mean": "1 day" }} }} }} }},
                 "datacenters": [ {{ "id": "a", "region": "r", "on": ["f"], "racks": 1,
                     "hosts_per_rack": 1, "disks_per_host": 4 }} ],
                 "services": [ {{ "name": "s", "storage": {{ "object_groups": 1,
                     "replicas": 3, "placement": {{ "per_datacenter": {{ "a": 3 }} }},
                     "repair": {{ "detection": "15 min",
                                 "copy": {{ "exponential": {{ "mean": "10 h" }} }} }} }} }} ] }}"#
        );
        crate::scenario::from_str(&text).unwrap()
    }

    #[test]
    fn what_destroys_data_is_biased_at_its_own_rate() {
        let world = world(r#"{ "exponential": { "mean": "100000 h" } }"#);
        let biasing = Biasing::new(&world, 0);
        // Four disks and the flood plain: five threats, every one memoryless.
        assert!(biasing.applies());
        assert_eq!(biasing.nodes.len(), 5);
        let mut rates = biasing.rate.clone();
        rates.sort_by(f64::total_cmp);
        // The flood every 100 years (100 × 8760 h = 876,000 h), then the disks.
        assert!((rates[0] - 1.0 / 876_000.0).abs() < 1e-15, "{rates:?}");
        assert!(rates[1..].iter().all(|&r| (r - 1e-5).abs() < 1e-18));
        // Every disk's data is threatened by itself and the flood.
        assert!(biasing.destroyers.iter().all(|d| d.len() == 2));
        // Repair: 15 min to notice + 10 h to copy = 10.25 h; a thousandth of it.
        assert!((biasing.min_window - 10.25e-3).abs() < 1e-12);
        // The initial threats: 3 disks at 1e-5/h and the flood, over 8760 h:
        // (3e-5 + 1.14e-6) × 8760 ≈ 0.27 failures a year, below 1: forced.
        assert!(biasing.forcing);
    }

    #[test]
    fn disks_that_wear_out_are_left_to_their_own_laws() {
        let world = world(r#"{ "weibull": { "shape": 1.12, "scale": "100000 h" } }"#);
        let biasing = Biasing::new(&world, 0);
        // Only the flood can be biased; the disks keep their own laws.
        assert!(biasing.applies());
        assert_eq!(biasing.unbiased, 4);
        assert_eq!(biasing.nodes.len(), 1);
    }
}
