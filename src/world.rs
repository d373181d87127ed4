//! The cloud model, validated: failure domains, data centres and their components,
//! services and their SLAs, lowered onto a reliability [`Structure`].
//!
//! A `World` is built once per scenario (see [`crate::scenario`]) and shared read-only
//! by every trial. Everything in it has been checked: ids resolve, laws are valid,
//! counts fit.

use crate::reliability::{InitialState, NodeId, Process, Structure};
use crate::scenario::units::HOURS_PER_YEAR;

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
}

#[derive(Debug, Clone, PartialEq)]
pub enum ServiceKind {
    /// Object groups replicated across data centres; up while every group has a
    /// reachable replica.
    Storage {
        object_groups: u32,
        replicas: u32,
        /// (data centre index, replicas there) per group.
        per_datacenter: Vec<(usize, u32)>,
    },
    /// Instances in data centres; up while at least `min_up` are up.
    Compute {
        instances: Vec<(usize, u32)>,
        min_up: u32,
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

#[derive(Debug, Clone, PartialEq)]
pub struct Sla {
    pub name: String,
    /// Committed uptime as a percentage, e.g. 99.9.
    pub target_percent: f64,
    pub window: Window,
    pub measure: Measure,
}

impl Sla {
    /// Whether a window with this uptime fraction breaks the commitment. The boundary
    /// belongs to the provider: exactly the target is not a breach.
    pub fn breached_by(&self, uptime: f64) -> bool {
        uptime * 100.0 < self.target_percent
    }
}

/// The period over which an SLA measures uptime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Calendar months of a 365-day year.
    Month,
    /// A 365-day year.
    Year,
}

/// Days in each month of a 365-day year.
pub const MONTH_DAYS: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

impl Window {
    pub fn name(self) -> &'static str {
        match self {
            Window::Month => "month",
            Window::Year => "year",
        }
    }

    /// Start times (hours) of the consecutive windows that fit entirely in
    /// `[0, horizon)`, followed by the end of the last one: window `i` is
    /// `[b[i], b[i + 1])`. Months follow the calendar from 1 January.
    pub fn boundaries(self, horizon: f64) -> Vec<f64> {
        let mut bounds = vec![0.0];
        let mut end = 0.0;
        let mut index = 0usize;
        loop {
            let length = match self {
                Window::Month => f64::from(MONTH_DAYS[index % 12]) * 24.0,
                Window::Year => HOURS_PER_YEAR,
            };
            end += length;
            // A window ending within a microsecond of the horizon still fits; this
            // absorbs rounding in horizons written in other units.
            if end > horizon + 1e-9 * horizon.max(1.0) {
                break;
            }
            bounds.push(end);
            index += 1;
        }
        bounds
    }
}

/// How an SLA turns a window's history into an uptime fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// 1 - (hours the service is down) / (hours in the window).
    Downtime,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Downtime => "downtime",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_of_calendar_months() {
        let b = Window::Month.boundaries(8760.0);
        // 12 months: 13 boundaries; January ends after 31 days = 744 h, February after
        // 59 days = 1416 h; December ends the year at 8760 h.
        assert_eq!(b.len(), 13);
        assert_eq!(b[1], 744.0);
        assert_eq!(b[2], 1416.0);
        assert_eq!(b[12], 8760.0);
        // Two years: 24 months, and the 13th is January again.
        let b2 = Window::Month.boundaries(2.0 * 8760.0);
        assert_eq!(b2.len(), 25);
        assert_eq!(b2[13] - b2[12], 744.0);
    }

    #[test]
    fn only_whole_windows_count() {
        // 1.5 years hold one whole year; 40 days hold only January.
        assert_eq!(Window::Year.boundaries(1.5 * 8760.0), vec![0.0, 8760.0]);
        assert_eq!(Window::Month.boundaries(40.0 * 24.0), vec![0.0, 744.0]);
        assert_eq!(Window::Year.boundaries(100.0), vec![0.0]);
    }

    #[test]
    fn the_target_itself_is_not_a_breach() {
        let sla = Sla {
            name: "s".into(),
            target_percent: 99.9,
            window: Window::Month,
            measure: Measure::Downtime,
        };
        assert!(!sla.breached_by(0.999));
        assert!(sla.breached_by(0.9989));
        assert!(!sla.breached_by(1.0));
    }
}
