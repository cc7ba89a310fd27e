//! Messages over HTTP: post, page through history, catch up on events, edit, delete, read
//! marks, receipts, typing, search. The rules are `renkei_service::messages`'.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use renkei_core::Uuid;
use renkei_core::conversation::{Event, Message, NewMessage};
use renkei_service::messages as service;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::session::Member as Signed;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, IdPath};

use renkei_service::messages::Receipts;

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
    let page = service::history(&state, &me.user, id, q.before_seq, q.after_seq, q.limit);
    Ok(Json(page.await?))
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
    let events = service::events(&state, &me.user, id, q.after_seq, q.limit);
    Ok(Json(events.await?))
}

/// Edit your message; everyone sees "edited", the original stays in the audit log.
#[utoipa::path(patch, path = "/api/v1/conversations/{id}/messages/{seq}", tag = "messages", request_body = Edit, security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)), responses((status = 200, body = Message), (status = 422, body = ErrorBody, description = "invalid_seq: seq must be 1 or more")))]
pub async fn edit_message(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiPath((id, seq)): ApiPath<(Uuid, i64)>,
    ApiJson(req): ApiJson<Edit>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        service::edit(&state, &me.user, id, seq, &req.body).await?,
    ))
}

/// Delete your message (group admins may delete any); everyone sees "deleted", the original
/// stays in the audit log.
#[utoipa::path(delete, path = "/api/v1/conversations/{id}/messages/{seq}", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)), responses((status = 204), (status = 422, body = ErrorBody, description = "invalid_seq: seq must be 1 or more")))]
pub async fn delete_message(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiPath((id, seq)): ApiPath<(Uuid, i64)>,
) -> ApiResult<StatusCode> {
    service::delete(&state, &me.user, id, seq).await?;
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
    let last_read_seq = service::mark_read(&state, me.user.id, id, req.seq).await?;
    Ok(Json(ReadState { last_read_seq }))
}

/// Who has read a message: "read by N of M", and each member.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages/{seq}/receipts", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ("seq" = i64, Path)), responses((status = 200, body = Receipts), (status = 422, body = ErrorBody, description = "invalid_seq: seq must be 1 or more")))]
pub async fn receipts(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiPath((id, seq)): ApiPath<(Uuid, i64)>,
) -> ApiResult<Json<Receipts>> {
    Ok(Json(service::receipts(&state, &me.user, id, seq).await?))
}

/// Tell the others you are typing.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/typing", tag = "messages", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path)), responses((status = 204)))]
pub async fn typing(
    State(state): State<AppState>,
    Signed(me): Signed,
    IdPath(id): IdPath,
) -> ApiResult<StatusCode> {
    service::typing(&state, &me.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Search the text of every conversation you belong to, or of one (any part of a word,
/// Japanese too; kana in either script, or romaji for kana).
#[utoipa::path(get, path = "/api/v1/search/messages", tag = "messages", security(("bearer" = [])),
    params(SearchQuery), responses((status = 200, body = [Message]), (status = 400, body = ErrorBody)))]
pub async fn search_messages(
    State(state): State<AppState>,
    Signed(me): Signed,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Vec<Message>>> {
    let found = service::search(&state, &me.user, &q.q, q.conversation_id, q.limit);
    Ok(Json(found.await?))
}
