//! The world summary printed by `nines check`.

use crate::security::Severity;
use crate::world::{Application, CopyTime, Placement, ServiceKind, World};
use std::fmt::Write as _;

/// The summary printed by `nines check`.
pub fn describe(world: &World) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: valid", world.name);
    let _ = writeln!(
        out,
        "horizon {}, {} trials by default, seed {}, trials start {}",
        crate::report::format_hours(world.horizon),
        world.default_trials,
        world.default_seed,
        match world.initial_state {
            crate::reliability::InitialState::SteadyState => "in steady state",
            crate::reliability::InitialState::AllNew => "with everything new",
        }
    );
    let _ = writeln!(out, "failure domains ({}):", world.domains.len());
    for d in &world.domains {
        let _ = writeln!(
            out,
            "  {:<16} {:<18} between events {}, outage {}{}{}",
            d.id,
            d.label.as_deref().unwrap_or(d.kind.name()),
            d.process.up,
            d.process.down,
            if d.ride_through > 0.0 {
                format!(", ride-through {}", d.ride_through)
            } else {
                String::new()
            },
            if d.effect == crate::world::Effect::Destroy {
                ", destroys"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(out, "data centres ({}):", world.datacenters.len());
    for dc in &world.datacenters {
        let names = |ids: &[usize]| {
            ids.iter()
                .map(|&i| world.domains[i].id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "  {:<16} region {}, on [{}], providers [{}], {} racks, {} hosts, {} disks, facility {}",
            dc.id,
            dc.region,
            names(&dc.on),
            names(&dc.providers),
            dc.racks,
            dc.hosts(),
            dc.disks(),
            dc.facility
                .as_ref()
                .map_or("never fails".to_string(), |p| format!(
                    "fails {}, repaired {}",
                    p.up, p.down
                ))
        );
    }
    // "2 in us-east, 2 in us-west"
    let spread = |counts: &[(usize, u32)]| {
        counts
            .iter()
            .map(|&(dc, n)| format!("{n} in {}", world.datacenters[dc].id))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sites = |dcs: &[usize]| {
        dcs.iter()
            .map(|&dc| world.datacenters[dc].id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Bytes per hour as bits per second.
    let bandwidth = |bytes_per_hour: f64| format!("{} Gbit/s", bytes_per_hour * 8.0 / 3600.0 / 1e9);
    let _ = writeln!(out, "services ({}):", world.services.len());
    for s in &world.services {
        let what = match &s.kind {
            ServiceKind::Storage { store, groups, .. } => {
                let placement = match store.placement {
                    Placement::PerDatacenter => spread(&store.per_datacenter),
                    Placement::Random => format!("random over {}", sites(&store.datacenters)),
                    Placement::Copysets { scatter_width } => format!(
                        "copysets of scatter width {scatter_width} over {}",
                        sites(&store.datacenters)
                    ),
                };
                let copy = match &store.repair.copy {
                    CopyTime::Instant => "at once".to_string(),
                    CopyTime::Law(law) => law.to_string(),
                    CopyTime::Bandwidth { within, between } => format!(
                        "at {} within a site, {} between sites",
                        bandwidth(*within),
                        bandwidth(*between)
                    ),
                };
                let detection = store
                    .repair
                    .detection
                    .as_ref()
                    .map_or("at once".to_string(), |law| law.to_string());
                let crews = store
                    .repair
                    .crews
                    .map_or(String::new(), |c| format!(", at most {c} at a time"));
                format!(
                    "storage, {} object groups × {} ({placement}); lost pieces noticed \
                     {detection}, copied {copy}{crews}",
                    groups.len(),
                    store.redundancy,
                )
            }
            ServiceKind::Compute {
                instances, min_up, ..
            } => format!(
                "compute, {} instances ({}), up while {min_up} are up",
                instances.iter().map(|&(_, n)| n).sum::<u32>(),
                spread(instances)
            ),
            ServiceKind::Application(app) => format!(
                "application of account \"{}\": {} tiers, {} instances, {} flows; {} a month",
                app.security.account(),
                app.tiers.len(),
                app.instance_count(),
                app.flows.len(),
                dollars(app.monthly_cost().total)
            ),
        };
        let _ = writeln!(out, "  {:<16} {what}", s.name);
        if let ServiceKind::Application(app) = &s.kind {
            describe_application(&mut out, world, app);
        }
        for sla in &s.slas {
            let _ = writeln!(
                out,
                "    SLA {:?}: {} % per {}, measured by {}",
                sla.name,
                sla.target_percent,
                sla.window.name(),
                sla.measure.describe()
            );
            if !sla.credits.tiers().is_empty() {
                let tiers: Vec<String> = sla
                    .credits
                    .tiers()
                    .iter()
                    .map(|(below, credit)| format!("{credit} % below {below} %"))
                    .collect();
                let _ = writeln!(out, "      credits: {}", tiers.join(", "));
            }
        }
    }
    let s = &world.structure;
    let _ = writeln!(
        out,
        "model: {} nodes ({} fail and repair), {} dependency links",
        s.node_count(),
        s.process_count(),
        s.edge_count()
    );
    // Security errors do not make the scenario invalid: say so where they cannot be
    // missed.
    for service in &world.services {
        if let ServiceKind::Application(app) = &service.kind {
            let errors = app
                .audit()
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .count();
            if errors > 0 {
                let _ = writeln!(
                    out,
                    "SECURITY ERRORS: {errors} in application {:?} (marked ERROR above). The \
                     scenario is valid and runs as designed: a flow no rule admits keeps the \
                     application down for the whole run.",
                    service.name
                );
            }
        }
    }
    out
}

/// Dollars with cents: "$1,234.50".
fn dollars(amount: f64) -> String {
    let cents = (amount * 100.0).round() as u64;
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("${grouped}.{:02}", cents % 100)
}

/// A unit price: "$0.10", "$0.085".
fn unit_price(amount: f64) -> String {
    if (amount * 100.0 - (amount * 100.0).round()).abs() < 1e-9 {
        format!("${amount:.2}")
    } else {
        format!("${amount}")
    }
}

/// An application's tiers, flows, cost and security audit, under its service line.
fn describe_application(out: &mut String, world: &World, app: &Application) {
    for tier in &app.tiers {
        let spread: Vec<String> = tier
            .instances
            .iter()
            .map(|&(dc, n)| format!("{n} in {}", world.datacenters[dc].id))
            .collect();
        let groups: Vec<&str> = tier
            .groups
            .iter()
            .map(|&g| app.security.group(g).name())
            .collect();
        let balancer = tier.load_balancer.as_ref().map_or(String::new(), |p| {
            format!(
                "; behind a load balancer (fails {}, repaired {})",
                p.up, p.down
            )
        });
        let elastic = tier.public_addresses.map_or(String::new(), |range| {
            format!("; elastic addresses {range}")
        });
        let _ = writeln!(
            out,
            "    tier {:<11} {} instances ({}), groups {}; up while {} are up{balancer}{elastic}",
            tier.name,
            tier.instance_range.len(),
            spread.join(", "),
            groups.join(", "),
            tier.min_up
        );
    }
    let cost = app.monthly_cost();
    for (k, flow) in app.flows.iter().enumerate() {
        let f = &flow.flow;
        let traffic = match f.protocol {
            crate::security::Protocol::Icmp => "icmp".to_string(),
            protocol => format!("{protocol} {}", f.port),
        };
        let route = match app.route(flow) {
            Some(route) => format!(
                ", {} addresses (typically {} ms, {} hops)",
                match f.via {
                    crate::security::Via::Private => "private",
                    crate::security::Via::Public => "public",
                },
                route.round_trip_ms,
                route.hops
            ),
            None => String::new(),
        };
        let transfer = if flow.gb_per_month > 0.0 {
            format!(
                ", {} GB a month ({} transfer)",
                flow.gb_per_month,
                dollars(cost.transfer[k])
            )
        } else {
            String::new()
        };
        let admitted = match flow.admitted_pairs {
            0 => {
                let to = &app.tiers[f.to];
                let groups: Vec<&str> = to
                    .groups
                    .iter()
                    .map(|&g| app.security.group(g).name())
                    .collect();
                let over = match (f.from, f.via) {
                    (crate::security::Origin::Tier(_), crate::security::Via::Public) => {
                        " over public addresses"
                    }
                    _ => "",
                };
                format!(
                    "NEVER UP: no rule of tier {}'s groups ({}) admits it from {}{over}",
                    to.name,
                    groups.join(", "),
                    app.origin_name(flow)
                )
            }
            1 => "admitted for 1 pair of profiles".to_string(),
            n => format!("admitted for {n} pairs of profiles"),
        };
        let _ = writeln!(
            out,
            "    flow {k:<11} {} → {}, {traffic}{route}{transfer}: {admitted}",
            app.origin_name(flow),
            app.tiers[f.to].name
        );
    }
    let _ = writeln!(
        out,
        "    cost             {} a month: {} instances × {} h × {} = {}, storage {} GB × {} = {}, \
         transfer {}",
        dollars(cost.total),
        app.instance_count(),
        crate::world::HOURS_PER_MONTH,
        unit_price(app.prices.instance_hour),
        dollars(cost.instances),
        app.stored_gb,
        unit_price(app.prices.storage_gb_month),
        dollars(cost.storage),
        dollars(cost.transfer.iter().sum())
    );
    let findings = app.audit();
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count();
    let _ = writeln!(
        out,
        "    security audit: {} error(s), {} warning(s), {} note(s)",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    for finding in &findings {
        let severity = match finding.severity {
            Severity::Error => "ERROR",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        let about = match (&finding.group, finding.rule) {
            (Some(group), Some(rule)) => format!("group {group:?}, rule {rule}"),
            (Some(group), None) => format!("group {group:?}"),
            _ => "-".to_string(),
        };
        let _ = writeln!(out, "      {severity:<8} {about:<27} {}", finding.message);
    }
}
