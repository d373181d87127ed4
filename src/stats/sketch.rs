//! Fixed-layout, mergeable quantile sketch for non-negative values.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Relative accuracy α of [`QuantileSketch`].
const ALPHA: f64 = 0.005;
/// Bucket growth factor γ = (1 + α) / (1 − α).
const GAMMA: f64 = (1.0 + ALPHA) / (1.0 - ALPHA);
/// Approximate 1 / ln γ, only used for a first guess of the bucket index
/// (the exact index is decided by comparisons against [`UPPER`]).
const INV_LN_GAMMA: f64 = 99.999_166_661_112_81;
/// Lowest bucket index: ⌈log_γ 1e-9⌉, the bucket containing 1e-9.
const MIN_INDEX: i32 = -2072;
/// Highest bucket index: ⌈log_γ 1e7⌉, the bucket containing 1e7.
const MAX_INDEX: i32 = 1612;
/// Number of buckets.
const NUM_BUCKETS: usize = (MAX_INDEX - MIN_INDEX + 1) as usize;

/// Upper bucket boundaries: `UPPER[k] = γ^(MIN_INDEX + k)`.
///
/// Built at compile time from `γ^0 = 1` by repeated IEEE multiplication and
/// division (exactly-rounded operations), so the layout — and therefore the
/// bucket chosen for any value — is identical on every platform and build,
/// independent of the platform's `ln`/`exp`. The accumulated rounding is
/// ≲ 2000 ulps ≈ 3e-13 relative, negligible against α.
static UPPER: [f64; NUM_BUCKETS] = upper_boundaries();

const fn upper_boundaries() -> [f64; NUM_BUCKETS] {
    let mut b = [0.0; NUM_BUCKETS];
    let one = (-MIN_INDEX) as usize;
    b[one] = 1.0;
    let mut k = one + 1;
    while k < NUM_BUCKETS {
        b[k] = b[k - 1] * GAMMA;
        k += 1;
    }
    let mut k = one;
    while k > 0 {
        b[k - 1] = b[k] / GAMMA;
        k -= 1;
    }
    b
}

/// Position in `UPPER` / `counts` of the bucket holding `x > 0`: the first
/// `k` with `x <= UPPER[k]`, clamped to the covered range.
fn bucket_of(x: f64) -> usize {
    debug_assert!(x > 0.0);
    let last = NUM_BUCKETS - 1;
    // First guess from ln (saturating float→int cast), then exact fix-up.
    let guess = (x.ln() * INV_LN_GAMMA).ceil() - f64::from(MIN_INDEX);
    let mut k = (guess.max(0.0) as usize).min(last);
    while k < last && x > UPPER[k] {
        k += 1;
    }
    while k > 0 && x <= UPPER[k - 1] {
        k -= 1;
    }
    k
}

/// Representative value of bucket `k`: `2γ^i / (γ + 1)`, which is within
/// relative error α of every value in `(γ^(i−1), γ^i]`.
fn representative(k: usize) -> f64 {
    2.0 * UPPER[k] / (GAMMA + 1.0)
}

/// 1-based nearest rank `⌈q·n⌉`, clamped to `[1, n]`. `q·n` is snapped to
/// the nearest integer when within a few ulps of it, so that e.g.
/// `q = 0.07, n = 100` gives rank 7 and not 8 because of `0.07`'s binary
/// representation.
fn nearest_rank(q: f64, n: u64) -> u64 {
    let t = q * n as f64;
    let r = t.round();
    let rank = if (t - r).abs() <= 4.0 * f64::EPSILON * t {
        r
    } else {
        t.ceil()
    };
    (rank as u64).clamp(1, n)
}

/// Streaming quantile sketch for non-negative values with relative accuracy
/// α = 0.005 (DDSketch-style log buckets on a fixed layout).
///
/// * Zeros are counted exactly and separately (downtime is exactly 0 in most
///   simulated years).
/// * Positive values go to log buckets: bucket `i` holds `(γ^(i−1), γ^i]`
///   with `γ = (1 + α)/(1 − α)`, and is reported as `2γ^i/(γ + 1)`, which is
///   within relative error α of any value in the bucket.
/// * The covered range is `[1e-9, 1e7]` (3685 buckets, ~29 KiB of `u64`
///   counts, allocated once at construction). Positive values below 1e-9
///   are counted in the lowest bucket and values above 1e7 in the highest,
///   so quantiles falling there lose the α guarantee (they are still
///   clamped to the exact `[min, max]`, which is right whenever such a value
///   is the minimum or maximum). For downtime in hours per year, 1e-9 h is
///   3.6 µs and 1e7 h is over a millennium, so nothing meaningful is lost.
/// * Exact `min` and `max` are tracked.
///
/// Memory does not depend on the number of observations. [`merge`] adds
/// counts element-wise and takes min/max, so it is exact, associative and
/// commutative: any merge order yields the identical sketch.
///
/// [`merge`]: Self::merge
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileSketch {
    count: u64,
    zeros: u64,
    /// +∞ while empty (serialised as its bit pattern, like `max`).
    #[serde(with = "super::bits")]
    min: f64,
    /// −∞ while empty.
    #[serde(with = "super::bits")]
    max: f64,
    /// Serialised sparsely as `[[i, count], …]` with `i` the γ exponent.
    #[serde(
        rename = "buckets",
        serialize_with = "serialize_sparse",
        deserialize_with = "deserialize_sparse"
    )]
    counts: Vec<u64>,
}

fn serialize_sparse<S: Serializer>(counts: &[u64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        counts
            .iter()
            .enumerate()
            .filter(|&(_, &c)| c != 0)
            .map(|(k, &c)| (k as i32 + MIN_INDEX, c)),
    )
}

fn deserialize_sparse<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let pairs = Vec::<(i32, u64)>::deserialize(d)?;
    let mut counts = vec![0; NUM_BUCKETS];
    for (i, c) in pairs {
        let k = i
            .checked_sub(MIN_INDEX)
            .and_then(|k| usize::try_from(k).ok())
            .filter(|&k| k < NUM_BUCKETS)
            .ok_or_else(|| serde::de::Error::custom(format!("bucket {i} out of range")))?;
        counts[k] = c;
    }
    Ok(counts)
}

impl Default for QuantileSketch {
    fn default() -> Self {
        Self::new()
    }
}

impl QuantileSketch {
    /// Guaranteed relative accuracy α of quantiles inside the covered range.
    pub const RELATIVE_ACCURACY: f64 = ALPHA;
    /// Smallest positive value with the α guarantee.
    pub const MIN_TRACKED: f64 = 1e-9;
    /// Largest value with the α guarantee.
    pub const MAX_TRACKED: f64 = 1e7;

    /// An empty sketch (allocates the full, fixed bucket array).
    pub fn new() -> Self {
        Self {
            count: 0,
            zeros: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            counts: vec![0; NUM_BUCKETS],
        }
    }

    /// Adds one observation. `x` must be finite and `>= 0` (checked in debug
    /// builds); in release builds negative values and NaN are recorded as 0
    /// and +∞ as the highest bucket.
    pub fn push(&mut self, x: f64) {
        debug_assert!(
            x.is_finite() && x >= 0.0,
            "QuantileSketch::push: expected finite x >= 0, got {x}"
        );
        // `!(x > 0)` catches 0, −0, negatives and NaN.
        let x = if x > 0.0 { x } else { 0.0 };
        self.count += 1;
        if x == 0.0 {
            self.zeros += 1;
        } else {
            self.counts[bucket_of(x)] += 1;
        }
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Folds `other` into `self` (exact; order-independent).
    pub fn merge(&mut self, other: &QuantileSketch) {
        self.count += other.count;
        self.zeros += other.zeros;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Number of observations (including zeros).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Number of observations that were exactly 0.
    pub fn zeros(&self) -> u64 {
        self.zeros
    }

    /// Exact smallest observation (0 when empty).
    pub fn min(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.min }
    }

    /// Exact largest observation (0 when empty).
    pub fn max(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.max }
    }

    /// Nearest-rank quantile: the value of rank `⌈q·n⌉` (1-based) among the
    /// `n` observations; `q = 0` gives `min()`. Returns 0 if that rank is
    /// among the zeros, the exact min/max at ranks 1 and `n`, and otherwise
    /// the bucket representative clamped to `[min, max]` (within relative
    /// error α of the true order statistic inside the covered range).
    /// Returns 0 for an empty sketch. `q` must be in `[0, 1]` (checked in
    /// debug builds, clamped otherwise).
    /// How many values are at most `x`, to within the sketch's relative accuracy: the
    /// zeros, and every bucket whose values lie at or below `x`'s bucket (values in
    /// `x`'s own bucket count as at most `x`).
    pub fn count_at_most(&self, x: f64) -> u64 {
        if x < 0.0 || self.count == 0 {
            return 0;
        }
        if x == 0.0 {
            return self.zeros;
        }
        let k = bucket_of(x);
        self.zeros + self.counts[..=k].iter().sum::<u64>()
    }

    pub fn quantile(&self, q: f64) -> f64 {
        debug_assert!(
            (0.0..=1.0).contains(&q),
            "QuantileSketch::quantile: q = {q} outside [0, 1]"
        );
        if self.count == 0 {
            return 0.0;
        }
        // NaN q is treated as 0.
        let q = if q > 0.0 { q.min(1.0) } else { 0.0 };
        if q == 0.0 {
            return self.min;
        }
        let rank = nearest_rank(q, self.count);
        if rank <= self.zeros {
            return 0.0;
        }
        if rank == 1 {
            return self.min;
        }
        if rank == self.count {
            return self.max;
        }
        let target = rank - self.zeros;
        let mut seen = 0u64;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= target {
                return representative(k).clamp(self.min, self.max);
            }
        }
        // Unreachable when the invariants hold (count = zeros + Σ counts).
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, LogNormal};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// 10,000 seeded values: 30 % exact zeros, the rest LogNormal(0, 2)
    /// (spanning roughly e^±8 ≈ [3e-4, 3e3], well inside the covered range).
    fn sample() -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
        let ln = LogNormal::new(0.0, 2.0).unwrap();
        (0..10_000)
            .map(|_| {
                if rng.random_bool(0.3) {
                    0.0
                } else {
                    ln.sample(&mut rng)
                }
            })
            .collect()
    }

    #[test]
    fn layout_constants() {
        // γ = 1.005/0.995 = 1.0100502512562814; ln γ = 0.0100000833;
        // ln(1e-9)/ln γ = −2072.31 ⇒ ⌈⌉ = −2072; ln(1e7)/ln γ = 1611.80 ⇒ 1612.
        let ln_g = GAMMA.ln();
        assert_eq!(MIN_INDEX, (1e-9f64.ln() / ln_g).ceil() as i32);
        assert_eq!(MAX_INDEX, (1e7f64.ln() / ln_g).ceil() as i32);
        assert!((INV_LN_GAMMA * ln_g - 1.0).abs() < 1e-12);
        assert_eq!(NUM_BUCKETS, 3685);
        // 1e-9 is in the lowest bucket and 1e7 in the highest.
        assert!(UPPER[0] / GAMMA < 1e-9 && 1e-9 <= UPPER[0]);
        assert!(UPPER[NUM_BUCKETS - 2] < 1e7 && 1e7 <= UPPER[NUM_BUCKETS - 1]);
        // Table agrees with γ^i computed directly (to ~1e-12 relative).
        for (k, &b) in UPPER.iter().enumerate() {
            let direct = GAMMA.powi(k as i32 + MIN_INDEX);
            assert!((b / direct - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn bucket_boundaries_are_half_open_on_the_left() {
        // Bucket k holds (UPPER[k-1], UPPER[k]].
        for (k, &upper) in UPPER.iter().enumerate().take(NUM_BUCKETS - 1) {
            assert_eq!(bucket_of(upper), k);
            assert_eq!(bucket_of(upper.next_up()), k + 1);
        }
        assert_eq!(bucket_of(1.0), (-MIN_INDEX) as usize);
        assert_eq!(bucket_of(1e-300), 0);
        assert_eq!(bucket_of(f64::MIN_POSITIVE), 0);
        assert_eq!(bucket_of(1e300), NUM_BUCKETS - 1);
        assert_eq!(bucket_of(f64::INFINITY), NUM_BUCKETS - 1);
    }

    #[test]
    fn representative_within_alpha_over_range() {
        // Log-uniform values over the covered range: |rep − x| ≤ α·x.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..100_000 {
            let x = 10f64.powf(rng.random_range(-9.0..7.0));
            let r = representative(bucket_of(x));
            assert!((r - x).abs() <= ALPHA * x * (1.0 + 1e-9), "x={x} r={r}");
        }
    }

    #[test]
    fn quantiles_match_exact_nearest_rank() {
        let xs = sample();
        let mut sketch = QuantileSketch::new();
        xs.iter().for_each(|&x| sketch.push(x));
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len() as u64;
        assert_eq!(sketch.count(), n);
        assert_eq!(
            sketch.zeros(),
            xs.iter().filter(|&&x| x == 0.0).count() as u64
        );
        // Nearest rank ⌈q·n⌉ computed in integers: q = num/den.
        for (num, den) in [(1u64, 2u64), (9, 10), (99, 100), (3, 4), (999, 1000)] {
            let rank = (num * n).div_ceil(den);
            let exact = sorted[(rank - 1) as usize];
            let approx = sketch.quantile(num as f64 / den as f64);
            assert!(
                (approx - exact).abs() <= ALPHA * exact * (1.0 + 1e-9),
                "q={num}/{den}: sketch {approx} vs exact {exact}"
            );
        }
        // q = 0.2 falls in the ~30 % zeros; ends are exact.
        assert_eq!(sketch.quantile(0.2), 0.0);
        assert_eq!(sketch.quantile(0.0), sorted[0]);
        assert_eq!(sketch.quantile(1.0), *sorted.last().unwrap());
        assert_eq!(sketch.min(), 0.0);
        assert_eq!(sketch.max(), *sorted.last().unwrap());
    }

    #[test]
    fn merge_of_halves_equals_single_pass() {
        let xs = sample();
        let mut all = QuantileSketch::new();
        xs.iter().for_each(|&x| all.push(x));
        let (a, b) = xs.split_at(4_321);
        let mut left = QuantileSketch::new();
        a.iter().for_each(|&x| left.push(x));
        let mut right = QuantileSketch::new();
        b.iter().for_each(|&x| right.push(x));
        let mut lr = left.clone();
        lr.merge(&right);
        let mut rl = right.clone();
        rl.merge(&left);
        assert_eq!(lr, all);
        assert_eq!(rl, all);
        let mut e = QuantileSketch::new();
        e.merge(&all);
        assert_eq!(e, all);
    }

    #[test]
    fn memory_is_fixed() {
        let mut s = QuantileSketch::new();
        let (len, cap) = (s.counts.len(), s.counts.capacity());
        assert_eq!(len, NUM_BUCKETS);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(8);
        for _ in 0..200_000 {
            s.push(10f64.powf(rng.random_range(-12.0..10.0)));
        }
        s.merge(&s.clone());
        assert_eq!((s.counts.len(), s.counts.capacity()), (len, cap));
        assert_eq!(s.count(), 400_000);
    }

    #[test]
    fn empty_zero_and_out_of_range() {
        let s = QuantileSketch::new();
        assert_eq!(
            (s.quantile(0.5), s.min(), s.max(), s.count()),
            (0.0, 0.0, 0.0, 0)
        );
        let mut z = QuantileSketch::new();
        (0..10).for_each(|_| z.push(0.0));
        assert_eq!(
            (z.quantile(0.0), z.quantile(0.99), z.quantile(1.0)),
            (0.0, 0.0, 0.0)
        );
        // Outside the covered range values share the edge buckets but the
        // exact min/max clamp keeps single-value answers exact.
        let mut o = QuantileSketch::new();
        o.push(1e-12);
        assert_eq!(o.quantile(0.5), 1e-12);
        let mut o = QuantileSketch::new();
        o.push(3e9);
        o.push(4e9);
        o.push(5e9);
        // Rank 2 lies in the top bucket (rep ≈ 1e7), clamped up to min = 3e9.
        assert_eq!(o.quantile(0.5), 3e9);
    }

    #[test]
    fn nearest_rank_snaps_representation_error() {
        // 0.07·100 = 7.000000000000001 in f64; nearest rank is 7.
        assert_eq!(nearest_rank(0.07, 100), 7);
        assert_eq!(nearest_rank(0.5, 10), 5);
        assert_eq!(nearest_rank(0.51, 10), 6);
        assert_eq!(nearest_rank(1e-9, 10), 1);
        assert_eq!(nearest_rank(1.0, 10), 10);
    }

    #[test]
    fn counts_at_most_a_value() {
        // Zeros count at 0; 1.0 and 2.0 are at most 2.0; 10.0 is not; everything is at
        // most 1e6.
        let mut s = QuantileSketch::new();
        for x in [0.0, 0.0, 1.0, 2.0, 10.0] {
            s.push(x);
        }
        assert_eq!(s.count_at_most(0.0), 2);
        assert_eq!(s.count_at_most(2.0), 4);
        assert_eq!(s.count_at_most(5.0), 4);
        assert_eq!(s.count_at_most(1e6), 5);
        assert_eq!(s.count_at_most(-1.0), 0);
    }

    #[test]
    fn serialises_sparsely() {
        let mut s = QuantileSketch::new();
        s.push(0.0);
        s.push(1.0);
        s.push(1.0);
        let json = serde_json::to_string(&s).unwrap();
        // 1.0 = γ^0 lies in bucket i = 0; min and max are stored as bit patterns
        // (1.0 is 0x3ff0000000000000 = 4607182418800017408).
        assert_eq!(
            json,
            r#"{"count":3,"zeros":1,"min":0,"max":4607182418800017408,"buckets":[[0,2]]}"#
        );
        // And it reads back exactly, empty sketches (infinite min and max) included.
        let back: QuantileSketch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        let empty = QuantileSketch::new();
        let back: QuantileSketch =
            serde_json::from_str(&serde_json::to_string(&empty).unwrap()).unwrap();
        assert_eq!(back, empty);
    }
}
