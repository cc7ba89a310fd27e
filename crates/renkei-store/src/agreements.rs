//! Agreements between organizations: propose, accept, revoke; which partners hold a scope;
//! and pruning conversations whose members' organizations no longer cooperate.

use renkei_core::Uuid;
use renkei_core::agreement::{
    Agreement, AgreementStatus, Scope, orgs_to_remove, pair_key, pairs, parse_scopes, scopes_text,
};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::EventKind;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{id_text, named, opt_uuid, uuid};
use crate::{Store, StoreError, Tx};

const AGREEMENT_COLUMNS: &str = "SELECT id, proposer_org_id, partner_org_id, scopes, status,
    council_id, proposed_by, proposed_at, accepted_by, accepted_at, revoked_by, revoked_at
    FROM agreements";

/// A member taken out of a conversation because two organizations stopped cooperating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    pub conversation: Uuid,
    pub user: Uuid,
    /// The `member.removed` event's number.
    pub seq: i64,
}

fn agreement_from_row(row: &AnyRow) -> Result<Agreement, StoreError> {
    let scopes: String = row.try_get("scopes")?;
    let at = |col: &str| -> Result<Option<Timestamp>, StoreError> {
        Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp))
    };
    Ok(Agreement {
        id: uuid(row, "id")?,
        proposer_org_id: uuid(row, "proposer_org_id")?,
        partner_org_id: uuid(row, "partner_org_id")?,
        scopes: parse_scopes(&scopes),
        status: named(row, "status", AgreementStatus::parse)?,
        council_id: opt_uuid(row, "council_id")?,
        proposed_by: opt_uuid(row, "proposed_by")?,
        proposed_at: Timestamp(row.try_get("proposed_at")?),
        accepted_by: opt_uuid(row, "accepted_by")?,
        accepted_at: at("accepted_at")?,
        revoked_by: opt_uuid(row, "revoked_by")?,
        revoked_at: at("revoked_at")?,
    })
}

/// `WHERE` text matching agreements in force between `$a` and `$b` that hold scope `$s`.
const IN_FORCE: &str = "status = 'active' AND pair_key = $1 AND (',' || scopes || ',') LIKE $2";

/// The distinct organizations of a conversation's members.
const MEMBER_ORGS: &str = "SELECT DISTINCT u.org_id FROM conversation_members m
    JOIN users u ON u.id = m.user_id WHERE m.conversation_id = $1 ORDER BY u.org_id";

fn scope_pattern(scope: Scope) -> String {
    format!("%,{},%", scope.as_str())
}

impl Store {
    /// Inserts an agreement in `tx`; a second open one for the pair is `agreement_exists`.
    pub(crate) async fn insert_agreement_in(tx: &mut Tx, a: &Agreement) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agreements (id, proposer_org_id, partner_org_id, pair_key, scopes, status,
                 council_id, proposed_by, proposed_at, accepted_by, accepted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(a.id.to_string())
        .bind(a.proposer_org_id.to_string())
        .bind(a.partner_org_id.to_string())
        .bind(pair_key(a.proposer_org_id, a.partner_org_id))
        .bind(scopes_text(&a.scopes))
        .bind(a.status.as_str())
        .bind(id_text(a.council_id))
        .bind(id_text(a.proposed_by))
        .bind(a.proposed_at.millis())
        .bind(id_text(a.accepted_by))
        .bind(a.accepted_at.map(|t| t.millis()))
        .execute(&mut **tx)
        .await
        .map_err(|e| StoreError::classify(e, "agreement_exists", "organization_not_found"))?;
        Ok(())
    }

    /// Stores a proposed agreement with its audit entry.
    pub async fn propose_agreement(
        &self,
        agreement: &Agreement,
        audit: &AuditEvent,
    ) -> Result<Agreement, StoreError> {
        let mut tx = self.write_tx().await?;
        Self::insert_agreement_in(&mut tx, agreement).await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        self.agreement(agreement.id).await
    }

    /// One agreement.
    pub async fn agreement(&self, id: Uuid) -> Result<Agreement, StoreError> {
        let sql = format!("{AGREEMENT_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(agreement_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The agreements `org` is a party to, newest first (revoked ones too: the history).
    pub async fn agreements_of(&self, org: Uuid) -> Result<Vec<Agreement>, StoreError> {
        let sql = format!(
            "{AGREEMENT_COLUMNS} WHERE proposer_org_id = $1 OR partner_org_id = $1
             ORDER BY proposed_at DESC, id LIMIT 1000"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(agreement_from_row).collect()
    }

    /// Puts a proposed agreement in force; `Stale` when it is no longer proposed.
    pub async fn accept_agreement(
        &self,
        id: Uuid,
        by: Uuid,
        audit: &AuditEvent,
    ) -> Result<Agreement, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE agreements SET status = 'active', accepted_by = $1, accepted_at = $2
             WHERE id = $3 AND status = 'proposed'",
        )
        .bind(by.to_string())
        .bind(Timestamp::now().millis())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        self.agreement(id).await
    }

    /// Ends an agreement (proposed or active) at once, and in the same transaction takes the
    /// members out of every conversation whose organizations no longer cooperate.
    /// `Stale` when it was already revoked.
    pub async fn revoke_agreement(
        &self,
        id: Uuid,
        by: Uuid,
        audit: &AuditEvent,
    ) -> Result<(Agreement, Vec<Removal>), StoreError> {
        let mut tx = self.write_tx().await?;
        let agreement = Self::revoke_in(&mut tx, id, by).await?;
        let removals = Self::prune_between(
            &mut tx,
            agreement.proposer_org_id,
            agreement.partner_org_id,
            by,
        )
        .await?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok((agreement, removals))
    }

    /// Marks an open agreement revoked in `tx`, returning it.
    pub(crate) async fn revoke_in(
        tx: &mut Tx,
        id: Uuid,
        by: Uuid,
    ) -> Result<Agreement, StoreError> {
        let done = sqlx::query(
            "UPDATE agreements SET status = 'revoked', revoked_by = $1, revoked_at = $2
             WHERE id = $3 AND status <> 'revoked'",
        )
        .bind(by.to_string())
        .bind(Timestamp::now().millis())
        .bind(id.to_string())
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
        let sql = format!("{AGREEMENT_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&mut **tx)
            .await?;
        agreement_from_row(&row)
    }

    /// The open (proposed or active) agreement between two organizations, if any, in `tx`.
    pub(crate) async fn open_agreement_in(
        tx: &mut Tx,
        a: Uuid,
        b: Uuid,
    ) -> Result<Option<Agreement>, StoreError> {
        let sql = format!("{AGREEMENT_COLUMNS} WHERE pair_key = $1 AND status <> 'revoked'");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pair_key(a, b))
            .fetch_optional(&mut **tx)
            .await?;
        row.as_ref().map(agreement_from_row).transpose()
    }

    /// Whether `a` and `b` may act together under `scope` (always, within one organization).
    pub async fn cooperates(&self, a: Uuid, b: Uuid, scope: Scope) -> Result<bool, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::cooperates_on(&mut conn, a, b, scope).await
    }

    async fn cooperates_on(
        conn: &mut sqlx::AnyConnection,
        a: Uuid,
        b: Uuid,
        scope: Scope,
    ) -> Result<bool, StoreError> {
        if a == b {
            return Ok(true);
        }
        let sql = format!("SELECT 1 AS one FROM agreements WHERE {IN_FORCE}");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pair_key(a, b))
            .bind(scope_pattern(scope))
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.is_some())
    }

    /// The organizations `org` has an agreement in force with that holds `scope`.
    pub async fn partners(&self, org: Uuid, scope: Scope) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT CASE WHEN proposer_org_id = $1 THEN partner_org_id ELSE proposer_org_id END AS other
             FROM agreements WHERE status = 'active' AND (proposer_org_id = $1 OR partner_org_id = $1)
               AND (',' || scopes || ',') LIKE $2",
        )
        .bind(org.to_string())
        .bind(scope_pattern(scope))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| uuid(r, "other")).collect()
    }

    /// The distinct organizations of a conversation's members.
    pub async fn member_orgs(&self, conversation: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(MEMBER_ORGS)
            .bind(conversation.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| uuid(r, "org_id")).collect()
    }

    /// Takes members out of `conversation` until every pair of organizations in it
    /// cooperates on messaging (see `renkei_core::agreement::orgs_to_remove`).
    pub async fn prune_conversation(
        &self,
        conversation: Uuid,
        actor: Uuid,
    ) -> Result<Vec<Removal>, StoreError> {
        let mut tx = self.write_tx().await?;
        let removals = Self::prune_in(&mut tx, conversation, actor).await?;
        tx.commit().await?;
        Ok(removals)
    }

    /// Prunes every conversation with members of both `a` and `b`, in `tx`.
    pub(crate) async fn prune_between(
        tx: &mut Tx,
        a: Uuid,
        b: Uuid,
        actor: Uuid,
    ) -> Result<Vec<Removal>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id FROM conversations c
             WHERE EXISTS (SELECT 1 FROM conversation_members m JOIN users u ON u.id = m.user_id
                           WHERE m.conversation_id = c.id AND u.org_id = $1)
               AND EXISTS (SELECT 1 FROM conversation_members m JOIN users u ON u.id = m.user_id
                           WHERE m.conversation_id = c.id AND u.org_id = $2)",
        )
        .bind(a.to_string())
        .bind(b.to_string())
        .fetch_all(&mut **tx)
        .await?;
        let mut removals = Vec::new();
        for row in &rows {
            let conversation = uuid(row, "id")?;
            removals.extend(Self::prune_in(tx, conversation, actor).await?);
        }
        Ok(removals)
    }

    async fn prune_in(
        tx: &mut Tx,
        conversation: Uuid,
        actor: Uuid,
    ) -> Result<Vec<Removal>, StoreError> {
        let owner_row = sqlx::query("SELECT org_id FROM conversations WHERE id = $1")
            .bind(conversation.to_string())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let owner = uuid(&owner_row, "org_id")?;
        let mut removals = Vec::new();
        'again: loop {
            let rows = sqlx::query(MEMBER_ORGS)
                .bind(conversation.to_string())
                .fetch_all(&mut **tx)
                .await?;
            let orgs = rows
                .iter()
                .map(|r| uuid(r, "org_id"))
                .collect::<Result<Vec<_>, _>>()?;
            for (a, b) in pairs(&orgs) {
                if Self::cooperates_on(tx, a, b, Scope::Messaging).await? {
                    continue;
                }
                for org in orgs_to_remove(owner, a, b) {
                    removals.extend(Self::remove_org_members(tx, conversation, org, actor).await?);
                }
                continue 'again;
            }
            return Ok(removals);
        }
    }

    async fn remove_org_members(
        tx: &mut Tx,
        conversation: Uuid,
        org: Uuid,
        actor: Uuid,
    ) -> Result<Vec<Removal>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.user_id FROM conversation_members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = $1 AND u.org_id = $2 ORDER BY m.joined_seq",
        )
        .bind(conversation.to_string())
        .bind(org.to_string())
        .fetch_all(&mut **tx)
        .await?;
        let now = Timestamp::now();
        let mut removals = Vec::new();
        for row in &rows {
            let user = uuid(row, "user_id")?;
            sqlx::query(
                "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
            )
            .bind(conversation.to_string())
            .bind(user.to_string())
            .execute(&mut **tx)
            .await?;
            let data = json!({"user_id": user, "reason": "agreement_revoked"});
            let seq = Self::append_event(
                tx,
                conversation,
                EventKind::MemberRemoved,
                Some(actor),
                &data,
                now,
            )
            .await?;
            removals.push(Removal {
                conversation,
                user,
                seq,
            });
        }
        Ok(removals)
    }
}
