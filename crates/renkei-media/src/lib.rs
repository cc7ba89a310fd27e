//! Media sanitising for renkei uploads: type sniffing, safe names, metadata-free photos,
//! thumbnails and MP4 metadata removal. Pure functions over bytes (or a reader); no storage.

pub mod declared;
pub mod error;
pub mod file_name;
mod header;
pub mod kind;
pub mod limits;
pub mod mp4;
pub mod photo;
pub mod policy;
pub mod thumbnail;

pub use declared::check_declared;
pub use error::MediaError;
pub use file_name::{MAX_FILE_NAME_BYTES, safe_file_name};
pub use kind::{DangerousKind, MediaKind, SNIFF_LEN, sniff};
pub use limits::Limits;
pub use mp4::{Mp4Report, sanitize_mp4, sanitize_mp4_bytes};
pub use photo::{PHOTO_JPEG_QUALITY, SanitizedPhoto, sanitize_photo};
pub use policy::{Handling, handling};
pub use thumbnail::{
    THUMBNAIL_JPEG_QUALITY, Thumbnail, sanitize_photo_with_thumbnail, thumbnail,
    thumbnail_with_limits,
};
