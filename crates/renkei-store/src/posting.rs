//! Posting a batch of messages with a handful of statements whatever its size: read what
//! decides every post at once, decide each post in order as data, then write the accepted ones
//! with one statement per table (one number increment for all the batch's conversations).

use std::collections::{HashMap, HashSet};

use renkei_core::Uuid;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{EventKind, Message, Priority};
use sqlx::Row;

use crate::attachments::{Attached, link_attachment};
use crate::dicom::Attachable;
use crate::message_keys::{MessageKeys, TxKeys, epoch_of};
use crate::messages::{MESSAGE_COLUMNS, Post, PostRefusal, Posted, message_from_row};
use crate::rows::uuid;
use crate::sql_builder::SqlBuilder;
use crate::{Backend, Store, StoreError, Tx};

/// Most values bound to one statement on both databases: SQLite's limit (PostgreSQL's is
/// 65,535).
const MAX_BINDS: usize = 32_766;

/// How many rows of `width` values fit one statement beside `shared` values bound once.
fn rows_per_statement(width: usize, shared: usize) -> usize {
    (MAX_BINDS - shared) / width
}

/// What decides the posts of one batch, read at its start and kept up to date as posts are
/// accepted, and the accepted posts not written yet.
#[derive(Debug, Default)]
struct Plan {
    /// Each existing conversation's newest number as stored.
    written: HashMap<Uuid, i64>,
    /// … and as handed out to this batch's posts.
    numbered: HashMap<Uuid, i64>,
    members: HashMap<Uuid, HashSet<Uuid>>,
    /// Messages by sender and client id: stored before the batch, or accepted in it.
    stored: HashMap<(Uuid, String), Message>,
    /// Messages that may be replied to: those named by a `reply_to` of the batch that exist,
    /// and the batch's own.
    replyable: HashSet<(Uuid, i64)>,
    /// Accepted, in order, not written yet.
    pending: Vec<Message>,
    /// Each existing conversation's organization (whose search key keys its grams).
    orgs: HashMap<Uuid, Uuid>,
    /// The key epoch every message of the batch is sealed in: the batch's start.
    epoch: i64,
    /// Keys fetched or made in the transaction, remembered once it commits.
    keys: TxKeys,
}

impl Plan {
    /// Locks the batch's conversations (their numbers cannot move until the commit) and reads
    /// their members, the messages the batch resends and the messages it replies to.
    async fn read(tx: &mut Tx, backend: Backend, batch: &[Post]) -> Result<Plan, StoreError> {
        let mut plan = Plan {
            epoch: epoch_of(Timestamp::now()),
            ..Plan::default()
        };
        let mut conversations: Vec<Uuid> = batch.iter().map(|p| p.conversation_id).collect();
        conversations.sort_unstable();
        conversations.dedup();
        // In id order, so two writers locking overlapping sets cannot deadlock.
        let lock = match backend {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        };
        for chunk in conversations.chunks(rows_per_statement(1, 0)) {
            let mut sql = SqlBuilder::new();
            let ids = sql.bind_list(chunk.iter().map(|c| c.to_string()));
            sql.push(&format!(
                "SELECT id, last_seq, org_id FROM conversations WHERE id IN ({ids}) ORDER BY id{lock}"
            ));
            for row in sql.build().fetch_all(&mut **tx).await? {
                let seq: i64 = row.try_get("last_seq")?;
                let id = uuid(&row, "id")?;
                plan.orgs.insert(id, uuid(&row, "org_id")?);
                plan.written.insert(id, seq);
                plan.numbered.insert(id, seq);
                plan.members.insert(id, HashSet::new());
            }
        }
        // Read after the lock: a member removed before it is seen as removed.
        let existing: Vec<Uuid> = plan.written.keys().copied().collect();
        for chunk in existing.chunks(rows_per_statement(1, 0)) {
            let mut sql = SqlBuilder::new();
            let ids = sql.bind_list(chunk.iter().map(|c| c.to_string()));
            sql.push(&format!(
                "SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id IN ({ids})"
            ));
            for row in sql.build().fetch_all(&mut **tx).await? {
                let conversation = uuid(&row, "conversation_id")?;
                let user = uuid(&row, "user_id")?;
                plan.members.entry(conversation).or_default().insert(user);
            }
        }
        // `(a, b) IN (VALUES …)` would scan every message on SQLite; a join uses the index.
        let mut resends: Vec<(Uuid, &str)> = batch
            .iter()
            .map(|p| (p.sender_id, p.message.client_msg_id.as_str()))
            .collect();
        resends.sort_unstable();
        resends.dedup();
        for chunk in resends.chunks(rows_per_statement(2, 0)) {
            let mut sql = SqlBuilder::new();
            let pairs: Vec<String> = chunk
                .iter()
                .map(|(sender, id)| {
                    format!("({}, {})", sql.bind(sender.to_string()), sql.bind(*id))
                })
                .collect();
            sql.push(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM (VALUES {}) AS v
                 JOIN messages m ON m.sender_id = v.column1 AND m.client_msg_id = v.column2",
                pairs.join(", ")
            ));
            for row in sql.build().fetch_all(&mut **tx).await? {
                let message = message_from_row(&row)?;
                plan.stored
                    .insert((message.sender_id, message.client_msg_id.clone()), message);
            }
        }
        let mut replies: Vec<(Uuid, i64)> = batch
            .iter()
            .filter_map(|p| Some((p.conversation_id, p.message.reply_to?)))
            .collect();
        replies.sort_unstable();
        replies.dedup();
        for chunk in replies.chunks(rows_per_statement(2, 0)) {
            let mut sql = SqlBuilder::new();
            let pairs: Vec<String> = chunk
                .iter()
                .map(|(conversation, seq)| {
                    format!(
                        "({}, {})",
                        sql.bind(conversation.to_string()),
                        sql.bind(*seq)
                    )
                })
                .collect();
            sql.push(&format!(
                "SELECT m.conversation_id, m.seq FROM (VALUES {}) AS v
                 JOIN messages m ON m.conversation_id = v.column1 AND m.seq = v.column2",
                pairs.join(", ")
            ));
            for row in sql.build().fetch_all(&mut **tx).await? {
                plan.replyable
                    .insert((uuid(&row, "conversation_id")?, row.try_get("seq")?));
            }
        }
        Ok(plan)
    }

    /// The answer to `post` when it needs no new message (a resend, or a refusal), in the
    /// order the checks have always run; `None` when it may be posted once its attachments
    /// are checked.
    fn answer(&self, post: &Post) -> Option<Result<Posted, PostRefusal>> {
        let msg = &post.message;
        if let Some(earlier) = self
            .stored
            .get(&(post.sender_id, msg.client_msg_id.clone()))
        {
            return Some(if earlier.conversation_id == post.conversation_id {
                Ok(Posted {
                    message: earlier.clone(),
                    duplicate: true,
                })
            } else {
                Err(PostRefusal::ClientIdReused)
            });
        }
        let Some(members) = self
            .members
            .get(&post.conversation_id)
            .filter(|m| m.contains(&post.sender_id))
        else {
            return Some(Err(PostRefusal::NotMember));
        };
        if msg.mentions.iter().any(|m| !members.contains(m)) {
            return Some(Err(PostRefusal::MentionNotMember));
        }
        if let Some(reply_to) = msg.reply_to
            && !self.replyable.contains(&(post.conversation_id, reply_to))
        {
            return Some(Err(PostRefusal::ReplyNotFound));
        }
        None
    }

    /// Accepts `post` (already checked) with the conversation's next number.
    fn accept(&mut self, post: &Post) -> Result<Posted, StoreError> {
        let numbered = self
            .numbered
            .get_mut(&post.conversation_id)
            .ok_or(StoreError::NotFound)?;
        *numbered += 1;
        let msg = &post.message;
        let message = Message {
            id: renkei_core::new_id(),
            conversation_id: post.conversation_id,
            seq: *numbered,
            sender_id: post.sender_id,
            client_msg_id: msg.client_msg_id.clone(),
            body: msg.body.clone(),
            reply_to: msg.reply_to,
            priority: msg.priority,
            mentions: msg.mentions.clone(),
            attachments: msg.attachments.clone(),
            created_at: Timestamp::now(),
            edited_at: None,
            deleted_at: None,
        };
        self.stored.insert(
            (message.sender_id, message.client_msg_id.clone()),
            message.clone(),
        );
        self.replyable
            .insert((message.conversation_id, message.seq));
        self.pending.push(message.clone());
        Ok(Posted {
            message,
            duplicate: false,
        })
    }

    /// Whether a study shared by an accepted post is not written yet (a later post of the
    /// batch may attach it through that link).
    fn unwritten_study_link(&self) -> bool {
        self.pending
            .iter()
            .any(|m| m.attachments.iter().any(|a| a.kind == "study"))
    }
}

impl Store {
    /// Posts every message of `batch` in one transaction (one durable commit), each in order.
    /// A refused post changes nothing; a resend returns the stored message as a duplicate.
    /// Returns one result per post, in order. On a database error nothing is stored.
    pub async fn post_batch(
        &self,
        batch: &[Post],
    ) -> Result<Vec<Result<Posted, PostRefusal>>, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut plan = Plan::read(&mut tx, self.backend, batch).await?;
        let mut results = Vec::with_capacity(batch.len());
        for post in batch {
            results.push(self.decide(&mut tx, &mut plan, post).await?);
        }
        self.write_pending(&mut tx, &mut plan).await?;
        tx.commit().await?;
        self.remember_keys(plan.keys);
        // A resend answers with the message as stored: sealed.
        for posted in results.iter_mut().flatten().filter(|p| p.duplicate) {
            self.open_message(&mut posted.message).await?;
        }
        Ok(results)
    }

    /// Each pending message's sealed body and keyed search grams, in order.
    async fn seal_pending(
        &self,
        tx: &mut Tx,
        plan: &mut Plan,
        pending: &[Message],
    ) -> Result<Vec<(String, String)>, StoreError> {
        let epoch = plan.epoch;
        let mut out = Vec::with_capacity(pending.len());
        for m in pending {
            let conversation = m.conversation_id;
            let org = *plan.orgs.get(&conversation).ok_or(StoreError::NotFound)?;
            let key = self
                .body_key_in(tx, &mut plan.keys, conversation, epoch)
                .await?;
            let search = self.search_key_in(tx, &mut plan.keys, org).await?;
            out.push((
                MessageKeys::seal(&key, conversation, epoch, &m.body)?,
                MessageKeys::tokens(&search, &m.body),
            ));
        }
        Ok(out)
    }

    /// Decides one post of the batch; only its attachments are checked in the database.
    async fn decide(
        &self,
        tx: &mut Tx,
        plan: &mut Plan,
        post: &Post,
    ) -> Result<Result<Posted, PostRefusal>, StoreError> {
        if let Some(answer) = plan.answer(post) {
            return Ok(answer);
        }
        let attachments = &post.message.attachments;
        if attachments.iter().any(|a| a.kind == "study") && plan.unwritten_study_link() {
            self.write_pending(tx, plan).await?;
        }
        for attachment in attachments {
            let attachable = match attachment.kind.as_str() {
                "media" => Attachable::found(
                    Self::media_attachable(tx, attachment.id, post.sender_id).await?,
                ),
                "study" => Self::study_attachable(tx, attachment.id, post.sender_id).await?,
                _ => Attachable::NotFound,
            };
            match attachable {
                Attachable::Yes => {}
                Attachable::NotFound => return Ok(Err(PostRefusal::AttachmentNotFound)),
                Attachable::Held => return Ok(Err(PostRefusal::AttachmentHeld)),
            }
        }
        Ok(Ok(plan.accept(post)?))
    }

    /// Writes the accepted posts of `plan` in `tx`: the conversations' numbers, the events,
    /// the messages, their attachments' links, the usage counters, and urgent messages' alerts
    /// with their audit entries.
    async fn write_pending(&self, tx: &mut Tx, plan: &mut Plan) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut plan.pending);
        if pending.is_empty() {
            return Ok(());
        }
        let mut added: Vec<(Uuid, i64)> = Vec::new();
        for m in &pending {
            match added.iter_mut().find(|(c, _)| *c == m.conversation_id) {
                Some((_, n)) => *n += 1,
                None => added.push((m.conversation_id, 1)),
            }
        }
        Self::advance_conversations(tx, plan, &added, pending.iter().map(|m| m.created_at)).await?;
        let sealed = self.seal_pending(tx, plan, &pending).await?;
        Self::insert_events(tx, &pending).await?;
        Self::insert_messages(tx, &pending, &sealed, plan.epoch).await?;
        for m in &pending {
            for attachment in &m.attachments {
                let kind = if attachment.kind == "media" {
                    Attached::Media
                } else {
                    Attached::Study
                };
                link_attachment(tx, kind, attachment.id, m.conversation_id, m.seq).await?;
            }
        }
        let mut counts: Vec<(Uuid, Uuid, i64)> = Vec::new();
        for m in &pending {
            match counts
                .iter_mut()
                .find(|(s, c, _)| *s == m.sender_id && *c == m.conversation_id)
            {
                Some((_, _, n)) => *n += 1,
                None => counts.push((m.sender_id, m.conversation_id, 1)),
            }
        }
        Self::count_messages_in(tx, &counts).await?;
        for m in pending.iter().filter(|m| m.priority == Priority::Urgent) {
            // Urgent only: an ordinary post costs nothing more.
            let audit = Self::insert_urgent_alerts_in(
                tx,
                m.conversation_id,
                m.seq,
                m.sender_id,
                m.created_at,
            )
            .await?;
            self.append_audit_in(tx, &audit).await?;
        }
        Ok(())
    }

    /// Adds each `(conversation, n)` to the conversation's newest number in one statement,
    /// and checks the numbers landed where the plan handed them out.
    async fn advance_conversations(
        tx: &mut Tx,
        plan: &mut Plan,
        added: &[(Uuid, i64)],
        times: impl Iterator<Item = Timestamp>,
    ) -> Result<(), StoreError> {
        let updated_at = times.max().unwrap_or_else(Timestamp::now);
        for chunk in added.chunks(rows_per_statement(2, 1)) {
            let mut sql = SqlBuilder::new();
            let at = sql.bind(updated_at.millis());
            let rows: Vec<String> = chunk
                .iter()
                .map(|(c, n)| format!("({}, {})", sql.bind(c.to_string()), sql.bind(*n)))
                .collect();
            sql.push(&format!(
                "UPDATE conversations SET last_seq = last_seq + v.column2, updated_at = {at}
                 FROM (VALUES {}) AS v WHERE conversations.id = v.column1
                 RETURNING conversations.id, conversations.last_seq",
                rows.join(", ")
            ));
            let rows = sql.build().fetch_all(&mut **tx).await?;
            if rows.len() != chunk.len() {
                return Err(StoreError::NotFound);
            }
            for row in rows {
                let id = uuid(&row, "id")?;
                let seq: i64 = row.try_get("last_seq")?;
                if plan.numbered.get(&id) != Some(&seq) {
                    // The conversations are locked: this would be a bug, so store nothing.
                    return Err(StoreError::Stale);
                }
                plan.written.insert(id, seq);
            }
        }
        Ok(())
    }

    /// One `message.created` event per message, in as few statements as the bind limit allows.
    async fn insert_events(tx: &mut Tx, messages: &[Message]) -> Result<(), StoreError> {
        for chunk in messages.chunks(rows_per_statement(4, 2)) {
            let mut sql = SqlBuilder::new();
            let kind = sql.bind(EventKind::MessageCreated.as_str());
            let data = sql.bind("{}");
            let rows: Vec<String> = chunk
                .iter()
                .map(|m| {
                    format!(
                        "({}, {}, {kind}, {}, {data}, {})",
                        sql.bind(m.conversation_id.to_string()),
                        sql.bind(m.seq),
                        sql.bind(m.sender_id.to_string()),
                        sql.bind(m.created_at.millis())
                    )
                })
                .collect();
            sql.push(&format!(
                "INSERT INTO conversation_events (conversation_id, seq, kind, actor_id, data, created_at)
                 VALUES {}",
                rows.join(", ")
            ));
            sql.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The messages themselves, with their sealed bodies and keyed grams (`sealed`, in
    /// order), in as few statements as the bind limit allows.
    async fn insert_messages(
        tx: &mut Tx,
        messages: &[Message],
        sealed: &[(String, String)],
        epoch: i64,
    ) -> Result<(), StoreError> {
        let width = rows_per_statement(12, 1);
        for (chunk, sealed) in messages.chunks(width).zip(sealed.chunks(width)) {
            let mut sql = SqlBuilder::new();
            let epoch = sql.bind(epoch);
            let rows: Vec<String> = chunk
                .iter()
                .zip(sealed)
                .map(|(m, (body, tokens))| {
                    let values = [
                        sql.bind(m.conversation_id.to_string()),
                        sql.bind(m.seq),
                        sql.bind(m.id.to_string()),
                        sql.bind(m.sender_id.to_string()),
                        sql.bind(&m.client_msg_id),
                        sql.bind(body),
                        sql.bind(m.reply_to),
                        sql.bind(m.priority.as_str()),
                        sql.bind(serde_json::to_string(&m.mentions).unwrap_or_default()),
                        sql.bind(serde_json::to_string(&m.attachments).unwrap_or_default()),
                        sql.bind(m.created_at.millis()),
                        epoch.clone(),
                        sql.bind(tokens),
                    ];
                    format!("({})", values.join(", "))
                })
                .collect();
            sql.push(&format!(
                "INSERT INTO messages (conversation_id, seq, id, sender_id, client_msg_id, body,
                     reply_to, priority, mentions, attachments, created_at, key_epoch, search_tokens)
                 VALUES {}",
                rows.join(", ")
            ));
            sql.build().execute(&mut **tx).await?;
        }
        Ok(())
    }
}
