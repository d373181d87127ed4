//! The world summary printed by `nines check`.

use crate::world::{ServiceKind, World};

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
    let _ = writeln!(out, "services ({}):", world.services.len());
    for s in &world.services {
        let what = match &s.kind {
            ServiceKind::Storage {
                groups,
                replicas,
                per_datacenter,
                ..
            } => format!(
                "storage, {} object groups × {replicas} replicas ({})",
                groups.len(),
                spread(per_datacenter)
            ),
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
