//! Directory search: ranked (exact key > key prefix > partial), paged search over the
//! organizations a caller may see or over one conversation's members.

use renkei_core::Uuid;
use renkei_core::directory::{self, MatchRank, SEPARATOR, prefix_end};
use renkei_core::user::{Profession, UserStatus};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use crate::rows::{like_escape, named, opt_uuid, uuid};
use crate::sql_builder::SqlBuilder;
use crate::{Backend, Store, StoreError};

/// Matches counted at most, so a one-letter search over a region stays fast.
pub const TOTAL_CAP: i64 = 1000;
/// Organizations in a scope above which it counts as a region: candidates then come from the
/// key and trigram indexes rather than from scanning its organizations' users.
const WIDE_SCOPE: usize = 3;

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

/// Changed documents a search rebuilds first, at most (the rest is the background
/// refresh's, see `Store::refresh_directory`).
const REFRESH_BEFORE_SEARCH: i64 = 200;
/// Key rows above which a rank's users are read by walking the scope in reading order (they
/// are then common enough that a page fills quickly) rather than found by key and sorted.
const WALK_ABOVE: i64 = 8000;
/// Users read per step of a walk at first, and at most.
const WALK_CHUNK: i64 = 200;
const WALK_CHUNK_MAX: i64 = 5000;

/// The texts a query is looked for as (a whole key, a key's start, anywhere), and the SQL that
/// looks for one of them in a document `e.doc`, binding it.
struct Needles {
    backend: Backend,
    /// Whether PostgreSQL may use its trigram index: not under 3 characters, where pg_trgm
    /// would read its whole index.
    trigrams: bool,
    exact: String,
    prefix: String,
    part: String,
}

impl Needles {
    fn new(backend: Backend, q: &str) -> Needles {
        let form = |text: String| match backend {
            Backend::Sqlite => text,
            Backend::Postgres => format!("%{}%", like_escape(&text)),
        };
        Needles {
            backend,
            trigrams: q.chars().count() >= 3,
            exact: form(format!("{SEPARATOR}{q}{SEPARATOR}")),
            prefix: form(format!("{SEPARATOR}{q}")),
            part: form(q.to_owned()),
        }
    }

    /// SQL true when the document contains `needle` (SQLite's byte-wise `instr`; on
    /// PostgreSQL `LIKE`, several times faster than `strpos` on UTF-8, written so that the
    /// trigram index is used only where it helps).
    fn has(&self, sql: &mut SqlBuilder, needle: &str) -> String {
        let needle = sql.bind(needle);
        match (self.backend, self.trigrams) {
            (Backend::Sqlite, _) => format!("instr(e.doc, {needle}) > 0"),
            (Backend::Postgres, true) => format!("e.doc LIKE {needle} ESCAPE '\\'"),
            (Backend::Postgres, false) => format!("(e.doc || '') LIKE {needle} ESCAPE '\\'"),
        }
    }

    /// SQL true when the document does not contain `needle`.
    fn lacks(&self, sql: &mut SqlBuilder, needle: &str) -> String {
        let needle = sql.bind(needle);
        match self.backend {
            Backend::Sqlite => format!("instr(e.doc, {needle}) = 0"),
            Backend::Postgres => format!("e.doc NOT LIKE {needle} ESCAPE '\\'"),
        }
    }

    /// A rank's users, as a condition over the needles (partial matches are read in Rust,
    /// see `rank_in_order`).
    fn rank_condition(&self, sql: &mut SqlBuilder, rank: MatchRank) -> String {
        match rank {
            MatchRank::Exact => self.has(sql, &self.exact),
            MatchRank::Prefix => {
                format!(
                    "{} AND {}",
                    self.has(sql, &self.prefix),
                    self.lacks(sql, &self.exact)
                )
            }
            MatchRank::Partial => {
                format!(
                    "{} AND {}",
                    self.has(sql, &self.part),
                    self.lacks(sql, &self.prefix)
                )
            }
        }
    }
}

/// `q` as an FTS5 phrase (found anywhere by the trigram tokenizer).
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

/// The scope as SQL over `e`, its values bound.
fn scope_sql(sql: &mut SqlBuilder, scope: DirectoryScope<'_>) -> String {
    match scope {
        DirectoryScope::Orgs(orgs) => format!(
            "e.active = 1 AND e.org_id IN ({})",
            sql.bind_list(orgs.iter().map(Uuid::to_string))
        ),
        DirectoryScope::Conversation(id) => format!(
            "e.user_id IN (SELECT user_id FROM conversation_members WHERE conversation_id = {})",
            sql.bind(id.to_string())
        ),
    }
}

/// The key-index condition (over `key`) of `rank`'s keys for `q`, its values bound; `None`
/// when the rank has no key (partial matches, or every user for an empty query).
fn key_condition(sql: &mut SqlBuilder, q: &str, rank: MatchRank) -> Option<String> {
    match rank {
        _ if q.is_empty() => None,
        MatchRank::Exact => Some(format!("key = {}", sql.bind(q))),
        MatchRank::Prefix => Some(format!(
            "key > {} AND key < {}",
            sql.bind(q),
            sql.bind(prefix_end(q))
        )),
        MatchRank::Partial => None,
    }
}

impl Store {
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
        self.refresh_directory_up_to(REFRESH_BEFORE_SEARCH).await?;
        if matches!(scope, DirectoryScope::Orgs(orgs) if orgs.is_empty()) {
            return Ok(DirectoryPage {
                hits: Vec::new(),
                total: 0,
                total_capped: false,
            });
        }
        let wide = matches!(scope, DirectoryScope::Orgs(orgs) if orgs.len() > WIDE_SCOPE);
        let total = match scope {
            DirectoryScope::Orgs(orgs) if wide && !q.is_empty() => {
                self.count_in_region(q, orgs).await?
            }
            _ => self.count_scanning(q, scope).await?,
        };
        let hits = if total == 0 || offset >= total {
            Vec::new()
        } else if let (true, DirectoryScope::Orgs(orgs)) = (total >= TOTAL_CAP, scope) {
            self.broad_page(q, orgs, limit, offset).await?
        } else {
            self.narrow_page(q, scope, wide, limit, offset).await?
        };
        Ok(DirectoryPage {
            hits,
            total,
            total_capped: total >= TOTAL_CAP,
        })
    }

    /// Matches within a hospital or a conversation, up to [`TOTAL_CAP`], by reading their
    /// documents (a few thousand at most).
    async fn count_scanning(&self, q: &str, scope: DirectoryScope<'_>) -> Result<i64, StoreError> {
        let needles = Needles::new(self.backend, q);
        let mut sql = SqlBuilder::new();
        let within = scope_sql(&mut sql, scope);
        let matches = needles.has(&mut sql, &needles.part);
        sql.push(&format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_entries e
             WHERE {within} AND {matches} LIMIT {TOTAL_CAP}) t"
        ));
        Ok(sql.build().fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// Matches over a region, up to [`TOTAL_CAP`]: whole keys from the key index (enough
    /// alone for a common name), the rest from the trigram index (3 characters and more) or,
    /// for a shorter query, by reading documents until the cap.
    async fn count_in_region(&self, q: &str, orgs: &[Uuid]) -> Result<i64, StoreError> {
        let mut sql = SqlBuilder::new();
        let key = sql.bind(q);
        let within = scope_sql(&mut sql, DirectoryScope::Orgs(orgs));
        sql.push(&format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_keys k
                 JOIN directory_entries e ON e.user_id = k.user_id
             WHERE k.key = {key} AND {within} LIMIT {TOTAL_CAP}) t"
        ));
        let exact: i64 = sql.build().fetch_one(&self.pool).await?.try_get("n")?;
        if exact >= TOTAL_CAP {
            return Ok(exact);
        }
        let needles = Needles::new(self.backend, q);
        let mut sql = SqlBuilder::new();
        let within = scope_sql(&mut sql, DirectoryScope::Orgs(orgs));
        // On PostgreSQL the LIKE on the part itself uses the trigram index.
        let candidates = match (self.backend, needles.trigrams) {
            (Backend::Sqlite, true) => format!(
                "AND e.rowid IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH {})",
                sql.bind(fts_phrase(q))
            ),
            _ => String::new(),
        };
        let has_part = needles.has(&mut sql, &needles.part);
        let lacks_key = needles.lacks(&mut sql, &needles.exact);
        sql.push(&format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_entries e
             WHERE {within} {candidates} AND {has_part} AND {lacks_key} LIMIT {}) t",
            TOTAL_CAP - exact
        ));
        let rest: i64 = sql.build().fetch_one(&self.pool).await?.try_get("n")?;
        Ok(exact + rest)
    }

    /// A page of fewer than [`TOTAL_CAP`] matches: all of them ranked and sorted, then only
    /// the page joined to the records.
    async fn narrow_page(
        &self,
        q: &str,
        scope: DirectoryScope<'_>,
        wide: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DirectoryHit>, StoreError> {
        let needles = Needles::new(self.backend, q);
        let mut sql = SqlBuilder::new();
        let is_exact = needles.has(&mut sql, &needles.exact);
        let is_prefix = needles.has(&mut sql, &needles.prefix);
        let within = scope_sql(&mut sql, scope);
        // Over a region the trigram index finds the candidates (SQLite FTS5; on PostgreSQL
        // the LIKE on the part uses it).
        let candidates = if self.backend == Backend::Sqlite && wide && needles.trigrams {
            format!(
                "AND e.rowid IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH {})",
                sql.bind(fts_phrase(q))
            )
        } else {
            String::new()
        };
        let has_part = needles.has(&mut sql, &needles.part);
        let (limit, offset) = (sql.bind(limit), sql.bind(offset));
        sql.push(&format!(
            "WITH page AS (
                 SELECT e.user_id, e.sort_key,
                        CASE WHEN {is_exact} THEN 0 WHEN {is_prefix} THEN 1 ELSE 2 END AS rank
                 FROM directory_entries e WHERE {within} {candidates} AND {has_part}
                 ORDER BY rank, e.sort_key, e.user_id LIMIT {limit} OFFSET {offset})
             SELECT u.id, u.display_name, u.kana, u.romaji, u.profession, u.status, u.email, u.phone,
                    u.department_id, d.name AS department_name, u.org_id, o.name AS org_name, p.rank
             FROM page p JOIN users u ON u.id = p.user_id JOIN organizations o ON o.id = u.org_id
             LEFT JOIN departments d ON d.id = u.department_id
             ORDER BY p.rank, p.sort_key, p.user_id"
        ));
        let rows = sql.build().fetch_all(&self.pool).await?;
        rows.iter().map(hit_from_row).collect()
    }

    /// A page of a broad search (at least [`TOTAL_CAP`] matches in `orgs`): exact matches,
    /// then prefixes, then partial matches, each rank read only as far as the page needs.
    async fn broad_page(
        &self,
        q: &str,
        orgs: &[Uuid],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<DirectoryHit>, StoreError> {
        let need = offset.saturating_add(limit);
        let mut found: Vec<(String, MatchRank)> = Vec::new();
        for rank in [MatchRank::Exact, MatchRank::Prefix, MatchRank::Partial] {
            let want = need - found.len() as i64;
            if want <= 0 {
                break;
            }
            let users = self.rank_in_order(q, orgs, rank, want).await?;
            found.extend(users.into_iter().map(|user| (user, rank)));
        }
        let page: Vec<(String, MatchRank)> = found
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .collect();
        if page.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = SqlBuilder::new();
        let users = sql.bind_list(page.iter().map(|(user, _)| user));
        sql.push(&format!(
            "SELECT u.id, u.display_name, u.kana, u.romaji, u.profession, u.status, u.email,
                    u.phone, u.department_id, d.name AS department_name, u.org_id,
                    o.name AS org_name, 2 AS rank
             FROM users u JOIN organizations o ON o.id = u.org_id
             LEFT JOIN departments d ON d.id = u.department_id
             WHERE u.id IN ({users})"
        ));
        let mut by_id = std::collections::HashMap::new();
        for row in sql.build().fetch_all(&self.pool).await? {
            let hit = hit_from_row(&row)?;
            by_id.insert(hit.user_id.to_string(), hit);
        }
        Ok(page
            .into_iter()
            .filter_map(|(user, rank)| by_id.remove(&user).map(|hit| DirectoryHit { rank, ..hit }))
            .collect())
    }

    /// The first `want` users of `orgs` in `rank` for `q` (every user, as partial matches,
    /// when `q` is empty), in reading order. A rank whose users are few is found through the
    /// key index and sorted; a common one by walking the scope in reading order until `want`
    /// are found. Documents are ranked by the one rule, `directory::rank`.
    async fn rank_in_order(
        &self,
        q: &str,
        orgs: &[Uuid],
        rank: MatchRank,
        want: i64,
    ) -> Result<Vec<String>, StoreError> {
        let few = if self.few_with_key(q, rank).await? {
            self.few_in_order(q, orgs, rank, want)
        } else {
            None
        };
        if let Some(query) = few {
            let rows = query.fetch_all(&self.pool).await?;
            return rows.iter().map(|row| Ok(row.try_get("user_id")?)).collect();
        }
        let want = usize::try_from(want).unwrap_or(0);
        let is_rank = |doc: &str| directory::rank(doc, q) == Some(rank);
        let (mut after_key, mut after_user) = (String::new(), String::new());
        let mut chunk = WALK_CHUNK;
        let mut found = Vec::new();
        while found.len() < want {
            let rows = self
                .walk_step(orgs, &after_key, &after_user, chunk)
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                after_key = row.try_get("sort_key")?;
                after_user = row.try_get("user_id")?;
                let doc: String = row.try_get("doc")?;
                if found.len() < want && is_rank(&doc) {
                    found.push(after_user.clone());
                }
            }
            if (rows.len() as i64) < chunk {
                break;
            }
            // A rare rank is read in growing steps, so it costs a few round trips at most.
            chunk = (chunk * 4).min(WALK_CHUNK_MAX);
        }
        Ok(found)
    }

    /// The query for the first `want` users of `orgs` in `rank`, found through the key index
    /// (when `few_with_key` says they are few) and sorted by reading; `None` for a rank
    /// without keys.
    fn few_in_order(
        &self,
        q: &str,
        orgs: &[Uuid],
        rank: MatchRank,
        want: i64,
    ) -> Option<Query<'static, Any, AnyArguments>> {
        let needles = Needles::new(self.backend, q);
        let mut sql = SqlBuilder::new();
        // A user has one key equal to the query at most, and may have several starting so.
        let distinct = if rank == MatchRank::Prefix {
            "DISTINCT "
        } else {
            ""
        };
        let keys = key_condition(&mut sql, q, rank)?;
        let candidates = format!("SELECT {distinct}user_id FROM directory_keys WHERE {keys}");
        let within = scope_sql(&mut sql, DirectoryScope::Orgs(orgs));
        let condition = needles.rank_condition(&mut sql, rank);
        let limit = sql.bind(want);
        sql.push(&match self.backend {
            // CROSS JOIN keeps the candidates as the outer loop.
            Backend::Sqlite => format!(
                "SELECT e.user_id FROM ({candidates}) c CROSS JOIN directory_entries e
                     ON e.user_id = c.user_id
                 WHERE {within} AND {condition}
                 ORDER BY e.sort_key, e.user_id LIMIT {limit}"
            ),
            // The fence (OFFSET 0) joins first, so the documents are matched only for the
            // candidates whatever the planner guesses of the match's selectivity.
            Backend::Postgres => format!(
                "SELECT e.user_id FROM (
                     SELECT e.user_id, e.sort_key, e.doc FROM ({candidates}) c
                     JOIN directory_entries e ON e.user_id = c.user_id
                     WHERE {within} OFFSET 0) e
                 WHERE {condition}
                 ORDER BY e.sort_key, e.user_id LIMIT {limit}"
            ),
        });
        Some(sql.build())
    }

    /// The query for the next `chunk` users of `orgs` in reading order after
    /// (`after_key`, `after_user`), with their documents.
    fn walk_step(
        &self,
        orgs: &[Uuid],
        after_key: &str,
        after_user: &str,
        chunk: i64,
    ) -> Query<'static, Any, AnyArguments> {
        let by_sort = match (self.backend, orgs.len()) {
            (Backend::Sqlite, 1) => " INDEXED BY directory_by_org",
            (Backend::Sqlite, _) => " INDEXED BY directory_by_sort",
            (Backend::Postgres, _) => "",
        };
        let mut sql = SqlBuilder::new();
        let within = scope_sql(&mut sql, DirectoryScope::Orgs(orgs));
        let (key, user, limit) = (sql.bind(after_key), sql.bind(after_user), sql.bind(chunk));
        sql.push(&format!(
            "SELECT e.user_id, e.sort_key, e.doc FROM directory_entries e{by_sort}
             WHERE {within} AND e.sort_key >= {key} AND (e.sort_key > {key} OR e.user_id > {user})
             ORDER BY e.sort_key, e.user_id LIMIT {limit}"
        ));
        sql.build()
    }

    /// Whether `rank`'s users for `q` are few enough (at most [`WALK_ABOVE`] key rows) to be
    /// found through the key index; never for a rank without keys (partial matches).
    async fn few_with_key(&self, q: &str, rank: MatchRank) -> Result<bool, StoreError> {
        let mut sql = SqlBuilder::new();
        let Some(keys) = key_condition(&mut sql, q, rank) else {
            return Ok(false);
        };
        // Key rows, not users: a user with two such keys counts twice, which only errs
        // towards walking.
        sql.push(&format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_keys WHERE {keys} LIMIT {}) t",
            WALK_ABOVE + 1
        ));
        let n: i64 = sql.build().fetch_one(&self.pool).await?.try_get("n")?;
        Ok(n <= WALK_ABOVE)
    }
}
