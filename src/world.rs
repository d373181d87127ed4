//! The cloud model, validated: failure domains, data centres and their components,
//! services and their SLAs, lowered onto a reliability [`Structure`].
//!
//! A `World` is built once per scenario (see [`crate::scenario`]) and shared read-only
//! by every trial. Everything in it has been checked: ids resolve, laws are valid,
//! counts fit.

use crate::reliability::{InitialState, NodeId, Process, Structure};
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
    /// Object groups replicated across data centres; up while every group has a
    /// reachable replica.
    Storage {
        replicas: u32,
        /// (data centre index, replicas there) per group.
        per_datacenter: Vec<(usize, u32)>,
        /// One node per object group: up while a replica is reachable.
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
}

impl ServiceKind {
    pub fn name(&self) -> &'static str {
        match self {
            ServiceKind::Storage { .. } => "storage",
            ServiceKind::Compute { .. } => "compute",
        }
    }
}
