//! The web client, embedded at compile time from `web/dist` (see `build.rs`) and served at `/`.
//!
//! Unknown non-API paths get `index.html` (the client routes itself); API-like paths keep their
//! JSON 404. Hashed files under `/assets/` are cached for a year, `index.html` never. Every
//! response carries a strict Content-Security-Policy: no inline script or style, nothing from
//! another origin, no framing. A binary built without `web/dist` serves a page that says how to
//! build the client.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// One embedded file: its URL path, its bytes, and a gzip copy for text files.
pub struct Asset {
    pub path: &'static str,
    pub body: &'static [u8],
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));

/// The policy of every page and file of the client.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Paths that belong to the server, never to the client.
const SERVER_PREFIXES: &[&str] = &[
    "/api",
    "/ws",
    "/dicomweb",
    "/healthz",
    "/readyz",
    "/metrics",
];

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>renkei</title></head>\
<body><h1>renkei</h1><p>The server is running, but this binary was built without the web client.</p>\
<p>Build it, then rebuild the binary:</p><pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build\ncd .. &amp;&amp; cargo build --release</pre>\
<p>The API is described at <a href=\"/api/openapi.json\">/api/openapi.json</a>.</p></body></html>";

/// Whether this binary embeds the client.
pub fn embedded() -> bool {
    find("/index.html").is_some()
}

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS
        .binary_search_by(|asset| asset.path.cmp(path))
        .ok()
        .map(|i| &ASSETS[i])
}

fn is_server_path(path: &str) -> bool {
    SERVER_PREFIXES.iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("");
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        "json" => "application/json",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The router's fallback: the client's files, `index.html` for client routes, JSON 404s for
/// unknown server paths.
pub async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if is_server_path(path) {
        return crate::routes::not_found().await.into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return crate::routes::not_found().await.into_response();
    }
    if !embedded() {
        return page(
            StatusCode::OK,
            "text/html; charset=utf-8",
            NOT_BUILT.as_bytes(),
            None,
        );
    }
    let (asset, cache) = match find(path).filter(|_| path != "/index.html") {
        Some(asset) if path.starts_with("/assets/") => {
            (asset, "public, max-age=31536000, immutable")
        }
        Some(asset) => (asset, "no-cache"),
        // A missing hashed file is a real 404 (an old index.html after an upgrade reloads).
        None if path.starts_with("/assets/") => {
            return page(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                b"not found",
                None,
            );
        }
        None => (find("/index.html").expect("embedded"), "no-store"),
    };
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut response = match asset.gzip.filter(|_| gzip_ok) {
        Some(packed) => {
            let mut r = page(
                StatusCode::OK,
                content_type(asset.path),
                packed,
                Some(cache),
            );
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        None => page(
            StatusCode::OK,
            content_type(asset.path),
            asset.body,
            Some(cache),
        ),
    };
    if asset.gzip.is_some() {
        response
            .headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

fn page(
    status: StatusCode,
    content_type: &'static str,
    body: &'static [u8],
    cache: Option<&'static str>,
) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache.unwrap_or("no-store")),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(path: &str) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        serve(Method::GET, path.parse().unwrap(), headers).await
    }

    #[test]
    fn server_paths_are_not_the_clients() {
        for path in [
            "/api",
            "/api/v1/nope",
            "/ws",
            "/dicomweb/studies",
            "/metrics",
        ] {
            assert!(is_server_path(path), "{path}");
        }
        for path in ["/", "/c/123", "/apis", "/wsx", "/assets/index-abc.js"] {
            assert!(!is_server_path(path), "{path}");
        }
    }

    #[test]
    fn the_table_is_sorted_for_lookup() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
    }

    #[tokio::test]
    async fn client_routes_get_the_page_with_a_strict_policy() {
        for path in ["/", "/c/0195d7a0-0000-7000-8000-000000000000", "/settings"] {
            let response = get(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers();
            assert_eq!(
                headers[header::CONTENT_SECURITY_POLICY],
                CONTENT_SECURITY_POLICY
            );
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
            assert!(
                headers[header::CONTENT_TYPE]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
        }
    }

    #[tokio::test]
    async fn unknown_api_paths_stay_json_404s() {
        let response = get("/api/v1/nope").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }

    #[tokio::test]
    async fn hashed_assets_are_cached_and_compressed() {
        let Some(asset) = ASSETS.iter().find(|a| a.path.starts_with("/assets/")) else {
            return; // built without the client
        };
        let response = get(asset.path).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        assert_eq!(
            response.headers().get(header::CONTENT_ENCODING).is_some(),
            asset.gzip.is_some()
        );
        assert_eq!(
            get("/assets/missing-0000.js").await.status(),
            StatusCode::NOT_FOUND
        );
    }
}
