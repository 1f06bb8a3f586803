//! CORS for every route: the wasm-bindgen-test pages and other test pages run on
//! another origin, and `X-Connection-ID` makes every chat POST preflighted.
//!
//! Hand-written rather than tower-http's layer because the contract is small and
//! fixed: preflights answer 204 (not 200), and requested extra headers are allowed
//! too, since a client's injected `fetch` may add its own (auth) headers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const ALLOWED_HEADERS: &str = "Content-Type, X-Connection-ID";

pub(crate) async fn cors(request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS {
        let requested = request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
            .map(|v| format!("{ALLOWED_HEADERS}, {v}"));
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            requested
                .and_then(|v| HeaderValue::from_str(&v).ok())
                .unwrap_or(HeaderValue::from_static(ALLOWED_HEADERS)),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        allow(&mut response);
        return response;
    }
    let mut response = next.run(request).await;
    allow(&mut response);
    response
}

fn allow(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_HEADERS) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOWED_HEADERS),
        );
    }
}
