//! Storage services: redundancy (replicas or an erasure code), the first placement of
//! every piece, and how lost pieces are re-created.

use super::ScenarioError;
use super::lower::{duration, err, law, resolve_counts, unknown};
use super::raw;
use crate::laws::Law;
use crate::streams::{self, key_of};
use crate::world::{Anchor, CopyTime, Datacenter, Placement, Redundancy, Repair, Store};
use rand::RngExt;
use rand::seq::SliceRandom;
use std::collections::HashMap;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Detection delay when a scenario does not give one.
pub const DEFAULT_DETECTION_HOURS: f64 = 0.25;

/// More pieces per group than this are refused (per-group counts are bytes).
const MAX_PIECES: u32 = 255;

/// Checks a storage spec and places its pieces. `path` is the spec's JSON path.
pub(super) fn lower_store(
    spec: &raw::StorageSpec,
    path: &str,
    service: &str,
    datacenters: &[Datacenter],
    anchors: &[Anchor],
    dc_index: &HashMap<&str, usize>,
    seed: u64,
) -> Result<Store> {
    if spec.object_groups == 0 {
        return err(format!("{path}.object_groups"), "must be at least 1");
    }
    let (placement, dcs, per_datacenter) = lower_placement(&spec.placement, path, dc_index)?;
    let fits = |dc: usize| datacenters[dc].anchors.len() as u64;
    for &(dc, count) in &per_datacenter {
        if u64::from(count) > fits(dc) {
            return err(
                format!("{path}.placement.per_datacenter.{}", datacenters[dc].id),
                format!(
                    "asks for {count} pieces on distinct components but `{}` has only {} \
                     place(s) for them (give it more racks, hosts or disks)",
                    datacenters[dc].id,
                    fits(dc)
                ),
            );
        }
    }
    let redundancy = redundancy(spec, path, &per_datacenter)?;
    let places: u64 = dcs.iter().map(|&dc| fits(dc)).sum();
    if u64::from(redundancy.pieces) > places {
        return err(
            format!("{path}.placement"),
            format!(
                "{} pieces per group need as many distinct places, but the data centres \
                 have only {places}",
                redundancy.pieces
            ),
        );
    }
    let pieces = match placement {
        Placement::PerDatacenter => place_per_datacenter(
            service,
            spec.object_groups,
            &per_datacenter,
            datacenters,
            anchors,
            seed,
        ),
        Placement::Random => place_randomly(
            service,
            spec.object_groups,
            redundancy.pieces,
            &dcs,
            datacenters,
            seed,
        ),
        Placement::Copysets { scatter_width } => place_on_copysets(
            service,
            spec.object_groups,
            redundancy.pieces,
            scatter_width,
            &dcs,
            datacenters,
            seed,
        ),
    };
    let group_bytes = match &spec.object_group_size {
        Some(size) => Some(
            size.bytes()
                .map_err(|reason| ScenarioError::new(format!("{path}.object_group_size"), reason))
                .and_then(|b| {
                    if b > 0.0 && b <= 1e18 {
                        Ok(b)
                    } else {
                        err(
                            format!("{path}.object_group_size"),
                            "must be more than 0 and at most 1 EB",
                        )
                    }
                })?,
        ),
        None => None,
    };
    let repair = lower_repair(spec.repair.as_ref(), &format!("{path}.repair"), group_bytes)?;
    Ok(Store {
        redundancy,
        placement,
        datacenters: dcs,
        per_datacenter,
        pieces,
        repair,
        group_bytes,
    })
}

type LoweredPlacement = (Placement, Vec<usize>, Vec<(usize, u32)>);

fn lower_placement(
    spec: &raw::PlacementSpec,
    path: &str,
    dc_index: &HashMap<&str, usize>,
) -> Result<LoweredPlacement> {
    let path = format!("{path}.placement");
    match (&spec.per_datacenter, &spec.random, &spec.copysets) {
        (Some(counts), None, None) => {
            let per = resolve_counts(counts, &format!("{path}.per_datacenter"), dc_index)?;
            let dcs = per.iter().map(|&(dc, _)| dc).collect();
            Ok((Placement::PerDatacenter, dcs, per))
        }
        (None, Some(random), None) => {
            let dcs = resolve_list(&random.datacenters, &format!("{path}.random"), dc_index)?;
            Ok((Placement::Random, dcs, Vec::new()))
        }
        (None, None, Some(copysets)) => {
            let dcs = resolve_list(&copysets.datacenters, &format!("{path}.copysets"), dc_index)?;
            if copysets.scatter_width == 0 {
                return err(
                    format!("{path}.copysets.scatter_width"),
                    "must be at least 1",
                );
            }
            let placement = Placement::Copysets {
                scatter_width: copysets.scatter_width,
            };
            Ok((placement, dcs, Vec::new()))
        }
        _ => err(
            path,
            "give exactly one of `per_datacenter`, `random` and `copysets`",
        ),
    }
}

fn resolve_list(ids: &[String], path: &str, dc_index: &HashMap<&str, usize>) -> Result<Vec<usize>> {
    let path = format!("{path}.datacenters");
    if ids.is_empty() {
        return err(path, "name at least one data centre");
    }
    let mut dcs = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let &dc = dc_index.get(id.as_str()).ok_or_else(|| {
            ScenarioError::new(format!("{path}[{i}]"), unknown("data centre", id, dc_index))
        })?;
        if dcs.contains(&dc) {
            return err(format!("{path}[{i}]"), format!("`{id}` is listed twice"));
        }
        dcs.push(dc);
    }
    Ok(dcs)
}

fn redundancy(
    spec: &raw::StorageSpec,
    path: &str,
    per_datacenter: &[(usize, u32)],
) -> Result<Redundancy> {
    let placed: u64 = per_datacenter.iter().map(|&(_, c)| u64::from(c)).sum();
    let redundancy = match (&spec.erasure_code, spec.replicas) {
        (Some(_), Some(_)) => {
            return err(
                format!("{path}.erasure_code"),
                "give `replicas` or `erasure_code`, not both",
            );
        }
        (Some(code), None) => {
            if code.data == 0 {
                return err(format!("{path}.erasure_code.data"), "must be at least 1");
            }
            let pieces = u64::from(code.data) + u64::from(code.parity);
            if pieces > u64::from(MAX_PIECES) {
                return err(
                    format!("{path}.erasure_code"),
                    format!("data + parity must be at most {MAX_PIECES}, got {pieces}"),
                );
            }
            Redundancy::erasure_code(code.data, code.parity)
        }
        (None, replicas) => {
            let Some(n) = replicas.map(u64::from).or((placed > 0).then_some(placed)) else {
                return err(
                    format!("{path}.replicas"),
                    "is needed with this placement (or give `erasure_code`)",
                );
            };
            if n == 0 || n > u64::from(MAX_PIECES) {
                return err(
                    format!("{path}.replicas"),
                    format!("must be between 1 and {MAX_PIECES}, got {n}"),
                );
            }
            Redundancy::replicas(n as u32)
        }
    };
    if !per_datacenter.is_empty() && placed != u64::from(redundancy.pieces) {
        let field = if redundancy.erasure_coded {
            "erasure_code"
        } else {
            "replicas"
        };
        return err(
            format!("{path}.{field}"),
            format!(
                "is {} pieces but the placement puts {placed}",
                redundancy.pieces
            ),
        );
    }
    Ok(redundancy)
}

fn lower_repair(
    spec: Option<&raw::RepairSpec>,
    path: &str,
    group_bytes: Option<f64>,
) -> Result<Repair> {
    let default_detection = Some(Law::deterministic(DEFAULT_DETECTION_HOURS).expect("valid"));
    let Some(spec) = spec else {
        return Ok(Repair {
            detection: default_detection,
            copy: CopyTime::Instant,
            crews: None,
        });
    };
    let detection =
        match &spec.detection {
            None => default_detection,
            Some(raw::DelaySpec::Fixed(text)) => {
                let hours = duration(text, &format!("{path}.detection"))?;
                if hours == 0.0 {
                    None
                } else {
                    Some(Law::deterministic(hours).map_err(|e| {
                        ScenarioError::new(format!("{path}.detection"), e.to_string())
                    })?)
                }
            }
            Some(raw::DelaySpec::Law(spec)) => Some(law(spec, &format!("{path}.detection"))?),
        };
    let copy = match (&spec.copy, &spec.bandwidth) {
        (Some(_), Some(_)) => {
            return err(
                format!("{path}.bandwidth"),
                "give `copy` or `bandwidth`, not both",
            );
        }
        (Some(copy), None) => CopyTime::Law(law(copy, &format!("{path}.copy"))?),
        (None, Some(bandwidth)) => {
            if group_bytes.is_none() {
                return err(
                    format!("{path}.bandwidth"),
                    "needs the storage's `object_group_size` (the bytes each copy moves)",
                );
            }
            let rate = |text: &super::units::RateText, field: &str| -> Result<f64> {
                let bytes = text.bytes_per_second().map_err(|reason| {
                    ScenarioError::new(format!("{path}.bandwidth.{field}"), reason)
                })?;
                if bytes > 0.0 && bytes.is_finite() {
                    Ok(bytes * 3600.0)
                } else {
                    err(format!("{path}.bandwidth.{field}"), "must be more than 0")
                }
            };
            CopyTime::Bandwidth {
                within: rate(&bandwidth.within_datacenter, "within_datacenter")?,
                between: rate(&bandwidth.between_datacenters, "between_datacenters")?,
            }
        }
        (None, None) => CopyTime::Instant,
    };
    if spec.crews == Some(0) {
        return err(format!("{path}.crews"), "must be at least 1");
    }
    Ok(Repair {
        detection,
        copy,
        crews: spec.crews,
    })
}

/// A fixed number of pieces per data centre, spread over racks first.
///
/// Each (group, data centre) pair draws from its own stream, and piece `i` is placed
/// after pieces `0..i` in the same way whatever the count: a design with one more
/// replica, or one more data centre, keeps every placement of the other (common random
/// numbers for comparisons).
fn place_per_datacenter(
    service: &str,
    object_groups: u32,
    per_datacenter: &[(usize, u32)],
    datacenters: &[Datacenter],
    anchors: &[Anchor],
    seed: u64,
) -> Vec<u32> {
    let per: u32 = per_datacenter.iter().map(|&(_, c)| c).sum();
    let mut pieces = Vec::with_capacity(object_groups as usize * per as usize);
    let mut racks_used: Vec<u32> = Vec::new();
    let mut chosen: Vec<u32> = Vec::new();
    // Each data centre's racks, found once (not once per group).
    let racks_in: Vec<Vec<(u32, u32)>> = per_datacenter
        .iter()
        .map(|&(dc, _)| racks_of(anchors, datacenters[dc].anchors.clone()))
        .collect();
    for g in 0..object_groups {
        for (&(dc, count), racks) in per_datacenter.iter().zip(&racks_in) {
            let site = &datacenters[dc];
            let key = key_of(&format!("placement:{service}:{g}:{}", site.id));
            let mut rng = streams::world_stream(seed, key);
            let range = site.anchors.clone();
            let places = range.len();
            racks_used.clear();
            chosen.clear();
            while chosen.len() < count as usize {
                let anchor = if racks_used.len() < racks.len() {
                    // Spread over racks first: a rack not used yet, any place in it.
                    let rack = rng.random_range(0..racks.len());
                    if racks_used.contains(&(rack as u32)) {
                        continue;
                    }
                    racks_used.push(rack as u32);
                    let (first, len) = racks[rack];
                    first + rng.random_range(0..len)
                } else {
                    // Every rack holds one: any place not chosen yet.
                    let anchor = range.start + rng.random_range(0..places) as u32;
                    if chosen.contains(&anchor) {
                        continue;
                    }
                    anchor
                };
                chosen.push(anchor);
            }
            pieces.extend_from_slice(&chosen);
        }
    }
    pieces
}

/// The racks of a data centre's places: (first anchor, places) per rack, in order.
fn racks_of(anchors: &[Anchor], range: std::ops::Range<u32>) -> Vec<(u32, u32)> {
    let mut racks: Vec<(u32, u32)> = Vec::new();
    for a in range {
        let rack = anchors[a as usize].rack;
        match racks.last_mut() {
            Some((first, len)) if anchors[*first as usize].rack == rack => *len += 1,
            _ => racks.push((a, 1)),
        }
    }
    racks
}

/// All places of the listed data centres, in order.
fn places_of(dcs: &[usize], datacenters: &[Datacenter]) -> Vec<u32> {
    dcs.iter()
        .flat_map(|&dc| datacenters[dc].anchors.clone())
        .collect()
}

/// Each piece on a distinct place drawn uniformly over the data centres' places.
fn place_randomly(
    service: &str,
    object_groups: u32,
    per: u32,
    dcs: &[usize],
    datacenters: &[Datacenter],
    seed: u64,
) -> Vec<u32> {
    let places = places_of(dcs, datacenters);
    let mut pieces = Vec::with_capacity(object_groups as usize * per as usize);
    for g in 0..object_groups {
        let mut rng = streams::world_stream(seed, key_of(&format!("placement:{service}:{g}")));
        let start = pieces.len();
        while pieces.len() - start < per as usize {
            let anchor = places[rng.random_range(0..places.len())];
            if !pieces[start..].contains(&anchor) {
                pieces.push(anchor);
            }
        }
    }
    pieces
}

/// Copysets (Cidon et al., USENIX ATC 2013): `ceil(scatter_width / (per - 1))` random
/// permutations of the places, each cut into consecutive sets of `per` (a remainder
/// joins no set); each group lives on one set drawn uniformly.
fn place_on_copysets(
    service: &str,
    object_groups: u32,
    per: u32,
    scatter_width: u32,
    dcs: &[usize],
    datacenters: &[Datacenter],
    seed: u64,
) -> Vec<u32> {
    let places = places_of(dcs, datacenters);
    let permutations = scatter_width.div_ceil(per.saturating_sub(1).max(1));
    let mut sets: Vec<&[u32]> = Vec::new();
    let mut shuffled: Vec<Vec<u32>> = Vec::with_capacity(permutations as usize);
    for k in 0..permutations {
        let mut order = places.clone();
        let mut rng = streams::world_stream(seed, key_of(&format!("copysets:{service}:{k}")));
        order.shuffle(&mut rng);
        shuffled.push(order);
    }
    for order in &shuffled {
        sets.extend(order.chunks_exact(per as usize));
    }
    let mut pieces = Vec::with_capacity(object_groups as usize * per as usize);
    for g in 0..object_groups {
        let mut rng = streams::world_stream(seed, key_of(&format!("placement:{service}:{g}")));
        pieces.extend_from_slice(sets[rng.random_range(0..sets.len())]);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reliability::NodeId;

    /// Two data centres of 2 racks × 3 places.
    fn world() -> (Vec<Datacenter>, Vec<Anchor>) {
        let mut anchors = Vec::new();
        let mut dcs = Vec::new();
        for d in 0..2u32 {
            let start = anchors.len() as u32;
            for r in 0..2 {
                for _ in 0..3 {
                    anchors.push(Anchor {
                        node: NodeId(anchors.len() as u32),
                        datacenter: d,
                        rack: r,
                        loses_data: true,
                        within: [NodeId(anchors.len() as u32); 3],
                        depth: 1,
                    });
                }
            }
            dcs.push(Datacenter {
                id: format!("dc{d}"),
                region: "r".into(),
                on: vec![],
                providers: vec![],
                facility: None,
                racks: 2,
                hosts_per_rack: 3,
                disks_per_host: 0,
                node: NodeId(100 + d),
                anchors: start..anchors.len() as u32,
            });
        }
        (dcs, anchors)
    }

    #[test]
    fn per_datacenter_spreads_over_racks_then_places() {
        let (dcs, anchors) = world();
        // 3 pieces in dc0 (2 racks): the first two on distinct racks, all distinct.
        let pieces = place_per_datacenter("s", 50, &[(0, 3), (1, 1)], &dcs, &anchors, 7);
        for group in pieces.chunks(4) {
            let racks: Vec<u32> = group[..2]
                .iter()
                .map(|&a| anchors[a as usize].rack)
                .collect();
            assert_ne!(racks[0], racks[1]);
            assert!(
                group[..3]
                    .iter()
                    .all(|&a| anchors[a as usize].datacenter == 0)
            );
            assert_eq!(anchors[group[3] as usize].datacenter, 1);
            let mut distinct = group.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 4);
        }
    }

    #[test]
    fn random_placement_uses_distinct_places_everywhere() {
        let (dcs, anchors) = world();
        let pieces = place_randomly("s", 200, 5, &[0, 1], &dcs, 3);
        let mut seen = vec![0u32; anchors.len()];
        for group in pieces.chunks(5) {
            let mut distinct = group.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 5);
            for &a in group {
                seen[a as usize] += 1;
            }
        }
        // 1,000 pieces over 12 places: each is used (expected 83 each).
        assert!(seen.iter().all(|&n| n > 40), "{seen:?}");
    }

    #[test]
    fn copysets_limit_the_sets_a_group_can_land_on() {
        let (dcs, anchors) = world();
        // 12 places, 3 pieces, scatter width 2: ceil(2 / 2) = 1 permutation, cut into
        // 12 / 3 = 4 disjoint sets: every group lands on one of those 4.
        let pieces = place_on_copysets("s", 300, 3, 2, &[0, 1], &dcs, 5);
        let mut sets: Vec<Vec<u32>> = pieces
            .chunks(3)
            .map(|g| {
                let mut g = g.to_vec();
                g.sort_unstable();
                g
            })
            .collect();
        sets.sort();
        sets.dedup();
        assert_eq!(sets.len(), 4);
        let mut all: Vec<u32> = sets.concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), anchors.len());
    }
}
