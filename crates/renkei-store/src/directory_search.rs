//! Directory search: ranked (exact key > key prefix > partial), paged search over the
//! organizations a caller may see or over one conversation's members.

use renkei_core::Uuid;
use renkei_core::directory::{self, MatchRank, SEPARATOR, prefix_end};
use renkei_core::user::{Profession, UserStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::rows::{like_escape, named, opt_uuid, uuid};
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

/// The texts a query is looked for as, bound as `$1` (a whole key), `$2` (a key's start) and
/// `$3` (anywhere), and the SQL that looks for them in a document `e.doc`.
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

    /// SQL true when the document contains the needle in parameter `param` (SQLite's
    /// byte-wise `instr`; on PostgreSQL `LIKE`, several times faster than `strpos` on UTF-8,
    /// written so that the trigram index is used only where it helps).
    fn has(&self, param: &str) -> String {
        match (self.backend, self.trigrams) {
            (Backend::Sqlite, _) => format!("instr(e.doc, {param}) > 0"),
            (Backend::Postgres, true) => format!("e.doc LIKE {param} ESCAPE '\\'"),
            (Backend::Postgres, false) => format!("(e.doc || '') LIKE {param} ESCAPE '\\'"),
        }
    }

    /// SQL true when the document does not contain the needle in `param`.
    fn lacks(&self, param: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("instr(e.doc, {param}) = 0"),
            Backend::Postgres => format!("e.doc NOT LIKE {param} ESCAPE '\\'"),
        }
    }

    /// A rank's users, as a condition over the needles in `$1` and `$2` (a whole key and a
    /// key's start; partial matches are read in Rust, see `rank_in_order`).
    fn rank_condition(&self, rank: MatchRank) -> String {
        match rank {
            MatchRank::Exact => format!("{} AND $2 = $2", self.has("$1")),
            MatchRank::Prefix => format!("{} AND {}", self.has("$2"), self.lacks("$1")),
            MatchRank::Partial => format!("{} AND {}", self.has("$3"), self.lacks("$2")),
        }
    }
}

/// `q` as an FTS5 phrase (found anywhere by the trigram tokenizer).
fn fts_phrase(q: &str) -> String {
    format!("\"{}\"", q.replace('"', "\"\""))
}

/// `$first, $first+1, …` for `n` values.
fn marks(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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

    /// The scope as SQL over `e`, its values bound from parameter `first` on.
    fn scope_sql(scope: DirectoryScope<'_>, first: usize) -> (String, Vec<String>) {
        match scope {
            DirectoryScope::Orgs(orgs) => (
                format!(
                    "e.active = 1 AND e.org_id IN ({})",
                    marks(first, orgs.len())
                ),
                orgs.iter().map(Uuid::to_string).collect(),
            ),
            DirectoryScope::Conversation(id) => (
                format!(
                    "e.user_id IN (SELECT user_id FROM conversation_members WHERE conversation_id = ${first})"
                ),
                vec![id.to_string()],
            ),
        }
    }

    /// Matches within a hospital or a conversation, up to [`TOTAL_CAP`], by reading their
    /// documents (a few thousand at most).
    async fn count_scanning(&self, q: &str, scope: DirectoryScope<'_>) -> Result<i64, StoreError> {
        let needles = Needles::new(self.backend, q);
        let (within, values) = Self::scope_sql(scope, 2);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_entries e
             WHERE {within} AND {} LIMIT {TOTAL_CAP}) t",
            needles.has("$1")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(needles.part);
        for value in values {
            query = query.bind(value);
        }
        Ok(query.fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// Matches over a region, up to [`TOTAL_CAP`]: whole keys from the key index (enough
    /// alone for a common name), the rest from the trigram index (3 characters and more) or,
    /// for a shorter query, by reading documents until the cap.
    async fn count_in_region(&self, q: &str, orgs: &[Uuid]) -> Result<i64, StoreError> {
        let (within, values) = Self::scope_sql(DirectoryScope::Orgs(orgs), 2);
        let exact_sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_keys k
                 JOIN directory_entries e ON e.user_id = k.user_id
             WHERE k.key = $1 AND {within} LIMIT {TOTAL_CAP}) t"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(exact_sql)).bind(q);
        for value in &values {
            query = query.bind(value);
        }
        let exact: i64 = query.fetch_one(&self.pool).await?.try_get("n")?;
        if exact >= TOTAL_CAP {
            return Ok(exact);
        }
        let needles = Needles::new(self.backend, q);
        let (within, values) = Self::scope_sql(DirectoryScope::Orgs(orgs), 4);
        let candidates = match (self.backend, needles.trigrams) {
            (Backend::Sqlite, true) => {
                "AND e.rowid IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH $3)"
            }
            _ => "AND $3 = $3",
        };
        let sql = format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM directory_entries e
             WHERE {within} {candidates} AND {} AND {} LIMIT {}) t",
            needles.has("$2"),
            needles.lacks("$1"),
            TOTAL_CAP - exact
        );
        // On PostgreSQL the LIKE on `$2` itself uses the trigram index.
        let filter = match (self.backend, needles.trigrams) {
            (Backend::Sqlite, true) => fts_phrase(q),
            _ => String::new(),
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(needles.exact)
            .bind(needles.part)
            .bind(filter);
        for value in values {
            query = query.bind(value);
        }
        let rest: i64 = query.fetch_one(&self.pool).await?.try_get("n")?;
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
        let (within, values) = Self::scope_sql(scope, 5);
        // Over a region the trigram index finds the candidates (SQLite FTS5 in `$4`; on
        // PostgreSQL the LIKE on `$3` uses it).
        let fts = self.backend == Backend::Sqlite && wide && needles.trigrams;
        let candidates = if fts {
            "AND e.rowid IN (SELECT rowid FROM directory_fts WHERE directory_fts MATCH $4)"
        } else {
            "AND $4 = $4"
        };
        let n = values.len() + 5;
        let sql = format!(
            "WITH page AS (
                 SELECT e.user_id, e.sort_key,
                        CASE WHEN {} THEN 0 WHEN {} THEN 1 ELSE 2 END AS rank
                 FROM directory_entries e WHERE {within} {candidates} AND {}
                 ORDER BY rank, e.sort_key, e.user_id LIMIT ${n} OFFSET ${})
             SELECT u.id, u.display_name, u.kana, u.romaji, u.profession, u.status, u.email, u.phone,
                    u.department_id, d.name AS department_name, u.org_id, o.name AS org_name, p.rank
             FROM page p JOIN users u ON u.id = p.user_id JOIN organizations o ON o.id = u.org_id
             LEFT JOIN departments d ON d.id = u.department_id
             ORDER BY p.rank, p.sort_key, p.user_id",
            needles.has("$1"),
            needles.has("$2"),
            needles.has("$3"),
            n + 1
        );
        let phrase = if fts { fts_phrase(q) } else { String::new() };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(needles.exact)
            .bind(needles.prefix)
            .bind(needles.part)
            .bind(phrase);
        for value in values {
            query = query.bind(value);
        }
        let rows = query.bind(limit).bind(offset).fetch_all(&self.pool).await?;
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
        let sql = format!(
            "SELECT u.id, u.display_name, u.kana, u.romaji, u.profession, u.status, u.email,
                    u.phone, u.department_id, d.name AS department_name, u.org_id,
                    o.name AS org_name, 2 AS rank
             FROM users u JOIN organizations o ON o.id = u.org_id
             LEFT JOIN departments d ON d.id = u.department_id
             WHERE u.id IN ({})",
            marks(1, page.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (user, _) in &page {
            query = query.bind(user);
        }
        let mut by_id = std::collections::HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
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
        let want = usize::try_from(want).unwrap_or(0);
        let is_rank = |doc: &str| directory::rank(doc, q) == Some(rank);
        if let Some(candidates) = self.few_with_key(q, rank).await? {
            let needles = Needles::new(self.backend, q);
            let (within, values) = Self::scope_sql(DirectoryScope::Orgs(orgs), 6);
            let condition = needles.rank_condition(rank);
            let limit = values.len() + 6;
            let sql = match self.backend {
                // CROSS JOIN keeps the candidates as the outer loop.
                Backend::Sqlite => format!(
                    "SELECT e.user_id FROM ({candidates}) c CROSS JOIN directory_entries e
                         ON e.user_id = c.user_id
                     WHERE {within} AND {condition} AND $3 = $3
                     ORDER BY e.sort_key, e.user_id LIMIT ${limit}"
                ),
                // The fence (OFFSET 0) joins first, so the documents are matched only for the
                // candidates whatever the planner guesses of the match's selectivity.
                Backend::Postgres => format!(
                    "SELECT e.user_id FROM (
                         SELECT e.user_id, e.sort_key, e.doc FROM ({candidates}) c
                         JOIN directory_entries e ON e.user_id = c.user_id
                         WHERE {within} OFFSET 0) e
                     WHERE {condition} AND $3 = $3
                     ORDER BY e.sort_key, e.user_id LIMIT ${limit}"
                ),
            };
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(needles.exact)
                .bind(needles.prefix)
                .bind(needles.part)
                .bind(q)
                .bind(prefix_end(q));
            for value in values {
                query = query.bind(value);
            }
            let rows = query.bind(want as i64).fetch_all(&self.pool).await?;
            return rows.iter().map(|row| Ok(row.try_get("user_id")?)).collect();
        }
        let by_sort = match (self.backend, orgs.len()) {
            (Backend::Sqlite, 1) => " INDEXED BY directory_by_org",
            (Backend::Sqlite, _) => " INDEXED BY directory_by_sort",
            (Backend::Postgres, _) => "",
        };
        let (within, values) = Self::scope_sql(DirectoryScope::Orgs(orgs), 3);
        let sql = format!(
            "SELECT e.user_id, e.sort_key, e.doc FROM directory_entries e{by_sort}
             WHERE {within} AND e.sort_key >= $1 AND (e.sort_key > $1 OR e.user_id > $2)
             ORDER BY e.sort_key, e.user_id LIMIT ${}",
            values.len() + 3
        );
        let (mut after_key, mut after_user) = (String::new(), String::new());
        let mut chunk = WALK_CHUNK;
        let mut found = Vec::new();
        while found.len() < want {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&after_key)
                .bind(&after_user);
            for value in &values {
                query = query.bind(value);
            }
            let rows = query.bind(chunk).fetch_all(&self.pool).await?;
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

    /// The key-index query (`$4` the query, `$5` the end of its prefix range) for the users
    /// of `rank` when they are at most [`WALK_ABOVE`]; `None` when they are more, or when
    /// the rank has no key (partial matches).
    async fn few_with_key(&self, q: &str, rank: MatchRank) -> Result<Option<String>, StoreError> {
        let (rows, users) = match rank {
            _ if q.is_empty() => return Ok(None),
            MatchRank::Exact => (
                "SELECT 1 AS one FROM directory_keys WHERE key = $1 AND $2 = $2",
                "SELECT user_id FROM directory_keys WHERE key = $4 AND $5 = $5",
            ),
            MatchRank::Prefix => (
                "SELECT 1 AS one FROM directory_keys WHERE key > $1 AND key < $2",
                "SELECT DISTINCT user_id FROM directory_keys WHERE key > $4 AND key < $5",
            ),
            MatchRank::Partial => return Ok(None),
        };
        // Key rows, not users: a user with two such keys counts twice, which only errs
        // towards walking.
        let sql = format!(
            "SELECT COUNT(*) AS n FROM ({rows} LIMIT {}) t",
            WALK_ABOVE + 1
        );
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(q)
            .bind(prefix_end(q))
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok((n <= WALK_ABOVE).then(|| users.to_owned()))
    }
}
