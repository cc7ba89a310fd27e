//! The media service: takes uploads (sniffed, cleaned, encrypted, recorded) and serves them to
//! whoever may see them (their expiry is the one sweep of `crate::expiry`).

use crate::error::Kind;
use bytes::{Bytes, BytesMut};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use renkei_core::agreement::Scope;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::dicom::TextRegion;
use renkei_core::media::{Media, MediaKind, expiry, thumbnail_object};
use renkei_core::org::Organization;
use renkei_core::user::User;
use renkei_core::{Uuid, new_id};
use renkei_media::{Handling, Limits, MediaError, MediaKind as Sniffed};
use renkei_store::blobs::{BlobError, BlobStore, StoredBlob, WrappedKey};
use renkei_store::{Attached, Reach, Store};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{OrService, ServiceError, ServiceResult};

/// Longest side of a thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 320;

/// Uploads, downloads and expiry of media.
#[derive(Clone)]
pub struct MediaService {
    pub store: Store,
    pub blobs: BlobStore,
    pub limits: Limits,
}

/// An upload's answer: the medium, and where text was seen in a photo, so the sender is
/// warned before sending it (the regions are not stored; never the text).
#[derive(Debug, Serialize, ToSchema)]
pub struct Uploaded {
    #[serde(flatten)]
    pub media: Media,
    /// Rectangles of text seen in a photo, in its pixel coordinates; empty for other kinds.
    pub text_regions: Vec<TextRegion>,
}

/// An upload as it arrives: who, where, what it claims to be, and its bytes.
pub struct Upload<S> {
    pub uploader: Uuid,
    pub org: Organization,
    pub name: String,
    pub declared_type: String,
    pub body: S,
}

/// Where text shows in a cleaned photo (a warning only: a photo is never held, and a detector
/// that fails warns of nothing).
fn photo_text(jpeg: &[u8]) -> Vec<TextRegion> {
    match renkei_dicom::text::scan_encoded(jpeg, &*crate::text::detector()) {
        Ok(regions) => regions.into_iter().map(crate::text::region).collect(),
        Err(e) => {
            tracing::warn!(code = e.code(), "text detection on a photo failed");
            Vec::new()
        }
    }
}

fn media_error(e: MediaError) -> ServiceError {
    let status = match e.code() {
        "image_too_large" | "file_too_large" => Kind::TooLarge,
        "type_mismatch" | "dangerous_type" | "unsupported_type" => Kind::UnsupportedType,
        _ => Kind::Invalid,
    };
    ServiceError::new(status, e.code(), e.to_string())
}

fn blob_error(e: BlobError) -> ServiceError {
    match e {
        BlobError::TooLarge(limit) => ServiceError::new(
            Kind::TooLarge,
            "payload_too_large",
            format!(
                "the file is larger than this organization's limit of {} MiB",
                limit / (1024 * 1024)
            ),
        ),
        BlobError::Interrupted(_) => ServiceError::bad_request(
            "upload_interrupted",
            "the upload ended before the file was complete",
        ),
        BlobError::NotFound => ServiceError::new(
            Kind::Gone,
            "media_expired",
            "this medium has expired and was destroyed",
        ),
        other => ServiceError::from_blob(&other),
    }
}

/// Reads from `body` until `want` bytes are buffered (or it ends), failing past `limit`.
async fn read_at_least<S, E>(
    body: &mut S,
    buffer: &mut BytesMut,
    want: usize,
    limit: u64,
) -> ServiceResult<()>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    while buffer.len() < want {
        match body.next().await {
            None => break,
            Some(Err(_)) => return Err(blob_error(BlobError::Interrupted(String::new()))),
            Some(Ok(piece)) => {
                buffer.extend_from_slice(&piece);
                if buffer.len() as u64 > limit {
                    return Err(blob_error(BlobError::TooLarge(limit)));
                }
            }
        }
    }
    Ok(())
}

/// The audit entry of a stored upload: who stored which medium, of what kind and size (not
/// its name, which may name a patient).
fn upload_audit(media: &Media) -> AuditEvent {
    AuditEvent::new(
        "media.upload",
        Some(media.org_id),
        Some(media.uploader_id),
        "media",
        Some(media.id),
    )
    .with_details(json!({"kind": media.kind, "mime": media.mime, "size": media.size}))
}

impl MediaService {
    /// Stores an upload: the type is sniffed from the bytes and must agree with the name and
    /// declared type; photos are re-encoded without metadata (orientation applied) and get a
    /// thumbnail; videos lose their metadata boxes; other files are streamed through. Every
    /// object is encrypted. A refused or cut-off upload leaves nothing behind.
    pub async fn upload<S, E>(&self, upload: Upload<S>) -> ServiceResult<Uploaded>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display + Send,
    {
        let Upload {
            uploader,
            org,
            name,
            declared_type,
            mut body,
        } = upload;
        let limit = org.policy.max_upload_bytes();
        let name = renkei_media::safe_file_name(&name).map_err(media_error)?;
        let mut head = BytesMut::new();
        read_at_least(&mut body, &mut head, renkei_media::SNIFF_LEN, limit).await?;
        if head.is_empty() {
            return Err(ServiceError::new(
                Kind::Invalid,
                "empty_file",
                "the file is empty",
            ));
        }
        let sniffed = renkei_media::sniff(&head);
        renkei_media::check_declared(sniffed, &declared_type, &name).map_err(media_error)?;
        let handling = renkei_media::handling(sniffed);
        if handling == Handling::Refuse {
            return Err(ServiceError::new(
                Kind::UnsupportedType,
                "unsupported_type",
                format!(
                    "{} files are not accepted; send photos as JPEG",
                    sniffed.as_str()
                ),
            ));
        }
        crate::admin::policy::check_kind_allowed(&org.policy, handling, sniffed)?;
        let id = new_id();
        let object = id.to_string();
        let now = Timestamp::now();
        let mut media = Media {
            id,
            org_id: org.id,
            uploader_id: uploader,
            kind: MediaKind::File,
            mime: sniffed.mime().to_owned(),
            name,
            size: 0,
            width: None,
            height: None,
            has_thumbnail: false,
            created_at: now,
            expires_at: expiry(now, org.policy.retention_days),
            expired: false,
        };
        let mut keys: Vec<(String, WrappedKey)> = Vec::new();
        let mut text_regions = Vec::new();
        let stored = if handling != Handling::StoreAsIs {
            // These are cleaned whole: read them into memory, bounded by the limits.
            let photo = handling == Handling::SanitizePhoto;
            let cap = if photo {
                limit.min(self.limits.max_photo_bytes)
            } else {
                limit
            };
            read_at_least(&mut body, &mut head, usize::MAX, cap).await?;
            let bytes = head.freeze();
            if photo {
                let (photo, thumb, regions) = self.clean_photo(bytes).await?;
                text_regions = regions;
                media.kind = MediaKind::Photo;
                media.mime = photo.mime.to_owned();
                media.width = Some(i64::from(photo.width));
                media.height = Some(i64::from(photo.height));
                let thumb_id = thumbnail_object(id);
                let stored_thumb = self
                    .blobs
                    .put_bytes(&thumb_id, Bytes::from(thumb))
                    .await
                    .map_err(blob_error)?;
                keys.push((thumb_id, stored_thumb.key));
                media.has_thumbnail = true;
                self.put_or_clean(&object, Bytes::from(photo.bytes), &keys)
                    .await?
            } else {
                let clean = self.clean_video(bytes).await?;
                media.kind = MediaKind::Video;
                self.put_or_clean(&object, clean, &keys).await?
            }
        } else {
            media.kind = if sniffed == Sniffed::Pdf {
                MediaKind::Pdf
            } else {
                MediaKind::File
            };
            let source = futures_util::stream::iter([Ok::<Bytes, String>(head.freeze())])
                .chain(body.map(|piece| piece.map_err(|e| e.to_string())));
            self.blobs
                .put(&object, Box::pin(source), limit)
                .await
                .map_err(blob_error)?
        };
        media.size = stored.size as i64;
        keys.push((object.clone(), stored.key));
        if let Err(e) = self
            .store
            .insert_media(&media, &keys, &upload_audit(&media))
            .await
        {
            for (object, _) in &keys {
                let _ = self.blobs.delete(object).await;
            }
            return Err(ServiceError::from_store(e, "media_not_found"));
        }
        Ok(Uploaded {
            media,
            text_regions,
        })
    }

    async fn put_or_clean(
        &self,
        object: &str,
        bytes: Bytes,
        earlier: &[(String, WrappedKey)],
    ) -> ServiceResult<StoredBlob> {
        match self.blobs.put_bytes(object, bytes).await {
            Ok(stored) => Ok(stored),
            Err(e) => {
                for (object, _) in earlier {
                    let _ = self.blobs.delete(object).await;
                }
                Err(blob_error(e))
            }
        }
    }

    async fn clean_photo(
        &self,
        bytes: Bytes,
    ) -> ServiceResult<(renkei_media::SanitizedPhoto, Vec<u8>, Vec<TextRegion>)> {
        let limits = self.limits.clone();
        tokio::task::spawn_blocking(move || {
            let (photo, thumb) =
                renkei_media::sanitize_photo_with_thumbnail(&bytes, &limits, THUMBNAIL_SIDE)?;
            let regions = photo_text(&photo.bytes);
            Ok::<_, MediaError>((photo, thumb.bytes, regions))
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?
        .map_err(media_error)
    }

    async fn clean_video(&self, bytes: Bytes) -> ServiceResult<Bytes> {
        let limits = self.limits.clone();
        tokio::task::spawn_blocking(move || {
            renkei_media::sanitize_mp4_bytes(&bytes, &limits).map(|(clean, _)| Bytes::from(clean))
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?
        .map_err(media_error)
    }

    /// The medium `id` if `user` may see it, through `conversation` when given: its uploader
    /// (not through a conversation), or a member of a conversation it was posted in; another
    /// organization's medium only while the two organizations cooperate on messaging. 404
    /// otherwise (its existence is not revealed); 410 once it expired, or once its link expired
    /// under the conversation's retention (every such link, when no conversation is named).
    pub async fn visible(
        &self,
        id: Uuid,
        user: &User,
        conversation: Option<Uuid>,
    ) -> ServiceResult<Media> {
        let media = self.store.media(id).await.or_service("media_not_found")?;
        let reach = if conversation.is_none() && media.uploader_id == user.id {
            Reach::Live
        } else {
            self.store
                .reach(Attached::Media, id, user.id, conversation, Timestamp::now())
                .await
                .or_service("media_not_found")?
        };
        let partner = || async {
            self.store
                .cooperates(user.org_id, media.org_id, Scope::Messaging)
                .await
                .or_service("media_not_found")
        };
        if reach == Reach::Unlinked || (media.org_id != user.org_id && !partner().await?) {
            return Err(ServiceError::not_found("media_not_found"));
        }
        if media.expired {
            return Err(blob_error(BlobError::NotFound));
        }
        if reach == Reach::Expired {
            return Err(ServiceError::new(
                Kind::Gone,
                "media_expired",
                "this medium is past this conversation's retention",
            ));
        }
        Ok(media)
    }

    /// A medium the user may see (as [`MediaService::visible`]) with its bytes, streamed.
    pub async fn content(
        &self,
        id: Uuid,
        user: &User,
        conversation: Option<Uuid>,
    ) -> ServiceResult<(Media, BoxStream<'static, Result<Bytes, BlobError>>)> {
        let media = self.visible(id, user, conversation).await?;
        let bytes = self.open(&id.to_string()).await?;
        Ok((media, bytes))
    }

    /// The thumbnail of a photo the user may see (as [`MediaService::visible`]), streamed;
    /// 404 `thumbnail_not_found` for a medium without one.
    pub async fn thumbnail(
        &self,
        id: Uuid,
        user: &User,
        conversation: Option<Uuid>,
    ) -> ServiceResult<BoxStream<'static, Result<Bytes, BlobError>>> {
        let media = self.visible(id, user, conversation).await?;
        if !media.has_thumbnail {
            return Err(ServiceError::not_found("thumbnail_not_found"));
        }
        self.open(&thumbnail_object(id)).await
    }

    /// The plaintext of one of a medium's objects, streamed.
    pub async fn open(
        &self,
        object: &str,
    ) -> ServiceResult<BoxStream<'static, Result<Bytes, BlobError>>> {
        let key = match self.store.object_key(object).await {
            Err(renkei_store::StoreError::NotFound) => return Err(blob_error(BlobError::NotFound)),
            other => other.or_service("media_not_found")?,
        };
        self.blobs.get(object, &key).await.map_err(blob_error)
    }
}
