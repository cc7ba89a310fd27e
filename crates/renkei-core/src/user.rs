//! Users: professions, roles, the account lifecycle, and admin edits of every field.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::{DomainError, kana, validate};

/// Longest kana reading or romaji form, in characters.
const MAX_READING_CHARS: usize = 200;

string_enum!(
    /// A clinical or administrative profession (a fixed, translatable list).
    Profession {
        Doctor => "doctor",
        Resident => "resident",
        Nurse => "nurse",
        RadiologyTechnologist => "radiology_technologist",
        PhysicalTherapist => "physical_therapist",
        OccupationalTherapist => "occupational_therapist",
        Orthoptist => "orthoptist",
        ClinicalEngineer => "clinical_engineer",
        SocialWorker => "social_worker",
        Pharmacist => "pharmacist",
        Clerk => "clerk",
        Other => "other",
    }
);

string_enum!(
    /// A power beyond an ordinary member's.
    Role {
        OrgAdmin => "org_admin",
        ServerAdmin => "server_admin",
    }
);

string_enum!(
    /// Where an account is in its life.
    UserStatus {
        Pending => "pending",
        Active => "active",
        Suspended => "suspended",
        Retired => "retired",
    }
);

impl UserStatus {
    /// Whether an account may move from this status to `to`.
    /// Nothing returns to pending; a pending application is approved (active) or rejected (retired).
    pub fn can_become(self, to: UserStatus) -> bool {
        use UserStatus::*;
        match (self, to) {
            (a, b) if a == b => true,
            (_, Pending) => false,
            (Pending, Suspended) => false,
            _ => true,
        }
    }

    /// Whether this status may hold sessions.
    pub fn may_sign_in(self) -> bool {
        self == UserStatus::Active
    }
}

/// A person with an account in one home organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub login: String,
    /// Name as written, e.g. 田中 一郎.
    pub display_name: String,
    /// Kana reading, e.g. たなか いちろう.
    pub kana: String,
    /// Latin spelling, derived from the kana unless given.
    pub romaji: String,
    pub profession: Profession,
    pub department_id: Option<Uuid>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub roles: Vec<Role>,
    pub status: UserStatus,
    /// The hospital's own staff number (unique in the organization); matches CSV rows.
    pub staff_number: Option<String>,
    /// Positions held in other organizations.
    pub affiliations: Vec<Affiliation>,
    /// Whether this user must use a second factor at sign-in (besides the organization's rule).
    pub second_factor_required: bool,
    /// Whether this user has enrolled an authenticator (then it is asked at every sign-in).
    /// Read-only: set by enrolling, cleared by an administrator's reset; never the secret.
    #[serde(default)]
    pub second_factor_enrolled: bool,
    /// Set for a one-time password: only a password change is allowed until then.
    pub must_change_password: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A position a user holds in an organization other than their home one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Affiliation {
    pub org_id: Uuid,
    /// Department there, as free text.
    #[serde(default)]
    pub department: Option<String>,
    /// Title or role there, e.g. 非常勤医師.
    #[serde(default)]
    pub title: Option<String>,
}

/// Checks a user's affiliations: none at home, one per organization, short texts.
pub fn validate_affiliations(
    home: Uuid,
    list: &[Affiliation],
) -> Result<Vec<Affiliation>, DomainError> {
    let mut out: Vec<Affiliation> = Vec::with_capacity(list.len());
    for a in list {
        if a.org_id == home {
            return Err(DomainError::invalid(
                "invalid_affiliation",
                "an affiliation names another organization than the home one",
            ));
        }
        if out.iter().any(|b| b.org_id == a.org_id) {
            return Err(DomainError::invalid(
                "invalid_affiliation",
                "each organization appears at most once in affiliations",
            ));
        }
        let text =
            |field: &'static str, v: &Option<String>| -> Result<Option<String>, DomainError> {
                v.as_deref()
                    .map(|t| validate::name_text(field, t, MAX_READING_CHARS))
                    .transpose()
                    .map(|t| t.filter(|t| !t.is_empty()))
            };
        out.push(Affiliation {
            org_id: a.org_id,
            department: text("affiliations.department", &a.department)?,
            title: text("affiliations.title", &a.title)?,
        });
    }
    if out.len() > 20 {
        return Err(DomainError::invalid(
            "invalid_affiliation",
            "at most 20 affiliations",
        ));
    }
    Ok(out)
}

impl User {
    /// Whether this user holds a role.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// Who a new account is, as an applicant gives it on an invite link's sign-up page; an
/// administrator gives the same and more ([`NewUser`]).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub romaji: Option<String>,
    pub profession: Profession,
    #[serde(default)]
    pub department_id: Option<Uuid>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The password: one-time when an administrator gives it (changed at first sign-in),
    /// the applicant's own on the sign-up page (kept once approved).
    pub password: String,
}

/// What an admin gives to create a user: who they are, and what only an administrator sets.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[serde(flatten)]
    pub who: Applicant,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Defaults to active.
    #[serde(default)]
    pub status: Option<UserStatus>,
    #[serde(default)]
    pub staff_number: Option<String>,
    #[serde(default)]
    pub affiliations: Vec<Affiliation>,
    #[serde(default)]
    pub second_factor_required: bool,
}

impl From<Applicant> for NewUser {
    /// An active user without roles, staff number or affiliations.
    fn from(who: Applicant) -> Self {
        NewUser {
            who,
            roles: Vec::new(),
            status: None,
            staff_number: None,
            affiliations: Vec::new(),
            second_factor_required: false,
        }
    }
}

impl NewUser {
    /// An application through an invite link: pending until an administrator approves it,
    /// keeping the applicant's own password.
    pub fn application(who: Applicant, org_id: Uuid, now: Timestamp) -> Result<User, DomainError> {
        let new = NewUser {
            status: Some(UserStatus::Pending),
            ..NewUser::from(who)
        };
        let mut user = new.build(org_id, now)?;
        user.must_change_password = false;
        Ok(user)
    }

    /// Validates and builds the user of `org_id` (the password is checked, not kept).
    pub fn build(&self, org_id: Uuid, now: Timestamp) -> Result<User, DomainError> {
        let who = &self.who;
        validate::password(&who.password)?;
        let kana = validate::name_text("kana", &who.kana, MAX_READING_CHARS)?;
        let romaji = romaji_or_derived(who.romaji.as_deref(), &kana)?;
        Ok(User {
            id: crate::new_id(),
            org_id,
            login: validate::login(&who.login)?,
            display_name: validate::name("display_name", &who.display_name)?,
            kana,
            romaji,
            profession: who.profession,
            department_id: who.department_id,
            email: who.email.as_deref().map(validate::email).transpose()?,
            phone: who.phone.as_deref().map(validate::phone).transpose()?,
            roles: dedup_roles(&self.roles),
            status: self.status.unwrap_or(UserStatus::Active),
            staff_number: self
                .staff_number
                .as_deref()
                .map(validate::staff_number)
                .transpose()?
                .flatten(),
            affiliations: validate_affiliations(org_id, &self.affiliations)?,
            second_factor_required: self.second_factor_required,
            second_factor_enrolled: false,
            must_change_password: true,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }
}

/// An admin's edit of a user: only the fields present change; `null` clears an optional field.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// The version this edit was made against.
    pub version: Option<i64>,
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub kana: Option<String>,
    pub romaji: Option<String>,
    pub profession: Option<Profession>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub department_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    pub roles: Option<Vec<Role>>,
    pub status: Option<UserStatus>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub staff_number: Option<Option<String>>,
    pub affiliations: Option<Vec<Affiliation>>,
    pub second_factor_required: Option<bool>,
}

impl UserPatch {
    /// The user after this edit, validated (status changes must follow the lifecycle).
    pub fn apply(&self, user: &User) -> Result<User, DomainError> {
        let mut next = user.clone();
        if let Some(login) = &self.login {
            next.login = validate::login(login)?;
        }
        if let Some(name) = &self.display_name {
            next.display_name = validate::name("display_name", name)?;
        }
        if let Some(kana) = &self.kana {
            next.kana = validate::name_text("kana", kana, MAX_READING_CHARS)?;
        }
        if self.kana.is_some() || self.romaji.is_some() {
            next.romaji = romaji_or_derived(self.romaji.as_deref(), &next.kana)?;
        }
        if let Some(profession) = self.profession {
            next.profession = profession;
        }
        if let Some(department) = self.department_id {
            next.department_id = department;
        }
        if let Some(email) = &self.email {
            next.email = email.as_deref().map(validate::email).transpose()?;
        }
        if let Some(phone) = &self.phone {
            next.phone = phone.as_deref().map(validate::phone).transpose()?;
        }
        if let Some(roles) = &self.roles {
            next.roles = dedup_roles(roles);
        }
        if let Some(staff_number) = &self.staff_number {
            next.staff_number = staff_number
                .as_deref()
                .map(validate::staff_number)
                .transpose()?
                .flatten();
        }
        if let Some(affiliations) = &self.affiliations {
            next.affiliations = validate_affiliations(user.org_id, affiliations)?;
        }
        if let Some(required) = self.second_factor_required {
            next.second_factor_required = required;
        }
        if let Some(status) = self.status {
            if !user.status.can_become(status) {
                return Err(DomainError::Transition {
                    from: user.status.as_str(),
                    to: status.as_str(),
                });
            }
            next.status = status;
        }
        Ok(next)
    }
}

fn romaji_or_derived(romaji: Option<&str>, kana: &str) -> Result<String, DomainError> {
    match romaji.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => Ok(validate::name_text("romaji", r, MAX_READING_CHARS)?.to_lowercase()),
        None => Ok(kana::to_romaji(kana)),
    }
}

fn dedup_roles(roles: &[Role]) -> Vec<Role> {
    Role::ALL
        .iter()
        .copied()
        .filter(|r| roles.contains(r))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_user() -> NewUser {
        NewUser {
            roles: vec![Role::OrgAdmin, Role::OrgAdmin],
            ..NewUser::from(Applicant {
                login: "Tanaka".into(),
                display_name: "田中 一郎".into(),
                kana: "たなか いちろう".into(),
                romaji: None,
                profession: Profession::Doctor,
                department_id: None,
                email: None,
                phone: None,
                password: "correct horse battery".into(),
            })
        }
    }

    #[test]
    fn an_applicant_is_the_first_part_of_a_new_user_and_sets_no_roles() {
        let body = r#"{"login":"sato","display_name":"佐藤","profession":"nurse","password":"a long password"}"#;
        let applicant: Applicant = serde_json::from_str(body).unwrap();
        let with_roles = body.replace('}', r#","roles":["server_admin"]}"#);
        assert!(serde_json::from_str::<Applicant>(&with_roles).is_err());
        let admin_given: NewUser = serde_json::from_str(&with_roles).unwrap();
        assert_eq!(admin_given.roles, vec![Role::ServerAdmin]);
        assert_eq!(admin_given.who.login, "sato");
        let unknown = body.replace('}', r#","bogus":1}"#);
        assert!(serde_json::from_str::<NewUser>(&unknown).is_err());
        let user = NewUser::application(applicant, Uuid::nil(), Timestamp(0)).unwrap();
        assert_eq!(user.status, UserStatus::Pending);
        assert!(user.roles.is_empty());
        assert!(!user.must_change_password);
    }

    #[test]
    fn new_user_derives_romaji_and_lowercases_login() {
        let user = new_user().build(Uuid::nil(), Timestamp(0)).unwrap();
        assert_eq!(user.login, "tanaka");
        assert_eq!(user.romaji, "tanaka ichirou");
        assert_eq!(user.roles, vec![Role::OrgAdmin]);
        assert_eq!(user.status, UserStatus::Active);
        assert!(user.must_change_password);
    }

    #[test]
    fn patch_changes_only_what_it_names_and_null_clears() {
        let mut user = new_user().build(Uuid::nil(), Timestamp(0)).unwrap();
        user.email = Some("a@b.jp".into());
        let patch: UserPatch =
            serde_json::from_str(r#"{"version":1,"email":null,"kana":"さとう"}"#).unwrap();
        let next = patch.apply(&user).unwrap();
        assert_eq!(next.email, None);
        assert_eq!(next.romaji, "satou");
        assert_eq!(next.display_name, user.display_name);
        let untouched: UserPatch = serde_json::from_str(r#"{"version":1}"#).unwrap();
        assert_eq!(untouched.apply(&user).unwrap(), user);
    }

    #[test]
    fn lifecycle_forbids_returning_to_pending() {
        assert!(UserStatus::Pending.can_become(UserStatus::Active));
        assert!(UserStatus::Active.can_become(UserStatus::Retired));
        assert!(!UserStatus::Active.can_become(UserStatus::Pending));
        assert!(!UserStatus::Pending.can_become(UserStatus::Suspended));
        let user = new_user().build(Uuid::nil(), Timestamp(0)).unwrap();
        let patch = UserPatch {
            status: Some(UserStatus::Pending),
            ..UserPatch::default()
        };
        assert_eq!(
            patch.apply(&user).unwrap_err().code(),
            "invalid_status_transition"
        );
    }

    #[test]
    fn affiliations_name_other_organizations_once_each() {
        let home = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let a = |org, title: &str| Affiliation {
            org_id: org,
            department: Some("  放射線科 ".into()),
            title: Some(title.into()),
        };
        let ok = validate_affiliations(home, &[a(other, "")]).unwrap();
        assert_eq!(ok[0].department.as_deref(), Some("放射線科"));
        assert_eq!(ok[0].title, None, "blank texts become none");
        for bad in [vec![a(home, "x")], vec![a(other, "x"), a(other, "y")]] {
            assert_eq!(
                validate_affiliations(home, &bad).unwrap_err().code(),
                "invalid_affiliation"
            );
        }
        let mut user = new_user().build(home, Timestamp(0)).unwrap();
        user.staff_number = Some("E-1".into());
        let patch: UserPatch =
            serde_json::from_str(r#"{"staff_number": null, "second_factor_required": true}"#)
                .unwrap();
        let next = patch.apply(&user).unwrap();
        assert_eq!(
            (next.staff_number, next.second_factor_required),
            (None, true)
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_str::<UserPatch>(r#"{"password_hash":"x"}"#).is_err());
    }
}
