//! The scenario file as written: serde types that mirror the JSON, nothing more.
//! Every field is checked and lowered into the [`World`](crate::world::World) by
//! `scenario::lower`. The JSON Schema printed by `nines schema` is derived from
//! these types, so the schema and the parser cannot disagree.

use super::units::{DurationText, PercentText, RateText, SizeText};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;

/// A scenario: the infrastructure, its failure domains, the services on it and their SLAs.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name shown in reports and in the JSON output.
    pub name: String,
    /// Free text: what the scenario models and where its numbers come from.
    #[serde(default)]
    pub description: Option<String>,
    /// Simulated time per trial (default "1 year"). SLA windows that do not fit
    /// entirely inside the horizon are not counted.
    #[serde(default)]
    pub horizon: Option<DurationText>,
    /// Default number of Monte Carlo trials (default 10,000); `--trials` overrides it.
    #[serde(default)]
    pub trials: Option<u64>,
    /// Default seed (default 1); `--seed` overrides it. Replica placement is drawn
    /// from this seed, so it is part of the design, not of the run.
    #[serde(default)]
    pub seed: Option<u64>,
    /// How each trial starts (default "steady_state").
    #[serde(default)]
    pub initial_state: Option<InitialStateSpec>,
    /// Failure domains: power grids, flood plains, bandwidth providers, custom kinds.
    #[serde(default)]
    pub failure_domains: Vec<DomainSpec>,
    pub datacenters: Vec<DatacenterSpec>,
    /// Failure and repair laws for each kind of component inside a data centre. A kind
    /// that is not listed never fails.
    #[serde(default)]
    pub components: ComponentsSpec,
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    /// Prices for costing applications, in US dollars (default: as published in 2008).
    #[serde(default)]
    pub prices: Option<PricesSpec>,
    /// Typical round trips and hops between instances, by addressing, reported for
    /// applications' flows (default: as measured in 2008).
    #[serde(default)]
    pub network: Option<NetworkSpec>,
    /// Settings for `nines sweep`: field paths (e.g. `datacenters[0].racks`) and the
    /// values to try; the sweep runs every combination. Ignored by `nines run`.
    #[serde(default)]
    pub sweep: Option<std::collections::BTreeMap<String, Vec<serde_json::Value>>>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InitialStateSpec {
    /// Every component starts in its long-run state, as if the system had been
    /// running for ever: the right choice for "a typical year".
    SteadyState,
    /// Every component starts up and as new: "the first year after commissioning".
    AllNew,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    pub id: String,
    pub kind: DomainKindSpec,
    /// A name for a custom kind, e.g. "seismic_zone".
    #[serde(default)]
    pub label: Option<String>,
    /// Time from the end of one outage to the start of the next.
    pub between_events: LawSpec,
    /// How long an outage lasts.
    pub outage: LawSpec,
    /// Whether an outage only interrupts what sits in the domain (default) or also
    /// destroys it (a flood).
    #[serde(default)]
    pub effect: Option<EffectSpec>,
    /// Probability in [0, 1) that a data centre on this domain rides through an outage
    /// (e.g. on its generators); each site decides independently at each outage.
    #[serde(default)]
    pub ride_through: Option<f64>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DomainKindSpec {
    PowerGrid,
    FloodPlain,
    BandwidthProvider,
    Custom,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EffectSpec {
    Interrupt,
    Destroy,
}

/// A probability law for a duration, tagged by its family.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LawSpec {
    Exponential {
        mean: DurationText,
    },
    Weibull {
        shape: f64,
        scale: DurationText,
    },
    /// ln X is normal with mean ln(median) and standard deviation sigma.
    Lognormal {
        median: DurationText,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        scale: DurationText,
    },
    Deterministic {
        value: DurationText,
    },
    /// Observed durations, drawn uniformly with replacement.
    Empirical {
        observations: Vec<DurationText>,
    },
}

/// A component kind's time to failure and time to repair.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailRepairSpec {
    pub fail: LawSpec,
    pub repair: LawSpec,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentsSpec {
    /// The data centre's own facility (cooling, fire, internal power distribution).
    #[serde(default)]
    pub facility: Option<FailRepairSpec>,
    #[serde(default)]
    pub rack: Option<FailRepairSpec>,
    #[serde(default)]
    pub host: Option<FailRepairSpec>,
    #[serde(default)]
    pub disk: Option<FailRepairSpec>,
    /// Compute instances (software and virtualisation failures, on top of their host's).
    #[serde(default)]
    pub instance: Option<FailRepairSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatacenterSpec {
    pub id: String,
    /// Region (a label; data centres of a region are its availability zones).
    pub region: String,
    /// Failure domains the site needs all of: power grids, flood plains, custom kinds.
    #[serde(default)]
    pub on: Vec<String>,
    /// Bandwidth providers: the site is reachable while any one of them is up.
    #[serde(default)]
    pub providers: Vec<String>,
    /// Facility laws for this site, overriding `components.facility`.
    #[serde(default)]
    pub facility: Option<FailRepairSpec>,
    #[serde(default)]
    pub racks: u32,
    #[serde(default)]
    pub hosts_per_rack: u32,
    #[serde(default)]
    pub disks_per_host: u32,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    /// Give exactly one of `storage`, `compute` and `application`.
    #[serde(default)]
    pub storage: Option<StorageSpec>,
    #[serde(default)]
    pub compute: Option<ComputeSpec>,
    #[serde(default)]
    pub application: Option<ApplicationSpec>,
    #[serde(default)]
    pub slas: Vec<SlaSpec>,
    /// What the service costs a month (any currency): reports then give credits in
    /// money. A yearly window's bill is twelve months'.
    #[serde(default)]
    pub monthly_bill: Option<f64>,
}

/// Object storage: the service is up while every object group can be read. Each
/// group is kept as replicas or as erasure-coded fragments ("pieces"); a disk failure
/// or a destroying domain outage loses the pieces there, and the system re-creates
/// them (see `repair`). A group whose pieces are all lost (more than the parity, for
/// a code) is lost for good.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageSpec {
    pub object_groups: u32,
    /// Replicas per object group. With `per_datacenter` placement it may be omitted
    /// (it is then the placement's sum) and, if given, must equal it.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// An erasure code instead of replicas: `data` fragments plus `parity`; readable
    /// while `data` fragments are reachable, lost when more than `parity` are lost.
    #[serde(default)]
    pub erasure_code: Option<ErasureCodeSpec>,
    pub placement: PlacementSpec,
    /// How requests arrive, for S3's error-rate measure (default: every five-minute
    /// period has requests, spread evenly over object groups).
    #[serde(default)]
    pub requests: Option<RequestsSpec>,
    /// Data in one object group, e.g. "100 GB": needed for a repair `bandwidth`, and
    /// gives the bytes lost.
    #[serde(default)]
    pub object_group_size: Option<SizeText>,
    /// How lost pieces are re-created (default: noticed after 15 minutes, copied at
    /// once, no limit on concurrent copies).
    #[serde(default)]
    pub repair: Option<RepairSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureCodeSpec {
    pub data: u32,
    pub parity: u32,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairSpec {
    /// Time from a loss until the system notices it: a duration (e.g. "15 min",
    /// "0 s" for at once) or a law.
    #[serde(default)]
    pub detection: Option<DelaySpec>,
    /// How long re-creating a piece takes, as a law. Give this or `bandwidth`, not
    /// both; with neither, copies take no time.
    #[serde(default)]
    pub copy: Option<LawSpec>,
    /// Copy time from the group's size and bandwidth that concurrent copies share.
    #[serde(default)]
    pub bandwidth: Option<BandwidthSpec>,
    /// At most this many copies at once in the service; more wait their turn.
    #[serde(default)]
    pub crews: Option<u32>,
}

/// A fixed duration, or a law.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DelaySpec {
    Fixed(DurationText),
    Law(LawSpec),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthSpec {
    /// Repair bandwidth inside a data centre (copies from a piece in the same site).
    pub within_datacenter: RateText,
    /// Repair bandwidth between two data centres (one link per pair).
    pub between_datacenters: RateText,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestsSpec {
    /// Mean requests per second (a Poisson stream). A five-minute period with no
    /// request has an error rate of 0 %.
    #[serde(default)]
    pub per_second: Option<f64>,
    /// Popularity skew: the k-th object group gets requests in proportion to
    /// 1 / k^s (Zipf); 0 (the default) spreads them evenly.
    #[serde(default)]
    pub zipf_exponent: Option<f64>,
}

/// Where pieces go. Give exactly one of `per_datacenter`, `random` and `copysets`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    /// Pieces of each object group in each data centre, on distinct racks where the
    /// site has enough of them, otherwise on distinct disks (S3: two in each of three).
    #[serde(default)]
    pub per_datacenter: Option<BTreeMap<String, u32>>,
    /// Each piece on a distinct place drawn uniformly over these data centres.
    #[serde(default)]
    pub random: Option<RandomPlacementSpec>,
    /// Copysets (Cidon et al., 2013): the places are cut into a limited number of
    /// fixed sets, and each object group lives on one set.
    #[serde(default)]
    pub copysets: Option<CopysetsSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RandomPlacementSpec {
    pub datacenters: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CopysetsSpec {
    pub datacenters: Vec<String>,
    /// How many other places hold copies of data from any one place; sets the
    /// number of permutations to scatter_width / (pieces - 1), rounded up.
    pub scatter_width: u32,
}

/// Compute instances: the service is up while at least `min_up` instances are up.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputeSpec {
    /// Instances in each data centre, spread over its racks and hosts.
    pub instances: BTreeMap<String, u32>,
    pub min_up: u32,
}

/// An n-tier application on compute instances: tiers of instances launched with
/// security groups, optionally behind a load balancer, and the flows of traffic the
/// application needs between the internet and its tiers. It is up while every tier has
/// `min_up` instances up (and its load balancer up), and every flow has a healthy
/// sender and a healthy receiver whose groups admit the traffic.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSpec {
    /// The account the security groups belong to.
    pub account: String,
    /// The account's security groups and their inbound rules. The group "default"
    /// always exists and admits everything from its own members; declaring it adds
    /// rules. Whatever no rule admits is denied.
    #[serde(default)]
    pub security_groups: Vec<SecurityGroupSpec>,
    pub tiers: Vec<TierSpec>,
    /// Traffic the application needs; each must be admitted for some pair of
    /// instances, or the application is never up.
    #[serde(default)]
    pub flows: Vec<FlowSpec>,
    /// Data the application keeps in the cloud's storage, in GB, costed at
    /// `prices.storage_gb_month` (default 0).
    #[serde(default)]
    pub stored_gb: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupSpec {
    pub name: String,
    /// Inbound rules: `PROTOCOL [PORTS] from SOURCE`, e.g. "tcp 443 from 0.0.0.0/0",
    /// "tcp 8080 from group web", "udp 6000-6010 from 10.0.0.0/8", "icmp from group
    /// default", "tcp 8080 from group web of account partner".
    #[serde(default)]
    pub rules: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// The tier's name (not "internet", without ":").
    pub name: String,
    /// Instances in each data centre, spread over its racks and hosts like a compute
    /// service's.
    pub instances: BTreeMap<String, u32>,
    /// The security groups every instance of the tier is launched with (fixed for its
    /// life).
    pub groups: Vec<String>,
    /// The tier is up while at least this many of its instances are up.
    pub min_up: u32,
    /// A load balancer in front of the tier, failing and repaired on its own: the tier
    /// is down while it is.
    #[serde(default)]
    pub load_balancer: Option<LoadBalancerSpec>,
    /// The range the tier's elastic addresses lie in, e.g. "75.101.8.0/29". Without it
    /// the instances' public addresses come from the cloud's pool, unknown in advance,
    /// so only a "0.0.0.0/0" rule admits what they send to public addresses.
    #[serde(default)]
    pub public_addresses: Option<String>,
    /// Replace failed instances automatically: each instance is a slot, up while its
    /// current incarnation is.
    #[serde(default)]
    pub autoscaling: Option<AutoscalingSpec>,
}

/// A load balancer in front of a tier: its time to failure and time to repair, and
/// how soon it stops sending traffic to a failed instance.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerSpec {
    pub fail: LawSpec,
    pub repair: LawSpec,
    /// Time from an instance's failure until the load balancer's health checks notice
    /// it and stop sending it traffic (more than 0), e.g. "30 s". With it the report
    /// gives the share of the tier's requests that failed.
    #[serde(default)]
    pub health_check: Option<DurationText>,
}

/// An auto-scaling group keeping a tier's instance count.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    /// Time from the launch of a replacement until it is up (more than 0).
    pub launch_delay: DelaySpec,
    /// Time from an instance's failure until the group notices it (default "0 s").
    #[serde(default)]
    pub detection: Option<DelaySpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// "internet", or a tier's name.
    pub from: String,
    /// A tier's name.
    pub to: String,
    pub protocol: ProtocolSpec,
    /// The destination port (tcp and udp; icmp takes none).
    #[serde(default)]
    pub port: Option<u16>,
    /// Which of the destination's addresses the senders use (default "private" between
    /// tiers; traffic from the internet always arrives at public addresses). Over
    /// public addresses senders are seen by their public address only: only
    /// address-range rules admit them, and the traffic is charged as regional transfer.
    #[serde(default)]
    pub addressing: Option<AddressingSpec>,
    /// Data the flow carries a month, in GB, for its transfer cost (between tiers only).
    #[serde(default)]
    pub gb_per_month: Option<f64>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProtocolSpec {
    Tcp,
    Udp,
    Icmp,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AddressingSpec {
    /// The destination's private address: free, and the shorter route.
    Private,
    /// The destination's public or elastic address.
    Public,
}

/// Prices, in US dollars. The defaults are EC2's and S3's prices as published in 2008:
/// a small instance $0.10 an hour, storage $0.15 a GB-month, regional data transfer
/// $0.01 a GB on each side (charged for traffic between instances over public or
/// elastic addresses; traffic over private addresses is taken as staying in its zone,
/// which was free).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PricesSpec {
    /// One instance for one hour (default 0.10).
    #[serde(default)]
    pub instance_hour: Option<f64>,
    /// One GB stored for a month (default 0.15).
    #[serde(default)]
    pub storage_gb_month: Option<f64>,
    /// One GB of regional transfer, charged to the sender and to the receiver
    /// (default 0.01).
    #[serde(default)]
    pub regional_transfer_gb: Option<f64>,
}

/// Typical routes between instances (defaults as measured in 2008: about 0.3 ms and 3
/// hops over private addresses, about 1.5 ms and 12 hops over public ones).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    #[serde(default)]
    pub private: Option<RouteSpec>,
    #[serde(default)]
    pub public: Option<RouteSpec>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Typical round trip (ping), in milliseconds.
    pub round_trip_ms: f64,
    /// Typical number of network hops.
    pub hops: u32,
}

/// An SLA: either a built-in `contract` (optionally renamed), or a `target`, a
/// `window`, a `measure` and optional `credits`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaSpec {
    /// A published agreement, reproduced as written (see README, "SLA risk").
    #[serde(default)]
    pub contract: Option<ContractSpec>,
    /// Shown in reports; defaults to the contract's title.
    #[serde(default)]
    pub name: Option<String>,
    /// The committed uptime, e.g. "99.9%". A window whose uptime is below it breaches.
    #[serde(default)]
    pub target: Option<PercentText>,
    #[serde(default)]
    pub window: Option<WindowSpec>,
    /// How uptime is measured (default "downtime").
    #[serde(default)]
    pub measure: Option<MeasureSpec>,
    /// Service credits: a window whose uptime is below a tier's threshold earns that
    /// tier's credit (the lowest threshold passed wins; exactly the threshold earns
    /// nothing).
    #[serde(default)]
    pub credits: Option<Vec<CreditTierSpec>>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
pub enum ContractSpec {
    /// S3, 2007: 99.9 % a calendar month by average five-minute error rate; credits
    /// 10 % below 99.9 %, 25 % below 99.0 %.
    #[serde(rename = "s3-2007")]
    S3_2007,
    /// S3 Standard, current: as 2007, plus 100 % below 95.0 %.
    #[serde(rename = "s3-current")]
    S3Current,
    /// EC2, 2008: 99.95 % over the Service Year, by five-minute periods of region
    /// unavailability; 10 % below.
    #[serde(rename = "ec2-2008")]
    Ec2_2008,
    /// EC2 region level, current: 99.99 % a month by minutes of region
    /// unavailability; 10 / 30 / 100 % below 99.99 / 99.0 / 95.0 %.
    #[serde(rename = "ec2-region-current")]
    Ec2RegionCurrent,
    /// EC2 instance level, current: 99.5 % a month per instance;
    /// 10 / 30 / 100 % below 99.5 / 99.0 / 95.0 %.
    #[serde(rename = "ec2-instance-current")]
    Ec2InstanceCurrent,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WindowSpec {
    /// Calendar months of a 365-day year (31, 28, 31, 30, ... days).
    Month,
    /// Consecutive 30-day months.
    #[serde(rename = "month_30_days")]
    Month30Days,
    /// Consecutive 365-day years.
    Year,
    /// The 365 days before a claim, claims at each month end from the end of the
    /// first year (EC2 2008); with a one-year horizon, the year.
    ServiceYear,
}

#[derive(Debug, Clone, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum MeasureSpec {
    /// Uptime = 1 - (time the service is down) / (window length).
    Downtime,
    /// Storage only: S3's average of five-minute error rates, computed exactly from
    /// the fraction of object groups that are unreadable.
    ErrorRate,
    /// Compute and applications: the share of periods in which more than one zone (data
    /// centre) of a region had none of the service's instances up.
    RegionUnavailable {
        /// Period length, a whole number of minutes that divides an hour (EC2 2008: 5).
        period: DurationText,
        /// How a partly unavailable period counts (default "any").
        #[serde(default)]
        partial: Option<PartialSpec>,
    },
    /// Compute and applications: each instance's own uptime; every instance is judged
    /// separately.
    InstanceUptime,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum PartialSpec {
    /// A period counts if any part of it was unavailable.
    Any,
    /// A period counts only if all of it was unavailable.
    Whole,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditTierSpec {
    /// A window with uptime below this earns the credit, e.g. "99.9%".
    pub below: PercentText,
    /// Credit as a percentage of the window's bill, e.g. "10%".
    pub credit: PercentText,
}
