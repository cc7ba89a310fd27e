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

/// Whether a change to a user involves server administration: the user is a server
/// administrator now (`before`), or would be after it (`after`).
pub fn touches_server_admin(before: &[Role], after: &[Role]) -> bool {
    before.contains(&Role::ServerAdmin) || after.contains(&Role::ServerAdmin)
}

/// Whether `actor` may change a user whose roles are `before` and would be `after` (equal for
/// a profile edit, status change, password, passcode or second-factor reset, or release).
/// Only a server administrator changes a server administrator or makes one; the
/// organization scope is [`can_administer`]'s to check.
pub fn may_change_user(actor: &User, before: &[Role], after: &[Role]) -> bool {
    is_server_admin(actor) || !touches_server_admin(before, after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;
    use crate::user::{Profession, UserStatus};

    fn user(roles: &[Role]) -> User {
        User {
            id: crate::new_id(),
            org_id: Uuid::nil(),
            login: "x".into(),
            display_name: "x".into(),
            kana: "x".into(),
            romaji: "x".into(),
            profession: Profession::Nurse,
            department_id: None,
            email: None,
            phone: None,
            roles: roles.to_vec(),
            status: UserStatus::Active,
            staff_number: None,
            affiliations: vec![],
            second_factor_required: false,
            second_factor_enrolled: false,
            must_change_password: false,
            version: 1,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn an_org_admin_changes_no_server_admin_and_makes_none() {
        let org_admin = user(&[Role::OrgAdmin]);
        let server = [Role::ServerAdmin];
        let demoted = [Role::OrgAdmin];
        // Demoting a server administrator: the roles granted hold none, but it touches one.
        assert!(!may_change_user(&org_admin, &server, &demoted));
        // Resets, status and profile edits keep the roles: still a server administrator.
        assert!(!may_change_user(&org_admin, &server, &server));
        assert!(!may_change_user(&org_admin, &demoted, &server));
        assert!(!may_change_user(&org_admin, &[], &server));
        assert!(may_change_user(&org_admin, &demoted, &[]));
        assert!(may_change_user(&org_admin, &[], &[]));
    }

    #[test]
    fn a_server_admin_changes_anyone() {
        let root = user(&[Role::ServerAdmin]);
        assert!(may_change_user(&root, &[Role::ServerAdmin], &[]));
        assert!(may_change_user(&root, &[], &[Role::ServerAdmin]));
    }
}
