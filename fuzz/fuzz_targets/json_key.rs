//! Fuzzes JSON key extraction (`runtime/src/extract/`), which reproduces the ECS agent's
//! `json.Unmarshal` into `map[string]interface{}` followed by `fmt.Sprintf("%v", value)`.
//!
//! Input: one byte `n`, then `n` bytes of key, then the secret string (both must be UTF-8).
//! `json_key` must never panic, and wherever serde_json also decodes the secret (serde_json
//! accepts a subset of what Go's decoder does: it rejects lone surrogate escapes and nesting
//! deeper than 128) the two must agree: a string value comes back raw, booleans and null as Go
//! prints them, a number as text that parses back to the same `f64` with the shortest digits,
//! a missing key or a non-object as the matching error.

#![no_main]

use ecs_secrets::extract::{ExtractError, json_key};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n).min(rest.len());
    let (Ok(key), Ok(secret)) = (
        std::str::from_utf8(&rest[..n]),
        std::str::from_utf8(&rest[n..]),
    ) else {
        return;
    };
    check(secret, key);
});

fn check(secret: &str, key: &str) {
    let got = json_key(secret, key);
    if key.is_empty() {
        // An empty key field in `valueFrom` means the whole secret, unparsed.
        assert_eq!(got.as_deref().map(String::as_str), Ok(secret));
        return;
    }
    let reference = match serde_json::from_str::<Value>(secret) {
        Ok(v) => v,
        Err(e) => {
            // Input that ends early is invalid JSON to every decoder.
            if e.classify() == serde_json::error::Category::Eof {
                assert!(
                    matches!(got, Err(ExtractError::NotJson { .. })),
                    "truncated JSON was accepted: {got:?}"
                );
            }
            return;
        }
    };
    let map = match reference {
        Value::Object(map) => map,
        // decode.go literalStore: null into a map is a nil map, so the key is missing.
        Value::Null => return assert_eq!(got, Err(ExtractError::KeyMissing)),
        _ => return assert_eq!(got, Err(ExtractError::NotObject)),
    };
    // serde_json, like Go, keeps the last of duplicate keys.
    let Some(want) = map.get(key) else {
        return assert_eq!(got, Err(ExtractError::KeyMissing));
    };
    let got = match got {
        Ok(v) => v,
        Err(e) => panic!("serde_json found key {key:?} with {want:?}, json_key failed: {e:?}"),
    };
    let got = got.as_str();
    match want {
        Value::String(s) => assert_eq!(got, s, "a string value comes back raw"),
        Value::Bool(b) => assert_eq!(got, b.to_string()),
        Value::Null => assert_eq!(got, "<nil>"),
        Value::Number(n) => {
            let want = n
                .as_f64()
                .expect("serde_json numbers are f64 without arbitrary_precision");
            let back: f64 = got
                .parse()
                .unwrap_or_else(|_| panic!("{got:?} is not a number"));
            assert_eq!(back, want, "{got:?} does not parse back to {want:e}");
            assert_eq!(
                back.is_sign_negative(),
                want.is_sign_negative(),
                "{got:?} vs {want:e}"
            );
            // Go prints the shortest digits that round-trip; so does Rust's `{:e}`.
            assert_eq!(digits(got), digits(&format!("{:e}", want.abs())), "{got:?}");
        }
        Value::Array(_) => assert!(got.starts_with('[') && got.ends_with(']'), "{got:?}"),
        Value::Object(_) => assert!(got.starts_with("map[") && got.ends_with(']'), "{got:?}"),
    }
}

/// The number of significant digits in a decimal rendering (`1.234567e+06` → 7, `0.001` → 1).
fn digits(s: &str) -> usize {
    let mantissa = s.split(['e', 'E']).next().unwrap_or(s);
    let d: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let d = d.trim_start_matches('0').trim_end_matches('0');
    d.len().max(1)
}
