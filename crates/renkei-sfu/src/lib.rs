//! The selective forwarding unit for group calls: str0m sessions on one UDP socket.
//!
//! # What it does
//! Each participant of a group call negotiates one WebRTC session with the relay, over the
//! call signalling of `/ws` (`call_signal` with `to_conn: "sfu"`). The browser offers its
//! microphone and camera; the relay answers. Every track a participant sends is forwarded
//! to every other participant of the same call: the relay adds a sending track per remote
//! track and offers it to the receiver (the browser is the polite side and answers). A
//! forwarded track's stream id (`a=msid`) is the sender's conn, its track id
//! `<conn>-<sender mid>`, so the browser can tell whose video a tile shows.
//!
//! # Simulcast and layers
//! When a browser sends simulcast (rids `l`/`m`/`h` or `q`/`h`/`f`), each receiver gets one
//! layer per video: the smallest layer at least as big as the tile is shown
//! (`call_layers` wants: `LayerWant.mid` is the mid *on the receiver's side*, or `None` for
//! all of that conn's videos), stepped down while the receiver's bandwidth estimate
//! (str0m's TWCC/REMB estimator) cannot carry them all — counted as congestion only when the
//! estimate stays below what is sent for 3 s, since an application-limited estimate trails
//! what is sent (see `layers`). `visible: false` pauses a video:
//! nothing is forwarded and no keyframe is asked for. A layer switch asks the sender for a
//! keyframe of the new layer (PLI, else FIR) and happens at that keyframe; the old layer
//! keeps flowing until then, and the media clock stays continuous (`timeline`). A tile with
//! no want is treated as shown at 640×360. Layer sizes come from VP8 keyframe headers;
//! for other codecs the rid's name orders the layers and sizes are assumed to halve from
//! 720p. A layer with no frame for a second is off (browsers drop top layers when their
//! uplink or CPU is short) and is not chosen.
//!
//! # Negotiation
//! The browser's offers are answered; the relay offers only to add or stop others' tracks,
//! one offer outstanding per participant. A browser offer crossing it is ignored (the
//! browser is the polite side: it rolls back, answers, and offers again); an offer not
//! answered in 10 s is given up and made again. ICE restarts (a phone changing network) are
//! a browser offer like any other. The relay is ICE-lite: its one host candidate (`public`)
//! is in every SDP, and it sends no candidates.
//!
//! # Errors
//! A signal the relay cannot use gets an error signal back,
//! `{"error": {"code", "message"}}` with the codes of [`SfuError::code`]; nothing panics and
//! the call goes on. Answers and layers for unknown participants, and late candidates, are
//! ignored or refused the same way; signals for an ended call get `call_ended`.
//!
//! # Modules, decisions first
//! - `layers`: which layer each video gets (pure).
//! - `routing`: who receives which track, as a diff (pure).
//! - `timeline`: a forwarded video's clock across layer switches (pure).
//! - `vp8`: a keyframe's picture size (pure).
//! - `signal`: the JSON of `call_signal` data.
//! - `tracks`: a session's incoming tracks (layers measured) and outgoing ones.
//! - `participant`: one str0m session and its negotiation state.
//! - `room`: one call; applies the decisions.
//! - `engine`: the socket, the loop, the commands.
//!
//! # Dependencies and tests
//! str0m 0.23 with only its `aws-lc-rs` feature (its default crypto, without the examples'
//! web server): DTLS and SRTP through aws-lc, built from source by the `cc` crate; no
//! OpenSSL, no system package. (str0m's `rust-crypto` backend still pulls aws-lc in through
//! certificate generation, so it would only add crates.) The tests in `tests/` drive the
//! relay over loopback UDP with str0m client bots (`tests/common`), which
//! `examples/forwarding_bench.rs` (run by `bench/calls.sh`) reuses.
//! `examples/browser_check.{rs,mjs}` checks it against three Chromium pages by hand (not in
//! CI: the product's own group-call e2e goes through `/ws`).
//!
//! No media is recorded or decoded: frames are forwarded as they arrive.

mod engine;
mod error;
pub mod layers;
mod participant;
mod room;
pub mod routing;
mod signal;
mod timeline;
mod tracks;
pub mod vp8;

use std::io;
use std::net::SocketAddr;

use renkei_core::call::{LayerWant, MediaRelay, RelaySignal};
use tokio::sync::mpsc;
use uuid::Uuid;

pub use error::SfuError;

use engine::{Command, Engine};

/// Signals waiting for the service before the relay keeps them in its own queue.
const SIGNAL_QUEUE: usize = 1024;

/// A running relay. Dropping every clone of it stops the relay's thread.
#[derive(Clone)]
pub struct Sfu {
    commands: mpsc::UnboundedSender<Command>,
    local: SocketAddr,
}

impl Sfu {
    /// Binds `listen` (UDP), advertises `public` in every answer, and takes at most
    /// `max_participants` sessions per call. The receiver yields what the relay says to
    /// participants (`call_signal` data from `"sfu"`).
    pub fn start(
        listen: SocketAddr,
        public: SocketAddr,
        max_participants: usize,
    ) -> io::Result<(Sfu, mpsc::Receiver<RelaySignal>)> {
        if public.ip().is_unspecified() {
            // Browsers cannot send to 0.0.0.0: the caller must say where the relay is reached.
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the relay's public address must not be unspecified",
            ));
        }
        let socket = std::net::UdpSocket::bind(listen)?;
        socket.set_nonblocking(true)?;
        let local = socket.local_addr()?;
        // A public address with port 0 means "the port we got" (tests bind port 0).
        let public = if public.port() == 0 {
            SocketAddr::new(public.ip(), local.port())
        } else {
            public
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (signals, signal_rx) = mpsc::channel(SIGNAL_QUEUE);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("renkei-sfu".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let socket = match tokio::net::UdpSocket::from_std(socket) {
                        Ok(socket) => socket,
                        Err(e) => {
                            let _ = started_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = started_tx.send(Ok(()));
                    Engine::new(socket, public, max_participants, signals)
                        .run(command_rx)
                        .await;
                });
            })?;
        started_rx
            .recv()
            .map_err(|_| io::Error::other("the relay thread stopped while starting"))??;
        tracing::info!(%local, %public, "call relay listening");
        Ok((Sfu { commands, local }, signal_rx))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn send(&self, command: Command) {
        // Fails only once the relay's thread is gone; there is nobody left to tell.
        let _ = self.commands.send(command);
    }
}

impl MediaRelay for Sfu {
    fn signal(&self, call: Uuid, conn: &str, data: serde_json::Value) {
        self.send(Command::Signal {
            call,
            conn: conn.to_owned(),
            data,
        });
    }

    fn layers(&self, call: Uuid, conn: &str, wants: Vec<LayerWant>) {
        self.send(Command::Layers {
            call,
            conn: conn.to_owned(),
            wants,
        });
    }

    fn leave(&self, call: Uuid, conn: &str) {
        self.send(Command::Leave {
            call,
            conn: conn.to_owned(),
        });
    }

    fn end(&self, call: Uuid) {
        self.send(Command::End { call });
    }
}
