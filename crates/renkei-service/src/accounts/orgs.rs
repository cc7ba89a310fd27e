//! Organizations and departments: who may read or administer one, and their audited changes
//! (the plain changes are shared with the `renkei admin` command line, `actor` `None`).

use renkei_core::access::{can_administer, can_read, is_server_admin};
use renkei_core::audit::{AuditEvent, changes};
use renkei_core::clock::Timestamp;
use renkei_core::org::{
    Department, DepartmentPatch, NewOrganization, Organization, OrganizationPatch,
};
use renkei_core::user::{User, UserStatus};
use renkei_core::{Uuid, validate};
use renkei_store::Store;
use serde_json::json;

use super::saved_or_conflict;
use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

/// The organization `id` if `actor` may read it; `organization_not_found` otherwise
/// (existence is not revealed).
pub async fn readable_org(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<Organization> {
    if !can_read(actor, id) {
        return Err(ServiceError::not_found("organization_not_found"));
    }
    svc.store.org(id).await.or_service("organization_not_found")
}

/// The organization `id` if `actor` may administer it (forbidden when they only read it).
pub async fn administered_org(
    svc: &Services,
    actor: &User,
    id: Uuid,
) -> ServiceResult<Organization> {
    let org = readable_org(svc, actor, id).await?;
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

/// Organizations `actor` can see: all for a server administrator, else their own (`own`).
pub async fn visible_orgs(
    svc: &Services,
    actor: &User,
    own: &Organization,
) -> ServiceResult<Vec<Organization>> {
    if is_server_admin(actor) {
        return svc
            .store
            .list_orgs()
            .await
            .or_service("organization_not_found");
    }
    Ok(vec![own.clone()])
}

/// Creates an organization (server administrators).
pub async fn create_org_as(
    svc: &Services,
    actor: &User,
    input: NewOrganization,
) -> ServiceResult<Organization> {
    if !is_server_admin(actor) {
        return Err(ServiceError::forbidden(
            "only server administrators create organizations",
        ));
    }
    create_org(&svc.store, Some(actor.id), input).await
}

/// Edits organization `id` (its administrators), if it is still at `version`.
pub async fn update_org_as(
    svc: &Services,
    actor: &User,
    id: Uuid,
    patch: OrganizationPatch,
    version: i64,
) -> ServiceResult<Organization> {
    let org = administered_org(svc, actor, id).await?;
    update_org(&svc.store, Some(actor.id), &org, patch, version).await
}

/// The departments of organization `id`, for whoever may read it.
pub async fn departments(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<Vec<Department>> {
    let org = readable_org(svc, actor, id).await?;
    svc.store
        .list_departments(org.id)
        .await
        .or_service("organization_not_found")
}

/// Adds a department to organization `id` (its administrators).
pub async fn add_department(
    svc: &Services,
    actor: &User,
    id: Uuid,
    name: &str,
) -> ServiceResult<Department> {
    let org = administered_org(svc, actor, id).await?;
    create_department(&svc.store, Some(actor.id), &org, name).await
}

/// Edits department `id` (its organization's administrators), if still at `version`: its
/// name and its on-call user, who must be an active user of the organization.
pub async fn update_department_as(
    svc: &Services,
    actor: &User,
    id: Uuid,
    patch: DepartmentPatch,
    version: i64,
) -> ServiceResult<Department> {
    let dept = svc
        .store
        .department(id)
        .await
        .or_service("department_not_found")?;
    administered_org(svc, actor, dept.org_id).await?;
    let mut next = dept.clone();
    if let Some(name) = &patch.name {
        next.name = validate::name("name", name)?;
    }
    if let Some(on_call) = patch.on_call_user_id {
        if let Some(user) = on_call {
            let valid = match svc.store.user(user).await {
                Ok(u) => u.org_id == dept.org_id && u.status == UserStatus::Active,
                Err(_) => false,
            };
            if !valid {
                return Err(ServiceError::invalid(
                    "invalid_on_call_user",
                    "the on-call user must be an active user of the organization",
                ));
            }
        }
        next.on_call_user_id = on_call;
    }
    let event = AuditEvent::new(
        "department.update",
        Some(dept.org_id),
        Some(actor.id),
        "department",
        Some(dept.id),
    )
    .with_details(json!({"changes": changes(&dept, &next)}));
    let saved = svc.store.update_department(&next, version, &event).await;
    saved_or_conflict(saved, svc.store.department(dept.id), "department_not_found").await
}

/// Creates an organization with the default policy.
pub async fn create_org(
    store: &Store,
    actor: Option<Uuid>,
    input: NewOrganization,
) -> ServiceResult<Organization> {
    let org = input.build(Timestamp::now())?;
    let event = AuditEvent::new(
        "org.create",
        Some(org.id),
        actor,
        "organization",
        Some(org.id),
    )
    .with_details(json!({"name": org.name, "slug": org.slug, "kind": org.kind}));
    store
        .insert_org(&org, &event)
        .await
        .or_service("organization_not_found")?;
    Ok(org)
}

/// Applies an admin's edit to an organization, if it is still at `version`.
pub async fn update_org(
    store: &Store,
    actor: Option<Uuid>,
    org: &Organization,
    patch: OrganizationPatch,
    version: i64,
) -> ServiceResult<Organization> {
    let next = patch.apply(org)?;
    let event = AuditEvent::new(
        "org.update",
        Some(org.id),
        actor,
        "organization",
        Some(org.id),
    )
    .with_details(json!({"changes": changes(org, &next)}));
    let saved = store.update_org(&next, version, &event).await;
    saved_or_conflict(saved, store.org(org.id), "organization_not_found").await
}

/// Adds a department to an organization.
pub async fn create_department(
    store: &Store,
    actor: Option<Uuid>,
    org: &Organization,
    name: &str,
) -> ServiceResult<Department> {
    let now = Timestamp::now();
    let dept = Department {
        id: renkei_core::new_id(),
        org_id: org.id,
        name: validate::name("name", name)?,
        on_call_user_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let event = AuditEvent::new(
        "department.create",
        Some(org.id),
        actor,
        "department",
        Some(dept.id),
    )
    .with_details(json!({"name": dept.name}));
    store
        .insert_department(&dept, &event)
        .await
        .or_service("organization_not_found")?;
    Ok(dept)
}

/// Renames a department, if it is still at `version`.
pub async fn rename_department(
    store: &Store,
    actor: Option<Uuid>,
    dept: &Department,
    name: &str,
    version: i64,
) -> ServiceResult<Department> {
    let mut next = dept.clone();
    next.name = validate::name("name", name)?;
    let event = AuditEvent::new(
        "department.update",
        Some(dept.org_id),
        actor,
        "department",
        Some(dept.id),
    )
    .with_details(json!({"changes": changes(dept, &next)}));
    let saved = store.update_department(&next, version, &event).await;
    saved_or_conflict(saved, store.department(dept.id), "department_not_found").await
}
