//! Support for the code `#[derive(EcsSecrets)]` generates. Not a public API: names and
//! signatures change without notice.

use crate::model::Field;

pub use crate::load::{Errors, Lookup, optional, parse_json, parse_str, required};
pub use crate::model::Source;
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

/// Type-level flag: no placeholders anywhere in the struct.
pub enum No {}

/// Marks the types that list a struct's placeholders: one uninhabited type per placeholder,
/// named like it, which the derive generates, and tuples of them. The `deployment()` error prints
/// the list, so it names the struct's own placeholders.
pub trait Named {}

macro_rules! named_tuples {
    ($($t:ident)+) => {
        impl<$($t),+> Named for ($($t,)+) {}
    };
}
named_tuples!(A);
named_tuples!(A B);
named_tuples!(A B C);
named_tuples!(A B C D);
named_tuples!(A B C D E);
named_tuples!(A B C D E F);
named_tuples!(A B C D E F G);
named_tuples!(A B C D E F G H);
named_tuples!(A B C D E F G H I);
named_tuples!(A B C D E F G H I J);
named_tuples!(A B C D E F G H I J K);
named_tuples!(A B C D E F G H I J K L);

/// The list of a struct's own placeholders (implemented by the derive, beside the markers).
pub trait PlaceholderList {
    /// The marker of each placeholder, or a tuple of them.
    type List: Named;
}

/// Type-level `or` of two flags, for flattened structs: `No` when both are, else the lists of
/// both sides.
pub trait Or {
    /// `No`, or the placeholders of either side.
    type Out;
}
impl Or for (No, No) {
    type Out = No;
}
impl<A: Named> Or for (A, No) {
    type Out = A;
}
impl<B: Named> Or for (No, B) {
    type Out = B;
}
impl<A: Named, B: Named> Or for (A, B) {
    type Out = (A, B);
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
