//! The deploy-time verbs of the [`Loader`] (feature `deploy`): [`Loader::pin`] pins the current
//! version ids into a [`Deployment`]; [`Loader::preflight`] and [`Loader::preflight_task`] prove
//! before a deploy that every reference of a `Deployment` or of a whole [`Task`] will resolve
//! at task start; [`Loader::omit_missing_optional`] and [`Loader::omit_missing_optional_task`]
//! leave out the references of `Option` fields that do not exist in the environment;
//! [`Loader::migrate`] moves plaintext `environment` values into the declared secrets and
//! parameters.
//!
//! They run in build scripts, CI and deploy tools, not in a service: feature `aws` alone (what a
//! service links) compiles none of this module, nor the KMS, IAM and STS SDK crates it uses. They
//! send through the same engine as the loads: the loader's clients, settings, concurrency limit
//! and deadline.
//!
//! # Optional secrets, per environment
//!
//! ECS has no optional secrets: a `secrets` entry whose secret or parameter does not exist fails
//! the task at start. So an `Option` field is listed in [`Deployment::secrets`] like any other,
//! and a flag parameter that exists in staging but not yet in production would stop production
//! from starting. [`Loader::omit_missing_optional`] asks AWS, and gives back the deployment
//! without the references of `Option` fields that do not exist there, with the list of what it
//! left out ([`Omitted::omissions`]: field, variable, reference and why). Its `secrets`, its
//! policies for every role, its merge and its check then agree: a left-out reference is neither
//! injected nor granted, a merge takes it out of the container, and a check reports it as
//! *extra* where a task definition still has it (ECS would fail the task on it). The service
//! loads the field as `None`.
//!
//! It runs preflight ([`Loader::preflight`]) and derives the omissions from its findings: the
//! same metadata-only requests (`DescribeSecret` per distinct secret, `GetParameters` without
//! decryption ten names a call, `DescribeParameters` and `DescribeKey` for tiers and keys) and
//! the same caller's policy, [`Role::Preflight`](crate::Role::Preflight). A reference is left
//! out only when it is an `Option` field's and preflight proved it missing (`SecretNotFound`,
//! `ParameterNotFound`); any other problem is an [`OmitError`] that names every one, with
//! preflight's words: a required field's missing reference, and a request that failed (denied,
//! throttled, the deadline), since a reference that could not be checked is never left out.
//!
//! A JSON key can only be checked in the value: by default an existing secret is kept whatever
//! its keys. With [`OmitOptions::read_values`] each secret is read once (the policy
//! [`Role::PreflightReadValues`](crate::Role::PreflightReadValues)), a missing key of an
//! `Option` field is left out too, and a missing key of a required field is an error.
//!
//! Nothing changes without it: [`EcsSecrets::deployment`] and its outputs stay offline and
//! deterministic. The command lines take `--omit-missing-optional` (and `--read-values`) on
//! `secrets`, `policy`, `merge` and `check` (`containers`, `policy`, `merge` and `check` for a
//! task): one line on standard error per omission, and exit status 1, with nothing printed or
//! written, on an error.
//!
//! ```no_run
//! use ecs_secrets::aws::Loader;
//! use ecs_secrets::deploy::OmitOptions;
//! use ecs_secrets::{EcsSecrets, Vars};
//!
//! #[derive(EcsSecrets)]
//! #[ecs(region = "us-east-1", account = "{account}")]
//! struct Config {
//!     #[ecs(secret = "app/db", key = "password")]
//!     db_password: String,
//!     /// Exists in staging only, for now.
//!     #[ecs(ssm = "/app/beta-flag")]
//!     beta_flag: Option<String>,
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let prod = Config::deployment_for(&Vars::new().with("account", "123456789012"))?;
//! let omitted = Loader::new(&sdk)
//!     .omit_missing_optional(&prod, OmitOptions::new())
//!     .await?;
//! for omission in omitted.omissions() {
//!     eprintln!("{omission}");
//! }
//! let secrets = omitted.get().secrets(); // what ECS gets in production
//! # let _ = secrets;
//! # Ok(())
//! # }
//! ```

mod migrate;
mod omit;
mod pin;
mod preflight;

use crate::aws::Loader;
#[cfg(feature = "metrics")]
use crate::aws::engine::ops::error_codes;
use crate::deployment::Deployment;
use crate::deployment::fragment::Vars;
use crate::error::ResolveError;
use crate::{EcsSecrets, Task};

#[cfg(feature = "cli")]
pub(crate) use migrate::wipe;
pub use migrate::{
    MigrateError, MigrateOptions, MigrationReport, Refusal, Step, StepAction, StepStatus,
};
pub use omit::{Omission, OmitError, OmitOptions, Omitted};
pub use preflight::{Check, Finding, PreflightOptions, PreflightReport, Subject};

/// Secrets Manager's largest value, and what `GetSecretValue` can return: what preflight checks
/// a value against and migrate refuses past.
pub const SECRET_VALUE_LIMIT: usize = 65_536;
/// SSM's largest value, in the advanced tier.
pub const PARAMETER_VALUE_LIMIT: usize = 8_192;
/// SSM's largest value in the standard tier: a longer one needs the advanced tier.
pub(crate) const PARAMETER_STANDARD_LIMIT: usize = 4_096;

#[cfg(feature = "metrics")]
error_codes!(
    /// The KMS operations preflight sends.
    kms_codes: aws_sdk_kms::operation::describe_key::DescribeKeyError,
);
#[cfg(feature = "metrics")]
error_codes!(
    /// The IAM operations preflight sends.
    iam_codes: aws_sdk_iam::operation::simulate_principal_policy::SimulatePrincipalPolicyError,
);
#[cfg(feature = "metrics")]
error_codes!(
    /// The STS operations migrate sends.
    sts_codes: aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityError,
);

#[cfg_attr(docsrs, doc(cfg(feature = "deploy")))]
impl Loader {
    /// The [`Deployment`] of `T` for the environment `vars`, with every unpinned Secrets
    /// Manager reference pinned to the id of its current version (`ARN:key::VERSION-ID`), so
    /// that a rotation produces a new task-definition revision and ECS rolls the service onto
    /// the new value. The version ids come from `DescribeSecret` (`VersionIdsToStages`): no
    /// value is read, nothing is decrypted, and the caller needs only
    /// `secretsmanager:DescribeSecret` on the secrets ([`Role::Pin`](crate::Role::Pin)). One
    /// call per distinct unpinned secret, all at once under the loader's concurrency bound and
    /// deadline. References that already select a version, and SSM parameters (ECS takes no
    /// version on them), stay as they are; every problem is reported at once.
    pub async fn pin<T: EcsSecrets>(&self, vars: &Vars) -> Result<Deployment, ResolveError> {
        pin::pin::<T>(self.engine(), vars).await
    }

    /// Checks, before a deploy, that every reference of `deployment` will resolve when a task
    /// starts, each in the region of its ARN, and reports every problem at once (see
    /// [`PreflightReport`]): Secrets Manager with `DescribeSecret` (exists, not scheduled for
    /// deletion, the pinned stage or version exists), one per distinct secret; SSM with
    /// `GetParameters` without decryption, ten a call per region; each `kms_key` with
    /// `DescribeKey` (exists and is enabled). JSON keys need the value:
    /// they are "not verified" unless [`PreflightOptions::read_values`], which reads each
    /// distinct secret version once, checks the keys as the agent extracts them and the size,
    /// and wipes the value. All requests at once under the loader's concurrency bound and
    /// deadline; nothing of a value is kept, printed or logged. The caller's policy:
    /// [`Role::Preflight`](crate::Role::Preflight) (or
    /// [`Role::PreflightReadValues`](crate::Role::PreflightReadValues)).
    pub async fn preflight(
        &self,
        deployment: &Deployment,
        options: PreflightOptions,
    ) -> PreflightReport {
        preflight::preflight(self.engine(), deployment, options).await
    }

    /// [`Loader::preflight`] for a whole [`Task`]: every container's declarations, its log
    /// driver's `secretOptions`, and its registry credentials — whose secret must be a JSON
    /// object with `username` and `password` (checked with
    /// [`PreflightOptions::read_values`], else reported as not verified) — each [`Check`]
    /// naming its container; the role check covers the task's whole
    /// [`Role::Execution`](crate::Role::Execution) policy. With
    /// [`PreflightOptions::task_definition`], the task's secrets are also merged into a copy of
    /// that task definition, which must take them within ECS's 64 KiB.
    pub async fn preflight_task(&self, task: &Task, options: PreflightOptions) -> PreflightReport {
        preflight::preflight_task(self.engine(), task, options).await
    }

    /// `deployment` without the references of its `Option` fields that do not exist in the
    /// account, each in the region of its ARN, with the list of what was left out (see the
    /// [module docs](self#optional-secrets-per-environment)): [`Loader::preflight`] runs on every
    /// reference, and a reference is left out when it is an `Option` field's and preflight
    /// proved it missing (`SecretNotFound`, `ParameterNotFound`; with
    /// [`OmitOptions::read_values`], a missing JSON key too). Any other problem fails with
    /// every one at once ([`OmitError`]): a required field's missing reference, a request that
    /// failed (a reference that could not be checked is never left out), anything that would
    /// fail the task at start. Metadata only unless values are read; the caller's policy:
    /// [`Role::Preflight`](crate::Role::Preflight) (or
    /// [`Role::PreflightReadValues`](crate::Role::PreflightReadValues)).
    pub async fn omit_missing_optional(
        &self,
        deployment: &Deployment,
        options: OmitOptions,
    ) -> Result<Omitted<Deployment>, OmitError> {
        omit::deployment(self.engine(), deployment, options).await
    }

    /// [`Loader::omit_missing_optional`] for a whole [`Task`]: every container's declarations
    /// lose their missing optional references, each [`Omission`] naming its container. Log
    /// secrets and registry credentials are never optional: a problem with them fails (the
    /// checks of [`Loader::preflight_task`]).
    pub async fn omit_missing_optional_task(
        &self,
        task: &Task,
        options: OmitOptions,
    ) -> Result<Omitted<Task>, OmitError> {
        omit::task(self.engine(), task, options).await
    }

    /// Moves the plaintext values of container `container` of `json` (a task definition in
    /// either shape, or an ECS Express Mode input) into the secrets and parameters `deployment`
    /// declares, then takes the entries out of `environment` and sets the container's `secrets`.
    /// A plan by default: it only reads (whether each destination exists and holds the value)
    /// and leaves `json` as it was; with [`MigrateOptions::apply`] it writes, each destination
    /// at most once, and changes `json` only when every write succeeded. Any refused variable
    /// refuses the whole run, with every reason at once ([`MigrateError::Refused`]); a failed
    /// write leaves `json` as it was and the report says which values are stored already
    /// ([`MigrateError::Failed`]). The caller's policy: [`Role::Migrate`](crate::Role::Migrate).
    pub async fn migrate(
        &self,
        deployment: &Deployment,
        json: &mut serde_json::Value,
        container: &str,
        options: MigrateOptions,
    ) -> Result<MigrationReport, MigrateError> {
        migrate::migrate(self.engine(), deployment, json, container, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deploy_futures_are_send() {
        fn send<F: Send>(_: F) {}
        #[derive(crate::EcsSecrets)]
        struct C {
            #[ecs(default = "1")]
            _a: u8,
        }
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let l = Loader::new(&config);
        send(l.pin::<C>(&Vars::new()));
        let d = C::deployment();
        send(l.preflight(&d, PreflightOptions::new()));
        let task = Task::new().container("app", C::deployment());
        send(l.preflight_task(&task, PreflightOptions::new()));
        send(l.omit_missing_optional(&d, OmitOptions::new()));
        send(l.omit_missing_optional_task(&task, OmitOptions::new()));
        let mut json = serde_json::json!({"containerDefinitions": []});
        send(l.migrate(&d, &mut json, "app", MigrateOptions::new()));
    }
}
