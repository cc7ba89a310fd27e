//! Scaffolding for service-level tests of conversations and messages: one test body run on a
//! scratch SQLite store and, when `RENKEI_TEST_POSTGRES_URL` is set, a scratch PostgreSQL one,
//! with helpers to make organizations, users and agreements.
#![allow(dead_code, unused_macros)]

use renkei_core::agreement::{Agreement, AgreementStatus, Scope};
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::{NewOrganization, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, Role, User, UserStatus};
use renkei_service::{Services, Settings};
use renkei_store::blobs::{BlobStore, KeyRing};
use renkei_store::scratch::ScratchDatabase;
use renkei_store::{AuditFilter, Store};

/// Runs each named `async fn(&World)` on SQLite and on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let world = crate::common_conv::World::sqlite().await;
                super::$name(&world).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(world) = crate::common_conv::World::postgres(stringify!($name)).await
                else {
                    return;
                };
                super::$name(&world).await;
                world.close().await;
            }
        }
    )+};
}

/// Services over a scratch store, with what keeps it alive.
pub struct World {
    pub services: Services,
    _dir: tempfile::TempDir,
    _database: Option<ScratchDatabase>,
}

impl World {
    /// Services over a fresh SQLite file.
    pub async fn sqlite() -> World {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        World::over(store, dir, None)
    }

    /// Services over a fresh PostgreSQL database, or `None` when none is configured.
    pub async fn postgres(purpose: &str) -> Option<World> {
        let database = ScratchDatabase::create(purpose).await?;
        let store = Store::connect(database.url()).await.unwrap();
        Some(World::over(
            store,
            tempfile::tempdir().unwrap(),
            Some(database),
        ))
    }

    fn over(store: Store, dir: tempfile::TempDir, database: Option<ScratchDatabase>) -> World {
        let keys = KeyRing::from_keys([(1, [7u8; 32])]).unwrap();
        let blobs = BlobStore::local(&dir.path().join("blobs"), keys).unwrap();
        World {
            services: Services::new(store, blobs, Settings::default()),
            _dir: dir,
            _database: database,
        }
    }

    /// Closes the store's connections (before its scratch database is dropped).
    pub async fn close(self) {
        self.services.store.close().await;
    }

    pub fn store(&self) -> &Store {
        &self.services.store
    }

    /// A new organization.
    pub async fn org(&self, slug: &str) -> Organization {
        let org = NewOrganization {
            name: format!("Hospital {slug}"),
            slug: Some(slug.into()),
            kind: None,
        }
        .build(Timestamp::now())
        .unwrap();
        self.store()
            .insert_org(&org, &setup("org.create"))
            .await
            .unwrap();
        org
    }

    /// A new active user of `org` with `roles`.
    pub async fn user(&self, org: &Organization, login: &str, roles: &[Role]) -> User {
        self.user_with(org, login, roles, UserStatus::Active).await
    }

    /// A new user of `org` with `roles` and `status`.
    pub async fn user_with(
        &self,
        org: &Organization,
        login: &str,
        roles: &[Role],
        status: UserStatus,
    ) -> User {
        let user = NewUser {
            who: Applicant {
                login: login.into(),
                display_name: format!("User {login}"),
                kana: "たなか".into(),
                romaji: None,
                profession: Profession::Doctor,
                department_id: None,
                email: None,
                phone: None,
                password: "a long password".into(),
            },
            roles: roles.to_vec(),
            status: Some(status),
            staff_number: None,
            affiliations: Vec::new(),
            second_factor_required: false,
        }
        .build(org.id, Timestamp::now())
        .unwrap();
        self.store()
            .insert_user(&user, "$argon2id$fake", &setup("user.create"))
            .await
            .unwrap();
        user
    }

    /// An agreement in force between `a` and `b` with `scopes`.
    pub async fn agreement(&self, a: &Organization, b: &Organization, scopes: &[Scope]) {
        let agreement = Agreement {
            id: renkei_core::new_id(),
            proposer_org_id: a.id,
            partner_org_id: b.id,
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
        let store = self.store();
        store
            .propose_agreement(&agreement, &setup("agreement.propose"))
            .await
            .unwrap();
        store
            .accept_agreement(
                agreement.id,
                renkei_core::Uuid::nil(),
                &setup("agreement.accept"),
            )
            .await
            .unwrap();
    }

    /// The actions of the audit entries about `target`, newest first.
    pub async fn audit_actions(&self, target: renkei_core::Uuid) -> Vec<String> {
        let filter = AuditFilter {
            target_id: Some(target),
            ..Default::default()
        };
        let page = self.store().audit_page(&filter, None, 1000).await.unwrap();
        page.into_iter().map(|entry| entry.action).collect()
    }
}

/// An audit entry for setting up a test.
fn setup(action: &'static str) -> AuditEvent {
    AuditEvent::new(action, None, None, "test", None)
}
