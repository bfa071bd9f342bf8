#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "cli")]
pub mod cli;
mod deployment;
mod error;
#[cfg(feature = "extract")]
pub mod extract;
mod load;
mod model;
mod secret;
// The grammar is a crate of its own, shared with the derive; `crate::value_from::…` names it.
use ecs_secrets_grammar as value_from;

// The derive in this crate's own unit tests names `::ecs_secrets`.
#[cfg(test)]
extern crate self as ecs_secrets;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use deployment::formats::{self, Format};
pub use deployment::iam::{Action, Condition, PolicyDocument, PolicyError, Role, Statement};
pub use deployment::task::{Shape, Task, TaskDriftReport, TaskError};
pub use deployment::task_definition::{Drift, DriftReport, TaskDefinitionError};
pub use deployment::{
    Deployment, Warning, fragment::SecretRef, fragment::Vars, iam, placeholders, task_definition,
};
pub use ecs_secrets_grammar::{
    SecretsManagerRef, SsmRef, TemplateError, ValueFrom, ValueFromError,
};
pub use ecs_secrets_macros::EcsSecrets;
pub use error::{Error, ErrorKind, FetchCode, FieldError, ResolveError};
pub use model::{Field, Source, Template};
pub use secret::{REDACTED, Secret, SecretParseError};

/// A configuration struct whose fields ECS injects from Secrets Manager, SSM Parameter Store
/// or plain environment variables. Implement it with `#[derive(EcsSecrets)]`.
///
/// The trait is the derive's contract: the model ([`EcsSecrets::FIELDS`]), loading from the
/// environment, and the way to the deployment outputs ([`Deployment`]). Loading directly from
/// AWS is [`aws::Loader`] (feature `aws`). Every output and every loader reads the one model,
/// so they always agree.
pub trait EcsSecrets: Sized {
    /// Every field, in declaration order, flattened structs' fields in place.
    const FIELDS: &'static [Field];

    /// Customer-managed KMS keys (`#[ecs(kms_key = "arn:aws:kms:…")]`) of this struct and the
    /// structs it flattens, as written (they may hold placeholders): the execution role needs
    /// `kms:Decrypt` on them.
    const KMS_KEYS: &'static [&'static str] = &[];

    #[doc(hidden)]
    type __Placeholders;

    #[doc(hidden)]
    fn __load(lookup: &dyn load::Lookup, errors: &mut load::Errors) -> Option<Self>;

    /// Loads from the process environment, as ECS injected it. Reports every problem at once.
    fn from_env() -> Result<Self, Error> {
        load::run(&load::Env)
    }

    /// Loads from any lookup of environment variable names (a map in tests, another source in
    /// production). Reports every problem at once.
    fn from_lookup<F: Fn(&str) -> Option<String>>(lookup: F) -> Result<Self, Error> {
        load::run(&load::FnLookup(lookup))
    }

    /// The deployment outputs of a declaration without placeholders: its `secrets` fragment,
    /// IAM policies, task-definition merge and drift check.
    ///
    /// A struct with `{placeholders}` must say which environment it means, through
    /// [`EcsSecrets::deployment_for`]; calling this on one is a compile error.
    fn deployment() -> Deployment
    where
        Self::__Placeholders: NoPlaceholders,
    {
        Deployment::resolve::<Self>(&Vars::new())
            .expect("a declaration without placeholders is checked at compile time")
    }

    /// The deployment outputs for the environment `vars` (values of the `{placeholders}`):
    /// every missing or invalid value is reported at once, and each final `valueFrom` and
    /// `kms_key` is checked with the same grammar as the derive's.
    fn deployment_for(vars: &Vars) -> Result<Deployment, ResolveError> {
        Deployment::resolve::<Self>(vars)
    }
}

/// Implemented only by the flag of declarations without `{placeholders}`: methods that emit
/// output for one fixed environment require it. A declaration with placeholders has instead a
/// type that lists them (`(region, account, stage)`), which the error names.
#[diagnostic::on_unimplemented(
    message = "this configuration has the placeholders `{Self}`, so its output depends on the environment",
    label = "needs a value for each placeholder",
    note = "call `deployment_for(&vars)` with one value per placeholder, `Vars::new().with(\"NAME\", \"VALUE\")`; `ecs_secrets::placeholders::<T>()` lists them"
)]
pub trait NoPlaceholders {}

#[diagnostic::do_not_recommend]
impl NoPlaceholders for __private::No {}
