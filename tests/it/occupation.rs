//! Exact downtime distribution of one two-state Markov unit, for statistical tests.
//!
//! A unit alternates up periods (exponential, rate λ per hour) and down periods
//! (exponential, rate μ per hour) and starts in steady state. Its downtime within a
//! window, D_T, is the occupation time of the down state; `p_downtime_exceeds` gives
//! P(D_T > b) exactly (a convergent series, no simulation), so that a simulated
//! fraction of windows whose downtime exceeds a budget can be checked against it.
//!
//! The tests below check the series against two independent computations: a
//! uniformization of the chain (exact up to truncation, a different decomposition)
//! and a plain time stepping of the joint (state, accumulated downtime) law.

/// P(D_T > b): the probability that the total downtime within [0, T] (`horizon`, in
/// hours) of a unit that fails at rate `lambda` and is repaired at rate `mu` (per
/// hour), started in steady state, exceeds `b` hours (0 ≤ b < T).
///
/// # Derivation
///
/// Let u = T − b. The downtime is at most b exactly when the up time within [0, T] is
/// at least u, that is when the clock time τ_u at which the cumulative up time reaches
/// u is at most T.
///
/// *Starting up.* Measured on the up-time clock, failures form a Poisson process of
/// rate λ (each up period is exponential, hence memoryless), so the number of up
/// periods that end before the cumulative up time reaches u is N(u) ~ Poisson(λu).
/// Each of them is followed by a whole down period, independent of N, and all of them
/// are over before the up time can grow further, so τ_u = u + R_{N(u)}, where R_n is
/// the sum of n independent Exp(μ) down periods: R_n ~ Erlang(n, μ), R_0 = 0. Hence
///
///   P(D_T ≤ b | up at 0) = P(R_{N(u)} ≤ b) = Σ_{n≥0} Pois(n; λu) · P(Erlang(n, μ) ≤ b),
///
/// with P(Erlang(0, μ) ≤ b) = 1.
///
/// *Starting down.* The down period in progress at time 0 has an Exp(μ) residual
/// (memoryless), which comes before everything else: τ_u = R' + u + R_{N(u)} with R'
/// another Exp(μ), so
///
///   P(D_T ≤ b | down at 0) = Σ_{n≥0} Pois(n; λu) · P(Erlang(n + 1, μ) ≤ b).
///
/// *Erlang law.* R_k ≤ b exactly when a Poisson process of rate μ has at least k
/// points in [0, b], so P(Erlang(k, μ) > b) = Σ_{j<k} e^{−μb} (μb)^j / j! =: Q(k),
/// a Poisson(μb) distribution function, with Q(0) = 0.
///
/// *Steady state.* The unit is up at 0 with probability π_up = μ/(λ+μ) and down with
/// π_down = λ/(λ+μ); since Σ_n Pois(n; λu) = 1,
///
///   P(D_T > b) = 1 − P(D_T ≤ b)
///              = Σ_{n≥0} Pois(n; λu) · (π_up · Q(n) + π_down · Q(n + 1)).
///
/// The complement is summed directly, as a series of non-negative terms, rather than
/// computed as 1 − P(D_T ≤ b): that keeps full relative accuracy when P(D_T > b) is
/// tiny, which is where budgets of a few nines sit.
///
/// # Numerics
///
/// Both Poisson laws (the weights Pois(n; λu) and the terms of Q, Pois(j; μb)) come
/// from `poisson_pmf`, which builds them by ratios of successive terms outward from
/// the mode and then normalises them by their sum. Nothing overflows or underflows
/// wrongly for means of many thousands (a term that underflows is below 1e-308 of the
/// mode's), and the weights sum to one to rounding: a recursion in log space from
/// n = 0 (ln Pois(n+1) = ln Pois(n) + ln(λu) − ln(n+1)) drifts by about 1e-11 over a
/// few thousand steps, visible in P(D_T > b) ≈ 1. The weights are carried until the
/// Poisson tail beyond n (bounded by Pois(n) · r / (1 − r), r = λu / (n + 1) < 1, as
/// successive ratios only shrink) is below 1e-300 of the total, so that tiny
/// probabilities (large b, whose mass sits deep in that tail) keep their relative
/// accuracy; the terms of Q are carried until their tail is below 1e-20, beyond which
/// Q = 1. Since 0 ≤ Q ≤ 1 and π_up + π_down = 1, the truncation error is below
/// 1e-300 + 1e-20 absolute, far inside the 1e-16 asked of it, and rounding keeps the
/// result within about 1e-13 of exact.
pub fn p_downtime_exceeds(lambda: f64, mu: f64, horizon: f64, b: f64) -> f64 {
    assert!(
        lambda >= 0.0 && lambda.is_finite() && mu > 0.0 && mu.is_finite(),
        "rates must be finite, λ ≥ 0 and μ > 0 (got λ = {lambda}, μ = {mu})"
    );
    assert!(
        horizon.is_finite() && (0.0..horizon).contains(&b),
        "need 0 ≤ b < T (got b = {b}, T = {horizon})"
    );
    let pi_up = mu / (lambda + mu);
    let pi_down = lambda / (lambda + mu);
    let weights = poisson_pmf(lambda * (horizon - b), 1e-300); // Pois(n; λu)
    let erlang_terms = poisson_pmf(mu * b, 1e-20); // Pois(j; μb), Q(k) = Σ_{j<k}
    let mut q = 0.0; // Q(n)
    let mut sum = 0.0;
    for (n, weight) in weights.iter().enumerate() {
        let q_next = (q + erlang_terms.get(n).copied().unwrap_or(0.0)).min(1.0); // Q(n+1)
        sum += weight * (pi_up * q + pi_down * q_next);
        q = q_next;
    }
    sum.min(1.0)
}

/// Poisson(`mean`) probabilities for n = 0, 1, …, N, where N is the first n past the
/// mode at which the tail beyond n is below `tail` of the total.
///
/// Terms are built by ratios from the mode (set to 1): p(n − 1) = p(n) · n / mean
/// downward, p(n + 1) = p(n) · mean / (n + 1) upward, then divided by their sum. The
/// tail beyond n is at most p(n) · r / (1 − r) with r = mean / (n + 1), since the
/// ratios of successive terms decrease. A zero mean gives the point mass at 0.
fn poisson_pmf(mean: f64, tail: f64) -> Vec<f64> {
    let mode = mean.floor() as usize;
    let mut pmf = vec![0.0; mode + 1];
    pmf[mode] = 1.0;
    for n in (1..=mode).rev() {
        pmf[n - 1] = pmf[n] * n as f64 / mean;
    }
    let mut total: f64 = pmf.iter().sum();
    let mut term = 1.0;
    loop {
        let r = mean / (pmf.len() as f64);
        if r < 1.0 {
            let bound = term * r / (1.0 - r);
            if bound <= tail * total || bound < f64::MIN_POSITIVE {
                break;
            }
        }
        term *= r;
        pmf.push(term);
        total += term;
    }
    for p in &mut pmf {
        *p /= total;
    }
    pmf
}

/// E[D_T] = T · λ/(λ+μ): in steady state the unit is down with probability
/// π_down = λ/(λ+μ) at every instant, and the downtime is the integral of that
/// indicator over [0, T].
pub fn expected_downtime(lambda: f64, mu: f64, horizon: f64) -> f64 {
    horizon * lambda / (lambda + mu)
}

/// P(D_T > b) by uniformization, a method independent of the series above.
///
/// Let Λ = max(λ, μ). The chain is a discrete chain Y_0, Y_1, … (up → down with
/// probability λ/Λ, down → up with μ/Λ, otherwise stay) whose steps happen at the
/// points of an independent Poisson process of rate Λ. Given n points in [0, T], the
/// n + 1 intervals between them are exchangeable (uniform spacings) and independent
/// of Y; if k of Y_0..Y_n are down, D_T/T is the sum of k of these n + 1 spacings,
/// which has the law of the k-th order statistic of n uniforms (1 ≤ k ≤ n), so
/// P(D_T > b | n, k) = P(U_(k) > b/T) = P(Binomial(n, b/T) ≤ k − 1). This also holds
/// for k = 0 (D = 0: probability 0) and k = n + 1 (D = T > b: probability 1). Then
///
///   P(D_T > b) = Σ_n Pois(n; ΛT) Σ_k P(K_n = k) · P(Binomial(n, b/T) ≤ k − 1),
///
/// with the law of (Y_n, K_n) carried forward in n by dynamic programming, Y_0 drawn
/// from the steady state (which the discrete chain shares). Truncated where the
/// Poisson tail bound is below 1e-17; exact otherwise, up to rounding (its Poisson
/// weights, carried in log space from n = 0, drift by about 1e-12 at ΛT = 4000).
fn p_exceeds_by_uniformization(lambda: f64, mu: f64, horizon: f64, b: f64) -> f64 {
    let rate = lambda.max(mu);
    let (to_down, to_up) = (lambda / rate, mu / rate);
    let m = rate * horizon;
    let x = b / horizon;
    // up[k], down[k]: P(Y_n = up/down, k of Y_0..Y_n down).
    let mut up = vec![mu / (lambda + mu), 0.0];
    let mut down = vec![0.0, lambda / (lambda + mu)];
    let mut ln_pois = -m;
    let mut total = 0.0;
    let mut n: usize = 0;
    loop {
        // Binomial(n, x) distribution function, from its pmf carried in log space.
        let mut cdf = Vec::with_capacity(n + 1);
        let mut ln_pmf = n as f64 * (-x).ln_1p();
        let ln_odds = x.ln() - (-x).ln_1p();
        let mut acc = 0.0;
        for j in 0..=n {
            if j > 0 {
                ln_pmf += ((n - j + 1) as f64 / j as f64).ln() + ln_odds;
            }
            acc += ln_pmf.exp();
            cdf.push(acc.min(1.0));
        }
        let given_n: f64 = (1..=n + 1)
            .map(|k| (up[k] + down[k]) * if k == n + 1 { 1.0 } else { cdf[k - 1] })
            .sum();
        let weight = ln_pois.exp();
        total += weight * given_n;
        let r = m / (n + 1) as f64;
        if r < 1.0 && weight * r / (1.0 - r) < 1e-17 {
            break;
        }
        // One more step of the discrete chain.
        let mut next_up = vec![0.0; n + 3];
        let mut next_down = vec![0.0; n + 3];
        for k in 0..=n + 1 {
            next_up[k] += up[k] * (1.0 - to_down) + down[k] * to_up;
            next_down[k + 1] += up[k] * to_down + down[k] * (1.0 - to_up);
        }
        up = next_up;
        down = next_down;
        n += 1;
        ln_pois += m.ln() - (n as f64).ln();
    }
    total
}

/// P(D_T > b) by stepping the joint law of (state, accumulated downtime) forward in
/// time: a first-order scheme on the forward equations of the Markov-additive process.
///
/// Time is cut into steps of h = b / (bins + ½) and the state is tracked at the grid
/// times exactly (the two-state transition matrix over h is known in closed form:
/// P(up → down) = π_down (1 − e^{−(λ+μ)h}), P(down → up) = π_up (1 − e^{−(λ+μ)h})).
/// The downtime is approximated by the left Riemann sum D_h = h · #{grid times
/// t_i < T at which the unit is down}, so D_h lives on the lattice hℕ and D_h ≤ b
/// exactly when at most `bins` grid times are down; mass that would exceed is
/// accumulated as the answer. Each down period of length L covers L/h grid points on
/// average (the phase is uniform), so D_h − D is a zero-mean rounding of about ±h per
/// period; putting b half a step above the last lattice point kept (b = (bins + ½) h)
/// is the continuity correction that makes the leading O(h) error cancel, leaving an
/// error of order f′(b) · h² · (number of down periods) — well below 1e-4 for the
/// grids used here (against about f(b) · h/2 ≈ 3e-4 without the half step).
fn p_exceeds_by_time_stepping(lambda: f64, mu: f64, horizon: f64, b: f64, bins: usize) -> f64 {
    let h = b / (bins as f64 + 0.5);
    let steps = (horizon / h).round();
    assert!(
        (steps * h - horizon).abs() < 1e-9 * horizon,
        "T = {horizon} is not a whole number of steps of {h}"
    );
    let (pi_up, pi_down) = (mu / (lambda + mu), lambda / (lambda + mu));
    let mix = -(-(lambda + mu) * h).exp_m1(); // 1 − e^{−(λ+μ)h}
    let (to_down, to_up) = (pi_down * mix, pi_up * mix);
    // up[k], down[k]: P(state at the current grid time, k down grid times before it).
    let mut up = vec![0.0; bins + 1];
    let mut down = vec![0.0; bins + 1];
    up[0] = pi_up;
    down[0] = pi_down;
    let mut exceeded = 0.0;
    for _ in 0..steps as u64 {
        // A unit down now adds h to its downtime over this step, wherever it ends.
        exceeded += down[bins];
        for k in (0..=bins).rev() {
            let (u, d) = (up[k], if k > 0 { down[k - 1] } else { 0.0 });
            up[k] = u * (1.0 - to_down) + d * to_up;
            down[k] = u * to_down + d * (1.0 - to_up);
        }
    }
    exceeded
}

#[test]
fn rare_failures_and_the_edges_of_the_budget() {
    // Rare failures, λ = 1e-12 /h, μ = 0.5 /h, T = 720 h. To first order in λ:
    // - up at 0 (π_up ≈ 1): one failure at a time s (density λ) and a down period
    //   V ~ Exp(μ) give D = min(V, T − s) > b iff V > b and s < T − b, with probability
    //   ∫_0^{T−b} λ e^{−μb} ds = λ (T − b) e^{−μb};
    // - down at 0 (π_down = λ/(λ+μ) ≈ λ/μ): D > b iff the residual down period
    //   exceeds b (otherwise another failure is needed, O(λ²)): (λ/μ) e^{−μb}.
    // So P(D > b) = λ e^{−μb} (T − b + 1/μ), to a relative O(λ(T − b)(1 + μb)) < 1e-7
    // (two failures, whose two down periods exceed b together). The start-down term
    // alone, π_down e^{−μb}, is not the limit: the up start contributes μ(T − b) times
    // more. E.g. b = 10: 1e-12 × e^{−5} × (710 + 2) = 4.79742e-12.
    let (lambda, mu, horizon) = (1e-12, 0.5, 720.0);
    for b in [0.0, 1.0, 10.0, 100.0, 719.0] {
        let exact = p_downtime_exceeds(lambda, mu, horizon, b);
        let first_order = lambda * (-mu * b).exp() * (horizon - b + 1.0 / mu);
        eprintln!("λ = 1e-12, b = {b}: series {exact:e}, first order {first_order:e}");
        assert!(
            ((exact - first_order) / first_order).abs() < 1e-6,
            "b = {b}: {exact:e} vs {first_order:e}"
        );
    }

    // b = 0: D > 0 unless the unit starts up and never fails, so
    // P(D > 0) = 1 − π_up e^{−λT}. λ = 0.01, μ = 0.2, T = 720: π_up = 0.2/0.21 =
    // 0.952381, e^{−7.2} = 7.46586e-4, P = 1 − 7.11034e-4 = 0.999288966.
    let (lambda, mu, horizon): (f64, f64, f64) = (0.01, 0.2, 720.0);
    let exact = 1.0 - mu / (lambda + mu) * (-lambda * horizon).exp();
    let series = p_downtime_exceeds(lambda, mu, horizon, 0.0);
    eprintln!("b = 0: series {series}, exact {exact}");
    assert!((series - exact).abs() < 1e-12, "{series} vs {exact}");

    // b → T: D > T − ε tends to the atom D = T, a unit that starts down and stays
    // down throughout: π_down e^{−μT}, plus O(ε). λ = 0.1, μ = 0.3, T = 10:
    // 0.25 × e^{−3} = 0.25 × 0.0497871 = 0.0124468.
    let (lambda, mu, horizon): (f64, f64, f64) = (0.1, 0.3, 10.0);
    let atom = lambda / (lambda + mu) * (-mu * horizon).exp();
    let series = p_downtime_exceeds(lambda, mu, horizon, horizon - 1e-9);
    eprintln!("b → T: series {series}, atom {atom}");
    assert!((series - atom).abs() < 1e-7, "{series} vs {atom}");
}

#[test]
fn series_agrees_with_independent_computations() {
    // (λ, μ, T, b): one failure a month at MTTR 1 h against a 99.9 % budget of 0.72 h;
    // MTTF 100 h, MTTR 5 h against a 99 % budget of 7.2 h; and λu ≈ 800 (hundreds of
    // outages in the window), which exercises Poisson weights far from n = 0.
    let cases = [
        (1e-3, 1.0, 720.0, 0.72),
        (1e-2, 0.2, 720.0, 7.2),
        (5.0, 20.0, 200.0, 40.0),
        (5.0, 20.0, 200.0, 45.0),
    ];
    for (lambda, mu, horizon, b) in cases {
        let series = p_downtime_exceeds(lambda, mu, horizon, b);
        // Uniformization is exact up to its 1e-17 truncation, so the two differ only by
        // rounding: about 1e-13, and 3e-12 for ΛT = 4000 (the log-space drift of its
        // Poisson weights).
        let uniformized = p_exceeds_by_uniformization(lambda, mu, horizon, b);
        eprintln!(
            "λ = {lambda}, μ = {mu}, T = {horizon}, b = {b}: series {series:.12}, \
             uniformization {uniformized:.12}, difference {:.1e}",
            series - uniformized
        );
        assert!(
            (series - uniformized).abs() < 1e-10,
            "series {series} vs uniformization {uniformized}"
        );
    }

    // Time stepping (first order in time, with the half-step continuity correction
    // described at p_exceeds_by_time_stepping). With 200 downtime bins, h = b/200.5:
    // 3.59e-3 h (200 500 steps) and 3.59e-2 h (20 050 steps). The error is O(h²): it
    // quarters each time h halves (25 to 400 bins: 2.7e-6, 6.9e-7, 1.7e-7, 4.4e-8,
    // 1.1e-8 in the first case; 3.4e-5 … 1.4e-7 in the second), so at 200 bins it is
    // about 4e-8 and 6e-7, far inside the 2e-3 asked. The O(h²) term then cancels in
    // the Richardson extrapolation (4 P(h) − P(2h)) / 3 of 200 and 100 bins, which
    // should agree to about 1e-8: a sharper check of the same independent computation.
    for (lambda, mu, horizon, b) in [(1e-3, 1.0, 720.0, 0.72), (1e-2, 0.2, 720.0, 7.2)] {
        let series = p_downtime_exceeds(lambda, mu, horizon, b);
        let fine = p_exceeds_by_time_stepping(lambda, mu, horizon, b, 200);
        let coarse = p_exceeds_by_time_stepping(lambda, mu, horizon, b, 100);
        let extrapolated = (4.0 * fine - coarse) / 3.0;
        eprintln!(
            "λ = {lambda}, μ = {mu}, T = {horizon}, b = {b}: series {series:.10}, \
             time stepping {fine:.10} (difference {:.1e}), extrapolated {extrapolated:.10} \
             (difference {:.1e})",
            series - fine,
            series - extrapolated
        );
        assert!(
            (series - fine).abs() < 2e-3,
            "series {series} vs time stepping {fine}"
        );
        assert!(
            (series - extrapolated).abs() < 1e-7,
            "series {series} vs extrapolated time stepping {extrapolated}"
        );
    }
}

#[test]
fn survival_function_is_monotone_with_the_right_moments() {
    // P(D > b) is a survival function: in [0, 1] and non-increasing in b (up to
    // rounding, 1e-12). Its integrals give the moments:
    //   E[D] = ∫_0^T P(D > b) db = T λ/(λ+μ),
    //   E[D²] = ∫_0^T 2b P(D > b) db, with the variance of a stationary two-state
    //   occupation time, 2∫_0^T (T − s) Cov(X_0, X_s) ds where
    //   Cov = π_up π_down e^{−(λ+μ)s}: Var D = 2λμ/(λ+μ)³ (T − (1 − e^{−(λ+μ)T})/(λ+μ)).
    // E.g. λ = 1e-3, μ = 1, T = 720: E[D] = 720 × 1e-3/1.001 = 0.719281 h;
    // Var D = 2e-3/1.003003 × (720 − 0.999) = 1.43374 h².
    // Trapezoid on 20 000 panels of width w = T/20 000 (0.036 h at T = 720 h);
    // P(D > T⁻) is the atom π_down e^{−μT} (D = T). P(D > b) is smooth on (0, T), so
    // the trapezoid error is about w²/12 · |f′(0⁺) − f′(T⁻)|: 5e-5 relative in the first case (f′(0⁺) ≈ −0.5 per h),
    // less in the others. Checked to 0.1 %, inside the 1 % asked.
    let cases = [
        (1e-3, 1.0, 720.0),
        (1e-2, 0.2, 720.0),
        (5.0, 20.0, 720.0), // λu and μb in the thousands
    ];
    for (lambda, mu, horizon) in cases {
        let panels = 20_000;
        let step = horizon / panels as f64;
        let atom = lambda / (lambda + mu) * (-mu * horizon).exp();
        let survival: Vec<f64> = (0..=panels)
            .map(|i| match i {
                i if i == panels => atom,
                i => p_downtime_exceeds(lambda, mu, horizon, i as f64 * step),
            })
            .collect();
        for (i, pair) in survival.windows(2).enumerate() {
            assert!(
                (0.0..=1.0).contains(&pair[0]),
                "P(D > {}) = {}",
                i as f64 * step,
                pair[0]
            );
            assert!(
                pair[1] <= pair[0] + 1e-12,
                "P(D > b) increases at b = {}: {} → {}",
                i as f64 * step,
                pair[0],
                pair[1]
            );
        }
        let trapezoid = |f: &dyn Fn(usize) -> f64| {
            step * ((1..panels).map(f).sum::<f64>() + (f(0) + f(panels)) / 2.0)
        };
        let mean = trapezoid(&|i| survival[i]);
        let second = trapezoid(&|i| 2.0 * i as f64 * step * survival[i]);
        let expected = expected_downtime(lambda, mu, horizon);
        let kappa = lambda + mu;
        let variance =
            2.0 * lambda * mu / kappa.powi(3) * (horizon + (-kappa * horizon).exp_m1() / kappa);
        let expected_second = variance + expected * expected;
        eprintln!(
            "λ = {lambda}, μ = {mu}, T = {horizon}: E[D] {mean} vs {expected}, \
             E[D²] {second} vs {expected_second}"
        );
        assert!(
            ((mean - expected) / expected).abs() < 1e-3,
            "E[D]: {mean} vs {expected}"
        );
        assert!(
            ((second - expected_second) / expected_second).abs() < 1e-3,
            "E[D²]: {second} vs {expected_second}"
        );
    }
}
