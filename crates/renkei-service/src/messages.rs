//! Messages of a conversation, for its members: history and catching up, edits and deletions
//! (audited with the original), read marks and receipts, typing, and search.

use renkei_core::Uuid;
use renkei_core::access;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{Event, Message, Priority, clean_body, validate_body};
use renkei_core::message_search::query_variants;
use renkei_core::urgent::DeliveryState;
use renkei_core::user::User;
use renkei_store::ConversationSummary;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::Services;
use crate::conversations::{membership, own_member};
use crate::error::{OrService, ServiceError, ServiceResult};
use crate::messaging::frames::ServerFrame;

/// How far a message got to one member.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    pub user_id: Uuid,
    pub read: bool,
    /// sent < pushed < delivered < read (< acknowledged, urgent messages only).
    pub state: DeliveryState,
    /// When they acknowledged it (urgent messages).
    pub acknowledged_at: Option<Timestamp>,
    /// Who it was escalated to while they did not acknowledge it (urgent messages).
    pub escalated_to: Option<Uuid>,
}

/// How far a message got to the other members.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipts {
    /// How many of the other members have read it ("read by 3 of 5").
    pub read_by: usize,
    pub of: usize,
    /// How many it reached a device of (delivered, read or acknowledged).
    pub delivered_by: usize,
    /// How many acknowledged it (urgent messages; 0 otherwise).
    pub acknowledged_by: usize,
    pub urgent: bool,
    pub readers: Vec<Receipt>,
}

/// A page of history, oldest first: the newest before `before_seq` (default: the newest of
/// all), or the oldest after `after_seq`; 1–200 messages (default 50).
pub async fn history(
    services: &Services,
    me: &User,
    id: Uuid,
    before_seq: Option<i64>,
    after_seq: Option<i64>,
    limit: Option<i64>,
) -> ServiceResult<Vec<Message>> {
    membership(services, me, id).await?;
    let limit = limit.unwrap_or(50).clamp(1, 200);
    services
        .store
        .messages_page(id, before_seq, after_seq, limit)
        .await
        .or_service("conversation_not_found")
}

/// Timeline events after `after_seq` (default 0), 1–1000 (default 500), for catching up
/// without a WebSocket.
pub async fn events(
    services: &Services,
    me: &User,
    id: Uuid,
    after_seq: Option<i64>,
    limit: Option<i64>,
) -> ServiceResult<Vec<Event>> {
    membership(services, me, id).await?;
    let limit = limit.unwrap_or(500).clamp(1, 1000);
    replay_page(services, id, after_seq.unwrap_or(0).max(0), limit).await
}

/// Edits `me`'s own message; everyone sees "edited", the original stays in the audit log
/// (sealed like the message).
pub async fn edit(
    services: &Services,
    me: &User,
    id: Uuid,
    seq: i64,
    body: &str,
) -> ServiceResult<Message> {
    membership(services, me, id).await?;
    let original = live_message(services, id, seq).await?;
    if !access::may_edit_message(me.id, original.sender_id) {
        return Err(not_sender());
    }
    let body = clean_body(body);
    validate_body(&body, !original.attachments.is_empty())?;
    let before = sealed_copy(services, id, seq, &original.body).await?;
    let audit =
        message_audit(me, id, "message.edit").with_details(json!({"seq": seq, "before": before}));
    let event = services
        .store
        .edit_message(id, seq, &body, me.id, &audit)
        .await
        .or_service("message_not_found")?;
    services.messaging.advanced(id, event);
    services
        .store
        .message(id, seq)
        .await
        .or_service("message_not_found")
}

/// Deletes a message (its sender, or one of the group's admins); everyone sees "deleted",
/// the original stays in the audit log.
pub async fn delete(services: &Services, me: &User, id: Uuid, seq: i64) -> ServiceResult<()> {
    let (_, member) = membership(services, me, id).await?;
    let original = live_message(services, id, seq).await?;
    if !access::may_delete_message(me.id, member.role, original.sender_id) {
        return Err(not_sender());
    }
    let before = sealed_copy(services, id, seq, &original.body).await?;
    let audit = message_audit(me, id, "message.delete").with_details(json!({
        "seq": seq,
        "sender_id": original.sender_id,
        "before": before,
        "attachments": original.attachments,
    }));
    let event = services
        .store
        .delete_message(id, seq, me.id, &audit)
        .await
        .or_service("message_not_found")?;
    services.messaging.advanced(id, event);
    Ok(())
}

/// Moves `user`'s read mark in conversation `id` forward to `seq` (only a member has one:
/// `conversation_not_found` otherwise) and shows the others the receipt live; returns the
/// mark now stored.
pub async fn mark_read(services: &Services, user: Uuid, id: Uuid, seq: i64) -> ServiceResult<i64> {
    let read = services
        .store
        .mark_read(id, user, seq)
        .await
        .or_service("conversation_not_found")?;
    let frame = ServerFrame::Receipt {
        conversation_id: id,
        user_id: user,
        seq: read,
    }
    .text();
    services.messaging.ephemeral(id, frame, None);
    Ok(read)
}

/// Who has read message `seq`: "read by N of M" over the members other than its sender.
pub async fn receipts(
    services: &Services,
    me: &User,
    id: Uuid,
    seq: i64,
) -> ServiceResult<Receipts> {
    membership(services, me, id).await?;
    let message = services
        .store
        .message(id, seq)
        .await
        .or_service("message_not_found")?;
    let urgent = message.priority == Priority::Urgent;
    let alerts = if urgent {
        services
            .store
            .urgent_alerts_of(id, seq)
            .await
            .or_service("message_not_found")?
    } else {
        Vec::new()
    };
    let readers: Vec<Receipt> = services
        .store
        .member_marks(id)
        .await
        .or_service("conversation_not_found")?
        .into_iter()
        .filter(|(user, _)| *user != message.sender_id)
        .map(|(user, marks)| {
            let alert = alerts.iter().find(|a| a.user_id == user);
            let acknowledged_at = alert.and_then(|a| a.acknowledged_at);
            Receipt {
                user_id: user,
                read: marks.last_read_seq >= seq,
                state: DeliveryState::of(seq, marks, acknowledged_at.is_some()),
                acknowledged_at,
                escalated_to: alert.and_then(|a| a.escalated_to),
            }
        })
        .collect();
    Ok(Receipts {
        read_by: readers.iter().filter(|r| r.read).count(),
        of: readers.len(),
        delivered_by: readers.iter().filter(|r| r.state.delivered()).count(),
        acknowledged_by: readers
            .iter()
            .filter(|r| r.acknowledged_at.is_some())
            .count(),
        urgent,
        readers,
    })
}

/// Tells the other members that `user` is typing in `id`. The socket, which knows the
/// conversations its user is in, calls this directly; [`typing`] checks membership first.
pub fn typing_of(services: &Services, user: Uuid, id: Uuid) {
    let frame = ServerFrame::Typing {
        conversation_id: id,
        user_id: user,
    }
    .text();
    services.messaging.ephemeral(id, frame, Some(user));
}

/// Tells the other members that `me` is typing (members only).
pub async fn typing(services: &Services, me: &User, id: Uuid) -> ServiceResult<()> {
    membership(services, me, id).await?;
    typing_of(services, me.id, id);
    Ok(())
}

/// Messages of every conversation `me` belongs to, or of one, containing `q` (1–200
/// characters; kana in either script, or romaji for kana); 1–100 (default 30).
pub async fn search(
    services: &Services,
    me: &User,
    q: &str,
    conversation: Option<Uuid>,
    limit: Option<i64>,
) -> ServiceResult<Vec<Message>> {
    let query = q.trim();
    if query.is_empty() || query.chars().count() > 200 {
        return Err(ServiceError::bad_request(
            "invalid_query",
            "q must be 1 to 200 characters",
        ));
    }
    let limit = limit.unwrap_or(30).clamp(1, 100);
    services
        .store
        .search_messages_in(me.id, &query_variants(query), conversation, limit)
        .await
        .or_service("conversation_not_found")
}

/// Every conversation `user` is in, with their membership: where a socket's replay starts.
pub async fn timelines_of(
    services: &Services,
    user: Uuid,
) -> ServiceResult<Vec<ConversationSummary>> {
    services
        .store
        .conversations_of(user)
        .await
        .or_service("conversation_not_found")
}

/// The last event before `user` joined `id` (replay starts after it), or `None` when they
/// are not a member.
pub async fn replay_start(services: &Services, user: Uuid, id: Uuid) -> ServiceResult<Option<i64>> {
    Ok(own_member(services, user, id)
        .await?
        .map(|member| member.joined_seq - 1))
}

/// Up to `limit` events of `id` after `after`. Unchecked: for callers that established
/// membership ([`events`], a socket through [`replay_start`]).
pub async fn replay_page(
    services: &Services,
    id: Uuid,
    after: i64,
    limit: i64,
) -> ServiceResult<Vec<Event>> {
    services
        .store
        .events_after(id, after, limit)
        .await
        .or_service("conversation_not_found")
}

/// Message `seq` of `id` unless deleted.
async fn live_message(services: &Services, id: Uuid, seq: i64) -> ServiceResult<Message> {
    let message = services
        .store
        .message(id, seq)
        .await
        .or_service("message_not_found")?;
    if message.deleted_at.is_some() {
        return Err(ServiceError::not_found("message_not_found"));
    }
    Ok(message)
}

/// The original of message `seq` as its audit entry keeps it: sealed with the message's key,
/// so it is destroyed with the message when retention runs out.
async fn sealed_copy(services: &Services, id: Uuid, seq: i64, body: &str) -> ServiceResult<String> {
    services
        .store
        .seal_for_message(id, seq, body)
        .await
        .or_service("message_not_found")
}

fn not_sender() -> ServiceError {
    ServiceError::forbidden("only the sender may change a message")
}

/// The audit entry of a change to a message of `id` made by `me`.
fn message_audit(me: &User, id: Uuid, action: &'static str) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(me.org_id),
        Some(me.id),
        "conversation",
        Some(id),
    )
}
