//! Message posting and search on a ward's worth of history: 100,000 messages (Japanese and
//! English clinical chat) in 100 group conversations, posted in batches of 200 as the group
//! commit does, then 1,000 searches by a member of every conversation. A measurement, not a
//! test: `bench/message-search.sh` runs it (ignored otherwise), on this tree and on an older
//! one (it uses only `post_batch` and `search_messages`, which every release has), and the
//! figures go to `docs/BENCHMARKS.md` ("Message search").

use std::time::{Duration, Instant};

use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Conversation, ConversationKind, MemberRole, NewMessage, Priority};
use renkei_core::org::NewOrganization;
use renkei_core::user::{Applicant, NewUser, Profession};
use renkei_store::scratch::ScratchDatabase;
use renkei_store::{Post, Store};

const CONVERSATIONS: usize = 100;
const MEMBERS: usize = 10;
const MESSAGES: usize = 100_000;
const BATCH: usize = 200;
/// Searches measured; `RENKEI_BENCH_SEARCHES` sets another count.
const SEARCHES: usize = 1_000;

/// What the bodies are made of.
const PHRASES: &[&str] = &[
    "急性心筋梗塞の患者が搬送されます",
    "血圧 92/60、脈拍 110",
    "CT撮影をお願いします",
    "ケッカは明日です",
    "しんでんずを送ります",
    "Cardiology consult at 03:00",
    "ヘパリン 5000単位 静注",
    "MRI予約済み",
    "脳梗塞の疑いあり",
    "please call back when free",
    "退院調整カンファレンス",
    "採血結果: Hb 8.2",
    "ICUのベッド空きあり",
    "点滴ルート確保済み",
    "family meeting at 14:00",
    "内視鏡は午後に変更",
];

/// What people search for: kanji, kana either script, romaji, English, one character, none.
const QUERIES: &[&str] = &[
    "心筋梗塞",
    "心",
    "搬送",
    "けっか",
    "ケッカ",
    "kekka",
    "cardio",
    "MRI",
    "ヘパリン",
    "5000",
    "脳梗塞",
    "call back",
    "カンファレンス",
    "Hb",
    "ICU",
    "存在しない語句",
];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn setup(action: &'static str) -> AuditEvent {
    AuditEvent::new(action, None, None, "bench", None)
}

/// A deterministic body: two phrases and a number, from `n`.
fn body(n: usize) -> String {
    let a = PHRASES[n % PHRASES.len()];
    let b = PHRASES[(n * 7 + 3) % PHRASES.len()];
    format!("{a}。{b} #{}", n * 2_654_435_761 % 100_000)
}

async fn measure(backend: &str, url: &str) {
    let store = Store::connect(url).await.unwrap();
    let org = NewOrganization {
        name: "Bench Hospital".into(),
        slug: Some("bench".into()),
        kind: None,
    }
    .build(Timestamp::now())
    .unwrap();
    store.insert_org(&org, &setup("org.create")).await.unwrap();
    let mut users = Vec::new();
    for i in 0..CONVERSATIONS + MEMBERS {
        let user = NewUser::from(Applicant {
            login: format!("user{i}"),
            display_name: format!("利用者 {i}"),
            kana: "りようしゃ".into(),
            romaji: None,
            profession: Profession::Nurse,
            department_id: None,
            email: None,
            phone: None,
            password: "a long bench password".into(),
        })
        .build(org.id, Timestamp::now())
        .unwrap();
        store
            .insert_user(&user, "$argon2id$bench", &setup("user.create"))
            .await
            .unwrap();
        users.push(user);
    }
    // users[0] is in every conversation; each has MEMBERS members.
    let mut conversations = Vec::new();
    for c in 0..CONVERSATIONS {
        let conv = Conversation {
            id: renkei_core::new_id(),
            org_id: org.id,
            kind: ConversationKind::Group,
            title: Some(format!("病棟 {c}")),
            created_by: Some(users[0].id),
            last_seq: 0,
            retention_days: None,
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        };
        let members: Vec<_> = std::iter::once(0)
            .chain((1..MEMBERS).map(|m| 1 + (c + m) % (CONVERSATIONS + MEMBERS - 1)))
            .map(|i| (users[i].id, MemberRole::Member))
            .collect();
        store
            .create_conversation(&conv, None, &members, None)
            .await
            .unwrap();
        conversations.push((conv.id, members));
    }
    let started = Instant::now();
    let mut commits = Vec::new();
    for start in (0..MESSAGES).step_by(BATCH) {
        let batch: Vec<Post> = (start..start + BATCH)
            .map(|n| {
                let (conversation, members) = &conversations[n % CONVERSATIONS];
                Post {
                    conversation_id: *conversation,
                    sender_id: members[n % MEMBERS].0,
                    message: NewMessage {
                        client_msg_id: format!("m{n}"),
                        body: body(n),
                        reply_to: None,
                        priority: Priority::Normal,
                        mentions: vec![],
                        attachments: vec![],
                    },
                }
            })
            .collect();
        let t = Instant::now();
        store.post_batch(&batch).await.unwrap();
        commits.push(t.elapsed());
    }
    let posting = started.elapsed().as_secs_f64();
    commits.sort();
    println!(
        "{backend}: posted {MESSAGES} messages in batches of {BATCH} in {posting:.1} s \
         ({:.0} msg/s); batch commit p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        MESSAGES as f64 / posting,
        percentile(&commits, 0.50),
        percentile(&commits, 0.99),
        percentile(&commits, 1.0)
    );
    let me = users[0].id;
    for q in QUERIES {
        store.search_messages(me, q, 30).await.unwrap();
    }
    let searches: usize = std::env::var("RENKEI_BENCH_SEARCHES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(SEARCHES);
    let mut times = Vec::with_capacity(searches);
    let mut by_query = vec![Duration::ZERO; QUERIES.len()];
    let mut found = 0usize;
    for i in 0..searches {
        let q = QUERIES[i % QUERIES.len()];
        let t = Instant::now();
        found += store.search_messages(me, q, 30).await.unwrap().len();
        times.push(t.elapsed());
        by_query[i % QUERIES.len()] = by_query[i % QUERIES.len()].max(t.elapsed());
    }
    times.sort();
    println!(
        "{backend}: {searches} searches over {MESSAGES} messages, p50 {:.1} ms, p95 {:.1} ms, \
         p99 {:.1} ms, max {:.1} ms ({} results on average, at most 30)",
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
        found / searches
    );
    let mut slowest: Vec<(Duration, &str)> =
        by_query.into_iter().zip(QUERIES.iter().copied()).collect();
    slowest.sort_by(|a, b| b.cmp(a));
    let slowest: Vec<String> = slowest[..5]
        .iter()
        .map(|(t, q)| format!("{q:?} {:.1} ms", t.as_secs_f64() * 1000.0))
        .collect();
    println!("{backend}: slowest queries (max): {}", slowest.join(", "));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run bench/message-search.sh"]
async fn message_posting_and_search() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    measure("SQLite", &url).await;
    if let Some(scratch) = ScratchDatabase::create("message search bench").await {
        measure("PostgreSQL", scratch.url()).await;
    }
}
