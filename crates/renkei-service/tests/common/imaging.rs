//! Imaging test fixtures: studies indexed with one sealed object, photos with thumbnails,
//! group conversations and study shares, written straight into the scratch store.

use bytes::Bytes;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{
    Attachment, Conversation, ConversationKind, MemberRole, NewMessage, Priority,
};
use renkei_core::dicom::IndexedInstance;
use renkei_core::media::{Media, MediaKind};
use renkei_core::org::Organization;
use renkei_core::{Uuid, new_id};
use renkei_service::auth::session::Authed;
use renkei_store::blobs::WrappedKey;
use renkei_store::{IndexRequest, Indexed, Post};

use super::{World, setup};

/// A study made for a test: its id, and its one instance's object with the key it was sealed
/// under.
pub struct TestStudy {
    pub id: Uuid,
    pub sop_uid: String,
    pub object: String,
    pub key: WrappedKey,
}

/// A photo made for a test, with its objects (the photo, the thumbnail) and their keys.
pub struct TestPhoto {
    pub media: Media,
    pub objects: Vec<(String, WrappedKey)>,
}

impl World {
    /// A study of `org` with one instance (its sealed object stored), expiring at `expires_at`.
    pub async fn study(&self, org: &Organization, expires_at: Timestamp) -> TestStudy {
        let uid = format!("1.2.392.{}", new_id().as_u128());
        let object = format!("dicom-{}", new_id());
        let stored = self
            .blobs
            .put_bytes(&object, Bytes::from_static(b"not really DICOM"))
            .await
            .unwrap();
        let entry = IndexedInstance {
            study_uid: uid.clone(),
            series_uid: format!("{uid}.1"),
            sop_uid: format!("{uid}.1.1"),
            sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
            transfer_syntax: "1.2.840.10008.1.2.1".into(),
            patient_tail: "1234".into(),
            study_date: Some("20261201".into()),
            modality: Some("CT".into()),
            body_part: None,
            study_description: None,
            series_description: None,
            series_number: Some(1),
            instance_number: Some(1),
            frames: 1,
            burned_in_risk: false,
            held: false,
            text_regions: Vec::new(),
            size: 16,
        };
        let request = IndexRequest {
            org_id: org.id,
            entry,
            object_id: object.clone(),
            key: stored.key.clone(),
            expires_at,
        };
        let indexed = self.store().index_instances(&[request]).await.unwrap();
        let Indexed::New { study } = indexed[0] else {
            panic!("a new study was expected, got {indexed:?}")
        };
        TestStudy {
            id: study,
            sop_uid: format!("{uid}.1.1"),
            object,
            key: stored.key,
        }
    }

    /// A photo of `org` uploaded by `by`, with its thumbnail, expiring at `expires_at`.
    pub async fn photo(&self, org: &Organization, by: &Authed, expires_at: Timestamp) -> TestPhoto {
        let id = new_id();
        let mut objects = Vec::new();
        for object in [id.to_string(), renkei_core::media::thumbnail_object(id)] {
            let stored = self
                .blobs
                .put_bytes(&object, Bytes::from_static(b"jpeg"))
                .await
                .unwrap();
            objects.push((object, stored.key));
        }
        let media = Media {
            id,
            org_id: org.id,
            uploader_id: by.user.id,
            kind: MediaKind::Photo,
            mime: "image/jpeg".into(),
            name: "photo.jpg".into(),
            size: 4,
            width: Some(1),
            height: Some(1),
            has_thumbnail: true,
            created_at: Timestamp::now(),
            expires_at,
            expired: false,
        };
        self.store()
            .insert_media(&media, &objects, &setup("media.upload"))
            .await
            .unwrap();
        TestPhoto { media, objects }
    }

    /// Whether an object's bytes are still there and open with `key`.
    pub async fn opens(&self, object: &str, key: &WrappedKey) -> bool {
        self.blobs.opens(object, key).await.unwrap_or(false)
    }

    /// A group of `members` (the first creates it), owned by `org`.
    pub async fn group(&self, org: &Organization, members: &[&Authed]) -> Conversation {
        let now = Timestamp::now();
        let conv = Conversation {
            id: new_id(),
            org_id: org.id,
            kind: ConversationKind::Group,
            title: Some("ICU night".into()),
            created_by: Some(members[0].user.id),
            last_seq: 0,
            retention_days: None,
            created_at: now,
            updated_at: now,
        };
        let list: Vec<_> = members
            .iter()
            .map(|m| (m.user.id, MemberRole::Member))
            .collect();
        self.store()
            .create_conversation(&conv, None, &list, None)
            .await
            .unwrap()
    }

    /// `sender` shares study `id` in `conv`.
    pub async fn share_study(&self, conv: &Conversation, sender: &Authed, id: Uuid) {
        let post = Post {
            conversation_id: conv.id,
            sender_id: sender.user.id,
            message: NewMessage {
                client_msg_id: format!("share-{id}"),
                body: "please look".into(),
                reply_to: None,
                priority: Priority::Normal,
                mentions: vec![],
                attachments: vec![Attachment {
                    kind: "study".into(),
                    id,
                    name: None,
                    key_image: None,
                }],
            },
        };
        let posted = self.store().post_batch(&[post]).await.unwrap();
        assert!(posted[0].is_ok(), "the share is posted");
    }
}
