//! Seats and usage statistics for an organization over a date range, as JSON or CSV, from
//! the seat snapshots and usage counters the store keeps (nothing scans messages), for the
//! organization's administrators.

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::agreement::CouncilStatus;
use renkei_core::clock::Timestamp;
use renkei_core::org::{OrgKind, Organization};
use renkei_core::stats::{Metric, SeatDay, days_between};
use renkei_core::user::User;
use renkei_store::Store;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::csv_codec;
use super::download::Download;
use crate::Services;
use crate::accounts::orgs::administered_org;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Longest range, in days (ten years).
const MAX_DAYS: usize = 3660;
/// Days a range spans when it names no start: seats, and usage.
const SEATS_DAYS: i64 = 30;
const USAGE_DAYS: i64 = 365;

/// The days a statistics request covers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// First day, `YYYY-MM-DD` (default: 30 days ago for seats, a year ago for usage). Days
    /// start at the server's `stats_utc_offset_minutes` (+540, Japan, by default).
    pub from: Option<String>,
    /// Last day, inclusive (default: today).
    pub to: Option<String>,
}

/// A counter summed over one month, with its department's name.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    pub org_id: Uuid,
    pub metric: Metric,
    /// `YYYY-MM` (statistics days: UTC shifted by the configured offset).
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

/// An organization a report covers: the hospital itself, or each member of a council.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportOrg {
    pub org_id: Uuid,
    pub name: String,
    pub slug: String,
}

/// Usage of one or more organizations over a range of statistics days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageReport {
    /// The organization asked about (a hospital, or a council).
    pub org_id: Uuid,
    /// The organizations whose figures the rows carry (each row names one by `org_id`): the
    /// hospital itself, or a council's members opted in now, over the whole range.
    pub members: Vec<ReportOrg>,
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

/// The organizations a report on `org` covers: a hospital's own figures, or for a council
/// each hospital opted in now (membership history is not kept, so a hospital that opted out
/// drops out of every range and one that opted in shows its figures from before).
async fn report_orgs(store: &Store, org: &Organization) -> ServiceResult<Vec<ReportOrg>> {
    if org.kind != OrgKind::Council {
        return Ok(vec![ReportOrg {
            org_id: org.id,
            name: org.name.clone(),
            slug: org.slug.clone(),
        }]);
    }
    let mut out = Vec::new();
    for m in store
        .council_members(org.id)
        .await
        .or_service("organization_not_found")?
    {
        if m.status != CouncilStatus::OptedIn {
            continue;
        }
        let member = store
            .org(m.org_id)
            .await
            .or_service("organization_not_found")?;
        out.push(ReportOrg {
            org_id: member.id,
            name: member.name,
            slug: member.slug,
        });
    }
    Ok(out)
}

/// The days of `from..=to`, defaulting to the `default_days` ending today.
fn range(from: Option<&str>, to: Option<&str>, default_days: i64) -> ServiceResult<Vec<String>> {
    let today = Timestamp::now();
    let to = to
        .map(str::to_owned)
        .unwrap_or_else(|| Store::stats_day(today));
    let from = from
        .map(str::to_owned)
        .unwrap_or_else(|| Store::stats_day(today.plus_secs(-(default_days - 1) * 86_400)));
    days_between(&from, &to, MAX_DAYS + 1)
        .filter(|d| d.len() <= MAX_DAYS)
        .ok_or_else(|| {
            ServiceError::bad_request(
                "invalid_range",
                format!(
                    "from and to must be days (YYYY-MM-DD), from ≤ to, at most {MAX_DAYS} days"
                ),
            )
        })
}

/// Seats of `org` on each of `days`, after recording today's.
async fn seats(store: &Store, org: &Organization, days: &[String]) -> ServiceResult<Seats> {
    store
        .record_seats(org.id)
        .await
        .or_service("organization_not_found")?;
    let today = Store::stats_day(Timestamp::now());
    let history = store
        .seat_history(org.id, days)
        .await
        .or_service("organization_not_found")?;
    let now = store
        .seat_history(org.id, std::slice::from_ref(&today))
        .await
        .or_service("organization_not_found")?;
    Ok(Seats {
        org_id: org.id,
        today: now.into_iter().next(),
        days: history,
    })
}

/// The usage report of `members` (the organizations of `org_id`'s report) over `days`.
async fn usage(
    store: &Store,
    org_id: Uuid,
    members: Vec<ReportOrg>,
    days: &[String],
) -> ServiceResult<UsageReport> {
    let orgs: Vec<Uuid> = members.iter().map(|m| m.org_id).collect();
    let (Some(from), Some(to)) = (days.first(), days.last()) else {
        return Err(ServiceError::bad_request(
            "invalid_range",
            "the range is empty",
        ));
    };
    let mut months: Vec<String> = days.iter().map(|d| d[..7].to_owned()).collect();
    months.dedup();
    let mut active_users = Vec::new();
    let mut names: HashMap<Uuid, String> = HashMap::new();
    for org in &orgs {
        store
            .record_seats(*org)
            .await
            .or_service("organization_not_found")?;
        let history = store
            .seat_history(*org, days)
            .await
            .or_service("organization_not_found")?;
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
            .or_service("organization_not_found")?
        {
            names.insert(d.id, d.name);
        }
    }
    let counts = store
        .usage_by_month(&orgs, from, to)
        .await
        .or_service("organization_not_found")?
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
        org_id,
        members,
        from: from.clone(),
        to: to.clone(),
        months,
        active_users,
        counts,
    })
}

/// The report as CSV rows: metric, organization (slug), organization_name, month,
/// department, profession, value; every cell formula-safe.
pub fn usage_csv(report: &UsageReport) -> Vec<u8> {
    let names: HashMap<Uuid, &ReportOrg> = report.members.iter().map(|m| (m.org_id, m)).collect();
    let org = |id: &Uuid| match names.get(id) {
        Some(m) => [m.slug.clone(), m.name.clone()],
        None => [id.to_string(), String::new()],
    };
    let users = report.active_users.iter().map(|a| {
        let [slug, name] = org(&a.org_id);
        vec![
            "active_users".to_owned(),
            slug,
            name,
            a.month.clone(),
            String::new(),
            a.profession.clone(),
            a.value.to_string(),
        ]
    });
    let counts = report.counts.iter().map(|c| {
        let [slug, name] = org(&c.org_id);
        vec![
            c.metric.as_str().to_owned(),
            slug,
            name,
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
            "organization_name",
            "month",
            "department",
            "profession",
            "value",
        ],
        users.chain(counts),
    )
}

/// Seats of organization `id` today and on each day of `range` (its administrators).
pub async fn seats_of(
    services: &Services,
    me: &User,
    id: Uuid,
    range_asked: &Range,
) -> ServiceResult<Seats> {
    let org = administered_org(services, me, id).await?;
    let days = range(
        range_asked.from.as_deref(),
        range_asked.to.as_deref(),
        SEATS_DAYS,
    )?;
    seats(&services.store, &org, &days).await
}

/// The usage report of organization `id` over `range` (its administrators), with the
/// organization.
async fn report_of(
    services: &Services,
    me: &User,
    id: Uuid,
    range_asked: &Range,
) -> ServiceResult<(Organization, UsageReport)> {
    let store = &services.store;
    let org = administered_org(services, me, id).await?;
    let days = range(
        range_asked.from.as_deref(),
        range_asked.to.as_deref(),
        USAGE_DAYS,
    )?;
    let members = report_orgs(store, &org).await?;
    let report = usage(store, org.id, members, &days).await?;
    Ok((org, report))
}

/// The usage report of organization `id` over `range` (its administrators); a council's
/// covers each member hospital opted in now.
pub async fn usage_of(
    services: &Services,
    me: &User,
    id: Uuid,
    range_asked: &Range,
) -> ServiceResult<UsageReport> {
    Ok(report_of(services, me, id, range_asked).await?.1)
}

/// The usage report of organization `id` as a CSV file named after it and the range.
pub async fn export_usage(
    services: &Services,
    me: &User,
    id: Uuid,
    range_asked: &Range,
) -> ServiceResult<Download> {
    let (org, report) = report_of(services, me, id, range_asked).await?;
    Ok(Download {
        file_name: format!("{}-usage-{}-{}.csv", org.slug, report.from, report.to),
        body: usage_csv(&report),
    })
}
