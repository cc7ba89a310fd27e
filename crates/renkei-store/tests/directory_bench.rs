//! Directory search latency on a regional network: 50,000 users over 30 hospitals, on SQLite
//! and on PostgreSQL. A measurement, not a test: `bench/directory.sh` runs it (ignored
//! otherwise) and the figures go to `docs/BENCHMARKS.md`.

use std::time::{Duration, Instant};

use renkei_core::directory::normalize;
use renkei_core::kana::to_romaji;
use renkei_store::scratch::ScratchDatabase;
use renkei_store::{DirectoryScope, Store};
use sqlx::AnyPool;

const ORGS: usize = 30;
const USERS: usize = 50_000;
const QUERIES_PER_SCOPE: usize = 1_000;

const FAMILY: &[(&str, &str)] = &[
    ("田中", "たなか"),
    ("佐藤", "さとう"),
    ("鈴木", "すずき"),
    ("高橋", "たかはし"),
    ("伊藤", "いとう"),
    ("渡辺", "わたなべ"),
    ("山本", "やまもと"),
    ("中村", "なかむら"),
    ("小林", "こばやし"),
    ("加藤", "かとう"),
    ("吉田", "よしだ"),
    ("山田", "やまだ"),
    ("佐々木", "ささき"),
    ("山口", "やまぐち"),
    ("松本", "まつもと"),
    ("井上", "いのうえ"),
    ("木村", "きむら"),
    ("林", "はやし"),
    ("斎藤", "さいとう"),
    ("清水", "しみず"),
    ("山崎", "やまざき"),
    ("森", "もり"),
    ("池田", "いけだ"),
    ("橋本", "はしもと"),
    ("阿部", "あべ"),
    ("石川", "いしかわ"),
    ("前田", "まえだ"),
    ("藤田", "ふじた"),
    ("小川", "おがわ"),
    ("後藤", "ごとう"),
    ("岡田", "おかだ"),
    ("長谷川", "はせがわ"),
    ("村上", "むらかみ"),
    ("近藤", "こんどう"),
    ("石井", "いしい"),
    ("坂本", "さかもと"),
    ("遠藤", "えんどう"),
    ("青木", "あおき"),
    ("藤井", "ふじい"),
    ("西村", "にしむら"),
];
const GIVEN: &[(&str, &str)] = &[
    ("一郎", "いちろう"),
    ("花子", "はなこ"),
    ("健", "けん"),
    ("舞", "まい"),
    ("翔太", "しょうた"),
    ("美咲", "みさき"),
    ("大輔", "だいすけ"),
    ("陽子", "ようこ"),
    ("誠", "まこと"),
    ("恵", "めぐみ"),
    ("拓也", "たくや"),
    ("由美", "ゆみ"),
    ("直樹", "なおき"),
    ("真由美", "まゆみ"),
    ("隆", "たかし"),
    ("裕子", "ゆうこ"),
    ("和也", "かずや"),
    ("智子", "ともこ"),
    ("浩", "ひろし"),
    ("明美", "あけみ"),
    ("亮", "りょう"),
    ("香織", "かおり"),
    ("剛", "つよし"),
    ("愛", "あい"),
    ("修", "おさむ"),
];
const DEPARTMENTS: &[&str] = &[
    "循環器内科",
    "心臓血管外科",
    "放射線部",
    "救急部",
    "脳神経外科",
    "整形外科",
    "小児科",
    "看護部",
    "薬剤部",
    "リハビリテーション部",
    "臨床工学部",
    "医療連携室",
];
const PROFESSIONS: &[&str] = &[
    "doctor",
    "doctor",
    "nurse",
    "nurse",
    "nurse",
    "resident",
    "radiology_technologist",
    "physical_therapist",
    "pharmacist",
    "clinical_engineer",
    "social_worker",
    "clerk",
];

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
];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

async fn generate(url: &str) -> (Vec<String>, f64) {
    let started = Instant::now();
    let pool = AnyPool::connect(url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let mut orgs = Vec::new();
    let mut departments = Vec::new();
    for i in 0..ORGS {
        let id = renkei_core::new_id().to_string();
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, kind, policy, version, created_at, updated_at)
             VALUES ($1, $2, $3, 'hospital', '{}', 1, 0, 0)",
        )
        .bind(&id)
        .bind(format!("hosp{i:02}"))
        .bind(format!("大分県立第{i}病院"))
        .execute(&mut *tx)
        .await
        .unwrap();
        for name in DEPARTMENTS {
            let dept = renkei_core::new_id().to_string();
            sqlx::query(
                "INSERT INTO departments (id, org_id, name, version, created_at, updated_at)
                 VALUES ($1, $2, $3, 1, 0, 0)",
            )
            .bind(&dept)
            .bind(&id)
            .bind(*name)
            .execute(&mut *tx)
            .await
            .unwrap();
            departments.push((id.clone(), dept));
        }
        orgs.push(id);
    }
    let mut rng = Lcg(7);
    const BATCH: usize = 100;
    for start in (0..USERS).step_by(BATCH) {
        let mut sql = String::from(
            "INSERT INTO users (id, org_id, login, display_name, kana, romaji, profession,
             department_id, email, phone, roles, status, must_change_password, version,
             created_at, updated_at) VALUES ",
        );
        let mut rows = Vec::new();
        for n in start..(start + BATCH).min(USERS) {
            let (fk, fr) = FAMILY[rng.next(FAMILY.len())];
            let (gk, gr) = GIVEN[rng.next(GIVEN.len())];
            let org = n % ORGS;
            let (_, dept) = &departments[org * DEPARTMENTS.len() + rng.next(DEPARTMENTS.len())];
            let kana = format!("{fr} {gr}");
            rows.push(vec![
                renkei_core::new_id().to_string(),
                orgs[org].clone(),
                format!("u{n:05}"),
                format!("{fk} {gk}"),
                kana.clone(),
                to_romaji(&kana),
                PROFESSIONS[rng.next(PROFESSIONS.len())].to_owned(),
                dept.clone(),
                format!("u{n:05}@hosp{org:02}.example.jp"),
                format!("097-{:03}-{:04}", rng.next(1000), rng.next(10000)),
            ]);
        }
        let marks: Vec<String> = (0..rows.len())
            .map(|r| {
                let b = r * 10;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, '', 'active', 0, 1, 0, 0)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10
                )
            })
            .collect();
        sql.push_str(&marks.join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in rows {
            for value in row {
                query = query.bind(value);
            }
        }
        query.execute(&mut *tx).await.unwrap();
    }
    // The first hospital cooperates with every other one on the directory.
    for other in &orgs[1..] {
        let (a, b) = (&orgs[0], other);
        let key = if a < b {
            format!("{a}:{b}")
        } else {
            format!("{b}:{a}")
        };
        sqlx::query(
            "INSERT INTO agreements (id, proposer_org_id, partner_org_id, pair_key, scopes, status, proposed_at)
             VALUES ($1, $2, $3, $4, 'directory,messaging', 'active', 0)",
        )
        .bind(renkei_core::new_id().to_string())
        .bind(a)
        .bind(b)
        .bind(key)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    pool.close().await;
    (orgs, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(backend: &str, url: &str) {
    let store = Store::connect(url).await.unwrap();
    let (orgs, generated) = generate(url).await;
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
        let mut found = 0i64;
        for i in 0..QUERIES_PER_SCOPE {
            let q = normalize(QUERIES[i % QUERIES.len()]);
            let offset = if i % 5 == 4 { 20 } else { 0 };
            let t = Instant::now();
            let page = store.search_directory(&q, scope, 20, offset).await.unwrap();
            times.push(t.elapsed());
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
    if let Some(scratch) = ScratchDatabase::create("directory bench").await {
        measure("PostgreSQL", scratch.url()).await;
    }
}
