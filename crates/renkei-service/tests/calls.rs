//! Calls as the services run them: ringing (with push alerts), answering, declining, no answer,
//! busy, who may call, removal ending a member's part, the timeline events and audit entries
//! a call leaves, and the seam to the media relay of group calls.

#[macro_use]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::World;
use renkei_core::Uuid;
use renkei_core::agreement::Scope;
use renkei_core::call::{CallMedia, LayerWant, MediaRelay, RelaySignal};
use renkei_core::conversation::{ConversationKind, EventKind};
use renkei_core::org::Organization;
use renkei_service::Services;
use renkei_service::accounts::own_secrets;
use renkei_service::auth::session::Authed;
use renkei_service::calls::{self, SocketEnd};
use renkei_service::conversations::{self, NewConversation};
use renkei_service::cooperation::agreements;
use renkei_service::messaging::frames::{Pointer, ViewKind, ViewState, ViewTarget};
use renkei_service::messaging::hub::{Nudge, SocketInbox};
use renkei_service::notify::{Alert, AlertKind, Notifier};
use serde_json::{Value, json};
use tokio::sync::mpsc;

on_both_backends!(
    a_direct_call_rings_is_answered_relays_signals_and_is_recorded,
    a_declined_call_ends_declined_and_an_unanswered_one_no_answer,
    a_callee_in_another_call_is_busy,
    strangers_and_locked_sessions_cannot_call,
    a_removed_member_leaves_the_group_call_at_once,
    a_revoked_agreement_ends_the_other_hospitals_side,
    the_shared_view_follows_the_study_rules_for_each_participant,
    group_calls_go_through_the_relay_and_are_capped,
    a_dropped_socket_resumes_its_place_and_the_call_goes_on,
    a_dropped_socket_that_does_not_come_back_leaves_after_the_grace,
    a_socket_whose_page_closed_leaves_at_once,
    only_the_same_unlocked_session_may_resume,
    a_resumed_group_participant_gets_a_new_relay_session,
);

/// A notifier that remembers every alert.
#[derive(Default)]
struct Recorder(Mutex<Vec<Alert>>);

impl Notifier for Recorder {
    fn notify(&self, alert: Alert) {
        self.0.lock().unwrap().push(alert);
    }
}

impl Recorder {
    fn calls_to(&self, user: Uuid) -> Vec<Alert> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.user_id == user)
            .cloned()
            .collect()
    }
}

/// What the relay was told, in order.
#[derive(Default)]
struct RecordingRelay(Mutex<Vec<String>>);

impl MediaRelay for RecordingRelay {
    fn signal(&self, _call: Uuid, conn: &str, data: Value) {
        self.0.lock().unwrap().push(format!("signal {conn} {data}"));
    }
    fn layers(&self, _call: Uuid, conn: &str, wants: Vec<LayerWant>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("layers {conn} {}", wants.len()));
    }
    fn leave(&self, _call: Uuid, conn: &str) {
        self.0.lock().unwrap().push(format!("leave {conn}"));
    }
    fn end(&self, _call: Uuid) {
        self.0.lock().unwrap().push("end".into());
    }
}

impl RecordingRelay {
    fn said(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Services that record their alerts.
fn recording(world: &World) -> (Services, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let mut s = world.services.clone();
    s.notifier = recorder.clone();
    (s, recorder)
}

/// A socket of `who`, registered with the node's hub.
fn socket(s: &Services, who: &Authed) -> SocketInbox {
    s.messaging.hub.register(who.user.id, who.user.org_id)
}

/// The next frame of `socket` of `type` that `matches`, within 5 s.
async fn frame(socket: &mut SocketInbox, kind: &str, matches: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let nudge = tokio::time::timeout_at(deadline, socket.nudges.recv())
            .await
            .unwrap_or_else(|_| panic!("no {kind} frame came"))
            .expect("the socket's queue is open");
        if let Nudge::Frame(text) = nudge {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == kind && matches(&v) {
                return v;
            }
        }
    }
}

/// The next `call` frame of `socket` in `state`.
async fn call_in(socket: &mut SocketInbox, state: &str) -> Value {
    frame(socket, "call", |v| v["call"]["state"] == state).await["call"].clone()
}

async fn direct(s: &Services, a: &Authed, b: &Authed) -> Uuid {
    conversation(s, a, ConversationKind::Direct, &[b]).await
}

async fn group(s: &Services, a: &Authed, others: &[&Authed]) -> Uuid {
    conversation(s, a, ConversationKind::Group, others).await
}

async fn conversation(
    s: &Services,
    a: &Authed,
    kind: ConversationKind,
    others: &[&Authed],
) -> Uuid {
    conversations::create(
        s,
        &a.user,
        NewConversation {
            kind,
            title: (kind == ConversationKind::Group).then(|| "Night shift".into()),
            member_ids: others.iter().map(|o| o.user.id).collect(),
            admin_ids: vec![],
            include_me: true,
        },
    )
    .await
    .unwrap()
    .view
    .conversation
    .id
}

async fn people(world: &World, names: &[&str]) -> (Organization, Vec<Authed>) {
    let org = world.org("kyushu").await;
    let mut all = Vec::new();
    for name in names {
        all.push(world.member(&org, name).await);
    }
    (org, all)
}

/// The kinds and facts of `conversation`'s call events.
async fn call_events(s: &Services, conversation: Uuid) -> Vec<(EventKind, Value)> {
    s.store
        .events_after(conversation, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::CallStarted | EventKind::CallEnded))
        .map(|e| (e.kind, e.data))
        .collect()
}

fn conn(socket: &SocketInbox) -> String {
    socket.id.to_string()
}

async fn a_direct_call_rings_is_answered_relays_signals_and_is_recorded(world: &World) {
    let (s, recorder) = recording(world);
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, stranger) = (&p[0], &p[1], &p[2]);
    let conv = direct(&s, a, b).await;
    let mut a1 = socket(&s, a);
    let mut b1 = socket(&s, b);
    let mut b2 = socket(&s, b);
    let mut other = socket(&s, stranger);

    let call = calls::start(&s, a, a1.id, conv, CallMedia::Video)
        .await
        .unwrap();
    assert_eq!(call.mode.as_str(), "p2p");
    let a_conn = conn(&a1);
    for sock in [&mut a1, &mut b1, &mut b2] {
        let ringing = call_in(sock, "ringing").await;
        assert_eq!(ringing["id"], json!(call.id));
        assert_eq!(ringing["ringing"], json!([b.user.id]));
        assert_eq!(ringing["participants"][0]["conn"], json!(a_conn));
    }
    // The ring reaches b's phone as a high-urgency call alert naming the call's event.
    let events = call_events(&s, conv).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].1["media"], "video");
    let started_seq = s
        .store
        .events_after(conv, 0, 100)
        .await
        .unwrap()
        .last()
        .unwrap()
        .seq;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let alerts = recorder.calls_to(b.user.id);
    assert!(!alerts.is_empty(), "b's phone rings");
    assert!(alerts.iter().all(|a| a.kind == AlertKind::Call
        && a.ttl_seconds == 45
        && a.seq == started_seq
        && a.conversation_id == conv));
    assert!(
        recorder.calls_to(a.user.id).is_empty(),
        "the caller is not rung"
    );

    // b answers on the second socket: active, and both of b's sockets see it.
    let call = calls::join(&s, b, b2.id, call.id, CallMedia::Audio)
        .await
        .unwrap();
    assert_eq!(call.state.as_str(), "active");
    let active = call_in(&mut b1, "active").await;
    assert_eq!(active["participants"][1]["conn"], json!(conn(&b2)));
    assert_eq!(active["participants"][1]["video"], json!(false));

    // Signalling goes to the named socket only, unchanged.
    let offer = json!({"description": {"type": "offer", "sdp": "v=0..."}});
    calls::signal(&s, a.user.id, a1.id, call.id, &conn(&b2), offer.clone()).unwrap();
    let got = frame(&mut b2, "call_signal", |_| true).await;
    assert_eq!(got["data"], offer);
    assert_eq!(got["from_conn"], json!(conn(&a1)));
    assert_eq!(got["from_user"], json!(a.user.id));
    // Not to a socket outside the call, not from one, and not too large.
    let err = calls::signal(&s, a.user.id, a1.id, call.id, &conn(&b1), offer.clone()).unwrap_err();
    assert_eq!(err.code, "not_a_participant");
    let err = calls::signal(
        &s,
        stranger.user.id,
        other.id,
        call.id,
        &conn(&a1),
        offer.clone(),
    )
    .unwrap_err();
    assert_eq!(err.code, "not_a_participant");
    let err = calls::signal(&s, b.user.id, b1.id, call.id, &conn(&a1), offer).unwrap_err();
    assert_eq!(
        err.code, "not_a_participant",
        "b's other socket is not in the call"
    );
    let huge = json!({"candidate": "x".repeat(70_000)});
    let err = calls::signal(&s, b.user.id, b2.id, call.id, &conn(&a1), huge).unwrap_err();
    assert_eq!(err.code, "invalid_call_frame");
    let err = calls::join(&s, stranger, other.id, call.id, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden");

    // Mute, then hang up.
    let muted = calls::set_media(&s, b.user.id, b2.id, call.id, false, false)
        .await
        .unwrap();
    assert!(!muted.participants[1].audio);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    calls::leave(&s, a.user.id, a1.id, call.id).await.unwrap();
    let ended = call_in(&mut b1, "ended").await;
    assert_eq!(ended["end_reason"], "completed");
    assert!(ended["ended_at"].is_string());
    assert!(s.calls.get(call.id).is_none(), "an ended call is forgotten");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), other.nudges.recv())
            .await
            .is_err(),
        "the stranger heard nothing of the call"
    );

    let events = call_events(&s, conv).await;
    assert_eq!(events.len(), 2);
    let (kind, facts) = &events[1];
    assert_eq!(*kind, EventKind::CallEnded);
    assert_eq!(facts["end_reason"], "completed");
    assert_eq!(facts["participants"], json!([a.user.id, b.user.id]));
    assert!(facts["duration_seconds"].as_i64().unwrap() >= 1);
    let mut audit = world.audit_actions(call.id).await;
    audit.sort();
    assert_eq!(audit, ["call.end", "call.join", "call.start"]);
}

async fn a_declined_call_ends_declined_and_an_unanswered_one_no_answer(world: &World) {
    let (s, recorder) = recording(world);
    s.calls
        .set_ring_times(Duration::from_millis(150), Duration::from_millis(700));
    let (_, p) = people(world, &["aoki", "baba"]).await;
    let (a, b) = (&p[0], &p[1]);
    let conv = direct(&s, a, b).await;
    let mut a1 = socket(&s, a);

    let call = calls::start(&s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    calls::decline(&s, b.user.id, call.id).await.unwrap();
    let ended = call_in(&mut a1, "ended").await;
    assert_eq!(ended["end_reason"], "declined");
    assert_eq!(ended["declined"], json!([b.user.id]));
    let rung = recorder.calls_to(b.user.id).len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        recorder.calls_to(b.user.id).len(),
        rung,
        "a decline stops the ring"
    );

    let before = recorder.calls_to(b.user.id).len();
    let call = calls::start(&s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    let ended = call_in(&mut a1, "ended").await;
    assert_eq!(ended["id"], json!(call.id));
    assert_eq!(ended["end_reason"], "no_answer");
    let alerts = recorder.calls_to(b.user.id).len() - before;
    assert!(
        alerts >= 3,
        "the ring repeats until it gives up ({alerts} alerts)"
    );
    let reasons: Vec<Value> = call_events(&s, conv)
        .await
        .into_iter()
        .filter(|(k, _)| *k == EventKind::CallEnded)
        .map(|(_, f)| f["end_reason"].clone())
        .collect();
    assert_eq!(reasons, [json!("declined"), json!("no_answer")]);

    // The caller's hang-up while ringing cancels.
    let call = calls::start(&s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    calls::leave(&s, a.user.id, a1.id, call.id).await.unwrap();
    assert_eq!(call_in(&mut a1, "ended").await["end_reason"], "cancelled");
}

async fn a_callee_in_another_call_is_busy(world: &World) {
    let (s, _) = recording(world);
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, c) = (&p[0], &p[1], &p[2]);
    let bc = direct(&s, b, c).await;
    let ab = direct(&s, a, b).await;
    let (b1, c1) = (socket(&s, b), socket(&s, c));
    let running = calls::start(&s, b, b1.id, bc, CallMedia::Audio)
        .await
        .unwrap();
    calls::join(&s, c, c1.id, running.id, CallMedia::Audio)
        .await
        .unwrap();

    let mut a1 = socket(&s, a);
    let call = calls::start(&s, a, a1.id, ab, CallMedia::Video)
        .await
        .unwrap();
    assert_eq!(call.end_reason.map(|r| r.as_str()), Some("busy"));
    assert_eq!(call_in(&mut a1, "ended").await["end_reason"], "busy");
    assert_eq!(
        s.calls.get(running.id).unwrap().state.as_str(),
        "active",
        "the running call goes on"
    );
    // One socket is in one call at a time.
    let err = calls::start(&s, b, b1.id, ab, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_busy");
}

async fn strangers_and_locked_sessions_cannot_call(world: &World) {
    let s = &world.services;
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, stranger) = (&p[0], &p[1], &p[2]);
    let conv = direct(s, a, b).await;
    let outsider = socket(s, stranger);
    let err = calls::start(s, stranger, outsider.id, conv, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden");

    // A session locked by its passcode can neither ring nor answer.
    own_secrets::set_passcode(s, b, "2468").await.unwrap();
    let (_, b_locked) = world.sign_in("baba").await;
    assert!(b_locked.locked);
    let b1 = socket(s, &b_locked);
    let err = calls::start(s, &b_locked, b1.id, conv, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden");
    let a1 = socket(s, a);
    let call = calls::start(s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    let err = calls::join(s, &b_locked, b1.id, call.id, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden");
    assert_eq!(s.calls.get(call.id).unwrap().state.as_str(), "ringing");
    calls::leave(s, a.user.id, a1.id, call.id).await.unwrap();
    let err = calls::join(s, a, a1.id, call.id, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_not_found");
}

/// Services with a recording relay wired.
fn with_relay(world: &World) -> (Services, Arc<RecordingRelay>, mpsc::Sender<RelaySignal>) {
    let relay = Arc::new(RecordingRelay::default());
    let (tx, rx) = mpsc::channel(16);
    let s = world.services.clone().with_relay(relay.clone(), rx);
    (s, relay, tx)
}

async fn a_removed_member_leaves_the_group_call_at_once(world: &World) {
    let (s, relay, _tx) = with_relay(world);
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, c) = (&p[0], &p[1], &p[2]);
    let conv = group(&s, a, &[b, c]).await;
    let (mut a1, b1, mut c1) = (socket(&s, a), socket(&s, b), socket(&s, c));
    let call = calls::start(&s, a, a1.id, conv, CallMedia::Video)
        .await
        .unwrap();
    calls::join(&s, b, b1.id, call.id, CallMedia::Video)
        .await
        .unwrap();
    calls::join(&s, c, c1.id, call.id, CallMedia::Video)
        .await
        .unwrap();

    conversations::remove_member(&s, &a.user, conv, c.user.id)
        .await
        .unwrap();
    let theirs = frame(&mut c1, "call", |v| v["call"]["end_reason"] == "removed").await;
    assert_eq!(theirs["call"]["state"], "ended");
    let ours = frame(&mut a1, "call", |v| {
        v["call"]["participants"].as_array().unwrap().len() == 2
            && v["call"]["ringing"].as_array().unwrap().is_empty()
    })
    .await;
    assert_eq!(ours["call"]["state"], "active", "the others go on");
    assert!(relay.said().contains(&format!("leave {}", conn(&c1))));
    let err = calls::join(&s, c, c1.id, call.id, CallMedia::Video)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden", "no way back in");
}

async fn group_calls_go_through_the_relay_and_are_capped(world: &World) {
    // Without a relay a group cannot call.
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, c) = (&p[0], &p[1], &p[2]);
    let plain = &world.services;
    let conv = group(plain, a, &[b, c]).await;
    let a0 = socket(plain, a);
    let err = calls::start(plain, a, a0.id, conv, CallMedia::Audio)
        .await
        .unwrap_err();
    assert_eq!(err.code, "sfu_unavailable");

    let (mut s, relay, tx) = with_relay(world);
    let mut settings = (*s.settings).clone();
    settings.call_max_participants = 2;
    s.settings = Arc::new(settings);
    let (mut a1, b1, c1) = (socket(&s, a), socket(&s, b), socket(&s, c));
    let call = calls::start(&s, a, a1.id, conv, CallMedia::Video)
        .await
        .unwrap();
    assert_eq!(call.mode.as_str(), "sfu");
    assert_eq!(call.ringing.len(), 2);
    calls::join(&s, b, b1.id, call.id, CallMedia::Video)
        .await
        .unwrap();
    let err = calls::join(&s, c, c1.id, call.id, CallMedia::Video)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_full");

    // The browser offers to the SFU; the SFU's answer comes back from "sfu".
    let offer = json!({"description": {"type": "offer", "sdp": "v=0"}});
    calls::signal(&s, a.user.id, a1.id, call.id, "sfu", offer.clone()).unwrap();
    calls::layers(
        &s,
        a.user.id,
        a1.id,
        call.id,
        vec![LayerWant {
            conn: conn(&b1),
            mid: None,
            width: 320,
            height: 180,
            visible: true,
        }],
    )
    .unwrap();
    let answer = json!({"description": {"type": "answer", "sdp": "v=0"}});
    tx.send(RelaySignal {
        call: call.id,
        conn: conn(&a1),
        data: answer.clone(),
    })
    .await
    .unwrap();
    let got = frame(&mut a1, "call_signal", |_| true).await;
    assert_eq!(got["from_conn"], "sfu");
    assert_eq!(got["from_user"], Value::Null);
    assert_eq!(got["data"], answer);

    calls::leave(&s, b.user.id, b1.id, call.id).await.unwrap();
    assert_eq!(
        s.calls.get(call.id).unwrap().state.as_str(),
        "active",
        "alone while c still rings: the call goes on"
    );
    calls::leave(&s, a.user.id, a1.id, call.id).await.unwrap();
    assert_eq!(
        relay.said(),
        [
            format!("signal {} {offer}", conn(&a1)),
            format!("layers {} 1", conn(&a1)),
            format!("leave {}", conn(&b1)),
            format!("leave {}", conn(&a1)),
            "end".to_string(),
        ]
    );
}

async fn a_revoked_agreement_ends_the_other_hospitals_side(world: &World) {
    let s = &world.services;
    let (ours, theirs) = (world.org("oita").await, world.org("beppu").await);
    let admin_ours = world.org_admin(&ours, "admin-oita").await;
    let admin_theirs = world.org_admin(&theirs, "admin-beppu").await;
    let proposed = agreements::propose(s, &admin_ours.user, theirs.id, &[Scope::Messaging])
        .await
        .unwrap();
    agreements::accept(s, &admin_theirs.user, proposed.agreement.id)
        .await
        .unwrap();
    let doctor = world.member(&ours, "doctor").await;
    world.user(&theirs, "specialist", &[]).await;
    let specialist = world.sign_in("specialist").await.1;
    let conv = direct(s, &doctor, &specialist).await;
    let (mut d1, mut s1) = (socket(s, &doctor), socket(s, &specialist));
    let call = calls::start(s, &doctor, d1.id, conv, CallMedia::Video)
        .await
        .unwrap();
    calls::join(s, &specialist, s1.id, call.id, CallMedia::Video)
        .await
        .unwrap();
    call_in(&mut d1, "active").await;

    agreements::revoke(s, &admin_ours.user, proposed.agreement.id)
        .await
        .unwrap();
    let theirs_now = frame(&mut s1, "call", |v| v["call"]["end_reason"] == "removed").await;
    assert_eq!(theirs_now["call"]["state"], "ended");
    let ours_now = call_in(&mut d1, "ended").await;
    assert_eq!(ours_now["participants"], json!([]));
    assert!(s.calls.get(call.id).is_none());
}

async fn the_shared_view_follows_the_study_rules_for_each_participant(world: &World) {
    let (s, _relay, _tx) = with_relay(world);
    let (ours, theirs) = (world.org("oita").await, world.org("beppu").await);
    let lead = world.member(&ours, "lead").await;
    let colleague = world.member(&ours, "colleague").await;
    let partner = world.member(&theirs, "partner").await;
    let study = world
        .study(
            &ours,
            renkei_core::clock::Timestamp::now().plus_secs(86_400),
        )
        .await;
    let conv = world.group(&ours, &[&lead, &colleague, &partner]).await.id;
    let (l1, mut c1, mut p1) = (
        socket(&s, &lead),
        socket(&s, &colleague),
        socket(&s, &partner),
    );
    let call = calls::start(&s, &lead, l1.id, conv, CallMedia::Video)
        .await
        .unwrap();
    for (who, sock) in [(&colleague, &c1), (&partner, &p1)] {
        calls::join(&s, who, sock.id, call.id, CallMedia::Video)
            .await
            .unwrap();
    }
    let target = ViewTarget {
        kind: ViewKind::Study,
        id: study.id,
    };
    let state = ViewState {
        series_uid: Some("1.2.3".into()),
        slice: Some(42.0),
        window_center: Some(40.0),
        window_width: Some(400.0),
        zoom: Some(2.0),
        pan_x: None,
        pan_y: None,
        pointer: Some(Pointer { x: 0.25, y: 0.75 }),
    };
    calls::view_share(&s, lead.user.id, l1.id, call.id, target, state.clone())
        .await
        .unwrap();

    // The colleague of the study's hospital follows; the partner, who may not open it, sees
    // that something is shared and nothing of it.
    let followed = frame(&mut c1, "view_share", |_| true).await;
    assert_eq!(followed["allowed"], true);
    assert_eq!(followed["target"], json!({"kind": "study", "id": study.id}));
    assert_eq!(followed["state"]["slice"], 42.0);
    assert_eq!(followed["state"]["pointer"], json!({"x": 0.25, "y": 0.75}));
    assert_eq!(followed["from_user"], json!(lead.user.id));
    let notice = frame(&mut p1, "view_share", |_| true).await;
    assert_eq!(notice["allowed"], false);
    assert_eq!(notice["target"], json!({"kind": "study"}));
    assert!(notice.get("state").is_none(), "{notice}");
    assert!(!notice.to_string().contains(&study.id.to_string()));

    // Who may not open it cannot lead with it; who is not in the call cannot share at all.
    let err = calls::view_share(&s, partner.user.id, p1.id, call.id, target, state.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden");
    let err = calls::view_share(&s, lead.user.id, c1.id, call.id, target, state)
        .await
        .unwrap_err();
    assert_eq!(err.code, "not_a_participant", "not the lead's socket");

    calls::view_stop(&s, lead.user.id, l1.id, call.id).unwrap();
    let stopped = frame(&mut c1, "view_stop", |_| true).await;
    assert_eq!(stopped["from_user"], json!(lead.user.id));
}

/// The participant of `conn` in a `call` frame.
fn place<'a>(call: &'a Value, conn: &str) -> Option<&'a Value> {
    call["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["conn"] == conn)
}

async fn a_dropped_socket_resumes_its_place_and_the_call_goes_on(world: &World) {
    let s = &world.services;
    s.calls.set_resume_grace(Duration::from_millis(1500));
    let (_, p) = people(world, &["aoki", "baba"]).await;
    let (a, b) = (&p[0], &p[1]);
    let conv = direct(s, a, b).await;
    let mut a1 = socket(s, a);
    let b1 = socket(s, b);
    let call = calls::start(s, a, a1.id, conv, CallMedia::Video)
        .await
        .unwrap();
    calls::join(s, b, b1.id, call.id, CallMedia::Video)
        .await
        .unwrap();
    call_in(&mut a1, "active").await;

    // b's network changes: its socket goes without a call_leave.
    let old = conn(&b1);
    s.messaging.hub.unregister(b.user.id, b1.id);
    calls::socket_gone(s, b.user.id, b1.id, SocketEnd::Dropped).await;
    let waiting = frame(&mut a1, "call", |v| {
        place(&v["call"], &old).is_some_and(|p| p["reconnecting"] == true)
    })
    .await;
    assert_eq!(
        waiting["call"]["state"], "active",
        "a sees b reconnecting, not gone"
    );

    // b's new socket (same session) takes the place back; signalling reaches it from now on.
    let mut b2 = socket(s, b);
    let resumed = calls::resume(s, b, b2.id, call.id).await.unwrap();
    assert_eq!(resumed.state.as_str(), "active");
    assert_eq!(resumed.participants.len(), 2);
    let seen = frame(&mut a1, "call", |v| place(&v["call"], &conn(&b2)).is_some()).await;
    assert_eq!(
        place(&seen["call"], &conn(&b2)).unwrap()["reconnecting"],
        false
    );
    assert!(place(&seen["call"], &old).is_none());
    let offer = json!({"description": {"type": "offer", "sdp": "v=0..."}});
    calls::signal(s, a.user.id, a1.id, call.id, &conn(&b2), offer.clone()).unwrap();
    assert_eq!(frame(&mut b2, "call_signal", |_| true).await["data"], offer);
    let err = calls::signal(s, a.user.id, a1.id, call.id, &old, offer).unwrap_err();
    assert_eq!(err.code, "not_a_participant", "the old socket is out");

    // Past the grace the call still runs; it ends once, when someone hangs up.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(s.calls.get(call.id).is_some(), "the resumed call runs on");
    calls::leave(s, b.user.id, b2.id, call.id).await.unwrap();
    assert_eq!(call_in(&mut a1, "ended").await["end_reason"], "completed");
    let events = call_events(s, conv).await;
    assert_eq!(
        events
            .iter()
            .filter(|(k, _)| *k == EventKind::CallEnded)
            .count(),
        1
    );
}

async fn a_dropped_socket_that_does_not_come_back_leaves_after_the_grace(world: &World) {
    let s = &world.services;
    s.calls.set_resume_grace(Duration::from_millis(300));
    let (_, p) = people(world, &["aoki", "baba"]).await;
    let (a, b) = (&p[0], &p[1]);
    let conv = direct(s, a, b).await;
    let mut a1 = socket(s, a);
    let b1 = socket(s, b);
    let call = calls::start(s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    calls::join(s, b, b1.id, call.id, CallMedia::Audio)
        .await
        .unwrap();
    s.messaging.hub.unregister(b.user.id, b1.id);
    calls::socket_gone(s, b.user.id, b1.id, SocketEnd::Dropped).await;
    assert!(s.calls.get(call.id).is_some(), "the place waits");
    let ended = call_in(&mut a1, "ended").await;
    assert_eq!(ended["end_reason"], "completed");
    let mut b2 = socket(s, b);
    let err = calls::resume(s, b, b2.id, call.id).await.unwrap_err();
    assert_eq!(err.code, "call_not_found", "too late to resume");
    assert!(
        tokio::time::timeout(Duration::from_millis(100), b2.nudges.recv())
            .await
            .is_err()
    );
    let events = call_events(s, conv).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].1["end_reason"], "completed");
}

async fn a_socket_whose_page_closed_leaves_at_once(world: &World) {
    let s = &world.services;
    let (_, p) = people(world, &["aoki", "baba"]).await;
    let (a, b) = (&p[0], &p[1]);
    let conv = direct(s, a, b).await;
    let mut a1 = socket(s, a);
    let b1 = socket(s, b);
    let call = calls::start(s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    calls::join(s, b, b1.id, call.id, CallMedia::Audio)
        .await
        .unwrap();
    // b's page closed (the browser said "going away"): no grace, the call ends now.
    s.messaging.hub.unregister(b.user.id, b1.id);
    calls::socket_gone(s, b.user.id, b1.id, SocketEnd::PageClosed).await;
    assert!(
        s.calls.get(call.id).is_none(),
        "nothing waits for a closed page"
    );
    assert_eq!(call_in(&mut a1, "ended").await["end_reason"], "completed");
}

async fn only_the_same_unlocked_session_may_resume(world: &World) {
    let s = &world.services;
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, stranger) = (&p[0], &p[1], &p[2]);
    let conv = direct(s, a, b).await;
    let mut a1 = socket(s, a);
    let b1 = socket(s, b);
    let call = calls::start(s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    calls::join(s, b, b1.id, call.id, CallMedia::Audio)
        .await
        .unwrap();
    s.messaging.hub.unregister(b.user.id, b1.id);
    calls::socket_gone(s, b.user.id, b1.id, SocketEnd::Dropped).await;

    // b signed in on another device: that session cannot take the place.
    let (_, b_elsewhere) = world.sign_in("baba").await;
    let other = socket(s, &b_elsewhere);
    let err = calls::resume(s, &b_elsewhere, other.id, call.id)
        .await
        .unwrap_err();
    assert_eq!(err.code, "not_a_participant");
    // Nor can someone outside the conversation, nor b's own session once locked.
    let outsider = socket(s, stranger);
    let err = calls::resume(s, stranger, outsider.id, call.id)
        .await
        .unwrap_err();
    assert_eq!(err.code, "call_forbidden");
    let mut locked = b.clone();
    locked.locked = true;
    let b2 = socket(s, b);
    let err = calls::resume(s, &locked, b2.id, call.id).await.unwrap_err();
    assert_eq!(err.code, "call_forbidden");
    let now = s.calls.get(call.id).unwrap();
    assert!(
        now.participants
            .iter()
            .any(|p| p.conn == conn(&b1) && p.reconnecting)
    );
    // The session itself, unlocked, can.
    calls::resume(s, b, b2.id, call.id).await.unwrap();
    let seen = frame(&mut a1, "call", |v| place(&v["call"], &conn(&b2)).is_some()).await;
    assert_eq!(seen["call"]["state"], "active");
}

async fn a_resumed_group_participant_gets_a_new_relay_session(world: &World) {
    let (s, relay, _tx) = with_relay(world);
    let (_, p) = people(world, &["aoki", "baba", "chiba"]).await;
    let (a, b, c) = (&p[0], &p[1], &p[2]);
    let conv = group(&s, a, &[b, c]).await;
    let a1 = socket(&s, a);
    let b1 = socket(&s, b);
    let call = calls::start(&s, a, a1.id, conv, CallMedia::Audio)
        .await
        .unwrap();
    calls::join(&s, b, b1.id, call.id, CallMedia::Audio)
        .await
        .unwrap();
    s.messaging.hub.unregister(b.user.id, b1.id);
    calls::socket_gone(&s, b.user.id, b1.id, SocketEnd::Dropped).await;
    assert!(
        !relay.said().contains(&format!("leave {}", conn(&b1))),
        "the relay keeps the place while it waits"
    );
    let b2 = socket(&s, b);
    calls::resume(&s, b, b2.id, call.id).await.unwrap();
    assert!(relay.said().contains(&format!("leave {}", conn(&b1))));
    let offer = json!({"description": {"type": "offer", "sdp": "v=0..."}});
    calls::signal(&s, b.user.id, b2.id, call.id, "sfu", offer).unwrap();
    assert!(
        relay
            .said()
            .last()
            .unwrap()
            .starts_with(&format!("signal {} ", conn(&b2)))
    );
    assert!(!relay.said().contains(&"end".to_string()));
}
