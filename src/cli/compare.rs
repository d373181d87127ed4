//! `nines compare`: designs side by side, on common random numbers.

use super::{Error, load, pool, show, write_atomically};
use crate::compare::{ComparisonSummary, Difference};
use crate::montecarlo;
use crate::report::{Report, SCHEMA_VERSION, format_hours};
use crate::scenario::units::HOURS_PER_YEAR;
use crate::trial::{TrialOutcome, TrialRunner};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Two or more scenarios; each is compared with the first.
    #[arg(required = true, num_args = 2..)]
    pub scenarios: Vec<PathBuf>,
    /// Number of trials (default: the first scenario's `trials`, else 10,000).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Seed, the same for every design (default: the first scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write the comparison as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also write a self-contained HTML report to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Print nothing but errors (and no table).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

#[derive(Debug, Serialize)]
struct ComparisonReport {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
    seed: u64,
    trials: u64,
    /// Each design's full report, in the order given.
    designs: Vec<Report>,
    /// Each design after the first, against the first: paired differences.
    differences: Vec<DesignDifference>,
}

#[derive(Debug, Serialize)]
struct DesignDifference {
    design: String,
    against: String,
    services: Vec<ServiceDifferenceReport>,
}

#[derive(Debug, Serialize)]
struct ServiceDifferenceReport {
    name: String,
    availability: Difference,
    downtime_hours_per_year: Difference,
    /// Probability of losing some object group within the horizon (storage).
    #[serde(skip_serializing_if = "Option::is_none")]
    data_loss_probability: Option<Difference>,
    slas: Vec<SlaDifferenceReport>,
}

#[derive(Debug, Serialize)]
struct SlaDifferenceReport {
    name: String,
    breach_probability: Difference,
    credit_monthly_bills_per_year: Difference,
}

pub(super) fn compare(args: CompareArgs) -> Result<(), Error> {
    let pool = pool(args.threads)?;
    let limits = args.limits.limits(pool.current_num_threads());
    let worlds = args
        .scenarios
        .iter()
        .map(|path| load(path, &limits).map(|(world, _)| world))
        .collect::<Result<Vec<_>, _>>()?;
    let first = &worlds[0];
    if let Some((path, _)) = args
        .scenarios
        .iter()
        .zip(&worlds)
        .find(|(_, w)| w.horizon != first.horizon)
    {
        return Err(Error::Input(format!(
            "{}: its horizon differs from the first design's; compare designs over the same \
             horizon",
            path.display()
        )));
    }
    let trials = args.trials.unwrap_or(first.default_trials);
    if trials == 0 {
        return Err(Error::Input("--trials: must be at least 1".into()));
    }
    let seed = args.seed.unwrap_or(first.default_seed);
    let budget = args.limits.max_events;
    let summary = pool.install(|| {
        montecarlo::run(
            trials,
            || ComparisonSummary::new(&worlds),
            || {
                worlds
                    .iter()
                    .map(|w| TrialRunner::with_event_budget(w, budget))
                    .collect::<Vec<_>>()
            },
            |runners, index, summary| {
                let outcomes: Vec<TrialOutcome> = runners
                    .iter_mut()
                    .map(|runner| runner.run(seed, index).clone())
                    .collect();
                summary.push(&outcomes.iter().collect::<Vec<_>>());
            },
            |_, summary| summary.designs.iter().any(|d| d.first_truncated.is_some()),
        )
    });
    if let Some(trial) = summary.designs.iter().find_map(|d| d.first_truncated) {
        return Err(Error::event_budget(trial, budget));
    }
    let report = comparison_report(&worlds, seed, &summary);
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&report).expect("comparisons serialise");
        text.push('\n');
        write_atomically(path, text.as_bytes())?;
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_value(&report).expect("comparisons serialise");
        write_atomically(path, crate::html::compare_report(&json).as_bytes())?;
    }
    if !args.quiet {
        show(&table(&report))?;
    }
    Ok(())
}

fn comparison_report(
    worlds: &[crate::world::World],
    seed: u64,
    summary: &ComparisonSummary,
) -> ComparisonReport {
    let first = &worlds[0];
    let differences = worlds[1..]
        .iter()
        .zip(&summary.differences)
        .map(|(world, services)| DesignDifference {
            design: world.name.clone(),
            against: first.name.clone(),
            services: first
                .services
                .iter()
                .zip(services)
                .filter_map(|(base, difference)| {
                    let difference = difference.as_ref()?;
                    Some(ServiceDifferenceReport {
                        name: base.name.clone(),
                        // Availability is 1 - unavailability: the difference flips sign.
                        availability: Difference::of(&difference.unavailability, -1.0),
                        downtime_hours_per_year: Difference::of(
                            &difference.unavailability,
                            HOURS_PER_YEAR,
                        ),
                        data_loss_probability: (difference.data_loss.count() > 0)
                            .then(|| Difference::of(&difference.data_loss, 1.0)),
                        slas: base
                            .slas
                            .iter()
                            .zip(&difference.slas)
                            .filter_map(|(sla, d)| {
                                let d = d.as_ref()?;
                                Some(SlaDifferenceReport {
                                    name: sla.name.clone(),
                                    breach_probability: Difference::of(&d.breach_fraction, 1.0),
                                    credit_monthly_bills_per_year: Difference::of(
                                        &d.credit_bills_per_year,
                                        1.0,
                                    ),
                                })
                            })
                            .collect(),
                    })
                })
                .collect(),
        })
        .collect();
    ComparisonReport {
        schema_version: SCHEMA_VERSION,
        tool: "nines",
        version: env!("CARGO_PKG_VERSION"),
        seed,
        trials: summary.designs[0].trials,
        designs: worlds
            .iter()
            .zip(&summary.designs)
            .map(|(world, s)| Report::new(world, seed, s, None))
            .collect(),
        differences,
    }
}

/// "+1.2e-4 [5.0e-5, 1.9e-4] *" (the star marks a significant difference).
fn difference(d: &Difference, format: impl Fn(f64) -> String) -> String {
    format!(
        "{} [{}, {}]{}",
        format(d.mean),
        format(d.ci95[0]),
        format(d.ci95[1]),
        if d.significant { " *" } else { "" }
    )
}

fn signed_hours(hours: f64) -> String {
    let sign = if hours < 0.0 { "-" } else { "+" };
    format!("{sign}{}", format_hours(hours.abs()))
}

fn table(report: &ComparisonReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} designs, {} trials each, seed {}, on common random numbers",
        report.designs.len(),
        report.trials,
        report.seed
    );
    for (i, design) in report.designs.iter().enumerate() {
        let _ = writeln!(out, "  [{}] {}", (b'A' + i as u8) as char, design.scenario);
    }
    let _ = writeln!(
        out,
        "Differences are to [A], with paired 95 % intervals; * marks a significant one."
    );
    let first = &report.designs[0];
    for service in &first.services {
        let _ = writeln!(out);
        let _ = writeln!(out, "{} ({})", service.name, service.kind);
        for (i, design) in report.designs.iter().enumerate() {
            let Some(other) = design.services.iter().find(|x| x.name == service.name) else {
                let _ = writeln!(
                    out,
                    "  [{}] has no service of this name",
                    (b'A' + i as u8) as char
                );
                continue;
            };
            let bill = other
                .monthly_bill
                .map_or(String::new(), |b| format!(", bill {b} a month"));
            let cost = other.application.as_ref().map_or(String::new(), |a| {
                format!(", costs ${:.2} a month", a.monthly_cost)
            });
            let loss = other.durability.as_ref().map_or(String::new(), |d| {
                format!(
                    ", P(data loss) {:.4} % [{:.4}, {:.4}]",
                    d.loss_probability.mean * 100.0,
                    d.loss_probability.ci95[0] * 100.0,
                    d.loss_probability.ci95[1] * 100.0
                )
            });
            let _ = writeln!(
                out,
                "  [{}] availability {:.7} %, down {} a year{loss}{cost}{bill}",
                (b'A' + i as u8) as char,
                other.availability.mean * 100.0,
                format_hours(other.downtime_hours_per_year.mean),
            );
            for sla in &other.slas {
                let _ = writeln!(
                    out,
                    "      {}: P(a {} breaches) {:.4} %, credit {:.4} monthly bills a year",
                    sla.name,
                    sla.window,
                    sla.breach_probability.mean * 100.0,
                    sla.credit.expected_monthly_bills_per_year.mean
                );
            }
            if i == 0 {
                continue;
            }
            let Some(d) = report.differences[i - 1]
                .services
                .iter()
                .find(|d| d.name == service.name)
            else {
                continue;
            };
            let _ = writeln!(
                out,
                "      vs [A]: availability {}, downtime {} a year",
                difference(&d.availability, |x| if x == 0.0 {
                    "0".to_string()
                } else {
                    format!("{x:+.3e}")
                }),
                difference(&d.downtime_hours_per_year, signed_hours)
            );
            if let Some(loss) = &d.data_loss_probability {
                let _ = writeln!(
                    out,
                    "      vs [A]: P(data loss) {}",
                    difference(loss, |x| format!("{:+.4} %", x * 100.0))
                );
            }
            for sla in &d.slas {
                let _ = writeln!(
                    out,
                    "      vs [A]: {}: P(breach) {}, credit {}",
                    sla.name,
                    difference(&sla.breach_probability, |x| format!("{:+.4} %", x * 100.0)),
                    difference(&sla.credit_monthly_bills_per_year, |x| format!("{x:+.4}"))
                );
            }
        }
    }
    out
}
