//! Directory search latency on a regional network: 50,000 users over 30 hospitals, on SQLite
//! and on PostgreSQL. A measurement, not a test: `bench/directory.sh` runs it (ignored
//! otherwise) and the figures go to `docs/BENCHMARKS.md`.

use std::time::{Duration, Instant};

mod directory_data;

use directory_data::generate;
use renkei_core::directory::normalize;
use renkei_store::scratch::ScratchDatabase;
use renkei_store::{DirectoryScope, Store};

const ORGS: usize = 30;
const USERS: usize = 50_000;
const QUERIES_PER_SCOPE: usize = 1_000;

/// What people type: name parts in kanji, kana (half-width too), romaji, contacts, places.
const QUERIES: &[&str] = &[
    "田",
    "田中",
    "佐藤 健",
    "たなか",
    "ﾀﾅｶ",
    "サトウ",
    "yamamoto",
    "suzu",
    "ichiro",
    "hana",
    "放射線",
    "看護師",
    "nurse",
    "薬剤",
    "0975",
    "5550",
    "@hosp",
    "hosp07",
    "循環器",
    "病院",
    "長谷川",
    "ささき",
    "ka",
    "ito",
    "やまざき まゆみ",
    "xyz",
    "中村 裕",
    "clinical",
    "救急",
    "森",
    "た",
    "t",
];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(backend: &str, url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (orgs, generated) = generate(url, ORGS, USERS).await;
    let started = Instant::now();
    let rebuilt = store.refresh_directory().await.unwrap();
    let rebuild = started.elapsed().as_secs_f64();
    assert_eq!(rebuilt, USERS);
    println!(
        "{backend}: generated {USERS} users over {ORGS} hospitals in {generated:.1} s; \
         directory documents built in {rebuild:.1} s"
    );
    let one = [orgs[0].clone()];
    let one: Vec<_> = one.iter().map(|o| o.parse().unwrap()).collect();
    let all: Vec<_> = orgs.iter().map(|o| o.parse().unwrap()).collect();
    for (label, scope) in [
        ("own hospital (1,667 users)", DirectoryScope::Orgs(&one)),
        (
            "own + 29 partners (50,000 users)",
            DirectoryScope::Orgs(&all),
        ),
    ] {
        // Warm the caches once, then time each query.
        for q in QUERIES {
            store
                .search_directory(&normalize(q), scope, 20, 0)
                .await
                .unwrap();
        }
        let mut times = Vec::with_capacity(QUERIES_PER_SCOPE);
        let mut by_query = vec![Duration::ZERO; QUERIES.len()];
        let mut found = 0i64;
        for i in 0..QUERIES_PER_SCOPE {
            let q = normalize(QUERIES[i % QUERIES.len()]);
            let offset = if i % 5 == 4 { 20 } else { 0 };
            let t = Instant::now();
            let page = store.search_directory(&q, scope, 20, offset).await.unwrap();
            times.push(t.elapsed());
            by_query[i % QUERIES.len()] = by_query[i % QUERIES.len()].max(t.elapsed());
            found += page.total;
        }
        times.sort();
        println!(
            "{backend}, {label}: {QUERIES_PER_SCOPE} searches, p50 {:.1} ms, p95 {:.1} ms, \
             p99 {:.1} ms, max {:.1} ms ({} matches on average)",
            percentile(&times, 0.50),
            percentile(&times, 0.95),
            percentile(&times, 0.99),
            percentile(&times, 1.0),
            found / QUERIES_PER_SCOPE as i64
        );
        let mut slowest: Vec<(Duration, &str)> =
            by_query.into_iter().zip(QUERIES.iter().copied()).collect();
        slowest.sort_by(|a, b| b.cmp(a));
        let slowest: Vec<String> = slowest[..5]
            .iter()
            .map(|(t, q)| format!("{q:?} {:.1} ms", t.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{backend}, {label}: slowest queries (max): {}",
            slowest.join(", ")
        );
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run bench/directory.sh"]
async fn directory_search_latency() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    measure("SQLite", &url).await;
    if let Ok(url) = std::env::var("RENKEI_BENCH_POSTGRES_KEEP") {
        // An empty PostgreSQL database of your own, kept afterwards for EXPLAIN.
        measure("PostgreSQL", &url).await;
    } else if let Some(scratch) = ScratchDatabase::create("directory bench").await {
        measure("PostgreSQL", scratch.url()).await;
    }
}
