//! Statements run the same way on a pooled connection (each a round trip to the driver) or on
//! an SQLite connection owned by the calling thread (no round trip), so a hot write path is
//! written once for both.

use std::future::Future;

use sqlx::{AnyConnection, Row};

use crate::StoreError;

/// A parameter or column value; NULL keeps its type (PostgreSQL checks parameter types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(Some(n))
    }
}

impl From<Option<i64>> for Value {
    fn from(n: Option<i64>) -> Value {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(Some(s.to_owned()))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(Some(s))
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Value {
        Value::Text(s)
    }
}

impl Value {
    /// The text, or `Corrupt` naming `what` (also for NULL).
    pub fn text(self, what: &str) -> Result<String, StoreError> {
        self.optional_text(what)?
            .ok_or_else(|| StoreError::Corrupt(format!("{what} is missing")))
    }

    /// The text, none for NULL.
    pub fn optional_text(self, what: &str) -> Result<Option<String>, StoreError> {
        match self {
            Value::Text(s) => Ok(s),
            Value::Int(_) => Err(StoreError::Corrupt(format!("{what} is not text"))),
        }
    }

    /// The integer, none for NULL.
    pub fn optional_int(self, what: &str) -> Result<Option<i64>, StoreError> {
        match self {
            Value::Int(n) => Ok(n),
            Value::Text(_) => Err(StoreError::Corrupt(format!("{what} is not a number"))),
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
}

/// Runs one statement with `$1`, `$2`, … bound to `params` and returns its rows, each column
/// read as `columns` says (NULL allowed); none for a statement that returns nothing.
pub(crate) trait Statements {
    fn rows(
        &mut self,
        sql: &str,
        params: &[Value],
        columns: &[Kind],
    ) -> impl Future<Output = Result<Vec<Vec<Value>>, StoreError>> + Send;

    /// What a `SELECT` ends with to lock the rows it reads until the transaction ends:
    /// ` FOR UPDATE` on PostgreSQL; nothing on SQLite, whose write transactions already run one
    /// at a time.
    fn row_lock(&self) -> &'static str {
        ""
    }
}

impl Statements for AnyConnection {
    async fn rows(
        &mut self,
        sql: &str,
        params: &[Value],
        columns: &[Kind],
    ) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        for param in params {
            query = match param {
                Value::Int(n) => query.bind(*n),
                Value::Text(s) => query.bind(s.clone()),
            };
        }
        let rows = query.fetch_all(self).await?;
        rows.iter()
            .map(|row| {
                columns
                    .iter()
                    .enumerate()
                    .map(|(at, kind)| {
                        Ok(match kind {
                            Kind::Int => Value::Int(row.try_get(at)?),
                            Kind::Text => Value::Text(row.try_get(at)?),
                        })
                    })
                    .collect()
            })
            .collect()
    }

    fn row_lock(&self) -> &'static str {
        if self.backend_name() == "PostgreSQL" {
            " FOR UPDATE"
        } else {
            ""
        }
    }
}

impl Statements for rusqlite::Transaction<'_> {
    /// Runs on the calling thread: the returned future is ready when first polled.
    fn rows(
        &mut self,
        sql: &str,
        params: &[Value],
        columns: &[Kind],
    ) -> impl Future<Output = Result<Vec<Vec<Value>>, StoreError>> + Send {
        std::future::ready(run_here(self, sql, params, columns).map_err(StoreError::from))
    }
}

/// [`Statements::rows`] on an SQLite connection, with the statement kept prepared.
fn run_here(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
    columns: &[Kind],
) -> rusqlite::Result<Vec<Vec<Value>>> {
    let mut statement = conn.prepare_cached(sql)?;
    for at in 1..=statement.parameter_count() {
        // `$n` is parameter n of `params`, wherever and however often it appears.
        let number = statement
            .parameter_name(at)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or(rusqlite::Error::InvalidParameterCount(at, params.len()))?;
        let value = params
            .get(number - 1)
            .ok_or(rusqlite::Error::InvalidParameterCount(number, params.len()))?;
        match value {
            Value::Int(n) => statement.raw_bind_parameter(at, n)?,
            Value::Text(s) => statement.raw_bind_parameter(at, s)?,
        }
    }
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let values = columns
            .iter()
            .enumerate()
            .map(|(at, kind)| {
                Ok(match kind {
                    Kind::Int => Value::Int(row.get(at)?),
                    Kind::Text => Value::Text(row.get(at)?),
                })
            })
            .collect::<rusqlite::Result<Vec<Value>>>()?;
        out.push(values);
    }
    Ok(out)
}

/// Runs a future made of [`Statements`] on an SQLite connection of this thread, which never
/// waits: it is ready when first polled.
pub(crate) fn run_ready<T>(
    future: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let mut future = std::pin::pin!(future);
    match future
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
    {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(StoreError::Config(
            "a statement on this thread's connection waited".into(),
        )),
    }
}
