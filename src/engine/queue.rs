//! A calendar queue specialised for a bounded horizon.
//!
//! Every pending event lies in `[now, horizon)` (the scheduler drops events at or past
//! the horizon), so the whole horizon is cut into `buckets.len()` equal buckets and an
//! event goes into the bucket that covers its time. Buckets before the current one are
//! empty; the current bucket is sorted (descending, so the next event is at the back)
//! the first time it is popped from, and later insertions into it keep it sorted.
//! Insertion and removal therefore cost O(1) on average when the population is spread
//! over the horizon, whatever the population's size; the bucket count doubles as the
//! population grows so that buckets stay small.
//!
//! Order: by time, then by sequence number (the order in which events were scheduled).
//! Sequence numbers are unique, so the order is total and deterministic.

/// One pending event.
#[derive(Debug, Clone)]
pub(crate) struct Entry<E> {
    pub time: f64,
    pub seq: u64,
    pub event: E,
}

impl<E> Entry<E> {
    /// `true` when `self` comes strictly after `(time, seq)`.
    #[inline]
    fn after(&self, time: f64, seq: u64) -> bool {
        self.time > time || (self.time == time && self.seq > seq)
    }
}

const MIN_BUCKETS: usize = 16;

/// Sorts a bucket so that the earliest event is last. Buckets hold a handful of events,
/// where insertion sort beats a general sort.
fn sort_descending<E>(bucket: &mut [Entry<E>]) {
    if bucket.len() > 16 {
        bucket.sort_unstable_by(|a, b| b.time.total_cmp(&a.time).then(b.seq.cmp(&a.seq)));
        return;
    }
    for i in 1..bucket.len() {
        let mut j = i;
        while j > 0 && bucket[j].after(bucket[j - 1].time, bucket[j - 1].seq) {
            bucket.swap(j, j - 1);
            j -= 1;
        }
    }
}
const MAX_BUCKETS: usize = 1 << 21;

#[derive(Debug)]
pub(crate) struct CalendarQueue<E> {
    buckets: Vec<Vec<Entry<E>>>,
    /// Buckets per unit of time: `buckets.len() / horizon`.
    buckets_per_time: f64,
    horizon: f64,
    /// Index of the bucket that holds the current time; all earlier buckets are empty.
    current: usize,
    /// Whether `buckets[current]` is sorted in descending (time, seq) order.
    current_sorted: bool,
    len: usize,
    /// Scratch space reused when the bucket count grows.
    spill: Vec<Entry<E>>,
}

impl<E> CalendarQueue<E> {
    pub fn new(horizon: f64) -> Self {
        let mut queue = CalendarQueue {
            buckets: Vec::new(),
            buckets_per_time: 0.0,
            horizon,
            current: 0,
            current_sorted: false,
            len: 0,
            spill: Vec::new(),
        };
        queue.buckets.resize_with(MIN_BUCKETS, Vec::new);
        queue.reset(horizon);
        queue
    }

    /// Empties the queue for a new horizon, keeping its allocations.
    pub fn reset(&mut self, horizon: f64) {
        for bucket in &mut self.buckets[self.current..] {
            bucket.clear();
        }
        self.horizon = horizon;
        self.buckets_per_time = if horizon > 0.0 {
            self.buckets.len() as f64 / horizon
        } else {
            0.0
        };
        self.current = 0;
        self.current_sorted = false;
        self.len = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn bucket_of(&self, time: f64) -> usize {
        // Multiplication by a positive constant and truncation are both monotone, so a
        // later time never maps to an earlier bucket.
        let index = (time * self.buckets_per_time) as usize;
        index.min(self.buckets.len() - 1)
    }

    /// Inserts an event; `time` must lie in `[now, horizon)`.
    #[inline]
    pub fn push(&mut self, time: f64, seq: u64, event: E, now: f64) {
        if self.len >= 4 * self.buckets.len() && self.buckets.len() < MAX_BUCKETS {
            self.grow(now);
        }
        let index = self.bucket_of(time);
        debug_assert!(index >= self.current, "event scheduled in the past");
        let entry = Entry { time, seq, event };
        let bucket = &mut self.buckets[index];
        if index == self.current && self.current_sorted {
            let at = bucket.partition_point(|e| e.after(time, seq));
            bucket.insert(at, entry);
        } else {
            bucket.push(entry);
        }
        self.len += 1;
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<Entry<E>> {
        if self.len == 0 {
            return None;
        }
        loop {
            let bucket = &mut self.buckets[self.current];
            if !bucket.is_empty() {
                if !self.current_sorted {
                    sort_descending(bucket);
                    self.current_sorted = true;
                }
                self.len -= 1;
                return bucket.pop();
            }
            self.current += 1;
            self.current_sorted = false;
        }
    }

    /// Doubles the number of buckets and redistributes the pending events.
    #[cold]
    fn grow(&mut self, now: f64) {
        let mut spill = std::mem::take(&mut self.spill);
        for bucket in &mut self.buckets[self.current..] {
            spill.append(bucket);
        }
        let new_len = self.buckets.len() * 2;
        self.buckets.resize_with(new_len, Vec::new);
        self.buckets_per_time = new_len as f64 / self.horizon;
        self.current = self.bucket_of(now);
        self.current_sorted = false;
        for entry in spill.drain(..) {
            let index = self.bucket_of(entry.time);
            self.buckets[index].push(entry);
        }
        self.spill = spill;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_sequence_order_across_growth() {
        // 1,000 events at pseudo-random times (a fixed LCG), many sharing a time, pushed
        // in sequence order; they must come out sorted by (time, seq) while the queue
        // grows from 16 buckets to 1,024.
        let horizon = 100.0;
        let mut queue = CalendarQueue::new(horizon);
        let mut state: u64 = 7;
        let mut expected = Vec::new();
        for seq in 0..1000u64 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let time = ((state >> 33) % 400) as f64 / 4.0; // 0, 0.25, ..., 99.75
            queue.push(time, seq, seq, 0.0);
            expected.push((time, seq));
        }
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let popped: Vec<(f64, u64)> =
            std::iter::from_fn(|| queue.pop().map(|e| (e.time, e.seq))).collect();
        assert_eq!(popped, expected);
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn insertion_into_the_current_bucket_keeps_order() {
        let mut queue = CalendarQueue::new(16.0);
        queue.push(0.5, 0, 'a', 0.0);
        queue.push(0.9, 1, 'c', 0.0);
        assert_eq!(queue.pop().map(|e| e.event), Some('a'));
        // Now at 0.5, the current bucket [0, 1) is sorted; insert before and after 'c'.
        queue.push(0.6, 2, 'b', 0.5);
        queue.push(0.9, 3, 'd', 0.5);
        let rest: String = std::iter::from_fn(|| queue.pop().map(|e| e.event)).collect();
        assert_eq!(rest, "bcd");
    }
}
