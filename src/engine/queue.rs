//! A calendar queue specialised for a bounded horizon.
//!
//! Every pending event lies in `[now, horizon)` (the scheduler drops events at or past
//! the horizon), so the whole horizon is cut into equal buckets and an event goes into
//! the bucket that covers its time. A bucket is a singly linked list threaded through
//! one slab of entries, so inserting an event writes one entry (into a slot freed a
//! moment ago, still in cache) and one bucket head (a small array). When the clock
//! reaches a bucket, its list is relinked in place into order, earliest first (by
//! insertion, or, past a few entries, by one sort: events crowded into one bucket, as a
//! flood's thousands of losses are, cost O(n log n) and not O(n²)), and
//! events are popped from its front; later insertions into that bucket are linked into
//! their place (at once when they come first or last, as ties and late events do;
//! after a scan otherwise, from the front, or from where the previous such insertion
//! went when the new event comes after it, so that a burst of events scheduled at one
//! instant inside the bucket costs one scan). An entry is written once and never
//! moves: sorting relinks, it copies nothing.
//! A bucket crowded by insertions at scattered times inside it (a scan would pass more
//! than a few dozen entries) keeps its entries in a binary heap instead until it is
//! drained, so that no burst costs O(n²).
//! Insertion and removal cost O(1) on average when the population is spread over the
//! horizon, whatever its size; the bucket count doubles as the population grows so that
//! buckets stay small. A bitmap marks the buckets that hold events, so that the next
//! one is found a word (64 buckets) at a time. Up to a few thousand buckets, they are
//! kept at eight or more per event: most hold one event or none, so taking one sorts
//! nothing and a new event seldom lands in the one being drained, and the processor
//! meets few branches that it cannot predict. Past that, buckets fill up to two events
//! on average, so that their heads stay in the cache.
//!
//! An event scheduled past the horizon takes the same path as any other, without a
//! branch on whether it is dropped (as good as random in a Monte Carlo trial): it is
//! written into a free slot, which stays free, and its bucket's head is written back
//! unchanged. The slab keeps its slots from one run to the next: after a reset they
//! are all fresh (free, and taken in order), so that a free slot is almost always at
//! hand without a branch on whether the slab must grow.
//!
//! In a queue too big for the cache, taking a bucket also shows the
//! caller the first entries of the next two buckets, and fetches the entries after
//! them, so that walking those lists, and handling their events, does not wait for
//! memory one entry at a time.
//!
//! Order: by time, then by sequence number (the order in which events were scheduled).
//! Sequence numbers are unique, so the order is total and deterministic.
//!
//! Cancellation marks the event's slot in a bitset; the entry stays linked and is
//! discarded when it reaches the front. An event is named by its slot and sequence
//! number: a slot whose event has left the queue holds the sequence number `FREE` (or
//! a dropped event's, which no name holds), so a name outlives its event harmlessly. Growing the bucket count and retiming relink
//! entries where they are, so slots, and names, never change while events wait.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One pending event, in its slot of the slab, linked to the next entry of its list.
/// The link shares the entry's last word with a small event (24 bytes for a 4-byte
/// event, where a separate slot around the entry would take 32).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<E> {
    pub time: f64,
    pub seq: u64,
    pub event: E,
    next: u32,
}

/// The heap key of an entry of a crowded bucket: its time (non-negative, so its bits
/// order as it does; `+ 0.0` makes a negative zero positive), its sequence number,
/// then its slot.
fn heap_key<E>(entry: &Entry<E>, slot: u32) -> (u64, u64, u32) {
    ((entry.time + 0.0).to_bits(), entry.seq, slot)
}

impl<E: Copy> Entry<E> {
    /// `true` when `self` comes strictly after `other`.
    #[inline]
    fn after(&self, other: &Entry<E>) -> bool {
        self.time > other.time || (self.time == other.time && self.seq > other.seq)
    }
}

const NIL: u32 = u32::MAX;
/// The sequence number of a slot whose event has left the queue (fired or discarded):
/// never a live event's (sequence numbers count events from 0). A free slot that a
/// dropped event was written into holds that event's number instead, which no key
/// names (a dropped event's key names no slot).
const FREE: u64 = u64::MAX;
/// Buckets to begin with: one word of the occupancy bitmap.
const MIN_BUCKETS: usize = 64;
const MAX_BUCKETS: usize = 1 << 22;
/// Entries of a bucket sorted by insertion, one at a time, before the rest is sorted
/// with them at once.
const SORT_ABOVE: usize = 16;
/// Steps an insertion inside the current list may scan; past them, the bucket's
/// entries move to a heap (see `crowded`).
const SCAN_AT_MOST: usize = 32;
/// Slots in the slab from which taking a bucket looks ahead (see `look_ahead`): below,
/// the queue and, most likely, what its events touch are in the cache already.
const LOOK_AHEAD_FROM: usize = 1 << 13;
/// Entries per bucket, on average, before the bucket count doubles (from
/// `SPARSE_BELOW` buckets on).
const LOAD: usize = 2;
/// Below this many buckets, the bucket count doubles as soon as the population passes
/// an eighth of it. Sparse buckets mostly hold one event or none, so taking one sorts
/// nothing, and an event seldom lands in the bucket being drained: fewer branches
/// whose outcome is as good as random. The bitmap of occupied buckets finds the next
/// event at little cost. Past that many buckets, the heads would no longer fit in the
/// fastest cache, and buckets fill up to `LOAD`.
const SPARSE_BELOW: usize = 1 << 13;

#[derive(Debug, Clone)]
pub(crate) struct CalendarQueue<E> {
    /// First slot of each bucket's list, or `NIL`.
    heads: Vec<u32>,
    /// One bit per bucket: set while its list (in `heads`) is not empty.
    occupied: Vec<u64>,
    slots: Vec<Entry<E>>,
    /// First free slot, linked through `next`, or `NIL`.
    free: u32,
    /// The slots from this one to the end of the slab are free too, but off the free
    /// list: never used since the last reset (the slab keeps its slots from one run
    /// to the next). A new slot is taken from here when the free list is empty.
    fresh: u32,
    /// Buckets per unit of time: `heads.len() / horizon`.
    buckets_per_time: f64,
    horizon: f64,
    /// Index of the bucket that holds the current time; earlier buckets are empty, and
    /// this one's entries are in the sorted list `first..=last`.
    bucket: usize,
    /// The current bucket's entries in order, earliest first: first and last slots;
    /// `first` is `NIL` when it is empty, and `last` is then stale.
    first: u32,
    last: u32,
    /// The last slot an insertion placed inside the current list, and its sequence
    /// number (or `NIL`): a run of events scheduled inside it one after another (events
    /// that tie in time, scheduled at one instant) resumes the scan from there. Popping
    /// does not clear it; it is used only while it is still in the list: its slot holds
    /// the same sequence number (numbers are unique within a run) and the first entry
    /// does not come after it (popped entries all do).
    finger: u32,
    finger_seq: u64,
    len: usize,
    /// Room for sorting a crowded bucket's slots.
    scratch: Vec<u32>,
    /// Whether the current bucket is crowded: so many events were scheduled at
    /// scattered times inside it (thousands of losses noticed after random delays) that
    /// linking each into its place would cost a long scan. Its entries then wait in
    /// `heap`, ordered by (time, sequence number), but for the earliest, which
    /// `take_next_bucket` moves into the list (of one entry) to be popped.
    crowded: bool,
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    /// One bit per slot: the event in it was cancelled (and is still linked).
    cancelled: Vec<u64>,
    /// Bits set in `cancelled`: while 0, popping checks nothing more.
    cancelled_count: usize,
    /// The population at which the bucket count doubles (`usize::MAX` at the most). The
    /// population can only reach it when the free list is empty (it is then `fresh`),
    /// and `push` checks it only then.
    grow_at: usize,
    /// Slots from which taking a bucket looks ahead: `LOOK_AHEAD_FROM` (tests lower it).
    look_ahead_from: usize,
    /// Buckets below which they are kept sparse: `SPARSE_BELOW` (tests set it to 0, to
    /// see a few buckets at work).
    sparse_below: usize,
}

impl<E: Copy> CalendarQueue<E> {
    pub fn new(horizon: f64) -> Self {
        Self::with_buckets(horizon, MIN_BUCKETS)
    }

    /// A queue of `buckets` buckets to begin with.
    fn with_buckets(horizon: f64, buckets: usize) -> Self {
        let mut queue = CalendarQueue {
            heads: vec![NIL; buckets],
            occupied: vec![0; buckets.div_ceil(64)],
            slots: Vec::new(),
            free: NIL,
            fresh: 0,
            buckets_per_time: 0.0,
            horizon,
            bucket: 0,
            first: NIL,
            last: NIL,
            finger: NIL,
            finger_seq: 0,
            len: 0,
            scratch: Vec::new(),
            crowded: false,
            heap: BinaryHeap::new(),
            cancelled: Vec::new(),
            cancelled_count: 0,
            grow_at: 0,
            look_ahead_from: LOOK_AHEAD_FROM,
            sparse_below: SPARSE_BELOW,
        };
        queue.reset(horizon);
        queue
    }

    /// Empties the queue for a new horizon, keeping its allocations.
    pub fn reset(&mut self, horizon: f64) {
        // Every list emptied (after a complete run, only the bitmap is read).
        self.unlink_all();
        // The slab keeps its slots, all fresh.
        self.fresh = 0;
        self.free = NIL;
        self.horizon = horizon;
        self.buckets_per_time = if horizon > 0.0 {
            self.heads.len() as f64 / horizon
        } else {
            0.0
        };
        self.bucket = 0;
        if self.cancelled_count != 0 {
            self.cancelled.fill(0);
            self.cancelled_count = 0;
        }
        self.set_grow_at();
    }

    /// Marks bucket `index` as occupied if `occupied` (else leaves its mark as it
    /// is), without a branch.
    #[inline]
    fn occupy(&mut self, index: usize, occupied: bool) {
        let word = &mut self.occupied[index / 64];
        *word |= u64::from(occupied) << (index % 64);
    }

    /// The first occupied bucket after `bucket`, marked as unoccupied (there is one).
    #[inline]
    fn take_occupied_after(&mut self, bucket: usize) -> usize {
        let from = bucket + 1;
        let mut word_index = from / 64;
        let mut word = self.occupied[word_index] & (!0u64 << (from % 64));
        while word == 0 {
            word_index += 1;
            word = self.occupied[word_index];
        }
        self.occupied[word_index] = word & (word - 1);
        word_index * 64 + word.trailing_zeros() as usize
    }

    fn set_grow_at(&mut self) {
        let buckets = self.heads.len();
        self.grow_at = if buckets < self.sparse_below {
            buckets / 8
        } else if buckets < MAX_BUCKETS {
            LOAD * buckets
        } else {
            usize::MAX
        };
    }

    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn bucket_of(&self, time: f64) -> usize {
        // Multiplication by a positive constant and truncation are both monotone, so a
        // later time never maps to an earlier bucket. The product lies in
        // `[0, buckets]` (it can round up to the bucket count just below the horizon),
        // and bucket counts fit in a `u32`, whose conversion is cheaper than `usize`'s.
        let index = (time * self.buckets_per_time) as u32 as usize;
        index.min(self.heads.len() - 1)
    }

    /// The slot at `index`, without a bounds check.
    ///
    /// # Safety
    /// `index` must be a link: a value other than `NIL` read from `heads`, `first`,
    /// `last`, `free` or a slot's `next`. Every link is the index of a slot in `slots`:
    /// links are only ever made to slots in the slab, which never shrinks except in
    /// `reset` and `grow`, and those clear every link with it.
    #[inline]
    unsafe fn cell(&self, index: u32) -> &Entry<E> {
        debug_assert!(
            (index as usize) < self.slots.len(),
            "a link out of the slab"
        );
        // SAFETY: `index` is a link (the caller's promise), hence inside the slab.
        unsafe { self.slots.get_unchecked(index as usize) }
    }

    /// [`cell`](Self::cell), mutable.
    ///
    /// # Safety
    /// As for [`cell`](Self::cell).
    #[inline]
    unsafe fn cell_mut(&mut self, index: u32) -> &mut Entry<E> {
        debug_assert!(
            (index as usize) < self.slots.len(),
            "a link out of the slab"
        );
        // SAFETY: `index` is a link (the caller's promise), hence inside the slab.
        unsafe { self.slots.get_unchecked_mut(index as usize) }
    }

    /// Inserts an event when `within` (its `time` then lies in `[now, horizon)`), and
    /// returns its slot, which names it (with `seq`) for [`cancel`](Self::cancel).
    /// When not `within` (the event lies at or past the horizon), the queue is left
    /// as it was, and the slot returned names nothing.
    ///
    /// Both cases take the same path: whether an event lies within the horizon is as
    /// good as random (a phase that may or may not end within the year), and a branch
    /// on it would be mispredicted half the time. A dropped event is written into a
    /// free or fresh slot, which stays so, and its bucket's head is written back
    /// unchanged.
    #[inline]
    pub fn push(&mut self, time: f64, seq: u64, event: E, now: f64, within: bool) -> u32 {
        use std::hint::select_unpredictable as select;
        debug_assert!(seq != FREE, "sequence numbers run out");
        debug_assert!(!within || time >= now, "event scheduled in the past");
        // A fresh slot is needed only when the free list is empty. Only then can the
        // population reach a new high (every slot before `fresh` holds an entry), and
        // only then is it compared with the population at which the bucket count
        // doubles (before the bucket is chosen: growing changes the buckets).
        if self.free == NIL && self.fresh as usize >= self.grow_at {
            self.grow(now);
        }
        let index = self.bucket_of(time);
        debug_assert!(
            !within || index >= self.bucket,
            "event scheduled in the past"
        );
        // SAFETY: `bucket_of` is at most `heads.len() - 1`, and `heads` is never empty
        // (it holds at least `MIN_BUCKETS`).
        let head = unsafe { *self.heads.get_unchecked(index) };
        let mut entry = Entry {
            time,
            seq,
            event,
            next: NIL,
        };
        // The slot: the first free one, else the first fresh one. The entry is written
        // once, linked to its bucket's list (or, dropped, to the rest of the free list,
        // or to nothing in a fresh slot, which stays fresh).
        let from_free_list = self.free != NIL;
        let (slot, rest_free) = if from_free_list {
            let slot = self.free;
            // SAFETY: `free` is not `NIL`: a link.
            let cell = unsafe { self.cell_mut(slot) };
            let rest_free = cell.next;
            entry.next = select(within, head, rest_free);
            *cell = entry;
            (slot, rest_free)
        } else {
            let slot = self.fresh;
            entry.next = select(within, head, NIL);
            if slot as usize == self.slots.len() {
                self.slots.push(entry);
            } else {
                self.slots[slot as usize] = entry;
            }
            (slot, NIL)
        };
        // The slot is taken unless the event is dropped.
        if from_free_list {
            self.free = select(within, rest_free, slot);
        } else {
            self.fresh += u32::from(within);
        }
        self.len += usize::from(within);
        // A dropped event's bucket is none (`usize::MAX`): never the current one.
        if select(within, index, usize::MAX) == self.bucket {
            // SAFETY: `slot` holds the entry just written.
            unsafe {
                if self.crowded || !self.insert_at_an_end(slot) {
                    self.insert_inside(slot);
                }
            }
            return slot;
        }
        // SAFETY: as for `head`.
        unsafe { *self.heads.get_unchecked_mut(index) = select(within, slot, head) };
        self.occupy(index, within);
        slot
    }

    /// Cancels the event pushed into `slot` with sequence number `seq`, if it is still
    /// waiting (otherwise the slot holds `FREE` or a later event's number).
    pub fn cancel(&mut self, slot: u32, seq: u64) {
        if self
            .slots
            .get(slot as usize)
            .is_none_or(|cell| cell.seq != seq)
        {
            return;
        }
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        if word >= self.cancelled.len() {
            self.cancelled.resize(word + 1, 0);
        }
        if self.cancelled[word] & bit == 0 {
            self.cancelled[word] |= bit;
            self.cancelled_count += 1;
        }
    }

    /// Whether the event in `slot` was cancelled; clears the mark.
    #[inline]
    fn take_cancelled(&mut self, slot: u32) -> bool {
        let (word, bit) = (slot as usize / 64, 1u64 << (slot % 64));
        match self.cancelled.get_mut(word) {
            Some(bits) if *bits & bit != 0 => {
                *bits &= !bit;
                self.cancelled_count -= 1;
                true
            }
            _ => false,
        }
    }

    /// Puts `slot`, unlinked from every list, on the free list.
    fn release(&mut self, slot: u32) {
        let free = self.free;
        let cell = &mut self.slots[slot as usize];
        cell.seq = FREE;
        cell.next = free;
        self.free = slot;
    }

    /// Links `slot` into its place in the current bucket's sorted list, scanning from
    /// its first entry when it belongs inside: for sorting a bucket's few entries.
    ///
    /// # Safety
    /// `slot` must be a slot in the slab (just stored, or just unlinked from a bucket).
    #[inline]
    unsafe fn insert_current(&mut self, slot: u32) {
        // SAFETY: the caller's promise.
        if unsafe { self.insert_at_an_end(slot) } {
            return;
        }
        // Somewhere after `first` and before `last`: the scan stops by `last`
        // (bounds-checked, as it is rare and relies on the list's order).
        let slots = &mut self.slots[..];
        let entry = slots[slot as usize];
        let mut at = self.first;
        loop {
            let next = slots[at as usize].next;
            if slots[next as usize].after(&entry) {
                slots[slot as usize].next = next;
                slots[at as usize].next = slot;
                return;
            }
            at = next;
        }
    }

    /// Links `slot` into the current list if it belongs at either end of it (or the
    /// list is empty), and says whether it did.
    ///
    /// # Safety
    /// As for [`insert_current`](Self::insert_current).
    #[inline]
    unsafe fn insert_at_an_end(&mut self, slot: u32) -> bool {
        let (first, last) = (self.first, self.last);
        // SAFETY: `slot` is a link, and so are `first` and `last` when `first` is not
        // `NIL` (a stale `last` is never read).
        unsafe {
            let entry = *self.cell(slot);
            if first == NIL {
                self.cell_mut(slot).next = NIL;
                self.first = slot;
                self.last = slot;
            } else if entry.after(self.cell(last)) {
                // The commonest case, and every tie with the latest: append.
                self.cell_mut(slot).next = NIL;
                self.cell_mut(last).next = slot;
                self.last = slot;
            } else if self.cell(first).after(&entry) {
                self.cell_mut(slot).next = first;
                self.first = slot;
            } else {
                return false;
            }
        }
        true
    }

    /// Links a newly scheduled `slot` into the current list, inside it (after its first
    /// entry and before its last), scanning from the finger when the entry comes after
    /// it, else from the first entry; or, when that scan would be long or the bucket is
    /// crowded already, puts it in the heap. Out of line: rare outside bursts.
    #[inline(never)]
    fn insert_inside(&mut self, slot: u32) {
        if !self.crowded {
            let first = self.first;
            let slots = &mut self.slots[..];
            let entry = slots[slot as usize];
            let finger = self.finger;
            let resume = finger != NIL && {
                let at = &slots[finger as usize];
                at.seq == self.finger_seq && !slots[first as usize].after(at) && entry.after(at)
            };
            let mut at = if resume { finger } else { first };
            for _ in 0..SCAN_AT_MOST {
                let next = slots[at as usize].next;
                if slots[next as usize].after(&entry) {
                    slots[slot as usize].next = next;
                    slots[at as usize].next = slot;
                    self.finger = slot;
                    self.finger_seq = entry.seq;
                    return;
                }
                at = next;
            }
            self.crowded = true;
            self.finger = NIL;
        }
        // Crowded: the list's entries (all of them when it becomes so, else the one
        // taken from the heap to be popped) join the heap, and so does this one.
        let mut at = std::mem::replace(&mut self.first, NIL);
        while at != NIL {
            let next = self.slots[at as usize].next;
            self.heap
                .push(Reverse(heap_key(&self.slots[at as usize], at)));
            at = next;
        }
        self.heap
            .push(Reverse(heap_key(&self.slots[slot as usize], slot)));
    }

    /// The earliest event, if it is already at hand (in the bucket being drained).
    #[inline]
    pub fn peek_near(&self) -> Option<&Entry<E>> {
        match self.slots.get(self.first as usize) {
            Some(entry) => Some(entry),
            None if self.crowded => self.peek_heap(),
            None => None,
        }
    }

    /// The earliest entry of a crowded bucket's heap.
    #[inline(never)]
    fn peek_heap(&self) -> Option<&Entry<E>> {
        let &Reverse((_, _, slot)) = self.heap.peek()?;
        self.slots.get(slot as usize)
    }

    /// Removes and returns the earliest event that was not cancelled (discarding the
    /// cancelled ones before it). When that takes the next bucket in a queue of many
    /// slots (`LOOK_AHEAD_FROM`), `ahead` sees the first few events of the two buckets
    /// after it (see `look_ahead`), then each of its own (the first few of a crowded
    /// one), the one returned included: events that will soon fire.
    #[inline]
    pub fn pop(&mut self, mut ahead: impl FnMut(&E)) -> Option<Entry<E>> {
        loop {
            if self.first == NIL {
                if self.len == 0 {
                    return None;
                }
                self.take_next_bucket(&mut ahead);
            }
            let slot = self.first;
            let free = self.free;
            // SAFETY: `first` is not `NIL` (the current bucket is not empty): a link.
            let cell = unsafe { self.cell_mut(slot) };
            let next = cell.next;
            // The slot joins the free list; its entry is copied out (a freed slot is
            // never read again until reused, but for its `FREE` sequence number).
            cell.next = free;
            let entry = *cell;
            cell.seq = FREE;
            self.first = next;
            self.free = slot;
            self.len -= 1;
            if self.cancelled_count == 0 || !self.take_cancelled(slot) {
                return Some(entry);
            }
        }
    }

    /// Moves every waiting event to the time `retime(event, time)` gives it, clamped
    /// to `now`, in its own slot; an event moved to or past the horizon leaves, and so
    /// does every cancelled one.
    pub fn retime(&mut self, now: f64, mut retime: impl FnMut(E, f64) -> f64) {
        let waiting = self.unlink_all();
        self.bucket = self.bucket_of(now);
        for slot in waiting {
            if self.cancelled_count != 0 && self.take_cancelled(slot) {
                self.release(slot);
                continue;
            }
            let entry = &mut self.slots[slot as usize];
            let at = retime(entry.event, entry.time).max(now);
            if at < self.horizon {
                entry.time = at;
                self.link(slot);
                self.len += 1;
            } else {
                self.release(slot);
            }
        }
    }

    /// Empties every list and returns the slots that were in them (events waiting,
    /// cancelled or not), which stay out of the free list; `len` drops to 0.
    fn unlink_all(&mut self) -> Vec<u32> {
        let mut waiting = Vec::with_capacity(self.len);
        let mut slot = std::mem::replace(&mut self.first, NIL);
        while slot != NIL {
            waiting.push(slot);
            slot = self.slots[slot as usize].next;
        }
        waiting.extend(self.heap.drain().map(|Reverse((_, _, slot))| slot));
        self.crowded = false;
        for (word_index, word) in self.occupied.iter_mut().enumerate() {
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let index = word_index * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let mut slot = std::mem::replace(&mut self.heads[index], NIL);
                while slot != NIL {
                    waiting.push(slot);
                    slot = self.slots[slot as usize].next;
                }
            }
        }
        self.last = NIL;
        self.finger = NIL;
        self.len = 0;
        waiting
    }

    /// Links `slot`, out of every list, into its bucket (sorted into place in the
    /// current one).
    fn link(&mut self, slot: u32) {
        let index = self.bucket_of(self.slots[slot as usize].time);
        debug_assert!(index >= self.bucket, "event in the past");
        if index == self.bucket {
            // SAFETY: `slot` is in the slab.
            if self.crowded || !unsafe { self.insert_at_an_end(slot) } {
                self.insert_inside(slot);
            }
        } else {
            self.slots[slot as usize].next = self.heads[index];
            self.heads[index] = slot;
            self.occupy(index, true);
        }
    }

    /// Moves on to the next bucket that holds events (there is one) and sorts its list;
    /// or, while the current bucket is crowded, takes the earliest of its entries.
    #[inline]
    fn take_next_bucket(&mut self, ahead: &mut impl FnMut(&E)) {
        if self.crowded && self.take_from_heap() {
            return;
        }
        self.bucket = self.take_occupied_after(self.bucket);
        let slot = std::mem::replace(&mut self.heads[self.bucket], NIL);
        // SAFETY: an occupied bucket's head is a link.
        if unsafe { self.cell(slot) }.next == NIL && self.slots.len() < self.look_ahead_from {
            // The commonest case in a queue that does not look ahead: a bucket of
            // one event.
            self.first = slot;
            self.last = slot;
            return;
        }
        if self.slots.len() >= self.look_ahead_from {
            self.look_ahead(ahead);
            self.sort_taken(slot, ahead);
        } else {
            self.sort_taken(slot, &mut |_| {});
        }
    }

    /// Makes the list from `slot` on, just taken from its bucket, the current list, in
    /// order; `ahead` sees each entry as it goes.
    #[inline]
    fn sort_taken(&mut self, mut slot: u32, ahead: &mut impl FnMut(&E)) {
        // The list holds the latest scheduled first, so entries that tie in time
        // arrive in reverse order and each goes first at once. Others may need a
        // scan: a crowded bucket (a burst of events close in time) is sorted instead.
        let mut sorted = 0;
        while slot != NIL {
            if sorted == SORT_ABOVE {
                self.sort_current(slot);
                return;
            }
            // SAFETY: `slot` is not `NIL`: a link.
            let cell = unsafe { self.cell(slot) };
            ahead(&cell.event);
            let next = cell.next;
            // SAFETY: as above; the slot leaves the bucket's list for the current one.
            unsafe { self.insert_current(slot) };
            slot = next;
            sorted += 1;
        }
    }

    /// Shows `ahead` the first two entries of the next bucket's list, and the first of
    /// the one after, and fetches the entries that follow them into the cache: when
    /// those buckets are taken, their lists are walked without waiting for memory.
    #[inline]
    fn look_ahead(&self, ahead: &mut impl FnMut(&E)) {
        let slots = &self.slots;
        if let Some(&later) = self.heads.get(self.bucket + 2)
            && let Some(entry) = slots.get(later as usize)
        {
            ahead(&entry.event);
            super::prefetch(slots, entry.next as usize);
        }
        if let Some(&next) = self.heads.get(self.bucket + 1)
            && let Some(entry) = slots.get(next as usize)
        {
            ahead(&entry.event);
            if let Some(second) = slots.get(entry.next as usize) {
                ahead(&second.event);
                super::prefetch(slots, second.next as usize);
            }
        }
    }

    /// Makes the heap's earliest entry the current list, if there is one; else the
    /// bucket is no longer crowded.
    #[inline(never)]
    fn take_from_heap(&mut self) -> bool {
        match self.heap.pop() {
            Some(Reverse((_, _, slot))) => {
                self.slots[slot as usize].next = NIL;
                self.first = slot;
                self.last = slot;
                true
            }
            None => {
                self.crowded = false;
                false
            }
        }
    }

    /// Sorts the current list together with the rest of a bucket's list, from
    /// `rest`, in O(n log n) at most. The order is the one insertion gives: keys are
    /// unique. The current list is in order, and the rest, reversed, is in the order its
    /// events were scheduled, which is often their order in time too (a burst of
    /// events at one instant, or at steadily later times): a sort that merges the
    /// runs it finds then costs O(n).
    #[cold]
    #[inline(never)]
    fn sort_current(&mut self, rest: u32) {
        let mut all = std::mem::take(&mut self.scratch);
        all.clear();
        let mut slot = rest;
        while slot != NIL {
            all.push(slot);
            slot = self.slots[slot as usize].next;
        }
        // The rest in scheduling order, then the current list.
        all.reverse();
        let mut slot = self.first;
        while slot != NIL {
            all.push(slot);
            slot = self.slots[slot as usize].next;
        }
        let slots = &self.slots;
        all.sort_by(|&a, &b| {
            let (a, b) = (&slots[a as usize], &slots[b as usize]);
            if a.after(b) {
                std::cmp::Ordering::Greater
            } else if b.after(a) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Equal
            }
        });
        for pair in all.windows(2) {
            self.slots[pair[0] as usize].next = pair[1];
        }
        if let (Some(&first), Some(&last)) = (all.first(), all.last()) {
            self.slots[last as usize].next = NIL;
            self.first = first;
            self.last = last;
        }
        self.scratch = all;
    }

    /// Doubles the number of buckets and relinks the waiting events, each in its slot.
    #[cold]
    fn grow(&mut self, now: f64) {
        let waiting = self.unlink_all();
        let new_len = self.heads.len() * 2;
        self.heads.clear();
        self.heads.resize(new_len, NIL);
        self.occupied.clear();
        self.occupied.resize(new_len.div_ceil(64), 0);
        self.buckets_per_time = new_len as f64 / self.horizon;
        self.set_grow_at();
        self.bucket = self.bucket_of(now);
        self.len = waiting.len();
        for slot in waiting {
            self.link(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pseudo_random;
    use std::collections::BTreeSet;

    /// A queue of 16 buckets to begin with, each filled up to `LOAD` before their
    /// count doubles.
    fn dense_queue<E: Copy>(horizon: f64) -> CalendarQueue<E> {
        let mut queue = CalendarQueue::with_buckets(horizon, 16);
        queue.sparse_below = 0;
        queue.reset(horizon);
        queue
    }

    /// Pops every event left and checks that they come exactly as `reference` (time
    /// bits, sequence number) orders them, and nothing after.
    fn drain_in_order(queue: &mut CalendarQueue<u64>, reference: BTreeSet<(u64, u64)>) {
        for expected in reference {
            let popped = queue.pop(|_| {}).map(|e| (e.time.to_bits(), e.seq));
            assert_eq!(popped, Some(expected));
        }
        assert!(queue.pop(|_| {}).is_none());
    }

    #[test]
    fn pops_in_time_then_sequence_order_across_growth() {
        // 1,000 events at pseudo-random times (a fixed LCG), many sharing a time, pushed
        // in sequence order; they must come out sorted by (time, seq) while the queue
        // grows from 16 buckets to 256.
        let horizon = 100.0;
        let mut queue = dense_queue(horizon);
        let mut next = pseudo_random(7);
        let mut expected = Vec::new();
        for seq in 0..1000u64 {
            let time = (next() % 400) as f64 / 4.0; // 0, 0.25, ..., 99.75
            queue.push(time, seq, seq, 0.0, true);
            expected.push((time, seq));
        }
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let popped: Vec<(f64, u64)> =
            std::iter::from_fn(|| queue.pop(|_| {}).map(|e| (e.time, e.seq))).collect();
        assert_eq!(popped, expected);
        assert_eq!(queue.len(), 0);
    }

    #[test]
    fn interleaved_pushes_and_pops_keep_order() {
        // Pop half, push more at and after the current time (some into the bucket being
        // drained, some triggering growth), and check the merged order.
        let mut queue = dense_queue(50.0);
        let mut seq = 0;
        let mut reference: Vec<(f64, u64)> = Vec::new();
        let mut push = |q: &mut CalendarQueue<u64>, r: &mut Vec<(f64, u64)>, t: f64, now| {
            q.push(t, seq, seq, now, true);
            r.push((t, seq));
            seq += 1;
        };
        for i in 0..200 {
            push(&mut queue, &mut reference, f64::from(i % 50), 0.0);
        }
        let mut out = Vec::new();
        for round in 0..400 {
            let e = queue.pop(|_| {}).unwrap();
            let now = e.time;
            out.push((e.time, e.seq));
            if round % 2 == 0 {
                let later = (now + f64::from(round % 7)).min(49.9);
                push(&mut queue, &mut reference, later, now);
                push(&mut queue, &mut reference, now, now);
            }
        }
        while let Some(e) = queue.pop(|_| {}) {
            out.push((e.time, e.seq));
        }
        // Each popped event is the least pending one: the sequence is sorted.
        assert!(out.windows(2).all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)));
        assert_eq!(out.len(), reference.len());
    }

    #[test]
    fn scattered_insertions_into_the_current_bucket_keep_order() {
        // After the first pop, 5,000 events at scattered times inside the current bucket
        // ([0, 100) of a 1,600 horizon cut in 16), some tying, with pops in between:
        // the bucket becomes crowded (its entries go to a heap). They must pop by time,
        // then by scheduling order, and what is at hand must be the next event.
        let mut queue = dense_queue(1600.0);
        let mut reference = BTreeSet::new();
        queue.push(1.0, 0, 0, 0.0, true);
        reference.insert((1.0f64.to_bits(), 0));
        let mut now = 0.0;
        for seq in 1..5_000u64 {
            let time = now + ((seq * 7919) % 997) as f64 / 997.0 * (99.0 - now) / 2.0;
            queue.push(time, seq, seq, now, true);
            reference.insert((time.to_bits(), seq));
            if seq % 3 == 0 {
                let expected = reference.pop_first();
                let popped = queue.pop(|_| {}).map(|e| (e.time.to_bits(), e.seq));
                assert_eq!(popped, expected);
                now = f64::from_bits(expected.unwrap().0);
                if let Some(near) = queue.peek_near() {
                    assert_eq!(
                        Some((near.time.to_bits(), near.seq)),
                        reference.first().copied()
                    );
                }
            }
        }
        assert!(queue.crowded, "the bucket never became crowded");
        drain_in_order(&mut queue, reference);
    }

    #[test]
    fn a_burst_into_a_later_bucket_is_sorted_at_once() {
        // 5,000 events into one later bucket ([500, 600) of a 1,600 horizon cut in 16),
        // at 50 distinct times in scrambled order, so that many tie: far more than are
        // sorted by insertion. They must pop by time, then by scheduling order.
        let mut queue = dense_queue(1600.0);
        let mut reference = Vec::new();
        for seq in 0..5_000u64 {
            let time = 500.0 + ((seq * 37) % 50) as f64 * 1.9;
            queue.push(time, seq, seq, 0.0, true);
            reference.push((time, seq));
        }
        let out: Vec<_> =
            std::iter::from_fn(|| queue.pop(|_| {}).map(|e| (e.time, e.seq))).collect();
        reference.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(out, reference);
    }

    #[test]
    fn a_crowded_current_bucket_keeps_order() {
        // 20 events in the first of 16 buckets ([0, 100) of a 1,600 horizon), some
        // sharing a time; after the first pop, 12 more into that bucket, most of them
        // far from its earliest end (placed by binary search).
        let mut queue = dense_queue(1600.0);
        let mut reference = Vec::new();
        let mut seq = 0;
        for i in 0..20u32 {
            let time = f64::from((i * 7) % 10) * 9.0 + 1.0;
            queue.push(time, seq, seq, 0.0, true);
            reference.push((time, seq));
            seq += 1;
        }
        let first = queue.pop(|_| {}).unwrap();
        let mut out = vec![(first.time, first.seq)];
        for i in 0..12u32 {
            let time = first.time + f64::from((i * 5) % 12) * 8.0;
            queue.push(time, seq, seq, first.time, true);
            reference.push((time, seq));
            seq += 1;
        }
        out.extend(std::iter::from_fn(|| {
            queue.pop(|_| {}).map(|e| (e.time, e.seq))
        }));
        reference.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(out, reference);
    }

    #[test]
    fn random_interleaving_matches_a_sorted_reference() {
        // Pushes at pseudo-random times (a coarse grid, so that ties are common, and
        // half of them close to now, so that many land in the bucket being drained)
        // interleaved with pops, through growth, in a queue of dense buckets and in
        // one of sparse buckets (the default), whose population passes an eighth of
        // `SPARSE_BELOW` so that they grow to that many. Events past the horizon are
        // pushed as dropped and must leave no trace. Every pop must be the least
        // pending (time, seq) of a sorted reference.
        let horizon = 1000.0;
        for mut queue in [dense_queue(horizon), CalendarQueue::new(horizon)] {
            let mut reference = BTreeSet::new();
            let mut next = pseudo_random(11);
            let mut now = 0.0;
            let mut seq = 0u64;
            let mut dropped = 0;
            for round in 0..20_000u64 {
                let pushes = if round < 5_000 { 2 } else { next() % 3 };
                for _ in 0..pushes {
                    let r = next();
                    let ahead = if r.is_multiple_of(2) {
                        (r % 16) as f64 / 8.0
                    } else {
                        (r % 4000) as f64 / 4.0
                    };
                    let time = now + ahead;
                    let within = time < horizon;
                    queue.push(time, seq, seq, now, within);
                    if within {
                        reference.insert((time.to_bits(), seq));
                    } else {
                        dropped += 1;
                    }
                    seq += 1;
                }
                if next().is_multiple_of(2) {
                    let expected = reference.pop_first();
                    let popped = queue.pop(|_| {}).map(|e| (e.time.to_bits(), e.seq));
                    assert_eq!(popped, expected);
                    if let Some((bits, _)) = expected {
                        now = f64::from_bits(bits);
                    }
                    // What is at hand, if anything, is exactly the next event.
                    if let Some(near) = queue.peek_near() {
                        let next = reference.first().copied();
                        assert_eq!(Some((near.time.to_bits(), near.seq)), next);
                    }
                    assert!(queue.peek_near().is_some() || queue.first == NIL);
                }
                assert_eq!(queue.len(), reference.len());
            }
            assert!(dropped > 50, "{dropped} dropped");
            if queue.sparse_below == SPARSE_BELOW {
                assert_eq!(queue.heads.len(), SPARSE_BELOW);
            }
            drain_in_order(&mut queue, reference);
        }
    }

    #[test]
    fn a_dropped_event_takes_no_slot_and_changes_nothing() {
        // Into an empty slab, a dropped event is written into a new slot, which stays
        // fresh: the next event takes it. A dropped event scheduled when a slot is
        // free leaves it free. Nothing dropped is ever popped.
        let mut queue = CalendarQueue::new(10.0);
        queue.push(12.0, 0, 'x', 0.0, false);
        assert_eq!((queue.len(), queue.slots.len()), (0, 1));
        assert_eq!(queue.push(3.0, 1, 'a', 0.0, true), 0);
        assert_eq!(queue.pop(|_| {}).map(|e| e.event), Some('a'));
        queue.push(10.0, 2, 'y', 3.0, false);
        assert_eq!(queue.push(5.0, 3, 'b', 3.0, true), 0);
        assert_eq!((queue.len(), queue.slots.len()), (1, 1));
        assert_eq!(queue.pop(|_| {}).map(|e| e.event), Some('b'));
        assert!(queue.pop(|_| {}).is_none());
    }

    #[test]
    fn reset_keeps_the_slab_with_every_slot_free() {
        // 100 events, 10 popped, then a reset: the next 100 take the same 100 slots,
        // one dropped event among them taking none.
        let mut queue = CalendarQueue::new(100.0);
        for seq in 0..100u64 {
            queue.push((seq * 37 % 100) as f64, seq, seq, 0.0, true);
        }
        for _ in 0..10 {
            queue.pop(|_| {});
        }
        queue.reset(50.0);
        let mut reference = BTreeSet::new();
        for seq in 0..100u64 {
            let time = (seq * 13 % 50) as f64;
            queue.push(time, seq, seq, 0.0, true);
            reference.insert((time.to_bits(), seq));
            if seq == 40 {
                queue.push(60.0, 1000, 1000, 0.0, false);
            }
        }
        assert_eq!(queue.slots.len(), 100);
        drain_in_order(&mut queue, reference);
    }

    #[test]
    fn bursts_of_ties_inside_the_current_bucket_keep_order() {
        // The current bucket [0, 1) of 16 holds a late event at 0.9; bursts of events
        // tied at 0.5 go inside it, each after the last (resumed from the finger).
        // Pops take the earliest, the finger's slot among them, and later bursts and
        // single events before and among the ties must still land in order.
        let mut queue = dense_queue(16.0);
        let mut reference = Vec::new();
        let mut seq = 0u64;
        let mut push = |q: &mut CalendarQueue<u64>, r: &mut Vec<(f64, u64)>, t: f64, now| {
            q.push(t, seq, seq, now, true);
            r.push((t, seq));
            seq += 1;
        };
        push(&mut queue, &mut reference, 0.1, 0.0);
        push(&mut queue, &mut reference, 0.9, 0.0);
        let mut out = Vec::new();
        let pop = |q: &mut CalendarQueue<u64>, out: &mut Vec<(f64, u64)>| {
            let e = q.pop(|_| {}).unwrap();
            out.push((e.time, e.seq));
            e.time
        };
        let now = pop(&mut queue, &mut out); // 0.1: the list is [0.9]
        for _ in 0..50 {
            push(&mut queue, &mut reference, 0.5, now);
        }
        push(&mut queue, &mut reference, 0.3, now); // before the ties
        let now = pop(&mut queue, &mut out); // 0.3
        for round in 0..60 {
            // Every 0.5 so far, the finger's slot too (and in some rounds that slot is
            // free, not reused, when the next event goes inside).
            let mut now = pop(&mut queue, &mut out);
            if round % 3 == 0 {
                now = pop(&mut queue, &mut out);
                push(&mut queue, &mut reference, 0.7, now);
            }
            push(&mut queue, &mut reference, 0.5, now);
            push(&mut queue, &mut reference, 0.7, now);
        }
        push(&mut queue, &mut reference, 0.6, now);
        while queue.len() > 0 {
            pop(&mut queue, &mut out);
        }
        reference.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(out, reference);
    }

    #[test]
    fn insertion_into_the_current_bucket_keeps_order() {
        let mut queue = dense_queue(16.0);
        queue.push(0.5, 0, 'a', 0.0, true);
        queue.push(0.9, 1, 'c', 0.0, true);
        assert_eq!(queue.pop(|_| {}).map(|e| e.event), Some('a'));
        // Now at 0.5, the current bucket [0, 1) is sorted; insert before and after 'c'.
        queue.push(0.6, 2, 'b', 0.5, true);
        queue.push(0.9, 3, 'd', 0.5, true);
        let rest: String = std::iter::from_fn(|| queue.pop(|_| {}).map(|e| e.event)).collect();
        assert_eq!(rest, "bcd");
    }

    #[test]
    fn taking_a_bucket_shows_its_events_and_the_first_of_the_next_two() {
        // A 1,600 horizon cut in 16: 'a' and 'b' in [100, 200), 'c' and 'd' in
        // [200, 300), 'e' in [400, 500); each bucket's list holds its latest scheduled
        // first.
        let run = |look_ahead_from| {
            let mut queue = dense_queue(1600.0);
            queue.look_ahead_from = look_ahead_from;
            for (seq, (time, event)) in [
                (150.0, 'a'),
                (120.0, 'b'),
                (250.0, 'c'),
                (260.0, 'd'),
                (420.0, 'e'),
            ]
            .into_iter()
            .enumerate()
            {
                queue.push(time, seq as u64, event, 0.0, true);
            }
            let mut seen = String::new();
            let mut order = String::new();
            while let Some(entry) = queue.pop(|&event| seen.push(event)) {
                order.push(entry.event);
                seen.push('|');
            }
            (order, seen)
        };
        // Taking [100, 200) shows the first two of the next bucket ('d', 'c': the
        // latest scheduled first; the one after is empty), then its own events ('b',
        // 'a'); popping 'a' from the list shows nothing; taking [200, 300) shows the
        // first of [400, 500) ('e'), then its own; taking [400, 500) shows its own.
        assert_eq!(run(0), ("bacde".into(), "dcba||edc||e|".into()));
        // A queue of fewer slots (five) than `look_ahead_from` shows nothing.
        assert_eq!(run(6), ("bacde".into(), "|||||".into()));
    }
}
