//! The subcommands that call AWS (feature `aws`): each runs the [`Loader`] on a current-thread
//! Tokio runtime of its own, with the caller's `SdkConfig` or the standard credential chain's.

use std::future::Future;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::aws::Loader;
use crate::deploy::{
    MigrateError, MigrateOptions, OmitError, OmitOptions, Omitted, PreflightOptions,
};
use crate::{Deployment, EcsSecrets, Task, Vars};

use super::error::shown_path;
use super::io::{is_stdin, read_json, write_file};
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

/// `--omit-missing-optional`: `omit` ([`Loader::omit_missing_optional`] or its `_task`) on a
/// loader of `aws`'s configuration, then the value with one line for standard error per
/// omission, or the refusal: exit 1, the error on standard error, nothing on standard output.
pub(super) fn omit_missing_optional<T, F, Fut>(
    aws: Aws<'_>,
    read_values: bool,
    omit: F,
) -> Result<super::resolve::Reduced<T>, CliError>
where
    F: FnOnce(Loader, OmitOptions) -> Fut,
    Fut: Future<Output = Result<Omitted<T>, OmitError>>,
{
    let options = OmitOptions::new().read_values(read_values);
    let omitted = with_loader(aws, |loader| omit(loader, options))?;
    Ok(match omitted {
        Ok(omitted) => {
            let (value, omissions) = omitted.into_parts();
            Ok((value, omissions.iter().map(|o| format!("{o}\n")).collect()))
        }
        Err(error) => Err(Output {
            stderr: format!("error: {error}\n"),
            code: EXIT_DRIFT,
            ..Output::default()
        }),
    })
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

/// `migrate`'s arguments.
#[derive(clap::Args, Debug)]
pub(super) struct MigrateArgs {
    /// The container definition whose `environment` holds the values (any name for an Express
    /// Mode input: it has one container).
    #[arg(long, value_name = "NAME")]
    container: String,
    /// The task-definition or Express Mode input JSON file (`-` reads standard input, for a
    /// plan only).
    file: PathBuf,
    /// Store the values and rewrite FILE in place (default: print the plan, write nothing).
    #[arg(long)]
    apply: bool,
    /// Replace a secret, key or parameter that holds a different value (default: refuse it).
    #[arg(long)]
    overwrite: bool,
    /// Print the report as JSON (for CI) instead of text.
    #[arg(long)]
    json: bool,
}

/// `migrate`: [`Loader::migrate`] on FILE; with `--apply` the file is rewritten (the safe
/// in-place write of `merge --in-place`) when every write succeeded. The report on standard
/// output; exit 1 when a variable is refused or a write failed.
pub(super) fn migrate(
    deployment: &Deployment,
    args: MigrateArgs,
    aws: Aws<'_>,
) -> Result<Output, CliError> {
    if args.apply && is_stdin(&args.file) {
        return Err(CliError::Usage(
            "error: migrate --apply rewrites FILE, so it needs a FILE, not `-` (standard input)"
                .to_owned(),
        ));
    }
    let mut json = read_json(&args.file)?;
    let options = MigrateOptions::new()
        .apply(args.apply)
        .overwrite(args.overwrite);
    let container = args.container.as_str();
    let (result, json) = with_loader(aws, |loader| async move {
        let result = loader
            .migrate(deployment, &mut json, container, options)
            .await;
        (result, json)
    })?;
    let shown = |report: &crate::deploy::MigrationReport| {
        if args.json {
            pretty(&report.to_json())
        } else {
            format!("{report}\n")
        }
    };
    let out = match result {
        Ok(report) => {
            let written = if report.changed {
                let text = Zeroizing::new(pretty(&json));
                write_file(&args.file, &text)
                    .map(|()| format!("wrote {}\n", shown_path(&args.file)))
            } else {
                Ok(String::new())
            };
            written.map(|stderr| Output {
                stdout: shown(&report),
                stderr,
                code: 0,
            })
        }
        Err(MigrateError::TaskDefinition(error)) => Err(CliError::TaskDefinition {
            path: args.file.clone(),
            error,
        }),
        Err(MigrateError::Refused(report)) => Ok(Output {
            stdout: shown(&report),
            stderr: "error: migrate refused; nothing was written (see the report)\n".to_owned(),
            code: EXIT_DRIFT,
        }),
        Err(MigrateError::Failed(report)) => Ok(Output {
            stdout: shown(&report),
            stderr: format!(
                "error: a write failed; {} was not changed (see the report for what is stored)\n",
                shown_path(&args.file)
            ),
            code: EXIT_DRIFT,
        }),
    };
    crate::deploy::wipe(json);
    out
}
