//! The subcommands that call AWS (feature `aws`): each runs the [`Loader`] on a current-thread
//! Tokio runtime of its own, with the caller's `SdkConfig` or the standard credential chain's.

use std::future::Future;
use std::path::PathBuf;

use crate::aws::{Loader, PreflightOptions};
use crate::{Deployment, EcsSecrets, Task, Vars};

use super::io::read_json;
use super::{Aws, CliError, EXIT_DRIFT, Output, pretty};

/// `f` on a loader of `aws`'s configuration, on a runtime of its own.
fn with_loader<R, F: Future<Output = R>>(
    aws: Aws<'_>,
    f: impl FnOnce(Loader) -> F,
) -> Result<R, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("error: cannot start a Tokio runtime: {e}")))?;
    Ok(runtime.block_on(async {
        let default;
        let config = match aws.config {
            Some(config) => config,
            None => {
                default = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
                &default
            }
        };
        f(Loader::new(config)).await
    }))
}

/// `--pin-versions`: [`Loader::pin`].
pub(super) fn pin_versions<T: EcsSecrets>(
    vars: &Vars,
    aws: Aws<'_>,
) -> Result<Deployment, CliError> {
    let pinned = with_loader(aws, |loader| async move { loader.pin::<T>(vars).await })?;
    pinned.map_err(|error| CliError::Pin { error })
}

/// `preflight`'s options.
#[derive(clap::Args, Debug)]
pub(super) struct PreflightArgs {
    /// Print the report as JSON (for CI) instead of text.
    #[arg(long)]
    json: bool,
    /// Also read each secret's value (`GetSecretValue`, decrypted) to check its JSON keys as the
    /// ECS agent extracts them, and its size; the value is wiped and never shown.
    #[arg(long)]
    read_values: bool,
    /// Also check that this task execution role may read every reference and decrypt with every
    /// `kms_key` (IAM's policy simulator, `iam:SimulatePrincipalPolicy` on the role).
    #[arg(long, value_name = "ROLE_ARN")]
    execution_role: Option<String>,
    /// Also merge the secrets into a copy of this task definition (or Express Mode input) JSON
    /// file, as `merge` would, and report a refusal or a result over ECS's 64 KiB (`-` for
    /// standard input; the file is not changed).
    #[arg(long, value_name = "FILE")]
    task_definition: Option<PathBuf>,
}

/// What `preflight` checks: one struct's declaration, or a whole task.
#[derive(Clone, Copy)]
pub(super) enum Preflighted<'a> {
    Deployment(&'a Deployment),
    Task(&'a Task),
}

/// `preflight`: [`Loader::preflight`]'s (or [`Loader::preflight_task`]'s) report on standard
/// output (text, or JSON with `--json`), exit 1 on any problem.
pub(super) fn preflight(
    what: Preflighted<'_>,
    args: PreflightArgs,
    aws: Aws<'_>,
) -> Result<Output, CliError> {
    let mut options = PreflightOptions::new().read_values(args.read_values);
    if let Some(role) = args.execution_role {
        options = options.execution_role(role);
    }
    if let Some(file) = &args.task_definition {
        options = options.task_definition(read_json(file)?);
    }
    let json = args.json;
    let report = with_loader(aws, |loader| async move {
        match what {
            Preflighted::Deployment(d) => loader.preflight(d, options).await,
            Preflighted::Task(t) => loader.preflight_task(t, options).await,
        }
    })?;
    Ok(Output {
        stdout: if json {
            pretty(&report.to_json())
        } else {
            report.to_string()
        },
        code: if report.is_healthy() { 0 } else { EXIT_DRIFT },
        ..Output::default()
    })
}
