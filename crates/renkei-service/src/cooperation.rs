//! Cross-organization access: which organizations a user's directory shows, whether a set of
//! organizations may share a conversation, and telling live sockets about revocations.

use crate::error::Kind;
use renkei_core::Uuid;
use renkei_core::agreement::Scope;
use renkei_core::user::User;
use renkei_store::Removal;

use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// The organizations whose staff `me` may find: their own and every partner with the
/// directory scope in force.
pub async fn directory_orgs(state: &Services, me: &User) -> ServiceResult<Vec<Uuid>> {
    let mut orgs = vec![me.org_id];
    orgs.extend(
        state
            .store
            .partners(me.org_id, Scope::Directory)
            .await
            .or_service("organization_not_found")?,
    );
    Ok(orgs)
}

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
