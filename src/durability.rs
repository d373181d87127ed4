//! Stored data in one trial: which pieces (replicas or erasure-coded fragments) of
//! each object group exist, where, which are reachable, and how lost ones are
//! re-created.
//!
//! Two kinds of failure reach stored data. A *transient* one (a power or network
//! outage, a host or rack down) makes the pieces on the affected places unreachable
//! until it ends: it counts against availability. A *permanent* one — a disk failure,
//! or a domain outage whose effect is to destroy (a flood) — loses the pieces there:
//! the system notices after a detection delay and copies a new piece onto a place
//! chosen by the placement rule; an object group whose pieces fall below what it needs
//! before the copies complete is lost for good. That is durability.
//!
//! The reliability structure tells this module about places (anchors) through the
//! trial's observer, as [`Note`]s; this module decides whether each object group can
//! be read and sets the group's node in the structure accordingly (a node with no
//! process of its own), so that services and SLAs see storage like anything else.
//!
//! A place is reachable while its site is up (its facility, domains and providers) and
//! each component between the place and its site (its disk, host and rack) is up on
//! its own. This module hears of each site once, when it goes down or comes back, and
//! of those components' own failures and repairs; it keeps, per object group and data
//! centre, the pieces present whose components are all up. A site's outage then costs
//! one pass over the groups' counts for that data centre, whatever the number of
//! places or pieces in it.
//!
//! Re-creating a piece: its *home* is the data centre it was in; the copy goes there
//! unless that site is gone (destroyed and not yet rebuilt), in which case it goes to
//! the live data centre of the service holding the fewest pieces of the group (a
//! *degraded* placement, which stays where it is). Within a site, a reachable place
//! holding no piece of the group is drawn at random, on a rack holding none where
//! possible. When no place qualifies, the piece waits and tries again an hour later.

use crate::engine::{EventKey, Scheduler, Time};
use crate::reliability::{Dynamics, NodeId, Observer};
use crate::streams::{ComponentRng, combine};
use crate::world::{CopyTime, Effect, ServiceKind, Store, World};
use rand::{RngExt, TryRng};
use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;

/// Hours a piece with nowhere to go waits before it tries again.
pub const RETRY_HOURS: f64 = 1.0;

/// A copy this close to done (in hours at its current share of the link) is done.
const COPY_SLACK_HOURS: f64 = 1e-3 / 3600.0;

const NONE: u32 = u32::MAX;

/// Something that happened to a place for data or a destroying domain, noted by the
/// trial's observer for this module to act on once the structure has settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The site of data centre `0` came back up, or went down.
    SiteUp(u32),
    SiteDown(u32),
    /// Part `0` (a rack, host or disk between places and their site) was repaired, or
    /// failed, on its own.
    PartUp(u32),
    PartDown(u32),
    /// Anchor `0` failed in a way that loses its data (a disk).
    AnchorLost(u32),
    /// A domain that destroys what sits in it began (or ended) an outage.
    DomainDown(u32),
    DomainUp(u32),
}

/// What a node is to durability, for the observer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    None,
    /// Part `0`: a component between places and their site.
    Part(u32),
    /// Part `part`, anchor `anchor`: a place whose own failure loses its data.
    LosesData {
        anchor: u32,
        part: u32,
    },
    /// A domain whose outages destroy.
    Destroys(u32),
}

/// The components between places for data and their sites (disks, hosts, racks),
/// numbered as [`Parts::of`] meets them: per part, its node and the anchors below it
/// (consecutive, since anchors are numbered rack by rack and host by host).
#[derive(Debug, Clone, Default)]
struct Parts {
    node: Vec<NodeId>,
    anchors: Vec<std::ops::Range<u32>>,
}

impl Parts {
    fn of(world: &World) -> Self {
        let mut index = vec![NONE; world.structure.node_count()];
        let mut parts = Parts::default();
        for (a, anchor) in world.anchors.iter().enumerate() {
            let a = a as u32;
            for &node in anchor.within_site() {
                let part = &mut index[node.index()];
                if *part == NONE {
                    *part = parts.node.len() as u32;
                    parts.node.push(node);
                    parts.anchors.push(a..a + 1);
                } else {
                    let range = &mut parts.anchors[*part as usize];
                    debug_assert_eq!(range.end, a, "a part's anchors are consecutive");
                    range.end = a + 1;
                }
            }
        }
        parts
    }
}

/// Collects [`Note`]s from the structure's observer callbacks.
#[derive(Debug, Clone)]
pub struct Notes {
    pub list: Vec<Note>,
    /// Watch indices from `watch_base` on are watched for durability alone.
    watch_base: u32,
    /// Per watch index: the data centre whose site it is, or `NONE` (empty when
    /// nothing is stored).
    site_of_watch: Vec<u32>,
    role: Vec<Role>,
}

impl Notes {
    /// Notes for `world`, whose watched nodes so far are `watched`: when `stores` (the
    /// world stores data), every site is watched, under the index it already has or a
    /// new one added to `watched`.
    pub fn new(world: &World, watched: &mut Vec<NodeId>, stores: bool) -> Self {
        let mut role = vec![Role::None; world.structure.node_count()];
        let watch_base = watched.len() as u32;
        let mut site_of_watch = Vec::new();
        if stores {
            let parts = Parts::of(world);
            for (part, &node) in parts.node.iter().enumerate() {
                role[node.index()] = Role::Part(part as u32);
            }
            for (a, anchor) in world.anchors.iter().enumerate() {
                if anchor.loses_data
                    && let Role::Part(part) = role[anchor.node.index()]
                {
                    role[anchor.node.index()] = Role::LosesData {
                        anchor: a as u32,
                        part,
                    };
                }
            }
            let mut watch_of: std::collections::HashMap<NodeId, usize> = watched
                .iter()
                .enumerate()
                .map(|(w, &node)| (node, w))
                .collect();
            let mut sites = Vec::new();
            for (dc, site) in world.datacenters.iter().enumerate() {
                let watch = *watch_of.entry(site.node).or_insert_with(|| {
                    watched.push(site.node);
                    watched.len() - 1
                });
                sites.push((watch, dc as u32));
            }
            site_of_watch = vec![NONE; watched.len()];
            for (watch, dc) in sites {
                site_of_watch[watch] = dc;
            }
        }
        for (d, domain) in world.domains.iter().enumerate() {
            if domain.effect == Effect::Destroy {
                role[domain.node.index()] = Role::Destroys(d as u32);
            }
        }
        Notes {
            list: Vec::new(),
            watch_base,
            site_of_watch,
            role,
        }
    }

    /// Whether watch index `watch` is watched for durability alone.
    #[inline]
    pub fn owns(&self, watch: u32) -> bool {
        watch >= self.watch_base
    }

    /// A watched node's start state, if it is a site.
    #[inline]
    pub fn on_start(&mut self, watch: u32, up: bool) {
        if !up {
            self.on_change(watch, up);
        }
    }

    /// A watched node changed, if it is a site.
    #[inline]
    pub fn on_change(&mut self, watch: u32, up: bool) {
        if let Some(&dc) = self.site_of_watch.get(watch as usize)
            && dc != NONE
        {
            self.list.push(if up {
                Note::SiteUp(dc)
            } else {
                Note::SiteDown(dc)
            });
        }
    }

    #[inline]
    pub fn on_transition(&mut self, node: NodeId, up: bool) {
        match self.role[node.index()] {
            Role::None => {}
            Role::Part(part) => {
                self.list.push(if up {
                    Note::PartUp(part)
                } else {
                    Note::PartDown(part)
                });
            }
            Role::LosesData { anchor, part } => {
                // The data goes first, then the place: its pieces are lost while it
                // still counts as reachable.
                if up {
                    self.list.push(Note::PartUp(part));
                } else {
                    self.list.push(Note::AnchorLost(anchor));
                    self.list.push(Note::PartDown(part));
                }
            }
            Role::Destroys(domain) => self.list.push(if up {
                Note::DomainUp(domain)
            } else {
                Note::DomainDown(domain)
            }),
        }
    }
}

/// An event of the storage layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageEvent {
    /// Index among the world's storage services.
    store: u16,
    kind: EventKind,
    /// A piece, or a link.
    index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    /// The loss of piece `index` is noticed.
    Detected,
    /// Piece `index` tries again to find a place.
    Retry,
    /// Piece `index`'s copy (timed by a law) is done.
    CopyDone,
    /// The copy first in line on link `index` is done.
    LinkDone,
}

/// Where a piece is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Stored on its anchor.
    Present,
    /// Lost; the loss is not noticed yet.
    Detecting,
    /// Noticed; waiting for a free crew.
    Queued,
    /// Nowhere to go; waiting to try again.
    Waiting,
    /// Being copied onto its anchor.
    Copying,
    /// Its group is lost: nothing more happens to it.
    Abandoned,
}

/// A piece's place — its anchor now, the one it is being copied to, or the one it
/// was lost from — and phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PieceState {
    anchor: u32,
    phase: Phase,
}

/// A group's pieces present, and whether it is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GroupState {
    present: u8,
    lost: bool,
}

impl GroupState {
    fn whole(pieces: u32) -> Self {
        GroupState {
            present: pieces as u8,
            lost: false,
        }
    }
}

/// What one trial measured of one storage service's durability.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DurabilityOutcome {
    /// Object groups lost within the horizon.
    pub groups_lost: u32,
    /// When the first group was lost.
    pub first_loss: Option<f64>,
    /// Per combination of causes (indices into the world's cause labels, sorted,
    /// repeated for each lost piece), the groups lost with exactly those pieces gone.
    pub loss_causes: Vec<(Vec<u32>, u32)>,
    /// Pieces re-created.
    pub copies: u32,
    /// Pieces re-created outside their home data centre because it was gone.
    pub degraded: u32,
    /// The most pieces any group had lost at once (the depth of the closest call).
    pub deepest: u32,
}

/// Bandwidth shared equally by the copies crossing it (processor sharing), tracked
/// by a virtual clock: `served` is what each active copy has received so far.
#[derive(Debug, Clone)]
struct Link {
    /// Bytes per hour.
    rate: f64,
    active: u32,
    served: f64,
    since: Time,
    /// (bytes served at which it completes, piece, attempt), earliest first.
    due: DueQueue,
    /// The event of its next completion, when scheduled.
    event: Option<EventKey>,
    /// Whether it changed since its completion was last scheduled (it is then in
    /// `Durability::links_changed`).
    changed: bool,
}

/// A link's copies by when they complete: (bytes served at completion, piece,
/// attempt), in increasing order from `next` on. A copy joins at the end, and the
/// copies that joined since the queue was last looked at are sorted into place when it
/// next is: a link's bytes served only grow, so they come after those before them, but
/// for ties (copies that joined at one instant), which go by piece and attempt.
#[derive(Debug, Clone, Default)]
struct DueQueue {
    entries: Vec<(Bytes, u32, u32)>,
    /// Entries before `next` are gone; entries from `sorted` on are not sorted yet.
    next: usize,
    sorted: usize,
}

impl DueQueue {
    fn push(&mut self, entry: (Bytes, u32, u32)) {
        self.entries.push(entry);
    }

    /// The earliest entry.
    fn peek(&mut self) -> Option<(Bytes, u32, u32)> {
        if self.sorted < self.entries.len() {
            self.sort();
        }
        self.entries.get(self.next).copied()
    }

    /// Removes the earliest entry (after `peek`).
    fn pop(&mut self) {
        debug_assert!(self.sorted == self.entries.len() && self.next < self.sorted);
        self.next += 1;
        if self.next == self.entries.len() {
            self.clear();
        } else if self.next >= 1024 && 2 * self.next >= self.entries.len() {
            // Most entries are gone: the rest move to the front.
            self.entries.drain(..self.next);
            self.sorted -= self.next;
            self.next = 0;
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.next = 0;
        self.sorted = 0;
    }

    /// Sorts the entries that joined since the last look among those before them: the
    /// new ones, with the earlier ones that do not come before the earliest of them.
    #[inline(never)]
    fn sort(&mut self) {
        let (next, sorted) = (self.next, self.sorted);
        self.entries[sorted..].sort_unstable();
        let first_new = self.entries[sorted];
        let from = next + self.entries[next..sorted].partition_point(|e| *e < first_new);
        if from < sorted {
            self.entries[from..].sort_unstable();
        }
        self.sorted = self.entries.len();
    }
}

/// A byte count ordered totally.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bytes(f64);
impl Eq for Bytes {}
impl PartialOrd for Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Bytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl Link {
    fn new(rate: f64) -> Self {
        Link {
            rate,
            active: 0,
            served: 0.0,
            since: 0.0,
            due: DueQueue::default(),
            event: None,
            changed: false,
        }
    }

    fn advance(&mut self, now: Time) {
        if self.active > 0 {
            self.served += (now - self.since) * self.rate / f64::from(self.active);
        }
        self.since = now;
    }
}

/// The per-trial state of one storage service.
#[derive(Debug, Clone)]
struct StoreState<'w> {
    service: usize,
    store: &'w Store,
    group_nodes: &'w [NodeId],
    pieces_per_group: u32,
    needed: u32,
    /// Pieces initially on each anchor: `initial[initial_first[a]..initial_first[a + 1]]`,
    /// and the group of each (`initial_group`, beside it). Anchors are numbered part by
    /// part, so a part's anchors list their initial pieces in one run.
    initial_first: Vec<u32>,
    initial: Vec<u32>,
    initial_group: Vec<u32>,
    /// Per anchor: whether a piece has left it or been moved onto it since the trial
    /// started. While not, its pieces are exactly those it started with, all present,
    /// and a change of its reachability need not look at them one by one.
    disturbed: Vec<bool>,
    /// Pieces moved onto each anchor during the trial (may hold stale entries, checked
    /// against the piece's anchor).
    moved: Vec<Vec<u32>>,
    moved_touched: Vec<u32>,
    /// Per piece: where it is and in what phase (read on every change of a place, so
    /// kept together); its pending event, attempt count and the cause of its last loss.
    piece: Vec<PieceState>,
    pending: Vec<Option<EventKey>>,
    /// Per piece waiting for its own event (its loss noticed, a retry, a copy timed by
    /// a law): when it fires; per piece being copied over a link, the bytes the link
    /// will have served when it is done.
    due: Vec<f64>,
    attempt: Vec<u32>,
    cause: Vec<u32>,
    /// Per piece being copied over a link: the link (else `NONE`).
    link: Vec<u32>,
    /// Per piece: the key of its stream (from its group's node key).
    key: Vec<u64>,
    /// Pieces lost since the trial started (each once): only they have left their
    /// initial state.
    touched: Vec<u32>,
    group: Vec<GroupState>,
    /// Per group: pieces present and reachable; whether it can be read (the state of
    /// its node): `reachable >= needed` and not lost.
    reachable: Vec<u8>,
    readable: Vec<bool>,
    /// Per data centre and group (`below[dc * groups + g]`): pieces present there whose
    /// parts (disk, host, rack) are all up, whatever the site's state. A group's
    /// reachable pieces are the sum over the data centres whose site is up.
    below: Vec<u8>,
    /// `below` at the start of a trial.
    initial_below: Vec<u8>,
    /// Groups by pieces missing now (index: pieces missing).
    missing_now: Vec<u32>,
    /// Copies under way (counted only when crews are limited), and pieces waiting
    /// for a crew (with their attempt, to skip stale entries).
    crews_busy: u32,
    queue: VecDeque<(u32, u32)>,
    links: Vec<Link>,
    outcome: DurabilityOutcome,
    loss_causes: BTreeMap<Vec<u32>, u32>,
}

/// The stored data of every storage service in one trial.
#[derive(Debug, Clone)]
pub struct Durability<'w> {
    world: &'w World,
    stores: Vec<StoreState<'w>>,
    /// Durability's view of the places: per data centre, whether its site is up; per
    /// anchor, how many of its parts are down; per part, its anchors.
    site_up: Vec<bool>,
    parts_down: Vec<u8>,
    parts: Vec<std::ops::Range<u32>>,
    /// Per data centre: destroying domains in outage.
    gone: Vec<u32>,
    /// Changes of pieces present or of sites gone since the trial started.
    changes: u64,
    seed: u64,
    trial: u64,
    /// When set, every change of a piece is recorded here (for `nines trace`).
    pub log: Option<Vec<PieceEvent>>,
    scratch: Scratch,
    /// Links (store, link) whose completion is to be scheduled, in the order of their
    /// last change (see [`schedule_link`](Self::schedule_link)).
    links_changed: Vec<(u32, u32)>,
    /// Off, every change of a link schedules its completion at once: for tests that
    /// compare the two.
    #[cfg(test)]
    hold_links: bool,
}

/// Buffers reused from one choice of a place (or a link) to the next.
#[derive(Debug, Clone, Default)]
struct Scratch {
    /// Places a group uses.
    used: Vec<u32>,
    /// (rank, order, data centre) of the data centres a piece may go to.
    candidates: Vec<(u32, usize, usize)>,
    /// A group's pieces present per data centre.
    per_datacenter: Vec<u32>,
    /// Places a group uses per data centre.
    used_in: Vec<u32>,
    /// Copies a link finished at once: (piece, attempt).
    done: Vec<(u32, u32)>,
}

/// A piece of an object group was lost or re-created, or the group was lost.
#[derive(Debug, Clone, PartialEq)]
pub struct PieceEvent {
    pub time: Time,
    /// The storage service (index into `World::services`) and its object group.
    pub service: usize,
    pub group: u32,
    pub change: PieceChange,
    /// Pieces of the group present after the change, out of `pieces`.
    pub present: u32,
    pub pieces: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceChange {
    Lost,
    Recreated,
    GroupLost,
}

impl PieceChange {
    pub fn name(self) -> &'static str {
        match self {
            PieceChange::Lost => "piece lost",
            PieceChange::Recreated => "piece re-created",
            PieceChange::GroupLost => "group lost",
        }
    }
}

/// The crossing while a site is down: its groups' reachable counts do not move, and
/// reach this only with 255 pieces all reachable (where the check then finds nothing
/// to change).
const NO_CROSSING: u8 = u8::MAX;

/// How each piece present on an anchor changes its group's counts when the anchor's
/// parts become all up, or one goes down.
struct Tally {
    per: u32,
    /// Added (wrapping) to the count below the site, and to the reachable count.
    step: u8,
    reach_step: u8,
    /// The reachable count at which the group's readability may have changed.
    crossing: u8,
}

/// What [`Tally`] reads and changes of a store: its pieces, and its groups' counts in
/// the anchor's data centre.
struct Counts<'a> {
    piece: &'a [PieceState],
    below: &'a mut [u8],
    reachable: &'a mut [u8],
    readable: &'a mut [bool],
    group: &'a [GroupState],
    group_nodes: &'a [NodeId],
    needed: u32,
}

impl Tally {
    /// Piece `p`, listed on `anchor`, counts if it is present there.
    #[inline(always)]
    fn piece<O: Observer>(
        &self,
        counts: &mut Counts,
        p: u32,
        anchor: u32,
        dynamics: &mut Dynamics<'_, O>,
        now: Time,
    ) {
        let piece = counts.piece[p as usize];
        if piece.anchor != anchor || piece.phase != Phase::Present {
            return;
        }
        self.group(counts, p / self.per, dynamics, now);
    }

    /// A piece of each group in `groups` counts, in order. A plain pass first, without
    /// a branch per piece; in the rare case that a count reached the crossing, the
    /// pass is undone and made again piece by piece, so that groups' nodes change in
    /// the order and with the counts of a walk piece by piece.
    #[inline(always)]
    fn groups<O: Observer>(
        &self,
        counts: &mut Counts,
        groups: &[u32],
        dynamics: &mut Dynamics<'_, O>,
        now: Time,
    ) {
        let crossed = add_to_groups(
            counts.below,
            counts.reachable,
            groups,
            self.step,
            self.reach_step,
            self.crossing,
        );
        if crossed {
            for &g in groups {
                let g = g as usize;
                counts.below[g] = counts.below[g].wrapping_sub(self.step);
                counts.reachable[g] = counts.reachable[g].wrapping_sub(self.reach_step);
            }
            for &g in groups {
                self.group(counts, g, dynamics, now);
            }
        }
    }

    /// A piece of group `g` counts.
    #[inline(always)]
    fn group<O: Observer>(
        &self,
        counts: &mut Counts,
        g: u32,
        dynamics: &mut Dynamics<'_, O>,
        now: Time,
    ) {
        let g = g as usize;
        let below = &mut counts.below[g];
        *below = below.wrapping_add(self.step);
        let reachable = &mut counts.reachable[g];
        *reachable = reachable.wrapping_add(self.reach_step);
        if *reachable == self.crossing {
            let readable = !counts.group[g].lost && u32::from(*reachable) >= counts.needed;
            if readable != counts.readable[g] {
                counts.readable[g] = readable;
                dynamics.set_own_up(counts.group_nodes[g], readable, now);
            }
        }
    }
}

/// Adds `step` to `below[g]` and `reach_step` to `reachable[g]` for each `g` in
/// `groups` (wrapping), and says whether a reachable count reached `crossing` on the
/// way. Out of line, so that the loop has registers to itself.
#[inline(never)]
fn add_to_groups(
    below: &mut [u8],
    reachable: &mut [u8],
    groups: &[u32],
    step: u8,
    reach_step: u8,
    crossing: u8,
) -> bool {
    // One length for both, so that one check covers both.
    let n = below.len().min(reachable.len());
    let (below, reachable) = (&mut below[..n], &mut reachable[..n]);
    let mut crossed = false;
    let mut add = |g: u32| {
        let g = g as usize;
        below[g] = below[g].wrapping_add(step);
        reachable[g] = reachable[g].wrapping_add(reach_step);
        crossed |= reachable[g] == crossing;
    };
    // Four at a time: fewer turns of the loop.
    let mut quads = groups.chunks_exact(4);
    for quad in &mut quads {
        add(quad[0]);
        add(quad[1]);
        add(quad[2]);
        add(quad[3]);
    }
    for &g in quads.remainder() {
        add(g);
    }
    crossed
}

/// Whether a link's entry for attempt `attempt` at copying piece `p` is the copy under
/// way: an aborted copy's entry stays in the link's queue until it comes to the front.
#[inline]
fn copy_is_live(pieces: &[PieceState], attempts: &[u32], p: u32, attempt: u32) -> bool {
    pieces[p as usize].phase == Phase::Copying && attempts[p as usize] == attempt
}

/// Index of the link inside data centre `dc`, or between `a` and `b`.
fn intra_link(dc: usize) -> usize {
    dc
}

fn inter_link(datacenters: usize, a: usize, b: usize) -> usize {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    datacenters + lo * datacenters + hi
}

impl<'w> Durability<'w> {
    pub fn new(world: &'w World) -> Self {
        let anchors = world.anchors.len();
        let mut stores = Vec::new();
        for (s, service) in world.services.iter().enumerate() {
            let ServiceKind::Storage { store, groups, .. } = &service.kind else {
                continue;
            };
            let per = store.redundancy.pieces;
            let mut counts = vec![0u32; anchors + 1];
            for &a in &store.pieces {
                counts[a as usize + 1] += 1;
            }
            for a in 0..anchors {
                counts[a + 1] += counts[a];
            }
            let initial_first = counts.clone();
            let mut fill = counts;
            let mut initial = vec![0u32; store.pieces.len()];
            for (p, &a) in store.pieces.iter().enumerate() {
                initial[fill[a as usize] as usize] = p as u32;
                fill[a as usize] += 1;
            }
            let key = store
                .pieces
                .iter()
                .enumerate()
                .map(|(p, _)| {
                    let group = groups[p / per as usize];
                    combine(world.structure.key(group), (p % per as usize) as u64)
                })
                .collect();
            let dcs = world.datacenters.len();
            let links = match store.repair.copy {
                CopyTime::Bandwidth { within, between } => (0..dcs + dcs * dcs)
                    .map(|l| Link::new(if l < dcs { within } else { between }))
                    .collect(),
                _ => Vec::new(),
            };
            let n = store.pieces.len();
            let g = groups.len();
            let mut initial_below = vec![0u8; world.datacenters.len() * g];
            for (p, &a) in store.pieces.iter().enumerate() {
                let dc = world.anchors[a as usize].datacenter as usize;
                initial_below[dc * g + p / per as usize] += 1;
            }
            let initial_group = initial.iter().map(|&p| p / per).collect();
            stores.push(StoreState {
                service: s,
                store,
                group_nodes: groups,
                pieces_per_group: per,
                needed: store.redundancy.needed,
                initial_first,
                initial,
                initial_group,
                disturbed: vec![false; anchors],
                moved: vec![Vec::new(); anchors],
                moved_touched: Vec::new(),
                piece: store
                    .pieces
                    .iter()
                    .map(|&anchor| PieceState {
                        anchor,
                        phase: Phase::Present,
                    })
                    .collect(),
                pending: vec![None; n],
                due: vec![0.0; n],
                attempt: vec![0; n],
                cause: vec![NONE; n],
                link: vec![NONE; n],
                key,
                touched: Vec::new(),
                group: vec![GroupState::whole(per); g],
                reachable: vec![per as u8; g],
                readable: vec![true; g],
                below: initial_below.clone(),
                initial_below,
                missing_now: {
                    let mut counts = vec![0; per as usize + 1];
                    counts[0] = g as u32;
                    counts
                },
                crews_busy: 0,
                queue: VecDeque::new(),
                links,
                outcome: DurabilityOutcome::default(),
                loss_causes: BTreeMap::new(),
            });
        }
        Durability {
            world,
            stores,
            site_up: vec![true; world.datacenters.len()],
            parts_down: vec![0; anchors],
            parts: Parts::of(world).anchors,
            gone: vec![0; world.datacenters.len()],
            changes: 0,
            seed: 0,
            trial: 0,
            log: None,
            scratch: Scratch::default(),
            links_changed: Vec::new(),
            #[cfg(test)]
            hold_links: true,
        }
    }

    /// Whether the world stores anything.
    pub fn is_empty(&self) -> bool {
        self.stores.is_empty()
    }

    /// The service each store belongs to, in store order.
    pub fn services(&self) -> impl Iterator<Item = usize> + '_ {
        self.stores.iter().map(|s| s.service)
    }

    /// Back to every piece in its initial place, reachable, before a trial starts.
    pub fn reset(&mut self, seed: u64, trial: u64) {
        self.seed = seed;
        self.trial = trial;
        self.site_up.fill(true);
        self.parts_down.fill(0);
        self.gone.fill(0);
        self.changes = 0;
        self.links_changed.clear();
        for st in &mut self.stores {
            // An anchor is disturbed only by a piece lost from it (which left its
            // initial anchor first) or moved onto it.
            for &a in &st.moved_touched {
                st.moved[a as usize].clear();
                st.disturbed[a as usize] = false;
            }
            st.moved_touched.clear();
            // Only a piece that was lost has left its initial state.
            for &p in &st.touched {
                let p = p as usize;
                st.disturbed[st.store.pieces[p] as usize] = false;
                st.piece[p] = PieceState {
                    anchor: st.store.pieces[p],
                    phase: Phase::Present,
                };
                st.pending[p] = None;
                st.attempt[p] = 0;
                st.cause[p] = NONE;
                st.link[p] = NONE;
            }
            st.touched.clear();
            st.group.fill(GroupState::whole(st.pieces_per_group));
            st.reachable.fill(st.pieces_per_group as u8);
            st.readable.fill(true);
            st.below.copy_from_slice(&st.initial_below);
            st.missing_now.fill(0);
            st.missing_now[0] = st.group.len() as u32;
            st.crews_busy = 0;
            st.queue.clear();
            for link in &mut st.links {
                // Keeps the queue's buffer for the next trial.
                let mut due = std::mem::take(&mut link.due);
                due.clear();
                *link = Link {
                    due,
                    ..Link::new(link.rate)
                };
            }
            st.outcome = DurabilityOutcome::default();
            st.loss_causes.clear();
        }
    }

    /// What store `index` measured in the trial so far.
    pub fn outcome(&mut self, index: usize) -> &DurabilityOutcome {
        let st = &mut self.stores[index];
        st.outcome.loss_causes.clear();
        st.outcome
            .loss_causes
            .extend(st.loss_causes.iter().map(|(k, &v)| (k.clone(), v)));
        &st.outcome
    }

    /// The most pieces any group of store `index` has been missing at once so far in
    /// the trial.
    pub fn deepest(&self, index: usize) -> u32 {
        self.stores[index].outcome.deepest
    }

    /// The most pieces any group of store `index` is missing now.
    pub fn missing_now(&self, index: usize) -> u32 {
        let counts = &self.stores[index].missing_now;
        counts.iter().rposition(|&n| n > 0).unwrap_or(0) as u32
    }

    /// How many times a piece was lost or re-created, or a site was destroyed or
    /// rebuilt, since the trial started: what can change which failures threaten data.
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// Calls `each(group, anchor)` for every piece present of store `index`'s groups
    /// that are not lost and miss at least `missing` pieces.
    pub fn for_each_present(&self, index: usize, missing: u32, mut each: impl FnMut(u32, u32)) {
        let st = &self.stores[index];
        let per = st.pieces_per_group as usize;
        if missing > 0 && st.missing_now[0] as usize == st.group.len() {
            return;
        }
        for (g, group) in st.group.iter().enumerate() {
            if group.lost || per - usize::from(group.present) < missing as usize {
                continue;
            }
            for piece in &st.piece[g * per..(g + 1) * per] {
                if piece.phase == Phase::Present {
                    each(g as u32, piece.anchor);
                }
            }
        }
    }

    /// When a group of store `index` missing `missing` pieces or more is expected to get
    /// one back, at the earliest, by the copies under way as things stand at `now`: a
    /// copy timed by a law ends when scheduled; one over a link when the link, shared as
    /// now, will have served it. `None` when no such copy is under way (losses not yet
    /// noticed, pieces waiting for a crew or a place: how long they will take depends
    /// on what is not known yet, such as how many copies will share the links).
    pub fn repair_due(&self, index: usize, missing: u32, now: Time) -> Option<Time> {
        let st = &self.stores[index];
        let per = st.pieces_per_group as usize;
        let mut earliest: Option<Time> = None;
        for (g, group) in st.group.iter().enumerate() {
            if group.lost || per - usize::from(group.present) < missing as usize {
                continue;
            }
            for p in g * per..(g + 1) * per {
                if st.piece[p].phase != Phase::Copying {
                    continue;
                }
                let due = st.due[p];
                let at = match st.link[p] {
                    NONE => due,
                    l => {
                        let link = &st.links[l as usize];
                        let share = link.rate / f64::from(link.active.max(1));
                        let served = link.served + (now - link.since) * share;
                        now + (due - served).max(0.0) / share
                    }
                };
                earliest = Some(earliest.map_or(at, |e: Time| e.min(at)));
            }
        }
        earliest
    }

    /// Draws from fresh streams from now on (see `Dynamics::reseed`).
    pub fn reseed(&mut self, seed: u64, trial: u64) {
        self.seed = seed;
        self.trial = trial;
    }

    /// Acts on the notes the structure left, in order.
    pub fn apply<O: Observer + HasNotes, E: Copy + From<StorageEvent>>(
        &mut self,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        self.schedule_links(scheduler);
        let mut notes = std::mem::take(&mut dynamics.observer.notes().list);
        let now = scheduler.now();
        for &note in &notes {
            match note {
                Note::SiteUp(dc) | Note::SiteDown(dc) => {
                    self.site_changed(dc as usize, matches!(note, Note::SiteUp(_)), dynamics, now);
                }
                Note::PartUp(part) | Note::PartDown(part) => {
                    self.part_changed(
                        part as usize,
                        matches!(note, Note::PartUp(_)),
                        dynamics,
                        now,
                    );
                }
                Note::AnchorLost(a) => {
                    let cause = self.cause_of(self.world.anchors[a as usize].node);
                    for s in 0..self.stores.len() {
                        self.destroy_anchor(s, a, cause, dynamics, scheduler);
                    }
                }
                Note::DomainDown(d) => {
                    self.changes += 1;
                    let domain = &self.world.domains[d as usize];
                    let cause = self.cause_of(domain.node);
                    for (dc, site) in self.world.datacenters.iter().enumerate() {
                        if !site.on.contains(&(d as usize)) {
                            continue;
                        }
                        self.gone[dc] += 1;
                        if self.gone[dc] == 1 {
                            for a in site.anchors.clone() {
                                for s in 0..self.stores.len() {
                                    self.destroy_anchor(s, a, cause, dynamics, scheduler);
                                }
                            }
                        }
                    }
                }
                Note::DomainUp(d) => {
                    self.changes += 1;
                    for (dc, site) in self.world.datacenters.iter().enumerate() {
                        if site.on.contains(&(d as usize)) {
                            self.gone[dc] -= 1;
                        }
                    }
                }
            }
        }
        notes.clear();
        dynamics.observer.notes().list = notes;
        self.schedule_links(scheduler);
    }

    /// Records a change for a trace, when recording.
    fn record(&mut self, s: usize, g: usize, change: PieceChange, present: u32, now: Time) {
        if let Some(log) = &mut self.log {
            let st = &self.stores[s];
            log.push(PieceEvent {
                time: now,
                service: st.service,
                group: g as u32,
                change,
                present,
                pieces: st.pieces_per_group,
            });
        }
    }

    fn cause_of(&self, node: NodeId) -> u32 {
        self.world.causes.of(node)
    }

    /// Handles one of this module's events.
    pub fn handle<O: Observer + HasNotes, E: StorageEvents>(
        &mut self,
        event: StorageEvent,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let s = event.store as usize;
        let p = event.index;
        match event.kind {
            EventKind::Detected | EventKind::Retry => {
                self.stores[s].pending[p as usize] = None;
                self.noticed(s, p, dynamics, scheduler);
                // Copies over links change nothing of the structure as they start, so
                // nothing but this module can act before the next event; when that
                // starts another copy at this instant, the links wait for it.
                let over_links =
                    matches!(self.stores[s].store.repair.copy, CopyTime::Bandwidth { .. });
                if over_links && self.copies_start_next(scheduler) {
                    return;
                }
            }
            EventKind::CopyDone => {
                self.schedule_links(scheduler);
                self.stores[s].pending[p as usize] = None;
                self.copy_done(s, p, dynamics, scheduler);
            }
            EventKind::LinkDone => {
                self.schedule_links(scheduler);
                self.link_done(s, p as usize, dynamics, scheduler);
            }
        }
        self.schedule_links(scheduler);
    }

    /// Whether the next event is certainly a piece's loss noticed, or its retry, at
    /// this instant: the event at hand in the scheduler is one, it is the piece's own
    /// (a piece in that phase has no other: an event cancelled for a piece leaves it
    /// abandoned), and it is due now.
    fn copies_start_next<E: StorageEvents>(&self, scheduler: &Scheduler<E>) -> bool {
        let Some(next) = scheduler.peek_near().and_then(StorageEvents::storage) else {
            return false;
        };
        let Some(st) = self.stores.get(next.store as usize) else {
            return false;
        };
        let p = next.index as usize;
        let phase = match next.kind {
            EventKind::Detected => Phase::Detecting,
            EventKind::Retry => Phase::Waiting,
            EventKind::CopyDone | EventKind::LinkDone => return false,
        };
        st.piece[p].phase == phase && st.pending[p].is_some() && st.due[p] == scheduler.now()
    }

    /// The `i`-th piece listed on anchor `a` (those placed there first, then those
    /// copied there), whether or not it is still there; `None` past the end. Callers
    /// walk the list by index, since handling a piece may add to other lists.
    #[inline]
    fn listed_on(&self, s: usize, a: u32, i: usize) -> Option<u32> {
        let st = &self.stores[s];
        let first = st.initial_first[a as usize] as usize;
        let initial = st.initial_first[a as usize + 1] as usize - first;
        if i < initial {
            Some(st.initial[first + i])
        } else {
            st.moved[a as usize].get(i - initial).copied()
        }
    }

    /// The site of data centre `dc` came back up or went down: each group's reachable
    /// pieces change by its pieces there below the site, in one pass over the groups.
    fn site_changed<O: Observer>(
        &mut self,
        dc: usize,
        up: bool,
        dynamics: &mut Dynamics<'w, O>,
        now: Time,
    ) {
        if self.site_up[dc] == up {
            return;
        }
        self.site_up[dc] = up;
        for s in 0..self.stores.len() {
            let st = &mut self.stores[s];
            let groups = st.group.len();
            let below = &st.below[dc * groups..(dc + 1) * groups];
            // Pieces per group fit in a byte, and so does what a group needs.
            let needed = st.needed as u8;
            // A plain pass over bytes (no branch): whether any group's readability
            // (reachable >= needed; a lost group never has that many) changes.
            let mut crossed = false;
            for ((reachable, &here), &readable) in
                st.reachable.iter_mut().zip(below).zip(&st.readable)
            {
                *reachable = if up {
                    *reachable + here
                } else {
                    *reachable - here
                };
                crossed |= (*reachable >= needed) != readable;
            }
            if crossed {
                for g in 0..groups {
                    self.refresh(s, g, dynamics, now);
                }
            }
        }
    }

    /// Part `part` (a disk, host or rack) was repaired or failed on its own: the
    /// anchors below it whose parts are now all up, or no longer, change reachability
    /// below their site.
    fn part_changed<O: Observer>(
        &mut self,
        part: usize,
        up: bool,
        dynamics: &mut Dynamics<'w, O>,
        now: Time,
    ) {
        let anchors = self.parts[part].clone();
        // A part's places are all in one data centre.
        let dc = self.world.anchors[anchors.start as usize].datacenter as usize;
        let site_up = self.site_up[dc];
        for a in anchors.clone() {
            let down = &mut self.parts_down[a as usize];
            if up {
                *down -= 1;
            } else {
                *down += 1;
            }
        }
        // Groups' nodes change anchor by anchor, and store by store within an anchor;
        // with one store, that is one walk over the part's anchors.
        if self.stores.len() == 1 {
            self.below_changed(0, anchors, dc, up, site_up, dynamics, now);
        } else {
            for a in anchors {
                for s in 0..self.stores.len() {
                    self.below_changed(s, a..a + 1, dc, up, site_up, dynamics, now);
                }
            }
        }
    }

    /// Of `anchors` (consecutive, in data centre `dc`), those whose parts became all
    /// up, or of which one went down (the first down, or the last up): their pieces
    /// present count, or no longer count, below their site (and as reachable when the
    /// site is up).
    #[allow(clippy::too_many_arguments)]
    fn below_changed<O: Observer>(
        &mut self,
        s: usize,
        anchors: std::ops::Range<u32>,
        dc: usize,
        up: bool,
        site_up: bool,
        dynamics: &mut Dynamics<'w, O>,
        now: Time,
    ) {
        // One pass over the pieces listed on the anchors (placed there first, then
        // moved there); only a group whose reachable pieces cross `needed` changes its
        // node. Counts fit in a byte; a step down adds 255.
        let st = &mut self.stores[s];
        let step = if up { 1 } else { u8::MAX };
        let groups = st.group.len();
        let tally = Tally {
            per: st.pieces_per_group,
            step,
            reach_step: if site_up { step } else { 0 },
            // Readability changes only when the count crosses `needed` (a lost group
            // has fewer pieces present than that, so it never gets there).
            crossing: if site_up {
                st.needed as u8 - u8::from(!up)
            } else {
                NO_CROSSING
            },
        };
        let mut counts = Counts {
            piece: &st.piece,
            below: &mut st.below[dc * groups..(dc + 1) * groups],
            reachable: &mut st.reachable,
            readable: &mut st.readable,
            group: &st.group,
            group_nodes: st.group_nodes,
            needed: st.needed,
        };
        let first = &st.initial_first;
        let changed = u8::from(!up);
        // Undisturbed anchors that changed, one after another, list their pieces (all
        // present) in one run of `initial_group`: `run` is where the current run starts.
        let mut run = anchors.start;
        for a in anchors.clone() {
            let here = self.parts_down[a as usize] == changed;
            if here && !st.disturbed[a as usize] {
                continue;
            }
            let listed = first[run as usize] as usize..first[a as usize] as usize;
            tally.groups(&mut counts, &st.initial_group[listed], dynamics, now);
            run = a + 1;
            if here {
                let listed = first[a as usize] as usize..first[a as usize + 1] as usize;
                for &p in &st.initial[listed] {
                    tally.piece(&mut counts, p, a, dynamics, now);
                }
                for &p in &st.moved[a as usize] {
                    tally.piece(&mut counts, p, a, dynamics, now);
                }
            }
        }
        let listed = first[run as usize] as usize..first[anchors.end as usize] as usize;
        tally.groups(&mut counts, &st.initial_group[listed], dynamics, now);
    }

    /// Piece `p` of group `g`, on anchor `a`, became present (`add`) or is no longer:
    /// the group's counts follow if the anchor is reachable below its site.
    fn count_present(&mut self, s: usize, g: usize, a: u32, add: bool) {
        if self.parts_down[a as usize] != 0 {
            return;
        }
        let dc = self.world.anchors[a as usize].datacenter as usize;
        let site_up = self.site_up[dc];
        let st = &mut self.stores[s];
        let below = &mut st.below[dc * st.group.len() + g];
        let reachable = &mut st.reachable[g];
        if add {
            *below += 1;
            *reachable += u8::from(site_up);
        } else {
            *below -= 1;
            *reachable -= u8::from(site_up);
        }
    }

    /// Sets group `g`'s node to whether it can be read.
    fn refresh<O: Observer>(
        &mut self,
        s: usize,
        g: usize,
        dynamics: &mut Dynamics<'w, O>,
        now: Time,
    ) {
        let st = &mut self.stores[s];
        let readable = !st.group[g].lost && u32::from(st.reachable[g]) >= st.needed;
        if readable != st.readable[g] {
            st.readable[g] = readable;
            dynamics.set_own_up(st.group_nodes[g], readable, now);
        }
    }

    /// Anchor `a` lost its data: pieces there are lost, copies onto it start over.
    fn destroy_anchor<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        a: u32,
        cause: u32,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let mut i = 0;
        while let Some(p) = self.listed_on(s, a, i) {
            i += 1;
            if self.stores[s].piece[p as usize].anchor != a {
                continue;
            }
            match self.stores[s].piece[p as usize].phase {
                Phase::Present => self.lose(s, p, cause, dynamics, scheduler),
                Phase::Copying => {
                    self.abort_copy(s, p, scheduler);
                    self.start_copy(s, p, dynamics, scheduler);
                }
                _ => {}
            }
        }
    }

    /// Piece `p`, present, is lost.
    fn lose<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        p: u32,
        cause: u32,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        self.changes += 1;
        let a = self.stores[s].piece[p as usize].anchor;
        let g = (p / self.stores[s].pieces_per_group) as usize;
        self.count_present(s, g, a, false);
        let st = &mut self.stores[s];
        st.disturbed[a as usize] = true;
        st.missing_now[st.pieces_per_group as usize - st.group[g].present as usize] -= 1;
        st.group[g].present -= 1;
        st.missing_now[st.pieces_per_group as usize - st.group[g].present as usize] += 1;
        if st.cause[p as usize] == NONE {
            st.touched.push(p);
        }
        st.cause[p as usize] = cause;
        let missing = st.pieces_per_group - u32::from(st.group[g].present);
        st.outcome.deepest = st.outcome.deepest.max(missing);
        let present = u32::from(st.group[g].present);
        self.record(s, g, PieceChange::Lost, present, now);
        let st = &mut self.stores[s];
        if st.group[g].lost {
            st.piece[p as usize].phase = Phase::Abandoned;
        } else if u32::from(st.group[g].present) < st.needed {
            st.piece[p as usize].phase = Phase::Abandoned;
            self.lose_group(s, g, dynamics, scheduler);
        } else {
            st.piece[p as usize].phase = Phase::Detecting;
            match &st.store.repair.detection {
                None => self.noticed(s, p, dynamics, scheduler),
                Some(law) => {
                    let mut rng = PieceStream::new(self.seed, self.trial, st, p, Draw::Detection);
                    let at = now + law.sample(&mut rng);
                    self.schedule_links(scheduler);
                    let st = &mut self.stores[s];
                    let key = scheduler.schedule_at(at, event(s, EventKind::Detected, p).into());
                    st.pending[p as usize] = Some(key);
                    st.due[p as usize] = at;
                }
            }
        }
        self.refresh(s, g, dynamics, now);
    }

    /// Group `g` has too few pieces left: it is lost for good.
    fn lose_group<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        g: usize,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        let per = self.stores[s].pieces_per_group;
        let mut causes = Vec::new();
        let mut crews_freed = 0;
        for p in g as u32 * per..(g as u32 + 1) * per {
            let phase = self.stores[s].piece[p as usize].phase;
            if phase == Phase::Present {
                continue;
            }
            causes.push(self.stores[s].cause[p as usize]);
            match phase {
                Phase::Copying => {
                    self.abort_copy(s, p, scheduler);
                    crews_freed += 1;
                }
                _ => {
                    if let Some(key) = self.stores[s].pending[p as usize].take() {
                        scheduler.cancel(key);
                    }
                }
            }
            self.stores[s].piece[p as usize].phase = Phase::Abandoned;
        }
        causes.sort_unstable();
        let st = &mut self.stores[s];
        st.group[g].lost = true;
        st.outcome.groups_lost += 1;
        let present = u32::from(st.group[g].present);
        self.record(s, g, PieceChange::GroupLost, present, now);
        let st = &mut self.stores[s];
        st.outcome.first_loss.get_or_insert(now);
        *st.loss_causes.entry(causes).or_insert(0) += 1;
        for _ in 0..crews_freed {
            self.release_crew(s, dynamics, scheduler);
        }
    }

    /// The loss of piece `p` is noticed (or it tries again after finding no place):
    /// copy it when a crew is free.
    fn noticed<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        p: u32,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let st = &mut self.stores[s];
        if let Some(crews) = st.store.repair.crews {
            if st.crews_busy >= crews {
                st.piece[p as usize].phase = Phase::Queued;
                st.queue.push_back((p, st.attempt[p as usize]));
                return;
            }
            st.crews_busy += 1;
        }
        self.start_copy(s, p, dynamics, scheduler);
    }

    /// Chooses a place for piece `p` (which holds a crew, if crews are limited) and
    /// starts copying it there; with no place, gives the crew back and tries later.
    fn start_copy<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        p: u32,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        let Some((target, degraded)) = self.choose_place(s, p, dynamics) else {
            self.schedule_links(scheduler);
            let st = &mut self.stores[s];
            st.piece[p as usize].phase = Phase::Waiting;
            let at = now + RETRY_HOURS;
            let key = scheduler.schedule_at(at, event(s, EventKind::Retry, p).into());
            st.pending[p as usize] = Some(key);
            st.due[p as usize] = at;
            self.release_crew(s, dynamics, scheduler);
            return;
        };
        let source = self.copy_link(s, target, &self.scratch.per_datacenter);
        let (seed, trial) = (self.seed, self.trial);
        let st = &mut self.stores[s];
        let store = st.store;
        st.attempt[p as usize] += 1;
        st.piece[p as usize].anchor = target;
        st.piece[p as usize].phase = Phase::Copying;
        if degraded {
            st.outcome.degraded += 1;
        }
        let initial_here = store.pieces[p as usize] == target;
        let moved = &mut st.moved[target as usize];
        if !initial_here && !moved.contains(&p) {
            if moved.is_empty() {
                st.moved_touched.push(target);
            }
            moved.push(p);
            st.disturbed[target as usize] = true;
        }
        match &store.repair.copy {
            CopyTime::Instant => self.copy_done(s, p, dynamics, scheduler),
            CopyTime::Law(law) => {
                let mut rng = PieceStream::new(seed, trial, st, p, Draw::Copy);
                let at = now + law.sample(&mut rng);
                self.schedule_links(scheduler);
                let st = &mut self.stores[s];
                let key = scheduler.schedule_at(at, event(s, EventKind::CopyDone, p).into());
                st.pending[p as usize] = Some(key);
                st.due[p as usize] = at;
            }
            CopyTime::Bandwidth { .. } => {
                let bytes = store.group_bytes.unwrap_or(0.0);
                st.link[p as usize] = source as u32;
                let attempt = st.attempt[p as usize];
                let link = &mut st.links[source];
                link.advance(now);
                link.due.push((Bytes(link.served + bytes), p, attempt));
                st.due[p as usize] = link.served + bytes;
                link.active += 1;
                self.schedule_link(s, source, scheduler);
            }
        }
    }

    /// The link a copy onto `target` uses: inside the target's data centre when enough
    /// pieces to copy from are there, otherwise between it and the data centre holding
    /// the most pieces of the group, given the group's pieces present per data centre
    /// (as [`choose_place`](Self::choose_place) counts them).
    fn copy_link(&self, s: usize, target: u32, present_in: &[u32]) -> usize {
        let st = &self.stores[s];
        let dcs = self.world.datacenters.len();
        if st.links.is_empty() {
            return 0;
        }
        let target_dc = self.world.anchors[target as usize].datacenter as usize;
        if present_in[target_dc] >= st.needed {
            return intra_link(target_dc);
        }
        let mut best = 0;
        for dc in 1..dcs {
            if present_in[dc] > present_in[best] {
                best = dc;
            }
        }
        inter_link(dcs, best, target_dc)
    }

    /// A place for piece `p` by the placement rule, and whether it is outside the
    /// piece's home data centre. Counts the group's pieces present per data centre on
    /// the way (`Scratch::per_datacenter`, for [`copy_link`](Self::copy_link)).
    fn choose_place<O: Observer>(
        &mut self,
        s: usize,
        p: u32,
        dynamics: &Dynamics<'w, O>,
    ) -> Option<(u32, bool)> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let chosen = self.choose_place_in(s, p, dynamics, &mut scratch);
        self.scratch = scratch;
        chosen
    }

    fn choose_place_in<O: Observer>(
        &self,
        s: usize,
        p: u32,
        dynamics: &Dynamics<'w, O>,
        scratch: &mut Scratch,
    ) -> Option<(u32, bool)> {
        let world = self.world;
        let st = &self.stores[s];
        let per = st.pieces_per_group;
        let g = p / per;
        let home = world.anchors[st.piece[p as usize].anchor as usize].datacenter as usize;
        // Places the group uses (present or being copied to), other than `p`'s, and how
        // many of them each data centre holds: one pass over the group.
        let used = &mut scratch.used;
        used.clear();
        let used_in = &mut scratch.used_in;
        used_in.clear();
        used_in.resize(world.datacenters.len(), 0);
        let present_in = &mut scratch.per_datacenter;
        present_in.clear();
        present_in.resize(world.datacenters.len(), 0);
        for q in g * per..(g + 1) * per {
            let piece = st.piece[q as usize];
            let dc = world.anchors[piece.anchor as usize].datacenter as usize;
            if piece.phase == Phase::Present {
                present_in[dc] += 1;
            }
            if q != p && matches!(piece.phase, Phase::Present | Phase::Copying) {
                used.push(piece.anchor);
                used_in[dc] += 1;
            }
        }
        let used = &*used;
        let candidates = &mut scratch.candidates;
        candidates.clear();
        for (order, &dc) in st.store.datacenters.iter().enumerate() {
            if self.gone[dc] == 0 {
                let rank = if dc == home { 0 } else { 1 + used_in[dc] };
                candidates.push((rank, order, dc));
            }
        }
        candidates.sort_unstable();
        let mut rng = piece_rng(self.seed, self.trial, st, p, Draw::Place);
        for &(_, _, dc) in candidates.iter() {
            let range = world.datacenters[dc].anchors.clone();
            let places = range.end - range.start;
            if places == 0 {
                continue;
            }
            for attempt in 0..32 {
                let a = range.start + rng.random_range(0..places);
                let anchor = &world.anchors[a as usize];
                if used.contains(&a) || !place_up(world, a, dynamics) {
                    continue;
                }
                let rack_taken = used.iter().any(|&b| {
                    let other = &world.anchors[b as usize];
                    other.datacenter == anchor.datacenter && other.rack == anchor.rack
                });
                if rack_taken && attempt < 16 {
                    continue;
                }
                return Some((a, dc != home));
            }
        }
        None
    }

    /// Piece `p`'s copy is done: it is present on its anchor.
    fn copy_done<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        p: u32,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        self.changes += 1;
        let a = self.stores[s].piece[p as usize].anchor;
        let g = (p / self.stores[s].pieces_per_group) as usize;
        self.count_present(s, g, a, true);
        let st = &mut self.stores[s];
        st.piece[p as usize].phase = Phase::Present;
        st.link[p as usize] = NONE;
        st.missing_now[st.pieces_per_group as usize - st.group[g].present as usize] -= 1;
        st.group[g].present += 1;
        st.missing_now[st.pieces_per_group as usize - st.group[g].present as usize] += 1;
        st.outcome.copies += 1;
        let present = u32::from(st.group[g].present);
        self.record(s, g, PieceChange::Recreated, present, now);
        self.refresh(s, g, dynamics, now);
        self.release_crew(s, dynamics, scheduler);
    }

    /// A crew is free (if crews are limited): the next piece in line starts.
    fn release_crew<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let st = &mut self.stores[s];
        if st.store.repair.crews.is_none() {
            return;
        }
        st.crews_busy -= 1;
        while let Some((p, attempt)) = st.queue.pop_front() {
            if st.piece[p as usize].phase == Phase::Queued && st.attempt[p as usize] == attempt {
                st.crews_busy += 1;
                self.start_copy(s, p, dynamics, scheduler);
                return;
            }
        }
    }

    /// Stops piece `p`'s copy (its target was lost, or its group was). Its crew, if
    /// any, stays with the caller.
    fn abort_copy<E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        p: u32,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        let st = &mut self.stores[s];
        if let Some(key) = st.pending[p as usize].take() {
            scheduler.cancel(key);
        }
        st.piece[p as usize].phase = Phase::Waiting;
        let l = std::mem::replace(&mut st.link[p as usize], NONE);
        if l != NONE {
            let link = &mut st.links[l as usize];
            link.advance(now);
            link.active -= 1;
            // Its entry stays in the link's queue, stale (see `copy_is_live`), and is
            // dropped when it comes to the front.
            self.schedule_link(s, l as usize, scheduler);
        }
    }

    /// Link `l` of store `s` changed (a copy joined it, left it or finished): the
    /// event of its next completion is cancelled, and scheduled again by
    /// [`schedule_links`](Self::schedule_links) before this module schedules anything
    /// else, and at the latest before the next event — unless that event only starts
    /// more copies at this instant (a burst of losses noticed at once, whose copies may
    /// all share one link), which change the links further. Scheduled then, in the
    /// order of the links' last changes, each completion fires when, and in the order
    /// in which, it would have had it been scheduled at each change: it is timed by the
    /// same state, and nothing else was scheduled in between.
    fn schedule_link<E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        l: usize,
        scheduler: &mut Scheduler<E>,
    ) {
        let link = &mut self.stores[s].links[l];
        if let Some(key) = link.event.take() {
            scheduler.cancel(key);
        }
        let entry = (s as u32, l as u32);
        if !link.changed {
            link.changed = true;
            self.links_changed.push(entry);
        } else if self.links_changed.last() != Some(&entry) {
            self.links_changed.retain(|&e| e != entry);
            self.links_changed.push(entry);
        }
        #[cfg(test)]
        if !self.hold_links {
            self.schedule_changed_links(scheduler);
        }
    }

    /// Whether links hold their completions back during a burst of copies (the
    /// default), or schedule them at each change.
    #[cfg(test)]
    pub(crate) fn hold_links(&mut self, hold: bool) {
        self.hold_links = hold;
    }

    /// Schedules the next completion of each link changed since the last call (see
    /// `schedule_link`). Also for the trial's runner, before it
    /// moves events in time or continues the trial in a copy.
    #[inline]
    pub fn schedule_links<E: Copy + From<StorageEvent>>(&mut self, scheduler: &mut Scheduler<E>) {
        if !self.links_changed.is_empty() {
            self.schedule_changed_links(scheduler);
        }
    }

    fn schedule_changed_links<E: Copy + From<StorageEvent>>(
        &mut self,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        let mut changed = std::mem::take(&mut self.links_changed);
        for &(s, l) in &changed {
            let (s, l) = (s as usize, l as usize);
            let st = &mut self.stores[s];
            let link = &mut st.links[l];
            link.changed = false;
            while let Some((_, p, attempt)) = link.due.peek() {
                if copy_is_live(&st.piece, &st.attempt, p, attempt) {
                    break;
                }
                link.due.pop();
            }
            if let Some((Bytes(finish), _, _)) = link.due.peek() {
                let hours = (finish - link.served).max(0.0) * f64::from(link.active) / link.rate;
                let key = scheduler
                    .schedule_at(now + hours, event(s, EventKind::LinkDone, l as u32).into());
                link.event = Some(key);
            }
        }
        changed.clear();
        self.links_changed = changed;
    }

    fn link_done<O: Observer, E: Copy + From<StorageEvent>>(
        &mut self,
        s: usize,
        l: usize,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        let now = scheduler.now();
        // Copies done on the link, in order (handling them may choose places, which
        // uses the rest of the scratch).
        let mut done = std::mem::take(&mut self.scratch.done);
        done.clear();
        {
            let st = &mut self.stores[s];
            let link = &mut st.links[l];
            link.event = None;
            link.advance(now);
            // Copies whose bytes are served, up to what the link moves in a
            // millisecond: rounding must not leave a copy a few bytes short, to be
            // scheduled again at a time that floating point cannot tell from now.
            let slack = link.rate / f64::from(link.active.max(1)) * COPY_SLACK_HOURS;
            while let Some((Bytes(finish), p, attempt)) = link.due.peek() {
                if !copy_is_live(&st.piece, &st.attempt, p, attempt) {
                    link.due.pop();
                    continue;
                }
                if finish > link.served + slack {
                    break;
                }
                link.due.pop();
                link.active -= 1;
                done.push((p, attempt));
            }
        }
        self.schedule_link(s, l, scheduler);
        for &(p, attempt) in &done {
            let st = &self.stores[s];
            if copy_is_live(&st.piece, &st.attempt, p, attempt) {
                self.copy_done(s, p, dynamics, scheduler);
            }
        }
        self.scratch.done = done;
    }

    /// After the structure's start: takes in the initial notes (places down or lost
    /// at time 0) and sets the groups' nodes.
    pub fn start<O: Observer + HasNotes, E: Copy + From<StorageEvent>>(
        &mut self,
        dynamics: &mut Dynamics<'w, O>,
        scheduler: &mut Scheduler<E>,
    ) {
        self.apply(dynamics, scheduler);
    }
}

/// Whether place `a` is reachable now, in the structure's settled state: its site is
/// up and each of its parts is up on its own.
fn place_up<O: Observer>(world: &World, a: u32, dynamics: &Dynamics<'_, O>) -> bool {
    let anchor = &world.anchors[a as usize];
    dynamics.is_up(world.datacenters[anchor.datacenter as usize].node)
        && anchor
            .within_site()
            .iter()
            .all(|&part| dynamics.own_up(part))
}

/// What a piece's draw is for: each purpose has its own stream.
#[derive(Debug, Clone, Copy)]
enum Draw {
    Detection = 1,
    Place = 2,
    Copy = 3,
}

/// Piece `p`'s stream for `purpose` in its current attempt.
fn piece_rng(seed: u64, trial: u64, st: &StoreState, p: u32, purpose: Draw) -> ComponentRng {
    stream_of(
        seed,
        trial,
        st.key[p as usize],
        st.attempt[p as usize],
        purpose,
    )
}

/// The stream of the piece with key `key`, in attempt `attempt`, for `purpose`.
fn stream_of(seed: u64, trial: u64, key: u64, attempt: u32, purpose: Draw) -> ComponentRng {
    let attempt = combine(key, u64::from(attempt));
    ComponentRng::new(seed, trial, combine(attempt, purpose as u64))
}

/// [`piece_rng`], derived when first drawn from: a law that draws nothing (a
/// deterministic one) does not pay for it.
struct PieceStream {
    seed: u64,
    trial: u64,
    key: u64,
    attempt: u32,
    purpose: Draw,
    rng: Option<ComponentRng>,
}

impl PieceStream {
    fn new(seed: u64, trial: u64, st: &StoreState, p: u32, purpose: Draw) -> Self {
        PieceStream {
            seed,
            trial,
            key: st.key[p as usize],
            attempt: st.attempt[p as usize],
            purpose,
            rng: None,
        }
    }

    #[inline]
    fn rng(&mut self) -> &mut ComponentRng {
        let (seed, trial) = (self.seed, self.trial);
        let (key, attempt, purpose) = (self.key, self.attempt, self.purpose);
        self.rng
            .get_or_insert_with(|| stream_of(seed, trial, key, attempt, purpose))
    }
}

impl TryRng for PieceStream {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.rng().try_next_u32()
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.rng().try_next_u64()
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.rng().try_fill_bytes(dst)
    }
}

fn event(store: usize, kind: EventKind, index: u32) -> StorageEvent {
    StorageEvent {
        store: store as u16,
        kind,
        index,
    }
}

/// The events of a trial, of which durability's are one kind: what durability sees of
/// the next event.
pub trait StorageEvents: Copy + From<StorageEvent> {
    /// The event, if it is one of durability's.
    fn storage(&self) -> Option<StorageEvent>;
}

/// An observer that carries durability's notes.
pub trait HasNotes {
    fn notes(&mut self) -> &mut Notes;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// A link's queue gives its copies in the order of a heap of (bytes, piece,
    /// attempt), whether copies join one at a time or many at one instant, in any order
    /// of pieces, between looks and removals; and also when bytes do not only grow.
    #[test]
    fn due_queue_orders_as_a_heap() {
        for growing in [true, false] {
            let mut rng = ComponentRng::new(7, u64::from(growing), 3);
            let mut queue = DueQueue::default();
            let mut heap = BinaryHeap::new();
            let mut served = 0.0;
            let mut attempt = 0;
            for i in 0..4_000 {
                // The queue grows, then mostly drains (its front is then compacted).
                let most = if i < 2_000 { 10 } else { 80 };
                match rng.random_range(0..10) {
                    // A burst of copies joining at one instant, pieces in any order.
                    0..=3 => {
                        if growing {
                            served += f64::from(rng.random_range(0..3u32));
                        } else {
                            served = f64::from(rng.random_range(0..50u32));
                        }
                        for _ in 0..rng.random_range(1..40) {
                            attempt += 1;
                            let entry = (Bytes(served + 100.0), rng.random_range(0..500), attempt);
                            queue.push(entry);
                            heap.push(Reverse(entry));
                        }
                    }
                    4..=5 => assert_eq!(queue.peek(), heap.peek().map(|e| e.0)),
                    _ => {
                        for _ in 0..rng.random_range(1..most) {
                            let Some(Reverse(entry)) = heap.pop() else {
                                break;
                            };
                            assert_eq!(queue.peek(), Some(entry));
                            queue.pop();
                        }
                    }
                }
            }
            while let Some(Reverse(entry)) = heap.pop() {
                assert_eq!(queue.peek(), Some(entry));
                queue.pop();
            }
            assert_eq!(queue.peek(), None);
        }
    }
}
