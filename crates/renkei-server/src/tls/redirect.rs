//! `http_redirect_listen`: plain HTTP that answers every request with 301 to the same path on
//! renkei's HTTPS port, so a typed address or an old bookmark still lands on HTTPS.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;

/// Where `uri` on `host` (the request's Host header) lives over HTTPS on `https_port`.
fn location(host: &str, uri: &Uri, https_port: u16) -> Option<String> {
    let authority: axum::http::uri::Authority = host.parse().ok()?;
    let name = authority.host();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    Some(match https_port {
        443 => format!("https://{name}{path}"),
        port => format!("https://{name}:{port}{path}"),
    })
}

async fn redirect(https_port: u16, headers: HeaderMap, uri: Uri) -> Response {
    let target = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|host| location(host, &uri, https_port))
        .and_then(|l| HeaderValue::from_str(&l).ok());
    match target {
        Some(target) => {
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, target)]).into_response()
        }
        None => (StatusCode::BAD_REQUEST, "a Host header is required").into_response(),
    }
}

/// Serves redirects to HTTPS on `https_port` until `shutdown` resolves.
pub async fn serve_redirect(
    listener: TcpListener,
    https_port: u16,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new()
        .fallback(move |headers: HeaderMap, uri: Uri| redirect(https_port, headers, uri));
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_location_keeps_host_path_and_query_and_names_the_https_port() {
        let uri: Uri = "/app/chat?c=1".parse().unwrap();
        assert_eq!(
            location("renkei.example.jp:80", &uri, 443).as_deref(),
            Some("https://renkei.example.jp/app/chat?c=1")
        );
        assert_eq!(
            location("10.0.0.5:8080", &uri, 8443).as_deref(),
            Some("https://10.0.0.5:8443/app/chat?c=1")
        );
        assert_eq!(
            location("[::1]:8080", &"/".parse().unwrap(), 8443).as_deref(),
            Some("https://[::1]:8443/")
        );
        assert_eq!(location("bad host/", &uri, 443), None);
    }
}
