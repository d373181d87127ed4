//! One Monte Carlo trial of a [`World`]: run its components on the engine and measure
//! each service, and each SLA the way its contract measures it.

use crate::autoscaling::{Autoscaler, HasScaleNotes, ScaleEvent};
use crate::durability::{
    Durability, DurabilityOutcome, HasNotes, Notes, PieceEvent, StorageEvent, StorageEvents,
};
use crate::engine::{self, Model, Scheduler, Time};
use crate::health::{HasHealthNotes, HealthChecks, HealthEvent};
use crate::reliability::{Dynamics, NodeId, Observer, WatchedChanges};
use crate::scenario::units::HOURS_PER_YEAR;
use crate::sla::{Measure, PartialPeriods, Sla};
use crate::world::{Causes, Service, ServiceKind, World};
use std::collections::{BTreeMap, HashMap};

/// What one trial measured for one SLA. A *unit* is one (window, judged thing) pair:
/// one per window, or one per window and instance for instance-level SLAs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaOutcome {
    pub units: u32,
    /// Units whose uptime fell below the target.
    pub breached: u32,
    /// Units per credit tier (index 0: no credit).
    pub tiers: Vec<u32>,
    /// Sum over units of the credit, as a percentage of the unit's bill.
    pub credit_percent: f64,
    /// Sum over units of the credit, in monthly bills.
    pub credit_bills: f64,
    /// 1 - uptime of each unit, as the contract measures it.
    pub unavailability: Vec<f64>,
    /// Whole years in the horizon, and those in which some unit ending in the year
    /// breached.
    pub years: u32,
    pub years_breached: u32,
}

/// What one trial measured for one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceOutcome {
    /// Hours the service was down within the horizon.
    pub downtime: f64,
    /// Outages that began within the horizon (an outage already under way at time 0
    /// is not counted: in steady state, this makes the count an unbiased estimate of
    /// the outage rate).
    pub outages: u32,
    /// Hours down with each set of root causes down (indices into the world's cause
    /// labels, sorted), in the order of the sets.
    pub cause_hours: Vec<(Vec<u16>, f64)>,
    pub slas: Vec<SlaOutcome>,
    /// What happened to the stored data (storage services only).
    pub durability: Option<DurabilityOutcome>,
    /// Per tier with a load balancer's health check, in order: the fraction of its
    /// requests that failed (applications only).
    pub requests_failed: Vec<f64>,
}

/// What one trial measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrialOutcome {
    pub trial: u64,
    pub events: u64,
    /// The trial hit its event budget before the horizon: its measurements cover less
    /// than the horizon and must not be used.
    pub truncated: bool,
    pub services: Vec<ServiceOutcome>,
}

/// Events one trial may fire by default (see [`TrialRunner::with_event_budget`]).
pub const DEFAULT_EVENT_BUDGET: u64 = 10_000_000;

/// A service's real downtime, and what was down upstream while it was down.
#[derive(Debug, Default, Clone)]
struct DowntimeMeter {
    down_since: Option<Time>,
    downtime: f64,
    outages: u32,
    /// Per node: whether the service depends on it.
    upstream: Vec<bool>,
    /// Per cause label: how many of the service's upstream nodes with that label are
    /// down now.
    causes_down: Vec<u32>,
    /// Since when the current set of causes has held.
    causes_since: Time,
    /// Hours the service was down with each set of causes down (label indices, sorted).
    cause_hours: BTreeMap<Vec<u16>, f64>,
}

impl DowntimeMeter {
    fn reset(&mut self) {
        self.down_since = None;
        self.downtime = 0.0;
        self.outages = 0;
        self.causes_down.fill(0);
        self.causes_since = 0.0;
        self.cause_hours.clear();
    }

    /// Attributes the time since the last change to the causes down now, if the
    /// service is down.
    fn attribute(&mut self, now: Time) {
        if self.down_since.is_some() && now > self.causes_since {
            let key: Vec<u16> = (0..self.causes_down.len() as u16)
                .filter(|&c| self.causes_down[c as usize] > 0)
                .collect();
            *self.cause_hours.entry(key).or_insert(0.0) += now - self.causes_since;
        }
        self.causes_since = now;
    }
}

/// How a tracker turns a unit's bad intervals into bad time.
#[derive(Debug, Clone, Copy)]
enum Counting {
    /// Bad time is the integral of the unit's level (the weighted share of its nodes
    /// that are down).
    Continuous,
    /// Time is cut into periods from time 0; a period counts whole, or not at all.
    Periods {
        per_hour: f64,
        partial: PartialPeriods,
    },
}

#[derive(Debug, Clone, Copy, Default)]
struct UnitState {
    /// Sum of the weights of the unit's nodes that are down.
    level: u64,
    /// Sum of the weights of all its nodes.
    total: u64,
    /// Since when the level has had its current value.
    since: Time,
    /// Periods before this index have already been counted.
    counted_until: u64,
}

/// Measures one SLA in one trial.
#[derive(Debug, Clone)]
struct Tracker {
    windows: Vec<(f64, f64)>,
    /// Index of the year (from 0) in which each window ends.
    year_of_window: Vec<u32>,
    years: u32,
    counting: Counting,
    /// Multiplies the bad time: the probability that a period sees a request.
    scale: f64,
    units: Vec<UnitState>,
    /// Bad hours per window and unit: `bad[window * units + unit]`.
    bad: Vec<f64>,
}

impl Tracker {
    fn new(sla: &Sla, horizon: f64, units: Vec<UnitState>) -> Tracker {
        let windows = sla.window.windows(horizon);
        let year_of_window = windows
            .iter()
            .map(|&(_, end)| ((end - 1e-9) / HOURS_PER_YEAR).floor() as u32)
            .collect();
        let (counting, scale) = match sla.measure {
            Measure::Downtime | Measure::InstanceUptime => (Counting::Continuous, 1.0),
            Measure::ErrorRate { request_factor } => (Counting::Continuous, request_factor),
            Measure::RegionUnavailable {
                period_minutes,
                partial,
            } => (
                Counting::Periods {
                    per_hour: 60.0 / f64::from(period_minutes),
                    partial,
                },
                1.0,
            ),
        };
        let bad = vec![0.0; windows.len() * units.len()];
        Tracker {
            windows,
            year_of_window,
            years: ((horizon + 1e-9) / HOURS_PER_YEAR).floor() as u32,
            counting,
            scale,
            units,
            bad,
        }
    }

    fn reset(&mut self) {
        for unit in &mut self.units {
            unit.level = 0;
            unit.since = 0.0;
            unit.counted_until = 0;
        }
        self.bad.fill(0.0);
    }

    /// Adds `fraction` × the overlap of `[from, to)` with each window to `unit`'s bad
    /// time. Windows are ordered by start and by end.
    fn add_bad(&mut self, unit: usize, from: Time, to: Time, fraction: f64) {
        let units = self.units.len();
        let first = self.windows.partition_point(|&(_, end)| end <= from);
        for (w, &(start, end)) in self.windows.iter().enumerate().skip(first) {
            if start >= to {
                break;
            }
            let overlap = to.min(end) - from.max(start);
            if overlap > 0.0 {
                self.bad[w * units + unit] += overlap * fraction;
            }
        }
    }

    /// Accounts for `unit`'s state from `since` to `now`, at its current level.
    fn close(&mut self, unit: usize, now: Time) {
        let state = self.units[unit];
        if state.level == 0 {
            return;
        }
        match self.counting {
            Counting::Continuous => {
                let fraction = state.level as f64 / state.total as f64;
                self.add_bad(unit, state.since, now, fraction);
            }
            Counting::Periods { per_hour, partial } => {
                let (first, last) = match partial {
                    PartialPeriods::Any => (
                        ((state.since * per_hour).floor() as u64).max(state.counted_until),
                        (now * per_hour).ceil() as u64,
                    ),
                    PartialPeriods::Whole => (
                        (state.since * per_hour).ceil() as u64,
                        (now * per_hour).floor() as u64,
                    ),
                };
                if last > first {
                    self.units[unit].counted_until = last;
                    self.add_bad(unit, first as f64 / per_hour, last as f64 / per_hour, 1.0);
                }
            }
        }
    }

    /// A node of `unit` with weight `weight` went down (or came back up) at `now`.
    fn change(&mut self, unit: usize, weight: u64, down: bool, now: Time) {
        let level = self.units[unit].level;
        let new_level = if down { level + weight } else { level - weight };
        // Periods count only whether the level is zero; a change between two non-zero
        // levels does not end a bad interval.
        if let Counting::Periods { .. } = self.counting
            && (level == 0) == (new_level == 0)
        {
            self.units[unit].level = new_level;
            return;
        }
        self.close(unit, now);
        let state = &mut self.units[unit];
        state.level = new_level;
        state.since = now;
    }

    /// Closes every unit at the horizon and judges every (window, unit).
    fn finish(&mut self, sla: &Sla, horizon: f64, unit_bills: f64, outcome: &mut SlaOutcome) {
        for unit in 0..self.units.len() {
            self.close(unit, horizon);
        }
        let units = self.units.len();
        outcome.units = 0;
        outcome.breached = 0;
        outcome.tiers.clear();
        outcome.tiers.resize(sla.credits.tiers().len() + 1, 0);
        outcome.credit_percent = 0.0;
        outcome.credit_bills = 0.0;
        outcome.unavailability.clear();
        outcome.years = self.years;
        let mut breached_years = vec![false; self.years as usize];
        for (w, &(start, end)) in self.windows.iter().enumerate() {
            for unit in 0..units {
                let unavailability = self.scale * self.bad[w * units + unit] / (end - start);
                let uptime_percent = 100.0 * (1.0 - unavailability);
                let tier = sla.credits.tier_of(uptime_percent);
                let credit = sla.credits.credit_percent(tier);
                outcome.units += 1;
                outcome.tiers[tier] += 1;
                outcome.credit_percent += credit;
                outcome.credit_bills += credit / 100.0 * sla.window.bills() * unit_bills;
                outcome.unavailability.push(unavailability);
                if sla.breached_by(uptime_percent) {
                    outcome.breached += 1;
                    if let Some(year) = breached_years.get_mut(self.year_of_window[w] as usize) {
                        *year = true;
                    }
                }
            }
        }
        outcome.years_breached = breached_years.iter().filter(|&&b| b).count() as u32;
    }
}

/// Who hears of a watched node's changes.
#[derive(Debug, Clone, Copy)]
enum Subscriber {
    /// The real downtime of service `0`.
    Service(usize),
    /// Unit `unit` of tracker `tracker`, where the node weighs `weight`.
    Unit {
        tracker: usize,
        unit: usize,
        weight: u64,
    },
}

/// Turns watched nodes' changes into downtime and SLA measurements.
#[derive(Debug, Clone)]
struct Meter {
    services: Vec<DowntimeMeter>,
    /// Per node: its cause label, or `Causes::NONE`.
    cause_of: Vec<u32>,
    trackers: Vec<Tracker>,
    /// Per watch index.
    subscribers: Vec<Vec<Subscriber>>,
}

impl Meter {
    fn notify(&mut self, watch: u32, time: Time, up: bool) {
        for &subscriber in &self.subscribers[watch as usize] {
            match subscriber {
                Subscriber::Service(s) => {
                    let meter = &mut self.services[s];
                    meter.attribute(time);
                    if up {
                        if let Some(since) = meter.down_since.take() {
                            meter.downtime += time - since;
                        }
                    } else {
                        if time > 0.0 {
                            meter.outages += 1;
                        }
                        meter.down_since = Some(time);
                    }
                }
                Subscriber::Unit {
                    tracker,
                    unit,
                    weight,
                } => self.trackers[tracker].change(unit, weight, !up, time),
            }
        }
    }
}

impl Observer for Meter {
    fn on_start(&mut self, watch: u32, up: bool) {
        if !up {
            self.notify(watch, 0.0, false);
        }
    }

    fn on_change(&mut self, watch: u32, time: Time, up: bool) {
        self.notify(watch, time, up);
    }

    fn on_transition(&mut self, node: NodeId, time: Time, up: bool) {
        let cause = self.cause_of[node.index()];
        if cause == Causes::NONE {
            return;
        }
        for meter in &mut self.services {
            if meter.upstream[node.index()] {
                meter.attribute(time);
                let count = &mut meter.causes_down[cause as usize];
                if up {
                    *count -= 1;
                } else {
                    *count += 1;
                }
            }
        }
    }
}

/// What watches a trial: the meter, and the notes of the mechanisms beside the
/// structure — durability (places for data), auto-scaling and health checks (instances).
#[derive(Debug, Clone)]
struct Watchers {
    meter: Meter,
    notes: Notes,
    /// Auto-scaling's notes on instances and sites.
    scale: WatchedChanges,
    /// The health checks' notes on instances and tiers.
    health: WatchedChanges,
    /// Per meter watch index: the service whose node it is, and the node, if any.
    service_of_watch: Vec<Option<(usize, NodeId)>>,
    /// When set, every component's own change and every service's change (for `nines
    /// trace`).
    log: Option<Vec<Change>>,
}

/// A change recorded for a trace: a component's own failure or repair (`service`
/// `None`), or a service going down or up.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub time: Time,
    pub node: NodeId,
    pub service: Option<usize>,
    pub up: bool,
}

impl Watchers {
    #[inline]
    fn log_service(&mut self, watch: u32, time: Time, up: bool) {
        if let Some(log) = &mut self.log
            && let Some((service, node)) = self.service_of_watch[watch as usize]
        {
            log.push(Change {
                time,
                node,
                service: Some(service),
                up,
            });
        }
    }
}

impl Observer for Watchers {
    #[inline]
    fn on_start(&mut self, watch: u32, up: bool) {
        // Durability hears of sites, which auto-scaling may watch too.
        self.notes.on_start(watch, up);
        // Auto-scaling and the health checks read their nodes' start states themselves.
        if self.scale.owns(watch) || self.health.owns(watch) || self.notes.owns(watch) {
        } else {
            self.meter.on_start(watch, up);
            if !up {
                self.log_service(watch, 0.0, up);
            }
        }
    }

    #[inline]
    fn on_change(&mut self, watch: u32, time: Time, up: bool) {
        self.notes.on_change(watch, up);
        if self.scale.owns(watch) {
            self.scale.on_change(watch, up);
        } else if self.health.owns(watch) {
            self.health.on_change(watch, up);
        } else if self.notes.owns(watch) {
        } else {
            self.meter.on_change(watch, time, up);
            self.log_service(watch, time, up);
        }
    }

    #[inline]
    fn on_transition(&mut self, node: NodeId, time: Time, up: bool) {
        self.meter.on_transition(node, time, up);
        self.notes.on_transition(node, up);
        if let Some(log) = &mut self.log {
            log.push(Change {
                time,
                node,
                service: None,
                up,
            });
        }
    }
}

impl HasNotes for Watchers {
    fn notes(&mut self) -> &mut Notes {
        &mut self.notes
    }
}

impl HasHealthNotes for Watchers {
    fn health_notes(&mut self) -> &mut WatchedChanges {
        &mut self.health
    }
}

impl HasScaleNotes for Watchers {
    fn scale_notes(&mut self) -> &mut WatchedChanges {
        &mut self.scale
    }
}

/// An event of a trial: a component's own change, or one of the storage layer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialEvent {
    Node(NodeId),
    Storage(StorageEvent),
    Scale(ScaleEvent),
    Health(HealthEvent),
}

impl From<HealthEvent> for TrialEvent {
    fn from(event: HealthEvent) -> Self {
        TrialEvent::Health(event)
    }
}

impl From<ScaleEvent> for TrialEvent {
    fn from(event: ScaleEvent) -> Self {
        TrialEvent::Scale(event)
    }
}

impl From<NodeId> for TrialEvent {
    #[inline]
    fn from(node: NodeId) -> Self {
        TrialEvent::Node(node)
    }
}

impl From<StorageEvent> for TrialEvent {
    fn from(event: StorageEvent) -> Self {
        TrialEvent::Storage(event)
    }
}

impl StorageEvents for TrialEvent {
    #[inline]
    fn storage(&self) -> Option<StorageEvent> {
        match self {
            TrialEvent::Storage(event) => Some(*event),
            _ => None,
        }
    }
}

/// A trial's model: the components' dynamics, and stored data on top of them.
#[derive(Debug, Clone)]
struct TrialModel<'w> {
    dynamics: Dynamics<'w, Watchers>,
    durability: Durability<'w>,
    autoscaler: Autoscaler<'w>,
    health: HealthChecks,
}

impl Model for TrialModel<'_> {
    type Event = TrialEvent;

    #[inline]
    fn prepare(&self, event: &TrialEvent) {
        if let TrialEvent::Node(node) = event {
            self.dynamics.prefetch(*node);
        }
    }

    #[inline]
    fn handle(&mut self, event: TrialEvent, scheduler: &mut Scheduler<TrialEvent>) {
        match event {
            TrialEvent::Node(node) => self.dynamics.fire(node, scheduler),
            TrialEvent::Storage(event) => {
                self.durability.handle(event, &mut self.dynamics, scheduler)
            }
            TrialEvent::Scale(event) => {
                self.autoscaler.handle(event, &mut self.dynamics, scheduler)
            }
            TrialEvent::Health(event) => self.health.handle(event, scheduler),
        }
        if !self.dynamics.observer.scale.list.is_empty() {
            self.autoscaler.apply(&mut self.dynamics, scheduler);
        }
        if !self.dynamics.observer.notes.list.is_empty() {
            self.durability.apply(&mut self.dynamics, scheduler);
        }
        if !self.dynamics.observer.health.list.is_empty() {
            self.health.apply(&mut self.dynamics, scheduler);
        }
    }
}

/// The nodes an SLA watches, grouped by unit, with their weights.
fn sla_units(service: &Service, sla: &Sla) -> Vec<Vec<(NodeId, u64)>> {
    match (sla.measure, &service.kind) {
        (Measure::Downtime, _) => vec![vec![(service.node, 1)]],
        (
            Measure::ErrorRate { .. },
            ServiceKind::Storage {
                groups, popularity, ..
            },
        ) => vec![
            groups
                .iter()
                .copied()
                .zip(popularity.iter().copied())
                .collect(),
        ],
        (
            Measure::RegionUnavailable { .. },
            ServiceKind::Compute {
                regions_available, ..
            },
        ) => vec![vec![(*regions_available, 1)]],
        (Measure::InstanceUptime, ServiceKind::Compute { instance_nodes, .. }) => {
            instance_nodes.iter().map(|&n| vec![(n, 1)]).collect()
        }
        (Measure::RegionUnavailable { .. }, ServiceKind::Application(app)) => {
            vec![vec![(app.regions_available, 1)]]
        }
        (Measure::InstanceUptime, ServiceKind::Application(app)) => {
            app.instance_nodes.iter().map(|&n| vec![(n, 1)]).collect()
        }
        // Lowering accepts a measure only for the kinds of service it applies to.
        _ => unreachable!(
            "{} does not apply to a {} service",
            sla.measure.name(),
            service.kind.name()
        ),
    }
}

/// Reusable state for running many trials of one world on one thread.
#[derive(Debug, Clone)]
pub struct TrialRunner<'w> {
    world: &'w World,
    scheduler: Scheduler<TrialEvent>,
    model: TrialModel<'w>,
    /// (service, SLA) of each tracker, in order.
    tracked: Vec<(usize, usize)>,
    event_budget: u64,
    outcome: TrialOutcome,
}

impl<'w> TrialRunner<'w> {
    pub fn new(world: &'w World) -> Self {
        let mut watched: Vec<NodeId> = Vec::new();
        let mut watch_of: HashMap<NodeId, usize> = HashMap::new();
        let mut subscribers: Vec<Vec<Subscriber>> = Vec::new();
        let mut subscribe = |node: NodeId, subscriber: Subscriber| {
            let watch = *watch_of.entry(node).or_insert_with(|| {
                watched.push(node);
                subscribers.push(Vec::new());
                watched.len() - 1
            });
            subscribers[watch].push(subscriber);
        };
        let mut trackers = Vec::new();
        let mut tracked = Vec::new();
        for (s, service) in world.services.iter().enumerate() {
            subscribe(service.node, Subscriber::Service(s));
            for (k, sla) in service.slas.iter().enumerate() {
                let units = sla_units(service, sla);
                let tracker = trackers.len();
                let states = units
                    .iter()
                    .map(|nodes| UnitState {
                        total: nodes.iter().map(|&(_, w)| w).sum(),
                        ..UnitState::default()
                    })
                    .collect();
                for (unit, nodes) in units.iter().enumerate() {
                    for &(node, weight) in nodes {
                        subscribe(
                            node,
                            Subscriber::Unit {
                                tracker,
                                unit,
                                weight,
                            },
                        );
                    }
                }
                trackers.push(Tracker::new(sla, world.horizon, states));
                tracked.push((s, k));
            }
        }
        let meter = Meter {
            services: world
                .services
                .iter()
                .map(|service| DowntimeMeter {
                    upstream: world.structure.upstream_of_any(&depends_on(world, service)),
                    causes_down: vec![0; world.causes.labels().len()],
                    ..DowntimeMeter::default()
                })
                .collect(),
            cause_of: (0..world.structure.node_count() as u32)
                .map(|n| world.causes.of(NodeId(n)))
                .collect(),
            trackers,
            subscribers,
        };
        let durability = Durability::new(world);
        let service_of_watch = watched
            .iter()
            .map(|&node| {
                let s = world.services.iter().position(|s| s.node == node)?;
                Some((s, node))
            })
            .collect();
        // Auto-scaling's nodes are watched after the meter's, then the sites not watched
        // yet, when anything is stored (durability owns every watch index from its base
        // on, and hears of the sites auto-scaling watches too).
        let autoscaler = Autoscaler::new(world);
        let scale = WatchedChanges::new(watched.len() as u32, autoscaler.watched().len() as u32);
        watched.extend_from_slice(autoscaler.watched());
        let health = HealthChecks::new(world);
        let health_notes = WatchedChanges::new(watched.len() as u32, health.watched().len() as u32);
        watched.extend_from_slice(health.watched());
        let notes = Notes::new(world, &mut watched, !durability.is_empty());
        let outcome = TrialOutcome {
            trial: 0,
            events: 0,
            truncated: false,
            services: world
                .services
                .iter()
                .map(|service| ServiceOutcome {
                    slas: vec![SlaOutcome::default(); service.slas.len()],
                    durability: matches!(service.kind, ServiceKind::Storage { .. })
                        .then(DurabilityOutcome::default),
                    ..ServiceOutcome::default()
                })
                .collect(),
        };
        TrialRunner {
            world,
            scheduler: Scheduler::new(world.horizon),
            model: TrialModel {
                dynamics: Dynamics::new(
                    &world.structure,
                    &watched,
                    Watchers {
                        meter,
                        notes,
                        scale,
                        health: health_notes,
                        service_of_watch,
                        log: None,
                    },
                ),
                durability,
                autoscaler,
                health,
            },
            tracked,
            event_budget: DEFAULT_EVENT_BUDGET,
            outcome,
        }
    }

    /// The same, with each trial limited to `budget` events.
    pub fn with_event_budget(world: &'w World, budget: u64) -> Self {
        TrialRunner {
            event_budget: budget,
            ..TrialRunner::new(world)
        }
    }

    /// Runs trial `trial` of a run seeded with `seed`.
    pub fn run(&mut self, seed: u64, trial: u64) -> &TrialOutcome {
        self.begin(seed, trial);
        let fired = engine::run_within(&mut self.model, &mut self.scheduler, self.event_budget);
        self.finish(trial, fired)
    }

    /// Runs trial `trial` of a run seeded with `seed` as [`run`](Self::run) does, and
    /// returns every change it went through: components' own failures and repairs,
    /// services going down and up, pieces of stored data lost and re-created.
    pub fn run_logged(
        &mut self,
        seed: u64,
        trial: u64,
    ) -> (TrialOutcome, Vec<Change>, Vec<PieceEvent>) {
        self.model.dynamics.observer.log = Some(Vec::new());
        self.model.durability.log = Some(Vec::new());
        let outcome = self.run(seed, trial).clone();
        let changes = self.model.dynamics.observer.log.take().unwrap_or_default();
        let pieces = self.model.durability.log.take().unwrap_or_default();
        (outcome, changes, pieces)
    }

    /// Sets up trial `trial` at time 0: every component in its initial state.
    pub fn begin(&mut self, seed: u64, trial: u64) {
        let world = self.world;
        self.scheduler.reset(world.horizon);
        let meter = &mut self.model.dynamics.observer.meter;
        for service in &mut meter.services {
            service.reset();
        }
        for tracker in &mut meter.trackers {
            tracker.reset();
        }
        self.model.durability.reset(seed, trial);
        self.model
            .dynamics
            .start(&mut self.scheduler, world.initial_state, seed, trial);
        self.model
            .autoscaler
            .start(&mut self.model.dynamics, &mut self.scheduler, seed, trial);
        self.model
            .durability
            .start(&mut self.model.dynamics, &mut self.scheduler);
        self.model
            .health
            .start(&mut self.model.dynamics, &mut self.scheduler);
    }

    /// Closes the trial's measurements at the horizon.
    fn finish(&mut self, trial: u64, fired: Result<u64, u64>) -> &TrialOutcome {
        let world = self.world;
        let horizon = world.horizon;
        self.outcome.trial = trial;
        self.outcome.truncated = fired.is_err();
        self.outcome.events = fired.unwrap_or_else(|budget| budget);
        let meter = &mut self.model.dynamics.observer.meter;
        for (meter, outcome) in meter.services.iter_mut().zip(&mut self.outcome.services) {
            meter.attribute(horizon);
            if let Some(since) = meter.down_since.take() {
                meter.downtime += horizon - since;
            }
            outcome.downtime = meter.downtime;
            outcome.outages = meter.outages;
            outcome.cause_hours.clear();
            outcome
                .cause_hours
                .extend(meter.cause_hours.iter().map(|(k, &h)| (k.clone(), h)));
        }
        for (tracker, &(s, k)) in meter.trackers.iter_mut().zip(&self.tracked) {
            let service = &world.services[s];
            let sla = &service.slas[k];
            let unit_bills = 1.0 / tracker.units.len() as f64;
            tracker.finish(
                sla,
                horizon,
                unit_bills,
                &mut self.outcome.services[s].slas[k],
            );
        }
        for outcome in &mut self.outcome.services {
            outcome.requests_failed.clear();
        }
        for (s, failed) in self.model.health.finish(horizon) {
            self.outcome.services[s].requests_failed.push(failed);
        }
        let stores: Vec<usize> = self.model.durability.services().collect();
        for (index, s) in stores.into_iter().enumerate() {
            let measured = self.model.durability.outcome(index).clone();
            self.outcome.services[s].durability = Some(measured);
        }
        &self.outcome
    }
}

/// What [`TrialRunner::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// This event fired.
    Fired(TrialEvent),
    /// Nothing is left before the horizon.
    Horizon,
    /// The trial used up its event budget.
    OutOfEvents,
}

impl TrialRunner<'_> {
    /// The index of service `service`'s store among the stores, if it stores data.
    pub fn store_of(&self, service: usize) -> Option<usize> {
        self.model.durability.services().position(|s| s == service)
    }

    /// The most pieces a group of store `store` is missing now.
    pub fn missing_now(&self, store: usize) -> u32 {
        self.model.durability.missing_now(store)
    }

    /// Fires the next event of the trial begun by [`begin`](Self::begin).
    pub fn step(&mut self) -> Step {
        if self.scheduler.events_fired() >= self.event_budget {
            return Step::OutOfEvents;
        }
        let Some((_, event)) = self.scheduler.next_event() else {
            return Step::Horizon;
        };
        self.model.handle(event, &mut self.scheduler);
        Step::Fired(event)
    }

    /// The time of the trial's last event (0 before the first).
    pub fn now(&self) -> Time {
        self.scheduler.now()
    }

    /// The trial's stored data.
    pub fn durability(&self) -> &Durability<'_> {
        &self.model.durability
    }

    /// Whether `node`'s own process is up.
    pub fn own_up(&self, node: NodeId) -> bool {
        self.model.dynamics.own_up(node)
    }

    /// Draws again when each listed node, up with a memoryless time to failure, fails,
    /// as if its failure rate were `factor` times its own from now on
    /// ([`Dynamics::redraw_failure`]); other nodes in the list are left as they are.
    /// Sorted by node, the list draws in a fixed order.
    pub fn redraw_failures(&mut self, changes: &[(NodeId, f64)]) {
        if changes.is_empty() {
            return;
        }
        // Completions durability holds back until a burst of copies ends are scheduled
        // first, so that retiming sees every pending event.
        self.model.durability.schedule_links(&mut self.scheduler);
        let now = self.scheduler.now();
        let dynamics = &mut self.model.dynamics;
        let mut drawn: Vec<(NodeId, Option<Time>, bool)> = changes
            .iter()
            .map(|&(node, factor)| (node, dynamics.redraw_failure(node, now, factor), false))
            .collect();
        self.scheduler.retime(|event, time| {
            if let TrialEvent::Node(node) = event
                && let Some(entry) = drawn.iter_mut().find(|entry| entry.0 == node)
                && let Some(at) = entry.1
            {
                entry.2 = true;
                return at;
            }
            time
        });
        // A failure drawn past the horizon had no event: it may come before it now.
        for (node, at, found) in drawn {
            if let (Some(at), false) = (at, found) {
                self.scheduler.schedule_at(at, TrialEvent::Node(node));
            }
        }
    }

    /// A copy of this trial's present whose future draws come from `(seed, trial)`:
    /// every stream is reseeded, and every scheduled end of a phase is drawn again
    /// given the phase's age (where the age is known or the law memoryless). The copy
    /// continues the same present with a future independent of this one's.
    pub fn fork(&self, seed: u64, trial: u64) -> Self {
        let mut child = self.clone();
        // As in `redraw_failures`: every pending event in the scheduler first.
        child.model.durability.schedule_links(&mut child.scheduler);
        child.model.dynamics.reseed(seed, trial);
        child.model.durability.reseed(seed, trial);
        child.model.autoscaler.reseed(seed, trial);
        let now = child.scheduler.now();
        let dynamics = &mut child.model.dynamics;
        let mut queued = vec![false; self.world.structure.node_count()];
        child.scheduler.retime(|event, time| match event {
            TrialEvent::Node(node) => {
                queued[node.index()] = true;
                dynamics.redraw(node, now).unwrap_or(time)
            }
            TrialEvent::Storage(_) | TrialEvent::Scale(_) | TrialEvent::Health(_) => time,
        });
        // A phase whose end was drawn past the horizon has no event: it may end
        // before the horizon now. (One drawn past it again is not scheduled: the
        // queue would drop it, but only after the work of a push.)
        for (index, _) in queued.iter().enumerate().filter(|(_, q)| !**q) {
            let node = NodeId(index as u32);
            if let Some(at) = dynamics.redraw(node, now)
                && at < child.scheduler.horizon()
            {
                child.scheduler.schedule_at(at, TrialEvent::Node(node));
            }
        }
        child
    }
}

/// What a service's downtime can be blamed on: what its node depends on, and for
/// storage what every place its pieces may come to live rests on.
fn depends_on(world: &World, service: &Service) -> Vec<NodeId> {
    let mut nodes = vec![service.node];
    if let ServiceKind::Storage { store, .. } = &service.kind {
        for &dc in &store.datacenters {
            for a in world.datacenters[dc].anchors.clone() {
                nodes.extend(world.place_rests_on(a));
            }
        }
    }
    // Auto-scaled slots have no inputs: blame their instances and sites.
    if let ServiceKind::Application(app) = &service.kind {
        for scaling in app.tiers.iter().filter_map(|t| t.autoscaling.as_ref()) {
            nodes.extend_from_slice(&scaling.originals);
            nodes.extend(scaling.sites.iter().map(|&(_, site)| site));
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::{Contract, Window};

    /// A tracker for `sla` over a 30-day month (or a year), fed one unit's intervals.
    fn judge(sla: &Sla, horizon: f64, total: u64, trace: &[(f64, f64, u64)]) -> SlaOutcome {
        let mut tracker = Tracker::new(
            sla,
            horizon,
            vec![UnitState {
                total,
                ..UnitState::default()
            }],
        );
        for &(from, to, weight) in trace {
            tracker.change(0, weight, true, from);
            tracker.change(0, weight, false, to);
        }
        let mut outcome = SlaOutcome::default();
        tracker.finish(sla, horizon, 1.0, &mut outcome);
        outcome
    }

    fn thirty_day(contract: Contract) -> Sla {
        let mut sla = contract.sla(1.0);
        sla.window = Window::Month30;
        sla
    }

    fn uptime(outcome: &SlaOutcome) -> f64 {
        100.0 * (1.0 - outcome.unavailability[0])
    }

    #[test]
    fn s3_monthly_uptime_from_outage_traces() {
        let sla = thirty_day(Contract::S3_2007);
        let current = thirty_day(Contract::S3Current);
        // A 30-day month has 43,200 minutes (8,640 five-minute periods).
        // 40 minutes fully down: 100 - 100 × 40 / 43200 = 99.9074 %: no credit.
        let o = judge(&sla, 720.0, 1, &[(100.0, 100.0 + 40.0 / 60.0, 1)]);
        assert!((uptime(&o) - 99.907_407).abs() < 1e-5);
        assert_eq!((o.breached, o.credit_percent), (0, 0.0));
        // 45 minutes: 100 - 100 × 45 / 43200 = 99.8958 %: breach, 10 %.
        let o = judge(&sla, 720.0, 1, &[(100.0, 100.75, 1)]);
        assert!((uptime(&o) - 99.895_833).abs() < 1e-5);
        assert_eq!((o.breached, o.credit_percent), (1, 10.0));
        // Two hours with half the object groups unreadable (1 of 2): the error rate is
        // 50 % in each of those 24 periods, the same as one hour fully down:
        // 100 - 100 × 60 / 43200 = 99.8611 %.
        let o = judge(&sla, 720.0, 2, &[(200.0, 202.0, 1)]);
        assert!((uptime(&o) - 99.861_111).abs() < 1e-5);
        // 1.5 days: 100 × 36 / 720 = 5 % down, exactly 95.0 %: 25 % under both presets
        // (exactly 95.0 % is not below 95.0 %).
        let o = judge(&current, 720.0, 1, &[(300.0, 336.0, 1)]);
        assert!((uptime(&o) - 95.0).abs() < 1e-9);
        assert_eq!(o.credit_percent, 25.0);
        // 2 days: 100 - 100 × 48 / 720 = 93.33 %: 25 % under 2007, 100 % under current.
        let o = judge(&sla, 720.0, 1, &[(300.0, 348.0, 1)]);
        assert_eq!(o.credit_percent, 25.0);
        let o = judge(&current, 720.0, 1, &[(300.0, 348.0, 1)]);
        assert_eq!(o.credit_percent, 100.0);
        assert_eq!(o.tiers, vec![0, 0, 0, 1]);
    }

    #[test]
    fn ec2_2008_counts_five_minute_periods() {
        let sla = Contract::Ec2_2008.sla(1.0);
        // A year has 105,120 five-minute periods; 99.95 % allows 52.56 of them.
        // 52 one-minute outages, each inside its own period (starting one minute into
        // periods 0, 100, 200, ...): 100 - 100 × 52 / 105120 = 99.95053 %: kept.
        let p = 1.0 / 12.0;
        let trace = |n: u32| -> Vec<(f64, f64, u64)> {
            (0..n)
                .map(|i| {
                    let start = f64::from(i) * 100.0 * p + p / 5.0;
                    (start, start + p / 5.0, 1)
                })
                .collect()
        };
        let o = judge(&sla, 8760.0, 1, &trace(52));
        assert!((o.unavailability[0] - 52.0 / 105_120.0).abs() < 1e-15);
        assert_eq!(o.breached, 0);
        // 53: 100 - 100 × 53 / 105120 = 99.94958 %: breached, 10 % of the year's bill.
        let o = judge(&sla, 8760.0, 1, &trace(53));
        assert_eq!(o.breached, 1);
        assert_eq!(o.credit_percent, 10.0);
        assert!((o.credit_bills - 1.2).abs() < 1e-12);
        assert_eq!((o.years, o.years_breached), (1, 1));
    }

    #[test]
    fn partial_periods_count_by_the_chosen_rule() {
        // An outage from 2 to 13 minutes touches periods [0, 5), [5, 10), [10, 15):
        // three count under "any"; only [5, 10) lies wholly inside it, so one counts
        // under "whole". A second outage inside the already-counted [10, 15) adds
        // nothing under "any".
        let minutes = |m: f64| m / 60.0;
        let mut sla = Contract::Ec2_2008.sla(1.0);
        let trace = [
            (minutes(2.0), minutes(13.0), 1),
            (minutes(13.5), minutes(14.0), 1),
        ];
        let any = judge(&sla, 8760.0, 1, &trace);
        assert!((any.unavailability[0] - 3.0 / 105_120.0).abs() < 1e-15);
        sla.measure = Measure::RegionUnavailable {
            period_minutes: 5,
            partial: PartialPeriods::Whole,
        };
        let whole = judge(&sla, 8760.0, 1, &trace);
        assert!((whole.unavailability[0] - 1.0 / 105_120.0).abs() < 1e-15);
    }

    #[test]
    fn an_outage_across_months_is_split() {
        // Calendar months: January ends at 744 h. An outage [743.5, 744.5) puts 0.5 h in
        // each of January (budget 0.1 % × 744 h = 0.744 h) and February (0.672 h):
        // neither breaches, though the hour is more than either budget.
        let mut sla = Contract::S3_2007.sla(1.0);
        sla.window = Window::CalendarMonth;
        let o = judge(&sla, 8760.0, 1, &[(743.5, 744.5, 1)]);
        assert_eq!(o.units, 12);
        assert!((o.unavailability[0] - 0.5 / 744.0).abs() < 1e-15);
        assert!((o.unavailability[1] - 0.5 / 672.0).abs() < 1e-15);
        assert_eq!(o.breached, 0);
    }
}

#[cfg(test)]
mod readability_tests {
    use super::*;
    use serde_json::json;

    /// Three sites (two on one grid that they ride through half the time, one with a
    /// bandwidth provider; one on a flood plain) of 3 racks × 2 hosts × 2 disks whose
    /// components all fail often, so that site, rack, host and disk outages overlap;
    /// `storage` stored there.
    fn busy_world(storage: serde_json::Value) -> World {
        let every = |fail: &str, repair: &str| {
            json!({
                "fail": { "exponential": { "mean": fail } },
                "repair": { "exponential": { "mean": repair } }
            })
        };
        let domain = |id: &str, kind: &str, between: &str, outage: &str| {
            json!({
                "id": id,
                "kind": kind,
                "between_events": { "exponential": { "mean": between } },
                "outage": { "exponential": { "mean": outage } }
            })
        };
        let mut grid = domain("grid", "power_grid", "90 h", "6 h");
        grid["ride_through"] = json!(0.5);
        let mut flood = domain("flood", "flood_plain", "2500 h", "30 h");
        flood["effect"] = json!("destroy");
        let site = |id: &str, on: Vec<&str>, providers: Vec<&str>| {
            json!({
                "id": id,
                "region": id,
                "on": on,
                "providers": providers,
                "racks": 3,
                "hosts_per_rack": 2,
                "disks_per_host": 2
            })
        };
        let scenario = json!({
            "name": "busy",
            "horizon": "3000 h",
            "seed": 5,
            "failure_domains": [grid, flood, domain("isp", "bandwidth_provider", "60 h", "3 h")],
            "components": {
                "facility": every("150 h", "5 h"),
                "rack": every("120 h", "8 h"),
                "host": every("80 h", "6 h"),
                "disk": every("3000 h", "20 h")
            },
            "datacenters": [
                site("a", vec!["grid"], vec![]),
                site("b", vec!["grid"], vec!["isp"]),
                site("c", vec!["flood"], vec![])
            ],
            "services": [{ "name": "store", "storage": storage }]
        });
        crate::scenario::from_str(&scenario.to_string()).unwrap()
    }

    /// After every event, each group's node is up exactly when at least `needed` of its
    /// pieces are present on places whose site is up and whose disk, host and rack are
    /// each up on their own: recomputed from scratch, piece by piece.
    fn check_readability(world: &World, trials: u64) -> (u64, u64) {
        let ServiceKind::Storage { store, groups, .. } = &world.services[0].kind else {
            unreachable!()
        };
        let needed = store.redundancy.needed;
        let mut runner = TrialRunner::new(world);
        let (mut checks, mut unreadable) = (0, 0);
        for trial in 0..trials {
            runner.begin(world.default_seed, trial);
            loop {
                let dynamics = &runner.model.dynamics;
                let mut reachable = vec![0u32; groups.len()];
                runner.model.durability.for_each_present(0, 0, |g, a| {
                    let anchor = &world.anchors[a as usize];
                    let site = world.datacenters[anchor.datacenter as usize].node;
                    if dynamics.is_up(site)
                        && anchor.within_site().iter().all(|&n| dynamics.own_up(n))
                    {
                        reachable[g as usize] += 1;
                    }
                });
                for (g, &node) in groups.iter().enumerate() {
                    let expected = reachable[g] >= needed;
                    assert_eq!(
                        dynamics.own_up(node),
                        expected,
                        "trial {trial}, group {g} at {} h",
                        runner.now()
                    );
                    checks += 1;
                    unreadable += u64::from(!expected);
                }
                if runner.step() != Step::Horizon {
                    continue;
                }
                break;
            }
        }
        (checks, unreadable)
    }

    #[test]
    fn readability_follows_overlapping_site_rack_host_and_disk_outages() {
        // Three replicas, one per site, copied back in a few hours.
        let world = busy_world(json!({
            "object_groups": 40,
            "replicas": 3,
            "placement": { "per_datacenter": { "a": 1, "b": 1, "c": 1 } },
            "repair": { "detection": "30 min", "copy": { "exponential": { "mean": "4 h" } } }
        }));
        let (checks, unreadable) = check_readability(&world, 4);
        assert!(checks > 100_000, "{checks} checks");
        assert!(unreadable > 1_000, "{unreadable} unreadable");
    }

    #[test]
    fn readability_of_erasure_codes_placed_at_random() {
        // 4 of 6 fragments, placed at random over the sites, copied over shared links
        // (a lost fragment may come back in another site).
        let world = busy_world(json!({
            "object_groups": 30,
            "erasure_code": { "data": 4, "parity": 2 },
            "placement": { "random": { "datacenters": ["a", "b", "c"] } },
            "object_group_size": "10 GB",
            "repair": {
                "detection": "0 s",
                "bandwidth": {
                    "within_datacenter": "1 Gbit/s",
                    "between_datacenters": "100 Mbit/s"
                }
            }
        }));
        let (checks, unreadable) = check_readability(&world, 4);
        assert!(checks > 100_000, "{checks} checks");
        assert!(unreadable > 1_000, "{unreadable} unreadable");
    }

    /// Events with their times, in the order they fired.
    type Fired = Vec<(Time, TrialEvent)>;

    /// Every event of trial `trial` of `runner`, with its time; and of a copy of the
    /// trial forked after its `fork_at`-th event, if it gets that far.
    fn events_of(runner: &mut TrialRunner, trial: u64, fork_at: usize) -> (Fired, Fired) {
        let mut fork = None;
        let mut events = Vec::new();
        runner.begin(runner.world.default_seed, trial);
        while let Step::Fired(event) = runner.step() {
            events.push((runner.now(), event));
            if events.len() == fork_at {
                fork = Some(runner.fork(9, trial));
            }
        }
        let mut forked = Vec::new();
        if let Some(mut child) = fork {
            while let Step::Fired(event) = child.step() {
                forked.push((child.now(), event));
            }
        }
        (events, forked)
    }

    #[test]
    fn links_holding_completions_through_a_burst_change_no_event() {
        // Two replicas of each group in the flooded site, one in each other: a flood
        // loses 40 pieces at once, noticed together, whose copies share links.
        let world = busy_world(json!({
            "object_groups": 20,
            "replicas": 4,
            "placement": { "per_datacenter": { "a": 1, "b": 1, "c": 2 } },
            "object_group_size": "50 GB",
            "repair": {
                "detection": "15 min",
                "bandwidth": {
                    "within_datacenter": "1 Gbit/s",
                    "between_datacenters": "100 Mbit/s"
                }
            }
        }));
        let mut holding = TrialRunner::new(&world);
        let mut at_once = TrialRunner::new(&world);
        at_once.model.durability.hold_links(false);
        let mut bursts = 0;
        for trial in 0..100 {
            for fork_at in [200, 1_000] {
                let held = events_of(&mut holding, trial, fork_at);
                let each = events_of(&mut at_once, trial, fork_at);
                assert_eq!(held, each, "trial {trial}");
                bursts += held
                    .0
                    .windows(2)
                    .filter(|pair| {
                        pair[0].0 == pair[1].0
                            && matches!(pair[0].1, TrialEvent::Storage(_))
                            && matches!(pair[1].1, TrialEvent::Storage(_))
                    })
                    .count();
            }
        }
        assert!(
            bursts > 100,
            "{bursts} storage events at the instant of the one before"
        );
    }
}
