//! The cloud model, validated: failure domains, data centres and their components,
//! services and their SLAs, lowered onto a reliability [`Structure`].
//!
//! A `World` is built once per scenario (see [`crate::scenario`]) and shared read-only
//! by every trial. Everything in it has been checked: ids resolve, laws are valid,
//! counts fit.

use crate::laws::Law;
use crate::reliability::{InitialState, NodeId, Process, Structure};
use crate::security::{self, Cidr, Finding, GroupId, Origin, Profile, SecurityModel, Via};
use crate::sla::Sla;

#[derive(Debug, Clone)]
pub struct World {
    pub name: String,
    pub description: Option<String>,
    /// Simulated hours per trial.
    pub horizon: f64,
    pub default_trials: u64,
    pub default_seed: u64,
    pub initial_state: InitialState,
    pub domains: Vec<Domain>,
    pub datacenters: Vec<Datacenter>,
    pub services: Vec<Service>,
    /// Every place a replica or fragment can live, data centre by data centre.
    pub anchors: Vec<Anchor>,
    pub structure: Structure,
    /// What each failing node counts as when downtime is explained.
    pub causes: Causes,
}

/// Root causes for explaining downtime: each node that fails on its own is a cause,
/// labelled by what it is — a domain by its kind and id ("power grid grid-us-east"),
/// a component by its kind ("rack", "disk").
#[derive(Debug, Clone, Default)]
pub struct Causes {
    labels: Vec<String>,
    /// Per node: index into `labels`, or `Causes::NONE`.
    of: Vec<u32>,
}

impl Causes {
    pub const NONE: u32 = u32::MAX;

    pub fn new(nodes: usize) -> Self {
        Causes {
            labels: Vec::new(),
            of: vec![Self::NONE; nodes],
        }
    }

    /// Labels `node` as a cause.
    pub fn set(&mut self, node: NodeId, label: &str) {
        let index = match self.labels.iter().position(|l| l == label) {
            Some(i) => i,
            None => {
                self.labels.push(label.to_string());
                self.labels.len() - 1
            }
        };
        self.of[node.index()] = index as u32;
    }

    /// The label index of `node`, or `NONE`.
    pub fn of(&self, node: NodeId) -> u32 {
        self.of[node.index()]
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainKind {
    PowerGrid,
    FloodPlain,
    BandwidthProvider,
    Custom,
}

impl DomainKind {
    pub fn name(self) -> &'static str {
        match self {
            DomainKind::PowerGrid => "power grid",
            DomainKind::FloodPlain => "flood plain",
            DomainKind::BandwidthProvider => "bandwidth provider",
            DomainKind::Custom => "custom",
        }
    }
}

/// What a domain's outage does to what sits in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Makes it unreachable until the outage ends.
    Interrupt,
    /// Also destroys the data stored in it. (Availability treats it as an interruption.)
    Destroy,
}

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: String,
    pub kind: DomainKind,
    pub label: Option<String>,
    pub process: Process,
    pub effect: Effect,
    pub ride_through: f64,
    pub node: NodeId,
}

/// How many components of each kind a data centre holds, and their laws.
#[derive(Debug, Clone)]
pub struct Datacenter {
    pub id: String,
    pub region: String,
    /// Indices into `World::domains`.
    pub on: Vec<usize>,
    pub providers: Vec<usize>,
    pub facility: Option<Process>,
    pub racks: u32,
    pub hosts_per_rack: u32,
    pub disks_per_host: u32,
    /// The site as a whole: up when its facility, every domain in `on` and at least
    /// one provider are up.
    pub node: NodeId,
    /// Its places for data: a range of `World::anchors`.
    pub anchors: std::ops::Range<u32>,
}

/// A place where a piece of stored data lives: a disk, or the deepest component a
/// data centre has (host, rack, or the site itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    pub node: NodeId,
    /// Index into `World::datacenters`.
    pub datacenter: u32,
    /// The rack within its data centre (0 when the site has no racks).
    pub rack: u32,
    /// Whether its own failure destroys what it stores (a disk), or only makes it
    /// unreachable (a host, rack or site without disks).
    pub loses_data: bool,
    /// The components between the place and its site, from the place up (a disk, its
    /// host, its rack: as deep as the site goes), in `within[..depth]`. The place is
    /// reachable while each of them is up on its own and the site is up (they need
    /// nothing else).
    pub within: [NodeId; 3],
    pub depth: u8,
}

impl Anchor {
    /// The components between the place and its site, from the place up.
    pub fn within_site(&self) -> &[NodeId] {
        &self.within[..usize::from(self.depth)]
    }
}

impl World {
    /// The nodes whose states decide whether place `a` is reachable: its parts (the
    /// place itself first, unless the place is its site) and its site. A disk has no
    /// inputs in the structure (only durability watches it, and it hears of the disk's
    /// host and rack on their own), so what a place rests on is the upstream of these
    /// nodes.
    pub fn place_rests_on(&self, a: u32) -> impl Iterator<Item = NodeId> + '_ {
        let anchor = &self.anchors[a as usize];
        let site = self.datacenters[anchor.datacenter as usize].node;
        anchor
            .within_site()
            .iter()
            .copied()
            .chain(std::iter::once(site))
    }
}

impl Datacenter {
    pub fn hosts(&self) -> u64 {
        u64::from(self.racks) * u64::from(self.hosts_per_rack)
    }

    pub fn disks(&self) -> u64 {
        self.hosts() * u64::from(self.disks_per_host)
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub kind: ServiceKind,
    /// Up exactly when the service is up.
    pub node: NodeId,
    pub slas: Vec<Sla>,
    /// What the service costs a month, for turning credits into money.
    pub monthly_bill: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    /// Object groups stored as replicas or erasure-coded fragments across data
    /// centres; up while every group can be read.
    Storage {
        store: Box<Store>,
        /// One node per object group, driven by the durability model: up while enough
        /// of its pieces exist and are reachable.
        groups: Vec<NodeId>,
        /// Each group's share of requests, in integer units (so that sums are exact);
        /// equal unless a popularity skew is given.
        popularity: Vec<u64>,
        /// Probability that a five-minute period sees at least one request.
        request_factor: f64,
    },
    /// Instances in data centres; up while at least `min_up` are up.
    Compute {
        /// (data centre index, instances there).
        instances: Vec<(usize, u32)>,
        min_up: u32,
        /// One node per instance, in the order of `instances`.
        instance_nodes: Vec<NodeId>,
        /// Down exactly when some region has more than one of the service's zones
        /// (data centres) with none of its instances up: EC2's "region unavailable".
        regions_available: NodeId,
    },
    /// Tiers of instances, security groups and the flows between them; up while every
    /// tier and every flow is.
    Application(Box<Application>),
}

/// An n-tier application on compute instances. Its groups are fixed at launch, so
/// which pairs of instances each flow admits is decided once, when the scenario is
/// read, and the application is a node of the reliability structure like any other:
///
/// - per tier, "at least `min_up` instances up" (and its load balancer up);
/// - per flow, "some admitted pair has a healthy instance on each side": any over the
///   pairs, each pair all of its two sides ("some instance of the profile is up"; two
///   instances for a profile talking to itself; the internet is always there);
/// - a flow no rule admits is a node that is down for the whole trial, the cause
///   "security-group misconfiguration";
/// - the application: all of its tiers and flows.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub security: SecurityModel,
    pub tiers: Vec<AppTier>,
    pub flows: Vec<AppFlow>,
    /// Every instance, tier by tier (see [`AppTier::instance_range`]).
    pub instance_nodes: Vec<NodeId>,
    /// As for compute: down exactly when some region has more than one of the
    /// application's zones with none of its instances up.
    pub regions_available: NodeId,
    /// GB kept in the cloud's storage.
    pub stored_gb: f64,
    pub prices: Prices,
    pub network: Network,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppTier {
    pub name: String,
    /// (data centre index, instances there).
    pub instances: Vec<(usize, u32)>,
    /// The groups every instance is launched with, in the order given.
    pub groups: Vec<GroupId>,
    /// The range of the tier's elastic addresses, if known.
    pub public_addresses: Option<Cidr>,
    pub min_up: u32,
    pub load_balancer: Option<Process>,
    pub load_balancer_node: Option<NodeId>,
    /// The load balancer's health checks: hours from an instance's failure until it
    /// gets no more traffic, and the nodes `crate::health` watches (one per instance,
    /// following it, then one following the tier's node).
    pub health_check: Option<HealthCheck>,
    /// Up while at least `min_up` instances are up and the load balancer (if any) is.
    pub node: NodeId,
    /// The tier's instances: a range of [`Application::instance_nodes`]. With
    /// auto-scaling these are the instance slots' nodes.
    pub instance_range: std::ops::Range<usize>,
    pub autoscaling: Option<Autoscaling>,
}

/// A load balancer's health checks on a tier's instances.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    /// Hours from an instance's failure until the load balancer stops sending it
    /// requests (more than 0).
    pub delay: f64,
    /// Per instance of the tier, a node up exactly while it is.
    pub instances: Vec<NodeId>,
    /// A node up exactly while the tier is.
    pub tier: NodeId,
}

/// A tier's auto-scaling group: each instance is a *slot*, a node with no process of
/// its own that `crate::autoscaling` sets up while the slot's current incarnation (the
/// first instance, or the latest replacement) is up.
#[derive(Debug, Clone, PartialEq)]
pub struct Autoscaling {
    /// Time from a launch until the replacement is up.
    pub launch_delay: Law,
    /// Time from a failure until the group notices it; `None`: at once.
    pub detection: Option<Law>,
    /// The instances first launched, one per slot, in the order of the tier's
    /// `instances` (the slots' nodes are the tier's range of
    /// [`Application::instance_nodes`]).
    pub originals: Vec<NodeId>,
    /// The data centre each slot starts in (indices into `World::datacenters`).
    pub home: Vec<usize>,
    /// Per data centre of the tier, in the tier's order: (data centre, a node up
    /// exactly when its site is) — where replacements may be launched.
    pub sites: Vec<(usize, NodeId)>,
    /// A replacement's own process (the instance law); `None`: replacements fail only
    /// with their site.
    pub instance_law: Option<Process>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AppFlow {
    /// Origin, destination tier, protocol, port and addressing (`via`: always public
    /// from the internet).
    pub flow: security::Flow,
    /// GB carried a month (flows between tiers).
    pub gb_per_month: f64,
    /// How many (source profile, destination profile) pairs the groups admit; 0: the
    /// flow, hence the application, is never up.
    pub admitted_pairs: usize,
    /// Up while some admitted pair has a healthy instance on each side.
    pub node: NodeId,
}

/// A tier as the security model sees it: every instance launched with `groups`, so one
/// profile, whose public addresses lie in `public_addresses` when they are known.
pub fn security_tier(
    name: &str,
    groups: &[GroupId],
    public_addresses: Option<Cidr>,
) -> security::Tier {
    let profile = Profile::new(groups);
    let profile = match public_addresses {
        Some(range) => profile.with_public_range(range),
        None => profile,
    };
    security::Tier::new(name, vec![profile])
}

/// Hours in a month for billing: a twelfth of a 365-day year.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Prices, in US dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    pub instance_hour: f64,
    pub storage_gb_month: f64,
    /// Per GB, charged on each side of traffic between instances over public or
    /// elastic addresses.
    pub regional_transfer_gb: f64,
}

impl Prices {
    /// EC2's and S3's prices as published in 2008: a small instance $0.10 an hour,
    /// S3 storage $0.15 a GB-month, regional data transfer $0.01 a GB in and $0.01 a
    /// GB out (traffic over private addresses within a zone was free).
    pub const PUBLISHED_2008: Prices = Prices {
        instance_hour: 0.10,
        storage_gb_month: 0.15,
        regional_transfer_gb: 0.01,
    };
}

/// A typical route between two instances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Route {
    pub round_trip_ms: f64,
    pub hops: u32,
}

/// Typical routes by addressing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Network {
    pub private: Route,
    pub public: Route,
}

impl Network {
    /// As measured in 2008 between two instances: about 0.3 ms and 3 hops over private
    /// addresses, about 1.5 ms and 12 hops over public ones.
    pub const TYPICAL_2008: Network = Network {
        private: Route {
            round_trip_ms: 0.3,
            hops: 3,
        },
        public: Route {
            round_trip_ms: 1.5,
            hops: 12,
        },
    };

    pub fn route(&self, via: Via) -> Route {
        match via {
            Via::Private => self.private,
            Via::Public => self.public,
        }
    }
}

/// What an application costs a month.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyCost {
    /// Every instance, all month.
    pub instances: f64,
    pub storage: f64,
    /// Per flow: regional transfer (flows between tiers over public addresses; 0
    /// otherwise).
    pub transfer: Vec<f64>,
    pub total: f64,
}

impl Application {
    pub fn instance_count(&self) -> u64 {
        self.instance_nodes.len() as u64
    }

    /// The tiers as the security model sees them: one profile each.
    pub fn security_tiers(&self) -> Vec<security::Tier> {
        self.tiers
            .iter()
            .map(|t| security_tier(&t.name, &t.groups, t.public_addresses))
            .collect()
    }

    pub fn security_flows(&self) -> Vec<security::Flow> {
        self.flows.iter().map(|f| f.flow).collect()
    }

    /// The security audit of the application's groups against its tiers and flows.
    pub fn audit(&self) -> Vec<Finding> {
        security::audit(
            &self.security,
            &self.security_tiers(),
            &self.security_flows(),
        )
    }

    /// Where a flow comes from: "internet" or a tier's name.
    pub fn origin_name(&self, flow: &AppFlow) -> &str {
        match flow.flow.from {
            Origin::Internet => "internet",
            Origin::Tier(t) => &self.tiers[t].name,
        }
    }

    /// The typical route of a flow between tiers (`None` from the internet, whose
    /// route depends on the client).
    pub fn route(&self, flow: &AppFlow) -> Option<Route> {
        match flow.flow.from {
            Origin::Internet => None,
            Origin::Tier(_) => Some(self.network.route(flow.flow.via)),
        }
    }

    /// Instances all month, storage, and regional transfer for flows between tiers over
    /// public addresses (the GB carried, charged to the sender and to the receiver).
    pub fn monthly_cost(&self) -> MonthlyCost {
        let p = &self.prices;
        let instances = self.instance_count() as f64 * HOURS_PER_MONTH * p.instance_hour;
        let storage = self.stored_gb * p.storage_gb_month;
        let transfer: Vec<f64> = self
            .flows
            .iter()
            .map(|f| match (f.flow.from, f.flow.via) {
                (Origin::Tier(_), Via::Public) => f.gb_per_month * 2.0 * p.regional_transfer_gb,
                _ => 0.0,
            })
            .collect();
        let total = instances + storage + transfer.iter().sum::<f64>();
        MonthlyCost {
            instances,
            storage,
            transfer,
            total,
        }
    }
}

/// How a storage service keeps its object groups: redundancy, placement, repair.
#[derive(Debug, Clone, PartialEq)]
pub struct Store {
    pub redundancy: Redundancy,
    pub placement: Placement,
    /// The data centres the service may use, in the scenario's order (indices into
    /// `World::datacenters`).
    pub datacenters: Vec<usize>,
    /// Pieces per data centre at the start, for placements that fix them.
    pub per_datacenter: Vec<(usize, u32)>,
    /// Where each piece starts: `pieces[g * redundancy.pieces + i]` is an index into
    /// `World::anchors`.
    pub pieces: Vec<u32>,
    pub repair: Repair,
    /// Bytes in one object group (its data, not counting redundancy).
    pub group_bytes: Option<f64>,
}

impl Store {
    pub fn object_groups(&self) -> usize {
        self.pieces.len() / self.redundancy.pieces as usize
    }
}

/// Replicas or an erasure code: `pieces` per group, readable while `needed` remain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redundancy {
    pub pieces: u32,
    pub needed: u32,
    pub erasure_coded: bool,
}

impl Redundancy {
    pub fn replicas(n: u32) -> Self {
        Redundancy {
            pieces: n,
            needed: 1,
            erasure_coded: false,
        }
    }

    pub fn erasure_code(data: u32, parity: u32) -> Self {
        Redundancy {
            pieces: data + parity,
            needed: data,
            erasure_coded: true,
        }
    }

    /// Pieces that may be lost without losing data.
    pub fn tolerated(&self) -> u32 {
        self.pieces - self.needed
    }
}

impl std::fmt::Display for Redundancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.erasure_coded {
            write!(f, "{}+{} erasure code", self.needed, self.tolerated())
        } else {
            write!(f, "{} replicas", self.pieces)
        }
    }
}

/// How pieces are first placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// A fixed number per data centre, on distinct racks where possible.
    PerDatacenter,
    /// Distinct places drawn uniformly from the service's data centres.
    Random,
    /// Copysets: places cut into fixed groups of `pieces` by `permutations` random
    /// permutations; each object group lives on one copyset.
    Copysets { scatter_width: u32 },
}

/// How lost pieces are re-created.
#[derive(Debug, Clone, PartialEq)]
pub struct Repair {
    /// Time from a loss until the system notices it; `None`: at once.
    pub detection: Option<Law>,
    pub copy: CopyTime,
    /// At most this many copies at once in the service (`None`: no limit); others
    /// wait their turn, first come first served.
    pub crews: Option<u32>,
}

/// How long re-creating one piece takes once it starts.
#[derive(Debug, Clone, PartialEq)]
pub enum CopyTime {
    /// No time at all: only the detection delay counts.
    Instant,
    /// A duration drawn from a law.
    Law(Law),
    /// The group's bytes over a link whose bandwidth concurrent copies share equally:
    /// the link inside the target's data centre when a source is there, otherwise
    /// the link between the two data centres. In bytes per hour.
    Bandwidth { within: f64, between: f64 },
}
impl ServiceKind {
    pub fn name(&self) -> &'static str {
        match self {
            ServiceKind::Storage { .. } => "storage",
            ServiceKind::Compute { .. } => "compute",
            ServiceKind::Application(_) => "application",
        }
    }
}
