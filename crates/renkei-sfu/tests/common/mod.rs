//! Client bots for the relay's tests: real str0m sessions on real loopback UDP sockets,
//! sending canned frames (no encoding) and counting what arrives, signalling through the
//! relay's `MediaRelay` methods and its signal channel as the service would.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use renkei_core::call::{LayerWant, MediaRelay, RelaySignal};
use renkei_sfu::Sfu;
use serde_json::{Value, json};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::format::Codec;
use str0m::media::{
    Direction, Frequency, MediaKind, MediaTime, Mid, Rid, Simulcast, SimulcastLayer,
};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};
use tokio::sync::mpsc;
use uuid::Uuid;

/// The simulcast layers a bot sends: rid, width, height.
pub const LAYERS: [(&str, u16, u16); 3] = [("l", 320, 180), ("m", 640, 360), ("h", 1280, 720)];

/// One frame that arrived at a bot, from the tag the sending bot wrote into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Got {
    /// The sending bot's tag.
    pub from: u8,
    pub kind: MediaKind,
    /// The layer's index in `LAYERS` (0 without simulcast).
    pub layer: u8,
    pub keyframe: bool,
}

pub struct Bot {
    pub conn: String,
    tag: u8,
    rtc: Rtc,
    socket: UdpSocket,
    addr: SocketAddr,
    pending: Option<SdpPendingOffer>,
    audio: Mid,
    video: Mid,
    simulcast: bool,
    next_frame: Instant,
    frames: u64,
    /// Layers (by rid, or "" without simulcast) whose next frame is a keyframe.
    keyframe_due: Vec<String>,
    pub got: Vec<Got>,
    /// Microseconds from a video frame's writing at its sender to its arrival here.
    pub latencies_us: Vec<u64>,
    /// Bytes of each audio frame and of each (non-simulcast) video frame.
    pub audio_bytes: usize,
    pub video_bytes: usize,
    /// Error signals the relay sent this bot.
    pub errors: Vec<String>,
    /// Offers the relay sent this bot.
    pub offers: usize,
    /// Drop every n-th datagram that arrives (0: none), as a lossy link would.
    pub drop_every: usize,
    arrived: usize,
    /// A link that carries this many bits per second towards the bot (None: loopback's).
    pub link_bps: Option<u64>,
    link: std::collections::VecDeque<(Vec<u8>, SocketAddr)>,
    link_credit: f64,
    link_at: Instant,
    camera_on: bool,
    /// The mids the relay added for others' tracks.
    added: Vec<Mid>,
    /// Simulcast layers this bot's encoder stopped sending (short of uplink or CPU).
    pub layers_off: Vec<&'static str>,
    /// Offers of the relay to leave unanswered (a lost message), from the next one on.
    pub ignore_offers: usize,
}

impl Bot {
    /// A bot with a microphone and a camera (simulcast `l`/`m`/`h` if asked), and its offer.
    pub fn new(conn: &str, tag: u8, simulcast: bool) -> (Bot, SdpOffer) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a bot socket");
        socket.set_nonblocking(true).unwrap();
        let addr = socket.local_addr().unwrap();
        let mut rtc = Rtc::builder().build(Instant::now());
        rtc.add_local_candidate(Candidate::host(addr, "udp").unwrap());
        let mut change = rtc.sdp_api();
        let audio = change.add_media(
            MediaKind::Audio,
            Direction::SendOnly,
            Some(conn.into()),
            None,
            None,
        );
        let layers = simulcast.then(|| {
            let mut s = Simulcast::new();
            for (rid, _, _) in LAYERS {
                s.add_send_layer(SimulcastLayer::new(rid));
            }
            s
        });
        let video = change.add_media(
            MediaKind::Video,
            Direction::SendOnly,
            Some(conn.into()),
            None,
            layers,
        );
        let (offer, pending) = change.apply().expect("an offer");
        let bot = Bot {
            conn: conn.into(),
            tag,
            rtc,
            socket,
            addr,
            pending: Some(pending),
            audio,
            video,
            simulcast,
            next_frame: Instant::now(),
            frames: 0,
            keyframe_due: Vec::new(),
            got: Vec::new(),
            errors: Vec::new(),
            offers: 0,
            drop_every: 0,
            arrived: 0,
            link_bps: None,
            link: Default::default(),
            link_credit: 0.0,
            link_at: Instant::now(),
            camera_on: true,
            added: Vec::new(),
            ignore_offers: 0,
            layers_off: Vec::new(),
            latencies_us: Vec::new(),
            audio_bytes: 60,
            video_bytes: 300,
        };
        (bot, offer)
    }

    /// Ticks on which this bot sent its audio and video frames.
    pub fn frames_sent(&self) -> u64 {
        self.frames
    }

    /// The tag this bot writes into its frames.
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// Frames from bot `from` of `kind` that arrived so far.
    pub fn count(&self, from: u8, kind: MediaKind) -> usize {
        self.got
            .iter()
            .filter(|g| g.from == from && g.kind == kind)
            .count()
    }

    /// Moves to a new socket (a phone going from Wi-Fi to mobile data) and restarts ICE:
    /// the offer to send.
    pub fn change_network(&mut self) -> SdpOffer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a bot socket");
        socket.set_nonblocking(true).unwrap();
        self.addr = socket.local_addr().unwrap();
        self.socket = socket;
        self.rtc
            .add_local_candidate(Candidate::host(self.addr, "udp").unwrap());
        let mut change = self.rtc.sdp_api();
        change.ice_restart(true);
        let (offer, pending) = change.apply().expect("a restart offer");
        self.pending = Some(pending);
        offer
    }

    /// How many of the tracks the relay added are of `kind` and still flowing to this bot.
    pub fn receiving(&self, kind: MediaKind) -> usize {
        self.added
            .iter()
            .filter_map(|m| self.rtc.media(*m))
            .filter(|m| m.kind() == kind && m.direction().is_receiving())
            .count()
    }

    /// Turns the camera off: the video goes inactive; the offer to send.
    pub fn camera_off(&mut self) -> SdpOffer {
        self.camera_on = false;
        let mut change = self.rtc.sdp_api();
        change.set_direction(self.video, Direction::Inactive);
        let (offer, pending) = change.apply().expect("an offer");
        self.pending = Some(pending);
        offer
    }

    /// What the relay said, applied; the data to send back, if any.
    fn signal(&mut self, data: &Value) -> Option<Value> {
        if let Some(e) = data.get("error") {
            self.errors
                .push(e["code"].as_str().unwrap_or("").to_owned());
            return None;
        }
        let d = &data["description"];
        let sdp = d["sdp"].as_str().expect("an sdp");
        match d["type"].as_str() {
            Some("answer") => {
                let answer = SdpAnswer::from_sdp_string(sdp).expect("the relay's answer parses");
                let pending = self
                    .pending
                    .take()
                    .expect("an offer of ours is outstanding");
                self.rtc
                    .sdp_api()
                    .accept_answer(pending, answer)
                    .expect("the relay's answer is accepted");
                None
            }
            Some("offer") => {
                self.offers += 1;
                if self.ignore_offers > 0 {
                    self.ignore_offers -= 1;
                    return None;
                }
                let offer = SdpOffer::from_sdp_string(sdp).expect("the relay's offer parses");
                let answer = self
                    .rtc
                    .sdp_api()
                    .accept_offer(offer)
                    .expect("the relay's offer is accepted");
                let sdp = if self.simulcast {
                    without_simulcast_ssrcs(&answer.to_sdp_string(), &self.video)
                } else {
                    answer.to_sdp_string()
                };
                Some(json!({"description": {"type": "answer", "sdp": sdp}}))
            }
            other => panic!("unexpected description {other:?}"),
        }
    }

    /// Reads the socket, sends frames when due, and runs the session until it waits.
    fn drive(&mut self, now: Instant) {
        let mut buf = [0u8; 2000];
        while let Ok((n, source)) = self.socket.recv_from(&mut buf) {
            self.arrived += 1;
            if self.drop_every > 0 && self.arrived.is_multiple_of(self.drop_every) {
                continue;
            }
            self.link.push_back((buf[..n].to_vec(), source));
        }
        // A narrow link: datagrams leave the queue at `link_bps`; a full queue drops.
        let mut credit = f64::INFINITY;
        if let Some(bps) = self.link_bps {
            let elapsed = now.saturating_duration_since(self.link_at).as_secs_f64();
            self.link_credit = (self.link_credit + elapsed * bps as f64 / 8.0).min(4000.0);
            credit = self.link_credit;
            while self.link.len() > 200 {
                self.link.pop_back();
            }
        }
        self.link_at = now;
        while let Some((datagram, _)) = self.link.front() {
            if (datagram.len() as f64) > credit {
                break;
            }
            credit -= datagram.len() as f64;
            let (datagram, source) = self.link.pop_front().expect("a front");
            let Ok(contents) = datagram.as_slice().try_into() else {
                continue;
            };
            let input = Input::Receive(
                now,
                Receive {
                    proto: Protocol::Udp,
                    source,
                    destination: self.addr,
                    contents,
                },
            );
            self.rtc
                .handle_input(input)
                .expect("bot handles a datagram");
        }
        if self.link_bps.is_some() {
            self.link_credit = credit;
        }
        self.rtc.handle_input(Input::Timeout(now)).unwrap();
        if self.rtc.is_connected() && now >= self.next_frame {
            self.send_frames(now);
            self.next_frame = now + Duration::from_millis(30);
        }
        loop {
            match self.rtc.poll_output().expect("bot polls") {
                Output::Timeout(_) => break,
                Output::Transmit(t) => {
                    let _ = self.socket.send_to(&t.contents, t.destination);
                }
                Output::Event(e) => self.event(e),
            }
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::MediaData(d) => {
                let (kind, body) =
                    if self.rtc.media(d.mid).map(|m| m.kind()) == Some(MediaKind::Audio) {
                        (MediaKind::Audio, &d.data[..])
                    } else if d.data.first().is_some_and(|b| b & 1 == 0) {
                        (MediaKind::Video, &d.data[10..])
                    } else {
                        (MediaKind::Video, &d.data[3..])
                    };
                if kind == MediaKind::Video && body.len() >= 10 {
                    let sent = u64::from_le_bytes(body[2..10].try_into().unwrap());
                    self.latencies_us
                        .push(micros_since_epoch().saturating_sub(sent));
                }
                if body.len() >= 2 {
                    self.got.push(Got {
                        from: body[0],
                        kind,
                        layer: body[1],
                        keyframe: kind == MediaKind::Video && d.is_keyframe(),
                    });
                }
            }
            Event::MediaAdded(added) => self.added.push(added.mid),
            Event::KeyframeRequest(req) => {
                let rid = req.rid.map(|r| r.to_string()).unwrap_or_default();
                if !self.keyframe_due.contains(&rid) {
                    self.keyframe_due.push(rid);
                }
            }
            _ => {}
        }
    }

    /// One audio frame, and one video frame per layer; a keyframe every 3 s or on request.
    fn send_frames(&mut self, now: Instant) {
        self.frames += 1;
        let n = self.frames;
        let opus = pt(&mut self.rtc, self.audio, Codec::Opus);
        let audio_time = MediaTime::new(n * 1440, Frequency::FORTY_EIGHT_KHZ);
        let mut frame = vec![self.tag, 0];
        frame.resize(self.audio_bytes, 0xaa);
        self.rtc
            .writer(self.audio)
            .unwrap()
            .write(opus, now, audio_time, frame)
            .expect("bot writes audio");

        if !self.camera_on {
            return;
        }
        let vp8 = pt(&mut self.rtc, self.video, Codec::Vp8);
        let video_time = MediaTime::new(n * 2700, Frequency::NINETY_KHZ);
        let layers: Vec<(Option<&str>, u16, u16, u8)> = if self.simulcast {
            LAYERS
                .iter()
                .enumerate()
                .map(|(i, (rid, w, h))| (Some(*rid), *w, *h, i as u8))
                .collect()
        } else {
            vec![(None, 640, 360, 0)]
        };
        for (rid, width, height, index) in layers {
            if rid.is_some_and(|r| self.layers_off.contains(&r)) {
                continue;
            }
            let name = rid.unwrap_or("").to_owned();
            let keyframe = n % 100 == 1 || self.keyframe_due.contains(&name);
            self.keyframe_due.retain(|r| *r != name);
            let mut frame = if keyframe {
                let [w0, w1] = width.to_le_bytes();
                let [h0, h1] = height.to_le_bytes();
                vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, w0, w1, h0, h1]
            } else {
                vec![0x11, 0x02, 0x00]
            };
            frame.extend([self.tag, index]);
            frame.extend(micros_since_epoch().to_le_bytes());
            // Bigger layers are bigger frames, so their bitrates differ as real ones do.
            let size = if self.simulcast {
                100 * (usize::from(index) + 1)
            } else {
                self.video_bytes
            };
            frame.resize(frame.len() + size, 0x55);
            let mut writer = self.rtc.writer(self.video).unwrap();
            if let Some(rid) = rid {
                writer = writer.rid(Rid::from(rid));
            }
            writer
                .write(vp8, now, video_time, frame)
                .expect("bot writes video");
        }
    }
}

/// The answer without `a=ssrc` lines in the bot's own simulcast section, as Chromium
/// signals rid-based simulcast. str0m's answer repeats those lines but not the `a=rid` and
/// `a=simulcast` ones, and the relay's str0m would then bind the layers' SSRCs to "no rid"
/// and see one stream where there are three.
fn without_simulcast_ssrcs(sdp: &str, video: &Mid) -> String {
    let mid_line = format!("a=mid:{video}");
    let mut out = String::new();
    let mut in_video = false;
    for line in sdp.split_inclusive("\r\n") {
        if line.starts_with("m=") {
            in_video = false;
        }
        if line.trim_end() == mid_line {
            in_video = true;
        }
        if in_video && line.starts_with("a=ssrc") {
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Microseconds since the first call in this process (a clock all bots share).
pub fn micros_since_epoch() -> u64 {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

fn pt(rtc: &mut Rtc, mid: Mid, codec: Codec) -> str0m::media::Pt {
    rtc.writer(mid)
        .unwrap()
        .payload_params()
        .find(|p| p.spec().codec == codec)
        .map(|p| p.pt())
        .expect("the codec was negotiated")
}

/// A relay on loopback, bots, and the signalling between them.
pub struct Room {
    pub sfu: Sfu,
    signals: mpsc::Receiver<RelaySignal>,
    pub call: Uuid,
    pub bots: Vec<Bot>,
    /// Signals for conns that have no bot here, in arrival order.
    pub stray: Vec<RelaySignal>,
}

impl Room {
    pub fn new(max_participants: usize) -> Room {
        // `RUST_LOG=renkei_sfu=debug,str0m=debug` shows the relay's and str0m's view.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let (sfu, signals) = Sfu::start(listen, listen, max_participants).expect("start the relay");
        Room {
            sfu,
            signals,
            call: Uuid::now_v7(),
            bots: Vec::new(),
            stray: Vec::new(),
        }
    }

    /// A bot joins the call: its offer goes to the relay.
    pub fn join(&mut self, conn: &str, tag: u8, simulcast: bool) {
        let (bot, offer) = Bot::new(conn, tag, simulcast);
        self.sfu
            .signal(self.call, conn, json!({"description": offer}));
        self.bots.push(bot);
    }

    pub fn bot(&self, conn: &str) -> &Bot {
        self.bots.iter().find(|b| b.conn == conn).expect("a bot")
    }

    pub fn bot_mut(&mut self, conn: &str) -> &mut Bot {
        self.bots
            .iter_mut()
            .find(|b| b.conn == conn)
            .expect("a bot")
    }

    /// Bot `conn` changes network and restarts ICE through the relay.
    pub fn change_network(&mut self, conn: &str) {
        let offer = self.bot_mut(conn).change_network();
        self.sfu
            .signal(self.call, conn, json!({"description": offer}));
    }

    /// Bot `conn` turns its camera off through the relay.
    pub fn camera_off(&mut self, conn: &str) {
        let offer = self.bot_mut(conn).camera_off();
        self.sfu
            .signal(self.call, conn, json!({"description": offer}));
    }

    /// Whether every bot gets at least `n` audio and video frames from every other bot.
    pub fn all_hear_all(&self, n: usize) -> bool {
        self.bots.iter().all(|bot| {
            self.bots
                .iter()
                .filter(|other| other.conn != bot.conn)
                .all(|other| {
                    bot.count(other.tag, MediaKind::Audio) >= n
                        && bot.count(other.tag, MediaKind::Video) >= n
                })
        })
    }

    pub fn remove(&mut self, conn: &str) -> Bot {
        let i = self
            .bots
            .iter()
            .position(|b| b.conn == conn)
            .expect("a bot");
        self.bots.remove(i)
    }

    pub fn layers(&self, conn: &str, wants: Vec<LayerWant>) {
        self.sfu.layers(self.call, conn, wants);
    }

    /// Runs everything for `time`.
    pub fn run_for(&mut self, time: Duration) {
        let end = Instant::now() + time;
        while Instant::now() < end {
            self.step();
        }
    }

    /// Runs everything until `done` holds; panics after `limit`.
    pub fn run_until(&mut self, limit: Duration, what: &str, done: impl Fn(&Room) -> bool) {
        let end = Instant::now() + limit;
        while !done(self) {
            if Instant::now() >= end {
                let got: Vec<_> = self
                    .bots
                    .iter()
                    .map(|b| (&b.conn, summary(b), &b.errors))
                    .collect();
                panic!("timed out waiting until {what}; got {got:?}");
            }
            self.step();
        }
    }

    fn step(&mut self) {
        while let Ok(signal) = self.signals.try_recv() {
            assert_eq!(signal.call, self.call, "a signal for another call");
            match self.bots.iter_mut().find(|b| b.conn == signal.conn) {
                Some(bot) => {
                    if let Some(reply) = bot.signal(&signal.data) {
                        self.sfu.signal(self.call, &signal.conn, reply);
                    }
                }
                None => self.stray.push(signal),
            }
        }
        let now = Instant::now();
        for bot in &mut self.bots {
            bot.drive(now);
        }
        std::thread::sleep(Duration::from_millis(2));
    }

    /// Waits for the next signal to a conn without a bot (for the bad-input tests).
    pub fn next_stray(&mut self, limit: Duration) -> RelaySignal {
        let end = Instant::now() + limit;
        while self.stray.is_empty() {
            assert!(Instant::now() < end, "no signal came");
            self.step();
        }
        self.stray.remove(0)
    }
}

/// A want for `conn`'s video.
pub fn want(conn: &str, width: u32, height: u32, visible: bool) -> LayerWant {
    LayerWant {
        conn: conn.into(),
        mid: None,
        width,
        height,
        visible,
    }
}

/// Counts per sender tag of what a bot got, for messages.
pub fn summary(bot: &Bot) -> HashMap<(u8, String), usize> {
    let mut m = HashMap::new();
    for g in &bot.got {
        *m.entry((g.from, format!("{:?}/{}", g.kind, g.layer)))
            .or_default() += 1;
    }
    m
}
