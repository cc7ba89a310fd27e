//! Passkeys as a user meets them: registering named ones, listing and removing them, signing
//! in with one (no password: the passkey's user verification is the second factor), and
//! passing the second factor with one after the password. A passkey whose counter goes
//! backwards (a cloned authenticator) is refused, flagged and audited.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use renkei_core::Uuid;
use renkei_core::audit::AuditEvent;
use renkei_core::clock::Timestamp;
use renkei_core::user::User;
use renkei_store::{PasskeyUse, StoreError, StoredPasskey};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, WebauthnError,
};

use super::lockout::{account_locked, count_failure};
use super::sign_in::{SignedIn, new_session, status_refusal};
use crate::Services;
use crate::auth::passkey::{self as rp, Purpose};
use crate::auth::session::{Authed, enroll_gate, unlocked_gate};
use crate::error::{Kind, OrService, ServiceError, ServiceResult};

/// Longest passkey name, in characters.
const NAME_CHARS: usize = 60;

/// A passkey as its owner sees it (never the key).
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq, Eq)]
pub struct PasskeyView {
    pub id: Uuid,
    /// What the user called it.
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// Its counter went backwards (a cloned authenticator): refused since; remove it.
    pub cloned: bool,
}

impl From<StoredPasskey> for PasskeyView {
    fn from(p: StoredPasskey) -> Self {
        PasskeyView {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            cloned: p.cloned_at.is_some(),
        }
    }
}

/// A ceremony begun: its id (sent back with the answer) and the options for the browser.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct Ceremony {
    pub challenge_id: Uuid,
    /// `{"publicKey": …}` for `navigator.credentials.create` or `.get`, binary values in
    /// base64url.
    #[schema(value_type = Object)]
    pub options: Value,
}

/// Why an assertion was refused, as the audit log says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No passkey has this credential id (removed, or never registered here).
    Unknown,
    /// The credential's user handle names someone else, or another user's session.
    WrongUser,
    /// Flagged as cloned before.
    Flagged,
    /// The signature, origin, challenge or user verification did not hold.
    Invalid,
    /// Used meanwhile by another request.
    Raced,
}

impl Refusal {
    fn reason(self) -> &'static str {
        match self {
            Refusal::Unknown => "unknown_passkey",
            Refusal::WrongUser => "wrong_user",
            Refusal::Flagged => "flagged_passkey",
            Refusal::Invalid => "assertion_invalid",
            Refusal::Raced => "used_meanwhile",
        }
    }
}

fn refused() -> ServiceError {
    ServiceError::new(
        Kind::Forbidden,
        "passkey_refused",
        "this passkey was not accepted",
    )
}

fn cloned() -> ServiceError {
    ServiceError::new(
        Kind::Forbidden,
        "passkey_cloned",
        "this passkey's counter went backwards, as a copied authenticator's does: it is \
         blocked; remove it and register the authenticator again",
    )
}

/// Audits a refused assertion (`user` when known) and answers `passkey_refused`.
async fn refuse(svc: &Services, user: Option<&User>, why: Refusal) -> ServiceError {
    let event = AuditEvent::new(
        "auth.passkey_failed",
        user.map(|u| u.org_id),
        user.map(|u| u.id),
        "user",
        user.map(|u| u.id),
    )
    .with_details(json!({ "reason": why.reason() }));
    if let Err(e) = svc.store.append_audit(&event).await {
        return ServiceError::from_store(e, "user_not_found");
    }
    refused()
}

/// Flags `stored` as cloned, audited, and answers `passkey_cloned`.
async fn flag_cloned(svc: &Services, user: &User, stored: &StoredPasskey) -> ServiceError {
    let event = AuditEvent::new(
        "auth.passkey_cloned",
        Some(user.org_id),
        Some(user.id),
        "passkey",
        Some(stored.id),
    );
    if let Err(e) = svc.store.flag_cloned_passkey(stored.id, &event).await {
        return ServiceError::from_store(e, "passkey_not_found");
    }
    cloned()
}

fn parse_passkey(stored: &StoredPasskey) -> ServiceResult<Passkey> {
    serde_json::from_str(&stored.credential).map_err(|e| ServiceError::internal(&e))
}

fn passkey_name(name: &str) -> ServiceResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            "name_invalid",
            format!("name the passkey in 1 to {NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// The caller's passkeys, oldest first.
pub async fn list(svc: &Services, caller: &Authed) -> ServiceResult<Vec<PasskeyView>> {
    unlocked_gate(caller)?;
    let stored = svc
        .store
        .passkeys(caller.user.id)
        .await
        .or_service("user_not_found")?;
    Ok(stored.into_iter().map(PasskeyView::from).collect())
}

/// Begins registering a passkey: a discoverable credential with user verification, none of
/// the caller's registered ones again.
pub async fn start_registration(svc: &Services, caller: &Authed) -> ServiceResult<Ceremony> {
    enroll_gate(caller)?;
    let webauthn = rp::relying_party(&svc.settings)?;
    let user = &caller.user;
    let registered = svc
        .store
        .passkeys(user.id)
        .await
        .or_service("user_not_found")?
        .iter()
        .map(|p| parse_passkey(p).map(|k| k.cred_id().clone()))
        .collect::<ServiceResult<Vec<_>>>()?;
    let (options, state) = webauthn
        .start_passkey_registration(user.id, &user.login, &user.display_name, Some(registered))
        .map_err(|e| ServiceError::internal(&e))?;
    let challenge_id = rp::keep(svc, Purpose::Register, Some(user.id), &state).await?;
    // A passkey signs in without a login: the authenticator must keep it (resident key).
    let options = rp::options(&options, |o| {
        let selection = &mut o["publicKey"]["authenticatorSelection"];
        selection["residentKey"] = json!("required");
        selection["requireResidentKey"] = json!(true);
    })?;
    Ok(Ceremony {
        challenge_id,
        options,
    })
}

/// Finishes registering with the browser's answer, as `name`; a session that owed its
/// second factor (and had none) passes it.
pub async fn finish_registration(
    svc: &Services,
    caller: &Authed,
    challenge_id: Uuid,
    name: &str,
    credential: Value,
) -> ServiceResult<PasskeyView> {
    enroll_gate(caller)?;
    let name = passkey_name(name)?;
    let webauthn = rp::relying_party(&svc.settings)?;
    let user = &caller.user;
    let state: PasskeyRegistration =
        rp::take(svc, challenge_id, Purpose::Register, Some(user.id)).await?;
    let answer: RegisterPublicKeyCredential = rp::read_credential(credential)?;
    let passkey = webauthn
        .finish_passkey_registration(&answer, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "a passkey registration was refused");
            ServiceError::new(
                Kind::Forbidden,
                "passkey_refused",
                "the authenticator's answer was not accepted; try again",
            )
        })?;
    let stored = StoredPasskey {
        id: renkei_core::new_id(),
        user_id: user.id,
        credential_id: URL_SAFE_NO_PAD.encode(passkey.cred_id()),
        name,
        credential: serde_json::to_string(&passkey).map_err(|e| ServiceError::internal(&e))?,
        created_at: Timestamp::now(),
        last_used_at: None,
        cloned_at: None,
    };
    let event = AuditEvent::new(
        "auth.passkey_added",
        Some(user.org_id),
        Some(user.id),
        "passkey",
        Some(stored.id),
    );
    svc.store
        .add_passkey(&stored, caller.session.id, &event)
        .await
        .or_service("user_not_found")?;
    Ok(stored.into())
}

/// Removes one of the caller's passkeys: it signs in no more.
pub async fn remove(svc: &Services, caller: &Authed, id: Uuid) -> ServiceResult<()> {
    unlocked_gate(caller)?;
    let user = &caller.user;
    let event = AuditEvent::new(
        "auth.passkey_removed",
        Some(user.org_id),
        Some(user.id),
        "passkey",
        Some(id),
    );
    svc.store
        .remove_passkey(user.id, id, &event)
        .await
        .or_service("passkey_not_found")
}

/// Begins an assertion (signing in, or the second factor): any of the user's passkeys, with
/// user verification. Needs no session.
pub async fn start_assertion(svc: &Services) -> ServiceResult<Ceremony> {
    let webauthn = rp::relying_party(&svc.settings)?;
    let (options, state) = webauthn
        .start_discoverable_authentication()
        .map_err(|e| ServiceError::internal(&e))?;
    let challenge_id = rp::keep(svc, Purpose::Assert, None, &state).await?;
    // The page asks when the user presses its button, not in the login field's autofill.
    let options = rp::options(&options, |o| {
        if let Some(o) = o.as_object_mut() {
            o.remove("mediation");
        }
    })?;
    Ok(Ceremony {
        challenge_id,
        options,
    })
}

/// A verified assertion: the passkey as stored, its owner, and the credential to store now.
struct Asserted {
    stored: StoredPasskey,
    user: User,
    credential: String,
}

/// Checks an answer to the assertion `challenge_id`, by `expected` when a session asks.
/// Refusals are audited; a counter gone backwards flags the passkey.
async fn assert(
    svc: &Services,
    challenge_id: Uuid,
    credential: Value,
    expected: Option<&User>,
) -> ServiceResult<Asserted> {
    let webauthn = rp::relying_party(&svc.settings)?;
    let state: DiscoverableAuthentication =
        rp::take(svc, challenge_id, Purpose::Assert, None).await?;
    let answer: PublicKeyCredential = rp::read_credential(credential)?;
    let (user_id, credential_id) = webauthn
        .identify_discoverable_authentication(&answer)
        .map_err(|_| rp::credential_invalid())?;
    let stored = match svc
        .store
        .passkey_by_credential(&URL_SAFE_NO_PAD.encode(credential_id))
        .await
    {
        Err(StoreError::NotFound) => return Err(refuse(svc, expected, Refusal::Unknown).await),
        other => other.or_service("passkey_not_found")?,
    };
    let user = svc
        .store
        .user(stored.user_id)
        .await
        .or_service("user_not_found")?;
    if stored.user_id != user_id || expected.is_some_and(|e| e.id != user.id) {
        return Err(refuse(svc, expected.or(Some(&user)), Refusal::WrongUser).await);
    }
    if stored.cloned_at.is_some() {
        return Err(refuse(svc, Some(&user), Refusal::Flagged).await);
    }
    let mut passkey = parse_passkey(&stored)?;
    let result = match webauthn.finish_discoverable_authentication_v2(&answer, state, &passkey) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return Err(flag_cloned(svc, &user, &stored).await);
        }
        Err(e) => {
            tracing::info!(error = %e, "a passkey assertion was refused");
            return Err(refuse(svc, Some(&user), Refusal::Invalid).await);
        }
    };
    passkey.update_credential(&result);
    let credential = serde_json::to_string(&passkey).map_err(|e| ServiceError::internal(&e))?;
    Ok(Asserted {
        stored,
        user,
        credential,
    })
}

/// Signs in with a passkey, no password: a session whose second factor is done (the
/// passkey verified its user). The account's status and lock apply as to a password.
pub async fn sign_in(
    svc: &Services,
    challenge_id: Uuid,
    credential: Value,
) -> ServiceResult<SignedIn> {
    let Asserted {
        stored,
        user,
        credential,
    } = assert(svc, challenge_id, credential, None).await?;
    let creds = svc
        .store
        .credentials(user.id)
        .await
        .or_service("user_not_found")?;
    if let Some(until) = creds.locked_until.filter(|u| *u > Timestamp::now()) {
        return Err(account_locked(until));
    }
    if let Some(refusal) = status_refusal(user.status) {
        return Err(refusal);
    }
    let (token, session) = new_session(svc, &user, creds.passcode_hash.is_some(), true);
    let event = AuditEvent::new(
        "auth.login",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(session.id),
    )
    .with_details(json!({ "method": "passkey" }));
    match svc
        .store
        .use_passkey(&stored, &credential, PasskeyUse::SignIn(&session), &event)
        .await
    {
        Err(StoreError::Stale) => return Err(refuse(svc, Some(&user), Refusal::Raced).await),
        other => other.or_service("user_not_found")?,
    }
    Ok(SignedIn {
        token,
        session,
        user,
        second_factor: None,
    })
}

/// Passes the caller's second factor with one of their passkeys; a refused one counts
/// towards the account lock like a wrong code.
pub async fn pass_second_factor(
    svc: &Services,
    caller: &Authed,
    challenge_id: Uuid,
    credential: Value,
) -> ServiceResult<()> {
    let user = &caller.user;
    let asserted = match assert(svc, challenge_id, credential, Some(user)).await {
        Err(e) if e.code == "passkey_refused" || e.code == "passkey_cloned" => {
            return Err(count_failure(svc, user, "auth.second_factor_failed", e).await);
        }
        other => other?,
    };
    let event = AuditEvent::new(
        "auth.second_factor",
        Some(user.org_id),
        Some(user.id),
        "session",
        Some(caller.session.id),
    )
    .with_details(json!({ "method": "passkey" }));
    match svc
        .store
        .use_passkey(
            &asserted.stored,
            &asserted.credential,
            PasskeyUse::SecondFactor(caller.session.id),
            &event,
        )
        .await
    {
        Err(StoreError::Stale) => Err(refuse(svc, Some(user), Refusal::Raced).await),
        other => other.or_service("user_not_found"),
    }
}
