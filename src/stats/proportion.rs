//! Confidence intervals for proportions: plain Wilson score intervals and a
//! streaming, mergeable cluster-robust ratio estimator.

use serde::{Deserialize, Serialize};

use super::critical::z_two_sided;

/// Wilson score interval for a binomial proportion `successes / n` at
/// confidence `level` (e.g. `0.95`).
///
/// `n` may be a non-integer *effective* sample size (see
/// [`ClusteredProportion::ci`]); `successes` should lie in `[0, n]` (checked
/// in debug builds, clamped otherwise). If `n <= 0` (no information) the
/// result is `(0.0, 1.0)`. The bounds are clamped to `[0, 1]`.
///
/// With `p = successes / n` and `z = Φ⁻¹((1 + level) / 2)`:
/// `centre = (p + z²/2n) / (1 + z²/n)`,
/// `half = z / (1 + z²/n) · √(p(1−p)/n + z²/4n²)`.
///
/// Panics if `level` is not in `(0, 1)`.
pub fn wilson(successes: f64, n: f64, level: f64) -> (f64, f64) {
    // NaN n also means "no information".
    if n.is_nan() || n <= 0.0 {
        let _ = z_two_sided(level); // still validate the level
        return (0.0, 1.0);
    }
    debug_assert!(
        (0.0..=n).contains(&successes),
        "wilson: successes {successes} outside [0, {n}]"
    );
    wilson_p((successes / n).clamp(0.0, 1.0), n, level)
}

/// Wilson interval from the proportion itself (`n > 0`).
fn wilson_p(p: f64, n: f64, level: f64) -> (f64, f64) {
    let z = z_two_sided(level);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let lo = (centre - half).clamp(0.0, 1.0);
    let hi = (centre + half).clamp(0.0, 1.0);
    // At p = 0 (resp. 1) the lower (upper) bound is 0 (1) mathematically;
    // pin it so rounding cannot leave it at 1e-17.
    let lo = if p == 0.0 { 0.0 } else { lo };
    let hi = if p == 1.0 { 1.0 } else { hi };
    (lo, hi)
}

/// Streaming, mergeable estimate of a proportion whose units come in
/// *clusters* that may be correlated, with a cluster-robust confidence
/// interval.
///
/// In the simulator a cluster is one Monte Carlo trial: `units` is e.g. the
/// number of SLA windows in the trial and `successes` the number of those
/// windows that breached. Windows of one trial share the trial's failures
/// (a long outage breaches several consecutive windows; a trial with a bad
/// draw breaches many), so treating the `Σ units` windows as independent
/// Bernoulli draws — a plain Wilson interval over all windows — understates
/// the uncertainty, sometimes grossly. The independent replicates are the
/// trials, not the windows.
///
/// # Method
///
/// The point estimate is the ratio estimator `p̂ = Σ s_c / Σ u_c`.
/// Its variance is estimated from between-cluster variation by
/// linearisation (the usual with-replacement PSU estimator of survey
/// sampling):
///
/// `v = n/(n−1) · Σ_c (s_c − p̂·u_c)² / (Σ_c u_c)²`, with `n` clusters.
///
/// Following Korn & Graubard (1998, "Confidence intervals for proportions
/// with small expected number of positive counts estimated from survey
/// data", *Survey Methodology* 24(2)), this is turned into an effective
/// sample size `n_eff = p̂(1−p̂)/v` — the number of independent Bernoulli
/// draws that would give the same variance — and the interval is the Wilson
/// interval at `p̂` with `n_eff`. Using Wilson rather than `p̂ ± z√v` keeps
/// the interval inside `[0, 1]` and well-behaved when `p̂` is near 0 or 1,
/// which is exactly the regime of availability targets.
///
/// `n_eff` is clamped to `[clusters, Σ units]`: it never claims more
/// information than fully independent units, and never less than one draw
/// per trial (with equal cluster sizes the estimator can only reach
/// `clusters − 1`, when units within a trial are perfectly correlated).
/// Special cases:
/// * `p̂ ∈ {0, 1}`: `v` is 0 but says nothing about correlation, so we are
///   conservative and take `n_eff = clusters` (the trial is the unit);
/// * `v == 0` with `0 < p̂ < 1` (every cluster has exactly the ratio `p̂`):
///   `n_eff = Σ units`;
/// * fewer than two clusters with `0 < p̂ < 1`: `v` is not estimable,
///   `n_eff = clusters`;
/// * no units at all: `estimate() == 0` and `ci() == (0, 1)`.
///
/// Note that clamping `n_eff` up to `clusters` can make the interval slightly
/// narrower than the linearised variance implies when cluster sizes are very
/// unequal; with the equal-sized trials of the simulator the effect is at
/// most a factor `√(n/(n−1))` on the width.
///
/// # Determinism
///
/// The state is six integer sums (`Σ1`, `Σu`, `Σs`, `Σs²`, `Σsu`, `Σu²`),
/// so [`merge`](Self::merge) is exact and order-independent. Floating point
/// is only used in [`ci`](Self::ci), as a pure function of those integers;
/// the squared residual sum is computed exactly in `u128` whenever it fits
/// (always, for realistic simulation sizes) and otherwise from `f64` sums.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClusteredProportion {
    clusters: u64,
    units: u64,
    successes: u64,
    sum_s2: u128,
    sum_su: u128,
    sum_u2: u128,
}

impl ClusteredProportion {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one cluster (one trial) with `units` units of which `successes`
    /// are successes. Panics if `successes > units`. A cluster with zero
    /// units is allowed (it counts as a cluster contributing nothing).
    pub fn push(&mut self, successes: u64, units: u64) {
        assert!(
            successes <= units,
            "ClusteredProportion::push: successes {successes} > units {units}"
        );
        let (s, u) = (u128::from(successes), u128::from(units));
        self.clusters += 1;
        self.units += units;
        self.successes += successes;
        self.sum_s2 += s * s;
        self.sum_su += s * u;
        self.sum_u2 += u * u;
    }

    /// Folds `other` into `self` (exact integer addition).
    pub fn merge(&mut self, other: &ClusteredProportion) {
        self.clusters += other.clusters;
        self.units += other.units;
        self.successes += other.successes;
        self.sum_s2 += other.sum_s2;
        self.sum_su += other.sum_su;
        self.sum_u2 += other.sum_u2;
    }

    /// Number of clusters (trials) pushed.
    pub fn clusters(&self) -> u64 {
        self.clusters
    }

    /// Total units `Σ u_c`.
    pub fn units(&self) -> u64 {
        self.units
    }

    /// Total successes `Σ s_c`.
    pub fn successes(&self) -> u64 {
        self.successes
    }

    /// Ratio estimate `Σ s_c / Σ u_c` (0 when there are no units).
    pub fn estimate(&self) -> f64 {
        if self.units == 0 {
            0.0
        } else {
            self.successes as f64 / self.units as f64
        }
    }

    /// `Σ_c (s_c − p̂·u_c)² · U²` with `U = Σ u_c`, exactly, if it fits in
    /// `u128`: `U²·Σs² − 2·S·U·Σsu + S²·Σu²` (non-negative by construction).
    fn scaled_residual_ss_exact(&self) -> Option<u128> {
        let s = u128::from(self.successes);
        let u = u128::from(self.units);
        let u2 = u.checked_mul(u)?;
        let pos = u2
            .checked_mul(self.sum_s2)?
            .checked_add(s.checked_mul(s)?.checked_mul(self.sum_u2)?)?;
        let neg = s.checked_mul(u)?.checked_mul(self.sum_su)?.checked_mul(2)?;
        Some(pos.saturating_sub(neg))
    }

    /// Linearised variance of the ratio estimator,
    /// `n/(n−1) · Σ (s_c − p̂ u_c)² / U²`; requires `clusters >= 2`, `U > 0`.
    fn ratio_variance(&self) -> f64 {
        let n = self.clusters as f64;
        let uf = self.units as f64;
        let rss = match self.scaled_residual_ss_exact() {
            Some(scaled) => scaled as f64 / (uf * uf),
            None => {
                let p = self.estimate();
                let rss =
                    self.sum_s2 as f64 - 2.0 * p * self.sum_su as f64 + p * p * self.sum_u2 as f64;
                rss.max(0.0)
            }
        };
        n / (n - 1.0) * rss / (uf * uf)
    }

    /// Effective number of independent units behind [`estimate`]
    /// (see the type-level docs); 0 when there are no units.
    ///
    /// [`estimate`]: Self::estimate
    pub fn effective_units(&self) -> f64 {
        if self.units == 0 {
            return 0.0;
        }
        let units = self.units as f64;
        let floor = self.clusters.min(self.units) as f64;
        if self.successes == 0 || self.successes == self.units || self.clusters < 2 {
            return floor;
        }
        let v = self.ratio_variance();
        if v <= 0.0 {
            return units;
        }
        let p = self.estimate();
        (p * (1.0 - p) / v).clamp(floor, units)
    }

    /// Cluster-robust (Korn–Graubard) Wilson interval for the proportion at
    /// confidence `level`; `(0, 1)` when there are no units. Panics if
    /// `level` is not in `(0, 1)`.
    pub fn ci(&self, level: f64) -> (f64, f64) {
        let n_eff = self.effective_units();
        if n_eff <= 0.0 {
            return wilson(0.0, 0.0, level);
        }
        wilson_p(self.estimate(), n_eff, level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    #[test]
    fn wilson_textbook_values() {
        // z = 1.959964, z² = 3.841459.
        // 0 of 10: p = 0, upper = 2·centre = (z²/n)/(1 + z²/n)
        //   = 0.3841459 / 1.3841459 = 0.2775328.
        let (lo, hi) = wilson(0.0, 10.0, 0.95);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775328).abs() < 1e-6, "hi = {hi}");
        // 5 of 10: centre = (0.5 + 0.1920729)/1.3841459 = 0.5;
        //   half = z/1.3841459 · √(0.025 + 3.841459/400)
        //        = 1.4160094 · √0.0346036 = 1.4160094 · 0.1860205 = 0.2634069
        //   ⇒ (0.2365931, 0.7634069).
        let (lo, hi) = wilson(5.0, 10.0, 0.95);
        assert!((lo - 0.2365931).abs() < 1e-6, "lo = {lo}");
        assert!((hi - 0.7634069).abs() < 1e-6, "hi = {hi}");
        // 10 of 10 mirrors 0 of 10.
        let (lo, hi) = wilson(10.0, 10.0, 0.95);
        assert!((lo - (1.0 - 0.2775328)).abs() < 1e-6);
        assert_eq!(hi, 1.0);
    }

    #[test]
    fn wilson_degenerate_n() {
        assert_eq!(wilson(0.0, 0.0, 0.95), (0.0, 1.0));
        assert_eq!(wilson(0.0, -3.0, 0.95), (0.0, 1.0));
        // Non-integer effective n is accepted: 2.5 of 12.5 behaves like p = 0.2.
        let (lo, hi) = wilson(2.5, 12.5, 0.95);
        assert!(0.0 < lo && lo < 0.2 && 0.2 < hi && hi < 1.0);
    }

    #[test]
    fn empty_clustered() {
        let c = ClusteredProportion::new();
        assert_eq!(c.estimate(), 0.0);
        assert_eq!(c.ci(0.95), (0.0, 1.0));
    }

    #[test]
    fn one_unit_clusters_reduce_to_wilson() {
        // With u_c = 1: Σ(s_c − p̂)² = n·p̂(1−p̂), so v = p̂(1−p̂)/(n−1),
        // n_eff = n − 1, clamped up to n = Σu ⇒ exactly plain Wilson.
        for (succ, n) in [(0u64, 50u64), (37, 1000), (3, 7), (50, 50)] {
            let mut c = ClusteredProportion::new();
            for i in 0..n {
                c.push(u64::from(i < succ), 1);
            }
            assert_eq!(c.effective_units(), n as f64);
            assert_eq!(c.ci(0.95), wilson(succ as f64, n as f64, 0.95));
        }
        // 37 of 1000 at 95 % (same formula as above): (0.0269612, 0.0505824).
        let mut c = ClusteredProportion::new();
        (0..1000).for_each(|i| c.push(u64::from(i < 37), 1));
        let (lo, hi) = c.ci(0.95);
        assert!((lo - 0.0269612).abs() < 1e-6 && (hi - 0.0505824).abs() < 1e-6);
    }

    #[test]
    fn merge_is_exact_and_order_free() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let data: Vec<(u64, u64)> = (0..1_000)
            .map(|_| {
                let u = rng.random_range(1..20u64);
                (rng.random_range(0..=u), u)
            })
            .collect();
        let mut all = ClusteredProportion::new();
        data.iter().for_each(|&(s, u)| all.push(s, u));
        let mut a = ClusteredProportion::new();
        let mut b = ClusteredProportion::new();
        data[..400].iter().for_each(|&(s, u)| a.push(s, u));
        data[400..].iter().for_each(|&(s, u)| b.push(s, u));
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(ba, all);
        assert_eq!(ab.ci(0.95), all.ci(0.95));
    }

    #[test]
    fn exact_and_float_residuals_agree() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut c = ClusteredProportion::new();
        for _ in 0..500 {
            let u = rng.random_range(5..15u64);
            c.push(rng.random_range(0..=u), u);
        }
        let uf = c.units as f64;
        let exact = c.scaled_residual_ss_exact().unwrap() as f64 / (uf * uf);
        let p = c.estimate();
        let float = c.sum_s2 as f64 - 2.0 * p * c.sum_su as f64 + p * p * c.sum_u2 as f64;
        assert!((exact - float).abs() <= 1e-9 * exact);
    }

    #[test]
    fn homogeneous_clusters_use_all_units() {
        // Every cluster has exactly 1 success in 4 ⇒ residuals all 0 ⇒ v = 0
        // ⇒ n_eff = Σu = 40.
        let mut c = ClusteredProportion::new();
        (0..10).for_each(|_| c.push(1, 4));
        assert_eq!(c.effective_units(), 40.0);
        assert_eq!(c.ci(0.95), wilson(10.0, 40.0, 0.95));
        // All-zero ⇒ conservative: n_eff = clusters = 10.
        let mut z = ClusteredProportion::new();
        (0..10).for_each(|_| z.push(0, 4));
        assert_eq!(z.effective_units(), 10.0);
        assert_eq!(z.ci(0.95), wilson(0.0, 10.0, 0.95));
    }

    /// Fraction of 400 seeded replicates whose interval contains p = 0.1,
    /// for the clustered CI and for naive Wilson over all units, where each
    /// of 200 clusters has 12 units that all share one Bernoulli(0.1) draw.
    fn coverage_perfectly_correlated() -> (f64, f64) {
        const P: f64 = 0.1;
        const CLUSTERS: usize = 200;
        const UNITS: u64 = 12;
        const REPS: usize = 400;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x005e_edc0_ffee);
        let (mut hit_clustered, mut hit_naive) = (0usize, 0usize);
        for _ in 0..REPS {
            let mut c = ClusteredProportion::new();
            for _ in 0..CLUSTERS {
                let s = if rng.random_bool(P) { UNITS } else { 0 };
                c.push(s, UNITS);
            }
            let (lo, hi) = c.ci(0.95);
            hit_clustered += usize::from(lo <= P && P <= hi);
            let (lo, hi) = wilson(c.successes() as f64, c.units() as f64, 0.95);
            hit_naive += usize::from(lo <= P && P <= hi);
        }
        (
            hit_clustered as f64 / REPS as f64,
            hit_naive as f64 / REPS as f64,
        )
    }

    #[test]
    fn clustered_ci_covers_under_intra_cluster_correlation() {
        // Each trial is one Bernoulli(0.1) draw replicated 12×, so only 200
        // independent draws exist: sd(p̂) = √(0.09/200) = 0.0212. The
        // clustered CI uses n_eff ≈ 199 → clamped to 200 ⇒ ~95 % coverage.
        // Naive Wilson uses n = 2400: half-width ≈ 1.96·√(0.09/2400) = 0.0120
        // = 0.566·sd(p̂) ⇒ coverage ≈ P(|Z| < 0.566) ≈ 0.43 (√(1/12) of the
        // needed width). With this seed: clustered 0.9425, naive 0.435.
        let (clustered, naive) = coverage_perfectly_correlated();
        assert!(
            (0.90..=0.99).contains(&clustered),
            "clustered coverage {clustered}"
        );
        assert!(naive < 0.8, "naive coverage {naive}");
        // Deterministic: the same seed gives the same numbers.
        assert_eq!(coverage_perfectly_correlated(), (clustered, naive));
    }

    #[test]
    fn independent_units_keep_most_information() {
        // Units independent within clusters ⇒ design effect ≈ 1 ⇒ n_eff ≈ Σu.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let mut c = ClusteredProportion::new();
        for _ in 0..200 {
            let s = (0..12).filter(|_| rng.random_bool(0.1)).count() as u64;
            c.push(s, 12);
        }
        let n_eff = c.effective_units();
        assert!(n_eff > 0.7 * 2400.0 && n_eff <= 2400.0, "n_eff = {n_eff}");
    }
}
