//! Multilevel splitting on the number of pieces an object group is missing at once.
//!
//! Losing every copy of a well-replicated group may take 10^12 trials to see once.
//! Splitting makes the rare path common without biasing the answer. The level of a
//! trial is the most pieces any group of the store is missing *now*. When a path
//! rises into level `k`, it splits into `R_k` paths, each carrying `1/R_k` of its
//! weight: itself and `R_k - 1` copies of its present (RESTART, Villén-Altamirano &
//! Villén-Altamirano 1991). A copy born at level `k` is dropped when it falls back
//! below `k` — groups get repaired, so copies are short-lived — while the path it was
//! copied from goes on and takes back the dropped copies' weight: the copies are
//! exchangeable, so the one that goes on stands for all of them. A copy continues the
//! same present with fresh random streams: every component's scheduled change is
//! drawn again given how long its current phase has lasted ([`TrialRunner::fork`]).
//! The weights that reach data loss add up, per root trial, to an unbiased estimate
//! of the probability; roots are independent, so their mean and its Student-t
//! interval are the answer.
//!
//! The splitting factors are chosen automatically. Pilot rounds count the weighted
//! entries into each level, `U_k`, and set `R_k ≈ U_k / U_{k+1}` — one over the
//! chance that an entry into `k` goes on to `k + 1` before falling back — so that
//! each entry into a level leads to about one entry into the next; while a level is
//! not reached, the factor below it is raised until the pilot sees data loss. The
//! main rounds then keep the factors fixed and run roots until the relative error
//! meets its target or the root budget is spent.
//!
//! Diagnostics flag an estimate that should not be trusted: few roots reaching data
//! loss, one root carrying much of the weight, a relative error above target, or the
//! cap on copies per root cutting splits.

use super::{Estimate, Level, Target, Weights};
use crate::streams::combine;
use crate::trial::{Step, TrialRunner};
use crate::world::World;
use rayon::prelude::*;

/// Roots per round: the unit of parallel work and of the stopping decision.
pub const ROUND_ROOTS: u64 = 128;

/// Roots per chunk within a round (merged in order).
const CHUNK_ROOTS: u64 = 8;

/// Largest splitting factor at one level.
const MAX_SPLIT: u32 = 1_000_000;

/// Paths one root may spawn at most; beyond its allowance, splits are cut (which
/// keeps the estimate unbiased). The allowance is also cut to a share of the run's
/// budget of paths (see [`Target::max_paths`]), so that one round cannot overrun it.
const MAX_PATHS_PER_ROOT: u64 = 1_000_000;

/// A root's allowance of paths under `budget` for the whole run.
fn allowance(budget: u64) -> u64 {
    (budget / ROUND_ROOTS).clamp(1_000, MAX_PATHS_PER_ROOT)
}

/// Pilot rounds at most.
const PILOT_ROUNDS: u32 = 16;

/// Keys that separate the pilot's and the main rounds' roots from the plain run's
/// trials and from each other.
const PILOT_KEY: u64 = 0x7069_6c6f_7400_0001;
const MAIN_KEY: u64 = 0x6d61_696e_0000_0002;

/// Per-root results summed over roots, mergeable in order.
#[derive(Debug, Clone, Default)]
struct Tally {
    weights: Weights,
    /// Per level: Σ weight of entries into it.
    arrivals: Vec<f64>,
    paths: u64,
    capped: bool,
}

impl Tally {
    fn new(levels: usize) -> Self {
        Tally {
            arrivals: vec![0.0; levels + 1],
            ..Tally::default()
        }
    }

    fn merge(&mut self, later: &Tally) {
        self.weights.merge(&later.weights);
        for (a, b) in self.arrivals.iter_mut().zip(&later.arrivals) {
            *a += b;
        }
        self.paths += later.paths;
        self.capped |= later.capped;
    }
}

/// One root's exploration.
struct Explorer<'a> {
    store: usize,
    /// Level of data loss: one more piece missing than the code tolerates.
    loss: u32,
    splits: &'a [u32],
    /// Paths this root may spawn.
    allowance: u64,
    seed: u64,
    root: u64,
    copies: u64,
    paths: u64,
    weight_lost: f64,
    tally: &'a mut Tally,
}

impl Explorer<'_> {
    /// Runs a path from `runner`'s present: `level` is the level it stands at,
    /// `born` the level below which it is dropped (0 for the root, which is never
    /// dropped), `weight` its share of its root.
    fn run(&mut self, runner: &mut TrialRunner, mut weight: f64, born: u32, mut level: u32) {
        self.tally.paths += 1;
        self.paths += 1;
        // Levels at which this path went on as the original of a split, with the
        // factor: dropping back below such a level, it carries its copies' weight again.
        let mut originals: Vec<(u32, u32)> = Vec::new();
        loop {
            let now = runner.missing_now(self.store).min(self.loss);
            if now > level {
                for k in level + 1..=now {
                    self.tally.arrivals[k as usize] += weight;
                    if k >= self.loss {
                        self.weight_lost += weight;
                        return;
                    }
                    let split = self.split_at(k);
                    if split > 1 {
                        weight /= f64::from(split);
                        originals.push((k, split));
                        for _ in 1..split {
                            self.copies += 1;
                            let stream = combine(combine(self.seed, self.root), self.copies);
                            let mut copy = runner.fork(stream, self.root);
                            self.run(&mut copy, weight, k, k);
                        }
                    }
                }
            } else if now < level {
                if now < born {
                    return;
                }
                while let Some(&(k, split)) = originals.last() {
                    if now >= k {
                        break;
                    }
                    weight *= f64::from(split);
                    originals.pop();
                }
            }
            level = now;
            if !matches!(runner.step(), Step::Fired(_)) {
                return;
            }
        }
    }

    /// The factor at level `k`, cut to what is left of the root's allowance of paths.
    fn split_at(&mut self, k: u32) -> u32 {
        let split = self.splits[k as usize];
        let room = self.allowance.saturating_sub(self.paths).max(1);
        if u64::from(split) > room {
            self.tally.capped = true;
            return room as u32;
        }
        split
    }
}

/// Runs `roots` roots (indices `first..first + roots`) with splitting factors
/// `splits`, in parallel, merged in root order.
#[allow(clippy::too_many_arguments)]
fn run_roots(
    world: &World,
    store: usize,
    loss: u32,
    splits: &[u32],
    allowance: u64,
    seed: u64,
    first: u64,
    roots: u64,
) -> Tally {
    let chunks: Vec<Tally> = (0..roots.div_ceil(CHUNK_ROOTS))
        .into_par_iter()
        .map_init(
            || TrialRunner::new(world),
            |runner, chunk| {
                let mut tally = Tally::new(loss as usize);
                let start = first + chunk * CHUNK_ROOTS;
                let end = (start + CHUNK_ROOTS).min(first + roots);
                for root in start..end {
                    runner.begin(seed, root);
                    let mut explorer = Explorer {
                        store,
                        loss,
                        splits,
                        allowance,
                        seed,
                        root,
                        copies: 0,
                        paths: 0,
                        weight_lost: 0.0,
                        tally: &mut tally,
                    };
                    explorer.run(runner, 1.0, 0, 0);
                    let y = explorer.weight_lost;
                    tally.weights.add(y);
                }
                tally
            },
        )
        .collect();
    let mut total = Tally::new(loss as usize);
    for chunk in &chunks {
        total.merge(chunk);
    }
    total
}

/// Conditional probabilities of each level from weighted arrivals (level 0: every
/// root arrives).
fn conditionals(tally: &Tally) -> Vec<Option<f64>> {
    let mut arrivals = tally.arrivals.clone();
    arrivals[0] = tally.weights.roots as f64;
    (0..arrivals.len())
        .map(|k| {
            if k == 0 {
                Some(1.0)
            } else if arrivals[k - 1] > 0.0 && arrivals[k] > 0.0 {
                Some(arrivals[k] / arrivals[k - 1])
            } else {
                None
            }
        })
        .collect()
}

/// Estimates the probability that store `store` (index among the world's stores)
/// reaches `loss` pieces missing in some group within the horizon, by splitting.
pub(super) fn estimate(
    world: &World,
    store: usize,
    loss: u32,
    seed: u64,
    target: Target,
) -> Estimate {
    let levels = loss as usize;
    // Round `r` of the roots seeded by `seed`, split by `splits`.
    let round = |splits: &[u32], seed: u64, r: u64| {
        let allowance = allowance(target.max_paths);
        run_roots(
            world,
            store,
            loss,
            splits,
            allowance,
            seed,
            r * ROUND_ROOTS,
            ROUND_ROOTS,
        )
    };
    // Pilot: raise the factors until data loss is seen, then set R_k ≈ 1 / p_k.
    let mut splits = vec![1u32; levels + 1];
    let pilot_seed = combine(seed, PILOT_KEY);
    let mut rounds = 0;
    let mut paths = 0;
    while rounds < PILOT_ROUNDS {
        let tally = round(&splits, pilot_seed, u64::from(rounds));
        rounds += 1;
        paths += tally.paths;
        let p = conditionals(&tally);
        // R_k, applied on reaching level k, aims at one copy per root reaching k + 1.
        for k in 1..levels {
            match (p[k], p[k + 1]) {
                (_, Some(next)) => splits[k] = ((1.0 / next).round() as u32).clamp(1, MAX_SPLIT),
                (Some(_), None) => {
                    // Level k is reached but k + 1 is not: more copies at k, and look
                    // again.
                    splits[k] = splits[k].saturating_mul(4).clamp(1, MAX_SPLIT);
                    break;
                }
                (None, None) => break,
            }
        }
        if tally.weights.hits >= 10 || paths >= target.max_paths / 2 {
            break;
        }
    }
    // Main rounds with the factors fixed.
    let main_seed = combine(seed, MAIN_KEY);
    let mut total = Tally::new(levels);
    let mut main_rounds = 0;
    loop {
        let tally = round(&splits, main_seed, main_rounds);
        main_rounds += 1;
        total.merge(&tally);
        if total.weights.precise(&target)
            || total.weights.roots >= target.max_roots
            || paths + total.paths >= target.max_paths
        {
            break;
        }
    }
    paths += total.paths;
    summarise(&total, &splits, paths, rounds, &target)
}

fn summarise(
    total: &Tally,
    splits: &[u32],
    paths: u64,
    pilot_rounds: u32,
    target: &Target,
) -> Estimate {
    let p = conditionals(total);
    let levels = (1..splits.len())
        .map(|k| Level {
            missing: k as u32,
            entries_per_trial: total.arrivals[k] / total.weights.roots.max(1) as f64,
            conditional: p[k].unwrap_or(0.0),
            split: if k + 1 < splits.len() { splits[k] } else { 1 },
        })
        .collect();
    let mut warnings = Vec::new();
    if total.capped {
        warnings.push(format!(
            "splits were cut at {} paths per root trial",
            allowance(target.max_paths)
        ));
    }
    Estimate {
        levels,
        pilot_rounds,
        ..super::estimate(
            "multilevel splitting",
            &total.weights,
            paths,
            target,
            warnings,
        )
    }
}
