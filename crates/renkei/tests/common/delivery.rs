//! The delivery guarantee as clients check it, shared by the delivery and chaos tests: four
//! members in two shared groups send with random cuts, resending what was not acknowledged;
//! then every acknowledged message must be in the history once and in every member's stream
//! once, in order and without a gap.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{Api, Server, Ws, active_user};

/// A small deterministic random source, so a failure can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn chance(&mut self, percent: u64) -> bool {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % 100 < percent
    }
}

/// What one client saw and had acknowledged.
#[derive(Default)]
pub struct Seen {
    /// Per conversation: seq → client_msg_id (None for non-message events).
    pub events: HashMap<String, BTreeMap<i64, Option<String>>>,
    /// Events delivered twice.
    pub duplicates: Vec<(String, i64)>,
    /// client_msg_id → (conversation, seq) as acknowledged.
    pub acked: HashMap<String, (String, i64)>,
    /// Connections lost (cut by the client or by the server's death) and re-established.
    pub reconnects: usize,
    /// Acks that said "this was a resend of a stored message".
    pub duplicate_acks: usize,
}

impl Seen {
    pub fn record(&mut self, event: &Value) {
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

    pub fn positions(&self) -> Value {
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
pub async fn connect(addr: &Mutex<String>, token: &str, seen: &mut Seen) -> Ws {
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

/// How long a client sends: `messages` at most, `pause` between an ack and the next send,
/// and no more once `stop` is set (after its last message was acknowledged).
#[derive(Clone)]
pub struct Plan {
    pub messages: usize,
    pub pause: Duration,
    pub stop: Arc<AtomicBool>,
}

impl Plan {
    /// `messages` back to back.
    pub fn messages(messages: usize) -> Plan {
        Plan {
            messages,
            pause: Duration::ZERO,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// A member sending in `conversations` in turn through `addr` (which may change, e.g. to a
/// restarted server), cutting its own connection after one send in ten (seeded by `seed`)
/// and resending what was not acknowledged; returns what it saw.
pub async fn client(
    name: String,
    token: String,
    conversations: Vec<String>,
    addr: Arc<Mutex<String>>,
    acked_total: Arc<AtomicUsize>,
    seed: u64,
    plan: Plan,
) -> Seen {
    let mut rng = Lcg(seed);
    let mut seen = Seen::default();
    let mut ws = connect(&addr, &token, &mut seen).await;
    let mut next = 0;
    while next < plan.messages {
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
                if plan.stop.load(Ordering::SeqCst) {
                    break;
                }
                tokio::time::sleep(plan.pause).await;
            }
            None => {
                seen.reconnects += 1;
                ws = connect(&addr, &token, &mut seen).await;
            }
        }
    }
    seen
}

/// Four members (ana, ben, cho, dai) and two groups: ana, ben and cho in the first; ben, cho
/// and dai in the second.
pub struct Crew {
    /// Name, session, user id.
    pub people: Vec<(String, Api, String)>,
    pub first: String,
    pub second: String,
    /// Each member's groups, in the order the member sends in them.
    pub memberships: HashMap<String, Vec<String>>,
}

impl Crew {
    /// Creates the members on `server` (signed in there) and their groups.
    pub async fn create(server: &Server, admin: &Api) -> Crew {
        let org = admin.org_id().await;
        let mut people: Vec<(String, Api, String)> = Vec::new();
        for name in ["ana", "ben", "cho", "dai"] {
            let (api, user) = active_user(server, admin, &org, name).await;
            people.push((
                name.to_owned(),
                api,
                user["id"].as_str().unwrap().to_owned(),
            ));
        }
        let first = group(&people[0].1, &[&people[1].2, &people[2].2]).await;
        let second = group(&people[1].1, &[&people[2].2, &people[3].2]).await;
        let memberships = HashMap::from([
            ("ana".to_owned(), vec![first.clone()]),
            ("ben".to_owned(), vec![first.clone(), second.clone()]),
            ("cho".to_owned(), vec![second.clone(), first.clone()]),
            ("dai".to_owned(), vec![second.clone()]),
        ]);
        Crew {
            people,
            first,
            second,
            memberships,
        }
    }

    /// Starts every member's [`client`], member `i` through `addrs[i % addrs.len()]`.
    pub fn send(
        &self,
        addrs: &[Arc<Mutex<String>>],
        acked_total: &Arc<AtomicUsize>,
        plan: &Plan,
    ) -> Vec<tokio::task::JoinHandle<Seen>> {
        self.people
            .iter()
            .enumerate()
            .map(|(i, (name, api, _))| {
                tokio::spawn(client(
                    name.clone(),
                    api.token.clone().unwrap(),
                    self.memberships[name].clone(),
                    addrs[i % addrs.len()].clone(),
                    acked_total.clone(),
                    1000 + i as u64,
                    plan.clone(),
                ))
            })
            .collect()
    }

    /// Waits for the clients, then has each reconnect once more to catch up on what the others
    /// sent after its last frame; what each saw, by name.
    pub async fn finish(
        &self,
        tasks: Vec<tokio::task::JoinHandle<Seen>>,
        addrs: &[Arc<Mutex<String>>],
    ) -> HashMap<String, Seen> {
        let mut results = HashMap::new();
        for (task, (name, _, _)) in tasks.into_iter().zip(&self.people) {
            results.insert(name.clone(), task.await.unwrap());
        }
        for (i, (name, api, _)) in self.people.iter().enumerate() {
            let seen = results.get_mut(name).unwrap();
            connect(&addrs[i % addrs.len()], api.token.as_deref().unwrap(), seen).await;
        }
        results
    }

    /// Asserts that every acknowledged message is in `viewer`'s history of its group exactly
    /// once with the seq it was acknowledged with, and in every member's stream (`results`)
    /// exactly once, in order, without a gap.
    pub async fn assert_delivered(&self, results: &HashMap<String, Seen>, viewer: &Api) {
        let acked = acknowledged(results.values());
        for conv in [&self.first, &self.second] {
            assert_in_history(viewer, conv, &acked).await;
        }
        for (name, seen) in results {
            assert_in_stream(name, seen, &self.memberships[name], &acked);
        }
    }
}

/// A group of `owner` with `members`.
async fn group(owner: &Api, members: &[&String]) -> String {
    let (_, conv) = owner
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "title": "shared", "member_ids": members}),
        )
        .await;
    conv["id"].as_str().unwrap().to_owned()
}

/// Every acknowledged message, with the conversation and seq it was acknowledged with.
pub fn acknowledged<'a>(seen: impl Iterator<Item = &'a Seen>) -> HashMap<String, (String, i64)> {
    let mut acked = HashMap::new();
    for one in seen {
        acked.extend(one.acked.clone());
    }
    acked
}

/// Asserts each message of `acked` in `conv` is in its history once, at its seq.
pub async fn assert_in_history(viewer: &Api, conv: &str, acked: &HashMap<String, (String, i64)>) {
    let (_, history) = viewer
        .get(&format!("/api/v1/conversations/{conv}/messages?limit=200"))
        .await;
    let stored: Vec<(String, i64)> = history
        .as_array()
        .unwrap_or_else(|| panic!("a history: {history}"))
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
    for (id, (c, seq)) in acked {
        if c == conv {
            assert!(
                stored.contains(&(id.clone(), *seq)),
                "acked {id} at {seq} is in the history"
            );
        }
    }
}

/// Asserts `name`'s stream `seen` holds nothing twice and, in each of `conversations`, no gap
/// and every message of `acked` at its seq.
pub fn assert_in_stream(
    name: &str,
    seen: &Seen,
    conversations: &[String],
    acked: &HashMap<String, (String, i64)>,
) {
    assert!(
        seen.duplicates.is_empty(),
        "{name} received events twice: {:?}",
        seen.duplicates
    );
    for conv in conversations {
        let events = &seen.events[conv];
        let first_seq = *events.keys().next().unwrap();
        let last_seq = *events.keys().next_back().unwrap();
        assert_eq!(
            events.len() as i64,
            last_seq - first_seq + 1,
            "{name} saw a gap in {conv}"
        );
        for (id, (c, seq)) in acked {
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
