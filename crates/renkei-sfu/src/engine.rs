//! The relay's loop: one UDP socket, every call's sessions, the commands from the service.
//!
//! Reasons:
//! - str0m is sans-IO: this loop owns all I/O. It runs on its own thread with a
//!   single-threaded tokio runtime so media timing does not depend on how busy the server's
//!   runtime is, and so `Sfu::start` works from sync and async code alike.
//! - One socket serves every participant of every call (one port to open in a firewall);
//!   an incoming datagram goes to the session whose `accepts` takes it (ICE username for
//!   STUN, then the learned remote address).
//! - Signals back to participants go through a bounded channel; when it is full they wait
//!   in `outbox` and the loop never blocks on the service.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use renkei_core::call::{LayerWant, RelaySignal};
use str0m::Input;
use str0m::net::{Protocol, Receive};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::error::SfuError;
use crate::participant::{Happened, Participant};
use crate::room::Room;
use crate::signal::{self, Inbound};

/// How often layers are re-decided and layer bitrates measured.
const ALLOCATE_EVERY: Duration = Duration::from_millis(500);
/// How long an ended call's id is remembered, to refuse late signals for it.
const ENDED_KEPT: Duration = Duration::from_secs(600);

/// What the service asks of the relay.
#[derive(Debug)]
pub enum Command {
    Signal {
        call: Uuid,
        conn: String,
        data: serde_json::Value,
    },
    Layers {
        call: Uuid,
        conn: String,
        wants: Vec<LayerWant>,
    },
    Leave {
        call: Uuid,
        conn: String,
    },
    End {
        call: Uuid,
    },
}

pub struct Engine {
    socket: UdpSocket,
    public: SocketAddr,
    max_participants: usize,
    calls: HashMap<Uuid, Room>,
    ended: HashMap<Uuid, Instant>,
    signals: mpsc::Sender<RelaySignal>,
    outbox: VecDeque<RelaySignal>,
    next_allocate: Instant,
}

impl Engine {
    pub fn new(
        socket: UdpSocket,
        public: SocketAddr,
        max_participants: usize,
        signals: mpsc::Sender<RelaySignal>,
    ) -> Engine {
        Engine {
            socket,
            public,
            max_participants,
            calls: HashMap::new(),
            ended: HashMap::new(),
            signals,
            outbox: VecDeque::new(),
            next_allocate: Instant::now(),
        }
    }

    /// Runs until every `Sfu` handle is dropped.
    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut buf = vec![0u8; 2000];
        loop {
            let wake = self.poll_all();
            self.flush();
            let sleep = tokio::time::sleep_until(wake.into());
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.command(command),
                    None => return,
                },
                received = self.socket.recv_from(&mut buf) => match received {
                    Ok((n, source)) => self.receive(&buf[..n], source),
                    Err(e) => tracing::debug!(error = %e, "relay socket receive failed"),
                },
                () = sleep => {}
            }
            let now = Instant::now();
            for p in self
                .calls
                .values_mut()
                .flat_map(|r| r.participants.iter_mut())
            {
                if p.rtc.is_alive()
                    && let Err(e) = p.rtc.handle_input(Input::Timeout(now))
                {
                    tracing::debug!(conn = %p.conn, error = %e, "media session timeout failed");
                }
            }
            if now >= self.next_allocate {
                for (call, room) in &mut self.calls {
                    room.allocate(now);
                    // Offers given up for want of an answer are made again.
                    for (conn, offer) in room.route(now) {
                        self.outbox
                            .push_back(reply(*call, &conn, "offer", offer.to_sdp_string()));
                    }
                }
                self.ended
                    .retain(|_, at| now.duration_since(*at) < ENDED_KEPT);
                self.next_allocate = now + ALLOCATE_EVERY;
            }
        }
    }

    /// Polls every session until none has more to do; forwards what they produced. Returns
    /// when the earliest session wants to be woken.
    fn poll_all(&mut self) -> Instant {
        let socket = &self.socket;
        let mut transmit = |t: &str0m::net::Transmit| {
            if let Err(e) = socket.try_send_to(&t.contents, t.destination) {
                tracing::debug!(error = %e, to = %t.destination, "relay socket send failed");
            }
        };
        let mut wake = self.next_allocate;
        let mut gone: Vec<(Uuid, String)> = Vec::new();
        for (call, room) in &mut self.calls {
            // Forwarding writes into other sessions, which then have more to send: poll
            // until a round produces nothing.
            loop {
                let mut produced: Vec<(String, Happened)> = Vec::new();
                let mut happened = Vec::new();
                for p in &mut room.participants {
                    let t = p.poll(&mut transmit, &mut happened);
                    wake = wake.min(t);
                    produced.extend(happened.drain(..).map(|h| (p.conn.clone(), h)));
                    if !p.rtc.is_alive() {
                        gone.push((*call, p.conn.clone()));
                    }
                }
                if produced.is_empty() {
                    break;
                }
                let now = Instant::now();
                let mut tracks_changed = false;
                for (from, h) in produced {
                    tracks_changed |= matches!(h, Happened::TracksChanged);
                    room.happened(&from, h, now);
                }
                if tracks_changed {
                    for (conn, offer) in room.route(now) {
                        self.outbox
                            .push_back(reply(*call, &conn, "offer", offer.to_sdp_string()));
                    }
                }
            }
        }
        for (call, conn) in gone {
            tracing::info!(%call, %conn, "media session ended; participant dropped");
            self.leave(call, &conn);
        }
        wake
    }

    /// Hands queued signals to the service, as many as the channel takes.
    fn flush(&mut self) {
        while let Some(signal) = self.outbox.pop_front() {
            match self.signals.try_send(signal) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(signal)) => {
                    self.outbox.push_front(signal);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.outbox.clear();
                    return;
                }
            }
        }
    }

    fn receive(&mut self, contents: &[u8], source: SocketAddr) {
        let Ok(contents) = contents.try_into() else {
            return;
        };
        let input = Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: self.public,
                contents,
            },
        );
        let session = self
            .calls
            .values_mut()
            .flat_map(|r| r.participants.iter_mut())
            .find(|p| p.rtc.accepts(&input));
        match session {
            Some(p) => {
                if let Err(e) = p.rtc.handle_input(input) {
                    tracing::debug!(conn = %p.conn, error = %e, "bad datagram");
                }
            }
            None => tracing::trace!(%source, "datagram for no session"),
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Signal { call, conn, data } => {
                if let Err(e) = self.signal(call, &conn, &data) {
                    tracing::debug!(%call, %conn, code = e.code(), "signal refused");
                    self.outbox.push_back(RelaySignal {
                        call,
                        conn,
                        data: e.to_signal(),
                    });
                }
            }
            Command::Layers { call, conn, wants } => {
                if let Some(room) = self.calls.get_mut(&call)
                    && let Some(p) = room.get_mut(&conn)
                {
                    p.wants = wants;
                    room.allocate(Instant::now());
                }
            }
            Command::Leave { call, conn } => self.leave(call, &conn),
            Command::End { call } => {
                self.calls.remove(&call);
                self.ended.insert(call, Instant::now());
            }
        }
    }

    fn signal(&mut self, call: Uuid, conn: &str, data: &serde_json::Value) -> Result<(), SfuError> {
        if self.ended.contains_key(&call) {
            return Err(SfuError::CallEnded);
        }
        let inbound = signal::parse(data)?;
        let now = Instant::now();
        let room = self.calls.get_mut(&call);
        let existing = room.and_then(|r| r.get_mut(conn));
        match (inbound, existing) {
            (Inbound::Offer(offer), Some(p)) => {
                if let Some(answer) = p.offer(offer)? {
                    self.outbox
                        .push_back(reply(call, conn, "answer", answer.to_sdp_string()));
                }
            }
            (Inbound::Offer(offer), None) => {
                let count = self.calls.get(&call).map_or(0, |r| r.participants.len());
                if count >= self.max_participants {
                    return Err(SfuError::CallFull);
                }
                let (p, answer) = Participant::from_offer(conn, offer, self.public, now)?;
                self.calls.entry(call).or_default().participants.push(p);
                self.outbox
                    .push_back(reply(call, conn, "answer", answer.to_sdp_string()));
            }
            (Inbound::Answer(answer), Some(p)) => p.answer(answer)?,
            (Inbound::Candidate(Some(c)), Some(p)) => p.candidate(c),
            (Inbound::Candidate(_), _) => {}
            (Inbound::Answer(_), None) => return Err(SfuError::UnknownParticipant),
        }
        // A joiner gets the others' tracks; an answered offer may free the way for the next.
        if let Some(room) = self.calls.get_mut(&call) {
            for (to, offer) in room.route(now) {
                self.outbox
                    .push_back(reply(call, &to, "offer", offer.to_sdp_string()));
            }
            room.allocate(now);
        }
        Ok(())
    }

    /// Drops a participant; the others' tracks from it stop.
    fn leave(&mut self, call: Uuid, conn: &str) {
        let Some(room) = self.calls.get_mut(&call) else {
            return;
        };
        if let Some(p) = room.participants.iter_mut().find(|p| p.conn == conn) {
            p.rtc.disconnect();
        }
        room.remove(conn);
        if room.participants.is_empty() {
            self.calls.remove(&call);
            return;
        }
        for (to, offer) in room.route(Instant::now()) {
            self.outbox
                .push_back(reply(call, &to, "offer", offer.to_sdp_string()));
        }
    }
}

/// An offer or answer from the relay to participant `conn`.
fn reply(call: Uuid, conn: &str, kind: &str, sdp: String) -> RelaySignal {
    RelaySignal {
        call,
        conn: conn.to_owned(),
        data: signal::description(kind, sdp),
    }
}
