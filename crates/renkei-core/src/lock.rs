//! The passcode lock rule: when a session must re-enter its passcode before seeing data.

use crate::clock::Timestamp;

/// Whether a session last active at `last_seen` is idle-locked at `now`. Only a user with a
/// passcode can be locked: without one there would be no way back in but signing in again.
pub fn idle_locked(
    last_seen: Timestamp,
    now: Timestamp,
    idle_lock_minutes: i64,
    has_passcode: bool,
) -> bool {
    has_passcode && now.millis() - last_seen.millis() > idle_lock_minutes.saturating_mul(60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_idle_minutes_only_with_a_passcode() {
        let seen = Timestamp(1_000_000);
        let nine_min = Timestamp(seen.0 + 9 * 60_000);
        let eleven_min = Timestamp(seen.0 + 11 * 60_000);
        assert!(!idle_locked(seen, nine_min, 10, true));
        assert!(idle_locked(seen, eleven_min, 10, true));
        assert!(!idle_locked(seen, eleven_min, 10, false));
        assert!(idle_locked(seen, Timestamp(seen.0 + 61_000), 1, true));
    }
}
