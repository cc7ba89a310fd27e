//! The resume grace: a dropped participant's place waits, then it leaves unless its session's
//! new socket took it back (`call_resume`).

use renkei_core::Uuid;
use renkei_core::call::CallEvent;

use crate::Services;

/// Ends participant `conn`'s wait in call `id` after the grace, in the background.
pub(super) fn spawn(svc: Services, id: Uuid, conn: String) {
    tokio::spawn(async move {
        tokio::time::sleep(svc.calls.resume_grace()).await;
        // Refused (and nothing happens) when it resumed, or the call ended meanwhile.
        let _ = svc
            .calls
            .apply(id, usize::MAX, CallEvent::GraceOver { conn })
            .await;
    });
}
