//! How a field's text becomes its value, with failures that are safe to show.

use core::any::{Any, TypeId};
use core::fmt::Display;
use core::str::FromStr;

use crate::error::{ErrorKind, FieldError};
use crate::model::Field;
use crate::secret::Secret;

/// How a field's text becomes its value.
///
/// It gets the text mutably so that a `String` field can take it instead of copying it (see
/// [`parse_str`]); the loader frees what is left, wiping it first for a secret (`needs_wipe`).
/// [`Detail`] says whether the parser's own message may be kept.
pub type ParseFn<T> = fn(&mut String, Detail) -> Result<T, ParseFailure>;

/// How much of a parser's failure may be shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detail {
    /// The parser's message (a plain environment variable, or a `default` literal: text that is
    /// in clear in the task definition or the source code anyway).
    Message,
    /// Only the kind of failure: the text is a secret, and parsers quote, trim, truncate or
    /// point into their input (`invalid digit found in string` says nothing, but `unrecognised
    /// value 'alpha'`, `bad scheme in htps...` and a JSON column do).
    KindOnly,
}

/// A parse failure. Holds no part of the value unless `Detail::Message` allowed it.
pub enum ParseFailure {
    /// `FromStr` failed.
    Invalid {
        /// The field type's name, without paths (`u16`, `SocketAddr`).
        type_name: String,
        /// The parser's message, with `Detail::Message` only.
        message: Option<String>,
    },
    /// serde_json failed.
    Json {
        /// serde_json's category: `syntax`, `data`, `eof` or `io`.
        category: &'static str,
        /// Line and column, with `Detail::Message` only.
        position: Option<(usize, usize)>,
    },
}

/// `FromStr`. With `Detail::KindOnly` the parser's message is never even formatted, so no
/// copy of a secret's text can sit in it.
///
/// A `String` or `Secret<String>` field takes the loaded text itself: `String::from_str` would
/// only copy it, so taking it gives the same value with one allocation, one copy and one wipe
/// fewer, and leaves no second copy of a secret behind. (`'static` costs nothing: the derive
/// rejects generic structs, so every field type is `'static`.)
pub fn parse_str<T>(s: &mut String, detail: Detail) -> Result<T, ParseFailure>
where
    T: FromStr + 'static,
    T::Err: Display,
{
    if let Some(v) = take_text::<T>(s) {
        return Ok(v);
    }
    T::from_str(s).map_err(|e| ParseFailure::Invalid {
        type_name: type_name::<T>(),
        message: (detail == Detail::Message).then(|| e.to_string()),
    })
}

/// `T`'s name as a reader knows it: paths dropped (`core::net::SocketAddr` → `SocketAddr`), and
/// `Secret<u16>` shown as `u16` (the wrapper is how the value is kept, not what it must be).
fn type_name<T>() -> String {
    let mut out = String::new();
    for c in core::any::type_name::<T>().chars() {
        out.push(c);
        if out.ends_with("::") {
            out.truncate(out.len() - 2);
            let keep = out
                .trim_end_matches(|c: char| c.is_alphanumeric() || c == '_')
                .len();
            out.truncate(keep);
        }
    }
    match out
        .strip_prefix("Secret<")
        .and_then(|s| s.strip_suffix('>'))
    {
        Some(inner) => inner.to_owned(),
        None => out,
    }
}

/// `Some` when `T` is `String` or `Secret<String>`: the text itself, moved out of `s`. The type
/// tests are constants after monomorphization, so other types compile to `None`.
fn take_text<T: 'static>(s: &mut String) -> Option<T> {
    fn cast<T: 'static, U: 'static>(value: U) -> Option<T> {
        let mut slot = Some(value);
        (&mut slot as &mut dyn Any)
            .downcast_mut::<Option<T>>()?
            .take()
    }
    let t = TypeId::of::<T>();
    if t == TypeId::of::<String>() {
        cast(core::mem::take(s))
    } else if t == TypeId::of::<Secret<String>>() {
        cast(Secret::new(core::mem::take(s)))
    } else {
        None
    }
}

/// serde_json, keeping only the category of an error (its message quotes input), and its
/// position with `Detail::Message` (a position tells a secret's length, or its shape).
#[allow(clippy::ptr_arg)] // a `ParseFn`, whose signature `parse_str` needs
pub fn parse_json<T: serde::de::DeserializeOwned>(
    s: &mut String,
    detail: Detail,
) -> Result<T, ParseFailure> {
    serde_json::from_str(s).map_err(|e| ParseFailure::Json {
        category: json_category(&e),
        position: (detail == Detail::Message).then(|| (e.line(), e.column())),
    })
}

fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    }
}

/// The longest parser message an error keeps: a parser that quotes a long value would
/// otherwise put all of it into every log line of the error.
const MAX_MESSAGE: usize = 200;

/// `message`, cut to [`MAX_MESSAGE`] bytes (at a character boundary) with `…` marking the cut.
fn bounded(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        message.truncate(end);
        message.push('…');
    }
    message
}

pub(super) fn failure(field: &Field, from_default: bool, failure: ParseFailure) -> FieldError {
    let kind = match failure {
        ParseFailure::Invalid { type_name, message } => {
            let reason = match message {
                Some(message) => bounded(message),
                None => format!("not a valid `{type_name}`"),
            };
            if from_default {
                ErrorKind::InvalidDefault { reason }
            } else {
                ErrorKind::Invalid { reason }
            }
        }
        ParseFailure::Json { category, position } if from_default => {
            let at = position.map_or_else(String::new, |(line, column)| {
                format!(" at line {line}, column {column}")
            });
            ErrorKind::InvalidDefault {
                reason: format!("invalid JSON: {category} error{at}"),
            }
        }
        ParseFailure::Json { category, .. } => ErrorKind::InvalidJson { category },
    };
    FieldError::new(field, kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_types_take_the_text_others_leave_it() {
        let mut s = String::from("text");
        assert_eq!(take_text::<String>(&mut s).as_deref(), Some("text"));
        assert!(s.is_empty() && s.capacity() == 0, "taken, not copied");

        let mut s = String::from("secret");
        let secret = take_text::<Secret<String>>(&mut s).expect("taken");
        assert_eq!(secret.expose_secret(), "secret");
        assert!(s.is_empty());

        let mut s = String::from("42");
        assert!(take_text::<u16>(&mut s).is_none());
        assert!(take_text::<Secret<u16>>(&mut s).is_none());
        assert!(take_text::<Box<str>>(&mut s).is_none());
        assert_eq!(s, "42", "left for FromStr");
        assert_eq!(parse_str::<u16>(&mut s, Detail::KindOnly).ok(), Some(42));
    }

    #[test]
    fn long_messages_are_cut() {
        assert_eq!(bounded("short".into()), "short");
        let long = "é".repeat(150); // 300 bytes
        let cut = bounded(long);
        assert!(
            cut.ends_with('…') && cut.len() <= MAX_MESSAGE + '…'.len_utf8(),
            "{cut}"
        );
    }

    #[test]
    fn type_names_without_paths() {
        assert_eq!(type_name::<u16>(), "u16");
        assert_eq!(type_name::<std::net::SocketAddr>(), "SocketAddr");
        assert_eq!(type_name::<Secret<u16>>(), "u16");
        assert_eq!(type_name::<Vec<std::net::IpAddr>>(), "Vec<IpAddr>");
        assert_eq!(
            type_name::<std::collections::HashMap<String, u8>>(),
            "HashMap<String, u8>"
        );
    }

    #[test]
    fn only_plain_text_keeps_the_parsers_message() {
        let mut s = String::from("alpha");
        let ParseFailure::Invalid { type_name, message } =
            parse_str::<u16>(&mut s, Detail::KindOnly).err().unwrap()
        else {
            panic!()
        };
        assert_eq!((type_name.as_str(), message), ("u16", None));
        let Some(ParseFailure::Invalid { message, .. }) =
            parse_str::<u16>(&mut s, Detail::Message).err()
        else {
            panic!()
        };
        assert_eq!(message.as_deref(), Some("invalid digit found in string"));
    }
}
