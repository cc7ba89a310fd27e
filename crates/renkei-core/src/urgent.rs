//! Urgent messages: when a recipient is alerted again, when their covering colleague is told,
//! and how far a message got to each reader (sent, pushed, delivered, read, acknowledged).

use crate::clock::Timestamp;
use crate::org::Policy;

/// The part of an organization's policy that times urgent alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertPolicy {
    /// Seconds between re-alerts.
    pub realert_seconds: i64,
    /// Most re-alerts after the first alert.
    pub realert_max: i64,
    /// Seconds unacknowledged before escalation.
    pub escalate_after_seconds: i64,
}

impl From<&Policy> for AlertPolicy {
    fn from(p: &Policy) -> Self {
        AlertPolicy {
            realert_seconds: p.urgent_realert_seconds,
            realert_max: p.urgent_realert_max,
            escalate_after_seconds: p.urgent_escalate_after_seconds,
        }
    }
}

/// One recipient's schedule: the next re-alert and the escalation, each `None` once done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Alerts sent so far (the first push counts as one).
    pub alerts_sent: i64,
    pub next_alert_at: Option<Timestamp>,
    pub escalate_at: Option<Timestamp>,
}

impl Schedule {
    /// The schedule of a message committed at `created`: the first alert is the message's own
    /// push; re-alerts follow every interval, escalation after its delay.
    pub fn first(created: Timestamp, policy: AlertPolicy) -> Schedule {
        Schedule {
            alerts_sent: 1,
            next_alert_at: (policy.realert_max > 0)
                .then(|| created.plus_secs(policy.realert_seconds)),
            escalate_at: Some(created.plus_secs(policy.escalate_after_seconds)),
        }
    }

    /// The earliest time something is due, if anything still is.
    pub fn due_at(&self) -> Option<Timestamp> {
        match (self.next_alert_at, self.escalate_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What is due at `now`, and the schedule after doing it. A re-alert missed while no
    /// scheduler ran is sent once, late, and the next follows a full interval after `now`
    /// (no burst of stale re-alerts after a restart).
    pub fn step(&self, policy: AlertPolicy, now: Timestamp) -> Step {
        let mut next = *self;
        let realert = self.next_alert_at.is_some_and(|at| at <= now);
        if realert {
            next.alerts_sent += 1;
            next.next_alert_at = if next.alerts_sent > policy.realert_max {
                // The first alert and `realert_max` re-alerts are sent.
                None
            } else {
                let planned = self
                    .next_alert_at
                    .map(|at| at.plus_secs(policy.realert_seconds));
                Some(match planned {
                    Some(at) if at > now => at,
                    _ => now.plus_secs(policy.realert_seconds),
                })
            };
        }
        let escalate = self.escalate_at.is_some_and(|at| at <= now);
        if escalate {
            next.escalate_at = None;
        }
        Step {
            realert,
            escalate,
            next,
        }
    }
}

/// What the scheduler does for one recipient at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Send a re-alert now.
    pub realert: bool,
    /// Tell the covering colleague now.
    pub escalate: bool,
    /// The schedule to store.
    pub next: Schedule,
}

/// Whole minutes between `from` and `to` (at least 1): "unacknowledged for N min".
pub fn minutes_between(from: Timestamp, to: Timestamp) -> i64 {
    ((to.millis() - from.millis()) / 60_000).max(1)
}

string_enum!(
    /// How far a message got to one reader, each state implying the ones before it.
    DeliveryState {
        Sent => "sent",
        Pushed => "pushed",
        Delivered => "delivered",
        Read => "read",
        Acknowledged => "acknowledged",
    }
);

/// A reader's marks in a conversation: the push service accepted up to `pushed_seq`, a
/// device showed or received up to `delivered_seq`, they read up to `last_read_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marks {
    pub pushed_seq: i64,
    pub delivered_seq: i64,
    pub last_read_seq: i64,
}

impl DeliveryState {
    /// The state of message `seq` for a reader with `marks` (acknowledged: an urgent message
    /// they acknowledged).
    pub fn of(seq: i64, marks: Marks, acknowledged: bool) -> DeliveryState {
        if acknowledged {
            DeliveryState::Acknowledged
        } else if marks.last_read_seq >= seq {
            DeliveryState::Read
        } else if marks.delivered_seq >= seq {
            DeliveryState::Delivered
        } else if marks.pushed_seq >= seq {
            DeliveryState::Pushed
        } else {
            DeliveryState::Sent
        }
    }

    /// Whether it reached a device (delivered or later).
    pub fn delivered(self) -> bool {
        matches!(
            self,
            DeliveryState::Delivered | DeliveryState::Read | DeliveryState::Acknowledged
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: AlertPolicy = AlertPolicy {
        realert_seconds: 120,
        realert_max: 2,
        escalate_after_seconds: 300,
    };

    fn at(secs: i64) -> Timestamp {
        Timestamp(1_000_000).plus_secs(secs)
    }

    #[test]
    fn re_alerts_follow_the_interval_up_to_the_most_then_stop() {
        let mut s = Schedule::first(at(0), POLICY);
        assert_eq!(s.next_alert_at, Some(at(120)));
        assert_eq!(s.escalate_at, Some(at(300)));
        assert!(!s.step(POLICY, at(119)).realert, "not yet");
        let step = s.step(POLICY, at(120));
        assert!(step.realert && !step.escalate);
        s = step.next;
        assert_eq!((s.alerts_sent, s.next_alert_at), (2, Some(at(240))));
        s = s.step(POLICY, at(240)).next;
        assert_eq!(
            (s.alerts_sent, s.next_alert_at),
            (3, None),
            "1 + 2 re-alerts"
        );
        let step = s.step(POLICY, at(300));
        assert!(step.escalate && !step.realert);
        assert_eq!(step.next.due_at(), None, "nothing more");
    }

    #[test]
    fn no_re_alerts_when_the_policy_allows_none() {
        let s = Schedule::first(
            at(0),
            AlertPolicy {
                realert_max: 0,
                ..POLICY
            },
        );
        assert_eq!(s.next_alert_at, None);
        assert_eq!(s.due_at(), Some(at(300)));
    }

    #[test]
    fn a_late_scheduler_sends_one_re_alert_not_a_burst() {
        let s = Schedule::first(
            at(0),
            AlertPolicy {
                realert_max: 10,
                ..POLICY
            },
        );
        let step = s.step(POLICY, at(1000));
        assert!(step.realert && step.escalate);
        assert_eq!(step.next.alerts_sent, 2);
        assert_eq!(step.next.next_alert_at, Some(at(1120)));
    }

    #[test]
    fn states_rank_by_the_furthest_mark() {
        let m = |p, d, r| Marks {
            pushed_seq: p,
            delivered_seq: d,
            last_read_seq: r,
        };
        assert_eq!(DeliveryState::of(5, m(4, 4, 4), false), DeliveryState::Sent);
        assert_eq!(
            DeliveryState::of(5, m(5, 4, 4), false),
            DeliveryState::Pushed
        );
        assert_eq!(
            DeliveryState::of(5, m(0, 6, 4), false),
            DeliveryState::Delivered
        );
        assert_eq!(DeliveryState::of(5, m(0, 0, 5), false), DeliveryState::Read);
        assert_eq!(
            DeliveryState::of(5, m(0, 0, 0), true),
            DeliveryState::Acknowledged
        );
        assert!(DeliveryState::Read.delivered() && !DeliveryState::Pushed.delivered());
    }

    #[test]
    fn minutes_are_whole_and_at_least_one() {
        assert_eq!(minutes_between(at(0), at(300)), 5);
        assert_eq!(minutes_between(at(0), at(10)), 1);
    }
}
