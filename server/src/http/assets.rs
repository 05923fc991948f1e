//! The widget's static files: the loader `nearmiss.js` (short cache), the content-hashed
//! wasm and its glue under `/widget/` (immutable), and the demo page.
//!
//! They come from a folder (`--assets`) or are embedded in the binary by `cargo xtask
//! dist`. Pre-compressed `.br` and `.gz` siblings are served when the client accepts them.

use super::error::ApiError;
use super::AppState;
use crate::sites;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::borrow::Cow;
use std::collections::HashMap;
use std::io;

static EMBEDDED: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/embedded_assets.rs"));

/// The demo page's placeholder for the site key.
const SITE_KEY_PLACEHOLDER: &str = "{{SITE_KEY}}";

/// Asset files by their path relative to the assets folder (`widget/nearmiss-1a2b.wasm`).
#[derive(Default)]
pub struct Assets {
    files: HashMap<String, Cow<'static, [u8]>>,
}

impl Assets {
    /// The assets embedded at build time, if any were.
    pub fn embedded() -> Option<Assets> {
        if EMBEDDED.is_empty() {
            return None;
        }
        let files = EMBEDDED
            .iter()
            .map(|(path, bytes)| (path.to_string(), Cow::Borrowed(*bytes)))
            .collect();
        Some(Assets { files })
    }

    /// Reads every file below `dir` (as written by `cargo xtask` into `target/widget`).
    pub fn from_dir(dir: &std::path::Path) -> io::Result<Assets> {
        let mut assets = Assets::default();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(folder) = pending.pop() {
            for entry in std::fs::read_dir(&folder)? {
                let path = entry?.path();
                if path.is_dir() {
                    pending.push(path);
                    continue;
                }
                let rel = path.strip_prefix(dir).unwrap_or(&path);
                let rel = rel.to_string_lossy().replace('\\', "/");
                assets.files.insert(rel, Cow::Owned(std::fs::read(&path)?));
            }
        }
        if !assets.files.contains_key("nearmiss.js") {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} has no nearmiss.js: build the widget with `cargo xtask build`",
                    dir.display()
                ),
            ));
        }
        Ok(assets)
    }

    /// Whether the loader is there to serve.
    pub fn has_widget(&self) -> bool {
        self.files.contains_key("nearmiss.js")
    }

    fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|bytes| bytes.as_ref())
    }
}

/// `GET /nearmiss.js`, `GET /nearmiss.mjs`, `GET /nearmiss.d.ts`, `GET /widget/{file}`,
/// `GET /demo/{key}`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/nearmiss.js", get(loader))
        .route("/nearmiss.mjs", get(module))
        .route("/nearmiss.d.ts", get(types))
        .route("/widget/{file}", get(widget_file))
        .route("/demo/{key}", get(demo_page))
}

/// The customer's re-rating page, limited per client address like the public API (its
/// link carries a token that must not be guessed at speed).
pub fn rerate_router() -> Router<AppState> {
    Router::new().route("/rerate/{token}", get(rerate_page))
}

/// The loader in the language the browser asks for first (its floating button's label):
/// `nearmiss.de.js` for German, `nearmiss.js` (English) when none is built for it.
async fn loader(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let asked = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (_, language) = crate::words::negotiate(asked);
    let path = format!("nearmiss.{language}.js");
    let path = match state.assets.get(&path) {
        Some(_) => &path,
        None => "nearmiss.js",
    };
    // Short-lived: the loader's name is fixed, and it names the current hashed files.
    let mut response = serve(&state, path, "public, max-age=300", &headers);
    response.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("Accept-Encoding, Accept-Language"),
    );
    response
}

/// The ES module for apps, which adds the loader's script tag.
async fn module(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, "nearmiss.mjs", "public, max-age=300", &headers)
}

/// The module's TypeScript types.
async fn types(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, "nearmiss.d.ts", "public, max-age=300", &headers)
}

async fn widget_file(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("widget/{file}");
    serve(
        &state,
        &path,
        "public, max-age=31536000, immutable",
        &headers,
    )
}

fn serve(state: &AppState, path: &str, cache: &'static str, headers: &HeaderMap) -> Response {
    let Some(original) = state.assets.get(path) else {
        return ApiError::NotFound.into_response();
    };
    let accepts = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let compressed = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(coding, _)| {
            accepts
                .split(',')
                .any(|a| a.split(';').next().unwrap_or("").trim() == *coding)
        })
        .find_map(|(coding, ext)| {
            state
                .assets
                .get(&format!("{path}{ext}"))
                .map(|b| (coding, b))
        });
    let mut response = match compressed {
        Some((coding, bytes)) => {
            let mut r = Body::from(bytes.to_vec()).into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            r
        }
        None => Body::from(original.to_vec()).into_response(),
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // The host page loads the glue as a module and fetches the wasm cross-origin.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("ts") => "application/typescript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The demo shop's "thanks for your order" page, embedding the widget for `key`.
async fn demo_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let template = state.assets.get("demo.html").ok_or(ApiError::NotFound)?;
    let site = sites::find(&state.store, &key, state.clock.now()).await?;
    Ok(fill(
        template,
        &[
            (SITE_KEY_PLACEHOLDER, &site.key),
            ("{{SITE_NAME}}", &site.settings.name),
        ],
        "no-cache",
    ))
}

/// An HTML page from a template, each `{{PLACEHOLDER}}` replaced by escaped text.
fn fill(template: &[u8], values: &[(&str, &str)], cache: &'static str) -> Response {
    let mut page = String::from_utf8_lossy(template).into_owned();
    for (placeholder, value) in values {
        page = page.replace(placeholder, &escape_html(value));
    }
    (StatusCode::OK, [(header::CACHE_CONTROL, cache)], Html(page)).into_response()
}

/// The one-click re-rating page from the customer's email: the widget opens at once,
/// and its score is linked to the closed case.
async fn rerate_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let template = state.assets.get("rerate.html").ok_or(ApiError::NotFound)?;
    let hash = crate::tokens::hash(&token);
    let now = state.clock.now();
    let found = state
        .store
        .read(move |tx| tx.rerate_page(&hash, now))
        .await?;
    // The widget asks the one question, in the customer's language; the case's
    // reference was in the email that brought them.
    let Some((key, name, _reference)) = found else {
        return Ok(link_spent());
    };
    Ok(fill(
        template,
        &[
            (SITE_KEY_PLACEHOLDER, &key),
            ("{{SITE_NAME}}", &name),
            ("{{RERATE}}", &token),
        ],
        "no-store",
    ))
}

/// A re-rating link that was used, has expired, or never existed: the customer came
/// from an email, so they get a page, not an API error.
fn link_spent() -> Response {
    const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>This link has been used</title>
<style>
  body { margin: 0; font: 17px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f1f1f; background: #f6f6f4; }
  main { max-width: 560px; margin: 48px auto; padding: 0 20px; }
  h1 { font-size: 24px; }
</style>
</head>
<body>
<main>
  <h1>This link has been used</h1>
  <p>Each re-rating link works once, for 30 days after we send it, and this one has been
  used or has expired. Thank you for telling us how we did.</p>
</main>
</body>
</html>
"#;
    (
        StatusCode::GONE,
        [(header::CACHE_CONTROL, "no-store")],
        Html(PAGE),
    )
        .into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
