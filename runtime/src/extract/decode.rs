//! Decoding, following encoding/json v1 (`decode.go`): where the requested key's value is, what
//! `json.Unmarshal` into `map[string]interface{}` rejects, and the decoded value itself.

use serde_json::{Map, Number, Value};
use zeroize::{Zeroize, Zeroizing};

use super::go_fmt::{go_format, push_go_float};
use super::scan::{Scanner, Token};
use super::{ExtractError, NotJsonKind};

/// Finds the byte span of the value of the last top-level member named `key`, after checking
/// the whole input the way `json.Unmarshal(data, &map[string]interface{}{})` does: syntax errors
/// anywhere first (`checkValid`), then the top-level type, then numbers out of `float64` range
/// (`convertNumber`, saved as the first error and returned at the end), then the key.
pub(super) fn locate(input: &str, key: &str) -> Result<(usize, usize), ExtractError> {
    let mut scanner = Scanner::new(input);
    let first = scanner
        .next()?
        .ok_or(ExtractError::NotJson(NotJsonKind::Eof))?;
    match first.token {
        Token::BeginObject => {}
        other => {
            // checkValid runs over the whole input before any decoding.
            while scanner.next()?.is_some() {}
            // decode.go literalStore: null into a map sets it to nil without error, so the
            // agent's lookup then fails with "did not contain json key". Anything else is an
            // UnmarshalTypeError.
            return Err(if other == Token::Null {
                ExtractError::KeyMissing
            } else {
                ExtractError::NotObject
            });
        }
    }

    let mut depth = 1usize;
    let mut key_buf = Zeroizing::new(String::new());
    let mut matching = false; // the member being read is named `key`
    let mut value_start: Option<usize> = None; // start of a matching container value
    let mut found: Option<(usize, usize)> = None;
    let mut out_of_range = false;

    while let Some(event) = scanner.next()? {
        match event.token {
            Token::Key => {
                if depth == 1 {
                    key_buf.clear();
                    decode_string(&input[event.start..event.end], &mut key_buf);
                    matching = key_buf.as_str() == key;
                }
            }
            Token::BeginObject | Token::BeginArray => {
                if depth == 1 && matching {
                    value_start = Some(event.start);
                }
                depth += 1;
            }
            Token::EndObject | Token::EndArray => {
                depth -= 1;
                if depth == 1 {
                    if let Some(start) = value_start.take() {
                        found = Some((start, event.end));
                    }
                    matching = false;
                }
            }
            Token::Number | Token::String | Token::True | Token::False | Token::Null => {
                if event.token == Token::Number
                    && !out_of_range
                    && !parse_number(&input[event.start..event.end]).is_finite()
                {
                    out_of_range = true;
                }
                if depth == 1 {
                    if matching {
                        found = Some((event.start, event.end));
                    }
                    matching = false;
                }
            }
        }
    }

    if out_of_range {
        return Err(ExtractError::NotJson(NotJsonKind::NumberOutOfRange));
    }
    found.ok_or(ExtractError::KeyMissing)
}

/// Renders one already-validated JSON value as the agent's `fmt.Sprintf("%v", …)` would.
pub(super) fn render(text: &str) -> Result<Zeroizing<String>, ExtractError> {
    match text.as_bytes().first() {
        Some(b'"') => {
            // Unescaping never lengthens a string, so this never reallocates (no stray copies).
            let mut out = Zeroizing::new(String::with_capacity(text.len()));
            decode_string(text, &mut out);
            Ok(out)
        }
        Some(b'{' | b'[') => {
            let value = build(text)?;
            // %v output is at most 2.5 times the JSON text ("{}" → "map[]", "1e5" → "100000"),
            // so this capacity avoids reallocations that would leave unwiped copies behind.
            let mut out = Zeroizing::new(String::with_capacity(3 * text.len() + 8));
            go_format(&value, &mut out);
            scrub(value);
            Ok(out)
        }
        _ => {
            let mut out = Zeroizing::new(String::with_capacity(32));
            match text {
                "true" | "false" => out.push_str(text),
                "null" => out.push_str("<nil>"),
                number => push_go_float(parse_number(number), &mut out),
            }
            Ok(out)
        }
    }
}

/// Decodes one validated JSON value into a [`Value`], iteratively.
fn build(text: &str) -> Result<Value, ExtractError> {
    enum Frame {
        Array(Vec<Value>),
        Object(Map<String, Value>, String),
    }
    let mut scanner = Scanner::new(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut result: Option<Value> = None;

    while let Some(event) = scanner.next()? {
        let slice = &text[event.start..event.end];
        let complete = match event.token {
            Token::BeginArray => {
                stack.push(Frame::Array(Vec::new()));
                continue;
            }
            Token::BeginObject => {
                stack.push(Frame::Object(Map::new(), String::new()));
                continue;
            }
            Token::Key => {
                if let Some(Frame::Object(_, pending)) = stack.last_mut() {
                    pending.zeroize();
                    decode_string(slice, pending);
                }
                continue;
            }
            Token::EndArray | Token::EndObject => match stack.pop() {
                Some(Frame::Array(items)) => Value::Array(items),
                Some(Frame::Object(map, mut pending)) => {
                    pending.zeroize();
                    Value::Object(map)
                }
                None => continue,
            },
            Token::Null => Value::Null,
            Token::True => Value::Bool(true),
            Token::False => Value::Bool(false),
            Token::String => {
                let mut s = String::with_capacity(slice.len());
                decode_string(slice, &mut s);
                Value::String(s)
            }
            Token::Number => match Number::from_f64(parse_number(slice)) {
                Some(n) => Value::Number(n),
                None => return Err(ExtractError::NotJson(NotJsonKind::NumberOutOfRange)),
            },
        };
        match stack.last_mut() {
            None => result = Some(complete),
            Some(Frame::Array(items)) => items.push(complete),
            Some(Frame::Object(map, pending)) => {
                let name = std::mem::take(pending);
                // decode.go objectInterface: `m[key] = d.valueInterface()`, so the last
                // duplicate wins outright (no merging of nested objects).
                match map.get_mut(&name) {
                    Some(slot) => {
                        scrub(std::mem::replace(slot, complete));
                        let mut name = name;
                        name.zeroize();
                    }
                    None => {
                        map.insert(name, complete);
                    }
                }
            }
        }
    }
    result.ok_or(ExtractError::NotJson(NotJsonKind::Eof))
}

/// Drops a decoded value iteratively, wiping its strings (keys and values) first.
fn scrub(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::String(mut s) => s.zeroize(),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (mut key, item) in map {
                    key.zeroize();
                    stack.push(item);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// `strconv.ParseFloat(s, 64)` for a validated JSON number: correctly rounded (Rust's parser
/// and Go's both round to nearest, ties to even); out of range gives ±infinity, where Go
/// returns ErrRange. Underflow gives (signed) zero in both.
fn parse_number(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(f64::NAN)
}

/// Appends the contents of a validated JSON string literal (with its quotes) to `out`, exactly
/// as decode.go `unquoteBytes` does, including its handling of UTF-16 surrogate escapes: a valid
/// `\uD8xx\uDCxx` pair is combined; any other surrogate escape becomes U+FFFD and the escape
/// after it is read on its own.
fn decode_string(literal: &str, out: &mut String) {
    let inner = literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(literal);
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            // Copy the run up to the next escape; both ends sit on ASCII bytes, so on char
            // boundaries.
            let start = i;
            while i < bytes.len() && bytes[i] != b'\\' {
                i += 1;
            }
            out.push_str(&inner[start..i]);
            continue;
        }
        let Some(&escape) = bytes.get(i + 1) else {
            break;
        };
        let simple = match escape {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            i += 2;
            continue;
        }
        // `\uHHHH` (the scanner accepted no other escape).
        let Some(first) = getu4(bytes, i) else {
            break;
        };
        i += 6;
        if (0xD800..0xE000).contains(&first) {
            if let Some(second) = getu4(bytes, i) {
                // unicode/utf16 DecodeRune: high surrogate then low surrogate.
                if (0xD800..0xDC00).contains(&first) && (0xDC00..0xE000).contains(&second) {
                    let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    out.push(char::from_u32(combined).unwrap_or('\u{FFFD}'));
                    i += 6;
                    continue;
                }
            }
            out.push('\u{FFFD}');
            continue;
        }
        out.push(char::from_u32(first).unwrap_or('\u{FFFD}'));
    }
}

/// decode.go `getu4`: the value of `\uHHHH` at `bytes[at..]`, if there is one.
fn getu4(bytes: &[u8], at: usize) -> Option<u32> {
    let escape = bytes.get(at..at + 6)?;
    if escape[0] != b'\\' || escape[1] != b'u' {
        return None;
    }
    escape[2..]
        .iter()
        .try_fold(0u32, |acc, &b| Some(acc * 16 + char::from(b).to_digit(16)?))
}

#[cfg(test)]
mod tests {
    use crate::extract::ExtractError;
    use crate::extract::NotJsonKind::{NumberOutOfRange, Syntax};
    use crate::extract::testing::{err, get, not_json, v};

    #[test]
    fn string_values_are_raw_text() {
        assert_eq!(
            get(r#"{"username":"app","password":"hunter2"}"#, "password"),
            "hunter2"
        );
        assert_eq!(v(r#""""#), "");
        assert_eq!(
            v(r#""with spaces and : colons""#),
            "with spaces and : colons"
        );
        // A string that looks like a number or JSON stays as written.
        assert_eq!(v(r#""1234567""#), "1234567");
        assert_eq!(v(r#""{\"a\":1}""#), r#"{"a":1}"#);
    }

    #[test]
    fn escapes_are_decoded() {
        assert_eq!(v(r#""a\"b\\c\/d\b\f\n\r\t""#), "a\"b\\c/d\u{8}\u{c}\n\r\t");
        assert_eq!(v(r#""\u0041\u00e9\u00E9\u4e2d""#), "Aéé中");
        assert_eq!(v(r#""\ud83d\ude00""#), "😀");
        assert_eq!(v(r#""nul\u0000byte""#), "nul\0byte");
    }

    #[test]
    fn unicode_is_kept() {
        assert_eq!(v(r#""pässwörd 🔑 中文""#), "pässwörd 🔑 中文");
        assert_eq!(get(r#"{"clé":"v1"}"#, "clé"), "v1");
        assert_eq!(get(r#"{"cl\u00e9":"v2"}"#, "clé"), "v2");
    }

    #[test]
    fn lone_surrogates_become_replacement_characters_as_in_go() {
        // decode.go unquoteBytes; serde_json would reject all of these.
        assert_eq!(v(r#""\ud800""#), "\u{FFFD}");
        assert_eq!(v(r#""\udc00x""#), "\u{FFFD}x");
        assert_eq!(v(r#""\ud800\u0041""#), "\u{FFFD}A");
        assert_eq!(v(r#""\ud800\ud800\udc00""#), "\u{FFFD}\u{10000}");
        assert_eq!(v(r#""\udc00\ud800""#), "\u{FFFD}\u{FFFD}");
        assert_eq!(v(r#""\ud800\\u0041""#), "\u{FFFD}\\u0041");
        assert_eq!(v(r#""\ud800\n""#), "\u{FFFD}\n");
    }

    #[test]
    fn duplicate_keys_last_wins() {
        assert_eq!(get(r#"{"k":"first","k":"second"}"#, "k"), "second");
        assert_eq!(get(r#"{"k":"first","\u006b":"escaped"}"#, "k"), "escaped");
        assert_eq!(get(r#"{"k":{"a":1},"k":"scalar"}"#, "k"), "scalar");
        assert_eq!(get(r#"{"k":"scalar","k":{"a":1}}"#, "k"), "map[a:1]");
        // Nested duplicates: the whole later value replaces the earlier one (no merging).
        assert_eq!(v(r#"{"a":1,"a":2}"#), "map[a:2]");
        assert_eq!(
            v(r#"{"a":{"x":1},"b":0,"a":{"y":2}}"#),
            "map[a:map[y:2] b:0]"
        );
        // A key that appears only once among other duplicates.
        assert_eq!(get(r#"{"x":1,"k":"v","x":2}"#, "k"), "v");
    }

    #[test]
    fn keys_are_top_level_and_literal() {
        let secret = r#"{"a":{"b":"nested"},"a.b":"literal"}"#;
        assert_eq!(get(secret, "a.b"), "literal");
        assert_eq!(
            err(r#"{"a":{"b":"nested"}}"#, "a.b"),
            ExtractError::KeyMissing
        );
        assert_eq!(
            err(r#"{"a":{"b":"nested"}}"#, "b"),
            ExtractError::KeyMissing
        );
        assert_eq!(err(r#"{"a":["b"]}"#, "b"), ExtractError::KeyMissing);
        // Matching is exact: no case folding (unlike Go's struct decoding).
        assert_eq!(
            err(r#"{"Password":"x"}"#, "password"),
            ExtractError::KeyMissing
        );
        assert_eq!(get(r#"{"p\"q":"quoted"}"#, "p\"q"), "quoted");
        assert_eq!(get(r#"{"":"empty name","k":1}"#, "k"), "1");
    }

    #[test]
    fn key_missing() {
        let e = err(r#"{"user":"x"}"#, "password");
        assert_eq!(e, ExtractError::KeyMissing);
        assert_eq!(e.code(), "JsonKeyMissing");
        assert_eq!(err("{}", "password"), ExtractError::KeyMissing);
        // Go decodes a top-level null into a nil map without error; the lookup then fails.
        assert_eq!(err("null", "password"), ExtractError::KeyMissing);
        assert_eq!(err(" null ", "password"), ExtractError::KeyMissing);
    }

    #[test]
    fn not_object() {
        for secret in [
            r#"[1,2]"#,
            "[]",
            r#""password""#,
            "42",
            "-0.5",
            "true",
            "false",
            "[1e400]",
        ] {
            let e = err(secret, "password");
            assert_eq!(e, ExtractError::NotObject, "{secret}");
            assert_eq!(e.code(), "NotObject");
        }
    }

    #[test]
    fn numbers_out_of_float64_range_fail_like_go() {
        // Go's convertNumber returns an UnmarshalTypeError, so json.Unmarshal fails even when
        // the number is not under the requested key.
        assert_eq!(
            err(r#"{"a":"ok","b":1e400}"#, "a"),
            not_json(NumberOutOfRange)
        );
        assert_eq!(
            err(r#"{"a":"ok","b":[{"c":-1e309}]}"#, "a"),
            not_json(NumberOutOfRange)
        );
        assert_eq!(err(r#"{"b":1e400}"#, "missing"), not_json(NumberOutOfRange));
        // But a syntax error anywhere comes first.
        assert_eq!(err(r#"{"b":1e400,}"#, "b"), not_json(Syntax));
        // The largest finite value and rounding down to it are fine.
        assert_eq!(v("1.7976931348623158e308"), "1.7976931348623157e+308");
    }
}
