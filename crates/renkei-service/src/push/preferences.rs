//! A user's own notification settings: do-not-disturb hours in their UTC offset and the
//! colleague who covers them (an active user of the same organization, not themselves).

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::user::UserStatus;
use renkei_store::NotificationSettings;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dnd::{format_hhmm, parse_hhmm};
use crate::Services;
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Offsets from UTC that exist (UTC−12:00 to UTC+14:00), in minutes.
const OFFSETS: std::ops::RangeInclusive<i64> = -720..=840;

/// My notification settings as the API shows and takes them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MyNotifications {
    /// Start of do-not-disturb, `HH:MM` local time (urgent messages still pass); null: none.
    #[serde(default)]
    pub dnd_start: Option<String>,
    /// End of do-not-disturb, `HH:MM` (before the start wraps midnight).
    #[serde(default)]
    pub dnd_end: Option<String>,
    /// My local time's offset from UTC, in minutes (Japan: 540).
    #[serde(default)]
    pub utc_offset_minutes: i64,
    /// The colleague alerted when I leave an urgent message unacknowledged.
    #[serde(default)]
    pub covering_user_id: Option<Uuid>,
}

fn view(s: NotificationSettings) -> MyNotifications {
    MyNotifications {
        dnd_start: s.dnd_start_minute.map(format_hhmm),
        dnd_end: s.dnd_end_minute.map(format_hhmm),
        utc_offset_minutes: s.utc_offset_minutes,
        covering_user_id: s.covering_user_id,
    }
}

/// The caller's settings (defaults when never set).
pub async fn get(svc: &Services, caller: &Authed) -> ServiceResult<MyNotifications> {
    svc.store
        .notification_settings(caller.user.id)
        .await
        .or_service("user_not_found")
        .map(view)
}

/// Replaces the caller's settings (audited).
pub async fn set(
    svc: &Services,
    caller: &Authed,
    req: MyNotifications,
) -> ServiceResult<MyNotifications> {
    let minute = |t: &Option<String>| -> ServiceResult<Option<i64>> {
        t.as_deref()
            .map(|t| {
                parse_hhmm(t).ok_or_else(|| {
                    ServiceError::invalid("invalid_dnd_hours", "do-not-disturb times are HH:MM")
                })
            })
            .transpose()
    };
    let (start, end) = (minute(&req.dnd_start)?, minute(&req.dnd_end)?);
    if start.is_some() != end.is_some() {
        return Err(ServiceError::invalid(
            "invalid_dnd_hours",
            "give both the start and the end of do-not-disturb, or neither",
        ));
    }
    if !OFFSETS.contains(&req.utc_offset_minutes) {
        return Err(ServiceError::invalid(
            "invalid_utc_offset",
            "utc_offset_minutes must lie between -720 and 840",
        ));
    }
    if let Some(cover) = req.covering_user_id {
        let refused = || {
            ServiceError::invalid(
                "invalid_covering_user",
                "the covering colleague must be another active user of your organization",
            )
        };
        if cover == caller.user.id {
            return Err(refused());
        }
        let user = svc.store.user(cover).await.map_err(|_| refused())?;
        if user.org_id != caller.user.org_id || user.status != UserStatus::Active {
            return Err(refused());
        }
    }
    let settings = NotificationSettings {
        dnd_start_minute: start,
        dnd_end_minute: end,
        utc_offset_minutes: req.utc_offset_minutes,
        covering_user_id: req.covering_user_id,
    };
    let event = AuditEvent::new(
        "user.notifications_update",
        Some(caller.user.org_id),
        Some(caller.user.id),
        "user",
        Some(caller.user.id),
    );
    svc.store
        .set_notification_settings(caller.user.id, &settings, &event)
        .await
        .or_service("user_not_found")?;
    Ok(view(settings))
}
