//! Media: upload a photo, video or file; read its record, its bytes and its thumbnail.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use renkei_core::media::{Media, MediaKind};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::session::Member;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiQuery, IdPath};
use crate::media::{Upload, Uploaded};

/// Where a medium is read: through one conversation (its retention applies) or anywhere.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// The conversation showing it: 410 once it expired there under the conversation's
    /// retention, even when it lives on elsewhere.
    conversation: Option<uuid::Uuid>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name; cleaned of paths and control characters.
    name: String,
}

/// Upload a medium: send the raw bytes as the body with their type in `Content-Type`.
/// Photos are re-encoded without metadata; everything is encrypted at rest and expires with
/// the organization's retention. Attach it to a message with `{"kind":"media","id":…}`.
/// `text_regions` says where text (perhaps a name on a wristband) shows in a photo, so the
/// sender is warned before sending it.
#[utoipa::path(post, path = "/api/v1/media", tag = "media", security(("bearer" = [])), params(UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Uploaded),
        (status = 413, body = ErrorBody, description = "payload_too_large, image_too_large"),
        (status = 415, body = ErrorBody, description = "type_mismatch, dangerous_type"),
        (status = 422, body = ErrorBody, description = "empty_file, truncated_image, invalid_name …"),
        (status = 400, body = ErrorBody, description = "upload_interrupted")))]
pub async fn upload(
    State(state): State<AppState>,
    Member(me): Member,
    ApiQuery(q): ApiQuery<UploadQuery>,
    request: Request,
) -> ApiResult<(StatusCode, Json<Uploaded>)> {
    let declared_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = request.into_body().into_data_stream().boxed();
    let media = state
        .media
        .upload(Upload {
            uploader: me.user.id,
            org: me.org,
            name: q.name,
            declared_type,
            body,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(media)))
}

/// A medium's record (the uploader, and members of conversations it was posted in where its
/// link has not expired; another organization's only while the two cooperate on messaging).
#[utoipa::path(get, path = "/api/v1/media/{id}", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ReadQuery),
    responses((status = 200, body = Media), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "media_expired")))]
pub async fn get_media(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Json<Media>> {
    Ok(Json(
        state.media.visible(id, &me.user, q.conversation).await?,
    ))
}

/// Headers that keep a medium from being cached, sniffed, or run as a page.
fn media_response(body: Body, mime: &str, disposition: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    let fixed = [
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(v) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// `inline` only for kinds that cannot carry script; everything else downloads as a file.
fn disposition(media: &Media) -> String {
    let ascii: String = media
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = media
        .name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let kind = match media.kind {
        MediaKind::Photo | MediaKind::Video | MediaKind::Pdf => "inline",
        MediaKind::File => "attachment",
    };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn served_type(media: &Media) -> &str {
    match media.kind {
        MediaKind::File => "application/octet-stream",
        _ => &media.mime,
    }
}

/// A medium's bytes, streamed (`Cache-Control: no-store`).
#[utoipa::path(get, path = "/api/v1/media/{id}/content", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ReadQuery),
    responses((status = 200, description = "the bytes"), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn content(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Response> {
    let (media, stream) = state.media.content(id, &me.user, q.conversation).await?;
    let mut response = media_response(
        Body::from_stream(stream),
        served_type(&media),
        &disposition(&media),
    );
    if let Ok(v) = HeaderValue::from_str(&media.size.to_string()) {
        response.headers_mut().insert(header::CONTENT_LENGTH, v);
    }
    Ok(response)
}

/// A photo's thumbnail (JPEG, at most 320 px a side).
#[utoipa::path(get, path = "/api/v1/media/{id}/thumbnail", tag = "media", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path), ReadQuery),
    responses((status = 200, description = "image/jpeg"), (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn media_thumbnail(
    State(state): State<AppState>,
    Member(me): Member,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Response> {
    let stream = state.media.thumbnail(id, &me.user, q.conversation).await?;
    Ok(media_response(
        Body::from_stream(stream),
        "image/jpeg",
        "inline; filename=\"thumbnail.jpg\"",
    ))
}
