//! A SCIM Group is a department: `displayName` is its name, `members` the users whose
//! department it is. A request becomes steps, decided as data, applied in order.

use serde_json::{Value, json};
use uuid::Uuid;

use super::operations::{Assignment, Op, selected_value};
use super::{Fault, GROUP_SCHEMA, field, meta, text};
use crate::org::Department;
use crate::user::User;

/// One change a request makes to a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Rename(String),
    /// These users (SCIM ids) join.
    Add(Vec<String>),
    /// These users leave.
    Remove(Vec<String>),
    /// Every member leaves.
    RemoveAll,
    /// Exactly these users are members.
    Replace(Vec<String>),
}

/// The steps `assignments` make, in order.
pub fn steps(assignments: &[Assignment]) -> Result<Vec<Step>, Fault> {
    let mut out = Vec::new();
    for a in assignments {
        let path = a.path.to_ascii_lowercase();
        let value = a.value.as_ref();
        match (path.as_str(), a.op, value) {
            ("displayname", Op::Remove, _) => {
                return Err(Fault::value("a group keeps its displayName"));
            }
            ("displayname", _, Some(v)) => out.push(Step::Rename(
                text("displayName", v)?.ok_or_else(|| Fault::value("displayName is required"))?,
            )),
            ("members", Op::Add, Some(v)) => out.push(Step::Add(member_ids(v)?)),
            ("members", Op::Replace, Some(v)) => out.push(Step::Replace(member_ids(v)?)),
            ("members", Op::Remove, None | Some(Value::Null)) => out.push(Step::RemoveAll),
            ("members", Op::Remove, Some(v)) => out.push(Step::Remove(member_ids(v)?)),
            (p, Op::Remove, _) if p.starts_with("members[") => {
                let id = selected_value(&a.path, "members").ok_or_else(|| {
                    Fault::no_target("members[value eq \"id\"] is the only filter")
                })?;
                out.push(Step::Remove(vec![id]));
            }
            ("id" | "externalid" | "schemas" | "meta", _, _) => {}
            (other, _, _) => {
                return Err(Fault::no_target(format!(
                    "a group has displayName and members, not {other}"
                )));
            }
        }
    }
    Ok(out)
}

/// The ids in a `members` value: a list of `{"value": id}` (or one such object).
fn member_ids(v: &Value) -> Result<Vec<String>, Fault> {
    let entries: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err(Fault::value("members must be a list of {\"value\": id}")),
    };
    entries
        .into_iter()
        .map(|e| {
            field(e, "value")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Fault::value("each member needs a value (the user's id)"))
        })
        .collect()
}

/// The name and members a full Group resource (POST, PUT) gives.
pub fn of_resource(body: &Value) -> Result<(String, Vec<String>), Fault> {
    if !body.is_object() {
        return Err(Fault::syntax("the body must be a JSON object"));
    }
    let name = field(body, "displayName")
        .map(|v| text("displayName", v))
        .transpose()?
        .flatten()
        .ok_or_else(|| Fault::value("displayName is required"))?;
    let members = match field(body, "members") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => member_ids(v)?,
    };
    Ok((name, members))
}

/// A member's SCIM id as a user id (`noTarget`-free: an unknown id is an invalid value).
pub fn member_id(id: &str) -> Result<Uuid, Fault> {
    Uuid::parse_str(id).map_err(|_| Fault::value(format!("{id} is not a user of renkei")))
}

/// Where a group's SCIM resource lives, under `base`.
pub fn location(base: &str, id: Uuid) -> String {
    format!("{base}/Groups/{id}")
}

/// Department `dept` as a SCIM Group with `members`.
pub fn resource(dept: &Department, members: &[User], base: &str) -> Value {
    let members: Vec<Value> = members
        .iter()
        .map(|u| {
            json!({"value": u.id, "display": u.display_name,
                   "$ref": super::user::location(base, u.id)})
        })
        .collect();
    json!({
        "schemas": [GROUP_SCHEMA],
        "id": dept.id,
        "displayName": dept.name,
        "members": members,
        "meta": meta("Group", dept.created_at, dept.updated_at, dept.version, &location(base, dept.id)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::PATCH_SCHEMA;
    use crate::scim::operations::assignments;

    fn steps_of(ops: Value) -> Result<Vec<Step>, Fault> {
        steps(&assignments(&json!({"schemas": [PATCH_SCHEMA], "Operations": ops})).unwrap())
    }

    #[test]
    fn entra_and_okta_member_changes_become_steps() {
        let got = steps_of(json!([
            {"op": "Add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "Remove", "path": "members", "value": [{"value": "a"}]},
            {"op": "remove", "path": "members[value eq \"b\"]"},
            {"op": "replace", "value": {"id": "g", "displayName": "救急科"}},
            {"op": "replace", "path": "members", "value": []},
            {"op": "remove", "path": "members"},
        ]))
        .unwrap();
        assert_eq!(
            got,
            vec![
                Step::Add(vec!["a".into(), "b".into()]),
                Step::Remove(vec!["a".into()]),
                Step::Remove(vec!["b".into()]),
                Step::Rename("救急科".into()),
                Step::Replace(vec![]),
                Step::RemoveAll,
            ]
        );
    }

    #[test]
    fn other_paths_and_bad_members_are_refused() {
        assert!(steps_of(json!([{"op": "add", "path": "owners", "value": []}])).is_err());
        assert!(
            steps_of(json!([{"op": "add", "path": "members", "value": [{"id": "a"}]}])).is_err()
        );
        assert!(steps_of(json!([{"op": "remove", "path": "displayName"}])).is_err());
    }

    #[test]
    fn a_resource_needs_a_display_name() {
        assert_eq!(
            of_resource(&json!({"displayName": "内科", "members": [{"value": "x"}]})),
            Ok(("内科".into(), vec!["x".into()]))
        );
        assert!(of_resource(&json!({"members": []})).is_err());
    }
}
