//! How a subcommand gets the [`Deployment`] (or [`Task`]) it prints: the placeholder values, and
//! with feature `deploy` the flags that ask AWS first, `--pin-versions` and
//! `--omit-missing-optional` (the AWS calls are in `aws.rs`).

use super::{Aws, CliError, Output};
use crate::{Deployment, EcsSecrets, Task, Vars};

/// `--pin-versions`, where the `deploy` feature is on.
#[derive(clap::Args, Debug, Default)]
pub(super) struct Pin {
    /// Pin each unpinned Secrets Manager reference to the id of its current version
    /// (`ARN:key::VERSION-ID`), read from AWS with the standard credential chain, so that a
    /// rotation produces a new task-definition revision. Reads metadata only
    /// (`secretsmanager:DescribeSecret` on the secrets: `policy --role pin`), never a value.
    #[cfg(feature = "deploy")]
    #[arg(long)]
    pin_versions: bool,
}

impl Pin {
    pub(super) fn none() -> Self {
        Pin::default()
    }
}

/// `--omit-missing-optional` and its `--read-values`, where the `deploy` feature is on.
#[derive(clap::Args, Debug, Default)]
pub(super) struct Omit {
    /// Leave out the references of `Option` fields whose secret or parameter does not exist,
    /// asked of AWS with the standard credential chain (preflight's metadata reads: `policy
    /// --role preflight`), one line on standard error each. Exit 1, with nothing printed or
    /// written, when a required reference is missing or a reference cannot be checked.
    #[cfg(feature = "deploy")]
    #[arg(long)]
    omit_missing_optional: bool,
    /// With --omit-missing-optional: also read each secret's value (decrypted, then wiped) to
    /// learn whether its JSON keys are there, so that a missing key of an `Option` field is left
    /// out too (`policy --role preflight-read-values`).
    #[cfg(feature = "deploy")]
    #[arg(long, requires = "omit_missing_optional")]
    read_values: bool,
}

/// The value to print with the lines for standard error that say what was left out, or (a
/// required reference missing, a failed request) the run's refusal: exit 1, nothing on standard
/// output.
pub(super) type Reduced<T> = Result<(T, String), Output>;

impl Omit {
    /// `deployment`, without its missing optional references when asked.
    pub(super) fn deployment(
        &self,
        deployment: Deployment,
        aws: Aws<'_>,
    ) -> Result<Reduced<Deployment>, CliError> {
        #[cfg(feature = "deploy")]
        if self.omit_missing_optional {
            return super::aws::omit_missing_optional(
                aws,
                self.read_values,
                |loader, options| async move {
                    loader.omit_missing_optional(&deployment, options).await
                },
            );
        }
        let _ = aws;
        Ok(Ok((deployment, String::new())))
    }

    /// `task`, without its declarations' missing optional references when asked.
    pub(super) fn task(&self, task: Task, aws: Aws<'_>) -> Result<Reduced<Task>, CliError> {
        #[cfg(feature = "deploy")]
        if self.omit_missing_optional {
            return super::aws::omit_missing_optional(
                aws,
                self.read_values,
                |loader, options| async move { loader.omit_missing_optional_task(&task, options).await },
            );
        }
        let _ = aws;
        Ok(Ok((task, String::new())))
    }
}

/// `out`, with the lines that say what was left out before its own notes.
pub(super) fn with_omitted(mut out: Output, omitted: String) -> Output {
    out.stderr.insert_str(0, &omitted);
    out
}

/// The deployment for `vars`; with `--pin-versions`, pinned to the current versions.
#[cfg_attr(not(feature = "deploy"), allow(clippy::needless_pass_by_value))]
pub(super) fn deployment<T: EcsSecrets>(
    vars: &Vars,
    known: &[String],
    pin: &Pin,
    aws: Aws<'_>,
) -> Result<Deployment, CliError> {
    #[cfg(feature = "deploy")]
    if pin.pin_versions {
        return super::aws::pin_versions::<T>(vars, aws);
    }
    let _ = (pin, aws);
    T::deployment_for(vars).map_err(|error| CliError::Placeholders {
        error,
        known: known.to_vec(),
    })
}
