//! Web Push (RFC 8030/8291/8292): subscriptions, the VAPID key, what a push says, the
//! allow-list, sending and its health, and the fan-out from committed messages to alerts.

pub mod dispatcher;
pub mod dnd;
pub mod encrypt;
pub mod endpoint_allow;
pub mod fanout;
pub mod lane;
pub mod marks;
pub mod payload;
pub mod preferences;
pub mod sender;
pub mod subscriptions;
pub mod vapid;

use std::sync::Arc;

use renkei_core::clock::Timestamp;
use tokio::sync::mpsc;

use crate::Services;
use crate::error::{ServiceError, ServiceResult};
use crate::notify::Notifier;

/// Starts Web Push: loads (or makes) the VAPID key, drops subscriptions failing for a week,
/// makes [`dispatcher::WebPush`] the services' notifier and has the message writer hand
/// every commit to the fan-out. Call once, before `svc` is cloned.
pub async fn start(svc: &mut Services) -> ServiceResult<()> {
    let key = vapid::load_or_create(&svc.store, &svc.media.blobs).await?;
    let vapid = vapid::Vapid::open(&svc.media.blobs, &key, &svc.settings.push_subject)?;
    let cutoff = Timestamp(Timestamp::now().millis() - dispatcher::FAILING_DROP_AFTER_MS);
    svc.store
        .drop_failing_push_subscriptions(cutoff)
        .await
        .map_err(|e| ServiceError::internal(&e))?;
    let marks = marks::Marks::start(svc.messaging.clone());
    let web = dispatcher::WebPush::start(
        svc.store.clone(),
        sender::Sender::new(vapid),
        svc.settings.push_endpoint_allow.clone(),
        marks,
    )
    .map_err(|e| ServiceError::internal(&e))?;
    svc.notifier = Arc::new(web);
    fan_out_to(svc, svc.notifier.clone());
    Ok(())
}

/// Has every commit's new messages turned into alerts for `notifier` (the first call wins).
pub fn fan_out_to(svc: &Services, notifier: Arc<dyn Notifier>) {
    let (tx, rx) = mpsc::channel(fanout::QUEUE);
    tokio::spawn(fanout::run(svc.store.clone(), notifier, rx));
    svc.messaging.tap_commits(tx);
}
