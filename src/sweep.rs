//! Sweeps: one scenario, many variants. A *setting* names a field of the scenario
//! file by its path (`datacenters[0].racks`, `services[1].compute.instances.us-west`)
//! and lists values for it; a sweep runs the cartesian product of its settings.
//!
//! Variants are made on the scenario's JSON before it is checked, so every variant is
//! validated like any scenario, and errors name the field. Every point runs with the
//! same seed: components that the variants share have the same histories (common random
//! numbers), so neighbouring points differ by the setting, not by chance.

use serde_json::Value;
use std::fmt;

/// One swept field and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub path: String,
    pub values: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepError(pub String);

impl fmt::Display for SweepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses `PATH=V1,V2,...`. A value is read as JSON when it parses (`3`, `0.5`,
/// `true`, `"text"`), else taken as a string (`4 h`); `A..B` with whole numbers stands
/// for every whole number from A to B.
pub fn parse_setting(text: &str) -> Result<Setting, SweepError> {
    let (path, values) = text
        .split_once('=')
        .ok_or_else(|| SweepError(format!("--set `{text}`: expected PATH=VALUE[,VALUE...]")))?;
    let path = path.trim();
    if path.is_empty() {
        return Err(SweepError(format!("--set `{text}`: the path is empty")));
    }
    let mut parsed = Vec::new();
    for value in values.split(',').map(str::trim) {
        if let Some((a, b)) = value.split_once("..")
            && let (Ok(a), Ok(b)) = (a.trim().parse::<i64>(), b.trim().parse::<i64>())
        {
            if b < a || b - a > 10_000 {
                return Err(SweepError(format!("--set `{text}`: bad range {value}")));
            }
            parsed.extend((a..=b).map(Value::from));
            continue;
        }
        if value.is_empty() {
            return Err(SweepError(format!("--set `{text}`: an empty value")));
        }
        parsed.push(serde_json::from_str(value).unwrap_or_else(|_| Value::from(value)));
    }
    Ok(Setting {
        path: path.to_string(),
        values: parsed,
    })
}

/// One step of a path: a field name or an array index.
enum Step<'p> {
    Field(&'p str),
    Index(usize),
}

fn steps(path: &str) -> Result<Vec<Step<'_>>, SweepError> {
    let bad = || {
        SweepError(format!(
            "`{path}` is not a field path like `datacenters[0].racks`"
        ))
    };
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            steps.push(Step::Field(name));
        } else if rest.is_empty() {
            return Err(bad());
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']').ok_or_else(bad)?;
            let index = stripped[..end].parse().map_err(|_| bad())?;
            steps.push(Step::Index(index));
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() {
            return Err(bad());
        }
    }
    Ok(steps)
}

/// Sets the field at `path` in `scenario` to `value`. The field's parent must exist;
/// the field itself may be new (a new data centre in a placement, say).
pub fn set(scenario: &mut Value, path: &str, value: Value) -> Result<(), SweepError> {
    let steps = steps(path)?;
    let (last, parents) = steps.split_last().expect("a path has a step");
    let mut node = scenario;
    for step in parents {
        node = match step {
            Step::Field(name) => node.get_mut(*name),
            Step::Index(i) => node.get_mut(*i),
        }
        .ok_or_else(|| SweepError(format!("`{path}`: the scenario has no such field")))?;
    }
    match last {
        Step::Field(name) => {
            let object = node
                .as_object_mut()
                .ok_or_else(|| SweepError(format!("`{path}`: its parent is not an object")))?;
            object.insert((*name).to_string(), value);
        }
        Step::Index(i) => {
            let slot = node
                .get_mut(*i)
                .ok_or_else(|| SweepError(format!("`{path}`: no element {i}")))?;
            *slot = value;
        }
    }
    Ok(())
}

/// Every combination of the settings' values, first setting slowest.
pub fn points(settings: &[Setting]) -> Vec<Vec<Value>> {
    settings.iter().fold(vec![Vec::new()], |points, setting| {
        points
            .iter()
            .flat_map(|point| {
                setting.values.iter().map(move |v| {
                    let mut next = point.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_read_values_and_ranges() {
        let s = parse_setting("datacenters[0].racks=1..3,8").unwrap();
        assert_eq!(s.path, "datacenters[0].racks");
        assert_eq!(s.values, vec![json!(1), json!(2), json!(3), json!(8)]);
        let s = parse_setting("components.rack.repair.exponential.mean=4 h, 1 day").unwrap();
        assert_eq!(s.values, vec![json!("4 h"), json!("1 day")]);
        assert!(parse_setting("no-equals").is_err());
        assert!(parse_setting("a=3..1").is_err());
    }

    #[test]
    fn set_reaches_nested_fields_and_names_missing_ones() {
        let mut scenario = json!({ "datacenters": [ { "racks": 1 } ], "services": [] });
        set(&mut scenario, "datacenters[0].racks", json!(5)).unwrap();
        assert_eq!(scenario["datacenters"][0]["racks"], 5);
        set(&mut scenario, "datacenters[0].hosts_per_rack", json!(2)).unwrap();
        assert_eq!(scenario["datacenters"][0]["hosts_per_rack"], 2);
        let err = set(&mut scenario, "datacenters[3].racks", json!(1)).unwrap_err();
        assert!(err.0.contains("no such field"), "{err}");
        assert!(set(&mut scenario, "datacenters[0]racks", json!(1)).is_err());
    }

    #[test]
    fn points_are_the_cartesian_product() {
        let a = Setting {
            path: "a".into(),
            values: vec![json!(1), json!(2)],
        };
        let b = Setting {
            path: "b".into(),
            values: vec![json!("x"), json!("y"), json!("z")],
        };
        let p = points(&[a, b]);
        assert_eq!(p.len(), 6);
        assert_eq!(p[0], vec![json!(1), json!("x")]);
        assert_eq!(p[5], vec![json!(2), json!("z")]);
    }
}
