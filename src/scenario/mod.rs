//! Reading scenario files: parse (serde), check every field, and lower into a
//! [`World`]. Errors name the JSON path of the bad field and the reason.

mod application;
mod lower;
pub mod raw;
mod storage;
pub mod units;

use crate::world::World;
use std::fmt;
use std::path::Path;

/// How big a scenario may be. A scenario over any limit is refused before it is built,
/// with an error that names the limit and the flag that raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Domains, facilities, racks, hosts, disks and instances (`--max-components`).
    pub max_components: u64,
    /// Object groups over all storage services (`--max-object-groups`).
    pub max_object_groups: u64,
    /// Estimated memory for the world and each worker's trial state, in bytes
    /// (`--max-memory`, in MiB).
    pub max_memory: u64,
    /// Worker threads that will each hold a trial's state.
    pub workers: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_components: 20_000_000,
            max_object_groups: 10_000_000,
            max_memory: 8 << 30,
            workers: 1,
        }
    }
}

/// What is wrong with a scenario, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// JSON path of the offending field, e.g. `failure_domains[1].outage.lognormal.sigma`;
    /// empty for the document as a whole.
    pub path: String,
    pub reason: String,
}

impl ScenarioError {
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        ScenarioError {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "`{}`: {}", self.path, self.reason)
        }
    }
}

impl std::error::Error for ScenarioError {}

/// Parses scenario JSON text into its raw form.
pub fn parse(text: &str) -> Result<raw::Scenario, ScenarioError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let scenario: raw::Scenario =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            // The path of the document as a whole, or of a place the parser could not
            // reach (the text ended early), is no field.
            let path = if path == "." || path == "?" {
                String::new()
            } else {
                path
            };
            ScenarioError::new(path, inner.to_string())
        })?;
    deserializer
        .end()
        .map_err(|e| ScenarioError::new("", e.to_string()))?;
    Ok(scenario)
}

/// Parses, checks and lowers scenario JSON text, within the default limits.
pub fn from_str(text: &str) -> Result<World, ScenarioError> {
    from_str_within(text, &Limits::default())
}

/// Parses, checks and lowers scenario JSON text, within `limits`.
pub fn from_str_within(text: &str, limits: &Limits) -> Result<World, ScenarioError> {
    lower::lower(&parse(text)?, limits)
}

/// Error reading a scenario file: the file itself, or its content.
#[derive(Debug)]
pub enum LoadError {
    Io(std::io::Error),
    Invalid(ScenarioError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "{e}"),
            LoadError::Invalid(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Reads, parses, checks and lowers a scenario file.
pub fn load(path: &Path) -> Result<World, LoadError> {
    let text = std::fs::read_to_string(path).map_err(LoadError::Io)?;
    from_str(&text).map_err(LoadError::Invalid)
}

/// The JSON Schema of scenario files.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(raw::Scenario);
    serde_json::to_value(&schema).expect("a schema is always valid JSON")
}
