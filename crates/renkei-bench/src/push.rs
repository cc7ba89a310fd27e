//! `renkei-bench push`: the `chat` load with every user subscribed to Web Push at the push
//! service stand-in (`renkei-push-standin`); measures send → push accepted by the stand-in per
//! recipient, reads the server's own commit → accepted figure (`renkei_push_latency_seconds`),
//! and divides the server's CPU time by the pushes.
//!
//! The stand-in is another process: it records arrivals by the wall clock with the decrypted
//! payload (`conversation_id`, `seq`), which the ledger's acknowledged sends are matched to.

use std::collections::HashMap;
use std::time::{Duration, Instant, UNIX_EPOCH};

use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use crate::api::Api;
use crate::chat;
use crate::ledger::Ledger;
use crate::report::{self, Latencies, Summary};
use crate::setup::{self, Cohort};
use crate::{BenchResult, PushArgs};

/// Concurrent subscription calls (nothing is hashed behind them).
const SUBSCRIBE_CONCURRENCY: usize = 16;
/// After the chat run drained, pushes still arriving are awaited until none came for this long.
const QUIET: Duration = Duration::from_secs(2);
/// The issue's target for commit → accepted.
const TARGET_P99_MS: f64 = 250.0;

async fn get_json(http: &reqwest::Client, url: &str) -> BenchResult<Value> {
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("GET {url}: {}", resp.status()).into());
    }
    Ok(resp.json().await.map_err(|e| format!("GET {url}: {e}"))?)
}

/// Gives every member one fresh subscription at the stand-in (an earlier run's are removed).
async fn subscribe_all(
    http: &reqwest::Client,
    args: &PushArgs,
    cohort: &Cohort,
) -> BenchResult<()> {
    let anon = Api::new(http.clone(), &args.chat.server);
    let standin = args.standin.trim_end_matches('/');
    let started = Instant::now();
    let removed: Vec<usize> = stream::iter(cohort.members.iter())
        .map(|m| {
            let user = anon.with_token(&m.token);
            async move {
                let removed = user.clear_push_subscriptions().await?;
                let resp = http
                    .post(format!("{standin}/subscribe"))
                    .send()
                    .await
                    .map_err(|e| format!("the stand-in at {standin}: {e}"))?;
                let subscription: Value = resp
                    .json()
                    .await
                    .map_err(|e| format!("the stand-in's subscription: {e}"))?;
                user.add_push_subscription(&subscription).await?;
                BenchResult::Ok(removed)
            }
        })
        .buffer_unordered(SUBSCRIBE_CONCURRENCY)
        .try_collect()
        .await?;
    eprintln!(
        "push: {} users subscribed at {standin} in {:.1} s ({} earlier subscriptions removed)",
        cohort.members.len(),
        started.elapsed().as_secs_f64(),
        removed.iter().sum::<usize>()
    );
    Ok(())
}

/// Waits until the stand-in's accepted count stops growing (or `drain` runs out).
async fn wait_quiet(http: &reqwest::Client, standin: &str, drain: Duration) -> BenchResult<()> {
    let until = Instant::now() + drain;
    let url = format!("{standin}/stats/count");
    let mut last = get_json(http, &url).await?["count"].as_u64();
    let mut still_since = Instant::now();
    while Instant::now() < until && still_since.elapsed() < QUIET {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = get_json(http, &url).await?["count"].as_u64();
        if now != last {
            last = now;
            still_since = Instant::now();
        }
    }
    Ok(())
}

/// The pushes of this run's measured messages, matched to their sends.
#[derive(Default)]
struct Matched {
    /// Send → accepted by the stand-in, microseconds, one per recipient.
    latency_us: Vec<u32>,
    expected: u64,
    accepted: u64,
    duplicates: u64,
    /// Requests the stand-in refused (any run's endpoints: a correct server has none).
    rejected: u64,
    first_rejection: Option<String>,
}

/// Matches the stand-in's `/stats` to the acknowledged sends of `ledger`; `groups[i]` is the
/// conversation of clients `i * group_size ..`.
fn match_arrivals(stats: &Value, ledger: &Ledger, groups: &[String], group_size: usize) -> Matched {
    let group_of: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    // (group, seq) → (sent at, µs since the epoch; measured).
    let sends: HashMap<(usize, i64), (u64, bool)> = ledger
        .acked()
        .into_iter()
        .map(|a| {
            let at = a
                .wall
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_micros() as u64);
            ((a.client / group_size, a.seq), (at, a.measured))
        })
        .collect();
    let mut m = Matched {
        expected: sends.values().filter(|(_, measured)| *measured).count() as u64
            * (group_size as u64 - 1),
        ..Matched::default()
    };
    let mut seen: HashMap<(usize, i64, &str), u32> = HashMap::new();
    for a in stats["arrivals"].as_array().into_iter().flatten() {
        if let Some(why) = a["rejected"].as_str() {
            m.rejected += 1;
            m.first_rejection.get_or_insert_with(|| why.to_owned());
            continue;
        }
        if !a["status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s))
        {
            continue;
        }
        let p = &a["payload"];
        let (Some(conversation), Some(seq), Some(endpoint), Some(at)) = (
            p["conversation_id"].as_str(),
            p["seq"].as_i64(),
            a["endpoint"].as_str(),
            a["at_us"].as_u64(),
        ) else {
            continue;
        };
        let Some(&group) = group_of.get(conversation) else {
            continue;
        };
        let Some(&(sent, true)) = sends.get(&(group, seq)) else {
            continue;
        };
        let n = seen.entry((group, seq, endpoint)).or_default();
        *n += 1;
        if *n > 1 {
            m.duplicates += 1;
            continue;
        }
        m.accepted += 1;
        m.latency_us
            .push(u32::try_from(at.saturating_sub(sent)).unwrap_or(u32::MAX));
    }
    m
}

/// `renkei_push_sent_total` by result, grown during the measured window.
fn sent_by_result(before: &str, after: &str) -> String {
    let mut parts: Vec<String> = after
        .lines()
        .filter_map(|l| l.strip_prefix("renkei_push_sent_total{"))
        .filter_map(|l| l.split_once('}'))
        .filter_map(|(labels, _)| {
            let series = format!("renkei_push_sent_total{{{labels}}}");
            let grown = report::growth(before, after, &series)?;
            Some(format!("{labels} {grown:.0}"))
        })
        .collect();
    parts.sort();
    if parts.is_empty() {
        "none (is push on?)".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Runs the benchmark; `Ok(false)` when chat or push lost, refused or repeated anything.
pub async fn run(args: PushArgs) -> BenchResult<bool> {
    chat::check(&args.chat)?;
    let http = chat::http_client()?;
    let run = chat::run_id();
    let cohort = setup::prepare(&http, &args.chat, &run, !args.chat.setup_only).await?;
    if args.chat.setup_only {
        return Ok(true);
    }
    let standin = args.standin.trim_end_matches('/').to_owned();
    subscribe_all(&http, &args, &cohort).await?;

    let driven = chat::drive(&http, &args.chat, &run, &cohort).await?;
    wait_quiet(&http, &standin, Duration::from_secs_f64(args.chat.drain)).await?;
    let stats = get_json(&http, &format!("{standin}/stats")).await?;
    let m = match_arrivals(&stats, &driven.ledger, &cohort.groups, args.chat.group_size);

    let s = &driven.summary;
    let latency = Latencies::new(m.latency_us);
    let (before, after) = (&driven.metrics_before, &driven.metrics_after);
    let server_q = |q: &str| {
        report::metric(
            after,
            &format!("renkei_push_latency_seconds{{quantile=\"{q}\"}}"),
        )
        .map_or("–".to_owned(), |v| format!("{:.1}", v * 1000.0))
    };
    let server_mean = report::mean_between(before, after, "renkei_push_latency_seconds")
        .map_or("–".to_owned(), |v| format!("{:.1}", v * 1000.0));
    let cpu_seconds = s
        .server_cpu
        .map(|pct| pct / 100.0 * s.measured.as_secs_f64());
    let per_push = cpu_seconds
        .filter(|_| m.accepted > 0)
        .map_or("–".to_owned(), |c| {
            format!("{:.0}", c * 1e6 / m.accepted as f64)
        });
    let p99 = latency.quantile_ms(0.99);

    eprint!("{}", s.details());
    eprintln!(
        "push: {} expected for measured messages, {} accepted, {} missing, {} duplicate; {} refused by the stand-in{}",
        m.expected,
        m.accepted,
        m.expected.saturating_sub(m.accepted),
        m.duplicates,
        m.rejected,
        m.first_rejection
            .as_deref()
            .map_or(String::new(), |w| format!(" (first: {w})"))
    );
    eprintln!(
        "push: send → accepted ms p50/p90/p99/max {} / {} / {} / {}; server commit → accepted ms mean {server_mean}, p50 {}, p99 {} (renkei_push_latency_seconds); sent by result: {}",
        latency
            .quantile_ms(0.5)
            .map_or("–".into(), |v| format!("{v:.1}")),
        latency
            .quantile_ms(0.9)
            .map_or("–".into(), |v| format!("{v:.1}")),
        latency
            .quantile_ms(0.99)
            .map_or("–".into(), |v| format!("{v:.1}")),
        latency
            .quantile_ms(1.0)
            .map_or("–".into(), |v| format!("{v:.1}")),
        server_q("0.5"),
        server_q("0.99"),
        sent_by_result(before, after),
    );
    eprintln!(
        "push: target p99 < {TARGET_P99_MS} ms {}",
        match p99 {
            Some(v) if v < TARGET_P99_MS => "met",
            Some(_) => "NOT met",
            None => "not measured",
        }
    );
    println!("{}", Summary::table_header());
    println!("{}", s.table_row());
    println!();
    println!(
        "| database | users | group | msg/s | pushes/s | expected | accepted | missing | refused | send → accepted p50 / p99 / max (ms) | server commit → accepted p50 / p99 (ms) | server CPU | server CPU per push (µs) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|");
    println!(
        "| {} | {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} / {} | {} | {} |",
        if s.label.is_empty() { "–" } else { &s.label },
        s.clients,
        s.group_size,
        s.target_rate,
        m.accepted as f64 / s.measured.as_secs_f64(),
        m.expected,
        m.accepted,
        m.expected.saturating_sub(m.accepted),
        m.rejected,
        latency.triple(),
        server_q("0.5"),
        server_q("0.99"),
        s.server_cpu.map_or("–".to_owned(), |v| format!("{v:.0} %")),
        per_push,
    );
    Ok(s.complete() && m.accepted == m.expected && m.rejected == 0 && m.duplicates == 0)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, UNIX_EPOCH};

    use serde_json::json;

    use super::*;
    use crate::ledger::Schedule;

    #[test]
    fn arrivals_match_measured_sends_by_conversation_and_seq() {
        let now = Instant::now();
        let schedule = Schedule {
            measure_from: now - Duration::from_secs(1),
            measure_until: now + Duration::from_secs(60),
        };
        // Two groups of 3: client 0 sends in group "g0", client 3 in "g1".
        let ledger = Ledger::new("r", schedule, 6, 3);
        let id = ledger.send(0);
        let (c, n) = ledger.parse_id(&id).unwrap();
        ledger.ack(c, n, Some(7));
        let id = ledger.send(3);
        let (c, n) = ledger.parse_id(&id).unwrap();
        ledger.ack(c, n, Some(7));
        let sent_us = ledger.acked()[0]
            .wall
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros() as u64;
        let arrival = |endpoint: &str, conversation: &str, seq: i64, after_us: u64| {
            json!({"endpoint": endpoint, "at_us": sent_us + after_us, "status": 201,
                   "payload": {"kind": "message", "conversation_id": conversation, "seq": seq},
                   "rejected": null})
        };
        let stats = json!({"arrivals": [
            arrival("a", "g0", 7, 5_000),
            arrival("b", "g0", 7, 9_000),
            arrival("b", "g0", 7, 9_500),      // the same push twice
            arrival("c", "g1", 7, 1_000),      // one of g1's two recipients
            arrival("d", "other", 7, 1_000),   // another run's conversation
            arrival("e", "g0", 8, 1_000),      // no such send
            {"endpoint": "f", "at_us": sent_us, "status": 401, "payload": null, "rejected": "no sub"},
        ]});
        let groups = vec!["g0".to_owned(), "g1".to_owned()];
        let m = match_arrivals(&stats, &ledger, &groups, 3);
        assert_eq!(
            (m.expected, m.accepted, m.duplicates, m.rejected),
            (4, 3, 1, 1)
        );
        assert_eq!(m.first_rejection.as_deref(), Some("no sub"));
        assert_eq!(m.latency_us.len(), 3);
        assert!(
            m.latency_us.iter().all(|&us| us <= 10_000),
            "{:?}",
            m.latency_us
        );
    }
}
