//! Calls in the timeline: a call's start and end as conversation events, each with its audit
//! entries in the same transaction. The calls themselves live in memory (no recording).

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::EventKind;
use serde_json::Value;

use crate::{Store, StoreError};

impl Store {
    /// Appends a call's event (`call.started`, `call.ended`) to `conversation` with `audits`;
    /// returns the event's number.
    pub async fn append_call_event(
        &self,
        conversation: Uuid,
        kind: EventKind,
        actor: Option<Uuid>,
        data: &Value,
        audits: &[AuditEvent],
    ) -> Result<i64, StoreError> {
        self.audited(audits, |mut tx| async move {
            let seq =
                Self::append_event(&mut tx, conversation, kind, actor, data, Timestamp::now())
                    .await?;
            Ok((tx, seq))
        })
        .await
    }
}
