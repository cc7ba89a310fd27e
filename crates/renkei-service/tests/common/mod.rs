//! Shared scaffolding for the service tests: a `World` (services over a scratch SQLite store or,
//! when `RENKEI_TEST_POSTGRES_URL` is set, a scratch PostgreSQL database), `on_both_backends!`,
//! and builders for organizations, users, signed-in callers and agreements.
#![allow(dead_code, unused_macros)]

pub mod imaging;

use std::sync::Arc;

use object_store::ObjectStore;
use renkei_core::agreement::{Agreement, AgreementStatus, Scope};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::{NewOrganization, OrgKind, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, Role, User};
use renkei_core::{Uuid, new_id};
use renkei_service::accounts::{self, sign_in};
use renkei_service::auth::password::{Cost, Hasher};
use renkei_service::auth::session::{Authed, session_for_token};
use renkei_service::{Kind, ServiceResult, Services, Settings};
use renkei_store::blobs::{BlobStore, KeyRing};
use renkei_store::scratch::ScratchDatabase;
use renkei_store::{AuditFilter, Store};

/// Runs each scenario `async fn name(world: &World)` on a fresh SQLite store and, when
/// `RENKEI_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database; the test names are
/// `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let world = crate::common::World::sqlite().await;
                super::$name(&world).await;
                world.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(world) = crate::common::World::postgres(stringify!($name)).await
                else {
                    return;
                };
                super::$name(&world).await;
                world.close().await;
            }
        }
    )+};
}

/// `store` sealing messages with [`test_keys`], as a server's does with its master keys.
async fn sealed(store: Store) -> Store {
    store.with_message_keys(test_keys()).await.unwrap()
}

/// The master key every test node seals data keys with (nodes of one deployment share it).
pub fn test_keys() -> KeyRing {
    KeyRing::from_keys([(1, [7u8; 32])]).unwrap()
}

/// The password every test user is made with.
pub const PASSWORD: &str = "a long test password";

/// Services over a scratch store, with what keeps it alive (its folder and database).
pub struct World {
    pub services: Services,
    /// The blob store the services keep media and DICOM objects in.
    pub blobs: BlobStore,
    /// The database's URL, to open it again (a restart, a second node).
    pub url: String,
    _dir: tempfile::TempDir,
    _database: Option<ScratchDatabase>,
}

impl World {
    /// Services over a fresh SQLite file.
    pub async fn sqlite() -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = sealed(Store::connect(&url).await.unwrap()).await;
        World::over(store, url, dir, None)
    }

    /// Services over a fresh PostgreSQL database, or `None` when none is configured.
    pub async fn postgres(purpose: &str) -> Option<World> {
        let database = ScratchDatabase::create(purpose).await?;
        let store = sealed(Store::connect(database.url()).await.unwrap()).await;
        Some(World::over(
            store,
            database.url().to_owned(),
            tempfile::tempdir().unwrap(),
            Some(database),
        ))
    }

    /// Services over a fresh PostgreSQL database and an object store that several nodes share,
    /// as a deployment of several nodes has: a fresh prefix of the S3 bucket of
    /// `RENKEI_TEST_S3_URL` (scripts/test.sh starts a local S3 server), else a folder of whole
    /// object files (no segments). `None` without PostgreSQL. Also returns the object store
    /// itself, to list what it holds; a second node is [`World::reopen`].
    pub async fn cluster(purpose: &str) -> Option<(World, Arc<dyn ObjectStore>)> {
        let database = ScratchDatabase::create(purpose).await?;
        let store = sealed(Store::connect(database.url()).await.unwrap()).await;
        let dir = tempfile::tempdir().unwrap();
        let objects: Arc<dyn ObjectStore> = match std::env::var("RENKEI_TEST_S3_URL") {
            Ok(url) => {
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_url(url.trim_end_matches('/'))
                    .build()
                    .unwrap();
                let prefix = format!("{purpose}-{}", new_id());
                Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
            }
            Err(_) => {
                eprintln!("RENKEI_TEST_S3_URL is not set: the nodes share a folder, not S3");
                let folder = dir.path().join("objects");
                std::fs::create_dir_all(&folder).unwrap();
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(folder).unwrap())
            }
        };
        let blobs = BlobStore::new(objects.clone(), test_keys());
        let services = World::services_over(store, blobs.clone());
        let world = World {
            services,
            blobs,
            url: database.url().to_owned(),
            _dir: dir,
            _database: Some(database),
        };
        Some((world, objects))
    }

    /// Services over `store`, with blobs under `dir` and a cheap password hasher.
    fn over(
        store: Store,
        url: String,
        dir: tempfile::TempDir,
        database: Option<ScratchDatabase>,
    ) -> World {
        let blobs = BlobStore::local(&dir.path().join("blobs"), test_keys()).unwrap();
        let services = World::services_over(store, blobs.clone());
        World {
            services,
            blobs,
            url,
            _dir: dir,
            _database: database,
        }
    }

    fn services_over(store: Store, blobs: BlobStore) -> Services {
        let mut services = Services::new(store, blobs, Settings::default());
        services.hasher = Hasher::new(
            Cost {
                memory_kib: 64,
                iterations: 1,
                lanes: 1,
            },
            1,
        );
        services
    }

    /// New services over the same database and blobs, as a restarted process or a second
    /// node would have (close their store when done).
    pub async fn reopen(&self) -> Services {
        let store = sealed(Store::connect(&self.url).await.unwrap()).await;
        World::services_over(store, self.blobs.clone())
    }

    /// Closes the store's connections (before its scratch database is dropped).
    pub async fn close(self) {
        self.services.store.close().await;
    }

    pub fn store(&self) -> &Store {
        &self.services.store
    }

    /// The scratch folder: the SQLite database and its write-ahead log, and the blobs.
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// A new hospital `Hospital {slug}`, made from the command line's side (no actor).
    pub async fn org(&self, slug: &str) -> Organization {
        self.add_org(NewOrganization {
            name: format!("Hospital {slug}"),
            slug: Some(slug.into()),
            kind: None,
        })
        .await
    }

    /// A new organization of `kind` named `name` (its slug made from the name).
    pub async fn org_named(&self, name: &str, kind: OrgKind) -> Organization {
        self.add_org(NewOrganization {
            name: name.into(),
            slug: Some(name.to_lowercase().replace(' ', "-")),
            kind: Some(kind),
        })
        .await
    }

    async fn add_org(&self, input: NewOrganization) -> Organization {
        accounts::create_org(self.store(), None, input)
            .await
            .unwrap()
    }

    /// A new active user of `org` with `roles`, signing in as `login` with [`PASSWORD`].
    pub async fn user(&self, org: &Organization, login: &str, roles: &[Role]) -> User {
        self.add_user(
            org,
            NewUser {
                roles: roles.to_vec(),
                ..NewUser::from(applicant(login))
            },
        )
        .await
    }

    /// A new user of `org` as `input` says, made from the command line's side (no actor).
    pub async fn add_user(&self, org: &Organization, input: NewUser) -> User {
        let services = &self.services;
        accounts::create_user(&services.store, &services.hasher, None, org, input)
            .await
            .unwrap()
    }

    /// A new session of `login` (with [`PASSWORD`]): its token, and the caller the services see.
    pub async fn sign_in(&self, login: &str) -> (String, Authed) {
        let signed_in = sign_in::login(&self.services, login, PASSWORD)
            .await
            .unwrap();
        let authed = session_for_token(&self.services, &signed_in.token, true)
            .await
            .unwrap();
        (signed_in.token, authed)
    }

    /// A new member of `org` without roles, signed in.
    pub async fn member(&self, org: &Organization, login: &str) -> Authed {
        self.user(org, login, &[]).await;
        self.sign_in(login).await.1
    }

    /// A new administrator of `org`, signed in.
    pub async fn org_admin(&self, org: &Organization, login: &str) -> Authed {
        self.user(org, login, &[Role::OrgAdmin]).await;
        self.sign_in(login).await.1
    }

    /// An agreement with `scopes` proposed by `proposer` and accepted by `partner`, written
    /// straight into the store.
    pub async fn agreement(
        &self,
        proposer: &Organization,
        partner: &Organization,
        scopes: &[Scope],
    ) {
        let agreement = Agreement {
            id: new_id(),
            proposer_org_id: proposer.id,
            partner_org_id: partner.id,
            scopes: scopes.to_vec(),
            status: AgreementStatus::Proposed,
            council_id: None,
            proposed_by: None,
            proposed_at: Timestamp::now(),
            accepted_by: None,
            accepted_at: None,
            revoked_by: None,
            revoked_at: None,
        };
        self.store()
            .propose_agreement(&agreement, &setup("agreement.propose"))
            .await
            .unwrap();
        self.store()
            .accept_agreement(agreement.id, Uuid::nil(), &setup("agreement.accept"))
            .await
            .unwrap();
    }

    /// The actions of the audit entries about `target`, newest first.
    pub async fn audit_actions(&self, target: Uuid) -> Vec<String> {
        let filter = AuditFilter {
            target_id: Some(target),
            ..Default::default()
        };
        let page = self.store().audit_page(&filter, None, 1000).await.unwrap();
        page.into_iter().map(|entry| entry.action).collect()
    }
}

/// Who a test user is: `login`, named after it, with [`PASSWORD`].
pub fn applicant(login: &str) -> Applicant {
    Applicant {
        login: login.into(),
        display_name: format!("User {login}"),
        kana: "たなか".into(),
        romaji: None,
        profession: Profession::Doctor,
        department_id: None,
        email: None,
        phone: None,
        password: PASSWORD.into(),
    }
}

/// The kind and code of the service's refusal (panics if it did not refuse).
pub fn refusal<T: std::fmt::Debug>(result: ServiceResult<T>) -> (Kind, &'static str) {
    let err = result.expect_err("the service should refuse");
    (err.kind, err.code)
}

/// An audit entry for setting up a test.
pub fn setup(action: &'static str) -> AuditEvent {
    AuditEvent::new(action, None, None, "test", None)
}
