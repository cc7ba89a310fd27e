//! Scratch services for the accounts tests: a fresh store (SQLite always, PostgreSQL when
//! `RENKEI_TEST_POSTGRES_URL` is set), a local blob store, a cheap password hasher, and
//! helpers that make hospitals, users and sessions through the services themselves.

#![allow(dead_code, unused_macros)]

use renkei_core::org::{NewOrganization, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, Role, User};
use renkei_service::accounts::{self, sign_in};
use renkei_service::auth::password::{Cost, Hasher};
use renkei_service::auth::session::{Authed, session_for_token};
use renkei_service::{Services, Settings};
use renkei_store::Store;
use renkei_store::blobs::{BlobStore, KeyRing};
use renkei_store::scratch::ScratchDatabase;

/// The password every test user is made with.
pub const PASSWORD: &str = "a long test password";

/// Services over a throw-away store; the folders and database go with it.
pub struct Scratch {
    pub svc: Services,
    _dir: tempfile::TempDir,
    _db: Option<ScratchDatabase>,
}

impl Scratch {
    async fn over(store: Store, dir: tempfile::TempDir, db: Option<ScratchDatabase>) -> Scratch {
        let keys = KeyRing::from_keys([(1, [7u8; 32])]).unwrap();
        let blobs = BlobStore::local(&dir.path().join("blobs"), keys).unwrap();
        let mut svc = Services::new(store, blobs, Settings::default());
        svc.hasher = Hasher::new(
            Cost {
                memory_kib: 64,
                iterations: 1,
                lanes: 1,
            },
            1,
        );
        Scratch {
            svc,
            _dir: dir,
            _db: db,
        }
    }

    /// A fresh SQLite file.
    pub async fn sqlite() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = Store::connect(&url).await.unwrap();
        Scratch::over(store, dir, None).await
    }

    /// A fresh PostgreSQL database, when one is configured.
    pub async fn postgres(purpose: &str) -> Option<Scratch> {
        let db = ScratchDatabase::create(purpose).await?;
        let store = Store::connect(db.url()).await.unwrap();
        Some(Scratch::over(store, tempfile::tempdir().unwrap(), Some(db)).await)
    }
}

/// Runs each scenario (an `async fn(Scratch)`) on SQLite and, when configured, PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::common_accts::Scratch::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(scratch) =
                    super::common_accts::Scratch::postgres(stringify!($name)).await
                else {
                    return;
                };
                super::$name(scratch).await;
            }
        }
    )+};
}

/// A hospital made from the command line's side (no actor).
pub async fn hospital(svc: &Services, slug: &str) -> Organization {
    let input = NewOrganization {
        name: format!("Hospital {slug}"),
        slug: Some(slug.into()),
        kind: None,
    };
    accounts::create_org(&svc.store, None, input).await.unwrap()
}

/// Who a test user is: `login` with the test password.
pub fn applicant(login: &str) -> Applicant {
    Applicant {
        login: login.into(),
        display_name: format!("Test {login}"),
        kana: String::new(),
        romaji: None,
        profession: Profession::Doctor,
        department_id: None,
        email: None,
        phone: None,
        password: PASSWORD.into(),
    }
}

/// An active user of `org` with these roles, made from the command line's side.
pub async fn user(svc: &Services, org: &Organization, login: &str, roles: &[Role]) -> User {
    let input = NewUser {
        roles: roles.to_vec(),
        ..NewUser::from(applicant(login))
    };
    accounts::create_user(&svc.store, &svc.hasher, None, org, input)
        .await
        .unwrap()
}

/// A new session of `login` (with the test password), as the services see it.
pub async fn signed_in(svc: &Services, login: &str) -> (String, Authed) {
    let signed_in = sign_in::login(svc, login, PASSWORD).await.unwrap();
    let authed = session_for_token(svc, &signed_in.token, true)
        .await
        .unwrap();
    (signed_in.token, authed)
}
