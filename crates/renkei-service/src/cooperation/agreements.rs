//! Cooperation agreements between hospitals: who sees, proposes, accepts and revokes them.

use renkei_core::Uuid;
use renkei_core::access::can_administer;
use renkei_core::agreement::{Agreement, AgreementStatus, Scope, check_parties, validate_scopes};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::OrgKind;
use renkei_core::user::User;
use renkei_store::StoreError;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{announce_removals, stale_as};
use crate::Services;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// An agreement as one of its parties sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    #[serde(flatten)]
    pub agreement: Agreement,
    /// The other organization, seen from the caller's.
    pub other_org_id: Uuid,
    pub other_org_name: String,
    /// Whether the caller's organization proposed it.
    pub proposed_by_us: bool,
}

/// An organization another may propose an agreement to.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgSummary {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub kind: OrgKind,
}

async fn view(
    services: &Services,
    me: &User,
    agreement: Agreement,
) -> ServiceResult<AgreementView> {
    let other = agreement.other_than(me.org_id);
    let other_org = services
        .store
        .org(other)
        .await
        .or_service("organization_not_found")?;
    Ok(AgreementView {
        proposed_by_us: agreement.proposer_org_id == me.org_id,
        other_org_id: other,
        other_org_name: other_org.name,
        agreement,
    })
}

fn require_admin(me: &User) -> ServiceResult<()> {
    if can_administer(me, me.org_id) {
        Ok(())
    } else {
        Err(ServiceError::forbidden(
            "only an organization administrator manages cooperation agreements",
        ))
    }
}

/// Agreement `id` if it involves the caller's organization; not found otherwise.
async fn own_agreement(services: &Services, me: &User, id: Uuid) -> ServiceResult<Agreement> {
    let agreement = services
        .store
        .agreement(id)
        .await
        .or_service("agreement_not_found")?;
    if !agreement.involves(me.org_id) {
        return Err(ServiceError::not_found("agreement_not_found"));
    }
    Ok(agreement)
}

fn audit(action: &'static str, me: &User, agreement: &Agreement) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(me.org_id),
        Some(me.id),
        "agreement",
        Some(agreement.id),
    )
    .with_details(json!({
        "proposer_org_id": agreement.proposer_org_id,
        "partner_org_id": agreement.partner_org_id,
        "scopes": agreement.scopes,
    }))
}

/// The agreements of the caller's organization (in force, proposed, and revoked), newest
/// first.
pub async fn list(services: &Services, me: &User) -> ServiceResult<Vec<AgreementView>> {
    let list = services
        .store
        .agreements_of(me.org_id)
        .await
        .or_service("agreement_not_found")?;
    let mut out = Vec::with_capacity(list.len());
    for agreement in list {
        out.push(view(services, me, agreement).await?);
    }
    Ok(out)
}

/// Proposes an agreement with `scopes` to the hospital `partner_org_id` (organization
/// admins); 409 `agreement_exists` while one is proposed or in force.
pub async fn propose(
    services: &Services,
    me: &User,
    partner_org_id: Uuid,
    scopes: &[Scope],
) -> ServiceResult<AgreementView> {
    require_admin(me)?;
    let scopes = validate_scopes(scopes)?;
    let own = services
        .store
        .org(me.org_id)
        .await
        .or_service("organization_not_found")?;
    let partner = services
        .store
        .org(partner_org_id)
        .await
        .or_service("organization_not_found")?;
    check_parties(&own, &partner)?;
    let agreement = Agreement {
        id: renkei_core::new_id(),
        proposer_org_id: own.id,
        partner_org_id: partner.id,
        scopes,
        status: AgreementStatus::Proposed,
        council_id: None,
        proposed_by: Some(me.id),
        proposed_at: Timestamp::now(),
        accepted_by: None,
        accepted_at: None,
        revoked_by: None,
        revoked_at: None,
    };
    let stored = services
        .store
        .propose_agreement(&agreement, &audit("agreement.propose", me, &agreement))
        .await
        .map_err(|e| match e {
            StoreError::Duplicate(_) => ServiceError::new(
                Kind::Conflict,
                "agreement_exists",
                "these organizations already have an agreement proposed or in force; revoke it first",
            ),
            e => ServiceError::from_store(e, "organization_not_found"),
        })?;
    view(services, me, stored).await
}

/// Accepts agreement `id`, proposed to the caller's organization (its admins); it is in
/// force at once.
pub async fn accept(services: &Services, me: &User, id: Uuid) -> ServiceResult<AgreementView> {
    let agreement = own_agreement(services, me, id).await?;
    require_admin(me)?;
    if agreement.partner_org_id != me.org_id {
        return Err(ServiceError::forbidden(
            "the organization an agreement was proposed to accepts it",
        ));
    }
    let accepted = services
        .store
        .accept_agreement(id, me.id, &audit("agreement.accept", me, &agreement))
        .await
        .map_err(|e| {
            stale_as(
                e,
                "agreement_not_proposed",
                "this agreement is no longer waiting for acceptance",
                "agreement_not_found",
            )
        })?;
    view(services, me, accepted).await
}

/// Revokes (or declines, or withdraws) agreement `id`, by either side's admins. Access ends
/// at once: the store takes the other organization's members out of shared conversations in
/// the same transaction, and live sockets are told here.
pub async fn revoke(services: &Services, me: &User, id: Uuid) -> ServiceResult<AgreementView> {
    let agreement = own_agreement(services, me, id).await?;
    require_admin(me)?;
    let (revoked, removals) = services
        .store
        .revoke_agreement(id, me.id, &audit("agreement.revoke", me, &agreement))
        .await
        .map_err(|e| {
            stale_as(
                e,
                "agreement_revoked",
                "this agreement was already revoked",
                "agreement_not_found",
            )
        })?;
    announce_removals(services, &removals);
    view(services, me, revoked).await
}

/// Every organization on this server, to choose a partner or see a council's members.
pub async fn organizations(services: &Services) -> ServiceResult<Vec<OrgSummary>> {
    let orgs = services
        .store
        .list_orgs()
        .await
        .or_service("organization_not_found")?;
    Ok(orgs
        .into_iter()
        .map(|o| OrgSummary {
            id: o.id,
            name: o.name,
            slug: o.slug,
            kind: o.kind,
        })
        .collect())
}
