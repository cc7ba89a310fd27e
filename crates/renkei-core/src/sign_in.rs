//! The sign-in back-off rule: after a few free wrong passwords for a login, each further one
//! doubles the wait before the next try. It is keyed by the login as typed, whether or not
//! such a user exists, and never ends a session: a stranger can slow sign-in down, not lock
//! a doctor out of a conversation already open.

use crate::clock::Timestamp;

/// How wrong passwords for one login are slowed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wrong passwords answered at once, before any wait.
    pub free_attempts: i64,
    /// The first wait, in seconds; each further failure doubles it.
    pub first_wait_secs: i64,
    /// The longest wait, in seconds.
    pub max_wait_secs: i64,
    /// After this many quiet seconds the count starts again.
    pub forget_after_secs: i64,
}

/// A login's failure count and wait after one more wrong password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Wrong passwords counted, this one included.
    pub failures: i64,
    /// No password is checked for this login before then (`None`: no wait).
    pub wait_until: Option<Timestamp>,
    /// Wrong passwords left before the waiting starts.
    pub attempts_left: i64,
}

/// The normal form of a typed login, which keys its back-off: trimmed, lower-case, bounded.
pub fn login_key(typed: &str) -> String {
    typed.trim().to_lowercase().chars().take(128).collect()
}

impl Backoff {
    /// The wait after `failures` wrong passwords in a row.
    pub fn wait_secs(&self, failures: i64) -> i64 {
        let over = failures - self.free_attempts;
        if over < 0 {
            return 0;
        }
        let doubled = self
            .first_wait_secs
            .max(1)
            .saturating_mul(1i64 << over.min(30));
        doubled.min(self.max_wait_secs.max(1))
    }

    /// Failures last counted before this time are forgotten: the count starts again.
    pub fn forget_before(&self, now: Timestamp) -> Timestamp {
        now.plus_secs(-self.forget_after_secs)
    }

    /// The state after one more wrong password, `failures` counted before it.
    pub fn after_failure(&self, failures: i64, now: Timestamp) -> Failure {
        let failures = failures + 1;
        let wait = self.wait_secs(failures);
        Failure {
            failures,
            wait_until: (wait > 0).then(|| now.plus_secs(wait)),
            attempts_left: (self.free_attempts - failures).max(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: Backoff = Backoff {
        free_attempts: 5,
        first_wait_secs: 30,
        max_wait_secs: 900,
        forget_after_secs: 86_400,
    };

    #[test]
    fn the_first_failures_are_free_then_each_doubles_the_wait_up_to_the_cap() {
        let waits: Vec<i64> = (1..=12).map(|n| RULE.wait_secs(n)).collect();
        assert_eq!(waits, [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(RULE.wait_secs(i64::MAX / 2), 900);
    }

    #[test]
    fn a_failure_reports_the_attempts_left_and_the_end_of_the_wait() {
        let now = Timestamp(1_000_000);
        let third = RULE.after_failure(2, now);
        assert_eq!(
            (third.failures, third.wait_until, third.attempts_left),
            (3, None, 2)
        );
        let fifth = RULE.after_failure(4, now);
        assert_eq!(fifth.wait_until, Some(now.plus_secs(30)));
        assert_eq!(fifth.attempts_left, 0);
    }

    #[test]
    fn the_count_restarts_after_a_quiet_day() {
        assert_eq!(RULE.forget_before(Timestamp(86_400_000 + 5)), Timestamp(5));
    }

    #[test]
    fn logins_are_keyed_as_typed_but_normalised() {
        assert_eq!(login_key("  Tanaka "), "tanaka");
        assert_eq!(login_key(&"a".repeat(500)).len(), 128);
    }
}
