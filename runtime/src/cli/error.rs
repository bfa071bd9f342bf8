//! Why a run of the command line failed, and the message it prints.

use core::fmt;
use std::path::{Path, PathBuf};

use super::EXIT_ERROR;
use crate::ResolveError;
use crate::deployment::task_definition::TaskDefinitionError;
use crate::text::escaped;

/// A path as messages print it: [`escaped`], as the command line gave it.
pub(super) fn shown_path(path: &Path) -> String {
    escaped(&path.to_string_lossy()).to_string()
}

/// Why a run failed; `Display` is the message for standard error.
#[derive(Debug)]
#[non_exhaustive]
pub enum CliError {
    /// Bad arguments; clap's message, with usage.
    Usage(String),
    /// `--var` names a placeholder the declaration does not have.
    UnknownVar {
        /// The name given.
        name: String,
        /// The declaration's placeholders.
        known: Vec<String>,
    },
    /// Missing or invalid placeholder values, all of them.
    Placeholders {
        /// Every problem.
        error: ResolveError,
        /// The declaration's placeholders.
        known: Vec<String>,
    },
    /// A file could not be read, parsed or written.
    File {
        /// The file (`-` for standard input).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The merge or check refused the task definition.
    TaskDefinition {
        /// The file.
        path: PathBuf,
        /// Why.
        error: TaskDefinitionError,
    },
    /// The caller's task could not be built for these placeholder values
    /// ([`task_main`](super::task_main)): the builder's own error message.
    Task(String),
    /// `--pin-versions` could not read the current versions (feature `aws`).
    #[cfg(feature = "deploy")]
    Pin {
        /// Every secret that could not be pinned, with AWS's error code.
        error: ResolveError,
    },
}

impl CliError {
    /// The exit status for this error: [`EXIT_ERROR`].
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }
}

fn names(known: &[String]) -> String {
    if known.is_empty() {
        return "none".to_owned();
    }
    let list: Vec<String> = known.iter().map(|n| format!("{{{n}}}")).collect();
    list.join(", ")
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) => f.write_str(message.trim_end()),
            CliError::UnknownVar { name, known } => {
                let name = escaped(name);
                write!(
                    f,
                    "error: --var {name}: the configuration has no placeholder `{{{name}}}` (its \
                     placeholders: {})",
                    names(known)
                )
            }
            CliError::Placeholders { error, known } => {
                f.write_str("error: missing or invalid placeholder values:")?;
                for e in error.errors() {
                    write!(f, "\n  - {e}")?;
                }
                write!(
                    f,
                    "\nthe configuration's placeholders: {}; give them with --var NAME=VALUE or \
                     --vars-from-env",
                    names(known)
                )
            }
            CliError::File { path, reason } => {
                write!(f, "error: {}: {}", shown_path(path), escaped(reason))
            }
            CliError::TaskDefinition { path, error } => {
                write!(f, "error: {}: {error}", shown_path(path))
            }
            CliError::Task(message) => {
                write!(f, "error: cannot build the task: {}", escaped(message))
            }
            #[cfg(feature = "deploy")]
            CliError::Pin { error } => {
                f.write_str("error: cannot pin the secrets to their current versions:")?;
                for e in error.errors() {
                    write!(f, "\n  - {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CliError {}
