//! Streaming, mergeable statistics for Monte Carlo results.
//!
//! Every summary here uses memory independent of the number of
//! observations, and can be built per chunk of trials and then merged:
//!
//! * [`Moments`] — count, mean, variance, min, max; Student-t CI for the mean;
//! * [`ClusteredProportion`] — a proportion over units grouped in trials
//!   (e.g. breached SLA windows) with a cluster-robust Wilson interval;
//! * [`QuantileSketch`] — nearest-rank quantiles of non-negative values with
//!   0.5 % relative accuracy and exact zeros;
//! * [`wilson`] — the Wilson score interval itself.
//!
//! # Determinism
//!
//! Results are bit-for-bit reproducible when chunk summaries are merged in a
//! fixed order (the runner merges left to right in chunk order):
//!
//! * integer state — counts, [`ClusteredProportion`]'s sums, the sketch's
//!   bucket counts, as well as min/max — merges exactly, so it is
//!   independent of merge order and chunking altogether;
//! * the floating-point moments (mean, `m2`) are a fixed sequence of IEEE-754
//!   operations, hence deterministic for a fixed chunking and merge order
//!   (a different order changes only the last bits);
//! * derived quantities (intervals, quantiles) are pure functions of the
//!   state. The sketch's bucket layout is built at compile time by exactly
//!   rounded multiplications, so bucket assignment does not depend on the
//!   platform's `ln`. No `f32` anywhere.

mod critical;
pub mod moments;
pub mod proportion;
pub mod sketch;

pub use critical::{t_two_sided, z_two_sided};
pub use moments::Moments;
pub use proportion::{ClusteredProportion, wilson};
pub use sketch::QuantileSketch;

/// Two-sided 95 % standard-normal critical value, `Φ⁻¹(0.975)`.
pub const Z95: f64 = 1.959963984540054;

#[cfg(test)]
mod tests {
    #[test]
    fn z95_is_normal_quantile() {
        // statrs' Φ⁻¹(0.975) may differ from the correctly rounded constant
        // by an ulp.
        assert!((super::Z95 - super::z_two_sided(0.95)).abs() < 1e-15);
    }
}

/// Serde adapters that store an `f64` as its bit pattern, so that a summary written to
/// a file and read back is bit-for-bit the same (infinities included).
pub mod bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}
