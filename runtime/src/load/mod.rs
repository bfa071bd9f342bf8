//! The loading engine behind `from_env`, `from_lookup` and the [`aws`](crate::aws) loader: a
//! [`Lookup`] answers each field's raw value, the generated `__load` parses every field with
//! [`required`] / [`optional`], and [`run`] turns the collected problems into one
//! [`Error`](crate::Error).

mod parse;

use zeroize::Zeroizing;

use crate::error::{ErrorKind, FieldError};
use crate::model::{Field, Source};

pub use parse::{Detail, ParseFn, parse_json, parse_str};

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
    // A default is the user's own literal, and a plain variable is in clear in the task
    // definition: their parser messages may be shown. A secret's may not.
    let detail = if from_default || !needs_wipe(field) {
        Detail::Message
    } else {
        Detail::KindOnly
    };
    match parse(&mut text, detail) {
        Ok(v) => {
            if !needs_wipe(field) || text.capacity() == 0 {
                // Freed without wiping: the text of a plain variable is no secret, and text a
                // `String` field took (see `parse_str`) is empty. Wiping an emptied text would
                // also memset 0 bytes at `String::new()`'s dangling address, which glibc's
                // AVX-512 memset does with a masked store that needs a microcode assist (measured:
                // half the load time of a 100-field struct; docs/benchmarks.md §2).
                drop(core::mem::take(&mut *text));
                core::mem::forget(text);
            }
            Some(Some(v))
        }
        Err(failure) => {
            errors.push(parse::failure(field, from_default, failure));
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

/// Runs a derived struct's loader over a lookup and turns collected errors into one [`crate::Error`].
pub fn run<T: crate::EcsSecrets>(lookup: &dyn Lookup) -> Result<T, crate::Error> {
    let mut errors = Errors::new();
    match T::__load(T::FIELDS, lookup, &mut errors) {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(crate::Error::new(errors)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Template;

    fn field(source: Source, json: bool, redacted: bool) -> Field {
        crate::__private::field("a", "S", "A", source, false, None, json, redacted)
    }

    #[test]
    fn only_secrets_are_wiped() {
        let plain = field(Source::Env, false, false);
        assert!(!needs_wipe(&plain));
        let t = Template::__new("/p");
        for f in [
            field(Source::Ssm(t), false, false),
            field(Source::SecretsManager(t), false, false),
            field(Source::Env, false, true),
            field(Source::Env, true, false),
        ] {
            assert!(needs_wipe(&f), "{f:?}");
        }
    }
}
