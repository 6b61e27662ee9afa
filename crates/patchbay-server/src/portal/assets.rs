//! The portal's stylesheet and script, embedded in the binary.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// The stylesheet.
pub const STYLE: &str = include_str!("../../assets/portal.css");

/// The script (small progressive enhancements; every page works without it).
pub const SCRIPT: &str = include_str!("../../assets/portal.js");

/// `GET /portal/assets/{file}`: `portal.css` or `portal.js`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (kind, body) = match file.as_str() {
        "portal.css" => ("text/css; charset=utf-8", STYLE),
        "portal.js" => ("text/javascript; charset=utf-8", SCRIPT),
        _ => return (StatusCode::NOT_FOUND, "no such file").into_response(),
    };
    ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "public, max-age=300")], body).into_response()
}
