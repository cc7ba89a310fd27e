//! Changing a group: its title, and how long it shows media and studies (only ever shorter).

use renkei_core::Uuid;
use renkei_core::access;
use renkei_core::conversation::validate_title;
use renkei_core::user::User;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{ConversationView, conversation_audit, managed, view_of};
use crate::Services;
use crate::error::{OrService, ServiceError, ServiceResult};

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationChange {
    /// A group's new title.
    #[serde(default)]
    pub title: Option<String>,
    /// Show this conversation's media and studies fewer days than the organization keeps them
    /// (1 up to the organization's retention), counted from each message; applies to what was
    /// already posted too. They are hidden here only (`410` through this conversation): the
    /// objects keep their own organization's retention.
    #[serde(default)]
    pub retention_days: Option<i64>,
}

/// Renames a group or shortens how long it shows its media (its managers,
/// `access::group_management`); each change is an event with its audit entry.
pub async fn change(
    services: &Services,
    me: &User,
    id: Uuid,
    req: ConversationChange,
) -> ServiceResult<ConversationView> {
    let conversation = managed(services, me, id).await?;
    if let Some(title) = &req.title {
        let title = validate_title(title)?;
        let audit = conversation_audit(me, id, "conversation.renamed", json!({"title": title}));
        let seq = services
            .store
            .set_title(id, &title, Some(me.id), &audit)
            .await
            .or_service("conversation_not_found")?;
        services.messaging.advanced(id, seq);
    }
    if let Some(days) = req.retention_days {
        let org = services
            .store
            .org(conversation.org_id)
            .await
            .or_service("conversation_not_found")?;
        let (current, org_days) = (conversation.retention_days, org.policy.retention_days);
        if !access::may_set_retention(days, current, org_days) {
            let longest = access::longest_retention(current, org_days);
            return Err(ServiceError::invalid(
                "invalid_retention",
                format!(
                    "retention_days must be between 1 and {longest}: a conversation may keep media for less time, never more"
                ),
            ));
        }
        let audit = conversation_audit(
            me,
            id,
            "conversation.retention_changed",
            json!({"retention_days": days}),
        );
        let seq = services
            .store
            .set_retention(id, days, Some(me.id), &audit)
            .await
            .or_service("conversation_not_found")?;
        services.messaging.advanced(id, seq);
    }
    view_of(services, me, id).await
}
