//! Accounts: organizations and departments, users and their administration, signing in with
//! its lockout, second factor and passkeys, and a user's own secrets; every change audited in the same
//! transaction.

pub mod lockout;
pub mod orgs;
pub mod own_secrets;
pub mod passkeys;
pub mod second_factor;
pub mod sign_in;
pub mod user_admin;
pub mod users;

pub use orgs::{create_department, create_org, rename_department, update_org};
pub(crate) use users::check_department;
pub use users::{
    create_user, decide_application, release_sign_in, reset_passcode, reset_password, update_user,
};

use renkei_store::StoreError;
use serde::Serialize;

use crate::error::{OrService, ServiceError, ServiceResult};

/// The answer to an edit made at a version: a stale one becomes `version_conflict` carrying
/// the record as it is now (`current` is only awaited then).
pub(crate) async fn saved_or_conflict<T: Serialize>(
    saved: Result<T, StoreError>,
    current: impl Future<Output = Result<T, StoreError>>,
    not_found: &'static str,
) -> ServiceResult<T> {
    match saved {
        Err(StoreError::Stale) => Err(ServiceError::version_conflict(
            current.await.or_service(not_found)?,
        )),
        other => other.or_service(not_found),
    }
}
