//! Seats and usage statistics: what is counted, and the shapes the API reports them in.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

string_enum!(
    /// A thing counted per organization, UTC day and department as it is created.
    Metric {
        Messages => "messages",
        Conversations => "conversations",
        Studies => "studies",
        Photos => "photos",
        CrossOrgConversations => "cross_org_conversations",
        CrossOrgMessages => "cross_org_messages",
    }
);

/// Active users on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SeatDay {
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Active users at the end of the day (or now, for today).
    pub active: i64,
    /// The most users active at once during the day.
    pub peak: i64,
    /// Active users by profession (professions with none are left out).
    pub by_profession: BTreeMap<String, i64>,
}

/// One counter summed over a month: `department_id` is set for per-department metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MonthCount {
    pub org_id: Uuid,
    pub metric: Metric,
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub department_id: Option<Uuid>,
    pub value: i64,
}

/// Parses a calendar day written `YYYY-MM-DD`.
fn parse_day(text: &str) -> Option<time::Date> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i32> {
        b[r].iter().try_fold(0i32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let month = time::Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    time::Date::from_calendar_date(digits(0..4)?, month, u8::try_from(digits(8..10)?).ok()?).ok()
}

fn format_day(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Whether `text` is a calendar day written `YYYY-MM-DD`.
pub fn is_day(text: &str) -> bool {
    parse_day(text).is_some()
}

/// Every day from `from` to `to` inclusive (`YYYY-MM-DD`), at most `max` of them;
/// `None` when either is not a day or `to` is before `from`.
pub fn days_between(from: &str, to: &str, max: usize) -> Option<Vec<String>> {
    let mut day = parse_day(from)?;
    let last = parse_day(to)?;
    if last < day {
        return None;
    }
    let mut out = Vec::new();
    while day <= last && out.len() < max {
        out.push(format_day(day));
        day = day.next_day()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_checked_and_listed() {
        assert!(is_day("2026-02-28"));
        assert!(!is_day("2026-02-30"));
        assert!(!is_day("2026-2-1"));
        assert_eq!(
            days_between("2026-02-27", "2026-03-01", 100).unwrap(),
            ["2026-02-27", "2026-02-28", "2026-03-01"]
        );
        assert!(days_between("2026-03-01", "2026-02-01", 100).is_none());
        assert_eq!(
            days_between("2026-01-01", "2026-12-31", 10).unwrap().len(),
            10
        );
    }
}
