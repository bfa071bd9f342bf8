//! How a field's text becomes its value, with failures that are safe to show.

use core::any::{Any, TypeId};
use core::fmt::Display;
use core::str::FromStr;

use crate::error::{ErrorKind, FieldError};
use crate::model::Field;
use crate::secret::Secret;

/// How a field's text becomes its value; the message of a failure is already safe to show.
///
/// It gets the text mutably so that a `String` field can take it instead of copying it (see
/// [`parse_str`]); the loader frees what is left, wiping it first for a secret (`needs_wipe`).
pub type ParseFn<T> = fn(&mut String) -> Result<T, ParseFailure>;

/// A parse failure, already scrubbed of the value.
pub enum ParseFailure {
    /// `FromStr` failed with this (scrubbed) message.
    Invalid(String),
    /// serde_json failed here.
    Json {
        category: &'static str,
        line: usize,
        column: usize,
    },
}

/// `FromStr`, with the value scrubbed from the parser's message (some parsers echo their input).
///
/// A `String` or `Secret<String>` field takes the loaded text itself: `String::from_str` would
/// only copy it, so taking it gives the same value with one allocation, one copy and one wipe
/// fewer, and leaves no second copy of a secret behind. (`'static` costs nothing: the derive
/// rejects generic structs, so every field type is `'static`.)
pub fn parse_str<T>(s: &mut String) -> Result<T, ParseFailure>
where
    T: FromStr + 'static,
    T::Err: Display,
{
    if let Some(v) = take_text::<T>(s) {
        return Ok(v);
    }
    T::from_str(s).map_err(|e| ParseFailure::Invalid(scrub(&e.to_string(), s)))
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

/// serde_json, keeping only the category and position of an error (its message quotes input).
#[allow(clippy::ptr_arg)] // a `ParseFn`, whose signature `parse_str` needs
pub fn parse_json<T: serde::de::DeserializeOwned>(s: &mut String) -> Result<T, ParseFailure> {
    serde_json::from_str(s).map_err(|e| ParseFailure::Json {
        category: json_category(&e),
        line: e.line(),
        column: e.column(),
    })
}

pub(crate) fn json_category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "io",
        serde_json::error::Category::Syntax => "syntax",
        serde_json::error::Category::Data => "data",
        serde_json::error::Category::Eof => "eof",
    }
}

/// Removes every occurrence of `value` (raw and `Debug`-escaped) from a parser's message.
pub fn scrub(message: &str, value: &str) -> String {
    if value.is_empty() {
        return message.to_owned();
    }
    let mut out = message.replace(value, "<value>");
    let escaped = format!("{value:?}");
    let escaped = &escaped[1..escaped.len() - 1];
    if escaped != value && !escaped.is_empty() {
        out = out.replace(escaped, "<value>");
    }
    out
}

pub(super) fn failure(field: &Field, from_default: bool, failure: ParseFailure) -> FieldError {
    let kind = match failure {
        ParseFailure::Invalid(reason) if from_default => ErrorKind::InvalidDefault { reason },
        ParseFailure::Invalid(reason) => ErrorKind::Invalid { reason },
        // The default is the user's own literal, so its position is worth showing as text.
        ParseFailure::Json {
            category,
            line,
            column,
        } if from_default => ErrorKind::InvalidDefault {
            reason: format!("invalid JSON: {category} error at line {line}, column {column}"),
        },
        ParseFailure::Json {
            category,
            line,
            column,
        } => ErrorKind::InvalidJson {
            category,
            line,
            column,
        },
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
        assert_eq!(parse_str::<u16>(&mut s).ok(), Some(42));
    }
}
