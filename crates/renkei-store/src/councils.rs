//! Regional councils: which hospitals a council invited and which opted in, and creating or
//! revoking every pairwise agreement among them in one transaction.

use renkei_core::Uuid;
use renkei_core::agreement::{
    Agreement, AgreementStatus, CouncilMember, CouncilMembership as Membership, CouncilStatus,
    Scope, pairs, parse_scopes, scopes_text,
};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use sqlx::Row;

use crate::agreements::Removal;
use crate::rows::{named, uuid};
use crate::{Store, StoreError, Tx};

impl Store {
    /// The hospitals of a council, by name.
    pub async fn council_members(&self, council: Uuid) -> Result<Vec<CouncilMember>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.org_id, o.name, m.status, m.updated_at FROM council_members m
             JOIN organizations o ON o.id = m.org_id WHERE m.council_id = $1 ORDER BY o.name, m.org_id",
        )
        .bind(council.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CouncilMember {
                    org_id: uuid(r, "org_id")?,
                    org_name: r.try_get("name")?,
                    status: named(r, "status", CouncilStatus::parse)?,
                    updated_at: Timestamp(r.try_get("updated_at")?),
                })
            })
            .collect()
    }

    /// The councils `org` was invited to, with its standing in each.
    pub async fn councils_of(&self, org: Uuid) -> Result<Vec<Membership>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.council_id, o.name, m.status FROM council_members m
             JOIN organizations o ON o.id = m.council_id WHERE m.org_id = $1 ORDER BY o.name",
        )
        .bind(org.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Membership {
                    council_id: uuid(r, "council_id")?,
                    council_name: r.try_get("name")?,
                    status: named(r, "status", CouncilStatus::parse)?,
                })
            })
            .collect()
    }

    /// The scopes the council's agreements were created with, once they were.
    pub async fn council_scopes(&self, council: Uuid) -> Result<Option<Vec<Scope>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Self::council_scopes_on(&mut conn, council).await
    }

    /// Invites a hospital into a council (again, after it opted out); `Duplicate` when it is
    /// already invited or in.
    pub async fn invite_to_council(
        &self,
        council: Uuid,
        org: Uuid,
        by: Uuid,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        let current = Self::council_status_in(&mut tx, council, org).await?;
        match current {
            Some(CouncilStatus::OptedOut) => {
                Self::set_council_status(&mut tx, council, org, CouncilStatus::Invited, by).await?
            }
            Some(_) => return Err(StoreError::Duplicate("already_council_member")),
            None => {
                sqlx::query(
                    "INSERT INTO council_members (council_id, org_id, status, updated_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(council.to_string())
                .bind(org.to_string())
                .bind(CouncilStatus::Invited.as_str())
                .bind(by.to_string())
                .bind(Timestamp::now().millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::classify(e, "already_council_member", "organization_not_found")
                })?;
            }
        }
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opts an invited hospital in; when the council's agreements exist, it gets one with
    /// every other opted-in member in the same transaction. Returns the agreements created.
    /// `NotFound` when it was never invited, `Stale` when it is already in.
    pub async fn opt_in_council(
        &self,
        council: Uuid,
        org: Uuid,
        by: Uuid,
        audit: &AuditEvent,
    ) -> Result<Vec<Agreement>, StoreError> {
        let mut tx = self.write_tx().await?;
        match Self::council_status_in(&mut tx, council, org).await? {
            None => return Err(StoreError::NotFound),
            Some(CouncilStatus::OptedIn) => return Err(StoreError::Stale),
            Some(_) => {}
        }
        Self::set_council_status(&mut tx, council, org, CouncilStatus::OptedIn, by).await?;
        let mut created = Vec::new();
        if let Some(scopes) = Self::council_scopes_on(&mut tx, council).await? {
            for other in Self::opted_in_in(&mut tx, council).await? {
                if other != org
                    && let Some(a) =
                        Self::council_agreement_in(&mut tx, council, org, other, &scopes, by)
                            .await?
                {
                    created.push(a);
                }
            }
        }
        let audit = audit.clone().with_details(
            serde_json::json!({"agreements": created.iter().map(|a| a.id).collect::<Vec<_>>()}),
        );
        self.append_audit_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Takes a hospital out of a council (it opted out, or the council removed it): every
    /// agreement the council made for it is revoked and conversations are pruned, in one
    /// transaction. `NotFound` when it is not invited or in.
    pub async fn opt_out_council(
        &self,
        council: Uuid,
        org: Uuid,
        by: Uuid,
        audit: &AuditEvent,
    ) -> Result<Vec<Removal>, StoreError> {
        let mut tx = self.write_tx().await?;
        match Self::council_status_in(&mut tx, council, org).await? {
            None | Some(CouncilStatus::OptedOut) => return Err(StoreError::NotFound),
            Some(_) => {}
        }
        Self::set_council_status(&mut tx, council, org, CouncilStatus::OptedOut, by).await?;
        let rows = sqlx::query(
            "SELECT id FROM agreements WHERE council_id = $1 AND status <> 'revoked'
               AND (proposer_org_id = $2 OR partner_org_id = $2)",
        )
        .bind(council.to_string())
        .bind(org.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut removals = Vec::new();
        let mut revoked = Vec::new();
        for row in &rows {
            let agreement = Self::revoke_in(&mut tx, uuid(row, "id")?, by).await?;
            revoked.push(agreement.id);
            removals.extend(
                Self::prune_between(
                    &mut tx,
                    agreement.proposer_org_id,
                    agreement.partner_org_id,
                    by,
                )
                .await?,
            );
        }
        let audit = audit
            .clone()
            .with_details(serde_json::json!({"revoked": revoked}));
        self.append_audit_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(removals)
    }

    /// Creates every pairwise agreement among the council's opted-in hospitals (pairs that
    /// already have one in force keep it; a pending proposal is replaced) and remembers the
    /// scopes for later opt-ins, all in one transaction. Returns the agreements created.
    pub async fn create_council_agreements(
        &self,
        council: Uuid,
        scopes: &[Scope],
        by: Uuid,
        audit: &AuditEvent,
    ) -> Result<Vec<Agreement>, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = Timestamp::now().millis();
        sqlx::query(
            "INSERT INTO council_scopes (council_id, scopes, set_by, set_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (council_id) DO UPDATE SET scopes = $2, set_by = $3, set_at = $4",
        )
        .bind(council.to_string())
        .bind(scopes_text(scopes))
        .bind(by.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let members = Self::opted_in_in(&mut tx, council).await?;
        let mut created = Vec::new();
        for (a, b) in pairs(&members) {
            if let Some(agreement) =
                Self::council_agreement_in(&mut tx, council, a, b, scopes, by).await?
            {
                created.push(agreement);
            }
        }
        let audit = audit.clone().with_details(serde_json::json!({
            "scopes": scopes, "members": members,
            "agreements": created.iter().map(|a| a.id).collect::<Vec<_>>(),
        }));
        self.append_audit_in(&mut tx, &audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// An agreement in force between `a` and `b` made by the council, unless one is already
    /// in force; a pending proposal between them is revoked first.
    async fn council_agreement_in(
        tx: &mut Tx,
        council: Uuid,
        a: Uuid,
        b: Uuid,
        scopes: &[Scope],
        by: Uuid,
    ) -> Result<Option<Agreement>, StoreError> {
        if let Some(open) = Self::open_agreement_in(tx, a, b).await? {
            if open.status == AgreementStatus::Active {
                return Ok(None);
            }
            Self::revoke_in(tx, open.id, by).await?;
        }
        let now = Timestamp::now();
        let agreement = Agreement {
            id: renkei_core::new_id(),
            proposer_org_id: a,
            partner_org_id: b,
            scopes: scopes.to_vec(),
            status: AgreementStatus::Active,
            council_id: Some(council),
            proposed_by: Some(by),
            proposed_at: now,
            accepted_by: Some(by),
            accepted_at: Some(now),
            revoked_by: None,
            revoked_at: None,
        };
        Self::insert_agreement_in(tx, &agreement).await?;
        Ok(Some(agreement))
    }

    async fn council_status_in(
        tx: &mut Tx,
        council: Uuid,
        org: Uuid,
    ) -> Result<Option<CouncilStatus>, StoreError> {
        let row =
            sqlx::query("SELECT status FROM council_members WHERE council_id = $1 AND org_id = $2")
                .bind(council.to_string())
                .bind(org.to_string())
                .fetch_optional(&mut **tx)
                .await?;
        row.map(|r| named(&r, "status", CouncilStatus::parse))
            .transpose()
    }

    async fn set_council_status(
        tx: &mut Tx,
        council: Uuid,
        org: Uuid,
        status: CouncilStatus,
        by: Uuid,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE council_members SET status = $1, updated_by = $2, updated_at = $3
             WHERE council_id = $4 AND org_id = $5",
        )
        .bind(status.as_str())
        .bind(by.to_string())
        .bind(Timestamp::now().millis())
        .bind(council.to_string())
        .bind(org.to_string())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    async fn council_scopes_on(
        conn: &mut sqlx::AnyConnection,
        council: Uuid,
    ) -> Result<Option<Vec<Scope>>, StoreError> {
        let row = sqlx::query("SELECT scopes FROM council_scopes WHERE council_id = $1")
            .bind(council.to_string())
            .fetch_optional(&mut *conn)
            .await?;
        row.map(|r| Ok(parse_scopes(&r.try_get::<String, _>("scopes")?)))
            .transpose()
    }

    async fn opted_in_in(tx: &mut Tx, council: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let rows = sqlx::query(
            "SELECT org_id FROM council_members WHERE council_id = $1 AND status = 'opted_in'
             ORDER BY org_id",
        )
        .bind(council.to_string())
        .fetch_all(&mut **tx)
        .await?;
        rows.iter().map(|r| uuid(r, "org_id")).collect()
    }
}
