//! Exact solutions of small continuous-time Markov chains (CTMCs), for durability.
//!
//! A [`Chain`] is a finite set of states and transition rates (per hour). It answers
//! three questions exactly, up to floating-point rounding:
//! - its stationary distribution ([`Chain::steady_state`]);
//! - the mean time to reach a set of states, e.g. the mean time to data loss (MTTDL)
//!   ([`Chain::mean_time_to_absorption`]);
//! - the probability of having reached that set by a time `t`, e.g. the probability of
//!   losing data within a year ([`Chain::absorption_probability_by`]).
//!
//! Durability numbers are extreme (losses of 1e-15 per year, MTTDLs of 1e15 hours), so
//! both absorption computations avoid subtracting nearly equal numbers: mean times come
//! from an elimination whose pivots are sums of positive rates (the GTH idea), and
//! probabilities from the mass that flows into the absorbing set, never from one minus
//! the mass that did not. Both keep their relative accuracy however small the loss (a
//! plain LU solve of the mean-time equations gets only two digits of 3-way replication's
//! MTTDL when repairs are 1e7 times faster than failures).
//!
//! Builders make the chains of common redundancy schemes: [`pieces_lost`] for
//! replication and erasure codes, [`sites`] for copies spread over sites with site
//! disasters. [`backblaze_period_model`] is the simpler published calculation that the
//! exact chains can be compared with. [`Chain::explore`] builds any other chain from a
//! start state and a function listing each state's transitions (the storage model of
//! a scenario, in [`crate::analyze`]).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::fmt;
use std::hash::Hash;

use nalgebra::{DMatrix, DVector};

/// Why a chain could not be solved: a short reason, e.g. `"absorption is not certain:
/// state 3 cannot reach an absorbing state"`.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkovError(pub String);

impl fmt::Display for MarkovError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MarkovError {}

/// Relative size of the neglected Poisson tail in [`Chain::absorption_probability_by`].
const TAIL_RELATIVE: f64 = 1e-14;

/// Absolute size below which the neglected Poisson tail is ignored outright.
const TAIL_ABSOLUTE: f64 = 1e-300;

/// Most states [`Chain::explore`] builds before giving up.
pub const MAX_EXPLORED_STATES: usize = 200_000;

/// Largest expected number of uniformized jumps (rate × time) that
/// [`Chain::absorption_probability_by`] accepts; the work grows linearly with it.
pub const MAX_EXPECTED_JUMPS: f64 = 1e8;

/// A finite continuous-time Markov chain, given by its transition rates per hour.
/// States are numbered `0..states`.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    states: usize,
    /// `(from, to, rate)`, with `from != to` and `rate > 0`; repeated pairs add up.
    transitions: Vec<(usize, usize, f64)>,
}

impl Chain {
    /// A chain with `states` states and no transitions yet.
    pub fn new(states: usize) -> Chain {
        Chain {
            states,
            transitions: Vec::new(),
        }
    }

    /// Adds `rate` (per hour) to the rate of moving from `from` to `to`. A zero rate is
    /// ignored. Panics on a state out of range, on `from == to`, or on a rate that is
    /// negative or not finite.
    pub fn add(&mut self, from: usize, to: usize, rate: f64) {
        assert!(from < self.states && to < self.states, "state out of range");
        assert!(
            from != to,
            "a transition must change state ({from} -> {to})"
        );
        assert!(rate.is_finite() && rate >= 0.0, "bad rate {rate}");
        if rate > 0.0 {
            self.transitions.push((from, to, rate));
        }
    }

    /// The number of states.
    pub fn states(&self) -> usize {
        self.states
    }

    /// The total rate of moving from `from` to `to`.
    pub fn rate(&self, from: usize, to: usize) -> f64 {
        self.transitions
            .iter()
            .filter(|&&(f, t, _)| f == from && t == to)
            .map(|&(_, _, rate)| rate)
            .sum()
    }

    /// The stationary distribution of an irreducible chain: the `pi` with `pi Q = 0`
    /// and `sum(pi) = 1`, solved by LU decomposition with the last balance equation
    /// replaced by the normalisation. Err if the chain is empty or not irreducible.
    pub fn steady_state(&self) -> Result<Vec<f64>, MarkovError> {
        if self.states == 0 {
            return Err(MarkovError(
                "a chain without states has no steady state".into(),
            ));
        }
        self.check_irreducible()?;
        let n = self.states;
        // Row j of the system is the balance of state j: sum_i pi_i Q_ij = 0.
        let mut system = DMatrix::<f64>::zeros(n, n);
        for &(from, to, rate) in &self.transitions {
            system[(to, from)] += rate;
            system[(from, from)] -= rate;
        }
        system.row_mut(n - 1).fill(1.0);
        let mut normalisation = DVector::<f64>::zeros(n);
        normalisation[n - 1] = 1.0;
        let pi = system
            .lu()
            .solve(&normalisation)
            .filter(|pi| pi.iter().all(|p| p.is_finite()))
            .ok_or_else(|| MarkovError("the steady-state system is singular".into()))?;
        Ok(pi.iter().copied().collect())
    }

    /// The mean time (hours) to reach any state marked in `absorbing`, starting from
    /// `start`: 0 if `start` is absorbing. Err if absorption is not certain, i.e. some
    /// state reachable from `start` cannot reach the absorbing set.
    ///
    /// The first-step equations on the transient states reachable from `start` are
    /// solved by eliminating one state at a time, each pivot computed as the sum of the
    /// remaining outflow rates rather than by subtraction (Grassmann, Taksar and
    /// Heyman's idea), so the result keeps full relative accuracy even when absorption
    /// is rare. Up to [`DENSE_FIRST_PASSAGE`] transient states the system is dense (the
    /// work grows as the cube of their number); above, the same elimination runs on
    /// sparse rows, and gives up (Err) after [`MAX_SPARSE_UPDATES`] updates, when
    /// fill-in has made the system dense.
    pub fn mean_time_to_absorption(
        &self,
        start: usize,
        absorbing: &[bool],
    ) -> Result<f64, MarkovError> {
        self.check_target(start, absorbing)?;
        if absorbing[start] {
            return Ok(0.0);
        }
        let reached = self.reachable_from(start, absorbing);
        self.check_absorption_certain(&reached, absorbing)?;
        let mut transient: Vec<usize> = (0..self.states)
            .filter(|&s| reached[s] && !absorbing[s] && s != start)
            .collect();
        transient.insert(0, start);
        let mean = if transient.len() <= DENSE_FIRST_PASSAGE {
            FirstPassage::new(self, &transient, absorbing).solve_for_first()
        } else {
            SparsePassage::new(self, &transient, absorbing).solve_for_first(MAX_SPARSE_UPDATES)?
        };
        if mean.is_finite() {
            Ok(mean)
        } else {
            Err(MarkovError(format!(
                "the mean time to absorption overflows ({mean})"
            )))
        }
    }

    /// The probability that the chain, started in `start`, has entered a state marked
    /// in `absorbing` by time `t` (hours). The marked states are made absorbing for the
    /// computation, whatever their own transitions.
    ///
    /// By uniformization: with `L` the largest exit rate of a transient state reachable
    /// from `start`, the chain is a Poisson(`L t`) number of jumps of the discrete chain
    /// `P = I + Q / L`, so `P(absorbed by t) = sum_k Poisson(k; L t) A_k`, where `A_k`
    /// is the probability of absorption within `k` jumps. `A_k` accumulates the mass
    /// that flows into the absorbing set at each jump, and every term is positive, so
    /// values near 1e-15 keep full relative accuracy. The Poisson weights are computed
    /// outwards from the mode, whose weight comes from Stirling's series, so `L t` up
    /// to [`MAX_EXPECTED_JUMPS`] works although `e^(-L t)` underflows. The sum stops
    /// once the remaining Poisson tail is below 1e-14 of the sum (or below 1e-300).
    /// The work is about `L t` times the number of transitions.
    pub fn absorption_probability_by(
        &self,
        start: usize,
        absorbing: &[bool],
        t: f64,
    ) -> Result<f64, MarkovError> {
        self.absorption_probability_from(&[(start, 1.0)], absorbing, t)
    }

    /// The same as [`Chain::absorption_probability_by`], the chain starting in state
    /// `s` with probability `w` for each `(s, w)` of `initial` (a state may be listed
    /// more than once; the weights must be >= 0 and add up to 1 within 1e-9). Mass
    /// that starts in an absorbing state counts as absorbed at time 0. The work is
    /// that of one start: the jumps carry the whole initial distribution at once.
    pub fn absorption_probability_from(
        &self,
        initial: &[(usize, f64)],
        absorbing: &[bool],
        t: f64,
    ) -> Result<f64, MarkovError> {
        if initial.is_empty() {
            return Err(MarkovError("no initial state".into()));
        }
        for &(start, weight) in initial {
            self.check_target(start, absorbing)?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(MarkovError(format!(
                    "initial weight of state {start} must be finite and >= 0, got {weight}"
                )));
            }
        }
        let total: f64 = initial.iter().map(|&(_, w)| w).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(MarkovError(format!(
                "initial weights add up to {total}, not 1"
            )));
        }
        if !(t.is_finite() && t >= 0.0) {
            return Err(MarkovError(format!(
                "time must be finite and >= 0, got {t}"
            )));
        }
        let mut mass = vec![0.0; self.states];
        let mut absorbed_at_once = 0.0;
        for &(start, weight) in initial {
            if absorbing[start] {
                absorbed_at_once += weight;
            } else {
                mass[start] += weight;
            }
        }
        let starts: Vec<usize> = (0..self.states).filter(|&s| mass[s] > 0.0).collect();
        if starts.is_empty() {
            return Ok(absorbed_at_once);
        }
        let reached = self.reachable_from_all(&starts, absorbing);
        let jumps = UniformizedJumps::new(self, &reached, absorbing);
        let expected_jumps = jumps.rate * t;
        if expected_jumps == 0.0 {
            return Ok(absorbed_at_once);
        }
        if expected_jumps > MAX_EXPECTED_JUMPS {
            return Err(MarkovError(format!(
                "rate x time = {expected_jumps:e} exceeds {MAX_EXPECTED_JUMPS:e} jumps"
            )));
        }
        Ok(absorbed_at_once + jumps.absorbed_by(mass, expected_jumps))
    }

    /// A [`LossChain`] built by exploring the states reachable from `start`: see
    /// [`Chain::explore_from`], with one start and at most [`MAX_EXPLORED_STATES`]
    /// states.
    pub fn explore<S: Clone + Eq + Hash + Ord>(
        start: S,
        transitions: impl FnMut(&S) -> Vec<(S, f64)>,
        is_absorbing: impl Fn(&S) -> bool,
    ) -> Result<(LossChain, Vec<S>), MarkovError> {
        Chain::explore_from(vec![start], MAX_EXPLORED_STATES, transitions, is_absorbing)
    }

    /// A [`LossChain`] built breadth-first from the states `starts`: states are
    /// numbered in the order they are discovered (the starts first, in order, repeats
    /// dropped), `transitions(s)` lists the states that `s` leads to with their rates
    /// (per hour), and a state for which `is_absorbing` holds is data loss and is not
    /// expanded. A transition back into its own state is dropped (it changes nothing),
    /// repeated targets add up and zero rates are ignored. The chain's `start` is 0,
    /// the first of `starts`. Returns the chain and the states, indexed by number.
    /// Err on a negative or non-finite rate, or when more than `max_states` states
    /// are reachable (the work and memory of the solvers grow with the states).
    pub fn explore_from<S: Clone + Eq + Hash + Ord>(
        starts: Vec<S>,
        max_states: usize,
        mut transitions: impl FnMut(&S) -> Vec<(S, f64)>,
        is_absorbing: impl Fn(&S) -> bool,
    ) -> Result<(LossChain, Vec<S>), MarkovError> {
        if starts.is_empty() {
            return Err(MarkovError("no state to start from".into()));
        }
        let too_many = || {
            MarkovError(format!(
                "the chain has more than {max_states} states; simplify the model"
            ))
        };
        let mut index: HashMap<S, usize> = HashMap::new();
        let mut states: Vec<S> = Vec::new();
        let number = |state: S, index: &mut HashMap<S, usize>, states: &mut Vec<S>| {
            if let Some(&i) = index.get(&state) {
                return Ok(i);
            }
            if states.len() >= max_states {
                return Err(too_many());
            }
            index.insert(state.clone(), states.len());
            states.push(state);
            Ok(states.len() - 1)
        };
        for start in starts {
            number(start, &mut index, &mut states)?;
        }
        let mut edges: Vec<(usize, usize, f64)> = Vec::new();
        let mut next = 0;
        while next < states.len() {
            let from = next;
            next += 1;
            if is_absorbing(&states[from]) {
                continue;
            }
            let current = states[from].clone();
            for (to, rate) in transitions(&current) {
                if !(rate.is_finite() && rate >= 0.0) {
                    return Err(MarkovError(format!(
                        "state {from} has a transition with rate {rate}"
                    )));
                }
                if rate == 0.0 || to == current {
                    continue;
                }
                let to = number(to, &mut index, &mut states)?;
                edges.push((from, to, rate));
            }
        }
        let mut chain = Chain::new(states.len());
        for (from, to, rate) in edges {
            chain.add(from, to, rate);
        }
        let absorbing = states.iter().map(&is_absorbing).collect();
        Ok((
            LossChain {
                chain,
                start: 0,
                absorbing,
            },
            states,
        ))
    }

    /// The number of transitions (pairs listed separately when added separately).
    pub fn transitions(&self) -> usize {
        self.transitions.len()
    }

    fn check_target(&self, start: usize, absorbing: &[bool]) -> Result<(), MarkovError> {
        if absorbing.len() != self.states {
            return Err(MarkovError(format!(
                "{} absorbing flags for {} states",
                absorbing.len(),
                self.states
            )));
        }
        if start >= self.states {
            return Err(MarkovError(format!(
                "start state {start} out of range (0..{})",
                self.states
            )));
        }
        Ok(())
    }

    fn check_irreducible(&self) -> Result<(), MarkovError> {
        let nowhere = vec![false; self.states];
        let mut first = nowhere.clone();
        first[0] = true;
        let forward = self.reachable_from(0, &nowhere);
        let backward = self.can_reach(&first);
        match (0..self.states).find(|&s| !forward[s] || !backward[s]) {
            Some(s) => Err(MarkovError(format!(
                "the chain is not irreducible: states 0 and {s} do not communicate"
            ))),
            None => Ok(()),
        }
    }

    fn check_absorption_certain(
        &self,
        reached: &[bool],
        absorbing: &[bool],
    ) -> Result<(), MarkovError> {
        let can_absorb = self.can_reach(absorbing);
        match (0..self.states).find(|&s| reached[s] && !can_absorb[s]) {
            Some(s) => Err(MarkovError(format!(
                "absorption is not certain: state {s} cannot reach an absorbing state"
            ))),
            None => Ok(()),
        }
    }

    /// The states reachable from `start`; a state marked in `stop` is reached but not
    /// left.
    fn reachable_from(&self, start: usize, stop: &[bool]) -> Vec<bool> {
        self.reachable_from_all(&[start], stop)
    }

    /// The states reachable from any of `starts`; a state marked in `stop` is reached
    /// but not left.
    fn reachable_from_all(&self, starts: &[usize], stop: &[bool]) -> Vec<bool> {
        let mut reached = vec![false; self.states];
        for &start in starts {
            reached[start] = true;
        }
        let mut changed = true;
        while changed {
            changed = false;
            for &(from, to, _) in &self.transitions {
                if reached[from] && !stop[from] && !reached[to] {
                    reached[to] = true;
                    changed = true;
                }
            }
        }
        reached
    }

    /// The states from which some state marked in `targets` can be reached.
    fn can_reach(&self, targets: &[bool]) -> Vec<bool> {
        let mut can = targets.to_vec();
        let mut changed = true;
        while changed {
            changed = false;
            for &(from, to, _) in &self.transitions {
                if can[to] && !can[from] {
                    can[from] = true;
                    changed = true;
                }
            }
        }
        can
    }
}

/// The first-step equations of the mean times to absorption `T` on a list of transient
/// states: `T_i = (time_i + sum_j rates_ij T_j) / exit_i`, where `exit_i` is the sum of
/// row `i` of `rates` plus `absorb_i`. Indices are positions in the list.
struct FirstPassage {
    /// Rates between the listed states (zero diagonal), row by row: the rate from `i`
    /// to `j` is `rates[i * n + j]`.
    rates: Vec<f64>,
    n: usize,
    /// Rate from each listed state into the absorbing set.
    absorb: Vec<f64>,
    /// Mean time spent in each state per visit, times its exit rate (1 at first).
    time: Vec<f64>,
}

impl FirstPassage {
    fn new(chain: &Chain, transient: &[usize], absorbing: &[bool]) -> FirstPassage {
        let n = transient.len();
        let mut position = vec![None; chain.states];
        for (i, &state) in transient.iter().enumerate() {
            position[state] = Some(i);
        }
        let mut rates = vec![0.0; n * n];
        let mut absorb = vec![0.0; n];
        for &(from, to, rate) in &chain.transitions {
            let Some(i) = position[from] else { continue };
            if absorbing[to] {
                absorb[i] += rate;
            } else if let Some(j) = position[to] {
                rates[i * n + j] += rate;
            }
        }
        FirstPassage {
            rates,
            n,
            absorb,
            time: vec![1.0; n],
        }
    }

    /// Eliminates every state but the first, last first; then the first state's exit
    /// rate is its absorption rate alone.
    fn solve_for_first(mut self) -> f64 {
        for k in (1..self.absorb.len()).rev() {
            self.eliminate(k);
        }
        self.time[0] / self.absorb[0]
    }

    /// Substitutes `T_k` (state `k` being the last one left) into the rows of the
    /// states before it. A row's flow back into itself through `k` is dropped rather
    /// than subtracted from its exit rate: the exit rate stays the sum of its remaining
    /// outflows, all positive. Rows are contiguous, so the inner loops run along
    /// memory.
    fn eliminate(&mut self, k: usize) {
        let n = self.n;
        let (before, from_k) = self.rates.split_at_mut(k * n);
        let row_k = &from_k[..k];
        let exit: f64 = row_k.iter().sum::<f64>() + self.absorb[k];
        for i in 0..k {
            let row_i = &mut before[i * n..i * n + n];
            let into_k = row_i[k];
            if into_k == 0.0 {
                continue;
            }
            let share = into_k / exit;
            self.time[i] += share * self.time[k];
            self.absorb[i] += share * self.absorb[k];
            for (to, &through) in row_i[..i].iter_mut().zip(&row_k[..i]) {
                *to += share * through;
            }
            for (to, &through) in row_i[i + 1..k].iter_mut().zip(&row_k[i + 1..]) {
                *to += share * through;
            }
        }
    }
}

/// Most transient states whose mean time to absorption is solved on a dense matrix
/// (8 bytes per pair of states: 200 MB at the limit).
pub const DENSE_FIRST_PASSAGE: usize = 5000;

/// Most rate updates the sparse elimination may make before it gives up (its
/// fill-in made it dense).
pub const MAX_SPARSE_UPDATES: u64 = 50_000_000;

/// [`FirstPassage`] on sparse rows, eliminating states in a cheap order: next, the
/// state whose elimination touches the fewest pairs (in-degree times out-degree, the
/// minimum-degree heuristic, ties to the later state), which keeps fill-in small on the
/// grid-like chains of storage models. Elimination works in any order: each pivot is
/// still the sum of the remaining outflows, all positive. Rows are ordered maps and the
/// order is deterministic, so the result does not vary from run to run.
struct SparsePassage {
    /// Per listed state: the rates to the other listed states still in the system.
    rows: Vec<BTreeMap<usize, f64>>,
    /// Per listed state: the states whose rows hold a rate to it.
    into: Vec<BTreeSet<usize>>,
    absorb: Vec<f64>,
    time: Vec<f64>,
}

impl SparsePassage {
    fn new(chain: &Chain, transient: &[usize], absorbing: &[bool]) -> SparsePassage {
        let n = transient.len();
        let mut position = vec![None; chain.states];
        for (i, &state) in transient.iter().enumerate() {
            position[state] = Some(i);
        }
        let mut rows = vec![BTreeMap::new(); n];
        let mut into = vec![BTreeSet::new(); n];
        let mut absorb = vec![0.0; n];
        for &(from, to, rate) in &chain.transitions {
            let Some(i) = position[from] else { continue };
            if absorbing[to] {
                absorb[i] += rate;
            } else if let Some(j) = position[to] {
                *rows[i].entry(j).or_insert(0.0) += rate;
                into[j].insert(i);
            }
        }
        SparsePassage {
            rows,
            into,
            absorb,
            time: vec![1.0; n],
        }
    }

    fn cost(&self, k: usize) -> u64 {
        self.rows[k].len() as u64 * self.into[k].len() as u64
    }

    /// Eliminates every state but the first, cheapest first; Err after `budget` rate
    /// updates.
    fn solve_for_first(mut self, budget: u64) -> Result<f64, MarkovError> {
        let n = self.absorb.len();
        let mut eliminated = vec![false; n];
        let mut cost: Vec<u64> = (0..n).map(|k| self.cost(k)).collect();
        let mut heap: BinaryHeap<Reverse<(u64, Reverse<usize>)>> =
            (1..n).map(|k| Reverse((cost[k], Reverse(k)))).collect();
        let mut updates = 0u64;
        while let Some(Reverse((c, Reverse(k)))) = heap.pop() {
            if eliminated[k] || c != cost[k] {
                continue;
            }
            eliminated[k] = true;
            updates += c;
            if updates > budget {
                return Err(MarkovError(format!(
                    "the mean time to absorption of {n} states needs more than {budget} \
                     updates (the elimination has filled in)"
                )));
            }
            for t in self.eliminate(k) {
                if t != 0 && !eliminated[t] {
                    let now = self.cost(t);
                    if now != cost[t] {
                        cost[t] = now;
                        heap.push(Reverse((now, Reverse(t))));
                    }
                }
            }
        }
        Ok(self.time[0] / self.absorb[0])
    }

    /// As [`FirstPassage::eliminate`], for state `k` whichever states are gone
    /// already. Returns the states whose rows or sources changed.
    fn eliminate(&mut self, k: usize) -> Vec<usize> {
        let row_k = std::mem::take(&mut self.rows[k]);
        for &j in row_k.keys() {
            self.into[j].remove(&k);
        }
        let exit: f64 = row_k.values().sum::<f64>() + self.absorb[k];
        let sources = std::mem::take(&mut self.into[k]);
        let mut touched: Vec<usize> = row_k.keys().copied().collect();
        for &i in &sources {
            touched.push(i);
            let into_k = self.rows[i].remove(&k).expect("listed as a source");
            let share = into_k / exit;
            self.time[i] += share * self.time[k];
            self.absorb[i] += share * self.absorb[k];
            for (&j, &rate) in &row_k {
                if j == i {
                    continue;
                }
                *self.rows[i].entry(j).or_insert(0.0) += share * rate;
                self.into[j].insert(i);
            }
        }
        touched
    }
}

/// The uniformized jump chain of the transient states reachable from the start: at
/// each jump (at the uniform `rate`), a state keeps its mass with probability `stay`,
/// moves it along `moves`, and loses it into the absorbing set with probability
/// `to_absorbing`.
struct UniformizedJumps {
    rate: f64,
    stay: Vec<f64>,
    moves: Vec<(usize, usize, f64)>,
    to_absorbing: Vec<f64>,
}

impl UniformizedJumps {
    fn new(chain: &Chain, reached: &[bool], absorbing: &[bool]) -> UniformizedJumps {
        let transient = |s: usize| reached[s] && !absorbing[s];
        let mut exit = vec![0.0; chain.states];
        let mut to_absorbing = vec![0.0; chain.states];
        for &(from, to, rate) in chain.transitions.iter().filter(|t| transient(t.0)) {
            exit[from] += rate;
            if absorbing[to] {
                to_absorbing[from] += rate;
            }
        }
        let rate = exit.iter().copied().fold(0.0, f64::max);
        if rate == 0.0 {
            return UniformizedJumps {
                rate,
                stay: vec![1.0; chain.states],
                moves: Vec::new(),
                to_absorbing,
            };
        }
        let moves = chain
            .transitions
            .iter()
            .filter(|t| transient(t.0) && !absorbing[t.1])
            .map(|&(from, to, r)| (from, to, r / rate))
            .collect();
        UniformizedJumps {
            rate,
            stay: exit.iter().map(|e| (rate - e) / rate).collect(),
            moves,
            to_absorbing: to_absorbing.iter().map(|a| a / rate).collect(),
        }
    }

    /// `sum_k Poisson(k; expected_jumps) A_k`, `A_k` being the mass absorbed within `k`
    /// jumps from the initial `mass` (one entry per state).
    fn absorbed_by(&self, mut mass: Vec<f64>, expected_jumps: f64) -> f64 {
        let mut next = vec![0.0; mass.len()];
        let mut weights = PoissonWeights::new(expected_jumps);
        let mut absorbed_so_far = 0.0;
        let mut total = 0.0;
        loop {
            total += weights.next_weight() * absorbed_so_far;
            // Each later term is a weight times an absorbed mass of at most 1.
            let tail = weights.remaining_bound();
            if tail <= TAIL_RELATIVE * total || tail <= TAIL_ABSOLUTE {
                return total;
            }
            absorbed_so_far += self.jump(&mass, &mut next);
            std::mem::swap(&mut mass, &mut next);
        }
    }

    /// One jump: spreads `mass` into `next` and returns the mass absorbed.
    fn jump(&self, mass: &[f64], next: &mut [f64]) -> f64 {
        for ((n, m), s) in next.iter_mut().zip(mass).zip(&self.stay) {
            *n = m * s;
        }
        for &(from, to, p) in &self.moves {
            next[to] += mass[from] * p;
        }
        mass.iter()
            .zip(&self.to_absorbing)
            .map(|(m, a)| m * a)
            .sum()
    }
}

/// Above this mean, Poisson weights start from the mode; below it, from `e^-mean`
/// (which does not underflow there).
const POISSON_FROM_MODE: f64 = 500.0;

/// Weights below this, left of the mode, are taken as 0: together they weigh less than
/// 1e-26 for any accepted mean, while the weights near the mode sum to about 1.
const POISSON_NEGLIGIBLE: f64 = 1e-30;

/// The Poisson probabilities `P(N = k)`, `k = 0, 1, 2, ...`, of `N ~ Poisson(mean)`, one
/// at a time, accurate to a few units in the last place near the mode even when
/// `e^-mean` underflows: the weight at the mode comes from Stirling's series (in the
/// saddle-point form of Loader, 2000), and the others from the ratios
/// `P(k+1) / P(k) = mean / (k+1)`, outwards from the mode.
struct PoissonWeights {
    mean: f64,
    /// Weights before `first` are (taken as) 0.
    first: usize,
    /// The weights of `first..=mode`.
    head: Vec<f64>,
    /// The index of the next weight.
    next: usize,
    /// The last weight returned.
    last: f64,
}

impl PoissonWeights {
    fn new(mean: f64) -> PoissonWeights {
        let mode = mean.floor() as usize;
        let (first, head) = if mean < POISSON_FROM_MODE {
            (0, Self::up_to_mode(mean, mode))
        } else {
            Self::down_from_mode(mean, mode)
        };
        PoissonWeights {
            mean,
            first,
            head,
            next: 0,
            last: 0.0,
        }
    }

    fn up_to_mode(mean: f64, mode: usize) -> Vec<f64> {
        let mut head = vec![(-mean).exp()];
        for k in 1..=mode {
            head.push(head[k - 1] * mean / k as f64);
        }
        head
    }

    fn down_from_mode(mean: f64, mode: usize) -> (usize, Vec<f64>) {
        let mut head = vec![poisson_at_mode(mode, mean)];
        let mut k = mode;
        while k > 0 && head[head.len() - 1] >= POISSON_NEGLIGIBLE {
            let below = head[head.len() - 1] * k as f64 / mean;
            head.push(below);
            k -= 1;
        }
        head.reverse();
        (k, head)
    }

    fn next_weight(&mut self) -> f64 {
        let k = self.next;
        let weight = if k < self.first {
            0.0
        } else if k - self.first < self.head.len() {
            self.head[k - self.first]
        } else {
            self.last * self.mean / k as f64
        };
        self.next += 1;
        self.last = weight;
        weight
    }

    /// An upper bound on the sum of the weights not yet returned (infinite before the
    /// mode): past the mode they fall at least geometrically.
    fn remaining_bound(&self) -> f64 {
        let k = self.next as f64;
        let ratio = self.mean / (k + 1.0);
        if self.next == 0 || ratio >= 1.0 {
            return f64::INFINITY;
        }
        let next_weight = self.last * self.mean / k;
        next_weight / (1.0 - ratio)
    }
}

/// `P(N = mode)` for `N ~ Poisson(mean)`, `mode = floor(mean) >= POISSON_FROM_MODE`:
/// `exp(-stirling_error(mode) - bd0) / sqrt(2 pi mode)`, where
/// `bd0 = mode ln(mode / mean) + mean - mode` is computed without cancellation.
fn poisson_at_mode(mode: usize, mean: f64) -> f64 {
    let m = mode as f64;
    let below_mean = m - mean; // in (-1, 0]
    let bd0 = m * (below_mean / mean).ln_1p() - below_mean;
    (-stirling_error(m) - bd0).exp() / (2.0 * std::f64::consts::PI * m).sqrt()
}

/// `ln(m!) - ((m + 1/2) ln m - m + ln(2 pi) / 2)` for large `m`, by Stirling's series
/// (its next term, `-1/(1680 m^7)`, is far below rounding for `m >= 500`).
fn stirling_error(m: f64) -> f64 {
    let inv = 1.0 / m;
    let inv2 = inv * inv;
    inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
}

/// How lost pieces are re-created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// Each lost piece is re-created at rate `mu` on its own: with `i` lost, at total
    /// rate `i mu`.
    Independent,
    /// At most this many pieces are re-created at a time: with `i` lost, at total rate
    /// `min(i, crews) mu`.
    Crews(u32),
}

impl Repair {
    fn rate(self, lost: u32, mu: f64) -> f64 {
        let working = match self {
            Repair::Independent => lost,
            Repair::Crews(crews) => lost.min(crews),
        };
        f64::from(working) * mu
    }
}

/// A chain whose absorbing states are data loss, with the state it starts in.
#[derive(Debug, Clone, PartialEq)]
pub struct LossChain {
    /// The chain.
    pub chain: Chain,
    /// The state with nothing lost.
    pub start: usize,
    /// The states where data is lost.
    pub absorbing: Vec<bool>,
}

impl LossChain {
    /// The mean time to data loss (MTTDL), in hours.
    pub fn mean_time_to_loss(&self) -> Result<f64, MarkovError> {
        self.chain
            .mean_time_to_absorption(self.start, &self.absorbing)
    }

    /// The probability of losing data within `t` hours.
    pub fn loss_probability_by(&self, t: f64) -> Result<f64, MarkovError> {
        self.chain
            .absorption_probability_by(self.start, &self.absorbing, t)
    }

    /// The probability of losing data within `t` hours when the chain starts in state
    /// `s` with probability `w` for each `(s, w)` of `initial`.
    pub fn loss_probability_from(
        &self,
        initial: &[(usize, f64)],
        t: f64,
    ) -> Result<f64, MarkovError> {
        self.chain
            .absorption_probability_from(initial, &self.absorbing, t)
    }
}

/// The birth–death chain of the number of pieces lost in a group of `pieces`
/// (replicas or fragments) whose data is lost when more than `tolerated` are gone.
///
/// State `i` is `i` pieces lost, for `i` in `0..=tolerated + 1`; the last state is data
/// loss (absorbing) and state 0 the start. From state `i`, a piece fails at rate
/// `(pieces - i) lambda` and one is re-created at the rate given by `repair`. `n`-way
/// replication is `pieces = n, tolerated = n - 1`; a `k + m` erasure code is
/// `pieces = k + m, tolerated = m`. Panics unless `tolerated < pieces`.
pub fn pieces_lost(pieces: u32, tolerated: u32, lambda: f64, mu: f64, repair: Repair) -> LossChain {
    assert!(
        tolerated < pieces,
        "tolerated {tolerated} >= pieces {pieces}"
    );
    let loss = tolerated as usize + 1;
    let mut chain = Chain::new(loss + 1);
    for lost in 0..=tolerated {
        let state = lost as usize;
        chain.add(state, state + 1, f64::from(pieces - lost) * lambda);
        if lost > 0 {
            chain.add(state, state - 1, repair.rate(lost, mu));
        }
    }
    let mut absorbing = vec![false; loss + 1];
    absorbing[loss] = true;
    LossChain {
        chain,
        start: 0,
        absorbing,
    }
}

/// The chain of copies spread over sites, with site disasters.
///
/// Site `s` holds `copies_per_site[s]` copies. Each copy fails at rate `lambda`; each
/// lost copy is re-created at its own site at rate `mu` (independent repairs); a
/// disaster at site `s` (rate `disaster[s]`) destroys every copy there at once, the site
/// itself being back at once and its copies then re-created at rate `mu` each. A state
/// is the number of copies present at each site (state index `sum_s present_s
/// stride_s`, with `stride_0 = 1` and `stride_{s+1} = stride_s (copies_per_site[s] +
/// 1)`); data is lost when no copy is left anywhere (state 0, absorbing). The start is
/// every copy present. Panics if the two slices differ in length or hold no copy.
pub fn sites(copies_per_site: &[u32], lambda: f64, mu: f64, disaster: &[f64]) -> LossChain {
    assert_eq!(
        copies_per_site.len(),
        disaster.len(),
        "one disaster rate per site"
    );
    assert!(copies_per_site.iter().any(|&c| c > 0), "no copy at all");
    let strides = site_strides(copies_per_site);
    let states = strides[strides.len() - 1];
    let mut chain = Chain::new(states);
    for state in 1..states {
        for (site, &full) in copies_per_site.iter().enumerate() {
            let stride = strides[site];
            let present = (state / stride) as u32 % (full + 1);
            let with = |count: u32| state - present as usize * stride + count as usize * stride;
            if present > 0 {
                chain.add(state, with(present - 1), f64::from(present) * lambda);
                chain.add(state, with(0), disaster[site]);
            }
            if present < full {
                chain.add(state, with(present + 1), f64::from(full - present) * mu);
            }
        }
    }
    let mut absorbing = vec![false; states];
    absorbing[0] = true;
    LossChain {
        chain,
        start: states - 1,
        absorbing,
    }
}

/// `stride_s` for each site, then the number of states.
fn site_strides(copies_per_site: &[u32]) -> Vec<usize> {
    let mut strides = vec![1usize];
    for &copies in copies_per_site {
        strides.push(strides[strides.len() - 1] * (copies as usize + 1));
    }
    strides
}

/// The annual probability of data loss by the period model of Backblaze's post
/// "Backblaze Durability is 99.999999999%" (2019), for a group of `pieces` drives that
/// survives up to `tolerated` failures (17 + 3: `pieces` 20, `tolerated` 3).
///
/// Time is cut into rebuild periods of `rebuild_days`; a drive fails within a period
/// with probability `p = annual_failure_rate * rebuild_days / 365`, independently of
/// the others. Data is lost in a period when more than `tolerated` drives fail in it:
/// `P(period) = P(X > tolerated)` with `X ~ Binomial(pieces, p)` (a Poisson law of mean
/// `pieces p` gives nearly the same tail when `p` is small). The periods of a year are
/// taken as independent: `P(year) = 1 - (1 - P(period))^(365 / rebuild_days)`.
///
/// The model ignores failures that straddle two periods and the variability of
/// rebuild times, so it is below the exact chains' loss probability.
/// Panics unless `tolerated < pieces`, `rebuild_days > 0` and `0 <= p <= 1`.
pub fn backblaze_period_model(
    pieces: u32,
    tolerated: u32,
    annual_failure_rate: f64,
    rebuild_days: f64,
) -> f64 {
    assert!(
        tolerated < pieces,
        "tolerated {tolerated} >= pieces {pieces}"
    );
    assert!(
        rebuild_days > 0.0,
        "rebuild_days must be > 0, got {rebuild_days}"
    );
    let p = annual_failure_rate * rebuild_days / 365.0;
    assert!(
        (0.0..=1.0).contains(&p),
        "per-period failure probability {p}"
    );
    let per_period = binomial_upper_tail(pieces, tolerated + 1, p);
    let periods_per_year = 365.0 / rebuild_days;
    -(periods_per_year * (-per_period).ln_1p()).exp_m1()
}

/// `P(X >= from)` for `X ~ Binomial(n, p)`, summing the tail's terms directly.
fn binomial_upper_tail(n: u32, from: u32, p: f64) -> f64 {
    let ln_survive = (-p).ln_1p();
    (from..=n)
        .map(|k| {
            let failures = p.powi(k as i32);
            let survivals = (f64::from(n - k) * ln_survive).exp();
            binomial_coefficient(n, k) * failures * survivals
        })
        .sum()
}

/// `n choose k` as a float (exact while it is below 2^53).
fn binomial_coefficient(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        let error = ((actual - expected) / expected).abs();
        assert!(
            error <= relative,
            "{actual:e} vs {expected:e}: relative error {error:e} > {relative:e}"
        );
    }

    fn only(states: usize, state: usize) -> Vec<bool> {
        let mut flags = vec![false; states];
        flags[state] = true;
        flags
    }

    #[test]
    fn steady_state_of_two_states() {
        let (lambda, mu) = (0.3, 2.0);
        let mut chain = Chain::new(2);
        chain.add(0, 1, lambda);
        chain.add(1, 0, mu);
        let pi = chain.steady_state().unwrap();
        // Balance: pi_0 lambda = pi_1 mu and pi_0 + pi_1 = 1, so
        // pi = (mu / (lambda + mu), lambda / (lambda + mu)).
        assert_close(pi[0], mu / (lambda + mu), 1e-14);
        assert_close(pi[1], lambda / (lambda + mu), 1e-14);
    }

    #[test]
    fn steady_state_of_a_birth_death_chain() {
        // 0 <-> 1 <-> 2 with up rates 2, 1 and down rates 3, 4. Detailed balance:
        // pi_1 = pi_0 2/3, pi_2 = pi_1 1/4 = pi_0 / 6; the sum 1 + 2/3 + 1/6 = 11/6,
        // so pi = (6, 4, 1) / 11.
        let mut chain = Chain::new(3);
        chain.add(0, 1, 2.0);
        chain.add(1, 2, 1.0);
        chain.add(1, 0, 3.0);
        chain.add(2, 1, 4.0);
        let pi = chain.steady_state().unwrap();
        for (p, expected) in pi.iter().zip([6.0 / 11.0, 4.0 / 11.0, 1.0 / 11.0]) {
            assert_close(*p, expected, 1e-14);
        }
    }

    #[test]
    fn steady_state_refuses_a_reducible_chain() {
        let mut chain = Chain::new(3);
        chain.add(0, 1, 1.0);
        chain.add(1, 0, 1.0);
        chain.add(1, 2, 1.0);
        assert!(chain.steady_state().is_err());
        assert!(Chain::new(0).steady_state().is_err());
    }

    #[test]
    fn rates_of_repeated_pairs_add_up_and_zero_rates_are_ignored() {
        let mut chain = Chain::new(2);
        chain.add(0, 1, 1.5);
        chain.add(0, 1, 0.0);
        chain.add(0, 1, 2.5);
        assert_eq!(chain.rate(0, 1), 4.0);
        assert_eq!(chain.rate(1, 0), 0.0);
    }

    /// First-step analysis of 2-way replication (state = copies lost):
    /// `T0 = 1/(2 lambda) + T1` and `T1 = 1/(lambda + mu) + mu/(lambda + mu) T0`.
    /// Substituting, `T0 lambda / (lambda + mu) = 1/(2 lambda) + 1/(lambda + mu)
    /// = (3 lambda + mu) / (2 lambda (lambda + mu))`, so
    /// `T0 = (3 lambda + mu) / (2 lambda^2)`. With one copy lost, one repair runs in
    /// both repair models, so Crews(1) gives the same.
    fn two_way_mttdl(lambda: f64, mu: f64) -> f64 {
        (3.0 * lambda + mu) / (2.0 * lambda * lambda)
    }

    #[test]
    fn mttdl_of_two_way_replication() {
        for (lambda, mu) in [(0.01, 1.0), (1e-6, 0.1), (1e-9, 10.0)] {
            for repair in [Repair::Independent, Repair::Crews(1)] {
                let mttdl = pieces_lost(2, 1, lambda, mu, repair)
                    .mean_time_to_loss()
                    .unwrap();
                assert_close(mttdl, two_way_mttdl(lambda, mu), 1e-12);
            }
        }
    }

    // 3-way replication, state = copies lost, with r the repair rate out of state 2:
    //   T0 = 1/(3 lambda) + T1
    //   (2 lambda + mu) T1 = 1 + 2 lambda T2 + mu T0
    //   (lambda + r) T2 = 1 + r T1
    // The second with T0 = T1 + 1/(3 lambda): 2 lambda (T1 - T2) = 1 + mu/(3 lambda),
    // so T1 - T2 = (3 lambda + mu) / (6 lambda^2). The third: lambda T2 = 1 + r (T1 - T2).
    // Independent repair, r = 2 mu: T2 = (3 lambda^2 + 3 lambda mu + mu^2) / (3 lambda^3),
    // and T0 = T2 + (3 lambda + mu)/(6 lambda^2) + 1/(3 lambda)
    //        = (11 lambda^2 + 7 lambda mu + 2 mu^2) / (6 lambda^3).
    // One crew, r = mu: T2 = (6 lambda^2 + 3 lambda mu + mu^2) / (6 lambda^3), and
    // T0 = (11 lambda^2 + 4 lambda mu + mu^2) / (6 lambda^3).
    #[test]
    fn mttdl_of_three_way_replication() {
        for (lambda, mu) in [(0.01, 1.0), (2e-5, 0.05), (1e-7, 1.0)] {
            let (l2, l3) = (lambda * lambda, lambda * lambda * lambda);
            let independent = (11.0 * l2 + 7.0 * lambda * mu + 2.0 * mu * mu) / (6.0 * l3);
            let one_crew = (11.0 * l2 + 4.0 * lambda * mu + mu * mu) / (6.0 * l3);
            let mttdl = |repair| {
                pieces_lost(3, 2, lambda, mu, repair)
                    .mean_time_to_loss()
                    .unwrap()
            };
            assert_close(mttdl(Repair::Independent), independent, 1e-10);
            assert_close(mttdl(Repair::Crews(1)), one_crew, 1e-10);
            // Two crews are as many as can ever work in 3-way replication.
            assert_close(mttdl(Repair::Crews(2)), independent, 1e-10);
        }
    }

    #[test]
    fn mean_time_is_zero_from_an_absorbing_state() {
        let group = pieces_lost(2, 1, 0.1, 1.0, Repair::Independent);
        assert_eq!(
            group.chain.mean_time_to_absorption(2, &group.absorbing),
            Ok(0.0)
        );
    }

    #[test]
    fn mean_time_refuses_uncertain_absorption() {
        // From 0 the chain may fall into the closed pair {2, 3} and never reach 1.
        let mut chain = Chain::new(4);
        chain.add(0, 1, 1.0);
        chain.add(0, 2, 1.0);
        chain.add(2, 3, 1.0);
        chain.add(3, 2, 1.0);
        assert!(chain.mean_time_to_absorption(0, &only(4, 1)).is_err());
        // Without a repair, no absorbing state at all can be reached.
        let group = pieces_lost(2, 1, 0.0, 1.0, Repair::Independent);
        assert!(group.mean_time_to_loss().is_err());
    }

    #[test]
    fn bad_arguments_are_errors() {
        let group = pieces_lost(2, 1, 0.1, 1.0, Repair::Independent);
        assert!(
            group
                .chain
                .mean_time_to_absorption(3, &group.absorbing)
                .is_err()
        );
        assert!(group.chain.mean_time_to_absorption(0, &[true]).is_err());
        assert!(group.loss_probability_by(-1.0).is_err());
        assert!(group.loss_probability_by(f64::NAN).is_err());
        assert!(group.loss_probability_by(f64::INFINITY).is_err());
        assert!(group.loss_probability_by(1e9).is_err());
    }

    #[test]
    fn probability_at_the_edges() {
        let group = pieces_lost(2, 1, 0.1, 1.0, Repair::Independent);
        assert_eq!(group.loss_probability_by(0.0), Ok(0.0));
        assert_eq!(
            group
                .chain
                .absorption_probability_by(2, &group.absorbing, 5.0),
            Ok(1.0)
        );
        // Nothing ever fails.
        let safe = pieces_lost(2, 1, 0.0, 1.0, Repair::Independent);
        assert_eq!(safe.loss_probability_by(100.0), Ok(0.0));
    }

    #[test]
    fn probability_of_loss_without_repair() {
        // Without repair the two pieces fail independently, each by time t with
        // probability q = 1 - e^(-lambda t): data is lost by t when both have, q^2.
        // Three pieces that tolerate one loss: P(at least 2 of 3) = 3 q^2 (1 - q) + q^3.
        let lambda: f64 = 1e-3;
        for t in [3e-5, 500.0, 5000.0] {
            let q = -(-lambda * t).exp_m1();
            let two = pieces_lost(2, 1, lambda, 0.0, Repair::Independent);
            assert_close(two.loss_probability_by(t).unwrap(), q * q, 1e-9);
            let three = pieces_lost(3, 1, lambda, 0.0, Repair::Independent);
            let expected = 3.0 * q * q * (1.0 - q) + q * q * q;
            assert_close(three.loss_probability_by(t).unwrap(), expected, 1e-9);
        }
        // lambda t = 3e-8: q^2 is about 9e-16.
        let q = -(-3e-8f64).exp_m1();
        assert!(q * q < 1e-15);
        let two = pieces_lost(2, 1, lambda, 0.0, Repair::Independent);
        assert_close(two.loss_probability_by(3e-5).unwrap(), q * q, 1e-9);
    }

    /// 2-way replication with repair, transient states 0 and 1 (copies lost):
    /// first-step analysis of the Laplace transforms of the time to loss,
    /// `L0 = 2 lambda / (s + 2 lambda) L1`, `L1 = (mu L0 + lambda) / (s + lambda + mu)`,
    /// gives `L0 (s^2 + (3 lambda + mu) s + 2 lambda^2) = 2 lambda^2`: the time to loss
    /// is the sum of two exponentials of rates r1, r2, the roots' opposites, with
    /// `r1 + r2 = 3 lambda + mu` and `r1 r2 = 2 lambda^2` (the eigenvalues of the
    /// transient generator). The discriminant is `(3 lambda + mu)^2 - 8 lambda^2 =
    /// lambda^2 + 6 lambda mu + mu^2`, so `r2 = (3 lambda + mu + sqrt(that)) / 2` and
    /// `r1 = 2 lambda^2 / r2` (no cancellation). The CDF of that sum is
    /// `1 - (r2 e^(-r1 t) - r1 e^(-r2 t)) / (r2 - r1)
    ///  = (r2 (1 - e^(-r1 t)) - r1 (1 - e^(-r2 t))) / (r2 - r1)`.
    fn two_way_loss_by(lambda: f64, mu: f64, t: f64) -> f64 {
        let root = (lambda * lambda + 6.0 * lambda * mu + mu * mu).sqrt();
        let r2 = (3.0 * lambda + mu + root) / 2.0;
        let r1 = 2.0 * lambda * lambda / r2;
        let gone = |r: f64| -(-r * t).exp_m1();
        (r2 * gone(r1) - r1 * gone(r2)) / (r2 - r1)
    }

    #[test]
    fn probability_of_loss_of_two_way_replication_with_repair() {
        // The last case is about 1.8e-13: r1 t = 2e-13 while r2 t = 10, so the closed
        // form is r1 (r2 t - 1 + e^(-r2 t)) / (r2 - r1) without cancellation.
        for (lambda, mu, t) in [(0.01, 0.5, 100.0), (0.2, 0.1, 30.0), (1e-7, 1.0, 10.0)] {
            let group = pieces_lost(2, 1, lambda, mu, Repair::Independent);
            let expected = two_way_loss_by(lambda, mu, t);
            assert_close(group.loss_probability_by(t).unwrap(), expected, 1e-9);
        }
        assert!(two_way_loss_by(1e-7, 1.0, 10.0) < 1e-12);
    }

    #[test]
    fn absorbing_states_are_made_absorbing() {
        // 1 would return to 0, but once 1 is entered it counts: P = 1 - e^(-a t).
        let (a, t) = (0.2, 3.0);
        let mut chain = Chain::new(2);
        chain.add(0, 1, a);
        chain.add(1, 0, 5.0);
        let p = chain.absorption_probability_by(0, &only(2, 1), t).unwrap();
        assert_close(p, -(-a * t).exp_m1(), 1e-12);
    }

    /// States 0 and 1 flicker fast (0 -> 1 at 100, 1 -> 0 at 50) and both leave for
    /// the absorbing state 2 at rate `a`: whichever state the chain is in, absorption
    /// comes at rate `a`, so the time to it is exponential and
    /// `P(absorbed by t) = 1 - e^(-a t)`, while uniformization must take about
    /// `(100 + a) t` jumps.
    fn flicker(a: f64) -> Chain {
        let mut chain = Chain::new(3);
        chain.add(0, 1, 100.0);
        chain.add(1, 0, 50.0);
        chain.add(0, 2, a);
        chain.add(1, 2, a);
        chain
    }

    #[test]
    fn probability_with_many_expected_jumps() {
        // (rate, t): 1e5 jumps with P = 1 - e^-1, 1e5 jumps with P = 1e-15 (the
        // terms left of the mode underflow), and 1e6 jumps with P = 1 - e^-1.
        for (a, t) in [(1e-3, 1000.0), (1e-18, 1000.0), (1e-4, 10_000.0)] {
            let p = flicker(a)
                .absorption_probability_by(0, &only(3, 2), t)
                .unwrap();
            assert_close(p, -(-a * t).exp_m1(), 1e-9);
        }
    }

    #[test]
    fn poisson_weights_sum_to_one_and_follow_the_law() {
        for mean in [1e-9, 0.7, 30.0, 499.9, 500.0, 12_345.6, 1e6] {
            let mut weights = PoissonWeights::new(mean);
            let (mut sum, mut first_moment) = (0.0, 0.0);
            let mut k = 0.0;
            while weights.remaining_bound() > 1e-20 {
                let w = weights.next_weight();
                sum += w;
                first_moment += k * w;
                k += 1.0;
            }
            // A law's probabilities add up to 1 and its mean is the Poisson mean.
            assert_close(sum, 1.0, 1e-12);
            assert_close(first_moment, mean, 1e-12);
        }
        // From the mode or from e^-mean, the same weight: at mean 700, e^-700 is still
        // representable, and P(N = 700) = e^-700 700^700 / 700!.
        let mean: f64 = 700.0;
        let mut from_zero = (-mean).exp();
        for k in 1..=700 {
            from_zero *= mean / k as f64;
        }
        assert_close(poisson_at_mode(700, mean), from_zero, 1e-12);
    }

    #[test]
    fn sites_count_every_combination_of_copies() {
        // Each of three sites holds 0, 1 or 2 copies: 3^3 states.
        let three = sites(&[2, 2, 2], 0.01, 1.0, &[1e-4; 3]);
        assert_eq!(three.chain.states(), 27);
        assert_eq!(three.start, 26);
        assert_eq!(three.absorbing.iter().filter(|&&a| a).count(), 1);
        assert!(three.absorbing[0]);
        assert!(three.mean_time_to_loss().unwrap() > 0.0);
    }

    #[test]
    fn one_site_without_disasters_is_replication() {
        // Two copies at one site, no disaster: 2-way replication with independent
        // repair (states counted in copies present instead of copies lost).
        let (lambda, mu) = (0.02, 0.7);
        let site = sites(&[2], lambda, mu, &[0.0]);
        let group = pieces_lost(2, 1, lambda, mu, Repair::Independent);
        assert_close(
            site.mean_time_to_loss().unwrap(),
            two_way_mttdl(lambda, mu),
            1e-12,
        );
        assert_close(
            site.loss_probability_by(200.0).unwrap(),
            group.loss_probability_by(200.0).unwrap(),
            1e-12,
        );
    }

    #[test]
    fn disasters_alone() {
        // One copy, no copy failures: data is lost at the first disaster, MTTDL 1/delta
        // and P(lost by t) = 1 - e^(-delta t).
        let delta = 1e-5;
        let lone = sites(&[1], 0.0, 1.0, &[delta]);
        assert_close(lone.mean_time_to_loss().unwrap(), 1.0 / delta, 1e-14);
        assert_close(
            lone.loss_probability_by(8766.0).unwrap(),
            -(-delta * 8766.0).exp_m1(),
            1e-12,
        );
        // One copy at each of two sites: the copy at a site goes at rate
        // lambda + delta (failure or disaster) and comes back at rate mu, which is
        // 2-way replication with lambda + delta for lambda.
        let (lambda, mu) = (1e-4, 0.1);
        let pair = sites(&[1, 1], lambda, mu, &[delta, delta]);
        assert_close(
            pair.mean_time_to_loss().unwrap(),
            two_way_mttdl(lambda + delta, mu),
            1e-10,
        );
    }

    #[test]
    fn two_copies_at_one_site_with_disasters() {
        // States by copies present. From 2: a failure (2 lambda) leads to 1, a disaster
        // (delta) to loss. From 1: failure or disaster (lambda + delta) to loss, repair
        // (mu) to 2. So (2 lambda + delta) T2 = 1 + 2 lambda T1 and
        // (lambda + delta + mu) T1 = 1 + mu T2. Substituting T1:
        // T2 ((2 lambda + delta)(lambda + delta + mu) - 2 lambda mu) = 3 lambda + delta + mu,
        // and the bracket is (2 lambda + delta)(lambda + delta) + delta mu.
        let (lambda, mu, delta) = (1e-3, 0.2, 1e-5);
        let expected =
            (3.0 * lambda + delta + mu) / ((2.0 * lambda + delta) * (lambda + delta) + delta * mu);
        let site = sites(&[2], lambda, mu, &[delta]);
        assert_close(site.mean_time_to_loss().unwrap(), expected, 1e-12);
    }

    /// `pieces_lost` rebuilt through `Chain::explore`: the state is the number of
    /// pieces lost.
    fn explored_pieces_lost(
        pieces: u32,
        tolerated: u32,
        lambda: f64,
        mu: f64,
        repair: Repair,
    ) -> LossChain {
        let (group, states) = Chain::explore(
            0u32,
            |&lost| {
                let mut next = vec![(lost + 1, f64::from(pieces - lost) * lambda)];
                if lost > 0 {
                    next.push((lost - 1, repair.rate(lost, mu)));
                }
                next
            },
            |&lost| lost > tolerated,
        )
        .unwrap();
        // Discovery order from 0 is 0, 1, 2, ...: the same numbering as pieces_lost.
        assert_eq!(states, (0..=tolerated + 1).collect::<Vec<_>>());
        group
    }

    #[test]
    fn explore_rebuilds_pieces_lost() {
        let t = 8760.0;
        for (pieces, tolerated, lambda, mu, repair) in [
            (2, 1, 1e-3, 0.02, Repair::Independent),
            (3, 2, 2e-5, 0.05, Repair::Crews(1)),
            (20, 3, 0.0081 / 8760.0, 1.0 / 156.0, Repair::Independent),
            (9, 3, 1e-6, 0.1, Repair::Crews(2)),
        ] {
            let direct = pieces_lost(pieces, tolerated, lambda, mu, repair);
            let explored = explored_pieces_lost(pieces, tolerated, lambda, mu, repair);
            assert_eq!(explored.chain.states(), direct.chain.states());
            assert_close(
                explored.mean_time_to_loss().unwrap(),
                direct.mean_time_to_loss().unwrap(),
                1e-13,
            );
            assert_close(
                explored.loss_probability_by(t).unwrap(),
                direct.loss_probability_by(t).unwrap(),
                1e-13,
            );
        }
    }

    #[test]
    fn explore_rebuilds_sites() {
        // The state is the copies present per site; each site's copies fail one at a
        // time, come back one at a time, or all go in a disaster.
        let (lambda, mu, t) = (1e-3, 0.05, 5000.0);
        for (full, disaster) in [
            (vec![2u32, 2, 2], vec![1e-4, 2e-4, 3e-4]),
            (vec![1, 3], vec![1e-3, 0.0]),
        ] {
            let (explored, states) = Chain::explore(
                full.clone(),
                |present: &Vec<u32>| {
                    let mut next = Vec::new();
                    for site in 0..full.len() {
                        let with = |count: u32| {
                            let mut s = present.clone();
                            s[site] = count;
                            s
                        };
                        if present[site] > 0 {
                            next.push((with(present[site] - 1), f64::from(present[site]) * lambda));
                            next.push((with(0), disaster[site]));
                        }
                        if present[site] < full[site] {
                            next.push((
                                with(present[site] + 1),
                                f64::from(full[site] - present[site]) * mu,
                            ));
                        }
                    }
                    next
                },
                |present| present.iter().all(|&c| c == 0),
            )
            .unwrap();
            let direct = sites(&full, lambda, mu, &disaster);
            // Every combination is reachable, and exactly one state is loss.
            assert_eq!(states.len(), direct.chain.states());
            assert_eq!(explored.absorbing.iter().filter(|&&a| a).count(), 1);
            assert_close(
                explored.mean_time_to_loss().unwrap(),
                direct.mean_time_to_loss().unwrap(),
                1e-12,
            );
            assert_close(
                explored.loss_probability_by(t).unwrap(),
                direct.loss_probability_by(t).unwrap(),
                1e-12,
            );
        }
    }

    #[test]
    fn explore_drops_self_loops_and_stops_at_absorbing_states() {
        // 0 -> 0 (dropped), 0 -> 1 twice (adds up), 1 absorbing: its transitions are
        // never asked for.
        let (group, states) = Chain::explore(
            0u8,
            |&s| {
                assert_eq!(s, 0, "an absorbing state was expanded");
                vec![(0, 5.0), (1, 0.25), (1, 0.75), (2, 0.0)]
            },
            |&s| s == 1,
        )
        .unwrap();
        assert_eq!(states, vec![0, 1]);
        assert_eq!(group.chain.rate(0, 1), 1.0);
        assert_eq!(group.chain.transitions(), 2);
        assert_close(group.mean_time_to_loss().unwrap(), 1.0, 1e-15);
    }

    #[test]
    fn explore_refuses_too_many_states_and_bad_rates() {
        // A walk on the integers never ends.
        let walk = Chain::explore_from(
            vec![0i64],
            1000,
            |&s| vec![(s + 1, 1.0), (s - 1, 1.0)],
            |_| false,
        );
        let error = walk.unwrap_err();
        assert!(error.0.contains("more than 1000 states"), "{error}");
        let bad = Chain::explore(0u8, |_| vec![(1, f64::NAN)], |&s| s == 1);
        assert!(bad.is_err());
        let negative = Chain::explore(0u8, |_| vec![(1, -1.0)], |&s| s == 1);
        assert!(negative.is_err());
    }

    #[test]
    fn probability_from_a_distribution_mixes_the_starts() {
        // 2-way replication started with one copy lost with probability 0.3, or
        // already lost with probability 0.1: the mixture of the three starts.
        let (lambda, mu, t) = (0.01, 0.5, 100.0);
        let group = pieces_lost(2, 1, lambda, mu, Repair::Independent);
        let from = |s| {
            group
                .chain
                .absorption_probability_by(s, &group.absorbing, t)
                .unwrap()
        };
        let expected = 0.6 * from(0) + 0.3 * from(1) + 0.1;
        let mixed = group
            .loss_probability_from(&[(0, 0.6), (1, 0.3), (2, 0.1)], t)
            .unwrap();
        assert_close(mixed, expected, 1e-13);
        assert!(group.loss_probability_from(&[(0, 0.5)], t).is_err());
        assert!(group.loss_probability_from(&[], t).is_err());
    }

    /// The transient states of a loss chain, its start first.
    fn transient_of(group: &LossChain) -> Vec<usize> {
        std::iter::once(group.start)
            .chain((0..group.chain.states()).filter(|&s| s != group.start && !group.absorbing[s]))
            .collect()
    }

    #[test]
    fn sparse_and_dense_eliminations_agree() {
        // 2 copies at each of 6 sites: 729 states, solved both ways.
        let group = sites(&[2; 6], 1e-2, 0.1, &[1e-4; 6]);
        let transient = transient_of(&group);
        let dense = FirstPassage::new(&group.chain, &transient, &group.absorbing).solve_for_first();
        let sparse = SparsePassage::new(&group.chain, &transient, &group.absorbing)
            .solve_for_first(MAX_SPARSE_UPDATES)
            .unwrap();
        assert_close(sparse, dense, 1e-12);
        // One copy at each of two sites is 2-way replication with lambda + delta.
        let (lambda, mu, delta) = (1e-4, 0.1, 1e-5);
        let pair = sites(&[1, 1], lambda, mu, &[delta, delta]);
        let sparse = SparsePassage::new(&pair.chain, &transient_of(&pair), &pair.absorbing)
            .solve_for_first(MAX_SPARSE_UPDATES)
            .unwrap();
        assert_close(sparse, two_way_mttdl(lambda + delta, mu), 1e-10);
        // A budget too small for the fill-in is an error, not a wrong answer.
        let tight =
            SparsePassage::new(&group.chain, &transient, &group.absorbing).solve_for_first(1000);
        assert!(tight.is_err());
    }

    #[test]
    fn a_long_birth_death_chain_is_solved_sparse() {
        // 0 -> 1 -> ... -> n (absorbing), up at rate b, down at rate d: above the dense
        // limit, so the sparse path solves it. The mean time to go from i to i + 1,
        // h_i = (1 + d h_(i-1)) / b with h_0 = 1 / b, sums to the mean time to n (each
        // term positive).
        let (n, b, d) = (DENSE_FIRST_PASSAGE + 500, 1.0, 0.5);
        let mut chain = Chain::new(n + 1);
        for i in 0..n {
            chain.add(i, i + 1, b);
            if i > 0 {
                chain.add(i, i - 1, d);
            }
        }
        let mut h = 1.0 / b;
        let mut expected = h;
        for _ in 1..n {
            h = (1.0 + d * h) / b;
            expected += h;
        }
        let mean = chain.mean_time_to_absorption(0, &only(n + 1, n)).unwrap();
        assert_close(mean, expected, 1e-12);
    }

    #[test]
    fn backblaze_period_model_by_hand() {
        // 3 pieces tolerating 1, p = 0.5 * 73 / 365 = 0.1 per period:
        // P(X >= 2) = 3 p^2 (1 - p) + p^3 = 0.027 + 0.001 = 0.028, and a year is
        // 365 / 73 = 5 periods: 1 - 0.972^5.
        let annual = backblaze_period_model(3, 1, 0.5, 73.0);
        assert_close(annual, 1.0 - 0.972f64.powi(5), 1e-13);
        // 20 pieces tolerating 3, p = 0.01 * 3.65 / 365 = 1e-4, 100 periods a year.
        // P(period) = C(20, 4) p^4 (1 - p)^16 + C(20, 5) p^5 (1 - p)^15 + ..., where
        // C(20, 4) = 4845, C(20, 5) = 15504 and the next term, C(20, 6) p^6 = 3.9e-20,
        // is 1e-7 of the first. A year: 1 - (1 - P)^100 = 100 P (1 - 49.5 P + ...).
        let per_period = 4845e-16 * 0.9999f64.powi(16) + 15504e-20 * 0.9999f64.powi(15);
        let annual = backblaze_period_model(20, 3, 0.01, 3.65);
        assert_close(annual, 100.0 * per_period, 1e-6);
    }

    #[test]
    fn backblaze_period_model_is_below_the_exact_chains() {
        // 17 + 3 with a 0.81 % annual failure rate and 6.5-day rebuilds. The period
        // model misses losses that straddle two periods and rebuilds that take longer
        // than average, so the exact chains lose more.
        let (afr, rebuild_days) = (0.0081, 6.5);
        let period_model = backblaze_period_model(20, 3, afr, rebuild_days);
        let lambda = afr / (365.0 * 24.0);
        let mu = 1.0 / (rebuild_days * 24.0);
        for repair in [Repair::Independent, Repair::Crews(1)] {
            let group = pieces_lost(20, 3, lambda, mu, repair);
            let exact = group.loss_probability_by(365.0 * 24.0).unwrap();
            assert!(period_model < exact, "{period_model:e} vs {exact:e}");
        }
    }
}
