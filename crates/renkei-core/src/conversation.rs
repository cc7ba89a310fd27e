//! Conversations, their members, messages and the events of their timeline.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::{DomainError, validate};

/// Longest message body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Most attachments on one message.
pub const MAX_ATTACHMENTS: usize = 20;
/// What a message can carry: a medium (photo, video, file) or a DICOM study.
pub const ATTACHMENT_KINDS: &[&str] = &["media", "study"];
/// Most members of a group.
pub const MAX_MEMBERS: usize = 1_000;

string_enum!(
    /// Two people, or a titled group.
    ConversationKind {
        Direct => "direct",
        Group => "group",
    }
);

string_enum!(
    /// What a member may do beyond writing: group admins manage members and the title.
    MemberRole {
        Admin => "admin",
        Member => "member",
    }
);

string_enum!(
    /// How loudly a message asks for attention.
    Priority {
        Normal => "normal",
        Urgent => "urgent",
    }
);

fn normal() -> Priority {
    Priority::Normal
}

string_enum!(
    /// The kinds of timeline events. `system.notice` is one the server wrote, not a person
    /// (an urgent message escalated to the covering colleague): its facts are in `data`, with
    /// `notice` naming its kind. `call.started` (`{call_id, media}`) and `call.ended`
    /// (`{call_id, duration_seconds, participants, end_reason}`) frame a call.
    /// `messages.expired` (`{up_to_seq, retention_days}`): the messages up to `up_to_seq` were
    /// destroyed by the organization's message retention.
    EventKind {
        MessageCreated => "message.created",
        MessageEdited => "message.edited",
        MessageDeleted => "message.deleted",
        MemberAdded => "member.added",
        MemberRemoved => "member.removed",
        ConversationUpdated => "conversation.updated",
        SystemNotice => "system.notice",
        CallStarted => "call.started",
        CallEnded => "call.ended",
        MessagesExpired => "messages.expired",
    }
);

/// A conversation; its events are numbered 1, 2, 3 … without gaps (`last_seq` is the newest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: Uuid,
    /// The organization that owns it (its creator's).
    pub org_id: Uuid,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub created_by: Option<Uuid>,
    pub last_seq: i64,
    /// Days its media and studies are kept, when shorter than the organization's policy.
    pub retention_days: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Member {
    pub user_id: Uuid,
    pub role: MemberRole,
    /// The event that added them.
    pub joined_seq: i64,
    /// The newest event they have read.
    pub last_read_seq: i64,
}

/// A reference to something carried by a message: a medium, a DICOM study, …
/// Kept as given (validated for shape) so new kinds need no migration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// e.g. `media`, `study`.
    pub kind: String,
    pub id: Uuid,
    /// Display name, e.g. a file name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A study attachment that points at one annotated frame: a key image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_image: Option<KeyImage>,
}

/// The frame a key image shows and the presentation state (GSPS) holding its annotations; who
/// may see it is decided by the study it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyImage {
    /// The image's SOP Instance UID.
    pub sop_uid: String,
    /// From 1.
    pub frame: u32,
    /// The presentation state's SOP Instance UID, when the frame is annotated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentation_uid: Option<String>,
}

/// Whether `uid` has the shape of a DICOM UID (at most 64 digits and dots).
fn is_uid(uid: &str) -> bool {
    !uid.is_empty() && uid.len() <= 64 && uid.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// A message as stored, in its current state (edited or deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub seq: i64,
    pub sender_id: Uuid,
    pub client_msg_id: String,
    /// Empty once deleted.
    pub body: String,
    pub reply_to: Option<i64>,
    pub priority: Priority,
    pub mentions: Vec<Uuid>,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
    pub edited_at: Option<Timestamp>,
    pub deleted_at: Option<Timestamp>,
}

/// What a sender gives to post a message.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Chosen by the client, unique per sender; a resend with the same id is not duplicated.
    pub client_msg_id: String,
    #[serde(default)]
    pub body: String,
    /// The `seq` of a message in the same conversation.
    #[serde(default)]
    pub reply_to: Option<i64>,
    #[serde(default = "normal")]
    pub priority: Priority,
    /// Users called out with @; must be members.
    #[serde(default)]
    pub mentions: Vec<Uuid>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

impl NewMessage {
    /// Checks the shape: a client id, a body within bounds (or attachments), sane references.
    pub fn validate(&self) -> Result<(), DomainError> {
        let id = &self.client_msg_id;
        if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                "invalid_client_msg_id",
                "client_msg_id must be 1-64 printable ASCII characters",
            ));
        }
        validate_body(&self.body, !self.attachments.is_empty())?;
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(DomainError::invalid(
                "too_many_attachments",
                format!("at most {MAX_ATTACHMENTS} attachments per message"),
            ));
        }
        for a in &self.attachments {
            if !ATTACHMENT_KINDS.contains(&a.kind.as_str()) {
                return Err(DomainError::invalid(
                    "invalid_attachment",
                    format!(
                        "attachment kind must be one of {}",
                        ATTACHMENT_KINDS.join(", ")
                    ),
                ));
            }
            if let Some(name) = &a.name {
                validate::optional_text("attachment name", name, 255)?;
            }
            if let Some(key) = &a.key_image {
                let uids = std::iter::once(&key.sop_uid).chain(&key.presentation_uid);
                if a.kind != "study" || key.frame < 1 || !uids.into_iter().all(|u| is_uid(u)) {
                    return Err(DomainError::invalid(
                        "invalid_attachment",
                        "a key image is a study's frame (from 1) named by UIDs",
                    ));
                }
            }
        }
        if self.mentions.len() > MAX_MEMBERS {
            return Err(DomainError::invalid(
                "too_many_mentions",
                "too many mentions",
            ));
        }
        if self.reply_to.is_some_and(|s| s < 1) {
            return Err(DomainError::invalid(
                "reply_not_found",
                "reply_to must be a message seq",
            ));
        }
        Ok(())
    }
}

/// A message body: at most [`MAX_BODY_CHARS`], no control characters but newlines and tabs,
/// and not blank unless something is attached.
pub fn validate_body(body: &str, has_attachments: bool) -> Result<(), DomainError> {
    if body.trim().is_empty() && !has_attachments {
        return Err(DomainError::invalid(
            "empty_message",
            "a message needs text or an attachment",
        ));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(DomainError::invalid(
            "message_too_long",
            format!("a message may have at most {MAX_BODY_CHARS} characters"),
        ));
    }
    if body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(DomainError::invalid(
            "invalid_characters",
            "the message contains control characters",
        ));
    }
    Ok(())
}

/// A message body as stored: bidi overrides and zero-width characters neutralised
/// ([`crate::text::neutralise_body`]); validate it afterwards.
pub fn clean_body(body: &str) -> String {
    crate::text::neutralise_body(body)
}

/// A group title: a name's rules.
pub fn validate_title(title: &str) -> Result<String, DomainError> {
    validate::name("title", title)
}

/// One numbered event of a conversation's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    pub conversation_id: Uuid,
    pub seq: i64,
    pub kind: EventKind,
    pub actor_id: Option<Uuid>,
    pub at: Timestamp,
    /// The message in its current state, for message events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    /// Facts of non-message events, e.g. `{"user_id": …}` or `{"title": …}`; for edits and
    /// deletions `{"target_seq": n}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The key that makes a direct conversation between two people unique.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> NewMessage {
        NewMessage {
            client_msg_id: "c-1".into(),
            body: body.into(),
            reply_to: None,
            priority: Priority::Normal,
            mentions: vec![],
            attachments: vec![],
        }
    }

    #[test]
    fn bodies_are_bounded_and_not_blank() {
        assert!(msg("急変です。至急来てください").validate().is_ok());
        assert_eq!(msg("  \n").validate().unwrap_err().code(), "empty_message");
        assert_eq!(
            msg(&"a".repeat(10_001)).validate().unwrap_err().code(),
            "message_too_long"
        );
        assert_eq!(
            msg("bell\u{7}").validate().unwrap_err().code(),
            "invalid_characters"
        );
        let mut with_photo = msg("");
        with_photo.attachments.push(Attachment {
            kind: "media".into(),
            id: Uuid::nil(),
            name: None,
            key_image: None,
        });
        assert!(with_photo.validate().is_ok());
    }

    #[test]
    fn client_ids_are_checked() {
        let mut m = msg("hi");
        m.client_msg_id = String::new();
        assert_eq!(m.validate().unwrap_err().code(), "invalid_client_msg_id");
        m.client_msg_id = "x".repeat(65);
        assert!(m.validate().is_err());
    }

    #[test]
    fn direct_keys_ignore_order() {
        let (a, b) = (crate::new_id(), crate::new_id());
        assert_eq!(direct_key(a, b), direct_key(b, a));
    }

    #[test]
    fn event_kinds_round_trip() {
        for k in ["message.created", "member.removed", "conversation.updated"] {
            assert_eq!(EventKind::parse(k).unwrap().as_str(), k);
        }
    }
}
