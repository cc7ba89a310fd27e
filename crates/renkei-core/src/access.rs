//! Who may read or administer what; every handler asks here, never decides itself.

use uuid::Uuid;

use crate::user::{Role, User};

/// Whether `actor` may administer organization `org_id` (its users, departments, policy).
pub fn can_administer(actor: &User, org_id: Uuid) -> bool {
    actor.has_role(Role::ServerAdmin) || (actor.has_role(Role::OrgAdmin) && actor.org_id == org_id)
}

/// Whether `actor` may read organization `org_id`'s directory and records.
pub fn can_read(actor: &User, org_id: Uuid) -> bool {
    actor.has_role(Role::ServerAdmin) || actor.org_id == org_id
}

/// Whether `actor` may create organizations and administer all of them.
pub fn is_server_admin(actor: &User) -> bool {
    actor.has_role(Role::ServerAdmin)
}
