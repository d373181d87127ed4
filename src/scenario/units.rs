//! Durations and percentages as users write them: `"90 min"`, `"8 months"`, `"99.9%"`.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use std::borrow::Cow;

/// Hours in each accepted unit. A month is a twelfth of a 365-day year; a year is
/// 365 days (leap days are ignored throughout nines).
pub const UNITS: &[(&[&str], f64)] = &[
    (&["s", "sec", "second", "seconds"], 1.0 / 3600.0),
    (&["min", "minute", "minutes"], 1.0 / 60.0),
    (&["h", "hr", "hour", "hours"], 1.0),
    (&["d", "day", "days"], 24.0),
    (&["w", "week", "weeks"], 168.0),
    (&["month", "months"], 730.0),
    (&["y", "yr", "year", "years"], 8760.0),
];

pub const HOURS_PER_YEAR: f64 = 8760.0;

/// A duration as written in a scenario: a number, optional spaces, a unit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct DurationText(pub String);

impl DurationText {
    /// The duration in hours, or the reason it cannot be read. Accepts any finite,
    /// non-negative number; callers apply their own bounds.
    pub fn hours(&self) -> Result<f64, String> {
        parse_duration(&self.0)
    }
}

fn accepted_units() -> String {
    UNITS
        .iter()
        .map(|(names, _)| names.join("/"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `"2 h"`, `"1.5days"`, `"461386 h"` into hours.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let trimmed = text.trim();
    // The unit is the trailing run of letters; the number is what precedes it, so
    // that "1e6 h" reads as a million hours.
    let number = trimmed.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &trimmed[number.len()..];
    if unit.is_empty() {
        return Err(format!(
            "`{text}` has no unit; write a number and a unit, e.g. \"4 h\" (units: {})",
            accepted_units()
        ));
    }
    let number = number.trim();
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}`: `{number}` is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{text}` must be finite and not negative"));
    }
    let per_unit = UNITS
        .iter()
        .find(|(names, _)| names.contains(&unit))
        .map(|&(_, hours)| hours)
        .ok_or_else(|| {
            format!(
                "`{text}`: unknown unit `{unit}` (units: {})",
                accepted_units()
            )
        })?;
    Ok(value * per_unit)
}

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": format!(
                "A number followed by a unit, e.g. \"90 min\", \"2 h\", \"8 months\". Units: {}. \
                 A month is 730 h (a twelfth of a 365-day year), a year 8760 h.",
                accepted_units()
            ),
            "pattern": r"^\s*[0-9.eE+-]+\s*[a-z]+\s*$",
            "examples": ["90 min", "2 h", "5 days", "8 months", "100 years"]
        })
    }
}

/// Bytes in each accepted unit of data size (decimal, as storage is sold: 1 GB =
/// 10^9 bytes; the binary units are spelled with an "i").
pub const SIZE_UNITS: &[(&str, f64)] = &[
    ("B", 1.0),
    ("kB", 1e3),
    ("KB", 1e3),
    ("MB", 1e6),
    ("GB", 1e9),
    ("TB", 1e12),
    ("PB", 1e15),
    ("KiB", 1024.0),
    ("MiB", 1_048_576.0),
    ("GiB", 1_073_741_824.0),
    ("TiB", 1_099_511_627_776.0),
];

/// Bytes per second in each accepted unit of data rate (bits are an eighth of a byte).
pub const RATE_UNITS: &[(&str, f64)] = &[
    ("B/s", 1.0),
    ("kB/s", 1e3),
    ("MB/s", 1e6),
    ("GB/s", 1e9),
    ("TB/s", 1e12),
    ("bit/s", 0.125),
    ("kbit/s", 125.0),
    ("Mbit/s", 125e3),
    ("Gbit/s", 125e6),
    ("Tbit/s", 125e9),
];

/// Splits `"10 Gbit/s"` into 10 and `"Gbit/s"`, and scales by the unit's factor.
fn parse_with_units(text: &str, units: &[(&str, f64)], example: &str) -> Result<f64, String> {
    let names = || {
        units
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let trimmed = text.trim();
    let number = trimmed.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '/');
    let unit = trimmed[number.len()..].trim();
    if unit.is_empty() {
        return Err(format!(
            "`{text}` has no unit; write a number and a unit, e.g. \"{example}\" (units: {})",
            names()
        ));
    }
    let number = number.trim();
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}`: `{number}` is not a number"))?;
    if !value.is_finite() || value < 0.0 {
        return Err(format!("`{text}` must be finite and not negative"));
    }
    let factor = units
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, factor)| factor)
        .ok_or_else(|| format!("`{text}`: unknown unit `{unit}` (units: {})", names()))?;
    Ok(value * factor)
}

/// A data size as written in a scenario: `"100 GB"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct SizeText(pub String);

impl SizeText {
    /// The size in bytes.
    pub fn bytes(&self) -> Result<f64, String> {
        parse_with_units(&self.0, SIZE_UNITS, "100 GB")
    }
}

impl JsonSchema for SizeText {
    fn schema_name() -> Cow<'static, str> {
        "Size".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A number followed by a unit of data: B, kB, MB, GB, TB, PB \
                            (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).",
            "examples": ["100 GB", "4 TiB"]
        })
    }
}

/// A data rate as written in a scenario: `"10 Gbit/s"`, `"200 MB/s"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct RateText(pub String);

impl RateText {
    /// The rate in bytes per second.
    pub fn bytes_per_second(&self) -> Result<f64, String> {
        parse_with_units(&self.0, RATE_UNITS, "10 Gbit/s")
    }
}

impl JsonSchema for RateText {
    fn schema_name() -> Cow<'static, str> {
        "Rate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A number followed by a unit of data rate: B/s, kB/s, MB/s, GB/s, \
                            TB/s (bytes) or bit/s, kbit/s, Mbit/s, Gbit/s, Tbit/s (bits).",
            "examples": ["10 Gbit/s", "200 MB/s"]
        })
    }
}

/// A percentage as written in a scenario: `"99.9%"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct PercentText(pub String);

impl PercentText {
    /// The percentage as a number (99.9 for "99.9%").
    pub fn percent(&self) -> Result<f64, String> {
        let text = self.0.trim();
        let number = text
            .strip_suffix('%')
            .ok_or_else(|| format!("`{}` must end in %, e.g. \"99.9%\"", self.0))?;
        number
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|p| p.is_finite())
            .ok_or_else(|| format!("`{}`: `{number}` is not a number", self.0))
    }
}

impl JsonSchema for PercentText {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A percentage, e.g. \"99.9%\".",
            "pattern": r"^\s*[0-9.]+\s*%\s*$",
            "examples": ["99.9%", "99.95%"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("90 min"), Ok(1.5));
        assert_eq!(parse_duration("2 h"), Ok(2.0));
        assert_eq!(parse_duration("1.5days"), Ok(36.0));
        assert_eq!(parse_duration("2 weeks"), Ok(336.0));
        assert_eq!(parse_duration("8 months"), Ok(8.0 * 730.0));
        assert_eq!(parse_duration("100 years"), Ok(876_000.0));
        assert_eq!(parse_duration("3600 s"), Ok(1.0));
        assert_eq!(parse_duration("1e6 h"), Ok(1e6));
    }

    #[test]
    fn bad_durations_say_why() {
        assert!(parse_duration("12").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("2 fortnights")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("x h").unwrap_err().contains("not a number"));
        assert!(parse_duration("-1 h").unwrap_err().contains("not negative"));
        assert!(parse_duration("1e999 h").unwrap_err().contains("finite"));
    }

    #[test]
    fn sizes_and_rates() {
        assert_eq!(SizeText("100 GB".into()).bytes(), Ok(1e11));
        assert_eq!(SizeText("2 KiB".into()).bytes(), Ok(2048.0));
        // 10 Gbit/s = 10 × 10^9 / 8 bytes per second.
        assert_eq!(RateText("10 Gbit/s".into()).bytes_per_second(), Ok(1.25e9));
        assert_eq!(RateText("200MB/s".into()).bytes_per_second(), Ok(2e8));
        assert!(
            SizeText("5".into())
                .bytes()
                .unwrap_err()
                .contains("no unit")
        );
        assert!(
            RateText("5 Gbps".into())
                .bytes_per_second()
                .unwrap_err()
                .contains("unknown unit `Gbps`")
        );
    }

    #[test]
    fn percentages() {
        assert_eq!(PercentText("99.9%".into()).percent(), Ok(99.9));
        assert_eq!(PercentText(" 99.95 % ".into()).percent(), Ok(99.95));
        assert!(
            PercentText("99.9".into())
                .percent()
                .unwrap_err()
                .contains("end in %")
        );
    }
}
