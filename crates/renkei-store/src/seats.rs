//! Seat accounting: active users per organization and profession, per statistics day (UTC
//! shifted by the configured offset, see [`Store::stats_day`]).
//!
//! Every transaction that may change who is active rewrites today's rows for the
//! organization ([`Store::record_seats_in`]); a day without rows carries the last value
//! before it, so history is exact from the first row on and costs one statement per change.

use std::collections::BTreeMap;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::stats::SeatDay;
use renkei_core::user::Profession;
use sqlx::Row;

use crate::{Store, StoreError, Tx};

/// The `profession` of the row that holds all professions together.
const TOTAL: &str = "*";

impl Store {
    /// Writes today's active-user counts of `org_id` as part of `tx` (one statement).
    pub(crate) async fn record_seats_in(tx: &mut Tx, org_id: Uuid) -> Result<(), StoreError> {
        let professions = std::iter::once(TOTAL)
            .chain(Profession::ALL.iter().map(|p| p.as_str()))
            .map(|p| format!("SELECT '{p}' AS profession"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let count = "(SELECT COUNT(*) FROM users u WHERE u.org_id = $1 AND u.status = 'active'
                      AND (p.profession = '*' OR u.profession = p.profession))";
        let sql = format!(
            "INSERT INTO seat_days (org_id, day, profession, active, peak)
             SELECT $1, $2, p.profession, {count}, {count} FROM ({professions}) p WHERE true
             ON CONFLICT (org_id, day, profession) DO UPDATE SET active = excluded.active,
                 peak = CASE WHEN excluded.active > seat_days.peak THEN excluded.active
                             ELSE seat_days.peak END"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(Self::stats_day(Timestamp::now()))
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Records today's seats of `org_id` now (e.g. before reading history).
    pub async fn record_seats(&self, org_id: Uuid) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        Self::record_seats_in(&mut tx, org_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Active users of `org_id` on each of `days` (ascending `YYYY-MM-DD`); days before the
    /// first record are left out.
    pub async fn seat_history(
        &self,
        org_id: Uuid,
        days: &[String],
    ) -> Result<Vec<SeatDay>, StoreError> {
        let Some(last) = days.last() else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT day, profession, active, peak FROM seat_days
             WHERE org_id = $1 AND day <= $2 ORDER BY day",
        )
        .bind(org_id.to_string())
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        let mut current: BTreeMap<String, i64> = BTreeMap::new();
        let mut peak_on: Option<(String, i64)> = None;
        let mut out = Vec::with_capacity(days.len());
        let mut rows = rows.iter().peekable();
        for day in days {
            while let Some(row) = rows.peek() {
                let row_day: String = row.try_get("day")?;
                if row_day.as_str() > day.as_str() {
                    break;
                }
                let profession: String = row.try_get("profession")?;
                if profession == TOTAL {
                    peak_on = Some((row_day, row.try_get("peak")?));
                }
                current.insert(profession, row.try_get("active")?);
                rows.next();
            }
            let Some(&active) = current.get(TOTAL) else {
                continue;
            };
            let peak = match &peak_on {
                Some((d, peak)) if d == day => *peak,
                _ => active,
            };
            out.push(SeatDay {
                day: day.clone(),
                active,
                peak,
                by_profession: current
                    .iter()
                    .filter(|(p, n)| p.as_str() != TOTAL && **n > 0)
                    .map(|(p, n)| (p.clone(), *n))
                    .collect(),
            });
        }
        Ok(out)
    }
}
