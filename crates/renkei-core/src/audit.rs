//! The tamper-evident audit log: events, their hash chain, and its verification.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::Timestamp;

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Something that happened, before it is numbered and chained.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    pub org_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// What happened, e.g. `auth.login`, `user.update`.
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: Option<Uuid>,
    /// Event-specific facts, e.g. `{"changes": {...}}`. Never a secret.
    pub details: Value,
}

impl AuditEvent {
    /// An event about `target` done by `actor` in `org`.
    pub fn new(
        action: &'static str,
        org_id: Option<Uuid>,
        actor_id: Option<Uuid>,
        target_kind: &'static str,
        target_id: Option<Uuid>,
    ) -> Self {
        AuditEvent {
            org_id,
            actor_id,
            action,
            target_kind,
            target_id,
            details: Value::Object(Map::new()),
        }
    }

    /// The same event with these details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// A stored entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub at: Timestamp,
    pub org_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    /// JSON text, hashed exactly as stored; sent as the JSON object it holds.
    #[serde(serialize_with = "json_text_as_object")]
    #[schema(value_type = Object)]
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// Numbers and chains an event after the entry `(prev_seq, prev_hash)`.
    pub fn chain(event: &AuditEvent, at: Timestamp, prev_seq: i64, prev_hash: &str) -> Self {
        let mut record = AuditRecord {
            seq: prev_seq + 1,
            at,
            org_id: event.org_id,
            actor_id: event.actor_id,
            action: event.action.to_owned(),
            target_kind: event.target_kind.to_owned(),
            target_id: event.target_id,
            details: event.details.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }

    /// SHA-256 over every field but `hash`, in a fixed, unambiguous layout.
    pub fn compute_hash(&self) -> String {
        let opt = |id: Option<Uuid>| id.map(|u| u.to_string()).unwrap_or_default();
        let mut h = Sha256::new();
        for part in [
            self.seq.to_string(),
            self.at.millis().to_string(),
            opt(self.org_id),
            opt(self.actor_id),
            self.action.clone(),
            self.target_kind.clone(),
            opt(self.target_id),
            self.details.clone(),
            self.prev_hash.clone(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

fn json_text_as_object<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => value.serialize(s),
        Err(_) => s.serialize_str(text),
    }
}

/// Where and why the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChainBreak {
    /// The first entry that does not follow from the one before.
    pub seq: i64,
    pub reason: String,
}

/// Checks entries in order, one at a time, so any length of log can be verified.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
        }
    }
}

impl ChainVerifier {
    /// Checks the next entry follows the previous one and its hash matches its content.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let broken = |reason: &str| ChainBreak {
            seq: self.last_seq + 1,
            reason: reason.to_owned(),
        };
        if record.seq != self.last_seq + 1 {
            return Err(broken("entry missing: the sequence has a gap"));
        }
        if record.prev_hash != self.last_hash {
            return Err(broken("entry does not link to the one before"));
        }
        if record.compute_hash() != record.hash {
            return Err(broken("entry was altered: its hash does not match"));
        }
        self.last_seq = record.seq;
        self.last_hash = record.hash.clone();
        Ok(())
    }

    /// Checks the chain ends where the recorded head says, so removed tail entries show.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        if head_seq != self.last_seq || head_hash != self.last_hash {
            return Err(ChainBreak {
                seq: self.last_seq + 1,
                reason: format!(
                    "log ends at entry {} but its head records entry {head_seq}",
                    self.last_seq
                ),
            });
        }
        Ok(self.last_seq)
    }
}

/// The fields that differ between two versions of a record, as `{field: {before, after}}`;
/// bookkeeping fields (`version`, `updated_at`) are left out.
pub fn changes<T: Serialize>(before: &T, after: &T) -> Value {
    let (Ok(Value::Object(b)), Ok(Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Value::Null;
    };
    let mut out = Map::new();
    for (key, after_value) in a {
        if matches!(key.as_str(), "version" | "updated_at") {
            continue;
        }
        let before_value = b.get(&key).cloned().unwrap_or(Value::Null);
        if before_value != after_value {
            out.insert(
                key,
                serde_json::json!({"before": before_value, "after": after_value}),
            );
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_of(n: i64) -> Vec<AuditRecord> {
        let mut out: Vec<AuditRecord> = Vec::new();
        for i in 0..n {
            let (seq, hash) = out
                .last()
                .map(|r| (r.seq, r.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.to_owned()));
            let event = AuditEvent::new("auth.login", None, None, "user", None)
                .with_details(serde_json::json!({"n": i}));
            out.push(AuditRecord::chain(&event, Timestamp(i), seq, &hash));
        }
        out
    }

    fn verify(records: &[AuditRecord]) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in records {
            v.check(r)?;
        }
        let head = records.last().cloned().unwrap();
        v.finish(head.seq, &head.hash)
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain_of(5)), Ok(5));
    }

    #[test]
    fn altered_entry_is_found() {
        let mut records = chain_of(5);
        records[2].details = r#"{"n":99}"#.into();
        assert_eq!(verify(&records).unwrap_err().seq, 3);
    }

    #[test]
    fn removed_entry_is_found() {
        let mut records = chain_of(5);
        records.remove(1);
        assert_eq!(verify(&records).unwrap_err().seq, 2);
    }

    #[test]
    fn removed_tail_is_found_by_the_head() {
        let records = chain_of(5);
        let mut v = ChainVerifier::default();
        for r in &records[..4] {
            v.check(r).unwrap();
        }
        assert_eq!(v.finish(5, &records[4].hash).unwrap_err().seq, 5);
    }

    #[test]
    fn changes_lists_only_changed_fields() {
        let before = serde_json::json!({"name": "a", "email": "x", "version": 1});
        let after = serde_json::json!({"name": "b", "email": "x", "version": 2});
        assert_eq!(
            changes(&before, &after),
            serde_json::json!({"name": {"before": "a", "after": "b"}})
        );
    }
}
