//! Streaming, mergeable statistics over trials, and the intervals drawn from them.
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

use crate::durability::DurabilityOutcome;
use crate::scenario::units::HOURS_PER_YEAR;
use crate::stats::wilson;
use crate::stats::{ClusteredProportion, Moments, QuantileSketch};
use crate::trial::TrialOutcome;
use crate::world::{ServiceKind, World};
use serde::{Deserialize, Serialize};

/// Confidence level of every interval nines reports.
pub const LEVEL: f64 = 0.95;

/// Lower edges of the uptime bands of the per-window histogram, in percent, from the
/// top: 100 exactly, then [99.99, 100), [99.95, 99.99), ..., [0, 95).
pub const UPTIME_BANDS: [f64; 8] = [100.0, 99.99, 99.95, 99.9, 99.5, 99.0, 95.0, 0.0];

/// Upper 95 % bound on the probability of something never seen in `n` trials: the
/// exact (Clopper–Pearson) bound 1 - 0.05^(1/n), about 3/n ("the rule of three").
pub fn never_seen_bound(n: u64) -> f64 {
    1.0 - (1.0 - LEVEL).powf(1.0 / n.max(1) as f64)
}

/// Mean of a non-negative per-trial quantity that is at most `max` in any trial, with
/// its 95 % interval: Student-t over trials; `[0, upper_if_none]` when every trial gave
/// 0 (where a t-interval would have zero width); and `[0, max]` from fewer than two
/// trials, which say nothing about the spread.
pub fn mean_ci(moments: &Moments, upper_if_none: f64, max: f64) -> (f64, f64) {
    if moments.count() < 2 {
        (0.0, max)
    } else if moments.max() <= 0.0 {
        (0.0, upper_if_none)
    } else {
        let (lo, hi) = moments.mean_ci(LEVEL);
        (lo.max(0.0), hi.min(max))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaSummary {
    /// Breached units over all units, clustered by trial.
    pub breaches: ClusteredProportion,
    /// Breached units per year of simulated time, one value per trial.
    pub breached_per_year: Moments,
    /// Years with at least one breach, over whole years, clustered by trial.
    pub years_breached: ClusteredProportion,
    /// Units in each credit tier (index 0: no credit), clustered by trial.
    pub tiers: Vec<ClusteredProportion>,
    /// Mean credit per unit, as a percentage of its bill, one value per trial.
    pub credit_percent: Moments,
    /// Credit in monthly bills per year of simulated time, one value per trial.
    pub credit_bills_per_year: Moments,
    /// Mean unavailability per unit as the contract measures it, one value per trial.
    pub unavailability: Moments,
    /// Every unit's unavailability as the contract measures it.
    pub unavailability_per_unit: QuantileSketch,
    /// Units per uptime band (see [`UPTIME_BANDS`]).
    pub bands: [u64; UPTIME_BANDS.len()],
}

/// Hours of downtime with one set of root causes down, summed over trials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CauseHours {
    /// Indices into the world's cause labels, sorted.
    pub causes: Vec<u16>,
    #[serde(with = "crate::stats::bits")]
    pub hours: f64,
}

/// Adds `hours` to the entry for `causes` in a list kept sorted by causes.
fn add_cause_hours(list: &mut Vec<CauseHours>, causes: &[u16], hours: f64) {
    match list.binary_search_by(|c| c.causes.as_slice().cmp(causes)) {
        Ok(i) => list[i].hours += hours,
        Err(i) => list.insert(
            i,
            CauseHours {
                causes: causes.to_vec(),
                hours,
            },
        ),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Fraction of the horizon the service was down, one value per trial.
    pub unavailability: Moments,
    /// Downtime in hours per year of simulated time, one value per trial.
    pub downtime_per_year: QuantileSketch,
    pub downtime_per_year_moments: Moments,
    /// Outages per year of simulated time, one value per trial.
    pub outages_per_year: Moments,
    /// Downtime by the set of root causes down at the time, over all trials.
    pub cause_hours: Vec<CauseHours>,
    pub slas: Vec<SlaSummary>,
    /// What happened to stored data (storage services only).
    pub durability: Option<DurabilitySummary>,
    /// Per tier with a load balancer's health check, in order: the fraction of its
    /// requests that failed, one value per trial (applications only).
    #[serde(default)]
    pub requests_failed: Vec<Moments>,
}

/// Lost object groups over all trials of a storage service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DurabilitySummary {
    /// Object groups in the service.
    pub groups: u64,
    /// Trials in which at least one group was lost.
    pub trials_with_loss: u64,
    /// Fraction of the groups lost, one value per trial.
    pub fraction_lost: Moments,
    /// Hours from the start to the first loss (or to the horizon), summed over trials:
    /// the exposure behind the mean time to data loss.
    #[serde(with = "crate::stats::bits")]
    pub exposure_hours: f64,
    /// Pieces re-created, and those placed outside their home data centre.
    pub copies: u64,
    pub degraded: u64,
    /// Trials by the most pieces any group was missing at once (index = pieces).
    pub deepest: Vec<u64>,
    /// Groups lost per combination of causes (label indices, sorted, one per piece).
    pub loss_causes: Vec<LossCauses>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossCauses {
    pub causes: Vec<u32>,
    pub groups: u64,
}

impl DurabilitySummary {
    fn new(groups: u64, pieces: u32) -> Self {
        DurabilitySummary {
            groups,
            trials_with_loss: 0,
            fraction_lost: Moments::new(),
            exposure_hours: 0.0,
            copies: 0,
            degraded: 0,
            deepest: vec![0; pieces as usize + 1],
            loss_causes: Vec::new(),
        }
    }

    fn push(&mut self, outcome: &DurabilityOutcome, horizon: f64) {
        if outcome.groups_lost > 0 {
            self.trials_with_loss += 1;
        }
        self.fraction_lost
            .push(f64::from(outcome.groups_lost) / self.groups as f64);
        self.exposure_hours += outcome.first_loss.unwrap_or(horizon);
        self.copies += u64::from(outcome.copies);
        self.degraded += u64::from(outcome.degraded);
        let depth = (outcome.deepest as usize).min(self.deepest.len() - 1);
        self.deepest[depth] += 1;
        for (causes, groups) in &outcome.loss_causes {
            self.add_causes(causes, u64::from(*groups));
        }
    }

    fn add_causes(&mut self, causes: &[u32], groups: u64) {
        match self
            .loss_causes
            .binary_search_by(|c| c.causes.as_slice().cmp(causes))
        {
            Ok(i) => self.loss_causes[i].groups += groups,
            Err(i) => self.loss_causes.insert(
                i,
                LossCauses {
                    causes: causes.to_vec(),
                    groups,
                },
            ),
        }
    }

    fn merge(&mut self, later: &DurabilitySummary) {
        self.trials_with_loss += later.trials_with_loss;
        self.fraction_lost.merge(&later.fraction_lost);
        self.exposure_hours += later.exposure_hours;
        self.copies += later.copies;
        self.degraded += later.degraded;
        for (depth, other) in self.deepest.iter_mut().zip(&later.deepest) {
            *depth += other;
        }
        for c in &later.loss_causes {
            self.add_causes(&c.causes, c.groups);
        }
    }

    /// Probability that a trial loses any group, with its 95 % interval (Wilson).
    pub fn loss_probability(&self) -> (f64, (f64, f64)) {
        let n = self.fraction_lost.count();
        let p = self.trials_with_loss as f64 / n.max(1) as f64;
        (p, wilson(self.trials_with_loss as f64, n as f64, LEVEL))
    }

    /// Expected fraction of groups lost per trial, with its 95 % interval.
    pub fn fraction_lost_ci(&self) -> (f64, f64) {
        mean_ci(
            &self.fraction_lost,
            never_seen_bound(self.fraction_lost.count()),
            1.0,
        )
    }

    /// Mean time to the first data loss, in hours, assuming losses arrive at a
    /// constant rate: exposure / losses, with the exact chi-square interval for a
    /// Poisson count. `None` for the estimate when nothing was lost (the interval
    /// still has a lower bound).
    pub fn mean_time_to_loss(&self) -> (Option<f64>, (f64, f64)) {
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        let k = self.trials_with_loss as f64;
        let t = self.exposure_hours;
        let alpha = 1.0 - LEVEL;
        let upper_count = ChiSquared::new(2.0 * k + 2.0)
            .expect("positive degrees of freedom")
            .inverse_cdf(1.0 - alpha / 2.0)
            / 2.0;
        let lower_count = if k > 0.0 {
            ChiSquared::new(2.0 * k)
                .expect("positive degrees of freedom")
                .inverse_cdf(alpha / 2.0)
                / 2.0
        } else {
            0.0
        };
        let estimate = (k > 0.0).then(|| t / k);
        let upper = if lower_count > 0.0 {
            t / lower_count
        } else {
            f64::INFINITY
        };
        (estimate, (t / upper_count, upper))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub trials: u64,
    pub events: u64,
    /// The first trial (by index) that hit its event budget, if any: such a run's
    /// measurements are incomplete.
    pub first_truncated: Option<u64>,
    /// Hours simulated per trial.
    #[serde(with = "crate::stats::bits")]
    pub horizon: f64,
    pub services: Vec<ServiceSummary>,
}

/// The band of the per-window histogram that an unavailability falls in.
fn band_of(unavailability: f64) -> usize {
    if unavailability <= 0.0 {
        return 0;
    }
    let uptime = 100.0 * (1.0 - unavailability);
    1 + UPTIME_BANDS[1..]
        .iter()
        .position(|&lower| uptime >= lower)
        .unwrap_or(UPTIME_BANDS.len() - 2)
}

impl SlaSummary {
    fn new(tiers: usize) -> Self {
        SlaSummary {
            breaches: ClusteredProportion::new(),
            breached_per_year: Moments::new(),
            years_breached: ClusteredProportion::new(),
            tiers: vec![ClusteredProportion::new(); tiers + 1],
            credit_percent: Moments::new(),
            credit_bills_per_year: Moments::new(),
            unavailability: Moments::new(),
            unavailability_per_unit: QuantileSketch::new(),
            bands: [0; UPTIME_BANDS.len()],
        }
    }

    fn merge(&mut self, later: &SlaSummary) {
        self.breaches.merge(&later.breaches);
        self.breached_per_year.merge(&later.breached_per_year);
        self.years_breached.merge(&later.years_breached);
        for (tier, other) in self.tiers.iter_mut().zip(&later.tiers) {
            tier.merge(other);
        }
        self.credit_percent.merge(&later.credit_percent);
        self.credit_bills_per_year
            .merge(&later.credit_bills_per_year);
        self.unavailability.merge(&later.unavailability);
        self.unavailability_per_unit
            .merge(&later.unavailability_per_unit);
        for (band, other) in self.bands.iter_mut().zip(&later.bands) {
            *band += other;
        }
    }
}

impl ServiceSummary {
    /// The service's unavailability (fraction of time down) with its 95 % interval.
    pub fn unavailability_ci(&self) -> (f64, f64) {
        // Unavailability lies in [0, 1]: with no downtime seen, its mean is at most the
        // probability that a trial sees any, below the never-seen bound.
        mean_ci(
            &self.unavailability,
            never_seen_bound(self.unavailability.count()),
            1.0,
        )
    }
}

impl RunSummary {
    /// An empty summary with room for `world`'s services and SLAs.
    pub fn new(world: &World) -> Self {
        RunSummary {
            trials: 0,
            events: 0,
            first_truncated: None,
            horizon: world.horizon,
            services: world
                .services
                .iter()
                .map(|service| ServiceSummary {
                    unavailability: Moments::new(),
                    downtime_per_year: QuantileSketch::new(),
                    downtime_per_year_moments: Moments::new(),
                    outages_per_year: Moments::new(),
                    cause_hours: Vec::new(),
                    slas: service
                        .slas
                        .iter()
                        .map(|sla| SlaSummary::new(sla.credits.tiers().len()))
                        .collect(),
                    durability: match &service.kind {
                        ServiceKind::Storage { store, .. } => Some(DurabilitySummary::new(
                            store.object_groups() as u64,
                            store.redundancy.pieces,
                        )),
                        ServiceKind::Compute { .. } | ServiceKind::Application(_) => None,
                    },
                    requests_failed: match &service.kind {
                        ServiceKind::Application(app) => app
                            .tiers
                            .iter()
                            .filter(|t| t.health_check.is_some())
                            .map(|_| Moments::new())
                            .collect(),
                        _ => Vec::new(),
                    },
                })
                .collect(),
        }
    }

    /// Simulated years per trial.
    pub fn years(&self) -> f64 {
        self.horizon / HOURS_PER_YEAR
    }

    /// Adds one trial.
    pub fn push(&mut self, outcome: &TrialOutcome) {
        let years = self.years();
        self.trials += 1;
        self.events += outcome.events;
        if outcome.truncated && self.first_truncated.is_none_or(|t| outcome.trial < t) {
            self.first_truncated = Some(outcome.trial);
        }
        for (summary, service) in self.services.iter_mut().zip(&outcome.services) {
            summary.unavailability.push(service.downtime / self.horizon);
            let downtime_per_year = service.downtime / years;
            summary.downtime_per_year.push(downtime_per_year);
            summary.downtime_per_year_moments.push(downtime_per_year);
            summary
                .outages_per_year
                .push(f64::from(service.outages) / years);
            for (causes, hours) in &service.cause_hours {
                add_cause_hours(&mut summary.cause_hours, causes, *hours);
            }
            for (moments, &failed) in summary
                .requests_failed
                .iter_mut()
                .zip(&service.requests_failed)
            {
                moments.push(failed);
            }
            if let (Some(summary), Some(outcome)) = (&mut summary.durability, &service.durability) {
                summary.push(outcome, self.horizon);
            }
            for (sla, outcome) in summary.slas.iter_mut().zip(&service.slas) {
                let units = u64::from(outcome.units);
                sla.breaches.push(u64::from(outcome.breached), units);
                sla.breached_per_year
                    .push(f64::from(outcome.breached) / years);
                sla.years_breached
                    .push(u64::from(outcome.years_breached), u64::from(outcome.years));
                for (tier, &count) in sla.tiers.iter_mut().zip(&outcome.tiers) {
                    tier.push(u64::from(count), units);
                }
                let per_unit = 1.0 / f64::from(outcome.units.max(1));
                sla.credit_percent.push(outcome.credit_percent * per_unit);
                sla.credit_bills_per_year.push(outcome.credit_bills / years);
                let mut total = 0.0;
                for &u in &outcome.unavailability {
                    total += u;
                    sla.unavailability_per_unit.push(u.max(0.0));
                    sla.bands[band_of(u)] += 1;
                }
                sla.unavailability.push(total * per_unit);
            }
        }
    }

    /// Appends the trials of `later`, which must come after this summary's trials.
    pub fn merge(&mut self, later: &RunSummary) {
        self.trials += later.trials;
        self.events += later.events;
        self.first_truncated = match (self.first_truncated, later.first_truncated) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for (summary, other) in self.services.iter_mut().zip(&later.services) {
            summary.unavailability.merge(&other.unavailability);
            summary.downtime_per_year.merge(&other.downtime_per_year);
            summary
                .downtime_per_year_moments
                .merge(&other.downtime_per_year_moments);
            summary.outages_per_year.merge(&other.outages_per_year);
            for c in &other.cause_hours {
                add_cause_hours(&mut summary.cause_hours, &c.causes, c.hours);
            }
            for (sla, other) in summary.slas.iter_mut().zip(&other.slas) {
                sla.merge(other);
            }
            for (moments, other) in summary
                .requests_failed
                .iter_mut()
                .zip(&other.requests_failed)
            {
                moments.merge(other);
            }
            if let (Some(summary), Some(other)) = (&mut summary.durability, &other.durability) {
                summary.merge(other);
            }
        }
    }

    /// Whether every headline estimate — each service's unavailability, each SLA's
    /// breach probability and expected credit — has a 95 % interval whose half-width
    /// is at most `relative` × its value, or below an absolute floor for values near
    /// zero: 1e-7 of unavailability (about 3 s a year), 1e-4 of probability, 1e-3
    /// percentage points of credit.
    pub fn precise_to(&self, relative: f64) -> bool {
        let fine = |value: f64, (lo, hi): (f64, f64), floor: f64| {
            (hi - lo) / 2.0 <= (relative * value.abs()).max(floor)
        };
        self.services.iter().all(|service| {
            fine(
                service.unavailability.mean(),
                service.unavailability_ci(),
                1e-7,
            ) && service.slas.iter().all(|sla| {
                let bound = never_seen_bound(self.trials);
                fine(sla.breaches.estimate(), sla.breaches.ci(LEVEL), 1e-4)
                    && fine(
                        sla.credit_percent.mean(),
                        mean_ci(&sla.credit_percent, 100.0 * bound, 100.0),
                        1e-3,
                    )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_bands() {
        // 0 down: 100 % exactly; 1e-5 down: 99.999 %, in [99.99, 100); 0.0004: 99.96 %;
        // 0.001 down: exactly 99.9 %, in [99.9, 99.95); 0.2: 80 %, in [0, 95).
        assert_eq!(band_of(0.0), 0);
        assert_eq!(band_of(1e-5), 1);
        assert_eq!(band_of(0.0004), 2);
        assert_eq!(band_of(0.001), 3);
        assert_eq!(band_of(0.2), 7);
        assert_eq!(band_of(1.0), 7);
    }

    #[test]
    fn nothing_seen_still_has_an_interval() {
        // 1 - 0.05^(1/10000) = 1 - exp(ln 0.05 / 10000) = 1 - exp(-2.9957e-4)
        //   = 2.9953e-4: about 3 / n.
        assert!((never_seen_bound(10_000) - 2.9953e-4).abs() < 1e-8);
        assert!((never_seen_bound(1) - 0.95).abs() < 1e-12);
        let mut zeros = Moments::new();
        for _ in 0..10 {
            zeros.push(0.0);
        }
        assert_eq!(mean_ci(&zeros, 0.3, 1.0), (0.0, 0.3));
        // One trial says nothing about the spread: the whole range.
        let mut one = Moments::new();
        one.push(0.25);
        assert_eq!(mean_ci(&one, 0.3, 1.0), (0.0, 1.0));
    }
}
