//! Reading typed values out of `Any` rows (UUIDs and enums are stored as text), and escaping
//! text for `LIKE`.

use renkei_core::Uuid;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoreError;

/// A required UUID column.
pub(crate) fn uuid(row: &AnyRow, col: &str) -> Result<Uuid, StoreError> {
    let text: String = row.try_get(col)?;
    parse_uuid(&text)
}

/// A nullable UUID column.
pub(crate) fn opt_uuid(row: &AnyRow, col: &str) -> Result<Option<Uuid>, StoreError> {
    let text: Option<String> = row.try_get(col)?;
    text.as_deref().map(parse_uuid).transpose()
}

fn parse_uuid(text: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt(format!("bad id {text:?}")))
}

/// A text column holding one of an enum's names.
pub(crate) fn named<T>(
    row: &AnyRow,
    col: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let text: String = row.try_get(col)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt(format!("bad {col} {text:?}")))
}

/// An optional UUID as the text it is stored as.
pub(crate) fn id_text(id: Option<Uuid>) -> Option<String> {
    id.map(|u| u.to_string())
}

/// `%`, `_` and `\` escaped for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::like_escape;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape(r"100%_a\b"), r"100\%\_a\\b");
    }
}
