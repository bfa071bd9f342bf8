//! How a [`PreflightReport`] reads: `Display` for people, [`PreflightReport::to_json`] for CI.
//! Both name the variable, the field and the `valueFrom`, say what is wrong, and what ECS would
//! say at task start; neither holds anything of a value (a [`Finding`] never carries one).

use core::fmt;

use serde_json::{Value, json};

use crate::text::escaped;

use crate::extract::ExtractError;

use super::{Check, Finding, PreflightReport, SECRET_VALUE_LIMIT, Subject};

/// How every task-start failure of a secret begins in the task's stopped reason.
const STOPPED: &str = "ResourceInitializationError: unable to pull secrets or registry auth: \
                       execution resource retrieval failed:";

impl Finding {
    /// What ECS would say when a task starts with this reference (the service's error as it
    /// reaches the task's stopped reason; `…` stands for the agent's wrapping, which varies with
    /// its version), or `None` when the finding is not a task-start failure of its own.
    pub fn ecs_says(&self) -> Option<String> {
        let asm = "unable to retrieve secret from asm: …";
        Some(match self {
            Finding::SecretNotFound { .. } => format!(
                "{STOPPED} {asm} ResourceNotFoundException: Secrets Manager can't find the \
                 specified secret."
            ),
            Finding::ScheduledForDeletion => format!(
                "{STOPPED} {asm} InvalidRequestException: You can't perform this operation on \
                 the secret because it was marked for deletion."
            ),
            Finding::VersionStageMissing { stage } => format!(
                "{STOPPED} {asm} ResourceNotFoundException: Secrets Manager can't find the \
                 specified secret value for staging label: {stage}"
            ),
            Finding::VersionIdMissing { version_id } => format!(
                "{STOPPED} {asm} ResourceNotFoundException: Secrets Manager can't find the \
                 specified secret value for VersionId: {version_id}"
            ),
            Finding::JsonKey {
                key,
                error: ExtractError::KeyMissing,
            } => format!(
                "{STOPPED} {asm} retrieved secret from Secrets Manager did not contain json key \
                 {key}"
            ),
            Finding::JsonKey { .. } => format!(
                "{STOPPED} {asm} the agent's json.Unmarshal of the secret fails (its message \
                 quotes the secret, so it is not repeated here)"
            ),
            Finding::BinarySecret => format!(
                "{STOPPED} {asm} the secret has no SecretString, so there is no text to inject"
            ),
            Finding::ParameterNotFound { .. } => {
                format!("{STOPPED} unable to retrieve secrets from ssm: … invalid parameters: …")
            }
            Finding::KeyNotFound { .. } | Finding::KeyNotEnabled { .. } => format!(
                "{STOPPED} … the read of every secret and SecureString this key protects fails: \
                 KMS cannot decrypt with it"
            ),
            Finding::RoleDenied {
                action, resource, ..
            } => format!(
                "{STOPPED} … AccessDeniedException: … is not authorized to perform: {action} on \
                 resource: {resource}"
            ),
            Finding::JsonKeyNotVerified { .. }
            | Finding::TaskDefinition { .. }
            | Finding::SecretTooLarge
            | Finding::ParameterTooLarge { .. }
            | Finding::Request { .. } => return None,
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::SecretNotFound { region } => {
                write!(f, "DescribeSecret finds no such secret in {region}")
            }
            Finding::ScheduledForDeletion => f.write_str(
                "the secret is scheduled for deletion (DeletedDate is set); restore it with \
                 RestoreSecret or point the reference at another secret",
            ),
            Finding::VersionStageMissing { stage } => {
                write!(f, "no version of the secret has the stage `{stage}`")
            }
            Finding::VersionIdMissing { version_id } => write!(
                f,
                "the secret has no version `{version_id}` with a stage (a version without one \
                 is deprecated and may be deleted at any time)"
            ),
            Finding::JsonKeyNotVerified { key } => write!(
                f,
                "the JSON key `{key}` is not verified (needs read_values: `--read-values`)"
            ),
            Finding::JsonKey { key, error } => write!(f, "JSON key `{key}`: {error}"),
            Finding::BinarySecret => f.write_str(
                "the secret is binary (SecretBinary only): ECS injects only SecretString",
            ),
            Finding::SecretTooLarge => write!(
                f,
                "the value is larger than Secrets Manager's {SECRET_VALUE_LIMIT} bytes"
            ),
            Finding::ParameterNotFound { region } => write!(
                f,
                "GetParameters lists it in InvalidParameters in {region}: it does not exist \
                 there, or the caller cannot see it"
            ),
            Finding::ParameterTooLarge { limit } => {
                write!(f, "the parameter's value is longer than {limit} bytes")
            }
            Finding::KeyNotFound { key, region } => {
                write!(f, "DescribeKey finds no key `{key}` in {region}")
            }
            Finding::KeyNotEnabled { key, state } => {
                write!(
                    f,
                    "the key `{key}` is {}, not Enabled: it cannot decrypt",
                    escaped(state)
                )
            }
            Finding::RoleDenied {
                role,
                action,
                resource,
                via,
                decision,
            } => {
                write!(
                    f,
                    "the execution role {role} may not {action} on {resource}"
                )?;
                if let Some(via) = via {
                    write!(f, " via {via}")?;
                }
                write!(f, " (policy simulator: {})", escaped(decision))
            }
            Finding::TaskDefinition { error } => write!(
                f,
                "the task definition cannot take the secrets (ECS's RegisterTaskDefinition, or \
                 the merge, would refuse it): {error}"
            ),
            Finding::Request {
                operation,
                code,
                reason,
            } => write!(
                f,
                "not proven: {operation} failed ({}): {}",
                escaped(code),
                escaped(reason)
            ),
        }
    }
}

impl Subject {
    /// The kind, as the JSON report names it.
    fn kind(&self) -> &'static str {
        match self {
            Subject::Field { .. } => "field",
            Subject::LogOption { .. } => "log_option",
            Subject::RepositoryCredentials => "repository_credentials",
            Subject::KmsKey { .. } => "kms_key",
            Subject::TaskDefinition => "task_definition",
        }
    }
}

/// What a [`Check`] is about, as a line of the report names it: see [`Check::about`].
pub(crate) struct About<'a>(&'a Check);

impl fmt::Display for About<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        if let Some(container) = &c.container {
            write!(f, "container `{}`: ", escaped(container))?;
        }
        let from = &c.value_from;
        let kind = c
            .parameter_type
            .as_deref()
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default();
        match &c.subject {
            Subject::Field {
                struct_name,
                field,
                env,
            } => write!(f, "{env} (field `{struct_name}.{field}`) from {from}{kind}"),
            Subject::LogOption { option } => write!(f, "log option `{option}` from {from}{kind}"),
            Subject::RepositoryCredentials => write!(f, "registry credentials from {from}"),
            Subject::KmsKey { struct_name } => write!(f, "kms_key of `{struct_name}`: {from}"),
            Subject::TaskDefinition => f.write_str("the task definition, with every secret merged"),
        }
    }
}

impl Check {
    /// What the check is about, on one line: its container, then the variable, field and
    /// reference (or the log option, the registry credentials, the key, the task definition).
    pub(crate) fn about(&self) -> About<'_> {
        About(self)
    }

    fn status(&self) -> &'static str {
        if self.has_problem() {
            "problem"
        } else if self.findings.is_empty() {
            "ok"
        } else {
            "not_verified"
        }
    }
}

impl PreflightReport {
    /// The report as JSON, for CI: `{"struct", "healthy", "read_values", "problems",
    /// "checks": [{"subject" (`field`, `log_option`, `repository_credentials`, `kms_key`,
    /// `task_definition`), "container", "env", "field", "struct", "option", "value_from",
    /// "status" (`ok`, `problem` or `not_verified`), "parameter_type", "findings": [{"code",
    /// "problem", "message", "ecs"}]}]}`; a key that does not apply to the subject is `null`.
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> = self
            .checks
            .iter()
            .map(|c| {
                let findings: Vec<Value> = c
                    .findings
                    .iter()
                    .map(|f| {
                        json!({
                            "code": f.code(),
                            "problem": f.is_problem(),
                            "message": f.to_string(),
                            "ecs": f.ecs_says(),
                        })
                    })
                    .collect();
                let (struct_name, option) = match &c.subject {
                    Subject::Field { struct_name, .. } | Subject::KmsKey { struct_name } => {
                        (Some(*struct_name), None)
                    }
                    Subject::LogOption { option } => (None, Some(option.as_str())),
                    Subject::RepositoryCredentials | Subject::TaskDefinition => (None, None),
                };
                json!({
                    "subject": c.subject.kind(),
                    "container": c.container,
                    "env": c.env(),
                    "field": c.field(),
                    "struct": struct_name,
                    "option": option,
                    "value_from": c.value_from,
                    "status": c.status(),
                    "parameter_type": c.parameter_type,
                    "findings": findings,
                })
            })
            .collect();
        json!({
            "struct": self.name,
            "healthy": self.is_healthy(),
            "read_values": self.read_values,
            "problems": self.problems().count(),
            "checks": checks,
        })
    }
}

impl fmt::Display for PreflightReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problems = self.problems().count();
        let values = if self.read_values {
            "values read"
        } else {
            "metadata only, values not read"
        };
        writeln!(
            f,
            "preflight of `{}`: {} references, {problems} problem{} ({values})",
            self.name,
            self.checks.len(),
            if problems == 1 { "" } else { "s" },
        )?;
        for c in &self.checks {
            let status = match c.status() {
                "ok" => "ok     ",
                "problem" => "PROBLEM",
                _ => "note   ",
            };
            writeln!(f, "{status} {}", c.about())?;
            for finding in &c.findings {
                writeln!(f, "    - {finding}")?;
                if let Some(ecs) = finding.ecs_says() {
                    writeln!(f, "      ECS at task start: {ecs}")?;
                }
            }
        }
        Ok(())
    }
}
