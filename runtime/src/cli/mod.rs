#![doc = include_str!("../../docs/cli.md")]
#![cfg_attr(
    not(feature = "deploy"),
    doc = "",
    doc = "[`run_with_config`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/cli/fn.run_with_config.html",
    doc = "[`run_task_with_config`]: https://docs.rs/ecs-secrets/latest/ecs_secrets/cli/fn.run_task_with_config.html"
)]

use std::ffi::OsString;
mod error;
mod io;
mod resolve;
mod task;
#[cfg(unix)]
mod write;

pub use error::CliError;
use error::shown_path;

#[cfg(feature = "deploy")]
#[cfg_attr(docsrs, doc(cfg(feature = "deploy")))]
pub use task::run_task_with_config;
pub use task::{run_task, task_main};

use std::io::Write;
use std::path::{Path, PathBuf};

#[cfg(feature = "deploy")]
mod aws;

use io::{is_stdin, pretty, read_json, write_file};
use resolve::{Omit, Pin, with_omitted};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::deployment::task_definition::{self, TaskDefinitionError};
use crate::text::escaped;
use crate::{Deployment, EcsSecrets, Format, Role, Vars};

/// Exit status when `check` finds drift (and when `preflight` finds a problem).
pub const EXIT_DRIFT: i32 = 1;
/// Exit status on an error (bad arguments, unreadable file, refused merge…).
pub const EXIT_ERROR: i32 = 2;

/// The end of every `--help`: placeholders, then the exit statuses of the subcommands this build
/// has (`$one`: what exits 1).
macro_rules! after_help {
    ($one:literal) => {
        concat!(
            "Placeholders: a declaration with `{placeholders}` (e.g. `secret = \"{stage}/app/db\"`) \
             needs their values: `--var stage=prod` (repeatable) and/or `--vars-from-env`, which \
             reads `{stage}` from STAGE; `--var` wins. `placeholders` lists the names.\n\n\
             Exit status: 0 on success, 1 when ",
            $one,
            ", 2 on an error."
        )
    };
}
pub(crate) use after_help;

#[cfg(not(feature = "deploy"))]
const AFTER_HELP: &str = after_help!("`check` finds drift");
#[cfg(feature = "deploy")]
const AFTER_HELP: &str = after_help!(
    "`check` finds drift, `preflight` a problem or `migrate` a refusal or a failed write"
);

/// The placeholder flags every command line here takes.
#[derive(clap::Args, Debug)]
struct VarArgs {
    /// A placeholder value, `NAME=VALUE` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", global = true, value_parser = parse_var)]
    vars: Vec<(String, String)>,

    /// Read each placeholder from the environment variable of the same name in upper case
    /// (`{stage}` ← `STAGE`); `--var` wins over it.
    #[arg(long, global = true)]
    vars_from_env: bool,
}

impl VarArgs {
    /// The placeholder values: `--vars-from-env` first, each `--var` over it; a `--var` of a
    /// name not in `known` is an error.
    fn vars(
        &self,
        known: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vars, CliError> {
        let mut vars = if self.vars_from_env {
            Vars::from_lookup(known.iter().map(String::as_str), env)
        } else {
            Vars::new()
        };
        for (name, value) in &self.vars {
            if !known.contains(name) {
                return Err(CliError::UnknownVar {
                    name: name.clone(),
                    known: known.to_vec(),
                });
            }
            vars.set(name.clone(), value.clone());
        }
        Ok(vars)
    }
}

/// Where a merge reads and writes, for both command lines.
#[derive(clap::Args, Debug)]
struct MergeArgs {
    /// The task-definition JSON file (`-` for standard input).
    file: PathBuf,
    /// Rewrite FILE instead of printing the result.
    #[arg(long, conflicts_with = "output")]
    in_place: bool,
    /// Write the result to OUT instead of printing it.
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Write the `register-task-definition` input: unwrap `describe-task-definition`
    /// output and drop the fields ECS sets (`taskDefinitionArn`, `revision`, `status`…).
    #[arg(long)]
    register_input: bool,
}

impl MergeArgs {
    /// Reads FILE, applies `merge` (which says what it did, for the note on standard error),
    /// and prints the result or writes it (`--in-place`, `-o`) with the note.
    fn run(
        &self,
        merge: impl FnOnce(&mut serde_json::Value) -> Result<String, TaskDefinitionError>,
    ) -> Result<Output, CliError> {
        let target = if self.in_place {
            if is_stdin(&self.file) {
                return Err(CliError::Usage(
                    "error: --in-place needs a FILE, not `-` (standard input)".to_owned(),
                ));
            }
            Some(self.file.as_path())
        } else {
            self.output.as_deref()
        };
        let mut json = read_json(&self.file)?;
        let did = merge(&mut json).map_err(|error| CliError::TaskDefinition {
            path: self.file.clone(),
            error,
        })?;
        if self.register_input {
            json = task_definition::registration_input(&json);
        }
        let text = pretty(&json);
        let Some(path) = target else {
            return Ok(Output {
                stdout: text,
                ..Output::default()
            });
        };
        write_file(path, &text)?;
        Ok(Output {
            stderr: format!("wrote {did} of {}\n", shown_path(path)),
            ..Output::default()
        })
    }
}

#[derive(Parser, Debug)]
#[command(disable_version_flag = true, after_help = AFTER_HELP)]
struct Args {
    #[command(flatten)]
    vars: VarArgs,

    #[command(subcommand)]
    command: Command,
}

/// Parses `args` for `command`: the parsed arguments, or (`--help`, which clap reports as an
/// error that is really output) the text to print.
fn parse<A: FromArgMatches>(
    command: clap::Command,
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> Result<Result<A, Output>, CliError> {
    match command
        .try_get_matches_from(args)
        .and_then(|m| A::from_arg_matches(&m))
    {
        Ok(args) => Ok(Ok(args)),
        Err(e) if !e.use_stderr() => Ok(Err(Output {
            stdout: e.render().to_string(),
            ..Output::default()
        })),
        Err(e) => Err(CliError::Usage(e.render().to_string())),
    }
}

/// Prints what a run returned and exits with its status (2 on an error, with the message on
/// standard error).
fn exit_with(result: Result<Output, CliError>) -> ! {
    let code = match result {
        Ok(out) => {
            // A closed pipe (`… | head`) is not an error worth a message.
            let _ = std::io::stdout().lock().write_all(out.stdout.as_bytes());
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().write_all(out.stderr.as_bytes());
            out.code
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "{e}");
            e.exit_code()
        }
    };
    std::process::exit(code)
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the container definition's `secrets` list (JSON).
    Secrets {
        /// The form: the ECS JSON, or a deploy tool's.
        #[arg(long, value_enum, default_value_t = Format::Ecs)]
        format: Format,
        #[command(flatten)]
        pin: Pin,
        #[command(flatten)]
        omit: Omit,
    },
    /// Print the least-privilege IAM policy document (JSON) of a role: execution (the default),
    /// task, pin, preflight, preflight-read-values or migrate.
    ///
    /// The execution role is the one ECS uses to inject the secrets at container start. The task
    /// role is the service's own, when it reads the secrets itself: the same reads plus
    /// `secretsmanager:BatchGetSecretValue` and `secretsmanager:DescribeSecret`. The other four
    /// are the deploy steps that pin versions, run preflight (with or without reading values) and
    /// migrate plaintext values.
    Policy {
        /// Which role the policy is for.
        #[arg(long, value_enum, default_value_t = Role::Execution)]
        role: Role,
        /// The form: the IAM JSON (ecs, terraform), or a CloudFormation template with one
        /// `AWS::IAM::Policy` (cloudformation, cloudformation-yaml).
        #[arg(long, value_enum, default_value_t = Format::Ecs)]
        format: Format,
        #[command(flatten)]
        omit: Omit,
    },
    /// Set a container's `secrets` in a task-definition JSON file; print the result, or write
    /// it back with `--in-place` or to `-o OUT`.
    ///
    /// FILE is the `register-task-definition --cli-input-json` input or
    /// `describe-task-definition` output (`-` reads standard input). Every other field is kept
    /// as it was. Refused when the container does not exist, when one of the names is already
    /// in its `environment`, or when the result would exceed ECS's 64 KiB limit.
    Merge {
        /// The container definition to set the `secrets` of.
        #[arg(long, value_name = "NAME")]
        container: String,
        #[command(flatten)]
        target: MergeArgs,
        #[command(flatten)]
        pin: Pin,
        #[command(flatten)]
        omit: Omit,
    },
    /// Compare a container of a task-definition JSON file with the declaration; exit 1 on
    /// drift.
    ///
    /// Reports missing, extra and changed secrets (`valueFrom` compared as text), secrets set
    /// as plain `environment` variables, and required plain variables set nowhere.
    Check {
        /// The container definition to check.
        #[arg(long, value_name = "NAME")]
        container: String,
        /// The task-definition JSON file (`-` for standard input).
        file: PathBuf,
        #[command(flatten)]
        pin: Pin,
        #[command(flatten)]
        omit: Omit,
    },
    /// List the declaration's placeholder names, one a line.
    Placeholders,
    /// Ask AWS whether every reference will resolve when a task starts (standard credential
    /// chain); exit 1 on any problem.
    ///
    /// Secrets with `DescribeSecret` (exists, not scheduled for deletion, pinned stage or
    /// version exists), parameters with `GetParameters` without decryption, each in the region
    /// of its ARN; each key with `DescribeKey`. JSON keys are "not verified" unless
    /// `--read-values`; the execution role is simulated with `--execution-role`. The caller's
    /// policy: `policy --role preflight` (or `preflight-read-values`).
    #[cfg(feature = "deploy")]
    Preflight(aws::PreflightArgs),
    /// Move plaintext `environment` values into the declared secrets and parameters; a plan
    /// unless `--apply`.
    ///
    /// Then the entries leave `environment` and the container's `secrets` are set (the
    /// standard credential chain). Exit 1 when a variable is refused or a write fails.
    ///
    /// The plan reads each destination (`GetSecretValue`, decrypted `GetParameters`) and prints
    /// one line per variable: where it goes, whether that exists, and create / new version /
    /// merge key / nothing to do / refused and why. Never a value. `--apply` writes (Secrets
    /// Manager `CreateSecret` or `PutSecretValue`, SSM `PutParameter` as SecureString with the
    /// declared `kms_key`), then rewrites FILE; if a write fails FILE is left as it was and a
    /// second run completes. The caller's policy: `policy --role migrate`.
    #[cfg(feature = "deploy")]
    Migrate(aws::MigrateArgs),
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got `{s}`")),
    }
}

/// What a run printed and how it ends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// Standard output: JSON, a drift report, or help.
    pub stdout: String,
    /// Notes for standard error (what was written where).
    pub stderr: String,
    /// The exit status: 0, or [`EXIT_DRIFT`].
    pub code: i32,
}

/// The command line for `T`, on the process's arguments and environment: prints what [`run`]
/// returns, and exits with its status (2 on an error, with the message on standard error).
pub fn main<T: EcsSecrets>() -> ! {
    exit_with(run::<T>(std::env::args_os()))
}

/// The command line for `T` as a function: `args` starts with the program name, as
/// [`std::env::args_os`] does; `--vars-from-env` reads the process environment. `--help` is an
/// `Ok` with the help on `stdout`.
pub fn run<T: EcsSecrets>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> Result<Output, CliError> {
    run_with_env::<T>(args, &|name| std::env::var(name).ok())
}

/// [`run`] with `--vars-from-env` reading from `env` instead of the process environment.
pub fn run_with_env<T: EcsSecrets>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Output, CliError> {
    run_inner::<T>(args, env, Aws::default())
}

/// [`run_with_env`] with the AWS configuration `--pin-versions` uses, instead of the standard
/// chain's (feature `aws`). Runs its own current-thread Tokio runtime: call it from outside
/// an async context.
#[cfg(feature = "deploy")]
#[cfg_attr(docsrs, doc(cfg(feature = "deploy")))]
pub fn run_with_config<T: EcsSecrets>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: &dyn Fn(&str) -> Option<String>,
    config: &aws_config::SdkConfig,
) -> Result<Output, CliError> {
    run_inner::<T>(
        args,
        env,
        Aws {
            config: Some(config),
        },
    )
}

/// Where `--pin-versions` gets its AWS configuration: the caller's, or the standard chain's.
#[derive(Clone, Copy, Default)]
struct Aws<'a> {
    #[cfg(feature = "deploy")]
    config: Option<&'a aws_config::SdkConfig>,
    #[cfg(not(feature = "deploy"))]
    _none: std::marker::PhantomData<&'a ()>,
}

fn run_inner<T: EcsSecrets>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: &dyn Fn(&str) -> Option<String>,
    aws: Aws<'_>,
) -> Result<Output, CliError> {
    let name = crate::deployment::iam::short_type_name::<T>();
    let command = Args::command().about(format!(
        "Deployment outputs of `{name}`: its task-definition `secrets`, IAM policies, and a \
         merge and drift check for task-definition files"
    ));
    let args: Args = match parse(command, args)? {
        Ok(args) => args,
        Err(help) => return Ok(help),
    };
    let known = crate::placeholders::<T>();
    let vars = args.vars.vars(&known, env)?;
    let deployment = |pin: &Pin| resolve::deployment::<T>(&vars, &known, pin, aws);
    // With `--omit-missing-optional`, a refusal ends the run before anything is printed or
    // written.
    macro_rules! omitted {
        ($pin:expr, $omit:expr) => {
            match $omit.deployment(deployment($pin)?, aws)? {
                Ok(reduced) => reduced,
                Err(refused) => return Ok(refused),
            }
        };
    }
    match args.command {
        Command::Secrets { format, pin, omit } => {
            let (deployment, omitted) = omitted!(&pin, omit);
            Ok(Output {
                stdout: format.secrets(&deployment.secrets()),
                stderr: omitted,
                ..Output::default()
            })
        }
        Command::Policy { role, format, omit } => {
            let (deployment, omitted) = omitted!(&Pin::none(), omit);
            let stdout = format
                .policy(&deployment.policy(role), role)
                .ok_or_else(|| {
                    CliError::Usage(format!(
                        "error: --format {format} has no policy (the tool takes none); use ecs, \
                         cloudformation or terraform"
                    ))
                })?;
            Ok(Output {
                stdout,
                stderr: omitted,
                ..Output::default()
            })
        }
        Command::Placeholders => Ok(Output {
            stdout: known.iter().map(|n| format!("{n}\n")).collect(),
            ..Output::default()
        }),
        #[cfg(feature = "deploy")]
        Command::Preflight(args) => {
            let deployment = deployment(&Pin::none())?;
            aws::preflight(aws::Preflighted::Deployment(&deployment), args, aws)
        }
        // Missing placeholder values refuse a migration like any other refusal: exit 1.
        #[cfg(feature = "deploy")]
        Command::Migrate(args) => match deployment(&Pin::none()) {
            Ok(deployment) => aws::migrate(&deployment, args, aws),
            Err(e @ CliError::Placeholders { .. }) => Ok(Output {
                stderr: format!("{e}\n"),
                code: EXIT_DRIFT,
                ..Output::default()
            }),
            Err(e) => Err(e),
        },
        Command::Merge {
            container,
            target,
            pin,
            omit,
        } => {
            let (deployment, omitted) = omitted!(&pin, omit);
            let out = target.run(|json| {
                deployment.merge_into(json, &container)?;
                Ok(format!(
                    "{} secrets of `{}` into container `{}`",
                    deployment.references().len(),
                    deployment.name(),
                    escaped(&container)
                ))
            })?;
            Ok(with_omitted(out, omitted))
        }
        Command::Check {
            container,
            file,
            pin,
            omit,
        } => {
            let (deployment, omitted) = omitted!(&pin, omit);
            Ok(with_omitted(
                check(&deployment, &container, &file)?,
                omitted,
            ))
        }
    }
}

/// `check`: the drift report of the container in `file`; exit 1 on drift.
fn check(deployment: &Deployment, container: &str, file: &Path) -> Result<Output, CliError> {
    let td = read_json(file)?;
    let report = deployment
        .check(&td, container)
        .map_err(|error| CliError::TaskDefinition {
            path: file.to_owned(),
            error,
        })?;
    Ok(Output {
        stdout: format!("{report}\n"),
        code: if report.has_drift() { EXIT_DRIFT } else { 0 },
        ..Output::default()
    })
}
