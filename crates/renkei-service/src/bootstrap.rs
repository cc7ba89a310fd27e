//! First start: an empty database gets a first organization and administrator.

use renkei_core::org::NewOrganization;
use renkei_core::user::{Applicant, NewUser, Profession, Role};
use renkei_store::Store;

use crate::accounts;
use crate::auth::password::Hasher;
use crate::auth::token::random_password;
use crate::error::{OrService, ServiceResult};

/// The first administrator's sign-in, to be shown once to whoever started the server.
#[derive(Debug)]
pub struct FirstAdmin {
    pub org_slug: String,
    pub login: String,
    pub one_time_password: String,
}

/// Creates the first organization and its administrator when there is no organization yet.
/// Returns `None` when the database already had one (or another node just created it).
pub async fn ensure_first_admin(
    store: &Store,
    hasher: &Hasher,
) -> ServiceResult<Option<FirstAdmin>> {
    if store
        .count_orgs()
        .await
        .or_service("organization_not_found")?
        > 0
    {
        return Ok(None);
    }
    let new_org = NewOrganization {
        name: "First Hospital".into(),
        slug: Some("first".into()),
        kind: None,
    };
    let org = match accounts::create_org(store, None, new_org).await {
        Ok(org) => org,
        Err(e) if e.code == "slug_taken" => return Ok(None),
        Err(e) => return Err(e),
    };
    let password = random_password(20);
    let admin = NewUser {
        roles: vec![Role::OrgAdmin, Role::ServerAdmin],
        ..NewUser::from(Applicant {
            login: "admin".into(),
            display_name: "Administrator".into(),
            kana: String::new(),
            romaji: None,
            profession: Profession::Other,
            department_id: None,
            email: None,
            phone: None,
            password: password.clone(),
        })
    };
    let user = accounts::create_user(store, hasher, None, &org, admin).await?;
    Ok(Some(FirstAdmin {
        org_slug: org.slug,
        login: user.login,
        one_time_password: password,
    }))
}
