//! Streaming, mergeable statistics over trials.
//!
//! A [`RunSummary`] takes trial outcomes one at a time and merges with another summary
//! exactly: integer counts add, floating-point moments merge by a fixed formula, so a
//! result depends only on which trials went into which chunk and on the order in which
//! chunks are merged — both fixed by the runner. Memory does not depend on the number
//! of trials.
//!
//! The Monte Carlo unit is the trial: windows inside one trial are correlated (an
//! outage can span two months), so every interval treats the trial as the independent
//! observation (see `stats::ClusteredProportion` for SLA breach probabilities).

use crate::scenario::units::HOURS_PER_YEAR;
use crate::stats::{ClusteredProportion, Moments, QuantileSketch};
use crate::trial::TrialOutcome;
use crate::world::World;

#[derive(Debug, Clone, PartialEq)]
pub struct SlaSummary {
    /// Breached windows over all windows, clustered by trial.
    pub breaches: ClusteredProportion,
    /// Breached windows per year of simulated time, one value per trial.
    pub breached_per_year: Moments,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    /// Fraction of the horizon the service was down, one value per trial.
    pub unavailability: Moments,
    /// Downtime in hours per year of simulated time, one value per trial.
    pub downtime_per_year: QuantileSketch,
    pub downtime_per_year_moments: Moments,
    /// Outages per year of simulated time, one value per trial.
    pub outages_per_year: Moments,
    pub slas: Vec<SlaSummary>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub trials: u64,
    pub events: u64,
    /// Hours simulated per trial.
    pub horizon: f64,
    pub services: Vec<ServiceSummary>,
}

impl RunSummary {
    /// An empty summary with room for `world`'s services and SLAs.
    pub fn new(world: &World) -> Self {
        RunSummary {
            trials: 0,
            events: 0,
            horizon: world.horizon,
            services: world
                .services
                .iter()
                .map(|service| ServiceSummary {
                    unavailability: Moments::new(),
                    downtime_per_year: QuantileSketch::new(),
                    downtime_per_year_moments: Moments::new(),
                    outages_per_year: Moments::new(),
                    slas: service
                        .slas
                        .iter()
                        .map(|_| SlaSummary {
                            breaches: ClusteredProportion::new(),
                            breached_per_year: Moments::new(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// Adds one trial.
    pub fn push(&mut self, outcome: &TrialOutcome) {
        let years = self.horizon / HOURS_PER_YEAR;
        self.trials += 1;
        self.events += outcome.events;
        for (summary, service) in self.services.iter_mut().zip(&outcome.services) {
            summary.unavailability.push(service.downtime / self.horizon);
            let downtime_per_year = service.downtime / years;
            summary.downtime_per_year.push(downtime_per_year);
            summary.downtime_per_year_moments.push(downtime_per_year);
            summary
                .outages_per_year
                .push(f64::from(service.outages) / years);
            for (sla, outcome) in summary.slas.iter_mut().zip(&service.slas) {
                sla.breaches
                    .push(u64::from(outcome.breached), u64::from(outcome.windows));
                sla.breached_per_year
                    .push(f64::from(outcome.breached) / years);
            }
        }
    }

    /// Appends the trials of `later`, which must come after this summary's trials.
    pub fn merge(&mut self, later: &RunSummary) {
        self.trials += later.trials;
        self.events += later.events;
        for (summary, other) in self.services.iter_mut().zip(&later.services) {
            summary.unavailability.merge(&other.unavailability);
            summary.downtime_per_year.merge(&other.downtime_per_year);
            summary
                .downtime_per_year_moments
                .merge(&other.downtime_per_year_moments);
            summary.outages_per_year.merge(&other.outages_per_year);
            for (sla, other) in summary.slas.iter_mut().zip(&other.slas) {
                sla.breaches.merge(&other.breaches);
                sla.breached_per_year.merge(&other.breached_per_year);
            }
        }
    }
}
