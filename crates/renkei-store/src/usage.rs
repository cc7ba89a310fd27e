//! Usage counters: incremented in the transactions that create messages, conversations,
//! photos and studies, and summed per month for statistics (never by scanning messages);
//! and the statistics day, which starts at a configured offset from UTC.

use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicI32, Ordering};

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::stats::{Metric, MonthCount};
use sqlx::Row;

use crate::rows::uuid;
use crate::sql_builder::SqlBuilder;
use crate::statements::{Statements, Value};
use crate::{Store, StoreError, Tx};

/// Minutes east of UTC at which statistics days begin, for every store of the process (set
/// once at start-up from the configuration; UTC until then).
static DAY_OFFSET_MINUTES: AtomicI32 = AtomicI32::new(0);

/// Offsets from UTC in use anywhere (UTC−12:00 to UTC+14:00), in minutes.
pub const DAY_OFFSETS: RangeInclusive<i32> = -720..=840;

const UPSERT: &str = "ON CONFLICT (org_id, day, metric, department_id)
    DO UPDATE SET n = usage_counts.n + excluded.n";

impl Store {
    /// Makes statistics days (counters, seats, report ranges) begin at `minutes` east of UTC,
    /// e.g. 540 for Japan, for every store of this process; outside [`DAY_OFFSETS`] is refused.
    pub fn set_stats_day_offset(minutes: i32) -> Result<(), StoreError> {
        if !DAY_OFFSETS.contains(&minutes) {
            return Err(StoreError::Config(format!(
                "stats_utc_offset_minutes must be between {} and {}, not {minutes}",
                DAY_OFFSETS.start(),
                DAY_OFFSETS.end()
            )));
        }
        DAY_OFFSET_MINUTES.store(minutes, Ordering::Relaxed);
        Ok(())
    }

    /// The statistics day of `t`, `YYYY-MM-DD`, at the configured offset from UTC.
    pub fn stats_day(t: Timestamp) -> String {
        t.plus_secs(i64::from(DAY_OFFSET_MINUTES.load(Ordering::Relaxed)) * 60)
            .utc_day()
    }

    /// Adds `n` to today's (statistics day) `metric` of `org_id` (and `department`) as part of `tx`.
    pub(crate) async fn count_in(
        tx: &mut sqlx::AnyConnection,
        org_id: Uuid,
        metric: Metric,
        department: Option<Uuid>,
        n: i64,
    ) -> Result<(), StoreError> {
        let (sql, params) = Self::count_statement(org_id, metric, department, n);
        tx.rows(&sql, &params, &[]).await?;
        Ok(())
    }

    /// The statement of [`Store::count_in`], to run with [`Statements`].
    pub(crate) fn count_statement(
        org_id: Uuid,
        metric: Metric,
        department: Option<Uuid>,
        n: i64,
    ) -> (String, Vec<Value>) {
        let sql = format!(
            "INSERT INTO usage_counts (org_id, day, metric, department_id, n)
             VALUES ($1, $2, $3, $4, $5) {UPSERT}"
        );
        let params = vec![
            org_id.to_string().into(),
            Self::stats_day(Timestamp::now()).into(),
            metric.as_str().into(),
            department.map(|d| d.to_string()).unwrap_or_default().into(),
            n.into(),
        ];
        (sql, params)
    }

    /// Counts posted messages, `(sender, conversation, n)` each, for each sender's organization
    /// and department, and as cross-organization messages where the conversation has members
    /// of another organization: one statement for a whole batch of posts.
    pub(crate) async fn count_messages_in(
        tx: &mut Tx,
        counts: &[(Uuid, Uuid, i64)],
    ) -> Result<(), StoreError> {
        // Three values a row and one shared: far below either database's bind limit.
        for chunk in counts.chunks(8_000) {
            let mut sql = SqlBuilder::new();
            let day = sql.bind(Self::stats_day(Timestamp::now()));
            let rows: Vec<String> = chunk
                .iter()
                .map(|(sender, conversation, n)| {
                    format!(
                        "({}, {}, {})",
                        sql.bind(sender.to_string()),
                        sql.bind(conversation.to_string()),
                        sql.bind(*n)
                    )
                })
                .collect();
            // Summed per counter first: one statement may not update a row twice (PostgreSQL).
            sql.push(&format!(
                "INSERT INTO usage_counts (org_id, day, metric, department_id, n)
                 SELECT org_id, {day}, metric, department_id, CAST(SUM(n) AS BIGINT) FROM (
                     SELECT u.org_id AS org_id, m.metric AS metric,
                            CASE WHEN m.metric = 'messages' THEN COALESCE(u.department_id, '')
                                 ELSE '' END AS department_id,
                            v.column3 AS n
                     FROM (VALUES {}) AS v
                     JOIN users u ON u.id = v.column1
                     JOIN (SELECT 'messages' AS metric UNION ALL
                           SELECT 'cross_org_messages' AS metric) m
                       ON m.metric = 'messages' OR EXISTS (
                           SELECT 1 FROM conversation_members cm JOIN users o ON o.id = cm.user_id
                           WHERE cm.conversation_id = v.column2 AND o.org_id <> u.org_id)
                 ) counted WHERE 1 = 1 GROUP BY org_id, metric, department_id {UPSERT}",
                rows.join(", ")
            ));
            sql.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Counts a new conversation for its organization and its creator's department, and as
    /// a cross-organization conversation for every organization among its members when
    /// they are more than one.
    pub(crate) async fn count_conversation_in(
        tx: &mut Tx,
        conversation: Uuid,
    ) -> Result<(), StoreError> {
        let created = format!(
            "INSERT INTO usage_counts (org_id, day, metric, department_id, n)
             SELECT c.org_id, $2, 'conversations', COALESCE(u.department_id, ''), 1
             FROM conversations c LEFT JOIN users u ON u.id = c.created_by
             WHERE c.id = $1 {UPSERT}"
        );
        sqlx::query(sqlx::AssertSqlSafe(created))
            .bind(conversation.to_string())
            .bind(Self::stats_day(Timestamp::now()))
            .execute(&mut **tx)
            .await?;
        Self::count_cross_org_in(tx, conversation).await
    }

    /// Counts `conversation` as cross-organization for each organization among its members
    /// that it was not counted for yet, when the members span more than one organization (at
    /// creation, and when a member add brings a new organization in). Each organization is
    /// counted at most once per conversation (`cross_org_counted`), so members leaving and
    /// coming back count nothing more.
    pub(crate) async fn count_cross_org_in(
        tx: &mut Tx,
        conversation: Uuid,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "INSERT INTO cross_org_counted (conversation_id, org_id)
             SELECT DISTINCT cm.conversation_id, o.org_id
             FROM conversation_members cm JOIN users o ON o.id = cm.user_id
             WHERE cm.conversation_id = $1
               AND (SELECT COUNT(DISTINCT u2.org_id) FROM conversation_members c2
                    JOIN users u2 ON u2.id = c2.user_id WHERE c2.conversation_id = $1) > 1
             ON CONFLICT (conversation_id, org_id) DO NOTHING
             RETURNING org_id",
        )
        .bind(conversation.to_string())
        .fetch_all(&mut **tx)
        .await?;
        for row in &rows {
            Self::count_in(
                tx,
                uuid(row, "org_id")?,
                Metric::CrossOrgConversations,
                None,
                1,
            )
            .await?;
        }
        Ok(())
    }

    /// Every counter of `org_ids` from day `from` to day `to` (inclusive, `YYYY-MM-DD`),
    /// summed per organization, metric, month and department.
    pub async fn usage_by_month(
        &self,
        org_ids: &[Uuid],
        from: &str,
        to: &str,
    ) -> Result<Vec<MonthCount>, StoreError> {
        if org_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = (0..org_ids.len())
            .map(|i| format!("${}", i + 3))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT org_id, metric, substr(day, 1, 7) AS month, department_id,
                    CAST(SUM(n) AS BIGINT) AS value
             FROM usage_counts WHERE day >= $1 AND day <= $2 AND org_id IN ({placeholders})
             GROUP BY org_id, metric, substr(day, 1, 7), department_id
             ORDER BY org_id, month, metric, department_id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        for id in org_ids {
            query = query.bind(id.to_string());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let metric: String = row.try_get("metric")?;
            let Some(metric) = Metric::parse(&metric) else {
                continue;
            };
            let department: String = row.try_get("department_id")?;
            out.push(MonthCount {
                org_id: uuid(row, "org_id")?,
                metric,
                month: row.try_get("month")?,
                department_id: Uuid::parse_str(&department).ok(),
                value: row.try_get("value")?,
            });
        }
        Ok(out)
    }
}
