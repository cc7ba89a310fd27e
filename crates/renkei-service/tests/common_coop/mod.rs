//! Scaffolding for the cooperation service tests: services over a scratch store on SQLite and
//! on PostgreSQL, and organizations and users written straight into it.

use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::org::{NewOrganization, OrgKind, Organization};
use renkei_core::user::{Applicant, NewUser, Profession, Role, User};
use renkei_service::{Services, Settings};
use renkei_store::Store;
use renkei_store::blobs::{BlobStore, KeyRing};

/// Runs each scenario `name(&Services)` on a fresh SQLite store and, when
/// `RENKEI_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
                let store = renkei_store::Store::connect(&url).await.unwrap();
                let services = crate::common_coop::services(store, dir.path());
                super::$name(&services).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) = renkei_store::scratch::ScratchDatabase::create(stringify!($name)).await
                else {
                    return;
                };
                let dir = tempfile::tempdir().unwrap();
                let store = renkei_store::Store::connect(db.url()).await.unwrap();
                let services = crate::common_coop::services(store.clone(), dir.path());
                super::$name(&services).await;
                store.close().await;
            }
        }
    )+};
}

/// Services over `store`, keeping blobs under `dir`.
pub fn services(store: Store, dir: &std::path::Path) -> Services {
    let keys = KeyRing::from_keys([(1, [7; 32])]).unwrap();
    let blobs = BlobStore::local(&dir.join("blobs"), keys).unwrap();
    Services::new(store, blobs, Settings::default())
}

fn event(action: &'static str) -> AuditEvent {
    AuditEvent::new(action, None, None, "test", None)
}

/// A new organization of `kind` named `name`.
pub async fn org(services: &Services, name: &str, kind: OrgKind) -> Organization {
    let org = NewOrganization {
        name: name.into(),
        slug: Some(name.to_lowercase().replace(' ', "-")),
        kind: Some(kind),
    }
    .build(Timestamp::now())
    .unwrap();
    services
        .store
        .insert_org(&org, &event("org.create"))
        .await
        .unwrap();
    org
}

/// A new hospital named `name`.
pub async fn hospital(services: &Services, name: &str) -> Organization {
    org(services, name, OrgKind::Hospital).await
}

/// A new active user of `org` with `roles`, named `name` (read `kana`).
pub async fn user(
    services: &Services,
    org: &Organization,
    login: &str,
    name: &str,
    kana: &str,
    roles: &[Role],
) -> User {
    let user = NewUser {
        who: Applicant {
            login: login.into(),
            display_name: name.into(),
            kana: kana.into(),
            romaji: None,
            profession: Profession::Doctor,
            department_id: None,
            email: None,
            phone: None,
            password: "a long password".into(),
        },
        roles: roles.to_vec(),
        status: None,
        staff_number: None,
        affiliations: Vec::new(),
        second_factor_required: false,
    }
    .build(org.id, Timestamp::now())
    .unwrap();
    services
        .store
        .insert_user(&user, "$argon2id$fake", &event("user.create"))
        .await
        .unwrap();
    user
}

/// An organization administrator of `org`.
pub async fn admin(services: &Services, org: &Organization, login: &str) -> User {
    user(
        services,
        org,
        login,
        "管理 太郎",
        "かんり たろう",
        &[Role::OrgAdmin],
    )
    .await
}

/// A staff member of `org` without administration roles.
pub async fn staff(services: &Services, org: &Organization, login: &str) -> User {
    user(services, org, login, "山田 花子", "やまだ はなこ", &[]).await
}
