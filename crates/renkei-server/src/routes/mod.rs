//! The route table: every API handler, its OpenAPI description, and the middleware stack.

mod agreements;
mod annotations;
mod applications;
mod audit;
mod auth;
mod calls;
mod conversations;
mod councils;
mod dicom_peers;
pub(crate) mod dicomweb;
mod directory;
mod gateways;
mod me;
mod media;
mod messages;
mod notify;
mod ops;
mod orgs;
mod passkeys;
mod push;
mod redaction;
mod refusals;
mod scim;
mod scim_tokens;
mod second_factor;
mod sign_in_holds;
mod sso;
mod stats;
mod studies;
mod urgent;
mod user_csv;
mod users;
mod ws;

use std::sync::OnceLock;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::{AppState, observe};

#[derive(OpenApi)]
#[openapi(
    info(title = "renkei API", description = "Secure communication for hospitals and regional medical networks."),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in, second factor (TOTP or passkey), passkeys, sessions, passcode lock"),
        (name = "organizations", description = "Hospitals, councils and their departments"),
        (name = "users", description = "Accounts and their lifecycle"),
        (name = "audit", description = "The tamper-evident audit log"),
        (name = "conversations", description = "Direct and group conversations and their members"),
        (name = "imaging", description = "The image inbox: de-identified DICOM studies (DICOMweb at /dicomweb)"),
        (name = "media", description = "Photos, videos and files: cleaned, encrypted, expiring"),
        (name = "messages", description = "Messages, history, receipts, search (live delivery: WebSocket /ws)"),
        (name = "statistics", description = "Seats and usage statistics"),
        (name = "directory", description = "Finding colleagues, in my hospital and partner hospitals"),
        (name = "cooperation", description = "Agreements between hospitals and regional councils"),
        (name = "notifications", description = "Web Push: subscriptions, do-not-disturb, devices"),
        (name = "calls", description = "Voice and video calls (signalling over WebSocket /ws): TURN credentials"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::unlock))
        .routes(routes!(sso::choices))
        .routes(routes!(sso::start))
        .routes(routes!(sso::callback))
        .routes(routes!(sso::back_channel_logout))
        .routes(routes!(sso::get_sso, sso::put_sso, sso::delete_sso))
        .routes(routes!(second_factor::status, second_factor::verify))
        .routes(routes!(second_factor::start_enrollment))
        .routes(routes!(second_factor::confirm_enrollment))
        .routes(routes!(passkeys::list_passkeys, passkeys::add_passkey))
        .routes(routes!(passkeys::start_passkey_registration))
        .routes(routes!(passkeys::remove_passkey))
        .routes(routes!(passkeys::passkey_challenge))
        .routes(routes!(passkeys::passkey_sign_in))
        .routes(routes!(passkeys::passkey_second_factor))
        .routes(routes!(me::get_me))
        .routes(routes!(me::set_passcode))
        .routes(routes!(me::change_password))
        .routes(routes!(orgs::list_orgs, orgs::create_org))
        .routes(routes!(orgs::get_org, orgs::update_org))
        .routes(routes!(orgs::list_departments, orgs::create_department))
        .routes(routes!(orgs::update_department))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::update_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::reset_passcode))
        .routes(routes!(users::reset_second_factor))
        .routes(routes!(scim_tokens::get_scim))
        .routes(routes!(
            scim_tokens::rotate_scim_token,
            scim_tokens::revoke_scim_token
        ))
        .routes(routes!(user_csv::import_users))
        .routes(routes!(user_csv::export_users))
        .routes(routes!(
            applications::get_invite,
            applications::rotate_invite,
            applications::revoke_invite
        ))
        .routes(routes!(applications::signup_form, applications::signup))
        .routes(routes!(applications::list_applications))
        .routes(routes!(applications::approve))
        .routes(routes!(applications::reject))
        .routes(routes!(stats::seats))
        .routes(routes!(stats::usage))
        .routes(routes!(stats::usage_csv))
        .routes(routes!(audit::export_audit))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(
            conversations::list_conversations,
            conversations::create_conversation
        ))
        .routes(routes!(
            conversations::get_conversation,
            conversations::rename_conversation
        ))
        .routes(routes!(
            conversations::list_members,
            conversations::add_member
        ))
        .routes(routes!(
            conversations::remove_member,
            conversations::set_member_role
        ))
        .routes(routes!(messages::post_message, messages::history))
        .routes(routes!(messages::events))
        .routes(routes!(messages::edit_message, messages::delete_message))
        .routes(routes!(messages::mark_read))
        .routes(routes!(messages::receipts))
        .routes(routes!(urgent::acknowledge))
        .routes(routes!(urgent::push_receipt))
        .routes(routes!(messages::typing))
        .routes(routes!(messages::search_messages))
        .routes(routes!(media::upload))
        .routes(routes!(media::get_media))
        .routes(routes!(media::content))
        .routes(routes!(media::media_thumbnail))
        .routes(routes!(studies::inbox))
        .routes(routes!(studies::study))
        .routes(routes!(studies::card))
        .routes(routes!(studies::confirm_clean))
        .routes(routes!(annotations::list, annotations::save))
        .routes(routes!(studies::instances))
        .routes(routes!(studies::instance_file))
        .routes(routes!(redaction::redact))
        .routes(routes!(redaction::rule_from_image))
        .routes(routes!(redaction::list_rules, redaction::create_rule))
        .routes(routes!(redaction::update_rule, redaction::delete_rule))
        .routes(routes!(studies::list_peers, studies::add_peer))
        .routes(routes!(studies::remove_peer, dicom_peers::update_peer))
        .routes(routes!(studies::rendered_frame))
        .routes(routes!(studies::raw_frame))
        .routes(routes!(studies::waveforms))
        .routes(routes!(studies::study_thumbnail))
        .routes(routes!(gateways::list_gateways, gateways::add_gateway))
        .routes(routes!(gateways::delete_gateway))
        .routes(routes!(gateways::gateway_config))
        .routes(routes!(directory::search_directory))
        .routes(routes!(agreements::list_agreements, agreements::propose))
        .routes(routes!(agreements::accept))
        .routes(routes!(agreements::revoke))
        .routes(routes!(agreements::list_cooperation_orgs))
        .routes(routes!(councils::my_councils))
        .routes(routes!(councils::get_council))
        .routes(routes!(councils::invite))
        .routes(routes!(councils::remove))
        .routes(routes!(councils::opt_in))
        .routes(routes!(councils::opt_out))
        .routes(routes!(councils::create_agreements))
        .routes(routes!(notify::set_notifications))
        .routes(routes!(push::push_config))
        .routes(routes!(push::push_subscribe, push::list_push_subscriptions))
        .routes(routes!(push::delete_push_subscription))
        .routes(routes!(
            push::get_my_notifications,
            push::set_my_notifications
        ))
        .routes(routes!(push::org_push_devices))
        .routes(routes!(sign_in_holds::list_holds))
        .routes(routes!(sign_in_holds::release))
        .routes(routes!(calls::turn))
}

/// The JSON 404 of an unknown server path.
pub(crate) async fn not_found() -> crate::error::ApiError {
    ops::not_found().await
}

/// The OpenAPI document of the API.
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static SPEC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc = api_routes().split_for_parts().1;
        refusals::document(&mut doc);
        doc
    })
}

/// Every route with its middleware.
/// The router of the separate metrics listener: `/metrics` alone, open.
pub fn metrics_router() -> Router {
    observe::prometheus();
    ops::metrics_only()
}

pub fn router(state: AppState) -> Router {
    observe::prometheus();
    let (api, _) = api_routes().split_for_parts();
    let limit = state.settings.max_body_bytes;
    api.merge(ops::router())
        .route("/ws", axum::routing::get(ws::websocket))
        .merge(dicomweb::router())
        .merge(scim::router())
        .fallback(crate::web::serve)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            state.settings.https,
            observe::security_headers,
        ))
        .layer(middleware::from_fn(observe::record))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every `.rs` file under `dir`, with its text.
    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("a source folder") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources_of_file(&path, out);
            }
        }
    }

    /// Whether `text` reaches the store: a `.store` field or the `Store` type.
    fn reaches_the_store(text: &str) -> bool {
        let field = text.match_indices(".store").any(|(at, m)| {
            !text[at + m.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        field || text.contains("renkei_store::Store") || text.contains("renkei_store::{")
    }

    /// Handlers, extractors and the WebSocket reach the store only through a service
    /// (`renkei-service`): the HTTP layer parses, calls one service function and renders.
    #[test]
    fn the_http_layer_reaches_the_store_only_through_services() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        for part in ["routes", "auth", "messaging"] {
            sources(&src.join(part), &mut files);
        }
        sources_of_file(&src.join("extract.rs"), &mut files);
        assert!(files.len() > 20, "the routes were read: {}", files.len());
        let offending: Vec<&str> = files
            .iter()
            .filter(|(_, text)| reaches_the_store(text))
            .map(|(path, _)| path.as_str())
            .collect();
        assert!(
            offending.is_empty(),
            "these files reach the store: {offending:?}"
        );
        assert!(
            reaches_the_store("state.store.user(id)"),
            "the check sees a store call"
        );
    }

    /// The text of `path` before its unit tests.
    fn sources_of_file(path: &Path, out: &mut Vec<(String, String)>) {
        let text = std::fs::read_to_string(path).expect("a source file");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        out.push((path.display().to_string(), code.to_owned()));
    }
}
