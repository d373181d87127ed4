//! `nines durability`: the probability of losing data, estimated by importance
//! sampling or multilevel splitting, for losses too rare for plain Monte Carlo to see.

use super::{Error, LimitArgs, load, pool, show, write_atomically};
use crate::rare::{self, Estimate, Method, Target};
use crate::scenario::units::HOURS_PER_YEAR;
use crate::world::ServiceKind;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct DurabilityArgs {
    /// The scenario file (JSON; `nines schema` prints its format).
    pub scenario: PathBuf,
    /// Seed (default: the scenario's `seed`, else 1). Results do not depend on threads.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// The estimator: importance sampling (balanced failure biasing), multilevel
    /// splitting, or `auto`: importance sampling when something that destroys data
    /// fails by a memoryless law, else splitting.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Stop when the 95 % interval's half-width is at most this fraction of the
    /// estimate.
    #[arg(long, default_value_t = 0.1, value_name = "FRACTION")]
    pub relative_error: f64,
    /// The most root trials to run (splitting, after the pilot).
    #[arg(long, default_value_t = 50_000, value_name = "N")]
    pub max_roots: u64,
    /// The most trial paths to simulate in all (splitting: roots and their copies;
    /// importance sampling: trials).
    #[arg(long, default_value_t = 100_000_000, value_name = "N")]
    pub max_paths: u64,
    /// Also write the estimates as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    Auto,
    Importance,
    Splitting,
}

impl From<MethodArg> for Method {
    fn from(arg: MethodArg) -> Method {
        match arg {
            MethodArg::Auto => Method::Auto,
            MethodArg::Importance => Method::Importance,
            MethodArg::Splitting => Method::Splitting,
        }
    }
}

/// The estimates of one scenario, as written by `--json`.
#[derive(Debug, Serialize)]
struct DurabilityReport {
    scenario: String,
    seed: u64,
    horizon_hours: f64,
    services: Vec<ServiceEstimate>,
}

#[derive(Debug, Serialize)]
struct ServiceEstimate {
    name: String,
    redundancy: String,
    object_groups: usize,
    /// -log10 of the probability of any loss per year of the fleet.
    nines_per_fleet_year: Option<f64>,
    estimate: Estimate,
}

pub(super) fn durability(args: DurabilityArgs) -> Result<(), Error> {
    if !(args.relative_error > 0.0 && args.relative_error < 1.0) {
        return Err(Error::Input(
            "--relative-error: must be between 0 and 1 (e.g. 0.1)".into(),
        ));
    }
    if args.max_roots == 0 {
        return Err(Error::Input("--max-roots: must be at least 1".into()));
    }
    let pool = pool(args.threads)?;
    let (world, _) = load(
        &args.scenario,
        &args.limits.limits(pool.current_num_threads()),
    )?;
    let seed = args.seed.unwrap_or(world.default_seed);
    let target = Target {
        relative_error: args.relative_error,
        max_roots: args.max_roots,
        max_paths: args.max_paths,
    };
    let years = world.horizon / HOURS_PER_YEAR;
    let mut services = Vec::new();
    for (index, service) in world.services.iter().enumerate() {
        let ServiceKind::Storage { store, .. } = &service.kind else {
            continue;
        };
        let estimate = pool
            .install(|| rare::estimate_loss(&world, index, seed, target, args.method.into()))
            .map_err(Error::Input)?;
        let per_year = estimate.probability / years;
        services.push(ServiceEstimate {
            name: service.name.clone(),
            redundancy: store.redundancy.to_string(),
            object_groups: store.object_groups(),
            nines_per_fleet_year: (per_year > 0.0).then(|| -per_year.log10()),
            estimate,
        });
    }
    if services.is_empty() {
        return Err(Error::Input(format!(
            "{}: the scenario has no storage service",
            args.scenario.display()
        )));
    }
    let report = DurabilityReport {
        scenario: world.name.clone(),
        seed,
        horizon_hours: world.horizon,
        services,
    };
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Error::Io(format!("cannot write JSON: {e}")))?;
        write_atomically(path, format!("{json}\n").as_bytes())?;
    }
    if !args.quiet {
        show(&table(&report))?;
    }
    Ok(())
}

fn table(report: &DurabilityReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", report.scenario);
    let _ = writeln!(
        out,
        "Data loss within {} (seed {}); 95 % intervals over independent trials.",
        crate::report::format_hours(report.horizon_hours),
        report.seed
    );
    for s in &report.services {
        let e = &s.estimate;
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}: {} over {} object groups",
            s.name, s.redundancy, s.object_groups
        );
        let _ = writeln!(out, "  method                {}", e.method);
        if e.roots_that_lost_data == 0 {
            let _ = writeln!(
                out,
                "  P(any group lost)     none seen: no root trial reached data loss"
            );
        } else {
            let _ = writeln!(
                out,
                "  P(any group lost)     {:.3e}  [{:.3e}, {:.3e}]  (±{:.1} %)",
                e.probability,
                e.ci95[0],
                e.ci95[1],
                e.relative_error * 100.0
            );
        }
        if let Some(nines) = s.nines_per_fleet_year {
            let _ = writeln!(out, "  nines per fleet-year  {nines:.2}");
        }
        let _ = writeln!(
            out,
            "  work                  {} trials ({} lost data), {} paths, {} pilot rounds",
            e.roots, e.roots_that_lost_data, e.paths, e.pilot_rounds
        );
        let _ = writeln!(
            out,
            "  trust                 largest trial share {:.1} %, effective trials {:.0}, variance of variance {:.3}: {}",
            e.largest_root_share * 100.0,
            e.effective_roots,
            e.variance_of_variance,
            if e.reliable { "reliable" } else { "UNRELIABLE" }
        );
        for warning in &e.warnings {
            let _ = writeln!(out, "    warning: {warning}");
        }
        for note in &e.notes {
            let _ = writeln!(out, "    note: {note}");
        }
        if !e.levels.is_empty() {
            let _ = writeln!(out, "  levels (pieces missing at once in some group)");
        }
        for level in &e.levels {
            let _ = writeln!(
                out,
                "    {:>2} missing: {:.3e} entries a trial, {:.3e} of entries below reach it, split {}",
                level.missing, level.entries_per_trial, level.conditional, level.split
            );
        }
    }
    out
}
