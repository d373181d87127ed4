//! The command line: raw arguments (clap), and what each command does with them.
//! Every failure comes back as an [`Error`] whose kind decides the exit code in `main`.

mod analyze;
mod compare;
mod describe;
mod durability;
mod run;
mod sweep;

pub use describe::describe;

use crate::parts::{self, Part};
use crate::report::{Report, budget_table};
use crate::scenario::{self, Limits, units::PercentText};
use crate::summary::RunSummary;
use crate::world::World;
use clap::{Parser, Subcommand};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    ///
    /// Applications' security groups are audited, and every finding is printed with
    /// its severity, group and rule. An error found by the audit (a required flow that
    /// no rule admits, a database open to the internet) is printed prominently but does
    /// not fail the check (exit 0): the scenario is still valid, and a run shows what
    /// the design does, e.g. an application that is never up, caused by
    /// "security-group misconfiguration". Exit 2 means the scenario itself is invalid.
    /// Several scenarios are checked in turn, up to the first invalid one.
    Check {
        /// One or more scenario files (JSON; `nines schema` prints their format).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// The exact Markov answer for each storage service's durability (when its laws
    /// are exponential), optionally beside a simulation.
    Analyze(analyze::AnalyzeArgs),
    /// Estimate the probability of losing data by importance sampling or multilevel
    /// splitting: for losses far too rare for plain Monte Carlo (one in 10^8 and
    /// beyond). By default it chooses the estimator itself (`--method auto`), and
    /// splitting takes its factors from pilot runs.
    Durability(durability::DurabilityArgs),
    /// Run designs side by side on common random numbers, with paired differences.
    Compare(compare::CompareArgs),
    /// Merge the part files of a run split with `run --shard` into its result.
    Merge(MergeArgs),
    /// Replay one trial event by event: failures, repairs, outages, SLA windows.
    Trace(TraceArgs),
    /// Run a scenario's variants (every combination of the values set), one row each.
    Sweep(sweep::SweepArgs),
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
    /// The scenario file (JSON; `nines schema` prints its format).
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
    /// Also write a self-contained HTML report to this file (atomically).
    #[arg(long, value_name = "PATH", conflicts_with = "shard")]
    pub report: Option<PathBuf>,
    /// Print nothing but errors (and no table).
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard I of N (1-based), writing a part file to --json for `nines
    /// merge`. Without it, SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and
    /// SLURM_ARRAY_TASK_MIN) choose the shard when set.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["precision", "resume"])]
    pub shard: Option<String>,
    /// Continue the interrupted run saved in this partial result (written when a run
    /// is stopped by Ctrl-C or SIGTERM) up to its requested number of trials.
    #[arg(long, value_name = "PARTIAL", conflicts_with = "precision")]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// How big a scenario and a trial may be.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitArgs {
    /// Refuse scenarios with more components and gates than this.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_components)]
    pub max_components: u64,
    /// Refuse scenarios with more object groups than this.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_object_groups)]
    pub max_object_groups: u64,
    /// Refuse scenarios whose estimated memory (world plus each worker's state) is
    /// above this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_memory >> 20)]
    pub max_memory: u64,
    /// Stop with an error when a trial fires more events than this.
    #[arg(long, value_name = "N", default_value_t = crate::trial::DEFAULT_EVENT_BUDGET)]
    pub max_events: u64,
}

impl LimitArgs {
    /// The scenario limits for `workers` threads.
    fn limits(&self, workers: usize) -> Limits {
        Limits {
            max_components: self.max_components,
            max_object_groups: self.max_object_groups,
            max_memory: self.max_memory.saturating_mul(1 << 20),
            workers: workers as u64,
        }
    }
}

/// The worker threads of a run: `--threads`, else one per core.
fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    if threads == Some(0) {
        return Err(Error::Input("--threads: must be at least 1".into()));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers(threads))
        .build()
        .map_err(|e| Error::Io(format!("cannot start worker threads: {e}")))
}

/// Worker threads: `--threads`, else one per core.
fn workers(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[derive(Debug, clap::Args)]
pub struct TraceArgs {
    /// The scenario file (JSON; `nines schema` prints its format).
    pub scenario: PathBuf,
    /// Which trial to replay (the same as trial K of `nines run` with the same seed).
    #[arg(long, default_value_t = 0)]
    pub trial: u64,
    /// Seed of the run (default: the scenario's `seed`, else 1).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write the trace as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Print nothing but errors (and no timeline).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
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
    /// Stopped by a signal after saving what was done: exit code 130.
    Interrupted(String),
}

impl Error {
    /// Trial `trial` hit the event budget: its year would be incomplete.
    fn event_budget(trial: u64, budget: u64) -> Error {
        Error::Input(format!(
            "trial {trial} fired more than {budget} events before the end of its horizon, so \
             its measurements would be incomplete; raise the limit with --max-events"
        ))
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Input(_) => 2,
            Error::Io(_) => 1,
            Error::Interrupted(_) => 130,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(message) | Error::Io(message) | Error::Interrupted(message) => {
                f.write_str(message)
            }
        }
    }
}

/// Reads and lowers a scenario file within `limits`; returns the world and the file's
/// text.
fn load(path: &Path, limits: &Limits) -> Result<(World, String), Error> {
    // A scenario file that cannot be read is the user's input too.
    let text = std::fs::read_to_string(path)
        .map_err(|io| Error::Input(format!("cannot read {}: {io}", path.display())))?;
    let world = scenario::from_str_within(&text, limits)
        .map_err(|e| Error::Input(format!("invalid scenario {}: {e}", path.display())))?;
    Ok((world, text))
}

/// Which shard to run: `--shard I/N`, else Slurm's array variables, else none.
/// Returns a 0-based index and the count.
pub(crate) fn shard(arg: Option<&str>) -> Result<Option<(u64, u64)>, Error> {
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
        Command::Run(args) => run::run(args),
        Command::Compare(args) => compare::compare(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Merge(args) => merge(args),
        Command::Trace(args) => {
            let (world, _) = load(&args.scenario, &args.limits.limits(1))?;
            let seed = args.seed.unwrap_or(world.default_seed);
            let trace = crate::trace::trace(&world, seed, args.trial);
            if let Some(path) = &args.json {
                let mut text = serde_json::to_string_pretty(&trace).expect("traces serialise");
                text.push('\n');
                write_atomically(path, text.as_bytes())?;
            }
            if !args.quiet {
                show(&trace.to_text())?;
            }
            Ok(())
        }
        Command::Analyze(args) => analyze::analyze(args),
        Command::Durability(args) => durability::durability(args),
        Command::Check { scenarios, limits } => {
            for (i, scenario) in scenarios.iter().enumerate() {
                let (world, _) = load(scenario, &limits.limits(workers(None)))?;
                let gap = if i > 0 { "\n" } else { "" };
                show(&format!("{gap}{}", describe(&world)))?;
            }
            Ok(())
        }
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&scenario::json_schema())
                .expect("the schema serialises");
            show(&format!("{schema}\n"))?;
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
            show(&budget_table(target))?;
            Ok(())
        }
    }
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
        show(&report.to_table())?;
    }
    Ok(())
}

/// Prints `text` on standard output. A reader that went away (`nines trace | head`)
/// is not an error: the output simply stops.
pub(crate) fn show(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::Io(format!("cannot write to standard output: {e}")))
        }
        _ => Ok(()),
    }
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
