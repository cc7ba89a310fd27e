//! The staff directory: keeping each user's search document current, and ranked, paged
//! search over the organizations a caller may see or over one conversation's members.

use renkei_core::Uuid;
use renkei_core::directory::{MatchRank, Profile, SEPARATOR, document, sort_key};
use renkei_core::user::{Profession, UserStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{named, opt_uuid, uuid};
use crate::{Backend, Store, StoreError};

/// Matches counted at most, so a one-letter search over a region stays fast.
pub const TOTAL_CAP: i64 = 1000;
/// Organizations in a scope above which candidates come from the trigram index.
const WIDE_SCOPE: usize = 3;
/// Users whose documents are rebuilt per transaction.
const REFRESH_BATCH: i64 = 1000;

/// Where to search.
#[derive(Debug, Clone, Copy)]
pub enum DirectoryScope<'a> {
    /// Active users of these organizations.
    Orgs(&'a [Uuid]),
    /// The members of this conversation.
    Conversation(Uuid),
}

/// One person found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryHit {
    pub user_id: Uuid,
    pub display_name: String,
    pub kana: String,
    pub romaji: String,
    pub profession: Profession,
    pub status: UserStatus,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub department_id: Option<Uuid>,
    pub department_name: Option<String>,
    pub org_id: Uuid,
    pub org_name: String,
    pub rank: MatchRank,
}

/// A page of results and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryPage {
    pub hits: Vec<DirectoryHit>,
    /// Matches in all, counted up to [`TOTAL_CAP`].
    pub total: i64,
    /// Whether there are at least [`TOTAL_CAP`] matches (the total is a lower bound).
    pub total_capped: bool,
}

fn hit_from_row(row: &AnyRow) -> Result<DirectoryHit, StoreError> {
    Ok(DirectoryHit {
        user_id: uuid(row, "id")?,
        display_name: row.try_get("display_name")?,
        kana: row.try_get("kana")?,
        romaji: row.try_get("romaji")?,
        profession: named(row, "profession", Profession::parse)?,
        status: named(row, "status", UserStatus::parse)?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        department_id: opt_uuid(row, "department_id")?,
        department_name: row.try_get("department_name")?,
        org_id: uuid(row, "org_id")?,
        org_name: row.try_get("org_name")?,
        rank: MatchRank::from_number(row.try_get("rank")?),
    })
}

/// `%`, `_` and `\` escaped for a `LIKE … ESCAPE '\'` pattern.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl Store {
    /// Rebuilds the documents of users changed since the last rebuild (a cheap read when
    /// none did). Returns how many were rebuilt.
    pub async fn refresh_directory(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        loop {
            let pending = sqlx::query("SELECT 1 AS one FROM directory_dirty LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
            if pending.is_none() {
                return Ok(total);
            }
            let done = self.refresh_batch().await?;
            total += done;
            if done == 0 {
                return Ok(total);
            }
        }
    }

    async fn refresh_batch(&self) -> Result<usize, StoreError> {
        let mut tx = self.write_tx().await?;
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE OF x"
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
             ORDER BY x.user_id LIMIT {REFRESH_BATCH}{lock}"
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
                    .bind(document(&profile))
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
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

    /// People matching the normalized query `q` (every one when empty) within `scope`,
    /// exact matches first, then prefixes, then partial matches, each by reading. The total
    /// is counted up to [`TOTAL_CAP`]; past it `total_capped` is set.
    pub async fn search_directory(
        &self,
        q: &str,
        scope: DirectoryScope<'_>,
        limit: i64,
        offset: i64,
    ) -> Result<DirectoryPage, StoreError> {
        self.refresh_directory().await?;
        let empty = DirectoryPage {
            hits: Vec::new(),
            total: 0,
            total_capped: false,
        };
        // $1 the exact key, $2 a key's start, $3 the filter (FTS5 phrase, LIKE pattern or the
        // text itself), then the scope's values from $4.
        let find = match self.backend {
            Backend::Sqlite => "instr",
            Backend::Postgres => "strpos",
        };
        // The trigram index pays off over many organizations; within a few (or a
        // conversation) scanning their own rows is cheaper than every match of the region.
        let wide = matches!(scope, DirectoryScope::Orgs(orgs) if orgs.len() > WIDE_SCOPE);
        let indexed = wide && q.chars().count() >= 3;
        let (filter, needle) = match (self.backend, indexed) {
            (Backend::Sqlite, true) => (
                "e.rowid IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH $3)"
                    .to_owned(),
                format!("\"{}\"", q.replace('"', "\"\"")),
            ),
            (Backend::Postgres, true) => (
                "e.doc LIKE $3 ESCAPE '\\'".to_owned(),
                format!("%{}%", like_escape(q)),
            ),
            _ => (format!("{find}(e.doc, $3) > 0"), q.to_owned()),
        };
        let mut binds: Vec<String> = Vec::new();
        let within = match scope {
            DirectoryScope::Orgs(orgs) => {
                if orgs.is_empty() {
                    return Ok(empty);
                }
                let marks: Vec<String> = (0..orgs.len()).map(|i| format!("${}", i + 4)).collect();
                binds.extend(orgs.iter().map(Uuid::to_string));
                format!("e.active = 1 AND e.org_id IN ({})", marks.join(", "))
            }
            DirectoryScope::Conversation(id) => {
                binds.push(id.to_string());
                "e.user_id IN (SELECT user_id FROM conversation_members WHERE conversation_id = $4)"
                    .to_owned()
            }
        };
        let exact = format!("{SEPARATOR}{q}{SEPARATOR}");
        let prefix = format!("{SEPARATOR}{q}");
        let count_sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_entries e
             WHERE {within} AND {filter} AND $1 = $1 AND $2 = $2 LIMIT {TOTAL_CAP}) t"
        );
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql))
            .bind(&exact)
            .bind(&prefix)
            .bind(&needle);
        for b in &binds {
            count = count.bind(b);
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        if total == 0 || offset >= total {
            return Ok(DirectoryPage {
                total,
                total_capped: total >= TOTAL_CAP,
                ..empty
            });
        }
        // Only the page is sorted in full (a top-N sort), then joined to the records.
        let n = binds.len() + 4;
        let sql = format!(
            "WITH page AS (
                 SELECT e.user_id, e.sort_key,
                        CASE WHEN {find}(e.doc, $1) > 0 THEN 0
                             WHEN {find}(e.doc, $2) > 0 THEN 1 ELSE 2 END AS rank
                 FROM directory_entries e WHERE {within} AND {filter}
                 ORDER BY rank, e.sort_key, e.user_id LIMIT ${n} OFFSET ${})
             SELECT u.id, u.display_name, u.kana, u.romaji, u.profession, u.status, u.email, u.phone,
                    u.department_id, d.name AS department_name, u.org_id, o.name AS org_name, p.rank
             FROM page p JOIN users u ON u.id = p.user_id JOIN organizations o ON o.id = u.org_id
             LEFT JOIN departments d ON d.id = u.department_id
             ORDER BY p.rank, p.sort_key, p.user_id",
            n + 1
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(exact)
            .bind(prefix)
            .bind(needle);
        for b in binds {
            query = query.bind(b);
        }
        let rows = query.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        Ok(DirectoryPage {
            hits: rows.iter().map(hit_from_row).collect::<Result<_, _>>()?,
            total,
            total_capped: total >= TOTAL_CAP,
        })
    }
}
