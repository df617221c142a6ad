//! Result rows and their two renderings: an aligned text table for the terminal and a Markdown
//! report (with the machine, backend and command line) for `--markdown`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::load::LoadResult;

/// How a row relates to the `/healthz` baseline in the ratio column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatioRole {
    /// This row is the baseline (ratio 1.00).
    Baseline,
    /// ops/s divided by the baseline's ops/s.
    Compared,
    /// No ratio makes sense (e.g. a pure latency or memory figure).
    None,
}

/// One line of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    pub scenario: String,
    pub concurrency: usize,
    pub ops_per_sec: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub errors: u64,
    /// Errors by label (`429 rate_limited`, `timeout`, ...), printed under the table.
    pub error_detail: BTreeMap<String, u64>,
    pub role: RatioRole,
    /// Filled in by [`fill_ratios`] once every scenario has run.
    pub ratio: Option<f64>,
    /// A figure that fits no other column, with its unit (e.g. `7.9 KiB/socket`).
    pub other: Option<String>,
    /// Free-form remarks printed under the table.
    pub notes: Vec<String>,
}

impl Row {
    /// A row from a load run: throughput, p50/p99, errors.
    pub fn from_load(scenario: impl Into<String>, concurrency: usize, r: &LoadResult, role: RatioRole) -> Row {
        let (p50_ms, p99_ms) = percentiles_ms(&r.latency_us);
        let mut notes = Vec::new();
        if r.reconnects > 0 {
            notes.push(format!("{} connections re-opened", r.reconnects));
        }
        Row {
            scenario: scenario.into(),
            concurrency,
            ops_per_sec: Some(r.ops_per_sec()),
            p50_ms,
            p99_ms,
            errors: r.error_count(),
            error_detail: r.errors.clone(),
            role,
            ratio: None,
            other: None,
            notes,
        }
    }

    /// A row with no load figures yet, for scenarios that fill it themselves.
    pub fn empty(scenario: impl Into<String>, concurrency: usize) -> Row {
        Row {
            scenario: scenario.into(),
            concurrency,
            ops_per_sec: None,
            p50_ms: None,
            p99_ms: None,
            errors: 0,
            error_detail: BTreeMap::new(),
            role: RatioRole::None,
            ratio: None,
            other: None,
            notes: Vec::new(),
        }
    }

    /// Sets the error buckets and their total.
    pub fn set_errors(&mut self, detail: BTreeMap<String, u64>) {
        self.errors = detail.values().sum();
        self.error_detail = detail;
    }
}

/// p50 and p99 in milliseconds of a histogram recorded in microseconds; `None` when empty.
pub fn percentiles_ms(h: &Histogram<u64>) -> (Option<f64>, Option<f64>) {
    if h.is_empty() {
        return (None, None);
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    (Some(ms(0.50)), Some(ms(0.99)))
}

/// Sets each row's ratio against the first baseline row that has a throughput.
pub fn fill_ratios(rows: &mut [Row]) {
    let baseline =
        rows.iter().find(|r| r.role == RatioRole::Baseline).and_then(|r| r.ops_per_sec).filter(|ops| *ops > 0.0);
    for row in rows.iter_mut() {
        row.ratio = match (row.role, baseline, row.ops_per_sec) {
            (RatioRole::None, _, _) => None,
            (_, Some(base), Some(ops)) => Some(ops / base),
            _ => None,
        };
    }
}

const HEADERS: [&str; 8] = ["scenario", "concurrency", "ops/s", "p50 ms", "p99 ms", "errors", "ratio", "other"];

fn cells(row: &Row) -> [String; 8] {
    [
        row.scenario.clone(),
        row.concurrency.to_string(),
        row.ops_per_sec.map_or_else(dash, fmt_rate),
        row.p50_ms.map_or_else(dash, fmt_ms),
        row.p99_ms.map_or_else(dash, fmt_ms),
        row.errors.to_string(),
        row.ratio.map_or_else(dash, |r| format!("{r:.2}")),
        row.other.clone().unwrap_or_else(dash),
    ]
}

fn dash() -> String {
    "-".to_string()
}

/// Whole numbers with thousands separators from 100 up; one decimal below.
pub fn fmt_rate(v: f64) -> String {
    if v < 100.0 {
        return format!("{v:.1}");
    }
    let digits = format!("{:.0}", v);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Milliseconds with precision that shrinks as the value grows.
pub fn fmt_ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// The table as aligned plain text: scenario left-aligned, numbers right-aligned.
pub fn render_text(rows: &[Row]) -> String {
    let body: Vec<[String; 8]> = rows.iter().map(cells).collect();
    let mut widths = HEADERS.map(str::len);
    for line in &body {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let fmt_line = |line: &[String]| {
        let parts: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, c)| if i == 0 { format!("{c:<w$}", w = widths[i]) } else { format!("{c:>w$}", w = widths[i]) })
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let header: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
    let rule = "-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1));
    let mut out = format!("{}\n{rule}\n", fmt_line(&header));
    for line in &body {
        out.push_str(&fmt_line(line));
        out.push('\n');
    }
    out.push_str(&render_details(rows, ""));
    out
}

/// The table as Markdown (no surrounding report).
pub fn render_markdown_table(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n", HEADERS.join(" | "));
    out.push_str("|:---|---:|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let line = cells(row).map(|c| c.replace('|', "\\|"));
        out.push_str(&format!("| {} |\n", line.join(" | ")));
    }
    out
}

/// Error breakdowns and notes, one line each, under the table.
fn render_details(rows: &[Row], bullet: &str) -> String {
    let mut out = String::new();
    for row in rows {
        if !row.error_detail.is_empty() {
            let parts: Vec<String> = row.error_detail.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
            let _ = writeln!(out, "{bullet}{} errors: {}", row.scenario, parts.join(", "));
        }
        for note in &row.notes {
            let _ = writeln!(out, "{bullet}{}: {note}", row.scenario);
        }
    }
    out
}

/// Everything the Markdown report states besides the table.
pub struct RunInfo {
    pub cores: usize,
    pub cpu_model: String,
    pub backend: String,
    pub server_binary: String,
    pub command: String,
    pub seconds: u64,
    pub warmup: u64,
    /// Offered load of the open-loop latency scenarios, per second.
    pub rate: u64,
    /// Sockets the idle-socket scenario opens.
    pub sockets: usize,
}

/// The full Markdown report.
pub fn render_markdown(info: &RunInfo, rows: &[Row]) -> String {
    let mut out = String::from("# Benchmark results\n\n");
    let _ = writeln!(out, "- Machine: {} cores, {}", info.cores, info.cpu_model);
    let _ = writeln!(out, "- Backend: {}", info.backend);
    let _ = writeln!(out, "- Server binary: `{}`", info.server_binary);
    let _ = writeln!(
        out,
        "- Measured: {} s per scenario after {} s warm-up; the load generator \
        runs on the same machine",
        info.seconds, info.warmup
    );
    let _ = writeln!(
        out,
        "- Open-loop rate of `frame` and `trigger`: {} requests/s; idle sockets: {}",
        info.rate, info.sockets
    );
    let _ = writeln!(out, "- Command: `{}`\n", info.command);
    out.push_str(&render_markdown_table(rows));
    let details = render_details(rows, "- ");
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&details);
    }
    out.push_str(
        "\nops/s counts successful operations (for batch: accepted events; for `frame` and \
         `trigger`: frames received; for `fanout`: frames received across all subscribers; for \
         `sockets`: connections established). p50/p99 are over requests with at least one \
         success, except `frame` and `trigger` (request sent → frame received) and `sockets` \
         (TCP connect → `pusher:connection_established`). ratio is ops/s over the `/healthz` \
         baseline. other: a figure with its own unit.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, ops: f64, role: RatioRole) -> Row {
        Row {
            scenario: name.into(),
            concurrency: 64,
            ops_per_sec: Some(ops),
            p50_ms: Some(0.42),
            p99_ms: Some(12.345),
            errors: 0,
            error_detail: BTreeMap::new(),
            role,
            ratio: None,
            other: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn percentiles_from_microseconds() {
        let mut h = crate::load::new_histogram();
        assert_eq!(percentiles_ms(&h), (None, None));
        for us in 1..=1000u64 {
            h.record(us * 10).unwrap(); // 10 µs .. 10 ms, uniform
        }
        let (p50, p99) = percentiles_ms(&h);
        assert!((p50.unwrap() - 5.0).abs() < 0.01, "{p50:?}");
        assert!((p99.unwrap() - 9.9).abs() < 0.01, "{p99:?}");
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_rate(1234567.4), "1,234,567");
        assert_eq!(fmt_rate(999.6), "1,000");
        assert_eq!(fmt_rate(12.34), "12.3");
        assert_eq!(fmt_ms(0.4213), "0.42");
        assert_eq!(fmt_ms(12.345), "12.3");
        assert_eq!(fmt_ms(1234.5), "1234");
    }

    #[test]
    fn ratios_against_the_baseline() {
        let mut rows = vec![
            row("baseline", 40_000.0, RatioRole::Baseline),
            row("ingest", 10_000.0, RatioRole::Compared),
            row("latency", 5.0, RatioRole::None),
        ];
        fill_ratios(&mut rows);
        assert_eq!(rows.iter().map(|r| r.ratio).collect::<Vec<_>>(), vec![Some(1.0), Some(0.25), None]);
    }

    #[test]
    fn text_table_is_aligned() {
        let mut rows =
            vec![row("baseline", 40_000.0, RatioRole::Baseline), row("ingest", 9_876.6, RatioRole::Compared)];
        rows[1].error_detail.insert("429 rate_limited".into(), 3);
        rows[1].errors = 3;
        rows[1].other = Some("7.9 KiB/socket".into());
        fill_ratios(&mut rows);
        let text = render_text(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("scenario"));
        assert_eq!(lines[2].len(), lines[3].len(), "{text}");
        assert!(lines[2].ends_with("1.00               -"), "{text}");
        assert!(lines[3].ends_with("0.25  7.9 KiB/socket"), "{text}");
        assert!(lines[3].contains("9,877"));
        assert_eq!(lines[4], "ingest errors: 429 rate_limited ×3");
    }

    #[test]
    fn markdown_has_context_and_table() {
        let info = RunInfo {
            cores: 2,
            cpu_model: "Test CPU".into(),
            backend: "sqlite".into(),
            server_binary: "target/release/server".into(),
            command: "bench --seconds 5".into(),
            seconds: 5,
            warmup: 2,
            rate: 1000,
            sockets: 10000,
        };
        let md = render_markdown(&info, &[row("baseline", 100.0, RatioRole::Baseline)]);
        assert!(md.contains("- Machine: 2 cores, Test CPU"));
        assert!(md.contains("`bench --seconds 5`"));
        assert!(md.contains("| baseline | 64 | 100 | 0.42 | 12.3 | 0 | - | - |"));
        assert!(md.contains("1000 requests/s; idle sockets: 10000"));
    }
}
