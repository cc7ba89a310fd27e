//! Administering users as a signed-in caller: who may see or change whom (an organization's
//! administrators; only a server administrator touches a server administrator), then the
//! audited change, and live sockets told when a user's sessions end.

use renkei_core::Uuid;
use renkei_core::access::{can_administer, may_change_user};
use renkei_core::clock::Timestamp;
use renkei_core::user::{NewUser, Profession, Role, User, UserPatch, UserStatus};
use renkei_store::SignInHold;
use serde::Serialize;
use utoipa::ToSchema;

use super::orgs::{administered_org, readable_org};
use super::users;
use crate::Services;
use crate::auth::backoff;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// What a member sees of a colleague: a directory entry, without login, roles or security
/// state.
#[derive(Serialize, ToSchema)]
pub struct Colleague {
    id: Uuid,
    org_id: Uuid,
    display_name: String,
    kana: String,
    romaji: String,
    profession: Profession,
    department_id: Option<Uuid>,
    status: UserStatus,
}

impl From<User> for Colleague {
    fn from(u: User) -> Self {
        Colleague {
            id: u.id,
            org_id: u.org_id,
            display_name: u.display_name,
            kana: u.kana,
            romaji: u.romaji,
            profession: u.profession,
            department_id: u.department_id,
            status: u.status,
        }
    }
}

/// The full records for the organization's administrators; the directory for its members.
#[derive(Serialize)]
#[serde(untagged)]
pub enum UserList {
    Full(Vec<User>),
    Directory(Vec<Colleague>),
}

/// `anyOf`, not the derived `oneOf`: a full record is also a valid directory entry, and an
/// empty list is both, so exactly one could never match.
impl utoipa::PartialSchema for UserList {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder};
        let list_of =
            |name: &str| ArrayBuilder::new().items(utoipa::openapi::Ref::from_schema_name(name));
        AnyOfBuilder::new()
            .item(list_of("User"))
            .item(list_of("Colleague"))
            .description(Some(
                "The full records for the organization's administrators; the directory for its members.",
            ))
            .into()
    }
}

impl ToSchema for UserList {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        use utoipa::PartialSchema;
        schemas.push((User::name().into_owned(), User::schema()));
        User::schemas(schemas);
        schemas.push((Colleague::name().into_owned(), Colleague::schema()));
        Colleague::schemas(schemas);
    }
}

/// One user as the caller may see them: the full record (their organization's
/// administrators, or the user themself) or a directory entry.
pub enum UserView {
    Full(User),
    Directory(Colleague),
}

/// Only a server administrator changes a server administrator or makes one: the roles
/// before and after the change are both looked at.
pub fn check_user_change(actor: &User, before: &[Role], after: &[Role]) -> ServiceResult<()> {
    if !may_change_user(actor, before, after) {
        return Err(ServiceError::forbidden(
            "only server administrators change a server administrator or make one",
        ));
    }
    Ok(())
}

/// The user `id` if `actor` administers their organization (`user_not_found` when not
/// visible).
pub async fn administered_user(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<User> {
    let user = svc.store.user(id).await.or_service("user_not_found")?;
    administered_org(svc, actor, user.org_id)
        .await
        .map_err(|e| match e.kind {
            Kind::NotFound => ServiceError::not_found("user_not_found"),
            _ => e,
        })?;
    Ok(user)
}

/// The user `id` if `actor` may change them as they are (server administrators only by
/// server administrators).
async fn changeable_user(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<User> {
    let user = administered_user(svc, actor, id).await?;
    check_user_change(actor, &user.roles, &user.roles)?;
    Ok(user)
}

/// A page of organization `org_id`'s users by name: every user for its administrators,
/// active users as directory entries for its members. `limit` is kept to 1–500.
pub async fn list(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
    offset: i64,
    limit: i64,
) -> ServiceResult<UserList> {
    let org = readable_org(svc, actor, org_id).await?;
    let (offset, limit) = (offset.max(0), limit.clamp(1, 500));
    let store = &svc.store;
    Ok(if can_administer(actor, org.id) {
        UserList::Full(
            store
                .list_users(org.id, offset, limit)
                .await
                .or_service("organization_not_found")?,
        )
    } else {
        let active = store
            .list_active_users(org.id, offset, limit)
            .await
            .or_service("organization_not_found")?;
        UserList::Directory(active.into_iter().map(Colleague::from).collect())
    })
}

/// Creates a user in organization `org_id` (its administrators; roles they may give).
pub async fn create(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
    input: NewUser,
) -> ServiceResult<User> {
    let org = administered_org(svc, actor, org_id).await?;
    check_user_change(actor, &[], &input.roles)?;
    users::create_user(&svc.store, &svc.hasher, Some(actor.id), &org, input).await
}

/// User `id` as `actor` may see them; a member who does not administer them sees an active
/// colleague's directory entry, and nothing of others.
pub async fn view(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<UserView> {
    let user = svc.store.user(id).await.or_service("user_not_found")?;
    readable_org(svc, actor, user.org_id)
        .await
        .map_err(|_| ServiceError::not_found("user_not_found"))?;
    if can_administer(actor, user.org_id) || actor.id == user.id {
        return Ok(UserView::Full(user));
    }
    if user.status != UserStatus::Active {
        return Err(ServiceError::not_found("user_not_found"));
    }
    Ok(UserView::Directory(Colleague::from(user)))
}

/// Applies an administrator's edit to user `id` if still at `version`; a user who may no
/// longer sign in is cut off at once.
pub async fn update(
    svc: &Services,
    actor: &User,
    id: Uuid,
    patch: &UserPatch,
    version: i64,
) -> ServiceResult<User> {
    let user = administered_user(svc, actor, id).await?;
    let roles_after = patch.roles.as_deref().unwrap_or(&user.roles);
    check_user_change(actor, &user.roles, roles_after)?;
    let saved = users::update_user(&svc.store, Some(actor.id), &user, patch, version).await?;
    if !saved.status.may_sign_in() {
        svc.messaging.user_ended(saved.id);
    }
    Ok(saved)
}

/// Gives user `id` a one-time password (returned once); their sessions end.
pub async fn reset_password(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<String> {
    let user = changeable_user(svc, actor, id).await?;
    let password = users::reset_password(&svc.store, &svc.hasher, Some(actor.id), &user).await?;
    svc.messaging.user_ended(user.id);
    Ok(password)
}

/// Clears user `id`'s device passcode; their sessions end.
pub async fn reset_passcode(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<()> {
    let user = changeable_user(svc, actor, id).await?;
    users::reset_passcode(&svc.store, Some(actor.id), &user).await?;
    svc.messaging.user_ended(user.id);
    Ok(())
}

/// Forgets user `id`'s authenticator and recovery codes; their sessions end.
pub async fn reset_second_factor(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<()> {
    let user = changeable_user(svc, actor, id).await?;
    crate::auth::second_factor::reset(&svc.store, Some(actor.id), &user).await?;
    svc.messaging.user_ended(user.id);
    Ok(())
}

/// Users of organization `org_id` with wrong passwords counted, a back-off or a lock (its
/// administrators).
pub async fn sign_in_holds(
    svc: &Services,
    actor: &User,
    org_id: Uuid,
) -> ServiceResult<Vec<SignInHold>> {
    let org = administered_org(svc, actor, org_id).await?;
    let now = Timestamp::now();
    let since = backoff::rule(&svc.settings).forget_before(now);
    svc.store
        .sign_in_holds(org.id, since, now)
        .await
        .or_service("organization_not_found")
}

/// Lifts user `id`'s sign-in back-off and lock (audited); their sessions are untouched.
pub async fn release_sign_in(svc: &Services, actor: &User, id: Uuid) -> ServiceResult<()> {
    let user = changeable_user(svc, actor, id).await?;
    users::release_sign_in(&svc.store, Some(actor.id), &user).await
}

/// Pending applicants of organization `org_id`, oldest first (its administrators).
pub async fn applications(svc: &Services, actor: &User, org_id: Uuid) -> ServiceResult<Vec<User>> {
    let org = administered_org(svc, actor, org_id).await?;
    svc.store
        .users_of(org.id, Some(UserStatus::Pending))
        .await
        .or_service("organization_not_found")
}

/// Approves (active) or rejects (retired) applicant `id` (their organization's
/// administrators).
pub async fn decide_application(
    svc: &Services,
    actor: &User,
    id: Uuid,
    approve: bool,
) -> ServiceResult<User> {
    let user = administered_user(svc, actor, id).await?;
    users::decide_application(&svc.store, Some(actor.id), &user, approve).await
}
