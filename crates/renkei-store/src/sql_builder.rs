//! SQL assembled from pieces whose values are bound as they come: each bound value gets the
//! next placeholder (`$1`, `$2`, …) back to write where it is used. sqlx's own `QueryBuilder`
//! writes `?` under the `Any` driver, which PostgreSQL refuses; `$n` works on both databases.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Text(String),
    Integer(i64),
    /// NULL of a text column (PostgreSQL checks parameter types, so NULL keeps one).
    NullText,
    /// NULL of an integer column.
    NullInteger,
}

impl From<String> for Bound {
    fn from(text: String) -> Self {
        Bound::Text(text)
    }
}

impl From<&str> for Bound {
    fn from(text: &str) -> Self {
        Bound::Text(text.to_owned())
    }
}

impl From<&String> for Bound {
    fn from(text: &String) -> Self {
        Bound::Text(text.clone())
    }
}

impl From<i64> for Bound {
    fn from(n: i64) -> Self {
        Bound::Integer(n)
    }
}

impl From<Option<i64>> for Bound {
    fn from(n: Option<i64>) -> Self {
        n.map_or(Bound::NullInteger, Bound::Integer)
    }
}

impl From<Option<String>> for Bound {
    fn from(text: Option<String>) -> Self {
        text.map_or(Bound::NullText, Bound::Text)
    }
}

/// SQL text and the values bound for it, in placeholder order.
#[derive(Debug, Default)]
pub(crate) struct SqlBuilder {
    sql: String,
    values: Vec<Bound>,
}

impl SqlBuilder {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Binds `value` and returns its placeholder, to be written (once or more) where the value
    /// is used.
    pub(crate) fn bind(&mut self, value: impl Into<Bound>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    /// Binds each of `values`; returns their placeholders separated by commas (for `IN (…)`).
    pub(crate) fn bind_list<V: Into<Bound>>(
        &mut self,
        values: impl IntoIterator<Item = V>,
    ) -> String {
        values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Appends SQL text (written with the placeholders `bind` returned).
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// The query, its values bound in order.
    pub(crate) fn build(self) -> Query<'static, Any, AnyArguments> {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(self.sql));
        for value in self.values {
            query = match value {
                Bound::Text(text) => query.bind(text),
                Bound::Integer(n) => query.bind(n),
                Bound::NullText => query.bind(None::<String>),
                Bound::NullInteger => query.bind(None::<i64>),
            };
        }
        query
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_order_values_are_bound_in() {
        let mut sql = SqlBuilder::new();
        let a = sql.bind("a");
        let list = sql.bind_list(["b", "c"]);
        let n = sql.bind(7);
        assert_eq!(
            (a.as_str(), list.as_str(), n.as_str()),
            ("$1", "$2, $3", "$4")
        );
        sql.push("SELECT ").push(&a);
        assert_eq!(sql.sql, "SELECT $1");
        assert_eq!(sql.values.len(), 4);
    }
}
