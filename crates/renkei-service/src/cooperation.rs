//! Cross-organization access: whether organizations cooperate under a scope, whether a set of
//! them may share a conversation, and telling live sockets about revocations; agreements,
//! councils and the directory built on them are the submodules.

pub mod agreements;
pub mod councils;
pub mod directory;

use crate::error::Kind;
use renkei_core::Uuid;
use renkei_core::agreement::Scope;
use renkei_store::{Removal, StoreError};

use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Whether `a` and `b` cooperate under `scope` (always within one organization).
pub async fn cooperates(state: &Services, a: Uuid, b: Uuid, scope: Scope) -> ServiceResult<bool> {
    state
        .store
        .cooperates(a, b, scope)
        .await
        .or_service("organization_not_found")
}

/// Whether `org`'s users may open studies of `owner` shared with them (the images scope).
pub async fn cooperates_for_images(
    store: renkei_store::Store,
    org: Uuid,
    owner: Uuid,
) -> ServiceResult<bool> {
    store
        .cooperates(org, owner, Scope::Images)
        .await
        .or_service("study_not_found")
}

/// Refuses unless every pair of `orgs` has the messaging scope in force.
pub async fn require_messaging(state: &Services, orgs: &[Uuid]) -> ServiceResult<()> {
    let mut distinct: Vec<Uuid> = orgs.to_vec();
    distinct.sort();
    distinct.dedup();
    for (a, b) in renkei_core::agreement::pairs(&distinct) {
        if !cooperates(state, a, b, Scope::Messaging).await? {
            return Err(ServiceError::new(
                Kind::Forbidden,
                "no_cooperation_agreement",
                "conversations across organizations need a cooperation agreement with the messaging scope in force",
            ));
        }
    }
    Ok(())
}

/// Tells every node that these members lost their conversations: their sockets get a
/// `removed` frame and stop receiving them; the others see `member.removed`.
pub fn announce_removals(state: &Services, removals: &[Removal]) {
    for r in removals {
        state
            .messaging
            .membership_changed(r.conversation, Some(r.user));
        state.messaging.advanced(r.conversation, r.seq);
    }
}

/// The store's refusal of a change to a record no longer in the state it needs
/// (`StoreError::Stale`) as a conflict with `code`; other failures as usual, a missing record
/// as `not_found`.
pub(crate) fn stale_as(
    err: StoreError,
    code: &'static str,
    message: &'static str,
    not_found: &'static str,
) -> ServiceError {
    match err {
        StoreError::Stale => ServiceError::new(Kind::Conflict, code, message),
        e => ServiceError::from_store(e, not_found),
    }
}
