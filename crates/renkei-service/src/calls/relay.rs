//! What the media relay (SFU) says to participants goes to their sockets as `call_signal`
//! frames from `"sfu"`.

use std::sync::Arc;

use renkei_core::call::RelaySignal;
use tokio::sync::mpsc;

use super::Calls;
use crate::messaging::frames::ServerFrame;

/// Forwards the relay's signals until it stops.
pub(super) async fn forward(calls: Arc<Calls>, mut signals: mpsc::Receiver<RelaySignal>) {
    while let Some(signal) = signals.recv().await {
        let Ok((_, user)) = calls.participant(signal.call, &signal.conn) else {
            continue;
        };
        let frame = ServerFrame::CallSignal {
            call_id: signal.call,
            from_user: None,
            from_conn: "sfu",
            data: &signal.data,
        }
        .text();
        calls.send_to_conn(user, &signal.conn, frame);
    }
}
