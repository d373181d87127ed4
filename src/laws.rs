//! Probability laws for times to failure and times to repair, in hours.
//!
//! The style follows the `rand` crate: constructors validate their parameters
//! and return a [`LawError`] naming the bad parameter, while sampling never
//! fails. Every sample is finite and at least [`MIN_SAMPLE_HOURS`] (1e-12 h):
//! a sample of exactly 0 (which floating-point underflow can produce, e.g. for
//! a gamma law with a small shape) would not advance simulated time, so it is
//! clamped up to that tiny positive minimum; likewise a sample that overflows
//! is clamped down to `f64::MAX`. Both clamps only matter in the far tails.
//!
//! Besides ordinary sampling, each law can sample the *equilibrium residual*
//! (forward-recurrence) time of a stationary renewal process whose inter-event
//! times follow the law, whose density is `(1 - F(x)) / mean`. The simulator
//! uses it to start every alternating renewal process in its stationary state.
//! It is sampled exactly as `U * L` with `U ~ Uniform(0, 1)` independent of
//! `L`, where `L` follows the length-biased law with density `x f(x) / mean`:
//! the residual time of a stationary renewal process is a uniform fraction of
//! the (length-biased) interval that covers the origin.

use std::fmt;

use rand::RngExt;
use rand::distr::Open01;
use rand_distr::{Distribution, Gamma, LogNormal, Weibull};
use statrs::function::gamma::{gamma, gamma_lr, gamma_ur, ln_gamma};

mod standard_exponential;

/// Smallest value ever returned by [`Law::sample`] and
/// [`Law::sample_residual`], in hours. Smaller samples (including 0 from
/// floating-point underflow) are clamped up to it so that time always
/// advances. `f64::MIN_POSITIVE` would be too small to advance a clock.
pub const MIN_SAMPLE_HOURS: f64 = 1e-12;

/// Largest accepted duration parameter (mean, scale, median, value or
/// observation), in hours, to keep the simulator's arithmetic safe.
pub const MAX_DURATION_HOURS: f64 = 1e12;

/// Why a law could not be constructed: a short reason naming the parameter
/// and the bad value, e.g. `"mean must be finite and > 0, got -1"`.
#[derive(Debug, Clone, PartialEq)]
pub struct LawError(pub String);

impl fmt::Display for LawError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LawError {}

/// A probability law of a positive duration in hours (time to failure or time
/// to repair). Build one with a validating constructor, e.g.
/// [`Law::exponential`]; sampling never fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Law {
    kind: Kind,
}

/// `repr(u8)` gives the kind a tag byte of its own, so that telling which law this is
/// costs one comparison (rather than decoding a niche in the empirical law's vector).
#[derive(Debug, Clone, PartialEq)]
#[repr(u8)]
enum Kind {
    Exponential {
        mean: f64,
    },
    Weibull {
        shape: f64,
        scale: f64,
        inv_shape: f64,
        mean: f64,
        dist: Weibull<f64>,
        /// `Gamma(1 + 1/k, 1)`: `scale * Y^(1/k)` is length-biased.
        biased: Gamma<f64>,
    },
    LogNormal {
        median: f64,
        sigma: f64,
        /// `ln(median)`.
        mu: f64,
        mean: f64,
        dist: LogNormal<f64>,
        /// `lognormal(mu + sigma^2, sigma)`, the length-biased law.
        biased: LogNormal<f64>,
    },
    Gamma {
        shape: f64,
        scale: f64,
        mean: f64,
        dist: Gamma<f64>,
        /// `Gamma(shape + 1, scale)`, the length-biased law.
        biased: Gamma<f64>,
    },
    Deterministic {
        value: f64,
    },
    Empirical {
        /// Observations sorted in increasing order.
        sorted: Vec<f64>,
        /// `cumulative[i] = sorted[0] + ... + sorted[i]`.
        cumulative: Vec<f64>,
        mean: f64,
    },
}

/// Checks that a parameter is finite and > 0.
fn check_positive(name: &str, value: f64) -> Result<(), LawError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(LawError(format!(
            "{name} must be finite and > 0, got {value}"
        )))
    }
}

/// Checks that a duration parameter is finite, > 0 and <= 1e12 hours.
fn check_duration(name: &str, value: f64) -> Result<(), LawError> {
    check_positive(name, value)?;
    if value <= MAX_DURATION_HOURS {
        Ok(())
    } else {
        Err(LawError(format!(
            "{name} must be <= 1e12 hours, got {value}"
        )))
    }
}

/// Checks that a law's derived mean is usable (finite and > 0). Extreme shape
/// parameters can make it overflow or underflow even when every parameter is
/// individually valid.
fn check_mean(law: &str, params: &str, mean: f64) -> Result<(), LawError> {
    if mean.is_finite() && mean > 0.0 {
        Ok(())
    } else {
        Err(LawError(format!(
            "{law} with {params} has mean {mean}, which must be finite and > 0"
        )))
    }
}

/// The largest probability of a residual ending within the horizon for which
/// [`Law::residual_plan`] chooses inversion: above it, a Newton inversion on most
/// draws costs more than drawing directly.
pub const INVERT_BELOW: f64 = 0.1;

/// How to draw a law's equilibrium residual time within a horizon
/// ([`Law::residual_plan`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResidualPlan {
    horizon: f64,
    /// `Some(residual_cdf(horizon))` when drawn by inversion.
    inverted_within: Option<f64>,
}

/// Brings a raw sample into `[MIN_SAMPLE_HOURS, f64::MAX]` (NaN, which the
/// samplers used here never produce, would map to the minimum).
#[inline]
fn clamp_sample(x: f64) -> f64 {
    if x >= MIN_SAMPLE_HOURS {
        x.min(f64::MAX)
    } else {
        MIN_SAMPLE_HOURS
    }
}

/// Standard normal CDF, `Phi(z) = erfc(-z / sqrt 2) / 2`, accurate to a
/// relative 1e-14 or so in both tails (unlike `(1 + erf(z / sqrt 2)) / 2` in
/// the lower one). `erfc` is taken through the incomplete gamma function,
/// `erfc(u) = Q(1/2, u^2)` for `u >= 0` (substitute `v = w^2` in
/// `erfc(u) = (2/sqrt pi) ∫_u^inf e^(-w^2) dw`, with `Gamma(1/2) = sqrt pi`),
/// which statrs computes to about 1e-15,
/// whereas statrs' own `erfc` carries relative errors near 1e-10. So, with
/// `t = z^2 / 2`, `Phi(z) = Q(1/2, t) / 2` for `z <= 0` and
/// `Phi(z) = 1/2 + P(1/2, t) / 2` for `z > 0`.
fn std_normal_cdf(z: f64) -> f64 {
    let t = 0.5 * z * z;
    if z.is_nan() {
        f64::NAN
    } else if z <= 0.0 {
        0.5 * reg_upper_gamma(0.5, t)
    } else {
        0.5 + 0.5 * reg_lower_gamma(0.5, t)
    }
}

/// Regularized lower incomplete gamma `P(a, t)` for `a > 0`, extended to
/// `t <= 0` (0) and `t = +inf` (1), where statrs would panic.
fn reg_lower_gamma(a: f64, t: f64) -> f64 {
    if t.is_nan() {
        f64::NAN
    } else if t <= 0.0 {
        0.0
    } else if t == f64::INFINITY {
        1.0
    } else {
        gamma_lr(a, t)
    }
}

/// Regularized upper incomplete gamma `Q(a, t) = 1 - P(a, t)`, extended the
/// same way.
fn reg_upper_gamma(a: f64, t: f64) -> f64 {
    if t.is_nan() {
        f64::NAN
    } else if t <= 0.0 {
        1.0
    } else if t == f64::INFINITY {
        0.0
    } else {
        gamma_ur(a, t)
    }
}

/// `ln(1 - Phi(z)) = ln Phi(-z)`, accurate in both tails and finite for
/// every finite `z`: `ln_1p(-Phi(z))` for `z < 0` (where `Phi(z)` is small),
/// and `ln(Q(1/2, z^2/2) / 2)` for `z >= 0` (see [`std_normal_cdf`]), with
/// `ln Q` from [`ln_reg_upper_gamma`], which does not underflow.
fn ln_std_normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        f64::NAN
    } else if z < 0.0 {
        (-std_normal_cdf(z)).ln_1p()
    } else {
        ln_reg_upper_gamma(0.5, 0.5 * z * z) - std::f64::consts::LN_2
    }
}

/// Whether statrs computes `Q(a, t)` as `1 - P(a, t)` (by the series of
/// `P`) rather than by the continued fraction of `Q`, which converges
/// quickly beyond `t = max(1, a)`. The log-domain functions below make the
/// same split.
fn upper_gamma_by_series(a: f64, t: f64) -> bool {
    t < 1.0 || t <= a
}

/// Legendre's continued fraction
/// `1/(t+1-a- 1(1-a)/(t+3-a- 2(2-a)/(t+5-a- ...)))`, evaluated by the
/// modified Lentz method, for which `Q(a, t) = e^-t t^a / Gamma(a) · cf`
/// (meant for `t > max(1, a)`, where it converges quickly).
fn upper_gamma_cf(a: f64, t: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut b = t + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let i = f64::from(i);
        let an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let delta = d * c;
        h *= delta;
        if (delta - 1.0).abs() <= 2.0 * f64::EPSILON {
            break;
        }
    }
    h
}

/// `ln Q(a, t)`, the log of the regularized upper incomplete gamma function
/// for `a > 0`, finite for every finite `t` even where `Q` underflows:
/// `ln_1p(-P(a, t))` where statrs itself computes `Q` as `1 - P`, and
/// otherwise `a ln t - t - ln Gamma(a) + ln cf` with [`upper_gamma_cf`].
fn ln_reg_upper_gamma(a: f64, t: f64) -> f64 {
    if t.is_nan() {
        f64::NAN
    } else if t <= 0.0 {
        0.0
    } else if t == f64::INFINITY {
        f64::NEG_INFINITY
    } else if upper_gamma_by_series(a, t) {
        (-gamma_lr(a, t)).ln_1p()
    } else {
        a * t.ln() - t - ln_gamma(a) + upper_gamma_cf(a, t).ln()
    }
}

/// `ln(1 + e^d)` without overflow for large `d` nor loss for very negative
/// `d`.
fn softplus(d: f64) -> f64 {
    if d > 0.0 {
        d + (-d).exp().ln_1p()
    } else {
        d.exp().ln_1p()
    }
}

/// Finds the root of the decreasing function `g` with `g(lo) > 0 >= g(hi)`,
/// `0 <= lo < hi`, to within about `tol` (absolute), by Brent's method
/// (inverse quadratic interpolation and secant steps, falling back to
/// bisection whenever they would leave the bracket or converge too slowly,
/// and whenever a value is infinite).
fn brent(g: impl Fn(f64) -> f64, lo: f64, hi: f64, g_lo: f64, g_hi: f64, tol: f64) -> f64 {
    let (mut a, mut b, mut c) = (lo, hi, hi);
    let (mut fa, mut fb, mut fc) = (g_lo, g_hi, g_hi);
    let (mut d, mut e) = (b - a, b - a);
    for _ in 0..200 {
        if (fb > 0.0) == (fc > 0.0) {
            // Keep the root between b and c.
            c = a;
            fc = fa;
            d = b - a;
            e = d;
        }
        if fc.abs() < fb.abs() {
            (a, b, c) = (b, c, b);
            (fa, fb, fc) = (fb, fc, fb);
        }
        let tol1 = 2.0 * f64::EPSILON * b.abs() + 0.5 * tol;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return b;
        }
        let finite = fa.is_finite() && fb.is_finite() && fc.is_finite();
        if finite && e.abs() >= tol1 && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                // Secant step.
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                // Inverse quadratic interpolation.
                let qa = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * qa * (qa - r) - (b - a) * (r - 1.0));
                q = (qa - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            let min1 = 3.0 * xm * q - (tol1 * q).abs();
            let min2 = (e * q).abs();
            if 2.0 * p < min1.min(min2) {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        b += if d.abs() > tol1 { d } else { tol1.copysign(xm) };
        fb = g(b);
    }
    b
}

impl Law {
    /// Exponential law with the given mean (hours): `F(x) = 1 - exp(-x/mean)`.
    pub fn exponential(mean: f64) -> Result<Law, LawError> {
        check_duration("mean", mean)?;
        Ok(Law {
            kind: Kind::Exponential { mean },
        })
    }

    /// Weibull law `F(x) = 1 - exp(-(x/scale)^shape)`, scale in hours.
    /// Its mean is `scale * Gamma(1 + 1/shape)`, which must be finite (this
    /// rejects shapes below about 0.006).
    pub fn weibull(shape: f64, scale: f64) -> Result<Law, LawError> {
        check_positive("shape", shape)?;
        check_duration("scale", scale)?;
        let inv_shape = 1.0 / shape;
        let mean = scale * gamma(1.0 + inv_shape);
        check_mean("weibull", &format!("shape {shape} and scale {scale}"), mean)?;
        let dist = Weibull::new(scale, shape)
            .map_err(|e| LawError(format!("weibull(shape {shape}, scale {scale}): {e}")))?;
        let biased = Gamma::new(1.0 + inv_shape, 1.0)
            .map_err(|e| LawError(format!("weibull(shape {shape}, scale {scale}): {e}")))?;
        Ok(Law {
            kind: Kind::Weibull {
                shape,
                scale,
                inv_shape,
                mean,
                dist,
                biased,
            },
        })
    }

    /// Lognormal law: `ln X ~ N(ln median, sigma^2)`, median in hours,
    /// `sigma > 0`. Its mean is `median * exp(sigma^2 / 2)`, which must be
    /// finite (this rejects sigma above about 37).
    pub fn lognormal(median: f64, sigma: f64) -> Result<Law, LawError> {
        check_duration("median", median)?;
        check_positive("sigma", sigma)?;
        let mu = median.ln();
        let mean = median * (0.5 * sigma * sigma).exp();
        check_mean(
            "lognormal",
            &format!("median {median} and sigma {sigma}"),
            mean,
        )?;
        let err = |e| LawError(format!("lognormal(median {median}, sigma {sigma}): {e}"));
        let dist = LogNormal::new(mu, sigma).map_err(err)?;
        let biased = LogNormal::new(mu + sigma * sigma, sigma).map_err(err)?;
        Ok(Law {
            kind: Kind::LogNormal {
                median,
                sigma,
                mu,
                mean,
                dist,
                biased,
            },
        })
    }

    /// Gamma law with the given shape and scale (hours); mean `shape * scale`,
    /// which must be finite and > 0.
    pub fn gamma(shape: f64, scale: f64) -> Result<Law, LawError> {
        check_positive("shape", shape)?;
        check_duration("scale", scale)?;
        let mean = shape * scale;
        check_mean("gamma", &format!("shape {shape} and scale {scale}"), mean)?;
        let err = |e| LawError(format!("gamma(shape {shape}, scale {scale}): {e}"));
        let dist = Gamma::new(shape, scale).map_err(err)?;
        let biased = Gamma::new(shape + 1.0, scale).map_err(err)?;
        Ok(Law {
            kind: Kind::Gamma {
                shape,
                scale,
                mean,
                dist,
                biased,
            },
        })
    }

    /// A law that always yields `value` hours.
    pub fn deterministic(value: f64) -> Result<Law, LawError> {
        check_duration("value", value)?;
        Ok(Law {
            kind: Kind::Deterministic { value },
        })
    }

    /// The empirical law of a list of observed durations (hours), sampled
    /// uniformly with replacement. The list must be non-empty and every
    /// observation finite, > 0 and <= 1e12 hours.
    pub fn empirical(observations: Vec<f64>) -> Result<Law, LawError> {
        if observations.is_empty() {
            return Err(LawError("observations must be non-empty".to_string()));
        }
        for (i, &x) in observations.iter().enumerate() {
            check_duration(&format!("observation {i}"), x)?;
        }
        let mut sorted = observations;
        sorted.sort_by(f64::total_cmp);
        let cumulative: Vec<f64> = sorted
            .iter()
            .scan(0.0, |acc, &x| {
                *acc += x;
                Some(*acc)
            })
            .collect();
        let total = cumulative[cumulative.len() - 1];
        let mean = total / sorted.len() as f64;
        Ok(Law {
            kind: Kind::Empirical {
                sorted,
                cumulative,
                mean,
            },
        })
    }

    /// Draws a duration in hours; always finite and >= [`MIN_SAMPLE_HOURS`].
    #[inline(always)]
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // The commonest law first, inlined wherever a duration is drawn (the
        // ziggurat's first try; see `standard_exponential`): it gives a finite,
        // positive value and the mean is at most 1e12 h, so only the lower end of the
        // clamp can apply. Other laws go out of line.
        if let Kind::Exponential { mean } = self.kind {
            let e = standard_exponential::sample(rng);
            let x = e * mean;
            return if x >= MIN_SAMPLE_HOURS {
                x
            } else {
                MIN_SAMPLE_HOURS
            };
        }
        self.sample_other(rng)
    }

    /// [`sample`](Self::sample) for a law that is not exponential.
    #[inline(never)]
    fn sample_other<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = match &self.kind {
            Kind::Exponential { mean } => {
                let e = standard_exponential::sample(rng);
                e * mean
            }
            Kind::Weibull { dist, .. } => dist.sample(rng),
            Kind::LogNormal { dist, .. } => dist.sample(rng),
            Kind::Gamma { dist, .. } => dist.sample(rng),
            Kind::Deterministic { value } => *value,
            Kind::Empirical { sorted, .. } => sorted[rng.random_range(0..sorted.len())],
        };
        clamp_sample(x)
    }

    /// Draws the equilibrium forward-recurrence (residual) time of a
    /// stationary renewal process with this inter-event law, whose density is
    /// `(1 - F(x)) / mean`; its CDF is [`Law::residual_cdf`]. Always finite
    /// and >= [`MIN_SAMPLE_HOURS`].
    ///
    /// It is sampled exactly as `U * L`, `U ~ Uniform(0, 1)`, with `L` from
    /// the length-biased law (density `x f(x) / mean`):
    /// - exponential: memoryless, so simply another exponential sample
    ///   (`L ~ Gamma(2, mean)` would give the same law);
    /// - Weibull(k, λ): `L = λ Y^(1/k)` with `Y ~ Gamma(1 + 1/k, 1)`;
    /// - lognormal(μ, σ): `L ~ lognormal(μ + σ², σ)`;
    /// - Gamma(α, θ): `L ~ Gamma(α + 1, θ)`;
    /// - deterministic d: `L = d`;
    /// - empirical: `L` is observation `i` with probability `x_i / Σ x`.
    pub fn sample_residual<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let length_biased = match &self.kind {
            Kind::Exponential { mean } => {
                let e = standard_exponential::sample(rng);
                return clamp_sample(e * mean);
            }
            Kind::Weibull {
                scale,
                inv_shape,
                biased,
                ..
            } => {
                let y: f64 = biased.sample(rng);
                scale * y.powf(*inv_shape)
            }
            Kind::LogNormal { biased, .. } => biased.sample(rng),
            Kind::Gamma { biased, .. } => biased.sample(rng),
            Kind::Deterministic { value } => *value,
            Kind::Empirical {
                sorted, cumulative, ..
            } => {
                // Pick i with probability x_i / Σx: the first i whose
                // cumulative sum exceeds u ~ Uniform[0, Σx).
                let total = cumulative[cumulative.len() - 1];
                let u = rng.random::<f64>() * total;
                let i = cumulative.partition_point(|&c| c <= u);
                sorted[i.min(sorted.len() - 1)]
            }
        };
        let u: f64 = rng.sample(Open01);
        clamp_sample(u * length_biased)
    }

    /// How [`Law::sample_residual_within`] draws this law's equilibrium residual time
    /// for runs that end at `horizon`: chosen once per law and horizon.
    ///
    /// When the residual rarely ends within the horizon (probability at most
    /// [`INVERT_BELOW`]), it is drawn by inversion, so that one uniform and one
    /// comparison settle the common case; otherwise it is drawn directly.
    pub fn residual_plan(&self, horizon: f64) -> ResidualPlan {
        let within = self.residual_cdf(horizon);
        let invertible = matches!(
            self.kind,
            Kind::Exponential { .. }
                | Kind::Weibull { .. }
                | Kind::LogNormal { .. }
                | Kind::Gamma { .. }
                | Kind::Deterministic { .. }
        );
        ResidualPlan {
            horizon,
            inverted_within: (invertible && within <= INVERT_BELOW).then_some(within),
        }
    }

    /// The equilibrium residual time (the law of [`Law::sample_residual`]) if it ends
    /// before the plan's horizon, else `None`. `plan` must come from
    /// [`Law::residual_plan`] on this law.
    ///
    /// By inversion: with `U ~ Uniform[0, 1)`, the residual `Q(U)` (`Q` the inverse of
    /// [`Law::residual_cdf`]) ends before the horizon `h` exactly when
    /// `U < residual_cdf(h)`, and only then is `Q(U)` computed
    /// ([`Law::residual_quantile`]). Directly: a [`Law::sample_residual`] draw,
    /// kept if it ends before `h`. A kept value is >= [`MIN_SAMPLE_HOURS`], as
    /// every sample.
    #[inline]
    pub fn sample_residual_within<R: rand::Rng + ?Sized>(
        &self,
        plan: ResidualPlan,
        rng: &mut R,
    ) -> Option<f64> {
        // The commonest case, in line: one uniform says the residual ends past the
        // horizon. The rest, out of line.
        match plan.inverted_within {
            Some(within) => {
                let u: f64 = rng.random();
                if u >= within {
                    return None;
                }
                self.quantile_within(u, plan)
            }
            None => self.sample_residual_kept(plan, rng),
        }
    }

    /// The residual's `u`-quantile, which ends before the plan's horizon when `u` is
    /// below the plan's `inverted_within` (but for rounding: checked).
    #[inline(never)]
    fn quantile_within(&self, u: f64, plan: ResidualPlan) -> Option<f64> {
        let x = clamp_sample(self.residual_quantile(u));
        (x < plan.horizon).then_some(x)
    }

    /// A residual draw, if it ends before the plan's horizon.
    #[inline(never)]
    fn sample_residual_kept<R: rand::Rng + ?Sized>(
        &self,
        plan: ResidualPlan,
        rng: &mut R,
    ) -> Option<f64> {
        let x = self.sample_residual(rng);
        (x < plan.horizon).then_some(x)
    }

    /// The `q`-quantile (`0 <= q < 1`) of the equilibrium residual time: the `x`
    /// with `residual_cdf(x) = q`.
    ///
    /// Closed forms for the exponential (`-mean ln(1 - q)`) and the deterministic
    /// law (`q d`). Otherwise Newton's method on `residual_cdf`, whose derivative is
    /// `S(x) / mean` ([`Law::survival`]): the residual CDF is concave (its density
    /// never increases) and lies below its tangent at 0, `x / mean`, so starting
    /// from `q mean` every Newton step stays below the root and the iterates rise
    /// monotonically to it; they stop when a step adds less than 1e-13 relative.
    /// (An empirical law's residual CDF is piecewise linear: Newton crosses one
    /// piece per step, so it is exact only for at most 200 observations; plans never
    /// invert it.)
    pub fn residual_quantile(&self, q: f64) -> f64 {
        match &self.kind {
            Kind::Exponential { mean } => return -mean * (-q).ln_1p(),
            Kind::Deterministic { value } => return q * value,
            _ => {}
        }
        let mean = self.mean();
        let mut x = q * mean;
        for _ in 0..200 {
            let step = (q - self.residual_cdf(x)) * mean / self.survival(x);
            // Also stops on a step that rounding made negative, or NaN.
            if !(step > x * 1e-13 && step.is_finite()) {
                break;
            }
            x += step;
        }
        x
    }

    /// Draws the remaining time until the end of a duration that follows
    /// this law and has already lasted `age` hours: a draw from the law of
    /// `X - age` given `X > age`, whose CDF is
    /// `(F(age + x) - F(age)) / S(age)` with `S` the [`Law::survival`]
    /// function. Always finite and >= [`MIN_SAMPLE_HOURS`].
    ///
    /// `age` must be >= 0 and finite; since sampling never fails, a negative
    /// or NaN age is taken as 0 and an infinite one as `f64::MAX`. With
    /// `age = 0` the law is that of [`Law::sample`] (though not the same
    /// number from the same generator).
    ///
    /// Every law is sampled exactly, by inversion of the conditional
    /// survival function: with `E = -ln U ~ Exp(1)` (drawn directly as an
    /// exponential), the remaining time `x` solves
    /// `S(age + x) = U S(age)`, i.e. `ln S(age + x) = ln S(age) - E`:
    /// - exponential: memoryless, so simply a fresh draw;
    /// - Weibull(k, λ): with `t = (age/λ)^k`, `(age + x)/λ = (t + E)^(1/k)`,
    ///   so `x = λ (t + E)^(1/k) - age = age ((1 + E/t)^(1/k) - 1)`,
    ///   computed as `age · expm1(ln(1 + E/t) / k)` with `ln(1 + E/t)` a
    ///   softplus of `ln E - k ln(age/λ)` (no cancellation for large ages,
    ///   no overflow of `t` or `E/t`);
    /// - lognormal, gamma: the equation is solved numerically on the log of
    ///   the survival function (computed without underflow far in the tail)
    ///   by a geometric bracketing search followed by Brent's method, to a
    ///   relative accuracy of about 1e-12 in `x`;
    /// - deterministic d: `d - age` (the minimum sample if `age >= d`);
    /// - empirical: a uniform draw among the observations larger than `age`,
    ///   minus `age` (the minimum sample if there is none).
    pub fn sample_after<R: rand::Rng + ?Sized>(&self, age: f64, rng: &mut R) -> f64 {
        let age = if age > 0.0 { age.min(f64::MAX) } else { 0.0 };
        let x = match &self.kind {
            Kind::Exponential { mean } => {
                let e = standard_exponential::sample(rng);
                e * mean
            }
            Kind::Weibull {
                shape,
                scale,
                inv_shape,
                ..
            } => {
                let e = standard_exponential::sample(rng);
                let ratio = age / scale;
                if ratio == 0.0 {
                    // A fresh draw: λ E^(1/k) (also when age/λ underflows).
                    scale * e.powf(*inv_shape)
                } else {
                    // g = ln((1 + E/t)^(1/k)), with ln(E/t) = ln E - k ln(age/λ).
                    let g = softplus(e.ln() - shape * ratio.ln()) * inv_shape;
                    if g < 40.0 {
                        age * g.exp_m1()
                    } else {
                        // age (e^g - 1) = age e^g to within e^-40, without
                        // overflowing e^g first.
                        (age.ln() + g).exp()
                    }
                }
            }
            Kind::LogNormal { median, .. } => {
                let e = standard_exponential::sample(rng);
                self.invert_survival(age, e, *median)
            }
            Kind::Gamma { mean, .. } => {
                let e = standard_exponential::sample(rng);
                self.invert_survival(age, e, *mean)
            }
            Kind::Deterministic { value } => value - age,
            Kind::Empirical { sorted, .. } => {
                let k = sorted.partition_point(|&o| o <= age);
                if k == sorted.len() {
                    MIN_SAMPLE_HOURS
                } else {
                    sorted[rng.random_range(k..sorted.len())] - age
                }
            }
        };
        clamp_sample(x)
    }

    /// Solves `ln S(age + x) = ln S(age) - e` for `x` (`age >= 0` finite,
    /// `e >= 0`), for a law whose survival function is continuous and
    /// decreasing on `(0, inf)`. The function `g(x) = ln S(age + x) -
    /// ln S(age) + e` is decreasing with `g(0) = e >= 0`: starting from
    /// `guess`, the root is bracketed by multiplying or dividing by factors
    /// 2, 4, 16, 256, ... (squared at each step, so that even a root many
    /// orders of magnitude away is bracketed in a few steps), the bracket is
    /// narrowed to a factor 2 by geometric bisection, and Brent's method
    /// finishes to a relative tolerance of 1e-12. A root below
    /// [`MIN_SAMPLE_HOURS`] gives that minimum, one beyond `f64::MAX` gives
    /// `f64::MAX`.
    ///
    /// When the root is much smaller than `age`, `age + x` keeps only part
    /// of the digits of `x` and the difference of two nearly equal `ln S`
    /// would limit the relative accuracy of `x` (to about `1e-16 · age / x`);
    /// Brent's method then works on the cumulative hazard over
    /// `[age, age + x]` by quadrature instead (see
    /// [`Law::cumulative_hazard`]), which keeps the full accuracy.
    fn invert_survival(&self, age: f64, e: f64, guess: f64) -> f64 {
        let ln_s_age = self.ln_survival(age);
        let g = |x: f64| self.ln_survival(age + x) - ln_s_age + e;
        let guess = guess.clamp(MIN_SAMPLE_HOURS, f64::MAX);
        let g_guess = g(guess);
        let mut factor = 2.0_f64;
        let (mut lo, mut hi, mut g_lo, mut g_hi);
        if g_guess > 0.0 {
            (lo, g_lo) = (guess, g_guess);
            loop {
                hi = (lo * factor).min(f64::MAX);
                g_hi = g(hi);
                if g_hi <= 0.0 {
                    break;
                }
                if hi == f64::MAX {
                    return f64::MAX;
                }
                (lo, g_lo) = (hi, g_hi);
                factor *= factor;
            }
        } else {
            (hi, g_hi) = (guess, g_guess);
            loop {
                if hi <= MIN_SAMPLE_HOURS {
                    return MIN_SAMPLE_HOURS;
                }
                lo = (hi / factor).max(MIN_SAMPLE_HOURS);
                g_lo = g(lo);
                if g_lo > 0.0 {
                    break;
                }
                (hi, g_hi) = (lo, g_lo);
                factor *= factor;
            }
        }
        while hi > 2.0 * lo {
            let mid = lo.sqrt() * hi.sqrt();
            let g_mid = g(mid);
            if g_mid > 0.0 {
                (lo, g_lo) = (mid, g_mid);
            } else {
                (hi, g_hi) = (mid, g_mid);
            }
        }
        if hi <= age / 16.0 {
            // Widened a little, as the rounding of g may have put the
            // accurate root just outside [lo, hi].
            let g_acc = |x: f64| e - self.cumulative_hazard(age, ln_s_age, x);
            let (lo_acc, hi_acc) = (0.999 * lo, 1.001 * hi);
            let (g_lo_acc, g_hi_acc) = (g_acc(lo_acc), g_acc(hi_acc));
            if g_lo_acc > 0.0 && g_hi_acc <= 0.0 {
                return brent(g_acc, lo_acc, hi_acc, g_lo_acc, g_hi_acc, 1e-12 * lo_acc);
            }
        }
        brent(g, lo, hi, g_lo, g_hi, 1e-12 * lo)
    }

    /// The cumulative hazard `ln S(age) - ln S(age + x)` over
    /// `[age, age + x]`, `x > 0`, given `ln_s_age = ln S(age)`. For
    /// `x <= age / 8` it is the integral of the hazard rate by 6-point
    /// Gauss–Legendre quadrature, which loses nothing to the shortness of the
    /// interval; the hazard is smooth on such an interval, so the rule is
    /// exact to rounding, which is checked against the 3-point rule (if
    /// they differ by more than 1e-13 relatively, or for a law without a
    /// hazard rate, the difference of the logs is used instead).
    fn cumulative_hazard(&self, age: f64, ln_s_age: f64, x: f64) -> f64 {
        if x <= age / 8.0 {
            // Nodes and weights on [-1, 1].
            const NODES_6: [f64; 3] = [
                0.238_619_186_083_196_9,
                0.661_209_386_466_264_5,
                0.932_469_514_203_152,
            ];
            const WEIGHTS_6: [f64; 3] = [
                0.467_913_934_572_691_05,
                0.360_761_573_048_138_6,
                0.171_324_492_379_170_35,
            ];
            const NODE_3: f64 = 0.774_596_669_241_483_4; // sqrt(3/5)
            let (center, half) = (age + 0.5 * x, 0.5 * x);
            let h = |node: f64| self.hazard(center + half * node);
            let gl3 = half * (8.0 / 9.0 * h(0.0) + 5.0 / 9.0 * (h(-NODE_3) + h(NODE_3)));
            let gl6 = half
                * NODES_6
                    .iter()
                    .zip(WEIGHTS_6)
                    .map(|(&node, w)| w * (h(-node) + h(node)))
                    .sum::<f64>();
            if (gl6 - gl3).abs() <= 1e-13 * gl6 {
                return gl6;
            }
        }
        ln_s_age - self.ln_survival(age + x)
    }

    /// The hazard rate `f(u) / S(u)` of a lognormal or gamma law (NaN for
    /// the others, which do not need it), without cancellation in the upper
    /// tail: where `Q` comes from its continued fraction `cf` (see
    /// [`upper_gamma_cf`]), `Q(a, t) = e^-t t^a cf / Gamma(a)` and the
    /// density share the factor `e^-t t^a / Gamma(a)`, which cancels:
    /// - Gamma(α, θ), `t = u/θ`: `f(u) = e^-t t^(α-1) / (Gamma(α) θ)`, so the
    ///   hazard is `1 / (θ t cf(α, t))`;
    /// - lognormal(μ, σ), `z = (ln u - μ)/σ > 0`: `S(u) = Q(1/2, t) / 2` with
    ///   `t = z²/2`, and `f(u) = -dS/du = e^-t t^(-1/2) / (2 Gamma(1/2)) ·
    ///   dt/du` with `dt/du = z / (σ u)`, so the hazard is
    ///   `z / (σ u t cf(1/2, t)) = 2 / (σ u z cf(1/2, t))`.
    ///
    /// Elsewhere it is `exp(ln f(u) - ln S(u))`.
    fn hazard(&self, u: f64) -> f64 {
        match &self.kind {
            Kind::LogNormal { mu, sigma, .. } => {
                let z = (u.ln() - mu) / sigma;
                let t = 0.5 * z * z;
                if z > 0.0 && !upper_gamma_by_series(0.5, t) {
                    2.0 / (sigma * u * z * upper_gamma_cf(0.5, t))
                } else {
                    const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;
                    let ln_f = -t - (sigma * u).ln() - LN_SQRT_2PI;
                    (ln_f - self.ln_survival(u)).exp()
                }
            }
            Kind::Gamma { shape, scale, .. } => {
                let t = u / scale;
                if upper_gamma_by_series(*shape, t) {
                    let ln_f = (shape - 1.0) * t.ln() - t - ln_gamma(*shape) - scale.ln();
                    (ln_f - self.ln_survival(u)).exp()
                } else {
                    1.0 / (scale * t * upper_gamma_cf(*shape, t))
                }
            }
            _ => f64::NAN,
        }
    }

    /// Whether the law forgets the past: the time left does not depend on the time
    /// already spent (the exponential law).
    pub fn is_memoryless(&self) -> bool {
        matches!(self.kind, Kind::Exponential { .. })
    }

    /// The mean duration in hours.
    pub fn mean(&self) -> f64 {
        match &self.kind {
            Kind::Exponential { mean }
            | Kind::Weibull { mean, .. }
            | Kind::LogNormal { mean, .. }
            | Kind::Gamma { mean, .. }
            | Kind::Empirical { mean, .. } => *mean,
            Kind::Deterministic { value } => *value,
        }
    }

    /// `P(X <= x)`: 0 for `x <= 0`, 1 for `x = +inf`, NaN for NaN. (The
    /// clamp of samples to [`MIN_SAMPLE_HOURS`] is not reflected.)
    pub fn cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= 0.0 {
            return 0.0;
        }
        if x == f64::INFINITY {
            return 1.0;
        }
        match &self.kind {
            // 1 - exp(-x/m), computed without cancellation for small x.
            Kind::Exponential { mean } => -(-x / mean).exp_m1(),
            // 1 - exp(-(x/λ)^k).
            Kind::Weibull { shape, scale, .. } => -(-(x / scale).powf(*shape)).exp_m1(),
            // Φ((ln x - μ) / σ).
            Kind::LogNormal { mu, sigma, .. } => std_normal_cdf((x.ln() - mu) / sigma),
            // P(α, x/θ), the regularized lower incomplete gamma function.
            Kind::Gamma { shape, scale, .. } => reg_lower_gamma(*shape, x / scale),
            Kind::Deterministic { value } => {
                if x >= *value {
                    1.0
                } else {
                    0.0
                }
            }
            // Fraction of observations <= x.
            Kind::Empirical { sorted, .. } => {
                sorted.partition_point(|&o| o <= x) as f64 / sorted.len() as f64
            }
        }
    }

    /// The survival function `S(x) = 1 - F(x) = P(X > x)`: 1 for `x <= 0`, 0
    /// for `x = +inf`, NaN for NaN. Computed without the cancellation of
    /// `1 - F(x)` where possible, so that it keeps its relative accuracy far
    /// in the upper tail (until it underflows):
    /// - exponential: `exp(-x/mean)`;
    /// - Weibull(k, λ): `exp(-(x/λ)^k)`;
    /// - lognormal(μ, σ): `Φ(-(ln x - μ)/σ)`, erfc-based (as `Q(1/2, z²/2)/2`);
    /// - Gamma(α, θ): `Q(α, x/θ)`, the regularized upper incomplete gamma
    ///   function;
    /// - deterministic and empirical: the fraction of the mass above `x`.
    pub fn survival(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= 0.0 {
            return 1.0;
        }
        if x == f64::INFINITY {
            return 0.0;
        }
        match &self.kind {
            Kind::Exponential { mean } => (-x / mean).exp(),
            Kind::Weibull { shape, scale, .. } => (-(x / scale).powf(*shape)).exp(),
            Kind::LogNormal { mu, sigma, .. } => std_normal_cdf(-(x.ln() - mu) / sigma),
            Kind::Gamma { shape, scale, .. } => reg_upper_gamma(*shape, x / scale),
            Kind::Deterministic { value } => {
                if x >= *value {
                    0.0
                } else {
                    1.0
                }
            }
            // Fraction of observations > x.
            Kind::Empirical { sorted, .. } => {
                let k = sorted.partition_point(|&o| o <= x);
                (sorted.len() - k) as f64 / sorted.len() as f64
            }
        }
    }

    /// `ln S(x)`: 0 for `x <= 0`, `-inf` for `x = +inf` and wherever
    /// `S(x) = 0`. For the continuous laws it stays finite (and accurate)
    /// far beyond the point where [`Law::survival`] underflows; near
    /// `S = 1` it is computed as `ln_1p(-F)`.
    fn ln_survival(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= 0.0 {
            return 0.0;
        }
        if x == f64::INFINITY {
            return f64::NEG_INFINITY;
        }
        match &self.kind {
            Kind::Exponential { mean } => -x / mean,
            Kind::Weibull { shape, scale, .. } => -(x / scale).powf(*shape),
            Kind::LogNormal { mu, sigma, .. } => ln_std_normal_sf((x.ln() - mu) / sigma),
            Kind::Gamma { shape, scale, .. } => ln_reg_upper_gamma(*shape, x / scale),
            Kind::Deterministic { .. } | Kind::Empirical { .. } => self.survival(x).ln(),
        }
    }

    /// CDF of the equilibrium residual time sampled by
    /// [`Law::sample_residual`]: `(1/mean) ∫_0^x (1 - F(u)) du`.
    ///
    /// The closed forms below use the identity (integration by parts)
    /// `∫_0^x (1 - F(u)) du = x (1 - F(x)) + ∫_0^x u f(u) du`.
    pub fn residual_cdf(&self, x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= 0.0 {
            return 0.0;
        }
        if x == f64::INFINITY {
            return 1.0;
        }
        match &self.kind {
            // (1/m) ∫_0^x e^{-u/m} du = 1 - e^{-x/m}: the same law
            // (memorylessness).
            Kind::Exponential { .. } => self.cdf(x),
            // Substituting t = (u/λ)^k, u = λ t^{1/k}, du = (λ/k) t^{1/k - 1} dt:
            //   ∫_0^x e^{-(u/λ)^k} du = (λ/k) γ(1/k, (x/λ)^k)
            //                        = (λ/k) Γ(1/k) P(1/k, (x/λ)^k)
            //                        = λ Γ(1 + 1/k) P(1/k, (x/λ)^k)
            // (as Γ(1 + a) = a Γ(a)), and mean = λ Γ(1 + 1/k), hence
            //   residual_cdf(x) = P(1/k, (x/λ)^k).
            // Cross-check with the identity: f(u) du = e^{-t} dt, so
            //   ∫_0^x u f(u) du = λ ∫_0^{(x/λ)^k} t^{1/k} e^{-t} dt
            //                   = λ Γ(1 + 1/k) P(1 + 1/k, (x/λ)^k),
            // and x (1 - F(x)) + λ Γ(1 + 1/k) P(1 + 1/k, (x/λ)^k) over the
            // mean agrees with P(1/k, ·) by the recurrence
            // P(a + 1, t) = P(a, t) - t^a e^{-t} / Γ(a + 1) (a unit test checks
            // both forms agree numerically).
            Kind::Weibull {
                shape,
                scale,
                inv_shape,
                ..
            } => reg_lower_gamma(*inv_shape, (x / scale).powf(*shape)),
            // With f the lognormal(μ, σ) density, u f(u) = mean · g(u) where g
            // is the lognormal(μ + σ², σ) density (complete the square in the
            // exponent), so ∫_0^x u f(u) du = mean · Φ((ln x - μ - σ²)/σ) and
            //   residual_cdf(x) = x (1 - F(x)) / mean + Φ((ln x - μ - σ²)/σ).
            // 1 - F(x) = Φ(-(ln x - μ)/σ) is computed directly for accuracy.
            Kind::LogNormal {
                mu, sigma, mean, ..
            } => {
                let z = (x.ln() - mu) / sigma;
                let survival = std_normal_cdf(-z);
                x * survival / mean + std_normal_cdf(z - sigma)
            }
            // With f_α the Gamma(α, θ) density,
            //   u f_α(u) = u^α e^{-u/θ} / (Γ(α) θ^α) = αθ f_{α+1}(u)
            // (as Γ(α + 1) = α Γ(α)), so ∫_0^x u f_α(u) du = αθ F_{α+1}(x) and
            //   residual_cdf(x) = [x (1 - F_α(x)) + αθ F_{α+1}(x)] / (αθ)
            //                   = x Q(α, x/θ) / (αθ) + P(α + 1, x/θ).
            Kind::Gamma {
                shape, scale, mean, ..
            } => {
                let t = x / scale;
                x * reg_upper_gamma(*shape, t) / mean + reg_lower_gamma(shape + 1.0, t)
            }
            // (1/d) ∫_0^x 1[u < d] du = min(x, d) / d.
            Kind::Deterministic { value } => (x / value).min(1.0),
            // 1 - F(u) = (1/n) Σ_i 1[u < x_i], so
            //   ∫_0^x (1 - F) = (1/n) Σ_i min(x, x_i)
            // and dividing by mean = Σx / n:
            //   residual_cdf(x) = Σ_i min(x, x_i) / Σx
            //                   = [Σ_{x_i <= x} x_i + x · #{x_i > x}] / Σx.
            Kind::Empirical {
                sorted, cumulative, ..
            } => {
                let n = sorted.len();
                let k = sorted.partition_point(|&o| o <= x);
                let below = if k == 0 { 0.0 } else { cumulative[k - 1] };
                let total = cumulative[n - 1];
                ((below + x * (n - k) as f64) / total).min(1.0)
            }
        }
    }

    /// A short human-readable description, e.g. `"exponential(mean 8760 h)"`
    /// or `"weibull(shape 1.12, scale 461386 h)"`.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Exponential { mean } => format!("exponential(mean {mean} h)"),
            Kind::Weibull { shape, scale, .. } => {
                format!("weibull(shape {shape}, scale {scale} h)")
            }
            Kind::LogNormal { median, sigma, .. } => {
                format!("lognormal(median {median} h, sigma {sigma})")
            }
            Kind::Gamma { shape, scale, .. } => format!("gamma(shape {shape}, scale {scale} h)"),
            Kind::Deterministic { value } => format!("deterministic({value} h)"),
            Kind::Empirical { sorted, mean, .. } => {
                format!("empirical({} observations, mean {mean} h)", sorted.len())
            }
        }
    }
}

impl fmt::Display for Law {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;
    use statrs::function::gamma::gamma as gamma_fn;

    /// Number of samples per statistical test.
    const N: usize = 20_000;

    /// 1 % critical value of the one-sample Kolmogorov–Smirnov statistic for
    /// large n: 1.63 / sqrt(n). For n = 20,000: sqrt(20,000) = 141.421..., so
    /// the bound is 1.63 / 141.421 = 0.011526 (about 1.15 %). The seeds are
    /// fixed, so each test is deterministic.
    fn ks_critical(n: usize) -> f64 {
        1.63 / (n as f64).sqrt()
    }

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    /// Kolmogorov–Smirnov statistic D_n = sup_x |F_n(x) - F(x)| of the
    /// samples against a continuous CDF.
    fn ks_statistic(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                // F_n jumps from i/n to (i+1)/n at x.
                (f - i as f64 / n).max((i + 1) as f64 / n - f)
            })
            .fold(0.0, f64::max)
    }

    fn samples(law: &Law, seed: u64) -> Vec<f64> {
        let mut r = rng(seed);
        (0..N).map(|_| law.sample(&mut r)).collect()
    }

    fn residual_samples(law: &Law, seed: u64) -> Vec<f64> {
        let mut r = rng(seed);
        (0..N).map(|_| law.sample_residual(&mut r)).collect()
    }

    fn assert_ks(name: &str, xs: Vec<f64>, cdf: impl Fn(f64) -> f64) {
        let d = ks_statistic(xs, cdf);
        let crit = ks_critical(N);
        assert!(d < crit, "{name}: KS D_n = {d} >= {crit}");
    }

    fn assert_ks_sample(law: &Law, seed: u64) {
        assert_ks(&law.describe(), samples(law, seed), |x| law.cdf(x));
    }

    fn assert_ks_residual(law: &Law, seed: u64) {
        let name = format!("residual of {}", law.describe());
        assert_ks(&name, residual_samples(law, seed), |x| law.residual_cdf(x));
    }

    /// Asserts that the sample mean is within 4 standard errors of
    /// `expected`, the standard error being `sd / sqrt(n)` with the exact
    /// standard deviation `sd` of the law.
    fn assert_mean(name: &str, xs: &[f64], expected: f64, sd: f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let se = sd / n.sqrt();
        assert!(
            (mean - expected).abs() < 4.0 * se,
            "{name}: sample mean {mean}, expected {expected} ± 4 × {se}"
        );
    }

    fn weibull_07() -> Law {
        Law::weibull(0.7, 1000.0).unwrap()
    }
    fn weibull_25() -> Law {
        Law::weibull(2.5, 1000.0).unwrap()
    }
    fn lognormal() -> Law {
        Law::lognormal(24.0, 0.8).unwrap()
    }
    fn gamma_small() -> Law {
        Law::gamma(0.6, 50.0).unwrap()
    }
    fn gamma_large() -> Law {
        Law::gamma(3.0, 4.0).unwrap()
    }
    const OBSERVATIONS: [f64; 6] = [0.5, 2.0, 3.0, 7.5, 12.0, 40.0];
    fn empirical() -> Law {
        // Deliberately unsorted.
        Law::empirical(vec![7.5, 0.5, 40.0, 2.0, 12.0, 3.0]).unwrap()
    }

    /// The six laws (with both Weibull and both gamma regimes).
    fn all_laws() -> Vec<Law> {
        vec![
            Law::exponential(8760.0).unwrap(),
            weibull_07(),
            weibull_25(),
            lognormal(),
            gamma_small(),
            gamma_large(),
            Law::deterministic(4.0).unwrap(),
            empirical(),
        ]
    }

    // ---------------------------------------------------------------- validation

    #[test]
    fn constructors_reject_bad_parameters() {
        let bad = [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
        let too_long = [1.000_001e12, 1e13, f64::MAX];
        type Ctor = fn(f64) -> Result<Law, LawError>;
        // (name of the parameter, constructor varying it, is it a duration?)
        let cases: [(&str, Ctor, bool); 10] = [
            ("mean", Law::exponential, true),
            ("shape", |v| Law::weibull(v, 100.0), false),
            ("scale", |v| Law::weibull(1.5, v), true),
            ("median", |v| Law::lognormal(v, 1.0), true),
            ("sigma", |v| Law::lognormal(10.0, v), false),
            ("shape", |v| Law::gamma(v, 100.0), false),
            ("scale", |v| Law::gamma(2.0, v), true),
            ("value", Law::deterministic, true),
            ("observation 0", |v| Law::empirical(vec![v]), true),
            ("observation 2", |v| Law::empirical(vec![1.0, 2.0, v]), true),
        ];
        for (param, ctor, is_duration) in cases {
            for v in bad
                .iter()
                .chain(if is_duration { &too_long[..] } else { &[] })
            {
                let err = ctor(*v).expect_err(&format!("{param} = {v} must be rejected"));
                assert!(
                    err.0.starts_with(&format!("{param} must be")),
                    "reason {err:?} should name {param}"
                );
                assert!(
                    err.0.contains(&format!("got {v}")),
                    "reason {err:?} should give the value {v}"
                );
                assert_eq!(err.to_string(), err.0);
            }
            // The largest allowed duration and a small shape are accepted.
            if is_duration {
                ctor(1e12).unwrap();
            }
            ctor(0.5).unwrap();
        }
        assert_eq!(
            Law::exponential(-1.0).unwrap_err().0,
            "mean must be finite and > 0, got -1"
        );
        assert_eq!(
            Law::exponential(2e12).unwrap_err().0,
            "mean must be <= 1e12 hours, got 2000000000000"
        );
        let err = Law::empirical(Vec::new()).unwrap_err();
        assert_eq!(err.0, "observations must be non-empty");
        // Valid parameters whose mean overflows.
        assert!(Law::weibull(0.001, 1.0).unwrap_err().0.contains("mean"));
        assert!(Law::lognormal(1.0, 40.0).unwrap_err().0.contains("mean"));
        let _: &dyn std::error::Error = &err;
    }

    // ---------------------------------------------------------------- sampling

    #[test]
    fn ks_exponential() {
        assert_ks_sample(&Law::exponential(8760.0).unwrap(), 1);
    }

    #[test]
    fn ks_weibull() {
        assert_ks_sample(&weibull_07(), 2);
        assert_ks_sample(&weibull_25(), 3);
    }

    #[test]
    fn ks_lognormal() {
        assert_ks_sample(&lognormal(), 4);
    }

    #[test]
    fn ks_gamma() {
        assert_ks_sample(&gamma_small(), 5);
        assert_ks_sample(&gamma_large(), 6);
    }

    #[test]
    fn deterministic_steps() {
        let law = Law::deterministic(4.0).unwrap();
        let mut r = rng(7);
        assert!((0..N).all(|_| law.sample(&mut r) == 4.0));
        // The CDF is a single step from 0 to 1 at the value.
        assert_eq!(law.cdf(4.0 - 1e-9), 0.0);
        assert_eq!(law.cdf(4.0), 1.0);
        assert_eq!(law.cdf(1e9), 1.0);
        assert_eq!(law.cdf(0.0), 0.0);
    }

    #[test]
    fn empirical_steps() {
        let law = empirical();
        let k = OBSERVATIONS.len();
        // The CDF steps by 1/k at each observation.
        for (i, &o) in OBSERVATIONS.iter().enumerate() {
            assert_eq!(law.cdf(o), (i + 1) as f64 / k as f64);
            assert_eq!(law.cdf(o - 1e-9), i as f64 / k as f64);
        }
        // Each observation is drawn with probability p = 1/k; its frequency
        // in N draws has standard error sqrt(p (1 - p) / N).
        let xs = samples(&law, 8);
        let p = 1.0 / k as f64;
        let se = (p * (1.0 - p) / N as f64).sqrt();
        for &o in &OBSERVATIONS {
            let freq = xs.iter().filter(|&&x| x == o).count() as f64 / N as f64;
            assert!(
                (freq - p).abs() < 4.0 * se,
                "observation {o}: frequency {freq}, expected {p} ± 4 × {se}"
            );
        }
        assert!(xs.iter().all(|x| OBSERVATIONS.contains(x)));
    }

    #[test]
    fn empirical_with_duplicates() {
        // A repeated observation is twice as likely.
        let law = Law::empirical(vec![1.0, 5.0, 5.0, 9.0]).unwrap();
        assert_eq!(law.cdf(5.0), 0.75);
        assert_eq!(law.mean(), 5.0);
        let xs = samples(&law, 9);
        let p = 0.5;
        let se = (p * (1.0 - p) / N as f64).sqrt();
        let freq = xs.iter().filter(|&&x| x == 5.0).count() as f64 / N as f64;
        assert!((freq - p).abs() < 4.0 * se, "frequency of 5: {freq}");
    }

    // ---------------------------------------------------------------- residual

    #[test]
    fn ks_residual_exponential() {
        assert_ks_residual(&Law::exponential(8760.0).unwrap(), 11);
    }

    #[test]
    fn ks_residual_weibull() {
        assert_ks_residual(&weibull_07(), 12);
        assert_ks_residual(&weibull_25(), 13);
    }

    #[test]
    fn ks_residual_lognormal() {
        assert_ks_residual(&lognormal(), 14);
    }

    #[test]
    fn ks_residual_gamma() {
        assert_ks_residual(&gamma_small(), 15);
        assert_ks_residual(&gamma_large(), 16);
    }

    #[test]
    fn ks_residual_empirical_and_deterministic() {
        // Both residual laws are continuous (U is continuous): the
        // deterministic one is Uniform(0, d), the empirical one piecewise
        // linear.
        assert_ks_residual(&empirical(), 17);
        assert_ks_residual(&Law::deterministic(4.0).unwrap(), 18);
    }

    #[test]
    fn residual_quantile_inverts_the_residual_cdf() {
        // Q(q) must solve residual_cdf(x) = q; Newton stops at a relative step of
        // 1e-13, so the CDF there is q to within about q * 1e-12 (the CDF's slope,
        // S(x)/mean, is at most 1/mean and x <= q mean / S(x)); 1e-10 relative leaves
        // room for rounding in the incomplete gamma functions.
        let laws = [
            Law::exponential(8760.0).unwrap(),
            weibull_07(),
            weibull_25(),
            Law::weibull(1.12, 461_386.0).unwrap(),
            lognormal(),
            gamma_small(),
            gamma_large(),
            Law::deterministic(4.0).unwrap(),
        ];
        for law in &laws {
            for q in [1e-9, 1e-4, 0.01, 0.05, 0.1, 0.3, 0.7, 0.95] {
                let x = law.residual_quantile(q);
                let back = law.residual_cdf(x);
                assert!(
                    (back - q).abs() <= 1e-10 * q,
                    "{}: residual_cdf(Q({q})) = {back}",
                    law.describe()
                );
            }
        }
    }

    /// Draws `m` residuals within `horizon` and checks (a) that the share kept is
    /// `p = residual_cdf(horizon)` to within 5 binomial standard errors, and (b)
    /// the kept values against the conditional law `residual_cdf(x) / p` on
    /// `[0, horizon)` by Kolmogorov–Smirnov at the 1 % level (1.63 / sqrt(kept)).
    fn assert_residual_within(law: &Law, horizon: f64, m: usize, inverted: bool, seed: u64) {
        let plan = law.residual_plan(horizon);
        assert_eq!(
            plan.inverted_within.is_some(),
            inverted,
            "{}",
            law.describe()
        );
        let p = law.residual_cdf(horizon);
        let mut r = rng(seed);
        let kept: Vec<f64> = (0..m)
            .filter_map(|_| law.sample_residual_within(plan, &mut r))
            .collect();
        let expected = m as f64 * p;
        let se = (expected * (1.0 - p)).sqrt();
        let name = law.describe();
        assert!(
            (kept.len() as f64 - expected).abs() < 5.0 * se,
            "{name}: kept {} of {m}, expected {expected} ± 5 × {se}",
            kept.len()
        );
        assert!(kept.iter().all(|&x| x < horizon));
        let crit = ks_critical(kept.len());
        let d = ks_statistic(kept, |x| law.residual_cdf(x) / p);
        assert!(d < crit, "{name} within {horizon}: KS D_n = {d} >= {crit}");
    }

    #[test]
    fn residuals_within_a_horizon_follow_the_conditional_law() {
        // A disk (Weibull 1.12, 461,386 h) over a year: P(R < 8760) = P(1/1.12,
        // (8760/461386)^1.12) ≈ 0.019, below INVERT_BELOW, so drawn by inversion;
        // 400,000 draws keep about 7,700.
        let disk = Law::weibull(1.12, 461_386.0).unwrap();
        assert_residual_within(&disk, 8760.0, 400_000, true, 21);
        // A hundred-year flood (exponential) over a year: p = 1 - e^-0.01 ≈ 0.00995,
        // the closed form; 1,000,000 draws keep about 9,950.
        let flood = Law::exponential(876_000.0).unwrap();
        assert_residual_within(&flood, 8760.0, 1_000_000, true, 22);
        // Lognormal and gamma with p ≈ 0.05 (horizons chosen from their quantiles).
        let lognormal = lognormal();
        let h = lognormal.residual_quantile(0.05);
        assert_residual_within(&lognormal, h, 200_000, true, 23);
        let gamma = gamma_small();
        let h = gamma.residual_quantile(0.05);
        assert_residual_within(&gamma, h, 200_000, true, 24);
        // A repair (p near 1) is drawn directly: the plan must say so, and the law
        // be the same.
        assert_residual_within(&lognormal, 8760.0, 20_000, false, 25);
        assert_residual_within(&empirical(), 30.0, 20_000, false, 26);
    }

    /// Composite Simpson rule for ∫_a^b f with `m` (even) intervals.
    fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, m: usize) -> f64 {
        let h = (b - a) / m as f64;
        let inner: f64 = (1..m)
            .map(|i| {
                let w = if i % 2 == 1 { 4.0 } else { 2.0 };
                w * f(a + i as f64 * h)
            })
            .sum();
        (f(a) + inner + f(b)) * h / 3.0
    }

    #[test]
    fn residual_cdf_matches_numerical_integral() {
        // residual_cdf(x) = (1/mean) ∫_0^x (1 - F(u)) du, checked with Simpson
        // at several points of each law. The Weibull(0.7) survival has an
        // infinite slope at 0, hence the fine grid. For the discrete laws the
        // survival function jumps, where Simpson's error is O(h) instead:
        // with h = 6 m / 200,000 it is at most about (4/3) h / m = 4e-5.
        for law in all_laws() {
            let m = law.mean();
            let tolerance = match law.kind {
                Kind::Deterministic { .. } | Kind::Empirical { .. } => 1e-4,
                _ => 1e-6,
            };
            for q in [0.05, 0.3, 1.0, 2.5, 6.0] {
                let x = q * m;
                let numeric = simpson(|u| 1.0 - law.cdf(u), 0.0, x, 200_000) / m;
                let exact = law.residual_cdf(x);
                assert!(
                    (numeric - exact).abs() < tolerance,
                    "{}: residual_cdf({x}) = {exact}, numerically {numeric}",
                    law.describe()
                );
            }
            assert_eq!(law.residual_cdf(0.0), 0.0);
            assert_eq!(law.residual_cdf(-1.0), 0.0);
            assert_eq!(law.residual_cdf(f64::INFINITY), 1.0);
            assert_eq!(law.cdf(f64::INFINITY), 1.0);
            assert!(law.cdf(f64::NAN).is_nan());
            assert!(law.residual_cdf(f64::NAN).is_nan());
        }
    }

    #[test]
    fn weibull_residual_cdf_forms_agree() {
        // P(1/k, t) against the identity form
        // [x (1 - F(x)) + λ Γ(1 + 1/k) P(1 + 1/k, t)] / mean, t = (x/λ)^k.
        for (k, lambda) in [(0.7, 1000.0), (1.0, 50.0), (2.5, 1000.0), (5.0, 3.0)] {
            let law = Law::weibull(k, lambda).unwrap();
            let mean = lambda * gamma_fn(1.0 + 1.0 / k);
            assert!((law.mean() - mean).abs() <= 1e-12 * mean);
            for q in [0.01, 0.2, 0.9, 1.7, 4.0] {
                let x = q * mean;
                let t: f64 = (x / lambda).powf(k);
                let identity = (x * (-t).exp() + mean * gamma_lr(1.0 + 1.0 / k, t)) / mean;
                let r = law.residual_cdf(x);
                assert!(
                    (r - identity).abs() < 1e-12,
                    "k {k}, x {x}: {r} vs {identity}"
                );
            }
        }
        // Shape 1 is the exponential, whose residual law is itself.
        let w = Law::weibull(1.0, 50.0).unwrap();
        let e = Law::exponential(50.0).unwrap();
        for x in [1.0, 10.0, 50.0, 200.0] {
            assert!((w.residual_cdf(x) - e.residual_cdf(x)).abs() < 1e-12);
            assert!((w.cdf(x) - e.cdf(x)).abs() < 1e-12);
        }
    }

    // ---------------------------------------------------------------- means

    /// Exact raw moment E[X^j] of each test law (j = 1, 2, 3):
    /// - exponential(m): j! m^j;
    /// - Weibull(k, λ): λ^j Γ(1 + j/k) (so the mean is λ Γ(1 + 1/k));
    /// - lognormal(μ, σ): exp(j μ + j² σ² / 2) (so the mean is
    ///   median · exp(σ²/2));
    /// - Gamma(α, θ): θ^j Γ(α + j) / Γ(α) = θ^j α (α+1) ... (α+j-1) (so the
    ///   mean is αθ);
    /// - deterministic d: d^j;
    /// - empirical: (1/n) Σ x_i^j.
    fn raw_moment(law: &Law, j: i32) -> f64 {
        match &law.kind {
            Kind::Exponential { mean } => gamma_fn(j as f64 + 1.0) * mean.powi(j),
            Kind::Weibull { shape, scale, .. } => scale.powi(j) * gamma_fn(1.0 + j as f64 / shape),
            Kind::LogNormal { mu, sigma, .. } => {
                let j = j as f64;
                (j * mu + j * j * sigma * sigma / 2.0).exp()
            }
            Kind::Gamma { shape, scale, .. } => {
                scale.powi(j) * (0..j).map(|i| shape + i as f64).product::<f64>()
            }
            Kind::Deterministic { value } => value.powi(j),
            Kind::Empirical { sorted, .. } => {
                sorted.iter().map(|x| x.powi(j)).sum::<f64>() / sorted.len() as f64
            }
        }
    }

    #[test]
    fn mean_matches_moments() {
        for law in all_laws() {
            let m = raw_moment(&law, 1);
            assert!(
                (law.mean() - m).abs() <= 1e-12 * m,
                "{}: mean() {} vs {m}",
                law.describe(),
                law.mean()
            );
        }
        assert_eq!(empirical().mean(), 65.0 / 6.0);
    }

    #[test]
    fn sample_means() {
        for (seed, law) in (21..).zip(all_laws()) {
            // sd = sqrt(E[X²] - E[X]²).
            let m1 = raw_moment(&law, 1);
            let sd = (raw_moment(&law, 2) - m1 * m1).max(0.0).sqrt();
            let xs = samples(&law, seed);
            if sd == 0.0 {
                // Deterministic: every sample is the mean.
                assert!(xs.iter().all(|&x| x == law.mean()));
            } else {
                assert_mean(&law.describe(), &xs, law.mean(), sd);
            }
        }
    }

    #[test]
    fn residual_sample_means() {
        // The residual density is (1 - F(x)) / m, whose raw moments are
        // E[R^j] = E[X^{j+1}] / ((j + 1) m) (integrate x^j (1 - F) by parts).
        // So E[R] = E[X²] / (2m) and E[R²] = E[X³] / (3m); e.g. m for the
        // exponential, d/2 for the deterministic law.
        for (seed, law) in (31..).zip(all_laws()) {
            let m = law.mean();
            let r1 = raw_moment(&law, 2) / (2.0 * m);
            let r2 = raw_moment(&law, 3) / (3.0 * m);
            let sd = (r2 - r1 * r1).sqrt();
            let xs = residual_samples(&law, seed);
            assert_mean(&format!("residual of {}", law.describe()), &xs, r1, sd);
        }
    }

    // ---------------------------------------------------------------- robustness

    #[test]
    fn samples_are_always_finite_and_positive() {
        // Extreme but valid parameters: tiny shapes underflow to 0 and huge
        // sigmas overflow; samples must still be finite and >= 1e-12 h.
        let laws = [
            Law::gamma(1e-3, 1.0).unwrap(),
            Law::gamma(1e-3, 1e-12).unwrap(),
            Law::weibull(0.01, 1e12).unwrap(),
            Law::weibull(50.0, 1e-12).unwrap(),
            Law::lognormal(1e12, 30.0).unwrap(),
            Law::lognormal(1e-12, 30.0).unwrap(),
            Law::exponential(1e-12).unwrap(),
            Law::exponential(1e12).unwrap(),
            Law::deterministic(1e-15).unwrap(),
            Law::empirical(vec![1e-15, 1e12]).unwrap(),
        ];
        let mut r = rng(99);
        for law in &laws {
            for _ in 0..2_000 {
                for x in [law.sample(&mut r), law.sample_residual(&mut r)] {
                    assert!(
                        x.is_finite() && x >= MIN_SAMPLE_HOURS,
                        "{}: sample {x}",
                        law.describe()
                    );
                }
            }
            for x in [1e-300, 1e-12, 1.0, 1e12, 1e300] {
                for p in [law.cdf(x), law.residual_cdf(x)] {
                    assert!((0.0..=1.0).contains(&p), "{}: {p} at {x}", law.describe());
                }
            }
        }
    }

    #[test]
    fn describe_and_display() {
        assert_eq!(
            Law::exponential(8760.0).unwrap().describe(),
            "exponential(mean 8760 h)"
        );
        assert_eq!(
            Law::weibull(1.12, 461386.0).unwrap().to_string(),
            "weibull(shape 1.12, scale 461386 h)"
        );
        assert_eq!(lognormal().describe(), "lognormal(median 24 h, sigma 0.8)");
        assert_eq!(gamma_large().describe(), "gamma(shape 3, scale 4 h)");
        assert_eq!(
            Law::deterministic(4.0).unwrap().describe(),
            "deterministic(4 h)"
        );
        assert_eq!(
            Law::empirical(vec![1.0, 5.0, 5.0, 9.0]).unwrap().describe(),
            "empirical(4 observations, mean 5 h)"
        );
    }

    #[test]
    fn exponential_values_are_stable() {
        // Pins the exact stream of the hot path (Exp1 scaled by the mean) so
        // that an upstream change in rand / rand_distr / rand_xoshiro is
        // noticed.
        let law = Law::exponential(10.0).unwrap();
        let mut r = rng(42);
        let got: Vec<f64> = (0..3).map(|_| law.sample(&mut r)).collect();
        let expected: [f64; 3] = [10.640204579905184, 4.672716667125902, 14.997507741445462];
        for (g, e) in got.iter().zip(expected) {
            assert_eq!(g.to_bits(), e.to_bits(), "got {got:?}");
        }
    }

    // ---------------------------------------------------------------- survival

    #[test]
    fn survival_matches_one_minus_cdf() {
        // Where S is not small, 1 - F(x) loses nothing and must agree with
        // S(x) to rounding (also for the discrete laws, as fractions k/n).
        for law in all_laws() {
            let m = law.mean();
            for q in [1e-3, 0.1, 0.5, 1.0, 1.5, 2.0] {
                let x = q * m;
                let s = law.survival(x);
                let one_minus_f = 1.0 - law.cdf(x);
                match law.kind {
                    Kind::Deterministic { .. } | Kind::Empirical { .. } => {
                        assert!((s - one_minus_f).abs() < 1e-15, "{} at {x}", law.describe());
                    }
                    _ => {
                        assert!(s > 1e-3, "{} at {x}: S = {s}", law.describe());
                        assert!(
                            (s - one_minus_f).abs() <= 1e-12 * s,
                            "{} at {x}: S = {s}, 1 - F = {one_minus_f}",
                            law.describe()
                        );
                    }
                }
            }
            assert_eq!(law.survival(0.0), 1.0);
            assert_eq!(law.survival(-1.0), 1.0);
            assert_eq!(law.survival(f64::INFINITY), 0.0);
            assert!(law.survival(f64::NAN).is_nan());
        }
        // The empirical survival steps down by 1/k at each observation.
        let law = empirical();
        let k = OBSERVATIONS.len() as f64;
        for (i, &o) in OBSERVATIONS.iter().enumerate() {
            assert_eq!(law.survival(o - 1e-9), (k - i as f64) / k);
            assert_eq!(law.survival(o), (k - i as f64 - 1.0) / k);
        }
        let law = Law::deterministic(4.0).unwrap();
        assert_eq!(law.survival(4.0 - 1e-9), 1.0);
        assert_eq!(law.survival(4.0), 0.0);
    }

    fn assert_relative(name: &str, got: f64, expected: f64, tolerance: f64) {
        assert!(
            (got - expected).abs() <= tolerance * expected.abs(),
            "{name}: got {got:e}, expected {expected:e} (relative {})",
            ((got - expected) / expected).abs()
        );
    }

    #[test]
    fn survival_far_in_the_tail() {
        // Hand-derived values where 1 - F(x) would be 0 or pure rounding
        // noise; each to a relative 1e-12.
        // Exponential(1) at 50: e^-50 = 1.9287498479639178e-22.
        let s = Law::exponential(1.0).unwrap().survival(50.0);
        assert_relative("exponential", s, 1.928_749_847_963_917_8e-22, 1e-12);
        assert_eq!(Law::exponential(1.0).unwrap().cdf(50.0), 1.0);
        // Weibull(2, 1) at 10: e^-(10²) = e^-100.
        let s = Law::weibull(2.0, 1.0).unwrap().survival(10.0);
        assert_relative("weibull(2, 1)", s, (-100.0_f64).exp(), 1e-12);
        // Weibull(1.12, 461386) at 1e7: exp(-(1e7 / 461386)^1.12)
        // = exp(-31.35...) = 2.4240673318968374e-14.
        let s = Law::weibull(1.12, 461_386.0).unwrap().survival(1e7);
        assert_relative("weibull(1.12)", s, 2.424_067_331_896_837_4e-14, 1e-12);
        // Lognormal(median 1, sigma 1) at e^10: z = 10, Φ(-10) =
        // 7.619853024160526e-24 (the standard normal tail at 10 sigma).
        let s = Law::lognormal(1.0, 1.0).unwrap().survival(10.0_f64.exp());
        assert_relative("lognormal", s, 7.619_853_024_160_526e-24, 1e-12);
        // Gamma(1, θ) is exponential: Q(1, t) = e^-t.
        let s = Law::gamma(1.0, 2.0).unwrap().survival(100.0);
        assert_relative("gamma(1, 2)", s, (-50.0_f64).exp(), 1e-12);
        // Gamma(3, 4) at 400: t = 100, and for an integer shape
        // Q(3, t) = e^-t (1 + t + t²/2) = 5101 e^-100.
        let s = gamma_large().survival(400.0);
        assert_relative("gamma(3, 4)", s, 5101.0 * (-100.0_f64).exp(), 1e-12);
        // Gamma(1/2, 1): Q(1/2, t) = erfc(√t) (substitute u = v² in the
        // integral), at t = 50: erfc(√50) = 1.5239706048321052e-23.
        let s = Law::gamma(0.5, 1.0).unwrap().survival(50.0);
        assert_relative("gamma(1/2, 1)", s, 1.523_970_604_832_105e-23, 1e-12);
        // The normal tail in between: lognormal(1, 1) at e^5 and e^-5,
        // Φ(-5) = 2.866515718791939e-7 (and Φ(5) = 1 - Φ(-5)).
        let law = Law::lognormal(1.0, 1.0).unwrap();
        assert_relative(
            "Φ(-5)",
            law.survival(5.0_f64.exp()),
            2.866_515_718_791_939e-7,
            1e-12,
        );
        assert_relative(
            "Φ(-5)",
            law.cdf((-5.0_f64).exp()),
            2.866_515_718_791_939e-7,
            1e-12,
        );
        // Gamma(0.6, 50) at 2000: Q(0.6, 40) = 6.459905483477698e-19 (by
        // the asymptotic expansion e^-t t^(a-1) / Γ(a) · (1 + (a-1)/t +
        // (a-1)(a-2)/t² + ...)).
        let s = gamma_small().survival(2000.0);
        assert_relative("gamma(0.6, 50)", s, 6.459_905_483_477_698e-19, 1e-12);
    }

    #[test]
    fn ln_survival_beyond_underflow() {
        // Where S underflows, sample_after still needs ln S.
        // Lognormal(1, 1) at e^z: ln Φ(-z) = -z²/2 - ln(z √(2π))
        // + ln(1 - 1/z² + 3/z⁴ - 15/z⁶ + 105/z⁸ - 945/z¹⁰ + ...), the
        // asymptotic series of Mills' ratio, whose error after these terms
        // is below 10395/z¹² (1e-15 at z = 40).
        // (σ = 0.1 keeps x = e^(z/10) representable.)
        let law = Law::lognormal(1.0, 0.1).unwrap();
        for z in [40.0_f64, 100.0, 1000.0] {
            let w = 1.0 / (z * z);
            let series =
                1.0 - w * (1.0 - 3.0 * w * (1.0 - 5.0 * w * (1.0 - 7.0 * w * (1.0 - 9.0 * w))));
            let expected =
                -0.5 * z * z - (z * (2.0 * std::f64::consts::PI).sqrt()).ln() + series.ln();
            assert_relative(
                &format!("ln Φ(-{z})"),
                law.ln_survival((0.1 * z).exp()),
                expected,
                1e-13,
            );
            assert_eq!(law.survival((0.1 * z).exp()), 0.0);
        }
        // The same against 40-digit values: ln Φ(-40) = -804.60844201375379,
        // ln Φ(-100) = -5005.5242086942051.
        assert_relative(
            "ln Φ(-40)",
            law.ln_survival(4.0_f64.exp()),
            -804.608_442_013_753_8,
            1e-13,
        );
        assert_relative(
            "ln Φ(-100)",
            law.ln_survival(10.0_f64.exp()),
            -5_005.524_208_694_205,
            1e-13,
        );
        // Gamma(3, 4) at 4000: t = 1000, ln Q(3, t) = -t + ln(1 + t + t²/2)
        // = -1000 + ln 501001.
        assert_relative(
            "ln Q(3, 1000)",
            gamma_large().ln_survival(4000.0),
            -1000.0 + 501_001.0_f64.ln(),
            1e-13,
        );
        // Gamma(0.6, 1) at 5000: ln Q(0.6, 5000) = -5003.8051911154449.
        assert_relative(
            "ln Q(0.6, 5000)",
            Law::gamma(0.6, 1.0).unwrap().ln_survival(5000.0),
            -5_003.805_191_115_445,
            1e-13,
        );
        // Where S is representable, ln S agrees with ln(survival) on both
        // sides of every switch of method (ln_1p(-F) below the median, then
        // ln Q(1/2, z²/2) - ln 2; the series of P, then the continued
        // fraction of Q beyond t = max(1, a)).
        let laws = [
            Law::lognormal(1.0, 1.0).unwrap(),
            gamma_small(),
            gamma_large(),
            Law::gamma(50.0, 1.0).unwrap(),
            Law::weibull(0.7, 3.0).unwrap(),
            Law::exponential(2.0).unwrap(),
        ];
        for law in &laws {
            for i in 0..400 {
                // x from 1e-6 to about 1e16 times the mean.
                let x = law.mean() * 10.0_f64.powf(-6.0 + 0.055 * i as f64);
                let s = law.survival(x);
                if s < 1e-300 {
                    break;
                }
                let ln_s = law.ln_survival(x);
                assert!(
                    (ln_s - s.ln()).abs() <= 1e-12 * s.ln().abs() + 1e-15,
                    "{} at {x}: ln S = {ln_s}, ln(S) = {}",
                    law.describe(),
                    s.ln()
                );
            }
        }
        // The continued fraction of ln Q against statrs' Q where the latter
        // does not underflow.
        for a in [0.5, 0.6, 1.0, 3.0, 40.0] {
            for t in [1.0001, 1.5, 2.0, 5.0, 30.0, 40.5, 41.0, 100.0, 300.0, 650.0] {
                if t <= a {
                    continue;
                }
                let q = reg_upper_gamma(a, t);
                assert_relative(
                    &format!("ln Q({a}, {t})"),
                    ln_reg_upper_gamma(a, t),
                    q.ln(),
                    1e-13,
                );
            }
        }
    }

    // ---------------------------------------------------------------- sample_after

    /// 0.1 % critical value of the one-sample Kolmogorov–Smirnov statistic
    /// for large n: 1.95 / sqrt(n) (the Kolmogorov distribution's 0.999
    /// quantile is 1.9495). For n = 20,000: 1.95 / 141.421 = 0.013789.
    fn ks_critical_strict(n: usize) -> f64 {
        1.95 / (n as f64).sqrt()
    }

    /// Exact CDF of X - age given X > age: (F(age + x) - F(age)) / S(age),
    /// computed in that form while S(age) >= 0.01; further out, where
    /// F(age) rounds towards 1, as the same 1 - S(age + x) / S(age) from the
    /// survival function, and where S(age) underflows, from its logarithm.
    fn conditional_cdf(law: &Law, age: f64, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let s_age = law.survival(age);
        if s_age >= 0.01 {
            (law.cdf(age + x) - law.cdf(age)) / s_age
        } else if s_age >= 1e-250 {
            (s_age - law.survival(age + x)) / s_age
        } else {
            -(law.ln_survival(age + x) - law.ln_survival(age)).exp_m1()
        }
    }

    fn after_samples(law: &Law, age: f64, seed: u64) -> Vec<f64> {
        let mut r = rng(seed);
        (0..N).map(|_| law.sample_after(age, &mut r)).collect()
    }

    fn assert_ks_after(law: &Law, age: f64, seed: u64) {
        let xs = after_samples(law, age, seed);
        assert!(xs.iter().all(|x| x.is_finite() && *x >= MIN_SAMPLE_HOURS));
        let d = ks_statistic(xs, |x| conditional_cdf(law, age, x));
        let crit = ks_critical_strict(N);
        assert!(
            d < crit,
            "{} after {age} h: KS D_n = {d} >= {crit}",
            law.describe()
        );
    }

    /// The median, by bisection on the CDF.
    fn median(law: &Law) -> f64 {
        let (mut lo, mut hi) = (0.0, 100.0 * law.mean());
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if law.cdf(mid) < 0.5 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    #[test]
    fn ks_after_exponential() {
        let law = Law::exponential(8760.0).unwrap();
        // The far age has S = e^-50.
        for (seed, age) in (41..).zip([0.0, median(&law), 50.0 * 8760.0]) {
            assert_ks_after(&law, age, seed);
        }
    }

    #[test]
    fn ks_after_weibull() {
        // Far ages: (1e5 / 1000)^0.7 = 25.1, (4000 / 1000)^2.5 = 32,
        // (1e7 / 461386)^1.12 = 31.4 (S ≈ e^-25 to e^-32), and for
        // Weibull(3, 10) at 1000, (x/λ)^k = 1e6: S underflows, and the
        // remaining life is about age / (k t) · E = 3.3e-4 E hours.
        let big = Law::weibull(1.12, 461_386.0).unwrap();
        let steep = Law::weibull(3.0, 10.0).unwrap();
        let cases = [
            (weibull_07(), vec![0.0, median(&weibull_07()), 1e5]),
            (weibull_25(), vec![0.0, median(&weibull_25()), 4000.0]),
            (big.clone(), vec![0.0, 1e6, 1e7]),
            (steep, vec![1e-3, 1000.0]),
        ];
        let mut seed = 51;
        for (law, ages) in &cases {
            for &age in ages {
                assert_ks_after(law, age, seed);
                seed += 1;
            }
        }
    }

    #[test]
    fn ks_after_lognormal() {
        // 100 medians: z = ln(100) / 0.8 = 5.8 (S = 4e-9) and
        // ln(100) / 0.3 = 15.4 (S = 1e-53); lognormal(1, 0.1) at 100 has
        // z = 46 where S (1e-462) underflows.
        let narrow = Law::lognormal(24.0, 0.3).unwrap();
        let tiny = Law::lognormal(1.0, 0.1).unwrap();
        let cases = [
            (lognormal(), vec![0.0, 24.0, 2400.0]),
            (narrow, vec![24.0, 2400.0]),
            (tiny, vec![100.0]),
        ];
        let mut seed = 61;
        for (law, ages) in &cases {
            for &age in ages {
                assert_ks_after(law, age, seed);
                seed += 1;
            }
        }
    }

    #[test]
    fn ks_after_gamma() {
        // Far ages: t = 40 for gamma(0.6, 50) (S = 6e-19), t = 100 for
        // gamma(3, 4) (S = 2e-40), and t = 1000 where S underflows.
        let cases = [
            (gamma_small(), vec![0.0, median(&gamma_small()), 2000.0]),
            (
                gamma_large(),
                vec![0.0, median(&gamma_large()), 400.0, 4000.0],
            ),
        ];
        let mut seed = 71;
        for (law, ages) in &cases {
            for &age in ages {
                assert_ks_after(law, age, seed);
                seed += 1;
            }
        }
    }

    #[test]
    fn ks_after_empirical() {
        // The conditional law is discrete, so D_n = sup |F_n - F| is taken
        // over its support points, where both step functions jump (the
        // continuous-law critical value is conservative for a discrete law).
        let law = empirical();
        for (seed, age) in (81..).zip([0.0, 2.5, 7.5, 39.0]) {
            let xs = after_samples(&law, age, seed);
            let support: Vec<f64> = OBSERVATIONS
                .iter()
                .filter(|&&o| o > age)
                .map(|&o| o - age)
                .collect();
            assert!(xs.iter().all(|x| support.contains(x)), "age {age}");
            let n = xs.len() as f64;
            let d = support
                .iter()
                .map(|&s| {
                    let f_n = xs.iter().filter(|&&x| x <= s).count() as f64 / n;
                    (f_n - conditional_cdf(&law, age, s)).abs()
                })
                .fold(0.0, f64::max);
            let crit = ks_critical_strict(N);
            assert!(d < crit, "empirical after {age} h: D_n = {d} >= {crit}");
        }
    }

    #[test]
    fn sample_after_edge_cases() {
        let mut r = rng(91);
        // Deterministic: the rest of the value, whatever the generator.
        let law = Law::deterministic(4.0).unwrap();
        assert_eq!(law.sample_after(0.0, &mut r), 4.0);
        assert_eq!(law.sample_after(1.5, &mut r), 2.5);
        assert_eq!(law.sample_after(4.0 - 1e-15, &mut r), MIN_SAMPLE_HOURS);
        // At or past the value: the minimum sample.
        assert_eq!(law.sample_after(4.0, &mut r), MIN_SAMPLE_HOURS);
        assert_eq!(law.sample_after(1e9, &mut r), MIN_SAMPLE_HOURS);
        // Empirical: only observations strictly larger than the age count.
        let law = empirical();
        for _ in 0..100 {
            assert_eq!(law.sample_after(39.5, &mut r), 0.5);
            assert_eq!(law.sample_after(40.0, &mut r), MIN_SAMPLE_HOURS);
            assert_eq!(law.sample_after(1e6, &mut r), MIN_SAMPLE_HOURS);
            let x = law.sample_after(7.5, &mut r);
            assert!(x == 4.5 || x == 32.5, "{x}");
        }
        // Out-of-contract ages are taken as 0 (negative, NaN) or f64::MAX.
        let law = Law::deterministic(4.0).unwrap();
        assert_eq!(law.sample_after(-1.0, &mut r), 4.0);
        assert_eq!(law.sample_after(f64::NAN, &mut r), 4.0);
        assert_eq!(law.sample_after(f64::INFINITY, &mut r), MIN_SAMPLE_HOURS);
    }

    #[test]
    fn sample_after_solves_the_conditional_survival() {
        // The root found for ln S(age + x) = ln S(age) - E lies within a
        // relative 1e-10 of the returned x: g changes sign across
        // x (1 ± 1e-10). (This g only resolves such a change when x is not
        // much smaller than age: see sample_after_short_remaining_life.)
        let laws = [
            lognormal(),
            Law::lognormal(24.0, 0.3).unwrap(),
            Law::lognormal(5.0, 2.5).unwrap(),
            gamma_small(),
            gamma_large(),
            Law::gamma(40.0, 0.5).unwrap(),
        ];
        for law in &laws {
            let m = median(law);
            for age in [0.0, 0.3 * m, m, 10.0 * m] {
                for e in [1e-9, 1e-3, 0.3, 1.0, 5.0, 30.0] {
                    let x = law.invert_survival(age, e, m);
                    let target = law.ln_survival(age) - e;
                    let g = |x: f64| law.ln_survival(age + x) - target;
                    if x == MIN_SAMPLE_HOURS {
                        // The root is below the minimum sample.
                        assert!(g(x) <= 0.0, "{} after {age}, E = {e}", law.describe());
                        continue;
                    }
                    if x < 1e-3 * age {
                        continue;
                    }
                    assert!(
                        g(x * (1.0 - 1e-10)) >= 0.0 && g(x * (1.0 + 1e-10)) <= 0.0,
                        "{} after {age}, E = {e}: x = {x}, g = {}",
                        law.describe(),
                        g(x)
                    );
                }
            }
        }
        // Gamma(1, θ) is exponential, so the exact root is θ E at any age;
        // also far in the tail (t = 1e4, S = e^-10000) and from any guess.
        let law = Law::gamma(1.0, 3.0).unwrap();
        for age in [0.0, 1.0, 30.0, 3e4] {
            for e in [1e-6, 0.01, 1.0, 30.0] {
                for guess in [1e-12, 3.0, 1e12] {
                    let x = law.invert_survival(age, e, guess);
                    assert_relative(&format!("age {age}, E {e}"), x, 3.0 * e, 1e-10);
                }
            }
        }
        // A root below the minimum sample gives it; one past f64::MAX too.
        assert_eq!(law.invert_survival(0.0, 1e-20, 3.0), MIN_SAMPLE_HOURS);
    }

    /// The hazard rate f(u) / S(u) from the textbook densities:
    /// lognormal φ(z) / (σ u), z = (ln u - μ) / σ; gamma
    /// t^(α-1) e^-t / (Γ(α) θ), t = u / θ.
    fn textbook_hazard(law: &Law, u: f64) -> f64 {
        let f = match law.kind {
            Kind::LogNormal { mu, sigma, .. } => {
                let z = (u.ln() - mu) / sigma;
                (-0.5 * z * z).exp() / (sigma * u * (2.0 * std::f64::consts::PI).sqrt())
            }
            Kind::Gamma { shape, scale, .. } => {
                let t = u / scale;
                t.powf(shape - 1.0) * (-t).exp() / (gamma_fn(shape) * scale)
            }
            _ => unreachable!(),
        };
        f / law.survival(u)
    }

    #[test]
    fn sample_after_short_remaining_life() {
        // When x is much smaller than the age, the cumulative hazard over
        // [age, age + x] is x h(age + x/2) to a relative (h''/h) x² / 24
        // (midpoint rule), negligible here; the solution of "cumulative
        // hazard = E" must match it to 1e-10 although age + x keeps only
        // part of the digits of x.
        let cases = [
            (lognormal(), vec![24.0, 240.0, 2400.0]),
            (Law::lognormal(24.0, 0.3).unwrap(), vec![2400.0]),
            (gamma_small(), vec![median(&gamma_small()), 2000.0]),
            (gamma_large(), vec![median(&gamma_large()), 400.0]),
        ];
        for (law, ages) in &cases {
            for &age in ages {
                for e in [1e-12, 1e-9, 1e-6] {
                    let x = law.invert_survival(age, e, median(law));
                    assert!(x < 1e-3 * age, "{} after {age}: x = {x}", law.describe());
                    let midpoint = x * textbook_hazard(law, age + 0.5 * x);
                    assert_relative(
                        &format!("{} after {age}, E = {e}", law.describe()),
                        midpoint,
                        e,
                        1e-10,
                    );
                }
            }
        }
        // The quadrature agrees with the difference of the logs where both
        // are accurate.
        for (law, ages) in &cases {
            for &age in ages {
                for x in [1e-3 * age, 0.01 * age, 0.1 * age] {
                    let ln_s_age = law.ln_survival(age);
                    let quadrature = law.cumulative_hazard(age, ln_s_age, x);
                    let difference = ln_s_age - law.ln_survival(age + x);
                    assert_relative(
                        &format!("{} over [{age}, + {x}]", law.describe()),
                        quadrature,
                        difference,
                        1e-9,
                    );
                }
            }
        }
    }

    #[test]
    fn sample_after_means() {
        // Exponential: memoryless, the mean remaining life is the mean and
        // its sd is the mean, at every age.
        let law = Law::exponential(8760.0).unwrap();
        for (seed, age) in (101..).zip([0.0, 8760.0, 1e6]) {
            let xs = after_samples(&law, age, seed);
            assert_mean(&format!("exponential after {age}"), &xs, 8760.0, 8760.0);
        }
        // Weibull with shape 2 (Rayleigh), S(x) = e^{-(x/λ)²}. With u = a/λ,
        //   m(a) = E[X - a | X > a] = ∫_a^∞ S(x) dx / S(a)
        //        = e^{u²} λ ∫_u^∞ e^{-v²} dv = λ (√π/2) e^{u²} erfc(u),
        // and E[(X - a)² | X > a] = 2 ∫_a^∞ (x - a) S(x) dx / S(a), where
        //   ∫_a^∞ x e^{-(x/λ)²} dx = (λ²/2) e^{-u²},
        // so E[(X - a)²| X > a] = λ² - 2 a m(a) and the variance is
        // λ² - 2 a m - m². Numerically (40-digit arithmetic), over λ and λ²:
        //   u = 0: m = √π/2 = 0.886226925452758, variance 1 - π/4 = 0.214601836602552;
        //   u = 1: m = 0.378936078070656, variance 0.0985352925951176;
        //   u = 3: m = 0.158635639863988, variance 0.0230208945810180
        // (m approaches 1/(2u), the inverse of the hazard 2a/λ² at the age,
        // as u grows: 0.1667 at u = 3).
        let lambda = 1000.0;
        let law = Law::weibull(2.0, lambda).unwrap();
        let cases = [
            (0.0_f64, 0.886_226_925_452_758, 0.214_601_836_602_552),
            (1.0, 0.378_936_078_070_656, 0.098_535_292_595_117_6),
            (3.0, 0.158_635_639_863_988, 0.023_020_894_581_018_0),
        ];
        for (seed, (u, m, var)) in (111..).zip(cases) {
            // The closed form agrees with the numbers above.
            // erfc(u) = Q(1/2, u²).
            let erfc_u = reg_upper_gamma(0.5, u * u);
            let closed = std::f64::consts::PI.sqrt() / 2.0 * (u * u).exp() * erfc_u;
            assert!((closed - m).abs() < 1e-12, "u {u}: {closed} vs {m}");
            assert!((1.0 - 2.0 * u * m - m * m - var).abs() < 1e-12);
            let xs = after_samples(&law, u * lambda, seed);
            assert_mean(
                &format!("weibull(2) after {u} λ"),
                &xs,
                m * lambda,
                var.sqrt() * lambda,
            );
        }
    }

    #[test]
    fn sample_after_is_always_finite_and_positive() {
        let laws = [
            Law::gamma(1e-3, 1.0).unwrap(),
            Law::gamma(1e-3, 1e-12).unwrap(),
            Law::gamma(1e4, 1e12).unwrap(),
            Law::weibull(0.01, 1e12).unwrap(),
            Law::weibull(50.0, 1e-12).unwrap(),
            Law::lognormal(1e12, 30.0).unwrap(),
            Law::lognormal(1e-12, 30.0).unwrap(),
            Law::lognormal(1e-12, 0.01).unwrap(),
            Law::exponential(1e-12).unwrap(),
            Law::deterministic(1e-15).unwrap(),
            Law::empirical(vec![1e-15, 1e12]).unwrap(),
        ];
        let ages = [
            0.0,
            1e-300,
            1e-12,
            1.0,
            1e6,
            1e12,
            1e300,
            f64::MAX,
            -1.0,
            f64::NAN,
            f64::INFINITY,
        ];
        let mut r = rng(121);
        for law in &laws {
            for age in ages {
                for _ in 0..50 {
                    let x = law.sample_after(age, &mut r);
                    assert!(
                        x.is_finite() && x >= MIN_SAMPLE_HOURS,
                        "{} after {age}: {x}",
                        law.describe()
                    );
                }
            }
        }
    }

    #[test]
    fn sample_after_values_are_stable() {
        // Pins seeded outputs so that a change of stream or of method is
        // noticed: bit for bit for the closed forms; for the numerically
        // inverted laws, whose last bits depend on the solver's path, to a
        // relative 1e-12 of the exact roots for the same exponential draws
        // E (1.7335432749258897, 0.7265352365349991, 1.2091781830233594),
        // solved in 40-digit arithmetic.
        let mut r = rng(7);
        let exact = [
            Law::exponential(10.0).unwrap().sample_after(100.0, &mut r),
            Law::weibull(1.12, 461_386.0)
                .unwrap()
                .sample_after(1e6, &mut r),
            weibull_25().sample_after(0.0, &mut r),
            empirical().sample_after(5.0, &mut r),
        ];
        let expected: [f64; 4] = [
            1.5251242197550092,
            267614.09134848963,
            1120.58355580416,
            7.0,
        ];
        for (g, e) in exact.iter().zip(expected) {
            assert_eq!(g.to_bits(), e.to_bits(), "got {exact:?}");
        }
        let solved = [
            lognormal().sample_after(2400.0, &mut r),
            gamma_large().sample_after(20.0, &mut r),
            gamma_small().sample_after(0.0, &mut r),
        ];
        let roots = [
            617.120_171_206_682_2,
            4.153_401_042_018_287,
            33.932_566_481_024_24,
        ];
        for (g, e) in solved.iter().zip(roots) {
            assert_relative("seeded sample_after", *g, e, 1e-12);
        }
    }
}
