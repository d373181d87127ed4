//! One Monte Carlo trial of a [`World`]: run its components on the engine and measure
//! each service against its SLAs.

use crate::engine::{self, Scheduler, Time};
use crate::reliability::{Dynamics, NodeId, Observer};
use crate::streams::{self, Purpose};
use crate::world::World;

/// What one trial measured for one SLA.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaOutcome {
    /// Whole windows inside the horizon.
    pub windows: u32,
    /// Windows whose uptime fell below the target.
    pub breached: u32,
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
    pub slas: Vec<SlaOutcome>,
}

/// What one trial measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrialOutcome {
    pub events: u64,
    pub services: Vec<ServiceOutcome>,
}

/// Accumulates each watched service's downtime, per SLA window.
#[derive(Debug)]
struct Meter {
    services: Vec<ServiceMeter>,
}

#[derive(Debug)]
struct ServiceMeter {
    down_since: Option<Time>,
    downtime: f64,
    outages: u32,
    /// Per SLA: window boundaries (see `Window::boundaries`) and downtime per window.
    windows: Vec<(Vec<f64>, Vec<f64>)>,
}

impl ServiceMeter {
    fn reset(&mut self) {
        self.down_since = None;
        self.downtime = 0.0;
        self.outages = 0;
        for (_, downtime) in &mut self.windows {
            downtime.fill(0.0);
        }
    }

    /// Adds the outage `[from, to)` to the total and to the windows it overlaps.
    fn add_down(&mut self, from: Time, to: Time) {
        self.downtime += to - from;
        for (bounds, downtime) in &mut self.windows {
            let mut w = bounds.partition_point(|&b| b <= from).saturating_sub(1);
            while w < downtime.len() && bounds[w] < to {
                let overlap = to.min(bounds[w + 1]) - from.max(bounds[w]);
                if overlap > 0.0 {
                    downtime[w] += overlap;
                }
                w += 1;
            }
        }
    }
}

impl Observer for Meter {
    fn on_change(&mut self, watch: u32, time: Time, up: bool) {
        let service = &mut self.services[watch as usize];
        if up {
            if let Some(since) = service.down_since.take() {
                service.add_down(since, time);
            }
        } else {
            if time > 0.0 {
                service.outages += 1;
            }
            service.down_since = Some(time);
        }
    }
}

/// Reusable state for running many trials of one world on one thread.
#[derive(Debug)]
pub struct TrialRunner<'w> {
    world: &'w World,
    scheduler: Scheduler<NodeId>,
    dynamics: Dynamics<'w, Meter>,
}

impl<'w> TrialRunner<'w> {
    pub fn new(world: &'w World) -> Self {
        let watched: Vec<NodeId> = world.services.iter().map(|s| s.node).collect();
        let services = world
            .services
            .iter()
            .map(|service| ServiceMeter {
                down_since: None,
                downtime: 0.0,
                outages: 0,
                windows: service
                    .slas
                    .iter()
                    .map(|sla| {
                        let bounds = sla.window.boundaries(world.horizon);
                        let count = bounds.len() - 1;
                        (bounds, vec![0.0; count])
                    })
                    .collect(),
            })
            .collect();
        TrialRunner {
            world,
            scheduler: Scheduler::new(world.horizon),
            dynamics: Dynamics::new(&world.structure, &watched, Meter { services }),
        }
    }

    /// Runs trial `trial` of a run seeded with `seed`.
    pub fn run(&mut self, seed: u64, trial: u64) -> TrialOutcome {
        let world = self.world;
        self.scheduler.reset(world.horizon);
        for meter in &mut self.dynamics.observer.services {
            meter.reset();
        }
        self.dynamics.start(
            &mut self.scheduler,
            world.initial_state,
            streams::stream(seed, trial, Purpose::Lifetimes),
            streams::stream(seed, trial, Purpose::RideThrough),
        );
        let events = engine::run(&mut self.dynamics, &mut self.scheduler);
        let services = world
            .services
            .iter()
            .zip(&mut self.dynamics.observer.services)
            .map(|(service, meter)| {
                if let Some(since) = meter.down_since.take() {
                    meter.add_down(since, world.horizon);
                }
                let slas = service
                    .slas
                    .iter()
                    .zip(&meter.windows)
                    .map(|(sla, (bounds, downtime))| SlaOutcome {
                        windows: downtime.len() as u32,
                        breached: downtime
                            .iter()
                            .zip(bounds.windows(2))
                            .filter(|(down, w)| sla.breached_by(1.0 - *down / (w[1] - w[0])))
                            .count() as u32,
                    })
                    .collect();
                ServiceOutcome {
                    downtime: meter.downtime,
                    outages: meter.outages,
                    slas,
                }
            })
            .collect();
        TrialOutcome { events, services }
    }
}
