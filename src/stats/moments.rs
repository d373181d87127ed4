//! Streaming mean / variance / extrema with a mergeable state.

use serde::{Deserialize, Serialize};

use super::critical::t_two_sided;

/// Running count, mean, sum of squared deviations (`m2`), min and max.
///
/// Values are added with Welford's update ([`Moments::push`]) and partial
/// summaries are combined with the parallel update of Chan, Golub & LeVeque
/// (1979) ([`Moments::merge`]). Memory is constant.
///
/// Determinism: every operation is a fixed sequence of IEEE-754 operations,
/// so the same pushes and merges in the same order give the same bits.
/// Merging in a *different* order (or a different chunking) generally changes
/// the last few bits of `mean` and `m2`; `count`, `min` and `max` are exact
/// and order-independent.
///
/// An empty summary has `count() == 0`, `mean() == 0`, `variance() == 0`,
/// `min() == +∞` and `max() == −∞`. Serialised with each `f64` as its bit pattern,
/// so that a summary read back from a file is exactly the one written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    n: u64,
    #[serde(with = "super::bits")]
    mean: f64,
    #[serde(with = "super::bits")]
    m2: f64,
    #[serde(with = "super::bits")]
    min: f64,
    #[serde(with = "super::bits")]
    max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Self::new()
    }
}

impl Moments {
    /// An empty summary.
    pub fn new() -> Self {
        Self {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    /// Adds one observation (must be finite; checked in debug builds).
    pub fn push(&mut self, x: f64) {
        debug_assert!(x.is_finite(), "Moments::push: non-finite value {x}");
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Folds `other` into `self` (Chan et al. parallel update):
    /// `n = na + nb`, `δ = mean_b − mean_a`, `mean = mean_a + δ·nb/n`,
    /// `m2 = m2_a + m2_b + δ²·na·nb/n`.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let na = self.n as f64;
        let nb = other.n as f64;
        let n = self.n + other.n;
        let nf = n as f64;
        let delta = other.mean - self.mean;
        self.mean += delta * (nb / nf);
        self.m2 += other.m2 + delta * delta * (na * nb / nf);
        self.n = n;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Arithmetic mean (0 when empty).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Sample variance `m2 / (n − 1)`; 0 when `n < 2`.
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            // m2 is a sum of squares, but rounding in merges can leave a tiny
            // negative value when all observations are equal.
            (self.m2 / (self.n - 1) as f64).max(0.0)
        }
    }

    /// Sample standard deviation; 0 when `n < 2`.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Standard error of the mean `s / √n`; 0 when `n < 2`.
    pub fn std_error(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.variance() / self.n as f64).sqrt()
        }
    }

    /// Smallest observation (+∞ when empty).
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Largest observation (−∞ when empty).
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Student-t confidence interval for the mean:
    /// `mean ± t_{(1+level)/2, n−1} · s/√n`. Returns `(mean, mean)` when
    /// `n < 2`. `level` must be in `(0, 1)` (panics otherwise).
    ///
    /// This relies on the CLT for the sample mean; for heavy-tailed or very
    /// skewed data with few observations it can under-cover.
    pub fn mean_ci(&self, level: f64) -> (f64, f64) {
        if self.n < 2 {
            return (self.mean, self.mean);
        }
        let half = t_two_sided(level, (self.n - 1) as f64) * self.std_error();
        (self.mean - half, self.mean + half)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn rel_close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs())
    }

    #[test]
    fn empty_and_single() {
        let m = Moments::new();
        assert_eq!(m.count(), 0);
        assert_eq!(m.mean(), 0.0);
        assert_eq!(m.variance(), 0.0);
        assert_eq!(m.mean_ci(0.95), (0.0, 0.0));
        let mut m = Moments::new();
        m.push(3.5);
        assert_eq!(m.mean(), 3.5);
        assert_eq!((m.min(), m.max()), (3.5, 3.5));
        assert_eq!(m.mean_ci(0.95), (3.5, 3.5));
    }

    #[test]
    fn textbook_variance() {
        // [2,4,4,4,5,5,7,9]: mean = 40/8 = 5; squared deviations
        // 9+1+1+1+0+0+4+16 = 32; sample variance 32/(8−1) = 32/7.
        let mut m = Moments::new();
        for x in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.push(x);
        }
        assert_eq!(m.count(), 8);
        assert!((m.mean() - 5.0).abs() < 1e-15);
        assert!((m.variance() - 32.0 / 7.0).abs() < 1e-14);
        assert_eq!((m.min(), m.max()), (2.0, 9.0));
    }

    #[test]
    fn t_interval_small_sample() {
        // [1,2,3,4,5]: mean 3, s² = (4+1+0+1+4)/4 = 2.5, s/√n = √(2.5/5) =
        // √0.5 = 0.70710678; t_{0.975,4} = 2.776445 ⇒ half-width
        // 2.776445 · 0.70710678 = 1.963243 ⇒ (1.036757, 4.963243).
        let mut m = Moments::new();
        for x in [1.0, 2.0, 3.0, 4.0, 5.0] {
            m.push(x);
        }
        let (lo, hi) = m.mean_ci(0.95);
        assert!((lo - 1.036757).abs() < 2e-6, "lo = {lo}");
        assert!((hi - 4.963243).abs() < 2e-6, "hi = {hi}");
    }

    #[test]
    fn merge_of_halves_matches_single_pass() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let xs: Vec<f64> = (0..10_001)
            .map(|_| 1e3 + rng.random::<f64>() * 50.0)
            .collect();
        let mut all = Moments::new();
        xs.iter().for_each(|&x| all.push(x));
        let (a, b) = xs.split_at(3_333);
        let mut left = Moments::new();
        a.iter().for_each(|&x| left.push(x));
        let mut right = Moments::new();
        b.iter().for_each(|&x| right.push(x));
        let mut merged = left.clone();
        merged.merge(&right);
        assert_eq!(merged.count(), all.count());
        assert_eq!((merged.min(), merged.max()), (all.min(), all.max()));
        // Same data, different operation order: equal to ~1e-12 relative.
        assert!(rel_close(merged.mean(), all.mean(), 1e-12));
        assert!(rel_close(merged.variance(), all.variance(), 1e-12));
        // Merging with empty on either side is the identity.
        let mut e = Moments::new();
        e.merge(&left);
        assert_eq!(e, left);
        let mut l2 = left.clone();
        l2.merge(&Moments::new());
        assert_eq!(l2, left);
    }

    #[test]
    fn fixed_order_merge_is_bit_identical() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let xs: Vec<f64> = (0..5_000).map(|_| rng.random::<f64>()).collect();
        let run = || {
            let mut acc = Moments::new();
            for chunk in xs.chunks(317) {
                let mut c = Moments::new();
                chunk.iter().for_each(|&x| c.push(x));
                acc.merge(&c);
            }
            acc
        };
        let (a, b) = (run(), run());
        assert_eq!(a.mean().to_bits(), b.mean().to_bits());
        assert_eq!(a.variance().to_bits(), b.variance().to_bits());
        assert_eq!(a, b);
    }
}
