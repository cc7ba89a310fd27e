//! Per-patient date shifting for the Retain Longitudinal Temporal Information options.

use crate::uid::keyed_hash;

/// The largest shift, in days; shifts go back between 1 day and this many days (about 10 years).
pub const MAX_SHIFT_DAYS: i32 = 3650;

/// Domain separation: UIDs never contain control characters, so date keys never collide with them.
const DATE_SHIFT_DOMAIN: &[u8] = b"\x01renkei-date-shift\x00";

/// The whole-day offset of a patient: derived from HMAC-SHA256(org secret, patient ID), so the
/// same patient at the same organization always gets the same offset, in `-MAX_SHIFT_DAYS..=-1`.
pub fn date_shift_days(org_secret: &[u8; 32], patient_id: &str) -> i32 {
    let key = patient_id.trim_matches([' ', '\0']);
    let digest = keyed_hash(org_secret, &[DATE_SHIFT_DOMAIN, key.as_bytes()]);
    let value = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    // MAX_SHIFT_DAYS is positive and small, so the casts are exact.
    -(1 + (value % MAX_SHIFT_DAYS as u32) as i32)
}

/// Shift one DA value (a date, or a range `A-B`, `-B`, `A-`) by `days`.
/// `None` when it cannot be parsed: the caller empties it rather than keep an unknown date.
pub fn shift_da(value: &str, days: i32) -> Option<String> {
    let value = value.trim_matches([' ', '\0']);
    if value.is_empty() {
        return Some(String::new());
    }
    if let Some((from, to)) = value.split_once('-') {
        if from.is_empty() && to.is_empty() {
            return None;
        }
        let from = if from.is_empty() {
            String::new()
        } else {
            shift_date(from, days)?
        };
        let to = if to.is_empty() {
            String::new()
        } else {
            shift_date(to, days)?
        };
        return Some(format!("{from}-{to}"));
    }
    shift_date(value, days)
}

/// Shift one DT value by whole `days`, keeping its time, fraction and UTC offset.
/// Values with less than day precision (`YYYY`, `YYYYMM`) or a bad shape give `None`.
pub fn shift_dt(value: &str, days: i32) -> Option<String> {
    let value = value.trim_matches([' ', '\0']);
    if value.is_empty() {
        return Some(String::new());
    }
    let date = value.get(..8)?;
    let rest = value.get(8..)?;
    let (time, offset) = match rest.find(['+', '-']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    if !valid_time(time, false) && !time.is_empty() {
        return None;
    }
    if !offset.is_empty() {
        let digits = &offset[1..];
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some(format!("{}{time}{offset}", shift_date(date, days)?))
}

/// A TM value as it is, when it is a valid time or time range; `None` otherwise.
/// Times are kept by the date shift: the offset is whole days.
pub fn checked_tm(value: &str) -> Option<String> {
    let value = value.trim_matches([' ', '\0']);
    if value.is_empty() {
        return Some(String::new());
    }
    let valid = match value.split_once('-') {
        Some((from, to)) => {
            (from.is_empty() || valid_time(from, true))
                && (to.is_empty() || valid_time(to, true))
                && !(from.is_empty() && to.is_empty())
        }
        None => valid_time(value, true),
    };
    valid.then(|| value.to_string())
}

/// `HH[MM[SS[.F{1,6}]]]`; with `allow_colons`, also the ACR-NEMA `HH:MM:SS`.
fn valid_time(value: &str, allow_colons: bool) -> bool {
    let owned;
    let value = if allow_colons && value.contains(':') {
        owned = value.replace(':', "");
        owned.as_str()
    } else {
        value
    };
    let (whole, fraction) = match value.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (value, None),
    };
    if !whole.bytes().all(|b| b.is_ascii_digit()) || ![2, 4, 6].contains(&whole.len()) {
        return false;
    }
    if let Some(f) = fraction
        && (whole.len() != 6
            || f.is_empty()
            || f.len() > 6
            || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    let part = |i: usize| whole.get(i..i + 2).and_then(|p| p.parse::<u32>().ok());
    part(0).is_some_and(|h| h < 24)
        && part(2).is_none_or(|m| m < 60)
        // 60 allows a leap second.
        && part(4).is_none_or(|s| s <= 60)
}

/// `YYYYMMDD` (or ACR-NEMA `YYYY.MM.DD`) shifted by `days`, as `YYYYMMDD`.
fn shift_date(value: &str, days: i32) -> Option<String> {
    let compact;
    let value = if value.len() == 10 && value.as_bytes().get(4) == Some(&b'.') {
        compact = value.replace('.', "");
        compact.as_str()
    } else {
        value
    };
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: i64 = value.get(0..4)?.parse().ok()?;
    let month: u32 = value.get(4..6)?.parse().ok()?;
    let day: u32 = value.get(6..8)?.parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let (y, m, d) = civil_from_days(days_from_civil(year, month, day) + i64::from(days));
    (1..=9999)
        .contains(&y)
        .then(|| format!("{y:04}{m:02}{d:02}"))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // day is 1..=31 and month 1..=12 by construction.
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn da_shift_table() {
        let cases = [
            ("20240301", -1, Some("20240229")), // leap day
            ("20230301", -1, Some("20230228")),
            ("20000101", -1, Some("19991231")),
            ("19700101", 0, Some("19700101")),
            ("20241231", 1, Some("20250101")),
            ("20240115", -3650, Some("20140117")),
            ("1998.07.04", -4, Some("19980630")), // ACR-NEMA form is normalised
            ("20240101-20240131", -31, Some("20231201-20231231")),
            ("-20240131", -1, Some("-20240130")),
            ("20240131-", -1, Some("20240130-")),
            ("", -5, Some("")),
            ("20241301", -1, None), // month 13
            ("20230229", -1, None), // not a leap year
            ("2024", -1, None),
            ("UNKNOWN", -1, None),
            ("-", -1, None),
            ("00010101", -1, None), // would leave year 1
        ];
        for (input, days, expected) in cases {
            assert_eq!(shift_da(input, days).as_deref(), expected, "{input} {days}");
        }
    }

    #[test]
    fn dt_shift_table() {
        let cases = [
            ("20240301083000", -1, Some("20240229083000")),
            (
                "20240301083000.123456+0900",
                -1,
                Some("20240229083000.123456+0900"),
            ),
            ("20240301-0500", -2, Some("20240228-0500")),
            ("20240301", -1, Some("20240229")),
            ("2024", -1, None),   // year precision cannot be shifted by days
            ("202403", -1, None), // month precision either
            ("20240301T0830", -1, None),
            ("20240301083000+09", -1, None),
            ("20240301256000", -1, None),
        ];
        for (input, days, expected) in cases {
            assert_eq!(shift_dt(input, days).as_deref(), expected, "{input} {days}");
        }
    }

    #[test]
    fn tm_check_table() {
        let cases = [
            ("083000", Some("083000")),
            ("083000.5", Some("083000.5")),
            ("08", Some("08")),
            ("08:30:00", Some("08:30:00")),
            ("080000-090000", Some("080000-090000")),
            ("250000", None),
            ("0860", None),
            ("noon", None),
        ];
        for (input, expected) in cases {
            assert_eq!(checked_tm(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn the_shift_is_per_patient_deterministic_and_bounded() {
        let secret = [3u8; 32];
        let a = date_shift_days(&secret, "PAT-0001");
        assert_eq!(a, date_shift_days(&secret, "PAT-0001"));
        assert_eq!(a, date_shift_days(&secret, "PAT-0001 "));
        let mut distinct = std::collections::HashSet::new();
        for i in 0..200 {
            let days = date_shift_days(&secret, &format!("PAT-{i}"));
            assert!((-MAX_SHIFT_DAYS..=-1).contains(&days), "{days}");
            distinct.insert(days);
        }
        // 200 patients over 3650 possible offsets: nearly all distinct.
        assert!(distinct.len() > 180, "{}", distinct.len());
        assert_ne!(
            date_shift_days(&[1; 32], "PAT-0001"),
            date_shift_days(&[2; 32], "PAT-0001")
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000i64, -1, 0, 1, 59, 60, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
