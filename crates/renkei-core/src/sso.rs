//! Single sign-on's rules: an organization's OpenID Connect settings, and what the claims of a
//! verified ID token mean (the login, the profile, whether the hospital's second factor counts,
//! Entra ID's `{tenantid}` issuers), decided as data before anything is stored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{DomainError, validate};

/// The placeholder in Entra ID's multi-tenant issuer (`https://login.microsoftonline.com/{tenantid}/v2.0`).
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Which claim names the renkei login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum LoginClaim {
    /// `preferred_username` (AD FS, Entra ID's UPN), then `upn`.
    #[default]
    PreferredUsername,
    /// `email`; when the provider leaves it out (Entra ID often does), `preferred_username`,
    /// then `upn`.
    Email,
}

/// What happens to someone the provider vouches for who has no renkei account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownUsers {
    /// A pending application an administrator approves, as through an invite link.
    #[default]
    Apply,
    /// Refused: accounts are created in renkei (or by provisioning) first.
    Refuse,
}

fn default_name_claim() -> String {
    "name".into()
}

/// An organization's OpenID Connect settings (the client secret is kept apart, sealed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SsoSettings {
    /// The provider's issuer, e.g. `https://login.microsoftonline.com/<tenant id>/v2.0`, or
    /// the multi-tenant `https://login.microsoftonline.com/organizations/v2.0`. `https` only,
    /// except `http` to a loopback address (tests).
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub login_claim: LoginClaim,
    /// The claim holding the display name.
    #[serde(default = "default_name_claim")]
    pub name_claim: String,
    /// The claim holding the kana reading, if the provider has one.
    #[serde(default)]
    pub kana_claim: Option<String>,
    /// The claim naming the department (matched to a renkei department by name).
    #[serde(default)]
    pub department_claim: Option<String>,
    #[serde(default)]
    pub unknown_users: UnknownUsers,
    /// `amr` values that mean the provider did a second factor (e.g. `mfa`, `otp`, `hwk`).
    #[serde(default)]
    pub trusted_amr: Vec<String>,
    /// `acr` values that mean the same.
    #[serde(default)]
    pub trusted_acr: Vec<String>,
    /// A claim whose value equals the renkei login for an existing account to be linked
    /// (e.g. `upn` or an employee number claim); `email_verified` matching is always allowed.
    #[serde(default)]
    pub link_claim: Option<String>,
    /// Local passwords are refused for everyone but the break-glass accounts.
    #[serde(default)]
    pub enforced: bool,
    /// Accounts that keep signing in with password (and their authenticator app) while SSO
    /// is enforced: the way in when the identity provider is down.
    #[serde(default)]
    pub break_glass: Vec<Uuid>,
}

fn claim_name(field: &'static str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/'));
    if ok {
        Ok(value.to_string())
    } else {
        Err(DomainError::invalid(
            "invalid_claim_name",
            format!("{field} must be a claim name (letters, digits, _-.:/)"),
        ))
    }
}

/// Whether `host` is a loopback address, where plain HTTP is allowed (tests only).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Checks an issuer: an absolute `https` URL (or `http` to loopback), without query or
/// fragment, trailing `/` removed.
pub fn issuer(value: &str) -> Result<String, DomainError> {
    let value = value.trim().trim_end_matches('/');
    let bad = || {
        DomainError::invalid(
            "invalid_issuer",
            "issuer must be an https URL (http only to a loopback address)",
        )
    };
    let (scheme, rest) = value.split_once("://").ok_or_else(bad)?;
    let host_port = rest.split('/').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let secure = scheme == "https" || (scheme == "http" && is_loopback(host));
    if !secure
        || host.is_empty()
        || value.len() > 300
        || value.contains(['?', '#', ' '])
        || value.chars().any(char::is_control)
    {
        return Err(bad());
    }
    Ok(value.to_string())
}

impl SsoSettings {
    /// The settings checked and tidied (claim names, issuer, amr/acr lists).
    pub fn validated(mut self) -> Result<SsoSettings, DomainError> {
        self.issuer = issuer(&self.issuer)?;
        let client_id = self.client_id.trim();
        if client_id.is_empty() || client_id.len() > 255 || client_id.chars().any(char::is_control)
        {
            return Err(DomainError::invalid(
                "invalid_client_id",
                "client_id must be 1-255 characters",
            ));
        }
        self.client_id = client_id.to_string();
        self.name_claim = claim_name("name_claim", &self.name_claim)?;
        self.kana_claim = self
            .kana_claim
            .as_deref()
            .map(|c| claim_name("kana_claim", c))
            .transpose()?;
        self.department_claim = self
            .department_claim
            .as_deref()
            .map(|c| claim_name("department_claim", c))
            .transpose()?;
        self.link_claim = self
            .link_claim
            .as_deref()
            .map(|c| claim_name("link_claim", c))
            .transpose()?;
        for value in self.trusted_amr.iter().chain(&self.trusted_acr) {
            claim_name("trusted_amr/trusted_acr", value)?;
        }
        self.break_glass.sort();
        self.break_glass.dedup();
        Ok(self)
    }
}

/// The issuer a token from tenant `tid` must carry: the configured (or discovered) issuer with
/// `{tenantid}` replaced by `tid`, or unchanged when it has no placeholder. `None` when the
/// placeholder is there but `tid` is missing or not a tenant id.
pub fn expected_issuer(issuer: &str, tid: Option<&str>) -> Option<String> {
    if !issuer.contains(TENANT_PLACEHOLDER) {
        return Some(issuer.to_string());
    }
    let tid = tid.filter(|t| {
        (1..=64).contains(&t.len()) && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })?;
    Some(issuer.replace(TENANT_PLACEHOLDER, tid))
}

/// Whether a discovery document's `issuer` fits the configured one: equal, or Entra ID's
/// multi-tenant template (`…/{tenantid}/v2.0`) discovered through `…/common/v2.0`,
/// `…/organizations/v2.0` or `…/consumers/v2.0`.
pub fn discovered_issuer_fits(configured: &str, discovered: &str) -> bool {
    let discovered = discovered.trim_end_matches('/');
    if discovered == configured {
        return true;
    }
    let Some((head, tail)) = discovered.split_once(TENANT_PLACEHOLDER) else {
        return false;
    };
    ["common", "organizations", "consumers"]
        .iter()
        .any(|alias| configured == format!("{head}{alias}{tail}"))
}

/// A claim as text: strings as they are, numbers written out.
fn text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A boolean claim, also as the strings `"true"`/`"True"` some providers send.
fn truth(claims: &Map<String, Value>, name: &str) -> bool {
    match claims.get(name) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// What a verified ID token says about the person, mapped by an organization's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The renkei login (lower case), when the claims give a usable one.
    pub login: Option<String>,
    pub display_name: Option<String>,
    pub kana: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    /// The provider vouches for `email` (`email_verified`).
    pub email_verified: bool,
    /// The value of the configured link claim.
    pub link_value: Option<String>,
    /// The hospital's second factor counts for this sign-in.
    pub second_factor: bool,
}

/// Maps `claims` (a verified ID token's payload) by `settings`.
pub fn map_claims(claims: &Map<String, Value>, settings: &SsoSettings) -> Mapped {
    let order: &[&str] = match settings.login_claim {
        LoginClaim::PreferredUsername => &["preferred_username", "upn"],
        LoginClaim::Email => &["email", "preferred_username", "upn"],
    };
    let login = order
        .iter()
        .find_map(|name| text(claims, name))
        .and_then(|l| validate::login(&l).ok());
    let email = text(claims, "email").and_then(|e| validate::email(&e).ok());
    Mapped {
        login,
        display_name: text(claims, &settings.name_claim),
        kana: settings.kana_claim.as_deref().and_then(|c| text(claims, c)),
        department: settings
            .department_claim
            .as_deref()
            .and_then(|c| text(claims, c)),
        email_verified: email.is_some() && truth(claims, "email_verified"),
        email,
        link_value: settings.link_claim.as_deref().and_then(|c| text(claims, c)),
        second_factor: second_factor_trusted(claims, settings),
    }
}

/// Whether the provider's `amr` (any value) or `acr` is one the organization trusts as a
/// second factor.
pub fn second_factor_trusted(claims: &Map<String, Value>, settings: &SsoSettings) -> bool {
    let amr_trusted = match claims.get("amr") {
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(Value::as_str)
            .any(|v| settings.trusted_amr.iter().any(|t| t == v)),
        _ => false,
    };
    let acr_trusted = text(claims, "acr").is_some_and(|acr| settings.trusted_acr.contains(&acr));
    amr_trusted || acr_trusted
}

/// An existing account the mapped login found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: Uuid,
    pub login: String,
    pub email: Option<String>,
}

/// What a sign-in through the provider does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The (issuer, subject) is linked to this account already.
    Linked(Uuid),
    /// Link this account, matched by a verified claim, then sign in.
    Link(Uuid),
    /// No account: store a pending application for this login.
    Apply(String),
    /// Refused, with the stable reason code.
    Refuse(&'static str),
}

/// Whether the claims prove `candidate` is this person: a verified email equal to the
/// account's email or login, or the configured link claim equal to the login.
fn verified_match(mapped: &Mapped, candidate: &Candidate) -> bool {
    let by_email = mapped.email_verified
        && mapped.email.as_deref().is_some_and(|e| {
            candidate
                .email
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(e))
                || candidate.login.eq_ignore_ascii_case(e)
        });
    let by_claim = mapped
        .link_value
        .as_deref()
        .is_some_and(|v| candidate.login.eq_ignore_ascii_case(v));
    by_email || by_claim
}

/// Decides a sign-in: the existing link wins; otherwise an account with the mapped login is
/// linked only on a verified match (never a second account for the same login); otherwise the
/// unknown-user policy.
pub fn decide(
    linked: Option<Uuid>,
    candidate: Option<&Candidate>,
    mapped: &Mapped,
    settings: &SsoSettings,
) -> Decision {
    if let Some(user_id) = linked {
        return Decision::Linked(user_id);
    }
    let Some(login) = mapped.login.clone() else {
        return Decision::Refuse("sso_no_login");
    };
    match candidate {
        Some(c) if verified_match(mapped, c) => Decision::Link(c.user_id),
        Some(_) => Decision::Refuse("sso_unverified_match"),
        None => match settings.unknown_users {
            UnknownUsers::Apply => Decision::Apply(login),
            UnknownUsers::Refuse => Decision::Refuse("sso_unknown_user"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings() -> SsoSettings {
        serde_json::from_value(json!({
            "issuer": "https://login.microsoftonline.com/organizations/v2.0",
            "client_id": "renkei",
            "login_claim": "email",
            "trusted_amr": ["mfa", "otp", "hwk"],
            "trusted_acr": ["urn:hospital:mfa"],
            "link_claim": "upn",
        }))
        .unwrap()
    }

    fn fixture(name: &str) -> Map<String, Value> {
        let path = format!("{}/tests/fixtures/sso/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn issuers_must_be_https_or_loopback() {
        assert!(issuer("https://idp.hospital.jp/adfs").is_ok());
        assert_eq!(
            issuer("http://127.0.0.1:4000/").unwrap(),
            "http://127.0.0.1:4000"
        );
        assert!(issuer("http://localhost:4000").is_ok());
        assert!(issuer("http://[::1]:4000").is_ok());
        assert!(issuer("http://idp.hospital.jp").is_err());
        assert!(issuer("http://127.0.0.1.evil.example").is_err());
        assert!(issuer("https://idp.hospital.jp/?x=1").is_err());
        assert!(issuer("idp.hospital.jp").is_err());
    }

    #[test]
    fn entra_multi_tenant_issuer_is_checked_against_the_tenant() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(discovered_issuer_fits(
            "https://login.microsoftonline.com/organizations/v2.0",
            template
        ));
        assert!(discovered_issuer_fits(
            "https://login.microsoftonline.com/common/v2.0",
            template
        ));
        assert!(!discovered_issuer_fits(
            "https://login.microsoftonline.com/common/v2.0",
            "https://evil.example/{tenantid}/v2.0"
        ));
        assert!(!discovered_issuer_fits(
            "https://idp.hospital.jp",
            "https://idp.other.jp"
        ));
        let claims = fixture("entra_multi_tenant.json");
        let tid = claims["tid"].as_str();
        let expected = expected_issuer(template, tid).unwrap();
        assert_eq!(expected, claims["iss"].as_str().unwrap());
        assert_eq!(expected_issuer(template, None), None);
        assert_eq!(expected_issuer(template, Some("../evil")), None);
        assert_eq!(
            expected_issuer("https://idp.hospital.jp", None).as_deref(),
            Some("https://idp.hospital.jp")
        );
    }

    #[test]
    fn entra_without_email_falls_back_to_preferred_username() {
        let claims = fixture("entra_no_email.json");
        let mapped = map_claims(&claims, &settings());
        assert_eq!(
            mapped.login.as_deref(),
            Some("tanaka.hanako@hospital.onmicrosoft.com")
        );
        assert_eq!(mapped.email, None);
        assert!(!mapped.email_verified);
        assert_eq!(mapped.display_name.as_deref(), Some("田中 花子"));
        assert!(mapped.second_factor, "amr mfa is trusted");
    }

    #[test]
    fn upn_is_the_last_resort_for_the_login() {
        let claims = json!({"upn": "Sato@Hospital.jp", "amr": ["pwd"]});
        let mapped = map_claims(claims.as_object().unwrap(), &settings());
        assert_eq!(mapped.login.as_deref(), Some("sato@hospital.jp"));
        assert!(!mapped.second_factor);
    }

    #[test]
    fn amr_and_acr_count_only_when_configured() {
        let s = settings();
        let trusted = |c: Value| second_factor_trusted(c.as_object().unwrap(), &s);
        assert!(trusted(json!({"amr": ["pwd", "otp"]})));
        assert!(trusted(json!({"amr": ["hwk"]})));
        assert!(trusted(json!({"acr": "urn:hospital:mfa"})));
        assert!(!trusted(json!({"amr": ["pwd"]})));
        assert!(!trusted(json!({"amr": "mfa"})), "amr is an array");
        assert!(!trusted(json!({"acr": "1"})));
        let none = SsoSettings {
            trusted_amr: vec![],
            trusted_acr: vec![],
            ..s.clone()
        };
        assert!(!second_factor_trusted(
            json!({"amr": ["mfa"]}).as_object().unwrap(),
            &none
        ));
    }

    #[test]
    fn accounts_link_only_on_a_verified_match() {
        let s = settings();
        let user = Uuid::from_u128(7);
        let candidate = Candidate {
            user_id: user,
            login: "suzuki@hospital.jp".into(),
            email: Some("Suzuki@Hospital.jp".into()),
        };
        let verified = map_claims(
            json!({"email": "suzuki@hospital.jp", "email_verified": "True"})
                .as_object()
                .unwrap(),
            &s,
        );
        assert_eq!(
            decide(None, Some(&candidate), &verified, &s),
            Decision::Link(user)
        );
        let unverified = map_claims(
            json!({"email": "suzuki@hospital.jp", "email_verified": false})
                .as_object()
                .unwrap(),
            &s,
        );
        assert_eq!(
            decide(None, Some(&candidate), &unverified, &s),
            Decision::Refuse("sso_unverified_match")
        );
        let by_upn = map_claims(
            json!({"email": "other@hospital.jp", "upn": "suzuki@hospital.jp"})
                .as_object()
                .unwrap(),
            &s,
        );
        assert_eq!(
            decide(None, Some(&candidate), &by_upn, &s),
            Decision::Link(user)
        );
        assert_eq!(
            decide(Some(user), None, &unverified, &s),
            Decision::Linked(user)
        );
    }

    #[test]
    fn unknown_people_apply_or_are_refused_by_policy() {
        let mut s = settings();
        let mapped = map_claims(
            json!({"email": "new@hospital.jp", "email_verified": true})
                .as_object()
                .unwrap(),
            &s,
        );
        assert_eq!(
            decide(None, None, &mapped, &s),
            Decision::Apply("new@hospital.jp".into())
        );
        s.unknown_users = UnknownUsers::Refuse;
        assert_eq!(
            decide(None, None, &mapped, &s),
            Decision::Refuse("sso_unknown_user")
        );
        let nameless = map_claims(json!({"sub": "x"}).as_object().unwrap(), &s);
        assert_eq!(
            decide(None, None, &nameless, &s),
            Decision::Refuse("sso_no_login")
        );
    }

    #[test]
    fn settings_are_validated() {
        let mut s = settings();
        s.name_claim = "bad claim".into();
        assert!(s.clone().validated().is_err());
        s.name_claim = "name".into();
        s.issuer = "http://idp.example".into();
        assert!(s.validated().is_err());
        assert!(settings().validated().is_ok());
    }
}
