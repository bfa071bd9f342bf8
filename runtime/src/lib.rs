//! Derive [`EcsSecrets`](derive@EcsSecrets) on a configuration struct, and its one declaration
//! gives an Amazon ECS service everything about its secrets: how it loads them at start, the
//! task definition's `secrets` fragment, the IAM policy of each role that reads them, and a merge
//! into and a drift check of its task definition.
//!
//! ```
//! use ecs_secrets::{EcsSecrets, Role, Secret};
//!
//! #[derive(EcsSecrets)]
//! #[ecs(region = "us-east-1", account = "123456789012")]
//! struct AppConfig {
//!     #[ecs(secret = "my-app/db", key = "password")]
//!     db_password: Secret<String>,
//!     #[ecs(default = "3000")]
//!     port: u16,
//! }
//!
//! // Deploy time: what the task definition and the execution role need.
//! let deployment = AppConfig::deployment();
//! assert_eq!(deployment.secrets()[0].name, "DB_PASSWORD");
//! assert_eq!(deployment.policy(Role::Execution).statements().len(), 1);
//!
//! // Run time, in ECS: `AppConfig::from_env()`, from the variables ECS set.
//! let config = AppConfig::from_lookup(|name| (name == "DB_PASSWORD").then(|| "hunter2".into()))?;
//! assert_eq!(config.port, 3000);
//! # Ok::<(), ecs_secrets::Error>(())
//! ```
//!
//! # The guide
//!
//! Each chapter is the documentation of the item it describes; read them in this order.
//!
//! | chapter | where |
//! |---|---|
//! | the attributes: sources, variable names, field types, what the derive checks | [`derive@EcsSecrets`] |
//! | one declaration for several environments: `{placeholders}` | [`Vars`] |
//! | the deployment outputs: the fragment, merge and drift check, build scripts | [`Deployment`] |
//! | the IAM policy of each role | [`iam`] |
//! | a task of several containers, and ECS Express Mode services | [`Task`] |
//! | each deploy tool's spelling, and from Copilot to Express Mode or CDK | [`formats`] |
//! | a ready deploy command line (feature `cli`) | [`cli`] |
//! | loading straight from AWS: settings, requests, errors, tracing, metrics (feature `aws`) | [`aws`] |
//! | rotation: a live value, or a redeploy (feature `aws`) | [`_rotation`] |
//! | before a deploy: pin, preflight, migrate (feature `deploy`) | [`deploy`] |
//!
//! Items behind a feature say which. The repository's README lists the features and the API at a
//! glance.
//!
//! # Values, not a trait, for the rest
//!
//! The [`EcsSecrets`](trait@EcsSecrets) trait is what the derive implements, the model
//! ([`EcsSecrets::FIELDS`]) and the entry points; every output and every loader reads that one
//! model, so they agree. Everything else is a value you hold: a [`Deployment`] (one environment's
//! resolved declaration) and, with `aws`, a loader that owns the AWS clients (cheap to clone).
//! Loading fails with an [`Error`], resolving a declaration for an environment with a
//! [`ResolveError`]; both list every problem at once as [`FieldError`]s, whose [`ErrorKind`]
//! keeps AWS's own error code where AWS answered one, and a [`FetchCode`] of this crate's
//! otherwise. No error holds a value.
//!
//! # Crates
//!
//! Depend on `ecs-secrets` alone: it re-exports the derive of `ecs-secrets-macros`, which it pins
//! to an exact version. Both use `ecs-secrets-grammar`, a crate with no dependency that parses,
//! formats and validates ECS `valueFrom` strings ([`ValueFrom`]) and `{placeholder}` templates,
//! so that a reference the derive accepts at compile time is exactly one the runtime accepts;
//! depend on it alone to handle `valueFrom` strings without the rest.
// Links into feature-gated modules: intra-doc links when the feature is on (docs.rs builds
// with every feature), the published pages otherwise, so that no build has a broken link.
#![cfg_attr(
    not(feature = "aws"),
    doc = "",
    doc = "[`aws`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/aws/index.html",
    doc = "[`_rotation`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/_rotation/index.html"
)]
#![cfg_attr(
    not(feature = "cli"),
    doc = "",
    doc = "[`cli`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/cli/index.html"
)]
#![cfg_attr(
    not(feature = "deploy"),
    doc = "",
    doc = "[`deploy`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/deploy/index.html"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub mod aws;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
#[cfg(feature = "deploy")]
#[cfg_attr(docsrs, doc(cfg(feature = "deploy")))]
pub mod deploy;
mod deployment;
mod error;
#[cfg(feature = "extract")]
#[cfg_attr(docsrs, doc(cfg(feature = "extract")))]
pub mod extract;
mod load;
mod model;
mod secret;
mod splice;
mod text;
// The grammar is a crate of its own, shared with the derive; `crate::value_from::…` names it.
use ecs_secrets_grammar as value_from;

// The derive in this crate's own unit tests names `::ecs_secrets`.
#[cfg(test)]
extern crate self as ecs_secrets;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// A guide chapter with no item of its own: rotation spans the loader's [`aws::Watch`] and the
/// deploy step's pinned versions.
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub mod _rotation {
    #![doc = include_str!("../docs/rotation.md")]
}

/// The README's example is a doctest of this crate; the README is not its front page.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use deployment::drift::{Drift, DriftReport};
pub use deployment::formats::Format;
pub use deployment::iam::{Action, Condition, PolicyDocument, PolicyError, Role, Statement};
pub use deployment::task::{Shape, Task, TaskDriftReport, TaskError};
pub use deployment::task_definition::TaskDefinitionError;
pub use deployment::{Deployment, Warning, fragment::SecretRef, fragment::Vars, placeholders};

// Every public type is at the root, once; these modules hold the functions and constants of
// their subject.

pub mod formats {
    #![doc = include_str!("../docs/formats.md")]
    // The names its documentation links to.
    pub use crate::deployment::formats::{
        cloudformation_containers, cloudformation_policy, copilot_secrets,
    };
    #[allow(unused_imports)]
    use crate::*;
}

pub mod iam {
    #![doc = include_str!("../docs/iam.md")]
    // The names its documentation links to.
    pub use crate::deployment::iam::POLICY_VERSION;
    #[allow(unused_imports)]
    use crate::*;
}

/// Task-definition JSON as ECS takes it.
pub mod task_definition {
    // The names its documentation links to.
    pub use crate::deployment::task_definition::{
        MAX_TASK_DEFINITION_BYTES, READ_ONLY_FIELDS, registration_input, size_in_bytes,
    };
    #[allow(unused_imports)]
    use crate::*;
}
pub use ecs_secrets_grammar::{
    SecretsManagerRef, SsmRef, TemplateError, ValueFrom, ValueFromError,
};
#[doc = include_str!("../docs/attributes.md")]
#[doc = include_str!("../docs/schemas.md")]
pub use ecs_secrets_macros::EcsSecrets;
pub use error::{Error, ErrorKind, FetchCode, FieldError, ResolveError};
pub use model::{Field, Source, Template};
pub use secret::{REDACTED, Secret, SecretParseError};

/// A configuration struct whose fields ECS injects from Secrets Manager, SSM Parameter Store
/// or plain environment variables. Implement it with [`#[derive(EcsSecrets)]`](derive@EcsSecrets),
/// whose documentation is the attribute reference.
///
/// The trait is the derive's contract: the model ([`EcsSecrets::FIELDS`]), loading from the
/// environment, and the way to the deployment outputs ([`Deployment`]). Loading directly from
/// AWS is [`aws::Loader`] (feature `aws`).
#[cfg_attr(
    not(feature = "aws"),
    doc = "",
    doc = "[`aws::Loader`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/aws/struct.Loader.html"
)]
pub trait EcsSecrets: Sized {
    /// Every field, in declaration order, flattened structs' fields in place with the names
    /// and references their `flatten` sites gave them.
    const FIELDS: &'static [Field];

    /// Customer-managed KMS keys (`#[ecs(kms_key = "arn:aws:kms:…")]`) of this struct and the
    /// structs it flattens, as written (they may hold placeholders): the execution role needs
    /// `kms:Decrypt` on them.
    const KMS_KEYS: &'static [&'static str] = &[];

    #[doc(hidden)]
    type __Placeholders;

    /// Loads from `lookup` with `fields`: [`EcsSecrets::FIELDS`], or the part of a flattening
    /// struct's that holds this struct's fields under the names its `flatten` site gave them.
    #[doc(hidden)]
    fn __load(
        fields: &'static [Field],
        lookup: &dyn load::Lookup,
        errors: &mut load::Errors,
    ) -> Option<Self>;

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

/// The type-level flag of a declaration whose sources or `kms_key`s have `{placeholders}` (after
/// every `flatten` site filled in what it gives): the compile error of
/// [`EcsSecrets::deployment`] on such a declaration names it.
#[doc(hidden)]
pub enum NeedsPlaceholderValues {}

/// Implemented only by the flag of declarations without `{placeholders}` (after every `flatten`
/// site filled in what it gives): methods that emit output for one fixed environment require
/// it.
#[diagnostic::on_unimplemented(
    message = "this configuration has `{{placeholders}}` in its sources or `kms_key`s, so its output depends on the environment",
    label = "needs a value for each placeholder",
    note = "call `deployment_for(&vars)` with one value per placeholder, `Vars::new().with(\"NAME\", \"VALUE\")`; `ecs_secrets::placeholders::<T>()` lists them, and so does the deploy command line's `placeholders`"
)]
pub trait NoPlaceholders {}

#[diagnostic::do_not_recommend]
impl NoPlaceholders for __private::No {}
