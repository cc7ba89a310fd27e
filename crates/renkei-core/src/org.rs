//! Organizations (hospitals, councils), their departments and their policy.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::{DomainError, validate};

string_enum!(
    /// What an organization is: a hospital, or a regional council of hospitals.
    OrgKind {
        Hospital => "hospital",
        Council => "council",
    }
);

/// Longest message retention an organization may set, in days (ten years).
pub const MAX_MESSAGE_RETENTION_DAYS: i64 = 3650;

/// An organization's rules for its users and data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Days media are kept before they are destroyed (1–30).
    pub retention_days: i64,
    /// How many trailing digits of a patient ID are shown (0–8).
    pub patient_id_digits: i64,
    /// Minutes of inactivity after which a session locks (1–1440).
    pub idle_lock_minutes: i64,
    /// Whether every user must set a device passcode before seeing data.
    pub passcode_required: bool,
    /// Whether every user must use a second factor at login.
    pub second_factor_required: bool,
    /// Largest upload, in MiB (1–4096).
    #[serde(default = "default_max_upload_mb")]
    pub max_upload_mb: i64,
    /// Which kinds of files members may upload (all by default).
    #[serde(default)]
    pub allowed_file_kinds: AllowedKinds,
    /// What a push notification's text says (never the message itself).
    #[serde(default)]
    pub push_preview: PushPreview,
    /// Seconds between re-alerts of an unacknowledged urgent message (30–3600).
    #[serde(default = "default_urgent_realert_seconds")]
    pub urgent_realert_seconds: i64,
    /// Most re-alerts of one urgent message to one recipient (0–50).
    #[serde(default = "default_urgent_realert_max")]
    pub urgent_realert_max: i64,
    /// Seconds an urgent message stays unacknowledged before the recipient's covering
    /// colleague is alerted (60–86400).
    #[serde(default = "default_urgent_escalate_after_seconds")]
    pub urgent_escalate_after_seconds: i64,
    /// Days messages are kept (1–3650) before they are destroyed with their keys; none (the
    /// default) keeps them.
    #[serde(default)]
    pub message_retention_days: Option<i64>,
}

string_enum!(
    /// The text of a push notification: a fixed 「新着メッセージ」, or the sender's name and the
    /// conversation's title. Never the message body, file names or study descriptions.
    PushPreview {
        None => "none",
        Sender => "sender",
    }
);

// `string_enum!` derives a fixed list without `Default`, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for PushPreview {
    fn default() -> Self {
        PushPreview::None
    }
}

fn default_urgent_realert_seconds() -> i64 {
    120
}

fn default_urgent_realert_max() -> i64 {
    10
}

fn default_urgent_escalate_after_seconds() -> i64 {
    300
}

/// The kinds of uploads an organization accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedKinds {
    #[serde(default = "yes")]
    pub photo: bool,
    #[serde(default = "yes")]
    pub video: bool,
    #[serde(default = "yes")]
    pub pdf: bool,
    /// Any other file (office documents, text, DICOM files sent as files…).
    #[serde(default = "yes")]
    pub file: bool,
}

fn yes() -> bool {
    true
}

impl Default for AllowedKinds {
    fn default() -> Self {
        AllowedKinds {
            photo: true,
            video: true,
            pdf: true,
            file: true,
        }
    }
}

impl AllowedKinds {
    /// Whether uploads of `kind` are accepted.
    pub fn allows(&self, kind: crate::media::MediaKind) -> bool {
        use crate::media::MediaKind;
        match kind {
            MediaKind::Photo => self.photo,
            MediaKind::Video => self.video,
            MediaKind::Pdf => self.pdf,
            MediaKind::File => self.file,
        }
    }
}

fn default_max_upload_mb() -> i64 {
    100
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            retention_days: 3,
            patient_id_digits: 4,
            idle_lock_minutes: 10,
            passcode_required: false,
            second_factor_required: false,
            max_upload_mb: default_max_upload_mb(),
            allowed_file_kinds: AllowedKinds::default(),
            push_preview: PushPreview::default(),
            urgent_realert_seconds: default_urgent_realert_seconds(),
            urgent_realert_max: default_urgent_realert_max(),
            urgent_escalate_after_seconds: default_urgent_escalate_after_seconds(),
            message_retention_days: None,
        }
    }
}

impl Policy {
    /// Checks every value is within its range.
    pub fn validate(&self) -> Result<(), DomainError> {
        let in_range = |field: &str, v: i64, lo: i64, hi: i64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(DomainError::invalid(
                    "invalid_policy",
                    format!("{field} must be between {lo} and {hi}"),
                ))
            }
        };
        in_range("retention_days", self.retention_days, 1, 30)?;
        in_range("patient_id_digits", self.patient_id_digits, 0, 8)?;
        in_range("idle_lock_minutes", self.idle_lock_minutes, 1, 1440)?;
        in_range("max_upload_mb", self.max_upload_mb, 1, 4096)?;
        in_range(
            "urgent_realert_seconds",
            self.urgent_realert_seconds,
            30,
            3600,
        )?;
        in_range("urgent_realert_max", self.urgent_realert_max, 0, 50)?;
        in_range(
            "urgent_escalate_after_seconds",
            self.urgent_escalate_after_seconds,
            60,
            86_400,
        )?;
        match self.message_retention_days {
            Some(days) => in_range(
                "message_retention_days",
                days,
                1,
                MAX_MESSAGE_RETENTION_DAYS,
            ),
            None => Ok(()),
        }
    }

    /// The upload limit in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.max(1) as u64 * 1024 * 1024
    }
}

/// A hospital or council using renkei.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Organization {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub kind: OrgKind,
    pub policy: Policy,
    /// Incremented on every change; updates must name the version they edit.
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What an admin gives to create an organization.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: String,
    /// Short URL-safe name; derived from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub kind: Option<OrgKind>,
}

impl NewOrganization {
    /// Validates and builds the organization with default policy.
    pub fn build(self, now: Timestamp) -> Result<Organization, DomainError> {
        let name = validate::name("name", &self.name)?;
        let slug = match self.slug {
            Some(slug) => validate::slug(&slug)?,
            None => validate::slug_from_name(&name).ok_or_else(|| {
                DomainError::invalid(
                    "slug_required",
                    "the name has too few ASCII letters to derive a slug; give one",
                )
            })?,
        };
        Ok(Organization {
            id: crate::new_id(),
            slug,
            name,
            kind: self.kind.unwrap_or(OrgKind::Hospital),
            policy: Policy::default(),
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }
}

/// An admin's edit of an organization: only the fields present change.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationPatch {
    /// The version this edit was made against.
    pub version: Option<i64>,
    pub name: Option<String>,
    pub slug: Option<String>,
    pub policy: Option<Policy>,
}

impl OrganizationPatch {
    /// The organization after this edit, validated.
    pub fn apply(self, org: &Organization) -> Result<Organization, DomainError> {
        let mut next = org.clone();
        if let Some(name) = self.name {
            next.name = validate::name("name", &name)?;
        }
        if let Some(slug) = self.slug {
            next.slug = validate::slug(&slug)?;
        }
        if let Some(policy) = self.policy {
            policy.validate()?;
            next.policy = policy;
        }
        Ok(next)
    }
}

/// A department of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Department {
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// Who its members' unacknowledged urgent messages escalate to when they name no
    /// covering colleague (set by an admin).
    #[serde(default)]
    pub on_call_user_id: Option<Uuid>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new department's name, or a department's new name.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentInput {
    pub name: String,
    /// For edits: the version this edit was made against.
    #[serde(default)]
    pub version: Option<i64>,
}

/// An admin's edit of a department: any of its name and its on-call user (`null` clears).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartmentPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub on_call_user_id: Option<Option<Uuid>>,
    /// The version this edit was made against (or `If-Match`).
    #[serde(default)]
    pub version: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ranges_are_enforced() {
        assert!(Policy::default().validate().is_ok());
        let p = Policy {
            retention_days: 31,
            ..Policy::default()
        };
        assert_eq!(p.validate().unwrap_err().code(), "invalid_policy");
        let p = Policy {
            idle_lock_minutes: 0,
            ..Policy::default()
        };
        assert!(p.validate().is_err());
        for (days, ok) in [
            (None, true),
            (Some(1), true),
            (Some(3650), true),
            (Some(0), false),
            (Some(3651), false),
        ] {
            let p = Policy {
                message_retention_days: days,
                ..Policy::default()
            };
            assert_eq!(p.validate().is_ok(), ok, "{days:?}");
        }
    }

    #[test]
    fn japanese_only_names_need_a_slug() {
        let org = NewOrganization {
            name: "大分大学病院".into(),
            slug: None,
            kind: None,
        };
        assert_eq!(org.build(Timestamp(0)).unwrap_err().code(), "slug_required");
    }
}
