//! SCIM Groups as departments: `displayName` is the department's name, `members` the users
//! whose department it is (a user is in one department, so joining one group leaves the
//! other). Departments are never deleted: DELETE empties the group and keeps the department.

use std::collections::HashSet;

use renkei_core::Uuid;
use renkei_core::org::Department;
use renkei_core::scim::filter::{self, Attribute};
use renkei_core::scim::group::{self as scim_group, Step};
use renkei_core::scim::operations;
use renkei_core::scim::{Fault, list_response, page};
use renkei_core::user::{User, UserPatch};
use renkei_store::StoreError;
use serde_json::Value;

use super::{ScimCaller, fault, id_of, no_such};
use crate::Services;
use crate::accounts::orgs::{create_department, rename_department};
use crate::accounts::users::update_user;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// The organization's departments as groups: all, or the one a filter names.
pub async fn list(
    svc: &Services,
    caller: &ScimCaller,
    filter: Option<&str>,
    start_index: Option<i64>,
    count: Option<i64>,
) -> ServiceResult<Value> {
    let filter = filter.map(filter::parse).transpose().map_err(fault)?;
    let mut departments = svc
        .store
        .list_departments(caller.org.id)
        .await
        .or_service("organization_not_found")?;
    if let Some(f) = filter {
        departments.retain(|d| match f.attribute {
            Attribute::DisplayName => d.name == f.value,
            Attribute::Id => d.id.to_string() == f.value,
            _ => false,
        });
        if !matches!(f.attribute, Attribute::DisplayName | Attribute::Id) {
            return Err(fault(Fault::filter(
                "groups are filtered by displayName or id",
            )));
        }
    }
    let (start, count) = page(start_index, count);
    let mut resources = Vec::new();
    for d in departments.iter().skip(start - 1).take(count) {
        resources.push(render(svc, caller, d).await?);
    }
    Ok(list_response(resources, departments.len(), start))
}

/// Group `id`.
pub async fn get(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<Value> {
    let dept = department(svc, caller, id).await?;
    render(svc, caller, &dept).await
}

/// Creates a department from a SCIM Group, with its members (201); a department of that
/// name exists: `409 uniqueness`.
pub async fn create(svc: &Services, caller: &ScimCaller, body: &Value) -> ServiceResult<Value> {
    let (name, members) = scim_group::of_resource(body).map_err(fault)?;
    let name = renkei_core::validate::name("displayName", &name)?;
    let members = resolve(svc, caller, &[Step::Add(members)]).await?;
    match svc.store.department_by_name(caller.org.id, &name).await {
        Ok(_) => {
            return Err(ServiceError::new(
                Kind::Conflict,
                "uniqueness",
                "a department of this name exists",
            ));
        }
        Err(StoreError::NotFound) => {}
        Err(e) => return Err(ServiceError::from_store(e, "group")),
    }
    let dept = create_department(&svc.store, caller.actor(), &caller.org, &name).await?;
    let dept = apply(svc, caller, dept, &[Step::Add(members)]).await?;
    render(svc, caller, &dept).await
}

/// Replaces group `id`: its name and exactly these members.
pub async fn replace(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
) -> ServiceResult<Value> {
    let (name, members) = scim_group::of_resource(body).map_err(fault)?;
    change(
        svc,
        caller,
        id,
        vec![Step::Rename(name), Step::Replace(members)],
    )
    .await
}

/// Applies a SCIM PatchOp to group `id`; every operation is read and checked first.
pub async fn patch(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
) -> ServiceResult<Value> {
    let assignments = operations::assignments(body).map_err(fault)?;
    let steps = scim_group::steps(&assignments).map_err(fault)?;
    change(svc, caller, id, steps).await
}

/// Empties group `id`; the department itself stays (departments are never deleted).
pub async fn delete(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<()> {
    change(svc, caller, id, vec![Step::RemoveAll]).await?;
    Ok(())
}

async fn change(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    steps: Vec<Step>,
) -> ServiceResult<Value> {
    let dept = department(svc, caller, id).await?;
    for step in &steps {
        if let Step::Rename(name) = step {
            renkei_core::validate::name("displayName", name)?;
        }
    }
    resolve(svc, caller, &steps).await?;
    let dept = apply(svc, caller, dept, &steps).await?;
    render(svc, caller, &dept).await
}

/// The users every step names, checked to be of the caller's organization before anything
/// changes (an unknown id refuses the whole request).
async fn resolve(
    svc: &Services,
    caller: &ScimCaller,
    steps: &[Step],
) -> ServiceResult<Vec<String>> {
    let mut ids = Vec::new();
    for step in steps {
        if let Step::Add(list) | Step::Remove(list) | Step::Replace(list) = step {
            for id in list {
                user_of(svc, caller, id).await?;
                ids.push(id.clone());
            }
        }
    }
    Ok(ids)
}

/// User `id` of the caller's organization, or `invalidValue`.
async fn user_of(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<User> {
    let uuid = scim_group::member_id(id).map_err(fault)?;
    match svc.store.user(uuid).await {
        Ok(u) if u.org_id == caller.org.id => Ok(u),
        Ok(_) | Err(StoreError::NotFound) => Err(fault(Fault::value(format!(
            "member {id} is not a user of this organization"
        )))),
        Err(e) => Err(ServiceError::from_store(e, "user")),
    }
}

/// Applies the steps in order, each member change one audited user edit.
async fn apply(
    svc: &Services,
    caller: &ScimCaller,
    mut dept: Department,
    steps: &[Step],
) -> ServiceResult<Department> {
    for step in steps {
        match step {
            Step::Rename(name) => {
                if *name != dept.name {
                    dept = rename_department(&svc.store, caller.actor(), &dept, name, dept.version)
                        .await?;
                }
            }
            Step::Add(ids) => {
                for id in ids {
                    place(svc, caller, id, Some(dept.id), None).await?;
                }
            }
            Step::Remove(ids) => {
                for id in ids {
                    place(svc, caller, id, None, Some(dept.id)).await?;
                }
            }
            Step::RemoveAll => {
                for u in members(svc, dept.id).await? {
                    place(svc, caller, &u.id.to_string(), None, Some(dept.id)).await?;
                }
            }
            Step::Replace(ids) => {
                let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
                for u in members(svc, dept.id).await? {
                    if !wanted.contains(u.id.to_string().as_str()) {
                        place(svc, caller, &u.id.to_string(), None, Some(dept.id)).await?;
                    }
                }
                for id in ids {
                    place(svc, caller, id, Some(dept.id), None).await?;
                }
            }
        }
    }
    Ok(dept)
}

/// Moves user `id` into department `to` (`None`: out of it), only when their department is
/// `from` (for leaving) or not `to` already (for joining): audited `user.update`.
async fn place(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    to: Option<Uuid>,
    from: Option<Uuid>,
) -> ServiceResult<()> {
    let user = user_of(svc, caller, id).await?;
    let moves = match (to, from) {
        (Some(to), _) => user.department_id != Some(to),
        (None, from) => user.department_id == from,
    };
    if !moves {
        return Ok(());
    }
    let patch = UserPatch {
        department_id: Some(to),
        ..UserPatch::default()
    };
    update_user(&svc.store, caller.actor(), &user, &patch, user.version).await?;
    Ok(())
}

async fn members(svc: &Services, dept: Uuid) -> ServiceResult<Vec<User>> {
    svc.store.department_members(dept).await.or_service("group")
}

/// Department `id` of the caller's organization.
async fn department(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<Department> {
    let id = id_of(id, "group")?;
    match svc.store.department(id).await {
        Ok(d) if d.org_id == caller.org.id => Ok(d),
        Ok(_) | Err(StoreError::NotFound) => Err(no_such("group")),
        Err(e) => Err(ServiceError::from_store(e, "group")),
    }
}

async fn render(svc: &Services, caller: &ScimCaller, dept: &Department) -> ServiceResult<Value> {
    let members = members(svc, dept.id).await?;
    Ok(scim_group::resource(dept, &members, &caller.base()))
}
