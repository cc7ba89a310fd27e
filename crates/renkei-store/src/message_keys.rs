//! Message keys: a data key per conversation and day (its *epoch*) that seals bodies, and a
//! search key per organization that keys the search grams, both wrapped with the master key
//! like media keys and kept unwrapped in memory once used.
//!
//! A sealed text reads `rk1:<epoch>:<base64 of nonce and ciphertext>` (XChaCha20-Poly1305,
//! random 24-byte nonce, the key's object name as associated data). Text without the prefix
//! is an empty body or one stored before sealing (re-sealed at start-up). Destroying a day's
//! key row destroys every text sealed with it: retention works by deleting keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::message_tokens::{body_grams, fold};
use ring::hmac;
use sqlx::Row;

use crate::blobs::keyring::DataKey;
use crate::blobs::{KeyRing, WrappedKey};
use crate::rows::uuid;
use crate::sql_builder::SqlBuilder;
use crate::{Store, StoreError, Tx};

/// Milliseconds of one key epoch: a UTC day.
pub const EPOCH_MILLIS: i64 = 86_400_000;
const PREFIX: &str = "rk1:";
/// Unwrapped keys kept in memory before the cache is emptied and refilled on use.
const CACHE_LIMIT: usize = 200_000;

/// The key epoch of a moment.
pub fn epoch_of(at: Timestamp) -> i64 {
    at.millis().div_euclid(EPOCH_MILLIS)
}

fn body_object(conversation: Uuid, epoch: i64) -> String {
    format!("messages/{conversation}/{epoch}")
}

fn search_object(org: Uuid) -> String {
    format!("search/{org}")
}

fn crypto(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("message keys: {e}"))
}

/// The master keys and the unwrapped keys used so far.
pub(crate) struct MessageKeys {
    ring: KeyRing,
    bodies: Mutex<HashMap<(Uuid, i64), DataKey>>,
    search: Mutex<HashMap<Uuid, hmac::Key>>,
}

impl std::fmt::Debug for MessageKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageKeys")
            .field("ring", &self.ring)
            .finish()
    }
}

/// Day keys looked up during one read (`None`: destroyed).
pub(crate) type KeyMemo = HashMap<(Uuid, i64), Option<DataKey>>;

/// Keys fetched or made in a transaction: remembered only once it commits.
#[derive(Default)]
pub(crate) struct TxKeys {
    pub bodies: HashMap<(Uuid, i64), DataKey>,
    pub search: HashMap<Uuid, hmac::Key>,
}

impl std::fmt::Debug for TxKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxKeys")
            .field("bodies", &self.bodies.len())
            .field("search", &self.search.len())
            .finish()
    }
}

impl MessageKeys {
    pub(crate) fn new(ring: KeyRing) -> Arc<MessageKeys> {
        Arc::new(MessageKeys {
            ring,
            bodies: Mutex::new(HashMap::new()),
            search: Mutex::new(HashMap::new()),
        })
    }

    /// One random master key for this process, for stores opened without the server's keys
    /// (tests and tools): what they seal opens in this process only.
    pub(crate) fn process_wide() -> Arc<MessageKeys> {
        static KEYS: OnceLock<Arc<MessageKeys>> = OnceLock::new();
        KEYS.get_or_init(|| {
            let key = KeyRing::new_data_key().expect("random source");
            MessageKeys::new(KeyRing::from_keys([(1, key)]).expect("one key"))
        })
        .clone()
    }

    fn cached_body(&self, conversation: Uuid, epoch: i64) -> Option<DataKey> {
        self.bodies
            .lock()
            .ok()?
            .get(&(conversation, epoch))
            .copied()
    }

    fn cached_search(&self, org: Uuid) -> Option<hmac::Key> {
        self.search.lock().ok()?.get(&org).cloned()
    }

    /// Keeps keys that are committed. Only keys of yesterday and later are kept: retention
    /// destroys older ones only (at least one full day), so no node ever holds a destroyed
    /// key in memory, whichever node's sweep destroyed it.
    pub(crate) fn remember(&self, keys: TxKeys) {
        let recent = epoch_of(Timestamp::now()) - 1;
        if let Ok(mut bodies) = self.bodies.lock() {
            if bodies.len() + keys.bodies.len() > CACHE_LIMIT {
                bodies.clear();
            }
            bodies.extend(keys.bodies.into_iter().filter(|((_, e), _)| *e >= recent));
        }
        if let Ok(mut search) = self.search.lock() {
            search.extend(keys.search);
        }
    }

    /// Forgets the keys of `conversation` before `epoch` (they were destroyed).
    pub(crate) fn forget_before(&self, conversation: Uuid, epoch: i64) {
        if let Ok(mut bodies) = self.bodies.lock() {
            bodies.retain(|(c, e), _| *c != conversation || *e >= epoch);
        }
    }

    /// Seals `plain` with `key`, the data key of `conversation` and `epoch`.
    pub(crate) fn seal(
        key: &DataKey,
        conversation: Uuid,
        epoch: i64,
        plain: &str,
    ) -> Result<String, StoreError> {
        if plain.is_empty() {
            return Ok(String::new());
        }
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(crypto)?;
        let aad = body_object(conversation, epoch);
        let sealed = XChaCha20Poly1305::new(key.into())
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| crypto("could not seal"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{epoch}:{}", STANDARD.encode(bytes)))
    }

    /// Opens `text` of `conversation` with `key`.
    fn open_with(
        key: &DataKey,
        conversation: Uuid,
        epoch: i64,
        b64: &str,
    ) -> Result<String, StoreError> {
        let bytes = STANDARD.decode(b64).map_err(crypto)?;
        if bytes.len() < 24 {
            return Err(crypto("sealed text too short"));
        }
        let aad = body_object(conversation, epoch);
        let plain = XChaCha20Poly1305::new(key.into())
            .decrypt(
                XNonce::from_slice(&bytes[..24]),
                Payload {
                    msg: &bytes[24..],
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| crypto("a sealed text does not open"))?;
        String::from_utf8(plain).map_err(crypto)
    }

    /// The search grams of `body` keyed with `key`: `t` and 16 hex digits each, space-separated.
    pub(crate) fn tokens(key: &hmac::Key, body: &str) -> String {
        grams_tokens(key, &body_grams(&fold(body)))
    }

    fn unwrap_body(
        &self,
        conversation: Uuid,
        epoch: i64,
        wrapped: &WrappedKey,
    ) -> Result<DataKey, StoreError> {
        self.ring
            .unwrap(wrapped, &body_object(conversation, epoch))
            .map_err(crypto)
    }

    fn unwrap_search(&self, org: Uuid, wrapped: &WrappedKey) -> Result<hmac::Key, StoreError> {
        let key = self
            .ring
            .unwrap(wrapped, &search_object(org))
            .map_err(crypto)?;
        Ok(hmac::Key::new(hmac::HMAC_SHA256, &key))
    }
}

/// Keyed tokens of `grams`, space-separated.
pub(crate) fn grams_tokens(key: &hmac::Key, grams: &[String]) -> String {
    let mut out = String::with_capacity(grams.len() * 18);
    for gram in grams {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&token(key, gram));
    }
    out
}

/// One gram keyed: `t` then the first 8 bytes of its HMAC-SHA256 in hex.
pub(crate) fn token(key: &hmac::Key, gram: &str) -> String {
    use std::fmt::Write;
    let tag = hmac::sign(key, gram.as_bytes());
    let mut out = String::with_capacity(17);
    out.push('t');
    for b in &tag.as_ref()[..8] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The (conversation, key epoch) of each sealed text of `texts` (conversation, text).
pub(crate) fn key_days<'t>(texts: impl IntoIterator<Item = (Uuid, &'t str)>) -> Vec<(Uuid, i64)> {
    texts
        .into_iter()
        .filter_map(|(conversation, text)| Some((conversation, sealed_epoch(text)?.0)))
        .collect()
}

/// The epoch a sealed text names, if it is sealed.
pub(crate) fn sealed_epoch(text: &str) -> Option<(i64, &str)> {
    let rest = text.strip_prefix(PREFIX)?;
    let (epoch, b64) = rest.split_once(':')?;
    Some((epoch.parse().ok()?, b64))
}

fn wrapped_from(row: &sqlx::any::AnyRow) -> Result<WrappedKey, StoreError> {
    Ok(WrappedKey {
        version: u32::try_from(row.try_get::<i64, _>("key_version")?)
            .map_err(|_| StoreError::Corrupt("message key version".into()))?,
        sealed: row.try_get("sealed")?,
    })
}

impl Store {
    /// The data key of `conversation` for `epoch` in `tx`, made if there is none yet.
    pub(crate) async fn body_key_in(
        &self,
        tx: &mut Tx,
        fresh: &mut TxKeys,
        conversation: Uuid,
        epoch: i64,
    ) -> Result<DataKey, StoreError> {
        if let Some(key) = fresh.bodies.get(&(conversation, epoch)) {
            return Ok(*key);
        }
        if let Some(key) = self.keys.cached_body(conversation, epoch) {
            return Ok(key);
        }
        let new = KeyRing::new_data_key().map_err(crypto)?;
        let wrapped = self
            .keys
            .ring
            .wrap(&new, &body_object(conversation, epoch))
            .map_err(crypto)?;
        sqlx::query(
            "INSERT INTO message_keys (conversation_id, epoch, key_version, sealed, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (conversation_id, epoch) DO NOTHING",
        )
        .bind(conversation.to_string())
        .bind(epoch)
        .bind(i64::from(wrapped.version))
        .bind(&wrapped.sealed)
        .bind(Timestamp::now().millis())
        .execute(&mut **tx)
        .await?;
        let row = sqlx::query(
            "SELECT key_version, sealed FROM message_keys WHERE conversation_id = $1 AND epoch = $2",
        )
        .bind(conversation.to_string())
        .bind(epoch)
        .fetch_one(&mut **tx)
        .await?;
        let key = self
            .keys
            .unwrap_body(conversation, epoch, &wrapped_from(&row)?)?;
        fresh.bodies.insert((conversation, epoch), key);
        Ok(key)
    }

    /// The search key of `org` in `tx`, made if there is none yet.
    pub(crate) async fn search_key_in(
        &self,
        tx: &mut Tx,
        fresh: &mut TxKeys,
        org: Uuid,
    ) -> Result<hmac::Key, StoreError> {
        if let Some(key) = fresh.search.get(&org) {
            return Ok(key.clone());
        }
        if let Some(key) = self.keys.cached_search(org) {
            return Ok(key);
        }
        let new = KeyRing::new_data_key().map_err(crypto)?;
        let wrapped = self
            .keys
            .ring
            .wrap(&new, &search_object(org))
            .map_err(crypto)?;
        sqlx::query(
            "INSERT INTO search_keys (org_id, key_version, sealed, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(org.to_string())
        .bind(i64::from(wrapped.version))
        .bind(&wrapped.sealed)
        .bind(Timestamp::now().millis())
        .execute(&mut **tx)
        .await?;
        let row = sqlx::query("SELECT key_version, sealed FROM search_keys WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_one(&mut **tx)
            .await?;
        let key = self.keys.unwrap_search(org, &wrapped_from(&row)?)?;
        fresh.search.insert(org, key.clone());
        Ok(key)
    }

    /// The search key of `org` if it has one (committed).
    pub(crate) async fn search_key(&self, org: Uuid) -> Result<Option<hmac::Key>, StoreError> {
        if let Some(key) = self.keys.cached_search(org) {
            return Ok(Some(key));
        }
        let row = sqlx::query("SELECT key_version, sealed FROM search_keys WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let key = self.keys.unwrap_search(org, &wrapped_from(&row)?)?;
        let mut fresh = TxKeys::default();
        fresh.search.insert(org, key.clone());
        self.keys.remember(fresh);
        Ok(Some(key))
    }

    /// The committed data key of `conversation` for `epoch`; `None` once destroyed.
    async fn body_key(
        &self,
        conversation: Uuid,
        epoch: i64,
    ) -> Result<Option<DataKey>, StoreError> {
        if let Some(key) = self.keys.cached_body(conversation, epoch) {
            return Ok(Some(key));
        }
        let row = sqlx::query(
            "SELECT key_version, sealed FROM message_keys WHERE conversation_id = $1 AND epoch = $2",
        )
        .bind(conversation.to_string())
        .bind(epoch)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key = self
            .keys
            .unwrap_body(conversation, epoch, &wrapped_from(&row)?)?;
        let mut fresh = TxKeys::default();
        fresh.bodies.insert((conversation, epoch), key);
        self.keys.remember(fresh);
        Ok(Some(key))
    }

    /// Fills `memo` with the keys of `days` (conversation, key epoch; see [`key_days`]), in
    /// one statement for those not in memory: a page or a list then opens without a read per
    /// text.
    pub(crate) async fn prefetch_keys(
        &self,
        memo: &mut KeyMemo,
        days: Vec<(Uuid, i64)>,
    ) -> Result<(), StoreError> {
        let mut missing: Vec<(Uuid, i64)> = Vec::new();
        for (conversation, epoch) in days {
            if memo.contains_key(&(conversation, epoch)) {
                continue;
            }
            let cached = self.keys.cached_body(conversation, epoch);
            if cached.is_none() {
                missing.push((conversation, epoch));
            }
            memo.insert((conversation, epoch), cached);
        }
        for chunk in missing.chunks(1_000) {
            let mut sql = SqlBuilder::new();
            let pairs: Vec<String> = chunk
                .iter()
                .map(|(c, e)| format!("({}, {})", sql.bind(c.to_string()), sql.bind(*e)))
                .collect();
            sql.push(&format!(
                "SELECT k.conversation_id, k.epoch, k.key_version, k.sealed FROM (VALUES {}) AS v
                 JOIN message_keys k ON k.conversation_id = v.column1 AND k.epoch = v.column2",
                pairs.join(", ")
            ));
            let mut fresh = TxKeys::default();
            for row in sql.build().fetch_all(&self.pool).await? {
                let conversation = uuid(&row, "conversation_id")?;
                let epoch: i64 = row.try_get("epoch")?;
                let key = self
                    .keys
                    .unwrap_body(conversation, epoch, &wrapped_from(&row)?)?;
                memo.insert((conversation, epoch), Some(key));
                fresh.bodies.insert((conversation, epoch), key);
            }
            self.keys.remember(fresh);
        }
        Ok(())
    }

    /// `text` of `conversation` opened: as is when it is not sealed, `None` when its key was
    /// destroyed (its retention ran out).
    pub(crate) async fn open_text(
        &self,
        conversation: Uuid,
        text: &str,
    ) -> Result<Option<String>, StoreError> {
        self.open_text_in(&mut KeyMemo::new(), conversation, text)
            .await
    }

    /// [`Store::open_text`] with the keys of one read kept in `memo`: a page of old messages
    /// (whose keys are not cached) reads each day's key once.
    pub(crate) async fn open_text_in(
        &self,
        memo: &mut KeyMemo,
        conversation: Uuid,
        text: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some((epoch, b64)) = sealed_epoch(text) else {
            return Ok(Some(text.to_owned()));
        };
        let key = match memo.get(&(conversation, epoch)) {
            Some(key) => *key,
            None => {
                let key = self.body_key(conversation, epoch).await?;
                memo.insert((conversation, epoch), key);
                key
            }
        };
        match key {
            Some(key) => MessageKeys::open_with(&key, conversation, epoch, b64).map(Some),
            None => Ok(None),
        }
    }

    /// Seals `text` with the key of message `seq` of `conversation` (so it is destroyed with
    /// the message): for the audit copies of an edited or deleted message.
    pub async fn seal_for_message(
        &self,
        conversation: Uuid,
        seq: i64,
        text: &str,
    ) -> Result<String, StoreError> {
        let row =
            sqlx::query("SELECT key_epoch FROM messages WHERE conversation_id = $1 AND seq = $2")
                .bind(conversation.to_string())
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let epoch = row
            .try_get::<Option<i64>, _>("key_epoch")?
            .unwrap_or_else(|| epoch_of(Timestamp::now()));
        let mut tx = self.write_tx().await?;
        let mut fresh = TxKeys::default();
        let key = self
            .body_key_in(&mut tx, &mut fresh, conversation, epoch)
            .await?;
        tx.commit().await?;
        self.keys.remember(fresh);
        MessageKeys::seal(&key, conversation, epoch, text)
    }

    /// Forgets destroyed keys of `conversation` (before `epoch`).
    pub(crate) fn forget_keys_before(&self, conversation: Uuid, epoch: i64) {
        self.keys.forget_before(conversation, epoch);
    }

    /// Keeps keys a committed transaction fetched or made.
    pub(crate) fn remember_keys(&self, fresh: TxKeys) {
        self.keys.remember(fresh);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_with_its_key_and_conversation_only() {
        let key = [9u8; 32];
        let c = Uuid::from_u128(1);
        let sealed = MessageKeys::seal(&key, c, 20_000, "心筋梗塞").unwrap();
        assert!(!sealed.contains("心筋梗塞"));
        let (epoch, b64) = sealed_epoch(&sealed).unwrap();
        assert_eq!(epoch, 20_000);
        assert_eq!(
            MessageKeys::open_with(&key, c, epoch, b64).unwrap(),
            "心筋梗塞"
        );
        assert!(MessageKeys::open_with(&key, Uuid::from_u128(2), epoch, b64).is_err());
        assert!(MessageKeys::open_with(&[8u8; 32], c, epoch, b64).is_err());
        assert_eq!(MessageKeys::seal(&key, c, 1, "").unwrap(), "");
    }

    #[test]
    fn tokens_are_keyed_per_key() {
        let a = hmac::Key::new(hmac::HMAC_SHA256, &[1u8; 32]);
        let b = hmac::Key::new(hmac::HMAC_SHA256, &[2u8; 32]);
        assert_eq!(token(&a, "心筋").len(), 17);
        assert_ne!(token(&a, "心筋"), token(&b, "心筋"));
        assert_eq!(MessageKeys::tokens(&a, "ab").split(' ').count(), 3);
    }
}
