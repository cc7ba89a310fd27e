//! Domain types and rules of renkei: organizations, users, policies, audit chain. No I/O.

/// An enum stored and sent as fixed lower-case names, with `ALL`, `as_str` and `parse`.
///
/// The names are taken as `tt`, not `literal`: a `literal` fragment reaches derive macros
/// wrapped in an invisible group, which utoipa does not read, so the OpenAPI document would
/// name the variants (`OrgAdmin`) instead of what serde sends (`org_admin`).
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the stored and wire name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

pub mod access;
pub mod agreement;
pub mod audit;
pub mod call;
pub mod clock;
pub mod conversation;
pub mod dicom;
pub mod directory;
pub mod error;
pub mod kana;
pub mod lock;
pub mod media;
pub mod message_search;
pub mod message_tokens;
pub mod notify;
pub mod org;
pub mod password_rules;
pub mod patch;
pub mod redaction;
pub mod scim;
pub mod sign_in;
pub mod sso;
pub mod stats;
pub mod text;
pub mod totp;
pub mod urgent;
pub mod user;
pub mod validate;

pub use error::DomainError;
pub use uuid::Uuid;

/// A new time-ordered identifier (UUIDv7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}
