//! What a migration reports: one [`Step`] per variable, its [`StepAction`] and [`StepStatus`], as
//! text (one line per variable) and JSON. Names, ARNs, codes and limits only: no value, and
//! nothing that depends on one.

use core::fmt;

use serde_json::{Value, json};

use crate::text::escaped;

use crate::Shape;
use crate::deployment::task_definition::TaskDefinitionError;

/// What a migration does with one variable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepAction {
    /// Create the secret (with the value, or a JSON object with the key) or the parameter.
    Create,
    /// Give the secret a new current version, or overwrite the parameter (`--overwrite`, the
    /// destination holds a different value).
    NewVersion,
    /// Set the key in the secret's JSON object (a new version of the secret; one write for every
    /// key of the same secret).
    MergeKey,
    /// The destination already holds this value: nothing to write for it.
    NothingToDo,
    /// Not migrated, and nothing at all is written while any variable is refused.
    Refused(Refusal),
}

/// Why a variable is not migrated.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The destination holds a different value (pass `overwrite` to replace it).
    Different,
    /// The secret (or what the key must go into) is not a JSON object.
    NotAnObject,
    /// The secret holds a binary value only (`SecretBinary`); pass `overwrite` to replace it
    /// with the text.
    Binary,
    /// The parameter exists as a `String` or `StringList`, stored in clear: a migration writes
    /// `SecureString`s only, and does not change a parameter's type.
    NotSecure,
    /// The value (or the secret's merged JSON) is over the destination's limit.
    TooLarge {
        /// The limit, in bytes: Secrets Manager 65,536, SSM 8,192 (advanced tier).
        limit: usize,
    },
    /// The declaration pins a version id or a stage other than `AWSCURRENT`: a migration writes
    /// the current version.
    Pinned,
    /// An `/aws/reference/secretsmanager/` parameter: SSM reads a secret through it and cannot
    /// store one; declare the secret itself.
    ThroughSecretsManager,
    /// The declaration names a complete ARN (with the random suffix) of a secret that does not
    /// exist: a new secret would get another suffix, and the reference would still not resolve.
    CompleteArnMissing,
    /// Two variables for the same secret, key or parameter with different values.
    Conflict,
    /// Variables for both the whole secret and its JSON keys.
    WholeAndKeys,
    /// Several `kms_key`s are declared in the destination's region: which one to encrypt with is
    /// not said.
    SeveralKeys {
        /// The region.
        region: String,
    },
    /// The write goes by name (a new secret, or a parameter), so it lands in the caller's
    /// account, and the declaration names another one.
    OtherAccount {
        /// The account the declaration names.
        declared: String,
        /// The account of the caller's credentials.
        caller: String,
    },
    /// The variable's `environment` entry has no string `value`.
    NoValue,
    /// The variable is in the container's `environment` more than once.
    DuplicateEntry,
    /// The destination could not be read (AWS's code and message, never a value).
    Unreadable {
        /// AWS's error code, or ours.
        code: String,
        /// What failed.
        reason: String,
    },
}

impl Refusal {
    /// A short code for the JSON report (`different`, `too_large`…).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Different => "different",
            Refusal::NotAnObject => "not_an_object",
            Refusal::Binary => "binary",
            Refusal::NotSecure => "not_secure",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Pinned => "pinned",
            Refusal::ThroughSecretsManager => "through_secrets_manager",
            Refusal::CompleteArnMissing => "complete_arn_missing",
            Refusal::Conflict => "conflict",
            Refusal::WholeAndKeys => "whole_and_keys",
            Refusal::SeveralKeys { .. } => "several_keys",
            Refusal::OtherAccount { .. } => "other_account",
            Refusal::NoValue => "no_value",
            Refusal::DuplicateEntry => "duplicate_entry",
            Refusal::Unreadable { .. } => "unreadable",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Different => f.write_str(
                "it already holds a different value; check which one is right, and pass \
                 --overwrite to replace it",
            ),
            Refusal::NotAnObject => f.write_str(
                "the secret is not a JSON object, so the key cannot be set in it; declare the \
                 whole secret, or make it an object",
            ),
            Refusal::Binary => f.write_str(
                "the secret holds a binary value (SecretBinary), which ECS cannot inject; pass \
                 --overwrite to replace it with the text",
            ),
            Refusal::NotSecure => f.write_str(
                "the parameter exists as a String (stored in clear), and a migration writes \
                 SecureStrings only; delete it (or declare another name), then migrate",
            ),
            Refusal::TooLarge { limit } => {
                write!(f, "the value is larger than the limit of {limit} bytes")
            }
            Refusal::Pinned => f.write_str(
                "the declaration pins a version id or stage, and a migration writes the current \
                 version; remove the pin, migrate, then pin",
            ),
            Refusal::ThroughSecretsManager => f.write_str(
                "an /aws/reference/secretsmanager/ parameter only reads a secret; declare the \
                 secret itself to migrate into it",
            ),
            Refusal::CompleteArnMissing => f.write_str(
                "the declaration names a complete ARN (with its random suffix) and no such secret \
                 exists; a new secret would get another suffix, so declare the name without it",
            ),
            Refusal::Conflict => {
                f.write_str("another variable goes to the same place with a different value")
            }
            Refusal::WholeAndKeys => {
                f.write_str("other variables go to the whole secret and to its JSON keys at once")
            }
            Refusal::SeveralKeys { region } => write!(
                f,
                "several kms_keys are declared in {region}, and which one encrypts it is not \
                 said; declare one per region"
            ),
            Refusal::OtherAccount { declared, caller } => write!(
                f,
                "it is declared in account {declared}, and a new secret or a parameter is \
                 written by name in the caller's account, {caller}; run the migration with \
                 credentials of account {declared}"
            ),
            Refusal::NoValue => f.write_str(
                "its `environment` entry has no string `value`; give it one or remove the entry",
            ),
            Refusal::DuplicateEntry => {
                f.write_str("it is in `environment` more than once; keep one entry")
            }
            Refusal::Unreadable { code, reason } => {
                write!(
                    f,
                    "cannot read what it holds now ({}: {})",
                    escaped(code),
                    escaped(reason)
                )
            }
        }
    }
}

/// What happened to a step when the migration ran.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepStatus {
    /// A plan, or an apply that was refused: nothing was sent.
    Planned,
    /// Written.
    Stored,
    /// Nothing to write: the destination already held the value.
    Unchanged,
    /// The write was sent and failed.
    Failed {
        /// AWS's error code, or ours.
        code: String,
        /// What failed.
        reason: String,
    },
    /// Not sent, because an earlier write failed.
    NotAttempted,
}

/// One variable of the container's `environment` that the declaration sources.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// The environment variable (`DATABASE_PASSWORD`).
    pub variable: String,
    /// The Rust field (`AppConfig.database_password`).
    pub field: String,
    /// The secret's ARN (without the ECS tail) or the parameter's `valueFrom`; `None` when the
    /// declaration cannot be written to.
    pub destination: Option<String>,
    /// The JSON key, for a key of a secret.
    pub key: Option<String>,
    /// Whether the destination exists (`None`: unknown, it was not or could not be read).
    pub exists: Option<bool>,
    /// What the migration does with it.
    pub action: StepAction,
    /// What happened.
    pub status: StepStatus,
}

impl Step {
    fn kind(&self) -> &'static str {
        match &self.destination {
            Some(d) if d.contains(":secretsmanager:") => "secret",
            Some(_) => "parameter",
            None => "reference",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}) → ", escaped(&self.variable), self.field)?;
        match (&self.key, &self.destination) {
            (Some(key), Some(d)) => write!(f, "key `{key}` of secret {d}")?,
            (None, Some(d)) => write!(f, "{} {d}", self.kind())?,
            (_, None) => f.write_str("its declared reference")?,
        }
        match self.exists {
            Some(true) => f.write_str(" (exists)")?,
            Some(false) => f.write_str(" (does not exist)")?,
            None => {}
        }
        f.write_str(": ")?;
        let what = match (&self.action, self.kind()) {
            (StepAction::Create, "parameter") => "create it (SecureString)",
            (StepAction::Create, _) => "create it",
            (StepAction::NewVersion, "parameter") => "overwrite it (SecureString)",
            (StepAction::NewVersion, _) => "put a new version",
            (StepAction::MergeKey, _) => "merge the key into the JSON object",
            (StepAction::NothingToDo, _) => "nothing to do (it holds the same value)",
            (StepAction::Refused(r), _) => return write!(f, "refused: {r}"),
        };
        f.write_str(what)?;
        match &self.status {
            StepStatus::Planned | StepStatus::Unchanged => Ok(()),
            StepStatus::Stored => f.write_str(" — stored"),
            StepStatus::Failed { code, reason } => {
                write!(f, " — FAILED ({}: {})", escaped(code), escaped(reason))
            }
            StepStatus::NotAttempted => f.write_str(" — not attempted"),
        }
    }
}

/// The outcome of [`Loader::migrate`](crate::aws::Loader::migrate), one [`Step`] per variable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// The container (for an Express Mode input, the name given; it has one container).
    pub container: String,
    /// What the JSON was.
    pub shape: Shape,
    /// Whether writing was asked for (else a plan: only reads).
    pub apply: bool,
    /// One per declared variable with an `environment` entry, in declaration order.
    pub steps: Vec<Step>,
    /// How many writes were sent and succeeded.
    pub writes: usize,
    /// Whether the JSON was changed (the entries moved from `environment` to `secrets`).
    pub changed: bool,
}

impl MigrationReport {
    /// Whether any variable was refused (then nothing was written).
    pub fn is_refused(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.action, StepAction::Refused(_)))
    }

    /// Whether a write failed (then the JSON was left as it was).
    pub fn has_failed(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.status, StepStatus::Failed { .. }))
    }

    /// The variables whose values are stored now (written, or found there already).
    pub fn stored(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Stored | StepStatus::Unchanged))
            .map(|s| s.variable.as_str())
            .collect()
    }

    /// The report as JSON, for CI: every step with its codes.
    pub fn to_json(&self) -> Value {
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| {
                let (action, refusal) = match &s.action {
                    StepAction::Create => ("create", Value::Null),
                    StepAction::NewVersion => ("new_version", Value::Null),
                    StepAction::MergeKey => ("merge_key", Value::Null),
                    StepAction::NothingToDo => ("nothing_to_do", Value::Null),
                    StepAction::Refused(r) => (
                        "refused",
                        json!({"code": r.code(), "message": r.to_string()}),
                    ),
                };
                let status = match &s.status {
                    StepStatus::Planned => json!("planned"),
                    StepStatus::Stored => json!("stored"),
                    StepStatus::Unchanged => json!("unchanged"),
                    StepStatus::NotAttempted => json!("not_attempted"),
                    StepStatus::Failed { code, reason } => {
                        json!({"failed": {"code": code, "reason": reason}})
                    }
                };
                json!({
                    "variable": s.variable,
                    "field": s.field,
                    "destination": s.destination,
                    "key": s.key,
                    "exists": s.exists,
                    "action": action,
                    "refusal": refusal,
                    "status": status,
                })
            })
            .collect();
        json!({
            "container": self.container,
            "shape": self.shape.to_string(),
            "apply": self.apply,
            "refused": self.is_refused(),
            "failed": self.has_failed(),
            "writes": self.writes,
            "changed": self.changed,
            "steps": steps,
        })
    }
}

impl fmt::Display for MigrationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.apply { "apply" } else { "plan" };
        write!(
            f,
            "migrate container `{}` of the {} ({mode}):",
            self.container, self.shape
        )?;
        if self.steps.is_empty() {
            return f.write_str(
                "\n  nothing to migrate: no declared variable has a value in `environment`",
            );
        }
        for step in &self.steps {
            write!(f, "\n  {step}")?;
        }
        let n = self.steps.len();
        if self.is_refused() {
            f.write_str("\nrefused: nothing was written to AWS or to the file")
        } else if self.has_failed() {
            let stored = self.stored();
            write!(
                f,
                "\na write failed: the file was left as it was. Stored in AWS already: {}; run \
                 the migration again to complete it (those are then found equal)",
                if stored.is_empty() {
                    "none".to_owned()
                } else {
                    stored.join(", ")
                }
            )
        } else if !self.apply {
            write!(
                f,
                "\nthen: remove {n} from `environment` and set `secrets`; nothing was written \
                 (plan only; apply to do it)"
            )
        } else {
            write!(
                f,
                "\ndone: {} write(s); removed {n} from `environment` and set `secrets`",
                self.writes
            )
        }
    }
}

/// Why [`Loader::migrate`](crate::aws::Loader::migrate) changed nothing in the JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrateError {
    /// The JSON is not a task definition or Express Mode input of that container, or the result
    /// would not be one (too large).
    TaskDefinition(TaskDefinitionError),
    /// Variables were refused: nothing was written (the report names each, with why).
    Refused(MigrationReport),
    /// A write failed: the report says which values are stored already.
    Failed(MigrationReport),
}

impl MigrateError {
    /// The report, when the migration got as far as one.
    pub fn report(&self) -> Option<&MigrationReport> {
        match self {
            MigrateError::TaskDefinition(_) => None,
            MigrateError::Refused(r) | MigrateError::Failed(r) => Some(r),
        }
    }
}

impl fmt::Display for MigrateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MigrateError::TaskDefinition(e) => write!(f, "{e}"),
            MigrateError::Refused(r) | MigrateError::Failed(r) => write!(f, "{r}"),
        }
    }
}

impl std::error::Error for MigrateError {}

impl From<TaskDefinitionError> for MigrateError {
    fn from(e: TaskDefinitionError) -> Self {
        MigrateError::TaskDefinition(e)
    }
}
