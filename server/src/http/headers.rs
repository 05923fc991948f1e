//! Security headers on every response: no MIME sniffing, no referrer, and a Content
//! Security Policy: for the server's own pages (demo, re-rating) the least the widget
//! needs, for the desk its own files and forms, for everything else nothing at all;
//! framing is refused everywhere.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The server's own pages: their inline style, the widget from this origin, its wasm,
/// and calls back to this origin.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// The desk: its own stylesheet and script, its own forms, nothing inline.
const DESK_CSP: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; \
     style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Middleware adding the headers.
pub async fn secure(request: Request, next: Next) -> Response {
    let desk = request.uri().path().starts_with("/desk");
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(match (desk, html) {
            (true, _) => DESK_CSP,
            (false, true) => PAGE_CSP,
            (false, false) => API_CSP,
        }),
    );
    response
}
