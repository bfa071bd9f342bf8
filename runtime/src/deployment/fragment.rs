//! The task definition's `secrets` fragment, and the placeholder values that resolve templates.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::error::{ErrorKind, FieldError};
use crate::model::Field;
use crate::value_from::{TemplateError, ValueFrom};

/// One entry of a container definition's `secrets`: `{"name": …, "valueFrom": …}`, exactly as
/// the ECS API spells it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretRef {
    /// The environment variable ECS sets.
    pub name: String,
    /// The Secrets Manager ARN (with `:key:stage:id` where set) or SSM parameter ARN.
    pub value_from: String,
}

impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("SecretRef", 2)?;
        s.serialize_field("name", &self.name)?;
        s.serialize_field("valueFrom", &self.value_from)?;
        s.end()
    }
}

#[doc = include_str!("../../docs/environments.md")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars {
    /// Sorted by name, names unique. A `Vec` rather than a `BTreeMap`: a handful of values, and
    /// the tree's instantiations cost every build that uses the derive (docs/benchmarks.md).
    values: Vec<(String, String)>,
}

impl Vars {
    /// No values.
    pub fn new() -> Self {
        Vars::default()
    }

    /// Adds a value (builder style).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.set(name, value);
        self
    }

    /// Adds or replaces a value.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.values.binary_search_by(|(k, _)| k.as_str().cmp(&name)) {
            Ok(at) => self.values[at].1 = value,
            Err(at) => self.values.insert(at, (name, value)),
        }
    }

    /// The value of a placeholder.
    pub fn get(&self, name: &str) -> Option<&str> {
        let at = self
            .values
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()?;
        Some(&self.values[at].1)
    }

    /// Reads each named placeholder from the environment variable of the same name in upper
    /// case (`{stage}` ← `STAGE`); unset ones stay unset.
    pub fn from_env<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Vars::from_lookup(names, |k| std::env::var(k).ok())
    }

    /// [`Vars::from_env`] over any lookup.
    pub fn from_lookup<'a>(
        names: impl IntoIterator<Item = &'a str>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let mut vars = Vars::new();
        for name in names {
            if let Some(v) = lookup(&name.to_ascii_uppercase()) {
                vars.set(name, v);
            }
        }
        vars
    }

    /// Iterates over the values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Resolves every sourced field's `valueFrom` with `vars`: the fields with their final
/// references, in field order; the problems go to `problems`.
pub(crate) fn resolve(
    fields: &'static [Field],
    vars: &Vars,
    problems: &mut Problems,
) -> Vec<(&'static Field, ValueFrom)> {
    let lookup = |name: &str| vars.get(name).map(str::to_owned);
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        let Some(template) = field.source.value_from() else {
            continue;
        };
        match template.resolve(&lookup) {
            Ok(v) => out.push((field, v)),
            Err(errors) => {
                let user = format!("`{}.{}`", field.struct_name, field.name);
                for error in errors {
                    problems.add(&user, error, |reason| {
                        FieldError::new(field, ErrorKind::Placeholder { reason })
                    });
                }
            }
        }
    }
    out
}

/// The problems of resolving one declaration: a placeholder without a value, or with one that
/// makes invalid references, is one error however many fields and `kms_key`s use it (it is
/// reported on the first, naming the others); any other problem is its field's own.
#[derive(Default)]
pub(crate) struct Problems {
    errors: Vec<FieldError>,
    /// Per placeholder problem: the error, where it is in `errors`, and the users after the
    /// first.
    shared: Vec<(TemplateError, usize, Vec<String>)>,
}

impl Problems {
    /// A problem of `user` (`` `Struct.field` `` or `` `kms_key` of `Struct` ``); `error` makes
    /// its error from the reason.
    pub(crate) fn add(
        &mut self,
        user: &str,
        problem: TemplateError,
        error: impl FnOnce(String) -> FieldError,
    ) {
        let placeholder = match &problem {
            TemplateError::Missing(name) | TemplateError::Invalid { name, .. } => Some(name),
            TemplateError::Malformed(_) => None,
        };
        if placeholder.is_some() {
            if let Some((_, _, others)) = self.shared.iter_mut().find(|(p, ..)| *p == problem) {
                if !others.iter().any(|o| o == user) {
                    others.push(user.to_owned());
                }
                return;
            }
            self.shared
                .push((problem.clone(), self.errors.len(), Vec::new()));
        }
        self.errors.push(error(problem.to_string()));
    }

    /// A problem that is no placeholder's (a resolved `kms_key` that is not a key ARN).
    pub(crate) fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Every error, in the order of their first field; `None` when there is none.
    pub(crate) fn into_errors(mut self) -> Option<Vec<FieldError>> {
        for (_, at, others) in &self.shared {
            if others.is_empty() {
                continue;
            }
            let ErrorKind::Placeholder { reason } = &mut self.errors[*at].kind else {
                unreachable!("placeholder problems are made with ErrorKind::Placeholder");
            };
            reason.push_str(&format!("; also used by {}", list(others)));
        }
        (!self.errors.is_empty()).then_some(self.errors)
    }
}

/// `a`, `a and b`, `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
