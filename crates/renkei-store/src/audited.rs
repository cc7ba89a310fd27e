//! The one way to write a change the audit log must show: the change, its timeline events and
//! its audit entries run in one write transaction, so they commit together or not at all.

use std::borrow::Borrow;

use renkei_core::audit::AuditEvent;
use sqlx::any::AnyQueryResult;

use crate::{Store, StoreError, Tx};

impl Store {
    /// Runs `change` in a write transaction, then appends `audits` to the chain in that same
    /// transaction and commits: a failure anywhere (the change, an audit entry, the commit)
    /// rolls everything back, so there is never a change without its entry or the reverse.
    /// `change` owns the transaction while it runs and hands it back with its result (a
    /// borrowing async closure would make the callers' futures lose `Send`).
    pub(crate) async fn audited<'e, T, F>(
        &self,
        audits: impl IntoIterator<Item = &'e AuditEvent>,
        change: impl FnOnce(Tx) -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<(Tx, T), StoreError>>,
    {
        self.audited_as(change, |_| audits).await
    }

    /// [`Store::audited`] for entries that name what the change found (e.g. the id of a row it
    /// deleted): `audits_of` builds them from the change's result, inside the transaction.
    pub(crate) async fn audited_as<T, I, F>(
        &self,
        change: impl FnOnce(Tx) -> F,
        audits_of: impl FnOnce(&T) -> I,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<(Tx, T), StoreError>>,
        I: IntoIterator,
        I::Item: Borrow<AuditEvent>,
    {
        let (mut tx, value) = change(self.write_tx().await?).await?;
        for audit in audits_of(&value) {
            self.append_audit_in(&mut tx, audit.borrow()).await?;
        }
        tx.commit().await?;
        Ok(value)
    }
}

/// Checks a write touched exactly one row: none means the record is gone or was changed by
/// someone else (`otherwise`, e.g. `NotFound` or `Stale`), so the transaction must stop.
pub(crate) fn one_row(done: AnyQueryResult, otherwise: StoreError) -> Result<(), StoreError> {
    match done.rows_affected() {
        1 => Ok(()),
        0 => Err(otherwise),
        n => Err(StoreError::Corrupt(format!(
            "{n} rows changed where one was meant"
        ))),
    }
}
