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

use std::fmt;
use std::io::Write as _;

use serde_json::{Map, Number, Value};
use zeroize::{Zeroize, Zeroizing};

/// Go's `encoding/json` `maxNestingDepth` (`scanner.go`): the 10 001st open bracket is an error.
const MAX_DEPTH: usize = 10_000;

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
    let span = locate(secret_string, key)?;
    render(&secret_string[span.0..span.1])
}

/// Appends Go's `fmt.Sprintf("%v", v)` of the value `encoding/json` decodes into `interface{}`
/// to `out` (exposed for tests and fuzzing).
///
/// Strings are written raw, booleans as `true`/`false`, null as `<nil>`, numbers as Go's `%v` of
/// a `float64` (integers are first rounded to the nearest `f64`, as Go's `ParseFloat` does;
/// `-0` stays `-0`), arrays as `[a b c]` and objects as `map[a:1 b:x]` with keys sorted by their
/// bytes, whatever order the [`Map`] keeps them in.
pub fn go_format(value: &Value, out: &mut String) {
    // Iterative, so that a deeply nested value cannot overflow the stack.
    enum Item<'a> {
        Value(&'a Value),
        Text(&'a str),
    }
    let mut work = vec![Item::Value(value)];
    while let Some(item) = work.pop() {
        let value = match item {
            Item::Text(text) => {
                out.push_str(text);
                continue;
            }
            Item::Value(value) => value,
        };
        match value {
            // fmt print.go printValue: a nil interface prints nilAngleString.
            Value::Null => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => push_number(n, out),
            Value::String(s) => out.push_str(s),
            // printValue, reflect.Slice: '[' elements separated by ' ' ']'.
            Value::Array(items) => {
                out.push('[');
                work.push(Item::Text("]"));
                for (i, item) in items.iter().enumerate().rev() {
                    work.push(Item::Value(item));
                    if i > 0 {
                        work.push(Item::Text(" "));
                    }
                }
            }
            // printValue, reflect.Map: "map[" key ':' value, ' ' between, ']', keys sorted by
            // internal/fmtsort (byte-wise for strings). Sorted here because serde_json's
            // `preserve_order` feature, if anything in the build enables it, keeps insertion order.
            Value::Object(map) => {
                out.push_str("map[");
                work.push(Item::Text("]"));
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (i, (key, item)) in entries.into_iter().enumerate().rev() {
                    work.push(Item::Value(item));
                    work.push(Item::Text(":"));
                    work.push(Item::Text(key));
                    if i > 0 {
                        work.push(Item::Text(" "));
                    }
                }
            }
        }
    }
}

/// Go's `%v` of a JSON number, which `encoding/json` always decodes as `float64`.
fn push_number(n: &Number, out: &mut String) {
    match n.as_f64() {
        // For u64/i64 this is a round-to-nearest-even conversion, the same result as Go's
        // ParseFloat on the integer's digits.
        Some(f) => push_go_float(f, out),
        // Only reachable with serde_json's `arbitrary_precision` and a number outside f64 range,
        // which Go would have rejected while decoding; print it as is rather than panic.
        None => out.push_str(&n.to_string()),
    }
}

/// `strconv.AppendFloat(f, 'g', -1, 64)`, which fmt's `%v` uses verbatim for a float64
/// (print.go `fmtFloat`: `case 'v': p.fmt.fmtFloat(v, size, 'g', -1)`; format.go `fmtFloat`
/// only strips the `+` it reserved for the sign).
fn push_go_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        // ftoa.go: zero has no digits (nd == 0), so fmtF prints "0" (and "-0" for negative zero).
        out.push('0');
        return;
    }

    let (digits, nd, exp) = shortest_digits(f.abs());
    let digits = &digits[..nd];
    let nd = nd as i32;
    // Go's decimalSlice: value = 0.d1d2d3… × 10^dp.
    let dp = exp + 1;

    // ftoa.go formatDigits, case 'g' with shortest == true: `eprec = 6`, and
    // `if exp < -4 || exp >= eprec` use %e with prec nd-1, else %f with prec max(nd-dp, 0).
    if !(-4..6).contains(&exp) {
        // fmtE: d[.ddd]e±dd (at least two exponent digits).
        if let Some((&first, rest)) = digits.split_first() {
            out.push(char::from(first));
            if !rest.is_empty() {
                out.push('.');
                for &d in rest {
                    out.push(char::from(d));
                }
            }
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        // Writing into a String cannot fail.
        let _ = fmt::Write::write_fmt(out, format_args!("{e}"));
    } else {
        // fmtF: integer part padded with zeros, then the fraction.
        if dp > 0 {
            for i in 0..dp {
                out.push(if i < nd {
                    char::from(digits[i as usize])
                } else {
                    '0'
                });
            }
        } else {
            out.push('0');
        }
        let frac = (nd - dp).max(0);
        if frac > 0 {
            out.push('.');
            for i in 0..frac {
                let j = dp + i;
                out.push(if (0..nd).contains(&j) {
                    char::from(digits[j as usize])
                } else {
                    '0'
                });
            }
        }
    }
}

/// Go's shortest decimal form of a positive finite `f`: the digits (no trailing zeros), their
/// count, and the decimal exponent of the first digit (`f ≈ d.ddd × 10^exp`).
///
/// Go (`ftoaryu.go` `ryuFtoaShortest`, older versions Grisu3 with `roundShortest`) picks the
/// fewest digits whose value lies in `f`'s rounding interval (bounds included when the mantissa
/// is even), and among those the one closest to `f`, ties to even. Rust's `{:e}` breaks such
/// ties upwards (`1658206780088562.25` gives `…623` where Go prints `…622`), so it cannot be
/// used. Instead, for each length `p` this takes the correctly rounded `p`-digit value (Rust's
/// `{:.*e}`, ties to even) and, when that does not parse back to `f`, its neighbour on the other
/// side of `f` (needed only at powers of two, whose interval is lopsided); "parses back to `f`"
/// is exactly "lies in the rounding interval", since parsing also rounds ties to even.
fn shortest_digits(f: f64) -> (Zeroizing<[u8; 17]>, usize, i32) {
    let mut digits = Zeroizing::new([0u8; 17]);
    for p in 1..=17 {
        let (nd, exp) = exact_digits(f, p, &mut digits);
        let nearest = parse_digits(&digits[..nd], exp);
        if nearest == f {
            return trimmed(digits, nd, exp);
        }
        let mut other = digits.clone();
        let other_exp = if nearest < f {
            increment(&mut other[..nd], exp)
        } else {
            decrement(&mut other[..nd], exp)
        };
        if parse_digits(&other[..nd], other_exp) == f {
            return trimmed(other, nd, other_exp);
        }
    }
    // Unreachable: 17 significant digits always round-trip a float64.
    let (nd, exp) = exact_digits(f, 17, &mut digits);
    trimmed(digits, nd, exp)
}

/// `f` correctly rounded to `p` significant digits: writes them to `digits`, returns
/// `(p, exponent of the first digit)`.
fn exact_digits(f: f64, p: usize, digits: &mut [u8; 17]) -> (usize, i32) {
    let mut buf = Zeroizing::new([0u8; 40]);
    let len = {
        let mut cursor: &mut [u8] = &mut buf[..];
        let capacity = cursor.len();
        // At most 23 bytes ("1.7976931348623157e308"), so this cannot fail.
        let _ = write!(cursor, "{:.*e}", p - 1, f);
        capacity - cursor.len()
    };
    let text = &buf[..len];
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(len);
    let mut nd = 0;
    for &b in text[..e_at].iter().filter(|b| b.is_ascii_digit()) {
        if nd < digits.len() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let exp = text
        .get(e_at + 1..)
        .and_then(|e| std::str::from_utf8(e).ok())
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    (nd, exp)
}

/// The float64 nearest to `d.ddd × 10^exp`.
fn parse_digits(digits: &[u8], exp: i32) -> f64 {
    let mut buf = Zeroizing::new([0u8; 40]);
    let len = {
        let mut cursor: &mut [u8] = &mut buf[..];
        let capacity = cursor.len();
        let _ = cursor.write_all(digits);
        let _ = write!(cursor, "e{}", exp - (digits.len() as i32 - 1));
        capacity - cursor.len()
    };
    std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Adds one unit in the last place to `d.ddd × 10^exp`, keeping the digit count; returns the
/// new exponent (`9.99` becomes `1.00e+1`).
fn increment(digits: &mut [u8], exp: i32) -> i32 {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return exp;
        }
    }
    if let Some(first) = digits.first_mut() {
        *first = b'1';
    }
    exp + 1
}

/// Subtracts one unit in the last place from `d.ddd × 10^exp`, keeping the digit count; returns
/// the new exponent (`1.00` becomes `9.99e-1`: the next smaller value with that many digits).
fn decrement(digits: &mut [u8], exp: i32) -> i32 {
    for d in digits.iter_mut().rev() {
        if *d == b'0' {
            *d = b'9';
        } else {
            *d -= 1;
            break;
        }
    }
    if digits.first() == Some(&b'0') {
        digits.rotate_left(1);
        if let Some(last) = digits.last_mut() {
            *last = b'9';
        }
        return exp - 1;
    }
    exp
}

/// Drops trailing zeros, as `ryuDigits` does.
fn trimmed(
    digits: Zeroizing<[u8; 17]>,
    mut nd: usize,
    exp: i32,
) -> (Zeroizing<[u8; 17]>, usize, i32) {
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    (digits, nd, exp)
}

// ---------------------------------------------------------------------------------------------
// Decoding, following encoding/json v1.

/// Finds the byte span of the value of the last top-level member named `key`, after checking
/// the whole input the way `json.Unmarshal(data, &map[string]interface{}{})` does: syntax errors
/// anywhere first (`checkValid`), then the top-level type, then numbers out of `float64` range
/// (`convertNumber`, saved as the first error and returned at the end), then the key.
fn locate(input: &str, key: &str) -> Result<(usize, usize), ExtractError> {
    let mut scanner = Scanner::new(input);
    let first = scanner
        .next()?
        .ok_or_else(|| scanner.error("eof", input.len()))?;
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
    let mut range_error: Option<usize> = None;

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
                    && range_error.is_none()
                    && !parse_number(&input[event.start..event.end]).is_finite()
                {
                    range_error = Some(event.start);
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

    if let Some(at) = range_error {
        return Err(scanner.error("data", at));
    }
    found.ok_or(ExtractError::KeyMissing)
}

/// Renders one already-validated JSON value as the agent's `fmt.Sprintf("%v", …)` would.
fn render(text: &str) -> Result<Zeroizing<String>, ExtractError> {
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
                None => return Err(scanner.error("data", event.start)),
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
    result.ok_or_else(|| scanner.error("eof", text.len()))
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

/// What the scanner just read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    BeginObject,
    EndObject,
    BeginArray,
    EndArray,
    /// An object member's name (a string literal followed by `:`).
    Key,
    String,
    Number,
    True,
    False,
    Null,
}

#[derive(Clone, Copy, Debug)]
struct Event {
    token: Token,
    /// Byte offset where the token starts.
    start: usize,
    /// Byte offset just past the token.
    end: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Value,
    ValueOrEndArray,
    KeyOrEndObject,
    Key,
    Colon,
    CommaOrEndArray,
    CommaOrEndObject,
    End,
}

/// A pull scanner with the grammar of encoding/json `scanner.go`: RFC 8259 exactly (whitespace is
/// space, tab, CR, LF; no trailing commas, comments, leading zeros, `+` signs, NaN or Infinity;
/// control characters must be escaped), at most [`MAX_DEPTH`] levels, nothing after the value.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// One entry per open container: `true` for an object.
    stack: Vec<bool>,
    expect: Expect,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            stack: Vec::new(),
            expect: Expect::Value,
        }
    }

    /// An error at byte offset `at`, with a 1-based line and character column.
    fn error(&self, category: &'static str, at: usize) -> ExtractError {
        let at = at.min(self.bytes.len());
        let before = &self.bytes[..at];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        // Count characters, not bytes: skip UTF-8 continuation bytes.
        let column = 1 + before[line_start..]
            .iter()
            .filter(|&&b| b & 0xC0 != 0x80)
            .count();
        ExtractError::NotJson {
            category,
            line,
            column,
        }
    }

    /// The error for byte `at`: "eof" past the end of the input, "syntax" otherwise.
    fn unexpected(&self, at: usize) -> ExtractError {
        if at >= self.bytes.len() {
            self.error("eof", at)
        } else {
            self.error("syntax", at)
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn after_value(&mut self) {
        self.expect = match self.stack.last() {
            None => Expect::End,
            Some(true) => Expect::CommaOrEndObject,
            Some(false) => Expect::CommaOrEndArray,
        };
    }

    fn event(&self, token: Token, start: usize) -> Option<Event> {
        Some(Event {
            token,
            start,
            end: self.pos,
        })
    }

    /// The next token, `Ok(None)` once the whole input has been read and found valid.
    fn next(&mut self) -> Result<Option<Event>, ExtractError> {
        loop {
            self.skip_whitespace();
            let start = self.pos;
            let byte = self.bytes.get(start).copied();
            match self.expect {
                Expect::End => {
                    return match byte {
                        None => Ok(None),
                        Some(_) => Err(self.error("syntax", start)),
                    };
                }
                Expect::Colon => {
                    if byte != Some(b':') {
                        return Err(self.unexpected(start));
                    }
                    self.pos += 1;
                    self.expect = Expect::Value;
                }
                Expect::CommaOrEndArray | Expect::CommaOrEndObject => {
                    let in_object = self.expect == Expect::CommaOrEndObject;
                    match byte {
                        Some(b',') => {
                            self.pos += 1;
                            self.expect = if in_object {
                                Expect::Key
                            } else {
                                Expect::Value
                            };
                        }
                        Some(b']') if !in_object => return Ok(self.close(Token::EndArray, start)),
                        Some(b'}') if in_object => return Ok(self.close(Token::EndObject, start)),
                        _ => return Err(self.unexpected(start)),
                    }
                }
                Expect::KeyOrEndObject | Expect::Key => match byte {
                    Some(b'"') => {
                        self.scan_string()?;
                        self.expect = Expect::Colon;
                        return Ok(self.event(Token::Key, start));
                    }
                    Some(b'}') if self.expect == Expect::KeyOrEndObject => {
                        return Ok(self.close(Token::EndObject, start));
                    }
                    _ => return Err(self.unexpected(start)),
                },
                Expect::Value | Expect::ValueOrEndArray => {
                    let token = match byte {
                        Some(b']') if self.expect == Expect::ValueOrEndArray => {
                            return Ok(self.close(Token::EndArray, start));
                        }
                        Some(open @ (b'{' | b'[')) => {
                            // scanner.go pushParseState: "exceeded max depth".
                            if self.stack.len() >= MAX_DEPTH {
                                return Err(self.error("syntax", start));
                            }
                            self.pos += 1;
                            let object = open == b'{';
                            self.stack.push(object);
                            self.expect = if object {
                                Expect::KeyOrEndObject
                            } else {
                                Expect::ValueOrEndArray
                            };
                            let token = if object {
                                Token::BeginObject
                            } else {
                                Token::BeginArray
                            };
                            return Ok(self.event(token, start));
                        }
                        Some(b'"') => {
                            self.scan_string()?;
                            Token::String
                        }
                        Some(b't') => {
                            self.scan_literal("true")?;
                            Token::True
                        }
                        Some(b'f') => {
                            self.scan_literal("false")?;
                            Token::False
                        }
                        Some(b'n') => {
                            self.scan_literal("null")?;
                            Token::Null
                        }
                        Some(b'-' | b'0'..=b'9') => {
                            self.scan_number()?;
                            Token::Number
                        }
                        _ => return Err(self.unexpected(start)),
                    };
                    self.after_value();
                    return Ok(self.event(token, start));
                }
            }
        }
    }

    fn close(&mut self, token: Token, start: usize) -> Option<Event> {
        self.pos += 1;
        self.stack.pop();
        self.after_value();
        self.event(token, start)
    }

    /// A string literal starting at the opening quote (scanner.go stateInString*).
    fn scan_string(&mut self) -> Result<(), ExtractError> {
        self.pos += 1;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err(self.error("eof", self.pos)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.bytes.get(self.pos) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                match self.bytes.get(self.pos) {
                                    Some(b) if b.is_ascii_hexdigit() => self.pos += 1,
                                    _ => return Err(self.unexpected(self.pos)),
                                }
                            }
                        }
                        _ => return Err(self.unexpected(self.pos)),
                    }
                }
                Some(&b) if b < 0x20 => return Err(self.error("syntax", self.pos)),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn scan_literal(&mut self, word: &str) -> Result<(), ExtractError> {
        for &expected in word.as_bytes() {
            if self.bytes.get(self.pos) != Some(&expected) {
                return Err(self.unexpected(self.pos));
            }
            self.pos += 1;
        }
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` (scanner.go state0, state1, …).
    fn scan_number(&mut self) -> Result<(), ExtractError> {
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.unexpected(self.pos)),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.require_digits()?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.require_digits()?;
        }
        Ok(())
    }

    fn require_digits(&mut self) -> Result<(), ExtractError> {
        match self.bytes.get(self.pos) {
            Some(b'0'..=b'9') => {
                self.skip_digits();
                Ok(())
            }
            _ => Err(self.unexpected(self.pos)),
        }
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }
}

// The expected strings below agree with the real thing: a Go program doing what
// GetSecretFromASMWithInput does (encoding/json + fmt, Go 1.19) gave byte-identical results and
// error classes on these and on 2.8 million generated secrets.
#[cfg(test)]
mod tests {
    use super::*;

    /// `json_key` that must succeed.
    fn get(secret: &str, key: &str) -> String {
        match json_key(secret, key) {
            Ok(value) => value.as_str().to_owned(),
            Err(e) => panic!("json_key({secret:?}, {key:?}) failed: {e}"),
        }
    }

    /// `json_key` that must fail.
    fn err(secret: &str, key: &str) -> ExtractError {
        match json_key(secret, key) {
            Ok(value) => panic!("json_key({secret:?}, {key:?}) gave {:?}", value.as_str()),
            Err(e) => e,
        }
    }

    /// The value of key `k` in `{"k": <json>}`.
    fn v(json: &str) -> String {
        get(&format!("{{\"k\": {json}}}"), "k")
    }

    fn format(value: &Value) -> String {
        let mut out = String::new();
        go_format(value, &mut out);
        out
    }

    fn not_json(category: &'static str, line: usize, column: usize) -> ExtractError {
        ExtractError::NotJson {
            category,
            line,
            column,
        }
    }

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
    fn integers_use_go_percent_v() {
        assert_eq!(v("0"), "0");
        assert_eq!(v("5432"), "5432");
        assert_eq!(v("-17"), "-17");
        assert_eq!(v("100000"), "100000");
        assert_eq!(v("123456"), "123456");
        assert_eq!(v("999999"), "999999");
        // Seven or more integer digits switch to exponent form (eprec = 6 in ftoa.go).
        assert_eq!(v("1000000"), "1e+06");
        assert_eq!(v("1234567"), "1.234567e+06");
        assert_eq!(v("-1234567"), "-1.234567e+06");
        assert_eq!(v("10000000"), "1e+07");
        assert_eq!(v("100000000000000000000"), "1e+20");
        assert_eq!(v("1000000000000000000000"), "1e+21");
    }

    #[test]
    fn big_integers_are_rounded_to_float64_first() {
        assert_eq!(v("12345678901234567890"), "1.2345678901234567e+19");
        assert_eq!(v("18446744073709551615"), "1.8446744073709552e+19");
        assert_eq!(v("-9223372036854775808"), "-9.223372036854776e+18");
        // 2^53 + 1 is not a float64: ties to even gives 2^53.
        assert_eq!(v("9007199254740993"), "9.007199254740992e+15");
        assert_eq!(
            v("123456789012345678901234567890"),
            "1.2345678901234568e+29"
        );
    }

    #[test]
    fn fractions_and_exponents_use_go_percent_v() {
        assert_eq!(v("0.25"), "0.25");
        assert_eq!(v("-12.5"), "-12.5");
        assert_eq!(v("0.1"), "0.1");
        assert_eq!(v("3.14159"), "3.14159");
        assert_eq!(v("123456.789"), "123456.789");
        assert_eq!(v("1.0"), "1");
        assert_eq!(v("100.000"), "100");
        assert_eq!(v("1E2"), "100");
        assert_eq!(v("1e+2"), "100");
        assert_eq!(v("0.0001"), "0.0001");
        assert_eq!(v("0.000123"), "0.000123");
        // Exponent below -4: exponent form, at least two exponent digits.
        assert_eq!(v("0.00001"), "1e-05");
        assert_eq!(v("0.000025"), "2.5e-05");
        assert_eq!(v("1e-7"), "1e-07");
        assert_eq!(v("1.5e300"), "1.5e+300");
        assert_eq!(v("1e-100"), "1e-100");
        assert_eq!(v("5e-324"), "5e-324");
        assert_eq!(v("2.2250738585072014e-308"), "2.2250738585072014e-308");
        assert_eq!(v("1.7976931348623157e308"), "1.7976931348623157e+308");
        assert_eq!(v("0.30000000000000004"), "0.30000000000000004");
        // Shortest digits may end exactly on the rounding boundary when the mantissa is even.
        assert_eq!(v("4.468743327960138e16"), "4.468743327960138e+16");
        // Two 17-digit candidates equally close: Go rounds to even (ftoaryu.go ryuDigits32),
        // where Rust's own `{:e}` would print …623.
        assert_eq!(v("1658206780088562.25"), "1.6582067800885622e+15");
        assert_eq!(v("9007199254740993e-10"), "900719.9254740993");
    }

    #[test]
    fn zeros_keep_their_sign() {
        assert_eq!(v("-0"), "-0");
        assert_eq!(v("-0.0"), "-0");
        assert_eq!(v("-0e5"), "-0");
        assert_eq!(v("0.0"), "0");
        assert_eq!(v("0e-5"), "0");
        // Underflow is not an error in Go's ParseFloat: it gives a signed zero.
        assert_eq!(v("1e-400"), "0");
        assert_eq!(v("-1e-400"), "-0");
    }

    #[test]
    fn booleans_and_null() {
        assert_eq!(v("true"), "true");
        assert_eq!(v("false"), "false");
        assert_eq!(v("null"), "<nil>");
    }

    #[test]
    fn arrays_are_space_separated() {
        assert_eq!(v(r#"[1,2,"x"]"#), "[1 2 x]");
        assert_eq!(v("[]"), "[]");
        assert_eq!(v(r#"[ "a b" , "c" ]"#), "[a b c]");
        assert_eq!(v("[[1,[2]],[]]"), "[[1 [2]] []]");
        assert_eq!(
            v(r#"[true,null,1.5,"s",{"k":"v"},-0,1000000,0.00001]"#),
            "[true <nil> 1.5 s map[k:v] -0 1e+06 1e-05]"
        );
    }

    #[test]
    fn objects_are_maps_with_sorted_keys() {
        assert_eq!(v("{}"), "map[]");
        assert_eq!(
            v(r#"{"b":1,"a":"x","c":{"z":null,"y":[1,{"q":true}]}}"#),
            "map[a:x b:1 c:map[y:[1 map[q:true]] z:<nil>]]"
        );
        // Byte order, as Go's fmtsort compares strings: "B" < "_" < "a" < "b" < "é".
        assert_eq!(
            v(r#"{"b":1,"B":2,"a":3,"é":4,"_":5}"#),
            "map[B:2 _:5 a:3 b:1 é:4]"
        );
        assert_eq!(v(r#"{"":0,"k":[]}"#), "map[:0 k:[]]");
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
    fn empty_key_returns_the_whole_secret_like_the_agent() {
        assert_eq!(get("not json at all", ""), "not json at all");
        assert_eq!(get(r#"{"a":1}"#, ""), r#"{"a":1}"#);
    }

    #[test]
    fn whitespace_around_the_object_is_allowed() {
        assert_eq!(get(" \t\r\n{ \"a\" : \"b\" }\n ", "a"), "b");
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
    fn not_json_categories_and_positions() {
        assert_eq!(err("", "k"), not_json("eof", 1, 1));
        assert_eq!(err("   ", "k"), not_json("eof", 1, 4));
        assert_eq!(err("not json", "k"), not_json("syntax", 1, 2)); // 'o' is not "null"
        assert_eq!(err("secret", "k"), not_json("syntax", 1, 1));
        assert_eq!(err(r#"{"a":1,}"#, "a"), not_json("syntax", 1, 8));
        assert_eq!(err(r#"{"a" 1}"#, "a"), not_json("syntax", 1, 6));
        assert_eq!(err("{'a':1}", "a"), not_json("syntax", 1, 2));
        assert_eq!(err(r#"{"a":01}"#, "a"), not_json("syntax", 1, 7));
        assert_eq!(err(r#"{"a":1} x"#, "a"), not_json("syntax", 1, 9));
        assert_eq!(err(r#"{"a":1}{}"#, "a"), not_json("syntax", 1, 8));
        assert_eq!(err(r#"{"a":"\x"}"#, "a"), not_json("syntax", 1, 8));
        assert_eq!(err(r#"{"a":"\u12g4"}"#, "a"), not_json("syntax", 1, 11));
        assert_eq!(err("{\"a\":\"tab\there\"}", "a"), not_json("syntax", 1, 10));
        assert_eq!(err(r#"{"a":+1}"#, "a"), not_json("syntax", 1, 6));
        assert_eq!(err(r#"{"a":1.}"#, "a"), not_json("syntax", 1, 8));
        assert_eq!(err(r#"{"a":-}"#, "a"), not_json("syntax", 1, 7));
        assert_eq!(err(r#"{"a":1e}"#, "a"), not_json("syntax", 1, 8));
        assert_eq!(err(r#"{"a":NaN}"#, "a"), not_json("syntax", 1, 6));
        assert_eq!(err(r#"{"a":[1,]}"#, "a"), not_json("syntax", 1, 9));
        assert_eq!(err(r#"{"a":truex}"#, "a"), not_json("syntax", 1, 10));
        assert_eq!(err("\u{feff}{}", "a"), not_json("syntax", 1, 1));
        assert_eq!(err("{\"a\":1 // c\n}", "a"), not_json("syntax", 1, 8));
        // Input that stops early.
        assert_eq!(err(r#"{"a":"b"#, "a"), not_json("eof", 1, 8));
        assert_eq!(err(r#"{"a":tru"#, "a"), not_json("eof", 1, 9));
        assert_eq!(err(r#"{"a":"#, "a"), not_json("eof", 1, 6));
        assert_eq!(err("{", "a"), not_json("eof", 1, 2));
        assert_eq!(err("[1,2", "a"), not_json("eof", 1, 5));
        // Lines and character columns.
        assert_eq!(err("{\n  \"a\": tru\n}", "a"), not_json("syntax", 2, 11));
        assert_eq!(err("{\"é\": x}", "é"), not_json("syntax", 1, 7));
        // Syntax errors anywhere win over the top-level type.
        assert_eq!(err("[1,2] x", "a"), not_json("syntax", 1, 7));
        assert_eq!(err("null x", "a"), not_json("syntax", 1, 6));
        assert_eq!(err(r#""str"#, "a"), not_json("eof", 1, 5));
    }

    #[test]
    fn numbers_out_of_float64_range_fail_like_go() {
        // Go's convertNumber returns an UnmarshalTypeError, so json.Unmarshal fails even when
        // the number is not under the requested key.
        assert_eq!(err(r#"{"a":"ok","b":1e400}"#, "a"), not_json("data", 1, 15));
        assert_eq!(
            err(r#"{"a":"ok","b":[{"c":-1e309}]}"#, "a"),
            not_json("data", 1, 21)
        );
        assert_eq!(err(r#"{"b":1e400}"#, "missing"), not_json("data", 1, 6));
        // But a syntax error anywhere comes first.
        assert_eq!(err(r#"{"b":1e400,}"#, "b"), not_json("syntax", 1, 12));
        // The largest finite value and rounding down to it are fine.
        assert_eq!(v("1.7976931348623158e308"), "1.7976931348623157e+308");
    }

    #[test]
    fn nesting_limit_matches_go() {
        // 10 000 levels (the object plus 9 999 arrays) decode; 10 001 do not.
        let ok = format!("{{\"k\":{}{}}}", "[".repeat(9_999), "]".repeat(9_999));
        let value = get(&ok, "k");
        assert_eq!(value, format!("{}{}", "[".repeat(9_999), "]".repeat(9_999)));
        let too_deep = format!("{{\"k\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(err(&too_deep, "k"), not_json("syntax", 1, 10_005));
        let deep_maps = format!(
            "{{\"k\":{}0{}}}",
            "{\"a\":".repeat(9_999),
            "}".repeat(9_999)
        );
        let expected = format!("{}0{}", "map[a:".repeat(9_999), "]".repeat(9_999));
        assert_eq!(get(&deep_maps, "k"), expected);
        // A deep top-level array is valid JSON, just not an object.
        let deep_array = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(err(&deep_array, "k"), ExtractError::NotObject);
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
    fn go_format_of_serde_json_values() {
        use serde_json::json;
        assert_eq!(format(&json!(null)), "<nil>");
        assert_eq!(
            format(&json!(12345678901234567890u64)),
            "1.2345678901234567e+19"
        );
        assert_eq!(format(&json!(-1234567i64)), "-1.234567e+06");
        assert_eq!(format(&json!(-0.0)), "-0");
        assert_eq!(format(&json!(0.25)), "0.25");
        assert_eq!(
            format(&json!({"z": [1, "two", null], "a": {"y": false, "x": 1e21}})),
            "map[a:map[x:1e+21 y:false] z:[1 two <nil>]]"
        );
        // Appends rather than overwrites.
        let mut out = String::from("x=");
        go_format(&json!("y"), &mut out);
        assert_eq!(out, "x=y");
        // serde_json's parser agrees where it accepts the input.
        let parsed: Value = serde_json::from_str(r#"{"b":[1,2.5,-0],"a":"s"}"#).unwrap();
        assert_eq!(format(&parsed), "map[a:s b:[1 2.5 -0]]");
    }

    /// Shortest digits and decimal exponent of a float rendered by any shortest formatter
    /// (`1.25e-7`, `123.0`, `1e21`, …): ("125", -7).
    fn digits_and_exponent(text: &str) -> (String, i32) {
        let text = text.trim_start_matches('-');
        let (mantissa, exp) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().unwrap()),
            None => (text, 0),
        };
        let point = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
        let all: String = mantissa.chars().filter(|c| *c != '.').collect();
        let leading = (all.len() - all.trim_start_matches('0').len()) as i32;
        let digits = all
            .trim_start_matches('0')
            .trim_end_matches('0')
            .to_string();
        (digits, exp + point - leading - 1)
    }

    #[test]
    fn float_formatting_agrees_with_ryu_and_go_rules() {
        // Deterministic xorshift over raw bit patterns plus "human" decimal numbers.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for i in 0..60_000 {
            let f = if i % 2 == 0 {
                f64::from_bits(next())
            } else {
                let mantissa = (next() % 100_000_000) as f64;
                mantissa * 10f64.powi((next() % 40) as i32 - 20)
            };
            if !f.is_finite() || f == 0.0 {
                continue;
            }
            let mut ours = String::new();
            push_go_float(f, &mut ours);
            // Round-trips exactly.
            assert_eq!(
                ours.parse::<f64>().unwrap().to_bits(),
                f.to_bits(),
                "{ours}"
            );
            // Same shortest digits as an independent implementation (Ryū, via serde_json).
            let ryu = serde_json::to_string(&f).unwrap();
            let (digits, exp) = digits_and_exponent(&ours);
            assert_eq!(
                (digits.clone(), exp),
                digits_and_exponent(&ryu),
                "{ours} vs {ryu}"
            );
            // Go's layout: exponent form exactly when exp < -4 or exp >= 6, and then
            // e±dd with at least two digits; otherwise plain decimal without an exponent.
            let exponent_form = !(-4..6).contains(&exp);
            assert_eq!(ours.contains('e'), exponent_form, "{ours}");
            if exponent_form {
                let tail = &ours[ours.find('e').unwrap() + 1..];
                assert!(tail.starts_with(['+', '-']) && tail.len() >= 3, "{ours}");
                assert!(!ours[..ours.find('e').unwrap()].ends_with('0') || digits.len() == 1);
            } else {
                assert!(!ours.ends_with('.'), "{ours}");
                assert!(!(ours.contains('.') && ours.ends_with('0')), "{ours}");
            }
            assert_eq!(ours.starts_with('-'), f < 0.0);
            checked += 1;
        }
        assert!(checked > 55_000);
    }

    #[test]
    fn powers_of_two_use_the_lopsided_interval() {
        // Below a power of two the neighbours are twice as close, so the shortest digits may
        // lie on the far side. Rust's `{:e}` handles that correctly (ties cannot arise here:
        // a tie needs an odd neighbour at equal distance), so it is the reference.
        let mut neighbour_used = 0;
        for e in -1074i32..=1023 {
            let f = if e < -1022 {
                f64::from_bits(1u64 << (e + 1074)) // subnormal
            } else {
                f64::from_bits(((e + 1023) as u64) << 52)
            };
            let (digits, nd, exp) = shortest_digits(f);
            let ours = (String::from_utf8(digits[..nd].to_vec()).unwrap(), exp);
            assert_eq!(
                ours,
                digits_and_exponent(&serde_json::to_string(&f).unwrap()),
                "2^{e}"
            );
            let mut nearest = [0u8; 17];
            let (nnd, nexp) = exact_digits(f, nd, &mut nearest);
            if (&nearest[..nnd], nexp) != (&digits[..nd], exp) {
                neighbour_used += 1;
            }
        }
        // The neighbour path is really exercised.
        assert!(neighbour_used > 0);
    }

    #[test]
    fn result_is_zeroizing() {
        let value: Zeroizing<String> = json_key(r#"{"k":"s3cr3t"}"#, "k").unwrap();
        assert_eq!(value.as_str(), "s3cr3t");
    }
}
