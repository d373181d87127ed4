//! Rare data loss: the probability that a storage service loses some object group
//! within the horizon, when it is far too small for plain Monte Carlo to see.
//!
//! Two estimators, each unbiased, each with a 95 % interval over independent trials
//! and diagnostics that flag an answer not to be trusted:
//!
//! - [`importance`]: importance sampling by balanced failure biasing — failures that
//!   threaten data are made more likely, and each trial carries the likelihood ratio
//!   that undoes the change. It biases what destroys data by memoryless laws (disks,
//!   destroying domains) and leaves the rest to their own laws.
//! - [`splitting`]: multilevel splitting on the most pieces a group is missing at once.
//!   It works with any law, but cannot see risk that the number of pieces missing
//!   does not show (pieces crowded into fewer sites after a disaster).
//!
//! [`Method::Auto`] takes importance sampling when something that destroys the store's
//! data fails by a memoryless law, and splitting otherwise.

pub mod importance;
pub mod splitting;

use crate::world::{ServiceKind, World};
use serde::Serialize;

/// Which estimator to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Importance sampling when it applies, else splitting.
    Auto,
    Importance,
    Splitting,
}

/// What to aim for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Target {
    /// Stop when the 95 % interval's half-width is at most this fraction of the
    /// estimate (and enough trials have lost data).
    pub relative_error: f64,
    /// Root trials at most in splitting's main rounds.
    pub max_roots: u64,
    /// Trial paths at most, pilot included: for splitting, roots and their copies; for
    /// importance sampling, trials. A bound on the work whatever the scenario; reaching
    /// it is reported.
    pub max_paths: u64,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            relative_error: 0.1,
            max_roots: 50_000,
            max_paths: 100_000_000,
        }
    }
}

/// One level of the splitting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Level {
    /// Pieces missing at once in some group.
    pub missing: u32,
    /// Expected entries into the level per trial (for the level of data loss: the
    /// probability of loss).
    pub entries_per_trial: f64,
    /// Chance that an entry into the level below leads here before falling back.
    pub conditional: f64,
    /// Paths a path entering the level becomes.
    pub split: u32,
}

/// The estimate, and how far to trust it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub method: &'static str,
    /// Probability that some group of the store is lost within the horizon.
    pub probability: f64,
    /// 95 % interval.
    pub ci95: [f64; 2],
    /// Half-width of the interval over the estimate.
    pub relative_error: f64,
    /// Independent trials the estimate averages (splitting: root trials).
    pub roots: u64,
    /// Roots (trials) with some weight of data loss.
    pub roots_that_lost_data: u64,
    /// The largest share of the estimate carried by one root.
    pub largest_root_share: f64,
    /// (Σ weight)² / Σ weight²: how many roots the estimate effectively rests on.
    pub effective_roots: f64,
    /// The variance of the weights' sample variance, relative (below 0.1: the
    /// interval's width can be trusted).
    pub variance_of_variance: f64,
    /// Splitting's levels (empty for importance sampling).
    pub levels: Vec<Level>,
    /// Trial paths simulated (roots and copies), pilot included.
    pub paths: u64,
    pub pilot_rounds: u32,
    /// Whether no diagnostic fired.
    pub reliable: bool,
    pub warnings: Vec<String>,
    /// What else to know about how the estimate was made (not diagnostics).
    pub notes: Vec<String>,
}

/// Independent per-root weights of data loss, summed in root order (so that the sums
/// do not depend on threads).
#[derive(Debug, Clone, Default)]
struct Weights {
    roots: u64,
    sum: f64,
    sum_squares: f64,
    /// Σ y³ and Σ y⁴: for the variance of the variance.
    sum_cubes: f64,
    sum_fourths: f64,
    largest: f64,
    /// Roots with a positive weight.
    hits: u64,
}

impl Weights {
    fn add(&mut self, y: f64) {
        self.roots += 1;
        self.sum += y;
        self.sum_squares += y * y;
        self.sum_cubes += y * y * y;
        self.sum_fourths += y * y * y * y;
        self.largest = self.largest.max(y);
        if y > 0.0 {
            self.hits += 1;
        }
    }

    fn merge(&mut self, later: &Weights) {
        self.roots += later.roots;
        self.sum += later.sum;
        self.sum_squares += later.sum_squares;
        self.sum_cubes += later.sum_cubes;
        self.sum_fourths += later.sum_fourths;
        self.largest = self.largest.max(later.largest);
        self.hits += later.hits;
    }

    fn mean(&self) -> f64 {
        self.sum / self.roots.max(1) as f64
    }

    /// Half-width of the 95 % interval of the mean.
    fn half_width(&self) -> f64 {
        let n = self.roots as f64;
        if self.roots < 2 {
            return f64::INFINITY;
        }
        let variance = ((self.sum_squares - self.sum * self.sum / n) / (n - 1.0)).max(0.0);
        crate::stats::t_two_sided(0.95, n - 1.0) * (variance / n).sqrt()
    }

    /// The variance of the variance, `Σ(y − ȳ)⁴ / (Σ(y − ȳ)²)² − 1/n`: how far the
    /// sample variance, hence the interval, can be trusted (MCNP's statistical checks
    /// ask for less than 0.1). Heavy-tailed weights — a few large ones not yet seen —
    /// show here before they show in the mean.
    fn variance_of_variance(&self) -> f64 {
        let n = self.roots as f64;
        if self.roots < 2 {
            return f64::INFINITY;
        }
        let m = self.mean();
        let (s1, s2, s3, s4) = (self.sum, self.sum_squares, self.sum_cubes, self.sum_fourths);
        let second = s2 - 2.0 * m * s1 + n * m * m;
        let fourth = s4 - 4.0 * m * s3 + 6.0 * m * m * s2 - 4.0 * m * m * m * s1 + n * m.powi(4);
        if second <= 0.0 {
            // Every weight alike: no variance, and nothing to doubt about it.
            return 0.0;
        }
        (fourth / (second * second) - 1.0 / n).max(0.0)
    }

    /// Whether the interval is within `target` of the mean, on enough hits, with a
    /// variance that can be trusted.
    fn precise(&self, target: &Target) -> bool {
        let mean = self.mean();
        mean > 0.0
            && self.half_width() <= target.relative_error * mean
            && self.hits >= MIN_HITS
            && self.variance_of_variance() <= MAX_VOV
    }
}

/// Roots that lost data below which an estimate is flagged.
const MIN_HITS: u64 = 30;

/// The variance of the variance above which an estimate is flagged.
const MAX_VOV: f64 = 0.1;

/// The estimate from `weights`, with the diagnostics every method shares and the
/// method's own `warnings`.
fn estimate(
    method: &'static str,
    weights: &Weights,
    paths: u64,
    target: &Target,
    mut warnings: Vec<String>,
) -> Estimate {
    let mean = weights.mean();
    let half = weights.half_width();
    let relative_error = if mean > 0.0 {
        half / mean
    } else {
        f64::INFINITY
    };
    let share = if weights.sum > 0.0 {
        weights.largest / weights.sum
    } else {
        0.0
    };
    let effective = if weights.sum_squares > 0.0 {
        weights.sum * weights.sum / weights.sum_squares
    } else {
        0.0
    };
    let mut shared = Vec::new();
    if weights.hits < MIN_HITS {
        shared.push(format!(
            "only {} root trials reached data loss (want {MIN_HITS} or more)",
            weights.hits
        ));
    }
    let vov = weights.variance_of_variance();
    if weights.hits > 0 && vov > MAX_VOV {
        shared.push(format!(
            "the variance of the variance is {vov:.2} (want {MAX_VOV} or less): the \
             interval may be too narrow"
        ));
    }
    if share > 0.1 {
        shared.push(format!(
            "one root trial carries {:.0} % of the estimate",
            share * 100.0
        ));
    }
    if relative_error > target.relative_error {
        shared.push(format!(
            "relative error {:.0} % is above the target {:.0} %",
            relative_error * 100.0,
            target.relative_error * 100.0
        ));
    }
    if paths >= target.max_paths {
        shared.push(format!(
            "stopped at the budget of {} trial paths",
            target.max_paths
        ));
    }
    shared.append(&mut warnings);
    Estimate {
        method,
        probability: mean,
        // With no loss seen, the trials say nothing about how small the probability
        // is: the whole range.
        ci95: if weights.hits == 0 {
            [0.0, 1.0]
        } else {
            [(mean - half).max(0.0), (mean + half).min(1.0)]
        },
        relative_error,
        roots: weights.roots,
        roots_that_lost_data: weights.hits,
        largest_root_share: share,
        effective_roots: effective,
        variance_of_variance: vov,
        levels: Vec::new(),
        paths,
        pilot_rounds: 0,
        reliable: shared.is_empty(),
        warnings: shared,
        notes: Vec::new(),
    }
}

/// Estimates the probability that service `service` (a storage service) loses some
/// object group within the horizon, by `method`. `Err` names why it cannot.
pub fn estimate_loss(
    world: &World,
    service: usize,
    seed: u64,
    target: Target,
    method: Method,
) -> Result<Estimate, String> {
    let ServiceKind::Storage { store: spec, .. } = &world.services[service].kind else {
        return Err(format!("service {service} stores no data"));
    };
    let store = world.services[..service]
        .iter()
        .filter(|s| matches!(s.kind, ServiceKind::Storage { .. }))
        .count();
    // Data loss: one piece more missing than the redundancy tolerates.
    let loss = spec.redundancy.tolerated() + 1;
    let biasing = importance::Biasing::new(world, store);
    let method = match method {
        Method::Auto if biasing.applies() => Method::Importance,
        Method::Auto => Method::Splitting,
        chosen => chosen,
    };
    Ok(match method {
        Method::Importance => importance::estimate(world, &biasing, loss, seed, target),
        _ => splitting::estimate(world, store, loss, seed, target),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variance_of_the_variance_follows_its_definition() {
        // Weights 0, 0, 0, 1: mean 1/4, deviations -1/4 (three times) and 3/4.
        // Σd² = 3/16 + 9/16 = 3/4; Σd⁴ = 3/256 + 81/256 = 84/256 = 0.328125.
        // VOV = 0.328125 / 0.5625 - 1/4 = 0.583333 - 0.25 = 1/3.
        let mut weights = Weights::default();
        for y in [0.0, 0.0, 0.0, 1.0] {
            weights.add(y);
        }
        assert!((weights.variance_of_variance() - 1.0 / 3.0).abs() < 1e-12);
        // The same weights scaled by 1e-14 (probabilities that small): the same VOV,
        // and merging two halves in order gives the same sums.
        let mut scaled = Weights::default();
        let mut later = Weights::default();
        for y in [0.0, 0.0] {
            scaled.add(y * 1e-14);
        }
        for y in [0.0, 1.0] {
            later.add(y * 1e-14);
        }
        scaled.merge(&later);
        assert!((scaled.variance_of_variance() - 1.0 / 3.0).abs() < 1e-9);
        // Equal weights (every trial lost data, unbiased): no variance, nothing to doubt.
        let mut equal = Weights::default();
        equal.add(1.0);
        equal.add(1.0);
        assert_eq!(equal.variance_of_variance(), 0.0);
    }
}
