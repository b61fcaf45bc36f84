//! Extractors whose rejections are API errors naming the field: a malformed body, query or
//! path is a 400 in the one error shape, never axum's plain-text rejection nor a 500.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; unknown fields, wrong types and missing fields are 400s naming the field.
/// An empty body reads as `{}`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_json_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v.starts_with("application/json"));
        if !has_json_type {
            return Err(ApiError::invalid(
                "content-type",
                "the body must be `application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge
            } else {
                ApiError::invalid("body", e.body_text())
            }
        })?;
        let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::invalid("body", "the body must be a JSON object"));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            if e.inner().is_syntax() || e.inner().is_eof() {
                // Not JSON at all: no field to name.
                ApiError::invalid("body", e.inner())
            } else {
                rejected("body", e.path().to_string(), e.inner().to_string())
            }
        })?;
        deserializer
            .end()
            .map_err(|e| ApiError::invalid("body", e))?;
        Ok(ApiJson(value))
    }
}

/// Query parameters; unknown parameters and malformed values are 400s naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|e| rejected("query", e.path().to_string(), e.inner().to_string()))
    }
}

/// One path segment, as text; the handler parses it and names it when it is wrong.
#[derive(Debug)]
pub struct ApiPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ApiPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(segment)| ApiPath(segment))
            .map_err(|e| ApiError::invalid("path", e.body_text()))
    }
}

/// A deserialisation failure at `path` (`.` for the top level, where serde names the field in
/// its message: "unknown field `x`", "missing field `x`").
fn rejected(whole: &str, path: String, message: String) -> ApiError {
    let field = if path == "." || path == "?" || path.is_empty() {
        message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .map_or_else(|| whole.to_string(), str::to_string)
    } else {
        path
    };
    ApiError::InvalidInput { field, message }
}
