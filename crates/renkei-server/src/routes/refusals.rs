//! The refusals every operation can meet before its handler runs, added to the OpenAPI document.
//!
//! The shared extractors answer for every handler: no session (401), a session that may not
//! do this yet (403, 423), a body that is not JSON or breaks a rule of its fields (400, 413,
//! 415, 422), a query that does not parse (400), an identifier in the path that names nothing
//! (404). Each operation's own
//! `responses` say what its handler adds; this fills in the rest, so that every status the
//! server sends is documented (schemathesis' `status_code_conformance`).

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// What an operation has that brings refusals with it.
#[derive(Clone, Copy, PartialEq)]
enum Trait {
    /// It needs a session (`security`).
    Session,
    /// It reads a JSON body.
    JsonBody,
    /// It reads some other body (uploads, CSV).
    OtherBody,
    /// It has path parameters.
    Path,
    /// It has query parameters.
    Query,
}

/// The table: each trait's statuses and what they mean.
const REFUSALS: &[(Trait, &str, &str)] = &[
    (
        Trait::Session,
        "401",
        "unauthenticated: no session, or it expired or ended",
    ),
    (
        Trait::Session,
        "403",
        "forbidden (not allowed), csrf_failed, second_factor_required, \
         password_change_required or passcode_required",
    ),
    (
        Trait::Session,
        "423",
        "session_locked: enter the passcode first",
    ),
    (
        Trait::JsonBody,
        "400",
        "invalid_json (the body does not match its schema) or unreadable_body",
    ),
    (Trait::JsonBody, "413", "payload_too_large"),
    (
        Trait::JsonBody,
        "422",
        "a field's value is refused (its code says which rule)",
    ),
    (
        Trait::JsonBody,
        "415",
        "unsupported_media_type: send application/json",
    ),
    (Trait::OtherBody, "413", "payload_too_large"),
    (
        Trait::OtherBody,
        "422",
        "the body's content is refused (its code says which rule)",
    ),
    (
        Trait::Query,
        "400",
        "invalid_query: a query parameter does not parse",
    ),
    (
        Trait::Path,
        "404",
        "not_found: nothing by that identifier that this session may see",
    ),
];

/// Adds the refusals of [`REFUSALS`] to every operation that lacks them.
pub fn document(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let traits = traits_of(operation);
            for (trait_, status, description) in REFUSALS {
                if traits.contains(trait_) {
                    operation
                        .responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| RefOr::T(refusal(description)));
                }
            }
        }
    }
}

/// The traits of one operation.
fn traits_of(operation: &Operation) -> Vec<Trait> {
    let mut traits = Vec::new();
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        traits.push(Trait::Session);
    }
    if let Some(body) = &operation.request_body {
        if body.content.contains_key("application/json") {
            traits.push(Trait::JsonBody);
        } else {
            traits.push(Trait::OtherBody);
        }
    }
    let params = operation.parameters.as_deref().unwrap_or_default();
    if params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Path))
    {
        traits.push(Trait::Path);
    }
    if params
        .iter()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query))
    {
        traits.push(Trait::Query);
    }
    traits
}

/// An error response: `ErrorBody` as JSON.
fn refusal(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}
