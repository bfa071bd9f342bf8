#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "aws")]
pub mod aws;
mod error;
#[cfg(feature = "extract")]
pub mod extract;
mod fragment;
pub mod iam;
mod model;
mod secret;
#[allow(dead_code)] // shared with the derive, which uses other parts of it
pub mod value_from;

pub mod task_definition;

#[cfg(feature = "cli")]
pub mod cli;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use ecs_secrets_macros::EcsSecrets;
pub use error::{Error, ErrorKind, FieldError};
pub use fragment::{SecretRef, Vars};
pub use iam::{Action, PolicyDocument, Role, Statement};
pub use model::{Field, Source, Template};
pub use secret::{REDACTED, Secret, SecretParseError};
pub use task_definition::{Drift, DriftReport, TaskDefinitionError};
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

    // --- Direct loading from AWS (feature `aws`); see the `aws` module. ---

    /// Loads every sourced field directly from Secrets Manager / SSM Parameter Store, each in
    /// the region of its ARN, and the plain fields from the environment (or their default).
    /// Reports every problem at once. A sourced field's `default` is not used when its secret
    /// is missing; an `Option` field whose source does not exist is `None`.
    #[cfg(feature = "aws")]
    fn from_aws(
        config: &aws_config::SdkConfig,
    ) -> impl Future<Output = Result<Self, Error>> + Send {
        async move { aws::load::<Self>(config, &aws::Options::new(), aws::Mode::All).await }
    }

    /// [`EcsSecrets::from_aws`] with [`aws::Options`] (timeouts, deadline, concurrency,
    /// batching, retries, a lookup instead of the process environment, placeholder values).
    #[cfg(feature = "aws")]
    fn from_aws_with(
        config: &aws_config::SdkConfig,
        options: &aws::Options,
    ) -> impl Future<Output = Result<Self, Error>> + Send {
        aws::load::<Self>(config, options, aws::Mode::All)
    }

    /// Takes each field from the environment when its variable is set (ECS injected it) and
    /// fetches only the missing sourced fields, so one binary works in ECS and on a laptop.
    #[cfg(feature = "aws")]
    fn load(config: &aws_config::SdkConfig) -> impl Future<Output = Result<Self, Error>> + Send {
        async move { aws::load::<Self>(config, &aws::Options::new(), aws::Mode::Missing).await }
    }

    /// [`EcsSecrets::load`] with [`aws::Options`].
    #[cfg(feature = "aws")]
    fn load_with(
        config: &aws_config::SdkConfig,
        options: &aws::Options,
    ) -> impl Future<Output = Result<Self, Error>> + Send {
        aws::load::<Self>(config, options, aws::Mode::Missing)
    }

    /// Loads like [`EcsSecrets::from_aws_with`], then keeps the value fresh: a background task
    /// reloads every sourced field on an interval (default 5 minutes ±10 %), replaces the value
    /// only with a complete load, and tells subscribers which fields changed. See
    /// [`aws::Watch`]. Needs a Tokio runtime; the refresh stops when the last handle drops.
    #[cfg(feature = "aws")]
    fn watch(
        config: &aws_config::SdkConfig,
        options: aws::WatchOptions,
    ) -> impl Future<Output = Result<aws::Watch<Self>, Error>> + Send
    where
        Self: Send + Sync + 'static,
    {
        aws::Watch::start(config.clone(), options, aws::Mode::All)
    }

    /// [`EcsSecrets::watch`] whose first value comes from [`EcsSecrets::load_with`] (in ECS:
    /// the environment ECS injected); every refresh then reads AWS, so the task role needs read
    /// access ([`EcsSecrets::task_role_policy`]).
    #[cfg(feature = "aws")]
    fn load_and_watch(
        config: &aws_config::SdkConfig,
        options: aws::WatchOptions,
    ) -> impl Future<Output = Result<aws::Watch<Self>, Error>> + Send
    where
        Self: Send + Sync + 'static,
    {
        aws::Watch::start(config.clone(), options, aws::Mode::Missing)
    }

    /// [`EcsSecrets::secrets_with`] with every unpinned Secrets Manager reference pinned to
    /// the id of its current version (`ARN:key::VERSION-ID`), so that a rotation produces a new
    /// task-definition revision. One `BatchGetSecretValue` per 20 secrets; see
    /// [`aws::secrets_pinned`].
    #[cfg(feature = "aws")]
    fn secrets_pinned(
        config: &aws_config::SdkConfig,
        vars: &Vars,
    ) -> impl Future<Output = Result<Vec<SecretRef>, Error>> + Send {
        async move { aws::secrets_pinned::<Self>(config, vars, &aws::Options::new()).await }
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

    /// The distinct placeholder names of the declaration (sources first, then `kms_key`s), in
    /// order of appearance.
    fn placeholders() -> Vec<String> {
        let mut names = fragment::placeholders(Self::FIELDS);
        for name in iam::kms_placeholders(Self::KMS_KEYS) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    // --- Deployment outputs: IAM policies, task-definition merge and drift check. ---

    /// The least-privilege IAM policy document for the task **execution** role, which ECS uses
    /// to inject the secrets: `secretsmanager:GetSecretValue` on each secret, `ssm:GetParameters`
    /// on each parameter, `kms:Decrypt` on each `kms_key`. Shape and rules: [`iam`].
    fn iam_policy() -> serde_json::Value
    where
        Self::__Placeholders: NoPlaceholders,
    {
        Self::policy(Role::Execution).to_json()
    }

    /// [`EcsSecrets::iam_policy`] with the placeholders filled in from `vars`.
    fn iam_policy_with(vars: &Vars) -> Result<serde_json::Value, Error> {
        Ok(Self::policy_with(Role::Execution, vars)?.to_json())
    }

    /// The IAM policy document for the **task** role, for an application that fetches its
    /// secrets itself (feature `aws`): the execution role's reads plus
    /// `secretsmanager:BatchGetSecretValue` on `*`.
    fn task_role_policy() -> serde_json::Value
    where
        Self::__Placeholders: NoPlaceholders,
    {
        Self::policy(Role::Task).to_json()
    }

    /// [`EcsSecrets::task_role_policy`] with the placeholders filled in from `vars`.
    fn task_role_policy_with(vars: &Vars) -> Result<serde_json::Value, Error> {
        Ok(Self::policy_with(Role::Task, vars)?.to_json())
    }

    /// The typed policy document for `role`.
    fn policy(role: Role) -> PolicyDocument
    where
        Self::__Placeholders: NoPlaceholders,
    {
        Self::policy_with(role, &Vars::new())
            .expect("a declaration without placeholders was checked at compile time")
    }

    /// The typed policy document for `role`, with the placeholders filled in from `vars`; every
    /// missing or invalid value (of the sources and the `kms_key`s) is reported at once.
    fn policy_with(role: Role, vars: &Vars) -> Result<PolicyDocument, Error> {
        iam::policy_with(
            iam::short_type_name::<Self>(),
            Self::FIELDS,
            Self::KMS_KEYS,
            role,
            vars,
        )
    }

    /// Sets the `secrets` of container `container` in a task-definition JSON (the
    /// `register-task-definition` input or `describe-task-definition` output) to this
    /// declaration's, leaving every other field as it was. Refuses, changing nothing, when the
    /// container does not exist, when one of the names is in its `environment`, or when the
    /// result would exceed 64 KiB. See [`task_definition::merge`].
    fn merge_task_definition(
        task_definition: &mut serde_json::Value,
        container: &str,
    ) -> Result<(), TaskDefinitionError>
    where
        Self::__Placeholders: NoPlaceholders,
    {
        task_definition::merge(task_definition, container, &Self::secrets())
    }

    /// [`EcsSecrets::merge_task_definition`] with the placeholders filled in from `vars`.
    fn merge_task_definition_with(
        task_definition: &mut serde_json::Value,
        container: &str,
        vars: &Vars,
    ) -> Result<(), TaskDefinitionError> {
        let secrets = Self::secrets_with(vars)?;
        task_definition::merge(task_definition, container, &secrets)
    }

    /// Compares container `container` of a task definition with this declaration: missing,
    /// extra and changed secrets, and required plain variables set nowhere. See
    /// [`task_definition::check`].
    fn check_task_definition(
        task_definition: &serde_json::Value,
        container: &str,
    ) -> Result<DriftReport, TaskDefinitionError>
    where
        Self::__Placeholders: NoPlaceholders,
    {
        let required = task_definition::required_env(Self::FIELDS);
        task_definition::check(task_definition, container, &Self::secrets(), &required)
    }

    /// [`EcsSecrets::check_task_definition`] with the placeholders filled in from `vars`.
    fn check_task_definition_with(
        task_definition: &serde_json::Value,
        container: &str,
        vars: &Vars,
    ) -> Result<DriftReport, TaskDefinitionError> {
        let secrets = Self::secrets_with(vars)?;
        let required = task_definition::required_env(Self::FIELDS);
        task_definition::check(task_definition, container, &secrets, &required)
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
