//! The failure–repair farm: N independent components, time to failure exponential with
//! mean 10,000 h, repair exponential with mean 10 h, one-year horizon. Shared by the
//! engine bench (`benches/engine.rs`) and the instruction-counting program
//! (`examples/farm.rs`), which run it three ways:
//!
//! - on the engine (`engine_trial`);
//! - as a bare calendar loop (`BareCalendar`): the engine's work for this model —
//!   each component's own stream, the same draws, one pending event per component in
//!   buckets over the horizon, ties in scheduling order — with nothing else: no event
//!   payloads, keys or cancellation, no dependencies, no observer, no draw ahead. Each
//!   stream draws what the engine's draws, in the same order, so it fires the engine's
//!   events (the bench checks their number, trial by trial);
//! - as a plain binary-heap loop with one stream per trial (`binary_heap_trial`).

use nines::engine::{self, Scheduler};
use nines::laws::Law;
use nines::reliability::{
    Dynamics, InitialState, NodeId, Process, Requirement, Structure, StructureBuilder,
};
use nines::streams::{ComponentRng, TrialStreams, key_of};
use rand::RngExt;
use rand_distr::Exp1;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub const HORIZON: f64 = 8760.0;
const MTTF: f64 = 10_000.0;
const MTTR: f64 = 10.0;
/// The seed of every trial.
const SEED: u64 = 1;

fn component_name(index: usize) -> String {
    index.to_string()
}

/// Every component's process: time to failure and repair.
fn process() -> Process {
    Process {
        up: Law::exponential(MTTF).expect("a positive mean"),
        down: Law::exponential(MTTR).expect("a positive mean"),
    }
}

/// The farm of `n` components as a reliability structure.
pub fn structure(n: usize) -> Structure {
    let process = process();
    let mut builder = StructureBuilder::new();
    for index in 0..n {
        builder.add(
            &component_name(index),
            Some(process.clone()),
            Requirement::All,
            &[],
        );
    }
    builder.build()
}

/// Trial `trial` of the farm on the engine; returns the events fired.
pub fn engine_trial(
    dynamics: &mut Dynamics<'_, ()>,
    scheduler: &mut Scheduler<NodeId>,
    trial: u64,
) -> u64 {
    scheduler.reset(HORIZON);
    dynamics.start(scheduler, InitialState::AllNew, SEED, trial);
    engine::run(dynamics, scheduler)
}

/// The same model as a plain loop over a binary heap of (time, component), one stream
/// per trial.
pub fn binary_heap_trial(
    heap: &mut BinaryHeap<Reverse<(u64, u32)>>,
    up: &mut [bool],
    trial: u64,
) -> u64 {
    let mut rng = ComponentRng::new(SEED, trial, 0);
    heap.clear();
    for (i, state) in up.iter_mut().enumerate() {
        *state = true;
        let t: f64 = rng.sample::<f64, _>(Exp1) * MTTF;
        if t < HORIZON {
            // Non-negative f64s order like their bit patterns.
            heap.push(Reverse((t.to_bits(), i as u32)));
        }
    }
    let mut events = 0;
    while let Some(Reverse((bits, i))) = heap.pop() {
        let now = f64::from_bits(bits);
        events += 1;
        let i = i as usize;
        up[i] = !up[i];
        let mean = if up[i] { MTTF } else { MTTR };
        let next = now + rng.sample::<f64, _>(Exp1) * mean;
        if next < HORIZON {
            heap.push(Reverse((next.to_bits(), i as u32)));
        }
    }
    events
}

const NIL: u32 = u32::MAX;

/// A component: its state, its stream, and its pending event with its link in a
/// bucket's list (one block, so that an event touches one component's 32 bytes).
#[derive(Clone, Copy)]
struct Component {
    time: f64,
    seq: u64,
    rng: ComponentRng,
    next: u32,
    up: bool,
}

/// The farm as a bare calendar loop: one pending event per component, in buckets
/// over the horizon (eight or more per expected event), each a list threaded through
/// the components and marked in a bitmap; the bucket being drained is sorted by (time,
/// scheduling order).
pub struct BareCalendar {
    components: Vec<Component>,
    /// Each component's key, for its stream.
    keys: Vec<u64>,
    heads: Vec<u32>,
    /// One bit per bucket that holds events, and one more word whose first bit,
    /// always set, marks the end.
    occupied: Vec<u64>,
    buckets_per_hour: f64,
    /// The bucket being drained, and its sorted list.
    bucket: usize,
    first: u32,
    last: u32,
    next_seq: u64,
    process: Process,
}

impl BareCalendar {
    pub fn new(n: usize) -> Self {
        // About 1.75 events per component-year; eight or more buckets per event, as in
        // the engine's queue.
        let buckets = (n * 14).next_power_of_two().max(64);
        let mut occupied = vec![0; buckets / 64 + 1];
        occupied[buckets / 64] = 1;
        BareCalendar {
            components: vec![
                Component {
                    time: 0.0,
                    seq: 0,
                    rng: ComponentRng::new(0, 0, 0),
                    next: NIL,
                    up: true,
                };
                n
            ],
            keys: (0..n).map(|index| key_of(&component_name(index))).collect(),
            heads: vec![NIL; buckets],
            occupied,
            buckets_per_hour: buckets as f64 / HORIZON,
            bucket: 0,
            first: NIL,
            last: NIL,
            next_seq: 0,
            process: process(),
        }
    }

    /// Trial `trial`; returns the events fired.
    pub fn trial(&mut self, trial: u64) -> u64 {
        self.bucket = 0;
        self.first = NIL;
        self.next_seq = 0;
        let streams = TrialStreams::new(SEED, trial);
        for index in 0..self.keys.len() {
            let component = &mut self.components[index];
            component.rng = streams.component(self.keys[index]);
            component.up = true;
            let first = self.process.up.sample(&mut component.rng);
            self.schedule(index as u32, first);
        }
        let mut events = 0;
        while let Some((index, now)) = self.pop() {
            events += 1;
            let component = &mut self.components[index as usize];
            component.up = !component.up;
            let next = now + self.process.law(component.up).sample(&mut component.rng);
            self.schedule(index, next);
        }
        events
    }

    /// (time, scheduling order) of `a` is later than `b`'s.
    #[inline]
    fn after(&self, a: u32, b: u32) -> bool {
        let (a, b) = (&self.components[a as usize], &self.components[b as usize]);
        a.time > b.time || (a.time == b.time && a.seq > b.seq)
    }

    #[inline]
    fn schedule(&mut self, index: u32, time: f64) {
        if time >= HORIZON {
            return;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        // A non-negative time before the horizon: truncation gives its bucket (or the
        // count of buckets, where rounding lifts a time just below the horizon).
        let bucket = ((time * self.buckets_per_hour) as u32 as usize).min(self.heads.len() - 1);
        let component = &mut self.components[index as usize];
        component.time = time;
        component.seq = seq;
        if bucket == self.bucket {
            self.insert_in_order(index);
        } else {
            component.next = self.heads[bucket];
            self.heads[bucket] = index;
            self.occupied[bucket / 64] |= 1 << (bucket % 64);
        }
    }

    /// Inserts `index` into the sorted list of the bucket being drained.
    fn insert_in_order(&mut self, index: u32) {
        if self.first == NIL {
            self.first = index;
        } else if self.after(self.first, index) {
            self.components[index as usize].next = self.first;
            self.first = index;
            return;
        } else if self.after(index, self.last) {
            self.components[self.last as usize].next = index;
        } else {
            let mut at = self.first;
            loop {
                let next = self.components[at as usize].next;
                if self.after(next, index) {
                    self.components[index as usize].next = next;
                    self.components[at as usize].next = index;
                    return;
                }
                at = next;
            }
        }
        self.components[index as usize].next = NIL;
        self.last = index;
    }

    /// The next event: its component and time.
    #[inline]
    fn pop(&mut self) -> Option<(u32, f64)> {
        if self.first == NIL && !self.take_next_bucket() {
            return None;
        }
        let component = &self.components[self.first as usize];
        let index = self.first;
        self.first = component.next;
        Some((index, component.time))
    }

    /// Makes the next bucket that holds events the one being drained, its list
    /// sorted; false when none is left.
    #[inline]
    fn take_next_bucket(&mut self) -> bool {
        // The bucket after the current one, or the end mark when it is the last.
        let from = self.bucket + 1;
        let mut word_index = from / 64;
        let mut word = self.occupied[word_index] & (!0u64 << (from % 64));
        while word == 0 {
            word_index += 1;
            word = self.occupied[word_index];
        }
        let bucket = word_index * 64 + word.trailing_zeros() as usize;
        if bucket == self.heads.len() {
            return false;
        }
        self.occupied[word_index] = word & (word - 1);
        self.bucket = bucket;
        let mut at = std::mem::replace(&mut self.heads[bucket], NIL);
        if self.components[at as usize].next == NIL {
            // The commonest case: a bucket of one event.
            self.first = at;
            self.last = at;
            return true;
        }
        while at != NIL {
            let next = self.components[at as usize].next;
            self.insert_in_order(at);
            at = next;
        }
        true
    }
}
