//! The deployment outputs of a declaration for one environment (the guide chapter is
//! [`Deployment`]'s documentation).

pub(crate) mod drift;
pub mod formats;
pub(crate) mod fragment;
pub mod iam;
#[cfg(feature = "deploy")]
mod retain;
pub(crate) mod task;
pub mod task_definition;

use core::fmt;

use serde_json::Value;

use crate::EcsSecrets;
use crate::error::{ErrorKind, FieldError, ResolveError};
use crate::model::Field;
use crate::text::escaped;
use crate::value_from::{self, ValueFrom};

use drift::DriftReport;
use fragment::{SecretRef, Vars};
use iam::{PolicyDocument, Role};
use task_definition::TaskDefinitionError;

#[doc = include_str!("../../docs/deployment.md")]
#[doc = ""]
#[cfg_attr(feature = "deploy", doc = "[pin]: crate::aws::Loader::pin")]
#[cfg_attr(
    not(feature = "deploy"),
    doc = "[pin]: https://docs.rs/ecs-secrets/latest/ecs_secrets/aws/struct.Loader.html#method.pin"
)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    name: &'static str,
    fields: &'static [Field],
    /// Every sourced field with its final `valueFrom`, in field order.
    references: Vec<(&'static Field, ValueFrom)>,
    /// The resolved `kms_key`s.
    kms_keys: Vec<String>,
}

impl Deployment {
    /// Resolves `T` with `vars`, reporting every missing or invalid value at once.
    pub(crate) fn resolve<T: EcsSecrets>(vars: &Vars) -> Result<Deployment, ResolveError> {
        let name = iam::short_type_name::<T>();
        let mut problems = fragment::Problems::default();
        let references = fragment::resolve(T::FIELDS, vars, &mut problems);
        let lookup = |name: &str| vars.get(name).map(str::to_owned);
        let mut kms_keys = Vec::with_capacity(T::KMS_KEYS.len());
        for &template in T::KMS_KEYS {
            let problem = |reason: String| FieldError {
                field: "kms_key",
                struct_name: name,
                env: "",
                source: template.to_owned(),
                kind: ErrorKind::Placeholder { reason },
            };
            match value_from::resolve(template, &lookup) {
                Ok(key) => match iam::check_key(&key) {
                    Ok(()) => kms_keys.push(key),
                    Err(reason) => problems.push(problem(reason)),
                },
                Err(errors) => {
                    let user = format!("`kms_key` of `{name}`");
                    for error in errors {
                        problems.add(&user, error, problem);
                    }
                }
            }
        }
        if let Some(errors) = problems.into_errors() {
            return Err(ResolveError::new(errors));
        }
        Ok(Deployment {
            name,
            fields: T::FIELDS,
            references,
            kms_keys,
        })
    }

    /// The name of the declaration's struct (`AppConfig`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The declaration's fields (the model every output is built from).
    pub fn fields(&self) -> &'static [Field] {
        self.fields
    }

    /// Every sourced field with its final `valueFrom`, in field order.
    pub fn references(&self) -> impl ExactSizeIterator<Item = (&'static Field, &ValueFrom)> {
        self.references.iter().map(|(f, v)| (*f, v))
    }

    /// The customer-managed KMS keys (`kms_key`), resolved.
    pub fn kms_keys(&self) -> &[String] {
        &self.kms_keys
    }

    /// The container definition's `secrets` list, in field order.
    pub fn secrets(&self) -> Vec<SecretRef> {
        self.references
            .iter()
            .map(|(field, value_from)| SecretRef {
                name: field.env.to_owned(),
                value_from: value_from.to_string(),
            })
            .collect()
    }

    /// The least-privilege policy document for `role`: for [`Role::Execution`] (ECS injects the
    /// secrets) `secretsmanager:GetSecretValue` on each secret, `ssm:GetParameters` on each
    /// parameter, `kms:Decrypt` on each `kms_key` only through those services
    /// (`kms:ViaService`) and only for those secrets and parameters (their encryption context);
    /// [`Role::Task`] (the application fetches them itself, feature `aws`)
    /// adds `secretsmanager:BatchGetSecretValue` and, for a watch's refreshes,
    /// `secretsmanager:DescribeSecret`. Shape and rules: [`PolicyDocument`]. Never
    /// fails: every reference of a `Deployment` is an ARN and every key was checked.
    pub fn policy(&self, role: Role) -> PolicyDocument {
        PolicyDocument::from_references(
            role,
            self.references.iter().map(|(_, v)| v),
            self.kms_keys.iter().map(String::as_str),
        )
        .expect("the derive makes every reference an ARN, and resolving checked every kms_key")
    }

    /// What the policies cannot grant by themselves, in field order: when the references are in
    /// several accounts, each one in a region without a `kms_key`
    /// ([`Warning::CrossAccountWithoutKey`]).
    ///
    /// A secret or SecureString of another account must be encrypted with a customer-managed
    /// key (the AWS managed key cannot be used from another account), the role needs
    /// `kms:Decrypt` on that key, and the owner account must allow both (Secrets Manager user
    /// guide, "Access AWS Secrets Manager secrets from a different account"; Systems Manager user
    /// guide, "Working with shared parameters"). Without a `kms_key` in the reference's region
    /// the policies grant no decrypt for it, and the task fails at start.
    ///
    /// The declaration does not say which account the task runs in (the struct's `account` is
    /// only where its names live, and a full ARN may name any account), so no reference is
    /// called cross-account here. But a task runs in one account: when the references span
    /// several, all but one account's are read from another, and each reference without a key
    /// is reported with its account. The task's own references may use the AWS managed key;
    /// a caller that knows the task's account drops the warnings of that account.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut accounts: Vec<&str> = self
            .references
            .iter()
            .filter_map(|(_, value_from)| iam::account(value_from))
            .collect();
        accounts.sort_unstable();
        accounts.dedup();
        if accounts.len() < 2 {
            return Vec::new();
        }
        let key_regions: Vec<&str> = self.kms_keys.iter().map(|k| iam::key_region(k)).collect();
        let mut warnings = Vec::new();
        for (field, value_from) in &self.references {
            let (Some(account), Some(region)) = (iam::account(value_from), iam::region(value_from))
            else {
                continue;
            };
            if !key_regions.contains(&region) {
                warnings.push(Warning::CrossAccountWithoutKey {
                    field: field.name,
                    struct_name: field.struct_name,
                    env: field.env,
                    value_from: value_from.to_string(),
                    account: account.to_owned(),
                    region: region.to_owned(),
                    accounts: accounts.iter().map(|&a| a.to_owned()).collect(),
                });
            }
        }
        warnings
    }

    /// Sets the `secrets` of container `container` in a task-definition JSON (the
    /// `register-task-definition` input or `describe-task-definition` output) to this
    /// declaration's, leaving every other field as it was. Refuses, changing nothing, when the
    /// container does not exist, when one of the names is in its `environment`, or when the
    /// result would exceed 64 KiB.
    pub fn merge_into(
        &self,
        task_definition: &mut Value,
        container: &str,
    ) -> Result<(), TaskDefinitionError> {
        task_definition::merge(task_definition, container, &self.secrets())
    }

    /// Compares container `container` of a task definition with this declaration: missing,
    /// extra and changed secrets, secrets set as plain `environment` variables, and required
    /// plain variables set nowhere (see [`Drift`](crate::Drift)).
    pub fn check(
        &self,
        task_definition: &Value,
        container: &str,
    ) -> Result<DriftReport, TaskDefinitionError> {
        let required = task_definition::required_env(self.fields);
        task_definition::check(task_definition, container, &self.secrets(), &required)
    }

    /// The references, for pinning.
    #[cfg(feature = "deploy")]
    pub(crate) fn references_mut(&mut self) -> &mut [(&'static Field, ValueFrom)] {
        &mut self.references
    }
}

/// The distinct placeholder names of `T` (sources first, then `kms_key`s), in order of
/// appearance: the values [`EcsSecrets::deployment_for`] needs.
pub fn placeholders<T: EcsSecrets>() -> Vec<String> {
    let sources = T::FIELDS.iter().filter_map(|f| f.source.value_from());
    let templates = sources
        .map(|t| t.as_str())
        .chain(T::KMS_KEYS.iter().copied());
    value_from::placeholders(templates)
}

/// Something a [`Deployment`]'s outputs cannot do by themselves: see [`Deployment::warnings`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A secret or parameter in a region without a `kms_key`, in a deployment whose references
    /// are in several accounts: unless the task runs in `account`, reading it is a cross-account
    /// read, which needs a customer-managed KMS key that the policies grant no `kms:Decrypt` on.
    CrossAccountWithoutKey {
        /// The Rust field name.
        field: &'static str,
        /// The struct that declares the field.
        struct_name: &'static str,
        /// The environment variable.
        env: &'static str,
        /// The reference (`valueFrom`).
        value_from: String,
        /// The account that owns the secret or parameter.
        account: String,
        /// Its region, where no `kms_key` is.
        region: String,
        /// Every account the deployment's references are in, sorted.
        accounts: Vec<String>,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::CrossAccountWithoutKey {
                field,
                struct_name,
                env,
                value_from,
                account,
                region,
                accounts,
            } => write!(
                f,
                "field `{struct_name}.{field}` (env `{env}`, from {}): the references \
                 are in accounts {} and no `kms_key` is in {region}; unless the task runs in \
                 {account}, this is a cross-account read, which needs a customer-managed KMS key \
                 (the AWS managed key cannot be shared) declared with `kms_key`, and the owner \
                 account must allow the read and the key's use",
                escaped(value_from),
                accounts.join(", "),
            ),
        }
    }
}
