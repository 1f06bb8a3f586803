//! Everything no API route matched: files from `--static-dir` (the demo page and the
//! built package), else a JSON 404.
//!
//! Hand-written rather than tower-http's `ServeDir` to keep the dependency tree small
//! and the content types exact (`.wasm` must be `application/wasm` for streaming
//! compilation, `.js` `text/javascript` for module scripts). Symlinks are followed on
//! purpose: the demo links `www/pkg` to the package built elsewhere. Path traversal is
//! refused by rejecting `..` segments before touching the file system.

use std::path::{Path, PathBuf};

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

pub(crate) async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route for {method} {}", crate::chat::truncate(path, 200)),
        )
        .into_response()
    };
    let Some(root) = state.options().static_dir.as_deref() else {
        return not_found();
    };
    if path.starts_with("/api/") {
        return not_found();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "static files answer GET and HEAD only",
        )
        .into_response();
    }
    let Some(relative) = safe_relative_path(path) else {
        return ApiError::bad_request("invalid path").into_response();
    };
    let mut file = root.join(&relative);
    if tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_dir()) {
        // Relative links in an index page resolve against the URL, so a directory
        // must be addressed with its trailing slash.
        if !path.ends_with('/') {
            let location = format!("{path}/");
            return match HeaderValue::from_str(&location) {
                Ok(location) => (
                    StatusCode::PERMANENT_REDIRECT,
                    [(header::LOCATION, location)],
                )
                    .into_response(),
                Err(_) => not_found(),
            };
        }
        file = file.join("index.html");
    }
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            let headers = [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&file)),
                ),
                // The demo is rebuilt often; never serve a stale package.
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ];
            (headers, bytes).into_response()
        }
        Err(_) => not_found(),
    }
}

/// The URL path as a relative file path, percent-decoded; `None` if it would leave
/// the root or is not valid text.
fn safe_relative_path(url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') || s.contains(':') => return None,
            s => relative.push(s),
        }
    }
    Some(relative)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" | "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_odd_segments_are_refused() {
        assert_eq!(safe_relative_path("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_relative_path("/"), Some(PathBuf::new()));
        assert_eq!(safe_relative_path("/a/../../etc/passwd"), None);
        assert_eq!(safe_relative_path("/%2e%2e/secret"), None);
        assert_eq!(safe_relative_path("/a%5c..%5cb"), None);
        assert_eq!(safe_relative_path("/bad%zz"), None);
        assert_eq!(
            safe_relative_path("/sp%20ace.txt"),
            Some(PathBuf::from("sp ace.txt"))
        );
    }

    #[test]
    fn wasm_and_js_get_the_types_browsers_require() {
        assert_eq!(content_type(Path::new("pkg/x_bg.wasm")), "application/wasm");
        assert!(content_type(Path::new("pkg/x.js")).starts_with("text/javascript"));
        assert!(content_type(Path::new("index.html")).starts_with("text/html"));
    }
}
