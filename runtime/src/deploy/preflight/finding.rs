//! What preflight reports about each thing it checked: a [`Check`] names what ECS injects (a
//! field's variable, a log option, registry credentials, a key, the task definition) and its
//! [`Finding`]s. Nothing here ever holds a value or anything that depends on one.

use crate::TaskDefinitionError;
use crate::extract::ExtractError;

/// What preflight found about one reference (or key, or the task definition): what it is and
/// where ECS uses it, and what is wrong with it. No finding at all means it is proven good.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// The container, in a [`Task`](crate::Task)'s preflight; `None` in a
    /// [`Deployment`](crate::Deployment)'s.
    pub container: Option<String>,
    /// What ECS fills from the reference.
    pub subject: Subject,
    /// The reference (`valueFrom`), the key (`kms_key`), or empty for the task definition.
    pub value_from: String,
    /// For an SSM parameter that exists: its type (`String`, `StringList`, `SecureString`).
    pub parameter_type: Option<String>,
    /// Everything preflight found, problems and notes, in the order of the checks.
    pub findings: Vec<Finding>,
}

/// What a [`Check`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Subject {
    /// A field of a declaration: ECS sets the variable `env` from the reference.
    Field {
        /// The struct that declares the field.
        struct_name: &'static str,
        /// The Rust field name.
        field: &'static str,
        /// The environment variable ECS sets.
        env: &'static str,
    },
    /// A log driver option of the container (`logConfiguration.secretOptions`).
    LogOption {
        /// The option (`apiKey`, `splunk-token`…).
        option: String,
    },
    /// The container's private registry credentials
    /// (`repositoryCredentials.credentialsParameter`): a secret whose JSON has `username` and
    /// `password`.
    RepositoryCredentials,
    /// A declaration's `kms_key`.
    KmsKey {
        /// The struct that declares it.
        struct_name: &'static str,
    },
    /// The task definition as a whole ([`PreflightOptions::task_definition`](super::PreflightOptions::task_definition)).
    TaskDefinition,
}

impl Check {
    pub(in crate::deploy) fn new(
        container: Option<String>,
        subject: Subject,
        value_from: String,
    ) -> Check {
        Check {
            container,
            subject,
            value_from,
            parameter_type: None,
            findings: Vec::new(),
        }
    }

    /// Whether one of the findings is a problem (ECS would fail the task, or preflight could not
    /// tell).
    pub fn has_problem(&self) -> bool {
        self.findings.iter().any(Finding::is_problem)
    }

    /// The environment variable ECS sets from the reference, for a declaration's field.
    pub fn env(&self) -> Option<&'static str> {
        match self.subject {
            Subject::Field { env, .. } => Some(env),
            _ => None,
        }
    }

    /// The Rust field, for a declaration's field.
    pub fn field(&self) -> Option<&'static str> {
        match self.subject {
            Subject::Field { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// One thing preflight found about a reference. Never carries a value, nor its length.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Finding {
    /// `DescribeSecret` says the secret does not exist in `region` (for a partial ARN: no secret
    /// of that name).
    SecretNotFound {
        /// Where it was looked for: the region of the ARN.
        region: String,
    },
    /// The secret is scheduled for deletion (`DeletedDate` is set); reading it fails.
    ScheduledForDeletion,
    /// No version of the secret carries the pinned `version_stage`.
    VersionStageMissing {
        /// The stage the reference pins.
        stage: String,
    },
    /// The pinned `version_id` is not among the secret's versions that carry a stage (a version
    /// without one is deprecated, and Secrets Manager deletes it when it likes).
    VersionIdMissing {
        /// The id the reference pins.
        version_id: String,
    },
    /// Not a problem: the reference selects a JSON key, and checking it needs the value
    /// ([`PreflightOptions::read_values`](super::PreflightOptions::read_values)).
    JsonKeyNotVerified {
        /// The key.
        key: String,
    },
    /// The value was read and the key cannot be extracted from it as the agent extracts it.
    JsonKey {
        /// The key.
        key: String,
        /// Why (the same for every value of one kind of failure).
        error: ExtractError,
    },
    /// The value was read and has no `SecretString` (a binary secret): ECS cannot inject it.
    BinarySecret,
    /// The value was read and is larger than Secrets Manager's 65,536 bytes.
    SecretTooLarge,
    /// `GetParameters` lists the parameter in `InvalidParameters` in `region`: it does not exist
    /// there, or is not visible to the caller.
    ParameterNotFound {
        /// Where it was looked for: the region of the ARN, or the configured one for a bare
        /// name.
        region: String,
    },
    /// A `String` or `StringList` parameter longer than its tier allows (4 KB standard, 8 KB
    /// advanced; the value is in clear in the answer, so its length is known exactly).
    ParameterTooLarge {
        /// The limit it exceeds, in bytes.
        limit: usize,
    },
    /// `DescribeKey` says the key (a `kms_key`, or the key a `SecureString` is encrypted with)
    /// does not exist in `region`.
    KeyNotFound {
        /// The key, as declared or as `DescribeParameters` names it.
        key: String,
        /// Where it was looked for.
        region: String,
    },
    /// The key exists but is not `Enabled`, so it cannot decrypt.
    KeyNotEnabled {
        /// The key, as declared or as `DescribeParameters` names it.
        key: String,
        /// Its `KeyState` (`Disabled`, `PendingDeletion`…).
        state: String,
    },
    /// The policy simulator does not allow the execution role what ECS will ask for this
    /// reference or key at task start. Seen from the role's identity policies and permissions
    /// boundary only (not the secret's resource policy nor the key policy).
    RoleDenied {
        /// The role simulated.
        role: String,
        /// The action (`secretsmanager:GetSecretValue`, `ssm:GetParameters`, `kms:Decrypt`).
        action: &'static str,
        /// The resource it was simulated on.
        resource: String,
        /// For `kms:Decrypt`: the `kms:ViaService` value of the simulation.
        via: Option<String>,
        /// The simulator's decision (`implicitDeny`, `explicitDeny`, or `notEvaluated` when the
        /// answer did not name the resource).
        decision: String,
    },
    /// The task definition cannot take the task's secrets: the merge that deploys them refuses
    /// it (a container it does not have, a declared variable in `environment`, log secrets
    /// without a log driver…), or the result is over ECS's 64 KiB.
    TaskDefinition {
        /// Why, as [`Task::merge_into`](crate::Task::merge_into) says it.
        error: TaskDefinitionError,
    },
    /// A request that should have answered this failed (access denied, throttled after the
    /// retries, the deadline…): the reference is not proven.
    Request {
        /// The operation (`DescribeSecret`, `GetParameters`, `GetSecretValue`).
        operation: &'static str,
        /// AWS's error code or this crate's.
        code: String,
        /// What happened.
        reason: String,
    },
}

impl Finding {
    /// Whether ECS would fail the task for it (or preflight could not tell): every finding but
    /// [`Finding::JsonKeyNotVerified`].
    pub fn is_problem(&self) -> bool {
        !matches!(self, Finding::JsonKeyNotVerified { .. })
    }

    /// A stable, machine-readable name of the finding (the `Request` finding's is AWS's or this
    /// crate's code).
    pub fn code(&self) -> &str {
        match self {
            Finding::SecretNotFound { .. } => "SecretNotFound",
            Finding::ScheduledForDeletion => "ScheduledForDeletion",
            Finding::VersionStageMissing { .. } => "VersionStageMissing",
            Finding::VersionIdMissing { .. } => "VersionIdMissing",
            Finding::JsonKeyNotVerified { .. } => "JsonKeyNotVerified",
            Finding::JsonKey { error, .. } => error.code(),
            Finding::BinarySecret => "BinarySecret",
            Finding::SecretTooLarge => "SecretTooLarge",
            Finding::ParameterNotFound { .. } => "ParameterNotFound",
            Finding::ParameterTooLarge { .. } => "ParameterTooLarge",
            Finding::KeyNotFound { .. } => "KeyNotFound",
            Finding::KeyNotEnabled { .. } => "KeyNotEnabled",
            Finding::RoleDenied { .. } => "RoleDenied",
            Finding::TaskDefinition { error } => match error {
                TaskDefinitionError::TooLarge { .. } | TaskDefinitionError::TaskTooLarge { .. } => {
                    "TaskDefinitionTooLarge"
                }
                _ => "TaskDefinitionRefused",
            },
            Finding::Request { code, .. } => code,
        }
    }
}
