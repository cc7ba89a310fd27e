//! A SCIM User in renkei's terms: the attributes a request sets, decided as data
//! ([`UserAttrs`]), the renkei change they make, and a user rendered as a SCIM resource.
//!
//! Mapping: `userName` is the login; `displayName`, else `name.familyName` + `name.givenName`
//! (family first), the display name; the primary (or first) of `emails` the e-mail address;
//! `active` false retires the account, true makes it active; the enterprise extension's
//! `department` names the department and `employeeNumber` is the staff number; renkei's
//! extension carries `kana` (the reading) and `profession`. Other attributes are ignored.

use serde_json::{Value, json};
use uuid::Uuid;

use super::operations::{Assignment, Op};
use super::{ENTERPRISE_SCHEMA, Fault, RENKEI_SCHEMA, USER_SCHEMA, boolean, field, meta, text};
use crate::user::{Profession, User, UserPatch, UserStatus};

/// What a request says about a user; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAttrs {
    pub user_name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub display_name: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub kana: Option<String>,
    pub email: Option<Option<String>>,
    pub active: Option<bool>,
    /// A department's name.
    pub department: Option<Option<String>>,
    pub profession: Option<Profession>,
    pub staff_number: Option<Option<String>>,
}

impl UserAttrs {
    /// The attributes `assignments` set, in order (a later one wins).
    pub fn from_assignments(assignments: &[Assignment]) -> Result<UserAttrs, Fault> {
        let mut attrs = UserAttrs::default();
        for a in assignments {
            let value = match a.op {
                Op::Remove => None,
                _ => a.value.as_ref(),
            };
            attrs.assign(&a.path.to_ascii_lowercase(), value)?;
        }
        Ok(attrs)
    }

    fn assign(&mut self, path: &str, value: Option<&Value>) -> Result<(), Fault> {
        let null = Value::Null;
        let v = value.unwrap_or(&null);
        let enterprise = ENTERPRISE_SCHEMA.to_ascii_lowercase();
        let renkei = RENKEI_SCHEMA.to_ascii_lowercase();
        if path == enterprise || path == renkei || path == "name" {
            let Some(object) = v.as_object() else {
                return match value {
                    None => Ok(()),
                    Some(_) => Err(Fault::value(format!("{path} must be an object"))),
                };
            };
            let sep = if path == "name" { "." } else { ":" };
            for (k, inner) in object {
                self.assign(
                    &format!("{path}{sep}{}", k.to_ascii_lowercase()),
                    Some(inner),
                )?;
            }
            return Ok(());
        }
        if let Some(attribute) = path.strip_prefix(&format!("{enterprise}:")) {
            match attribute {
                "department" => self.department = Some(text("department", v)?),
                "employeenumber" => self.staff_number = Some(text("employeeNumber", v)?),
                _ => {}
            }
            return Ok(());
        }
        if let Some(attribute) = path.strip_prefix(&format!("{renkei}:")) {
            match attribute {
                "kana" => self.kana = Some(text("kana", v)?.unwrap_or_default()),
                "profession" => {
                    self.profession = match text("profession", v)? {
                        None => None,
                        Some(p) => Some(Profession::parse(&p).ok_or_else(|| {
                            Fault::value(format!("profession must be one of renkei's: {p} is not"))
                        })?),
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        match path {
            "username" => {
                self.user_name =
                    Some(text("userName", v)?.ok_or_else(|| Fault::value("userName is required"))?)
            }
            "externalid" => self.external_id = Some(text("externalId", v)?),
            "displayname" => self.display_name = text("displayName", v)?,
            "name.givenname" => self.given_name = Some(text("givenName", v)?.unwrap_or_default()),
            "name.familyname" => {
                self.family_name = Some(text("familyName", v)?.unwrap_or_default())
            }
            "active" => {
                self.active = Some(match value {
                    None => false,
                    Some(v) => boolean("active", v)?,
                })
            }
            "emails" => self.email = Some(primary_value("emails", v)?),
            p if p.starts_with("emails[") => {
                let v = match (p.ends_with(".value"), v) {
                    (true, v) => text("emails", v)?,
                    (false, v) => primary_value("emails", v)?,
                };
                self.email = Some(v);
            }
            _ => {}
        }
        Ok(())
    }

    /// The display name this request gives, if it gives one: `displayName`, else the family
    /// and given names (family first), completing them from `current` ("family given").
    pub fn display_name_after(&self, current: Option<&str>) -> Option<String> {
        if let Some(name) = &self.display_name {
            return Some(name.clone());
        }
        if self.family_name.is_none() && self.given_name.is_none() {
            return None;
        }
        let (family, given) = split_name(current.unwrap_or_default());
        let family = self.family_name.as_deref().unwrap_or(family);
        let given = self.given_name.as_deref().unwrap_or(given);
        let joined = format!("{family} {given}").trim().to_owned();
        (!joined.is_empty()).then_some(joined)
    }

    /// The status `active` asks for, if it changes `current`: inactive retires an account
    /// that may sign in; active makes any other active.
    pub fn status_after(&self, current: UserStatus) -> Option<UserStatus> {
        match self.active? {
            true if current != UserStatus::Active => Some(UserStatus::Active),
            false if current == UserStatus::Active || current == UserStatus::Pending => {
                Some(UserStatus::Retired)
            }
            _ => None,
        }
    }

    /// The renkei edit of `user` this request makes (`department` already resolved to an id
    /// by the caller: `Some(None)` leaves none).
    pub fn patch(&self, user: &User, department: Option<Option<Uuid>>) -> UserPatch {
        UserPatch {
            version: Some(user.version),
            login: self.user_name.clone(),
            display_name: self.display_name_after(Some(&user.display_name)),
            kana: self.kana.clone(),
            profession: self.profession,
            department_id: department,
            email: self.email.clone(),
            status: self.status_after(user.status),
            staff_number: self.staff_number.clone(),
            ..UserPatch::default()
        }
    }
}

/// The first half of a display name ("family") and the rest ("given").
fn split_name(name: &str) -> (&str, &str) {
    match name.trim().split_once(char::is_whitespace) {
        Some((family, given)) => (family, given.trim()),
        None => (name.trim(), ""),
    }
}

/// The `value` of the primary entry of a multi-valued attribute, else of the first.
fn primary_value(what: &str, v: &Value) -> Result<Option<String>, Fault> {
    let entries: Vec<&Value> = match v {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err(Fault::value(format!("{what} must be a list of objects"))),
    };
    let primary = entries
        .iter()
        .find(|e| field(e, "primary").is_some_and(|p| boolean("primary", p) == Ok(true)))
        .or(entries.first());
    match primary {
        None => Ok(None),
        Some(entry) => text(what, field(entry, "value").unwrap_or(&Value::Null)),
    }
}

/// Where a user's SCIM resource lives, under `base` (`/scim/v2/{org}`).
pub fn location(base: &str, id: Uuid) -> String {
    format!("{base}/Users/{id}")
}

/// `user` as a SCIM User with its `externalId` and its department's name.
pub fn resource(
    user: &User,
    external_id: Option<&str>,
    department: Option<&str>,
    base: &str,
) -> Value {
    let (family, given) = split_name(&user.display_name);
    let mut out = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA, RENKEI_SCHEMA],
        "id": user.id,
        "userName": user.login,
        "displayName": user.display_name,
        "name": {"formatted": user.display_name, "familyName": family, "givenName": given},
        "active": user.status == UserStatus::Active,
        "emails": user.email.as_ref().map(|e| vec![json!({"value": e, "type": "work", "primary": true})]).unwrap_or_default(),
        ENTERPRISE_SCHEMA: {"department": department, "employeeNumber": user.staff_number},
        RENKEI_SCHEMA: {"kana": user.kana, "profession": user.profession},
        "meta": meta("User", user.created_at, user.updated_at, user.version, &location(base, user.id)),
    });
    if let Some(id) = external_id {
        out["externalId"] = json!(id);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::scim::operations::{assignments, of_resource};
    use crate::user::{Applicant, NewUser};

    fn user() -> User {
        NewUser::from(Applicant {
            login: "tanaka@hospital.example".into(),
            display_name: "田中 一郎".into(),
            kana: "たなか いちろう".into(),
            romaji: None,
            profession: Profession::Doctor,
            department_id: None,
            email: None,
            phone: None,
            password: "a long password 1".into(),
        })
        .build(Uuid::nil(), Timestamp(0))
        .unwrap()
    }

    fn patch(ops: Value) -> UserAttrs {
        let body = json!({"schemas": [crate::scim::PATCH_SCHEMA], "Operations": ops});
        UserAttrs::from_assignments(&assignments(&body).unwrap()).unwrap()
    }

    #[test]
    fn a_full_entra_user_maps_to_renkei_fields() {
        let body = json!({
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "externalId": "tanaka", "userName": "Tanaka@Hospital.example", "active": true,
            "displayName": "田中 一郎",
            "emails": [{"primary": true, "type": "work", "value": "tanaka@hospital.example"}],
            "name": {"familyName": "田中", "givenName": "一郎", "formatted": "田中 一郎"},
            "title": "医師",
            ENTERPRISE_SCHEMA: {"department": "循環器内科", "employeeNumber": 1234},
            RENKEI_SCHEMA: {"kana": "たなか いちろう", "profession": "doctor"},
        });
        let attrs = UserAttrs::from_assignments(&of_resource(&body).unwrap()).unwrap();
        assert_eq!(attrs.user_name.as_deref(), Some("Tanaka@Hospital.example"));
        assert_eq!(attrs.external_id, Some(Some("tanaka".into())));
        assert_eq!(attrs.email, Some(Some("tanaka@hospital.example".into())));
        assert_eq!(attrs.department, Some(Some("循環器内科".into())));
        assert_eq!(attrs.staff_number, Some(Some("1234".into())));
        assert_eq!(attrs.kana.as_deref(), Some("たなか いちろう"));
        assert_eq!(attrs.profession, Some(Profession::Doctor));
        assert_eq!(attrs.active, Some(true));
    }

    #[test]
    fn entra_and_okta_deactivations_both_retire() {
        let entra = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        let okta = patch(json!([{"op": "replace", "value": {"active": false}}]));
        assert_eq!(entra, okta);
        assert_eq!(entra.patch(&user(), None).status, Some(UserStatus::Retired));
        let back = patch(json!([{"op": "Replace", "path": "active", "value": "True"}]));
        assert_eq!(
            back.status_after(UserStatus::Retired),
            Some(UserStatus::Active)
        );
        assert_eq!(back.status_after(UserStatus::Active), None);
    }

    #[test]
    fn a_given_name_alone_keeps_the_family_name() {
        let attrs = patch(json!([{"op": "Add", "path": "name.givenName", "value": "次郎"}]));
        assert_eq!(
            attrs.patch(&user(), None).display_name.as_deref(),
            Some("田中 次郎")
        );
    }

    #[test]
    fn entra_filtered_email_paths_and_enterprise_paths_are_understood() {
        let attrs = patch(json!([
            {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "t@hospital.example"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "救急科"},
            {"op": "Remove", "path": "externalId"},
        ]));
        assert_eq!(attrs.email, Some(Some("t@hospital.example".into())));
        assert_eq!(attrs.department, Some(Some("救急科".into())));
        assert_eq!(attrs.external_id, Some(None));
    }

    #[test]
    fn wrong_types_and_unknown_professions_are_invalid_values() {
        for ops in [
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            json!([{"op": "replace", "path": "userName", "value": {"x": 1}}]),
            json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:renkei:2.0:User:profession", "value": "wizard"}]),
            json!([{"op": "remove", "path": "userName"}]),
        ] {
            let body = json!({"schemas": [crate::scim::PATCH_SCHEMA], "Operations": ops});
            let err = UserAttrs::from_assignments(&assignments(&body).unwrap()).unwrap_err();
            assert_eq!(err.scim_type, "invalidValue", "{ops}");
        }
    }

    #[test]
    fn a_user_renders_with_both_extensions() {
        let u = user();
        let r = resource(&u, Some("ext-1"), Some("循環器内科"), "/scim/v2/o");
        assert_eq!(r["userName"], "tanaka@hospital.example");
        assert_eq!(r["name"]["familyName"], "田中");
        assert_eq!(r["name"]["givenName"], "一郎");
        assert_eq!(r["externalId"], "ext-1");
        assert_eq!(r[ENTERPRISE_SCHEMA]["department"], "循環器内科");
        assert_eq!(r[RENKEI_SCHEMA]["profession"], "doctor");
        assert_eq!(r["meta"]["location"], format!("/scim/v2/o/Users/{}", u.id));
    }
}
