//! What a run reports: the JSON document (stable keys) and the terminal table.
//!
//! The JSON holds no wall-clock values, so the same scenario and seed give the same
//! bytes on any machine and any number of threads.

use crate::scenario::units::HOURS_PER_YEAR;
use crate::sla::Sla;
use crate::summary::{
    DurabilitySummary, LEVEL, RunSummary, ServiceSummary, SlaSummary, UPTIME_BANDS, mean_ci,
    never_seen_bound,
};
use crate::world::{Application, Service, ServiceKind, Store, World};
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
    /// With `--precision`: the relative half-width asked for, and whether every
    /// headline estimate reached it before the trial limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<PrecisionReport>,
    pub services: Vec<ServiceReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PrecisionReport {
    pub relative: f64,
    pub converged: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    /// 95 % confidence interval.
    pub ci95: [f64; 2],
}

impl Estimate {
    fn new(mean: f64, (lo, hi): (f64, f64)) -> Estimate {
        Estimate {
            mean,
            ci95: [lo, hi],
        }
    }

    fn scaled(&self, factor: f64) -> Estimate {
        Estimate {
            mean: self.mean * factor,
            ci95: [self.ci95[0] * factor, self.ci95[1] * factor],
        }
    }
}

/// An estimate whose value or interval ends may not exist: nines (-log10 of
/// unavailability; an upper end of `null` means "no downtime is consistent with the
/// data"), or a mean time to an event never seen.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OptionalEstimate {
    pub mean: Option<f64>,
    pub ci95: [Option<f64>; 2],
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DowntimeReport {
    pub mean: f64,
    pub ci95: [f64; 2],
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    /// Share of trials by downtime per year, in bands of hours (`to` of the last band
    /// is the largest downtime seen; bands are exact to the sketch's 0.5 %).
    pub histogram: Vec<BandReport>,
}

/// Upper edges, in hours a year, of the downtime histogram's bands after "none": a
/// minute, 10 minutes, an hour, 4 hours, 12 hours, a day, a week, 30 days.
const DOWNTIME_BANDS: [f64; 8] = [1.0 / 60.0, 1.0 / 6.0, 1.0, 4.0, 12.0, 24.0, 168.0, 720.0];

fn downtime_histogram(sketch: &crate::stats::QuantileSketch) -> Vec<BandReport> {
    let n = sketch.count().max(1) as f64;
    let mut bands = vec![BandReport {
        from: 0.0,
        to: 0.0,
        probability: sketch.count_at_most(0.0) as f64 / n,
    }];
    let mut below = sketch.count_at_most(0.0);
    let mut from = 0.0;
    for &to in &DOWNTIME_BANDS {
        let at_most = sketch.count_at_most(to);
        bands.push(BandReport {
            from,
            to,
            probability: (at_most - below) as f64 / n,
        });
        below = at_most;
        from = to;
    }
    bands.push(BandReport {
        from,
        to: sketch.max().max(from),
        probability: (sketch.count() - below) as f64 / n,
    });
    bands
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceReport {
    pub name: String,
    pub kind: &'static str,
    /// Fraction of time up; the interval treats each trial as one observation.
    pub availability: Estimate,
    pub nines: OptionalEstimate,
    /// Hours down per 365-day year (quantiles to within 0.5 % relative).
    pub downtime_hours_per_year: DowntimeReport,
    pub outages_per_year: Estimate,
    /// What was down while the service was down.
    pub downtime_causes: CausesReport,
    /// Stored data kept or lost (storage services only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durability: Option<DurabilityReport>,
    /// Tiers, flows and monthly cost (applications only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_bill: Option<f64>,
    pub slas: Vec<SlaReport>,
}

/// An application's design and what it costs a month, in US dollars (the scenario's
/// `prices`; by default as published in 2008).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplicationReport {
    pub account: String,
    pub tiers: Vec<ApplicationTierReport>,
    pub flows: Vec<ApplicationFlowReport>,
    /// Every instance all month (730 h).
    pub monthly_instance_cost: f64,
    pub monthly_storage_cost: f64,
    pub monthly_transfer_cost: f64,
    pub monthly_cost: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplicationTierReport {
    pub name: String,
    pub instances: u64,
    pub min_up: u32,
    pub groups: Vec<String>,
    pub load_balancer: bool,
    /// The load balancer's health check, in hours, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_check_hours: Option<f64>,
    /// With a health check: the expected fraction of the tier's requests that failed
    /// (sent to a failed instance not yet noticed, or while the tier was down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_failed: Option<Estimate>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplicationFlowReport {
    /// "internet" or a tier.
    pub from: String,
    pub to: String,
    pub protocol: String,
    pub port: Option<u16>,
    /// "private" or "public" (always "public" from the internet).
    pub addressing: &'static str,
    /// Pairs of instance profiles the groups admit; 0: never up.
    pub admitted_pairs: usize,
    /// The typical route between tiers by this addressing (`null` from the internet).
    pub typical_round_trip_ms: Option<f64>,
    pub typical_hops: Option<u32>,
    pub gb_per_month: f64,
    /// Regional transfer, charged on each side, for flows over public addresses.
    pub monthly_transfer_cost: f64,
}

fn application_report(app: &Application, s: &ServiceSummary, trials: u64) -> ApplicationReport {
    use crate::security::{Protocol, Via};
    let cost = app.monthly_cost();
    let mut failed = s.requests_failed.iter();
    ApplicationReport {
        account: app.security.account().to_string(),
        tiers: app
            .tiers
            .iter()
            .map(|t| ApplicationTierReport {
                name: t.name.clone(),
                instances: t.instance_range.len() as u64,
                min_up: t.min_up,
                groups: t
                    .groups
                    .iter()
                    .map(|&g| app.security.group(g).name().to_string())
                    .collect(),
                load_balancer: t.load_balancer.is_some(),
                health_check_hours: t.health_check.as_ref().map(|h| h.delay),
                requests_failed: t
                    .health_check
                    .as_ref()
                    .and_then(|_| failed.next())
                    .map(|m| Estimate::new(m.mean(), mean_ci(m, never_seen_bound(trials), 1.0))),
            })
            .collect(),
        flows: app
            .flows
            .iter()
            .zip(&cost.transfer)
            .map(|(f, &transfer)| {
                let route = app.route(f);
                ApplicationFlowReport {
                    from: app.origin_name(f).to_string(),
                    to: app.tiers[f.flow.to].name.clone(),
                    protocol: f.flow.protocol.to_string(),
                    port: (f.flow.protocol != Protocol::Icmp).then_some(f.flow.port),
                    addressing: match f.flow.via {
                        Via::Private => "private",
                        Via::Public => "public",
                    },
                    admitted_pairs: f.admitted_pairs,
                    typical_round_trip_ms: route.map(|r| r.round_trip_ms),
                    typical_hops: route.map(|r| r.hops),
                    gb_per_month: f.gb_per_month,
                    monthly_transfer_cost: transfer,
                }
            })
            .collect(),
        monthly_instance_cost: cost.instances,
        monthly_storage_cost: cost.storage,
        monthly_transfer_cost: cost.transfer.iter().sum(),
        monthly_cost: cost.total,
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlaReport {
    pub name: String,
    /// The built-in contract reproduced, if any.
    pub contract: Option<&'static str>,
    pub target_percent: f64,
    pub window: &'static str,
    pub measure: &'static str,
    pub measure_description: String,
    /// Windows per trial (for instance-level SLAs: windows × instances).
    pub windows_per_trial: u64,
    /// Probability that a window breaches the target (Wilson interval on the effective
    /// number of windows, clustered by trial).
    pub breach_probability: Estimate,
    pub breached_windows_per_year: Estimate,
    /// Probability that a year holds at least one breached window (`null` when the
    /// horizon holds no whole year).
    pub breach_in_a_year_probability: Option<Estimate>,
    /// Uptime per window as the contract measures it.
    pub uptime_percent: UptimeReport,
    /// Unavailability as the contract counts it, in hours a year (its mean per window
    /// × 8760 h): compare with the service's real `downtime_hours_per_year`.
    pub counted_downtime_hours_per_year: Estimate,
    pub credit: CreditReport,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UptimeReport {
    pub mean: f64,
    pub ci95: [f64; 2],
    /// Quantiles over windows: `p1` is the uptime that 1 % of windows fall below.
    pub p1: f64,
    pub p5: f64,
    pub p10: f64,
    pub p50: f64,
    pub min: f64,
    pub histogram: Vec<BandReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BandReport {
    /// A band of values: uptime percent `[from, to)` (the top band is exactly 100 %),
    /// or hours of downtime `(from, to]` (the first band is exactly 0).
    pub from: f64,
    pub to: f64,
    pub probability: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CreditReport {
    pub tiers: Vec<TierReport>,
    /// Mean credit per window, as a percentage of the window's bill.
    pub expected_percent_per_window: Estimate,
    /// Credit per year, in monthly bills (a year's bill is 12).
    pub expected_monthly_bills_per_year: Estimate,
    /// Credit per year as a fraction of the year's bill.
    pub expected_fraction_of_annual_bill: Estimate,
    /// Credit per year in money, when the service has a monthly bill.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_money_per_year: Option<Estimate>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TierReport {
    pub below_percent: f64,
    pub credit_percent: f64,
    /// Probability that a window earns exactly this tier's credit.
    pub probability: Estimate,
}

/// What a storage service kept and lost.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DurabilityReport {
    /// "6 replicas", "17+3 erasure code".
    pub redundancy: String,
    pub object_groups: u64,
    /// How the numbers below were estimated.
    pub method: &'static str,
    /// Probability that at least one object group is lost within the horizon.
    pub loss_probability: Estimate,
    /// Expected fraction of the object groups lost within the horizon.
    pub fraction_lost: Estimate,
    /// Expected bytes lost within the horizon (with an object group size).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_lost: Option<Estimate>,
    /// Durability of an object over a year, in nines: -log10 of the expected fraction
    /// lost per year. `null` where no loss is consistent with the data.
    pub nines_per_object_year: OptionalEstimate,
    /// Mean time to the first data loss in the fleet, in years (exposure over losses;
    /// `null` when none was seen; an upper end of `null`: unbounded).
    pub mean_years_to_loss: OptionalEstimate,
    pub copies_per_year: f64,
    /// Copies placed outside their home data centre because it was gone.
    pub degraded_copies_per_year: f64,
    /// Probability that the worst object group of a trial was missing `missing`
    /// pieces at once (the closest call).
    pub closest_calls: Vec<ClosestCall>,
    /// The failure sequences that lost data: causes of the lost pieces of each lost
    /// group, and their share of lost groups.
    pub loss_causes: Vec<LossCauseShare>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClosestCall {
    pub missing: u32,
    pub probability: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LossCauseShare {
    pub causes: Vec<String>,
    pub share: f64,
}

fn durability_report(
    store: &Store,
    labels: &[String],
    d: &DurabilitySummary,
    trials: u64,
    years: f64,
) -> DurabilityReport {
    let (p, p_ci) = d.loss_probability();
    let fraction = Estimate::new(d.fraction_lost.mean(), d.fraction_lost_ci());
    let per_year = |f: f64| f / years;
    let (mean_hours, (lo_hours, hi_hours)) = d.mean_time_to_loss();
    let to_years = |h: f64| h / HOURS_PER_YEAR;
    let lost: u64 = d.loss_causes.iter().map(|c| c.groups).sum();
    let mut loss_causes: Vec<LossCauseShare> = d
        .loss_causes
        .iter()
        .map(|c| LossCauseShare {
            causes: c
                .causes
                .iter()
                .map(|&i| {
                    labels
                        .get(i as usize)
                        .cloned()
                        .unwrap_or_else(|| "unknown".into())
                })
                .collect(),
            share: c.groups as f64 / lost.max(1) as f64,
        })
        .collect();
    loss_causes.sort_by(|a, b| b.share.total_cmp(&a.share));
    DurabilityReport {
        redundancy: store.redundancy.to_string(),
        object_groups: d.groups,
        method: "plain Monte Carlo",
        loss_probability: Estimate::new(p, p_ci),
        bytes_lost: store
            .group_bytes
            .map(|bytes| fraction.scaled(bytes * d.groups as f64)),
        nines_per_object_year: OptionalEstimate {
            mean: nines_of(per_year(fraction.mean)),
            ci95: [
                nines_of(per_year(fraction.ci95[1])),
                nines_of(per_year(fraction.ci95[0])),
            ],
        },
        fraction_lost: fraction,
        mean_years_to_loss: OptionalEstimate {
            mean: mean_hours.map(to_years),
            ci95: [
                Some(to_years(lo_hours)),
                hi_hours.is_finite().then(|| to_years(hi_hours)),
            ],
        },
        copies_per_year: d.copies as f64 / trials.max(1) as f64 / years,
        degraded_copies_per_year: d.degraded as f64 / trials.max(1) as f64 / years,
        closest_calls: d
            .deepest
            .iter()
            .enumerate()
            .map(|(missing, &n)| ClosestCall {
                missing: missing as u32,
                probability: n as f64 / trials.max(1) as f64,
            })
            .collect(),
        loss_causes,
    }
}

/// Downtime explained by its root causes: each domain (by kind and id) and each kind of
/// component whose own failure was under way while the service was down.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CausesReport {
    /// Each cause: the downtime during which it was down, and its share of all
    /// downtime. A second with two causes down counts for both, so shares can add up to
    /// more than 1.
    pub involved: Vec<CauseShare>,
    /// The most common sets of causes down together (up to ten): their downtime and
    /// share, which add up to at most 1.
    pub combinations: Vec<CombinationShare>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CauseShare {
    pub cause: String,
    pub hours_per_year: f64,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CombinationShare {
    pub causes: Vec<String>,
    pub hours_per_year: f64,
    pub share: f64,
}

fn causes_report(labels: &[String], s: &ServiceSummary, trials: u64, years: f64) -> CausesReport {
    let per_year = 1.0 / (trials.max(1) as f64 * years);
    let total: f64 = s.cause_hours.iter().map(|c| c.hours).sum();
    let share = |hours: f64| if total > 0.0 { hours / total } else { 0.0 };
    let mut involved: Vec<CauseShare> = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            let hours: f64 = s
                .cause_hours
                .iter()
                .filter(|c| c.causes.contains(&(i as u16)))
                .map(|c| c.hours)
                .sum();
            CauseShare {
                cause: label.clone(),
                hours_per_year: hours * per_year,
                share: share(hours),
            }
        })
        .filter(|c| c.hours_per_year > 0.0)
        .collect();
    involved.sort_by(|a, b| b.hours_per_year.total_cmp(&a.hours_per_year));
    let mut combinations: Vec<CombinationShare> = s
        .cause_hours
        .iter()
        .map(|c| CombinationShare {
            causes: c
                .causes
                .iter()
                .map(|&i| labels[i as usize].clone())
                .collect(),
            hours_per_year: c.hours * per_year,
            share: share(c.hours),
        })
        .collect();
    combinations.sort_by(|a, b| b.hours_per_year.total_cmp(&a.hours_per_year));
    combinations.truncate(10);
    CausesReport {
        involved,
        combinations,
    }
}

fn nines_of(unavailability: f64) -> Option<f64> {
    // 0 - log10 rather than -log10: never up is 0 nines, not -0.
    (unavailability > 0.0).then(|| 0.0 - unavailability.log10())
}

fn service_report(
    service: &Service,
    labels: &[String],
    s: &ServiceSummary,
    trials: u64,
    years: f64,
) -> ServiceReport {
    let (lo, hi) = s.unavailability_ci();
    let u = s.unavailability.mean();
    let bound = never_seen_bound(trials);
    let downtime = &s.downtime_per_year_moments;
    ServiceReport {
        name: service.name.clone(),
        kind: service.kind.name(),
        availability: Estimate::new(
            1.0 - u,
            ((1.0 - hi).clamp(0.0, 1.0), (1.0 - lo).clamp(0.0, 1.0)),
        ),
        nines: OptionalEstimate {
            mean: nines_of(u),
            ci95: [nines_of(hi), nines_of(lo)],
        },
        downtime_hours_per_year: DowntimeReport {
            mean: downtime.mean(),
            // With no downtime seen, the unavailability bound in hours a year.
            ci95: {
                let (lo, hi) = mean_ci(downtime, bound * HOURS_PER_YEAR, HOURS_PER_YEAR);
                [lo, hi]
            },
            p50: s.downtime_per_year.quantile(0.5),
            p90: s.downtime_per_year.quantile(0.9),
            p99: s.downtime_per_year.quantile(0.99),
            max: s.downtime_per_year.max(),
            histogram: downtime_histogram(&s.downtime_per_year),
        },
        // None seen: a Poisson mean below -ln(0.05) = 2.996 outages in all trials.
        outages_per_year: Estimate::new(
            s.outages_per_year.mean(),
            mean_ci(
                &s.outages_per_year,
                -(1.0 - LEVEL).ln() / trials.max(1) as f64 / years,
                f64::INFINITY,
            ),
        ),
        downtime_causes: causes_report(labels, s, trials, years),
        durability: match (&service.kind, &s.durability) {
            (ServiceKind::Storage { store, .. }, Some(d)) => {
                Some(durability_report(store, labels, d, trials, years))
            }
            _ => None,
        },
        application: match &service.kind {
            ServiceKind::Application(app) => Some(application_report(app, s, trials)),
            _ => None,
        },
        monthly_bill: service.monthly_bill,
        slas: service
            .slas
            .iter()
            .zip(&s.slas)
            .map(|(sla, summary)| sla_report(sla, summary, service.monthly_bill, trials, years))
            .collect(),
    }
}

fn sla_report(
    sla: &Sla,
    s: &SlaSummary,
    monthly_bill: Option<f64>,
    trials: u64,
    years: f64,
) -> SlaReport {
    let bound = never_seen_bound(trials);
    let breach = Estimate::new(s.breaches.estimate(), s.breaches.ci(LEVEL));
    let windows_per_trial = s.breaches.units().checked_div(trials).unwrap_or(0);
    let windows_per_year = windows_per_trial as f64 / years;
    let units = s.unavailability_per_unit.count().max(1);
    // Uptime quantiles from the sketch of unavailability: the p-th quantile of uptime
    // is 1 minus the (1 - p)-th quantile of unavailability.
    let uptime_at = |p: f64| 100.0 * (1.0 - s.unavailability_per_unit.quantile(1.0 - p));
    let (ulo, uhi) = mean_ci(&s.unavailability, bound, 1.0);
    let credit_percent = Estimate::new(
        s.credit_percent.mean(),
        mean_ci(&s.credit_percent, 100.0 * bound, 100.0),
    );
    // None seen: at most the top tier's credit in every window, with the never-seen
    // probability.
    let top_credit = sla.credits.tiers().last().map_or(0.0, |&(_, c)| c);
    let bills_per_year = Estimate::new(
        s.credit_bills_per_year.mean(),
        mean_ci(
            &s.credit_bills_per_year,
            bound * top_credit / 100.0 * sla.window.bills() * windows_per_year,
            top_credit / 100.0 * sla.window.bills() * windows_per_year,
        ),
    );
    SlaReport {
        name: sla.name.clone(),
        contract: sla.contract.map(|c| c.key()),
        target_percent: sla.target_percent,
        window: sla.window.name(),
        measure: sla.measure.name(),
        measure_description: sla.measure.describe(),
        windows_per_trial,
        breached_windows_per_year: Estimate::new(
            s.breached_per_year.mean(),
            mean_ci(
                &s.breached_per_year,
                breach.ci95[1] * windows_per_year,
                windows_per_year,
            ),
        ),
        breach_probability: breach,
        breach_in_a_year_probability: (s.years_breached.units() > 0)
            .then(|| Estimate::new(s.years_breached.estimate(), s.years_breached.ci(LEVEL))),
        counted_downtime_hours_per_year: Estimate::new(
            s.unavailability.mean() * HOURS_PER_YEAR,
            (ulo * HOURS_PER_YEAR, uhi * HOURS_PER_YEAR),
        ),
        uptime_percent: UptimeReport {
            mean: 100.0 * (1.0 - s.unavailability.mean()),
            ci95: [100.0 * (1.0 - uhi), 100.0 * (1.0 - ulo)],
            p1: uptime_at(0.01),
            p5: uptime_at(0.05),
            p10: uptime_at(0.10),
            p50: uptime_at(0.50),
            min: 100.0 * (1.0 - s.unavailability_per_unit.max()),
            histogram: UPTIME_BANDS
                .iter()
                .enumerate()
                .map(|(i, &from)| BandReport {
                    from,
                    to: if i == 0 { 100.0 } else { UPTIME_BANDS[i - 1] },
                    probability: s.bands[i] as f64 / units as f64,
                })
                .collect(),
        },
        credit: CreditReport {
            tiers: sla
                .credits
                .tiers()
                .iter()
                .zip(&s.tiers[1..])
                .map(|(&(below, credit), count)| TierReport {
                    below_percent: below,
                    credit_percent: credit,
                    probability: Estimate::new(count.estimate(), count.ci(LEVEL)),
                })
                .collect(),
            expected_percent_per_window: credit_percent,
            expected_fraction_of_annual_bill: bills_per_year.scaled(1.0 / 12.0),
            expected_money_per_year: monthly_bill.map(|bill| bills_per_year.scaled(bill)),
            expected_monthly_bills_per_year: bills_per_year,
        },
    }
}

impl Report {
    pub fn new(
        world: &World,
        seed: u64,
        summary: &RunSummary,
        precision: Option<PrecisionReport>,
    ) -> Report {
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
            precision,
            services: world
                .services
                .iter()
                .zip(&summary.services)
                .map(|(service, s)| {
                    let labels = world.causes.labels();
                    service_report(service, labels, s, summary.trials, summary.years())
                })
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
        let years = self.horizon_hours / HOURS_PER_YEAR;
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
        if let Some(p) = &self.precision {
            let _ = writeln!(
                out,
                "Precision ±{} % of each headline estimate: {}",
                p.relative * 100.0,
                if p.converged {
                    "reached"
                } else {
                    "NOT reached before the trial limit"
                }
            );
        }
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
                nines_text(&s.nines)
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
            if !s.downtime_causes.involved.is_empty() {
                let causes: Vec<String> = s
                    .downtime_causes
                    .involved
                    .iter()
                    .take(5)
                    .map(|c| format!("{} {:.1} %", c.cause, c.share * 100.0))
                    .collect();
                let _ = writeln!(out, "  down while            {}", causes.join(", "));
            }
            if let Some(d) = &s.durability {
                write_durability(&mut out, d);
            }
            if let Some(a) = &s.application {
                write_application(&mut out, a);
            }
            for sla in &s.slas {
                write_sla(&mut out, sla, s.monthly_bill);
            }
        }
        out
    }
}

/// A probability in a form that reads at any size: "0.12 %", "3.4e-9".
fn probability_text(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p >= 1e-4 {
        format!("{:.4} %", p * 100.0)
    } else {
        format!("{p:.2e}")
    }
}

fn write_application(out: &mut String, a: &ApplicationReport) {
    let instances: u64 = a.tiers.iter().map(|t| t.instances).sum();
    let _ = writeln!(
        out,
        "  cost a month          ${:.2}: {instances} instances ${:.2}, storage ${:.2}, transfer ${:.2}",
        a.monthly_cost, a.monthly_instance_cost, a.monthly_storage_cost, a.monthly_transfer_cost
    );
    for t in &a.tiers {
        let check = match (t.health_check_hours, &t.requests_failed) {
            (Some(hours), Some(failed)) => format!(
                "; health check {} s, requests failed {} (95 % {} to {})",
                hours * 3600.0,
                probability_text(failed.mean),
                probability_text(failed.ci95[0]),
                probability_text(failed.ci95[1])
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  tier {:<16} {} instances, up while {} are up{}{check}",
            t.name,
            t.instances,
            t.min_up,
            if t.load_balancer {
                ", behind a load balancer"
            } else {
                ""
            }
        );
    }
    for f in &a.flows {
        let port = f.port.map_or(String::new(), |p| format!(" {p}"));
        let route = match (f.typical_round_trip_ms, f.typical_hops) {
            (Some(ms), Some(hops)) => format!(", typically {ms} ms and {hops} hops"),
            _ => String::new(),
        };
        let transfer = if f.gb_per_month > 0.0 {
            format!(
                ", {} GB a month: ${:.2} transfer",
                f.gb_per_month, f.monthly_transfer_cost
            )
        } else {
            String::new()
        };
        let never = if f.admitted_pairs == 0 {
            " — admitted by no rule: never up"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  flow {} → {}, {}{port}, {}{route}{transfer}{never}",
            f.from, f.to, f.protocol, f.addressing
        );
    }
}

fn write_durability(out: &mut String, d: &DurabilityReport) {
    let _ = writeln!(
        out,
        "  durability            {} over {} object groups ({})",
        d.redundancy, d.object_groups, d.method
    );
    let p = &d.loss_probability;
    let _ = writeln!(
        out,
        "    P(any group lost)   {}  [{}, {}] within the horizon",
        probability_text(p.mean),
        probability_text(p.ci95[0]),
        probability_text(p.ci95[1])
    );
    let f = &d.fraction_lost;
    let _ = writeln!(
        out,
        "    share of data lost  {}  [{}, {}]",
        probability_text(f.mean),
        probability_text(f.ci95[0]),
        probability_text(f.ci95[1])
    );
    let nines = |n: Option<f64>| n.map_or("∞".to_string(), |n| format!("{n:.1}"));
    let _ = writeln!(
        out,
        "    nines per object-year {}  [{}, {}]",
        nines(d.nines_per_object_year.mean),
        nines(d.nines_per_object_year.ci95[0]),
        nines(d.nines_per_object_year.ci95[1])
    );
    let years = |y: Option<f64>| y.map_or("∞".to_string(), |y| format!("{y:.3e} years"));
    let _ = writeln!(
        out,
        "    mean time to loss   {}  [{}, {}]",
        d.mean_years_to_loss
            .mean
            .map_or("none seen".to_string(), |y| format!("{y:.3e} years")),
        years(d.mean_years_to_loss.ci95[0]),
        years(d.mean_years_to_loss.ci95[1])
    );
    let _ = writeln!(
        out,
        "    re-created pieces   {:.1} a year ({:.2} a year outside their home site)",
        d.copies_per_year, d.degraded_copies_per_year
    );
    let calls: Vec<String> = d
        .closest_calls
        .iter()
        .filter(|c| c.missing > 0 && c.probability > 0.0)
        .map(|c| format!("{} missing {}", c.missing, probability_text(c.probability)))
        .collect();
    if !calls.is_empty() {
        let _ = writeln!(out, "    closest calls       {}", calls.join(", "));
    }
    for cause in d.loss_causes.iter().take(3) {
        let _ = writeln!(
            out,
            "    lost by             {} ({:.1} % of losses)",
            cause.causes.join(" + "),
            cause.share * 100.0
        );
    }
}

/// One labelled line of an SLA's block in the table.
fn row(out: &mut String, label: &str, value: String) {
    let _ = writeln!(out, "    {label:<26} {value}");
}

fn pct(e: &Estimate, decimals: usize) -> String {
    format!(
        "{:.*} %  [{:.*} %, {:.*} %]",
        decimals,
        e.mean * 100.0,
        decimals,
        e.ci95[0] * 100.0,
        decimals,
        e.ci95[1] * 100.0
    )
}

fn write_sla(out: &mut String, sla: &SlaReport, monthly_bill: Option<f64>) {
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  SLA {:?}: {} % per {} ({} per trial)",
        sla.name,
        sla.target_percent,
        sla.window,
        plural(sla.windows_per_trial, "window")
    );
    row(out, "measured by", sla.measure_description.clone());
    let u = &sla.uptime_percent;
    row(
        out,
        &format!("uptime per {}", sla.window),
        format!(
            "mean {:.5} % [{:.5}, {:.5}]; p1 {:.4} %, p10 {:.4} %, worst {:.4} %",
            u.mean, u.ci95[0], u.ci95[1], u.p1, u.p10, u.min
        ),
    );
    let c = &sla.counted_downtime_hours_per_year;
    row(
        out,
        "counted as down",
        format!(
            "{} a year [{}, {}]",
            format_rounded(c.mean),
            format_rounded(c.ci95[0]),
            format_rounded(c.ci95[1])
        ),
    );
    row(
        out,
        &format!("P(a {} breaches)", sla.window),
        pct(&sla.breach_probability, 4),
    );
    if let Some(y) = &sla.breach_in_a_year_probability {
        row(out, "P(a year has a breach)", pct(y, 4));
    }
    let w = &sla.breached_windows_per_year;
    row(
        out,
        "breached windows a year",
        format!("{:.4} [{:.4}, {:.4}]", w.mean, w.ci95[0], w.ci95[1]),
    );
    for t in &sla.credit.tiers {
        row(
            out,
            &format!("P({} % credit)", t.credit_percent),
            format!(
                "{}  (uptime below {} %)",
                pct(&t.probability, 4),
                t.below_percent
            ),
        );
    }
    if sla.credit.tiers.is_empty() {
        return;
    }
    row(
        out,
        "expected credit",
        format!(
            "{} of the annual bill",
            pct(&sla.credit.expected_fraction_of_annual_bill, 5)
        ),
    );
    if let (Some(m), Some(bill)) = (&sla.credit.expected_money_per_year, monthly_bill) {
        row(
            out,
            "",
            format!(
                "{:.2} a year on a monthly bill of {bill}  [{:.2}, {:.2}]",
                m.mean, m.ci95[0], m.ci95[1]
            ),
        );
    }
}

fn nines_text(nines: &OptionalEstimate) -> String {
    match (nines.mean, nines.ci95) {
        (None, _) => "(no downtime seen)".to_string(),
        (Some(n), [Some(lo), Some(hi)]) => format!("{n:.2} nines [{lo:.2}, {hi:.2}]"),
        (Some(n), [lo, None]) => format!(
            "{n:.2} nines [{}, ∞)",
            lo.map_or("0".to_string(), |l| format!("{l:.2}"))
        ),
        (Some(n), [None, Some(hi)]) => format!("{n:.2} nines [0, {hi:.2}]"),
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
    fn availability_shows_its_nines() {
        // 1 - 9.95e-4: three leading nines, shown with 4 decimals of a percent.
        assert_eq!(percent_with(0.999005, decimals_for(0.999005)), "99.9005 %");
        // 1 - 1.1e-9: eight leading nines, 9 decimals.
        let a = 1.0 - 1.1e-9;
        assert_eq!(percent_with(a, decimals_for(a)), "99.999999890 %");
        let three = OptionalEstimate {
            mean: nines_of(0.001),
            ci95: [nines_of(0.002), nines_of(0.0)],
        };
        assert_eq!(nines_text(&three), "3.00 nines [2.70, ∞)");
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
