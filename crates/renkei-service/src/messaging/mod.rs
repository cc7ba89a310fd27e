//! Real-time messaging: the group-commit writer, the bus, this node's hub of sockets, and the
//! WebSocket session that ties them to a client.

pub mod bus;
pub mod delivery;
pub mod frames;
pub mod hub;
pub mod inbox;
pub mod nats;
pub mod writer;

use std::sync::Arc;
use std::time::Duration;

use crate::error::Kind;
use renkei_core::Uuid;
use renkei_core::conversation::NewMessage;
use renkei_store::{MemberMark, Post, PostRefusal, Posted, Store};

use crate::error::{ServiceError, ServiceResult};
use bus::{Bus, LocalBus, Signal};
use hub::Hub;
use writer::Writer;

/// The messaging service: posting, and telling connected clients what changed.
pub struct Messaging {
    pub store: Store,
    pub hub: Arc<Hub>,
    /// Where DICOM ingest notes new studies for live inboxes.
    pub inbox: inbox::InboxHints,
    /// Delivered marks from live sockets, written together about once a second.
    pub delivery: Arc<delivery::MemberMarks>,
    bus: Arc<dyn Bus>,
    writer: Writer,
    /// Where the writer hands committed messages for push (set by `push::start`).
    push_tap: writer::PushTap,
}

impl Messaging {
    /// Starts the writer and this node's hub on an in-process bus.
    pub fn start(store: Store) -> Arc<Messaging> {
        Self::start_on(store, Arc::new(LocalBus::new()))
    }

    /// Starts the writer and this node's hub on `bus` (NATS between nodes).
    pub fn start_on(store: Store, bus: Arc<dyn Bus>) -> Arc<Messaging> {
        let hub = Hub::new(store.clone());
        tokio::spawn(hub.clone().run(bus.subscribe()));
        let push_tap = writer::PushTap::default();
        let writer = Writer::start(store.clone(), hub.clone(), bus.clone(), push_tap.clone());
        let delivery = delivery::MemberMarks::start(
            writer.clone(),
            bus.clone(),
            MemberMark::Delivered,
            Duration::from_secs(1),
        );
        let inbox = inbox::InboxHints::start(bus.clone());
        Arc::new(Messaging {
            store,
            hub,
            inbox,
            delivery,
            bus,
            writer,
            push_tap,
        })
    }

    /// A coalescer of members' `mark` on this messaging's bus, flushed by its owner.
    pub fn member_marks(&self, mark: MemberMark) -> Arc<delivery::MemberMarks> {
        delivery::MemberMarks::new(self.writer.clone(), self.bus.clone(), mark)
    }

    /// The message writer, whose lane frequent background writes take
    /// ([`Writer::exclusive`]) so that they never compete with it for SQLite's write lock.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Posts a message and returns it once durable; a resend returns the original.
    pub async fn post(
        &self,
        sender: Uuid,
        conversation: Uuid,
        message: NewMessage,
    ) -> ServiceResult<Posted> {
        self.submit(sender, conversation, message)
            .await?
            .wait()
            .await
    }

    /// Validates and queues a message; messages submitted one after another are stored in
    /// that order. Wait on the result for the durable outcome.
    pub async fn submit(
        &self,
        sender: Uuid,
        conversation: Uuid,
        mut message: NewMessage,
    ) -> ServiceResult<PendingPost> {
        message.body = renkei_core::conversation::clean_body(&message.body);
        message.validate()?;
        let post = Post {
            conversation_id: conversation,
            sender_id: sender,
            message,
        };
        let answer = self
            .writer
            .enqueue(post)
            .await
            .map_err(|e| ServiceError::from_store(e, "conversation_not_found"))?;
        Ok(PendingPost(answer))
    }

    /// Has the writer hand every commit's new messages to `tx` (push fan-out), without
    /// waiting: a full channel drops them and counts `renkei_push_queue_dropped_total`.
    pub fn tap_commits(&self, tx: tokio::sync::mpsc::Sender<Vec<crate::push::fanout::Committed>>) {
        let _ = self.push_tap.set(tx);
    }

    /// Tells every node the conversation's timeline reached `seq`.
    pub fn advanced(&self, conversation: Uuid, seq: i64) {
        self.bus.publish(Signal::Advanced { conversation, seq });
    }

    /// Tells every node the membership changed (and who lost access, if anyone).
    pub fn membership_changed(&self, conversation: Uuid, removed: Option<Uuid>) {
        self.bus.publish(Signal::MembershipChanged {
            conversation,
            removed,
        });
    }

    /// Sends a frame that is not part of the timeline to the members but one.
    pub fn ephemeral(&self, conversation: Uuid, frame: Arc<str>, except: Option<Uuid>) {
        self.bus.publish(Signal::Ephemeral {
            conversation,
            frame,
            except,
        });
    }

    /// A new subscription to the bus (what calls watch for removed members).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Signal> {
        self.bus.subscribe()
    }

    /// Closes every socket of a user who may no longer be connected.
    pub fn user_ended(&self, user: Uuid) {
        self.bus.publish(Signal::UserEnded { user });
    }

    /// Has every socket of a user check its session: those whose session ended close.
    pub fn sessions_ended(&self, user: Uuid) {
        self.bus.publish(Signal::SessionsEnded { user });
    }
}

/// A queued post's outcome, to come.
pub struct PendingPost(tokio::sync::oneshot::Receiver<writer::PostResult>);

impl PendingPost {
    /// The stored message once durable, or why it was refused.
    pub async fn wait(self) -> ServiceResult<Posted> {
        match self.0.await {
            Ok(Ok(Ok(posted))) => Ok(posted),
            Ok(Ok(Err(refusal))) => Err(refusal_error(refusal)),
            Ok(Err(e)) => Err(ServiceError::from_store(e, "conversation_not_found")),
            Err(_) => Err(ServiceError::internal(&"the message writer stopped")),
        }
    }
}

/// The API error for a refused post.
pub fn refusal_error(refusal: PostRefusal) -> ServiceError {
    match refusal {
        PostRefusal::NotMember => ServiceError::not_found("conversation_not_found"),
        PostRefusal::ReplyNotFound => ServiceError::new(
            Kind::Invalid,
            "reply_not_found",
            "reply_to names no message of this conversation",
        ),
        PostRefusal::MentionNotMember => ServiceError::new(
            Kind::Invalid,
            "mention_not_member",
            "only members of the conversation can be mentioned",
        ),
        PostRefusal::AttachmentNotFound => ServiceError::new(
            Kind::Invalid,
            "attachment_not_found",
            "an attachment does not exist, is not yours to share, or has expired",
        ),
        PostRefusal::AttachmentHeld => ServiceError::new(
            Kind::Conflict,
            "study_held",
            "this study may show patient information in its images: a user of its hospital must \
             redact it or confirm it is clean before it is shared",
        ),
        PostRefusal::ClientIdReused => ServiceError::new(
            Kind::Conflict,
            "client_msg_id_reused",
            "this client_msg_id was already used for a message in another conversation",
        ),
    }
}
