//! One trial, event by event: what failed and was repaired, when each service went
//! down and came back, and how each SLA window came out — so that a student can follow
//! one simulated year of "everything breaks all the time", and anyone can see where a
//! number comes from.
//!
//! A trace replays trial `k` of a run exactly: the same seed and trial index give the
//! same history as in `nines run`.

use crate::reliability::NodeId;
use crate::trial::TrialRunner;
use crate::world::World;
use serde::Serialize;

/// A watched component or service changed state.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TraceEvent {
    pub time_hours: f64,
    pub name: String,
    /// "down" or "up".
    pub state: &'static str,
    /// Whether this is a service (rather than a component).
    pub service: bool,
    /// For a piece of stored data lost or re-created: the group's pieces present after
    /// it ("4 of 6 pieces").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pieces: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WindowResult {
    pub start_hours: f64,
    pub end_hours: f64,
    /// For instance-level SLAs, the instance (0-based) judged in this window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<usize>,
    pub uptime_percent: f64,
    pub breached: bool,
    pub credit_percent: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlaResult {
    pub name: String,
    pub windows: Vec<WindowResult>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServiceResult {
    pub name: String,
    pub downtime_hours: f64,
    pub outages: u32,
    pub slas: Vec<SlaResult>,
}

/// One trial's history.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Trace {
    pub scenario: String,
    pub seed: u64,
    pub trial: u64,
    pub horizon_hours: f64,
    /// Every component's own failures and repairs (the root causes: a rack's outage
    /// is one event, not one per host below it; a component that was already down
    /// because of something upstream still shows its own failure), and every change of
    /// a service, in time order.
    pub events: Vec<TraceEvent>,
    pub services: Vec<ServiceResult>,
}

/// Replays trial `trial` of a run of `world` seeded with `seed`.
pub fn trace(world: &World, seed: u64, trial: u64) -> Trace {
    let mut runner = TrialRunner::new(world);
    let (outcome, changes, pieces) = runner.run_logged(seed, trial);
    let name = |node: NodeId| world.structure.name(node).to_string();
    let mut events: Vec<TraceEvent> = changes
        .iter()
        .map(|c| TraceEvent {
            time_hours: c.time,
            name: name(c.node),
            state: if c.up { "up" } else { "down" },
            service: c.service.is_some(),
            pieces: None,
        })
        .collect();
    events.extend(pieces.iter().map(|p| TraceEvent {
        time_hours: p.time,
        name: format!(
            "service:{}:group:{}",
            world.services[p.service].name, p.group
        ),
        state: p.change.name(),
        service: false,
        pieces: Some(format!("{} of {} pieces", p.present, p.pieces)),
    }));
    // Components that start the trial down are reported at time 0 after the services'
    // initial states, and pieces after the changes that moved them: a stable sort by
    // time puts everything in order and keeps causes before their effects.
    events.sort_by(|a, b| a.time_hours.total_cmp(&b.time_hours));
    let outcome = &outcome;
    let services = world
        .services
        .iter()
        .zip(&outcome.services)
        .map(|(service, measured)| ServiceResult {
            name: service.name.clone(),
            downtime_hours: measured.downtime,
            outages: measured.outages,
            slas: service
                .slas
                .iter()
                .zip(&measured.slas)
                .map(|(sla, measured)| {
                    let windows = sla.window.windows(world.horizon);
                    let units = measured.unavailability.len() / windows.len().max(1);
                    SlaResult {
                        name: sla.name.clone(),
                        windows: measured
                            .unavailability
                            .iter()
                            .enumerate()
                            .map(|(i, &u)| {
                                let (start, end) = windows[i / units.max(1)];
                                let uptime = 100.0 * (1.0 - u);
                                WindowResult {
                                    start_hours: start,
                                    end_hours: end,
                                    unit: (units > 1).then_some(i % units),
                                    uptime_percent: uptime,
                                    breached: sla.breached_by(uptime),
                                    credit_percent: sla
                                        .credits
                                        .credit_percent(sla.credits.tier_of(uptime)),
                                }
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect();
    Trace {
        scenario: world.name.clone(),
        seed,
        trial,
        horizon_hours: world.horizon,
        events,
        services,
    }
}

/// "day 12, 03:27:05" for a time in hours since the start.
pub fn clock(hours: f64) -> String {
    let seconds = (hours * 3600.0).round() as u64;
    let (day, rest) = (seconds / 86_400, seconds % 86_400);
    format!(
        "day {:>3}, {:02}:{:02}:{:02}",
        day + 1,
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

impl Trace {
    /// The readable timeline printed by `nines trace`.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: trial {} of seed {}, {} changes",
            self.scenario,
            self.trial,
            self.seed,
            self.events.len()
        );
        for e in &self.events {
            let _ = writeln!(
                out,
                "  {}  {:<4} {}{}{}",
                clock(e.time_hours),
                e.state,
                if e.service { "SERVICE " } else { "" },
                e.name,
                e.pieces
                    .as_ref()
                    .map_or(String::new(), |p| format!(" ({p})"))
            );
        }
        for s in &self.services {
            let _ = writeln!(out);
            let _ = writeln!(
                out,
                "{}: down {} in {} outage(s)",
                s.name,
                crate::report::format_hours(s.downtime_hours),
                s.outages
            );
            for sla in &s.slas {
                let breached: Vec<&WindowResult> =
                    sla.windows.iter().filter(|w| w.breached).collect();
                let _ = writeln!(
                    out,
                    "  {}: {} of {} windows breached",
                    sla.name,
                    breached.len(),
                    sla.windows.len()
                );
                for w in breached {
                    let _ = writeln!(
                        out,
                        "    {} to {}{}: uptime {:.4} %, credit {} %",
                        clock(w.start_hours),
                        clock(w.end_hours),
                        w.unit.map_or(String::new(), |u| format!(" (instance {u})")),
                        w.uptime_percent,
                        w.credit_percent
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_days_and_hours() {
        // 36.5 h is noon and a half on day 2.
        assert_eq!(clock(36.5), "day   2, 12:30:00");
        assert_eq!(clock(0.0), "day   1, 00:00:00");
    }
}
