//! Several nodes over one PostgreSQL database and one shared object store (S3 when
//! `RENKEI_TEST_S3_URL` is set): background work runs on one node at a time and another takes
//! over when it goes; the expiry sweep destroys keys and objects once; an instance received
//! on two nodes at the same moment is stored once and both senders are answered success.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::World;
use futures_util::StreamExt;
use object_store::ObjectStore;
use renkei_core::clock::Timestamp;
use renkei_service::Services;
use renkei_service::dicom::IngestSource;
use renkei_service::run_once;
use renkei_store::Store;
use renkei_store::leadership::{Job, Leadership};

/// Connections that hold `job`'s lock are ended, as PostgreSQL ends those of a node it lost
/// (keepalives unanswered); waits until they are gone.
async fn cut_the_leaders_connection(url: &str, job: Job) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks
         WHERE locktype = 'advisory' AND granted
           AND ((classid::bigint << 32) | objid::bigint) = $1",
    )
    .bind(job.lock_key())
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(ended, [true], "one connection held the lock");
    pool.close().await;
}

/// Waits (at most 10 s) until `leadership` leads.
async fn until_it_leads(leadership: &mut Leadership) {
    for _ in 0..100 {
        if leadership.lead().await.unwrap_or(false) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{:?} was never taken over", leadership.job());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_leads_each_job_and_another_takes_over_when_it_goes() {
    let Some(world) = World::postgres("leadership").await else {
        return;
    };
    let other = Store::connect(&world.url).await.unwrap();
    let mut a = Leadership::new(world.store().clone(), Job::ExpirySweep);
    let mut b = Leadership::new(other.clone(), Job::ExpirySweep);
    for _ in 0..3 {
        assert!(a.lead().await.unwrap(), "the first to look leads");
        assert!(!b.lead().await.unwrap(), "the other does not");
    }
    // Each job has a leader of its own.
    let mut b_directory = Leadership::new(other.clone(), Job::DirectoryRebuild);
    let mut a_directory = Leadership::new(world.store().clone(), Job::DirectoryRebuild);
    assert!(b_directory.lead().await.unwrap());
    assert!(!a_directory.lead().await.unwrap());

    // PostgreSQL ends the leader's connection: the lock goes with it, whoever looks first
    // takes it, and never both.
    cut_the_leaders_connection(&world.url, Job::ExpirySweep).await;
    assert!(b.lead().await.unwrap(), "the other node takes over");
    assert!(!a.lead().await.unwrap(), "the old leader knows it lost");
    assert!(b.lead().await.unwrap());

    // The leading node goes away (its connection closes with it): the other takes over.
    drop(b);
    until_it_leads(&mut a).await;
    // A node stopping gives its jobs up at once.
    b_directory.resign().await;
    until_it_leads(&mut a_directory).await;
    other.close().await;
    world.close().await;
}

#[tokio::test]
async fn on_sqlite_the_one_node_always_leads() {
    let world = World::sqlite().await;
    let mut a = Leadership::new(world.store().clone(), Job::ExpirySweep);
    let mut b = Leadership::new(world.store().clone(), Job::ExpirySweep);
    assert!(a.lead().await.unwrap());
    assert!(b.lead().await.unwrap());
    world.close().await;
}

/// One run of the sweep: which node, when, and what it destroyed.
#[derive(Debug, Clone, Copy)]
struct Run {
    node: usize,
    started: std::time::Instant,
    ended: std::time::Instant,
    media: usize,
    studies: usize,
}

/// Node `node` running the expiry sweep loop (as `renkei serve` does), sweeping as of `at`.
fn sweeper(
    node: usize,
    services: Services,
    at: Timestamp,
    runs: Arc<Mutex<Vec<Run>>>,
) -> tokio::task::JoinHandle<()> {
    let store = services.store.clone();
    tokio::spawn(run_once::every(
        store,
        Job::ExpirySweep,
        Duration::from_millis(100),
        move || {
            let (services, runs) = (services.clone(), runs.clone());
            async move {
                let started = std::time::Instant::now();
                let swept = services.sweep_expired(at).await.unwrap();
                runs.lock().unwrap().push(Run {
                    node,
                    started,
                    ended: std::time::Instant::now(),
                    media: swept.media.expired,
                    studies: swept.studies.expired,
                });
            }
        },
    ))
}

/// Waits (at most 20 s) until `enough` holds of the runs so far.
async fn until_runs(runs: &Mutex<Vec<Run>>, enough: impl Fn(&[Run]) -> bool) -> Vec<Run> {
    for _ in 0..200 {
        let so_far = runs.lock().unwrap().clone();
        if enough(&so_far) {
            return so_far;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the sweep did not run as expected: {:?}",
        runs.lock().unwrap()
    );
}

async fn count(store: &str, sql: &str) -> i64 {
    let pool = sqlx::PgPool::connect(store).await.unwrap();
    let n = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

async fn object_count(objects: &dyn ObjectStore) -> usize {
    objects.list(None).count().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sweep_one_at_a_time_and_destroy_keys_and_objects_once() {
    let Some((world, objects)) = World::cluster("sweep_once").await else {
        return;
    };
    let oita = world.org("oita-u").await;
    let ana = world.member(&oita, "ana").await;
    let now = Timestamp::now();
    for _ in 0..4 {
        world.photo(&oita, &ana, now.plus_secs(60)).await;
    }
    for _ in 0..3 {
        world.study(&oita, now.plus_secs(60)).await;
    }
    let kept = world.photo(&oita, &ana, now.plus_secs(2 * 86_400)).await;
    assert_eq!(object_count(&*objects).await, 4 * 2 + 3 + 2);

    let second = world.reopen().await;
    let at = now.plus_secs(3600);
    let runs = Arc::new(Mutex::new(Vec::new()));
    let nodes = [
        sweeper(0, world.services.clone(), at, runs.clone()),
        sweeper(1, second.clone(), at, runs.clone()),
    ];
    let first_runs = until_runs(&runs, |r| r.len() >= 5).await;
    let leader = first_runs[0].node;
    assert!(
        first_runs.iter().all(|r| r.node == leader),
        "one node sweeps: {first_runs:?}"
    );
    let media: usize = first_runs.iter().map(|r| r.media).sum();
    let studies: usize = first_runs.iter().map(|r| r.studies).sum();
    assert_eq!((media, studies), (4, 3), "each record destroyed once");
    assert_eq!(
        object_count(&*objects).await,
        2,
        "only the kept photo's objects are left"
    );
    for (object, key) in &kept.objects {
        assert!(world.opens(object, key).await);
    }
    let keys = count(&world.url, "SELECT COUNT(*) FROM media_keys").await;
    assert_eq!(keys, 2, "the kept photo's keys only");
    let sealed = "SELECT COUNT(*) FROM instances WHERE sealed_key IS NOT NULL";
    assert_eq!(count(&world.url, sealed).await, 0);

    // The sweeping node dies: the other takes the sweep over.
    nodes[leader].abort();
    let later = until_runs(&runs, |r| {
        r.iter().filter(|r| r.node != leader).count() >= 3
    })
    .await;
    let mut by_start = later.clone();
    by_start.sort_by_key(|r| r.started);
    for pair in by_start.windows(2) {
        assert!(
            pair[1].started >= pair[0].ended,
            "two sweeps never overlap: {pair:?}"
        );
    }
    assert!(
        later
            .iter()
            .all(|r| r.node == leader || r.media + r.studies == 0)
    );
    nodes[1 - leader].abort();
    second.store.close().await;
    world.close().await;
}

/// `CT_small.dcm` of pydicom's test files, as instance `n` of its series (its SOP Instance
/// UID changed), or none without pydicom.
fn ct_instances(count: usize) -> Option<Vec<Vec<u8>>> {
    let dir = std::process::Command::new("python3")
        .args(["-c", "import pydicom,os;print(os.path.join(os.path.dirname(pydicom.__file__),'data','test_files'))"])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let dir = std::path::PathBuf::from(String::from_utf8_lossy(&dir.stdout).trim());
    let original = dicom_object::open_file(dir.join("CT_small.dcm")).ok()?;
    Some(
        (0..count)
            .map(|n| {
                let mut obj = original.clone();
                let uid = format!("1.2.392.200036.9116.2.6.1.{n}");
                obj.put(dicom_core::DataElement::new(
                    dicom_dictionary_std::tags::SOP_INSTANCE_UID,
                    dicom_core::VR::UI,
                    dicom_core::PrimitiveValue::from(uid.as_str()),
                ));
                obj.update_meta(|meta| meta.media_storage_sop_instance_uid = uid.clone());
                let mut bytes = Vec::new();
                obj.write_all(&mut bytes).unwrap();
                bytes
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_received_on_two_nodes_at_once_is_stored_once() {
    let Some(instances) = ct_instances(6) else {
        eprintln!("SKIPPED: pydicom is not installed (scripts/setup.sh installs it)");
        return;
    };
    let Some((world, objects)) = World::cluster("dicom_twice").await else {
        return;
    };
    let oita = world.org("oita-u").await;
    let second = world.reopen().await;
    // Every instance reaches both nodes at the same moment (a gateway retrying through the
    // load balancer, two modalities sending the same study).
    let sends = instances.iter().flat_map(|bytes| {
        [&world.services, &second].map(|node| {
            let (dicom, org, bytes) = (node.dicom.clone(), oita.clone(), bytes.clone());
            tokio::spawn(async move { dicom.ingest(&org, bytes, IngestSource::Identified).await })
        })
    });
    let answers = futures_util::future::join_all(sends).await;
    let mut new_ones = 0;
    for answer in answers {
        let ingested = answer
            .unwrap()
            .unwrap_or_else(|e| panic!("both senders are answered success: {e:?}"));
        new_ones += usize::from(!ingested.duplicate);
    }
    assert_eq!(
        new_ones, 6,
        "one of each pair stored it, the other was a duplicate"
    );
    assert_eq!(count(&world.url, "SELECT COUNT(*) FROM instances").await, 6);
    assert_eq!(count(&world.url, "SELECT COUNT(*) FROM studies").await, 1);
    let counted = "SELECT instance_count FROM studies";
    assert_eq!(count(&world.url, counted).await, 6);
    assert_eq!(
        object_count(&*objects).await,
        6,
        "one object per instance: the duplicates' copies are deleted"
    );
    // Each instance opens whole, through either node.
    let pool = sqlx::PgPool::connect(&world.url).await.unwrap();
    let stored: Vec<(String, String)> = sqlx::query_as("SELECT study_id, sop_uid FROM instances")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    for (study, sop_uid) in stored {
        for node in [&world.services, &second] {
            let study = study.parse().unwrap();
            node.dicom.read_instance(study, &sop_uid).await.unwrap();
        }
    }
    second.store.close().await;
    world.close().await;
}
