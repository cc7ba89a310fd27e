//! The urgent-alert scheduler: wakes when the next re-alert or escalation is due (at least
//! every few seconds), claims due rows in one transaction that stores their next schedule,
//! escalation notices and audit entries, and only after the commit sends the alerts. Its only
//! state is the rows, so a restart loses nothing and two nodes never alert twice.

use std::sync::Arc;
use std::time::Duration;

use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::urgent::{AlertPolicy, minutes_between};
use renkei_store::{Claimed, DueAlert, Planned};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::Services;
use crate::error::{OrService, ServiceResult};
use crate::messaging::frames::ServerFrame;
use crate::notify::{Alert, AlertKind};

/// Longest sleep between looks at the schedule.
const MAX_IDLE: Duration = Duration::from_secs(5);
/// Most rows claimed in one transaction.
const CLAIM_BATCH: i64 = 200;
/// How long a push service may hold a re-alert or an escalation, in seconds.
const ALERT_TTL_SECONDS: u32 = 86_400;

/// A running scheduler.
pub struct Scheduler {
    wake: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    /// Has the scheduler look at the schedule now (tests that moved a manual clock).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops the scheduler (what it committed stays done; what it had not claimed waits).
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Starts the scheduler over `services` (call within a Tokio runtime).
pub fn start(services: Services) -> Scheduler {
    let wake = Arc::new(Notify::new());
    let woken = wake.clone();
    let task = tokio::spawn(async move {
        loop {
            let mut full = false;
            match run_due(&services).await {
                Ok(n) => full = n as i64 >= CLAIM_BATCH,
                Err(e) => tracing::warn!(code = e.code, "urgent alert round failed; retrying"),
            }
            if full {
                continue;
            }
            let wait = match services.store.next_urgent_due().await {
                Ok(Some(due)) => {
                    let ms = due.millis() - services.clock.now().millis();
                    Duration::from_millis(ms.max(0) as u64).min(MAX_IDLE)
                }
                _ => MAX_IDLE,
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = woken.notified() => {}
            }
        }
    });
    Scheduler { wake, task }
}

/// One round: claims every row due now (by the services' clock), commits, then sends the
/// re-alerts and escalations and tells the sockets. Returns how many rows were claimed.
pub async fn run_due(services: &Services) -> ServiceResult<usize> {
    let now = services.clock.now();
    let claimed = services
        .store
        .claim_urgent_alerts(now, CLAIM_BATCH, |due| plan(due, now))
        .await
        .or_service("urgent_alert_not_found")?;
    for c in &claimed {
        send(services, c);
    }
    Ok(claimed.len())
}

/// The covering colleague of a due row's recipient: their own setting, else their
/// department's on-call user; never the recipient or the sender themselves.
pub fn covering_colleague(due: &DueAlert) -> Option<Uuid> {
    [due.covering_user_id, due.on_call_user_id]
        .into_iter()
        .flatten()
        .find(|u| *u != due.alert.user_id && *u != due.alert.sender_id)
}

/// What to do with a due row at `now`: the next schedule, the escalation with its notice,
/// and the audit entries.
pub fn plan(due: &DueAlert, now: renkei_core::clock::Timestamp) -> Planned {
    let a = &due.alert;
    let step = a.schedule.step(AlertPolicy::from(&due.policy), now);
    let audit = |action: &'static str, details: Value| {
        AuditEvent::new(
            action,
            Some(due.recipient_org),
            None,
            "conversation",
            Some(a.conversation_id),
        )
        .with_details(details)
    };
    let mut audits = Vec::new();
    if step.realert {
        audits.push(audit(
            "urgent.realert",
            json!({"seq": a.seq, "user_id": a.user_id, "alert": step.next.alerts_sent}),
        ));
    }
    let mut escalate = None;
    if step.escalate {
        let minutes = minutes_between(a.created_at, now);
        let to = covering_colleague(due);
        audits.push(audit(
            "urgent.escalate",
            json!({"seq": a.seq, "user_id": a.user_id, "covering_user_id": to,
                   "unacknowledged_minutes": minutes}),
        ));
        escalate = to.map(|to| (to, notice(due, minutes)));
    }
    Planned {
        next: step.next,
        escalated: step.escalate,
        escalate,
        audits,
    }
}

/// The system notice in the covering colleague's direct conversation with the sender: who,
/// when, for how long, never what.
fn notice(due: &DueAlert, minutes: i64) -> Value {
    let a = &due.alert;
    let sent_at = a.created_at.to_rfc3339();
    json!({
        "notice": "urgent_escalated",
        "recipient_id": a.user_id,
        "recipient_name": due.recipient_name,
        "sender_id": a.sender_id,
        "sent_at": sent_at,
        "unacknowledged_minutes": minutes,
        "text": format!(
            "{}さん宛ての緊急メッセージ（{} 送信）が{}分間未確認です / Urgent message to {} sent {} unacknowledged for {} min",
            due.recipient_name, sent_at, minutes, due.recipient_name, sent_at, minutes
        ),
    })
}

/// After the commit: the alerts, the notice's timeline event and the sender's live frame.
fn send(services: &Services, c: &Claimed) {
    let a = &c.due.alert;
    if c.planned.next.alerts_sent > a.schedule.alerts_sent {
        services.notifier.notify(Alert {
            user_id: a.user_id,
            conversation_id: a.conversation_id,
            seq: a.seq,
            kind: AlertKind::Realert,
            ttl_seconds: ALERT_TTL_SECONDS,
        });
    }
    if let (Some((to, _)), Some((direct, notice_seq))) = (&c.planned.escalate, c.notice) {
        services.messaging.membership_changed(direct, None);
        services.messaging.advanced(direct, notice_seq);
        services.notifier.notify(Alert {
            user_id: *to,
            conversation_id: direct,
            seq: notice_seq,
            kind: AlertKind::Escalation,
            ttl_seconds: ALERT_TTL_SECONDS,
        });
        let frame = ServerFrame::Escalated {
            conversation_id: a.conversation_id,
            seq: a.seq,
            user_id: a.user_id,
            covering_user_id: *to,
        }
        .text();
        services.messaging.ephemeral(a.conversation_id, frame, None);
    }
}
