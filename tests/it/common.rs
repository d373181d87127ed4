//! Helpers shared by the integration tests.

use nines::montecarlo;
use nines::summary::RunSummary;
use nines::trial::TrialRunner;
use nines::world::World;
use serde_json::Value;

/// Lowers a scenario given as JSON, panicking with the error if it is invalid.
pub fn world(scenario: Value) -> World {
    nines::scenario::from_str(&scenario.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `trials` trials of `world` with `seed` on the current thread pool.
pub fn simulate(world: &World, seed: u64, trials: u64) -> RunSummary {
    montecarlo::run(
        trials,
        || RunSummary::new(world),
        || TrialRunner::new(world),
        |runner, index, summary| summary.push(runner.run(seed, index)),
        |_, _| false,
    )
}

/// Asserts that `estimate` is within four standard errors of `exact`.
pub fn assert_close(what: &str, estimate: f64, std_error: f64, exact: f64) {
    let z = (estimate - exact) / std_error;
    eprintln!("{what}: estimate {estimate}, exact {exact}, z = {z:.2}");
    assert!(
        z.abs() < 4.0,
        "{what}: estimate {estimate} vs exact {exact}: {z:.2} standard errors off (se {std_error})"
    );
}

/// A law written as scenario JSON.
pub fn exponential(mean_hours: f64) -> Value {
    serde_json::json!({ "exponential": { "mean": format!("{mean_hours} h") } })
}

pub fn deterministic(hours: f64) -> Value {
    serde_json::json!({ "deterministic": { "value": format!("{hours} h") } })
}

/// Path to the `nines` binary built for these tests.
pub fn nines() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_nines"))
}

/// Path of a shipped scenario.
pub fn shipped(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}
