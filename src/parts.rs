//! Runs split over machines: a shard's part file, and merging parts back into the
//! summary that one process would have produced, bit for bit.
//!
//! A part carries everything a merge needs and checks: the scenario's text (so that
//! the merge rebuilds the very same world), the seed, the total number of trials, the
//! batch size, nines' version, which shard of how many it is, and the summary of each
//! of its batches. Batch summaries are merged in batch order — the order a single
//! process merges them in — so the result does not depend on how the run was split.

use crate::montecarlo::{self, BATCH_TRIALS};
use crate::summary::RunSummary;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies the file format.
pub const PART_FORMAT: &str = "nines-part-1";

/// One shard's results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Part {
    pub format: String,
    pub version: String,
    /// The scenario file's text, byte for byte.
    pub scenario: String,
    pub seed: u64,
    /// Trials of the whole run (all shards).
    pub trials: u64,
    pub batch_trials: u64,
    pub shard: u64,
    pub shards: u64,
    /// First batch of this shard, and each batch's summary in order.
    pub first_batch: u64,
    pub batches: Vec<RunSummary>,
}

impl Part {
    pub fn new(
        scenario: String,
        seed: u64,
        trials: u64,
        shard: u64,
        shards: u64,
        first_batch: u64,
        batches: Vec<RunSummary>,
    ) -> Part {
        Part {
            format: PART_FORMAT.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            scenario,
            seed,
            trials,
            batch_trials: BATCH_TRIALS,
            shard,
            shards,
            first_batch,
            batches,
        }
    }
}

/// Why parts cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeError(pub String);

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that `parts` (each with a name for messages, e.g. its file) are all the
/// shards of one run, and returns them ordered by shard.
pub fn check(parts: &[(String, Part)]) -> Result<Vec<&(String, Part)>, MergeError> {
    let Some((first_name, first)) = parts.first() else {
        return Err(MergeError("no parts to merge".into()));
    };
    for (name, part) in parts {
        if part.format != PART_FORMAT {
            return Err(MergeError(format!(
                "{name} is not a nines part (format `{}`, expected `{PART_FORMAT}`)",
                part.format
            )));
        }
        let mismatch = |what: &str| {
            Err(MergeError(format!(
                "{name} comes from a different run than {first_name}: its {what} differs"
            )))
        };
        if part.version != first.version {
            return mismatch("nines version");
        }
        if part.scenario != first.scenario {
            return mismatch("scenario");
        }
        if part.seed != first.seed {
            return mismatch("seed");
        }
        if part.trials != first.trials {
            return mismatch("number of trials");
        }
        if part.batch_trials != first.batch_trials || part.batch_trials != BATCH_TRIALS {
            return mismatch("batch size");
        }
        if part.shards != first.shards {
            return mismatch("number of shards");
        }
        let expected = montecarlo::shard_batches(part.trials, part.shard, part.shards);
        if part.shard >= part.shards
            || part.first_batch != expected.start
            || part.batches.len() as u64 != expected.end - expected.start
        {
            return Err(MergeError(format!(
                "{name} is incomplete or damaged: shard {} of {} should hold batches {}..{}",
                part.shard + 1,
                part.shards,
                expected.start,
                expected.end
            )));
        }
    }
    let mut ordered: Vec<&(String, Part)> = parts.iter().collect();
    ordered.sort_by_key(|(_, p)| p.shard);
    for pair in ordered.windows(2) {
        if pair[0].1.shard == pair[1].1.shard {
            return Err(MergeError(format!(
                "{} and {} are the same shard ({} of {})",
                pair[0].0,
                pair[1].0,
                pair[0].1.shard + 1,
                first.shards
            )));
        }
    }
    let present: Vec<u64> = ordered.iter().map(|(_, p)| p.shard).collect();
    let missing: Vec<String> = (0..first.shards)
        .filter(|s| !present.contains(s))
        .map(|s| format!("{} of {}", s + 1, first.shards))
        .collect();
    if !missing.is_empty() {
        return Err(MergeError(format!(
            "missing shard(s) {}: did those jobs fail?",
            missing.join(", ")
        )));
    }
    Ok(ordered)
}

/// Merges the batch summaries of checked, ordered parts into `total`.
pub fn merge_into(total: &mut RunSummary, ordered: &[&(String, Part)]) {
    for (_, part) in ordered {
        for batch in &part.batches {
            total.merge(batch);
        }
    }
}
