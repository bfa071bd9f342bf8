//! What a drift check finds: the differences between a container (or an Express Mode primary
//! container) and what was declared for it.

use core::fmt;

use crate::text::quoted;
use crate::text::{Escaped, escaped};

/// One difference between a container definition and the declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Drift {
    /// Declared, but not in the container's `secrets`.
    Missing {
        /// The variable.
        name: String,
        /// The declared `valueFrom`.
        value_from: String,
    },
    /// Declared as a secret, but set as a plain `environment` variable: the value sits in the
    /// task definition in plain text, and a merge is refused until it is removed.
    InEnvironment {
        /// The variable.
        name: String,
        /// The declared `valueFrom`.
        value_from: String,
    },
    /// In the container's `secrets`, but not declared.
    Extra {
        /// The variable.
        name: String,
        /// Its `valueFrom` in the task definition (absent when the entry has none).
        value_from: Option<String>,
    },
    /// In both, with another `valueFrom` (compared as text, as ECS stores it).
    Changed {
        /// The variable.
        name: String,
        /// The `valueFrom` in the task definition (absent when the entry has none).
        actual: Option<String>,
        /// The declared `valueFrom`.
        expected: String,
    },
    /// A name more than once in the container's `secrets` (ECS rejects it: "Duplicate secret
    /// names found").
    Duplicate {
        /// The variable.
        name: String,
    },
    /// A log secret declared for the container that is not in its
    /// `logConfiguration.secretOptions`.
    LogSecretMissing {
        /// The log driver option (`apiKey`).
        option: String,
        /// The declared `valueFrom`.
        value_from: String,
    },
    /// A log secret with another `valueFrom` (compared as text).
    LogSecretChanged {
        /// The log driver option.
        option: String,
        /// The `valueFrom` in `secretOptions` (absent when the entry has none).
        actual: Option<String>,
        /// The declared `valueFrom`.
        expected: String,
    },
    /// In `logConfiguration.secretOptions`, but not declared (checked only for a container
    /// that was given log secrets).
    LogSecretExtra {
        /// The log driver option.
        option: String,
        /// Its `valueFrom` (absent when the entry has none).
        value_from: Option<String>,
    },
    /// `repositoryCredentials.credentialsParameter` is missing or names another secret.
    RepositoryCredentials {
        /// The `credentialsParameter` in the container (absent when there is none).
        actual: Option<String>,
        /// The declared one.
        expected: String,
    },
    /// A required plain variable (no `default`, not `Option`) that is in neither `environment`
    /// nor `secrets`: the task would start and the service would fail to load its configuration.
    RequiredEnvUnset {
        /// The variable.
        name: String,
    },
}

impl Drift {
    /// What the difference is about: the variable; for a log secret, the log driver option;
    /// `repositoryCredentials` for registry credentials.
    pub fn name(&self) -> &str {
        match self {
            Drift::LogSecretMissing { option, .. }
            | Drift::LogSecretChanged { option, .. }
            | Drift::LogSecretExtra { option, .. } => option,
            Drift::RepositoryCredentials { .. } => "repositoryCredentials",
            Drift::Missing { name, .. }
            | Drift::InEnvironment { name, .. }
            | Drift::Extra { name, .. }
            | Drift::Changed { name, .. }
            | Drift::Duplicate { name }
            | Drift::RequiredEnvUnset { name } => name,
        }
    }
}

fn or_none(v: &Option<String>) -> Escaped<'_> {
    escaped(v.as_deref().unwrap_or("(none)"))
}

/// Every name and reference is printed escaped (control and invisible characters as `\n`,
/// `\u{1b}`…): most come from the task definition.
impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Missing { name, value_from } => write!(
                f,
                "missing secret `{}` (valueFrom {})",
                escaped(name),
                escaped(value_from)
            ),
            Drift::InEnvironment { name, value_from } => write!(
                f,
                "`{}` is a plain `environment` variable, but is declared as a secret \
                 (valueFrom {}): remove it from `environment`",
                escaped(name),
                escaped(value_from)
            ),
            Drift::Extra { name, value_from } => write!(
                f,
                "extra secret `{}` (valueFrom {}): not declared",
                escaped(name),
                or_none(value_from)
            ),
            Drift::Changed {
                name,
                actual,
                expected,
            } => write!(
                f,
                "changed secret `{}`: valueFrom is {}, declared {}",
                escaped(name),
                or_none(actual),
                escaped(expected)
            ),
            Drift::Duplicate { name } => write!(
                f,
                "secret `{}` is listed more than once (ECS: \"Duplicate secret names found\")",
                escaped(name)
            ),
            Drift::LogSecretMissing { option, value_from } => write!(
                f,
                "missing log secret `{}` in `logConfiguration.secretOptions` (valueFrom {})",
                escaped(option),
                escaped(value_from)
            ),
            Drift::LogSecretChanged {
                option,
                actual,
                expected,
            } => write!(
                f,
                "changed log secret `{}`: valueFrom is {}, declared {}",
                escaped(option),
                or_none(actual),
                escaped(expected)
            ),
            Drift::LogSecretExtra { option, value_from } => write!(
                f,
                "extra log secret `{}` (valueFrom {}): not declared",
                escaped(option),
                or_none(value_from)
            ),
            Drift::RepositoryCredentials { actual, expected } => write!(
                f,
                "`repositoryCredentials.credentialsParameter` is {}, declared {}",
                or_none(actual),
                escaped(expected)
            ),
            Drift::RequiredEnvUnset { name } => write!(
                f,
                "required variable `{}` is in neither `environment` nor `secrets`: the \
                 service would fail to load its configuration",
                escaped(name)
            ),
        }
    }
}

/// The differences between one container of a task definition and the declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriftReport {
    /// The container that was checked.
    pub container: String,
    /// The differences: declared secrets in declaration order (missing, in `environment`,
    /// changed), then the container's extra and duplicate secrets in its order, then the
    /// required plain variables that are unset.
    pub drifts: Vec<Drift>,
    /// Required plain variables not found in `environment` or `secrets` of a container that
    /// also loads `environmentFiles` (from S3), which may well set them: they cannot be checked
    /// here, so they are listed without counting as drift.
    pub unverified: Vec<String>,
}

impl DriftReport {
    /// Whether the container differs from the declaration.
    pub fn has_drift(&self) -> bool {
        !self.drifts.is_empty()
    }
}

impl fmt::Display for DriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let container = escaped(&self.container);
        match self.drifts.len() {
            0 => write!(f, "container `{container}`: no drift")?,
            1 => write!(f, "container `{container}`: 1 difference")?,
            n => write!(f, "container `{container}`: {n} differences")?,
        }
        for d in &self.drifts {
            write!(f, "\n  - {d}")?;
        }
        if !self.unverified.is_empty() {
            write!(
                f,
                "\n  note: {} not in `environment` or `secrets`; the container's \
                 `environmentFiles` may set {}",
                quoted(&self.unverified),
                if self.unverified.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            )?;
        }
        Ok(())
    }
}
