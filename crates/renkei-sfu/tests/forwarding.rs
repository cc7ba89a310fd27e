//! The relay over real UDP on loopback, with str0m client bots: what one sends, the others
//! get; hidden videos pause; leavers stop; simulcast layers follow the shown size; bad
//! signals are refused without harm.

mod common;

use std::time::Duration;

use common::{Room, summary, want};
use renkei_core::call::MediaRelay;
use serde_json::json;
use str0m::media::MediaKind::{Audio, Video};

const SETUP: Duration = Duration::from_secs(15);

#[test]
fn each_participant_receives_the_others_audio_and_video() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.join("c", 3, false);
    room.run_until(SETUP, "everyone gets everyone's media", |r| {
        r.all_hear_all(20)
    });
    // Nobody gets their own media back.
    for bot in &room.bots {
        let own = bot.tag();
        assert_eq!(bot.count(own, Audio) + bot.count(own, Video), 0);
    }
}

#[test]
fn six_people_each_receive_the_other_five() {
    let mut room = Room::new(8);
    for (i, conn) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
        room.join(conn, i as u8 + 1, false);
    }
    room.run_until(
        Duration::from_secs(30),
        "all six get all five others",
        |r| r.all_hear_all(20),
    );
}

#[test]
fn a_joiner_mid_call_gets_the_others_and_they_get_the_joiner() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.run_until(SETUP, "a and b talk", |r| r.all_hear_all(20));
    room.join("c", 3, false);
    room.run_until(SETUP, "the three talk", |r| r.all_hear_all(20));
}

#[test]
fn an_offer_left_unanswered_is_made_again() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.run_until(SETUP, "a is answered", |r| {
        r.bot("a").offers == 0 && r.stray.is_empty()
    });
    room.join("b", 2, false);
    // b loses the relay's first offer of a's tracks.
    room.bot_mut("b").ignore_offers = 1;
    room.run_until(Duration::from_secs(20), "b gets a's media after all", |r| {
        r.bot("b").count(1, Audio) >= 10 && r.bot("b").count(1, Video) >= 10
    });
    assert!(room.bot("b").offers >= 2);
}

#[test]
fn media_goes_on_over_a_lossy_link() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.run_until(SETUP, "a and b talk", |r| r.all_hear_all(10));
    // b loses one datagram in ten from now on.
    room.bot_mut("b").drop_every = 10;
    let (audio, video) = (room.bot("b").count(1, Audio), room.bot("b").count(1, Video));
    room.run_for(Duration::from_secs(3));
    let b = room.bot("b");
    // About 100 frames of each were sent in 3 s; retransmissions (NACK/RTX) and whole
    // frames keep most video frames whole, audio loses what it loses.
    assert!(
        b.count(1, Video) >= video + 60,
        "video: {video} then {}",
        b.count(1, Video)
    );
    assert!(
        b.count(1, Audio) >= audio + 60,
        "audio: {audio} then {}",
        b.count(1, Audio)
    );
}

#[test]
fn an_ice_restart_on_a_new_network_keeps_the_call() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.run_until(SETUP, "a and b talk", |r| r.all_hear_all(10));
    room.change_network("a");
    let (from_a, from_b) = (room.bot("b").count(1, Video), room.bot("a").count(2, Video));
    room.run_until(SETUP, "media flows both ways from a's new address", |r| {
        r.bot("b").count(1, Video) >= from_a + 40 && r.bot("a").count(2, Video) >= from_b + 40
    });
    assert!(
        room.bot("a").errors.is_empty(),
        "{:?}",
        room.bot("a").errors
    );
}

#[test]
fn a_hidden_video_stops_while_its_audio_goes_on_and_comes_back_when_shown() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.run_until(SETUP, "b gets a's media", |r| {
        r.bot("b").count(1, Video) >= 10 && r.bot("b").count(1, Audio) >= 10
    });

    room.layers("b", vec![want("a", 320, 180, false)]);
    // Frames already on the way may still land.
    room.run_for(Duration::from_millis(500));
    let (video, audio) = (room.bot("b").count(1, Video), room.bot("b").count(1, Audio));
    room.run_for(Duration::from_secs(2));
    let b = room.bot("b");
    assert_eq!(b.count(1, Video), video, "a hidden video is not forwarded");
    assert!(
        b.count(1, Audio) >= audio + 30,
        "audio goes on: {audio} then {}",
        b.count(1, Audio)
    );
    // a still gets b's video: the pause is b's alone.
    let a_got = room.bot("a").count(2, Video);
    assert!(a_got >= 40, "a gets b's video: {a_got}");

    room.layers("b", vec![want("a", 320, 180, true)]);
    let before = room.bot("b").got.len();
    room.run_until(Duration::from_secs(5), "b gets a's video again", |r| {
        r.bot("b").count(1, Video) >= video + 10
    });
    // It resumes at a keyframe (asked of a by the relay).
    let first = room.bot("b").got[before..]
        .iter()
        .find(|g| g.from == 1 && g.kind == Video)
        .copied()
        .unwrap();
    assert!(first.keyframe, "the resumed video starts at a keyframe");
}

#[test]
fn a_leavers_tracks_stop_and_the_others_go_on() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.join("c", 3, false);
    room.run_until(SETUP, "b gets a's and c's media", |r| {
        let b = r.bot("b");
        b.count(1, Video) >= 10 && b.count(3, Video) >= 10 && b.count(1, Audio) >= 10
    });
    let offers = room.bot("b").offers;
    assert_eq!(room.bot("b").receiving(Video), 2);

    room.sfu.leave(room.call, "a");
    // The bot for a keeps sending, as a browser that has not noticed yet would.
    room.run_for(Duration::from_millis(500));
    let from_a = room.bot("b").count(1, Audio) + room.bot("b").count(1, Video);
    let from_c = room.bot("b").count(3, Video);
    room.run_for(Duration::from_secs(2));
    let b = room.bot("b");
    assert_eq!(
        b.count(1, Audio) + b.count(1, Video),
        from_a,
        "nothing more from a"
    );
    assert!(b.count(3, Video) >= from_c + 30, "c's video goes on");
    assert!(b.offers > offers, "b was offered the removal of a's tracks");
    assert_eq!(b.receiving(Video), 1, "only c's video is left at b");
    assert_eq!(b.receiving(Audio), 1, "only c's audio is left at b");
    assert!(room.bot("c").count(2, Audio) >= 50, "c still hears b");
}

#[test]
fn a_camera_turned_off_is_stopped_at_the_others() {
    let mut room = Room::new(8);
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.run_until(SETUP, "a and b talk", |r| r.all_hear_all(10));
    assert_eq!(room.bot("b").receiving(Video), 1);
    room.camera_off("a");
    room.run_until(SETUP, "b's track for a's video stops", |r| {
        r.bot("b").receiving(Video) == 0
    });
    assert_eq!(room.bot("b").receiving(Audio), 1);
    room.run_for(Duration::from_millis(300));
    let (video, audio) = (room.bot("b").count(1, Video), room.bot("b").count(1, Audio));
    room.run_for(Duration::from_secs(1));
    assert_eq!(room.bot("b").count(1, Video), video);
    assert!(room.bot("b").count(1, Audio) >= audio + 20);
}

#[test]
fn a_simulcast_video_is_forwarded_at_the_layer_the_tile_needs() {
    let mut room = Room::new(8);
    room.join("a", 1, true);
    room.join("b", 2, false);
    room.layers("b", vec![want("a", 320, 180, true)]);
    room.run_until(SETUP, "b gets a's video", |r| {
        r.bot("b").count(1, Video) >= 20
    });
    // Let the relay measure the layers and settle.
    room.run_for(Duration::from_secs(1));
    let before = room.bot("b").got.len();
    room.run_for(Duration::from_secs(1));
    let layers_of = |room: &Room, from: usize| -> Vec<u8> {
        let mut l: Vec<u8> = room.bot("b").got[from..]
            .iter()
            .filter(|g| g.from == 1 && g.kind == Video)
            .map(|g| g.layer)
            .collect();
        l.dedup();
        l
    };
    assert_eq!(
        layers_of(&room, before),
        vec![0],
        "a small tile gets the low layer: {:?}",
        summary(room.bot("b"))
    );

    // The tile grows to full size: b switches to the high layer, at a keyframe.
    room.layers("b", vec![want("a", 1280, 720, true)]);
    let switch_from = room.bot("b").got.len();
    room.run_until(Duration::from_secs(5), "b gets the high layer", |r| {
        r.bot("b").got[switch_from..]
            .iter()
            .filter(|g| g.from == 1 && g.layer == 2)
            .count()
            >= 10
    });
    let first_high = room.bot("b").got[switch_from..]
        .iter()
        .find(|g| g.from == 1 && g.layer == 2)
        .copied()
        .unwrap();
    assert!(first_high.keyframe, "the switch happens at a keyframe");
    let settled = room.bot("b").got.len();
    room.run_for(Duration::from_secs(1));
    assert_eq!(
        layers_of(&room, settled),
        vec![2],
        "only the high layer once switched"
    );

    // A medium tile takes the middle layer.
    room.layers("b", vec![want("a", 600, 300, true)]);
    let switch_from = room.bot("b").got.len();
    room.run_until(Duration::from_secs(5), "b gets the middle layer", |r| {
        r.bot("b").got[switch_from..]
            .iter()
            .filter(|g| g.from == 1 && g.layer == 1)
            .count()
            >= 10
    });
}

#[test]
fn a_layer_the_sender_stops_is_replaced_by_the_best_one_left() {
    let mut room = Room::new(8);
    room.join("a", 1, true);
    room.join("b", 2, false);
    room.layers("b", vec![want("a", 1280, 720, true)]);
    room.run_until(SETUP, "b gets a's high layer", |r| {
        r.bot("b")
            .got
            .iter()
            .filter(|g| g.from == 1 && g.layer == 2)
            .count()
            >= 10
    });
    // a's encoder drops its top layer: b moves to the middle one, at a keyframe.
    room.bot_mut("a").layers_off = vec!["h"];
    let from = room.bot("b").got.len();
    room.run_until(Duration::from_secs(5), "b gets the middle layer", |r| {
        r.bot("b").got[from..]
            .iter()
            .filter(|g| g.from == 1 && g.layer == 1)
            .count()
            >= 10
    });
    let first = room.bot("b").got[from..]
        .iter()
        .find(|g| g.from == 1 && g.layer == 1)
        .copied()
        .unwrap();
    assert!(first.keyframe);
}

#[test]
fn bad_signals_get_an_error_or_are_ignored_and_the_relay_goes_on() {
    let mut room = Room::new(2);
    let call = room.call;
    let sfu = room.sfu.clone();

    // Garbage: not a description, an SDP that does not parse, a description with no
    // m-lines.
    sfu.signal(call, "x", json!({"hello": 1}));
    assert_eq!(error(&room.next_stray(SETUP).data), "invalid_signal");
    sfu.signal(
        call,
        "x",
        json!({"description": {"type": "offer", "sdp": "garbage"}}),
    );
    assert_eq!(error(&room.next_stray(SETUP).data), "invalid_signal");
    sfu.signal(
        call,
        "x",
        json!({"description": {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"}}),
    );
    assert_eq!(error(&room.next_stray(SETUP).data), "sdp_rejected");
    // An answer from someone who never offered.
    let (_, offer) = common::Bot::new("tmp", 9, false);
    let as_answer = json!({"description": {"type": "answer", "sdp": offer.to_sdp_string()}});
    sfu.signal(call, "x", as_answer);
    assert_eq!(error(&room.next_stray(SETUP).data), "unknown_participant");
    // Candidates and layers for strangers, and leaving a call nobody is in: ignored.
    sfu.signal(
        call,
        "x",
        json!({"candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host"}}),
    );
    sfu.layers(call, "x", vec![want("y", 1, 1, true)]);
    sfu.leave(uuid::Uuid::now_v7(), "x");

    // The relay still works: two join and talk; a third is one too many.
    room.join("a", 1, false);
    room.join("b", 2, false);
    room.run_until(SETUP, "a and b talk", |r| r.bot("b").count(1, Audio) >= 5);
    let (_, offer) = common::Bot::new("c", 3, false);
    sfu.signal(call, "c", json!({"description": offer}));
    assert_eq!(error(&room.next_stray(SETUP).data), "call_full");

    // After the end, signals are refused.
    sfu.end(call);
    let (_, offer) = common::Bot::new("d", 4, false);
    sfu.signal(call, "d", json!({"description": offer}));
    assert_eq!(error(&room.next_stray(SETUP).data), "call_ended");
    // and the ended call's media no longer flows.
    room.run_for(Duration::from_millis(500));
    let heard = room.bot("b").count(1, Audio);
    room.run_for(Duration::from_secs(1));
    assert_eq!(room.bot("b").count(1, Audio), heard);
    assert!(
        room.stray.is_empty(),
        "nothing else was said: {:?}",
        room.stray
    );
}

#[test]
fn the_relay_refuses_to_advertise_an_unspecified_address() {
    let any = "0.0.0.0:0".parse().unwrap();
    let err = renkei_sfu::Sfu::start(any, any, 8).err().expect("refused");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

fn error(data: &serde_json::Value) -> &str {
    data["error"]["code"].as_str().unwrap_or("(not an error)")
}

#[test]
fn a_congested_receiver_is_stepped_down_a_layer() {
    let mut room = Room::new(8);
    room.join("a", 1, true);
    room.join("b", 2, false);
    room.layers("b", vec![want("a", 1280, 720, true)]);
    room.run_until(SETUP, "b gets a's high layer", |r| {
        r.bot("b")
            .got
            .iter()
            .filter(|g| g.from == 1 && g.layer == 2)
            .count()
            >= 20
    });
    // b's link narrows to 70 kbit/s, below the high layer and audio (about 100 kbit/s):
    // queues grow, its estimate falls below what the relay sends it, and stays there.
    room.bot_mut("b").link_bps = Some(70_000);
    let from = room.bot("b").got.len();
    room.run_until(
        Duration::from_secs(20),
        "b is moved to a lower layer",
        |r| {
            r.bot("b").got[from..]
                .iter()
                .filter(|g| g.from == 1 && g.kind == Video && g.layer < 2)
                .count()
                >= 10
        },
    );
}
