//! Shared view: one participant leads, the others' viewers follow. The study and media access
//! rules hold for each participant: one who may not open the target gets a notice, never its id.

use renkei_core::Uuid;

use super::{Calls, forbidden};
use crate::Services;
use crate::error::ServiceResult;
use crate::messaging::frames::{ServerFrame, SharedTarget, ViewKind, ViewState, ViewTarget};

/// Sends the leader's view to every other socket in the call.
pub(super) async fn share(
    svc: &Services,
    user: Uuid,
    conn: &str,
    id: Uuid,
    target: ViewTarget,
    state: ViewState,
) -> ServiceResult<()> {
    let call = svc.calls.own_participant(id, user, conn)?;
    if !may_open(svc, id, call.conversation_id, user, target).await {
        return Err(forbidden("you may not open what you would share"));
    }
    for p in call.participants.iter().filter(|p| p.conn != conn) {
        let allowed = may_open(svc, id, call.conversation_id, p.user_id, target).await;
        let frame = ServerFrame::ViewShare {
            call_id: id,
            from_user: user,
            target: SharedTarget {
                kind: target.kind,
                id: allowed.then_some(target.id),
            },
            state: allowed.then_some(&state),
            allowed,
        }
        .text();
        svc.calls.send_to_conn(p.user_id, &p.conn, frame);
    }
    Ok(())
}

/// Tells every other socket in the call that the leader stopped.
pub(super) fn stop(svc: &Services, user: Uuid, conn: &str, id: Uuid) -> ServiceResult<()> {
    let call = svc.calls.own_participant(id, user, conn)?;
    let frame = ServerFrame::ViewStop {
        call_id: id,
        from_user: user,
    }
    .text();
    for p in call.participants.iter().filter(|p| p.conn != conn) {
        svc.calls.send_to_conn(p.user_id, &p.conn, frame.clone());
    }
    Ok(())
}

/// Whether `user` may open `target`, decided once per call (the store is asked the first time).
async fn may_open(
    svc: &Services,
    call: Uuid,
    conversation: Uuid,
    user: Uuid,
    target: ViewTarget,
) -> bool {
    if let Some(known) = svc.calls.known_access(call, user, target) {
        return known;
    }
    let allowed = match svc.store.user(user).await {
        Err(_) => false,
        Ok(who) => match target.kind {
            ViewKind::Study => svc
                .dicom
                .visible_study(target.id, who.id, who.org_id)
                .await
                .is_ok(),
            ViewKind::Media => svc
                .media
                .visible(target.id, &who, Some(conversation))
                .await
                .is_ok(),
        },
    };
    svc.calls.note_access(call, user, target, allowed);
    allowed
}

impl Calls {
    fn known_access(&self, call: Uuid, user: Uuid, target: ViewTarget) -> Option<bool> {
        self.registry()
            .get(&call)?
            .view_access
            .get(&(user, target))
            .copied()
    }

    fn note_access(&self, call: Uuid, user: Uuid, target: ViewTarget, allowed: bool) {
        if let Some(entry) = self.registry().get_mut(&call) {
            entry.view_access.insert((user, target), allowed);
        }
    }
}
