//! Seats and usage statistics for an organization over a date range, as JSON or CSV, from
//! the seat snapshots and usage counters the store keeps (nothing scans messages).

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::org::Organization;
use renkei_core::stats::{Metric, SeatDay, days_between};
use renkei_store::Store;
use serde::Serialize;
use utoipa::ToSchema;

use super::csv_codec;
use crate::error::{ApiError, ApiResult, OrApi};

/// Longest range, in days (ten years).
const MAX_DAYS: usize = 3660;

/// A counter summed over one month, with its department's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    pub org_id: Uuid,
    pub metric: Metric,
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub department_id: Option<Uuid>,
    pub department: Option<String>,
    pub value: i64,
}

/// Active users of one profession at the end of a month (or on the range's last day).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActiveUsers {
    pub org_id: Uuid,
    pub month: String,
    pub profession: String,
    pub value: i64,
}

/// Usage of one or more organizations over a range of UTC days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageReport {
    pub from: String,
    pub to: String,
    /// Every month of the range, `YYYY-MM`.
    pub months: Vec<String>,
    pub active_users: Vec<ActiveUsers>,
    /// messages and conversations per department; studies, photos, cross-organization
    /// conversations and messages per organization.
    pub counts: Vec<Count>,
}

/// Seats of one organization: now, and on each day of a range.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Seats {
    pub org_id: Uuid,
    pub today: Option<SeatDay>,
    pub days: Vec<SeatDay>,
}

/// The organizations a report on `org` covers. A council's report will list its member
/// hospitals here (per member: every row carries its `org_id`).
pub fn report_orgs(org: &Organization) -> Vec<Uuid> {
    vec![org.id]
}

/// The days of `from..=to`, defaulting to the `default_days` ending today.
pub fn range(from: Option<&str>, to: Option<&str>, default_days: i64) -> ApiResult<Vec<String>> {
    let today = Timestamp::now();
    let to = to.map(str::to_owned).unwrap_or_else(|| today.utc_day());
    let from = from
        .map(str::to_owned)
        .unwrap_or_else(|| today.plus_secs(-(default_days - 1) * 86_400).utc_day());
    days_between(&from, &to, MAX_DAYS + 1)
        .filter(|d| d.len() <= MAX_DAYS)
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_range",
                format!(
                    "from and to must be days (YYYY-MM-DD), from ≤ to, at most {MAX_DAYS} days"
                ),
            )
        })
}

/// Seats of `org` on each of `days`, after recording today's.
pub async fn seats(store: &Store, org: &Organization, days: &[String]) -> ApiResult<Seats> {
    store
        .record_seats(org.id)
        .await
        .or_api("organization_not_found")?;
    let today = Timestamp::now().utc_day();
    let history = store
        .seat_history(org.id, days)
        .await
        .or_api("organization_not_found")?;
    let now = store
        .seat_history(org.id, std::slice::from_ref(&today))
        .await
        .or_api("organization_not_found")?;
    Ok(Seats {
        org_id: org.id,
        today: now.into_iter().next(),
        days: history,
    })
}

/// The usage report of `orgs` over `days`.
pub async fn usage(store: &Store, orgs: &[Uuid], days: &[String]) -> ApiResult<UsageReport> {
    let (Some(from), Some(to)) = (days.first(), days.last()) else {
        return Err(ApiError::bad_request("invalid_range", "the range is empty"));
    };
    let mut months: Vec<String> = days.iter().map(|d| d[..7].to_owned()).collect();
    months.dedup();
    let mut active_users = Vec::new();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for org in orgs {
        store
            .record_seats(*org)
            .await
            .or_api("organization_not_found")?;
        let history = store
            .seat_history(*org, days)
            .await
            .or_api("organization_not_found")?;
        for month in &months {
            if let Some(last) = history
                .iter()
                .rev()
                .find(|d| d.day.starts_with(month.as_str()))
            {
                active_users.push(ActiveUsers {
                    org_id: *org,
                    month: month.clone(),
                    profession: "total".into(),
                    value: last.active,
                });
                active_users.extend(last.by_profession.iter().map(|(p, n)| ActiveUsers {
                    org_id: *org,
                    month: month.clone(),
                    profession: p.clone(),
                    value: *n,
                }));
            }
        }
        for d in store
            .list_departments(*org)
            .await
            .or_api("organization_not_found")?
        {
            names.insert(d.id, d.name);
        }
    }
    let counts = store
        .usage_by_month(orgs, from, to)
        .await
        .or_api("organization_not_found")?
        .into_iter()
        .map(|c| Count {
            org_id: c.org_id,
            metric: c.metric,
            department: c.department_id.and_then(|d| names.get(&d).cloned()),
            department_id: c.department_id,
            month: c.month,
            value: c.value,
        })
        .collect();
    Ok(UsageReport {
        from: from.clone(),
        to: to.clone(),
        months,
        active_users,
        counts,
    })
}

/// The report as CSV rows: metric, organization, month, department, profession, value.
pub fn usage_csv(report: &UsageReport, slugs: &HashMap<Uuid, String>) -> Vec<u8> {
    let slug = |id: &Uuid| slugs.get(id).cloned().unwrap_or_else(|| id.to_string());
    let users = report.active_users.iter().map(|a| {
        vec![
            "active_users".to_owned(),
            slug(&a.org_id),
            a.month.clone(),
            String::new(),
            a.profession.clone(),
            a.value.to_string(),
        ]
    });
    let counts = report.counts.iter().map(|c| {
        vec![
            c.metric.as_str().to_owned(),
            slug(&c.org_id),
            c.month.clone(),
            c.department.clone().unwrap_or_default(),
            String::new(),
            c.value.to_string(),
        ]
    });
    csv_codec::write(
        &[
            "metric",
            "organization",
            "month",
            "department",
            "profession",
            "value",
        ],
        users.chain(counts),
    )
}
