//! The command line for a task of several containers: the [`Task`] is the caller's, built for
//! the placeholder values of each run (the module docs of `cli` show it).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use super::io::read_json;
use super::resolve::{Omit, with_omitted};
use super::{Aws, CliError, EXIT_DRIFT, MergeArgs, Output, VarArgs, exit_with, parse};
use crate::text::escaped;
use crate::{Format, Role, Task, Vars};

#[cfg(not(feature = "deploy"))]
const AFTER_HELP: &str = super::after_help!("`check` finds drift");
#[cfg(feature = "deploy")]
const AFTER_HELP: &str = super::after_help!("`check` finds drift or `preflight` a problem");

#[derive(Parser, Debug)]
#[command(disable_version_flag = true, after_help = AFTER_HELP)]
struct Args {
    #[command(flatten)]
    vars: VarArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the one policy of the whole task (every container, log option and registry
    /// credential) for a role.
    Policy {
        /// Which role the policy is for.
        #[arg(long, value_enum, default_value_t = Role::Execution)]
        role: Role,
        /// The form (`ecs`, `terraform`: the IAM JSON; `cloudformation[-yaml]`: a template).
        #[arg(long, value_enum, default_value_t = Format::Ecs)]
        format: Format,
        #[command(flatten)]
        omit: Omit,
    },
    /// Print what the task sets in each of its containers (`secrets`, `secretOptions`,
    /// `repositoryCredentials`).
    Containers {
        /// The form (`ecs`, `terraform`, `cloudformation`, `cloudformation-yaml`).
        #[arg(long, value_enum, default_value_t = Format::Ecs)]
        format: Format,
        #[command(flatten)]
        omit: Omit,
    },
    /// Set every named container's secrets in a task-definition (or Express Mode input) JSON
    /// file; print the result, or write it back with `--in-place` or to `-o OUT`.
    Merge {
        #[command(flatten)]
        target: MergeArgs,
        #[command(flatten)]
        omit: Omit,
    },
    /// Compare every named container of a JSON file with the task; exit 1 on drift.
    Check {
        /// The JSON file (`-` for standard input).
        file: PathBuf,
        #[command(flatten)]
        omit: Omit,
    },
    /// List the placeholder names, one a line.
    Placeholders,
    /// Ask AWS whether every reference of every container (its secrets, log options and
    /// registry credentials) will resolve when a task starts (standard credential chain); exit
    /// 1 on any problem. Registry credentials need `username` and `password`, checked with
    /// `--read-values`. The caller's policy: `policy --role preflight` (or
    /// `preflight-read-values`).
    #[cfg(feature = "deploy")]
    Preflight(super::aws::PreflightArgs),
}

/// The command line for a task, on the process's arguments and environment: prints what
/// [`run_task`] returns and exits with its status. `placeholders` are the names the builder
/// needs (e.g. [`crate::placeholders`] of its structs, merged).
pub fn task_main<F>(placeholders: &[String], build: F) -> !
where
    F: Fn(&Vars) -> Result<Task, Box<dyn std::error::Error>>,
{
    let env = |name: &str| std::env::var(name).ok();
    exit_with(run_task(std::env::args_os(), &env, placeholders, build))
}

/// [`task_main`] as a function: `args` starts with the program name; `--vars-from-env` reads
/// `env`.
pub fn run_task<F>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: &dyn Fn(&str) -> Option<String>,
    placeholders: &[String],
    build: F,
) -> Result<Output, CliError>
where
    F: Fn(&Vars) -> Result<Task, Box<dyn std::error::Error>>,
{
    run_task_inner(args, env, placeholders, Aws::default(), build)
}

/// [`run_task`] with the caller's AWS configuration for `preflight`, as
/// [`run_with_config`](super::run_with_config) is [`run_with_env`](super::run_with_env) with one.
#[cfg(feature = "deploy")]
#[cfg_attr(docsrs, doc(cfg(feature = "deploy")))]
pub fn run_task_with_config<F>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: &dyn Fn(&str) -> Option<String>,
    placeholders: &[String],
    config: &aws_config::SdkConfig,
    build: F,
) -> Result<Output, CliError>
where
    F: Fn(&Vars) -> Result<Task, Box<dyn std::error::Error>>,
{
    let aws = Aws {
        config: Some(config),
    };
    run_task_inner(args, env, placeholders, aws, build)
}

#[cfg_attr(not(feature = "deploy"), allow(clippy::needless_pass_by_value))]
fn run_task_inner<F>(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    env: &dyn Fn(&str) -> Option<String>,
    placeholders: &[String],
    aws: Aws<'_>,
    build: F,
) -> Result<Output, CliError>
where
    F: Fn(&Vars) -> Result<Task, Box<dyn std::error::Error>>,
{
    let command = Args::command().about(
        "Deployment outputs of a task of several containers: its one policy, what it sets in \
         each container, and a merge and drift check for task-definition files",
    );
    let args: Args = match parse(command, args)? {
        Ok(args) => args,
        Err(help) => return Ok(help),
    };
    let vars = args.vars.vars(placeholders, env)?;
    let task = || build(&vars).map_err(|e| CliError::Task(e.to_string()));
    // With `--omit-missing-optional`, a refusal ends the run before anything is printed or
    // written.
    macro_rules! omitted {
        ($omit:expr) => {
            match $omit.task(task()?, aws)? {
                Ok(reduced) => reduced,
                Err(refused) => return Ok(refused),
            }
        };
    }
    match args.command {
        Command::Placeholders => Ok(Output {
            stdout: placeholders.iter().map(|n| format!("{n}\n")).collect(),
            ..Output::default()
        }),
        Command::Policy { role, format, omit } => {
            let (task, omitted) = omitted!(omit);
            let text = format.policy(&task.policy(role), role).ok_or_else(|| {
                CliError::Usage(format!("error: --format {format} has no policy form"))
            })?;
            Ok(with_omitted(stdout(text), omitted))
        }
        Command::Containers { format, omit } => {
            let (task, omitted) = omitted!(omit);
            let text = format.task(&task).ok_or_else(|| {
                CliError::Usage(format!(
                    "error: --format {format} describes one container: use the one-struct \
                     command line's `secrets --format {format}`"
                ))
            })?;
            Ok(with_omitted(stdout(text), omitted))
        }
        Command::Merge { target, omit } => {
            let (task, omitted) = omitted!(omit);
            let out = target.run(|json| {
                let shape = task.merge_into(json)?;
                let names: Vec<String> = (task.container_names())
                    .map(|n| escaped(n).to_string())
                    .collect();
                Ok(format!(
                    "the secrets of containers {} into {shape}",
                    names.join(", ")
                ))
            })?;
            Ok(with_omitted(out, omitted))
        }
        #[cfg(feature = "deploy")]
        Command::Preflight(args) => {
            let task = task()?;
            super::aws::preflight(super::aws::Preflighted::Task(&task), args, aws)
        }
        Command::Check { file, omit } => {
            let (task, omitted) = omitted!(omit);
            let report =
                task.check(&read_json(&file)?)
                    .map_err(|error| CliError::TaskDefinition {
                        path: file.clone(),
                        error,
                    })?;
            let out = Output {
                stdout: format!("{report}\n"),
                code: if report.has_drift() { EXIT_DRIFT } else { 0 },
                ..Output::default()
            };
            Ok(with_omitted(out, omitted))
        }
    }
}

fn stdout(text: String) -> Output {
    Output {
        stdout: text,
        ..Output::default()
    }
}
