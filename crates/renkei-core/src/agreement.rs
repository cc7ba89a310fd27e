//! Cooperation between organizations: agreements with scopes, and regional councils.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::DomainError;
use crate::clock::Timestamp;
use crate::org::{OrgKind, Organization};

string_enum!(
    /// What an agreement lets two organizations do together.
    Scope {
        Directory => "directory",
        Messaging => "messaging",
        Images => "images",
    }
);

string_enum!(
    /// Where an agreement is in its life: proposed → active → revoked (or proposed → revoked).
    AgreementStatus {
        Proposed => "proposed",
        Active => "active",
        Revoked => "revoked",
    }
);

string_enum!(
    /// A hospital's standing in a council: invited by the council, then opted in or out.
    CouncilStatus {
        Invited => "invited",
        OptedIn => "opted_in",
        OptedOut => "opted_out",
    }
);

/// An agreement between two organizations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Agreement {
    pub id: Uuid,
    /// The organization that proposed it.
    pub proposer_org_id: Uuid,
    /// The organization asked to accept it.
    pub partner_org_id: Uuid,
    pub scopes: Vec<Scope>,
    pub status: AgreementStatus,
    /// The council that created it, if any (opting out of the council revokes it).
    pub council_id: Option<Uuid>,
    pub proposed_by: Option<Uuid>,
    pub proposed_at: Timestamp,
    pub accepted_by: Option<Uuid>,
    pub accepted_at: Option<Timestamp>,
    pub revoked_by: Option<Uuid>,
    pub revoked_at: Option<Timestamp>,
}

impl Agreement {
    /// The other party, seen from `org`.
    pub fn other_than(&self, org: Uuid) -> Uuid {
        if self.proposer_org_id == org {
            self.partner_org_id
        } else {
            self.proposer_org_id
        }
    }

    /// Whether `org` is one of the two parties.
    pub fn involves(&self, org: Uuid) -> bool {
        self.proposer_org_id == org || self.partner_org_id == org
    }
}

/// A hospital of a council, with its standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouncilMember {
    pub org_id: Uuid,
    pub org_name: String,
    pub status: CouncilStatus,
    pub updated_at: Timestamp,
}

/// A council one organization belongs to, with that organization's standing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CouncilMembership {
    pub council_id: Uuid,
    pub council_name: String,
    pub status: CouncilStatus,
}

/// The key of an unordered pair of organizations: at most one open agreement per pair.
pub fn pair_key(a: Uuid, b: Uuid) -> String {
    if a < b {
        format!("{a}:{b}")
    } else {
        format!("{b}:{a}")
    }
}

/// Scopes deduplicated in a fixed order; at least one is needed.
pub fn validate_scopes(scopes: &[Scope]) -> Result<Vec<Scope>, DomainError> {
    let out: Vec<Scope> = Scope::ALL
        .iter()
        .copied()
        .filter(|s| scopes.contains(s))
        .collect();
    if out.is_empty() {
        return Err(DomainError::invalid(
            "invalid_scopes",
            "an agreement needs at least one scope: directory, messaging or images",
        ));
    }
    Ok(out)
}

/// Scopes as stored: comma-separated names.
pub fn scopes_text(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Scopes from their stored text (unknown names are ignored).
pub fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

/// Checks that `from` may propose an agreement to `to`: two different hospitals.
pub fn check_parties(from: &Organization, to: &Organization) -> Result<(), DomainError> {
    if from.id == to.id {
        return Err(DomainError::invalid(
            "self_agreement",
            "an organization cannot make an agreement with itself",
        ));
    }
    if from.kind != OrgKind::Hospital || to.kind != OrgKind::Hospital {
        return Err(DomainError::invalid(
            "not_a_hospital",
            "agreements are between hospitals; a council sets them up for its members",
        ));
    }
    Ok(())
}

/// The organizations whose members must leave a conversation owned by `owner` because `a`
/// and `b` no longer cooperate: the one that does not own it, or both when neither does.
pub fn orgs_to_remove(owner: Uuid, a: Uuid, b: Uuid) -> Vec<Uuid> {
    if owner == a {
        vec![b]
    } else if owner == b {
        vec![a]
    } else {
        vec![a, b]
    }
}

/// Every unordered pair of `orgs` (each pair once).
pub fn pairs(orgs: &[Uuid]) -> Vec<(Uuid, Uuid)> {
    let mut out = Vec::new();
    for (i, a) in orgs.iter().enumerate() {
        for b in &orgs[i + 1..] {
            out.push((*a, *b));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::NewOrganization;

    fn org(kind: OrgKind) -> Organization {
        NewOrganization {
            name: "Oita".into(),
            slug: Some(format!("o{}", crate::new_id().simple())),
            kind: Some(kind),
        }
        .build(Timestamp(0))
        .unwrap()
    }

    #[test]
    fn scopes_are_deduplicated_and_required() {
        let s = validate_scopes(&[Scope::Images, Scope::Directory, Scope::Images]).unwrap();
        assert_eq!(s, vec![Scope::Directory, Scope::Images]);
        assert_eq!(scopes_text(&s), "directory,images");
        assert_eq!(parse_scopes("directory,images"), s);
        assert_eq!(validate_scopes(&[]).unwrap_err().code(), "invalid_scopes");
    }

    #[test]
    fn parties_must_be_two_hospitals() {
        let a = org(OrgKind::Hospital);
        let b = org(OrgKind::Hospital);
        let council = org(OrgKind::Council);
        assert!(check_parties(&a, &b).is_ok());
        assert_eq!(check_parties(&a, &a).unwrap_err().code(), "self_agreement");
        assert_eq!(
            check_parties(&a, &council).unwrap_err().code(),
            "not_a_hospital"
        );
    }

    #[test]
    fn pair_key_ignores_order_and_pairs_cover_each_pair_once() {
        let (a, b, c) = (crate::new_id(), crate::new_id(), crate::new_id());
        assert_eq!(pair_key(a, b), pair_key(b, a));
        assert_eq!(pairs(&[a, b, c]), vec![(a, b), (a, c), (b, c)]);
        assert!(pairs(&[a]).is_empty());
    }

    #[test]
    fn the_owner_keeps_its_members() {
        let (o, x) = (crate::new_id(), crate::new_id());
        assert_eq!(orgs_to_remove(o, o, x), vec![x]);
        assert_eq!(orgs_to_remove(o, x, o), vec![x]);
        let y = crate::new_id();
        assert_eq!(orgs_to_remove(o, x, y), vec![x, y]);
    }
}
