//! nines: a discrete-event, Monte Carlo simulator of cloud availability.
//!
//! The modules, from the bottom up (see ARCHITECTURE.md):
//! - [`engine`]: a generic discrete-event core (time, event queue, run loop);
//! - [`laws`]: probability laws of times to failure and repair;
//! - [`markov`]: exact solutions of small continuous-time Markov chains (durability);
//! - [`analyze`]: the exact chain of a scenario's stored data, beside the simulation;
//! - [`streams`]: seeded random streams, one per (seed, trial, purpose);
//! - [`reliability`]: repairable components and dependencies, simulated on the engine;
//! - [`stats`]: streaming, mergeable statistics and confidence intervals;
//! - [`world`]: the cloud model, validated; [`scenario`] reads it from JSON;
//! - [`security`]: EC2 security groups: admission, flows between tiers, audits;
//! - [`trial`], [`summary`], [`montecarlo`]: one trial, many trials, in parallel;
//! - [`report`], [`cli`]: what the user sees.
pub mod analyze;
pub mod autoscaling;
pub mod cli;
pub mod compare;
pub mod durability;
pub mod engine;
pub mod fuzzing;
pub mod health;
pub mod html;
pub mod laws;
pub mod markov;
pub mod montecarlo;
pub mod parts;
pub mod rare;
pub mod reliability;
pub mod report;
pub mod scenario;
pub mod security;
pub mod sla;
pub mod stats;
pub mod streams;
pub mod summary;
pub mod sweep;
pub mod trace;
pub mod trial;
pub mod world;
