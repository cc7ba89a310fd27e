//! The result of a run: exact latency percentiles over every measured sample, and the
//! markdown table row that goes into docs/BENCHMARKS.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// Latencies in microseconds, sorted.
pub struct Latencies(Vec<u32>);

impl Latencies {
    pub fn new(mut samples: Vec<u32>) -> Latencies {
        samples.sort_unstable();
        Latencies(samples)
    }

    /// The value at quantile `q` (0..=1), nearest rank, in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let n = self.0.len();
        if n == 0 {
            return None;
        }
        let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
        Some(f64::from(self.0[rank - 1]) / 1000.0)
    }

    /// `p50 / p99 / max` in milliseconds.
    pub fn triple(&self) -> String {
        let f = |q| self.quantile_ms(q).map_or("–".to_owned(), ms);
        format!("{} / {} / {}", f(0.5), f(0.99), f(1.0))
    }
}

/// The value of one series (`name` or `name{labels}`) in a Prometheus text scrape.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse::<f64>()
            .ok()
    })
}

/// How much a counter (or `name{labels}`) grew between two scrapes.
pub fn growth(before: &str, after: &str, series: &str) -> Option<f64> {
    Some(metric(after, series)? - metric(before, series).unwrap_or(0.0))
}

/// The mean of a histogram or summary `name` over what was observed between two scrapes.
pub fn mean_between(before: &str, after: &str, name: &str) -> Option<f64> {
    let sum = growth(before, after, &format!("{name}_sum"))?;
    let count = growth(before, after, &format!("{name}_count"))?;
    (count > 0.0).then(|| sum / count)
}

fn procfs_cores() -> usize {
    crate::procfs::cores()
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// Everything a run measured.
pub struct Summary {
    pub label: String,
    pub clients: usize,
    pub group_size: usize,
    pub target_rate: f64,
    pub measured: Duration,
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    pub deliveries: u64,
    pub missing: u64,
    pub duplicates: u64,
    pub duplicate_acks: u64,
    pub ack: Latencies,
    pub delivery: Latencies,
    pub server_cpu: Option<f64>,
    pub bench_cpu: Option<f64>,
    /// PostgreSQL's processes, when it runs on this machine.
    pub database_cpu: Option<f64>,
    pub machine_cpu: Option<f64>,
    /// Highest `VmRSS` sampled during the measured window, and `VmHWM` at the end, in KiB.
    pub server_rss_kib: Option<(u64, u64)>,
    pub mean_batch: Option<f64>,
    pub worst_send_lag: Duration,
    pub unexpected: u64,
    pub errors: BTreeMap<String, u64>,
    pub closed: BTreeMap<String, u64>,
}

impl Summary {
    pub fn acked_per_second(&self) -> f64 {
        self.acked as f64 / self.measured.as_secs_f64()
    }

    pub fn deliveries_per_second(&self) -> f64 {
        self.deliveries as f64 / self.measured.as_secs_f64()
    }

    /// CPU of everything on the machine but the server, the generator and PostgreSQL: other
    /// work that competed with the run (100 % = one core).
    pub fn others_cpu(&self) -> Option<f64> {
        Some(
            self.machine_cpu?
                - self.server_cpu?
                - self.bench_cpu?
                - self.database_cpu.unwrap_or(0.0),
        )
        .map(|v| v.max(0.0))
    }

    /// Whether nothing was lost, repeated, refused or cut off.
    pub fn complete(&self) -> bool {
        self.missing == 0
            && self.duplicates == 0
            && self.refused == 0
            && self.acked == self.sent
            && self.closed.is_empty()
    }

    pub fn table_header() -> &'static str {
        "| database | clients | group | target msg/s | sent | acked | acked msg/s | deliveries/s | ack p50 / p99 / max (ms) | delivery p50 / p99 / max (ms) | missing | duplicate | server CPU | server RSS peak | generator CPU | PostgreSQL CPU | others' CPU |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
    }

    /// One markdown table row.
    pub fn table_row(&self) -> String {
        let pct = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.0} %"));
        let rss = self.server_rss_kib.map_or("–".to_owned(), |(run, _)| {
            format!("{:.0} MiB", run as f64 / 1024.0)
        });
        format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            if self.label.is_empty() {
                "–"
            } else {
                &self.label
            },
            self.clients,
            self.group_size,
            self.target_rate,
            self.sent,
            self.acked,
            self.acked_per_second(),
            self.deliveries_per_second(),
            self.ack.triple(),
            self.delivery.triple(),
            self.missing,
            self.duplicates,
            pct(self.server_cpu),
            rss,
            pct(self.bench_cpu),
            pct(self.database_cpu),
            pct(self.others_cpu()),
        )
    }

    /// The details that do not fit the row.
    pub fn details(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "measured {:.1} s: sent {}, acked {}, refused {}, deliveries {} (expected {}), missing {}, duplicate deliveries {}, duplicate acks {}",
            self.measured.as_secs_f64(),
            self.sent,
            self.acked,
            self.refused,
            self.deliveries,
            self.deliveries + self.missing,
            self.missing,
            self.duplicates,
            self.duplicate_acks,
        );
        let _ = writeln!(
            s,
            "ack ms p50/p99/max {}; delivery ms p50/p90/p99/p99.9/max {} / {} / {} / {} / {}",
            self.ack.triple(),
            self.delivery.quantile_ms(0.5).map_or("–".into(), ms),
            self.delivery.quantile_ms(0.9).map_or("–".into(), ms),
            self.delivery.quantile_ms(0.99).map_or("–".into(), ms),
            self.delivery.quantile_ms(0.999).map_or("–".into(), ms),
            self.delivery.quantile_ms(1.0).map_or("–".into(), ms),
        );
        let cpu = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.0} %"));
        let others = self.others_cpu();
        let _ = writeln!(
            s,
            "CPU (100 % = one core): server {}, generator {}, PostgreSQL {}, everything else {}, machine {} of {} %",
            cpu(self.server_cpu),
            cpu(self.bench_cpu),
            cpu(self.database_cpu),
            cpu(others),
            cpu(self.machine_cpu),
            procfs_cores() * 100,
        );
        if let Some((run, hwm)) = self.server_rss_kib {
            let _ = writeln!(
                s,
                "server RSS: peak during the run {} MiB, lifetime peak (VmHWM, setup's password hashing included) {} MiB",
                run / 1024,
                hwm / 1024
            );
        }
        if let Some(b) = self.mean_batch {
            let _ = writeln!(s, "mean commit batch during the run: {b:.1} messages");
        }
        let _ = writeln!(
            s,
            "latest send behind schedule: {:.1} ms; unexpected frames: {}",
            self.worst_send_lag.as_secs_f64() * 1000.0,
            self.unexpected
        );
        for (code, n) in &self.errors {
            let _ = writeln!(s, "error frames {code}: {n}");
        }
        for (why, n) in &self.closed {
            let _ = writeln!(s, "sockets ended early ({why}): {n}");
        }
        s
    }
}
