#![doc = include_str!("../../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
// pub mod extract;
mod fragment;
mod model;
mod secret;
#[allow(dead_code)] // shared with the derive, which uses other parts of it
pub mod value_from;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use ecs_secrets_macros::EcsSecrets;
pub use error::{Error, ErrorKind, FieldError};
pub use fragment::{SecretRef, Vars};
pub use model::{Field, Source, Template};
pub use secret::{REDACTED, Secret, SecretParseError};
pub use value_from::{SecretsManagerRef, SsmRef, ValueFrom, ValueFromError};

/// A configuration struct whose fields ECS injects from Secrets Manager, SSM Parameter Store
/// or plain environment variables. Implement it with `#[derive(EcsSecrets)]`.
///
/// Every method is built from one model, [`EcsSecrets::FIELDS`], so loading, the `secrets`
/// fragment and the IAM policies always agree.
pub trait EcsSecrets: Sized {
    /// Every field, in declaration order, flattened structs' fields in place.
    const FIELDS: &'static [Field];

    /// Customer-managed KMS keys (`#[ecs(kms_key = "arn:aws:kms:…")]`) of this struct and the
    /// structs it flattens: the execution role needs `kms:Decrypt` on them.
    const KMS_KEYS: &'static [&'static str] = &[];

    #[doc(hidden)]
    type __Placeholders;

    #[doc(hidden)]
    fn __load(lookup: &dyn __private::Lookup, errors: &mut __private::Errors) -> Option<Self>;

    /// The model: every field with its env name, source and kind.
    fn fields() -> &'static [Field] {
        Self::FIELDS
    }

    /// Loads from the process environment, as ECS injected it. Reports every problem at once.
    fn from_env() -> Result<Self, Error> {
        __private::run(&__private::Env)
    }

    /// Loads from any lookup of environment variable names (a map in tests, another source in
    /// production). Reports every problem at once.
    fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Self, Error> {
        __private::run(&__private::FnLookup(lookup))
    }

    /// The container definition's `secrets` list, in field order.
    ///
    /// Only for declarations without placeholders: a struct with `{placeholders}` must say
    /// which environment it means, through [`EcsSecrets::secrets_with`].
    fn secrets() -> Vec<SecretRef>
    where
        Self::__Placeholders: NoPlaceholders,
    {
        fragment::secrets(Self::FIELDS)
    }

    /// The `secrets` list with the placeholders filled in from `vars`; every missing or invalid
    /// value is reported at once, and each final `valueFrom` is checked with [`ValueFrom`]'s
    /// parser.
    fn secrets_with(vars: &Vars) -> Result<Vec<SecretRef>, Error> {
        fragment::secrets_with(Self::FIELDS, vars)
    }

    /// The distinct placeholder names of the declaration, in order of appearance.
    fn placeholders() -> Vec<String> {
        fragment::placeholders(Self::FIELDS)
    }
}

/// Implemented only by the flag of declarations without `{placeholders}`: methods that emit
/// output for one fixed environment require it.
#[diagnostic::on_unimplemented(
    message = "this configuration has `{{placeholders}}` in its sources, so its output depends on the environment",
    label = "declares placeholders",
    note = "pass the placeholder values: `secrets_with(&Vars::new().with(\"stage\", \"prod\"))`"
)]
pub trait NoPlaceholders {}

impl NoPlaceholders for __private::No {}
