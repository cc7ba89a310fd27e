//! Generated regional directories for the directory tests and benchmark: Japanese names
//! (40 family × 25 given names) with kana, romaji, e-mail, phone, profession and department.

use std::time::Instant;

use renkei_core::kana::to_romaji;
use sqlx::AnyPool;

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

/// A small deterministic generator, so every run writes the same people.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

/// Writes `orgs` hospitals of 12 departments and `users` users spread over them straight into
/// the database at `url` (migrated), the first hospital with directory agreements with every
/// other one. Returns the hospitals' ids and the seconds it took.
pub async fn generate(url: &str, orgs_n: usize, users: usize) -> (Vec<String>, f64) {
    let started = Instant::now();
    let pool = AnyPool::connect(url).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let mut orgs = Vec::new();
    let mut departments = Vec::new();
    for i in 0..orgs_n {
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
    for start in (0..users).step_by(BATCH) {
        let mut sql = String::from(
            "INSERT INTO users (id, org_id, login, display_name, kana, romaji, profession,
             department_id, email, phone, roles, status, must_change_password, version,
             created_at, updated_at) VALUES ",
        );
        let mut rows = Vec::new();
        for n in start..(start + BATCH).min(users) {
            let (fk, fr) = FAMILY[rng.next(FAMILY.len())];
            let (gk, gr) = GIVEN[rng.next(GIVEN.len())];
            let org = n % orgs_n;
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
