//! Regional councils: who sees a council, the council admin inviting hospitals and creating
//! every pairwise agreement among those opted in, each hospital's admin opting in or out.

use renkei_core::Uuid;
use renkei_core::access::can_administer;
use renkei_core::agreement::{CouncilMember, CouncilMembership, Scope, validate_scopes};
use renkei_core::audit::AuditEvent;
use renkei_core::org::{OrgKind, Organization};
use renkei_core::user::User;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{announce_removals, stale_as};
use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// A council, its hospitals and the scopes of its agreements.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouncilView {
    pub id: Uuid,
    pub name: String,
    /// Set once the council admin created the agreements; later opt-ins get the same.
    pub scopes: Option<Vec<Scope>>,
    pub members: Vec<CouncilMember>,
    /// Whether the caller administers the council.
    pub i_administer: bool,
}

/// What the council action did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CouncilAgreementsDone {
    /// Agreements created now (pairs already in force kept theirs).
    pub created: usize,
    pub council: CouncilView,
}

/// Council `id` if the caller may see it: its own staff, or a hospital it invited.
async fn visible_council(services: &Services, me: &User, id: Uuid) -> ServiceResult<Organization> {
    let council = services
        .store
        .org(id)
        .await
        .or_service("council_not_found")?;
    if council.kind != OrgKind::Council {
        return Err(ServiceError::not_found("council_not_found"));
    }
    if council.id == me.org_id || can_administer(me, council.id) {
        return Ok(council);
    }
    let invited = services
        .store
        .councils_of(me.org_id)
        .await
        .or_service("council_not_found")?
        .iter()
        .any(|m| m.council_id == id);
    if !invited {
        return Err(ServiceError::not_found("council_not_found"));
    }
    Ok(council)
}

/// Council `id` if the caller administers it; forbidden for its other users.
async fn administered_council(
    services: &Services,
    me: &User,
    id: Uuid,
) -> ServiceResult<Organization> {
    let council = visible_council(services, me, id).await?;
    if !can_administer(me, council.id) {
        return Err(ServiceError::forbidden(
            "only the council's administrators act for the council",
        ));
    }
    Ok(council)
}

fn require_hospital_admin(me: &User) -> ServiceResult<()> {
    if can_administer(me, me.org_id) {
        Ok(())
    } else {
        Err(ServiceError::forbidden(
            "only a hospital's administrators opt it in or out of a council",
        ))
    }
}

async fn council_view(
    services: &Services,
    me: &User,
    council: Organization,
) -> ServiceResult<CouncilView> {
    Ok(CouncilView {
        scopes: services
            .store
            .council_scopes(council.id)
            .await
            .or_service("council_not_found")?,
        members: services
            .store
            .council_members(council.id)
            .await
            .or_service("council_not_found")?,
        i_administer: can_administer(me, council.id),
        id: council.id,
        name: council.name,
    })
}

fn event(action: &'static str, me: &User, council: Uuid, org: Uuid) -> AuditEvent {
    AuditEvent::new(
        action,
        Some(me.org_id),
        Some(me.id),
        "council",
        Some(council),
    )
    .with_details(json!({"org_id": org}))
}

/// Takes `org` out of `council`: every agreement the council made for it ends, and its
/// members leave the conversations those allowed.
async fn leave(
    services: &Services,
    me: &User,
    council: Uuid,
    org: Uuid,
    action: &'static str,
) -> ServiceResult<()> {
    let removals = services
        .store
        .opt_out_council(council, org, me.id, &event(action, me, council, org))
        .await
        .or_service("council_member_not_found")?;
    announce_removals(services, &removals);
    Ok(())
}

/// The councils the caller's hospital was invited to, with its standing in each.
pub async fn mine(services: &Services, me: &User) -> ServiceResult<Vec<CouncilMembership>> {
    services
        .store
        .councils_of(me.org_id)
        .await
        .or_service("council_not_found")
}

/// Council `id` with its hospitals, for its staff and the hospitals it invited.
pub async fn get(services: &Services, me: &User, id: Uuid) -> ServiceResult<CouncilView> {
    let council = visible_council(services, me, id).await?;
    council_view(services, me, council).await
}

/// Invites the hospital `org_id` (the council's admins).
pub async fn invite(
    services: &Services,
    me: &User,
    id: Uuid,
    org_id: Uuid,
) -> ServiceResult<CouncilView> {
    let council = administered_council(services, me, id).await?;
    let org = services
        .store
        .org(org_id)
        .await
        .or_service("organization_not_found")?;
    if org.kind != OrgKind::Hospital {
        return Err(ServiceError::invalid(
            "not_a_hospital",
            "a council's members are hospitals",
        ));
    }
    services
        .store
        .invite_to_council(id, org.id, me.id, &event("council.invite", me, id, org.id))
        .await
        .or_service("organization_not_found")?;
    council_view(services, me, council).await
}

/// Takes hospital `org` out of council `id` (the council's admins).
pub async fn remove(
    services: &Services,
    me: &User,
    id: Uuid,
    org: Uuid,
) -> ServiceResult<CouncilView> {
    let council = administered_council(services, me, id).await?;
    leave(services, me, id, org, "council.remove").await?;
    council_view(services, me, council).await
}

/// Opts the caller's hospital in (its admins), once invited; when the council's agreements
/// exist, it gets one with every other opted-in hospital at once.
pub async fn opt_in(services: &Services, me: &User, id: Uuid) -> ServiceResult<CouncilView> {
    let council = visible_council(services, me, id).await?;
    require_hospital_admin(me)?;
    services
        .store
        .opt_in_council(
            id,
            me.org_id,
            me.id,
            &event("council.opt_in", me, id, me.org_id),
        )
        .await
        .map_err(|e| {
            stale_as(
                e,
                "already_opted_in",
                "this hospital has already opted in",
                "council_not_found",
            )
        })?;
    council_view(services, me, council).await
}

/// Opts the caller's hospital out (its admins): every agreement the council made for it ends.
pub async fn opt_out(services: &Services, me: &User, id: Uuid) -> ServiceResult<CouncilView> {
    let council = visible_council(services, me, id).await?;
    require_hospital_admin(me)?;
    leave(services, me, id, me.org_id, "council.opt_out").await?;
    council_view(services, me, council).await
}

/// Creates every pairwise agreement with `scopes` among the opted-in hospitals, in one
/// transaction (the council's admins); hospitals opting in later get theirs with the same.
pub async fn create_agreements(
    services: &Services,
    me: &User,
    id: Uuid,
    scopes: &[Scope],
) -> ServiceResult<CouncilAgreementsDone> {
    let council = administered_council(services, me, id).await?;
    let scopes = validate_scopes(scopes)?;
    let audit = AuditEvent::new(
        "council.create_agreements",
        Some(me.org_id),
        Some(me.id),
        "council",
        Some(id),
    );
    let created = services
        .store
        .create_council_agreements(id, &scopes, me.id, &audit)
        .await
        .or_service("council_not_found")?;
    Ok(CouncilAgreementsDone {
        created: created.len(),
        council: council_view(services, me, council).await?,
    })
}
