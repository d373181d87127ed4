//! Self-contained HTML reports: `--report PATH` of `nines run`, `nines compare` and
//! `nines sweep`.
//!
//! Each report is one HTML5 document with inline CSS and hand-drawn inline SVG: no
//! script, font or image is fetched from anywhere, so a report opens offline and can be
//! mailed as it is. Every piece of text that comes from a scenario goes through
//! [`escape`].
//!
//! The run report reads the typed [`Report`]; the compare and sweep reports read the
//! JSON those commands write (`--json`), through small views of the fields they show.

use crate::report::{
    CausesReport, DowntimeReport, DurabilityReport, Estimate, Report, ServiceReport, SlaReport,
    format_hours,
};
use crate::scenario::units::HOURS_PER_YEAR;
use crate::trace::{Trace, TraceEvent, clock};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;

// ----------------------------------------------------------------------------------
// Text
// ----------------------------------------------------------------------------------

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text`, with an ellipsis when it was cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

/// Hours as in the terminal table: to the second from a minute up.
fn hours(h: f64) -> String {
    if h >= 1.0 / 60.0 && h.is_finite() {
        format_hours((h * 3600.0).round() / 3600.0)
    } else {
        format_hours(h)
    }
}

/// A fraction as a percentage.
fn percent(fraction: f64, decimals: usize) -> String {
    format!("{:.*} %", decimals, fraction * 100.0)
}

/// A probability, as the terminal table prints it.
fn probability(p: f64) -> String {
    percent(p, 4)
}

/// An availability with its leading nines and two more digits.
fn availability(a: f64) -> String {
    let u = 1.0 - a;
    let decimals = if u > 0.0 && u.is_finite() {
        ((-u.log10()).floor().max(0.0) as usize + 1).clamp(3, 13)
    } else {
        3
    };
    percent(a, decimals)
}

/// -log10 of unavailability: infinite when no downtime was seen.
fn nines(availability: f64) -> f64 {
    let u = 1.0 - availability;
    if u > 0.0 { -u.log10() } else { f64::INFINITY }
}

fn nines_text(n: f64) -> String {
    if n.is_finite() {
        format!("{n:.2}")
    } else {
        "∞".to_string()
    }
}

/// A signed difference of fractions, in percentage points.
fn signed_points(x: f64) -> String {
    let points = x * 100.0;
    if points == 0.0 {
        "0 pp".to_string()
    } else if points.abs() >= 0.01 {
        format!("{points:+.4} pp")
    } else {
        format!("{points:+.2e} pp")
    }
}

fn signed_hours(h: f64) -> String {
    let sign = if h < 0.0 { "-" } else { "+" };
    format!("{sign}{}", hours(h.abs()))
}

/// Design letters, as `nines compare` prints them.
fn letter(i: usize) -> String {
    match u8::try_from(i) {
        Ok(i) if i < 26 => char::from(b'A' + i).to_string(),
        _ => format!("#{}", i + 1),
    }
}

/// A horizon as "1 year", "3 years" or a duration.
fn horizon_text(h: f64) -> String {
    let years = h / HOURS_PER_YEAR;
    if (years - years.round()).abs() < 1e-9 && years >= 1.0 {
        let n = years.round() as u64;
        format!("{n} year{}", if n == 1 { "" } else { "s" })
    } else {
        format_hours(h)
    }
}

/// An estimate with its 95 % interval, read from a report or from its JSON.
#[derive(Debug, Clone, Copy, Deserialize)]
struct Interval {
    mean: f64,
    ci95: [f64; 2],
}

impl From<&Estimate> for Interval {
    fn from(e: &Estimate) -> Interval {
        Interval {
            mean: e.mean,
            ci95: e.ci95,
        }
    }
}

impl Interval {
    /// The interval's ends formatted by `f`, as "[lo, hi]".
    fn bracket(&self, f: impl Fn(f64) -> String) -> String {
        format!("[{}, {}]", f(self.ci95[0]), f(self.ci95[1]))
    }

    /// The estimate and, in small print below, its interval.
    fn cell(&self, f: impl Fn(f64) -> String) -> String {
        format!("{}<br><small>{}</small>", f(self.mean), self.bracket(&f))
    }

    /// In nines: (estimate, lower end, upper end), the upper end possibly infinite.
    fn nines(&self) -> (f64, f64, f64) {
        (nines(self.mean), nines(self.ci95[0]), nines(self.ci95[1]))
    }
}

// ----------------------------------------------------------------------------------
// HTML
// ----------------------------------------------------------------------------------

const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;
  color: #1d2530; background: #fff; max-width: 1120px; margin: 1.5em auto; padding: 0 1.5em; }
h1 { font-size: 1.7em; margin: 0 0 .3em; }
h2 { font-size: 1.35em; margin: 2em 0 .5em; padding-bottom: .2em; border-bottom: 2px solid #d5dbe3; }
h3 { font-size: 1.1em; margin: 1.6em 0 .4em; }
.kind { color: #5a6675; font-weight: normal; }
table { border-collapse: collapse; margin: .6em 0 1em; font-variant-numeric: tabular-nums; }
th, td { padding: .3em .9em .3em 0; border-bottom: 1px solid #e3e7ec; text-align: left;
  vertical-align: top; max-width: 28em; }
thead th { border-bottom: 2px solid #b8c2cc; }
tbody th { font-weight: normal; color: #3c4653; }
small { color: #5a6675; }
td small { white-space: nowrap; }
.sig { color: #b03a2e; font-weight: 600; }
.note { color: #5a6675; }
figure { margin: .8em 0 1.6em; }
figcaption { font-size: .9em; color: #5a6675; max-width: 60em; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font-size: 12px; fill: #1d2530; }
svg text.title { font-weight: 600; }
svg text.muted { fill: #5a6675; }
.axis { stroke: #4a5563; stroke-width: 1; }
.grid { stroke: #e6eaef; stroke-width: 1; }
.err { stroke: #1d2530; stroke-width: 1.4; }
.bar { fill: #4c78a8; }
.good { fill: #59a14f; }
.warn { fill: #f0b429; }
.bad { fill: #d64541; }
.target { stroke: #b03a2e; stroke-width: 1.6; stroke-dasharray: 6 3; }
.lane { fill: #f3f5f8; }
.down { fill: #d64541; }
.month { stroke: #d5dbe3; stroke-width: 1; }
.box { fill: #a9c4e2; stroke: #2f5d8c; stroke-width: 1.2; }
.whisker { stroke: #2f5d8c; stroke-width: 1.6; }
.max { fill: #d64541; }
.mean { fill: #fff; stroke: #1d2530; stroke-width: 1.6; }
.leader { stroke: #8a96a3; stroke-width: 1; }
svg text.halo { paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
.series { fill: none; stroke: #4c78a8; stroke-width: 2; }
.point { fill: #4c78a8; stroke: #fff; stroke-width: 1; }
.k-domain { fill: #9c27b0; } .k-facility { fill: #6d4c41; } .k-rack { fill: #ef6c00; }
.k-host { fill: #1e88e5; } .k-disk { fill: #43a047; } .k-instance { fill: #00897b; }
.k-other { fill: #757575; }
footer { margin: 3em 0 1em; font-size: .85em; color: #5a6675; }
";

/// A whole document around `body` (HTML), titled `title` (text).
fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\
         <footer>Written by nines {}. Intervals are 95 % confidence intervals over \
         trials. Hover over a chart's marks for their values.</footer>\n</body>\n</html>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )
}

/// A table: header cells (text; none for a table without a header row), and rows of
/// cells (HTML); each row's first cell is its header.
fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table>\n");
    if !header.is_empty() {
        out.push_str("<thead><tr>");
        for cell in header {
            let _ = write!(out, "<th>{}</th>", escape(cell));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let tag = if i == 0 { "th" } else { "td" };
            let _ = write!(out, "<{tag}>{cell}</{tag}>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

fn header(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// A row of a three-column table: label (text), estimate, interval.
fn estimate_row(label: &str, e: Interval, f: impl Fn(f64) -> String) -> Vec<String> {
    vec![escape(label), f(e.mean), e.bracket(f)]
}

/// A chart (SVG) with a caption (HTML).
fn figure(svg: String, caption: &str) -> String {
    format!("<figure>\n{svg}<figcaption>{caption}</figcaption>\n</figure>\n")
}

/// The page shown when a report's JSON is not what this version of nines writes.
fn unreadable(what: &str, error: &serde_json::Error) -> String {
    document(
        &format!("nines: {what}"),
        &format!(
            "<h1>nines {what}</h1>\n<p>The {what} could not be read: {}</p>\n",
            escape(&error.to_string())
        ),
    )
}

// ----------------------------------------------------------------------------------
// SVG
// ----------------------------------------------------------------------------------

/// Width of every chart's view box, in pixels.
const WIDTH: f64 = 1000.0;

/// Estimated width of `text` in 12 px type.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 7.0
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

/// A drawing under way, in the pixels of its view box.
struct Svg {
    height: f64,
    body: String,
}

impl Svg {
    fn new() -> Svg {
        Svg {
            height: 0.0,
            body: String::new(),
        }
    }

    fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), class: &str) {
        let _ = writeln!(
            self.body,
            r#"<line class="{class}" x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}"/>"#
        );
    }

    /// A rectangle; `tip` (text) shows on hover when not empty.
    fn rect(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), class: &str, tip: &str) {
        let _ = write!(
            self.body,
            r#"<rect class="{class}" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}""#,
            w.max(0.0),
            h.max(0.0)
        );
        self.close("rect", tip);
    }

    fn circle(&mut self, (x, y): (f64, f64), r: f64, class: &str, tip: &str) {
        let _ = write!(
            self.body,
            r#"<circle class="{class}" cx="{x:.1}" cy="{y:.1}" r="{r:.1}""#
        );
        self.close("circle", tip);
    }

    fn polygon(&mut self, points: &[(f64, f64)], class: &str, tip: &str) {
        let _ = write!(
            self.body,
            r#"<polygon class="{class}" points="{}""#,
            coordinates(points)
        );
        self.close("polygon", tip);
    }

    fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        let _ = writeln!(
            self.body,
            r#"<polyline class="{class}" points="{}"/>"#,
            coordinates(points)
        );
    }

    /// Text (escaped here).
    fn text(&mut self, (x, y): (f64, f64), anchor: Anchor, class: &str, text: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = writeln!(
            self.body,
            r#"<text class="{class}" x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
            escape(text)
        );
    }

    /// Ends an element opened by the caller, with a tooltip if any.
    fn close(&mut self, element: &str, tip: &str) {
        if tip.is_empty() {
            self.body.push_str("/>\n");
        } else {
            let _ = writeln!(self.body, "><title>{}</title></{element}>", escape(tip));
        }
    }

    /// The finished `<svg>` element, labelled `label` (text) for screen readers.
    fn finish(self, label: &str) -> String {
        let height = self.height.ceil();
        format!(
            "<svg viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" \
             role=\"img\" aria-label=\"{}\">\n{}</svg>\n",
            escape(label),
            self.body
        )
    }
}

fn coordinates(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A horizontal error bar from `x_lo` to `x_hi` at height `y`; an open upper end (an
/// interval without bound) gets no cap.
fn error_bar_h(svg: &mut Svg, (x_lo, x_hi): (f64, f64), y: f64, open: bool) {
    svg.line((x_lo, y), (x_hi, y), "err");
    svg.line((x_lo, y - 5.0), (x_lo, y + 5.0), "err");
    if !open {
        svg.line((x_hi, y - 5.0), (x_hi, y + 5.0), "err");
    }
}

/// A vertical error bar from `y_lo` (below) to `y_hi` at `x`.
fn error_bar_v(svg: &mut Svg, x: f64, (y_lo, y_hi): (f64, f64), open: bool) {
    svg.line((x, y_lo), (x, y_hi), "err");
    svg.line((x - 5.0, y_lo), (x + 5.0, y_lo), "err");
    if !open {
        svg.line((x - 5.0, y_hi), (x + 5.0, y_hi), "err");
    }
}

/// What a legend entry looks like.
enum Key<'a> {
    Swatch(&'a str),
    Line(&'a str),
}

/// A legend in one row from (`x`, `y`); returns where it ends.
fn legend(svg: &mut Svg, (x, y): (f64, f64), items: &[(Key<'_>, &str)]) -> f64 {
    let mut x = x;
    for (key, label) in items {
        match key {
            Key::Swatch(class) => svg.rect((x, y - 9.0), (10.0, 10.0), class, ""),
            Key::Line(class) => svg.line((x - 2.0, y - 4.0), (x + 14.0, y - 4.0), class),
        }
        svg.text((x + 16.0, y), Anchor::Start, "", label);
        x += 16.0 + text_width(label) + 18.0;
    }
    x
}

/// Places flag labels: each starts at its x (or ends there, near the right edge) on
/// the lowest of a few lines where it overlaps no label already placed. Labels are
/// placed from the right, so that a leader drawn up from an x to its label crosses no
/// label on a lower line. Returns each label's anchor and line.
fn place_labels(items: &[(f64, String)], width: f64) -> Vec<(Anchor, usize)> {
    let mut line_starts: Vec<f64> = Vec::new();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[b].0.total_cmp(&items[a].0));
    let mut placed = vec![(Anchor::Start, 0); items.len()];
    for i in order {
        let (x, text) = (items[i].0, &items[i].1);
        let w = text_width(text) + 4.0;
        let (anchor, start, end) = if x + w <= width {
            (Anchor::Start, x, x + w)
        } else {
            (Anchor::End, x - w, x)
        };
        let line = line_starts
            .iter()
            .position(|&s| end + 8.0 < s)
            .unwrap_or(line_starts.len());
        if line == line_starts.len() {
            line_starts.push(f64::INFINITY);
        }
        line_starts[line] = line_starts[line].min(start);
        placed[i] = (anchor, line);
    }
    placed
}

// ----------------------------------------------------------------------------------
// Axes
// ----------------------------------------------------------------------------------

/// Share of a log axis' length kept at its start for the value 0.
const ZERO_SLOT: f64 = 0.07;

#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    /// log10, with 0 drawn at the very start, before a break.
    LogWithZero,
}

/// A value axis: where a value falls along it (0 to 1), and its labelled ticks.
struct Axis {
    scale: Scale,
    /// The ends, in the scale's units (log10 of the values on a log axis).
    lo: f64,
    hi: f64,
    ticks: Vec<(f64, String)>,
    title: String,
}

impl Axis {
    /// 0 to a little above `max` (a fraction), with round percentages.
    fn percent(max: f64, title: &str) -> Axis {
        let max = if max > 0.0 && max.is_finite() {
            max
        } else {
            0.01
        };
        let step = nice_step(max / 5.0);
        let count = (max / step - 1e-9).ceil().max(1.0) as usize;
        let decimals = (-(step * 100.0).log10()).ceil().max(0.0) as usize;
        Axis {
            scale: Scale::Linear,
            lo: 0.0,
            hi: count as f64 * step,
            ticks: (0..=count)
                .map(|i| (i as f64 * step, percent(i as f64 * step, decimals)))
                .collect(),
            title: title.to_string(),
        }
    }

    /// Availability in nines, up to the highest finite value given (one more when some
    /// value is infinite), labelled as percentages; from 0 (for bars), or else from the
    /// whole number of nines below the lowest value.
    fn nines(values: &[f64], from_zero: bool, title: &str) -> Axis {
        let finite = || values.iter().copied().filter(|v| v.is_finite());
        let top = finite().fold(0.0_f64, f64::max).ceil().max(1.0);
        let top = if values.iter().any(|v| v.is_infinite()) {
            top + 1.0
        } else {
            top
        };
        let bottom = if from_zero {
            0.0
        } else {
            finite().fold(top, f64::min).floor().clamp(0.0, top - 1.0)
        };
        let step = if top - bottom > 8.0 { 2 } else { 1 };
        Axis {
            scale: Scale::Linear,
            lo: bottom,
            hi: top,
            ticks: (bottom as usize..=top as usize)
                .step_by(step)
                .map(|n| (n as f64, nines_label(n)))
                .collect(),
            title: title.to_string(),
        }
    }

    /// A log axis over `values`, with 0 at its start; ticks at the `candidates` (value,
    /// label) in range, which also choose the ends.
    fn log(values: &[f64], candidates: &[(f64, &str)], title: &str) -> Axis {
        let positive = values.iter().copied().filter(|&v| v > 0.0 && v.is_finite());
        let min = positive.clone().fold(f64::INFINITY, f64::min);
        let max = positive.fold(0.0_f64, f64::max);
        let (min, max) = if min.is_finite() {
            (min, max)
        } else {
            (candidates[0].0, candidates[candidates.len() - 1].0)
        };
        let below = |v: f64| candidates.iter().map(|c| c.0).rfind(|&c| c < v);
        let lo = candidates
            .iter()
            .map(|c| c.0)
            .rfind(|&c| c <= min)
            .unwrap_or(min);
        let hi = candidates
            .iter()
            .map(|c| c.0)
            .find(|&c| c >= max)
            .unwrap_or(max);
        // At least three steps between the ends, where there are candidates for them.
        let mut lo = if lo < hi {
            lo
        } else {
            below(hi).unwrap_or(hi / 10.0)
        };
        for _ in 0..3 {
            let steps = candidates.iter().filter(|c| c.0 > lo && c.0 <= hi).count();
            match below(lo) {
                Some(lower) if steps < 3 => lo = lower,
                _ => break,
            }
        }
        let mut ticks = vec![(0.0, "0".to_string())];
        ticks.extend(
            candidates
                .iter()
                .filter(|c| c.0 >= lo * (1.0 - 1e-9) && c.0 <= hi * (1.0 + 1e-9))
                .map(|&(v, label)| (v, label.to_string())),
        );
        Axis {
            scale: Scale::LogWithZero,
            lo: lo.log10(),
            hi: hi.log10(),
            ticks,
            title: title.to_string(),
        }
    }

    /// Where `value` falls along the axis, from 0 to 1 (clamped).
    fn position(&self, value: f64) -> f64 {
        let p = match self.scale {
            Scale::Linear => (value - self.lo) / (self.hi - self.lo),
            Scale::LogWithZero if value <= 0.0 => 0.0,
            Scale::LogWithZero => (ZERO_SLOT
                + (1.0 - ZERO_SLOT) * (value.log10() - self.lo) / (self.hi - self.lo))
                .max(ZERO_SLOT),
        };
        if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
    }

    /// Whether `value` lies beyond the axis' upper end (drawn as an open end).
    fn beyond(&self, value: f64) -> bool {
        let top = match self.scale {
            Scale::Linear => self.hi,
            Scale::LogWithZero => 10f64.powf(self.hi),
        };
        value > top
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let f = raw / magnitude;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * magnitude
}

/// The availability of `n` nines: "0 %", "90 %", "99 %", "99.9 %", ...
fn nines_label(n: usize) -> String {
    match n {
        0 => "0 %".to_string(),
        1 => "90 %".to_string(),
        2 => "99 %".to_string(),
        _ => format!("99.{} %", "9".repeat(n - 2)),
    }
}

/// Ticks of a log axis of hours.
const HOUR_TICKS: [(f64, &str); 13] = [
    (1.0 / 3_600_000.0, "1 ms"),
    (1.0 / 360_000.0, "10 ms"),
    (1.0 / 36_000.0, "0.1 s"),
    (1.0 / 3600.0, "1 s"),
    (10.0 / 3600.0, "10 s"),
    (1.0 / 60.0, "1 m"),
    (10.0 / 60.0, "10 m"),
    (1.0, "1 h"),
    (10.0, "10 h"),
    (24.0, "1 d"),
    (240.0, "10 d"),
    (2400.0, "100 d"),
    (8760.0, "1 y"),
];

/// Ticks of a log axis of probabilities.
const PROBABILITY_TICKS: [(f64, &str); 9] = [
    (1e-8, "0.000001 %"),
    (1e-7, "0.00001 %"),
    (1e-6, "0.0001 %"),
    (1e-5, "0.001 %"),
    (1e-4, "0.01 %"),
    (1e-3, "0.1 %"),
    (1e-2, "1 %"),
    (1e-1, "10 %"),
    (1.0, "100 %"),
];

/// A horizontal axis at height `y` from `x0` to `x1`, with gridlines up to `grid_top`;
/// tick labels that would overlap the previous one are left out.
fn x_axis(svg: &mut Svg, axis: &Axis, (x0, x1): (f64, f64), y: f64, grid_top: f64) {
    let mut last_end = f64::NEG_INFINITY;
    for (value, label) in &axis.ticks {
        let x = x0 + axis.position(*value) * (x1 - x0);
        svg.line((x, grid_top), (x, y), "grid");
        svg.line((x, y), (x, y + 4.0), "axis");
        let half = text_width(label) / 2.0;
        if x - half > last_end + 6.0 {
            svg.text((x, y + 17.0), Anchor::Middle, "", label);
            last_end = x + half;
        }
    }
    svg.line((x0, y), (x1, y), "axis");
    if axis.scale == Scale::LogWithZero {
        // A break between 0 and the log scale.
        let x = x0 + ZERO_SLOT / 2.0 * (x1 - x0);
        svg.rect((x - 3.0, y - 4.0), (6.0, 8.0), "lane", "");
        svg.line((x - 5.0, y + 4.0), (x - 1.0, y - 4.0), "axis");
        svg.line((x + 1.0, y + 4.0), (x + 5.0, y - 4.0), "axis");
    }
    svg.text(
        ((x0 + x1) / 2.0, y + 36.0),
        Anchor::Middle,
        "muted",
        &axis.title,
    );
}

/// A vertical axis at `x` from `y0` (bottom) to `y1` (top), with gridlines to `grid_right`
/// and its title above it.
fn y_axis(svg: &mut Svg, axis: &Axis, x: f64, (y0, y1): (f64, f64), grid_right: f64) {
    let mut last_top = f64::INFINITY;
    for (value, label) in &axis.ticks {
        let y = y0 - axis.position(*value) * (y0 - y1);
        svg.line((x, y), (grid_right, y), "grid");
        svg.line((x - 4.0, y), (x, y), "axis");
        if y + 6.0 < last_top {
            svg.text((x - 7.0, y + 4.0), Anchor::End, "", label);
            last_top = y - 8.0;
        }
    }
    svg.line((x, y0), (x, y1), "axis");
    svg.text((x - 60.0, y1 - 14.0), Anchor::Start, "muted", &axis.title);
}

// ----------------------------------------------------------------------------------
// Charts
// ----------------------------------------------------------------------------------

/// One bar of a bar chart.
struct Bar {
    /// Text on the left.
    label: String,
    value: f64,
    /// The 95 % interval, drawn as an error bar.
    interval: Option<(f64, f64)>,
    /// The value as text, drawn after the bar.
    text: String,
    class: &'static str,
}

/// A horizontal bar chart being drawn: the drawing and where its rows are.
struct BarChart {
    svg: Svg,
    left: f64,
    right: f64,
    top: f64,
}

const ROW: f64 = 26.0;

impl BarChart {
    /// Bars on `axis`, one row each from the top, below a legend if any.
    fn new(bars: &[Bar], axis: &Axis, legend_items: &[(Key<'_>, &str)]) -> BarChart {
        let mut svg = Svg::new();
        let top = if legend_items.is_empty() {
            8.0
        } else {
            legend(&mut svg, (8.0, 16.0), legend_items);
            30.0
        };
        let longest = bars
            .iter()
            .map(|b| text_width(&b.label))
            .fold(0.0, f64::max);
        let left = (longest + 16.0).clamp(60.0, 330.0);
        let longest_text = bars.iter().map(|b| text_width(&b.text)).fold(0.0, f64::max);
        let right = WIDTH - (longest_text + 16.0).max(60.0);
        let x = |v: f64| left + axis.position(v) * (right - left);
        let bottom = top + bars.len() as f64 * ROW + 4.0;
        x_axis(&mut svg, axis, (left, right), bottom, top);
        for (i, bar) in bars.iter().enumerate() {
            let y = top + i as f64 * ROW + ROW / 2.0;
            svg.text((left - 8.0, y + 4.0), Anchor::End, "", &bar.label);
            let tip = format!("{}: {}", bar.label, bar.text);
            svg.rect(
                (left, y - 8.0),
                (x(bar.value) - left, 16.0),
                bar.class,
                &tip,
            );
            let mut end = x(bar.value);
            if let Some((lo, hi)) = bar.interval {
                error_bar_h(&mut svg, (x(lo), x(hi)), y, axis.beyond(hi));
                end = end.max(x(hi));
            }
            svg.text((end + 6.0, y + 4.0), Anchor::Start, "", &bar.text);
        }
        svg.height = bottom + 46.0;
        BarChart {
            svg,
            left,
            right,
            top,
        }
    }

    fn row_top(&self, i: usize) -> f64 {
        self.top + i as f64 * ROW
    }
}

/// Bars with error bars of availability, in nines.
fn availability_bars(rows: &[(String, Interval)]) -> String {
    let all: Vec<f64> = rows
        .iter()
        .flat_map(|(_, a)| {
            let (n, lo, hi) = a.nines();
            [n, lo, hi]
        })
        .collect();
    let axis = Axis::nines(&all, true, "availability (nines: a log scale of downtime)");
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(label, a)| {
            let (n, lo, hi) = a.nines();
            Bar {
                label: label.clone(),
                value: n,
                interval: Some((lo, hi)),
                text: if n.is_finite() {
                    format!("{} ({} nines)", availability(a.mean), nines_text(n))
                } else {
                    "no downtime seen".to_string()
                },
                class: "bar",
            }
        })
        .collect();
    BarChart::new(&bars, &axis, &[]).svg.finish("availability")
}

/// Bars with error bars of probabilities, on a linear axis.
fn probability_bars(rows: &[(String, Interval)], title: &str) -> String {
    let max = rows.iter().map(|(_, p)| p.ci95[1]).fold(0.0, f64::max);
    let axis = Axis::percent(max, title);
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(label, p)| Bar {
            label: label.clone(),
            value: p.mean,
            interval: Some((p.ci95[0], p.ci95[1])),
            text: probability(p.mean),
            class: "bar",
        })
        .collect();
    BarChart::new(&bars, &axis, &[]).svg.finish(title)
}

/// The share of windows in each uptime band, with the SLA's target marked.
fn uptime_histogram(sla: &SlaReport) -> String {
    let target = sla.target_percent;
    let bands = &sla.uptime_percent.histogram;
    let bars: Vec<Bar> = bands
        .iter()
        .map(|band| Bar {
            label: if band.from >= 100.0 {
                "100 %".to_string()
            } else if band.from <= 0.0 {
                format!("below {} %", band.to)
            } else {
                format!("{} – {} %", band.from, band.to)
            },
            value: band.probability,
            interval: None,
            text: if band.probability > 0.0 {
                probability(band.probability)
            } else {
                "0".to_string()
            },
            class: if band.to <= target && band.from < 100.0 {
                "bad"
            } else if band.from < target {
                "warn"
            } else {
                "good"
            },
        })
        .collect();
    let probabilities: Vec<f64> = bands.iter().map(|b| b.probability).collect();
    let axis = Axis::log(
        &probabilities,
        &PROBABILITY_TICKS,
        &format!(
            "probability that a {} falls in the band (log scale)",
            sla.window
        ),
    );
    let target_key = format!("target {target} %");
    let mut keys = vec![(Key::Swatch("good"), "meets the target")];
    if bars.iter().any(|b| b.class == "warn") {
        keys.push((Key::Swatch("warn"), "partly below"));
    }
    keys.push((Key::Swatch("bad"), "breaches"));
    keys.push((Key::Line("target"), &target_key));
    let mut chart = BarChart::new(&bars, &axis, &keys);
    // The target between (or within) the bands, which run from 100 % down.
    if let Some(i) = bands
        .iter()
        .position(|b| b.from <= target && target <= b.to)
    {
        let band = &bands[i];
        let within = if band.to > band.from {
            (band.to - target) / (band.to - band.from)
        } else {
            1.0
        };
        let y = chart.row_top(i) + within * ROW;
        let (left, right) = (chart.left, chart.right);
        chart.svg.line((left - 4.0, y), (right, y), "target");
    }
    chart
        .svg
        .finish(&format!("uptime per {} in bands", sla.window))
}

/// The distribution of downtime per year: a box from p50 to p90, a whisker to the
/// maximum, marks at p99, the maximum and the mean, on a log scale with a place for 0.
fn downtime_chart(d: &DowntimeReport) -> String {
    let marks = [
        ("p50", d.p50),
        ("p90", d.p90),
        ("p99", d.p99),
        ("max", d.max),
        ("mean", d.mean),
    ];
    let values: Vec<f64> = marks.iter().map(|m| m.1).collect();
    let axis = Axis::log(&values, &HOUR_TICKS, "downtime in a year (log scale)");
    let (left, right) = (40.0, WIDTH - 40.0);
    let x = |v: f64| left + axis.position(v) * (right - left);

    // Flag labels above the marks; marks at the same value share one.
    let mut labels: Vec<(f64, String)> = Vec::new();
    for (i, &(_, value)) in marks.iter().enumerate() {
        if marks[..i].iter().any(|m| m.1 == value) {
            continue;
        }
        let names: Vec<&str> = marks.iter().filter(|m| m.1 == value).map(|m| m.0).collect();
        labels.push((x(value), format!("{} {}", names.join(" = "), hours(value))));
    }
    let placed = place_labels(&labels, WIDTH);
    let lines = placed.iter().map(|p| p.1 + 1).max().unwrap_or(1);
    let baseline = |line: usize| 16.0 + (lines - 1 - line) as f64 * 18.0;
    let y = baseline(0) + 26.0;

    let mut svg = Svg::new();
    let axis_y = y + 24.0;
    x_axis(&mut svg, &axis, (left, right), axis_y, y - 16.0);
    for ((lx, text), &(anchor, line)) in labels.iter().zip(&placed) {
        let ly = baseline(line);
        svg.line((*lx, y - 13.0), (*lx, ly + 3.0), "leader");
        let tx = match anchor {
            Anchor::End => lx - 4.0,
            _ => lx + 4.0,
        };
        svg.text((tx, ly), anchor, "halo", text);
    }
    svg.line((x(d.p50), y), (x(d.max), y), "whisker");
    svg.rect(
        (x(d.p50), y - 11.0),
        ((x(d.p90) - x(d.p50)).max(3.0), 22.0),
        "box",
        &format!("p50 {} to p90 {}", hours(d.p50), hours(d.p90)),
    );
    svg.line((x(d.p99), y - 11.0), (x(d.p99), y + 11.0), "whisker");
    let (mx, r) = (x(d.max), 7.0);
    svg.polygon(
        &[(mx, y - r), (mx + r, y), (mx, y + r), (mx - r, y)],
        "max",
        &format!("max {}", hours(d.max)),
    );
    svg.circle(
        (x(d.mean), y),
        4.5,
        "mean",
        &format!("mean {}", hours(d.mean)),
    );
    svg.height = axis_y + 46.0;
    svg.finish("downtime per year")
}

/// Points joined by a line, one per x label, with their 95 % intervals as error bars.
/// Each point is (value, lower end, upper end, text), or none.
fn point_chart(
    labels: &[String],
    points: &[Option<(f64, f64, f64, String)>],
    axis: &Axis,
    x_title: &str,
) -> String {
    let mut svg = Svg::new();
    let (left, right, top, bottom) = (110.0, WIDTH - 30.0, 40.0, 290.0);
    let step = (right - left) / labels.len().max(1) as f64;
    let x = |i: usize| left + (i as f64 + 0.5) * step;
    let y = |v: f64| bottom - axis.position(v) * (bottom - top);
    y_axis(&mut svg, axis, left, (bottom, top), right);
    svg.line((left, bottom), (right, bottom), "axis");
    let mut last_end = f64::NEG_INFINITY;
    for (i, label) in labels.iter().enumerate() {
        svg.line((x(i), bottom), (x(i), bottom + 4.0), "axis");
        let half = text_width(label) / 2.0;
        if x(i) - half > last_end + 8.0 {
            svg.text((x(i), bottom + 18.0), Anchor::Middle, "", label);
            last_end = x(i) + half;
        }
    }
    svg.text(
        ((left + right) / 2.0, bottom + 40.0),
        Anchor::Middle,
        "muted",
        x_title,
    );
    let line: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().map(|p| (x(i), y(p.0))))
        .collect();
    svg.polyline(&line, "series");
    for (i, point) in points.iter().enumerate() {
        if let Some((value, lo, hi, text)) = point {
            error_bar_v(&mut svg, x(i), (y(*lo), y(*hi)), axis.beyond(*hi));
            svg.circle(
                (x(i), y(*value)),
                4.5,
                "point",
                &format!("{}: {text}", labels[i]),
            );
        }
    }
    svg.height = bottom + 52.0;
    svg.finish(&axis.title)
}

/// Calendar months (31, 28, 31, ... days) of 365-day years.
const MONTHS: [(&str, f64); 12] = [
    ("Jan", 31.0),
    ("Feb", 28.0),
    ("Mar", 31.0),
    ("Apr", 30.0),
    ("May", 31.0),
    ("Jun", 30.0),
    ("Jul", 31.0),
    ("Aug", 31.0),
    ("Sep", 30.0),
    ("Oct", 31.0),
    ("Nov", 30.0),
    ("Dec", 31.0),
];

/// The starts of the calendar months before `horizon`, in hours, with their names.
fn month_starts(horizon: f64) -> Vec<(f64, &'static str)> {
    let mut starts = Vec::new();
    let mut t = 0.0;
    'years: loop {
        for &(name, days) in &MONTHS {
            if t >= horizon - 1e-9 {
                break 'years;
            }
            starts.push((t, name));
            t += days * 24.0;
        }
    }
    starts
}

/// What kind of component a node's name is ("dc:us-east:rack:3:host:5" is a host).
fn component_kind(name: &str) -> &'static str {
    let parts: Vec<&str> = name.split(':').collect();
    let kind = match parts.as_slice() {
        ["domain", ..] => "domain",
        ["dc", _] => "facility",
        ["dc", .., kind, _] => kind,
        ["service", _, "tier", _, kind, ..] => kind,
        ["service", _, kind, ..] => kind,
        _ => "other",
    };
    ["domain", "facility", "rack", "host", "disk", "instance"]
        .into_iter()
        .find(|&k| k == kind)
        .unwrap_or("other")
}

/// One simulated trial: each service's outages over the horizon, and the instants at
/// which components failed, coloured by kind.
/// Height of one lane of the timeline.
const LANE: f64 = 26.0;

/// One lane of the timeline: its background band from `left` to `right`, labelled.
fn lane(svg: &mut Svg, (left, right): (f64, f64), top: f64, label: &str) {
    svg.rect((left, top + 3.0), (right - left, LANE - 6.0), "lane", "");
    svg.text((left - 8.0, top + LANE / 2.0 + 4.0), Anchor::End, "", label);
}

fn timeline(trace: &Trace) -> String {
    let (left, right) = (170.0, WIDTH - 16.0);
    let horizon = trace.horizon_hours.max(1e-9);
    let x = |t: f64| left + (t / horizon).clamp(0.0, 1.0) * (right - left);
    let mut svg = Svg::new();
    let top = 28.0;
    let lanes = trace.services.len() + 1;
    let bottom = top + lanes as f64 * LANE;

    // Months (or years, over long horizons) across the top.
    let months = month_starts(horizon);
    let monthly = months.len() <= 36;
    for (i, &(t, name)) in months.iter().enumerate() {
        let new_year = i % 12 == 0;
        if !monthly && !new_year {
            continue;
        }
        svg.line((x(t), top - 6.0), (x(t), bottom), "month");
        if months.len() <= 12 {
            let end = months.get(i + 1).map_or(horizon, |m| m.0);
            svg.text(
                (x((t + end) / 2.0), top - 10.0),
                Anchor::Middle,
                "muted",
                name,
            );
        } else if new_year {
            let label = format!("year {}", i / 12 + 1);
            svg.text((x(t) + 4.0, top - 10.0), Anchor::Start, "muted", &label);
        }
    }
    svg.line((x(horizon), top - 6.0), (x(horizon), bottom), "month");

    // One lane per service, its outages in red.
    for (i, service) in trace.services.iter().enumerate() {
        let lane_top = top + i as f64 * LANE;
        lane(
            &mut svg,
            (left, right),
            lane_top,
            &shorten(&service.name, 22),
        );
        let node = format!("service:{}", service.name);
        let mut since: Option<f64> = None;
        let mut outages: Vec<(f64, f64)> = Vec::new();
        for e in trace.events.iter().filter(|e| e.service && e.name == node) {
            match (e.state, since) {
                ("down", None) => since = Some(e.time_hours),
                ("up", Some(start)) => {
                    outages.push((start, e.time_hours));
                    since = None;
                }
                _ => {}
            }
        }
        outages.extend(since.map(|start| (start, horizon)));
        for (start, end) in outages {
            let tip = format!(
                "{} down from {} for {}",
                service.name,
                clock(start),
                hours(end - start)
            );
            let width = (x(end) - x(start)).max(2.0);
            svg.rect(
                (x(start), lane_top + 3.0),
                (width, LANE - 6.0),
                "down",
                &tip,
            );
        }
    }

    // Component failures as ticks, at most one per pixel column and kind.
    let lane_top = top + trace.services.len() as f64 * LANE;
    lane(&mut svg, (left, right), lane_top, "component failures");
    // (pixel column, kind) → the first failure there and how many there were.
    let mut columns: BTreeMap<(i64, &str), (&TraceEvent, usize)> = BTreeMap::new();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for e in trace
        .events
        .iter()
        .filter(|e| !e.service && e.state == "down")
    {
        let kind = component_kind(&e.name);
        match counts.iter_mut().find(|c| c.0 == kind) {
            Some(c) => c.1 += 1,
            None => counts.push((kind, 1)),
        }
        let key = (x(e.time_hours).round() as i64, kind);
        columns.entry(key).or_insert((e, 0)).1 += 1;
    }
    for (&(column, kind), &(first, count)) in &columns {
        let mut tip = format!("{} fails at {}", first.name, clock(first.time_hours));
        if count > 1 {
            let _ = write!(tip, " (and {} more nearby)", count - 1);
        }
        svg.rect(
            (column as f64 - 0.75, lane_top + 5.0),
            (1.5, LANE - 10.0),
            &format!("k-{kind}"),
            &tip,
        );
    }
    counts.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    let keys: Vec<(String, String)> = counts
        .iter()
        .map(|(kind, n)| (format!("k-{kind}"), format!("{kind} ({n})")))
        .collect();
    let items: Vec<(Key<'_>, &str)> = keys
        .iter()
        .map(|(class, label)| (Key::Swatch(class), label.as_str()))
        .collect();
    legend(&mut svg, (left, bottom + 22.0), &items);
    svg.height = bottom + 34.0;
    svg.finish("timeline of a sample trial")
}

// ----------------------------------------------------------------------------------
// nines run
// ----------------------------------------------------------------------------------

/// The HTML report of a run; with a trace, a timeline of that sample trial too.
pub fn run_report(report: &Report, trace: Option<&Trace>) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(&report.scenario));
    let mut summary = vec![
        vec!["Trials".to_string(), report.trials.to_string()],
        vec!["Seed".to_string(), report.seed.to_string()],
        vec![
            "Horizon".to_string(),
            escape(&horizon_text(report.horizon_hours)),
        ],
        vec![
            "Events per trial".to_string(),
            format!("{:.1}", report.events_per_trial),
        ],
    ];
    if let Some(p) = &report.precision {
        summary.push(vec![
            "Precision".to_string(),
            format!(
                "±{} % of each headline estimate: {}",
                p.relative * 100.0,
                if p.converged {
                    "reached"
                } else {
                    "<strong>not reached</strong> before the trial limit"
                }
            ),
        ]);
    }
    body.push_str(&table(&[], &summary));
    for service in &report.services {
        body.push_str(&service_section(service));
    }
    if let Some(trace) = trace {
        body.push_str(&trace_section(trace));
    }
    document(&format!("nines: {}", report.scenario), &body)
}

fn service_section(s: &ServiceReport) -> String {
    let mut out = format!(
        "<section>\n<h2>{} <span class=\"kind\">({})</span></h2>\n",
        escape(&s.name),
        escape(s.kind)
    );
    let a = Interval::from(&s.availability);
    let d = &s.downtime_hours_per_year;
    let downtime = Interval {
        mean: d.mean,
        ci95: d.ci95,
    };
    let n = &s.nines;
    let nines_or_inf = |x: Option<f64>| x.map_or("∞".to_string(), |x| format!("{x:.2}"));
    let quantile = |label: &str, h: f64| vec![label.to_string(), hours(h), String::new()];
    let rows = vec![
        estimate_row("availability", a, availability),
        vec![
            "nines".to_string(),
            nines_or_inf(n.mean),
            format!(
                "[{}, {}]",
                n.ci95[0].map_or("0".to_string(), |x| format!("{x:.2}")),
                nines_or_inf(n.ci95[1])
            ),
        ],
        estimate_row("downtime per year, mean", downtime, hours),
        quantile("downtime per year, p50", d.p50),
        quantile("downtime per year, p90", d.p90),
        quantile("downtime per year, p99", d.p99),
        quantile("downtime per year, max", d.max),
        estimate_row(
            "outages per year",
            Interval::from(&s.outages_per_year),
            |x| format!("{x:.4}"),
        ),
    ];
    out.push_str(&table(&header(&["", "estimate", "95 % interval"]), &rows));
    out.push_str("<h3>Downtime per year</h3>\n");
    out.push_str(&figure(
        downtime_chart(d),
        "The box spans the median (p50) to p90 of the downtime in a year over trials, the \
         line runs to the worst year seen (diamond); the circle is the mean. Log scale, with \
         0 at the far left.",
    ));
    out.push_str(&figure(
        downtime_bands(d),
        "The share of trials (years) by how much downtime they had.",
    ));
    out.push_str(&causes_section(&s.downtime_causes));
    if let Some(d) = &s.durability {
        out.push_str(&durability_section(d));
    }
    for sla in &s.slas {
        out.push_str(&sla_section(sla, s.monthly_bill));
    }
    out.push_str("</section>\n");
    out
}

/// Stored data kept and lost: the headline figures, the closest calls and the failure
/// sequences that lost data.
fn durability_section(d: &DurabilityReport) -> String {
    let mut out = format!(
        "<h3>Durability: {} over {} object groups</h3>\n",
        escape(&d.redundancy),
        d.object_groups
    );
    let or_inf = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("∞".to_string(), f);
    let years = |y: f64| format!("{y:.3e} years");
    let rows = vec![
        estimate_row(
            "P(any group lost within the horizon)",
            Interval::from(&d.loss_probability),
            probability,
        ),
        estimate_row(
            "share of data lost",
            Interval::from(&d.fraction_lost),
            probability,
        ),
        vec![
            "nines per object-year".to_string(),
            or_inf(d.nines_per_object_year.mean, &|n| format!("{n:.1}")),
            format!(
                "[{}, {}]",
                or_inf(d.nines_per_object_year.ci95[0], &|n| format!("{n:.1}")),
                or_inf(d.nines_per_object_year.ci95[1], &|n| format!("{n:.1}"))
            ),
        ],
        vec![
            "mean time to data loss".to_string(),
            d.mean_years_to_loss
                .mean
                .map_or("none seen".to_string(), years),
            format!(
                "[{}, {}]",
                or_inf(d.mean_years_to_loss.ci95[0], &years),
                or_inf(d.mean_years_to_loss.ci95[1], &years)
            ),
        ],
        vec![
            "pieces re-created a year (outside their home site)".to_string(),
            format!(
                "{:.1} ({:.1})",
                d.copies_per_year, d.degraded_copies_per_year
            ),
            String::new(),
        ],
    ];
    out.push_str(&table(&header(&["", "estimate", "95 % interval"]), &rows));
    out.push_str(&format!("<p>Estimated by {}.</p>\n", escape(d.method)));
    let calls: Vec<(String, Interval)> = d
        .closest_calls
        .iter()
        .filter(|c| c.missing > 0)
        .map(|c| {
            (
                format!("{} missing", c.missing),
                Interval {
                    mean: c.probability,
                    ci95: [c.probability, c.probability],
                },
            )
        })
        .collect();
    if !calls.is_empty() {
        out.push_str(&figure(
            probability_bars(&calls, "share of trials"),
            "Closest calls: the share of trials (years) in which the worst object group was \
             missing that many pieces at once.",
        ));
    }
    if !d.loss_causes.is_empty() {
        let rows: Vec<Vec<String>> = d
            .loss_causes
            .iter()
            .take(10)
            .map(|c| vec![escape(&c.causes.join(" + ")), percent(c.share, 1)])
            .collect();
        out.push_str(&table(&header(&["lost by", "share of lost groups"]), &rows));
    }
    out
}

/// The downtime histogram: the share of trials in each band of hours a year.
fn downtime_bands(d: &DowntimeReport) -> String {
    let rows: Vec<(String, Interval)> = d
        .histogram
        .iter()
        .map(|band| {
            let label = if band.to == 0.0 {
                "none".to_string()
            } else if band.to <= band.from {
                format!("over {}", hours(band.from))
            } else {
                format!("{} to {}", hours(band.from), hours(band.to))
            };
            let p = band.probability;
            (
                label,
                Interval {
                    mean: p,
                    ci95: [p, p],
                },
            )
        })
        .collect();
    probability_bars(&rows, "share of trials")
}

/// What was down while the service was down: each cause's share of the downtime, and
/// the most common combinations.
fn causes_section(causes: &CausesReport) -> String {
    if causes.involved.is_empty() {
        return String::new();
    }
    let mut out = "<h3>What was down while the service was down</h3>\n".to_string();
    let rows: Vec<(String, Interval)> = causes
        .involved
        .iter()
        .map(|c| {
            let share = c.share;
            (
                c.cause.clone(),
                Interval {
                    mean: share,
                    ci95: [share, share],
                },
            )
        })
        .collect();
    out.push_str(&figure(
        probability_bars(&rows, "share of downtime"),
        "Each cause's share of the downtime: the time it was down while the service was. \
         Causes down together each count, so shares can add up to more than 100 %.",
    ));
    let combinations: Vec<Vec<String>> = causes
        .combinations
        .iter()
        .map(|c| {
            vec![
                escape(&c.causes.join(" + ")),
                hours(c.hours_per_year),
                percent(c.share, 1),
            ]
        })
        .collect();
    out.push_str(&table(
        &header(&["down together", "per year", "share of downtime"]),
        &combinations,
    ));
    out
}

fn sla_section(sla: &SlaReport, monthly_bill: Option<f64>) -> String {
    let mut out = format!("<h3>SLA: {}</h3>\n", escape(&sla.name));
    let window = &sla.window;
    let u = &sla.uptime_percent;
    let mut rows = vec![
        vec![
            "target".to_string(),
            escape(&format!("{} % per {window}", sla.target_percent)),
            String::new(),
        ],
        vec![
            "measured by".to_string(),
            escape(&sla.measure_description),
            sla.contract.map_or(String::new(), |c| {
                format!("contract <code>{}</code>", escape(c))
            }),
        ],
        vec![
            "windows per trial".to_string(),
            sla.windows_per_trial.to_string(),
            String::new(),
        ],
        vec![
            format!("uptime per {}", escape(window)),
            format!("mean {:.5} %", u.mean),
            format!(
                "[{:.5} %, {:.5} %]<br><small>p1 {:.4} %, p10 {:.4} %, worst {:.4} %</small>",
                u.ci95[0], u.ci95[1], u.p1, u.p10, u.min
            ),
        ],
        estimate_row(
            &format!("P(a {window} breaches)"),
            Interval::from(&sla.breach_probability),
            probability,
        ),
        match &sla.breach_in_a_year_probability {
            Some(p) => estimate_row("P(a year has a breach)", p.into(), probability),
            None => vec![
                "P(a year has a breach)".to_string(),
                "<span class=\"note\">the horizon holds no whole year</span>".to_string(),
                String::new(),
            ],
        },
        estimate_row(
            "breached windows a year",
            Interval::from(&sla.breached_windows_per_year),
            |x| format!("{x:.4}"),
        ),
        estimate_row(
            "counted as down, a year",
            Interval::from(&sla.counted_downtime_hours_per_year),
            hours,
        ),
    ];
    for tier in &sla.credit.tiers {
        rows.push(estimate_row(
            &format!(
                "P({} % credit): uptime below {} %",
                tier.credit_percent, tier.below_percent
            ),
            Interval::from(&tier.probability),
            probability,
        ));
    }
    if !sla.credit.tiers.is_empty() {
        rows.push(estimate_row(
            "expected credit, share of the annual bill",
            Interval::from(&sla.credit.expected_fraction_of_annual_bill),
            |x| percent(x, 5),
        ));
        if let (Some(m), Some(bill)) = (&sla.credit.expected_money_per_year, monthly_bill) {
            rows.push(estimate_row(
                &format!("expected credit a year, on a monthly bill of {bill}"),
                m.into(),
                |x| format!("{x:.2}"),
            ));
        }
    }
    out.push_str(&table(&header(&["", "estimate", "95 % interval"]), &rows));
    let tiers = if sla.credit.tiers.is_empty() {
        "This SLA has no credit tiers.".to_string()
    } else {
        let list: Vec<String> = sla
            .credit
            .tiers
            .iter()
            .map(|t| format!("{} % credit below {} %", t.credit_percent, t.below_percent))
            .collect();
        format!("Credit tiers: {}.", list.join("; "))
    };
    out.push_str(&figure(
        uptime_histogram(sla),
        &format!(
            "Uptime per {} as the contract measures it, in bands from 100 % down; the dashed \
             line is the target of {}&nbsp;%. {}",
            escape(window),
            sla.target_percent,
            escape(&tiers)
        ),
    ));
    out
}

fn trace_section(trace: &Trace) -> String {
    let mut out = format!(
        "<section>\n<h2>A sample {}: trial {} of seed {}</h2>\n",
        if (trace.horizon_hours - HOURS_PER_YEAR).abs() < 1e-9 {
            "year"
        } else {
            "trial"
        },
        trace.trial,
        trace.seed
    );
    let outcomes: Vec<String> = trace
        .services
        .iter()
        .map(|s| {
            format!(
                "{} was down {} in {} outage{}",
                escape(&s.name),
                hours(s.downtime_hours),
                s.outages,
                if s.outages == 1 { "" } else { "s" }
            )
        })
        .collect();
    out.push_str(&figure(
        timeline(trace),
        &format!(
            "One simulated history, the same as trial {} of the run (<code>nines trace</code> \
             prints it event by event): outages in red, each component's own failures as \
             ticks. {}.",
            trace.trial,
            outcomes.join("; ")
        ),
    ));
    out.push_str("</section>\n");
    out
}

// ----------------------------------------------------------------------------------
// nines compare and nines sweep: views of their JSON
// ----------------------------------------------------------------------------------

#[derive(Deserialize)]
struct DesignView {
    scenario: String,
    services: Vec<ServiceView>,
}

#[derive(Deserialize)]
struct ServiceView {
    name: String,
    kind: String,
    availability: Interval,
    downtime_hours_per_year: DowntimeView,
    outages_per_year: Interval,
    slas: Vec<SlaView>,
}

#[derive(Deserialize)]
struct DowntimeView {
    mean: f64,
    ci95: [f64; 2],
    p99: f64,
}

impl DowntimeView {
    fn mean(&self) -> Interval {
        Interval {
            mean: self.mean,
            ci95: self.ci95,
        }
    }
}

#[derive(Deserialize)]
struct SlaView {
    name: String,
    window: String,
    breach_probability: Interval,
    breach_in_a_year_probability: Option<Interval>,
    credit: CreditView,
}

#[derive(Deserialize)]
struct CreditView {
    expected_monthly_bills_per_year: Interval,
}

#[derive(Deserialize)]
struct ComparisonView {
    seed: u64,
    trials: u64,
    designs: Vec<DesignView>,
    differences: Vec<DifferenceView>,
}

#[derive(Deserialize)]
struct DifferenceView {
    services: Vec<ServiceDifferenceView>,
}

#[derive(Deserialize)]
struct ServiceDifferenceView {
    name: String,
    availability: DifferenceValue,
    downtime_hours_per_year: DifferenceValue,
    slas: Vec<SlaDifferenceView>,
}

#[derive(Deserialize)]
struct SlaDifferenceView {
    name: String,
    breach_probability: DifferenceValue,
    credit_monthly_bills_per_year: DifferenceValue,
}

#[derive(Deserialize)]
struct DifferenceValue {
    mean: f64,
    ci95: [f64; 2],
    significant: bool,
}

#[derive(Deserialize)]
struct SweepView {
    seed: u64,
    trials: u64,
    settings: Vec<String>,
    points: Vec<PointView>,
}

#[derive(Deserialize)]
struct PointView {
    values: Vec<Value>,
    report: DesignView,
}

impl DesignView {
    fn service(&self, name: &str) -> Option<&ServiceView> {
        self.services.iter().find(|s| s.name == name)
    }
}

impl ServiceView {
    fn sla(&self, name: &str) -> Option<&SlaView> {
        self.slas.iter().find(|s| s.name == name)
    }
}

/// A value as a user would write it: strings without their quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

// ----------------------------------------------------------------------------------
// nines compare
// ----------------------------------------------------------------------------------

/// The HTML report of `nines compare`, from the JSON it writes.
pub fn compare_report(json: &Value) -> String {
    match ComparisonView::deserialize(json) {
        Ok(view) => comparison_page(&view),
        Err(e) => unreadable("comparison", &e),
    }
}

fn comparison_page(c: &ComparisonView) -> String {
    let mut body = format!(
        "<h1>Comparison of {} designs</h1>\n<p>{} trials each, seed {}, on common random \
         numbers. Differences are to design A, with paired 95 % intervals; \
         <span class=\"sig\">★</span> marks a significant one (pp: percentage points).</p>\n",
        c.designs.len(),
        c.trials,
        c.seed
    );
    let designs: Vec<Vec<String>> = c
        .designs
        .iter()
        .enumerate()
        .map(|(i, d)| vec![letter(i), escape(&d.scenario)])
        .collect();
    body.push_str(&table(&header(&["design", "scenario"]), &designs));
    let Some(first) = c.designs.first() else {
        return document("nines: comparison", &body);
    };
    for service in &first.services {
        body.push_str(&compare_service(c, service));
    }
    // Services are matched by name to the first design's, as in the terminal table.
    let unmatched: Vec<String> = c
        .designs
        .iter()
        .enumerate()
        .flat_map(|(i, d)| {
            d.services
                .iter()
                .filter(|s| first.service(&s.name).is_none())
                .map(move |s| format!("{} ({})", escape(&s.name), letter(i)))
        })
        .collect();
    if !unmatched.is_empty() {
        let _ = writeln!(
            body,
            "<p class=\"note\">Not compared, as design A has no service of the same name: \
             {}.</p>",
            unmatched.join(", ")
        );
    }
    document("nines: comparison", &body)
}

/// A design's label in charts: its letter and the start of its name.
fn design_label(i: usize, design: &DesignView) -> String {
    format!("{} · {}", letter(i), shorten(&design.scenario, 34))
}

fn compare_service(c: &ComparisonView, service: &ServiceView) -> String {
    let mut out = format!(
        "<section>\n<h2>{} <span class=\"kind\">({})</span></h2>\n",
        escape(&service.name),
        escape(&service.kind)
    );
    // Side by side: one column per design.
    let matched: Vec<Option<&ServiceView>> =
        c.designs.iter().map(|d| d.service(&service.name)).collect();
    let mut head = vec![String::new()];
    head.extend((0..c.designs.len()).map(letter));
    let row = |label: String, cell: &dyn Fn(&ServiceView) -> Option<String>| {
        let mut row = vec![escape(&label)];
        row.extend(matched.iter().map(|s| {
            s.and_then(cell)
                .unwrap_or_else(|| "<span class=\"note\">—</span>".to_string())
        }));
        row
    };
    let mut rows = vec![
        row("availability".into(), &|s| {
            Some(s.availability.cell(availability))
        }),
        row("nines".into(), &|s| {
            Some(nines_text(s.availability.nines().0))
        }),
        row("downtime per year, mean".into(), &|s| {
            Some(s.downtime_hours_per_year.mean().cell(hours))
        }),
        row("downtime per year, p99".into(), &|s| {
            Some(hours(s.downtime_hours_per_year.p99))
        }),
        row("outages per year".into(), &|s| {
            Some(s.outages_per_year.cell(|x| format!("{x:.4}")))
        }),
    ];
    for sla in &service.slas {
        let name = &sla.name;
        rows.push(row(format!("{name}: P(a {} breaches)", sla.window), &|s| {
            Some(s.sla(name)?.breach_probability.cell(probability))
        }));
        rows.push(row(format!("{name}: P(a year has a breach)"), &|s| {
            Some(s.sla(name)?.breach_in_a_year_probability?.cell(probability))
        }));
        rows.push(row(format!("{name}: credit, monthly bills a year"), &|s| {
            Some(
                s.sla(name)?
                    .credit
                    .expected_monthly_bills_per_year
                    .cell(|x| format!("{x:.4}")),
            )
        }));
    }
    out.push_str(&table(&head, &rows));

    // Charts: availability, then each SLA's breach probability.
    let labelled = |value: &dyn Fn(&ServiceView) -> Option<Interval>| -> Vec<(String, Interval)> {
        c.designs
            .iter()
            .zip(&matched)
            .enumerate()
            .filter_map(|(i, (design, s))| Some((design_label(i, design), value((*s)?)?)))
            .collect()
    };
    out.push_str("<h3>Availability</h3>\n");
    out.push_str(&figure(
        availability_bars(&labelled(&|s| Some(s.availability))),
        "Availability in nines (−log10 of the share of time down), with 95 % intervals; a \
         longer bar is a better design.",
    ));
    for sla in &service.slas {
        let title = format!("P(a {} breaches)", sla.window);
        out.push_str(&format!("<h3>SLA: {}</h3>\n", escape(&sla.name)));
        out.push_str(&figure(
            probability_bars(
                &labelled(&|s| Some(s.sla(&sla.name)?.breach_probability)),
                &title,
            ),
            &format!(
                "Probability that a {} breaches the SLA, with 95 % intervals.",
                escape(&sla.window)
            ),
        ));
    }

    // Paired differences to the first design.
    let mut rows = Vec::new();
    for (i, difference) in c.differences.iter().enumerate() {
        let design = format!("{} vs A", letter(i + 1));
        let Some(d) = difference.services.iter().find(|d| d.name == service.name) else {
            continue;
        };
        rows.push(difference_row(
            &design,
            "availability",
            &d.availability,
            signed_points,
        ));
        rows.push(difference_row(
            &design,
            "downtime per year",
            &d.downtime_hours_per_year,
            signed_hours,
        ));
        for sla in &d.slas {
            rows.push(difference_row(
                &design,
                &format!("{}: P(breach)", sla.name),
                &sla.breach_probability,
                signed_points,
            ));
            rows.push(difference_row(
                &design,
                &format!("{}: credit, monthly bills a year", sla.name),
                &sla.credit_monthly_bills_per_year,
                |x| format!("{x:+.4}"),
            ));
        }
    }
    if !rows.is_empty() {
        out.push_str("<h3>Differences to A</h3>\n");
        out.push_str(&table(
            &header(&[
                "design",
                "measure",
                "difference",
                "95 % interval",
                "significant",
            ]),
            &rows,
        ));
    }
    out.push_str("</section>\n");
    out
}

fn difference_row(
    design: &str,
    measure: &str,
    d: &DifferenceValue,
    f: impl Fn(f64) -> String,
) -> Vec<String> {
    let value = f(d.mean);
    vec![
        escape(design),
        escape(measure),
        if d.significant {
            format!("<span class=\"sig\">{value}</span>")
        } else {
            value
        },
        format!("[{}, {}]", f(d.ci95[0]), f(d.ci95[1])),
        if d.significant {
            "<span class=\"sig\">★ yes</span>".to_string()
        } else {
            "no".to_string()
        },
    ]
}

// ----------------------------------------------------------------------------------
// nines sweep
// ----------------------------------------------------------------------------------

/// The HTML report of `nines sweep`, from the JSON it writes.
pub fn sweep_report(json: &Value) -> String {
    match SweepView::deserialize(json) {
        Ok(view) => sweep_page(&view),
        Err(e) => unreadable("sweep", &e),
    }
}

fn sweep_page(s: &SweepView) -> String {
    let name = s
        .points
        .first()
        .map_or(String::new(), |p| p.report.scenario.clone());
    let mut body = format!(
        "<h1>Sweep: {}</h1>\n<p>{} points, {} trials each, seed {}, on common random numbers \
         across points. Settings varied: {}.</p>\n",
        escape(&name),
        s.points.len(),
        s.trials,
        s.seed,
        s.settings
            .iter()
            .map(|path| format!("<code>{}</code>", escape(path)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let Some(first) = s.points.first() else {
        return document("nines: sweep", &body);
    };
    for service in &first.report.services {
        body.push_str(&sweep_service(s, service));
    }
    document(&format!("nines: sweep of {name}"), &body)
}

fn sweep_service(s: &SweepView, service: &ServiceView) -> String {
    let mut out = format!(
        "<section>\n<h2>{} <span class=\"kind\">({})</span></h2>\n",
        escape(&service.name),
        escape(&service.kind)
    );
    let matched: Vec<Option<&ServiceView>> = s
        .points
        .iter()
        .map(|p| p.report.service(&service.name))
        .collect();
    let mut head = vec!["#".to_string()];
    head.extend(s.settings.iter().cloned());
    head.extend(
        ["availability", "nines", "downtime per year"]
            .iter()
            .map(|h| h.to_string()),
    );
    head.extend(
        service
            .slas
            .iter()
            .map(|sla| format!("{}: P(a {} breaches)", sla.name, sla.window)),
    );
    let mut rows = Vec::new();
    for (i, (point, found)) in s.points.iter().zip(&matched).enumerate() {
        let mut row = vec![(i + 1).to_string()];
        row.extend(point.values.iter().map(|v| escape(&plain(v))));
        match found {
            Some(found) => {
                row.push(found.availability.cell(availability));
                row.push(nines_text(found.availability.nines().0));
                row.push(hours(found.downtime_hours_per_year.mean));
                row.extend(service.slas.iter().map(|sla| {
                    found.sla(&sla.name).map_or("—".to_string(), |x| {
                        x.breach_probability.cell(probability)
                    })
                }));
            }
            None => row.push("<span class=\"note\">no such service</span>".to_string()),
        }
        rows.push(row);
    }
    out.push_str(&table(&head, &rows));

    let labels: Vec<String> = s
        .points
        .iter()
        .map(|p| p.values.iter().map(plain).collect::<Vec<_>>().join(", "))
        .collect();
    let x_title = s.settings.join(", ");
    let availabilities: Vec<Option<Interval>> =
        matched.iter().map(|m| m.map(|m| m.availability)).collect();
    let all: Vec<f64> = availabilities
        .iter()
        .flatten()
        .flat_map(|a| {
            let (n, lo, hi) = a.nines();
            [n, lo, hi]
        })
        .collect();
    let points: Vec<Option<(f64, f64, f64, String)>> = availabilities
        .iter()
        .map(|a| {
            a.map(|a| {
                let (n, lo, hi) = a.nines();
                (n, lo, hi, availability(a.mean))
            })
        })
        .collect();
    out.push_str("<h3>Availability</h3>\n");
    out.push_str(&figure(
        point_chart(
            &labels,
            &points,
            &Axis::nines(&all, false, "availability (nines)"),
            &x_title,
        ),
        "Availability in nines at each point of the sweep, with 95 % intervals.",
    ));
    for sla in &service.slas {
        let breaches: Vec<Option<Interval>> = matched
            .iter()
            .map(|m| Some((*m)?.sla(&sla.name)?.breach_probability))
            .collect();
        let max = breaches
            .iter()
            .flatten()
            .map(|b| b.ci95[1])
            .fold(0.0, f64::max);
        let title = format!("P(a {} breaches)", sla.window);
        let points: Vec<Option<(f64, f64, f64, String)>> = breaches
            .iter()
            .map(|b| b.map(|b| (b.mean, b.ci95[0], b.ci95[1], probability(b.mean))))
            .collect();
        out.push_str(&format!("<h3>SLA: {}</h3>\n", escape(&sla.name)));
        out.push_str(&figure(
            point_chart(&labels, &points, &Axis::percent(max, &title), &x_title),
            &format!(
                "Probability that a {} breaches the SLA at each point, with 95 % intervals.",
                escape(&sla.window)
            ),
        ));
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_five_characters() {
        assert_eq!(
            escape(r#"<b>&"x"'y'"#),
            "&lt;b&gt;&amp;&quot;x&quot;&#39;y&#39;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }

    #[test]
    fn shortens_by_characters() {
        assert_eq!(shorten("abcdef", 10), "abcdef");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }

    #[test]
    fn nines_axes_label_availability() {
        assert_eq!(nines_label(0), "0 %");
        assert_eq!(nines_label(2), "99 %");
        assert_eq!(nines_label(5), "99.999 %");
        let axis = Axis::nines(&[3.2, f64::INFINITY], true, "");
        assert_eq!((axis.lo, axis.hi), (0.0, 5.0));
        let zoomed = Axis::nines(&[2.5, 3.1, 3.05], false, "");
        assert_eq!((zoomed.lo, zoomed.hi), (2.0, 4.0));
        assert_eq!(axis.position(f64::INFINITY), 1.0);
        assert!(axis.beyond(f64::INFINITY) && !axis.beyond(3.0));
    }

    #[test]
    fn percent_axes_have_round_ticks() {
        let axis = Axis::percent(0.0065, "");
        let labels: Vec<&str> = axis.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0.0 %", "0.2 %", "0.4 %", "0.6 %", "0.8 %"]);
    }

    #[test]
    fn log_axes_keep_a_place_for_zero() {
        // 30 s to 3 h: from 10 s to 10 h, with 0 before the break.
        let axis = Axis::log(&[0.0, 30.0 / 3600.0, 3.0], &HOUR_TICKS, "");
        assert_eq!(axis.position(0.0), 0.0);
        assert_eq!(axis.position(10.0 / 3600.0), ZERO_SLOT);
        assert_eq!(axis.position(10.0), 1.0);
        let labels: Vec<&str> = axis.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["0", "10 s", "1 m", "10 m", "1 h", "10 h"]);
        // Nothing positive: a default range, still with 0.
        let empty = Axis::log(&[0.0, 0.0], &HOUR_TICKS, "");
        assert_eq!(empty.position(0.0), 0.0);
    }

    #[test]
    fn months_of_a_year_and_of_two() {
        let year = month_starts(8760.0);
        assert_eq!(year.len(), 12);
        assert_eq!(year[2], (59.0 * 24.0, "Mar"));
        assert_eq!(month_starts(2.0 * 8760.0).len(), 24);
    }

    #[test]
    fn components_have_kinds() {
        assert_eq!(component_kind("dc:us-east:rack:3:host:2:disk:1"), "disk");
        assert_eq!(component_kind("dc:us-east:rack:3"), "rack");
        assert_eq!(component_kind("dc:us-east"), "facility");
        assert_eq!(component_kind("domain:grid-us"), "domain");
        assert_eq!(component_kind("service:ec2:instance:us-east:0"), "instance");
        assert_eq!(component_kind("something"), "other");
    }

    #[test]
    fn flag_labels_that_would_overlap_go_up_a_line() {
        let items = vec![
            (100.0, "p50 0 s".to_string()),
            (102.0, "p90 1 s".to_string()),
            (400.0, "max 3 h".to_string()),
        ];
        let placed = place_labels(&items, 1000.0);
        assert_eq!(placed[0], (Anchor::Start, 1));
        assert_eq!(placed[1], (Anchor::Start, 0));
        assert_eq!(placed[2], (Anchor::Start, 0));
        // Near the right edge a label ends at its x.
        let placed = place_labels(&[(990.0, "max 20 d".to_string())], 1000.0);
        assert_eq!(placed[0], (Anchor::End, 0));
    }
}
