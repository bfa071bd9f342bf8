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
//!   literal is reported as [`NotJsonKind::Eof`] here; Go words that case as a syntax error about
//!   the space its scanner feeds itself at the end (`scanner.go` `eof`), but either way the task
//!   fails.
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
/// Depends on the kind of failure only, never on the secret: no part of it, no position in it,
/// nothing that varies with its length (a byte offset would tell how long a truncated secret
/// is; a column after `123abc`, that it starts with three digits). Go's own errors are no model
/// here: they quote the input (`scanner.go` "invalid character 'x' after top-level value",
/// `decode.go` `convertNumber` "cannot unmarshal number 1e400 …") and carry
/// `SyntaxError.Offset`. The requested key is not part of it either, so callers add it to their
/// own message when they want it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The secret string is not JSON that Go's `json.Unmarshal` accepts (the agent then fails the
    /// task with that error).
    NotJson(NotJsonKind),
    /// Valid JSON but not an object (ECS needs a top-level object): an array, string, number or
    /// boolean. A top-level `null` is [`ExtractError::KeyMissing`] instead, as in the agent.
    NotObject,
    /// The object has no such top-level key (also reported for a top-level `null`, which Go
    /// decodes into an empty map without error).
    KeyMissing,
}

/// Why Go's `json.Unmarshal` rejects a secret string ([`ExtractError::NotJson`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotJsonKind {
    /// Invalid JSON, including nesting deeper than 10 000 levels.
    Syntax,
    /// The input ends early, or is empty.
    Eof,
    /// Valid JSON with a number that does not fit a 64-bit float, which Go rejects.
    NumberOutOfRange,
}

impl ExtractError {
    /// A stable, machine-readable name: `"NotJson"`, `"NotObject"` or `"JsonKeyMissing"`.
    pub fn code(&self) -> &'static str {
        match self {
            ExtractError::NotJson(_) => "NotJson",
            ExtractError::NotObject => "NotObject",
            ExtractError::KeyMissing => "JsonKeyMissing",
        }
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtractError::NotJson(kind) => {
                let what = match kind {
                    NotJsonKind::Syntax => "syntax error",
                    NotJsonKind::Eof => "unexpected end of input",
                    NotJsonKind::NumberOutOfRange => "number out of range for a 64-bit float",
                };
                write!(f, "the secret is not valid JSON ({what})")
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
    use super::{ExtractError, NotJsonKind, json_key};

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

    pub(super) fn not_json(kind: NotJsonKind) -> ExtractError {
        ExtractError::NotJson(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::NotJsonKind::{Eof, NumberOutOfRange, Syntax};
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

    /// Part of every bad value below; no three characters of it in a row may reach an error.
    const CANARY: &str = "QX7Z-93KW";

    /// The error `json_key(value, "password")` gives for every one of `values`, after checking
    /// that they all give the very same `Display` and `Debug` text and that none of it comes from
    /// a value: the error must tell the kind of failure only, never where it is or how long the
    /// value is.
    fn one_error_for_all(values: &[String]) -> ExtractError {
        let texts = |e: &ExtractError| [e.to_string(), format!("{e:?}"), format!("{e:#?}")];
        let first = err(&values[0], "password");
        for value in values {
            let e = err(value, "password");
            assert_eq!(texts(&e), texts(&first), "{value:?} vs {:?}", values[0]);
            for text in texts(&e) {
                for part in CANARY.as_bytes().windows(3) {
                    let part = std::str::from_utf8(part).unwrap();
                    assert!(!text.contains(part), "{part:?} of {value:?} in {text:?}");
                }
            }
        }
        first
    }

    #[test]
    fn errors_depend_on_the_kind_of_failure_only() {
        let object = format!(
            "{{\"user\": \"{CANARY}\",\n \"pin\": 12345,\n \"tags\": [\"{CANARY}\", true, null]}}"
        );
        // Cut off anywhere: every proper prefix, whatever its length or line count.
        let truncated: Vec<String> = (0..object.len())
            .filter(|&n| object.is_char_boundary(n))
            .map(|n| object[..n].to_owned())
            .collect();
        // A syntax error early, late, on another line, after a number's digits, too deep.
        let syntax = [
            CANARY.to_owned(),
            format!("123{CANARY}"),
            format!("{{\"user\":\"{CANARY}\",}}"),
            format!("{{\"user\" \"{CANARY}\"}}"),
            format!("{{\"user\":\"{CANARY}\\q\"}}"),
            format!("{{\"user\":\"{CANARY}\tx\"}}"),
            format!("{{\"user\":'{CANARY}'}}"),
            format!("{{\"user\":\"{CANARY}\"}}\n{CANARY}"),
            format!("{{\"pin\":0123,\"user\":\"{CANARY}\"}}"),
            format!("[\"{CANARY}\"] x"),
            format!("{}{CANARY}", "[".repeat(10_001)),
        ];
        // Valid JSON with a number Go's float64 cannot hold, anywhere in it.
        let range = [
            "{\"n\":1e400}".to_owned(),
            format!("{{\"user\":\"{CANARY}\",\n\"n\":[1,-1e309]}}"),
            format!("{{\"n\":123456789e999,\"password\":\"{CANARY}\"}}"),
        ];
        // Valid JSON of another type and length than an object.
        let not_object = [
            "123".to_owned(),
            "-0.5e3".to_owned(),
            "true".to_owned(),
            "[1,2]".to_owned(),
            format!("\"{CANARY}\""),
            format!("[\"{CANARY}\",{{\"password\":\"{CANARY}\"}}]"),
        ];
        // An object without the key (or null, which Go decodes into an empty map).
        let missing = [
            "{}".to_owned(),
            "null".to_owned(),
            format!("{{\"{CANARY}\":1}}"),
            format!("{{\"user\":\"{CANARY}\",\n\"pin\":1234}}"),
            format!("{{\"nested\":{{\"password\":\"{CANARY}\"}}}}"),
        ];
        let kinds = [
            one_error_for_all(&truncated),
            one_error_for_all(&syntax),
            one_error_for_all(&range),
            one_error_for_all(&not_object),
            one_error_for_all(&missing),
        ];
        // The kind itself is kept: five kinds, five different errors.
        for (i, a) in kinds.iter().enumerate() {
            for b in &kinds[i + 1..] {
                assert_ne!(a.to_string(), b.to_string());
            }
        }
    }

    #[test]
    fn codes_and_messages() {
        let e = not_json(Syntax);
        assert_eq!(e.code(), "NotJson");
        assert_eq!(e.to_string(), "the secret is not valid JSON (syntax error)");
        assert_eq!(
            not_json(Eof).to_string(),
            "the secret is not valid JSON (unexpected end of input)"
        );
        assert_eq!(
            not_json(NumberOutOfRange).to_string(),
            "the secret is not valid JSON (number out of range for a 64-bit float)"
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
