//! SCIM Users: created, read, listed by filter, replaced, patched and retired through the
//! audited user functions; existing accounts are matched by login or e-mail, never copied.

use std::collections::HashMap;

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::scim::filter::{self, Attribute};
use renkei_core::scim::operations::{self, Assignment};
use renkei_core::scim::user::{self as scim_user, UserAttrs};
use renkei_core::scim::{Fault, list_response, page};
use renkei_core::user::{Applicant, NewUser, Profession, Role, User, UserPatch, UserStatus};
use renkei_store::{ScimMatch, StoreError};
use serde_json::Value;

use super::{ScimCaller, fault, id_of, no_such};
use crate::Services;
use crate::accounts::orgs::create_department;
use crate::accounts::users::{create_user, update_user};
use crate::auth::token::random_password;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Users of the caller's organization: all, or those a filter names, a page at a time.
pub async fn list(
    svc: &Services,
    caller: &ScimCaller,
    filter: Option<&str>,
    start_index: Option<i64>,
    count: Option<i64>,
) -> ServiceResult<Value> {
    let filter = filter.map(filter::parse).transpose().map_err(fault)?;
    let store = &svc.store;
    let users = match &filter {
        None => store.scim_users(caller.org.id, None).await,
        Some(f) => match f.attribute {
            Attribute::UserName => {
                store
                    .scim_users(caller.org.id, Some(ScimMatch::UserName(&f.value)))
                    .await
            }
            Attribute::ExternalId => {
                store
                    .scim_users(caller.org.id, Some(ScimMatch::ExternalId(&f.value)))
                    .await
            }
            Attribute::Id => match Uuid::parse_str(&f.value) {
                Ok(id) => match store.user(id).await {
                    Ok(u) if u.org_id == caller.org.id => Ok(vec![u]),
                    Ok(_) | Err(StoreError::NotFound) => Ok(Vec::new()),
                    Err(e) => Err(e),
                },
                Err(_) => Ok(Vec::new()),
            },
            Attribute::DisplayName => {
                return Err(fault(Fault::filter(
                    "users are filtered by userName or externalId",
                )));
            }
        },
    }
    .or_service("organization_not_found")?;
    let (start, count) = page(start_index, count);
    let names = Names::of(svc, caller).await?;
    let resources = users
        .iter()
        .skip(start - 1)
        .take(count)
        .map(|u| names.render(u, &caller.base()))
        .collect();
    Ok(list_response(resources, users.len(), start))
}

/// User `id` of the caller's organization.
pub async fn get(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<Value> {
    let user = member(svc, caller, id).await?;
    Ok(Names::of(svc, caller).await?.render(&user, &caller.base()))
}

/// Creates a user from a SCIM User (201). A user of this organization with the same login
/// or e-mail already exists: `409 uniqueness` (the identity provider finds it by filter and
/// links it instead). New accounts get a random password nobody knows: they sign in through
/// the hospital's identity provider, or an administrator resets it.
pub async fn create(svc: &Services, caller: &ScimCaller, body: &Value) -> ServiceResult<Value> {
    let attrs = attrs_of(operations::of_resource(body))?;
    let login = attrs
        .user_name
        .clone()
        .ok_or_else(|| fault(Fault::value("userName is required")))?;
    let same = svc
        .store
        .scim_users(caller.org.id, Some(ScimMatch::UserName(&login)))
        .await
        .or_service("organization_not_found")?;
    if !same.is_empty() {
        return Err(uniqueness(
            "a user with this userName or e-mail address exists",
        ));
    }
    external_id_free(svc, caller, &attrs, None).await?;
    let mut new = NewUser::from(Applicant {
        display_name: attrs
            .display_name_after(None)
            .unwrap_or_else(|| login.clone()),
        login,
        kana: attrs.kana.clone().unwrap_or_default(),
        romaji: None,
        profession: attrs.profession.unwrap_or(Profession::Other),
        department_id: None,
        email: attrs.email.clone().flatten(),
        phone: None,
        password: random_password(24),
    });
    new.status = Some(match attrs.active {
        Some(false) => UserStatus::Retired,
        _ => UserStatus::Active,
    });
    new.staff_number = attrs.staff_number.clone().flatten();
    new.build(caller.org.id, Timestamp::now())?;
    new.who.department_id = department_named(svc, caller, &attrs).await?.flatten();
    let user = create_user(&svc.store, &svc.hasher, caller.actor(), &caller.org, new)
        .await
        .map_err(as_uniqueness)?;
    remember_external_id(svc, caller, &user, &attrs).await?;
    Ok(Names::of(svc, caller).await?.render(&user, &caller.base()))
}

/// Replaces user `id` with a SCIM User: the attributes it names are set (absent ones are
/// left as they are, so a department given through a group stays).
pub async fn replace(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
) -> ServiceResult<Value> {
    let attrs = attrs_of(operations::of_resource(body))?;
    change(svc, caller, id, attrs).await
}

/// Applies a SCIM PatchOp to user `id`; every operation is read and checked before anything
/// changes.
pub async fn patch(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    body: &Value,
) -> ServiceResult<Value> {
    let attrs = attrs_of(operations::assignments(body))?;
    change(svc, caller, id, attrs).await
}

/// Deactivates user `id`: the account is retired (never deleted), its sessions and sockets
/// end. Retiring a retired user changes nothing.
pub async fn retire(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<()> {
    let user = changeable(svc, caller, id).await?;
    if user.status == UserStatus::Retired {
        return Ok(());
    }
    let patch = UserPatch {
        status: Some(UserStatus::Retired),
        ..UserPatch::default()
    };
    update_user(&svc.store, caller.actor(), &user, &patch, user.version).await?;
    svc.messaging.user_ended(user.id);
    Ok(())
}

/// The attributes of a body, or the SCIM refusal of it.
fn attrs_of(assignments: Result<Vec<Assignment>, Fault>) -> ServiceResult<UserAttrs> {
    UserAttrs::from_assignments(&assignments.map_err(fault)?).map_err(fault)
}

/// Applies `attrs` to user `id`: checked whole first, then one audited edit (none when
/// nothing differs); an account that may no longer sign in is cut off at once.
async fn change(
    svc: &Services,
    caller: &ScimCaller,
    id: &str,
    attrs: UserAttrs,
) -> ServiceResult<Value> {
    let user = changeable(svc, caller, id).await?;
    attrs.patch(&user, None).apply(&user)?;
    external_id_free(svc, caller, &attrs, Some(user.id)).await?;
    let department = department_named(svc, caller, &attrs).await?;
    let patch = attrs.patch(&user, department);
    let saved = if patch.apply(&user)? == user {
        user.clone()
    } else {
        update_user(&svc.store, caller.actor(), &user, &patch, user.version)
            .await
            .map_err(as_uniqueness)?
    };
    if user.status.may_sign_in() && !saved.status.may_sign_in() {
        svc.messaging.user_ended(saved.id);
    }
    remember_external_id(svc, caller, &saved, &attrs).await?;
    Ok(Names::of(svc, caller).await?.render(&saved, &caller.base()))
}

/// User `id` if they belong to the caller's organization.
async fn member(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<User> {
    let id = id_of(id, "user")?;
    match svc.store.user(id).await {
        Ok(u) if u.org_id == caller.org.id => Ok(u),
        Ok(_) | Err(StoreError::NotFound) => Err(no_such("user")),
        Err(e) => Err(ServiceError::from_store(e, "user")),
    }
}

/// User `id` if provisioning may change them: never a server administrator, whose
/// account stays under renkei's own control (the break-glass account).
async fn changeable(svc: &Services, caller: &ScimCaller, id: &str) -> ServiceResult<User> {
    let user = member(svc, caller, id).await?;
    if user.has_role(Role::ServerAdmin) {
        return Err(ServiceError::new(
            Kind::Forbidden,
            "mutability",
            "a server administrator is not changed by provisioning",
        ));
    }
    Ok(user)
}

/// The department `attrs` names, as an id: an existing one of that name, or a new one
/// (audited `department.create`); `Some(None)` clears it, `None` leaves it.
async fn department_named(
    svc: &Services,
    caller: &ScimCaller,
    attrs: &UserAttrs,
) -> ServiceResult<Option<Option<Uuid>>> {
    let Some(name) = &attrs.department else {
        return Ok(None);
    };
    let Some(name) = name else {
        return Ok(Some(None));
    };
    let clean = renkei_core::validate::name("department", name)?;
    match svc.store.department_by_name(caller.org.id, &clean).await {
        Ok(d) => Ok(Some(Some(d.id))),
        Err(StoreError::NotFound) => {
            let d = create_department(&svc.store, caller.actor(), &caller.org, &clean).await?;
            Ok(Some(Some(d.id)))
        }
        Err(e) => Err(ServiceError::from_store(e, "department")),
    }
}

/// Refuses an `externalId` another user of the organization already has.
async fn external_id_free(
    svc: &Services,
    caller: &ScimCaller,
    attrs: &UserAttrs,
    me: Option<Uuid>,
) -> ServiceResult<()> {
    let Some(Some(ext)) = &attrs.external_id else {
        return Ok(());
    };
    let holders = svc
        .store
        .scim_users(caller.org.id, Some(ScimMatch::ExternalId(ext)))
        .await
        .or_service("organization_not_found")?;
    if holders.iter().any(|u| Some(u.id) != me) {
        return Err(uniqueness("another user has this externalId"));
    }
    Ok(())
}

async fn remember_external_id(
    svc: &Services,
    caller: &ScimCaller,
    user: &User,
    attrs: &UserAttrs,
) -> ServiceResult<()> {
    if let Some(ext) = &attrs.external_id {
        svc.store
            .set_scim_external_id(caller.org.id, user.id, ext.as_deref())
            .await
            .map_err(|e| as_uniqueness(ServiceError::from_store(e, "user")))?;
    }
    Ok(())
}

/// 409 with SCIM's `uniqueness`.
fn uniqueness(detail: &str) -> ServiceError {
    ServiceError::new(Kind::Conflict, "uniqueness", detail)
}

/// A taken login, staff number or externalId as SCIM's `uniqueness`.
fn as_uniqueness(err: ServiceError) -> ServiceError {
    match err.kind {
        Kind::Conflict if err.code != "version_conflict" => uniqueness(&err.message),
        _ => err,
    }
}

/// What rendering users needs besides them: externalIds and department names.
struct Names {
    external: HashMap<Uuid, String>,
    departments: HashMap<Uuid, String>,
}

impl Names {
    async fn of(svc: &Services, caller: &ScimCaller) -> ServiceResult<Names> {
        let external = svc
            .store
            .scim_external_ids(caller.org.id)
            .await
            .or_service("organization_not_found")?;
        let departments = svc
            .store
            .list_departments(caller.org.id)
            .await
            .or_service("organization_not_found")?
            .into_iter()
            .map(|d| (d.id, d.name))
            .collect();
        Ok(Names {
            external,
            departments,
        })
    }

    fn render(&self, user: &User, base: &str) -> Value {
        scim_user::resource(
            user,
            self.external.get(&user.id).map(String::as_str),
            user.department_id
                .and_then(|d| self.departments.get(&d))
                .map(String::as_str),
            base,
        )
    }
}
