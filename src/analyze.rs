//! The exact answer for a scenario's stored data: for each storage service, the
//! continuous-time Markov chain of one object group under the simulator's own rules
//! (see [`crate::durability`]), when the scenario's laws allow one (`nines analyze`).
//!
//! A group's state is, per data centre of the service (in the service's order): the
//! pieces present there, the copies under way onto it, the pieces lost there and not
//! yet noticed (with an exponential detection delay), the pieces from there waiting for
//! a place; the pieces noticed and waiting for a crew, in line (with limited crews);
//! and which destroying domains are in an outage. The transitions are the simulator's:
//!
//! - a piece present on a disk is lost at rate `λ` (disks fail exponentially; a copy's
//!   target disk failing restarts the copy onto the same data centre, which changes
//!   nothing when copy times are exponential);
//! - a destroying domain fails and comes back at exponential rates; when it fails, each
//!   data centre on it that was not gone already is gone, in the world's order: every
//!   piece present there is lost, every copy under way onto it restarts at once;
//! - a lost piece is noticed at once or at an exponential rate, and is then copied (when
//!   a crew is free) to its home data centre if that is not gone, else to the live data
//!   centre of the service holding the fewest pieces of the group (present or being
//!   copied), ties by the service's order; a copy completes at rate `μ`, or at once;
//! - the group is lost when fewer than `needed` pieces are present.
//!
//! Pieces are handled one at a time, in the simulator's order, inside each transition:
//! a transition's target is the state the simulator reaches after it has settled. The
//! chain differs from the simulator in one place, said in the output: a piece with
//! nowhere to go is placed as soon as a place exists, where the simulator tries again
//! every hour. Transient failures (hosts, racks, facilities, grids, providers) never
//! lose data; in the simulator they only make a place unreachable for a new copy, and
//! the chain ignores them.
//!
//! When a law is not exponential the service is not Markovian and the reasons are
//! listed; [`Options::approximate`] replaces each such law by the exponential law of
//! the same mean, and says so. Copies that share bandwidth are never Markovian: a
//! copy's duration depends on every copy under way in the service.

use crate::markov::{self, Chain, LossChain, MarkovError};
use crate::reliability::{InitialState, NodeId};
use crate::world::{CopyTime, Effect, ServiceKind, Store, World};
use serde::Serialize;
use std::collections::BTreeMap;

/// Hours in a year (365 days), as in scenario files.
pub const HOURS_PER_YEAR: f64 = 8760.0;

/// The most start states a steady-state start is spread over.
const MAX_START_COMBINATIONS: u64 = 1 << 20;

/// The most destroying domains a service's data centres may sit on.
const MAX_DOMAINS: usize = 32;

/// How to analyse.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Replace every law that is not exponential by the exponential law of the same
    /// mean (listed as an approximation) instead of refusing.
    pub approximate: bool,
    /// The most states of one chain (see [`markov::MAX_EXPLORED_STATES`]).
    pub max_states: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            approximate: false,
            max_states: markov::MAX_EXPLORED_STATES,
        }
    }
}

/// The analysis of every storage service of a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    pub scenario: String,
    pub horizon_hours: f64,
    pub services: Vec<ServiceAnalysis>,
}

/// One storage service: the chain's answer, or why there is none.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceAnalysis {
    pub service: String,
    /// Index among the world's services.
    #[serde(skip)]
    pub service_index: usize,
    pub redundancy: String,
    pub object_groups: u64,
    /// Whether every law is exponential and the service's rules are those a chain of
    /// one group follows.
    pub markovian: bool,
    /// Whether `chain` is the exact answer: Markovian, solved, and nothing
    /// approximated.
    pub exact: bool,
    /// Why there is no exact answer: laws that are not exponential (also listed when
    /// approximated), what no chain of one group can follow, or a chain too big.
    pub reasons: Vec<String>,
    /// Whether [`Options::approximate`] gives a chain (every reason is a law that is
    /// not exponential).
    #[serde(skip)]
    pub approximable: bool,
    /// What the chain takes as given (true of the simulator too, or a stated limit).
    pub assumptions: Vec<String>,
    /// Where the chain's answer departs from the simulator's model.
    pub approximations: Vec<String>,
    pub datacenters: Vec<SiteReport>,
    /// The chain's answer, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<ChainAnswer>,
    /// The simulated answer, when asked for (filled by the command line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulated: Option<Simulated>,
}

/// A data centre of a storage service.
#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    pub id: String,
    /// Pieces of a group there at the start (of the first layout).
    pub pieces: u32,
    /// Rate at which a piece stored there is lost to its disk, per hour (0 when the
    /// places are not disks).
    pub piece_loss_rate_per_hour: f64,
    /// Long-run fraction of time the data centre is gone (some destroying domain it
    /// sits on is in an outage), the domains being independent.
    pub gone_fraction: f64,
}

/// The exact (or approximate, when said) answer of the chains.
#[derive(Debug, Clone, Serialize)]
pub struct ChainAnswer {
    /// States and transitions of the largest chain built.
    pub states: usize,
    pub transitions: usize,
    /// One chain per distinct initial layout of pieces over the data centres.
    pub layouts: Vec<LayoutAnswer>,
    /// Mean time to data loss of one group, from every piece present and every domain
    /// up (averaged over the groups' layouts); `None` when the chain is too big for the
    /// solve, or loss cannot happen.
    pub mttdl_hours: Option<f64>,
    pub mttdl_years: Option<f64>,
    /// Why there is no MTTDL, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mttdl_missing: Option<String>,
    /// Probability that one group (drawn at random) is lost by the horizon, starting
    /// as the simulator does.
    pub loss_probability: f64,
    /// `1 - prod_g (1 - p_g)`: the probability of losing any group if groups were
    /// independent (exact for one group).
    pub fleet_loss_probability_if_independent: f64,
    /// The Backblaze-style period model, for erasure codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period_model: Option<PeriodModel>,
}

/// The chain of the groups that start with one layout.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutAnswer {
    /// Pieces per data centre (the service's order).
    pub pieces: Vec<u32>,
    pub groups: u64,
    pub states: usize,
    pub transitions: usize,
    pub mttdl_hours: Option<f64>,
    pub loss_probability: f64,
}

/// [`markov::backblaze_period_model`] with the chain's rates: the annual failure rate
/// is `λ × 8,760 h` (failures per drive-year, as Backblaze counts it) and the rebuild
/// time is the mean time a lost piece stays missing, the mean detection delay plus
/// `1/μ`.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodModel {
    pub annual_failure_rate: f64,
    pub rebuild_days: f64,
    /// The period model's probability of losing a group within a year.
    pub annual_loss_probability: f64,
    /// The chain's, from every piece present and every domain up (disasters
    /// included), for comparison.
    pub exact_annual_loss_probability: f64,
}

/// The simulated probability of losing any group, beside the chain's.
#[derive(Debug, Clone, Serialize)]
pub struct Simulated {
    pub trials: u64,
    pub seed: u64,
    pub loss_probability: f64,
    pub ci95: [f64; 2],
    /// `(simulated - chain) / se`, `se` the binomial standard error at the chain's
    /// fleet probability; `None` without a chain.
    pub z: Option<f64>,
}

/// Analyses every storage service of `world`.
pub fn analyze(world: &World, options: &Options) -> Analysis {
    let services = world
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.kind, ServiceKind::Storage { .. }))
        .map(|(index, _)| analyze_service(world, index, options))
        .collect();
    Analysis {
        scenario: world.name.clone(),
        horizon_hours: world.horizon,
        services,
    }
}

/// Analyses storage service `index` of `world`. Panics if it is not a storage service.
pub fn analyze_service(world: &World, index: usize, options: &Options) -> ServiceAnalysis {
    let service = &world.services[index];
    let ServiceKind::Storage { store, .. } = &service.kind else {
        panic!("service {index} is not a storage service");
    };
    let groups = store.object_groups() as u64;
    let mut analysis = ServiceAnalysis {
        service: service.name.clone(),
        service_index: index,
        redundancy: store.redundancy.to_string(),
        object_groups: groups,
        markovian: false,
        exact: false,
        reasons: Vec::new(),
        approximable: false,
        assumptions: Vec::new(),
        approximations: Vec::new(),
        datacenters: Vec::new(),
        chain: None,
        simulated: None,
    };
    let built = GroupModel::read(world, index, options);
    analysis.approximable = !built.refused;
    let model = match built.model {
        Some(model) => model,
        None => {
            analysis.reasons = built.reasons;
            return analysis;
        }
    };
    analysis.markovian = built.reasons.is_empty();
    analysis.reasons = built.reasons;
    analysis.assumptions = built.assumptions;
    analysis.approximations = built.approximations;
    let layouts = layouts(world, store);
    analysis.datacenters = model
        .sites
        .iter()
        .enumerate()
        .map(|(d, site)| SiteReport {
            id: site.id.clone(),
            pieces: u32::from(layouts[0].0[d]),
            piece_loss_rate_per_hour: site.disk_rate,
            gone_fraction: model.gone_fraction(d),
        })
        .collect();
    match model.answer(world, &layouts, options) {
        Ok((answer, notes)) => {
            for note in notes {
                if !analysis.assumptions.contains(&note) {
                    analysis.assumptions.push(note);
                }
            }
            analysis.chain = Some(answer);
        }
        Err(e) => {
            analysis
                .reasons
                .push(format!("the chain cannot be solved: {e}"));
        }
    }
    analysis.exact =
        analysis.markovian && analysis.approximations.is_empty() && analysis.chain.is_some();
    analysis
}

/// The groups' initial layouts: pieces per data centre of the service, with the
/// number of groups that start so, most common first (ties in layout order).
fn layouts(world: &World, store: &Store) -> Vec<(Vec<u8>, u64)> {
    let per = store.redundancy.pieces as usize;
    let position: BTreeMap<usize, usize> = store
        .datacenters
        .iter()
        .enumerate()
        .map(|(i, &dc)| (dc, i))
        .collect();
    let mut counts: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for group in store.pieces.chunks(per) {
        let mut layout = vec![0u8; store.datacenters.len()];
        for &a in group {
            let dc = world.anchors[a as usize].datacenter as usize;
            layout[position[&dc]] += 1;
        }
        *counts.entry(layout).or_insert(0) += 1;
    }
    let mut list: Vec<(Vec<u8>, u64)> = counts.into_iter().collect();
    list.sort_by_key(|l| std::cmp::Reverse(l.1));
    list
}

/// A data centre of the service, as the chain sees it.
#[derive(Debug, Clone)]
struct Site {
    id: String,
    /// Index into the world's data centres (the order destruction follows).
    world_index: usize,
    /// Places for pieces (distinct places per group).
    places: u32,
    /// Rate at which a piece there is lost to its disk (0 without disks).
    disk_rate: f64,
    /// Probability that a disk there is failed at the start (steady state).
    disk_down_at_start: f64,
    /// Indices into `GroupModel::domains`.
    domains: Vec<usize>,
}

/// A destroying domain some data centre of the service sits on.
#[derive(Debug, Clone)]
struct DomainRates {
    /// Rate of outages (per hour, while not in one) and of their ends.
    fail: f64,
    back: f64,
    /// Probability of being in an outage at the start (steady state).
    down_at_start: f64,
    /// Indices into `GroupModel::sites` of the data centres on it, in world order.
    sites: Vec<usize>,
}

/// The rules and rates of one object group of a service.
#[derive(Debug, Clone)]
struct GroupModel {
    pieces: u32,
    needed: u32,
    erasure_coded: bool,
    sites: Vec<Site>,
    domains: Vec<DomainRates>,
    /// Rate at which a lost piece is noticed; `None`: at once.
    detection: Option<f64>,
    /// Rate at which a copy completes; `None`: at once.
    copy: Option<f64>,
    crews: Option<u32>,
    steady_start: bool,
}

/// A model, or the reasons there is none, with what was assumed.
struct Built {
    model: Option<GroupModel>,
    /// Whether something other than a law keeps the chain from being built.
    refused: bool,
    reasons: Vec<String>,
    assumptions: Vec<String>,
    approximations: Vec<String>,
}

/// What reading a model found: reasons it is not Markovian, approximations made.
struct Findings {
    approximate: bool,
    reasons: Vec<String>,
    approximations: Vec<String>,
}

impl Findings {
    /// The rate of `law`, which must be exponential: otherwise a reason, and when
    /// approximating, the rate of the exponential law of the same mean.
    fn rate(&mut self, law: &crate::laws::Law, what: &str) -> f64 {
        if !is_exponential(law) {
            self.reasons
                .push(format!("{what} follows {law}, not an exponential law"));
            if self.approximate {
                self.approximations.push(format!(
                    "{what}: {law} taken as exponential with the same mean, {} h",
                    significant(law.mean())
                ));
            }
        }
        1.0 / law.mean()
    }
}

/// `x` with six significant digits, without trailing zeros.
fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let digits = (5 - x.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{x:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Whether `law` is exponential.
fn is_exponential(law: &crate::laws::Law) -> bool {
    crate::laws::Law::exponential(law.mean()).is_ok_and(|e| e == *law)
}

/// The state of one object group. `down` has a bit per destroying domain; the
/// vectors have an entry per data centre of the service; `queue` lists the homes of
/// the pieces waiting for a crew, first in line first. The lost state has every other
/// field empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupState {
    pub lost: bool,
    pub down: u64,
    pub present: Vec<u8>,
    pub copying: Vec<u8>,
    pub detecting: Vec<u8>,
    pub waiting: Vec<u8>,
    pub queue: Vec<u8>,
}

impl GroupState {
    fn fresh(layout: &[u8]) -> GroupState {
        let zero = vec![0; layout.len()];
        GroupState {
            lost: false,
            down: 0,
            present: layout.to_vec(),
            copying: zero.clone(),
            detecting: zero.clone(),
            waiting: zero,
            queue: Vec::new(),
        }
    }

    fn lost(sites: usize) -> GroupState {
        let mut state = GroupState::fresh(&vec![0; sites]);
        state.lost = true;
        state
    }
}

impl GroupModel {
    /// Reads service `index`'s model from `world`, checking that it is Markovian.
    fn read(world: &World, index: usize, options: &Options) -> Built {
        let ServiceKind::Storage { store, .. } = &world.services[index].kind else {
            unreachable!("a storage service");
        };
        let mut found = Findings {
            approximate: options.approximate,
            reasons: Vec::new(),
            approximations: Vec::new(),
        };
        let mut assumptions = Vec::new();
        let mut refused = false;

        let groups = store.object_groups();
        // Destroying domains some data centre of the service sits on, numbered in the
        // world's order (the order the simulator takes them in at the start).
        let domain_index: BTreeMap<usize, usize> = store
            .datacenters
            .iter()
            .flat_map(|&dc| world.datacenters[dc].on.iter().copied())
            .filter(|&d| world.domains[d].effect == Effect::Destroy)
            .collect::<std::collections::BTreeSet<usize>>()
            .into_iter()
            .enumerate()
            .map(|(i, d)| (d, i))
            .collect();
        let mut sites = Vec::with_capacity(store.datacenters.len());
        let mut disk_laws_seen: Vec<String> = Vec::new();
        for &dc in &store.datacenters {
            let site = &world.datacenters[dc];
            let mut disk: Option<&crate::reliability::Process> = None;
            let mut mixed = false;
            for a in site.anchors.clone() {
                let anchor = &world.anchors[a as usize];
                if !anchor.loses_data {
                    continue;
                }
                match (world.structure.process(anchor.node), disk) {
                    (Some(p), None) => disk = Some(p),
                    (Some(p), Some(q)) if p != q => mixed = true,
                    _ => {}
                }
            }
            if mixed {
                found.reasons.push(format!(
                    "the disks of data centre `{}` fail by different laws",
                    site.id
                ));
                refused = true;
            }
            let (disk_rate, disk_down_at_start) = match disk {
                None => (0.0, 0.0),
                Some(process) => {
                    let text = process.up.to_string();
                    let rate = if disk_laws_seen.contains(&text) {
                        1.0 / process.up.mean()
                    } else {
                        disk_laws_seen.push(text);
                        found.rate(&process.up, "disk failure")
                    };
                    let (up, down) = (process.up.mean(), process.down.mean());
                    (rate, down / (up + down))
                }
            };
            let mut on = Vec::new();
            for &d in &site.on {
                if world.domains[d].effect != Effect::Destroy {
                    continue;
                }
                on.push(domain_index[&d]);
            }
            sites.push(Site {
                id: site.id.clone(),
                world_index: dc,
                places: site.anchors.len() as u32,
                disk_rate,
                disk_down_at_start,
                domains: on,
            });
        }
        let mut domains = vec![None; domain_index.len()];
        for (&d, &i) in &domain_index {
            let domain = &world.domains[d];
            let process = &domain.process;
            let fail = found.rate(
                &process.up,
                &format!("time between outages of destroying domain `{}`", domain.id),
            );
            let back = found.rate(
                &process.down,
                &format!("outage of destroying domain `{}`", domain.id),
            );
            let (up, down) = (process.up.mean(), process.down.mean());
            let mut on: Vec<usize> = (0..sites.len())
                .filter(|&s| sites[s].domains.contains(&i))
                .collect();
            on.sort_by_key(|&s| sites[s].world_index);
            domains[i] = Some(DomainRates {
                fail,
                back,
                down_at_start: down / (up + down),
                sites: on,
            });
        }
        let domains: Vec<DomainRates> = domains.into_iter().map(|d| d.expect("set")).collect();
        if domains.len() > MAX_DOMAINS {
            found.reasons.push(format!(
                "its data centres sit on {} destroying domains; the chain follows at most \
                 {MAX_DOMAINS}",
                domains.len()
            ));
            refused = true;
        }

        let repair = &store.repair;
        let detection = repair
            .detection
            .as_ref()
            .map(|law| found.rate(law, "detection delay (repair.detection)"));
        let copy = match &repair.copy {
            CopyTime::Instant => None,
            CopyTime::Law(law) => Some(found.rate(law, "copy time (repair.copy)")),
            CopyTime::Bandwidth { .. } => {
                found.reasons.push(
                    "copies share bandwidth (repair.bandwidth): a copy's duration depends on \
                     every copy under way in the service, which no chain of one group can \
                     follow"
                        .into(),
                );
                refused = true;
                None
            }
        };
        let crews = match (repair.crews, copy) {
            (Some(_), None) => None,
            (Some(c), Some(_)) => {
                if groups > 1 {
                    found.approximations.push(format!(
                        "the {c} repair crew(s) serve all {groups} object groups in the \
                         simulator; the chain gives one group all of them (optimistic)"
                    ));
                }
                Some(c)
            }
            (None, _) => None,
        };

        if sites.iter().all(|s| s.disk_rate == 0.0) && domains.is_empty() {
            assumptions.push(
                "nothing can lose data: the places are not disks and no domain destroys".into(),
            );
        } else if sites.iter().any(|s| s.disk_rate == 0.0) {
            let ids: Vec<&str> = sites
                .iter()
                .filter(|s| s.disk_rate == 0.0)
                .map(|s| s.id.as_str())
                .collect();
            assumptions.push(format!(
                "pieces in {} are not on disks: only destroying domains lose them",
                ids.join(", ")
            ));
        }
        if has_transient_failures(world, store) {
            assumptions.push(
                "transient failures ignored (hosts, racks, facilities, grids, providers): \
                 they lose no data; in the simulator they only make a place unreachable for \
                 a new copy"
                    .into(),
            );
        }
        let cramped: Vec<String> = sites
            .iter()
            .filter(|site| {
                let most = store.redundancy.pieces.min(site.places);
                (f64::from(most) / f64::from(site.places)).powi(16) > 1e-9
            })
            .map(|site| format!("`{}` ({} places)", site.id, site.places))
            .collect();
        if !cramped.is_empty() {
            assumptions.push(format!(
                "a data centre with a free place always gets the copy; the simulator draws \
                 places at random and may miss the few free ones of {}",
                cramped.join(", ")
            ));
        }
        let steady_start = world.initial_state == InitialState::SteadyState;
        if steady_start {
            let mut what = Vec::new();
            if !domains.is_empty() {
                what.push("each destroying domain in an outage with its long-run probability");
            }
            if sites.iter().any(|s| s.disk_down_at_start > 0.0) {
                what.push("each disk failed with its own (losing its piece at once)");
            }
            if !what.is_empty() {
                assumptions.push(format!(
                    "trials start in steady state, as in the simulator: at time 0 {}; the \
                     MTTDL starts from every piece present{}",
                    what.join(", and "),
                    if domains.is_empty() {
                        ""
                    } else {
                        " and every domain up"
                    }
                ));
            }
        }
        if groups > 1 {
            assumptions.push(format!(
                "the fleet probability treats the {groups} object groups as independent; in \
                 the simulator they share disks and data centres, so their losses are \
                 positively correlated and the simulator's probability of losing any group is \
                 typically lower: much lower when losses come from destroying domains shared \
                 by all groups (a flood hits every group in the data centre at once, so groups \
                 are lost together, not one by one)"
            ));
        }
        let markovian = found.reasons.is_empty();
        let model = (!refused && (markovian || options.approximate)).then_some(GroupModel {
            pieces: store.redundancy.pieces,
            needed: store.redundancy.needed,
            erasure_coded: store.redundancy.erasure_coded,
            sites,
            domains,
            detection,
            copy,
            crews,
            steady_start,
        });
        Built {
            model,
            refused,
            reasons: found.reasons,
            assumptions,
            approximations: found.approximations,
        }
    }

    fn gone_fraction(&self, site: usize) -> f64 {
        let up: f64 = self.sites[site]
            .domains
            .iter()
            .map(|&i| 1.0 - self.domains[i].down_at_start)
            .product();
        1.0 - up
    }

    /// The period model's inputs, for an erasure code whose disks all fail at one
    /// rate: (annual failure rate, rebuild days).
    fn period_inputs(&self) -> Option<(f64, f64)> {
        if !self.erasure_coded {
            return None;
        }
        let rate = self.sites.iter().map(|s| s.disk_rate).find(|&r| r > 0.0)?;
        if self
            .sites
            .iter()
            .any(|s| s.disk_rate > 0.0 && s.disk_rate != rate)
        {
            return None;
        }
        let rebuild_hours =
            self.detection.map_or(0.0, |r| 1.0 / r) + self.copy.map_or(0.0, |r| 1.0 / r);
        let afr = rate * HOURS_PER_YEAR;
        let rebuild_days = rebuild_hours / 24.0;
        let per_period = afr * rebuild_days / 365.0;
        (rebuild_days > 0.0 && per_period <= 1.0).then_some((afr, rebuild_days))
    }

    /// The chains of every layout, and notes on what the chains met.
    fn answer(
        &self,
        world: &World,
        layouts: &[(Vec<u8>, u64)],
        options: &Options,
    ) -> Result<(ChainAnswer, Vec<String>), MarkovError> {
        let horizon = world.horizon;
        let total_groups: u64 = layouts.iter().map(|l| l.1).sum();
        let period = self.period_inputs();
        let mut notes: Vec<String> = Vec::new();
        let mut note = |text: String| {
            if !notes.contains(&text) {
                notes.push(text);
            }
        };
        let mut answers = Vec::with_capacity(layouts.len());
        let mut survive_ln = 0.0;
        let mut weighted_p = 0.0;
        let mut weighted_mttdl = Some(0.0);
        let mut weighted_annual = 0.0;
        let mut mttdl_missing = None;
        let (mut states, mut transitions) = (0, 0);
        for (layout, groups) in layouts {
            let weight = *groups as f64;
            let built = self.chain(layout, options.max_states)?;
            let chain = &built.chain;
            if built.waits {
                note(
                    "a piece with nowhere to go (every data centre gone, or full) is placed as \
                     soon as a place exists; the simulator tries again every hour"
                        .into(),
                );
            }
            let p = chain.loss_probability_from(&built.initial, horizon)?;
            let mttdl = match chain.mean_time_to_loss() {
                Ok(m) => Some(m),
                Err(e) => {
                    mttdl_missing.get_or_insert_with(|| e.to_string());
                    None
                }
            };
            if period.is_some() {
                weighted_annual += weight * chain.loss_probability_by(HOURS_PER_YEAR)?;
            }
            states = states.max(chain.chain.states());
            transitions = transitions.max(chain.chain.transitions());
            survive_ln += weight * (-p).ln_1p();
            weighted_p += weight * p;
            weighted_mttdl = weighted_mttdl.zip(mttdl).map(|(sum, m)| sum + weight * m);
            answers.push(LayoutAnswer {
                pieces: layout.iter().map(|&c| u32::from(c)).collect(),
                groups: *groups,
                states: chain.chain.states(),
                transitions: chain.chain.transitions(),
                mttdl_hours: mttdl,
                loss_probability: p,
            });
        }
        let n = total_groups as f64;
        let mttdl = weighted_mttdl.map(|sum| sum / n);
        let period_model = period.map(|(afr, rebuild_days)| PeriodModel {
            annual_failure_rate: afr,
            rebuild_days,
            annual_loss_probability: markov::backblaze_period_model(
                self.pieces,
                self.pieces - self.needed,
                afr,
                rebuild_days,
            ),
            exact_annual_loss_probability: weighted_annual / n,
        });
        Ok((
            ChainAnswer {
                states,
                transitions,
                layouts: answers,
                mttdl_hours: mttdl,
                mttdl_years: mttdl.map(|h| h / HOURS_PER_YEAR),
                mttdl_missing,
                loss_probability: weighted_p / n,
                fleet_loss_probability_if_independent: -survive_ln.exp_m1(),
                period_model,
            },
            notes,
        ))
    }

    /// The chain of a group that starts with `layout`, explored from its start states.
    fn chain(&self, layout: &[u8], max_states: usize) -> Result<GroupChain, MarkovError> {
        let fresh = GroupState::fresh(layout);
        let start = self.start_distribution(&fresh)?;
        let mut starts = vec![fresh];
        starts.extend(start.iter().map(|(s, _)| s.clone()));
        let (chain, states) =
            Chain::explore_from(starts, max_states, |s| self.transitions(s), |s| s.lost)?;
        let position: std::collections::HashMap<&GroupState, usize> =
            states.iter().enumerate().map(|(i, s)| (s, i)).collect();
        let initial = start.iter().map(|(s, w)| (position[s], *w)).collect();
        let waits = states.iter().any(|s| s.waiting.iter().any(|&w| w > 0));
        Ok(GroupChain {
            chain,
            states,
            initial,
            waits,
        })
    }

    /// Where a trial starts: every piece present and every domain up with everything
    /// new; in steady state, each destroying domain in an outage with its long-run
    /// probability and each disk failed with its own, the failures at time 0 handled
    /// as the simulator handles them (domains first, in the world's order, then disks,
    /// data centre by data centre in the world's order).
    fn start_distribution(
        &self,
        fresh: &GroupState,
    ) -> Result<Vec<(GroupState, f64)>, MarkovError> {
        if !self.steady_start {
            return Ok(vec![(fresh.clone(), 1.0)]);
        }
        let combinations = self
            .sites
            .iter()
            .zip(&fresh.present)
            .filter(|(site, _)| site.disk_down_at_start > 0.0)
            .fold(1u64 << self.domains.len().min(63), |acc, (_, &n)| {
                acc.saturating_mul(u64::from(n) + 1)
            });
        if combinations > MAX_START_COMBINATIONS {
            return Err(MarkovError(format!(
                "a steady-state start spreads over {combinations} combinations of failed \
                 domains and disks (at most {MAX_START_COMBINATIONS})"
            )));
        }
        let mut by_world: Vec<usize> = (0..self.sites.len()).collect();
        by_world.sort_by_key(|&s| self.sites[s].world_index);
        let mut start: BTreeMap<GroupState, f64> = BTreeMap::new();
        for down in 0..(1u64 << self.domains.len()) {
            let mut weight = 1.0;
            let mut step = Step::new(self, fresh);
            for (i, domain) in self.domains.iter().enumerate() {
                if down & (1 << i) != 0 {
                    weight *= domain.down_at_start;
                    step.domain_down(i);
                } else {
                    weight *= 1.0 - domain.down_at_start;
                }
            }
            if weight == 0.0 {
                continue;
            }
            // Disks failed at the start, data centre by data centre: `k` of the `n`
            // pieces first placed there are lost, with binomial probabilities.
            let mut partial = vec![(step, weight)];
            for &s in &by_world {
                let q = self.sites[s].disk_down_at_start;
                let n = u32::from(fresh.present[s]);
                if q == 0.0 || n == 0 {
                    continue;
                }
                let mut next = Vec::new();
                for (step, weight) in partial {
                    if step.gone[s] || step.state.lost {
                        next.push((step, weight));
                        continue;
                    }
                    for k in 0..=n {
                        let w = weight * binomial(n, k, q);
                        if w == 0.0 {
                            continue;
                        }
                        let mut lost = step.clone();
                        for _ in 0..k {
                            lost.lose(s);
                        }
                        next.push((lost, w));
                    }
                }
                partial = next;
            }
            for (step, weight) in partial {
                *start.entry(step.finish()).or_insert(0.0) += weight;
            }
        }
        Ok(start.into_iter().collect())
    }

    /// The transitions out of `state`, each to the state the simulator settles in.
    fn transitions(&self, state: &GroupState) -> Vec<(GroupState, f64)> {
        let mut out = Vec::new();
        let after = |change: &dyn Fn(&mut Step)| {
            let mut step = Step::new(self, state);
            change(&mut step);
            step.finish()
        };
        for (d, site) in self.sites.iter().enumerate() {
            let present = f64::from(state.present[d]);
            if present > 0.0 && site.disk_rate > 0.0 {
                out.push((after(&|step| step.lose(d)), present * site.disk_rate));
            }
            let detecting = f64::from(state.detecting[d]);
            if let (true, Some(rate)) = (detecting > 0.0, self.detection) {
                let noticed = after(&|step| {
                    step.state.detecting[d] -= 1;
                    step.notice(d);
                });
                out.push((noticed, detecting * rate));
            }
            let copying = f64::from(state.copying[d]);
            if let (true, Some(rate)) = (copying > 0.0, self.copy) {
                let done = after(&|step| {
                    step.state.copying[d] -= 1;
                    step.state.present[d] += 1;
                    step.release_crew();
                });
                out.push((done, copying * rate));
            }
        }
        for (i, domain) in self.domains.iter().enumerate() {
            if state.down & (1 << i) == 0 {
                out.push((after(&|step| step.domain_down(i)), domain.fail));
            } else {
                out.push((after(&|step| step.domain_up(i)), domain.back));
            }
        }
        out
    }
}

/// The chain of one layout, with its states and where it starts.
#[derive(Debug, Clone)]
pub struct GroupChain {
    /// The chain; its `start` is every piece present and every domain up.
    pub chain: LossChain,
    pub states: Vec<GroupState>,
    /// Where trials start (state, probability).
    pub initial: Vec<(usize, f64)>,
    /// Whether some state has a piece waiting for a place.
    pub waits: bool,
}

/// The chain of the groups of storage service `service` that start with the most
/// common layout, or the reasons there is none.
pub fn group_chain(
    world: &World,
    service: usize,
    options: &Options,
) -> Result<GroupChain, Vec<String>> {
    let ServiceKind::Storage { store, .. } = &world.services[service].kind else {
        return Err(vec![format!("service {service} does not store data")]);
    };
    let built = GroupModel::read(world, service, options);
    let Some(model) = built.model else {
        return Err(built.reasons);
    };
    let layouts = layouts(world, store);
    model
        .chain(&layouts[0].0, options.max_states)
        .map_err(|e| vec![e.to_string()])
}

/// `C(n, k) q^k (1 - q)^(n - k)`.
fn binomial(n: u32, k: u32, q: f64) -> f64 {
    let c = (0..k).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1));
    c * q.powi(k as i32) * (f64::from(n - k) * (-q).ln_1p()).exp()
}

/// One transition being worked out: the state, and which data centres are gone
/// right now (during a domain's outage they become gone one at a time).
#[derive(Debug, Clone)]
struct Step<'m> {
    model: &'m GroupModel,
    state: GroupState,
    gone: Vec<bool>,
}

impl<'m> Step<'m> {
    fn new(model: &'m GroupModel, state: &GroupState) -> Step<'m> {
        let gone = model
            .sites
            .iter()
            .map(|site| site.domains.iter().any(|&i| state.down & (1 << i) != 0))
            .collect();
        Step {
            model,
            state: state.clone(),
            gone,
        }
    }

    /// The settled state: pieces waiting for a place try again (once each), and a
    /// lost group is the one lost state.
    fn finish(mut self) -> GroupState {
        if !self.state.lost {
            for home in 0..self.state.waiting.len() {
                let waiting = std::mem::take(&mut self.state.waiting[home]);
                for _ in 0..waiting {
                    self.notice(home);
                }
            }
        }
        if self.state.lost {
            return GroupState::lost(self.state.present.len());
        }
        self.state
    }

    fn present(&self) -> u32 {
        self.state.present.iter().map(|&c| u32::from(c)).sum()
    }

    /// A piece present at `site` is lost (`durability::lose`).
    fn lose(&mut self, site: usize) {
        if self.state.lost {
            return;
        }
        self.state.present[site] -= 1;
        if self.present() < self.model.needed {
            self.state.lost = true;
        } else if self.model.detection.is_none() {
            self.notice(site);
        } else {
            self.state.detecting[site] += 1;
        }
    }

    /// The loss of a piece from `home` is noticed: it is copied when a crew is free
    /// (`durability::noticed`).
    fn notice(&mut self, home: usize) {
        if let Some(crews) = self.model.crews {
            let busy: u32 = self.state.copying.iter().map(|&c| u32::from(c)).sum();
            if busy >= crews {
                self.state.queue.push(home as u8);
                return;
            }
        }
        self.start_copy(home);
    }

    /// A piece from `home`, holding a crew, starts its copy (`durability::start_copy`):
    /// with no place, it waits and gives its crew back.
    fn start_copy(&mut self, home: usize) {
        match self.choose(home) {
            None => {
                self.state.waiting[home] += 1;
                self.release_crew();
            }
            Some(target) => {
                if self.model.copy.is_none() {
                    self.state.present[target] += 1;
                    self.release_crew();
                } else {
                    self.state.copying[target] += 1;
                }
            }
        }
    }

    /// A crew is free: the first piece in line starts (`durability::release_crew`).
    fn release_crew(&mut self) {
        if self.model.crews.is_some() && !self.state.queue.is_empty() {
            let home = self.state.queue.remove(0);
            self.start_copy(usize::from(home));
        }
    }

    /// The data centre a piece from `home` is copied to (`durability::choose_place`):
    /// home if it is not gone, else the live one holding the fewest pieces of the
    /// group (present or being copied), ties by the service's order; one without a
    /// free place is passed over.
    fn choose(&self, home: usize) -> Option<usize> {
        let used = |d: usize| u32::from(self.state.present[d]) + u32::from(self.state.copying[d]);
        (0..self.model.sites.len())
            .filter(|&d| !self.gone[d] && used(d) < self.model.sites[d].places)
            .min_by_key(|&d| (if d == home { 0 } else { 1 + used(d) }, d))
    }

    /// Destroying domain `i` begins an outage: each data centre on it that was not
    /// gone is gone now, in the world's order, and loses what it held
    /// (`Durability::apply`, `destroy_anchor`).
    fn domain_down(&mut self, i: usize) {
        self.state.down |= 1 << i;
        for &site in &self.model.domains[i].sites {
            if self.gone[site] {
                continue;
            }
            self.gone[site] = true;
            for _ in 0..self.state.present[site] {
                self.lose(site);
            }
            for _ in 0..self.state.copying[site] {
                if self.state.lost {
                    return;
                }
                self.state.copying[site] -= 1;
                self.start_copy(site);
            }
        }
    }

    /// Destroying domain `i`'s outage ends.
    fn domain_up(&mut self, i: usize) {
        self.state.down &= !(1 << i);
        for (site, gone) in self.gone.iter_mut().enumerate() {
            *gone = self.model.sites[site]
                .domains
                .iter()
                .any(|&d| self.state.down & (1 << d) != 0);
        }
    }
}

/// Whether anything that can fail without losing data stands between the service's
/// places and the reader: a process upstream of a place that is neither a disk's own
/// nor a destroying domain's.
fn has_transient_failures(world: &World, store: &Store) -> bool {
    let mut places = Vec::new();
    let mut skip = vec![false; world.structure.node_count()];
    for &dc in &store.datacenters {
        for a in world.datacenters[dc].anchors.clone() {
            let anchor = &world.anchors[a as usize];
            places.extend(world.place_rests_on(a));
            if anchor.loses_data {
                skip[anchor.node.index()] = true;
            }
        }
    }
    for domain in &world.domains {
        if domain.effect == Effect::Destroy {
            skip[domain.node.index()] = true;
        }
    }
    let upstream = world.structure.upstream_of_any(&places);
    (0..upstream.len())
        .any(|n| upstream[n] && !skip[n] && world.structure.process(NodeId(n as u32)).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markov::Repair;
    use serde_json::{Value, json};

    fn exponential(hours: f64) -> Value {
        json!({ "exponential": { "mean": format!("{hours} h") } })
    }

    /// Sites `ids` on the flood plains `on` (one rack, one host, 12 disks each; disks
    /// fail after Exp(`mttf`)), one group placed `per_datacenter`, repaired by `repair`.
    fn world(
        on: &[(&str, &str)],
        floods: &[(&str, f64, f64)],
        storage: Value,
        mttf: f64,
        repair: Value,
    ) -> World {
        let datacenters: Vec<Value> = on
            .iter()
            .map(|(id, plain)| {
                let on: Vec<&str> = if plain.is_empty() {
                    vec![]
                } else {
                    vec![plain]
                };
                json!({ "id": id, "region": "r", "on": on, "racks": 1, "hosts_per_rack": 1,
                        "disks_per_host": 12 })
            })
            .collect();
        let floods: Vec<Value> = floods
            .iter()
            .map(|(id, between, outage)| {
                json!({ "id": id, "kind": "flood_plain", "between_events": exponential(*between),
                        "outage": exponential(*outage), "effect": "destroy" })
            })
            .collect();
        let mut storage = storage;
        storage["object_groups"] = json!(1);
        storage["repair"] = repair;
        let scenario = json!({
            "name": "t", "horizon": "1000 h", "initial_state": "all_new",
            "failure_domains": floods,
            "components": { "disk": { "fail": exponential(mttf), "repair": exponential(1.0) } },
            "datacenters": datacenters,
            "services": [ { "name": "s", "storage": storage } ]
        });
        crate::scenario::from_str(&scenario.to_string()).unwrap()
    }

    fn model(world: &World) -> GroupModel {
        let built = GroupModel::read(world, 0, &Options::default());
        assert!(built.reasons.is_empty(), "{:?}", built.reasons);
        built.model.unwrap()
    }

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        let error = ((actual - expected) / expected).abs();
        assert!(error <= relative, "{actual:e} vs {expected:e}");
    }

    fn state(down: u64, present: [u8; 3], copying: [u8; 3]) -> GroupState {
        GroupState {
            lost: false,
            down,
            present: present.to_vec(),
            copying: copying.to_vec(),
            detecting: vec![0; 3],
            waiting: vec![0; 3],
            queue: Vec::new(),
        }
    }

    #[test]
    fn replication_in_one_site_is_the_birth_death_chain() {
        // Three replicas on the disks of one data centre, nothing else failing: the
        // pieces present (3, 2, 1, then lost) follow markov::pieces_lost exactly, with
        // independent copies, one crew, or instant copies after an exponential
        // detection (a loss is then repaired at the detection rate).
        let (lambda, mu) = (1e-3, 0.02);
        let three = json!({ "replicas": 3, "placement": { "per_datacenter": { "a": 3 } } });
        let cases = [
            (
                json!({ "detection": "0 s", "copy": exponential(1.0 / mu) }),
                Repair::Independent,
            ),
            (
                json!({ "detection": "0 s", "copy": exponential(1.0 / mu), "crews": 1 }),
                Repair::Crews(1),
            ),
            (
                json!({ "detection": exponential(1.0 / mu) }),
                Repair::Independent,
            ),
        ];
        for (repair, reference) in cases {
            let w = world(&[("a", "")], &[], three.clone(), 1.0 / lambda, repair);
            let chain = group_chain(&w, 0, &Options::default()).unwrap();
            let expected = markov::pieces_lost(3, 2, lambda, mu, reference);
            assert_close(
                chain.chain.mean_time_to_loss().unwrap(),
                expected.mean_time_to_loss().unwrap(),
                1e-12,
            );
            assert_close(
                chain.chain.loss_probability_by(1000.0).unwrap(),
                expected.loss_probability_by(1000.0).unwrap(),
                1e-12,
            );
        }
    }

    #[test]
    fn a_flood_loses_what_is_there_and_restarts_copies_onto_it() {
        // Six replicas 1/2/2 with one copy under way onto a; a floods. The piece
        // present at a is lost and noticed at once: home a is gone, b and c hold 2
        // each, the tie goes to b (the service's order). The copy onto a restarts: now
        // b holds 3 (2 present, 1 coming) and c 2, so it goes to c.
        let six = json!({ "replicas": 6,
                          "placement": { "per_datacenter": { "a": 2, "b": 2, "c": 2 } } });
        let repair = json!({ "detection": "0 s", "copy": exponential(10.0) });
        let w = world(
            &[("a", "fa"), ("b", "fb"), ("c", "fc")],
            &[
                ("fa", 1000.0, 24.0),
                ("fb", 1000.0, 24.0),
                ("fc", 1000.0, 24.0),
            ],
            six,
            500.0,
            repair,
        );
        let m = model(&w);
        let before = state(0, [1, 2, 2], [1, 0, 0]);
        let mut step = Step::new(&m, &before);
        step.domain_down(0);
        assert_eq!(step.finish(), state(1, [0, 2, 2], [0, 1, 1]));
        // The flood's rate is the plain's, 1/1000 per hour; its end, 1/24.
        let out = m.transitions(&before);
        assert!(out.contains(&(state(1, [0, 2, 2], [0, 1, 1]), 1e-3)));
        let flooded = state(1, [0, 2, 2], [0, 1, 1]);
        assert!(
            m.transitions(&flooded)
                .contains(&(state(0, [0, 2, 2], [0, 1, 1]), 1.0 / 24.0))
        );
        // A disk failure at b: 2 pieces there, rate 2/500; the lost piece goes home.
        assert!(out.contains(&(state(0, [1, 1, 2], [1, 1, 0]), 2.0 / 500.0)));
    }

    #[test]
    fn a_shared_flood_takes_its_sites_in_the_worlds_order() {
        // Three replicas, one per site, a and b on one plain, copies instant. The flood
        // takes a first: its piece is re-created at once in b or c (one each, tie to b,
        // which is not gone yet). Then b goes with its two pieces, each re-created at c,
        // the only live site: everything ends up at c.
        let three = json!({ "replicas": 3,
                            "placement": { "per_datacenter": { "a": 1, "b": 1, "c": 1 } } });
        let w = world(
            &[("a", "fab"), ("b", "fab"), ("c", "fc")],
            &[("fab", 1000.0, 24.0), ("fc", 1000.0, 24.0)],
            three,
            500.0,
            json!({ "detection": "0 s" }),
        );
        let m = model(&w);
        let mut step = Step::new(&m, &state(0, [1, 1, 1], [0, 0, 0]));
        step.domain_down(0);
        assert_eq!(step.finish(), state(1, [0, 0, 3], [0, 0, 0]));
        // Then c floods too: its three pieces are lost one by one, the last one with
        // the group (nowhere to go, so the first two wait).
        let mut step = Step::new(&m, &state(1, [0, 0, 3], [0, 0, 0]));
        step.domain_down(1);
        assert_eq!(step.finish(), GroupState::lost(3));
    }

    #[test]
    fn a_steady_state_start_is_a_distribution() {
        // Two replicas 1/1 on two plains, each in an outage a share 24 / 1024 of the
        // time, disks failed 1 / 501 of the time: the start spreads over the
        // combinations, with weights adding up to 1; both plains flooded at the start
        // (weight (24/1024)^2) is a loss at time 0.
        let two = json!({ "replicas": 2, "placement": { "per_datacenter": { "a": 1, "b": 1 } } });
        let mut w = world(
            &[("a", "fa"), ("b", "fb")],
            &[("fa", 1000.0, 24.0), ("fb", 1000.0, 24.0)],
            two,
            500.0,
            json!({ "detection": "0 s", "copy": exponential(10.0) }),
        );
        w.initial_state = InitialState::SteadyState;
        let m = model(&w);
        let start = m.start_distribution(&GroupState::fresh(&[1, 1])).unwrap();
        let total: f64 = start.iter().map(|(_, w)| w).sum();
        assert!((total - 1.0).abs() < 1e-15, "{total}");
        let q = 24.0 / 1024.0;
        let lost: f64 = start.iter().filter(|(s, _)| s.lost).map(|(_, w)| w).sum();
        // Lost at the start: both plains flooded, or one flooded and the other site's
        // disk failed, or both disks failed.
        let d = 1.0 / 501.0;
        let expected = q * q + 2.0 * q * (1.0 - q) * d + (1.0 - q) * (1.0 - q) * d * d;
        assert_close(lost, expected, 1e-12);
    }

    #[test]
    fn only_exponential_laws_are_markovian() {
        use crate::laws::Law;
        assert!(is_exponential(&Law::exponential(3.0).unwrap()));
        assert!(!is_exponential(&Law::deterministic(3.0).unwrap()));
        assert!(!is_exponential(&Law::weibull(1.0, 3.0).unwrap()));
        assert_eq!(significant(442625.54094023956), "442626");
        assert_eq!(significant(0.25), "0.25");
        let sum: f64 = (0..=5).map(|k| binomial(5, k, 0.3)).sum();
        assert!((sum - 1.0).abs() < 1e-15);
    }
}
