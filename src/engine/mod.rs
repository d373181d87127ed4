//! A small, generic discrete-event core: simulation time, a pending-event queue,
//! scheduling, cancellation and a run loop up to a horizon.
//!
//! The engine knows nothing of what it simulates: a [`Model`] receives its own events,
//! one at a time, in a documented deterministic order, and schedules new ones.
//!
//! **Time** is an `f64` count of model time units (the cloud model uses hours).
//! A run covers `[0, horizon)`: an event scheduled at or after the horizon never fires,
//! and is dropped when it is scheduled, so the queue only ever holds events that will
//! fire or be cancelled.
//!
//! **Order of simultaneous events**: events fire in order of time, then of scheduling
//! (each scheduled event takes the next sequence number), so two events at the same
//! time fire in the order in which they were scheduled. The order is total, and a run is
//! a pure function of the model and its random draws.
//!
//! **Cancellation** marks the event where it waits (one bit); the queue is not searched
//! and the event is discarded when it reaches the front.

mod queue;

use queue::CalendarQueue;
use std::num::NonZeroU32;

/// Simulation time, in the model's unit.
pub type Time = f64;

/// Identifies a scheduled event, for cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKey {
    seq: u64,
    /// The queue's slot for the event, plus one; `u32::MAX` when the event was dropped
    /// at the horizon (no slot is that far out). Non-zero, so that an
    /// `Option<EventKey>` takes no more room than a key.
    slot: NonZeroU32,
}

/// The pending events of one run, and its clock. Events are `Copy` values.
#[derive(Debug, Clone)]
pub struct Scheduler<E> {
    queue: CalendarQueue<E>,
    now: Time,
    horizon: Time,
    next_seq: u64,
    fired: u64,
}

impl<E: Copy> Scheduler<E> {
    /// A scheduler at time 0 that runs up to (and excluding) `horizon`.
    ///
    /// # Panics
    /// If `horizon` is not finite and non-negative: horizons come from validated input.
    pub fn new(horizon: Time) -> Self {
        assert!(
            horizon.is_finite() && horizon >= 0.0,
            "horizon must be finite and non-negative"
        );
        Scheduler {
            queue: CalendarQueue::new(horizon),
            now: 0.0,
            horizon,
            next_seq: 0,
            fired: 0,
        }
    }

    /// Returns to time 0 with no pending events, keeping allocations for the next run.
    pub fn reset(&mut self, horizon: Time) {
        assert!(
            horizon.is_finite() && horizon >= 0.0,
            "horizon must be finite and non-negative"
        );
        self.queue.reset(horizon);
        self.now = 0.0;
        self.horizon = horizon;
        self.next_seq = 0;
        self.fired = 0;
    }

    /// The current simulation time: the time of the event being handled.
    #[inline]
    pub fn now(&self) -> Time {
        self.now
    }

    pub fn horizon(&self) -> Time {
        self.horizon
    }

    /// Events that have fired since the start of the run.
    pub fn events_fired(&self) -> u64 {
        self.fired
    }

    /// Events waiting to fire (cancelled ones not yet discarded included).
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` at absolute time `at`, which must not be earlier than `now`.
    /// An event at or past the horizon is dropped: it would never fire.
    #[inline]
    pub fn schedule_at(&mut self, at: Time, event: E) -> EventKey {
        debug_assert!(at >= self.now, "cannot schedule in the past");
        let seq = self.next_seq;
        self.next_seq += 1;
        let within = at < self.horizon;
        let slot = self.queue.push(at, seq, event, self.now, within);
        let slot = std::hint::select_unpredictable(within, slot.wrapping_add(1), u32::MAX);
        EventKey {
            seq,
            slot: NonZeroU32::new(slot).unwrap_or(NonZeroU32::MAX),
        }
    }

    /// Schedules `event` after `delay` (non-negative) from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: Time, event: E) -> EventKey {
        self.schedule_at(self.now + delay, event)
    }

    /// Cancels a scheduled event. Cancelling an event that was dropped at the horizon,
    /// that already fired or that was cancelled before has no effect.
    pub fn cancel(&mut self, key: EventKey) {
        self.queue.cancel(key.slot.get() - 1, key.seq);
    }

    /// Moves every pending event to the time `retime(event, time)` gives it (clamped
    /// to now; dropped at or past the horizon). Sequence numbers, hence the order of
    /// ties and every [`EventKey`], stay as they were; cancelled events are discarded.
    /// For restarting a run's future from its present state with fresh randomness.
    pub fn retime(&mut self, retime: impl FnMut(E, Time) -> Time) {
        self.queue.retime(self.now, retime);
    }

    /// The next event if it is cheap to see (no search), else `None`: for a model that
    /// waits to see whether the next event is one of its own. When it is `Some`, it is
    /// exactly the first event in line: the one that fires next unless it was
    /// cancelled.
    #[inline]
    pub fn peek_near(&self) -> Option<&E> {
        self.queue.peek_near().map(|entry| &entry.event)
    }

    /// Removes the next event, advances the clock to its time and returns it.
    #[inline]
    pub fn next_event(&mut self) -> Option<(Time, E)> {
        self.next_event_looking_ahead(|_| {})
    }

    /// [`next_event`](Self::next_event), showing `ahead` events that will fire soon
    /// (from time to time, a few at once, the returned one among them): for
    /// [`Model::prepare`].
    #[inline]
    pub fn next_event_looking_ahead(&mut self, ahead: impl FnMut(&E)) -> Option<(Time, E)> {
        let entry = self.queue.pop(ahead)?;
        self.now = entry.time;
        self.fired += 1;
        Some((entry.time, entry.event))
    }
}

/// What the engine drives: something that reacts to its own events. Events are small
/// values (copied in and out of the queue): typically an index.
pub trait Model {
    type Event: Copy;
    /// A hint that `event` will be handled soon: a model may start fetching what it
    /// will need, so that the memory access overlaps the work before.
    #[inline]
    fn prepare(&self, _event: &Self::Event) {}
    /// Handles one event at time `scheduler.now()`, possibly scheduling more.
    fn handle(&mut self, event: Self::Event, scheduler: &mut Scheduler<Self::Event>);
}

/// Asks the processor to fetch `items[index]` into its cache, for a model's
/// [`Model::prepare`]. A hint: it changes nothing, needs no valid index, and does
/// nothing on processors without a prefetch instruction. An item may straddle two
/// cache lines: its first and last bytes are fetched.
#[inline]
pub fn prefetch<T>(items: &[T], index: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // Address arithmetic only: nothing is read through these pointers.
        let first = items.as_ptr().wrapping_add(index);
        let last = first.wrapping_add(1).cast::<i8>().wrapping_sub(1);
        // SAFETY: a prefetch never faults and reads nothing the program sees, whatever
        // the address.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(first.cast());
            _mm_prefetch::<_MM_HINT_T0>(last);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (items, index);
}

/// Fires events in order until none is left before the horizon; returns how many fired.
pub fn run<M: Model>(model: &mut M, scheduler: &mut Scheduler<M::Event>) -> u64 {
    let start = scheduler.events_fired();
    while let Some((_, event)) = scheduler.next_event_looking_ahead(|next| model.prepare(next)) {
        model.handle(event, scheduler);
    }
    scheduler.events_fired() - start
}

/// Like [`run`], but fires at most `budget` events: `Err(budget)` when events were
/// still pending before the horizon after that many (the run is then incomplete).
pub fn run_within<M: Model>(
    model: &mut M,
    scheduler: &mut Scheduler<M::Event>,
    budget: u64,
) -> Result<u64, u64> {
    let start = scheduler.events_fired();
    while let Some((_, event)) = scheduler.next_event_looking_ahead(|next| model.prepare(next)) {
        model.handle(event, scheduler);
        if scheduler.events_fired() - start >= budget && scheduler.pending() > 0 {
            return Err(budget);
        }
    }
    Ok(scheduler.events_fired() - start)
}

/// A fixed sequence of pseudo-random 31-bit numbers from `state` (a linear congruential
/// generator, Knuth's MMIX constants, high bits): for tests that need many varied times
/// without a random stream.
#[cfg(test)]
fn pseudo_random(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retiming_keeps_keys_and_tie_order() {
        let mut s: Scheduler<u32> = Scheduler::new(100.0);
        let a = s.schedule_at(10.0, 1);
        s.schedule_at(20.0, 2);
        s.schedule_at(30.0, 3);
        let d = s.schedule_at(40.0, 4);
        let e = s.schedule_at(50.0, 5);
        s.cancel(d);
        assert_eq!(s.next_event(), Some((10.0, 1)));
        // 2 moves to 25 and 3 to 25 as well: they tie, and 2 was scheduled first. 4 was
        // cancelled and goes; keys from before still cancel: 5's, and a fired one's (a
        // no-op).
        s.retime(|event, _| if event == 4 { 1.0 } else { 25.0 });
        s.cancel(a);
        s.cancel(e);
        assert_eq!(s.next_event(), Some((25.0, 2)));
        assert_eq!(s.next_event(), Some((25.0, 3)));
        assert_eq!(s.next_event(), None);
    }

    /// Records what fires, and at each firing of `Spawn(n)` schedules n children at
    /// the same time.
    struct Recorder {
        log: Vec<(Time, &'static str)>,
    }

    impl Model for Recorder {
        type Event = &'static str;
        fn handle(&mut self, event: &'static str, scheduler: &mut Scheduler<&'static str>) {
            self.log.push((scheduler.now(), event));
            if event == "spawn" {
                scheduler.schedule_in(0.0, "child-1");
                scheduler.schedule_in(0.0, "child-2");
            }
        }
    }

    #[test]
    fn simultaneous_events_fire_in_scheduling_order() {
        let mut scheduler = Scheduler::new(10.0);
        scheduler.schedule_at(2.0, "b");
        scheduler.schedule_at(1.0, "spawn");
        scheduler.schedule_at(2.0, "c");
        scheduler.schedule_at(1.0, "a");
        let mut model = Recorder { log: Vec::new() };
        let fired = run(&mut model, &mut scheduler);
        // At t = 1: "spawn" (seq 1) then "a" (seq 3), then the children it scheduled
        // (seq 4, 5) — same time, later sequence. At t = 2: "b" (seq 0) then "c" (seq 2).
        assert_eq!(
            model.log,
            vec![
                (1.0, "spawn"),
                (1.0, "a"),
                (1.0, "child-1"),
                (1.0, "child-2"),
                (2.0, "b"),
                (2.0, "c")
            ]
        );
        assert_eq!(fired, 6);
    }

    #[test]
    fn cancelled_events_never_fire() {
        let mut scheduler = Scheduler::new(10.0);
        let a = scheduler.schedule_at(1.0, "a");
        scheduler.schedule_at(2.0, "b");
        let c = scheduler.schedule_at(3.0, "c");
        scheduler.cancel(a);
        scheduler.cancel(c);
        scheduler.cancel(c); // twice: no effect
        let mut model = Recorder { log: Vec::new() };
        run(&mut model, &mut scheduler);
        assert_eq!(model.log, vec![(2.0, "b")]);
        assert_eq!(scheduler.pending(), 0);
    }

    #[test]
    fn random_schedules_and_cancellations_match_a_reference() {
        // Events scheduled at pseudo-random times (ties common), some cancelled while
        // pending, some after they fired, some twice, in slots beyond the first words
        // of the cancellation bitset, across growths of the bucket count; what fires
        // must be exactly the pending, uncancelled events in (time, scheduling) order.
        let horizon = 500.0;
        let mut scheduler: Scheduler<u64> = Scheduler::new(horizon);
        let mut reference = std::collections::BTreeMap::new();
        let mut keys = Vec::new();
        let mut next = pseudo_random(5);
        for _round in 0..3 {
            scheduler.reset(horizon);
            reference.clear();
            keys.clear();
            let mut id = 0u64;
            let mut fired = 0;
            loop {
                let pushes = if id < 300 { 300 } else { next() % 3 };
                for _ in 0..pushes {
                    let at = scheduler.now() + (next() % 200) as f64 / 2.0;
                    let key = scheduler.schedule_at(at, id);
                    if at < horizon {
                        reference.insert((at.to_bits(), id), key);
                    }
                    keys.push((key, at.to_bits(), id));
                    id += 1;
                }
                if next().is_multiple_of(4) && !keys.is_empty() {
                    let (key, bits, id) = keys[next() as usize % keys.len()];
                    scheduler.cancel(key);
                    reference.remove(&(bits, id));
                }
                let expected = reference.pop_first();
                let got = scheduler.next_event();
                assert_eq!(got.map(|(t, e)| (t.to_bits(), e)), expected.map(|(k, _)| k));
                if got.is_none() {
                    break;
                }
                fired += 1;
            }
            assert!(fired > 300 && id > 1000, "fired {fired} of {id}");
        }
    }

    #[test]
    fn an_optional_key_is_as_small_as_a_key() {
        assert_eq!(size_of::<Option<EventKey>>(), size_of::<EventKey>());
    }

    #[test]
    fn the_key_of_a_fired_event_cancels_nothing() {
        // "a" fires and its slot is reused by "b"; a's key must not cancel b, nor
        // the key of "c", dropped at the horizon, anything.
        let mut scheduler = Scheduler::new(10.0);
        let a = scheduler.schedule_at(1.0, "a");
        let c = scheduler.schedule_at(10.0, "c");
        assert_eq!(scheduler.next_event(), Some((1.0, "a")));
        scheduler.schedule_at(2.0, "b");
        scheduler.cancel(a);
        scheduler.cancel(c);
        assert_eq!(scheduler.next_event(), Some((2.0, "b")));
        assert_eq!(scheduler.next_event(), None);
    }

    #[test]
    fn events_at_or_past_the_horizon_never_fire() {
        let mut scheduler = Scheduler::new(5.0);
        scheduler.schedule_at(4.999, "last");
        scheduler.schedule_at(5.0, "at-horizon");
        scheduler.schedule_at(7.0, "beyond");
        assert_eq!(scheduler.pending(), 1);
        let mut model = Recorder { log: Vec::new() };
        run(&mut model, &mut scheduler);
        assert_eq!(model.log, vec![(4.999, "last")]);
        // The clock stops at the last event that fired.
        assert_eq!(scheduler.now(), 4.999);
    }

    #[test]
    fn a_budget_stops_a_run_that_would_go_on() {
        // "spawn" at 1 schedules two children: three events in all. A budget of 3 is
        // enough; a budget of 2 leaves a child pending and is reported.
        let mut model = Recorder { log: Vec::new() };
        let mut scheduler = Scheduler::new(10.0);
        scheduler.schedule_at(1.0, "spawn");
        assert_eq!(run_within(&mut model, &mut scheduler, 3), Ok(3));
        let mut scheduler = Scheduler::new(10.0);
        scheduler.schedule_at(1.0, "spawn");
        assert_eq!(run_within(&mut model, &mut scheduler, 2), Err(2));
    }

    #[test]
    fn reset_forgets_pending_events_and_cancellations() {
        let mut scheduler = Scheduler::new(5.0);
        let key = scheduler.schedule_at(1.0, "old");
        scheduler.cancel(key);
        scheduler.reset(8.0);
        scheduler.schedule_at(6.0, "new");
        let mut model = Recorder { log: Vec::new() };
        assert_eq!(run(&mut model, &mut scheduler), 1);
        assert_eq!(model.log, vec![(6.0, "new")]);
    }
}
