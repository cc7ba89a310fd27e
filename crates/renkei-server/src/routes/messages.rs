//! Messages: post, page through history, catch up on events, edit, delete, read marks,
//! receipts, typing, search.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::conversation::{
    Event, MemberRole, Message, NewMessage, clean_body, validate_body,
};
use renkei_core::message_search::query_variants;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::conversations::membership;
use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiError, ApiResult, ErrorBody, OrApi};
use crate::extract::{ApiJson, ApiQuery, IdPath};
use crate::messaging::frames::ServerFrame;

#[derive(Serialize, ToSchema)]
pub struct PostAck {
    client_msg_id: String,
    seq: i64,
    /// True when this was a resend of a message already stored.
    duplicate: bool,
    message: Message,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// The newest messages before this seq (default: the newest of all).
    before_seq: Option<i64>,
    /// Or: the oldest messages after this seq.
    after_seq: Option<i64>,
    /// 1–200 (default 50).
    limit: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Events after this seq (default 0).
    after_seq: Option<i64>,
    /// 1–1000 (default 500).
    limit: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    body: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMark {
    seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    last_read_seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Receipt {
    user_id: Uuid,
    read: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Receipts {
    /// How many of the other members have read it ("read by 3 of 5").
    read_by: usize,
    of: usize,
    readers: Vec<Receipt>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Any part of the text, 1–200 characters. Katakana and hiragana find each other, and a
    /// query in romaji also finds its kana (kekka → けっか, ケッカ); kanji match as typed.
    q: String,
    /// Only this conversation.
    conversation_id: Option<Uuid>,
    /// 1–100 (default 30).
    limit: Option<i64>,
}

/// Post a message; answered once it is durable. A resend with the same `client_msg_id` returns
/// the original (200) instead of storing it twice.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages", tag = "messages", request_body = NewMessage, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = PostAck), (status = 200, body = PostAck, description = "a resend"),
        (status = 404, body = ErrorBody, description = "conversation_not_found (also for non-members)"),
        (status = 422, body = ErrorBody, description = "empty_message, message_too_long, reply_not_found, mention_not_member")))]
pub async fn post_message(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiJson(message): ApiJson<NewMessage>,
) -> ApiResult<(StatusCode, Json<PostAck>)> {
    let posted = state.messaging.post(me.user.id, id, message).await?;
    let status = if posted.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(PostAck {
            client_msg_id: posted.message.client_msg_id.clone(),
            seq: posted.message.seq,
            duplicate: posted.duplicate,
            message: posted.message,
        }),
    ))
}

/// A page of history, oldest first.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), HistoryQuery), responses((status = 200, body = [Message])))]
pub async fn history(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    membership(&state, &me.user, id).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(
        state
            .store
            .messages_page(id, q.before_seq, q.after_seq, limit)
            .await
            .or_api("conversation_not_found")?,
    ))
}

/// Timeline events after a seq, for catching up without a WebSocket.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/events", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), EventsQuery), responses((status = 200, body = [Event])))]
pub async fn events(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<Vec<Event>>> {
    membership(&state, &me.user, id).await?;
    let limit = q.limit.unwrap_or(500).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .events_after(id, q.after_seq.unwrap_or(0).max(0), limit)
            .await
            .or_api("conversation_not_found")?,
    ))
}

/// The sender's own live message, or why not.
async fn own_message(
    state: &AppState,
    me: Uuid,
    conversation: Uuid,
    seq: i64,
    group_admin_may: bool,
) -> ApiResult<Message> {
    let message = state
        .store
        .message(conversation, seq)
        .await
        .or_api("message_not_found")?;
    if message.deleted_at.is_some() {
        return Err(ApiError::not_found("message_not_found"));
    }
    if message.sender_id != me && !group_admin_may {
        return Err(ApiError::forbidden("only the sender may change a message"));
    }
    Ok(message)
}

/// Edit your message; everyone sees "edited", the original stays in the audit log.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}/messages/{seq}", tag = "messages", request_body = Edit, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)), responses((status = 200, body = Message)))]
pub async fn edit_message(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path((id, seq)): Path<(Uuid, i64)>,
    ApiJson(req): ApiJson<Edit>,
) -> ApiResult<Json<Message>> {
    membership(&state, &me.user, id).await?;
    let original = own_message(&state, me.user.id, id, seq, false).await?;
    let body = clean_body(&req.body);
    validate_body(&body, !original.attachments.is_empty())?;
    let audit = AuditEvent::new(
        "message.edit",
        Some(me.user.org_id),
        Some(me.user.id),
        "conversation",
        Some(id),
    )
    .with_details(json!({"seq": seq, "before": original.body}));
    let event = state
        .store
        .edit_message(id, seq, &body, me.user.id, &audit)
        .await
        .or_api("message_not_found")?;
    state.messaging.advanced(id, event);
    Ok(Json(
        state
            .store
            .message(id, seq)
            .await
            .or_api("message_not_found")?,
    ))
}

/// Delete your message (group admins may delete any); everyone sees "deleted", the original
/// stays in the audit log.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/messages/{seq}", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)), responses((status = 204)))]
pub async fn delete_message(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path((id, seq)): Path<(Uuid, i64)>,
) -> ApiResult<StatusCode> {
    let (_, member) = membership(&state, &me.user, id).await?;
    let original = own_message(
        &state,
        me.user.id,
        id,
        seq,
        member.role == MemberRole::Admin,
    )
    .await?;
    let audit = AuditEvent::new("message.delete", Some(me.user.org_id), Some(me.user.id), "conversation", Some(id))
        .with_details(json!({"seq": seq, "sender_id": original.sender_id, "before": original.body, "attachments": original.attachments}));
    let event = state
        .store
        .delete_message(id, seq, me.user.id, &audit)
        .await
        .or_api("message_not_found")?;
    state.messaging.advanced(id, event);
    Ok(StatusCode::NO_CONTENT)
}

/// Mark read up to `seq`; the others see the receipt live.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "messages", request_body = ReadMark, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ReadState)))]
pub async fn mark_read(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<ReadMark>,
) -> ApiResult<Json<ReadState>> {
    membership(&state, &me.user, id).await?;
    let seq = state
        .store
        .mark_read(id, me.user.id, req.seq)
        .await
        .or_api("conversation_not_found")?;
    let frame = ServerFrame::Receipt {
        conversation_id: id,
        user_id: me.user.id,
        seq,
    }
    .text();
    state.messaging.ephemeral(id, frame, None);
    Ok(Json(ReadState { last_read_seq: seq }))
}

/// Who has read a message: "read by N of M", and each member.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{seq}/receipts", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)), responses((status = 200, body = Receipts)))]
pub async fn receipts(
    State(state): State<AppState>,
    Signed(me): Signed,
    Path((id, seq)): Path<(Uuid, i64)>,
) -> ApiResult<Json<Receipts>> {
    membership(&state, &me.user, id).await?;
    let message = state
        .store
        .message(id, seq)
        .await
        .or_api("message_not_found")?;
    let readers: Vec<Receipt> = state
        .store
        .members(id)
        .await
        .or_api("conversation_not_found")?
        .into_iter()
        .filter(|m| m.user_id != message.sender_id)
        .map(|m| Receipt {
            user_id: m.user_id,
            read: m.last_read_seq >= seq,
        })
        .collect();
    Ok(Json(Receipts {
        read_by: readers.iter().filter(|r| r.read).count(),
        of: readers.len(),
        readers,
    }))
}

/// Tell the others you are typing.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204)))]
pub async fn typing(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    membership(&state, &me.user, id).await?;
    let frame = ServerFrame::Typing {
        conversation_id: id,
        user_id: me.user.id,
    }
    .text();
    state.messaging.ephemeral(id, frame, Some(me.user.id));
    Ok(StatusCode::NO_CONTENT)
}

/// Search the text of every conversation you belong to, or of one (any part of a word,
/// Japanese too; kana in either script, or romaji for kana).
#[utoipa::path(get, path = "/api/v1/search/messages", tag = "messages", security(("bearer" = [])),
    params(SearchQuery), responses((status = 200, body = [Message]), (status = 400, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let query = q.q.trim();
    if query.is_empty() || query.chars().count() > 200 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "q must be 1 to 200 characters",
        ));
    }
    let limit = q.limit.unwrap_or(30).clamp(1, 100);
    Ok(Json(
        state
            .store
            .search_messages_in(me.user.id, &query_variants(query), q.conversation_id, limit)
            .await
            .or_api("conversation_not_found")?,
    ))
}
