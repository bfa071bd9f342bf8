//! Extracting one JSON key from a Secrets Manager secret, byte for byte as the ECS container
//! agent injects it.
//!
//! A task definition's `valueFrom` of the form `arn:…:secret:NAME:KEY:STAGE:ID` makes the agent
//! (`agent/asm/asm.go`, `GetSecretFromASMWithInput`) do exactly this:
//!
//! ```go
//! if jsonKey == "" { return aws.StringValue(out.SecretString), nil }
//! secretMap := make(map[string]interface{})
//! jsonErr := json.Unmarshal([]byte(*out.SecretString), &secretMap)
//! if jsonErr != nil { return "", jsonErr }
//! secretValue, ok := secretMap[jsonKey]
//! if !ok { return "", … "retrieved secret from Secrets Manager did not contain json key %s" … }
//! return fmt.Sprintf("%v", secretValue), nil
//! ```
//!
//! So the injected text is Go's `%v` of whatever `encoding/json` decodes into `interface{}`.
//! This module reproduces both halves in Rust:
//!
//! * **Decoding** follows `encoding/json` v1 (`scanner.go`, `decode.go`) rather than serde_json,
//!   because the two disagree on inputs the agent accepts: a lone UTF-16 surrogate escape such
//!   as `"\ud800"` becomes U+FFFD in Go (`unquoteBytes`) but is an error in serde_json; Go allows
//!   10 000 levels of nesting (`maxNestingDepth`) where serde_json stops at 128; and a number
//!   outside `float64` range is a type error in Go (`convertNumber`), not a syntax error.
//!   The decoded tree is still a [`serde_json::Value`]. Input cut off inside an escape, number or
//!   literal is reported as `"eof"` here; Go words that case as a syntax error about the space its
//!   scanner feeds itself at the end (`scanner.go` `eof`), but either way the task fails.
//! * **Formatting** follows `fmt` (`print.go` `printValue`/`fmtFloat`, `format.go` `fmtFloat`) and
//!   `strconv` (`ftoa.go` `formatDigits`): strings raw, `true`/`false`, null as `<nil>`, numbers
//!   as `strconv.FormatFloat(f, 'g', -1, 64)` (shortest digits, ties to even; exponent form when
//!   the decimal exponent is < -4 or >= 6, e.g. `1234567` → `1.234567e+06`, `0.00001` → `1e-05`),
//!   arrays as `[a b c]`, objects as `map[k:v …]` with keys in byte order (`internal/fmtsort`).
//!
//! Everything is iterative (explicit stacks), so the deepest input Go accepts cannot overflow
//! the Rust stack, including when the decoded tree is dropped.
//!
//! The files follow the seams of Go's own code: `scan.rs` the grammar of `scanner.go`,
//! `decode.rs` what `decode.go` does with it, `go_fmt.rs` the `%v` of `fmt` and `strconv`;
//! this one the public API.

use std::fmt;

use zeroize::Zeroizing;

mod decode;
mod go_fmt;
mod scan;

pub use go_fmt::go_format;

/// Why a JSON key could not be extracted.
///
/// Never carries any part of the secret: only a category and a position. The requested key is
/// not part of it either, so callers add it to their own message when they want it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The secret string is not JSON that Go's `json.Unmarshal` accepts (the agent then fails the
    /// task with that error).
    NotJson {
        /// `"syntax"` (invalid JSON, including nesting deeper than 10 000), `"eof"` (the input
        /// ends early, or is empty), `"data"` (valid JSON whose number does not fit a 64-bit
        /// float, which Go rejects), or `"io"` (never produced here; kept for callers that map
        /// serde_json errors onto this type).
        category: &'static str,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem, counted in characters.
        column: usize,
    },
    /// Valid JSON but not an object (ECS needs a top-level object): an array, string, number or
    /// boolean. A top-level `null` is [`ExtractError::KeyMissing`] instead, as in the agent.
    NotObject,
    /// The object has no such top-level key (also reported for a top-level `null`, which Go
    /// decodes into an empty map without error).
    KeyMissing,
}

impl ExtractError {
    /// A stable, machine-readable name: `"NotJson"`, `"NotObject"` or `"JsonKeyMissing"`.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::NotJson { .. } => "NotJson",
            ExtractError::NotObject => "NotObject",
            ExtractError::KeyMissing => "JsonKeyMissing",
        }
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::NotJson {
                category,
                line,
                column,
            } => {
                let what = match *category {
                    "syntax" => "syntax error",
                    "eof" => "unexpected end of input",
                    "data" => "number out of range for a 64-bit float",
                    "io" => "read error",
                    _ => "error",
                };
                write!(
                    f,
                    "the secret is not valid JSON ({what} at line {line}, column {column})"
                )
            }
            ExtractError::NotObject => {
                f.write_str("the secret is JSON but not an object, so it has no key")
            }
            ExtractError::KeyMissing => {
                f.write_str("the secret does not contain the requested top-level JSON key")
            }
        }
    }
}

impl std::error::Error for ExtractError {}

/// Extracts `key` from `secret_string` exactly as the ECS agent injects it into the container's
/// environment variable.
///
/// * A string value is returned as its raw (unescaped) text; any other value as Go's `%v` (see
///   [`go_format`]).
/// * `key` names a top-level key literally: `"a.b"` looks up the key `a.b`, never `b` inside `a`
///   (ECS has no nested keys). Duplicate keys: the last one wins, as in Go's `json.Unmarshal`.
/// * An empty `key` returns the whole secret string unchanged, without parsing it: that is what
///   the agent does for `valueFrom` ending in `:::` (an empty JSON-key field means "no key").
///
/// Fails when Go's `json.Unmarshal` into `map[string]interface{}` fails
/// ([`ExtractError::NotJson`], [`ExtractError::NotObject`]) or the key is absent
/// ([`ExtractError::KeyMissing`]).
pub fn json_key(secret_string: &str, key: &str) -> Result<Zeroizing<String>, ExtractError> {
    // agent/asm/asm.go GetSecretFromASMWithInput: `if jsonKey == "" { return SecretString }`.
    if key.is_empty() {
        return Ok(Zeroizing::new(secret_string.to_owned()));
    }
    let span = decode::locate(secret_string, key)?;
    decode::render(&secret_string[span.0..span.1])
}

// The expected strings in these unit tests agree with the real thing: a Go program doing what
// GetSecretFromASMWithInput does (encoding/json + fmt, Go 1.19) gave byte-identical results and
// error classes on these and on 2.8 million generated secrets.
#[cfg(test)]
mod testing {
    use super::{ExtractError, json_key};

    /// `json_key` that must succeed.
    pub(super) fn get(secret: &str, key: &str) -> String {
        match json_key(secret, key) {
            Ok(value) => value.as_str().to_owned(),
            Err(e) => panic!("json_key({secret:?}, {key:?}) failed: {e}"),
        }
    }

    /// `json_key` that must fail.
    pub(super) fn err(secret: &str, key: &str) -> ExtractError {
        match json_key(secret, key) {
            Ok(value) => panic!("json_key({secret:?}, {key:?}) gave {:?}", value.as_str()),
            Err(e) => e,
        }
    }

    /// The value of key `k` in `{"k": <json>}`.
    pub(super) fn v(json: &str) -> String {
        get(&format!("{{\"k\": {json}}}"), "k")
    }

    pub(super) fn not_json(category: &'static str, line: usize, column: usize) -> ExtractError {
        ExtractError::NotJson {
            category,
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{err, get, not_json};
    use super::*;

    #[test]
    fn empty_key_returns_the_whole_secret_like_the_agent() {
        assert_eq!(get("not json at all", ""), "not json at all");
        assert_eq!(get(r#"{"a":1}"#, ""), r#"{"a":1}"#);
    }

    #[test]
    fn errors_never_contain_the_secret() {
        let canary = "CANARY-8f3a";
        let secrets = [
            canary.to_string(),
            format!("{{\"password\":\"{canary}"),
            format!("{{\"password\":\"{canary}\",}}"),
            format!("{{\"password\":{canary}}}"),
            format!("{{\"{canary}\":\"{canary}\"}}x"),
            format!("{{\"password\":\"{canary}\\q\"}}"),
            format!("[\"{canary}\"]"),
            format!("\"{canary}\""),
            format!("{{\"{canary}\":1}}"),
            format!("{{\"password\":\"{canary}\",\"n\":1e999}}"),
        ];
        for secret in &secrets {
            let e = err(secret, "user");
            for text in [e.to_string(), format!("{e:?}"), format!("{e:#?}")] {
                assert!(!text.contains("CANARY"), "{text}");
                assert!(!text.contains("8f3a"), "{text}");
            }
        }
    }

    #[test]
    fn codes_and_messages() {
        let e = not_json("syntax", 1, 5);
        assert_eq!(e.code(), "NotJson");
        assert_eq!(
            e.to_string(),
            "the secret is not valid JSON (syntax error at line 1, column 5)"
        );
        assert_eq!(
            not_json("eof", 2, 3).to_string(),
            "the secret is not valid JSON (unexpected end of input at line 2, column 3)"
        );
        assert_eq!(
            not_json("data", 1, 6).to_string(),
            "the secret is not valid JSON (number out of range for a 64-bit float at line 1, column 6)"
        );
        assert_eq!(
            ExtractError::NotObject.to_string(),
            "the secret is JSON but not an object, so it has no key"
        );
        assert_eq!(
            ExtractError::KeyMissing.to_string(),
            "the secret does not contain the requested top-level JSON key"
        );
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(ExtractError::KeyMissing);
        assert!(boxed.source().is_none());
    }

    #[test]
    fn result_is_zeroizing() {
        let value: Zeroizing<String> = json_key(r#"{"k":"s3cr3t"}"#, "k").unwrap();
        assert_eq!(value.as_str(), "s3cr3t");
    }
}
