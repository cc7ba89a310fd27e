//! The delivery guarantee under failure: clients in shared groups send concurrently while
//! their connections are cut at random and the server is killed (SIGKILL) and restarted.
//! Afterwards every acknowledged message is present exactly once, in order, in every
//! member's history and live stream, and every resend was deduplicated. The same scenario
//! runs on one node and on two nodes sharing PostgreSQL and NATS, with the members of each
//! group spread over both (`two_nodes`): what is sent on one node reaches the other.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Api, Cluster, Storage, Ws, active_user};
use serde_json::{Value, json};
use tokio::sync::Mutex;

on_both_backends!(every_acknowledged_message_arrives_exactly_once_despite_cuts_and_a_kill);

async fn every_acknowledged_message_arrives_exactly_once_despite_cuts_and_a_kill(storage: Storage) {
    let cluster = Cluster::single(&storage);
    exactly_once(storage, cluster).await;
}

/// Two nodes on one PostgreSQL database and NATS: clients alternate between the nodes, and
/// the first node is killed and restarted while the second carries on.
mod two_nodes {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        let Some(storage) = super::Storage::postgres("delivery_two_nodes").await else {
            return;
        };
        let Some(nats) = crate::common::shared_nats() else {
            return;
        };
        let cluster = super::Cluster::start(&storage, &nats, 2, &[]);
        super::exactly_once(storage, cluster).await;
    }
}

const MESSAGES_PER_CLIENT: usize = 25;

/// A small deterministic random source, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn chance(&mut self, percent: u64) -> bool {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % 100 < percent
    }
}

/// What one client saw and had acknowledged.
#[derive(Default)]
struct Seen {
    /// Per conversation: seq → client_msg_id (None for non-message events).
    events: HashMap<String, BTreeMap<i64, Option<String>>>,
    /// Events delivered twice.
    duplicates: Vec<(String, i64)>,
    /// client_msg_id → (conversation, seq) as acknowledged.
    acked: HashMap<String, (String, i64)>,
    /// Connections lost (cut by the client or by the server's death) and re-established.
    reconnects: usize,
    /// Acks that said "this was a resend of a stored message".
    duplicate_acks: usize,
}

impl Seen {
    fn record(&mut self, event: &Value) {
        let conv = event["conversation_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let seq = event["seq"].as_i64().unwrap_or_default();
        let client_id = event["message"]["client_msg_id"]
            .as_str()
            .map(str::to_owned);
        let list = self.events.entry(conv.clone()).or_default();
        if list.insert(seq, client_id).is_some() {
            self.duplicates.push((conv, seq));
        }
    }

    fn positions(&self) -> Value {
        let map: serde_json::Map<String, Value> = self
            .events
            .iter()
            .map(|(conv, events)| {
                (
                    conv.clone(),
                    json!(events.keys().next_back().copied().unwrap_or(0)),
                )
            })
            .collect();
        Value::Object(map)
    }
}

/// Connects (retrying while the server is down), says hello with what it has, and records
/// the replay.
async fn connect(addr: &Mutex<String>, token: &str, seen: &mut Seen) -> Ws {
    loop {
        let at = addr.lock().await.clone();
        if let Some(mut ws) = Ws::open_at(&at).await {
            ws.send(json!({"type": "hello", "token": token, "positions": seen.positions()}))
                .await;
            let mut ok = false;
            while let Ok(frame) = ws.next_or_close().await {
                match frame["type"].as_str() {
                    Some("event") => seen.record(&frame["event"]),
                    Some("synced") => {
                        ok = true;
                        break;
                    }
                    _ => {}
                }
            }
            if ok {
                return ws;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn client(
    name: String,
    token: String,
    conversations: Vec<String>,
    addr: Arc<Mutex<String>>,
    acked_total: Arc<AtomicUsize>,
    seed: u64,
) -> Seen {
    let mut rng = Lcg(seed);
    let mut seen = Seen::default();
    let mut ws = connect(&addr, &token, &mut seen).await;
    let mut next = 0;
    while next < MESSAGES_PER_CLIENT {
        let client_id = format!("{name}-{next}");
        let conv = &conversations[next % conversations.len()];
        ws.send(json!({"type": "send", "conversation_id": conv, "client_msg_id": client_id, "body": format!("{name} #{next}")})).await;
        if rng.chance(10) {
            // Cut the connection right after sending, before the ack can arrive.
            drop(ws);
            seen.reconnects += 1;
            ws = connect(&addr, &token, &mut seen).await;
            continue;
        }
        let acked = loop {
            match ws.next_or_close().await {
                Ok(frame) if frame["type"] == "event" => seen.record(&frame["event"]),
                Ok(frame)
                    if frame["type"] == "ack" && frame["client_msg_id"] == client_id.as_str() =>
                {
                    seen.duplicate_acks += usize::from(frame["duplicate"] == true);
                    break Some(frame["seq"].as_i64().unwrap());
                }
                Ok(_) => {}
                Err(_) => break None,
            }
        };
        match acked {
            Some(seq) => {
                if let Some((_, earlier)) =
                    seen.acked.insert(client_id.clone(), (conv.clone(), seq))
                {
                    assert_eq!(earlier, seq, "a resend was acknowledged with another seq");
                }
                acked_total.fetch_add(1, Ordering::SeqCst);
                next += 1;
            }
            None => {
                seen.reconnects += 1;
                ws = connect(&addr, &token, &mut seen).await;
            }
        }
    }
    seen
}

/// The scenario on `cluster`: client `i` uses node `i % nodes`; node 0 is killed mid-run.
async fn exactly_once(storage: Storage, mut cluster: Cluster) {
    let server = cluster.node(0);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let mut people: Vec<(String, Api, String)> = Vec::new();
    for name in ["ana", "ben", "cho", "dai"] {
        let (api, user) = active_user(server, &admin, &org, name).await;
        people.push((
            name.to_owned(),
            api,
            user["id"].as_str().unwrap().to_owned(),
        ));
    }
    let group = |owner: &Api, members: Vec<&str>| {
        let owner = owner.clone();
        let members: Vec<String> = members.into_iter().map(str::to_owned).collect();
        async move {
            let (_, conv) = owner
                .post(
                    "/api/v1/conversations",
                    json!({"kind": "group", "title": "shared", "member_ids": members}),
                )
                .await;
            conv["id"].as_str().unwrap().to_owned()
        }
    };
    let first = group(&people[0].1, vec![&people[1].2, &people[2].2]).await;
    let second = group(&people[1].1, vec![&people[2].2, &people[3].2]).await;
    let memberships: HashMap<&str, Vec<String>> = HashMap::from([
        ("ana", vec![first.clone()]),
        ("ben", vec![first.clone(), second.clone()]),
        ("cho", vec![second.clone(), first.clone()]),
        ("dai", vec![second.clone()]),
    ]);

    let nodes = cluster.nodes.len();
    let addrs: Vec<Arc<Mutex<String>>> = (0..nodes)
        .map(|i| Arc::new(Mutex::new(cluster.addr(i))))
        .collect();
    let acked_total = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (i, (name, api, _)) in people.iter().enumerate() {
        tasks.push(tokio::spawn(client(
            name.clone(),
            api.token.clone().unwrap(),
            memberships[name.as_str()].clone(),
            addrs[i % nodes].clone(),
            acked_total.clone(),
            1000 + i as u64,
        )));
    }
    // Kill the first node once some messages are through, and restart it on the same port.
    while acked_total.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let acked_at_kill = acked_total.load(Ordering::SeqCst);
    cluster
        .kill_and_restart(&storage, 0, Duration::from_millis(300))
        .await;
    let mut results = HashMap::new();
    for (task, (name, _, _)) in tasks.into_iter().zip(&people) {
        results.insert(name.clone(), task.await.unwrap());
    }
    // Once everyone is done, each client reconnects once more to catch up on what the
    // others sent after its last frame.
    for (i, (name, api, _)) in people.iter().enumerate() {
        let seen = results.get_mut(name).unwrap();
        connect(&addrs[i % nodes], api.token.as_deref().unwrap(), seen).await;
    }
    assert_eq!(acked_total.load(Ordering::SeqCst), 4 * MESSAGES_PER_CLIENT);
    assert!(
        acked_at_kill < 4 * MESSAGES_PER_CLIENT,
        "the kill happened mid-run"
    );
    assert!(
        results.values().all(|s| s.reconnects > 0),
        "every client lost its connection at least once"
    );
    assert!(
        results.values().map(|s| s.duplicate_acks).sum::<usize>() > 0,
        "some resends were answered as duplicates"
    );

    // Every acknowledged message, with the seq it was acknowledged with.
    let mut acked: HashMap<String, (String, i64)> = HashMap::new();
    for seen in results.values() {
        acked.extend(seen.acked.clone());
    }
    assert_eq!(acked.len(), 4 * MESSAGES_PER_CLIENT);
    let viewer = &people[2].1; // cho is in both groups
    for conv in [&first, &second] {
        let (_, history) = viewer
            .get(&format!("/api/v1/conversations/{conv}/messages?limit=200"))
            .await;
        let stored: Vec<(String, i64)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["client_msg_id"].as_str().unwrap().to_owned(),
                    m["seq"].as_i64().unwrap(),
                )
            })
            .collect();
        let mut ids: Vec<&String> = stored.iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), stored.len(), "no message stored twice");
        for (id, (c, seq)) in &acked {
            if c == conv {
                assert!(
                    stored.contains(&(id.clone(), *seq)),
                    "acked {id} at {seq} is in the history"
                );
            }
        }
    }
    for (name, seen) in &results {
        assert!(
            seen.duplicates.is_empty(),
            "{name} received events twice: {:?}",
            seen.duplicates
        );
        for conv in &memberships[name.as_str()] {
            let events = &seen.events[conv];
            let first_seq = *events.keys().next().unwrap();
            let last_seq = *events.keys().next_back().unwrap();
            assert_eq!(
                events.len() as i64,
                last_seq - first_seq + 1,
                "{name} saw a gap in {conv}"
            );
            for (id, (c, seq)) in &acked {
                if c == conv {
                    assert_eq!(
                        events.get(seq),
                        Some(&Some(id.clone())),
                        "{name} saw {id} at {seq} in its stream"
                    );
                }
            }
        }
    }
    drop(cluster);
}
