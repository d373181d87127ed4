//! `nines run`: a whole run, one shard of it, a run to precision, or the rest of an
//! interrupted run.
//!
//! Ctrl-C (SIGINT) or SIGTERM stops a run after the batch under way; what was done is
//! written as a partial result — the usual report, marked `partial`, plus the state
//! needed to continue — and `--resume` continues it to the requested number of trials,
//! giving the same bytes as a run that was never interrupted.

use super::{Error, RunArgs, load, pool, shard, show, write_atomically};
use crate::montecarlo::{self, BATCH_TRIALS};
use crate::parts::Part;
use crate::report::{PrecisionReport, Report};
use crate::summary::RunSummary;
use crate::trial::TrialRunner;
use crate::world::World;
use serde::{Deserialize, Serialize};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Set by the signal handler; read between batches.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Identifies the resume state's format.
const RESUME_FORMAT: &str = "nines-resume-1";

/// What an interrupted run saves besides its report, to be continued.
#[derive(Debug, Serialize, Deserialize)]
struct ResumeState {
    format: String,
    version: String,
    /// The scenario file's text, byte for byte.
    scenario: String,
    seed: u64,
    trials_requested: u64,
    batch_trials: u64,
    /// The merged summary of the batches done, in order.
    summary: RunSummary,
}

/// A partial result: the report of the trials done, and how to go on.
#[derive(Debug, Serialize)]
struct PartialResult<'r> {
    #[serde(flatten)]
    report: &'r Report,
    partial: PartialNote,
    resume: ResumeState,
}

#[derive(Debug, Serialize)]
struct PartialNote {
    trials_done: u64,
    trials_requested: u64,
}

/// Only the resume state of a partial result (the report is not read back).
#[derive(Debug, Deserialize)]
struct SavedPartial {
    resume: ResumeState,
}

fn check_precision(precision: Option<f64>) -> Result<(), Error> {
    match precision {
        Some(rel) if !(rel.is_finite() && rel > 0.0 && rel < 1.0) => Err(Error::Input(format!(
            "--precision: must be a fraction between 0 and 1, got {rel}"
        ))),
        _ => Ok(()),
    }
}

/// Reads a partial result and checks that it continues this run.
fn read_partial(
    path: &Path,
    scenario_text: &str,
    trials: Option<u64>,
    seed: Option<u64>,
) -> Result<ResumeState, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Input(format!("--resume: cannot read {}: {e}", path.display())))?;
    let saved: SavedPartial = serde_json::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "--resume: {} is not a partial result of nines run: {e}",
            path.display()
        ))
    })?;
    let state = saved.resume;
    let refuse = |what: &str| {
        Err(Error::Input(format!(
            "--resume: {} was made with a different {what}",
            path.display()
        )))
    };
    if state.format != RESUME_FORMAT || state.version != env!("CARGO_PKG_VERSION") {
        return refuse("version of nines");
    }
    if state.batch_trials != BATCH_TRIALS {
        return refuse("batch size");
    }
    if state.scenario != scenario_text {
        return refuse("scenario (the file has changed since)");
    }
    if seed.is_some_and(|s| s != state.seed) {
        return refuse("seed");
    }
    if trials.is_some_and(|t| t != state.trials_requested) {
        return refuse("number of trials");
    }
    if !state.summary.trials.is_multiple_of(BATCH_TRIALS)
        || state.summary.trials >= state.trials_requested
    {
        return Err(Error::Input(format!(
            "--resume: {} holds {} of {} trials: nothing to resume",
            path.display(),
            state.summary.trials,
            state.trials_requested
        )));
    }
    Ok(state)
}

/// Simulates the scenario and reports; see [`RunArgs`].
pub(super) fn run(args: RunArgs) -> Result<(), Error> {
    check_precision(args.precision)?;
    let pool = pool(args.threads)?;
    let limits = args.limits.limits(pool.current_num_threads());
    let (world, scenario_text) = load(&args.scenario, &limits)?;
    if let Some(shard) = shard(args.shard.as_deref())? {
        return run_shard(&args, &world, scenario_text, shard, &pool);
    }
    let resumed = match &args.resume {
        Some(path) => Some(read_partial(path, &scenario_text, args.trials, args.seed)?),
        None => None,
    };
    let (trials, seed, mut total) = match resumed {
        Some(state) => (state.trials_requested, state.seed, state.summary),
        None => (
            match args.precision {
                Some(_) => args.max_trials,
                None => args.trials.unwrap_or(world.default_trials),
            },
            args.seed.unwrap_or(world.default_seed),
            RunSummary::new(&world),
        ),
    };
    if trials == 0 {
        return Err(Error::Input("--trials: must be at least 1".into()));
    }
    // Stop between batches on Ctrl-C or SIGTERM. A handler can be set once per process.
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));

    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(trials);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} trials, {per_sec}, eta {eta}",
            )
            .expect("a valid template"),
        );
        bar.set_position(total.trials);
        bar
    });
    let started = Instant::now();
    let first_batch = total.trials / BATCH_TRIALS;
    let budget = args.limits.max_events;
    pool.install(|| {
        montecarlo::run_batches(
            trials,
            first_batch..montecarlo::batch_count(trials),
            || RunSummary::new(&world),
            || TrialRunner::with_event_budget(&world, budget),
            |runner, index, summary| summary.push(runner.run(seed, index)),
            |_, batch| {
                total.merge(&batch);
                if let Some(bar) = &progress {
                    bar.set_position(total.trials);
                }
                total.first_truncated.is_some()
                    || INTERRUPTED.load(Ordering::SeqCst)
                    || args.precision.is_some_and(|rel| total.precise_to(rel))
            },
        )
    });
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(trial) = total.first_truncated {
        return Err(Error::event_budget(trial, budget));
    }
    let precision = args.precision.map(|relative| PrecisionReport {
        relative,
        converged: total.precise_to(relative),
    });
    let report = Report::new(&world, seed, &total, precision);
    let finished = args.precision.is_some() || total.trials >= trials;
    if !finished {
        let path = args
            .json
            .clone()
            .unwrap_or_else(|| default_partial_path(&args.scenario));
        let partial = PartialResult {
            report: &report,
            partial: PartialNote {
                trials_done: total.trials,
                trials_requested: trials,
            },
            resume: ResumeState {
                format: RESUME_FORMAT.to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                scenario: scenario_text,
                seed,
                trials_requested: trials,
                batch_trials: BATCH_TRIALS,
                summary: total.clone(),
            },
        };
        let mut text = serde_json::to_string_pretty(&partial).expect("partial results serialise");
        text.push('\n');
        write_atomically(&path, text.as_bytes())?;
        if !args.quiet {
            show(&report.to_table())?;
        }
        return Err(Error::Interrupted(format!(
            "interrupted after {} of {trials} trials; partial result written to {} \
             (continue with: nines run {} --resume {} --json OUT)",
            total.trials,
            path.display(),
            args.scenario.display(),
            path.display()
        )));
    }
    if let Some(path) = &args.json {
        write_atomically(path, report.to_json().as_bytes())?;
    }
    if let Some(path) = &args.report {
        let trace = crate::trace::trace(&world, seed, 0);
        let html = crate::html::run_report(&report, Some(&trace));
        write_atomically(path, html.as_bytes())?;
    }
    if !args.quiet {
        show(&report.to_table())?;
        let done = total.trials - first_batch * BATCH_TRIALS;
        eprintln!(
            "{done} trials in {elapsed:.2} s ({:.0} trials/s) on {} threads",
            done as f64 / elapsed,
            pool.current_num_threads()
        );
    }
    Ok(())
}

/// Where an interrupted run without `--json` saves its partial result.
fn default_partial_path(scenario: &Path) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.partial.json"))
}

/// Runs one shard of the trials and writes its part file.
fn run_shard(
    args: &RunArgs,
    world: &World,
    scenario_text: String,
    (index, count): (u64, u64),
    pool: &rayon::ThreadPool,
) -> Result<(), Error> {
    let path = args
        .json
        .as_ref()
        .ok_or_else(|| Error::Input("--shard: give --json PATH for the part file".into()))?;
    let trials = args.trials.unwrap_or(world.default_trials);
    if trials == 0 {
        return Err(Error::Input("--trials: must be at least 1".into()));
    }
    let seed = args.seed.unwrap_or(world.default_seed);
    let started = Instant::now();
    let batches = montecarlo::shard_batches(trials, index, count);
    let budget = args.limits.max_events;
    let mut summaries = Vec::new();
    pool.install(|| {
        montecarlo::run_batches(
            trials,
            batches.clone(),
            || RunSummary::new(world),
            || TrialRunner::with_event_budget(world, budget),
            |runner, index, summary| summary.push(runner.run(seed, index)),
            |_, summary| {
                let truncated = summary.first_truncated.is_some();
                summaries.push(summary);
                truncated
            },
        )
    });
    if let Some(trial) = summaries.iter().find_map(|s| s.first_truncated) {
        return Err(Error::event_budget(trial, budget));
    }
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
    Ok(())
}
