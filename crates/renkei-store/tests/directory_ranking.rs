//! Broad directory searches (a thousand matches and more, within a hospital or over a region)
//! list exactly what the ranking rule says — exact keys, then key prefixes, then partial
//! matches, each in reading order — page after page, on SQLite and on PostgreSQL.

mod directory_data;

use directory_data::generate;
use renkei_core::Uuid;
use renkei_core::directory::{MatchRank, normalize, rank};
use renkei_store::scratch::ScratchDatabase;
use renkei_store::{DirectoryScope, Store, TOTAL_CAP};
use sqlx::{AnyPool, Row};

const ORGS: usize = 4;
const USERS: usize = 4_000;
const PAGE: i64 = 150;

/// Names, readings, romaji, contacts, departments, professions and hospitals, broad and narrow.
const QUERIES: &[&str] = &[
    "",
    "田",
    "田中",
    "たなか",
    "ta",
    "ka",
    "i",
    "病院",
    "nurse",
    "看護師",
    "中",
    "u0",
    "@hosp",
    "放射線",
    "ﾀﾅｶ",
    "xyz",
];

struct Entry {
    user_id: String,
    org_id: String,
    sort_key: String,
    doc: String,
}

/// What the rule says `q` finds within `orgs`, in order.
fn expected(entries: &[Entry], orgs: &[String], q: &str) -> Vec<(String, MatchRank)> {
    let mut found: Vec<(MatchRank, &str, &str)> = entries
        .iter()
        .filter(|e| orgs.contains(&e.org_id))
        .filter_map(|e| rank(&e.doc, q).map(|r| (r, e.sort_key.as_str(), e.user_id.as_str())))
        .collect();
    found.sort();
    found
        .into_iter()
        .map(|(r, _, user)| (user.to_owned(), r))
        .collect()
}

async fn check(backend: &str, url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (orgs, _) = generate(url, ORGS, USERS).await;
    let pool = AnyPool::connect(url).await.unwrap();
    // Fifty people named "Ka": "ka" is then a whole key for some (exact), the start of a key
    // for others (kato, kazuya …) and inside a key for many more (tanaka …), so a broad
    // search crosses from each rank to the next within its first pages.
    sqlx::query("UPDATE users SET display_name = 'KA' WHERE login < 'u00050'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(store.refresh_directory().await.unwrap(), USERS);
    let entries: Vec<Entry> = sqlx::query(
        "SELECT user_id, org_id, sort_key, doc FROM directory_entries WHERE active = 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .iter()
    .map(|row| Entry {
        user_id: row.get("user_id"),
        org_id: row.get("org_id"),
        sort_key: row.get("sort_key"),
        doc: row.get("doc"),
    })
    .collect();
    assert_eq!(entries.len(), USERS);
    let mut broad = 0;
    let mut crossings = 0;
    for scope_orgs in [&orgs[..1], &orgs[..2], &orgs[..]] {
        let ids: Vec<Uuid> = scope_orgs.iter().map(|o| o.parse().unwrap()).collect();
        for q in QUERIES {
            let q = normalize(q);
            let want = expected(&entries, scope_orgs, &q);
            if want.len() as i64 >= TOTAL_CAP {
                broad += 1;
                let listed = &want[..TOTAL_CAP as usize];
                if [MatchRank::Exact, MatchRank::Prefix, MatchRank::Partial]
                    .iter()
                    .all(|r| listed.iter().any(|(_, got)| got == r))
                {
                    crossings += 1;
                }
            }
            let mut offset = 0;
            loop {
                let page = store
                    .search_directory(&q, DirectoryScope::Orgs(&ids), PAGE, offset)
                    .await
                    .unwrap();
                let context = format!("{backend}: {q:?} in {} hospitals at {offset}", ids.len());
                assert_eq!(page.total, (want.len() as i64).min(TOTAL_CAP), "{context}");
                assert_eq!(
                    page.total_capped,
                    want.len() as i64 >= TOTAL_CAP,
                    "{context}"
                );
                let got: Vec<(String, MatchRank)> = page
                    .hits
                    .iter()
                    .map(|h| (h.user_id.to_string(), h.rank))
                    .collect();
                // A page may run past the counted total (a broad search is counted only up to
                // the cap), never past the matches.
                let end = ((offset + PAGE) as usize).min(want.len());
                assert_eq!(got, want[offset as usize..end], "{context}");
                offset += PAGE;
                if offset >= page.total {
                    break;
                }
            }
        }
    }
    assert!(broad >= 10, "{backend}: only {broad} searches were broad");
    assert!(
        crossings >= 1,
        "{backend}: no broad search listed all three ranks"
    );
    pool.close().await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broad_searches_list_every_rank_in_order_on_both_backends() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("dir.db").display());
    check("SQLite", &url).await;
    if let Some(scratch) = ScratchDatabase::create("directory ranking").await {
        check("PostgreSQL", scratch.url()).await;
    }
}

async fn check_bounded_refresh(backend: &str, url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (orgs, _) = generate(url, 2, 1_000).await;
    let ids: Vec<Uuid> = orgs.iter().map(|o| o.parse().unwrap()).collect();
    // Right after a bulk change a search rebuilds only a few documents itself, so it is not
    // held up; the background refresh (`refresh_directory`) does the rest.
    let first = store
        .search_directory("", DirectoryScope::Orgs(&ids), 10, 0)
        .await
        .unwrap();
    assert!(
        first.total > 0 && first.total < 1_000,
        "{backend}: a search rebuilt {} documents itself",
        first.total
    );
    let rest = store.refresh_directory().await.unwrap();
    assert_eq!(first.total as usize + rest, 1_000, "{backend}");
    let after = store
        .search_directory("", DirectoryScope::Orgs(&ids), 10, 0)
        .await
        .unwrap();
    assert_eq!(after.total, 1_000, "{backend}: every document is current");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_change_does_not_hold_up_a_search_on_both_backends() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("bulk.db").display());
    check_bounded_refresh("SQLite", &url).await;
    if let Some(scratch) = ScratchDatabase::create("directory bulk refresh").await {
        check_bounded_refresh("PostgreSQL", scratch.url()).await;
    }
}
