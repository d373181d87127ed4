//! Checks a raw scenario field by field and lowers it into a [`World`].

use super::raw::{self, LawSpec};
use super::units::{DurationText, HOURS_PER_YEAR};
use super::{MAX_COMPONENTS, MAX_REPLICA_LINKS, ScenarioError};
use crate::laws::Law;
use crate::reliability::{InitialState, Input, NodeId, Process, Requirement, StructureBuilder};
use crate::streams::{self, Purpose};
use crate::world::{
    Datacenter, Domain, DomainKind, Effect, Measure, Service, ServiceKind, Sla, Window, World,
};
use rand::RngExt;
use std::collections::{BTreeMap, HashMap, HashSet};

type Result<T> = std::result::Result<T, ScenarioError>;

const DEFAULT_TRIALS: u64 = 10_000;
const DEFAULT_SEED: u64 = 1;
const MAX_HORIZON_YEARS: f64 = 1000.0;

fn err<T>(path: impl Into<String>, reason: impl Into<String>) -> Result<T> {
    Err(ScenarioError::new(path, reason))
}

fn duration(text: &DurationText, path: &str) -> Result<f64> {
    text.hours()
        .map_err(|reason| ScenarioError::new(path, reason))
}

/// Lowers a law, pointing errors at the parameter they concern.
fn law(spec: &LawSpec, path: &str) -> Result<Law> {
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

fn process(spec: &raw::FailRepairSpec, path: &str) -> Result<Process> {
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

fn unknown(what: &str, id: &str, known: &HashMap<&str, usize>) -> String {
    let mut names: Vec<&str> = known.keys().copied().collect();
    names.sort_unstable();
    format!("unknown {what} `{id}` (known: {})", names.join(", "))
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
struct Layout {
    racks: Vec<NodeId>,
    hosts: Vec<NodeId>,
    /// Where replicas can live: disks, or hosts, racks, or the site itself when the
    /// scenario does not go that deep; grouped by rack.
    anchors_by_rack: Vec<Vec<NodeId>>,
}

impl Layout {
    fn anchor_count(&self) -> usize {
        self.anchors_by_rack.iter().map(Vec::len).sum()
    }
}

pub(super) fn lower(s: &raw::Scenario) -> Result<World> {
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
        let node = builder.add(Some(process.clone()), Requirement::All, &[]);
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
    let mut components: u64 = domains.len() as u64;
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
        let hosts = racks * u64::from(d.hosts_per_rack);
        let disks = hosts * u64::from(d.disks_per_host);
        components += 1 + racks + hosts + disks;
        if components > MAX_COMPONENTS {
            return err(
                path,
                format!(
                    "the scenario has more than {MAX_COMPONENTS} components ({racks} racks, \
                     {hosts} hosts, {disks} disks here); use fewer, larger units"
                ),
            );
        }
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
            inputs.push(builder.add(None, Requirement::Any, &links).into());
        }
        let node = builder.add(facility.clone(), Requirement::All, &inputs);
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
        });
    }

    // Services.
    let mut placement_rng = streams::stream(default_seed, streams::WORLD, Purpose::Placement);
    let mut service_names = HashSet::new();
    let mut services = Vec::with_capacity(s.services.len());
    let mut replica_links: u64 = 0;
    for (i, spec) in s.services.iter().enumerate() {
        let path = format!("services[{i}]");
        non_empty_id(&spec.name, &format!("{path}.name"))?;
        if !service_names.insert(spec.name.as_str()) {
            return err(
                format!("{path}.name"),
                format!("duplicate service name `{}`", spec.name),
            );
        }
        let (kind, node) = match (&spec.storage, &spec.compute) {
            (Some(storage), None) => {
                let path = format!("{path}.storage");
                let per_datacenter = resolve_counts(
                    &storage.placement.per_datacenter,
                    &format!("{path}.placement.per_datacenter"),
                    &dc_index,
                )?;
                if storage.object_groups == 0 {
                    return err(format!("{path}.object_groups"), "must be at least 1");
                }
                let placed: u32 = per_datacenter.iter().map(|&(_, c)| c).sum();
                if placed != storage.replicas {
                    return err(
                        format!("{path}.replicas"),
                        format!(
                            "is {} but the placement puts {placed} replicas",
                            storage.replicas
                        ),
                    );
                }
                for &(dc, count) in &per_datacenter {
                    let places = layouts[dc].anchor_count();
                    if count as usize > places {
                        return err(
                            format!("{path}.placement.per_datacenter.{}", datacenters[dc].id),
                            format!(
                                "asks for {count} replicas on distinct components but `{}` has \
                                 only {places} place(s) for them (give it more racks, hosts or disks)",
                                datacenters[dc].id
                            ),
                        );
                    }
                }
                replica_links += u64::from(storage.object_groups) * u64::from(storage.replicas);
                if replica_links > MAX_REPLICA_LINKS {
                    return err(
                        format!("{path}.object_groups"),
                        format!("object groups × replicas exceed the limit of {MAX_REPLICA_LINKS}"),
                    );
                }
                let node = build_storage(
                    &mut builder,
                    storage.object_groups,
                    &per_datacenter,
                    &layouts,
                    &mut placement_rng,
                );
                let kind = ServiceKind::Storage {
                    object_groups: storage.object_groups,
                    replicas: storage.replicas,
                    per_datacenter,
                };
                (kind, node)
            }
            (None, Some(compute)) => {
                let path = format!("{path}.compute");
                let instances =
                    resolve_counts(&compute.instances, &format!("{path}.instances"), &dc_index)?;
                let total: u64 = instances.iter().map(|&(_, c)| u64::from(c)).sum();
                components += total;
                if components > MAX_COMPONENTS {
                    return err(
                        format!("{path}.instances"),
                        format!("the scenario has more than {MAX_COMPONENTS} components"),
                    );
                }
                if compute.min_up == 0 || u64::from(compute.min_up) > total {
                    return err(
                        format!("{path}.min_up"),
                        format!("must be between 1 and the number of instances ({total})"),
                    );
                }
                let node = build_compute(
                    &mut builder,
                    &instances,
                    compute.min_up,
                    &layouts,
                    &laws.instance,
                );
                let kind = ServiceKind::Compute {
                    instances,
                    min_up: compute.min_up,
                };
                (kind, node)
            }
            _ => return err(path, "give exactly one of `storage` and `compute`"),
        };
        let slas = lower_slas(&spec.slas, &format!("{path}.slas"), horizon)?;
        services.push(Service {
            name: spec.name.clone(),
            kind,
            node,
            slas,
        });
    }

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
        structure: builder.build(),
    })
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
fn resolve_counts(
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
    for _ in 0..d.racks {
        let rack = builder.add(laws.rack.clone(), Requirement::All, &[site.into()]);
        layout.racks.push(rack);
        let mut anchors = Vec::new();
        for _ in 0..d.hosts_per_rack {
            let host = builder.add(laws.host.clone(), Requirement::All, &[rack.into()]);
            layout.hosts.push(host);
            for _ in 0..d.disks_per_host {
                anchors.push(builder.add(laws.disk.clone(), Requirement::All, &[host.into()]));
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

/// Places every object group's replicas, and returns the service's node: up while
/// every group has at least one reachable replica.
fn build_storage(
    builder: &mut StructureBuilder,
    object_groups: u32,
    per_datacenter: &[(usize, u32)],
    layouts: &[Layout],
    rng: &mut crate::streams::SimRng,
) -> NodeId {
    let mut groups = Vec::with_capacity(object_groups as usize);
    let mut replicas: Vec<Input> = Vec::new();
    let mut chosen: Vec<usize> = Vec::new();
    for _ in 0..object_groups {
        replicas.clear();
        for &(dc, count) in per_datacenter {
            let layout = &layouts[dc];
            let racks = layout.anchors_by_rack.len();
            chosen.clear();
            if count as usize <= racks {
                // One replica per rack, on distinct racks chosen at random.
                while chosen.len() < count as usize {
                    let rack = rng.random_range(0..racks);
                    if !chosen.contains(&rack) {
                        chosen.push(rack);
                    }
                }
                for &rack in &chosen {
                    let anchors = &layout.anchors_by_rack[rack];
                    replicas.push(anchors[rng.random_range(0..anchors.len())].into());
                }
            } else {
                // More replicas than racks: distinct anchors anywhere in the site.
                let all: Vec<NodeId> = layout.anchors_by_rack.iter().flatten().copied().collect();
                while chosen.len() < count as usize {
                    let anchor = rng.random_range(0..all.len());
                    if !chosen.contains(&anchor) {
                        chosen.push(anchor);
                    }
                }
                replicas.extend(chosen.iter().map(|&a| Input::from(all[a])));
            }
        }
        groups.push(builder.add(None, Requirement::Any, &replicas).into());
    }
    builder.add(None, Requirement::All, &groups)
}

/// Places instances round-robin over racks, then hosts, and returns the service's
/// node: up while at least `min_up` instances are up.
fn build_compute(
    builder: &mut StructureBuilder,
    instances: &[(usize, u32)],
    min_up: u32,
    layouts: &[Layout],
    law: &Option<Process>,
) -> NodeId {
    let mut nodes: Vec<Input> = Vec::new();
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
            nodes.push(
                builder
                    .add(law.clone(), Requirement::All, &[anchor.into()])
                    .into(),
            );
        }
    }
    builder.add(None, Requirement::AtLeast(min_up), &nodes)
}

fn lower_slas(specs: &[raw::SlaSpec], path: &str, horizon: f64) -> Result<Vec<Sla>> {
    let mut names = HashSet::new();
    let mut slas = Vec::with_capacity(specs.len());
    for (k, spec) in specs.iter().enumerate() {
        let path = format!("{path}[{k}]");
        non_empty_id(&spec.name, &format!("{path}.name"))?;
        if !names.insert(spec.name.as_str()) {
            return err(
                format!("{path}.name"),
                format!("duplicate SLA name `{}`", spec.name),
            );
        }
        let target_percent = spec
            .target
            .percent()
            .map_err(|reason| ScenarioError::new(format!("{path}.target"), reason))?;
        if !(target_percent > 0.0 && target_percent <= 100.0) {
            return err(
                format!("{path}.target"),
                format!("must be more than 0% and at most 100%, got {target_percent}%"),
            );
        }
        let window = match spec.window {
            raw::WindowSpec::Month => Window::Month,
            raw::WindowSpec::Year => Window::Year,
        };
        if window.boundaries(horizon).len() < 2 {
            return err(
                format!("{path}.window"),
                format!(
                    "the horizon ({horizon} h) is shorter than one {} window",
                    window.name()
                ),
            );
        }
        let measure = match spec.measure {
            None | Some(raw::MeasureSpec::Downtime) => Measure::Downtime,
        };
        slas.push(Sla {
            name: spec.name.clone(),
            target_percent,
            window,
            measure,
        });
    }
    Ok(slas)
}
