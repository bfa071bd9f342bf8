//! The model every output is built from: one [`Field`] per environment variable.
//!
//! The derive turns each struct into a constant slice of [`Field`]s
//! ([`EcsSecrets::FIELDS`](crate::EcsSecrets::FIELDS)), flattened structs in place. Loading,
//! the `secrets` fragment, the IAM policies and the drift check all read this one slice, so they
//! cannot disagree.

use core::fmt;

use crate::value_from::{self, TemplateError, ValueFrom};

/// One configuration field: where it lives in Rust, which environment variable carries it, and
/// where ECS gets the value from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Field {
    /// The Rust field name (`database_password`).
    pub name: &'static str,
    /// The struct that declares the field (`AppConfig`); tells flattened fields apart.
    pub struct_name: &'static str,
    /// The environment variable (`DATABASE_PASSWORD`).
    pub env: &'static str,
    /// Where the value comes from.
    pub source: Source,
    /// `Option<T>`: absent loads as `None`. Still listed in the `secrets` fragment, because ECS
    /// has no optional secrets.
    pub optional: bool,
    /// The field's `default = "…"`, used when the variable is absent.
    pub default: Option<&'static str>,
    /// Deserialized with serde (`json`) rather than parsed with `FromStr`.
    pub json: bool,
    /// The field's type is `Secret<T>` (or `Option<Secret<T>>`).
    pub redacted: bool,
    /// A key of its struct's struct-level `secret`: the parts a `flatten` site completes or
    /// replaces (see [`splice`](crate::splice)).
    pub(crate) key_of: Option<KeyOf>,
}

/// How a key of a struct-level `secret` becomes its `valueFrom`: the secret and the context
/// of the struct that declares it, each completed or replaced where that struct is flattened.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyOf {
    /// The struct-level secret, a name or an ARN template as written (or a `flatten` site's).
    pub(crate) secret: &'static str,
    /// `:key:stage:id`, escaped for a template.
    pub(crate) selector: &'static str,
    /// The `partition`, `region` and `account` named by the declaring struct, else by the
    /// nearest struct that flattens it and names them.
    pub(crate) partition: Option<&'static str>,
    pub(crate) region: Option<&'static str>,
    pub(crate) account: Option<&'static str>,
    /// Whether the secret is the struct-level one of the struct whose `FIELDS` hold the field
    /// (true until the field is spliced into a struct that flattens it): only those keys take a
    /// `flatten` site's `secret`.
    pub(crate) own: bool,
}

/// Where a field's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// A plain environment variable, set in the task definition's `environment`.
    Env,
    /// A Secrets Manager secret (or one JSON key / version of it).
    SecretsManager(Template),
    /// An SSM Parameter Store parameter.
    Ssm(Template),
}

impl Source {
    /// The `valueFrom` template, for the two AWS sources.
    pub const fn value_from(&self) -> Option<Template> {
        match *self {
            Source::Env => None,
            Source::SecretsManager(t) | Source::Ssm(t) => Some(t),
        }
    }
}

/// A complete `valueFrom`, possibly with `{placeholders}` that are filled in per environment.
///
/// The derive builds it at compile time from the field's and the struct's attributes (a secret
/// name becomes its ARN) and checks it as far as its placeholders allow. `{{` and `}}` stand for
/// literal braces.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Template(&'static str);

impl Template {
    #[doc(hidden)]
    pub const fn __new(template: &'static str) -> Self {
        Template(template)
    }

    /// The template text, with placeholders and escapes as written.
    pub const fn as_str(&self) -> &'static str {
        self.0
    }

    /// Whether the template has no placeholders.
    pub fn is_literal(&self) -> bool {
        self.placeholders().is_empty()
    }

    /// The distinct placeholder names, in order of appearance.
    pub fn placeholders(&self) -> Vec<String> {
        value_from::placeholders([self.0])
    }

    /// Fills in the placeholders and checks the result with [`ValueFrom`]'s parser; reports every
    /// problem at once.
    pub fn resolve(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ValueFrom, Vec<TemplateError>> {
        let text = value_from::resolve(self.0, lookup)?;
        text.parse::<ValueFrom>().map_err(|e| {
            vec![TemplateError::Malformed(format!(
                "`{text}` is not a valid valueFrom: {e}"
            ))]
        })
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Field {
    /// How the source reads in messages: `environment` or the `valueFrom` (template).
    pub fn source_description(&self) -> &'static str {
        match self.source.value_from() {
            None => "environment",
            Some(t) => t.as_str(),
        }
    }

    #[doc(hidden)]
    pub const fn __placeholder() -> Field {
        Field {
            name: "",
            struct_name: "",
            env: "",
            source: Source::Env,
            optional: false,
            default: None,
            json: false,
            redacted: false,
            key_of: None,
        }
    }
}
