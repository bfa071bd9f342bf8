//! Support for the code `#[derive(EcsSecrets)]` generates. Not a public API: names and
//! signatures change without notice.

use crate::model::Field;

pub use crate::load::{Errors, Lookup, optional, parse_json, parse_str, required};
pub use crate::model::Source;
pub use crate::splice::{
    Site, flatten, has_own_keys, has_placeholders, key, splice, spliced_bytes, spliced_len,
    with_key,
};
pub use core::option::Option::{self, None, Some};

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

/// Type-level flag: the struct's sources or `kms_key`s (its own or a flattened struct's) have
/// placeholders. Defined at the crate root, where the compile error of `deployment()` names it.
pub use crate::NeedsPlaceholderValues as Yes;
/// Type-level flag: no placeholders anywhere in the struct.
pub enum No {}

/// A `bool` made a type, so that [`has_placeholders`] of a struct's `FIELDS` can be its
/// `__Placeholders` flag: `<Flag<{ … }> as Choose>::Out`.
pub struct Flag<const B: bool>;

/// [`Yes`] or [`No`] for a [`Flag`].
pub trait Choose {
    /// The flag's type.
    type Out;
}
impl Choose for Flag<true> {
    type Out = Yes;
}
impl Choose for Flag<false> {
    type Out = No;
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
        key_of: None,
    }
}
