//! `nines analyze`: the exact Markov answer for each storage service, optionally
//! beside a plain Monte Carlo run of the same scenario.

use super::{Error, LimitArgs, load, pool, show, write_atomically};
use crate::analyze::{self, Analysis, HOURS_PER_YEAR, Options, ServiceAnalysis, Simulated};
use crate::report::format_hours;
use crate::summary::RunSummary;
use crate::trial::TrialRunner;
use std::fmt::Write as _;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// The scenario file (JSON; `nines schema` prints its format).
    pub scenario: PathBuf,
    /// Also write the analysis as JSON to this file (atomically).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Also simulate (plain Monte Carlo) and print the simulated probability of loss
    /// beside the chain's.
    #[arg(long)]
    pub simulate: bool,
    /// With --simulate: number of trials (default: the scenario's `trials`).
    #[arg(long, requires = "simulate")]
    pub trials: Option<u64>,
    /// With --simulate: seed of the run (default: the scenario's `seed`).
    #[arg(long, requires = "simulate")]
    pub seed: Option<u64>,
    /// With --simulate: worker threads (default: one per core).
    #[arg(long, requires = "simulate")]
    pub threads: Option<usize>,
    /// Replace every law that is not exponential by the exponential law of the same
    /// mean instead of refusing (each replacement is listed).
    #[arg(long)]
    pub approximate: bool,
    /// Refuse chains with more states than this.
    #[arg(long, value_name = "N", default_value_t = crate::markov::MAX_EXPLORED_STATES)]
    pub max_states: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Analyses the scenario's storage services, simulates if asked, prints and writes.
pub(super) fn analyze(args: AnalyzeArgs) -> Result<(), Error> {
    if args.max_states == 0 {
        return Err(Error::Input("--max-states: must be at least 1".into()));
    }
    let pool = pool(args.threads)?;
    let (world, _) = load(
        &args.scenario,
        &args.limits.limits(pool.current_num_threads()),
    )?;
    let options = Options {
        approximate: args.approximate,
        max_states: args.max_states,
    };
    let mut analysis = analyze::analyze(&world, &options);
    if analysis.services.is_empty() {
        return Err(Error::Input(format!(
            "{}: the scenario has no storage service to analyze",
            args.scenario.display()
        )));
    }
    if args.simulate {
        let trials = args.trials.unwrap_or(world.default_trials);
        if trials == 0 {
            return Err(Error::Input("--trials: must be at least 1".into()));
        }
        let seed = args.seed.unwrap_or(world.default_seed);
        let budget = args.limits.max_events;
        let summary = pool.install(|| {
            crate::montecarlo::run(
                trials,
                || RunSummary::new(&world),
                || TrialRunner::with_event_budget(&world, budget),
                |runner, index, summary| summary.push(runner.run(seed, index)),
                |_, _| false,
            )
        });
        if let Some(trial) = summary.first_truncated {
            return Err(Error::event_budget(trial, budget));
        }
        for service in &mut analysis.services {
            let Some(durability) = &summary.services[service.service_index].durability else {
                continue;
            };
            let (p, (lo, hi)) = durability.loss_probability();
            let z = service.chain.as_ref().map(|chain| {
                let exact = chain.fleet_loss_probability_if_independent;
                let se = (exact * (1.0 - exact) / trials as f64).sqrt();
                if se > 0.0 {
                    (p - exact) / se
                } else if p == exact {
                    0.0
                } else {
                    f64::INFINITY
                }
            });
            service.simulated = Some(Simulated {
                trials,
                seed,
                loss_probability: p,
                ci95: [lo, hi],
                z,
            });
        }
    }
    if let Some(path) = &args.json {
        let mut text = serde_json::to_string_pretty(&analysis).expect("analyses serialise");
        text.push('\n');
        write_atomically(path, text.as_bytes())?;
    }
    show(&to_text(&analysis))
}

/// The analysis as text.
pub fn to_text(analysis: &Analysis) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: exact Markov chains of stored data, horizon {} ({} h)",
        analysis.scenario,
        format_hours(analysis.horizon_hours),
        analysis.horizon_hours
    );
    for service in &analysis.services {
        write_service(&mut out, service, analysis.horizon_hours);
    }
    out
}

fn write_service(out: &mut String, s: &ServiceAnalysis, horizon: f64) {
    let _ = writeln!(
        out,
        "\nservice {}: {}, {} object group{}",
        s.service,
        s.redundancy,
        s.object_groups,
        if s.object_groups == 1 { "" } else { "s" }
    );
    let sites: Vec<String> = s
        .datacenters
        .iter()
        .map(|d| {
            let mut text = format!("{} ({} pieces", d.id, d.pieces);
            if d.gone_fraction > 0.0 {
                let _ = write!(
                    text,
                    ", gone {} % of the time",
                    sig(d.gone_fraction * 100.0)
                );
            }
            text.push(')');
            text
        })
        .collect();
    if !sites.is_empty() {
        let _ = writeln!(out, "  data centres      {}", sites.join(", "));
    }
    if s.chain.is_none() && !s.reasons.is_empty() {
        let _ = writeln!(out, "  no exact answer:");
        for reason in &s.reasons {
            let _ = writeln!(out, "    - {reason}");
        }
        if s.approximable {
            let _ = writeln!(
                out,
                "    (--approximate replaces each such law by the exponential law of the same \
                 mean)"
            );
        }
    }
    if let Some(chain) = &s.chain {
        let _ = writeln!(
            out,
            "  chain             {} states, {} transitions{}, {}",
            chain.states,
            chain.transitions,
            if chain.layouts.len() > 1 {
                format!(" (largest of {} layouts)", chain.layouts.len())
            } else {
                String::new()
            },
            if s.exact {
                "exact"
            } else if !s.markovian {
                "APPROXIMATE: not Markovian"
            } else {
                "APPROXIMATE"
            }
        );
    }
    for text in &s.approximations {
        let _ = writeln!(out, "  approximation     {text}");
    }
    for text in &s.assumptions {
        let _ = writeln!(out, "  assumed           {text}");
    }
    if let Some(chain) = &s.chain {
        match chain.mttdl_hours {
            Some(hours) => {
                let _ = writeln!(
                    out,
                    "  MTTDL             {} years ({hours:.4e} h), one group",
                    sig(hours / HOURS_PER_YEAR)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "  MTTDL             not computed: {}",
                    chain.mttdl_missing.as_deref().unwrap_or("unknown")
                );
            }
        }
        let label = format!("P(loss by {})", format_hours(horizon));
        if s.object_groups == 1 {
            let _ = writeln!(out, "  {label:<17} {}", sig(chain.loss_probability));
        } else {
            let _ = writeln!(
                out,
                "  {label:<17} one group {}; any of the {} groups {} if they were \
                 independent",
                sig(chain.loss_probability),
                s.object_groups,
                sig(chain.fleet_loss_probability_if_independent)
            );
        }
        if let Some(period) = &chain.period_model {
            let _ = writeln!(
                out,
                "  period model (optimistic)  P(loss in a year) {} (AFR {:.3} %, rebuild {:.2} \
                 days, disks only) vs exact {}",
                sig(period.annual_loss_probability),
                period.annual_failure_rate * 100.0,
                period.rebuild_days,
                sig(period.exact_annual_loss_probability)
            );
        }
    }
    if let Some(sim) = &s.simulated {
        let _ = writeln!(
            out,
            "  simulated         {} of trials lost a group (95 % {} to {}; {} trials, seed {}){}",
            sig(sim.loss_probability),
            sig(sim.ci95[0]),
            sig(sim.ci95[1]),
            sim.trials,
            sim.seed,
            match sim.z {
                Some(z) => format!("; z = {z:.2} against the chain"),
                None => String::new(),
            }
        );
    }
}

/// A probability or a number of years with four significant digits.
fn sig(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else if (1e-3..1e6).contains(&x.abs()) {
        let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    } else {
        format!("{x:.3e}")
    }
}
