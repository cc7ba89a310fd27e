//! The shared record of every message sent during a run: when it left, whether it was
//! acknowledged, and how many members received it. All clients live in this one process, so a
//! receiver finds the send time of a delivery here by its `client_msg_id`.
//!
//! Each send also keeps its wall-clock time and, once acknowledged, its `seq`: what another
//! process (the push service stand-in) reports is matched by conversation and `seq`.
//!
//! A message id is `<run>.<sender>.<n>`: the run's nonce (ids stay unique per sender across
//! reruns against the same server), the sending client's index, and its n-th send.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// One sent message.
#[derive(Debug, Clone, Copy)]
struct Sent {
    at: Instant,
    wall: SystemTime,
    seq: Option<i64>,
    acked: bool,
    refused: bool,
    delivered: u32,
}

/// When the run sends and which sends are measured.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Sends from here on are measured…
    pub measure_from: Instant,
    /// …until here, when sending stops.
    pub measure_until: Instant,
}

impl Schedule {
    pub fn is_measured(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.measure_until
    }
}

/// What a send, an ack or a delivery learned.
#[derive(Debug, Clone, Copy)]
pub struct Observed {
    pub latency: Duration,
    /// The message was sent inside the measured window.
    pub measured: bool,
}

/// An acknowledged send.
#[derive(Debug, Clone, Copy)]
pub struct Acked {
    pub client: usize,
    pub seq: i64,
    /// When it was sent, by the wall clock.
    pub wall: SystemTime,
    pub measured: bool,
}

/// Totals over the measured window.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    /// Members × acked messages.
    pub expected_deliveries: u64,
    pub deliveries: u64,
    /// Expected deliveries that never came.
    pub missing: u64,
}

/// Every send of every client.
pub struct Ledger {
    run: String,
    pub schedule: Schedule,
    group_size: u32,
    sends: Box<[Mutex<Vec<Sent>>]>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ledger {
    pub fn new(run: &str, schedule: Schedule, clients: usize, group_size: usize) -> Ledger {
        Ledger {
            run: run.to_owned(),
            schedule,
            group_size: u32::try_from(group_size).unwrap_or(u32::MAX),
            sends: (0..clients).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    /// Records a send by `client` now and returns its message id.
    pub fn send(&self, client: usize) -> String {
        let mut sends = lock(&self.sends[client]);
        let n = sends.len();
        sends.push(Sent {
            at: Instant::now(),
            wall: SystemTime::now(),
            seq: None,
            acked: false,
            refused: false,
            delivered: 0,
        });
        format!("{}.{client}.{n}", self.run)
    }

    /// The sender and number of one of this run's message ids.
    pub fn parse_id(&self, id: &str) -> Option<(usize, usize)> {
        let rest = id.strip_prefix(self.run.as_str())?.strip_prefix('.')?;
        let (client, n) = rest.split_once('.')?;
        let client: usize = client.parse().ok()?;
        let n: usize = n.parse().ok()?;
        (client < self.sends.len()).then_some((client, n))
    }

    fn observe(
        &self,
        client: usize,
        n: usize,
        f: impl FnOnce(&mut Sent) -> bool,
    ) -> Option<Observed> {
        let now = Instant::now();
        let mut sends = lock(self.sends.get(client)?);
        let sent = sends.get_mut(n)?;
        f(sent).then(|| Observed {
            latency: now.saturating_duration_since(sent.at),
            measured: self.schedule.is_measured(sent.at),
        })
    }

    /// The sender's ack arrived, naming the message's `seq`; `None` for an unknown or
    /// repeated ack.
    pub fn ack(&self, client: usize, n: usize, seq: Option<i64>) -> Option<Observed> {
        self.observe(client, n, |s| {
            s.seq = s.seq.or(seq);
            !std::mem::replace(&mut s.acked, true)
        })
    }

    /// The server refused the send.
    pub fn refuse(&self, client: usize, n: usize) {
        self.observe(client, n, |s| {
            s.refused = true;
            false
        });
    }

    /// A member received the message (the caller has ruled out repeats to that member).
    pub fn deliver(&self, sender: usize, n: usize) -> Option<Observed> {
        self.observe(sender, n, |s| {
            s.delivered += 1;
            true
        })
    }

    /// Sends still waiting for their ack or for some of their deliveries.
    pub fn outstanding(&self) -> u64 {
        self.sends
            .iter()
            .map(|log| {
                lock(log)
                    .iter()
                    .filter(|s| !s.refused && (!s.acked || s.delivered < self.group_size))
                    .count() as u64
            })
            .sum()
    }

    /// Every acknowledged send whose `seq` is known.
    pub fn acked(&self) -> Vec<Acked> {
        let mut out = Vec::new();
        for (client, log) in self.sends.iter().enumerate() {
            for s in lock(log).iter().filter(|s| s.acked) {
                if let Some(seq) = s.seq {
                    out.push(Acked {
                        client,
                        seq,
                        wall: s.wall,
                        measured: self.schedule.is_measured(s.at),
                    });
                }
            }
        }
        out
    }

    /// Totals over the measured sends.
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        let g = u64::from(self.group_size);
        for log in self.sends.iter() {
            for s in lock(log).iter().filter(|s| self.schedule.is_measured(s.at)) {
                t.sent += 1;
                t.refused += u64::from(s.refused);
                t.deliveries += u64::from(s.delivered);
                if s.acked {
                    t.acked += 1;
                    t.expected_deliveries += g;
                    t.missing += g.saturating_sub(u64::from(s.delivered));
                }
            }
        }
        t
    }
}
