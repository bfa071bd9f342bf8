#![doc = include_str!("../../docs/deploy.md")]

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
