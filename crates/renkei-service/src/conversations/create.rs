//! Starting a conversation: a direct one (at most one per pair: asking again returns it) or a
//! group, also for others by an organization admin; audited in the same transaction either way.

use renkei_core::Uuid;
use renkei_core::access;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{
    Conversation, ConversationKind, MAX_MEMBERS, MemberRole, direct_key, validate_title,
};
use renkei_core::user::User;
use renkei_store::StoreError;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{ConversationView, conversation_audit, own_member, view_of};
use crate::Services;
use crate::cooperation::require_messaging;
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewConversation {
    pub kind: ConversationKind,
    /// Required for groups.
    #[serde(default)]
    pub title: Option<String>,
    /// The other members (for a direct conversation: exactly one).
    #[serde(default)]
    pub member_ids: Vec<Uuid>,
    /// Members who manage the group besides the creator.
    #[serde(default)]
    pub admin_ids: Vec<Uuid>,
    /// False when an organization admin creates a group for others without joining it.
    #[serde(default = "yes")]
    pub include_me: bool,
}

fn yes() -> bool {
    true
}

/// The conversation asked for, and whether it is new (`false`: the pair's existing direct
/// conversation).
#[derive(Debug)]
pub struct Created {
    pub view: ConversationView,
    pub new: bool,
}

/// What a request asks to create, decided before anything is written.
enum Shape {
    /// The direct conversation of `me` and `other`, under its pair key.
    Direct { other: Uuid, key: String },
    /// A group with this title and these first members.
    Group {
        title: String,
        members: Vec<(Uuid, MemberRole)>,
    },
}

/// Starts a direct conversation (returns the existing one with that person) or a group.
pub async fn create(
    services: &Services,
    me: &User,
    req: NewConversation,
) -> ServiceResult<Created> {
    let others = others(me, &req);
    if others.len() + 1 > MAX_MEMBERS {
        return Err(ServiceError::invalid(
            "too_many_members",
            format!("a group has at most {MAX_MEMBERS} members"),
        ));
    }
    let mut orgs = vec![me.org_id];
    for id in &others {
        orgs.push(super::members::reachable_user(services, *id).await?.org_id);
    }
    require_messaging(services, &orgs).await?;
    let now = Timestamp::now();
    let mut conversation = Conversation {
        id: renkei_core::new_id(),
        org_id: me.org_id,
        kind: req.kind,
        title: None,
        created_by: Some(me.id),
        last_seq: 0,
        retention_days: None,
        created_at: now,
        updated_at: now,
    };
    let (members, key) = match shape(me, &req, &others)? {
        Shape::Direct { other, key } => {
            if let Ok(existing) = services.store.conversation_by_direct_key(&key).await {
                rejoin_direct(services, me, existing.id, [me.id, other]).await?;
                return existing_view(services, me, existing.id).await;
            }
            (
                vec![(me.id, MemberRole::Member), (other, MemberRole::Member)],
                Some(key),
            )
        }
        Shape::Group { title, members } => {
            conversation.title = Some(title);
            (members, None)
        }
    };
    let action = if req.include_me {
        "conversation.create"
    } else {
        "conversation.create_for_others"
    };
    let created_audit = conversation_audit(
        me,
        conversation.id,
        action,
        json!({"members": members.iter().map(|(id, _)| id).collect::<Vec<_>>()}),
    );
    let created = match services
        .store
        .create_conversation(
            &conversation,
            key.as_deref(),
            &members,
            Some(&created_audit),
        )
        .await
    {
        Err(StoreError::Duplicate("direct_exists")) => {
            let existing = services
                .store
                .conversation_by_direct_key(key.as_deref().unwrap_or_default())
                .await
                .or_service("conversation_not_found")?;
            return existing_view(services, me, existing.id).await;
        }
        other => other.or_service("conversation_not_found")?,
    };
    services.messaging.advanced(created.id, created.last_seq);
    Ok(Created {
        view: view_of(services, me, created.id).await?,
        new: true,
    })
}

/// Everyone named besides `me`, each once, in the order given (members, then admins).
fn others(me: &User, req: &NewConversation) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = Vec::new();
    for id in req.member_ids.iter().chain(&req.admin_ids) {
        if *id != me.id && !ids.contains(id) {
            ids.push(*id);
        }
    }
    ids
}

/// What `req` asks to create, or why it cannot be.
fn shape(me: &User, req: &NewConversation, others: &[Uuid]) -> ServiceResult<Shape> {
    let invalid = |code, message: &str| ServiceError::new(Kind::Invalid, code, message);
    match req.kind {
        ConversationKind::Direct => {
            let [other] = others[..] else {
                return Err(invalid(
                    "invalid_members",
                    "a direct conversation is with exactly one other person",
                ));
            };
            if req.title.is_some() || !req.include_me {
                return Err(invalid(
                    "invalid_members",
                    "a direct conversation has no title and includes you",
                ));
            }
            Ok(Shape::Direct {
                other,
                key: direct_key(me.id, other),
            })
        }
        ConversationKind::Group => {
            let title = req
                .title
                .as_deref()
                .ok_or_else(|| invalid("invalid_name", "a group needs a title"))?;
            let title = validate_title(title)?;
            let mut members = Vec::new();
            if req.include_me {
                members.push((me.id, MemberRole::Admin));
            } else if !access::may_create_group_for_others(me) {
                return Err(ServiceError::forbidden(
                    "only organization admins create groups they are not in",
                ));
            }
            for id in others {
                let role = if req.admin_ids.contains(id) {
                    MemberRole::Admin
                } else {
                    MemberRole::Member
                };
                members.push((*id, role));
            }
            if members.is_empty() {
                return Err(invalid("invalid_members", "a group needs members"));
            }
            Ok(Shape::Group { title, members })
        }
    }
}

/// The pair's existing direct conversation, as an answer.
async fn existing_view(services: &Services, me: &User, id: Uuid) -> ServiceResult<Created> {
    Ok(Created {
        view: view_of(services, me, id).await?,
        new: false,
    })
}

/// Brings back into a direct conversation whichever of the pair left it (an agreement was
/// revoked, then made again), once the pair may talk again.
async fn rejoin_direct(
    services: &Services,
    me: &User,
    id: Uuid,
    pair: [Uuid; 2],
) -> ServiceResult<()> {
    for user in pair {
        if own_member(services, user, id).await?.is_some() {
            continue;
        }
        let seq = services
            .store
            .add_member(id, user, MemberRole::Member, Some(me.id), None)
            .await
            .or_service("conversation_not_found")?;
        services.messaging.membership_changed(id, None);
        services.messaging.advanced(id, seq);
    }
    Ok(())
}
