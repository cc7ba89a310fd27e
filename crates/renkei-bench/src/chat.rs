//! `renkei-bench chat`: set up users and groups, connect every client, send at a fixed
//! aggregate rate, measure a window after a warm-up, wait for stragglers, and report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{StreamExt, TryStreamExt, stream};
use tokio::sync::watch;

use crate::api::Api;
use crate::client::{self, ClientReport, Pace};
use crate::ledger::{Ledger, Schedule};
use crate::procfs::{self, CpuSample, MachineSample};
use crate::report::{self, Latencies, Summary};
use crate::{BenchResult, ChatArgs, setup};

/// A client must stay well under the server's 30 frames/s per connection.
const MAX_RATE_PER_CLIENT: f64 = 20.0;
/// Pause between everyone being synced and the first send.
const START_DELAY: Duration = Duration::from_secs(1);
/// How often the server's memory is sampled during the window.
const RSS_EVERY: Duration = Duration::from_millis(250);

pub fn check(args: &ChatArgs) -> BenchResult<()> {
    if args.group_size < 2 || args.clients == 0 || !args.clients.is_multiple_of(args.group_size) {
        return Err("--clients must be a positive multiple of --group-size (at least 2)".into());
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(args.rate)
        || !positive(args.duration)
        || !(positive(args.warmup) || args.warmup == 0.0)
    {
        return Err("--rate and --duration must be positive, --warmup not negative".into());
    }
    let per_client = args.rate / args.clients as f64;
    if per_client > MAX_RATE_PER_CLIENT {
        return Err(format!(
            "{per_client:.1} messages/s per client is too close to the server's frame limit; add clients"
        )
        .into());
    }
    Ok(())
}

/// A short nonce that keeps this run's message ids apart from earlier runs'.
pub fn run_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("r{ms:x}")
}

/// Mean of the server's `renkei_message_batch_size` between two scrapes.
fn mean_batch(before: &str, after: &str) -> Option<f64> {
    report::mean_between(before, after, "renkei_message_batch_size")
}

/// Process and machine readings at one instant.
struct Readings {
    server: Option<CpuSample>,
    bench: Option<CpuSample>,
    database: Option<CpuSample>,
    machine: Option<MachineSample>,
    metrics: String,
}

async fn read_all(api: &Api, server_pid: Option<u32>) -> Readings {
    Readings {
        server: server_pid.and_then(CpuSample::of),
        bench: CpuSample::of(std::process::id()),
        database: CpuSample::of_command("postgres"),
        machine: MachineSample::now(),
        metrics: api.metrics().await.unwrap_or_default(),
    }
}

/// The HTTP client every mode uses.
pub fn http_client() -> BenchResult<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?)
}

/// Runs the benchmark; `Ok(false)` when it completed but lost, repeated or refused messages.
pub async fn run(args: ChatArgs) -> BenchResult<bool> {
    check(&args)?;
    let http = http_client()?;
    let run = run_id();
    let cohort = setup::prepare(&http, &args, &run, !args.setup_only).await?;
    if args.setup_only {
        return Ok(true);
    }
    let driven = drive(&http, &args, &run, &cohort).await?;
    eprint!("{}", driven.summary.details());
    println!("{}", Summary::table_header());
    println!("{}", driven.summary.table_row());
    Ok(driven.summary.complete())
}

/// What one chat run measured, for `run` to print and for modes built on the same load.
pub struct Driven {
    pub summary: Summary,
    /// Every send, with its ack (and `seq`) when it came.
    pub ledger: Arc<Ledger>,
    /// The server's `/metrics` at the start and at the end of the measured window.
    pub metrics_before: String,
    pub metrics_after: String,
}

/// Connects every member of `cohort`, sends at `args.rate` to their groups through a warm-up
/// and the measured window, waits for stragglers and sums up.
pub async fn drive(
    http: &reqwest::Client,
    args: &ChatArgs,
    run: &str,
    cohort: &setup::Cohort,
) -> BenchResult<Driven> {
    let ws_url = format!(
        "{}/ws",
        args.server
            .trim_end_matches('/')
            .replacen("http://", "ws://", 1)
    );
    let connecting = Instant::now();
    let mut connected: Vec<client::Connected> = stream::iter(cohort.members.iter().enumerate())
        .map(|(i, m)| client::connect(&ws_url, i, &m.token))
        .buffer_unordered(args.connect_concurrency.max(1))
        .try_collect()
        .await?;
    connected.sort_by_key(|c| c.index);
    eprintln!(
        "connect: {} clients synced in {:.1} s",
        connected.len(),
        connecting.elapsed().as_secs_f64()
    );

    let start = Instant::now() + START_DELAY;
    let measure_from = start + Duration::from_secs_f64(args.warmup);
    let measure_until = measure_from + Duration::from_secs_f64(args.duration);
    let schedule = Schedule {
        measure_from,
        measure_until,
    };
    let ledger = Arc::new(Ledger::new(run, schedule, args.clients, args.group_size));
    let every = Duration::from_secs_f64(args.clients as f64 / args.rate);
    let groups: Vec<Arc<str>> = cohort
        .groups
        .iter()
        .map(|g| Arc::from(g.as_str()))
        .collect();
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks: Vec<_> = connected
        .into_iter()
        .map(|c| {
            let pace = Pace {
                first: start + every.mul_f64(c.index as f64 / args.clients as f64),
                every,
                until: measure_until,
            };
            let conversation = groups[c.index / args.group_size].clone();
            tokio::spawn(client::run(
                c,
                conversation,
                ledger.clone(),
                pace,
                stop_rx.clone(),
            ))
        })
        .collect();
    eprintln!(
        "run: {} msg/s for {:.0} s warm-up + {:.0} s measured",
        args.rate, args.warmup, args.duration
    );

    let api = Api::new(http.clone(), &args.server);
    tokio::time::sleep_until(measure_from.into()).await;
    let before = read_all(&api, args.server_pid).await;
    let mut peak_rss = 0u64;
    while Instant::now() < measure_until {
        if let Some((rss, _)) = args.server_pid.and_then(procfs::memory_kib) {
            peak_rss = peak_rss.max(rss);
        }
        tokio::time::sleep(RSS_EVERY.min(measure_until.saturating_duration_since(Instant::now())))
            .await;
    }
    let after = read_all(&api, args.server_pid).await;
    let hwm = args.server_pid.and_then(procfs::memory_kib).map(|(_, h)| h);

    let drain_until = Instant::now() + Duration::from_secs_f64(args.drain);
    while ledger.outstanding() > 0 && Instant::now() < drain_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop_tx.send(true);
    let mut reports: Vec<ClientReport> = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(
            task.await
                .map_err(|e| format!("a client task failed: {e}"))?,
        );
    }

    let tally = ledger.tally();
    let mut ack = Vec::new();
    let mut delivery = Vec::new();
    let mut errors = BTreeMap::new();
    let mut closed = BTreeMap::new();
    let (mut duplicates, mut duplicate_acks, mut unexpected) = (0, 0, 0);
    let mut worst_send_lag = Duration::ZERO;
    for r in reports {
        ack.extend(r.ack_us);
        delivery.extend(r.delivery_us);
        duplicates += r.duplicates;
        duplicate_acks += r.duplicate_acks;
        unexpected += r.unexpected;
        worst_send_lag = worst_send_lag.max(r.worst_send_lag);
        for (code, n) in r.errors {
            *errors.entry(code).or_insert(0) += n;
        }
        if let Some(why) = r.closed {
            *closed.entry(why).or_insert(0) += 1;
        }
    }
    let pct = |a: Option<CpuSample>, b: Option<CpuSample>| Some(a?.percent_until(&b?));
    let summary = Summary {
        label: args.label.clone(),
        clients: args.clients,
        group_size: args.group_size,
        target_rate: args.rate,
        measured: measure_until.duration_since(measure_from),
        sent: tally.sent,
        acked: tally.acked,
        refused: tally.refused,
        deliveries: tally.deliveries,
        missing: tally.missing,
        duplicates,
        duplicate_acks,
        ack: Latencies::new(ack),
        delivery: Latencies::new(delivery),
        server_cpu: pct(before.server, after.server),
        bench_cpu: pct(before.bench, after.bench),
        database_cpu: pct(before.database, after.database),
        machine_cpu: before
            .machine
            .zip(after.machine)
            .map(|(a, b)| a.percent_until(&b, procfs::cores())),
        server_rss_kib: hwm.map(|h| (peak_rss, h)),
        mean_batch: mean_batch(&before.metrics, &after.metrics),
        worst_send_lag,
        unexpected,
        errors,
        closed,
    };
    Ok(Driven {
        summary,
        ledger,
        metrics_before: before.metrics,
        metrics_after: after.metrics,
    })
}
