//! The subcommands that call AWS (feature `aws`): each runs the [`Loader`] on a current-thread
//! Tokio runtime of its own, with the caller's `SdkConfig` or the standard credential chain's.

use std::future::Future;

use crate::aws::{Loader, PreflightOptions};
use crate::{Deployment, EcsSecrets, Vars};

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

/// `preflight`: [`Loader::preflight`]'s report on standard output (text, or JSON with
/// `--json`), exit 1 on any problem.
pub(super) fn preflight(
    deployment: &Deployment,
    json: bool,
    read_values: bool,
    aws: Aws<'_>,
) -> Result<Output, CliError> {
    let options = PreflightOptions::new().read_values(read_values);
    let report = with_loader(aws, |loader| async move {
        loader.preflight(deployment, options).await
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
