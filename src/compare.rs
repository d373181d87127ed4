//! Comparing designs on common random numbers.
//!
//! Every design runs the same trials with the same seed. A component draws from a
//! stream keyed by its name (see [`crate::streams`]), so wherever two designs share a
//! component or a domain, it fails and is repaired at the same moments in both: the
//! difference between two designs in a trial is the difference the design makes, and
//! the per-trial differences have a much smaller spread than either design's results.
//! Each difference to the first design is estimated with a paired interval (Student t
//! over the trials' differences) and called significant when that interval excludes 0.
//!
//! Services are matched by name, and SLAs by name within a matched service.

use crate::montecarlo::Merge;
use crate::stats::Moments;
use crate::summary::{LEVEL, RunSummary};
use crate::trial::TrialOutcome;
use crate::world::World;
use serde::Serialize;

/// Paired differences (this design minus the first) for one SLA.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaDifference {
    /// Index of the SLA in this design's service.
    pub sla: usize,
    /// Share of windows breached, per trial.
    pub breach_fraction: Moments,
    /// Credit in monthly bills per year, per trial.
    pub credit_bills_per_year: Moments,
}

/// Paired differences (this design minus the first) for one service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDifference {
    /// Index of the service in this design.
    pub service: usize,
    /// Fraction of the horizon down, per trial.
    pub unavailability: Moments,
    /// Whether some object group was lost (1) or not (0), per trial: storage only.
    pub data_loss: Moments,
    /// Per SLA of the first design's service: the matching SLA's differences, if any.
    pub slas: Vec<Option<SlaDifference>>,
}

/// What a comparison keeps of all trials: each design's summary, and the paired
/// differences of every design after the first to the first.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonSummary {
    pub designs: Vec<RunSummary>,
    /// `differences[d - 1][s]`: design `d` against the first design's service `s`.
    pub differences: Vec<Vec<Option<ServiceDifference>>>,
}

impl ComparisonSummary {
    pub fn new(worlds: &[World]) -> Self {
        let first = &worlds[0];
        let differences = worlds[1..]
            .iter()
            .map(|world| {
                first
                    .services
                    .iter()
                    .map(|base| {
                        let service = world.services.iter().position(|s| s.name == base.name)?;
                        let slas = base
                            .slas
                            .iter()
                            .map(|base_sla| {
                                let sla = world.services[service]
                                    .slas
                                    .iter()
                                    .position(|s| s.name == base_sla.name)?;
                                Some(SlaDifference {
                                    sla,
                                    breach_fraction: Moments::new(),
                                    credit_bills_per_year: Moments::new(),
                                })
                            })
                            .collect();
                        Some(ServiceDifference {
                            service,
                            unavailability: Moments::new(),
                            data_loss: Moments::new(),
                            slas,
                        })
                    })
                    .collect()
            })
            .collect();
        ComparisonSummary {
            designs: worlds.iter().map(RunSummary::new).collect(),
            differences,
        }
    }

    /// Adds one trial: the outcome of each design, in order, for the same trial index.
    pub fn push(&mut self, outcomes: &[&TrialOutcome]) {
        for (summary, outcome) in self.designs.iter_mut().zip(outcomes) {
            summary.push(outcome);
        }
        let base = outcomes[0];
        let horizon = self.designs[0].horizon;
        let years = self.designs[0].years();
        let fraction = |breached: u32, units: u32| f64::from(breached) / f64::from(units.max(1));
        for (differences, outcome) in self.differences.iter_mut().zip(&outcomes[1..]) {
            for (s, difference) in differences.iter_mut().enumerate() {
                let Some(difference) = difference else {
                    continue;
                };
                let (a, b) = (&base.services[s], &outcome.services[difference.service]);
                difference
                    .unavailability
                    .push((b.downtime - a.downtime) / horizon);
                if let (Some(x), Some(y)) = (&a.durability, &b.durability) {
                    let lost = |d: &crate::durability::DurabilityOutcome| {
                        f64::from(u8::from(d.groups_lost > 0))
                    };
                    difference.data_loss.push(lost(y) - lost(x));
                }
                for (k, sla) in difference.slas.iter_mut().enumerate() {
                    let Some(sla) = sla else {
                        continue;
                    };
                    let (x, y) = (&a.slas[k], &b.slas[sla.sla]);
                    sla.breach_fraction
                        .push(fraction(y.breached, y.units) - fraction(x.breached, x.units));
                    sla.credit_bills_per_year
                        .push((y.credit_bills - x.credit_bills) / years);
                }
            }
        }
    }
}

impl Merge for ComparisonSummary {
    fn merge(&mut self, later: &Self) {
        for (summary, other) in self.designs.iter_mut().zip(&later.designs) {
            summary.merge(other);
        }
        for (design, other) in self.differences.iter_mut().zip(&later.differences) {
            for (service, other) in design.iter_mut().zip(other) {
                let (Some(service), Some(other)) = (service, other) else {
                    continue;
                };
                service.unavailability.merge(&other.unavailability);
                service.data_loss.merge(&other.data_loss);
                for (sla, other) in service.slas.iter_mut().zip(&other.slas) {
                    if let (Some(sla), Some(other)) = (sla, other) {
                        sla.breach_fraction.merge(&other.breach_fraction);
                        sla.credit_bills_per_year
                            .merge(&other.credit_bills_per_year);
                    }
                }
            }
        }
    }
}

/// A paired difference: its mean, 95 % interval, and whether the interval excludes 0.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Difference {
    pub mean: f64,
    pub ci95: [f64; 2],
    pub significant: bool,
}

impl Difference {
    pub fn of(moments: &Moments, scale: f64) -> Difference {
        let (lo, hi) = moments.mean_ci(LEVEL);
        let (lo, hi) = if scale < 0.0 {
            (hi * scale, lo * scale)
        } else {
            (lo * scale, hi * scale)
        };
        Difference {
            mean: moments.mean() * scale,
            ci95: [lo, hi],
            significant: moments.count() >= 2 && (lo > 0.0 || hi < 0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_significant_only_when_the_interval_excludes_zero() {
        // Differences 1, 2, 3: mean 2, sd 1, t(0.975, 2) = 4.303: 2 ± 2.484, [-0.48,
        // 4.48]: not significant. 1.9, 2, 2.1: 2 ± 0.248: significant.
        let mut wide = Moments::new();
        let mut narrow = Moments::new();
        for (w, n) in [(1.0, 1.9), (2.0, 2.0), (3.0, 2.1)] {
            wide.push(w);
            narrow.push(n);
        }
        assert!(!Difference::of(&wide, 1.0).significant);
        let d = Difference::of(&narrow, 1.0);
        assert!(d.significant);
        assert!((d.ci95[0] - 1.7516).abs() < 1e-3);
        // Scaling by -1 (availability from unavailability) flips the interval.
        let flipped = Difference::of(&narrow, -1.0);
        assert_eq!(flipped.mean, -2.0);
        assert!(flipped.ci95[0] < flipped.ci95[1]);
    }
}
