//! The delivery guarantee under failure: clients in shared groups send concurrently while
//! their connections are cut at random and the server is killed (SIGKILL) and restarted.
//! Afterwards every acknowledged message is present exactly once, in order, in every
//! member's history and live stream, and every resend was deduplicated. The same scenario
//! runs on one node and on two nodes sharing PostgreSQL and NATS, with the members of each
//! group spread over both (`two_nodes`): what is sent on one node reaches the other.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::delivery::{Crew, Plan, acknowledged};
use common::{Cluster, Storage};
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

/// The scenario on `cluster`: client `i` uses node `i % nodes`; node 0 is killed mid-run.
async fn exactly_once(storage: Storage, mut cluster: Cluster) {
    let server = cluster.node(0);
    let admin = server.first_admin().await;
    let crew = Crew::create(server, &admin).await;
    let nodes = cluster.nodes.len();
    let addrs: Vec<Arc<Mutex<String>>> = (0..nodes)
        .map(|i| Arc::new(Mutex::new(cluster.addr(i))))
        .collect();
    let acked_total = Arc::new(AtomicUsize::new(0));
    let tasks = crew.send(&addrs, &acked_total, &Plan::messages(MESSAGES_PER_CLIENT));
    // Kill the first node once some messages are through, and restart it on the same port.
    while acked_total.load(Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let acked_at_kill = acked_total.load(Ordering::SeqCst);
    cluster
        .kill_and_restart(&storage, 0, Duration::from_millis(300))
        .await;
    let results = crew.finish(tasks, &addrs).await;
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
    assert_eq!(
        acknowledged(results.values()).len(),
        4 * MESSAGES_PER_CLIENT
    );
    let viewer = &crew.people[2].1; // cho is in both groups
    crew.assert_delivered(&results, viewer).await;
    drop(cluster);
}
