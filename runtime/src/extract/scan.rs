//! The tokenizer: the grammar of encoding/json v1 `scanner.go`, as a pull scanner that reports
//! each token's byte span.

use super::{ExtractError, NotJsonKind};

/// Go's `encoding/json` `maxNestingDepth` (`scanner.go`): the 10 001st open bracket is an error.
const MAX_DEPTH: usize = 10_000;

/// What the scanner just read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
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
pub(super) struct Event {
    pub(super) token: Token,
    /// Byte offset where the token starts.
    pub(super) start: usize,
    /// Byte offset just past the token.
    pub(super) end: usize,
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
pub(super) struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// One entry per open container: `true` for an object.
    stack: Vec<bool>,
    expect: Expect,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Scanner {
            bytes: text.as_bytes(),
            pos: 0,
            stack: Vec::new(),
            expect: Expect::Value,
        }
    }

    /// The error for a byte the grammar does not allow at `at`: `Eof` when the input ended
    /// before it. The position itself stays out of the error (see [`ExtractError`]).
    fn unexpected(&self, at: usize) -> ExtractError {
        ExtractError::NotJson(if at >= self.bytes.len() {
            NotJsonKind::Eof
        } else {
            NotJsonKind::Syntax
        })
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
    pub(super) fn next(&mut self) -> Result<Option<Event>, ExtractError> {
        loop {
            self.skip_whitespace();
            let start = self.pos;
            let byte = self.bytes.get(start).copied();
            match self.expect {
                Expect::End => {
                    return match byte {
                        None => Ok(None),
                        Some(_) => Err(ExtractError::NotJson(NotJsonKind::Syntax)),
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
                                return Err(ExtractError::NotJson(NotJsonKind::Syntax));
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
                None => return Err(ExtractError::NotJson(NotJsonKind::Eof)),
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
                Some(&b) if b < 0x20 => return Err(ExtractError::NotJson(NotJsonKind::Syntax)),
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

#[cfg(test)]
mod tests {
    use crate::extract::ExtractError;
    use crate::extract::NotJsonKind::{Eof, Syntax};
    use crate::extract::testing::{err, get, not_json};

    #[test]
    fn whitespace_around_the_object_is_allowed() {
        assert_eq!(get(" \t\r\n{ \"a\" : \"b\" }\n ", "a"), "b");
    }

    #[test]
    fn not_json_kinds() {
        assert_eq!(err("", "k"), not_json(Eof));
        assert_eq!(err("   ", "k"), not_json(Eof));
        assert_eq!(err("not json", "k"), not_json(Syntax)); // 'o' is not "null"
        assert_eq!(err("secret", "k"), not_json(Syntax));
        assert_eq!(err(r#"{"a":1,}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a" 1}"#, "a"), not_json(Syntax));
        assert_eq!(err("{'a':1}", "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":01}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":1} x"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":1}{}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":"\x"}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":"\u12g4"}"#, "a"), not_json(Syntax));
        assert_eq!(err("{\"a\":\"tab\there\"}", "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":+1}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":1.}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":-}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":1e}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":NaN}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":[1,]}"#, "a"), not_json(Syntax));
        assert_eq!(err(r#"{"a":truex}"#, "a"), not_json(Syntax));
        assert_eq!(err("\u{feff}{}", "a"), not_json(Syntax));
        assert_eq!(err("{\"a\":1 // c\n}", "a"), not_json(Syntax));
        // Input that stops early.
        assert_eq!(err(r#"{"a":"b"#, "a"), not_json(Eof));
        assert_eq!(err(r#"{"a":tru"#, "a"), not_json(Eof));
        assert_eq!(err(r#"{"a":"#, "a"), not_json(Eof));
        assert_eq!(err("{", "a"), not_json(Eof));
        assert_eq!(err("[1,2", "a"), not_json(Eof));
        // On a later line, after a multi-byte character.
        assert_eq!(err("{\n  \"a\": tru\n}", "a"), not_json(Syntax));
        assert_eq!(err("{\"é\": x}", "é"), not_json(Syntax));
        // Syntax errors anywhere win over the top-level type.
        assert_eq!(err("[1,2] x", "a"), not_json(Syntax));
        assert_eq!(err("null x", "a"), not_json(Syntax));
        assert_eq!(err(r#""str"#, "a"), not_json(Eof));
    }

    #[test]
    fn nesting_limit_matches_go() {
        // 10 000 levels (the object plus 9 999 arrays) decode; 10 001 do not.
        let ok = format!("{{\"k\":{}{}}}", "[".repeat(9_999), "]".repeat(9_999));
        let value = get(&ok, "k");
        assert_eq!(value, format!("{}{}", "[".repeat(9_999), "]".repeat(9_999)));
        let too_deep = format!("{{\"k\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(err(&too_deep, "k"), not_json(Syntax));
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
}
