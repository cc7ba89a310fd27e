//! What leaves the server in a push: the JSON the service worker reads, its text by the
//! organization's `push_preview` policy, and the request headers. Never a message body,
//! file name or study description: the payload is built from ids and names only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use renkei_core::Uuid;
use renkei_core::org::PushPreview;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::notify::AlertKind;

/// The fixed text under the `none` policy.
pub const NEW_MESSAGE: &str = "新着メッセージ";

/// The payload's `kind`.
pub fn kind_name(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Message => "message",
        AlertKind::Mention => "mention",
        AlertKind::Urgent => "urgent",
        AlertKind::Realert => "realert",
        AlertKind::Escalation => "escalation",
        AlertKind::Call => "call",
    }
}

#[derive(Serialize)]
struct Payload<'a> {
    kind: &'static str,
    conversation_id: Uuid,
    seq: i64,
    urgent: bool,
    text: &'a str,
}

/// The clear payload (encrypted before it leaves): ids, the kind and the policy's text.
pub fn payload(kind: AlertKind, conversation_id: Uuid, seq: i64, text: &str) -> Vec<u8> {
    serde_json::to_vec(&Payload {
        kind: kind_name(kind),
        conversation_id,
        seq,
        urgent: kind.is_urgent(),
        text,
    })
    .unwrap_or_default()
}

/// The notification text: fixed under `none`; under `sender`, the sender's name and the
/// conversation's title (just the name when it has none, or the fixed text when unknown).
pub fn text(preview: PushPreview, names: Option<(&str, Option<&str>)>) -> String {
    match (preview, names) {
        (PushPreview::Sender, Some((sender, Some(title)))) if !title.trim().is_empty() => {
            format!("{sender} · {title}")
        }
        (PushPreview::Sender, Some((sender, _))) => sender.to_owned(),
        _ => NEW_MESSAGE.to_owned(),
    }
}

/// `Urgency` header: `high` for what must wake a phone in Doze, `normal` otherwise.
pub fn urgency(kind: AlertKind) -> &'static str {
    if kind.is_urgent() || kind == AlertKind::Mention {
        "high"
    } else {
        "normal"
    }
}

/// `Topic` header: one per conversation (a newer push replaces an undelivered older one):
/// base64url of the first 24 bytes of SHA-256 over the id, 32 characters.
pub fn topic(conversation_id: Uuid) -> String {
    let digest = Sha256::digest(conversation_id.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_holds_ids_kind_and_text_only() {
        let c = Uuid::now_v7();
        let bytes = payload(AlertKind::Urgent, c, 42, NEW_MESSAGE);
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let obj = v.as_object().unwrap();
        let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["conversation_id", "kind", "seq", "text", "urgent"]);
        assert_eq!(v["kind"], "urgent");
        assert_eq!(v["urgent"], true);
        assert_eq!(v["seq"], 42);
        assert_eq!(v["conversation_id"], c.to_string());
        assert_eq!(v["text"], "新着メッセージ");
    }

    #[test]
    fn text_follows_the_policy() {
        assert_eq!(
            text(PushPreview::None, Some(("佐藤", Some("病棟")))),
            NEW_MESSAGE
        );
        assert_eq!(
            text(PushPreview::Sender, Some(("佐藤", Some("病棟")))),
            "佐藤 · 病棟"
        );
        assert_eq!(text(PushPreview::Sender, Some(("佐藤", None))), "佐藤");
        assert_eq!(text(PushPreview::Sender, Some(("佐藤", Some(" ")))), "佐藤");
        assert_eq!(text(PushPreview::Sender, None), NEW_MESSAGE);
    }

    #[test]
    fn urgency_is_high_for_what_must_wake_a_phone() {
        assert_eq!(urgency(AlertKind::Message), "normal");
        for k in [
            AlertKind::Mention,
            AlertKind::Urgent,
            AlertKind::Realert,
            AlertKind::Escalation,
            AlertKind::Call,
        ] {
            assert_eq!(urgency(k), "high");
        }
    }

    #[test]
    fn topic_is_short_url_safe_and_per_conversation() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let t = topic(a);
        assert_eq!(t.len(), 32);
        assert!(
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(t, topic(a));
        assert_ne!(t, topic(b));
    }
}
