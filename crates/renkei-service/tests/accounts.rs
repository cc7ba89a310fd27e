//! Accounts' rules at the service level, on both databases: who may change whom, what a
//! password change ends, the lock after wrong passcodes, second-factor codes spent once,
//! sign-up through an invite link, and CSV imports all or none.

#[macro_use]
mod common;

use common::{PASSWORD, World, applicant};
use renkei_core::clock::Timestamp;
use renkei_core::totp;
use renkei_core::user::{NewUser, Role, UserPatch, UserStatus};
use renkei_service::Kind;
use renkei_service::accounts::{orgs, own_secrets, second_factor, sign_in, user_admin};
use renkei_service::admin::applications::{self, InviteOptions};
use renkei_service::admin::user_csv;
use renkei_service::auth::session::session_for_token;

on_both_backends!(
    an_org_admin_cannot_change_or_make_a_server_admin,
    an_administrator_sees_another_hospital_as_absent,
    a_password_change_ends_every_other_session,
    wrong_passcodes_lock_the_account_and_end_its_sessions,
    a_second_factor_code_is_spent_once,
    sign_up_through_an_invite_link_makes_a_pending_user,
    a_csv_import_applies_every_row_or_none,
    a_request_is_served_while_another_writer_holds_the_lock,
);

fn renamed(name: &str) -> UserPatch {
    UserPatch {
        display_name: Some(name.into()),
        ..UserPatch::default()
    }
}

async fn an_org_admin_cannot_change_or_make_a_server_admin(w: &World) {
    let svc = &w.services;
    let org = w.org("oita").await;
    let root = w
        .user(&org, "root", &[Role::ServerAdmin, Role::OrgAdmin])
        .await;
    let admin = w.user(&org, "admin", &[Role::OrgAdmin]).await;
    let member = w.user(&org, "member", &[]).await;

    let refused = user_admin::update(svc, &admin, root.id, &renamed("x"), root.version)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, Kind::Forbidden);
    for refused in [
        user_admin::reset_password(svc, &admin, root.id).await.err(),
        user_admin::reset_passcode(svc, &admin, root.id).await.err(),
        user_admin::reset_second_factor(svc, &admin, root.id)
            .await
            .err(),
        user_admin::release_sign_in(svc, &admin, root.id)
            .await
            .err(),
    ] {
        assert_eq!(refused.map(|e| e.kind), Some(Kind::Forbidden));
    }
    // Making one is changing one: by role edit or at creation.
    let promote = UserPatch {
        roles: Some(vec![Role::ServerAdmin]),
        ..UserPatch::default()
    };
    let refused = user_admin::update(svc, &admin, member.id, &promote, member.version)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, Kind::Forbidden);
    let new_root = NewUser {
        roles: vec![Role::ServerAdmin],
        ..NewUser::from(applicant("root2"))
    };
    let refused = user_admin::create(svc, &admin, org.id, new_root.clone())
        .await
        .unwrap_err();
    assert_eq!(refused.kind, Kind::Forbidden);
    assert_eq!(
        svc.store.user(root.id).await.unwrap().display_name,
        root.display_name
    );

    // A member administers nobody; the org admin edits members, a server admin anyone.
    let refused = user_admin::update(svc, &member, admin.id, &renamed("x"), admin.version)
        .await
        .unwrap_err();
    assert_eq!(refused.kind, Kind::Forbidden);
    let saved = user_admin::update(svc, &admin, member.id, &renamed("m2"), member.version)
        .await
        .unwrap();
    assert_eq!(saved.display_name, "m2");
    let saved = user_admin::update(svc, &root, admin.id, &renamed("a2"), admin.version)
        .await
        .unwrap();
    assert_eq!(saved.display_name, "a2");
    user_admin::create(svc, &root, org.id, new_root)
        .await
        .unwrap();
}

async fn an_administrator_sees_another_hospital_as_absent(w: &World) {
    let svc = &w.services;
    let oita = w.org("oita").await;
    let beppu = w.org("beppu").await;
    let admin = w.user(&oita, "admin", &[Role::OrgAdmin]).await;
    let there = w.user(&beppu, "there", &[]).await;
    let err = orgs::readable_org(svc, &admin, beppu.id).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code),
        (Kind::NotFound, "organization_not_found")
    );
    let err = user_admin::update(svc, &admin, there.id, &renamed("x"), there.version)
        .await
        .unwrap_err();
    assert_eq!((err.kind, err.code), (Kind::NotFound, "user_not_found"));
    let err = user_admin::view(svc, &admin, there.id).await.err().unwrap();
    assert_eq!(err.code, "user_not_found");
    let visible = orgs::visible_orgs(svc, &admin, &oita).await.unwrap();
    assert_eq!(
        visible.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![oita.id]
    );
}

async fn a_password_change_ends_every_other_session(w: &World) {
    let svc = &w.services;
    let org = w.org("oita").await;
    w.user(&org, "sato", &[]).await;
    let (this_token, this) = w.sign_in("sato").await;
    let (other_token, _) = w.sign_in("sato").await;

    let wrong = own_secrets::change_password(svc, &this, "not it at all", "a new long secret")
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.kind, wrong.code),
        (Kind::Forbidden, "wrong_password")
    );
    let same = own_secrets::change_password(svc, &this, PASSWORD, PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(same.code, "password_unchanged");
    session_for_token(svc, &other_token, false).await.unwrap();

    own_secrets::change_password(svc, &this, PASSWORD, "a new long secret")
        .await
        .unwrap();
    let ended = session_for_token(svc, &other_token, false)
        .await
        .unwrap_err();
    assert_eq!(ended.kind, Kind::Unauthenticated);
    session_for_token(svc, &this_token, false).await.unwrap();
    let old = sign_in::login(svc, "sato", PASSWORD).await.unwrap_err();
    assert_eq!(old.code, "invalid_credentials");
    sign_in::login(svc, "sato", "a new long secret")
        .await
        .unwrap();
}

async fn wrong_passcodes_lock_the_account_and_end_its_sessions(w: &World) {
    let svc = &w.services;
    let org = w.org("oita").await;
    w.user(&org, "sato", &[]).await;
    let (_, first) = w.sign_in("sato").await;
    own_secrets::set_passcode(svc, &first, "2468")
        .await
        .unwrap();
    let (token, locked) = w.sign_in("sato").await;
    assert!(locked.locked, "a user with a passcode signs in locked");

    let max = svc.settings.login_max_failures;
    for _ in 1..max {
        let wrong = sign_in::unlock(svc, &locked, "1111").await.unwrap_err();
        assert_eq!(
            (wrong.kind, wrong.code),
            (Kind::Forbidden, "wrong_passcode")
        );
    }
    let last = sign_in::unlock(svc, &locked, "1111").await.unwrap_err();
    assert_eq!((last.kind, last.code), (Kind::Locked, "account_locked"));
    assert!(last.retry_after.is_some());
    let ended = session_for_token(svc, &token, false).await.unwrap_err();
    assert_eq!(ended.kind, Kind::Unauthenticated);
    // Even the right password learns only that the account is locked.
    let refused = sign_in::login(svc, "sato", PASSWORD).await.unwrap_err();
    assert_eq!(refused.code, "account_locked");
}

/// The code of the authenticator app set up from `secret` (base32), now.
fn code_now(secret: &str) -> String {
    let secret = totp::base32_decode(secret).unwrap();
    let now = Timestamp::now().millis() / 1000;
    totp::code_at_step(&secret, totp::step_at(now))
}

async fn a_second_factor_code_is_spent_once(w: &World) {
    let svc = &w.services;
    let org = w.org("oita").await;
    w.user(&org, "sato", &[]).await;
    let (_, enrolling) = w.sign_in("sato").await;
    let refused = second_factor::verify(svc, &enrolling, "123456")
        .await
        .unwrap_err();
    assert_eq!(refused.code, "not_enrolled");
    let enrollment = second_factor::start_enrollment(svc, &enrolling)
        .await
        .unwrap();
    let code = code_now(&enrollment.secret);
    let recovery = second_factor::confirm_enrollment(svc, &enrolling, &code)
        .await
        .unwrap();
    assert_eq!(recovery.len(), 10);

    // Signing in again owes the code; the one the enrollment spent is refused.
    let signed = sign_in::login(svc, "sato", PASSWORD).await.unwrap();
    assert_eq!(
        signed.second_factor,
        Some(sign_in::SecondFactorStep::Verify)
    );
    let session = session_for_token(svc, &signed.token, true).await.unwrap();
    assert!(session.second_factor_pending);
    let reused = second_factor::verify(svc, &session, &code)
        .await
        .unwrap_err();
    assert_eq!(
        (reused.kind, reused.code),
        (Kind::Forbidden, "code_already_used")
    );
    let wrong = second_factor::verify(svc, &session, "0000-0000-0000-0000x")
        .await
        .unwrap_err();
    assert_eq!(wrong.code, "wrong_code");

    // A recovery code passes once.
    let left = second_factor::verify(svc, &session, &recovery[0])
        .await
        .unwrap();
    assert_eq!(left, 9);
    let passed = session_for_token(svc, &signed.token, true).await.unwrap();
    assert!(!passed.second_factor_pending);
    let (_, again) = {
        let signed = sign_in::login(svc, "sato", PASSWORD).await.unwrap();
        let authed = session_for_token(svc, &signed.token, true).await.unwrap();
        (signed.token, authed)
    };
    let spent = second_factor::verify(svc, &again, &recovery[0])
        .await
        .unwrap_err();
    assert_eq!(spent.code, "wrong_code");
    let status = second_factor::status(svc, &again).await.unwrap();
    assert!(status.enrolled && status.required && !status.passed);
    assert_eq!(status.recovery_codes_left, 9);
}

async fn sign_up_through_an_invite_link_makes_a_pending_user(w: &World) {
    let svc = &w.services;
    let org = w.org("oita").await;
    let admin = w.user(&org, "admin", &[Role::OrgAdmin]).await;
    let member = w.user(&org, "member", &[]).await;
    let refused = applications::rotate_invite(svc, &member, org.id, &InviteOptions::default())
        .await
        .unwrap_err();
    assert_eq!(refused.kind, Kind::Forbidden);
    let invite = applications::rotate_invite(svc, &admin, org.id, &InviteOptions::default())
        .await
        .unwrap();

    let (shown, _) = applications::sign_up_form(svc, &invite.token)
        .await
        .unwrap();
    assert_eq!(shown.id, org.id);
    let status = applications::sign_up(svc, &invite.token, applicant("newcomer"))
        .await
        .unwrap();
    assert_eq!(status, UserStatus::Pending);
    let pending = user_admin::applications(svc, &admin, org.id).await.unwrap();
    assert_eq!(pending.len(), 1);
    let newcomer = &pending[0];
    assert_eq!(
        (newcomer.login.as_str(), newcomer.status),
        ("newcomer", UserStatus::Pending)
    );
    assert!(newcomer.roles.is_empty() && !newcomer.must_change_password);
    let waiting = sign_in::login(svc, "newcomer", PASSWORD).await.unwrap_err();
    assert_eq!(waiting.code, "account_pending");

    // A taken login answers like an application and stores nothing.
    let status = applications::sign_up(svc, &invite.token, applicant("member"))
        .await
        .unwrap();
    assert_eq!(status, UserStatus::Pending);
    assert_eq!(
        user_admin::applications(svc, &admin, org.id)
            .await
            .unwrap()
            .len(),
        1
    );

    let approved = user_admin::decide_application(svc, &admin, newcomer.id, true)
        .await
        .unwrap();
    assert_eq!(approved.status, UserStatus::Active);
    sign_in::login(svc, "newcomer", PASSWORD).await.unwrap();

    applications::revoke_invite(svc, &admin, org.id)
        .await
        .unwrap();
    let gone = applications::sign_up(svc, &invite.token, applicant("late"))
        .await
        .unwrap_err();
    assert_eq!((gone.kind, gone.code), (Kind::Gone, "invite_revoked"));
    let junk = applications::sign_up_form(svc, "short").await.unwrap_err();
    assert_eq!(junk.code, "invite_not_found");
}

async fn a_csv_import_applies_every_row_or_none(w: &World) {
    let svc = &w.services;
    let org = w.org("oita").await;
    let admin = w.user(&org, "admin", &[Role::OrgAdmin]).await;
    let logins = |users: Vec<renkei_core::user::User>| {
        let mut logins: Vec<String> = users.into_iter().map(|u| u.login).collect();
        logins.sort();
        logins
    };

    let one_bad = "login,display_name,profession\nito,伊藤,nurse\nkato,加藤,wizard\n";
    let refused = user_csv::import(svc, &admin, org.id, one_bad.as_bytes(), false)
        .await
        .unwrap()
        .err()
        .expect("a bad cell refuses the file");
    assert!(refused.iter().any(|e| e.row == 3), "{:?}", refused.len());
    let users = svc.store.users_of(org.id, None).await.unwrap();
    assert_eq!(logins(users), vec!["admin"], "nothing of the file was kept");

    let good = "login,display_name,profession\nito,伊藤,nurse\nkato,加藤,doctor\n";
    let dry = user_csv::import(svc, &admin, org.id, good.as_bytes(), true)
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(dry.rows.len(), 2);
    assert!(dry.created.is_empty());
    assert_eq!(svc.store.users_of(org.id, None).await.unwrap().len(), 1);

    let done = user_csv::import(svc, &admin, org.id, good.as_bytes(), false)
        .await
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(done.created.len(), 2);
    let users = svc.store.users_of(org.id, None).await.unwrap();
    assert_eq!(logins(users), vec!["admin", "ito", "kato"]);

    let member = svc.store.user_by_login("ito").await.unwrap();
    let refused = user_csv::import(svc, &member, org.id, good.as_bytes(), true)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.kind, Kind::Forbidden);
}

/// A request records its session's activity off its own path: it is served while another
/// connection holds the database's write lock (on PostgreSQL, the sessions table), and the
/// activity reaches the database with the next flush. (A socket's session re-check is the same
/// call: a write there held that socket's deliveries for as long as the lock was busy.)
async fn a_request_is_served_while_another_writer_holds_the_lock(w: &World) {
    use sqlx::Executor;
    let svc = &w.services;
    let org = w.org("oita").await;
    w.user(&org, "nurse", &[]).await;
    let (token, me) = w.sign_in("nurse").await;
    let id = me.session.id;
    let stale = Timestamp::now().millis() - 60_000;
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&w.url)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(stale)
        .bind(id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    let mut holder = pool.acquire().await.unwrap();
    match svc.store.backend() {
        renkei_store::Backend::Sqlite => holder.execute("BEGIN IMMEDIATE").await.unwrap(),
        renkei_store::Backend::Postgres => holder
            .execute("BEGIN; LOCK TABLE sessions IN EXCLUSIVE MODE")
            .await
            .unwrap(),
    };

    let before = Timestamp::now();
    let served = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        session_for_token(svc, &token, true),
    )
    .await
    .expect("the request waited for the write lock")
    .expect("the request failed on the write lock");
    assert!(served.session.last_seen_at >= before, "seen now");
    let stored = svc
        .store
        .session_by_token_hash(&me.session.token_hash)
        .await;
    assert_eq!(
        stored.unwrap().last_seen_at,
        Timestamp(stale),
        "not written yet"
    );

    holder.execute("ROLLBACK").await.unwrap();
    drop(holder);
    pool.close().await;
    svc.touches.flush().await.unwrap();
    let stored = svc
        .store
        .session_by_token_hash(&me.session.token_hash)
        .await;
    assert!(
        stored.unwrap().last_seen_at >= before,
        "written by the flush"
    );
}
