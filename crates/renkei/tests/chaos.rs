//! The chaos test of several nodes: three `renkei serve` on PostgreSQL, an S3 server (moto)
//! and a NATS server of the test's own, behind HAProxy run with `deploy/haproxy.cfg`. Four
//! members send in shared groups through HAProxy with random cuts while the test kills a node
//! (SIGKILL), restarts NATS, and cuts another node off NATS for 10 s. Afterwards every
//! acknowledged message is in the history once and in every member's stream once, in order and
//! without a gap, also on sockets that stayed open on the surviving nodes (which catch up from
//! the store, not from a reconnection); a photo uploaded to the killed node is served by the
//! others; the expiry sweep ran on one node at a time and another took over from the killed
//! one; and an urgent message's re-alert was sent once.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use common::delivery::{Crew, Plan, Seen, acknowledged, assert_in_history, assert_in_stream};
use common::lb::{download, have_haproxy, node_env, s3_url, through, upload};
use common::link::Link;
use common::{Api, Cluster, NatsServer, Storage, Ws, active_user};
use renkei_push_standin::{StandIn, Subscriber};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::Mutex;

const NODES: usize = 3;
const METRICS_TOKEN: &str = "chaos-metrics-token";
/// The run-once job whose leadership the test follows (every second, see `media_sweep_seconds`).
const SWEEP: &str = "expiry_sweep";
/// How long one node is cut off NATS.
const PARTITION: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_lose_nothing_when_a_node_nats_and_a_link_fail() {
    if !have_haproxy() || s3_url().is_none() {
        return;
    }
    let Some(storage) = Storage::postgres("chaos").await else {
        return;
    };
    let Some(mut nats) = NatsServer::start() else {
        return;
    };
    // Each node reaches NATS through a link of its own, which the test can cut.
    let mut links = Vec::new();
    for _ in 0..NODES {
        links.push(Link::start(nats.port).await);
    }
    let standin = StandIn::start().await.unwrap();
    let mut env = node_env(&format!("chaos-{}", renkei_core::new_id()));
    env.extend(
        [
            ("RENKEI_METRICS_TOKEN", METRICS_TOKEN),
            ("RENKEI_MEDIA_SWEEP_SECONDS", "1"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let allow = format!(r#"["{}"]"#, standin.host_port());
    env.push(("RENKEI_PUSH_ENDPOINT_ALLOW".to_owned(), allow));
    let urls: Vec<String> = links.iter().map(Link::nats_url).collect();
    let mut cluster = Cluster::start_each(&storage, &urls, &env);
    let nodes: Vec<&common::Server> = cluster.nodes.iter().collect();
    let lb = common::lb::in_front_of(&nodes, storage.dir.path()).await;

    // Who does what: the node leading the sweep is killed, the next one is cut off NATS,
    // the last ("calm") posts what the others must learn of through NATS or the store.
    let addrs: Vec<String> = (0..NODES).map(|i| cluster.addr(i)).collect();
    let killed = sweep_leader(&addrs).await;
    let (cut, calm) = ((killed + 1) % NODES, (killed + 2) % NODES);
    let sampler = Sampler::start(addrs.clone());

    // The first node to start printed the first administrator's password.
    cluster.node(0).first_admin().await;
    let admin = cluster
        .node(calm)
        .login("admin", common::ADMIN_PASSWORD)
        .await;
    let org = admin.org_id().await;
    let crew = Crew::create(cluster.node(calm), &admin).await;
    let ana = crew.people[0].1.clone();
    let members: Vec<&String> = crew.people[1..].iter().map(|(_, _, id)| id).collect();
    let (status, probe) = ana
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "probe", "member_ids": members}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{probe}");
    let probe = probe["id"].as_str().unwrap().to_owned();

    // Re-alerts every 30 s (the shortest a policy allows), one at most, no escalation.
    let (_, current) = admin.get(&format!("/api/v1/orgs/{org}")).await;
    let mut policy = current["policy"].clone();
    policy["urgent_realert_seconds"] = json!(30);
    policy["urgent_realert_max"] = json!(1);
    policy["urgent_escalate_after_seconds"] = json!(86_400);
    let (status, saved) = admin
        .patch(
            &format!("/api/v1/orgs/{org}"),
            json!({"policy": policy}),
            current["version"].as_i64(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (gen_api, gen_user) = active_user(cluster.node(calm), &admin, &org, "gen").await;
    let phone = Subscriber::new();
    let endpoint = phone.endpoint(&standin);
    let key = gen_api.get("/api/v1/push/config").await.1["vapid_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    standin.expect_vapid_key(&key);
    let (status, body) = gen_api
        .post("/api/v1/push/subscriptions", phone.subscription_json())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // A photo uploaded to the node about to be killed.
    let on_killed = cluster
        .node(killed)
        .login("admin", common::ADMIN_PASSWORD)
        .await;
    let photo = upload(&on_killed, "wound.jpg", "image/jpeg", jpeg()).await;
    let photo_id = photo["id"].as_str().unwrap().to_owned();
    let (status, photo_bytes) = download(&on_killed, &photo_id).await;
    assert_eq!(status, StatusCode::OK);

    // Sockets that stay open on the two surviving nodes, one per member on each: they must
    // learn of everything live, through NATS or from the store when hints were lost.
    let mut watchers = Vec::new();
    for node in [cut, calm] {
        for (name, api, _) in &crew.people {
            let (ws, _) =
                Ws::connect(cluster.node(node), api.token.as_deref().unwrap(), None).await;
            let mut conversations = crew.memberships[name].clone();
            conversations.push(probe.clone());
            watchers.push(Watcher::start(
                format!("{name}@node{node}"),
                conversations,
                ws,
            ));
        }
    }

    // The urgent message, on the calm node: its first alert at once.
    let (status, direct) = ana
        .post(
            "/api/v1/conversations",
            json!({"kind": "direct", "member_ids": [gen_user["id"]]}),
        )
        .await;
    assert!(status.is_success(), "{direct}");
    let direct = direct["id"].as_str().unwrap().to_owned();
    let urgent = json!({"client_msg_id": "urgent-1", "body": "call ICU", "priority": "urgent"});
    let (status, body) = ana
        .post(&format!("/api/v1/conversations/{direct}/messages"), urgent)
        .await;
    assert!(status.is_success(), "{body}");
    standin
        .wait_for(&endpoint, 1, Duration::from_secs(10))
        .await
        .expect("the urgent message's first alert");

    // The members send through HAProxy, with random cuts, until told to stop.
    let through_lb = Arc::new(Mutex::new(lb.http.clone()));
    let acked_total = Arc::new(AtomicUsize::new(0));
    let plan = Plan {
        messages: 1_000,
        pause: Duration::from_millis(100),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let tasks = crew.send(std::slice::from_ref(&through_lb), &acked_total, &plan);
    let mut probes: HashMap<String, (String, i64)> = HashMap::new();

    // 1. SIGKILL the sweep's leader while it holds some of the members' sockets.
    until_acked(&acked_total, 20).await;
    let server_name = format!("renkei{}", killed + 1);
    let mut holding = 0;
    for _ in 0..50 {
        holding = sessions_of(&lb, &server_name);
        if holding > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(holding > 0, "the killed node held sockets of the members");
    sampler.until_ran(killed).await;
    let acked_at_kill = acked_total.load(Ordering::SeqCst);
    cluster.nodes[killed].kill();
    let mut states = vec![("renkei1", "UP"), ("renkei2", "UP"), ("renkei3", "UP")];
    states[killed].1 = "DOWN";
    lb.until("renkei_http", &states).await;

    // 2. Restart NATS: a message posted meanwhile reaches the other nodes' sockets once it is
    // back (their hints were lost), with no new message in that conversation to carry it.
    until_acked(&acked_total, acked_at_kill + 20).await;
    let acked_at_restart = acked_total.load(Ordering::SeqCst);
    nats.kill();
    probes.extend([post(&ana, &probe, "probe-nats-down").await]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(nats.resume());
    until_delivered(&watchers, &probe, &probes, Duration::from_secs(20)).await;

    // 3. Cut one node off NATS for 10 s; the members stop sending during the cut, so nothing
    // after it carries what was missed.
    links[cut].cut();
    let cut_at = tokio::time::Instant::now();
    probes.extend([post(&ana, &probe, "probe-cut-off").await]);
    tokio::time::sleep(PARTITION / 2).await;
    plan.stop.store(true, Ordering::SeqCst);
    let mut results = HashMap::new();
    for (task, (name, _, _)) in tasks.into_iter().zip(&crew.people) {
        results.insert(name.clone(), task.await.unwrap());
    }
    let acked_at_stop = acked_total.load(Ordering::SeqCst);
    assert!(
        cut_at.elapsed() < PARTITION,
        "the members stopped sending during the cut"
    );
    tokio::time::sleep(PARTITION.saturating_sub(cut_at.elapsed())).await;
    links[cut].heal();

    // Every acknowledged message reaches the sockets that stayed open, once, in order.
    let mut acked = acknowledged(results.values());
    acked.extend(probes.clone());
    for conv in [&crew.first, &crew.second, &probe] {
        until_delivered(&watchers, conv, &acked, Duration::from_secs(30)).await;
    }
    for watcher in &watchers {
        assert!(
            !watcher.dropped.load(Ordering::SeqCst),
            "{}'s socket stayed open",
            watcher.label
        );
        let seen = watcher.seen.lock().unwrap();
        assert_in_stream(&watcher.label, &seen, &watcher.conversations, &acked);
    }
    assert!(
        acked_at_kill < acked_at_restart && acked_at_restart < acked_at_stop,
        "the kill and the restart happened mid-run"
    );
    eprintln!(
        "chaos: node {killed} killed after {acked_at_kill} acks ({holding} sockets on it), \
         NATS restarted after {acked_at_restart}, node {cut} cut off NATS, {acked_at_stop} acked"
    );

    // The members' own streams (reconnecting through HAProxy to catch up) and the history.
    for (name, api, _) in &crew.people {
        let seen = results.get_mut(name).unwrap();
        common::delivery::connect(&through_lb, api.token.as_deref().unwrap(), seen).await;
    }
    assert!(
        results.values().all(|s| s.reconnects > 0),
        "every member lost its connection at least once"
    );
    eprintln!(
        "chaos: {} reconnects, {} resends answered as duplicates",
        results.values().map(|s| s.reconnects).sum::<usize>(),
        results.values().map(|s| s.duplicate_acks).sum::<usize>()
    );
    let viewer = through(&lb.http, &crew.people[2].1);
    crew.assert_delivered(&results, &viewer).await;
    assert_in_history(&viewer, &probe, &probes).await;

    // The photo uploaded to the killed node is served by the others, through HAProxy too.
    for api in [
        through(&lb.http, &admin),
        admin.clone(),
        Api {
            base: cluster.node(cut).base.clone(),
            ..admin.clone()
        },
    ] {
        assert_eq!(
            download(&api, &photo_id).await,
            (StatusCode::OK, photo_bytes.clone()),
            "the photo through {}",
            api.base
        );
    }

    // The sweep ran on one node at a time, and a survivor took it over from the killed one.
    let samples = sampler.stop();
    assert_sweep_ran_once(&samples, killed);

    // The re-alert (30 s after the message) was sent once, by whichever node claimed it.
    standin
        .wait_for(&endpoint, 2, Duration::from_secs(60))
        .await
        .expect("the re-alert");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let kinds: Vec<String> = standin
        .received(&endpoint)
        .iter()
        .map(|r| {
            r.json
                .as_ref()
                .and_then(|j| j["kind"].as_str())
                .unwrap_or("?")
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["urgent", "realert"], "one alert, then one re-alert");
    assert!(
        standin.rejections().is_empty(),
        "{:?}",
        standin.rejections()
    );
    drop(watchers);
}

/// A small JPEG photo.
fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut out),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    out
}

/// Posts `client_id` to `conv` over HTTP: (client_msg_id, (conversation, seq)).
async fn post(api: &Api, conv: &str, client_id: &str) -> (String, (String, i64)) {
    let (status, body) = api
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"client_msg_id": client_id, "body": client_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let seq = body["seq"]
        .as_i64()
        .unwrap_or_else(|| panic!("a seq: {body}"));
    (client_id.to_owned(), (conv.to_owned(), seq))
}

/// Waits (at most 60 s) until `n` messages were acknowledged in all.
async fn until_acked(total: &AtomicUsize, n: usize) {
    for _ in 0..600 {
        if total.load(Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} messages acknowledged within 60 s");
}

/// The connections HAProxy's `server` holds now in the HTTP backend.
fn sessions_of(lb: &common::lb::Haproxy, server: &str) -> u64 {
    lb.sessions("renkei_http")
        .into_iter()
        .find(|(s, _)| s == server)
        .map_or(0, |(_, n)| n)
}

/// A socket that stays open and records every event it is sent.
struct Watcher {
    label: String,
    /// The conversations of its member that the test checks.
    conversations: Vec<String>,
    seen: Arc<StdMutex<Seen>>,
    dropped: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Watcher {
    fn start(label: String, conversations: Vec<String>, mut ws: Ws) -> Watcher {
        let seen = Arc::new(StdMutex::new(Seen::default()));
        let dropped = Arc::new(AtomicBool::new(false));
        let (into, lost) = (seen.clone(), dropped.clone());
        let task = tokio::spawn(async move {
            loop {
                match ws.next_or_close().await {
                    Ok(frame) if frame["type"] == "event" => {
                        into.lock().unwrap().record(&frame["event"]);
                    }
                    Ok(_) => {}
                    // Quiet for 5 s: still open.
                    Err(closed) if closed.0 == 0 => {}
                    Err(_) => {
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            }
        });
        Watcher {
            label,
            conversations,
            seen,
            dropped,
            task,
        }
    }

    /// Whether it saw every message of `acked` in `conv` at its seq.
    fn holds(&self, conv: &str, acked: &HashMap<String, (String, i64)>) -> bool {
        let seen = self.seen.lock().unwrap();
        acked
            .iter()
            .filter(|(_, (c, _))| c == conv)
            .all(|(id, (c, seq))| {
                seen.events
                    .get(c)
                    .and_then(|events| events.get(seq))
                    .is_some_and(|got| got.as_deref() == Some(id.as_str()))
            })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits (at most `within`) until every watcher of a member of `conv` saw each message of
/// `acked` in it; panics naming the ones that did not.
async fn until_delivered(
    watchers: &[Watcher],
    conv: &str,
    acked: &HashMap<String, (String, i64)>,
    within: Duration,
) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let behind: Vec<&str> = watchers
            .iter()
            .filter(|w| w.conversations.iter().any(|c| c == conv) && !w.holds(conv, acked))
            .map(|w| w.label.as_str())
            .collect();
        if behind.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{behind:?} did not receive every message of {conv} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What each node's `/metrics` said of the sweep at one moment: (leading, runs) per node,
/// `None` for a node that did not answer.
type Sample = Vec<Option<(bool, u64)>>;

/// Reads every node's sweep metrics twice a second until stopped.
struct Sampler {
    samples: Arc<StdMutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(addrs: Vec<String>) -> Sampler {
        let samples = Arc::new(StdMutex::new(Vec::new()));
        let into = samples.clone();
        let task = tokio::spawn(async move {
            loop {
                let mut sample = Vec::new();
                for addr in &addrs {
                    sample.push(sweep_metrics(addr).await);
                }
                into.lock().unwrap().push(sample);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        });
        Sampler { samples, task }
    }

    /// Waits (at most 20 s) until `node` was seen running the sweep.
    async fn until_ran(&self, node: usize) {
        for _ in 0..200 {
            let runs = |s: &Sample| s[node].map(|(_, runs)| runs);
            let ran = {
                let samples = self.samples.lock().unwrap();
                samples.windows(2).any(|p| runs(&p[1]) > runs(&p[0]))
            };
            if ran {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("node {node} was not seen running the sweep within 20 s");
    }

    fn stop(self) -> Vec<Sample> {
        self.task.abort();
        self.samples.lock().unwrap().clone()
    }
}

/// `(leading, runs)` of the sweep on the node at `addr`, `None` when it does not answer.
async fn sweep_metrics(addr: &str) -> Option<(bool, u64)> {
    let response = reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?;
    let text = response.text().await.ok()?;
    let value = |name: &str| {
        let prefix = format!("{name}{{job=\"{SWEEP}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Some((
        value("renkei_job_leader") == 1.0,
        value("renkei_job_runs_total") as u64,
    ))
}

/// The node leading the sweep, once one does (at most 30 s).
async fn sweep_leader(addrs: &[String]) -> usize {
    for _ in 0..60 {
        let mut leaders = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            if sweep_metrics(addr)
                .await
                .is_some_and(|(leading, _)| leading)
            {
                leaders.push(i);
            }
        }
        assert!(leaders.len() <= 1, "two nodes lead the sweep: {leaders:?}");
        if let [leader] = leaders[..] {
            return leader;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("no node took the sweep within 30 s");
}

/// At every moment at most one node led the sweep, and between two looks at most one node
/// ran it; `killed` ran it before it was killed, and a survivor ran it after.
fn assert_sweep_ran_once(samples: &[Sample], killed: usize) {
    assert!(samples.len() > 10, "the sweep was watched: {samples:?}");
    for sample in samples {
        let leaders = sample
            .iter()
            .flatten()
            .filter(|(leading, _)| *leading)
            .count();
        assert!(leaders <= 1, "two nodes led the sweep at once: {sample:?}");
    }
    let mut ran_before_kill = false;
    let mut taken_over = false;
    for pair in samples.windows(2) {
        let ran: Vec<usize> = (0..pair[0].len())
            .filter(|&i| match (pair[0][i], pair[1][i]) {
                (Some((_, before)), Some((_, after))) => after > before,
                _ => false,
            })
            .collect();
        assert!(
            ran.len() <= 1,
            "nodes {ran:?} ran the sweep between two looks"
        );
        ran_before_kill |= ran == [killed];
        taken_over |= pair[1][killed].is_none() && ran.iter().any(|&i| i != killed);
    }
    assert!(
        ran_before_kill,
        "the leader ran the sweep before it was killed"
    );
    assert!(taken_over, "another node took the sweep over: {samples:?}");
}
