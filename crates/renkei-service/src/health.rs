//! Whether the service can serve: its database answers.

use crate::Services;
use crate::error::{OrService, ServiceResult};

/// Succeeds when the database answers a trivial query.
pub async fn ready(services: &Services) -> ServiceResult<()> {
    services
        .store
        .ping()
        .await
        .or_service("database_unavailable")
}
