//! The authorization code flow: a sign-in starts with state, nonce and a PKCE verifier kept
//! server-side (and a cookie binding it to the browser), and ends when the provider's code is
//! redeemed and its ID token verified; then the account is found, linked, applied for or
//! refused, as `renkei_core::sso::decide` says.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::sso::{Candidate, Decision, Mapped, decide, expected_issuer, map_claims};
use renkei_core::user::{Applicant, NewUser, Profession, User};
use renkei_store::{SsoConfig, SsoFlow, SsoIdentity, StoreError};
use serde_json::{Map, Value, json};

use super::provider::{unavailable, wrong_issuer};
use super::{secret, token};
use crate::Services;
use crate::accounts::sign_in::{SignedIn, new_session, second_factor_step, status_refusal};
use crate::auth::token::{random_token, token_hash};
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// How long a sign-in may stay at the provider.
const FLOW_SECONDS: i64 = 10 * 60;

/// A sign-in sent to the provider: where the browser goes, and the value of its flow cookie.
#[derive(Debug)]
pub struct Started {
    pub url: String,
    pub browser_token: String,
}

fn refused(code: &'static str, message: &'static str) -> ServiceError {
    ServiceError::new(Kind::Forbidden, code, message)
}

fn not_configured() -> ServiceError {
    ServiceError::new(
        Kind::NotFound,
        "sso_not_configured",
        "this organization does not sign in with an identity provider",
    )
}

async fn config_of(svc: &Services, org_id: Uuid) -> ServiceResult<SsoConfig> {
    svc.store
        .sso_config(org_id)
        .await
        .or_service("sso_not_configured")?
        .ok_or_else(not_configured)
}

fn redirect_url(uri: &str) -> ServiceResult<RedirectUrl> {
    RedirectUrl::new(uri.to_string())
        .map_err(|_| ServiceError::bad_request("invalid_redirect", "bad callback address"))
}

/// Starts a sign-in of organization `org_id`'s people; the provider sends them back to
/// `redirect_uri` (renkei's callback).
pub async fn start(svc: &Services, org_id: Uuid, redirect_uri: &str) -> ServiceResult<Started> {
    let config = config_of(svc, org_id).await?;
    let metadata = svc.sso.metadata(&config.settings.issuer).await?;
    let client = CoreClient::from_provider_metadata(
        (*metadata).clone(),
        ClientId::new(config.settings.client_id.clone()),
        None,
    )
    .set_redirect_uri(redirect_url(redirect_uri)?);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser_token = random_token();
    let now = Timestamp::now();
    let flow = SsoFlow {
        state_hash: token_hash(state.secret()),
        org_id,
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        redirect_uri: redirect_uri.to_string(),
        browser_hash: token_hash(&browser_token),
        expires_at: now.plus_secs(FLOW_SECONDS),
    };
    svc.store
        .put_sso_flow(&flow, now)
        .await
        .or_service("sso_not_configured")?;
    Ok(Started {
        url: url.to_string(),
        browser_token,
    })
}

fn state_refused() -> ServiceError {
    refused(
        "sso_state_invalid",
        "this sign-in was used already, has expired or began in another browser; start again",
    )
}

/// The sign-in under way that `state` names, taken (it works once), in this browser.
async fn take_flow(
    svc: &Services,
    state: &str,
    browser_token: Option<&str>,
) -> ServiceResult<SsoFlow> {
    let flow = match svc.store.take_sso_flow(&token_hash(state)).await {
        Err(StoreError::NotFound) => return Err(state_refused()),
        other => other.or_service("sso_state_invalid")?,
    };
    let same_browser = browser_token.is_some_and(|b| token_hash(b) == flow.browser_hash);
    if flow.expires_at < Timestamp::now() || !same_browser {
        return Err(state_refused());
    }
    Ok(flow)
}

fn claims_error(err: ClaimsVerificationError) -> ServiceError {
    match err {
        ClaimsVerificationError::Expired(_) => refused(
            "sso_token_expired",
            "the identity provider's token has expired; sign in again",
        ),
        ClaimsVerificationError::InvalidIssuer(e) => wrong_issuer(e),
        ClaimsVerificationError::InvalidNonce(_) => refused(
            "sso_nonce_mismatch",
            "the identity provider's token is not for this sign-in",
        ),
        other => {
            tracing::warn!(error = %other, "ID token refused");
            refused(
                "sso_token_invalid",
                "the identity provider's token could not be verified",
            )
        }
    }
}

/// The provider's verified word on who signed in.
struct Verified {
    identity: SsoIdentity,
    claims: Map<String, Value>,
}

/// Redeems `code` and verifies the ID token (signature, issuer with Entra ID's `{tenantid}`
/// filled from `tid`, audience, expiry, nonce); the nonce is then used up.
async fn verify(
    svc: &Services,
    config: &SsoConfig,
    flow: &SsoFlow,
    code: &str,
) -> ServiceResult<Verified> {
    let settings = &config.settings;
    let metadata = svc.sso.metadata(&settings.issuer).await?;
    let client_secret = secret::open(
        &svc.media.blobs,
        config.org_id,
        &config.key,
        &config.sealed_secret,
    )?;
    let client_of = |metadata: CoreProviderMetadata| -> ServiceResult<_> {
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            Some(ClientSecret::new(client_secret.clone())),
        )
        .set_redirect_uri(redirect_url(&flow.redirect_uri)?))
    };
    let client = client_of((*metadata).clone())?;
    let response = client
        .exchange_code(AuthorizationCode::new(code.to_string()))
        .map_err(unavailable)?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(svc.sso.http())
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "code redemption refused");
            refused(
                "sso_code_refused",
                "the identity provider refused this sign-in; start again",
            )
        })?;
    let id_token = response.id_token().ok_or_else(|| {
        refused(
            "sso_token_invalid",
            "the identity provider sent no ID token",
        )
    })?;
    let unverified = token::payload(&id_token.to_string()).unwrap_or_default();
    let tid = unverified.get("tid").and_then(Value::as_str);
    let issuer = expected_issuer(metadata.issuer().as_str(), tid)
        .ok_or_else(|| wrong_issuer("templated issuer without a tenant id"))?;
    let issuer_url = IssuerUrl::new(issuer.clone()).map_err(wrong_issuer)?;
    let verifying = client_of((*metadata).clone().set_issuer(issuer_url))?;
    let nonce = Nonce::new(flow.nonce.clone());
    let claims = id_token
        .claims(&verifying.id_token_verifier(), &nonce)
        .map_err(claims_error)?;
    let expires = Timestamp(claims.expiration().timestamp_millis());
    match svc
        .store
        .use_sso_token(
            &issuer,
            &format!("nonce:{}", flow.nonce),
            expires,
            Timestamp::now(),
        )
        .await
    {
        Err(StoreError::Duplicate(_)) => {
            return Err(refused(
                "sso_nonce_replayed",
                "this identity provider token was used already",
            ));
        }
        other => other.or_service("sso_state_invalid")?,
    }
    let identity = SsoIdentity {
        issuer,
        subject: claims.subject().as_str().to_string(),
        sid: unverified
            .get("sid")
            .and_then(Value::as_str)
            .map(String::from),
    };
    Ok(Verified {
        identity,
        claims: unverified,
    })
}

/// The account with the mapped login, when it is of this organization; a login taken in
/// another organization is refused.
async fn candidate(
    svc: &Services,
    org_id: Uuid,
    mapped: &Mapped,
) -> ServiceResult<Option<Candidate>> {
    let Some(login) = mapped.login.as_deref() else {
        return Ok(None);
    };
    match svc.store.user_by_login(login).await {
        Err(StoreError::NotFound) => Ok(None),
        Ok(user) if user.org_id != org_id => Err(refused(
            "sso_login_taken",
            "this login belongs to another organization's account",
        )),
        other => {
            let user = other.or_service("user_not_found")?;
            Ok(Some(Candidate {
                user_id: user.id,
                login: user.login,
                email: user.email,
            }))
        }
    }
}

fn sso_event(
    action: &'static str,
    org_id: Uuid,
    user: Option<Uuid>,
    target: Option<Uuid>,
) -> AuditEvent {
    AuditEvent::new(action, Some(org_id), user, "session", target)
}

/// Finishes a sign-in: the state taken, the code redeemed, the token verified, then the
/// account signed in (linked first on a verified match), applied for, or refused; audited.
pub async fn finish(
    svc: &Services,
    state: &str,
    code: &str,
    browser_token: Option<&str>,
) -> ServiceResult<SignedIn> {
    let flow = take_flow(svc, state, browser_token).await?;
    let config = config_of(svc, flow.org_id).await?;
    let org_id = flow.org_id;
    let verified = verify(svc, &config, &flow, code).await?;
    let mapped = map_claims(&verified.claims, &config.settings);
    let linked = svc
        .store
        .sso_link(&verified.identity.issuer, &verified.identity.subject)
        .await
        .or_service("user_not_found")?;
    let found = match linked {
        Some(_) => None,
        None => candidate(svc, org_id, &mapped).await?,
    };
    match decide(linked, found.as_ref(), &mapped, &config.settings) {
        Decision::Linked(user_id) => sign_in(svc, org_id, user_id, &verified, &mapped, false).await,
        Decision::Link(user_id) => sign_in(svc, org_id, user_id, &verified, &mapped, true).await,
        Decision::Apply(login) => Err(apply(svc, org_id, &login, &verified, &mapped).await?),
        Decision::Refuse(code) => {
            let event = sso_event("auth.sso_refused", org_id, None, None)
                .with_details(json!({"reason": code}));
            svc.store
                .append_audit(&event)
                .await
                .or_service("user_not_found")?;
            Err(refused(code, refusal_message(code)))
        }
    }
}

fn refusal_message(code: &str) -> &'static str {
    match code {
        "sso_unknown_user" => "there is no renkei account for you; ask the administrator",
        "sso_unverified_match" => {
            "a renkei account has this login, but the identity provider does not vouch for it; \
             ask the administrator to link it"
        }
        _ => "the identity provider named no usable login",
    }
}

async fn sign_in(
    svc: &Services,
    org_id: Uuid,
    user_id: Uuid,
    verified: &Verified,
    mapped: &Mapped,
    link: bool,
) -> ServiceResult<SignedIn> {
    let store = &svc.store;
    let mut user: User = store.user(user_id).await.or_service("user_not_found")?;
    if user.org_id != org_id {
        return Err(refused(
            "sso_login_taken",
            "this login belongs to another organization's account",
        ));
    }
    if let Some(refusal) = status_refusal(user.status) {
        return Err(refusal);
    }
    let creds = store
        .credentials(user.id)
        .await
        .or_service("user_not_found")?;
    if let Some(until) = creds.locked_until.filter(|u| *u > Timestamp::now()) {
        return Err(crate::accounts::lockout::account_locked(until));
    }
    let org = store.org(org_id).await.or_service("user_not_found")?;
    let enrolled = creds.has_second_factor();
    let second_factor = second_factor_step(&user, &org, enrolled, mapped.second_factor);
    let (token, session) = new_session(
        svc,
        &user,
        creds.passcode_hash.is_some(),
        mapped.second_factor,
    );
    let mut events = Vec::new();
    if link {
        events.push(
            AuditEvent::new(
                "user.sso_linked",
                Some(org_id),
                Some(user.id),
                "user",
                Some(user.id),
            )
            .with_details(json!({"issuer": verified.identity.issuer})),
        );
    }
    events.push(
        sso_event("auth.sso_login", org_id, Some(user.id), Some(session.id)).with_details(json!({
            "issuer": verified.identity.issuer,
            "second_factor_by_provider": mapped.second_factor,
        })),
    );
    // A one-time password an administrator handed out is void once the provider vouched for
    // the person: nobody should keep it, and it never has to be changed.
    let void_password = match user.must_change_password {
        true => Some(svc.hasher.hash(&random_token()).await?),
        false => None,
    };
    store
        .open_sso_session(
            &session,
            &verified.identity,
            link,
            void_password.as_deref(),
            &events,
        )
        .await
        .or_service("user_not_found")?;
    user.must_change_password = false;
    Ok(SignedIn {
        token,
        session,
        user,
        second_factor,
    })
}

/// Stores a pending application for someone the provider vouches for; answers the refusal
/// the browser shows (`sso_application_pending`).
async fn apply(
    svc: &Services,
    org_id: Uuid,
    login: &str,
    verified: &Verified,
    mapped: &Mapped,
) -> ServiceResult<ServiceError> {
    let store = &svc.store;
    let department_id = match mapped.department.as_deref() {
        Some(name) => store
            .list_departments(org_id)
            .await
            .or_service("organization_not_found")?
            .into_iter()
            .find(|d| d.name == name)
            .map(|d| d.id),
        None => None,
    };
    let password = random_token();
    let applicant = |kana: String| Applicant {
        login: login.to_string(),
        display_name: mapped
            .display_name
            .clone()
            .unwrap_or_else(|| login.to_string()),
        kana,
        romaji: None,
        profession: Profession::Other,
        department_id,
        email: mapped.email.clone(),
        phone: None,
        password: password.clone(),
    };
    let now = Timestamp::now();
    // A kana claim that is not a reading is left out rather than refusing the person.
    let user = NewUser::application(
        applicant(mapped.kana.clone().unwrap_or_default()),
        org_id,
        now,
    )
    .or_else(|_| NewUser::application(applicant(String::new()), org_id, now))?;
    let hash = svc.hasher.hash(&password).await?;
    let event = AuditEvent::new("user.apply", Some(org_id), None, "user", Some(user.id))
        .with_details(
            json!({"login": user.login, "via": "sso", "issuer": verified.identity.issuer}),
        );
    match store
        .insert_sso_applicant(&user, &hash, &verified.identity, &event)
        .await
    {
        Ok(()) | Err(StoreError::Duplicate(_)) => {}
        Err(e) => return Err(ServiceError::from_store(e, "user_not_found")),
    }
    Ok(refused(
        "sso_application_pending",
        "your application is stored; you can sign in once an administrator approves it",
    ))
}
