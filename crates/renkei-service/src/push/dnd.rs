//! Do-not-disturb hours: whether a moment falls in a user's quiet hours (which may wrap
//! past midnight), in their own UTC offset.

use renkei_core::clock::Timestamp;

const DAY_MINUTES: i64 = 24 * 60;

/// Whether `now` lies in `[start, end)` minutes after local midnight, local time being UTC
/// plus `utc_offset_minutes`. `start > end` wraps midnight (22:00–07:00); `start == end` is
/// no quiet hours at all.
pub fn in_quiet_hours(start: i64, end: i64, utc_offset_minutes: i64, now: Timestamp) -> bool {
    if start == end {
        return false;
    }
    let utc_minutes = now.millis().div_euclid(60_000);
    let local = (utc_minutes + utc_offset_minutes).rem_euclid(DAY_MINUTES);
    if start < end {
        (start..end).contains(&local)
    } else {
        local >= start || local < end
    }
}

/// `"HH:MM"` as minutes after midnight.
pub fn parse_hhmm(text: &str) -> Option<i64> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// Minutes after midnight as `"HH:MM"`.
pub fn format_hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 at `h:m` UTC.
    fn at(h: i64, m: i64) -> Timestamp {
        Timestamp(1_796_601_600_000 + (h * 60 + m) * 60_000)
    }

    #[test]
    fn same_day_window() {
        let (s, e) = (9 * 60, 17 * 60);
        assert!(in_quiet_hours(s, e, 0, at(9, 0)));
        assert!(in_quiet_hours(s, e, 0, at(16, 59)));
        assert!(!in_quiet_hours(s, e, 0, at(17, 0)));
        assert!(!in_quiet_hours(s, e, 0, at(8, 59)));
    }

    #[test]
    fn window_wrapping_midnight() {
        let (s, e) = (22 * 60, 7 * 60);
        assert!(in_quiet_hours(s, e, 0, at(23, 30)));
        assert!(in_quiet_hours(s, e, 0, at(0, 0)));
        assert!(in_quiet_hours(s, e, 0, at(6, 59)));
        assert!(!in_quiet_hours(s, e, 0, at(7, 0)));
        assert!(!in_quiet_hours(s, e, 0, at(21, 59)));
        assert!(in_quiet_hours(s, e, 0, at(22, 0)));
    }

    #[test]
    fn offset_moves_the_clock() {
        // 22:00–07:00 in Tokyo (UTC+9): 14:00 UTC is 23:00 there, 00:00 UTC is 09:00.
        let (s, e) = (22 * 60, 7 * 60);
        assert!(in_quiet_hours(s, e, 540, at(14, 0)));
        assert!(!in_quiet_hours(s, e, 540, at(0, 0)));
        // A negative offset wraps the other way: 03:00 UTC is 22:00 at UTC-5.
        assert!(in_quiet_hours(s, e, -300, at(3, 0)));
    }

    #[test]
    fn empty_window_is_never_quiet() {
        assert!(!in_quiet_hours(600, 600, 0, at(10, 0)));
    }

    #[test]
    fn hhmm_round_trips_and_refuses_nonsense() {
        assert_eq!(parse_hhmm("22:30"), Some(1350));
        assert_eq!(parse_hhmm("00:00"), Some(0));
        assert_eq!(format_hhmm(1350), "22:30");
        for bad in ["24:00", "7:00", "07:60", "0700", "ab:cd", ""] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }
}
