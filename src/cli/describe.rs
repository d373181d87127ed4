//! The world summary printed by `nines check`.

use crate::world::{CopyTime, Placement, ServiceKind, World};

/// The summary printed by `nines check`.
pub fn describe(world: &World) -> String {
    use std::fmt::Write as _;
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
        };
        let _ = writeln!(out, "  {:<16} {what}", s.name);
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
    out
}
