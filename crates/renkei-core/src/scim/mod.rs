//! SCIM 2.0 (RFC 7643/7644) as pure rules: what a request body says in renkei's terms, how
//! renkei's records look as SCIM resources, filters, and the discovery documents.

pub mod discovery;
pub mod filter;
pub mod group;
pub mod operations;
pub mod user;

use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// renkei's own extension: the kana reading and the profession.
pub const RENKEI_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:renkei:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Why a SCIM request is refused: its `scimType` (RFC 7644 §3.12) and a detail for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub scim_type: &'static str,
    pub detail: String,
}

impl Fault {
    /// A value of the wrong type or out of range.
    pub fn value(detail: impl Into<String>) -> Self {
        Fault {
            scim_type: "invalidValue",
            detail: detail.into(),
        }
    }

    /// A body that is not the message it should be.
    pub fn syntax(detail: impl Into<String>) -> Self {
        Fault {
            scim_type: "invalidSyntax",
            detail: detail.into(),
        }
    }

    /// A filter renkei does not understand.
    pub fn filter(detail: impl Into<String>) -> Self {
        Fault {
            scim_type: "invalidFilter",
            detail: detail.into(),
        }
    }

    /// A PATCH path that names nothing renkei can change that way.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Fault {
            scim_type: "noTarget",
            detail: detail.into(),
        }
    }
}

/// The value of key `name` of an object, matched case-insensitively as SCIM requires.
pub fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A boolean, also written as a string in any case (Entra ID sends `"False"`).
pub fn boolean(what: &str, value: &Value) -> Result<bool, Fault> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(Fault::value(format!("{what} must be true or false"))),
    }
}

/// A string (numbers are taken as their text); `null` or an empty string is none.
pub fn text(what: &str, value: &Value) -> Result<Option<String>, Fault> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_owned())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(Fault::value(format!("{what} must be a string"))),
    }
}

/// A page of resources (RFC 7644 §3.4.2), `start_index` counted from 1.
pub fn list_response(resources: Vec<Value>, total: usize, start_index: usize) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// The `startIndex` and `count` of a list request, kept to 1… and 0–200.
pub fn page(start_index: Option<i64>, count: Option<i64>) -> (usize, usize) {
    let start = start_index.unwrap_or(1).max(1) as usize;
    let count = count.unwrap_or(100).clamp(0, discovery::MAX_RESULTS as i64) as usize;
    (start, count)
}

/// The `meta` of a resource.
pub(crate) fn meta(
    kind: &str,
    created: crate::clock::Timestamp,
    modified: crate::clock::Timestamp,
    version: i64,
    location: &str,
) -> Value {
    json!({
        "resourceType": kind,
        "created": created,
        "lastModified": modified,
        "version": format!("W/\"{version}\""),
        "location": location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_come_as_json_or_as_strings_in_any_case() {
        assert_eq!(boolean("active", &json!(false)), Ok(false));
        assert_eq!(boolean("active", &json!("False")), Ok(false));
        assert_eq!(boolean("active", &json!("TRUE")), Ok(true));
        assert_eq!(
            boolean("active", &json!("no")).unwrap_err().scim_type,
            "invalidValue"
        );
    }

    #[test]
    fn fields_are_found_whatever_their_case() {
        let v = json!({"Operations": [1]});
        assert_eq!(field(&v, "operations"), Some(&json!([1])));
        assert_eq!(field(&v, "missing"), None);
    }

    #[test]
    fn pages_start_at_one_and_stay_small() {
        assert_eq!(page(None, None), (1, 100));
        assert_eq!(page(Some(-4), Some(100_000)), (1, 200));
    }
}
