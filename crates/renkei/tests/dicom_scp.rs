//! The DICOM service with real dcmtk peers: only registered AE titles from their allowed
//! addresses may associate, and what storescu sends lands de-identified in the inbox.

mod common;

use common::dicom::dcmtk;
use common::{Server, Storage, pydicom_test_files};

on_both_backends!(registered_peers_echo_and_store_into_the_inbox);

async fn registered_peers_echo_and_store_into_the_inbox(storage: Storage) {
    let Some(dir) = pydicom_test_files() else {
        return;
    };
    let (ct, mr) = (
        dir.join("CT_small.dcm").display().to_string(),
        dir.join("MR_small.dcm").display().to_string(),
    );
    let server = Server::start_with(
        &storage,
        &[],
        "127.0.0.1:0",
        &["--dicom-listen", "127.0.0.1:0"],
    );
    let admin = server.first_admin().await;
    let addr = server.dicom_addr().expect("the DICOM port is printed");
    let (host, port) = addr.rsplit_once(':').unwrap();
    let Some(unknown) = dcmtk("echoscu", &["-aet", "CT01", "-aec", "RENKEI", host, port]) else {
        return;
    };
    assert!(
        !unknown.status.success(),
        "an unregistered AE title is rejected"
    );
    storage.add_dicom_peer("CT01", "127.0.0.0/8");
    storage.add_dicom_peer("FARAWAY", "10.0.0.0/8");
    // The directory refreshes every 5 s on its own; an unknown caller makes it re-read at once
    // (at most once a second, and the refused echo above just did).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let echo = dcmtk("echoscu", &["-aet", "CT01", "-aec", "RENKEI", host, port]).unwrap();
    assert!(
        echo.status.success(),
        "{}",
        String::from_utf8_lossy(&echo.stderr)
    );
    let far = dcmtk(
        "echoscu",
        &["-aet", "FARAWAY", "-aec", "RENKEI", host, port],
    )
    .unwrap();
    assert!(
        !far.status.success(),
        "a peer calling from outside its ranges is rejected"
    );
    let wrong_called = dcmtk(
        "echoscu",
        &["-aet", "CT01", "-aec", "NOTRENKEI", host, port],
    )
    .unwrap();
    assert!(
        !wrong_called.status.success(),
        "a wrong called AE title is rejected"
    );
    let sent = dcmtk(
        "storescu",
        &["-aet", "CT01", "-aec", "RENKEI", host, port, &ct, &mr],
    )
    .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let (_, inbox) = admin.get("/api/v1/studies").await;
    let modalities: Vec<String> = inbox
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["modalities"][0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(inbox.as_array().unwrap().len(), 2, "{inbox}");
    assert!(modalities.contains(&"CT".to_owned()) && modalities.contains(&"MR".to_owned()));
    // A resend is idempotent: the same studies, the same counts.
    dcmtk(
        "storescu",
        &["-aet", "CT01", "-aec", "RENKEI", host, port, &ct],
    )
    .unwrap();
    let (_, again) = admin.get("/api/v1/studies").await;
    assert_eq!(
        again
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["instance_count"].as_i64().unwrap())
            .sum::<i64>(),
        2
    );
}
