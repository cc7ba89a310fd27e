//! Media attached to messages: what kind each is, and when it expires.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Timestamp;

string_enum!(
    /// How a medium is handled: photos are re-encoded without metadata and get thumbnails.
    MediaKind {
        Photo => "photo",
        Video => "video",
        Pdf => "pdf",
        File => "file",
    }
);

/// A stored medium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Media {
    pub id: Uuid,
    pub org_id: Uuid,
    pub uploader_id: Uuid,
    pub kind: MediaKind,
    /// The type sniffed from the bytes (after re-encoding for photos).
    pub mime: String,
    /// A cleaned file name.
    pub name: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub has_thumbnail: bool,
    pub created_at: Timestamp,
    /// When the bytes, thumbnail and key are destroyed.
    pub expires_at: Timestamp,
    /// True once destroyed: the record stays, the bytes are gone.
    pub expired: bool,
}

/// The instant a medium uploaded at `now` expires under a retention of `days`.
pub fn expiry(now: Timestamp, days: i64) -> Timestamp {
    now.plus_secs(days.saturating_mul(86_400))
}

/// What a medium's id is followed by in its thumbnail's object id.
pub const THUMBNAIL_SUFFIX: &str = ".thumb";

/// The object id of a medium's thumbnail.
pub fn thumbnail_object(id: Uuid) -> String {
    format!("{id}{THUMBNAIL_SUFFIX}")
}
