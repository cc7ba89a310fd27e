//! The relay with real browsers: a throw-away signalling page for `browser_check.mjs`.
//!
//! Starts the relay on loopback and a tiny HTTP server (std only) that serves a page and
//! relays its signals: `POST /signal?conn=X` (data), `GET /poll?conn=X` (the relay's signals
//! for X, as a JSON array), `POST /layers?conn=X` (wants). One call. Not part of renkei:
//! the product signals over `/ws`; this only checks the relay against Chromium's WebRTC
//! (simulcast offers, ICE-lite, DTLS, renegotiation), which the str0m bots cannot.
//!
//! Usage: browser_check [HTTP_PORT=18480]   (then: node browser_check.mjs)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use renkei_core::call::{LayerWant, MediaRelay};
use renkei_sfu::Sfu;
use uuid::Uuid;

type Mailboxes = Arc<Mutex<HashMap<String, Vec<serde_json::Value>>>>;

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse().expect("a port"))
        .unwrap_or(18480);
    // `RUST_LOG=renkei_sfu=debug` shows the relay's layer decisions.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let udp: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (sfu, mut signals) = Sfu::start(udp, udp, 8).expect("the relay starts");
    let call = Uuid::now_v7();
    let mailboxes: Mailboxes = Arc::default();
    {
        let mailboxes = mailboxes.clone();
        std::thread::spawn(move || {
            while let Some(signal) = signals.blocking_recv() {
                mailboxes
                    .lock()
                    .unwrap()
                    .entry(signal.conn)
                    .or_default()
                    .push(signal.data);
            }
        });
    }
    let http = TcpListener::bind(("127.0.0.1", port)).expect("bind the page's port");
    println!(
        "relay on {}, page on http://127.0.0.1:{port}/",
        sfu.local_addr()
    );
    for stream in http.incoming().flatten() {
        let (sfu, mailboxes) = (sfu.clone(), mailboxes.clone());
        std::thread::spawn(move || serve(stream, &sfu, call, &mailboxes));
    }
}

fn serve(mut stream: TcpStream, sfu: &Sfu, call: Uuid, mailboxes: &Mailboxes) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let target = request.split(' ').nth(1).unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let conn = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("conn="))
        .unwrap_or("")
        .to_owned();
    let (kind, reply) = match path {
        "/" => ("text/html", PAGE.to_owned()),
        "/signal" => {
            let data = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            sfu.signal(call, &conn, data);
            ("application/json", "{}".to_owned())
        }
        "/layers" => {
            let wants: Vec<LayerWant> = serde_json::from_slice(&body).unwrap_or_default();
            sfu.layers(call, &conn, wants);
            ("application/json", "{}".to_owned())
        }
        "/poll" => {
            let mine = mailboxes.lock().unwrap().remove(&conn).unwrap_or_default();
            ("application/json", serde_json::to_string(&mine).unwrap())
        }
        _ => ("text/plain", String::new()),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

/// The page: camera (simulcast q/h/f) and microphone to the relay, every remote track shown,
/// perfect negotiation with the browser as the polite side.
const PAGE: &str = r#"<!doctype html><meta charset=utf-8><body><script>
const conn = new URLSearchParams(location.search).get('conn');
const post = (path, data) => fetch(`/${path}?conn=${conn}`, {method: 'POST', body: JSON.stringify(data)});
const pc = new RTCPeerConnection();
window.pc = pc; window.remote = {}; window.errors = [];
pc.ontrack = (e) => {
  const owner = e.streams[0] ? e.streams[0].id : '?';
  (window.remote[owner] ||= []).push({kind: e.track.kind, mid: e.transceiver.mid});
  const v = document.createElement(e.track.kind); v.autoplay = true; v.muted = true;
  v.srcObject = new MediaStream([e.track]); document.body.append(v);
};
let makingOffer = false;
pc.onnegotiationneeded = async () => {
  try { makingOffer = true; await pc.setLocalDescription(); await post('signal', {description: pc.localDescription}); }
  finally { makingOffer = false; }
};
async function poll() {
  for (;;) {
    const msgs = await (await fetch(`/poll?conn=${conn}`)).json();
    for (const m of msgs) {
      if (m.error) { window.errors.push(m.error); continue; }
      const d = m.description; if (!d) continue;
      if (d.type === 'offer' && (makingOffer || pc.signalingState !== 'stable')) {
        await pc.setLocalDescription({type: 'rollback'});
      }
      await pc.setRemoteDescription(d);
      if (d.type === 'offer') { await pc.setLocalDescription(); await post('signal', {description: pc.localDescription}); }
    }
    await new Promise(r => setTimeout(r, 50));
  }
}
window.stats = async () => {
  const out = [];
  (await pc.getStats()).forEach(s => {
    if (s.type === 'inbound-rtp') out.push({kind: s.kind, mid: s.mid, frames: s.framesDecoded || 0, packets: s.packetsReceived, width: s.frameWidth || 0});
    if (s.type === 'outbound-rtp' && s.kind === 'video') out.push({kind: 'sent', rid: s.rid, width: s.frameWidth || 0, frames: s.framesEncoded || 0});
  });
  return out;
};
window.want = (wants) => post('layers', wants);
(async () => {
  const media = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 1280, height: 720}});
  pc.addTransceiver(media.getVideoTracks()[0], {direction: 'sendonly', streams: [media],
    sendEncodings: [{rid: 'q', scaleResolutionDownBy: 4}, {rid: 'h', scaleResolutionDownBy: 2}, {rid: 'f'}]});
  pc.addTransceiver(media.getAudioTracks()[0], {direction: 'sendonly', streams: [media]});
  poll();
  window.ready = true;
})().catch(e => window.errors.push(String(e)));
</script>"#;
