//! Support for the code `#[derive(EcsSecrets)]` generates. Not a public API: names and
//! signatures change without notice.

use core::any::{Any, TypeId};
use core::fmt::Display;
use core::str::FromStr;

use zeroize::Zeroizing;

use crate::error::{ErrorKind, FieldError};
use crate::model::Field;
use crate::secret::Secret;

pub use crate::model::Source;
pub use core::option::Option::{self, None, Some};

/// Where a load reads raw values from: the process environment, a caller's lookup, or values
/// fetched from AWS.
pub trait Lookup {
    /// The raw value of one field.
    fn get(&self, field: &Field) -> Raw;
}

/// One raw value, before parsing.
#[derive(Clone)]
pub enum Raw {
    /// The text; wiped when dropped.
    Value(Zeroizing<String>),
    /// Not set.
    Absent,
    /// Set, but not UTF-8.
    NotUnicode,
    /// Getting it failed (a fetch error from AWS).
    Failed(ErrorKind),
}

/// The process environment.
pub struct Env;

impl Lookup for Env {
    fn get(&self, field: &Field) -> Raw {
        env_var(field.env)
    }
}

/// One variable of the process environment.
pub fn env_var(name: &str) -> Raw {
    match std::env::var_os(name) {
        None => Raw::Absent,
        Some(os) => match os.into_string() {
            Ok(s) => Raw::Value(Zeroizing::new(s)),
            Err(_) => Raw::NotUnicode,
        },
    }
}

/// A caller's `Fn(&str) -> Option<String>`.
pub struct FnLookup<F>(pub F);

impl<F: Fn(&str) -> Option<String>> Lookup for FnLookup<F> {
    fn get(&self, field: &Field) -> Raw {
        match (self.0)(field.env) {
            Some(s) => Raw::Value(Zeroizing::new(s)),
            None => Raw::Absent,
        }
    }
}

/// Collected field errors of one load.
pub type Errors = Vec<FieldError>;

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

fn parse_failure(field: &Field, from_default: bool, failure: ParseFailure) -> FieldError {
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

/// Loads one field. `None` means an error was recorded (or, for an optional field, see
/// [`optional`]).
#[inline]
fn load<T>(
    lookup: &dyn Lookup,
    field: &Field,
    errors: &mut Errors,
    parse: ParseFn<T>,
) -> Option<Option<T>> {
    let (mut text, from_default) = match lookup.get(field) {
        Raw::Value(v) => (v, false),
        Raw::Absent => match field.default {
            Some(d) => (Zeroizing::new(d.to_owned()), true),
            None => return Some(None),
        },
        Raw::NotUnicode => {
            errors.push(FieldError::new(field, ErrorKind::NotUnicode));
            return None;
        }
        Raw::Failed(kind) => {
            errors.push(FieldError::new(field, kind));
            return None;
        }
    };
    match parse(&mut text) {
        Ok(v) => {
            if !needs_wipe(field) || text.capacity() == 0 {
                // Freed without wiping: the text of a plain variable is no secret, and text a
                // `String` field took (see `parse_str`) is empty. Wiping an emptied text would
                // also memset 0 bytes at `String::new()`'s dangling address, which glibc's
                // AVX-512 memset does with a masked store that needs a microcode assist (measured:
                // half the load time of a 100-field struct; BENCHMARKS.md §2).
                drop(core::mem::take(&mut *text));
                core::mem::forget(text);
            }
            Some(Some(v))
        }
        Err(failure) => {
            errors.push(parse_failure(field, from_default, failure));
            None
        }
    }
}

/// Whether the loaded text of `field` is wiped after parsing: always for secrets (Secrets
/// Manager and SSM sources, `Secret<T>` fields, and `json` fields, whose type may hold secrets
/// of its own). A plain environment variable is set in clear in the task definition and stays
/// in the process environment, so wiping a copy of it protects nothing. Text that failed to
/// parse is always wiped.
fn needs_wipe(field: &Field) -> bool {
    field.redacted || field.json || !matches!(field.source, Source::Env)
}

/// A field that must have a value.
#[inline]
pub fn required<T>(
    lookup: &dyn Lookup,
    field: &Field,
    errors: &mut Errors,
    parse: ParseFn<T>,
) -> Option<T> {
    match load(lookup, field, errors, parse)? {
        Some(v) => Some(v),
        None => {
            errors.push(FieldError::new(field, ErrorKind::Missing));
            None
        }
    }
}

/// An `Option<T>` field: absent is `Some(None)`; `None` means an error was recorded.
#[inline]
pub fn optional<T>(
    lookup: &dyn Lookup,
    field: &Field,
    errors: &mut Errors,
    parse: ParseFn<T>,
) -> Option<Option<T>> {
    load(lookup, field, errors, parse)
}

/// Concatenates slices at compile time (a struct's own fields with its flattened structs').
pub const fn concat<T: Copy, const N: usize>(parts: &[&[T]], fill: T) -> [T; N] {
    let mut out = [fill; N];
    let mut n = 0;
    let mut p = 0;
    while p < parts.len() {
        let mut i = 0;
        while i < parts[p].len() {
            out[n] = parts[p][i];
            n += 1;
            i += 1;
        }
        p += 1;
    }
    assert!(n == N, "ecs-secrets: length mismatch");
    out
}

/// The [`Field`] that fills arrays before [`concat`] overwrites every slot.
pub const FILL: Field = Field::__placeholder();

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether any field of `fields` uses the env name `env`.
pub const fn has_env(fields: &[Field], env: &str) -> bool {
    let mut i = 0;
    while i < fields.len() {
        if str_eq(fields[i].env, env) {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether two field lists share an env name.
pub const fn share_env(a: &[Field], b: &[Field]) -> bool {
    let mut i = 0;
    while i < a.len() {
        if has_env(b, a[i].env) {
            return true;
        }
        i += 1;
    }
    false
}

/// Type-level flag: the struct (or a struct it flattens) declares placeholders.
pub enum Yes {}
/// Type-level flag: no placeholders anywhere in the struct.
pub enum No {}

/// Type-level `or` of two flags, for flattened structs.
pub trait Or {
    /// `Yes` when either side is `Yes`.
    type Out;
}
impl Or for (No, No) {
    type Out = No;
}
impl<B> Or for (Yes, B) {
    type Out = Yes;
}
impl Or for (No, Yes) {
    type Out = Yes;
}

/// Runs a derived struct's loader over a lookup and turns collected errors into one [`crate::Error`].
pub fn run<T: crate::EcsSecrets>(lookup: &dyn Lookup) -> Result<T, crate::Error> {
    let mut errors = Errors::new();
    match T::__load(lookup, &mut errors) {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(crate::Error::new(errors)),
    }
}

/// Builds a [`Field`] (its struct is `#[non_exhaustive]`, so generated code cannot).
#[allow(clippy::too_many_arguments)]
pub const fn field(
    name: &'static str,
    struct_name: &'static str,
    env: &'static str,
    source: Source,
    optional: bool,
    default: Option<&'static str>,
    json: bool,
    redacted: bool,
) -> Field {
    Field {
        name,
        struct_name,
        env,
        source,
        optional,
        default,
        json,
        redacted,
    }
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

    #[test]
    fn only_secrets_are_wiped() {
        let plain = field("a", "S", "A", Source::Env, false, None, false, false);
        assert!(!needs_wipe(&plain));
        let t = crate::Template::__new("/p");
        for f in [
            field("a", "S", "A", Source::Ssm(t), false, None, false, false),
            field(
                "a",
                "S",
                "A",
                Source::SecretsManager(t),
                false,
                None,
                false,
                false,
            ),
            field("a", "S", "A", Source::Env, false, None, false, true),
            field("a", "S", "A", Source::Env, false, None, true, false),
        ] {
            assert!(needs_wipe(&f), "{f:?}");
        }
    }
}
