//! `nines sweep`: one scenario, many variants, one row per variant.

use super::{Error, LimitArgs, pool, show, write_atomically};
use crate::montecarlo;
use crate::report::Report;
use crate::scenario;
use crate::summary::RunSummary;
use crate::sweep::{self, Setting};
use crate::trial::TrialRunner;
use serde::Serialize;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The scenario file (JSON; `nines schema` prints its format).
    pub scenario: PathBuf,
    /// A field to vary and its values, e.g. `datacenters[0].racks=1..4` or
    /// `components.host.repair.exponential.mean=1 h,4 h`. Repeat for more fields: every
    /// combination runs. Without it, the scenario's `sweep` block is used.
    #[arg(long = "set", value_name = "PATH=VALUES")]
    pub settings: Vec<String>,
    /// Trials per point (default: the scenario's `trials`, else 10,000).
    #[arg(long)]
    pub trials: Option<u64>,
    /// Seed, the same for every point (default: the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write every point's full report as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also write one CSV row per point, service and SLA to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,
    /// Also write a self-contained HTML report to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Print nothing but errors (and no table).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Serialize)]
struct SweepReport {
    seed: u64,
    trials: u64,
    settings: Vec<String>,
    points: Vec<PointReport>,
}

#[derive(Debug, Serialize)]
struct PointReport {
    /// The point's value of each setting, in the order of `settings`.
    values: Vec<Value>,
    report: Report,
}

/// A value as a user would write it: strings without their quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

pub(super) fn sweep(args: SweepArgs) -> Result<(), Error> {
    let input = |message: String| Error::Input(message);
    let text = std::fs::read_to_string(&args.scenario)
        .map_err(|e| input(format!("cannot read {}: {e}", args.scenario.display())))?;
    let base: Value = serde_json::from_str(&text)
        .map_err(|e| input(format!("invalid scenario {}: {e}", args.scenario.display())))?;
    let settings: Vec<Setting> = if args.settings.is_empty() {
        base.get("sweep")
            .and_then(Value::as_object)
            .map(|block| {
                block
                    .iter()
                    .map(|(path, values)| Setting {
                        path: path.clone(),
                        values: values.as_array().cloned().unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        args.settings
            .iter()
            .map(|s| sweep::parse_setting(s))
            .collect::<Result<_, _>>()
            .map_err(|e| input(e.to_string()))?
    };
    if settings.is_empty() || settings.iter().any(|s| s.values.is_empty()) {
        return Err(input(
            "sweep: give --set PATH=VALUES, or a `sweep` block in the scenario, with at least \
             one value for each path"
                .into(),
        ));
    }
    let pool = pool(args.threads)?;
    let limits = args.limits.limits(pool.current_num_threads());
    let budget = args.limits.max_events;

    // Build and check every point before running any.
    let mut worlds = Vec::new();
    for point in sweep::points(&settings) {
        let mut variant = base.clone();
        for (setting, value) in settings.iter().zip(&point) {
            sweep::set(&mut variant, &setting.path, value.clone())
                .map_err(|e| input(format!("sweep: {e}")))?;
        }
        let label = settings
            .iter()
            .zip(&point)
            .map(|(s, v)| format!("{} = {}", s.path, plain(v)))
            .collect::<Vec<_>>()
            .join(", ");
        let values = point;
        let world = scenario::from_str_within(&variant.to_string(), &limits)
            .map_err(|e| input(format!("sweep point {label}: invalid scenario: {e}")))?;
        worlds.push((values, label, world));
    }
    let trials = args.trials.unwrap_or(worlds[0].2.default_trials);
    if trials == 0 {
        return Err(input("--trials: must be at least 1".into()));
    }
    let seed = args.seed.unwrap_or(worlds[0].2.default_seed);
    let mut points = Vec::new();
    for (values, label, world) in &worlds {
        let summary = pool.install(|| {
            montecarlo::run(
                trials,
                || RunSummary::new(world),
                || TrialRunner::with_event_budget(world, budget),
                |runner, index, summary| summary.push(runner.run(seed, index)),
                |_, summary| summary.first_truncated.is_some(),
            )
        });
        if let Some(trial) = summary.first_truncated {
            return Err(input(format!(
                "sweep point {label}: {}",
                Error::event_budget(trial, budget)
            )));
        }
        points.push(PointReport {
            values: values.clone(),
            report: Report::new(world, seed, &summary, None),
        });
    }
    let report = SweepReport {
        seed,
        trials,
        settings: settings.iter().map(|s| s.path.clone()).collect(),
        points,
    };
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&report).expect("sweeps serialise");
        text.push('\n');
        write_atomically(path, text.as_bytes())?;
    }
    if let Some(path) = &args.csv {
        write_atomically(path, csv(&report).as_bytes())?;
    }
    if let Some(path) = &args.report {
        let json = serde_json::to_value(&report).expect("sweeps serialise");
        write_atomically(path, crate::html::sweep_report(&json).as_bytes())?;
    }
    if !args.quiet {
        show(&table(&report))?;
    }
    Ok(())
}

/// One row per point, service and SLA (a service without SLAs gets one row).
fn rows(report: &SweepReport) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for point in &report.points {
        let values: Vec<String> = point.values.iter().map(plain).collect();
        for service in &point.report.services {
            let base = {
                let mut row = values.clone();
                let a = &service.availability;
                row.extend([
                    service.name.clone(),
                    format!("{}", a.mean),
                    format!("{}", a.ci95[0]),
                    format!("{}", a.ci95[1]),
                    format!("{}", service.downtime_hours_per_year.mean),
                ]);
                row
            };
            if service.slas.is_empty() {
                let mut row = base.clone();
                row.extend(std::iter::repeat_n(String::new(), 5));
                rows.push(row);
            }
            for sla in &service.slas {
                let mut row = base.clone();
                let b = &sla.breach_probability;
                row.extend([
                    sla.name.clone(),
                    format!("{}", b.mean),
                    format!("{}", b.ci95[0]),
                    format!("{}", b.ci95[1]),
                    format!("{}", sla.credit.expected_monthly_bills_per_year.mean),
                ]);
                rows.push(row);
            }
        }
    }
    rows
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv(report: &SweepReport) -> String {
    let mut header: Vec<String> = report.settings.clone();
    header.extend(
        [
            "service",
            "availability",
            "availability_lo",
            "availability_hi",
            "downtime_hours_per_year",
            "sla",
            "breach_probability",
            "breach_probability_lo",
            "breach_probability_hi",
            "credit_monthly_bills_per_year",
        ]
        .map(String::from),
    );
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows(report)) {
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        let _ = writeln!(out, "{}", fields.join(","));
    }
    out
}

fn table(report: &SweepReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} points, {} trials each, seed {} (common random numbers across points)",
        report.points.len(),
        report.trials,
        report.seed
    );
    for point in &report.points {
        let label = report
            .settings
            .iter()
            .zip(&point.values)
            .map(|(path, v)| format!("{path} = {}", plain(v)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out);
        let _ = writeln!(out, "{label}");
        for service in &point.report.services {
            let a = &service.availability;
            let _ = writeln!(
                out,
                "  {:<12} availability {:.6} % [{:.6}, {:.6}], down {} a year",
                service.name,
                a.mean * 100.0,
                a.ci95[0] * 100.0,
                a.ci95[1] * 100.0,
                crate::report::format_hours(service.downtime_hours_per_year.mean)
            );
            for sla in &service.slas {
                let b = &sla.breach_probability;
                let _ = writeln!(
                    out,
                    "  {:<12} {}: P(a {} breaches) {:.4} % [{:.4}, {:.4}]",
                    "",
                    sla.name,
                    sla.window,
                    b.mean * 100.0,
                    b.ci95[0] * 100.0,
                    b.ci95[1] * 100.0
                );
            }
        }
    }
    out
}
