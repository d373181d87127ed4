//! Applications: tiers of instances launched with security groups, optionally behind
//! load balancers, and the flows of traffic they need — checked, and lowered onto the
//! reliability structure. Also the scenario's prices and typical routes.
//!
//! Groups are fixed at launch, so which (source profile, destination profile) pairs a
//! flow admits is decided here, once, by [`FlowMatrix`]; the structure then holds only
//! k-of-n nodes, and a change propagates to the flows it can affect and no further.

use super::ScenarioError;
use super::lower::{
    Layout, Usage, build_regions, duration, err, law, place_instances, process, resolve_counts,
    unknown,
};
use super::raw;
use crate::laws::Law;
use crate::reliability::{Input, NodeId, Process, Requirement, StructureBuilder};
use crate::security::{
    self, Cidr, DEFAULT_GROUP, Flow, FlowMatrix, GroupId, MAX_GROUP_NAME_CHARS, MAX_GROUPS, Origin,
    Protocol, RuleSpec, SecurityModel, SourceSpec, Via,
};
use crate::world::{
    AppFlow, AppTier, Application, Autoscaling, Datacenter, HealthCheck, Network, Prices, Route,
    security_tier,
};
use std::collections::{BTreeMap, HashMap};

type Result<T> = std::result::Result<T, ScenarioError>;

/// The cause label of a flow that no rule admits.
pub const MISCONFIGURATION: &str = "security-group misconfiguration";

/// The name the internet goes by in flows.
const INTERNET: &str = "internet";

/// Most GB a flow may carry a month, or an application may store (a sanity bound).
const MAX_GB: f64 = 1e12;

/// Most a price may be, in dollars (a sanity bound).
const MAX_PRICE: f64 = 1e6;

/// What lowering an application needs from the rest of the scenario.
pub(super) struct Context<'a> {
    pub(super) datacenters: &'a [Datacenter],
    pub(super) layouts: &'a [Layout],
    pub(super) dc_index: &'a HashMap<&'a str, usize>,
    pub(super) instance_law: &'a Option<Process>,
    pub(super) prices: Prices,
    pub(super) network: Network,
}

/// The scenario's prices: the 2008 defaults, with whatever it sets instead.
pub(super) fn prices(spec: Option<&raw::PricesSpec>) -> Result<Prices> {
    let mut prices = Prices::PUBLISHED_2008;
    let Some(spec) = spec else {
        return Ok(prices);
    };
    for (given, field, name) in [
        (
            spec.instance_hour,
            &mut prices.instance_hour,
            "instance_hour",
        ),
        (
            spec.storage_gb_month,
            &mut prices.storage_gb_month,
            "storage_gb_month",
        ),
        (
            spec.regional_transfer_gb,
            &mut prices.regional_transfer_gb,
            "regional_transfer_gb",
        ),
    ] {
        if let Some(value) = given {
            if !(value.is_finite() && (0.0..=MAX_PRICE).contains(&value)) {
                return err(
                    format!("prices.{name}"),
                    format!("must be an amount between 0 and {MAX_PRICE}, got {value}"),
                );
            }
            *field = value;
        }
    }
    Ok(prices)
}

/// The scenario's typical routes: the 2008 measurements, with whatever it sets instead.
pub(super) fn network(spec: Option<&raw::NetworkSpec>) -> Result<Network> {
    let mut network = Network::TYPICAL_2008;
    let Some(spec) = spec else {
        return Ok(network);
    };
    for (given, route, name) in [
        (&spec.private, &mut network.private, "private"),
        (&spec.public, &mut network.public, "public"),
    ] {
        if let Some(given) = given {
            let ms = given.round_trip_ms;
            if !(ms.is_finite() && (0.0..=1e6).contains(&ms)) {
                return err(
                    format!("network.{name}.round_trip_ms"),
                    format!("must be a duration in milliseconds, at least 0, got {ms}"),
                );
            }
            *route = Route {
                round_trip_ms: ms,
                hops: given.hops,
            };
        }
    }
    Ok(network)
}

fn gigabytes(value: f64, path: String) -> Result<f64> {
    if !(value.is_finite() && (0.0..=MAX_GB).contains(&value)) {
        return err(
            path,
            format!("must be between 0 and {MAX_GB} GB, got {value}"),
        );
    }
    Ok(value)
}

/// Checks a name the way the security model will (1 to 255 characters, no control
/// characters), so that the error points at the field.
fn security_name(name: &str, path: String) -> Result<()> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_GROUP_NAME_CHARS {
        return err(
            path,
            format!("must have 1 to {MAX_GROUP_NAME_CHARS} characters, not all spaces"),
        );
    }
    if name.chars().any(char::is_control) {
        return err(path, "must not contain control characters");
    }
    Ok(())
}

/// The account's groups, every rule parsed and every group it names resolved.
fn security_model(spec: &raw::ApplicationSpec, path: &str) -> Result<SecurityModel> {
    security_name(&spec.account, format!("{path}.account"))?;
    let mut known: HashMap<&str, usize> = HashMap::new();
    for (g, group) in spec.security_groups.iter().enumerate() {
        let name_path = format!("{path}.security_groups[{g}].name");
        security_name(&group.name, name_path.clone())?;
        if known.insert(group.name.as_str(), g).is_some() {
            return err(
                name_path,
                format!("duplicate security group `{}`", group.name),
            );
        }
    }
    let groups = known.len() + usize::from(!known.contains_key(DEFAULT_GROUP));
    if groups > MAX_GROUPS {
        return err(
            format!("{path}.security_groups"),
            format!(
                "{groups} groups, the default group included; an account has at most {MAX_GROUPS}"
            ),
        );
    }
    known.entry(DEFAULT_GROUP).or_insert(usize::MAX);
    let mut builder = SecurityModel::builder(&spec.account);
    for (g, group) in spec.security_groups.iter().enumerate() {
        let mut rules = Vec::with_capacity(group.rules.len());
        for (r, text) in group.rules.iter().enumerate() {
            let rule_path = format!("{path}.security_groups[{g}].rules[{r}]");
            let rule: RuleSpec = text
                .parse()
                .map_err(|e: security::SecurityError| ScenarioError::new(&rule_path, e.0))?;
            let own_group = match rule.source() {
                SourceSpec::Group(name) => Some(name),
                SourceSpec::AccountGroup { account, group } if *account == spec.account => {
                    Some(group)
                }
                _ => None,
            };
            if let Some(name) = own_group
                && !known.contains_key(name.as_str())
            {
                return err(rule_path, unknown("security group", name, &known));
            }
            rules.push(rule);
        }
        builder = builder.group_with(&group.name, rules);
    }
    builder
        .build()
        .map_err(|e| ScenarioError::new(format!("{path}.security_groups"), e.0))
}

/// A tier as checked, before its nodes exist.
struct CheckedTier {
    instances: Vec<(usize, u32)>,
    total: u64,
    groups: Vec<GroupId>,
    public_addresses: Option<Cidr>,
    load_balancer: Option<Process>,
    /// Hours from an instance's failure until the load balancer notices it.
    health_check: Option<f64>,
    /// Launch delay and detection delay (`None`: at once).
    autoscaling: Option<(Law, Option<Law>)>,
}

/// A delay given as a duration or a law; `None` for a fixed 0.
fn delay(spec: &raw::DelaySpec, path: &str) -> Result<Option<Law>> {
    match spec {
        raw::DelaySpec::Fixed(text) => {
            let hours = duration(text, path)?;
            if hours == 0.0 {
                return Ok(None);
            }
            Law::deterministic(hours)
                .map(Some)
                .map_err(|e| ScenarioError::new(path, e.to_string()))
        }
        raw::DelaySpec::Law(spec) => law(spec, path).map(Some),
    }
}

fn check_autoscaling(spec: &raw::AutoscalingSpec, path: &str) -> Result<(Law, Option<Law>)> {
    let launch_path = format!("{path}.launch_delay");
    let launch = match delay(&spec.launch_delay, &launch_path)? {
        Some(law) if law.mean() > 0.0 => law,
        _ => return err(launch_path, "must be more than 0"),
    };
    let detection = match &spec.detection {
        None => None,
        Some(spec) => delay(spec, &format!("{path}.detection"))?,
    };
    Ok((launch, detection))
}

fn check_tier(
    tier: &raw::TierSpec,
    path: &str,
    model: &SecurityModel,
    groups_known: &HashMap<&str, usize>,
    cx: &Context,
) -> Result<CheckedTier> {
    let instances = resolve_counts(&tier.instances, &format!("{path}.instances"), cx.dc_index)?;
    let total: u64 = instances.iter().map(|&(_, n)| u64::from(n)).sum();
    if tier.groups.is_empty() {
        return err(
            format!("{path}.groups"),
            "an instance is launched with at least one security group",
        );
    }
    let mut groups = Vec::with_capacity(tier.groups.len());
    for (j, name) in tier.groups.iter().enumerate() {
        let item = format!("{path}.groups[{j}]");
        let id = model.group_id(name).ok_or_else(|| {
            ScenarioError::new(&item, unknown("security group", name, groups_known))
        })?;
        if groups.contains(&id) {
            return err(item, format!("`{name}` is listed twice"));
        }
        groups.push(id);
    }
    if tier.min_up == 0 || u64::from(tier.min_up) > total {
        return err(
            format!("{path}.min_up"),
            format!("must be between 1 and the number of instances ({total})"),
        );
    }
    let load_balancer = tier
        .load_balancer
        .as_ref()
        .map(|spec| {
            let lb_path = format!("{path}.load_balancer");
            let fail_repair = raw::FailRepairSpec {
                fail: spec.fail.clone(),
                repair: spec.repair.clone(),
            };
            process(&fail_repair, &lb_path)
        })
        .transpose()?;
    let health_check = match tier
        .load_balancer
        .as_ref()
        .and_then(|lb| lb.health_check.as_ref())
    {
        None => None,
        Some(text) => {
            let hc_path = format!("{path}.load_balancer.health_check");
            let hours = duration(text, &hc_path)?;
            if !(hours.is_finite() && hours > 0.0) {
                return err(
                    hc_path,
                    format!("must be a duration more than 0, got {hours} h"),
                );
            }
            Some(hours)
        }
    };
    let public_addresses = tier
        .public_addresses
        .as_ref()
        .map(|text| {
            text.parse::<Cidr>()
                .map_err(|e| ScenarioError::new(format!("{path}.public_addresses"), e.0))
        })
        .transpose()?;
    let autoscaling = tier
        .autoscaling
        .as_ref()
        .map(|spec| check_autoscaling(spec, &format!("{path}.autoscaling")))
        .transpose()?;
    Ok(CheckedTier {
        instances,
        total,
        groups,
        public_addresses,
        load_balancer,
        health_check,
        autoscaling,
    })
}

fn check_flow(
    spec: &raw::FlowSpec,
    path: &str,
    tier_index: &HashMap<&str, usize>,
    tiers: &[CheckedTier],
) -> Result<(Flow, f64)> {
    let from = if spec.from == INTERNET {
        Origin::Internet
    } else {
        match tier_index.get(spec.from.as_str()) {
            Some(&t) => Origin::Tier(t),
            None => {
                return err(
                    format!("{path}.from"),
                    format!(
                        "{}, or `{INTERNET}`",
                        unknown("tier", &spec.from, tier_index)
                    ),
                );
            }
        }
    };
    let &to = tier_index.get(spec.to.as_str()).ok_or_else(|| {
        ScenarioError::new(format!("{path}.to"), unknown("tier", &spec.to, tier_index))
    })?;
    let protocol = match spec.protocol {
        raw::ProtocolSpec::Tcp => Protocol::Tcp,
        raw::ProtocolSpec::Udp => Protocol::Udp,
        raw::ProtocolSpec::Icmp => Protocol::Icmp,
    };
    let port = match (protocol, spec.port) {
        (Protocol::Icmp, None) => 0,
        (Protocol::Icmp, Some(_)) => {
            return err(format!("{path}.port"), "icmp takes no port; leave it out");
        }
        (_, Some(port)) => port,
        (_, None) => return err(path, format!("{protocol} needs a `port`")),
    };
    let via = match (from, spec.addressing) {
        (Origin::Internet, Some(raw::AddressingSpec::Private)) => {
            return err(
                format!("{path}.addressing"),
                "traffic from the internet arrives at public addresses; leave `addressing` out",
            );
        }
        (Origin::Internet, _) | (_, Some(raw::AddressingSpec::Public)) => Via::Public,
        (_, None | Some(raw::AddressingSpec::Private)) => Via::Private,
    };
    let gb_per_month = match (from, spec.gb_per_month) {
        (_, None) => 0.0,
        (Origin::Internet, Some(_)) => {
            return err(
                format!("{path}.gb_per_month"),
                "transfer to and from the internet is not priced; give it for flows between tiers",
            );
        }
        (Origin::Tier(_), Some(gb)) => gigabytes(gb, format!("{path}.gb_per_month"))?,
    };
    if from == Origin::Tier(to) && tiers[to].total < 2 {
        return err(
            path,
            format!(
                "a flow from tier `{}` to itself needs two of its instances; it has {}",
                spec.to, tiers[to].total
            ),
        );
    }
    let flow = Flow {
        from,
        to,
        protocol,
        port,
        via,
    };
    Ok((flow, gb_per_month))
}

/// Checks an application and adds its nodes: instances (on hosts, like a compute
/// service's), load balancers, tiers, flows, the application and its regions. Returns
/// the application and its node.
pub(super) fn lower_application(
    spec: &raw::ApplicationSpec,
    path: &str,
    service: &str,
    cx: &Context,
    builder: &mut StructureBuilder,
    usage: &mut Usage,
) -> Result<(Application, NodeId)> {
    let model = security_model(spec, path)?;
    let mut groups_known: HashMap<&str, usize> = model
        .groups()
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name(), i))
        .collect();
    groups_known.entry(DEFAULT_GROUP).or_insert(0);

    if spec.tiers.is_empty() {
        return err(format!("{path}.tiers"), "give at least one tier");
    }
    let mut tier_index: HashMap<&str, usize> = HashMap::new();
    let mut tiers = Vec::with_capacity(spec.tiers.len());
    for (t, tier) in spec.tiers.iter().enumerate() {
        let tier_path = format!("{path}.tiers[{t}]");
        let name_path = format!("{tier_path}.name");
        let name = tier.name.as_str();
        if name.trim().is_empty() {
            return err(name_path, "must not be empty");
        }
        if name == INTERNET {
            return err(
                name_path,
                "`internet` names where clients are; call the tier otherwise",
            );
        }
        if name.contains(':') || name.chars().any(char::is_control) {
            return err(name_path, "must not contain `:` or control characters");
        }
        if tier_index.insert(name, t).is_some() {
            return err(name_path, format!("duplicate tier `{name}`"));
        }
        tiers.push(check_tier(tier, &tier_path, &model, &groups_known, cx)?);
    }
    let mut flows = Vec::with_capacity(spec.flows.len());
    for (k, flow) in spec.flows.iter().enumerate() {
        flows.push(check_flow(
            flow,
            &format!("{path}.flows[{k}]"),
            &tier_index,
            &tiers,
        )?);
    }
    let stored_gb = match spec.stored_gb {
        Some(gb) => gigabytes(gb, format!("{path}.stored_gb"))?,
        None => 0.0,
    };

    // One profile per tier: every instance of a tier has the tier's groups.
    let security_tiers: Vec<security::Tier> = spec
        .tiers
        .iter()
        .zip(&tiers)
        .map(|(spec, tier)| security_tier(&spec.name, &tier.groups, tier.public_addresses))
        .collect();
    let security_flows: Vec<Flow> = flows.iter().map(|&(flow, _)| flow).collect();
    let matrix = FlowMatrix::new(&model, &security_tiers, &security_flows, Cidr::ANY)
        .map_err(|e| ScenarioError::new(path, e.0))?;

    // What the application adds to the structure, before anything is built.
    let instances: u64 = tiers.iter().map(|t| t.total).sum();
    let tier_count = tiers.len() as u64;
    let balancers = tiers.iter().filter(|t| t.load_balancer.is_some()).count() as u64;
    let pairs: u64 = (0..flows.len())
        .map(|k| matrix.admitted_pairs(k).len() as u64)
        .sum();
    let flow_count = flows.len() as u64;
    let sites = cx.datacenters.len() as u64;
    // Instances; per tier its node, its instances' node, and two per profile; load
    // balancers; flows and their pairs; the application; zones, regions and their gate.
    let nodes = instances + 4 * tier_count + balancers + flow_count + pairs + 1 + 2 * sites + 1;
    let links = 5 * instances
        + 2 * tier_count
        + balancers
        + 3 * pairs
        + tier_count
        + flow_count
        + 2 * sites;
    // Auto-scaled tiers: a slot per instance, a site watcher per data centre.
    let scaled: u64 = tiers
        .iter()
        .filter(|t| t.autoscaling.is_some())
        .map(|t| t.total + t.instances.len() as u64)
        .sum();
    // Health-checked tiers: a watcher per instance and one for the tier.
    let checked: u64 = tiers
        .iter()
        .filter(|t| t.health_check.is_some())
        .map(|t| t.total + 1)
        .sum();
    usage.add(
        &format!("{path}.tiers"),
        nodes + scaled + checked,
        0,
        links + scaled + checked,
    )?;

    let prefix = format!("service:{service}");
    let mut instance_nodes: Vec<NodeId> = Vec::new();
    let mut app_tiers = Vec::with_capacity(tiers.len());
    for (spec, tier) in spec.tiers.iter().zip(&tiers) {
        let tier_prefix = format!("{prefix}:tier:{}", spec.name);
        let start = instance_nodes.len();
        instance_nodes.extend(place_instances(
            builder,
            &tier_prefix,
            &tier.instances,
            cx.datacenters,
            cx.layouts,
            cx.instance_law,
        ));
        let instance_range = start..instance_nodes.len();
        let autoscaling = tier.autoscaling.as_ref().map(|(launch_delay, detection)| {
            let originals = instance_nodes[instance_range.clone()].to_vec();
            let mut home = Vec::with_capacity(originals.len());
            let mut sites = Vec::with_capacity(tier.instances.len());
            for &(dc, count) in &tier.instances {
                let site = cx.datacenters[dc].node;
                let name = format!("{tier_prefix}:autoscaling:site:{}", cx.datacenters[dc].id);
                sites.push((
                    dc,
                    builder.add(&name, None, Requirement::All, &[site.into()]),
                ));
                home.extend(std::iter::repeat_n(dc, count as usize));
            }
            for (i, slot) in instance_nodes[instance_range.clone()]
                .iter_mut()
                .enumerate()
            {
                let name = format!("{tier_prefix}:slot:{}:{i}", cx.datacenters[home[i]].id);
                *slot = builder.add(&name, None, Requirement::All, &[]);
            }
            Autoscaling {
                launch_delay: launch_delay.clone(),
                detection: detection.clone(),
                originals,
                home,
                sites,
                instance_law: cx.instance_law.clone(),
            }
        });
        let inputs = as_inputs(&instance_nodes[instance_range.clone()]);
        let enough = Requirement::AtLeast(spec.min_up);
        let (node, load_balancer_node) = match &tier.load_balancer {
            None => (builder.add(&tier_prefix, None, enough, &inputs), None),
            Some(law) => {
                let name = format!("{tier_prefix}:instances");
                let up = builder.add(&name, None, enough, &inputs);
                let name = format!("{tier_prefix}:load-balancer");
                let lb = builder.add(&name, Some(law.clone()), Requirement::All, &[]);
                let both = [up.into(), lb.into()];
                let node = builder.add(&tier_prefix, None, Requirement::All, &both);
                (node, Some(lb))
            }
        };
        let health_check = tier.health_check.map(|delay| {
            let instances = instance_nodes[instance_range.clone()]
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let name = format!("{tier_prefix}:health:instance:{i}");
                    builder.add(&name, None, Requirement::All, &[n.into()])
                })
                .collect();
            let name = format!("{tier_prefix}:health:tier");
            let tier = builder.add(&name, None, Requirement::All, &[node.into()]);
            HealthCheck {
                delay,
                instances,
                tier,
            }
        });
        app_tiers.push(AppTier {
            name: spec.name.clone(),
            instances: tier.instances.clone(),
            groups: tier.groups.clone(),
            public_addresses: tier.public_addresses,
            min_up: spec.min_up,
            load_balancer: tier.load_balancer.clone(),
            load_balancer_node,
            health_check,
            node,
            instance_range,
            autoscaling,
        });
    }

    // The sides of admitted pairs, built when first needed: per profile, "one of its
    // instances is up" and "two of them are".
    let mut sides = Sides {
        prefix: &prefix,
        tiers: &app_tiers,
        instance_nodes: &instance_nodes,
        profile_tier: (0..app_tiers.len())
            .flat_map(|t| matrix.profiles_of(t).map(move |_| t))
            .collect(),
        matrix: &matrix,
        one: HashMap::new(),
        two: HashMap::new(),
    };
    let mut app_flows = Vec::with_capacity(flows.len());
    for (k, &(flow, gb_per_month)) in flows.iter().enumerate() {
        let name = format!("{prefix}:flow:{k}");
        let pairs = matrix.admitted_pairs(k);
        let node = if pairs.is_empty() {
            builder.add_never_up(&name)
        } else {
            let mut inputs = Vec::with_capacity(pairs.len());
            for pair in pairs {
                let input = match pair.source {
                    None => sides.one(builder, pair.dest),
                    Some(source) if source == pair.dest => sides.two(builder, source),
                    Some(source) => {
                        let both = [
                            sides.one(builder, source).into(),
                            sides.one(builder, pair.dest).into(),
                        ];
                        let pair_name = format!("{name}:pair:{source}:{}", pair.dest);
                        builder.add(&pair_name, None, Requirement::All, &both)
                    }
                };
                inputs.push(input.into());
            }
            builder.add(&name, None, Requirement::Any, &inputs)
        };
        app_flows.push(AppFlow {
            flow,
            gb_per_month,
            admitted_pairs: pairs.len(),
            node,
        });
    }

    let parts: Vec<NodeId> = app_tiers
        .iter()
        .map(|t| t.node)
        .chain(app_flows.iter().map(|f| f.node))
        .collect();
    let node = builder.add(&prefix, None, Requirement::All, &as_inputs(&parts));

    // EC2's region unavailability over all the application's instances, zone by zone.
    let mut by_site: BTreeMap<usize, Vec<NodeId>> = BTreeMap::new();
    for tier in &app_tiers {
        let mut next = tier.instance_range.start;
        for &(dc, count) in &tier.instances {
            let nodes = &instance_nodes[next..next + count as usize];
            by_site.entry(dc).or_default().extend_from_slice(nodes);
            next += count as usize;
        }
    }
    let counts: Vec<(usize, u32)> = by_site
        .iter()
        .map(|(&dc, nodes)| (dc, nodes.len() as u32))
        .collect();
    let grouped: Vec<NodeId> = by_site.into_values().flatten().collect();
    let regions_available = build_regions(builder, service, &counts, &grouped, cx.datacenters);

    let application = Application {
        security: model,
        tiers: app_tiers,
        flows: app_flows,
        instance_nodes,
        regions_available,
        stored_gb,
        prices: cx.prices,
        network: cx.network,
    };
    Ok((application, node))
}

fn as_inputs(nodes: &[NodeId]) -> Vec<Input> {
    nodes.iter().map(|&n| n.into()).collect()
}

/// Per profile, the nodes "one of its instances is up" and "two are", made on demand.
struct Sides<'a> {
    prefix: &'a str,
    tiers: &'a [AppTier],
    instance_nodes: &'a [NodeId],
    /// The tier of each profile.
    profile_tier: Vec<usize>,
    matrix: &'a FlowMatrix,
    one: HashMap<usize, NodeId>,
    two: HashMap<usize, NodeId>,
}

impl Sides<'_> {
    /// The instances of a profile (a tier has one profile: all its instances), and the
    /// profile's name prefix.
    fn instances(&self, profile: usize) -> (Vec<Input>, String) {
        let t = self.profile_tier[profile];
        let tier = &self.tiers[t];
        let number = profile - self.matrix.profiles_of(t).start;
        let nodes = &self.instance_nodes[tier.instance_range.clone()];
        let name = format!("{}:tier:{}:profile:{number}", self.prefix, tier.name);
        (as_inputs(nodes), name)
    }

    fn one(&mut self, builder: &mut StructureBuilder, profile: usize) -> NodeId {
        if let Some(&node) = self.one.get(&profile) {
            return node;
        }
        let (inputs, name) = self.instances(profile);
        let node = builder.add(&name, None, Requirement::Any, &inputs);
        self.one.insert(profile, node);
        node
    }

    /// Checked when the flow was read: the profile has at least two instances.
    fn two(&mut self, builder: &mut StructureBuilder, profile: usize) -> NodeId {
        if let Some(&node) = self.two.get(&profile) {
            return node;
        }
        let (inputs, name) = self.instances(profile);
        let name = format!("{name}:two");
        let node = builder.add(&name, None, Requirement::AtLeast(2), &inputs);
        self.two.insert(profile, node);
        node
    }
}
