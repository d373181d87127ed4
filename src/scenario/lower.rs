//! Checks a raw scenario field by field and lowers it into a [`World`].

use super::application;
use super::raw::{self, LawSpec};
use super::storage;
use super::units::{self, DurationText, HOURS_PER_YEAR};
use super::{Limits, ScenarioError};
use crate::laws::Law;
use crate::reliability::{
    InitialState, Input, NodeId, Process, Requirement, Structure, StructureBuilder,
};
use crate::sla::{Contract, CreditTiers, Measure, PartialPeriods, Sla, Window};
use crate::world::{
    Anchor, Causes, Datacenter, Domain, DomainKind, Effect, Service, ServiceKind, World,
};
use std::collections::{BTreeMap, HashMap, HashSet};

type Result<T> = std::result::Result<T, ScenarioError>;

const DEFAULT_TRIALS: u64 = 10_000;
const DEFAULT_SEED: u64 = 1;
const MAX_HORIZON_YEARS: f64 = 1000.0;

pub(super) fn err<T>(path: impl Into<String>, reason: impl Into<String>) -> Result<T> {
    Err(ScenarioError::new(path, reason))
}

pub(super) fn duration(text: &DurationText, path: &str) -> Result<f64> {
    text.hours()
        .map_err(|reason| ScenarioError::new(path, reason))
}

/// Lowers a law, pointing errors at the parameter they concern.
pub(super) fn law(spec: &LawSpec, path: &str) -> Result<Law> {
    let (family, result) = match spec {
        LawSpec::Exponential { mean } => (
            "exponential",
            Law::exponential(duration(mean, &format!("{path}.exponential.mean"))?),
        ),
        LawSpec::Weibull { shape, scale } => (
            "weibull",
            Law::weibull(*shape, duration(scale, &format!("{path}.weibull.scale"))?),
        ),
        LawSpec::Lognormal { median, sigma } => (
            "lognormal",
            Law::lognormal(
                duration(median, &format!("{path}.lognormal.median"))?,
                *sigma,
            ),
        ),
        LawSpec::Gamma { shape, scale } => (
            "gamma",
            Law::gamma(*shape, duration(scale, &format!("{path}.gamma.scale"))?),
        ),
        LawSpec::Deterministic { value } => (
            "deterministic",
            Law::deterministic(duration(value, &format!("{path}.deterministic.value"))?),
        ),
        LawSpec::Empirical { observations } => {
            let hours = observations
                .iter()
                .enumerate()
                .map(|(i, o)| duration(o, &format!("{path}.empirical.observations[{i}]")))
                .collect::<Result<Vec<f64>>>()?;
            ("empirical", Law::empirical(hours))
        }
    };
    result.map_err(|e| {
        // Law errors start with the parameter's name: point the path at it.
        let parameter: String = e.0.chars().take_while(|c| c.is_alphanumeric()).collect();
        let field = match parameter.as_str() {
            "shape" | "scale" | "mean" | "median" | "sigma" | "value" => format!(".{parameter}"),
            "observation" | "observations" => ".observations".to_string(),
            _ => String::new(),
        };
        ScenarioError::new(format!("{path}.{family}{field}"), e.0.clone())
    })
}

pub(super) fn process(spec: &raw::FailRepairSpec, path: &str) -> Result<Process> {
    Ok(Process {
        up: law(&spec.fail, &format!("{path}.fail"))?,
        down: law(&spec.repair, &format!("{path}.repair"))?,
    })
}

fn optional_process(spec: &Option<raw::FailRepairSpec>, path: &str) -> Result<Option<Process>> {
    spec.as_ref().map(|s| process(s, path)).transpose()
}

fn non_empty_id(id: &str, path: &str) -> Result<()> {
    if id.trim().is_empty() {
        return err(path, "must not be empty");
    }
    Ok(())
}

/// Checks that every id in a list is new, and indexes them.
fn index_ids<'a>(
    ids: impl Iterator<Item = &'a str>,
    path: &str,
) -> Result<HashMap<&'a str, usize>> {
    let mut index = HashMap::new();
    for (i, id) in ids.enumerate() {
        let item = format!("{path}[{i}].id");
        non_empty_id(id, &item)?;
        if index.insert(id, i).is_some() {
            return err(item, format!("duplicate id `{id}`"));
        }
    }
    Ok(index)
}

pub(super) fn unknown(what: &str, id: &str, known: &HashMap<&str, usize>) -> String {
    let mut names: Vec<&str> = known.keys().copied().collect();
    names.sort_unstable();
    format!("unknown {what} `{id}` (known: {})", names.join(", "))
}

/// What the scenario needs so far, against the limits.
pub(super) struct Usage<'l> {
    limits: &'l Limits,
    nodes: u64,
    object_groups: u64,
    links: u64,
}

impl<'l> Usage<'l> {
    fn new(limits: &'l Limits) -> Self {
        Usage {
            limits,
            nodes: 0,
            object_groups: 0,
            links: 0,
        }
    }

    /// Estimated bytes: the shared world, and each worker's trial state.
    fn memory(&self) -> u64 {
        let shared = 56 * self.nodes + 40 * self.links;
        let per_worker = 48 * self.nodes + 10 * self.links;
        shared.saturating_add(per_worker.saturating_mul(self.limits.workers))
    }

    /// Adds `nodes` components and gates, `object_groups` groups and `links`
    /// dependency links needed at `path`; refuses them if a limit is passed.
    pub(super) fn add(
        &mut self,
        path: &str,
        nodes: u64,
        object_groups: u64,
        links: u64,
    ) -> Result<()> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.object_groups = self.object_groups.saturating_add(object_groups);
        self.links = self.links.saturating_add(links);
        let limits = self.limits;
        if self.nodes > limits.max_components {
            return err(
                path,
                format!(
                    "the scenario needs more than {} components and gates (the limit); use \
                     fewer, larger units, or raise it with --max-components",
                    limits.max_components
                ),
            );
        }
        if self.object_groups > limits.max_object_groups {
            return err(
                path,
                format!(
                    "the scenario has more than {} object groups (the limit); raise it with \
                     --max-object-groups",
                    limits.max_object_groups
                ),
            );
        }
        if self.memory() > limits.max_memory {
            return err(
                path,
                format!(
                    "the scenario would need about {} MiB with {} worker(s), more than the limit \
                     of {} MiB; raise it with --max-memory or use fewer --threads",
                    self.memory() >> 20,
                    limits.workers,
                    limits.max_memory >> 20
                ),
            );
        }
        Ok(())
    }
}

/// Component laws shared by every data centre.
struct ComponentLaws {
    facility: Option<Process>,
    rack: Option<Process>,
    host: Option<Process>,
    disk: Option<Process>,
    instance: Option<Process>,
}

/// Node ids of a data centre's components, for placing replicas and instances.
pub(super) struct Layout {
    racks: Vec<NodeId>,
    hosts: Vec<NodeId>,
    /// Where replicas can live: disks, or hosts, racks, or the site itself when the
    /// scenario does not go that deep; grouped by rack.
    anchors_by_rack: Vec<Vec<NodeId>>,
}

pub(super) fn lower(s: &raw::Scenario, limits: &Limits) -> Result<World> {
    let mut usage = Usage::new(limits);
    if s.name.trim().is_empty() {
        return err("name", "must not be empty");
    }
    let horizon = match &s.horizon {
        Some(text) => duration(text, "horizon")?,
        None => HOURS_PER_YEAR,
    };
    if !(horizon > 0.0 && horizon <= MAX_HORIZON_YEARS * HOURS_PER_YEAR) {
        return err(
            "horizon",
            format!("must be more than 0 and at most {MAX_HORIZON_YEARS} years"),
        );
    }
    let default_trials = s.trials.unwrap_or(DEFAULT_TRIALS);
    if default_trials == 0 {
        return err("trials", "must be at least 1");
    }
    let default_seed = s.seed.unwrap_or(DEFAULT_SEED);
    let initial_state = match s.initial_state {
        None | Some(raw::InitialStateSpec::SteadyState) => InitialState::SteadyState,
        Some(raw::InitialStateSpec::AllNew) => InitialState::AllNew,
    };

    let mut builder = StructureBuilder::new();

    // Failure domains.
    let domain_index = index_ids(
        s.failure_domains.iter().map(|d| d.id.as_str()),
        "failure_domains",
    )?;
    let mut domains = Vec::with_capacity(s.failure_domains.len());
    for (i, d) in s.failure_domains.iter().enumerate() {
        let path = format!("failure_domains[{i}]");
        let process = Process {
            up: law(&d.between_events, &format!("{path}.between_events"))?,
            down: law(&d.outage, &format!("{path}.outage"))?,
        };
        let ride_through = d.ride_through.unwrap_or(0.0);
        if !(0.0..1.0).contains(&ride_through) {
            return err(
                format!("{path}.ride_through"),
                format!("must be a probability in [0, 1), got {ride_through}"),
            );
        }
        let kind = match d.kind {
            raw::DomainKindSpec::PowerGrid => DomainKind::PowerGrid,
            raw::DomainKindSpec::FloodPlain => DomainKind::FloodPlain,
            raw::DomainKindSpec::BandwidthProvider => DomainKind::BandwidthProvider,
            raw::DomainKindSpec::Custom => DomainKind::Custom,
        };
        let effect = match d.effect {
            None | Some(raw::EffectSpec::Interrupt) => Effect::Interrupt,
            Some(raw::EffectSpec::Destroy) => Effect::Destroy,
        };
        if effect == Effect::Destroy && ride_through > 0.0 {
            return err(
                format!("{path}.ride_through"),
                "a destroying outage cannot be ridden through; leave it out",
            );
        }
        let node = builder.add(
            &format!("domain:{}", d.id),
            Some(process.clone()),
            Requirement::All,
            &[],
        );
        domains.push(Domain {
            id: d.id.clone(),
            kind,
            label: d.label.clone(),
            process,
            effect,
            ride_through,
            node,
        });
    }

    let laws = ComponentLaws {
        facility: optional_process(&s.components.facility, "components.facility")?,
        rack: optional_process(&s.components.rack, "components.rack")?,
        host: optional_process(&s.components.host, "components.host")?,
        disk: optional_process(&s.components.disk, "components.disk")?,
        instance: optional_process(&s.components.instance, "components.instance")?,
    };

    // Data centres and their components.
    if s.datacenters.is_empty() {
        return err("datacenters", "at least one data centre is needed");
    }
    let dc_index = index_ids(s.datacenters.iter().map(|d| d.id.as_str()), "datacenters")?;
    let mut datacenters = Vec::with_capacity(s.datacenters.len());
    let mut layouts = Vec::with_capacity(s.datacenters.len());
    usage.add("failure_domains", domains.len() as u64, 0, 0)?;
    for (i, d) in s.datacenters.iter().enumerate() {
        let path = format!("datacenters[{i}]");
        if d.region.trim().is_empty() {
            return err(format!("{path}.region"), "must not be empty");
        }
        let on = resolve_domains(&d.on, &format!("{path}.on"), &domain_index, &domains, false)?;
        let providers = resolve_domains(
            &d.providers,
            &format!("{path}.providers"),
            &domain_index,
            &domains,
            true,
        )?;
        if d.hosts_per_rack > 0 && d.racks == 0 {
            return err(
                format!("{path}.hosts_per_rack"),
                "hosts need racks: set `racks`",
            );
        }
        if d.disks_per_host > 0 && d.hosts_per_rack == 0 {
            return err(
                format!("{path}.disks_per_host"),
                "disks need hosts: set `hosts_per_rack`",
            );
        }
        let racks = u64::from(d.racks);
        let hosts = racks.saturating_mul(u64::from(d.hosts_per_rack));
        let disks = hosts.saturating_mul(u64::from(d.disks_per_host));
        // The site, its racks, hosts and disks; at most an edge from each to what it
        // needs (disks have none).
        let nodes = (2 + racks).saturating_add(hosts).saturating_add(disks);
        let links = nodes.saturating_add((on.len() + providers.len()) as u64);
        usage.add(&path, nodes, 0, links)?;
        let facility = match &d.facility {
            Some(spec) => Some(process(spec, &format!("{path}.facility"))?),
            None => laws.facility.clone(),
        };
        let mut inputs: Vec<Input> = on
            .iter()
            .map(|&k| Input {
                node: domains[k].node,
                ride_through: domains[k].ride_through,
            })
            .collect();
        if !providers.is_empty() {
            let links: Vec<Input> = providers
                .iter()
                .map(|&k| Input {
                    node: domains[k].node,
                    ride_through: domains[k].ride_through,
                })
                .collect();
            let name = format!("dc:{}:providers", d.id);
            inputs.push(builder.add(&name, None, Requirement::Any, &links).into());
        }
        let node = builder.add(
            &format!("dc:{}", d.id),
            facility.clone(),
            Requirement::All,
            &inputs,
        );
        layouts.push(build_layout(&mut builder, node, d, &laws));
        datacenters.push(Datacenter {
            id: d.id.clone(),
            region: d.region.clone(),
            on,
            providers,
            facility,
            racks: d.racks,
            hosts_per_rack: d.hosts_per_rack,
            disks_per_host: d.disks_per_host,
            node,
            anchors: 0..0,
        });
    }
    let anchors = anchors_of(&mut datacenters, &layouts);

    let prices = application::prices(s.prices.as_ref())?;
    let network = application::network(s.network.as_ref())?;

    // Services.
    let mut service_names = HashSet::new();
    let mut services = Vec::with_capacity(s.services.len());
    for (i, spec) in s.services.iter().enumerate() {
        let path = format!("services[{i}]");
        non_empty_id(&spec.name, &format!("{path}.name"))?;
        if !service_names.insert(spec.name.as_str()) {
            return err(
                format!("{path}.name"),
                format!("duplicate service name `{}`", spec.name),
            );
        }
        let (kind, node) = match (&spec.storage, &spec.compute, &spec.application) {
            (Some(storage), None, None) => {
                let path = format!("{path}.storage");
                let store = storage::lower_store(
                    storage,
                    &path,
                    &spec.name,
                    &datacenters,
                    &anchors,
                    &dc_index,
                    default_seed,
                )?;
                let groups = u64::from(storage.object_groups);
                // Group nodes and the service node; each piece takes about as much
                // memory as a link.
                let links = groups.saturating_mul(u64::from(store.redundancy.pieces) + 1);
                usage.add(&format!("{path}.object_groups"), groups + 1, groups, links)?;
                let (popularity, request_factor) =
                    requests(storage.requests.as_ref(), storage.object_groups, &path)?;
                let (node, groups) = build_groups(&mut builder, &spec.name, storage.object_groups);
                let kind = ServiceKind::Storage {
                    store: Box::new(store),
                    groups,
                    popularity,
                    request_factor,
                };
                (kind, node)
            }
            (None, Some(compute), None) => {
                let path = format!("{path}.compute");
                let instances =
                    resolve_counts(&compute.instances, &format!("{path}.instances"), &dc_index)?;
                let total: u64 = instances.iter().map(|&(_, c)| u64::from(c)).sum();
                // Instances, the service, zones and regions; their links.
                usage.add(
                    &format!("{path}.instances"),
                    2 * total + 3,
                    0,
                    4 * total + 2,
                )?;
                if compute.min_up == 0 || u64::from(compute.min_up) > total {
                    return err(
                        format!("{path}.min_up"),
                        format!("must be between 1 and the number of instances ({total})"),
                    );
                }
                let (node, instance_nodes) = build_compute(
                    &mut builder,
                    &spec.name,
                    &instances,
                    &datacenters,
                    compute.min_up,
                    &layouts,
                    &laws.instance,
                );
                let regions_available = build_regions(
                    &mut builder,
                    &spec.name,
                    &instances,
                    &instance_nodes,
                    &datacenters,
                );
                let kind = ServiceKind::Compute {
                    instances,
                    min_up: compute.min_up,
                    instance_nodes,
                    regions_available,
                };
                (kind, node)
            }
            (None, None, Some(app)) => {
                let path = format!("{path}.application");
                let context = application::Context {
                    datacenters: &datacenters,
                    layouts: &layouts,
                    dc_index: &dc_index,
                    instance_law: &laws.instance,
                    prices,
                    network,
                };
                let (app, node) = application::lower_application(
                    app,
                    &path,
                    &spec.name,
                    &context,
                    &mut builder,
                    &mut usage,
                )?;
                (ServiceKind::Application(Box::new(app)), node)
            }
            _ => {
                return err(
                    path,
                    "give exactly one of `storage`, `compute` and `application`",
                );
            }
        };
        let slas = lower_slas(&spec.slas, &format!("{path}.slas"), horizon, &kind)?;
        let monthly_bill = spec.monthly_bill;
        if let Some(bill) = monthly_bill
            && !(bill.is_finite() && (0.0..=1e15).contains(&bill))
        {
            return err(
                format!("{path}.monthly_bill"),
                format!("must be a non-negative amount, got {bill}"),
            );
        }
        services.push(Service {
            name: spec.name.clone(),
            kind,
            node,
            slas,
            monthly_bill,
        });
    }

    let structure = builder.build();
    let causes = causes(&structure, &domains, &datacenters, &layouts, &services);
    Ok(World {
        name: s.name.clone(),
        description: s.description.clone(),
        horizon,
        default_trials,
        default_seed,
        initial_state,
        domains,
        datacenters,
        services,
        anchors,
        structure,
        causes,
    })
}

/// Labels every node that fails on its own with what it is, for explaining downtime.
fn causes(
    structure: &Structure,
    domains: &[Domain],
    datacenters: &[Datacenter],
    layouts: &[Layout],
    services: &[Service],
) -> Causes {
    let mut causes = Causes::new(structure.node_count());
    let mut set = |node: NodeId, label: &str| {
        if structure.process(node).is_some() {
            causes.set(node, label);
        }
    };
    for d in domains {
        let kind = d.label.as_deref().unwrap_or(d.kind.name());
        set(d.node, &format!("{kind} {}", d.id));
    }
    for (dc, layout) in datacenters.iter().zip(layouts) {
        set(dc.node, "facility");
        layout.racks.iter().for_each(|&r| set(r, "rack"));
        layout.hosts.iter().for_each(|&h| set(h, "host"));
        if dc.disks_per_host > 0 {
            layout
                .anchors_by_rack
                .iter()
                .flatten()
                .for_each(|&d| set(d, "disk"));
        }
    }
    for service in services {
        match &service.kind {
            ServiceKind::Compute { instance_nodes, .. } => {
                instance_nodes.iter().for_each(|&i| set(i, "instance"));
            }
            ServiceKind::Application(app) => {
                // Labelled by tier, so that downtime can be blamed on a tier.
                for tier in &app.tiers {
                    let instance = format!("instance of tier {}", tier.name);
                    app.instance_nodes[tier.instance_range.clone()]
                        .iter()
                        .for_each(|&i| set(i, &instance));
                    let balancer = format!("load balancer of tier {}", tier.name);
                    tier.load_balancer_node
                        .iter()
                        .for_each(|&lb| set(lb, &balancer));
                }
            }
            ServiceKind::Storage { .. } => {}
        }
    }
    // A flow that no rule admits is down for good: its node has no process, yet it is
    // the root cause.
    for service in services {
        if let ServiceKind::Application(app) = &service.kind {
            for flow in app.flows.iter().filter(|f| f.admitted_pairs == 0) {
                causes.set(flow.node, application::MISCONFIGURATION);
            }
        }
    }
    causes
}

/// Resolves a data centre's list of domain ids. `providers` lists take bandwidth
/// providers only; `on` lists take every other kind.
fn resolve_domains(
    ids: &[String],
    path: &str,
    index: &HashMap<&str, usize>,
    domains: &[Domain],
    providers: bool,
) -> Result<Vec<usize>> {
    let mut resolved = Vec::with_capacity(ids.len());
    for (j, id) in ids.iter().enumerate() {
        let item = format!("{path}[{j}]");
        let &k = index
            .get(id.as_str())
            .ok_or_else(|| ScenarioError::new(&item, unknown("failure domain", id, index)))?;
        let is_provider = domains[k].kind == DomainKind::BandwidthProvider;
        if providers && !is_provider {
            return err(
                item,
                format!(
                    "`{id}` is a {}, not a bandwidth provider; list it in `on`",
                    domains[k].kind.name()
                ),
            );
        }
        if !providers && is_provider {
            return err(
                item,
                format!("`{id}` is a bandwidth provider; list it in `providers`"),
            );
        }
        if resolved.contains(&k) {
            return err(item, format!("`{id}` is listed twice"));
        }
        resolved.push(k);
    }
    Ok(resolved)
}

/// Resolves a map from data-centre id to a positive count.
pub(super) fn resolve_counts(
    counts: &BTreeMap<String, u32>,
    path: &str,
    index: &HashMap<&str, usize>,
) -> Result<Vec<(usize, u32)>> {
    if counts.is_empty() {
        return err(path, "name at least one data centre");
    }
    let mut resolved = Vec::with_capacity(counts.len());
    for (id, &count) in counts {
        let item = format!("{path}.{id}");
        let &dc = index
            .get(id.as_str())
            .ok_or_else(|| ScenarioError::new(&item, unknown("data centre", id, index)))?;
        if count == 0 {
            return err(
                item,
                "must be at least 1 (leave the data centre out instead)",
            );
        }
        resolved.push((dc, count));
    }
    Ok(resolved)
}

fn build_layout(
    builder: &mut StructureBuilder,
    site: NodeId,
    d: &raw::DatacenterSpec,
    laws: &ComponentLaws,
) -> Layout {
    let mut layout = Layout {
        racks: Vec::with_capacity(d.racks as usize),
        hosts: Vec::new(),
        anchors_by_rack: Vec::new(),
    };
    for r in 0..d.racks {
        let rack_name = format!("dc:{}:rack:{r}", d.id);
        let rack = builder.add(
            &rack_name,
            laws.rack.clone(),
            Requirement::All,
            &[site.into()],
        );
        layout.racks.push(rack);
        let mut anchors = Vec::new();
        for h in 0..d.hosts_per_rack {
            let host_name = format!("{rack_name}:host:{h}");
            let host = builder.add(
                &host_name,
                laws.host.clone(),
                Requirement::All,
                &[rack.into()],
            );
            layout.hosts.push(host);
            // A disk has no inputs: only durability cares whether it is reachable, and
            // it hears of the disk's host, rack and site on their own (see
            // `Anchor::within_site`), so that an outage above the disks does not
            // visit every disk below.
            for k in 0..d.disks_per_host {
                let name = format!("{host_name}:disk:{k}");
                anchors.push(builder.add(&name, laws.disk.clone(), Requirement::All, &[]));
            }
            if d.disks_per_host == 0 {
                anchors.push(host);
            }
        }
        if d.hosts_per_rack == 0 {
            anchors.push(rack);
        }
        layout.anchors_by_rack.push(anchors);
    }
    if d.racks == 0 {
        layout.anchors_by_rack.push(vec![site]);
    }
    layout
}

/// Adds one node per object group (set by the durability model while a trial runs)
/// and the service's node: up while every group is.
fn build_groups(
    builder: &mut StructureBuilder,
    service: &str,
    object_groups: u32,
) -> (NodeId, Vec<NodeId>) {
    let groups: Vec<NodeId> = (0..object_groups)
        .map(|g| {
            let name = format!("service:{service}:group:{g}");
            builder.add(&name, None, Requirement::All, &[])
        })
        .collect();
    let inputs: Vec<Input> = groups.iter().map(|&g| g.into()).collect();
    let name = format!("service:{service}");
    (builder.add(&name, None, Requirement::All, &inputs), groups)
}

/// Every data centre's places for data, rack by rack, numbered across the world; sets
/// each data centre's range.
fn anchors_of(datacenters: &mut [Datacenter], layouts: &[Layout]) -> Vec<Anchor> {
    let mut anchors = Vec::new();
    for (dc, (site, layout)) in datacenters.iter_mut().zip(layouts).enumerate() {
        let start = anchors.len() as u32;
        for (rack, places) in layout.anchors_by_rack.iter().enumerate() {
            for (i, &node) in places.iter().enumerate() {
                // From the place up to its rack: disk, host, rack (as deep as the site
                // goes); nothing when the place is the site itself.
                let mut within = [node; 3];
                let depth = if site.racks == 0 {
                    0
                } else if site.hosts_per_rack == 0 {
                    1
                } else if site.disks_per_host == 0 {
                    within[1] = layout.racks[rack];
                    2
                } else {
                    let per_rack = site.hosts_per_rack as usize;
                    within[1] = layout.hosts[rack * per_rack + i / site.disks_per_host as usize];
                    within[2] = layout.racks[rack];
                    3
                };
                anchors.push(Anchor {
                    node,
                    datacenter: dc as u32,
                    rack: rack as u32,
                    loses_data: site.disks_per_host > 0,
                    within,
                    depth,
                });
            }
        }
        site.anchors = start..anchors.len() as u32;
    }
    anchors
}

/// Each object group's share of requests, in integer units, and the probability that a
/// five-minute period sees a request.
fn requests(
    spec: Option<&raw::RequestsSpec>,
    object_groups: u32,
    path: &str,
) -> Result<(Vec<u64>, f64)> {
    let mut request_factor = 1.0;
    let mut zipf = 0.0;
    if let Some(spec) = spec {
        if let Some(rate) = spec.per_second {
            if !(rate.is_finite() && rate > 0.0) {
                return err(
                    format!("{path}.requests.per_second"),
                    format!("must be a positive number, got {rate}"),
                );
            }
            // Poisson arrivals: P(no request in 300 s) = exp(-300 × rate).
            request_factor = -(-300.0 * rate).exp_m1();
        }
        if let Some(s) = spec.zipf_exponent {
            if !(s.is_finite() && (0.0..=10.0).contains(&s)) {
                return err(
                    format!("{path}.requests.zipf_exponent"),
                    format!("must be between 0 and 10, got {s}"),
                );
            }
            zipf = s;
        }
    }
    let popularity = if zipf == 0.0 {
        vec![1; object_groups as usize]
    } else {
        // Weights 1/k^s scaled to integers summing to about 2^40, so that the
        // simulation adds and removes them exactly; every group keeps at least 1.
        let raw: Vec<f64> = (1..=object_groups)
            .map(|k| f64::from(k).powf(-zipf))
            .collect();
        let total: f64 = raw.iter().sum();
        raw.iter()
            .map(|w| ((w / total) * (1u64 << 40) as f64).round().max(1.0) as u64)
            .collect()
    };
    Ok((popularity, request_factor))
}

/// Places instances round-robin over racks, then hosts, and returns the service's
/// node: up while at least `min_up` instances are up.
fn build_compute(
    builder: &mut StructureBuilder,
    service: &str,
    instances: &[(usize, u32)],
    datacenters: &[Datacenter],
    min_up: u32,
    layouts: &[Layout],
    law: &Option<Process>,
) -> (NodeId, Vec<NodeId>) {
    let prefix = format!("service:{service}");
    let nodes = place_instances(builder, &prefix, instances, datacenters, layouts, law);
    let inputs: Vec<Input> = nodes.iter().map(|&n| n.into()).collect();
    (
        builder.add(&prefix, None, Requirement::AtLeast(min_up), &inputs),
        nodes,
    )
}

/// Adds instances named `{prefix}:instance:{data centre}:{j}`, the `j`-th of each data
/// centre on its `j`-th place round-robin over racks, then hosts (on the site itself
/// when it has no racks), with the instance law; returns them in the order of
/// `instances`.
pub(super) fn place_instances(
    builder: &mut StructureBuilder,
    prefix: &str,
    instances: &[(usize, u32)],
    datacenters: &[Datacenter],
    layouts: &[Layout],
    law: &Option<Process>,
) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = Vec::new();
    for &(dc, count) in instances {
        let layout = &layouts[dc];
        for j in 0..count as usize {
            let anchor = if !layout.hosts.is_empty() {
                let racks = layout.racks.len();
                let per_rack = layout.hosts.len() / racks;
                let rack = j % racks;
                let host = (j / racks) % per_rack;
                layout.hosts[rack * per_rack + host]
            } else if !layout.racks.is_empty() {
                layout.racks[j % layout.racks.len()]
            } else {
                layout.anchors_by_rack[0][0]
            };
            let name = format!("{prefix}:instance:{}:{j}", datacenters[dc].id);
            nodes.push(builder.add(&name, law.clone(), Requirement::All, &[anchor.into()]));
        }
    }
    nodes
}

/// EC2's "region unavailable": a zone (data centre) is unavailable when none of the
/// service's instances there is up; a region is unavailable when more than one of its
/// zones is. Returns a node that is down exactly when some region is unavailable.
/// `instance_nodes` holds the instances in the order of `instances`.
pub(super) fn build_regions(
    builder: &mut StructureBuilder,
    service: &str,
    instances: &[(usize, u32)],
    instance_nodes: &[NodeId],
    datacenters: &[Datacenter],
) -> NodeId {
    let mut regions: BTreeMap<&str, Vec<Input>> = BTreeMap::new();
    let mut next = 0;
    for &(dc, count) in instances {
        let members: Vec<Input> = instance_nodes[next..next + count as usize]
            .iter()
            .map(|&n| n.into())
            .collect();
        next += count as usize;
        let name = format!("service:{service}:zone:{}", datacenters[dc].id);
        let zone = builder.add(&name, None, Requirement::Any, &members);
        regions
            .entry(datacenters[dc].region.as_str())
            .or_default()
            .push(zone.into());
    }
    let available: Vec<Input> = regions
        .iter()
        .map(|(region, zones)| {
            // At most one zone down: at least n - 1 of n up (always true for n = 1).
            let needed = zones.len() as u32 - 1;
            let name = format!("service:{service}:region:{region}");
            builder
                .add(&name, None, Requirement::AtLeast(needed), zones)
                .into()
        })
        .collect();
    let name = format!("service:{service}:regions");
    builder.add(&name, None, Requirement::All, &available)
}

fn lower_slas(
    specs: &[raw::SlaSpec],
    path: &str,
    horizon: f64,
    kind: &ServiceKind,
) -> Result<Vec<Sla>> {
    let mut names = HashSet::new();
    let mut slas = Vec::with_capacity(specs.len());
    for (k, spec) in specs.iter().enumerate() {
        let path = format!("{path}[{k}]");
        let sla = lower_sla(spec, &path, kind)?;
        if sla.name.trim().is_empty() {
            return err(format!("{path}.name"), "must not be empty");
        }
        if !names.insert(sla.name.clone()) {
            return err(
                format!("{path}.name"),
                format!("duplicate SLA name `{}`", sla.name),
            );
        }
        if sla.window.windows(horizon).is_empty() {
            return err(
                format!("{path}.window"),
                format!(
                    "the horizon ({horizon} h) is shorter than one {} window",
                    sla.window.name()
                ),
            );
        }
        slas.push(sla);
    }
    Ok(slas)
}

fn percent(text: &units::PercentText, path: &str) -> Result<f64> {
    let value = text
        .percent()
        .map_err(|reason| ScenarioError::new(path, reason))?;
    if !(value > 0.0 && value <= 100.0) {
        return err(
            path,
            format!("must be more than 0% and at most 100%, got {value}%"),
        );
    }
    Ok(value)
}

fn lower_sla(spec: &raw::SlaSpec, path: &str, kind: &ServiceKind) -> Result<Sla> {
    let storage = matches!(kind, ServiceKind::Storage { .. });
    if let Some(contract) = spec.contract {
        let contract = match contract {
            raw::ContractSpec::S3_2007 => Contract::S3_2007,
            raw::ContractSpec::S3Current => Contract::S3Current,
            raw::ContractSpec::Ec2_2008 => Contract::Ec2_2008,
            raw::ContractSpec::Ec2RegionCurrent => Contract::Ec2RegionCurrent,
            raw::ContractSpec::Ec2InstanceCurrent => Contract::Ec2InstanceCurrent,
        };
        for (given, field) in [
            (spec.target.is_some(), "target"),
            (spec.window.is_some(), "window"),
            (spec.measure.is_some(), "measure"),
            (spec.credits.is_some(), "credits"),
        ] {
            if given {
                return err(
                    format!("{path}.{field}"),
                    format!(
                        "the contract `{}` sets its own {field}; give either a contract or \
                         target, window and measure",
                        contract.key()
                    ),
                );
            }
        }
        if contract.for_storage() != storage {
            return err(
                format!("{path}.contract"),
                format!(
                    "`{}` is a {} contract but this is {} service",
                    contract.key(),
                    if contract.for_storage() {
                        "storage"
                    } else {
                        "compute"
                    },
                    match kind {
                        ServiceKind::Application(_) => "an application".to_string(),
                        _ => format!("a {}", kind.name()),
                    }
                ),
            );
        }
        let request_factor = match kind {
            ServiceKind::Storage { request_factor, .. } => *request_factor,
            ServiceKind::Compute { .. } | ServiceKind::Application(_) => 1.0,
        };
        let mut sla = contract.sla(request_factor);
        if let Some(name) = &spec.name {
            sla.name = name.clone();
        }
        return Ok(sla);
    }
    let name = spec
        .name
        .clone()
        .ok_or_else(|| ScenarioError::new(path, "give a `name` (or a `contract`)"))?;
    let target = spec
        .target
        .as_ref()
        .ok_or_else(|| ScenarioError::new(path, "give a `target` (or a `contract`)"))?;
    let target_percent = percent(target, &format!("{path}.target"))?;
    let window = match spec.window {
        Some(raw::WindowSpec::Month) => Window::CalendarMonth,
        Some(raw::WindowSpec::Month30Days) => Window::Month30,
        Some(raw::WindowSpec::Year) => Window::Year,
        Some(raw::WindowSpec::ServiceYear) => Window::ServiceYear,
        None => return err(path, "give a `window` (or a `contract`)"),
    };
    let measure_path = format!("{path}.measure");
    let measure = match &spec.measure {
        None | Some(raw::MeasureSpec::Downtime) => Measure::Downtime,
        Some(raw::MeasureSpec::ErrorRate) => match kind {
            ServiceKind::Storage { request_factor, .. } => Measure::ErrorRate {
                request_factor: *request_factor,
            },
            ServiceKind::Compute { .. } | ServiceKind::Application(_) => {
                return err(measure_path, "`error_rate` measures storage services only");
            }
        },
        Some(raw::MeasureSpec::RegionUnavailable { period, partial }) => {
            if storage {
                return err(
                    measure_path,
                    "`region_unavailable` measures compute services and applications only",
                );
            }
            let period_path = format!("{measure_path}.region_unavailable.period");
            let minutes = duration(period, &period_path)? * 60.0;
            let whole = minutes.round();
            if (minutes - whole).abs() > 1e-9 || whole < 1.0 || 60.0 % whole != 0.0 {
                return err(
                    period_path,
                    format!(
                        "must be a whole number of minutes that divides an hour, got {minutes} min"
                    ),
                );
            }
            Measure::RegionUnavailable {
                period_minutes: whole as u32,
                partial: match partial {
                    None | Some(raw::PartialSpec::Any) => PartialPeriods::Any,
                    Some(raw::PartialSpec::Whole) => PartialPeriods::Whole,
                },
            }
        }
        Some(raw::MeasureSpec::InstanceUptime) => {
            if storage {
                return err(
                    measure_path,
                    "`instance_uptime` measures compute services and applications only",
                );
            }
            Measure::InstanceUptime
        }
    };
    let mut tiers = Vec::new();
    for (i, tier) in spec.credits.iter().flatten().enumerate() {
        let tier_path = format!("{path}.credits[{i}]");
        let below = percent(&tier.below, &format!("{tier_path}.below"))?;
        let credit = percent(&tier.credit, &format!("{tier_path}.credit"))?;
        tiers.push((below, credit));
    }
    let credits = CreditTiers::new(tiers)
        .map_err(|reason| ScenarioError::new(format!("{path}.credits"), reason))?;
    Ok(Sla {
        name,
        contract: None,
        target_percent,
        window,
        measure,
        credits,
    })
}
