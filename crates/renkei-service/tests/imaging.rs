//! The imaging services against scratch stores (SQLite and PostgreSQL): who sees a study,
//! who manages an organization's DICOM peers and gateways, and the one expiry sweep.

#[macro_use]
mod common;

use renkei_core::agreement::Scope;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::{NewDicomPeer, NewGateway};
use renkei_service::expiry::{self, Swept};
use renkei_service::{Kind, dicom_peers, gateway, studies};
use renkei_store::{Attached, AuditFilter};

use common::{World, refusal};

on_both_backends!(
    a_study_is_seen_through_its_inbox_or_a_conversation_it_was_shared_in,
    another_organizations_study_needs_the_images_scope,
    a_view_of_another_organizations_study_is_in_both_audit_logs,
    only_an_organizations_administrators_manage_its_peers_and_gateways,
    the_sweep_destroys_due_media_and_studies_and_keeps_the_others,
    a_sweep_stopped_after_the_keys_is_finished_by_the_next,
    a_sweep_that_fails_reports_a_failure_not_a_missing_record,
);

const NOT_FOUND: (Kind, &str) = (Kind::NotFound, "study_not_found");

async fn a_study_is_seen_through_its_inbox_or_a_conversation_it_was_shared_in(w: &World) {
    let oita = w.org("oita-u").await;
    let (ana, aki) = (w.member(&oita, "ana").await, w.member(&oita, "aki").await);
    let study = w.study(&oita, Timestamp::now().plus_secs(86_400)).await;
    let inbox = studies::inbox(&w.services, &aki, None, None).await.unwrap();
    assert_eq!(inbox.iter().map(|s| s.id).collect::<Vec<_>>(), [study.id]);
    // The inbox rule: every user of the owning organization, shared or not.
    assert_eq!(
        studies::card(&w.services, &aki, study.id).await.unwrap().id,
        study.id
    );
    let detail = studies::detail(&w.services, &ana, study.id).await.unwrap();
    assert_eq!(detail.series.len(), 1);
    let instances = studies::instances(&w.services, &ana, study.id, &detail.series[0].series_uid)
        .await
        .unwrap();
    assert_eq!(instances.len(), 1);
    // Another organization's user sees nothing of it, not even in their inbox.
    let beppu = w.org("beppu").await;
    let ben = w.member(&beppu, "ben").await;
    assert!(
        studies::inbox(&w.services, &ben, None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        refusal(studies::card(&w.services, &ben, study.id).await),
        NOT_FOUND
    );
    assert_eq!(
        refusal(
            studies::instances(&w.services, &ben, study.id, &detail.series[0].series_uid).await
        ),
        NOT_FOUND
    );
    // Shared in a conversation with ben, under an agreement with the images scope: visible.
    w.agreement(&ana.org, &ben.org, &[Scope::Messaging, Scope::Images])
        .await;
    assert_eq!(
        refusal(studies::card(&w.services, &ben, study.id).await),
        NOT_FOUND
    );
    let conv = w.group(&oita, &[&ana, &ben]).await;
    w.share_study(&conv, &ana, study.id).await;
    assert_eq!(
        studies::card(&w.services, &ben, study.id).await.unwrap().id,
        study.id
    );
    // ... to the conversation's members only.
    let bo = w.member(&beppu, "bo").await;
    assert_eq!(
        refusal(studies::card(&w.services, &bo, study.id).await),
        NOT_FOUND
    );
}

async fn another_organizations_study_needs_the_images_scope(w: &World) {
    let oita = w.org("oita-u").await;
    let ana = w.member(&oita, "ana").await;
    let study = w.study(&oita, Timestamp::now().plus_secs(86_400)).await;
    let usa = w.org("usa").await;
    let uma = w.member(&usa, "uma").await;
    w.agreement(&ana.org, &uma.org, &[Scope::Messaging]).await;
    let conv = w.group(&oita, &[&ana, &uma]).await;
    w.share_study(&conv, &ana, study.id).await;
    assert_eq!(
        refusal(studies::card(&w.services, &uma, study.id).await),
        NOT_FOUND,
        "shared, but the agreement lacks the images scope"
    );
    assert_eq!(
        refusal(studies::thumbnail(&w.services, &uma, study.id).await),
        NOT_FOUND
    );
}

async fn a_view_of_another_organizations_study_is_in_both_audit_logs(w: &World) {
    let oita = w.org("oita-u").await;
    let ana = w.member(&oita, "ana").await;
    let study = w.study(&oita, Timestamp::now().plus_secs(86_400)).await;
    let beppu = w.org("beppu").await;
    let ben = w.member(&beppu, "ben").await;
    w.agreement(&ana.org, &ben.org, &[Scope::Messaging, Scope::Images])
        .await;
    let conv = w.group(&oita, &[&ana, &ben]).await;
    w.share_study(&conv, &ana, study.id).await;
    studies::detail(&w.services, &ben, study.id).await.unwrap();
    let views = |org| AuditFilter {
        org_id: Some(org),
        action: Some("study.view".into()),
        ..AuditFilter::default()
    };
    let owner = w
        .store()
        .audit_page(&views(oita.id), None, 10)
        .await
        .unwrap();
    let viewer = w
        .store()
        .audit_page(&views(beppu.id), None, 10)
        .await
        .unwrap();
    assert_eq!((owner.len(), viewer.len()), (1, 1));
    assert_eq!(owner[0].actor_id, Some(ben.user.id));
    let details: serde_json::Value = serde_json::from_str(&owner[0].details).unwrap();
    assert_eq!(details["viewer_org_id"], beppu.id.to_string());
    // The card shows no image: not a view.
    studies::card(&w.services, &ben, study.id).await.unwrap();
    assert_eq!(
        w.store()
            .audit_page(&views(oita.id), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn only_an_organizations_administrators_manage_its_peers_and_gateways(w: &World) {
    let oita = w.org("oita-u").await;
    let (admin, member) = (
        w.org_admin(&oita, "root").await,
        w.member(&oita, "ana").await,
    );
    let other = w.org_admin(&w.org("beppu").await, "boss").await;
    let peer = NewDicomPeer {
        ae_title: "CT1".into(),
        allow: vec!["10.0.0.7".into()],
        allow_any_address: false,
    };
    let s = &w.services;
    assert_eq!(
        dicom_peers::add(s, &admin, oita.id, &peer)
            .await
            .unwrap()
            .ae_title,
        "CT1"
    );
    assert_eq!(
        refusal(dicom_peers::list(s, &member, oita.id).await),
        (Kind::Forbidden, "forbidden")
    );
    assert_eq!(
        refusal(dicom_peers::list(s, &other, oita.id).await),
        (Kind::NotFound, "organization_not_found")
    );
    assert_eq!(
        refusal(dicom_peers::remove(s, &member, oita.id, "CT1").await),
        (Kind::NotFound, "organization_not_found")
    );
    let changed = dicom_peers::update_allow(s, &admin, oita.id, "CT1", vec!["10.0.0.8".into()])
        .await
        .unwrap();
    assert_eq!(changed.allow, ["10.0.0.8/32"]);
    assert_eq!(
        refusal(
            dicom_peers::update_allow(s, &admin, oita.id, "MR9", vec!["10.0.0.8".into()]).await
        ),
        (Kind::NotFound, "dicom_peer_not_found")
    );
    dicom_peers::remove(s, &admin, oita.id, "CT1")
        .await
        .unwrap();
    assert!(
        dicom_peers::list(s, &admin, oita.id)
            .await
            .unwrap()
            .is_empty()
    );

    let input = NewGateway {
        name: "ward-3".into(),
    };
    assert_eq!(
        refusal(gateway::add_gateway(s, &member, oita.id, &input).await),
        (Kind::Forbidden, "forbidden")
    );
    let (made, token) = gateway::add_gateway(s, &admin, oita.id, &input)
        .await
        .unwrap();
    assert!(token.starts_with(gateway::TOKEN_PREFIX));
    assert_eq!(
        gateway::list_gateways(s, &admin, oita.id).await.unwrap()[0].id,
        made.id
    );
    assert_eq!(
        refusal(gateway::delete_gateway(s, &other, oita.id, "ward-3").await),
        (Kind::NotFound, "organization_not_found")
    );
    gateway::delete_gateway(s, &admin, oita.id, "ward-3")
        .await
        .unwrap();
    assert!(
        gateway::list_gateways(s, &admin, oita.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_sweep_destroys_due_media_and_studies_and_keeps_the_others(w: &World) {
    let oita = w.org("oita-u").await;
    let ana = w.member(&oita, "ana").await;
    let now = Timestamp::now();
    let (soon, later) = (now.plus_secs(60), now.plus_secs(2 * 86_400));
    let due_photo = w.photo(&oita, &ana, soon).await;
    let kept_photo = w.photo(&oita, &ana, later).await;
    let due_study = w.study(&oita, soon).await;
    let kept_study = w.study(&oita, later).await;
    let at = now.plus_secs(3600);
    let swept = expiry::sweep(w.store(), &w.blobs, at).await.unwrap();
    assert_eq!((swept.media.expired, swept.studies.expired), (1, 1));

    assert!(w.store().media(due_photo.media.id).await.unwrap().expired);
    for (object, key) in &due_photo.objects {
        assert!(!w.opens(object, key).await, "{object} is destroyed");
    }
    assert!(w.store().study(due_study.id).await.unwrap().expired);
    assert!(!w.opens(&due_study.object, &due_study.key).await);
    // Through the services they are gone (410), the others untouched.
    let media = &w.services.media;
    assert_eq!(
        refusal(media.visible(due_photo.media.id, &ana.user, None).await),
        (Kind::Gone, "media_expired")
    );
    assert_eq!(
        refusal(studies::card(&w.services, &ana, due_study.id).await),
        (Kind::Gone, "study_expired")
    );
    assert!(
        !media
            .visible(kept_photo.media.id, &ana.user, None)
            .await
            .unwrap()
            .expired
    );
    for (object, key) in &kept_photo.objects {
        assert!(w.opens(object, key).await, "{object} is kept");
    }
    assert!(
        !studies::card(&w.services, &ana, kept_study.id)
            .await
            .unwrap()
            .expired
    );
    assert!(w.opens(&kept_study.object, &kept_study.key).await);
    // Nothing is left for the next sweep.
    assert_eq!(
        w.services.sweep_expired(at).await.unwrap(),
        Swept::default()
    );
}

async fn a_sweep_stopped_after_the_keys_is_finished_by_the_next(w: &World) {
    let oita = w.org("oita-u").await;
    let ana = w.member(&oita, "ana").await;
    let now = Timestamp::now();
    let photo = w.photo(&oita, &ana, now.plus_secs(60)).await;
    let study = w.study(&oita, now.plus_secs(60)).await;
    let at = now.plus_secs(3600);
    // The first step commits (keys destroyed), then the sweep stops.
    for (kind, id) in [
        (Attached::Media, photo.media.id),
        (Attached::Study, study.id),
    ] {
        let step = w.store().expire_due(kind, at, 10).await.unwrap();
        assert_eq!(step.records, [id]);
    }
    assert!(
        w.store()
            .object_key(&photo.media.id.to_string())
            .await
            .is_err()
    );
    assert!(
        w.store()
            .instance_object(study.id, &study.sop_uid)
            .await
            .is_err()
    );
    let media_left = w.store().unpurged(Attached::Media, 10).await.unwrap();
    let photo_objects: Vec<String> = photo.objects.iter().map(|(o, _)| o.clone()).collect();
    assert_eq!(media_left.len(), 1);
    assert_eq!(
        media_left[0].objects, photo_objects,
        "the photo and its thumbnail"
    );
    let studies_left = w.store().unpurged(Attached::Study, 10).await.unwrap();
    assert_eq!(studies_left[0].objects, std::slice::from_ref(&study.object));
    assert!(
        w.opens(&study.object, &study.key).await,
        "bytes stay until purged"
    );
    // The next sweep expires nothing new and deletes what was left.
    let swept = w.services.sweep_expired(at).await.unwrap();
    assert_eq!((swept.media.expired, swept.studies.expired), (0, 0));
    assert!(!w.opens(&study.object, &study.key).await);
    for (object, key) in &photo.objects {
        assert!(!w.opens(object, key).await);
    }
    assert!(
        w.store()
            .unpurged(Attached::Media, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        w.store()
            .unpurged(Attached::Study, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_sweep_that_fails_reports_a_failure_not_a_missing_record(w: &World) {
    let oita = w.org("oita-u").await;
    w.study(&oita, Timestamp::now().plus_secs(60)).await;
    w.store().close().await;
    let err = expiry::sweep(w.store(), &w.blobs, Timestamp::now().plus_secs(3600))
        .await
        .expect_err("the store is closed");
    assert_eq!(
        (err.kind, err.code),
        (Kind::Unavailable, "expiry_sweep_failed")
    );
    assert!(err.message.contains("destroying keys"), "{}", err.message);
}
