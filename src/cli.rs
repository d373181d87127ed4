//! The command line: raw arguments (clap), and what each command does with them.
//! Every failure comes back as an [`Error`] whose kind decides the exit code in `main`.

use crate::montecarlo;
use crate::parts::{self, Part};
use crate::report::{PrecisionReport, Report, budget_table};
use crate::scenario::{self, units::PercentText};
use crate::summary::RunSummary;
use crate::trial::TrialRunner;
use crate::world::{ServiceKind, World};
use clap::{Parser, Subcommand};
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "nines",
    version,
    about = "How many nines will this cloud design really get, and how likely is it to break its SLA?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and report availability, downtime and SLA breach risk.
    Run(RunArgs),
    /// Validate a scenario and summarise the world it describes.
    Check { scenario: PathBuf },
    /// Merge the part files of a run split with `run --shard` into its result.
    Merge(MergeArgs),
    /// Print the JSON Schema of scenario files.
    Schema,
    /// Print the downtime an uptime target allows per month and per year.
    Budget {
        /// Uptime target, e.g. 99.95 or 99.95%.
        percent: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    pub scenario: PathBuf,
    /// Number of trials (default: the scenario's `trials`, else 10,000).
    #[arg(long, conflicts_with = "precision")]
    pub trials: Option<u64>,
    /// Run until every headline estimate's 95 % interval is within this fraction of
    /// its value (e.g. 0.05), deciding every 4,096 trials.
    #[arg(long, value_name = "REL")]
    pub precision: Option<f64>,
    /// With --precision: the most trials to run.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000_000,
        requires = "precision"
    )]
    pub max_trials: u64,
    /// Seed of the run (default: the scenario's `seed`, else 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: one per core). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also write the result as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Print nothing but errors (and no table).
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard I of N (1-based), writing a part file to --json for `nines
    /// merge`. Without it, SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and
    /// SLURM_ARRAY_TASK_MIN) choose the shard when set.
    #[arg(long, value_name = "I/N", conflicts_with = "precision")]
    pub shard: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// The part files, one per shard, in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// Also write the merged result as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Print nothing but errors (and no table).
    #[arg(long)]
    pub quiet: bool,
}

/// What went wrong, by who can fix it.
#[derive(Debug)]
pub enum Error {
    /// The user's input (scenario, arguments): exit code 2.
    Input(String),
    /// The machine (reading or writing files): exit code 1.
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 2,
            Error::Io(_) => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(message) | Error::Io(message) => f.write_str(message),
        }
    }
}

/// Reads and lowers a scenario file; returns the world and the file's text.
fn load(path: &Path) -> Result<(World, String), Error> {
    // A scenario file that cannot be read is the user's input too.
    let text = std::fs::read_to_string(path)
        .map_err(|io| Error::Input(format!("cannot read {}: {io}", path.display())))?;
    let world = scenario::from_str(&text)
        .map_err(|e| Error::Input(format!("invalid scenario {}: {e}", path.display())))?;
    Ok((world, text))
}

/// Which shard to run: `--shard I/N`, else Slurm's array variables, else none.
/// Returns a 0-based index and the count.
fn shard(arg: Option<&str>) -> Result<Option<(u64, u64)>, Error> {
    let parse = |text: &str, source: &str| -> Result<(u64, u64), Error> {
        let bad = || {
            Error::Input(format!(
                "{source}: expected I/N with 1 <= I <= N, e.g. 3/8, got `{text}`"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i: u64 = i.trim().parse().map_err(|_| bad())?;
        let n: u64 = n.trim().parse().map_err(|_| bad())?;
        if i == 0 || i > n {
            return Err(bad());
        }
        Ok((i - 1, n))
    };
    if let Some(text) = arg {
        return parse(text, "--shard").map(Some);
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) {
        (Some(id), Some(count)) => {
            let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
            let number = |v: &str| -> Result<u64, Error> {
                v.trim()
                    .parse()
                    .map_err(|_| Error::Input(format!("SLURM_ARRAY_TASK_*: `{v}` is not a number")))
            };
            let index = number(&id)?.checked_sub(number(&min)?).ok_or_else(|| {
                Error::Input("SLURM_ARRAY_TASK_ID is below SLURM_ARRAY_TASK_MIN".into())
            })?;
            parse(
                &format!("{}/{count}", index + 1),
                "SLURM_ARRAY_TASK_ID/COUNT",
            )
            .map(Some)
        }
        _ => Ok(None),
    }
}

pub fn execute(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Run(args) => run(args),
        Command::Merge(args) => merge(args),
        Command::Check { scenario } => {
            let (world, _) = load(&scenario)?;
            print!("{}", describe(&world));
            Ok(())
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&scenario::json_schema())
                .expect("the schema serialises");
            println!("{schema}");
            Ok(())
        }
        Command::Budget { percent } => {
            let text = if percent.trim_end().ends_with('%') {
                percent.clone()
            } else {
                format!("{percent}%")
            };
            let target = PercentText(text)
                .percent()
                .map_err(|reason| Error::Input(format!("budget: {reason}")))?;
            if !(target > 0.0 && target <= 100.0) {
                return Err(Error::Input(format!(
                    "budget: the target must be more than 0 and at most 100, got {target}"
                )));
            }
            print!("{}", budget_table(target));
            Ok(())
        }
    }
}

/// Simulates the scenario and reports; see [`RunArgs`].
fn run(args: RunArgs) -> Result<(), Error> {
    let (world, scenario_text) = load(&args.scenario)?;
    let shard = shard(args.shard.as_deref())?;
    if let Some(rel) = args.precision
        && !(rel.is_finite() && rel > 0.0 && rel < 1.0)
    {
        return Err(Error::Input(format!(
            "--precision: must be a fraction between 0 and 1, got {rel}"
        )));
    }
    let trials = match args.precision {
        Some(_) => args.max_trials,
        None => args.trials.unwrap_or(world.default_trials),
    };
    if trials == 0 {
        return Err(Error::Input("--trials: must be at least 1".into()));
    }
    let seed = args.seed.unwrap_or(world.default_seed);
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(threads) = args.threads {
        if threads == 0 {
            return Err(Error::Input("--threads: must be at least 1".into()));
        }
        pool = pool.num_threads(threads);
    }
    let pool = pool
        .build()
        .map_err(|e| Error::Io(format!("cannot start worker threads: {e}")))?;

    let progress = if !args.quiet && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(trials);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} trials, {per_sec}, eta {eta}",
            )
            .expect("a valid template"),
        );
        Some(bar)
    } else {
        None
    };
    let started = Instant::now();
    if let Some((index, count)) = shard {
        let path = args
            .json
            .as_ref()
            .ok_or_else(|| Error::Input("--shard: give --json PATH for the part file".into()))?;
        let batches = montecarlo::shard_batches(trials, index, count);
        let mut summaries = Vec::new();
        pool.install(|| {
            montecarlo::run_batches(
                trials,
                batches.clone(),
                || RunSummary::new(&world),
                || TrialRunner::new(&world),
                |runner, index, summary| summary.push(runner.run(seed, index)),
                |_, summary| {
                    summaries.push(summary);
                    false
                },
            )
        });
        let done: u64 = summaries.iter().map(|s| s.trials).sum();
        let part = Part::new(
            scenario_text,
            seed,
            trials,
            index,
            count,
            batches.start,
            summaries,
        );
        let text = serde_json::to_string(&part).expect("parts serialise");
        write_atomically(path, text.as_bytes())?;
        if !args.quiet {
            eprintln!(
                "shard {}/{count}: {done} of {trials} trials in {:.2} s, part written to {}",
                index + 1,
                started.elapsed().as_secs_f64(),
                path.display()
            );
        }
        return Ok(());
    }
    let summary = pool.install(|| {
        montecarlo::run(
            trials,
            || RunSummary::new(&world),
            || TrialRunner::new(&world),
            |runner, index, summary| summary.push(runner.run(seed, index)),
            |done, summary| {
                if let Some(bar) = &progress {
                    bar.set_position(done);
                }
                args.precision.is_some_and(|rel| summary.precise_to(rel))
            },
        )
    });
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let precision = args.precision.map(|relative| PrecisionReport {
        relative,
        converged: summary.precise_to(relative),
    });
    let report = Report::new(&world, seed, &summary, precision);
    if let Some(path) = &args.json {
        write_atomically(path, report.to_json().as_bytes())?;
    }
    if !args.quiet {
        print!("{}", report.to_table());
        let trials = summary.trials;
        eprintln!(
            "{trials} trials in {elapsed:.2} s ({:.0} trials/s, {:.2} M events/s) on {} threads",
            trials as f64 / elapsed,
            summary.events as f64 / elapsed / 1e6,
            pool.current_num_threads()
        );
    }
    Ok(())
}

/// Merges the parts of a sharded run and reports as `run` would have.
fn merge(args: MergeArgs) -> Result<(), Error> {
    let mut parts = Vec::with_capacity(args.parts.len());
    for path in &args.parts {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Input(format!("cannot read part {name}: {e}")))?;
        let part: Part = serde_json::from_str(&text)
            .map_err(|e| Error::Input(format!("{name} is not a nines part file: {e}")))?;
        parts.push((name, part));
    }
    let ordered = parts::check(&parts).map_err(|e| Error::Input(format!("merge: {e}")))?;
    let first = &ordered[0].1;
    let world = scenario::from_str(&first.scenario)
        .map_err(|e| Error::Input(format!("merge: the parts' scenario is invalid: {e}")))?;
    let mut total = RunSummary::new(&world);
    parts::merge_into(&mut total, &ordered);
    let report = Report::new(&world, first.seed, &total, None);
    if let Some(path) = &args.json {
        write_atomically(path, report.to_json().as_bytes())?;
    }
    if !args.quiet {
        print!("{}", report.to_table());
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so that `path` holds either its old content or the whole new content.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail =
        |what: &str, e: std::io::Error| Error::Io(format!("cannot {what} {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::Input(format!("{} is not a file name", path.display())))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(fail("write", e));
    }
    Ok(())
}

/// The summary printed by `nines check`.
pub fn describe(world: &World) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{}: valid", world.name);
    let _ = writeln!(
        out,
        "horizon {}, {} trials by default, seed {}, trials start {}",
        crate::report::format_hours(world.horizon),
        world.default_trials,
        world.default_seed,
        match world.initial_state {
            crate::reliability::InitialState::SteadyState => "in steady state",
            crate::reliability::InitialState::AllNew => "with everything new",
        }
    );
    let _ = writeln!(out, "failure domains ({}):", world.domains.len());
    for d in &world.domains {
        let _ = writeln!(
            out,
            "  {:<16} {:<18} between events {}, outage {}{}{}",
            d.id,
            d.label.as_deref().unwrap_or(d.kind.name()),
            d.process.up,
            d.process.down,
            if d.ride_through > 0.0 {
                format!(", ride-through {}", d.ride_through)
            } else {
                String::new()
            },
            if d.effect == crate::world::Effect::Destroy {
                ", destroys"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out, "data centres ({}):", world.datacenters.len());
    for dc in &world.datacenters {
        let names = |ids: &[usize]| {
            ids.iter()
                .map(|&i| world.domains[i].id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "  {:<16} region {}, on [{}], providers [{}], {} racks, {} hosts, {} disks, facility {}",
            dc.id,
            dc.region,
            names(&dc.on),
            names(&dc.providers),
            dc.racks,
            dc.hosts(),
            dc.disks(),
            dc.facility
                .as_ref()
                .map_or("never fails".to_string(), |p| format!(
                    "fails {}, repaired {}",
                    p.up, p.down
                ))
        );
    }
    // "2 in us-east, 2 in us-west"
    let spread = |counts: &[(usize, u32)]| {
        counts
            .iter()
            .map(|&(dc, n)| format!("{n} in {}", world.datacenters[dc].id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "services ({}):", world.services.len());
    for s in &world.services {
        let what = match &s.kind {
            ServiceKind::Storage {
                groups,
                replicas,
                per_datacenter,
                ..
            } => format!(
                "storage, {} object groups × {replicas} replicas ({})",
                groups.len(),
                spread(per_datacenter)
            ),
            ServiceKind::Compute {
                instances, min_up, ..
            } => format!(
                "compute, {} instances ({}), up while {min_up} are up",
                instances.iter().map(|&(_, n)| n).sum::<u32>(),
                spread(instances)
            ),
        };
        let _ = writeln!(out, "  {:<16} {what}", s.name);
        for sla in &s.slas {
            let _ = writeln!(
                out,
                "    SLA {:?}: {} % per {}, measured by {}",
                sla.name,
                sla.target_percent,
                sla.window.name(),
                sla.measure.describe()
            );
            if !sla.credits.tiers().is_empty() {
                let tiers: Vec<String> = sla
                    .credits
                    .tiers()
                    .iter()
                    .map(|(below, credit)| format!("{credit} % below {below} %"))
                    .collect();
                let _ = writeln!(out, "      credits: {}", tiers.join(", "));
            }
        }
    }
    let s = &world.structure;
    let _ = writeln!(
        out,
        "model: {} nodes ({} fail and repair), {} dependency links",
        s.node_count(),
        s.process_count(),
        s.edge_count()
    );
    out
}
