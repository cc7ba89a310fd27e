//! The organization an administrative call names, as imaging's admin calls (DICOM peers,
//! gateways) check it: unseen is 404 (its existence is not revealed), seen but not
//! administered is 403.

use renkei_core::Uuid;
use renkei_core::access::{can_administer, can_read};
use renkei_core::org::Organization;
use renkei_core::user::User;

use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// The organization `id` if `actor` administers it.
pub async fn administered_org(
    state: &Services,
    actor: &User,
    id: Uuid,
) -> ServiceResult<Organization> {
    if !can_read(actor, id) {
        return Err(ServiceError::not_found("organization_not_found"));
    }
    let org = state
        .store
        .org(id)
        .await
        .or_service("organization_not_found")?;
    if !can_administer(actor, id) {
        return Err(ServiceError::forbidden(
            "only this organization's administrators may do this",
        ));
    }
    Ok(org)
}

/// Refuses with 404 unless `actor` administers organization `id` (no read of the store).
pub fn require_administers(actor: &User, id: Uuid) -> ServiceResult<()> {
    if can_administer(actor, id) {
        Ok(())
    } else {
        Err(ServiceError::not_found("organization_not_found"))
    }
}
