//! Organizations and departments.

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::{Department, OrgKind, Organization};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{named, uuid};
use crate::{Store, StoreError};

const ORG_COLUMNS: &str =
    "SELECT id, slug, name, kind, policy, version, created_at, updated_at FROM organizations";
const DEPARTMENT_COLUMNS: &str =
    "SELECT id, org_id, name, on_call_user_id, version, created_at, updated_at FROM departments";

fn org_from_row(row: &AnyRow) -> Result<Organization, StoreError> {
    let policy: String = row.try_get("policy")?;
    Ok(Organization {
        id: uuid(row, "id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        kind: named(row, "kind", OrgKind::parse)?,
        policy: serde_json::from_str(&policy).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        version: row.try_get("version")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn department_from_row(row: &AnyRow) -> Result<Department, StoreError> {
    Ok(Department {
        id: uuid(row, "id")?,
        org_id: uuid(row, "org_id")?,
        name: row.try_get("name")?,
        on_call_user_id: crate::rows::opt_uuid(row, "on_call_user_id")?,
        version: row.try_get("version")?,
        created_at: Timestamp(row.try_get("created_at")?),
        updated_at: Timestamp(row.try_get("updated_at")?),
    })
}

fn policy_json(org: &Organization) -> String {
    serde_json::to_string(&org.policy).unwrap_or_default()
}

impl Store {
    /// How many organizations exist (zero means a first start).
    pub async fn count_orgs(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM organizations")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Stores a new organization and its audit entry.
    pub async fn insert_org(
        &self,
        org: &Organization,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, kind, policy, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org.id.to_string())
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.kind.as_str())
        .bind(policy_json(org))
        .bind(org.version)
        .bind(org.created_at.millis())
        .bind(org.updated_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "slug_taken", "organization"))?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One organization by id.
    pub async fn org(&self, id: Uuid) -> Result<Organization, StoreError> {
        let sql = format!("{ORG_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(org_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// One organization by slug.
    pub async fn org_by_slug(&self, slug: &str) -> Result<Organization, StoreError> {
        let sql = format!("{ORG_COLUMNS} WHERE slug = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(org_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Every organization, by name.
    pub async fn list_orgs(&self) -> Result<Vec<Organization>, StoreError> {
        let sql = format!("{ORG_COLUMNS} ORDER BY name, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    /// Saves an edited organization if it is still at `expected_version`; returns the saved one.
    pub async fn update_org(
        &self,
        next: &Organization,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.write_tx().await?;
        let now = Timestamp::now();
        let done = sqlx::query(
            "UPDATE organizations SET slug = $1, name = $2, policy = $3, version = version + 1,
                 updated_at = $4
             WHERE id = $5 AND version = $6",
        )
        .bind(&next.slug)
        .bind(&next.name)
        .bind(policy_json(next))
        .bind(now.millis())
        .bind(next.id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "slug_taken", "organization"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        self.org(next.id).await
    }

    /// Stores a new department and its audit entry.
    pub async fn insert_department(
        &self,
        dept: &Department,
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO departments (id, org_id, name, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(dept.id.to_string())
        .bind(dept.org_id.to_string())
        .bind(&dept.name)
        .bind(dept.version)
        .bind(dept.created_at.millis())
        .bind(dept.updated_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "department_exists", "organization"))?;
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One department by id.
    pub async fn department(&self, id: Uuid) -> Result<Department, StoreError> {
        let sql = format!("{DEPARTMENT_COLUMNS} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(department_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// One department of an organization by its exact name.
    pub async fn department_by_name(
        &self,
        org_id: Uuid,
        name: &str,
    ) -> Result<Department, StoreError> {
        let sql = format!("{DEPARTMENT_COLUMNS} WHERE org_id = $1 AND name = $2");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(department_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// An organization's departments, by name.
    pub async fn list_departments(&self, org_id: Uuid) -> Result<Vec<Department>, StoreError> {
        let sql = format!("{DEPARTMENT_COLUMNS} WHERE org_id = $1 ORDER BY name, id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(department_from_row).collect()
    }

    /// Renames a department if it is still at `expected_version`; returns the saved one.
    pub async fn update_department(
        &self,
        next: &Department,
        expected_version: i64,
        audit: &AuditEvent,
    ) -> Result<Department, StoreError> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE departments SET name = $1, on_call_user_id = $5, version = version + 1,
                 updated_at = $2 WHERE id = $3 AND version = $4",
        )
        .bind(&next.name)
        .bind(Timestamp::now().millis())
        .bind(next.id.to_string())
        .bind(expected_version)
        .bind(crate::rows::id_text(next.on_call_user_id))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::classify(e, "department_exists", "organization"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Stale);
        }
        self.append_audit_in(&mut tx, audit).await?;
        tx.commit().await?;
        self.department(next.id).await
    }
}
