//! Partial updates: tell "field absent" from "field set to null".

use serde::{Deserialize, Deserializer};

/// Deserializes a present field (even `null`) as `Some(value)`; absent fields default to `None`.
/// Use with `#[serde(default, deserialize_with = "renkei_core::patch::nullable")]`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
