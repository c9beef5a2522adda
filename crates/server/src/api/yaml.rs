//! Flows may be written in YAML as well as JSON: a body sent as
//! `Content-Type: application/yaml` is read into the same types, so the
//! checks and their field paths are the same, and stored as JSON; a flow
//! is answered in YAML (its name and definition) to `Accept:
//! application/yaml`, so one can be fetched, edited by hand and saved back.

use super::{ApiError, Body};
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn is_yaml(value: Option<&HeaderValue>) -> bool {
    let v = value.and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    ["application/yaml", "application/x-yaml", "text/yaml"].iter().any(|t| v.contains(t))
}

/// Whether the client asked for YAML.
pub fn wants_yaml(headers: &HeaderMap) -> bool {
    is_yaml(headers.get(header::ACCEPT))
}

/// A JSON or YAML body, by its content type.
pub struct JsonOrYaml<T>(pub T);

impl<T: DeserializeOwned, St: Send + Sync> FromRequest<St> for JsonOrYaml<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &St) -> Result<Self, Self::Rejection> {
        if !is_yaml(req.headers().get(header::CONTENT_TYPE)) {
            return Body::<T>::from_request(req, state).await.map(|Body(v)| JsonOrYaml(v));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|r| {
            let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE { "too_large" } else { "invalid_body" };
            ApiError::new(r.status(), code, r.body_text())
        })?;
        if flow_depth(&bytes) > MAX_DEPTH {
            let message = format!("YAML nested too deeply (more than {MAX_DEPTH} levels of [ and {{)");
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_yaml", message));
        }
        serde_yaml_ng::from_slice(&bytes).map(JsonOrYaml).map_err(|e| ApiError::from_yaml(&e))
    }
}

/// As deep as serde_json lets JSON nest.
const MAX_DEPTH: usize = 128;

/// How deeply `[` and `{` collections nest in `yaml`, read roughly (quotes
/// and comments skipped, brackets inside plain words not counted). The YAML
/// parser stops deep documents itself, but only after time that grows with
/// the square of the depth: a 1 MiB body of `[` would hold a worker for hours.
fn flow_depth(yaml: &[u8]) -> usize {
    let (mut depth, mut deepest, mut quote, mut comment) = (0usize, 0, None, false);
    // The byte before, and whether it opened a collection.
    let (mut prev, mut prev_opened) = (b'\n', false);
    for &b in yaml {
        let mut opened = false;
        match (quote, b) {
            (_, b'\n') if comment => comment = false,
            _ if comment => continue,
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => continue,
            (None, b'"' | b'\'') if !prev.is_ascii_alphanumeric() => quote = Some(b),
            (None, b'#') if prev.is_ascii_whitespace() => comment = true,
            (None, b'[' | b'{') if prev_opened || matches!(prev, b',' | b':' | b'-') || prev.is_ascii_whitespace() => {
                depth += 1;
                deepest = deepest.max(depth);
                opened = true;
            }
            (None, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        (prev, prev_opened) = (b, opened);
    }
    deepest
}

/// `value` as YAML text.
pub fn yaml_response<T: Serialize>(value: &T) -> Response {
    match serde_yaml_ng::to_string(value) {
        Ok(text) => ([(header::CONTENT_TYPE, HeaderValue::from_static("application/yaml"))], text).into_response(),
        Err(e) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::flow_depth;

    #[test]
    fn measures_how_deeply_collections_nest() {
        assert_eq!(flow_depth(b"name: x\ndefinition: {start: a, blocks: {a: {type: end}}}\n"), 3);
        assert_eq!(flow_depth(b"a: [[1], [2, [3]]]"), 3);
        // Brackets in strings, comments and plain words are text.
        assert_eq!(flow_depth(b"text: '[[[[' # [[[[\nb: \"{{x}}\"\nc: a[[[b"), 0);
        assert_eq!(flow_depth(format!("d: {}1{}", "[".repeat(100_000), "]".repeat(100_000)).as_bytes()), 100_000);
    }
    use crate::service::flows::FlowUpdate;

    #[test]
    fn a_flow_in_yaml_reads_like_its_json() {
        let yaml = "name: Greeter\ndefinition:\n  start: hello\n  blocks:\n    hello: {type: message, text: Hi, next: done}\n    done: {type: end}\n";
        let from_yaml: FlowUpdate = serde_yaml_ng::from_str(yaml).unwrap();
        let json = r#"{"name":"Greeter","definition":{"start":"hello","blocks":{"hello":{"type":"message","text":"Hi","next":"done"},"done":{"type":"end"}}}}"#;
        let from_json: FlowUpdate = serde_json::from_str(json).unwrap();
        assert_eq!(from_yaml.definition, from_json.definition);
    }

    #[test]
    fn yaml_errors_say_where() {
        let e = serde_yaml_ng::from_str::<FlowUpdate>("name: x\ndefinition: [unclosed\n").unwrap_err();
        let err = super::ApiError::from_yaml(&e);
        assert_eq!(err.code, "invalid_yaml");
        assert!(err.message.contains("line"), "{}", err.message);
        let e = serde_yaml_ng::from_str::<FlowUpdate>("name: x\n").unwrap_err();
        assert_eq!(super::ApiError::from_yaml(&e).field.as_deref(), Some("definition"));
    }
}
