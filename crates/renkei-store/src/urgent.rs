//! Urgent alerts: one row per urgent message and recipient, written with the message; due rows
//! claimed (FOR UPDATE SKIP LOCKED on PostgreSQL), acknowledgements, and the delivery marks.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{EventKind, MemberRole, direct_key};
use renkei_core::org::Policy;
use renkei_core::urgent::{Marks, Schedule};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{id_text, opt_uuid, uuid};
use crate::{Backend, Store, StoreError, Tx};

/// One recipient's alert row, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrgentAlert {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub user_id: Uuid,
    pub sender_id: Uuid,
    pub created_at: Timestamp,
    pub schedule: Schedule,
    pub acknowledged_at: Option<Timestamp>,
    pub escalated_at: Option<Timestamp>,
    pub escalated_to: Option<Uuid>,
}

/// A due row with what deciding about it needs: the recipient's organization, name and
/// policy, and who could cover them (active users only).
#[derive(Debug, Clone)]
pub struct DueAlert {
    pub alert: UrgentAlert,
    pub recipient_org: Uuid,
    pub recipient_name: String,
    pub sender_org: Uuid,
    pub policy: Policy,
    /// The recipient's own covering colleague, if set and active.
    pub covering_user_id: Option<Uuid>,
    /// Their department's on-call user, if set and active.
    pub on_call_user_id: Option<Uuid>,
}

/// What to do with a due row, decided by the caller's rules.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The schedule to store.
    pub next: Schedule,
    /// Escalate to this user now, with this notice in their direct conversation with the
    /// sender (the notice's `data`).
    pub escalate: Option<(Uuid, Value)>,
    /// Marks the escalation as done even without anyone to tell.
    pub escalated: bool,
    /// The audit entries of what is done.
    pub audits: Vec<AuditEvent>,
}

/// A claimed row, what was decided, and where an escalation notice went
/// (conversation, its new seq).
#[derive(Debug, Clone)]
pub struct Claimed {
    pub due: DueAlert,
    pub planned: Planned,
    pub notice: Option<(Uuid, i64)>,
}

const ALERT_COLUMNS: &str =
    "a.conversation_id, a.seq, a.user_id, a.sender_id, a.created_at, a.alerts_sent,
    a.next_alert_at, a.escalate_at, a.acknowledged_at, a.escalated_at, a.escalated_to";

/// Rows still live: the recipient is a member and the message is not deleted.
const LIVE_FROM: &str = "urgent_alerts a
    JOIN conversation_members cm ON cm.conversation_id = a.conversation_id AND cm.user_id = a.user_id
    JOIN messages m ON m.conversation_id = a.conversation_id AND m.seq = a.seq AND m.deleted_at IS NULL";

fn ts(row: &AnyRow, col: &str) -> Result<Option<Timestamp>, StoreError> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp))
}

fn alert_from_row(row: &AnyRow) -> Result<UrgentAlert, StoreError> {
    Ok(UrgentAlert {
        conversation_id: uuid(row, "conversation_id")?,
        seq: row.try_get("seq")?,
        user_id: uuid(row, "user_id")?,
        sender_id: uuid(row, "sender_id")?,
        created_at: Timestamp(row.try_get("created_at")?),
        schedule: Schedule {
            alerts_sent: row.try_get("alerts_sent")?,
            next_alert_at: ts(row, "next_alert_at")?,
            escalate_at: ts(row, "escalate_at")?,
        },
        acknowledged_at: ts(row, "acknowledged_at")?,
        escalated_at: ts(row, "escalated_at")?,
        escalated_to: opt_uuid(row, "escalated_to")?,
    })
}

fn policy_of(row: &AnyRow) -> Result<Policy, StoreError> {
    let text: String = row.try_get("policy")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("policy: {e}")))
}

impl Store {
    /// Writes the alert rows of an urgent message just posted, in the post's transaction: one
    /// per member but the sender, timed by each recipient's organization's policy (a recipient
    /// of a partner hospital is re-alerted as their own hospital decided). Returns the audit
    /// entry of the first alert ("urgent.send"), for the same transaction.
    pub(crate) async fn insert_urgent_alerts_in(
        tx: &mut Tx,
        conversation: Uuid,
        seq: i64,
        sender: Uuid,
        created: Timestamp,
    ) -> Result<AuditEvent, StoreError> {
        let sender_org = sqlx::query("SELECT org_id FROM users WHERE id = $1")
            .bind(sender.to_string())
            .fetch_one(&mut **tx)
            .await?;
        let audit = |recipients: Vec<String>| {
            AuditEvent::new(
                "urgent.send",
                uuid(&sender_org, "org_id").ok(),
                Some(sender),
                "conversation",
                Some(conversation),
            )
            .with_details(serde_json::json!({"seq": seq, "recipients": recipients}))
        };
        let rows = sqlx::query(
            "SELECT cm.user_id, o.policy FROM conversation_members cm
             JOIN users u ON u.id = cm.user_id JOIN organizations o ON o.id = u.org_id
             WHERE cm.conversation_id = $1 AND cm.user_id <> $2 ORDER BY cm.user_id",
        )
        .bind(conversation.to_string())
        .bind(sender.to_string())
        .fetch_all(&mut **tx)
        .await?;
        let recipients = rows
            .iter()
            .map(|row| row.try_get::<String, _>("user_id"))
            .collect::<Result<Vec<_>, _>>()?;
        if rows.is_empty() {
            return Ok(audit(recipients));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(insert_sql(rows.len())))
            .bind(conversation.to_string())
            .bind(seq)
            .bind(sender.to_string())
            .bind(created.millis());
        for row in &rows {
            let schedule = Schedule::first(created, (&policy_of(row)?).into());
            let user: String = row.try_get("user_id")?;
            q = q
                .bind(user)
                .bind(schedule.alerts_sent)
                .bind(schedule.next_alert_at.map(Timestamp::millis))
                .bind(schedule.escalate_at.map(Timestamp::millis));
        }
        q.execute(&mut **tx).await?;
        Ok(audit(recipients))
    }

    /// Claims up to `limit` rows due at `now`, decides each with `plan`, stores the new
    /// schedules, writes escalation notices and the audit entries, and commits: only then may
    /// the caller send the alerts. On PostgreSQL rows another node holds are skipped; on
    /// SQLite the write lock serialises schedulers.
    pub async fn claim_urgent_alerts(
        &self,
        now: Timestamp,
        limit: i64,
        plan: impl Fn(&DueAlert) -> Planned,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut tx = self.write_tx().await?;
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE OF a SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "SELECT {ALERT_COLUMNS}, u.org_id AS recipient_org, u.display_name, o.policy,
                 s.org_id AS sender_org,
                 CASE WHEN cu.status = 'active' THEN cu.id END AS covering_user_id,
                 CASE WHEN ou.status = 'active' THEN ou.id END AS on_call_user_id
             FROM {LIVE_FROM}
             JOIN users u ON u.id = a.user_id
             JOIN organizations o ON o.id = u.org_id
             JOIN users s ON s.id = a.sender_id
             LEFT JOIN notification_settings ns ON ns.user_id = a.user_id
             LEFT JOIN users cu ON cu.id = ns.covering_user_id
             LEFT JOIN departments d ON d.id = u.department_id
             LEFT JOIN users ou ON ou.id = d.on_call_user_id
             WHERE a.acknowledged_at IS NULL AND (a.next_alert_at <= $1 OR a.escalate_at <= $1)
             ORDER BY a.created_at, a.conversation_id, a.seq, a.user_id LIMIT $2 {lock}"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in &rows {
            let due = DueAlert {
                alert: alert_from_row(row)?,
                recipient_org: uuid(row, "recipient_org")?,
                recipient_name: row.try_get("display_name")?,
                sender_org: uuid(row, "sender_org")?,
                policy: policy_of(row)?,
                covering_user_id: opt_uuid(row, "covering_user_id")?,
                on_call_user_id: opt_uuid(row, "on_call_user_id")?,
            };
            let planned = plan(&due);
            let a = &due.alert;
            let escalated = planned.escalated || planned.escalate.is_some();
            sqlx::query(
                "UPDATE urgent_alerts SET alerts_sent = $1, next_alert_at = $2, escalate_at = $3,
                     escalated_at = CASE WHEN $4 = 1 THEN $5 ELSE escalated_at END,
                     escalated_to = CASE WHEN $4 = 1 THEN $6 ELSE escalated_to END
                 WHERE conversation_id = $7 AND seq = $8 AND user_id = $9",
            )
            .bind(planned.next.alerts_sent)
            .bind(planned.next.next_alert_at.map(Timestamp::millis))
            .bind(planned.next.escalate_at.map(Timestamp::millis))
            .bind(i64::from(escalated))
            .bind(now.millis())
            .bind(id_text(planned.escalate.as_ref().map(|(to, _)| *to)))
            .bind(a.conversation_id.to_string())
            .bind(a.seq)
            .bind(a.user_id.to_string())
            .execute(&mut *tx)
            .await?;
            let notice = match &planned.escalate {
                Some((to, data)) => {
                    let conv = Self::direct_conversation_in(
                        &mut tx,
                        *to,
                        a.sender_id,
                        due.sender_org,
                        now,
                    )
                    .await?;
                    let seq =
                        Self::append_event(&mut tx, conv, EventKind::SystemNotice, None, data, now)
                            .await?;
                    Some((conv, seq))
                }
                None => None,
            };
            for audit in &planned.audits {
                self.append_audit_in(&mut tx, audit).await?;
            }
            claimed.push(Claimed {
                due,
                planned,
                notice,
            });
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// The direct conversation of `a` and `b`, created (owned by `org`) when there is none;
    /// both are members afterwards. In `tx`.
    async fn direct_conversation_in(
        tx: &mut Tx,
        a: Uuid,
        b: Uuid,
        org: Uuid,
        now: Timestamp,
    ) -> Result<Uuid, StoreError> {
        let key = direct_key(a, b);
        let id = renkei_core::new_id();
        let created = sqlx::query(
            "INSERT INTO conversations (id, org_id, kind, title, direct_key, created_by, last_seq, created_at, updated_at)
             VALUES ($1, $2, 'direct', NULL, $3, NULL, 0, $4, $4) ON CONFLICT (direct_key) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(org.to_string())
        .bind(&key)
        .bind(now.millis())
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        let conv = if created {
            id
        } else {
            let row = sqlx::query("SELECT id FROM conversations WHERE direct_key = $1")
                .bind(&key)
                .fetch_one(&mut **tx)
                .await?;
            uuid(&row, "id")?
        };
        for user in [a, b] {
            let member = sqlx::query(
                "SELECT 1 AS one FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(conv.to_string())
            .bind(user.to_string())
            .fetch_optional(&mut **tx)
            .await?;
            if member.is_none() {
                Self::insert_member(tx, conv, user, MemberRole::Member, None, now).await?;
            }
        }
        if created {
            Self::count_conversation_in(tx, conv).await?;
        }
        Ok(conv)
    }

    /// The earliest time a live row is due, if any.
    pub async fn next_urgent_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let sql = format!(
            "SELECT MIN(CASE WHEN a.next_alert_at IS NULL THEN a.escalate_at
                             WHEN a.escalate_at IS NULL OR a.next_alert_at < a.escalate_at THEN a.next_alert_at
                             ELSE a.escalate_at END) AS due
             FROM {LIVE_FROM} WHERE a.acknowledged_at IS NULL
               AND (a.next_alert_at IS NOT NULL OR a.escalate_at IS NOT NULL)"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?;
        ts(&row, "due")
    }

    /// The alert rows of message `seq` (one per recipient it had when posted).
    pub async fn urgent_alerts_of(
        &self,
        conversation: Uuid,
        seq: i64,
    ) -> Result<Vec<UrgentAlert>, StoreError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM urgent_alerts a WHERE a.conversation_id = $1 AND a.seq = $2
             ORDER BY a.user_id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(conversation.to_string())
            .bind(seq)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    /// Acknowledges `user`'s alert of message `seq` (stops re-alerts and escalation) with its
    /// audit entry; returns when it was acknowledged. `NotFound`: no such row.
    pub async fn acknowledge_urgent(
        &self,
        conversation: Uuid,
        seq: i64,
        user: Uuid,
        now: Timestamp,
        audit: &AuditEvent,
    ) -> Result<Timestamp, StoreError> {
        self.audited([audit], |mut tx| async move {
            let row = sqlx::query(
                "UPDATE urgent_alerts SET acknowledged_at = COALESCE(acknowledged_at, $1),
                     next_alert_at = NULL, escalate_at = NULL
                 WHERE conversation_id = $2 AND seq = $3 AND user_id = $4
                 RETURNING acknowledged_at",
            )
            .bind(now.millis())
            .bind(conversation.to_string())
            .bind(seq)
            .bind(user.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
            let at = Timestamp(row.try_get("acknowledged_at")?);
            Ok((tx, at))
        })
        .await
    }

    /// Each member's marks in a conversation.
    pub async fn member_marks(&self, conversation: Uuid) -> Result<Vec<(Uuid, Marks)>, StoreError> {
        let rows = sqlx::query(
            "SELECT user_id, pushed_seq, delivered_seq, last_read_seq FROM conversation_members
             WHERE conversation_id = $1 ORDER BY user_id",
        )
        .bind(conversation.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    uuid(row, "user_id")?,
                    Marks {
                        pushed_seq: row.try_get("pushed_seq")?,
                        delivered_seq: row.try_get("delivered_seq")?,
                        last_read_seq: row.try_get("last_read_seq")?,
                    },
                ))
            })
            .collect()
    }

    /// Raises `user`'s delivered mark in `conversation` to `seq` (never back, never past the
    /// timeline's end). `NotFound` when they are not a member; `Some(mark)` when it moved.
    pub async fn mark_delivered(
        &self,
        conversation: Uuid,
        user: Uuid,
        seq: i64,
    ) -> Result<Option<i64>, StoreError> {
        let member = sqlx::query(
            "SELECT delivered_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation.to_string())
        .bind(user.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let before: i64 = member.try_get("delivered_seq")?;
        if before >= seq {
            return Ok(None);
        }
        let raised = self
            .raise_member_marks(crate::MemberMark::Delivered, &[(conversation, user, seq)])
            .await?;
        Ok(raised.first().map(|(_, _, s)| *s))
    }
}

/// One multi-row insert for `rows` recipients: $1..$4 are shared (conversation, seq, sender,
/// created), then four values per recipient (user, alerts sent, next alert, escalation).
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO urgent_alerts (conversation_id, seq, user_id, sender_id, created_at,
             alerts_sent, next_alert_at, escalate_at) VALUES ",
    );
    for i in 0..rows {
        let b = 4 + i * 4;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "($1, $2, ${}, $3, $4, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4
        ));
    }
    sql
}
