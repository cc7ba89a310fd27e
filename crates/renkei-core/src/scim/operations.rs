//! A PATCH request (RFC 7644 §3.5.2) as a list of assignments: `add`/`replace` in any case
//! (Entra ID sends `"Replace"`), with a path, or without one and an object of attributes
//! (Okta's `{"op":"replace","value":{"active":false}}`); `remove` with a path.

use serde_json::Value;

use super::{Fault, PATCH_SCHEMA, field};

/// What one operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

/// One attribute set (a value) or removed (none), by its path as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub op: Op,
    pub path: String,
    pub value: Option<Value>,
}

/// The body's operations as assignments, in order; a body that is not a PatchOp message, an
/// unknown op, or a `remove` without a path is refused.
pub fn assignments(body: &Value) -> Result<Vec<Assignment>, Fault> {
    let schemas = field(body, "schemas").and_then(Value::as_array);
    if !schemas.is_some_and(|s| s.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA))) {
        return Err(Fault::syntax(format!("schemas must name {PATCH_SCHEMA}")));
    }
    let operations = field(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| Fault::syntax("Operations must be a list"))?;
    let mut out = Vec::new();
    for operation in operations {
        let op = match field(operation, "op").and_then(Value::as_str) {
            Some(op) if op.eq_ignore_ascii_case("add") => Op::Add,
            Some(op) if op.eq_ignore_ascii_case("replace") => Op::Replace,
            Some(op) if op.eq_ignore_ascii_case("remove") => Op::Remove,
            _ => return Err(Fault::syntax("op must be add, replace or remove")),
        };
        let path = match field(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(p)) if !p.trim().is_empty() => Some(p.trim().to_owned()),
            Some(_) => return Err(Fault::syntax("path must be a string")),
        };
        let value = field(operation, "value").cloned();
        match (op, path, value) {
            (Op::Remove, None, _) => return Err(Fault::no_target("remove needs a path")),
            (Op::Remove, Some(path), value) => out.push(Assignment { op, path, value }),
            (_, Some(path), Some(value)) => out.push(Assignment {
                op,
                path,
                value: Some(value),
            }),
            (_, None, Some(Value::Object(attributes))) => {
                out.extend(attributes.into_iter().map(|(path, value)| Assignment {
                    op,
                    path,
                    value: Some(value),
                }))
            }
            _ => return Err(Fault::syntax("add and replace need a value")),
        }
    }
    Ok(out)
}

/// The assignments a full resource (POST or PUT) makes: one per attribute.
pub fn of_resource(body: &Value) -> Result<Vec<Assignment>, Fault> {
    let object = body
        .as_object()
        .ok_or_else(|| Fault::syntax("the body must be a JSON object"))?;
    Ok(object
        .iter()
        .map(|(path, value)| Assignment {
            op: Op::Replace,
            path: path.clone(),
            value: Some(value.clone()),
        })
        .collect())
}

/// The id in a path like `members[value eq "id"]`, lower-cased prefix `prefix` before `[`.
pub fn selected_value(path: &str, prefix: &str) -> Option<String> {
    let lower = path.to_ascii_lowercase();
    let inner = lower
        .strip_prefix(prefix)?
        .strip_prefix('[')?
        .strip_suffix(']')?;
    let (attribute, rest) = inner.trim().split_once(char::is_whitespace)?;
    let (operator, _) = rest.trim().split_once(char::is_whitespace)?;
    if attribute != "value" || operator != "eq" {
        return None;
    }
    // Take the value from the original text: ids keep their case.
    let start = path.find('[')? + 1;
    let original = path[start..path.len() - 1].trim();
    let quoted = original.splitn(3, char::is_whitespace).nth(2)?.trim();
    serde_json::from_str(quoted).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn patch(ops: Value) -> Value {
        json!({"schemas": [PATCH_SCHEMA], "Operations": ops})
    }

    #[test]
    fn capitalised_ops_and_path_less_objects_become_assignments() {
        let body = patch(json!([
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "replace", "value": {"active": false, "displayName": "田中 一郎"}},
            {"op": "Remove", "path": "externalId"},
        ]));
        let got = assignments(&body).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].op, Op::Replace);
        assert_eq!(got[0].value, Some(json!("False")));
        assert_eq!(got[1].path, "active");
        assert_eq!(got[3].op, Op::Remove);
        assert_eq!(got[3].value, None);
    }

    #[test]
    fn bodies_that_are_not_patch_messages_are_refused() {
        let faults = [
            json!({"Operations": []}),
            patch(json!({"op": "add"})),
            patch(json!([{"op": "move", "path": "active", "value": true}])),
            patch(json!([{"op": "remove"}])),
            patch(json!([{"op": "add", "value": "x"}])),
        ];
        for body in faults {
            assert!(assignments(&body).is_err(), "{body}");
        }
    }

    #[test]
    fn a_member_selected_by_value_keeps_its_case() {
        assert_eq!(
            selected_value(r#"members[value eq "0192Ab"]"#, "members"),
            Some("0192Ab".into())
        );
        assert_eq!(selected_value("members", "members"), None);
        assert_eq!(
            selected_value(r#"members[display eq "x"]"#, "members"),
            None
        );
    }
}
