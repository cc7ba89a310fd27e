//! Scaffolding for the imaging service tests: one body on a scratch SQLite store and, when
//! `RENKEI_TEST_POSTGRES_URL` is set, a scratch PostgreSQL one; organizations, signed-in
//! callers, studies indexed with an object, photos, conversations, agreements.
#![allow(dead_code)]

use bytes::Bytes;
use renkei_core::agreement::{Agreement, AgreementStatus, Scope};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::conversation::{
    Attachment, Conversation, ConversationKind, MemberRole, NewMessage, Priority,
};
use renkei_core::dicom::IndexedInstance;
use renkei_core::media::{Media, MediaKind};
use renkei_core::org::{NewOrganization, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, Role};
use renkei_core::{Uuid, new_id};
use renkei_service::auth::session::Authed;
use renkei_service::{Services, Settings};
use renkei_store::blobs::keyring::KeyRing;
use renkei_store::blobs::{BlobStore, WrappedKey};
use renkei_store::{IndexRequest, Indexed, Post, SessionRecord, Store};

/// Runs each scenario `async fn name(world: &World)` on both databases.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                let world = $crate::common_imaging::World::open(&url, dir.path()).await;
                super::$name(&world).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = renkei_store::scratch::ScratchDatabase::create(stringify!($name)).await else { return };
                let dir = tempfile::tempdir().unwrap();
                let world = $crate::common_imaging::World::open(db.url(), dir.path()).await;
                super::$name(&world).await;
                world.services.store.close().await;
            }
        }
    )+};
}

/// A scratch store with its blob folder and the services over them.
pub struct World {
    pub services: Services,
    pub blobs: BlobStore,
}

fn event(action: &'static str) -> AuditEvent {
    AuditEvent::new(action, None, None, "test", None)
}

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
    pub async fn open(url: &str, dir: &std::path::Path) -> World {
        let store = Store::connect(url).await.unwrap();
        let keys = KeyRing::load_or_create(&dir.join("keys")).unwrap();
        let blobs = BlobStore::local(&dir.join("blobs"), keys).unwrap();
        let services = Services::new(store, blobs.clone(), Settings::default());
        World { services, blobs }
    }

    pub fn store(&self) -> &Store {
        &self.services.store
    }

    pub async fn org(&self, slug: &str) -> Organization {
        let org = NewOrganization {
            name: format!("Hospital {slug}"),
            slug: Some(slug.into()),
            kind: None,
        }
        .build(Timestamp::now())
        .unwrap();
        self.store()
            .insert_org(&org, &event("org.create"))
            .await
            .unwrap();
        org
    }

    /// A member of `org`, signed in.
    pub async fn member(&self, org: &Organization, login: &str) -> Authed {
        self.signed_in(org, login, vec![]).await
    }

    /// An administrator of `org`, signed in.
    pub async fn org_admin(&self, org: &Organization, login: &str) -> Authed {
        self.signed_in(org, login, vec![Role::OrgAdmin]).await
    }

    async fn signed_in(&self, org: &Organization, login: &str, roles: Vec<Role>) -> Authed {
        let user = NewUser {
            who: Applicant {
                login: login.into(),
                display_name: "田中 一郎".into(),
                kana: "たなか いちろう".into(),
                romaji: None,
                profession: Profession::Doctor,
                department_id: None,
                email: None,
                phone: None,
                password: "a long password".into(),
            },
            roles,
            status: None,
            staff_number: None,
            affiliations: Vec::new(),
            second_factor_required: false,
        }
        .build(org.id, Timestamp::now())
        .unwrap();
        self.store()
            .insert_user(&user, "$argon2id$fake", &event("user.create"))
            .await
            .unwrap();
        let now = Timestamp::now();
        Authed {
            session: SessionRecord {
                id: new_id(),
                user_id: user.id,
                token_hash: format!("hash-{login}"),
                csrf_token: "csrf".into(),
                created_at: now,
                last_seen_at: now,
                expires_at: now.plus_secs(3600),
                locked: false,
                second_factor_done: false,
            },
            user,
            org: org.clone(),
            has_passcode: false,
            locked: false,
            second_factor_enrolled: false,
            second_factor_pending: false,
        }
    }

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
            .insert_media(&media, &objects, &event("media.upload"))
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
                }],
            },
        };
        let posted = self.store().post_batch(&[post]).await.unwrap();
        assert!(posted[0].is_ok(), "the share is posted");
    }

    /// An agreement proposed by `from`'s organization and accepted by `to`, with `scopes`.
    pub async fn agree(&self, from: &Authed, to: &Authed, scopes: &[Scope]) {
        let agreement = Agreement {
            id: new_id(),
            proposer_org_id: from.org.id,
            partner_org_id: to.org.id,
            scopes: scopes.to_vec(),
            status: AgreementStatus::Proposed,
            council_id: None,
            proposed_by: Some(from.user.id),
            proposed_at: Timestamp::now(),
            accepted_by: None,
            accepted_at: None,
            revoked_by: None,
            revoked_at: None,
        };
        self.store()
            .propose_agreement(&agreement, &event("agreement.propose"))
            .await
            .unwrap();
        self.store()
            .accept_agreement(agreement.id, to.user.id, &event("agreement.accept"))
            .await
            .unwrap();
    }
}
