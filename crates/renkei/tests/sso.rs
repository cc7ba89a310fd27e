//! Single sign-on against a real, OpenID-certified provider (the npm package `oidc-provider`,
//! started here on loopback from tests/oidc/provider.mjs): signing in through its login form
//! with a verified email linking the existing account and its `amr` counting as the second
//! factor; unknown people applying or refused; a wrong issuer, a replayed callback and an
//! expired token refused; back-channel logout ending the session and its socket; enforced
//! SSO refusing passwords but for break-glass accounts.

mod common;

use common::oidc::{Browser, LogoutCatcher, Provider, SECRET, session_of, sign_out_at_provider};
use common::{Api, Server, Storage, Ws, active_user};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    signs_in_through_the_provider_and_links_the_verified_account,
    unknown_people_apply_or_are_refused_by_policy,
    a_provider_with_another_issuer_is_refused,
    a_replayed_callback_and_an_expired_token_are_refused,
    back_channel_logout_ends_the_session_and_its_socket,
    enforced_sso_refuses_passwords_but_for_break_glass,
);

/// renkei's back-channel logout endpoint for `org`.
fn logout_uri(server: &Server, org: &str) -> String {
    format!("{}/api/v1/auth/sso/{org}/backchannel-logout", server.base)
}

/// The configuration `PUT /orgs/{org}/sso` takes for `provider`.
fn settings(provider: &Provider, extra: Value) -> Value {
    let mut settings = json!({
        "issuer": provider.issuer,
        "client_id": "renkei",
        "login_claim": "preferred_username",
        "kana_claim": "kana",
        "department_claim": "department",
        "trusted_amr": ["mfa", "otp", "hwk"],
        "unknown_users": "apply",
    });
    settings
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    settings
}

async fn configure(admin: &Api, org: &str, settings: Value) -> Value {
    let (status, body) = admin
        .put(
            &format!("/api/v1/orgs/{org}/sso"),
            json!({"settings": settings, "client_secret": SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Posts a back-channel logout request body to renkei, as the provider would.
async fn deliver(server: &Server, org: &str, body: Vec<u8>) -> (StatusCode, Value) {
    server
        .client()
        .raw(
            reqwest::Method::POST,
            &format!("/api/v1/auth/sso/{org}/backchannel-logout"),
            "application/x-www-form-urlencoded",
            body,
        )
        .await
}

async fn audit_actions(admin: &Api, org: &str) -> Vec<String> {
    let (status, page) = admin
        .get(&format!("/api/v1/audit?org_id={org}&limit=500"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page.as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn signs_in_through_the_provider_and_links_the_verified_account(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    // A second factor is required of this account: the hospital's (amr "mfa") counts.
    let existing = admin
        .create_user(
            &org,
            "suzuki",
            "one-time password",
            json!({"email": "suzuki@hospital.test", "second_factor_required": true}),
        )
        .await;
    let provider = Provider::start(&server, &logout_uri(&server, &org), 0);
    let view = configure(&admin, &org, settings(&provider, json!({}))).await;
    assert_eq!(view["client_secret_set"], true);
    assert!(
        !view.to_string().contains(SECRET),
        "the secret is never shown"
    );
    let (_, choices) = server.client().get("/api/v1/auth/sso").await;
    assert_eq!(choices["organizations"][0]["id"], org.as_str());

    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "suzuki").await;
    assert_eq!(browser.callback(&callback).await, "/");
    let me_api = session_of(&server, &browser);
    let (status, me) = me_api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["user"]["id"], existing["id"],
        "the existing account, linked"
    );
    // Data is served: no code owed (the provider's mfa), no one-time password to replace.
    let (status, body) = me_api.get("/api/v1/conversations").await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Signing in again finds the link; still one account with this login.
    let mut again = Browser::new();
    let callback = again.through_provider(&server, &org, "suzuki").await;
    assert_eq!(again.callback(&callback).await, "/");
    let (_, users) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    let matching = users
        .as_array()
        .map(|list| list.iter().filter(|u| u["login"] == "suzuki").count());
    assert_eq!(matching, Some(1), "{users}");

    let actions = audit_actions(&admin, &org).await;
    for action in ["org.sso_updated", "user.sso_linked", "auth.sso_login"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    // The one-time password the administrator gave no longer signs in.
    let (status, _) = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": "suzuki", "password": "one-time password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn unknown_people_apply_or_are_refused_by_policy(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let provider = Provider::start(&server, &logout_uri(&server, &org), 0);
    let view = configure(&admin, &org, settings(&provider, json!({}))).await;

    // Applying: a pending account, linked, that signs in once approved.
    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "newcomer").await;
    assert_eq!(
        browser.callback(&callback).await,
        "/?sso_error=sso_application_pending"
    );
    let (status, pending) = admin.get(&format!("/api/v1/orgs/{org}/applications")).await;
    assert_eq!(status, StatusCode::OK, "{pending}");
    let applicant = pending
        .as_array()
        .and_then(|list| list.iter().find(|u| u["login"] == "newcomer").cloned())
        .unwrap_or_else(|| panic!("newcomer applied: {pending}"));
    assert_eq!(applicant["display_name"], "新人 花子");
    let mut before = Browser::new();
    let callback = before.through_provider(&server, &org, "newcomer").await;
    assert_eq!(
        before.callback(&callback).await,
        "/?sso_error=account_pending"
    );
    let id = applicant["id"].as_str().unwrap();
    let (status, body) = admin
        .post(&format!("/api/v1/users/{id}/approve"), json!({}))
        .await;
    assert!(status.is_success(), "{status} {body}");
    let mut after = Browser::new();
    let callback = after.through_provider(&server, &org, "newcomer").await;
    assert_eq!(after.callback(&callback).await, "/");

    // An existing login whose email the provider does not vouch for is not linked.
    admin
        .create_user(
            &org,
            "unverified",
            "one-time password",
            json!({"email": "unverified@hospital.test"}),
        )
        .await;
    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "unverified").await;
    assert_eq!(
        browser.callback(&callback).await,
        "/?sso_error=sso_unverified_match"
    );

    // Refusing: nobody new gets in, nothing is stored.
    let refusing = settings(&provider, json!({"unknown_users": "refuse"}));
    let (status, body) = admin
        .put(
            &format!("/api/v1/orgs/{org}/sso"),
            json!({"settings": refusing, "version": view["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, before_users) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "suzuki").await;
    assert_eq!(
        browser.callback(&callback).await,
        "/?sso_error=sso_unknown_user"
    );
    let (_, after_users) = admin.get(&format!("/api/v1/orgs/{org}/users")).await;
    assert_eq!(before_users, after_users, "no account was created");
    assert!(
        audit_actions(&admin, &org)
            .await
            .iter()
            .any(|a| a == "auth.sso_refused")
    );
}

async fn a_provider_with_another_issuer_is_refused(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    let provider = Provider::start(&server, &logout_uri(&server, &org), 0);
    // The same provider under another name: its discovery document names 127.0.0.1.
    let other_name = provider.issuer.replace("127.0.0.1", "localhost");
    configure(
        &admin,
        &org,
        settings(&provider, json!({"issuer": other_name})),
    )
    .await;
    let mut browser = Browser::new();
    let start = browser
        .get(&format!("{}/api/v1/auth/sso/{org}/start", server.base))
        .await;
    assert_eq!(start.status, StatusCode::FORBIDDEN, "{}", start.body);
    assert!(start.body.contains("sso_wrong_issuer"), "{}", start.body);
    // Plain HTTP to a provider that is not on loopback is refused outright.
    let (status, body) = admin
        .put(
            &format!("/api/v1/orgs/{org}/sso"),
            json!({"settings": settings(&provider, json!({"issuer": "http://idp.example"})),
                   "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_issuer");
}

async fn a_replayed_callback_and_an_expired_token_are_refused(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    admin
        .create_user(
            &org,
            "suzuki",
            "one-time password",
            json!({"email": "suzuki@hospital.test"}),
        )
        .await;
    let provider = Provider::start(&server, &logout_uri(&server, &org), 0);
    let view = configure(&admin, &org, settings(&provider, json!({}))).await;
    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "suzuki").await;
    assert_eq!(browser.callback(&callback).await, "/");
    // The same callback again (state, nonce and code once used): refused.
    assert_eq!(
        browser.callback(&callback).await,
        "/?sso_error=sso_state_invalid"
    );
    // A callback in a browser that did not start the sign-in: refused.
    let mut other = Browser::new();
    let callback = other.through_provider(&server, &org, "suzuki").await;
    let mut stranger = Browser::new();
    assert_eq!(
        stranger.callback(&callback).await,
        "/?sso_error=sso_state_invalid"
    );

    // A provider whose clock is two hours behind issues tokens already expired.
    drop(provider);
    let late = Provider::start(&server, &logout_uri(&server, &org), -7200);
    let (status, body) = admin
        .put(
            &format!("/api/v1/orgs/{org}/sso"),
            json!({"settings": settings(&late, json!({})), "version": view["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "suzuki").await;
    assert_eq!(
        browser.callback(&callback).await,
        "/?sso_error=sso_token_expired"
    );
}

async fn back_channel_logout_ends_the_session_and_its_socket(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    admin
        .create_user(
            &org,
            "suzuki",
            "one-time password",
            json!({"email": "suzuki@hospital.test"}),
        )
        .await;
    let mut catcher = LogoutCatcher::start().await;
    let provider = Provider::start(&server, &catcher.uri, 0);
    configure(&admin, &org, settings(&provider, json!({}))).await;
    let mut browser = Browser::new();
    let callback = browser.through_provider(&server, &org, "suzuki").await;
    assert_eq!(browser.callback(&callback).await, "/");
    let api = session_of(&server, &browser);
    let token = api.token.clone().unwrap();
    let (mut ws, _) = Ws::connect(&server, &token, None).await;
    // Another session of the same person, not through the provider's session: it stays.
    let mut elsewhere = Browser::new();
    let callback = elsewhere.through_provider(&server, &org, "suzuki").await;
    assert_eq!(elsewhere.callback(&callback).await, "/");
    let survivor = session_of(&server, &elsewhere);

    // Signing out at the provider: it posts a logout token (caught here, then delivered to
    // renkei as the provider sent it).
    sign_out_at_provider(&mut browser, &provider).await;
    let body = catcher.next().await;
    let (status, answer) = deliver(&server, &org, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = api.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    loop {
        match ws.next_or_close().await {
            Ok(frame) if frame["type"] == "error" => continue,
            Ok(frame) => panic!("the ended session's socket got {frame}"),
            Err(closed) => {
                assert_ne!(closed.0, 0, "closed, not timed out");
                break;
            }
        }
    }
    assert_eq!(
        survivor.get("/api/v1/me").await.0,
        StatusCode::OK,
        "the provider named one session (sid)"
    );
    assert!(
        audit_actions(&admin, &org)
            .await
            .iter()
            .any(|a| a == "auth.sso_logout")
    );

    // The same token again (its jti used): refused. A token nobody signed: refused.
    let (status, answer) = deliver(&server, &org, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["code"], "invalid_logout_token");
    let forged = b"logout_token=eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.".to_vec();
    let (status, answer) = deliver(&server, &org, forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(survivor.get("/api/v1/me").await.0, StatusCode::OK);
}

async fn enforced_sso_refuses_passwords_but_for_break_glass(storage: Storage) {
    let server = Server::start(&storage, &[]);
    let admin = server.first_admin().await;
    let org = admin.org_id().await;
    active_user(&server, &admin, &org, "nurse1").await;
    let (status, me) = admin.get("/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    let admin_id = me["user"]["id"].as_str().unwrap().to_string();
    let provider = Provider::start(&server, &logout_uri(&server, &org), 0);
    configure(
        &admin,
        &org,
        settings(
            &provider,
            json!({"enforced": true, "break_glass": [admin_id]}),
        ),
    )
    .await;
    let (status, body) = server
        .client()
        .post(
            "/api/v1/auth/login",
            json!({"login": "nurse1", "password": common::USER_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "sso_required");
    // The break-glass administrator still signs in with the password, even with the
    // provider gone; the entry says it was break-glass.
    drop(provider);
    let again = server.login("admin", common::ADMIN_PASSWORD).await;
    assert_eq!(again.get("/api/v1/me").await.0, StatusCode::OK);
    let (_, page) = admin
        .get(&format!(
            "/api/v1/audit?org_id={org}&action=auth.login&limit=5"
        ))
        .await;
    assert!(
        page.to_string().contains("break_glass"),
        "the break-glass sign-in is in the audit log: {page}"
    );
    // Break-glass accounts must be this organization's.
    let (status, body) = admin
        .put(
            &format!("/api/v1/orgs/{org}/sso"),
            json!({"settings": {"issuer": "https://idp.example", "client_id": "renkei",
                                "break_glass": ["00000000-0000-0000-0000-000000000001"]},
                   "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_break_glass");
}
