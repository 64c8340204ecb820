//! Request bodies: bounded reads and JSON/YAML decoding into Status errors, never panics.

use serde_json::Value;

use crate::status::ApiError;

/// The largest request body accepted, as the real server's 3 MiB limit.
pub const MAX_BODY_BYTES: usize = 3 * 1024 * 1024;

/// Decodes a body as JSON, or as YAML when it is not JSON (apply patches, `kubectl create -f`
/// with `Content-Type: application/yaml`).
pub fn parse_json_or_yaml(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => Ok(v),
        Err(json_err) => {
            let text = std::str::from_utf8(body).map_err(|_| {
                ApiError::bad_request(format!("error decoding request body: {json_err}"))
            })?;
            // Duplicate keys: the last one wins, as sigs.k8s.io/yaml decodes them; whether they
            // are refused or only warned about is fieldValidation's call (crate::schema).
            let options = serde_saphyr::options! {
                duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
            };
            serde_saphyr::from_str_with_options::<Value>(text, options)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
        }
    }
}

/// Decodes an object body according to its `Content-Type`.
pub fn parse_object(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let value = match media {
        "" | "application/json" | "*/*" => serde_json::from_slice::<Value>(body)
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?,
        "application/yaml" | "application/x-yaml" | "text/yaml" => parse_json_or_yaml(body)?,
        crate::protobuf::MEDIA_TYPE => {
            crate::protobuf::decode(body).map_err(|e| ApiError::bad_request(e.to_string()))?
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "error decoding request body: the object must be a JSON object",
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_bodies_are_bad_requests() {
        for body in [&b"{"[..], b"[1,2]", b"", b"\xff\xfe"] {
            let err = parse_object("application/json", body).unwrap_err();
            assert_eq!(err.code, 400, "{body:?}");
        }
        assert_eq!(
            parse_object("application/vnd.kubernetes.protobuf", b"x")
                .unwrap_err()
                .code,
            400
        );
        assert_eq!(
            parse_object("application/cbor", b"x").unwrap_err().code,
            415
        );
        assert!(parse_object("application/yaml", b"a: 1").is_ok());
    }

    #[test]
    fn yaml_duplicate_keys_keep_the_last_value() {
        let value = parse_object("application/yaml", b"data:\n  a: first\n  a: second\n").unwrap();
        assert_eq!(value["data"]["a"], "second");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse_json_or_yaml(deep.as_bytes()).unwrap_err().code, 400);
    }
}
