//! The staff directory's upkeep: each user's search document and keys, rebuilt from the
//! dirty list that triggers fill (search lives in `directory_search`).

use renkei_core::directory::{Profile, document, keys, sort_key};
use renkei_core::user::{Profession, UserStatus};
use sqlx::Row;

use crate::rows::named;
use crate::{Backend, Store, StoreError, Tx};

/// Users whose documents are rebuilt per transaction (short, so a search waiting on SQLite's
/// write lock waits little).
const REFRESH_BATCH: i64 = 250;
/// Documents rebuilt at once above which PostgreSQL's statistics are refreshed.
const ANALYZE_AFTER: usize = 1000;

/// Makes `doc`'s keys the user's keys in `directory_keys` (none for an empty document).
async fn replace_keys(tx: &mut Tx, user: &str, doc: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM directory_keys WHERE user_id = $1")
        .bind(user)
        .execute(&mut **tx)
        .await?;
    let keys: Vec<&str> = keys(doc).collect();
    if keys.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..keys.len())
        .map(|i| format!("(${}, $1)", i + 2))
        .collect();
    let sql = format!(
        "INSERT INTO directory_keys (key, user_id) VALUES {}",
        values.join(", ")
    );
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user);
    for key in keys {
        insert = insert.bind(key);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

impl Store {
    /// Rebuilds the documents of users changed since the last rebuild (a cheap read when
    /// none did). Returns how many were rebuilt. The server runs it every second in the
    /// background, so a bulk change (a CSV import) never holds up a search.
    pub async fn refresh_directory(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let done = self.refresh_directory_up_to(REFRESH_BATCH).await?;
            total += done;
            if done == 0 {
                break;
            }
        }
        // After a bulk change (first start, a CSV import) PostgreSQL's planner needs fresh
        // statistics to walk the directory in reading order instead of sorting all of it.
        if total >= ANALYZE_AFTER && self.backend == Backend::Postgres {
            sqlx::query("ANALYZE directory_entries, directory_keys")
                .execute(&self.pool)
                .await?;
        }
        Ok(total)
    }

    /// Rebuilds at most `max` changed documents, in one transaction (a cheap read when none
    /// changed); a search does this first, so the few users just edited are found as they are
    /// now.
    pub async fn refresh_directory_up_to(&self, max: i64) -> Result<usize, StoreError> {
        let pending = sqlx::query("SELECT 1 AS one FROM directory_dirty LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        if pending.is_none() {
            return Ok(0);
        }
        self.refresh_batch(max).await
    }

    async fn refresh_batch(&self, max: i64) -> Result<usize, StoreError> {
        let mut tx = self.write_tx().await?;
        let lock = if self.backend == Backend::Postgres {
            // A search and the background refresh each take the rows the other is not on.
            " FOR UPDATE OF x SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT x.user_id AS dirty_id, x.stamp, u.org_id, u.login, u.display_name, u.kana,
                    u.romaji, u.profession, u.email, u.phone, u.status,
                    d.name AS department_name, o.name AS org_name, o.slug
             FROM directory_dirty x LEFT JOIN users u ON u.id = x.user_id
             LEFT JOIN organizations o ON o.id = u.org_id
             LEFT JOIN departments d ON d.id = u.department_id
             ORDER BY x.user_id LIMIT {max}{lock}"
        );
        let dirty = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&mut *tx)
            .await?;
        for u in &dirty {
            let user: String = u.try_get("dirty_id")?;
            let stamp: i64 = u.try_get("stamp")?;
            let org: Option<String> = u.try_get("org_id")?;
            match org {
                Some(org) => {
                    let department: Option<String> = u.try_get("department_name")?;
                    let email: Option<String> = u.try_get("email")?;
                    let phone: Option<String> = u.try_get("phone")?;
                    let text = |col: &str| -> Result<String, StoreError> { Ok(u.try_get(col)?) };
                    let (name, kana, romaji) =
                        (text("display_name")?, text("kana")?, text("romaji")?);
                    let (login, org_name, slug) =
                        (text("login")?, text("org_name")?, text("slug")?);
                    let profile = Profile {
                        display_name: &name,
                        kana: &kana,
                        romaji: &romaji,
                        login: &login,
                        email: email.as_deref(),
                        phone: phone.as_deref(),
                        profession: named(u, "profession", Profession::parse)?,
                        department: department.as_deref(),
                        org_name: &org_name,
                        org_slug: &slug,
                    };
                    let active = named(u, "status", UserStatus::parse)? == UserStatus::Active;
                    let doc = document(&profile);
                    replace_keys(&mut tx, &user, &doc).await?;
                    sqlx::query(
                        "INSERT INTO directory_entries (user_id, org_id, active, sort_key, doc)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (user_id) DO UPDATE SET org_id = $2, active = $3,
                             sort_key = $4, doc = $5",
                    )
                    .bind(&user)
                    .bind(org)
                    .bind(i64::from(active))
                    .bind(sort_key(&profile))
                    .bind(doc)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    replace_keys(&mut tx, &user, "").await?;
                    sqlx::query("DELETE FROM directory_entries WHERE user_id = $1")
                        .bind(&user)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            sqlx::query("DELETE FROM directory_dirty WHERE user_id = $1 AND stamp = $2")
                .bind(&user)
                .bind(stamp)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(dirty.len())
    }
}
