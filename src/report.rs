//! What a run reports: the JSON document (stable keys) and the terminal table.
//!
//! The JSON holds no wall-clock values, so the same scenario and seed give the same
//! bytes on any machine and any number of threads.

use crate::summary::{RunSummary, ServiceSummary};
use crate::world::World;
use serde::Serialize;
use std::fmt::Write as _;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub schema_version: u32,
    pub tool: &'static str,
    pub version: &'static str,
    pub scenario: String,
    pub seed: u64,
    pub trials: u64,
    pub horizon_hours: f64,
    /// Events processed over all trials.
    pub events: u64,
    pub events_per_trial: f64,
    pub services: Vec<ServiceReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// 95 % confidence interval.
    pub ci95: [f64; 2],
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DowntimeReport {
    pub mean: f64,
    pub ci95: [f64; 2],
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceReport {
    pub name: String,
    pub kind: &'static str,
    /// Fraction of time up; the interval treats each trial as one observation.
    pub availability: Estimate,
    /// Hours down per 365-day year (quantiles to within 0.5 % relative).
    pub downtime_hours_per_year: DowntimeReport,
    pub outages_per_year: Estimate,
    pub slas: Vec<SlaReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlaReport {
    pub name: String,
    pub target_percent: f64,
    pub window: &'static str,
    pub measure: &'static str,
    /// Whole windows per trial.
    pub windows_per_trial: u64,
    /// Probability that a window breaches the target (Wilson interval on the effective
    /// number of windows, clustered by trial).
    pub breach_probability: Estimate,
    pub breached_windows_per_year: Estimate,
}

fn clamp01(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

/// The mean of a non-negative per-trial count with its t-interval; when every trial
/// counted zero, the interval is `[0, upper]` instead of a point.
fn count_estimate(moments: &crate::stats::Moments, upper_if_none: f64) -> Estimate {
    let (lo, hi) = if moments.max() <= 0.0 {
        (0.0, upper_if_none)
    } else {
        moments.mean_ci(0.95)
    };
    Estimate {
        mean: moments.mean(),
        ci95: [lo.max(0.0), hi],
    }
}

/// Upper 95 % bound on the probability of something never seen in `n` trials: the
/// exact (Clopper–Pearson) bound 1 - 0.05^(1/n), about 3/n ("the rule of three").
fn never_seen_bound(n: u64) -> f64 {
    1.0 - 0.05f64.powf(1.0 / n.max(1) as f64)
}

fn service_report(
    world_service: &crate::world::Service,
    s: &ServiceSummary,
    trials: u64,
    horizon: f64,
) -> ServiceReport {
    let downtime = &s.downtime_per_year_moments;
    let years = horizon / crate::scenario::units::HOURS_PER_YEAR;
    let (mut lo, mut hi) = s.unavailability.mean_ci(0.95);
    let (mut dlo, mut dhi) = downtime.mean_ci(0.95);
    if s.unavailability.max() <= 0.0 {
        // No trial saw any downtime: a t-interval would have zero width. Unavailability
        // lies in [0, 1], so its mean is at most the probability that a trial sees any
        // downtime, which is below the never-seen bound with 95 % confidence.
        let bound = never_seen_bound(trials);
        (lo, hi) = (0.0, bound);
        (dlo, dhi) = (0.0, bound * crate::scenario::units::HOURS_PER_YEAR);
    }
    ServiceReport {
        name: world_service.name.clone(),
        kind: world_service.kind.name(),
        availability: Estimate {
            mean: 1.0 - s.unavailability.mean(),
            ci95: [clamp01(1.0 - hi), clamp01(1.0 - lo)],
        },
        downtime_hours_per_year: DowntimeReport {
            mean: downtime.mean(),
            ci95: [dlo.max(0.0), dhi],
            p50: s.downtime_per_year.quantile(0.5),
            p90: s.downtime_per_year.quantile(0.9),
            p99: s.downtime_per_year.quantile(0.99),
            max: s.downtime_per_year.max(),
        },
        // None seen: a Poisson mean below -ln(0.05) = 2.996 events in all trials.
        outages_per_year: count_estimate(
            &s.outages_per_year,
            -(0.05f64.ln()) / trials.max(1) as f64 / years,
        ),
        slas: world_service
            .slas
            .iter()
            .zip(&s.slas)
            .map(|(sla, summary)| {
                let (blo, bhi) = summary.breaches.ci(0.95);
                let windows_per_trial = summary.breaches.units().checked_div(trials).unwrap_or(0);
                SlaReport {
                    name: sla.name.clone(),
                    target_percent: sla.target_percent,
                    window: sla.window.name(),
                    measure: sla.measure.name(),
                    windows_per_trial,
                    breach_probability: Estimate {
                        mean: summary.breaches.estimate(),
                        ci95: [blo, bhi],
                    },
                    // None seen: the breach probability's bound, times windows a year.
                    breached_windows_per_year: count_estimate(
                        &summary.breached_per_year,
                        bhi * windows_per_trial as f64 / years,
                    ),
                }
            })
            .collect(),
    }
}

impl Report {
    pub fn new(world: &World, seed: u64, summary: &RunSummary) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            tool: "nines",
            version: env!("CARGO_PKG_VERSION"),
            scenario: world.name.clone(),
            seed,
            trials: summary.trials,
            horizon_hours: world.horizon,
            events: summary.events,
            events_per_trial: summary.events as f64 / summary.trials.max(1) as f64,
            services: world
                .services
                .iter()
                .zip(&summary.services)
                .map(|(service, s)| service_report(service, s, summary.trials, world.horizon))
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("reports serialise");
        text.push('\n');
        text
    }

    /// The readable table printed by `nines run`.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let years = self.horizon_hours / crate::scenario::units::HOURS_PER_YEAR;
        let _ = writeln!(out, "{}", self.scenario);
        let _ = writeln!(
            out,
            "{} trials of {}, seed {}; {:.1} events per trial",
            self.trials,
            if (years - 1.0).abs() < 1e-12 {
                "1 year".to_string()
            } else {
                format_hours(self.horizon_hours)
            },
            self.seed,
            self.events_per_trial
        );
        let _ = writeln!(out, "Intervals are 95 % confidence intervals over trials.");
        for s in &self.services {
            let _ = writeln!(out);
            let _ = writeln!(out, "{} ({})", s.name, s.kind);
            let a = &s.availability;
            let digits = decimals_for(a.mean);
            let _ = writeln!(
                out,
                "  availability          {}  [{}, {}]  {}",
                percent_with(a.mean, digits),
                percent_with(a.ci95[0], digits),
                percent_with(a.ci95[1], digits),
                nines(a.mean)
            );
            let d = &s.downtime_hours_per_year;
            let _ = writeln!(
                out,
                "  downtime per year     mean {} [{}, {}]",
                format_rounded(d.mean),
                format_rounded(d.ci95[0]),
                format_rounded(d.ci95[1])
            );
            let _ = writeln!(
                out,
                "                        p50 {}, p90 {}, p99 {}, max {}",
                format_rounded(d.p50),
                format_rounded(d.p90),
                format_rounded(d.p99),
                format_rounded(d.max)
            );
            let _ = writeln!(
                out,
                "  outages per year      {:.4} [{:.4}, {:.4}]",
                s.outages_per_year.mean, s.outages_per_year.ci95[0], s.outages_per_year.ci95[1]
            );
            for sla in &s.slas {
                let _ = writeln!(
                    out,
                    "  SLA {:?}: {} % per {} ({} per trial)",
                    sla.name,
                    sla.target_percent,
                    sla.window,
                    plural(sla.windows_per_trial, "window")
                );
                let b = &sla.breach_probability;
                let _ = writeln!(
                    out,
                    "    P(a {} breaches)  {:.4} %  [{:.4} %, {:.4} %]",
                    sla.window,
                    b.mean * 100.0,
                    b.ci95[0] * 100.0,
                    b.ci95[1] * 100.0
                );
                let w = &sla.breached_windows_per_year;
                let _ = writeln!(
                    out,
                    "    breached windows per year  {:.4} [{:.4}, {:.4}]",
                    w.mean, w.ci95[0], w.ci95[1]
                );
            }
        }
        out
    }
}

fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Decimals that show a probability's leading nines and two more digits.
fn decimals_for(availability: f64) -> usize {
    let u = 1.0 - availability;
    if u <= 0.0 || !u.is_finite() {
        return 3;
    }
    let leading_nines = (-u.log10()).floor().max(0.0) as usize;
    (leading_nines + 1).clamp(3, 13)
}

fn percent_with(x: f64, decimals: usize) -> String {
    format!("{:.*} %", decimals, x * 100.0)
}

/// "≈ 4.5 nines": -log10(1 - availability).
fn nines(availability: f64) -> String {
    if availability >= 1.0 {
        "(no downtime seen)".to_string()
    } else {
        format!("≈ {:.2} nines", -(1.0 - availability).log10())
    }
}

/// Hours for a report: to the second from a minute up, to the millisecond below.
fn format_rounded(hours: f64) -> String {
    if hours >= 1.0 / 60.0 && hours.is_finite() {
        format_hours((hours * 3600.0).round() / 3600.0)
    } else {
        format_hours(hours)
    }
}

/// Hours as "4 h 22 m 48 s", "21 m 36 s", "0 s", to the millisecond; days appear
/// above 48 hours.
pub fn format_hours(hours: f64) -> String {
    if !hours.is_finite() {
        return format!("{hours} h");
    }
    // Round to milliseconds first so that 4.38 h prints as 4 h 22 m 48 s.
    let total_ms = (hours * 3_600_000.0).round() as u64;
    let (days, rest) = (total_ms / 86_400_000, total_ms % 86_400_000);
    let (h, rest) = (rest / 3_600_000, rest % 3_600_000);
    let (m, ms) = (rest / 60_000, rest % 60_000);
    let mut parts = Vec::new();
    let days_shown = hours > 48.0;
    let h = if days_shown {
        parts.push(format!("{days} d"));
        h
    } else {
        h + 24 * days
    };
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 {
        parts.push(format!("{m} m"));
    }
    if ms > 0 || parts.is_empty() {
        let seconds = ms as f64 / 1000.0;
        let text = format!("{seconds:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        parts.push(format!("{text} s"));
    }
    parts.join(" ")
}

/// The downtime an uptime target allows in each common window, as printed by
/// `nines budget`.
pub fn budget_table(target_percent: f64) -> String {
    let allowed = 1.0 - target_percent / 100.0;
    let rows: [(&str, f64); 5] = [
        ("28-day month", 28.0 * 24.0),
        ("30-day month", 30.0 * 24.0),
        ("31-day month", 31.0 * 24.0),
        ("365/12-day month", 730.0),
        ("365-day year", 8760.0),
    ];
    let mut out = format!("{target_percent} % uptime allows this much downtime:\n");
    for (window, hours) in rows {
        let _ = writeln!(out, "  {window:<18} {}", format_hours(hours * allowed));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_budgets() {
        // 99.95 % of a 365-day year: 8760 h × 0.0005 = 4.38 h = 4 h 22 m 48 s.
        assert_eq!(format_hours(8760.0 * 0.0005), "4 h 22 m 48 s");
        // 99.9 % of a 30-day month: 720 h × 0.001 = 0.72 h = 43 m 12 s.
        assert_eq!(format_hours(720.0 * 0.001), "43 m 12 s");
        // 99.99 % of a 30-day month: 0.072 h = 4 m 19.2 s.
        assert_eq!(format_hours(720.0 * 0.0001), "4 m 19.2 s");
        assert_eq!(format_hours(0.0), "0 s");
        assert_eq!(format_hours(72.5), "3 d 30 m");
        // Reports round to the second from a minute up.
        assert_eq!(format_rounded(0.0990135), "5 m 56 s");
        assert_eq!(format_rounded(0.00001), "0.036 s");
    }

    #[test]
    fn nothing_seen_still_has_an_interval() {
        // 1 - 0.05^(1/10000) = 1 - exp(ln 0.05 / 10000) = 1 - exp(-2.9957e-4)
        //   = 2.9953e-4: about 3 / n.
        assert!((never_seen_bound(10_000) - 2.9953e-4).abs() < 1e-8);
        assert!((never_seen_bound(1) - 0.95).abs() < 1e-12);
    }

    #[test]
    fn availability_shows_its_nines() {
        // 1 - 9.95e-4: three leading nines, shown with 4 decimals of a percent.
        assert_eq!(percent_with(0.999005, decimals_for(0.999005)), "99.9005 %");
        // 1 - 1.1e-9: eight leading nines, 9 decimals.
        let a = 1.0 - 1.1e-9;
        assert_eq!(percent_with(a, decimals_for(a)), "99.999999890 %");
        assert_eq!(nines(0.999), "≈ 3.00 nines");
    }

    #[test]
    fn budget_rows() {
        let table = budget_table(99.95);
        // 28-day month: 672 h × 0.0005 = 0.336 h = 20 m 9.6 s.
        assert!(table.contains("28-day month       20 m 9.6 s"), "{table}");
        assert!(
            table.contains("365-day year       4 h 22 m 48 s"),
            "{table}"
        );
        // 365/12-day month: 730 h × 0.0005 = 0.365 h = 21 m 54 s.
        assert!(table.contains("365/12-day month   21 m 54 s"), "{table}");
    }
}
