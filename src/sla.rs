//! Service level agreements as contracts: what is measured, over which windows, what
//! counts as a breach, and what credit a breach earns.
//!
//! An [`Sla`] turns a window of simulated history into an uptime percentage the way
//! its contract does ([`Measure`]), compares it with the target, and looks the credit
//! up in its tiers ([`CreditTiers`]). Built-in [`Contract`]s reproduce the published
//! S3 and EC2 agreements.

use crate::scenario::units::HOURS_PER_YEAR;

/// A service level agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Sla {
    pub name: String,
    /// The built-in contract this SLA reproduces, if any.
    pub contract: Option<Contract>,
    /// Committed uptime as a percentage, e.g. 99.9.
    pub target_percent: f64,
    pub window: Window,
    pub measure: Measure,
    pub credits: CreditTiers,
}

/// Percentages closer than this to a threshold count as on it: the boundary belongs to
/// the provider (exactly 99.9 % is not below 99.9 %), and rounding in the last bits of
/// a computed uptime must not move a window across it.
const PERCENT_TOLERANCE: f64 = 1e-9;

fn below(uptime_percent: f64, threshold_percent: f64) -> bool {
    uptime_percent < threshold_percent - PERCENT_TOLERANCE
}

impl Sla {
    /// Whether a window with this uptime (a percentage) breaks the commitment.
    pub fn breached_by(&self, uptime_percent: f64) -> bool {
        below(uptime_percent, self.target_percent)
    }
}

/// Credit tiers: a window whose uptime is below a tier's threshold earns that tier's
/// credit, a percentage of the bill for the window; the lowest threshold passed wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreditTiers {
    /// (threshold percent, credit percent), thresholds strictly decreasing, credits
    /// increasing.
    tiers: Vec<(f64, f64)>,
}

impl CreditTiers {
    /// Tiers from (threshold, credit) pairs in any order. Thresholds must differ, and a
    /// lower threshold must not earn less.
    pub fn new(mut tiers: Vec<(f64, f64)>) -> Result<CreditTiers, String> {
        tiers.sort_by(|a, b| b.0.total_cmp(&a.0));
        for pair in tiers.windows(2) {
            if pair[0].0 == pair[1].0 {
                return Err(format!("two tiers share the threshold {} %", pair[0].0));
            }
            if pair[1].1 < pair[0].1 {
                return Err(format!(
                    "the tier below {} % earns less ({} %) than the one below {} % ({} %)",
                    pair[1].0, pair[1].1, pair[0].0, pair[0].1
                ));
            }
        }
        Ok(CreditTiers { tiers })
    }

    pub fn tiers(&self) -> &[(f64, f64)] {
        &self.tiers
    }

    /// Which tier a window falls in: 0 for no credit, `k` for the `k`-th threshold from
    /// the top.
    pub fn tier_of(&self, uptime_percent: f64) -> usize {
        self.tiers
            .iter()
            .take_while(|&&(threshold, _)| below(uptime_percent, threshold))
            .count()
    }

    /// Credit percentage of tier `tier` (0 for tier 0).
    pub fn credit_percent(&self, tier: usize) -> f64 {
        if tier == 0 {
            0.0
        } else {
            self.tiers[tier - 1].1
        }
    }
}

/// The period over which an SLA measures uptime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Calendar months of a 365-day year (31, 28, 31, 30, ... days), from 1 January.
    CalendarMonth,
    /// Consecutive 30-day months.
    Month30,
    /// Consecutive 365-day years.
    Year,
    /// EC2 2008's Service Year: the 365 days before a claim, with a claim possible at
    /// the end of every calendar month from the end of the first year on. With a
    /// one-year horizon this is the year.
    ServiceYear,
}

/// Days in each month of a 365-day year.
pub const MONTH_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

impl Window {
    pub fn name(self) -> &'static str {
        match self {
            Window::CalendarMonth => "month",
            Window::Month30 => "30-day month",
            Window::Year => "year",
            Window::ServiceYear => "service year",
        }
    }

    /// The windows, as `(start, end)` in hours, that fit wholly inside
    /// `[0, horizon)`, ordered by start (and so by end). A window ending within a
    /// microsecond of the horizon still fits, which absorbs rounding in horizons
    /// written in other units.
    pub fn windows(self, horizon: f64) -> Vec<(f64, f64)> {
        let fits = |end: f64| end <= horizon + 1e-9 * horizon.max(1.0);
        let consecutive = |length: &dyn Fn(usize) -> f64| {
            let mut windows = Vec::new();
            let mut start = 0.0;
            for index in 0.. {
                let end = start + length(index);
                if !fits(end) {
                    break;
                }
                windows.push((start, end));
                start = end;
            }
            windows
        };
        match self {
            Window::CalendarMonth => consecutive(&|i| f64::from(MONTH_DAYS[i % 12]) * 24.0),
            Window::Month30 => consecutive(&|_| 720.0),
            Window::Year => consecutive(&|_| HOURS_PER_YEAR),
            Window::ServiceYear => Window::CalendarMonth
                .windows(horizon)
                .into_iter()
                .map(|(_, end)| end)
                .filter(|&end| end >= HOURS_PER_YEAR - 1e-9)
                .map(|end| (end - HOURS_PER_YEAR, end))
                .collect(),
        }
    }

    /// How many monthly bills one window's bill is: 1 for a month, 12 for a year.
    pub fn bills(self) -> f64 {
        match self {
            Window::CalendarMonth | Window::Month30 => 1.0,
            Window::Year | Window::ServiceYear => 12.0,
        }
    }
}

/// How a period that is only partly unavailable is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartialPeriods {
    /// A period counts if the condition held at any moment in it (the customer's
    /// reading of "periods in which the region was unavailable").
    Any,
    /// A period counts only if the condition held throughout it.
    Whole,
}

/// How an SLA turns a window's history into an uptime percentage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measure {
    /// 100 % minus the percentage of the window the service was down.
    Downtime,
    /// S3: 100 % minus the average over five-minute periods of the error rate (failed
    /// requests / requests). With requests spread over time and over object groups in
    /// proportion to their popularity, a period's expected error rate is the
    /// time-average, over the period, of the popular-weighted fraction of object groups
    /// that are unreadable, times the probability that the period has any request
    /// (a period with no requests counts as 0 %). Periods partition the window, so the
    /// average over periods is the integral over the window, computed exactly.
    ErrorRate {
        /// Probability that a five-minute period sees at least one request.
        request_factor: f64,
    },
    /// EC2: 100 % minus the percentage of periods in which the region was unavailable —
    /// more than one availability zone in which the service runs instances had none of
    /// them reachable. A service in one zone can never be region unavailable.
    RegionUnavailable {
        period_minutes: u32,
        partial: PartialPeriods,
    },
    /// Each instance on its own: 100 % minus the percentage of the window it was down.
    /// Every (instance, window) pair is one unit of the breach statistics.
    InstanceUptime,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Downtime => "downtime",
            Measure::ErrorRate { .. } => "error_rate",
            Measure::RegionUnavailable { .. } => "region_unavailable",
            Measure::InstanceUptime => "instance_uptime",
        }
    }

    /// A short description for `nines check` and reports.
    pub fn describe(self) -> String {
        match self {
            Measure::Downtime => "time down".to_string(),
            Measure::ErrorRate { request_factor } if request_factor >= 1.0 => {
                "average error rate over five-minute periods".to_string()
            }
            Measure::ErrorRate { request_factor } => format!(
                "average error rate over five-minute periods ({:.1} % of periods see requests)",
                request_factor * 100.0
            ),
            Measure::RegionUnavailable {
                period_minutes,
                partial,
            } => format!(
                "{period_minutes}-minute periods with more than one zone unavailable ({})",
                match partial {
                    PartialPeriods::Any => "a period counts if any part of it is",
                    PartialPeriods::Whole => "a period counts only if all of it is",
                }
            ),
            Measure::InstanceUptime => "each instance's time down".to_string(),
        }
    }
}

/// The published agreements nines knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// S3, October 2007: 99.9 % a calendar month by average error rate; 10 % below
    /// 99.9 %, 25 % below 99.0 %.
    S3_2007,
    /// S3 Standard, current: as 2007, plus 100 % below 95.0 %.
    S3Current,
    /// EC2, October 2008: 99.95 % over the Service Year, counting five-minute periods
    /// of region unavailability; 10 % below.
    Ec2_2008,
    /// EC2 region level, current: 99.99 % a month, counting minutes of region
    /// unavailability; 10 / 30 / 100 % below 99.99 / 99.0 / 95.0 %.
    Ec2RegionCurrent,
    /// EC2 instance level, current: 99.5 % a month for each instance;
    /// 10 / 30 / 100 % below 99.5 / 99.0 / 95.0 % (the tiers are recalled, not
    /// re-read in the published text).
    Ec2InstanceCurrent,
}

impl Contract {
    pub const ALL: [Contract; 5] = [
        Contract::S3_2007,
        Contract::S3Current,
        Contract::Ec2_2008,
        Contract::Ec2RegionCurrent,
        Contract::Ec2InstanceCurrent,
    ];

    /// The name used in scenario files.
    pub fn key(self) -> &'static str {
        match self {
            Contract::S3_2007 => "s3-2007",
            Contract::S3Current => "s3-current",
            Contract::Ec2_2008 => "ec2-2008",
            Contract::Ec2RegionCurrent => "ec2-region-current",
            Contract::Ec2InstanceCurrent => "ec2-instance-current",
        }
    }

    pub fn from_key(key: &str) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| c.key() == key)
    }

    pub fn title(self) -> &'static str {
        match self {
            Contract::S3_2007 => "S3 SLA (2007): 99.9% a month",
            Contract::S3Current => "S3 SLA (current): 99.9% a month",
            Contract::Ec2_2008 => "EC2 SLA (2008): 99.95% a service year",
            Contract::Ec2RegionCurrent => "EC2 region SLA (current): 99.99% a month",
            Contract::Ec2InstanceCurrent => "EC2 instance SLA (current): 99.5% a month",
        }
    }

    /// Whether the contract applies to storage (`true`) or compute (`false`).
    pub fn for_storage(self) -> bool {
        matches!(self, Contract::S3_2007 | Contract::S3Current)
    }

    /// The SLA, for a storage service whose periods see requests with probability
    /// `request_factor` (1 for a busy service; ignored by compute contracts).
    pub fn sla(self, request_factor: f64) -> Sla {
        let tiers = |t: &[(f64, f64)]| CreditTiers::new(t.to_vec()).expect("valid presets");
        let error_rate = Measure::ErrorRate { request_factor };
        let (target_percent, window, measure, credits) = match self {
            Contract::S3_2007 => (
                99.9,
                Window::CalendarMonth,
                error_rate,
                tiers(&[(99.9, 10.0), (99.0, 25.0)]),
            ),
            Contract::S3Current => (
                99.9,
                Window::CalendarMonth,
                error_rate,
                tiers(&[(99.9, 10.0), (99.0, 25.0), (95.0, 100.0)]),
            ),
            Contract::Ec2_2008 => (
                99.95,
                Window::ServiceYear,
                Measure::RegionUnavailable {
                    period_minutes: 5,
                    partial: PartialPeriods::Any,
                },
                tiers(&[(99.95, 10.0)]),
            ),
            Contract::Ec2RegionCurrent => (
                99.99,
                Window::CalendarMonth,
                Measure::RegionUnavailable {
                    period_minutes: 1,
                    partial: PartialPeriods::Any,
                },
                tiers(&[(99.99, 10.0), (99.0, 30.0), (95.0, 100.0)]),
            ),
            Contract::Ec2InstanceCurrent => (
                99.5,
                Window::CalendarMonth,
                Measure::InstanceUptime,
                tiers(&[(99.5, 10.0), (99.0, 30.0), (95.0, 100.0)]),
            ),
        };
        Sla {
            name: self.title().to_string(),
            contract: Some(self),
            target_percent,
            window,
            measure,
            credits,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_months_of_a_365_day_year() {
        let w = Window::CalendarMonth.windows(8760.0);
        // 12 months; January is 31 days = 744 h, February 28 days = 672 h, April 30 days
        // = 720 h; December ends the year at 8760 h.
        assert_eq!(w.len(), 12);
        assert_eq!(w[0], (0.0, 744.0));
        assert_eq!(w[1], (744.0, 1416.0));
        assert_eq!(w[3].1 - w[3].0, 720.0);
        assert_eq!(w[11].1, 8760.0);
        // Two years: 24 months, and the 13th is January again.
        let w2 = Window::CalendarMonth.windows(2.0 * 8760.0);
        assert_eq!(w2.len(), 24);
        assert_eq!(w2[12], (8760.0, 8760.0 + 744.0));
    }

    #[test]
    fn thirty_day_months_and_years() {
        // 365 days hold twelve 30-day months (360 days) and one year.
        let m = Window::Month30.windows(8760.0);
        assert_eq!(m.len(), 12);
        assert_eq!(m[11], (11.0 * 720.0, 8640.0));
        assert_eq!(Window::Year.windows(8760.0), vec![(0.0, 8760.0)]);
        // 1.5 years hold one whole year; 40 days hold only January.
        assert_eq!(Window::Year.windows(1.5 * 8760.0), vec![(0.0, 8760.0)]);
        assert_eq!(
            Window::CalendarMonth.windows(40.0 * 24.0),
            vec![(0.0, 744.0)]
        );
        assert!(Window::Year.windows(100.0).is_empty());
    }

    #[test]
    fn service_years_end_at_each_month_end_after_the_first_year() {
        assert_eq!(Window::ServiceYear.windows(8760.0), vec![(0.0, 8760.0)]);
        // 13 months: claims at the end of December and of the next January.
        let w = Window::ServiceYear.windows(8760.0 + 744.0);
        assert_eq!(w, vec![(0.0, 8760.0), (744.0, 9504.0)]);
    }

    #[test]
    fn boundaries_belong_to_the_better_tier() {
        let current = Contract::S3Current.sla(1.0);
        // Exactly 99.9 % earns nothing and does not breach; just below earns 10 %.
        assert_eq!(current.credits.tier_of(99.9), 0);
        assert!(!current.breached_by(99.9));
        assert_eq!(current.credits.tier_of(99.8999), 1);
        assert!(current.breached_by(99.8999));
        // Exactly 99.0 % is still 10 %; exactly 95.0 % is 25 %; below, 100 %.
        assert_eq!(
            current
                .credits
                .credit_percent(current.credits.tier_of(99.0)),
            10.0
        );
        assert_eq!(
            current
                .credits
                .credit_percent(current.credits.tier_of(95.0)),
            25.0
        );
        assert_eq!(
            current
                .credits
                .credit_percent(current.credits.tier_of(94.99)),
            100.0
        );
        // The 2007 contract stops at 25 %.
        let old = Contract::S3_2007.sla(1.0);
        assert_eq!(old.credits.credit_percent(old.credits.tier_of(50.0)), 25.0);
    }

    #[test]
    fn tiers_must_make_sense() {
        assert!(CreditTiers::new(vec![(99.0, 10.0), (99.0, 20.0)]).is_err());
        assert!(CreditTiers::new(vec![(99.9, 25.0), (99.0, 10.0)]).is_err());
        let t = CreditTiers::new(vec![(95.0, 100.0), (99.9, 10.0)]).unwrap();
        assert_eq!(t.tiers(), &[(99.9, 10.0), (95.0, 100.0)]);
    }

    #[test]
    fn contracts_round_trip_by_key() {
        for c in Contract::ALL {
            assert_eq!(Contract::from_key(c.key()), Some(c));
        }
        assert_eq!(Contract::from_key("s3-1999"), None);
    }
}
