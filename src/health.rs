//! Load balancers' health checks, per trial: the share of a tier's requests that fail.
//!
//! A load balancer spreads requests evenly over the instances it believes healthy. An
//! instance that fails is still believed healthy until the health check notices it,
//! `delay` later; one that comes back is believed healthy at once. So while the tier is
//! up, the share of its requests that fail is (believed healthy but down) / (believed
//! healthy); while the tier is down, every request fails. [`HealthChecks`] integrates
//! that share exactly over the trial. Like auto-scaling, it hears of the nodes it
//! watches through the observer ([`WatchedChanges`]) and schedules its own events
//! ([`HealthEvent`]); it changes no node.

use crate::engine::{EventKey, Scheduler, Time};
use crate::reliability::{Dynamics, NodeId, Observer, WatchedChanges};
use crate::world::{ServiceKind, World};

/// An observer that carries the health checks' notes: changes of the nodes they watch
/// (per checked tier, its instances' watchers, then its tier watcher).
pub trait HasHealthNotes {
    fn health_notes(&mut self) -> &mut WatchedChanges;
}

/// An event of the health checks: instance `instance` (an index among all checked
/// instances) noticed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthEvent {
    instance: u32,
}

#[derive(Debug, Clone)]
struct Instance {
    tier: u32,
    up: bool,
    /// Whether the load balancer sends it requests.
    believed: bool,
    /// The health check that will notice its failure.
    pending: Option<EventKey>,
}

#[derive(Debug, Clone)]
struct Tier {
    /// The service and its index among the service's checked tiers.
    service: usize,
    delay: f64,
    up: bool,
    /// Instances believed healthy, and of those the ones down.
    believed: u32,
    believed_down: u32,
    /// Request-hours failed (time-weighted failing share) since the trial began.
    failed: f64,
}

impl Tier {
    /// The share of the tier's requests failing now.
    fn share(&self) -> f64 {
        if !self.up || self.believed == 0 {
            1.0
        } else {
            f64::from(self.believed_down) / f64::from(self.believed)
        }
    }
}

/// What a watched node is to the health checks.
#[derive(Debug, Clone, Copy)]
enum Target {
    Instance(u32),
    Tier(u32),
}

/// The health checks of a world's load balancers, in one trial.
#[derive(Debug, Clone)]
pub struct HealthChecks {
    tiers: Vec<Tier>,
    instances: Vec<Instance>,
    targets: Vec<Target>,
    watched: Vec<NodeId>,
    /// When the failing shares were last integrated.
    last: Time,
}

impl HealthChecks {
    pub fn new(world: &World) -> Self {
        let mut tiers = Vec::new();
        let mut instances = Vec::new();
        let mut targets = Vec::new();
        let mut watched = Vec::new();
        for (s, service) in world.services.iter().enumerate() {
            let ServiceKind::Application(app) = &service.kind else {
                continue;
            };
            for tier in &app.tiers {
                let Some(check) = &tier.health_check else {
                    continue;
                };
                let t = tiers.len() as u32;
                for &node in &check.instances {
                    targets.push(Target::Instance(instances.len() as u32));
                    watched.push(node);
                    instances.push(Instance {
                        tier: t,
                        up: true,
                        believed: true,
                        pending: None,
                    });
                }
                targets.push(Target::Tier(t));
                watched.push(check.tier);
                tiers.push(Tier {
                    service: s,
                    delay: check.delay,
                    up: true,
                    believed: 0,
                    believed_down: 0,
                    failed: 0.0,
                });
            }
        }
        HealthChecks {
            tiers,
            instances,
            targets,
            watched,
            last: 0.0,
        }
    }

    /// The nodes the health checks watch, in the order of their notes.
    pub fn watched(&self) -> &[NodeId] {
        &self.watched
    }

    /// Starts a trial, after the structure (and auto-scaling) have started: every
    /// instance is believed healthy, and those down are noticed `delay` from now.
    pub fn start<O: Observer + HasHealthNotes, E: Copy + From<HealthEvent>>(
        &mut self,
        dynamics: &mut Dynamics<'_, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        dynamics.observer.health_notes().list.clear();
        self.last = scheduler.now();
        for tier in &mut self.tiers {
            tier.believed = 0;
            tier.believed_down = 0;
            tier.failed = 0.0;
        }
        for (&target, &node) in self.targets.iter().zip(&self.watched) {
            let up = dynamics.is_up(node);
            match target {
                Target::Tier(t) => self.tiers[t as usize].up = up,
                Target::Instance(i) => {
                    let instance = &mut self.instances[i as usize];
                    instance.up = up;
                    instance.believed = true;
                    instance.pending = None;
                    let tier = &mut self.tiers[instance.tier as usize];
                    tier.believed += 1;
                    if !up {
                        tier.believed_down += 1;
                        let key =
                            scheduler.schedule_in(tier.delay, HealthEvent { instance: i }.into());
                        instance.pending = Some(key);
                    }
                }
            }
        }
    }

    /// Adds the failing shares from the last change until `now`.
    fn integrate(&mut self, now: Time) {
        let span = now - self.last;
        if span > 0.0 {
            for tier in &mut self.tiers {
                tier.failed += tier.share() * span;
            }
        }
        self.last = self.last.max(now);
    }

    /// Acts on the notes the structure left, in order.
    pub fn apply<O: Observer + HasHealthNotes, E: Copy + From<HealthEvent>>(
        &mut self,
        dynamics: &mut Dynamics<'_, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        self.integrate(scheduler.now());
        let notes = std::mem::take(&mut dynamics.observer.health_notes().list);
        for &(index, up) in &notes {
            match self.targets[index as usize] {
                Target::Tier(t) => self.tiers[t as usize].up = up,
                Target::Instance(i) => {
                    let instance = &mut self.instances[i as usize];
                    if instance.up == up {
                        continue;
                    }
                    instance.up = up;
                    let tier = &mut self.tiers[instance.tier as usize];
                    if up {
                        if let Some(key) = instance.pending.take() {
                            scheduler.cancel(key);
                            // Believed healthy all along; no longer failing.
                            tier.believed_down -= 1;
                        } else if !instance.believed {
                            instance.believed = true;
                            tier.believed += 1;
                        }
                    } else if instance.believed {
                        tier.believed_down += 1;
                        let key =
                            scheduler.schedule_in(tier.delay, HealthEvent { instance: i }.into());
                        instance.pending = Some(key);
                    }
                }
            }
        }
        // Hand the buffer back, to keep its capacity.
        let mut notes = notes;
        notes.clear();
        let list = &mut dynamics.observer.health_notes().list;
        if list.is_empty() {
            *list = notes;
        }
    }

    /// A failed instance's health check: the load balancer stops sending it requests.
    pub fn handle<E: Copy>(&mut self, event: HealthEvent, scheduler: &Scheduler<E>) {
        self.integrate(scheduler.now());
        let instance = &mut self.instances[event.instance as usize];
        instance.pending = None;
        instance.believed = false;
        let tier = &mut self.tiers[instance.tier as usize];
        tier.believed -= 1;
        tier.believed_down -= 1;
    }

    /// Closes the trial at `horizon`: per checked tier, in order, its service and the
    /// fraction of its requests that failed.
    pub fn finish(&mut self, horizon: Time) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.integrate(horizon);
        self.tiers
            .iter()
            .map(move |t| (t.service, (t.failed / horizon).clamp(0.0, 1.0)))
    }
}
