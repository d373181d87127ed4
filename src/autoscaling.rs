//! Auto-scaling groups in a trial: a tier's failed instances replaced after a launch
//! delay.
//!
//! Each instance of an auto-scaled tier is a *slot*: a node with no process of its own,
//! which the tier's k-of-n (and its flows, and the instance SLAs) use in place of the
//! instance. A slot is up while its current *incarnation* is: first the instance
//! launched with the application (its effective state: its host, rack and site
//! included), later its latest replacement. When the incarnation goes down, the group
//! notices after the detection delay and launches a replacement — in the data centre
//! the failed incarnation lived in if that site is up, else in the first of the tier's
//! data centres whose site is up, else as soon as one comes up — which is up after the
//! launch delay, provided its site still is (otherwise it is launched again). If the
//! incarnation comes back before its replacement is up, the launch is called off and
//! it keeps its place; once replaced, it is retired, whatever it does next.
//!
//! A replacement is a fresh instance on its data centre's site (no host or rack): it is
//! down while that site is, and otherwise fails after a time drawn from the instance
//! law's time to failure; a replacement that failed on its own is terminated (replaced
//! again, never repaired). The structure knows nothing of this: like durability, the
//! group hears of the nodes it watches through the observer ([`WatchedChanges`]), schedules
//! its own events ([`ScaleEvent`]) and sets the slots with `Dynamics::set_own_up`.

use crate::engine::{EventKey, Scheduler};
use crate::laws::Law;
use crate::reliability::{Dynamics, NodeId, Observer, Process, WatchedChanges};
use crate::streams::ComponentRng;
use crate::world::{ServiceKind, World};

/// An observer that carries auto-scaling's notes: changes of the nodes it watches (each
/// slot's first instance, then each data centre's site watcher, tier by tier).
pub trait HasScaleNotes {
    fn scale_notes(&mut self) -> &mut WatchedChanges;
}

/// An event of auto-scaling: slot `slot`'s failure noticed, its replacement up, or its
/// replacement failing on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    slot: u32,
    kind: ScaleKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScaleKind {
    Noticed,
    Launched,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Incarnation {
    /// The instance launched with the application.
    Original,
    /// A replacement on the tier's site `site` (an index into its sites); `alive` until
    /// it fails on its own.
    Replacement { site: u32, alive: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The incarnation is up, or its failure is being handled below.
    Idle,
    Noticing(EventKey),
    /// No site of the tier is up to launch in.
    Waiting,
    Launching(EventKey, u32),
}

#[derive(Debug, Clone)]
struct Slot {
    tier: u32,
    node: NodeId,
    /// The tier's site the first instance lives in.
    home: u32,
    original_up: bool,
    incarnation: Incarnation,
    phase: Phase,
    /// The current replacement's own failure, if scheduled.
    failure: Option<EventKey>,
    /// Whether the slot's node is up.
    up: bool,
    rng: ComponentRng,
    key: u64,
}

#[derive(Debug, Clone)]
struct Tier<'w> {
    launch_delay: &'w Law,
    detection: Option<&'w Law>,
    instance_law: Option<&'w Process>,
    site_up: Vec<bool>,
    site_nodes: Vec<NodeId>,
    slots: std::ops::Range<u32>,
}

/// What a watched node is to auto-scaling.
#[derive(Debug, Clone, Copy)]
enum Target {
    Original(u32),
    Site { tier: u32, site: u32 },
}

/// The auto-scaling groups of a world's applications, in one trial.
#[derive(Debug, Clone)]
pub struct Autoscaler<'w> {
    tiers: Vec<Tier<'w>>,
    slots: Vec<Slot>,
    /// Per watched node, in the order of [`Autoscaler::watched`].
    targets: Vec<Target>,
    watched: Vec<NodeId>,
}

impl<'w> Autoscaler<'w> {
    pub fn new(world: &'w World) -> Self {
        let mut tiers = Vec::new();
        let mut slots = Vec::new();
        let mut targets = Vec::new();
        let mut watched = Vec::new();
        for service in &world.services {
            let ServiceKind::Application(app) = &service.kind else {
                continue;
            };
            for tier in &app.tiers {
                let Some(scaling) = &tier.autoscaling else {
                    continue;
                };
                let t = tiers.len() as u32;
                let start = slots.len() as u32;
                let nodes = &app.instance_nodes[tier.instance_range.clone()];
                for (i, (&node, &original)) in nodes.iter().zip(&scaling.originals).enumerate() {
                    let home = scaling
                        .sites
                        .iter()
                        .position(|&(dc, _)| dc == scaling.home[i])
                        .expect("a slot's data centre is one of its tier's")
                        as u32;
                    targets.push(Target::Original(slots.len() as u32));
                    watched.push(original);
                    let key = world.structure.key(node);
                    slots.push(Slot {
                        tier: t,
                        node,
                        home,
                        original_up: true,
                        incarnation: Incarnation::Original,
                        phase: Phase::Idle,
                        failure: None,
                        up: true,
                        rng: ComponentRng::new(0, 0, key),
                        key,
                    });
                }
                for (k, &(_, site)) in scaling.sites.iter().enumerate() {
                    targets.push(Target::Site {
                        tier: t,
                        site: k as u32,
                    });
                    watched.push(site);
                }
                tiers.push(Tier {
                    launch_delay: &scaling.launch_delay,
                    detection: scaling.detection.as_ref(),
                    instance_law: scaling.instance_law.as_ref(),
                    site_up: vec![true; scaling.sites.len()],
                    site_nodes: scaling.sites.iter().map(|&(_, n)| n).collect(),
                    slots: start..slots.len() as u32,
                });
            }
        }
        Autoscaler {
            tiers,
            slots,
            targets,
            watched,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The nodes auto-scaling watches, in the order of its notes.
    pub fn watched(&self) -> &[NodeId] {
        &self.watched
    }

    /// Starts a trial, after the structure has started: every slot holds its first
    /// instance, and those that start down are noticed from time 0.
    pub fn start<O: Observer + HasScaleNotes, E: Copy + From<ScaleEvent>>(
        &mut self,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
        seed: u64,
        trial: u64,
    ) {
        dynamics.observer.scale_notes().list.clear();
        for tier in &mut self.tiers {
            for (up, &node) in tier.site_up.iter_mut().zip(&tier.site_nodes) {
                *up = dynamics.is_up(node);
            }
        }
        for s in 0..self.slots.len() {
            let original = self.watched[self
                .targets
                .iter()
                .position(|t| matches!(t, Target::Original(x) if *x == s as u32))
                .expect("every slot is watched")];
            let slot = &mut self.slots[s];
            slot.original_up = dynamics.is_up(original);
            slot.incarnation = Incarnation::Original;
            slot.phase = Phase::Idle;
            slot.failure = None;
            slot.up = dynamics.own_up(slot.node);
            slot.rng = ComponentRng::new(seed, trial, slot.key);
            self.refresh(s, dynamics, scheduler);
        }
    }

    /// Draws from fresh streams from now on (see `Dynamics::reseed`).
    pub fn reseed(&mut self, seed: u64, trial: u64) {
        for slot in &mut self.slots {
            slot.rng = ComponentRng::new(seed, trial, slot.key);
        }
    }

    /// Acts on the notes the structure left, in order.
    pub fn apply<O: Observer + HasScaleNotes, E: Copy + From<ScaleEvent>>(
        &mut self,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let notes = std::mem::take(&mut dynamics.observer.scale_notes().list);
        // States first: one event may take down an instance and its site together, and
        // a replacement must not be launched on a site already known to be down.
        for &(index, up) in &notes {
            match self.targets[index as usize] {
                Target::Original(s) => self.slots[s as usize].original_up = up,
                Target::Site { tier, site } => {
                    self.tiers[tier as usize].site_up[site as usize] = up;
                }
            }
        }
        for &(index, up) in &notes {
            match self.targets[index as usize] {
                Target::Original(s) => {
                    if self.slots[s as usize].incarnation == Incarnation::Original {
                        self.refresh(s as usize, dynamics, scheduler);
                    }
                }
                Target::Site { tier, site } => {
                    let t = tier as usize;
                    for s in self.tiers[t].slots.clone() {
                        let s = s as usize;
                        match (self.slots[s].incarnation, self.slots[s].phase) {
                            (Incarnation::Replacement { site: on, .. }, _) if on == site => {
                                self.refresh(s, dynamics, scheduler)
                            }
                            (_, Phase::Waiting) if up && self.tiers[t].site_up[site as usize] => {
                                self.launch(s, scheduler)
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        // Hand the buffer back, to keep its capacity.
        let mut notes = notes;
        notes.clear();
        let list = &mut dynamics.observer.scale_notes().list;
        if list.is_empty() {
            *list = notes;
        }
    }

    pub fn handle<O: Observer, E: Copy + From<ScaleEvent>>(
        &mut self,
        event: ScaleEvent,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let s = event.slot as usize;
        match event.kind {
            ScaleKind::Noticed => {
                self.slots[s].phase = Phase::Idle;
                self.launch(s, scheduler);
            }
            ScaleKind::Launched => {
                let Phase::Launching(_, site) = self.slots[s].phase else {
                    unreachable!("a launch ends only while launching");
                };
                let tier = &self.tiers[self.slots[s].tier as usize];
                if !tier.site_up[site as usize] {
                    // Its site went down meanwhile: launch again.
                    self.slots[s].phase = Phase::Idle;
                    self.launch(s, scheduler);
                    return;
                }
                let failure = tier.instance_law.map(|law| {
                    let after = law.up.sample(&mut self.slots[s].rng);
                    scheduler.schedule_in(after, event_of(s, ScaleKind::Failed).into())
                });
                let slot = &mut self.slots[s];
                if let Some(key) = slot.failure.take() {
                    scheduler.cancel(key);
                }
                slot.failure = failure;
                slot.incarnation = Incarnation::Replacement { site, alive: true };
                slot.phase = Phase::Idle;
                self.refresh(s, dynamics, scheduler);
            }
            ScaleKind::Failed => {
                let slot = &mut self.slots[s];
                slot.failure = None;
                if let Incarnation::Replacement { site, .. } = slot.incarnation {
                    slot.incarnation = Incarnation::Replacement { site, alive: false };
                }
                self.refresh(s, dynamics, scheduler);
            }
        }
    }

    /// Whether slot `s`'s current incarnation is up.
    fn incarnation_up(&self, s: usize) -> bool {
        let slot = &self.slots[s];
        match slot.incarnation {
            Incarnation::Original => slot.original_up,
            Incarnation::Replacement { site, alive } => {
                alive && self.tiers[slot.tier as usize].site_up[site as usize]
            }
        }
    }

    /// Brings slot `s` in line with its incarnation: up, calling off any replacement
    /// under way; or down, noticing the failure unless that is under way.
    fn refresh<O: Observer, E: Copy + From<ScaleEvent>>(
        &mut self,
        s: usize,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let up = self.incarnation_up(s);
        if up {
            match std::mem::replace(&mut self.slots[s].phase, Phase::Idle) {
                Phase::Noticing(key) | Phase::Launching(key, _) => scheduler.cancel(key),
                Phase::Idle | Phase::Waiting => {}
            }
        } else if self.slots[s].phase == Phase::Idle {
            let tier = &self.tiers[self.slots[s].tier as usize];
            match tier.detection {
                None => self.launch(s, scheduler),
                Some(law) => {
                    let after = law.sample(&mut self.slots[s].rng);
                    let key = scheduler.schedule_in(after, event_of(s, ScaleKind::Noticed).into());
                    self.slots[s].phase = Phase::Noticing(key);
                }
            }
        }
        let slot = &mut self.slots[s];
        if slot.up != up {
            slot.up = up;
            dynamics.set_own_up(slot.node, up, scheduler.now());
        }
    }

    /// Launches slot `s`'s replacement: where its incarnation lived if that site is
    /// up, else in the tier's first site that is up, else waits for one.
    fn launch<E: Copy + From<ScaleEvent>>(&mut self, s: usize, scheduler: &mut Scheduler<E>) {
        let slot = &self.slots[s];
        let tier = &self.tiers[slot.tier as usize];
        let own = match slot.incarnation {
            Incarnation::Original => slot.home,
            Incarnation::Replacement { site, .. } => site,
        };
        let site = if tier.site_up[own as usize] {
            Some(own)
        } else {
            tier.site_up.iter().position(|&up| up).map(|k| k as u32)
        };
        let Some(site) = site else {
            self.slots[s].phase = Phase::Waiting;
            return;
        };
        let after = tier.launch_delay.sample(&mut self.slots[s].rng);
        let key = scheduler.schedule_in(after, event_of(s, ScaleKind::Launched).into());
        self.slots[s].phase = Phase::Launching(key, site);
    }
}

fn event_of(slot: usize, kind: ScaleKind) -> ScaleEvent {
    ScaleEvent {
        slot: slot as u32,
        kind,
    }
}
