//! Optional references resolved per environment: [`Loader::omit_missing_optional`] and
//! [`Loader::omit_missing_optional_task`] run preflight on every reference and derive from its
//! findings which references of `Option` fields do not exist, so that one declaration serves an
//! environment that has a flag parameter and one that does not have it yet.
//!
//! The rule, in one function ([`decide`]): a field's reference is left out when it is
//! optional and preflight proved it missing — `SecretNotFound`, `ParameterNotFound`, or (values
//! read) `JsonKey` with [`ExtractError::KeyMissing`]. Every other problem of preflight is an
//! error, on an optional reference too: a request that failed proves nothing (never omit on
//! uncertainty), and anything else would fail the task at start with the reference kept.
//!
//! [`Loader::omit_missing_optional`]: crate::aws::Loader::omit_missing_optional
//! [`Loader::omit_missing_optional_task`]: crate::aws::Loader::omit_missing_optional_task

use core::fmt;

use crate::Task;
use crate::aws::engine::Engine;
use crate::deployment::Deployment;
use crate::extract::ExtractError;
use crate::model::Field;
use crate::text::escaped;

use super::preflight::{self, Check, Finding, PreflightOptions, PreflightReport, Subject};

/// What [`Loader::omit_missing_optional`](crate::aws::Loader::omit_missing_optional) may read
/// beyond metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OmitOptions {
    read_values: bool,
}

impl OmitOptions {
    /// Metadata only: no secret value is read, nothing is decrypted. An existing secret with
    /// the JSON key of an `Option` field is kept, whether or not the key is in its value.
    pub fn new() -> Self {
        OmitOptions::default()
    }

    /// Also read each secret's value (`GetSecretValue`, which decrypts) to learn whether the
    /// JSON keys are there: a missing key of an `Option` field is then left out too (and one of
    /// a required field is an error). The caller then needs
    /// [`Role::PreflightReadValues`](crate::Role::PreflightReadValues). Default: off.
    pub fn read_values(mut self, on: bool) -> Self {
        self.read_values = on;
        self
    }

    /// Whether values are read.
    pub fn get_read_values(&self) -> bool {
        self.read_values
    }
}

/// A [`Deployment`] or [`Task`] without the references of `Option` fields that do not exist,
/// and what was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Omitted<T> {
    value: T,
    omissions: Vec<Omission>,
}

impl<T> Omitted<T> {
    /// The deployment (or task) without the missing optional references: its `secrets`, its
    /// policies, its merge and its check all leave them out.
    pub fn get(&self) -> &T {
        &self.value
    }

    /// The deployment (or task), without the list of what was left out.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The deployment (or task) and what was left out.
    pub fn into_parts(self) -> (T, Vec<Omission>) {
        (self.value, self.omissions)
    }

    /// What was left out, in preflight's order (container by container, field by field).
    pub fn omissions(&self) -> &[Omission] {
        &self.omissions
    }
}

/// One reference of an `Option` field that was left out, because preflight proved it missing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Omission {
    /// The container, for a [`Task`]; `None` for a [`Deployment`].
    pub container: Option<String>,
    /// The struct that declares the field.
    pub struct_name: &'static str,
    /// The Rust field name.
    pub field: &'static str,
    /// The environment variable that ECS will not set.
    pub env: &'static str,
    /// The reference that was left out (`valueFrom`).
    pub value_from: String,
    /// Why: [`Finding::SecretNotFound`], [`Finding::ParameterNotFound`], or a
    /// [`Finding::JsonKey`] whose error is [`ExtractError::KeyMissing`].
    pub reason: Finding,
}

/// One line: the container, the variable, the field and the reference, then why. Text that
/// came from placeholder values or AWS prints escaped.
impl fmt::Display for Omission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        if let Some(container) = &self.container {
            line.push_str(&format!("container `{container}`: "));
        }
        line.push_str(&format!(
            "left out {} (optional field `{}.{}`, from {}): {}",
            self.env, self.struct_name, self.field, self.value_from, self.reason
        ));
        write!(f, "{}", escaped(&line))
    }
}

/// Why nothing could be left out: preflight found problems that leaving out missing optional
/// references does not solve.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OmitError {
    /// A required field's reference does not exist, a request failed (denied, throttled, the
    /// deadline: the reference is not proven missing, so it is not left out), or a reference
    /// that exists would fail the task (scheduled for deletion, a pinned version missing, a key
    /// disabled…). Every one at once, with preflight's words.
    Problems {
        /// The declaration's struct name, or `task (containers a, b)`.
        name: String,
        /// Each check with a problem, holding only its problems, in preflight's order.
        checks: Vec<Check>,
    },
}

impl OmitError {
    /// Each check with a problem, holding only its problems.
    pub fn checks(&self) -> &[Check] {
        match self {
            OmitError::Problems { checks, .. } => checks,
        }
    }
}

impl fmt::Display for OmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let OmitError::Problems { name, checks } = self;
        let problems: usize = checks.iter().map(|c| c.findings.len()).sum();
        write!(
            f,
            "`{name}`: {problems} problem{} that leaving out missing optional references does \
             not solve, so nothing was left out:",
            if problems == 1 { "" } else { "s" }
        )?;
        for c in checks {
            write!(f, "\n  {}", escaped(&c.about().to_string()))?;
            for finding in &c.findings {
                write!(f, "\n    - {}", escaped(&finding.to_string()))?;
                if let Some(ecs) = finding.ecs_says() {
                    write!(f, "\n      ECS at task start: {}", escaped(&ecs))?;
                }
            }
        }
        Ok(())
    }
}

impl std::error::Error for OmitError {}

fn preflight_options(options: &OmitOptions) -> PreflightOptions {
    PreflightOptions::new().read_values(options.read_values)
}

/// [`Loader::omit_missing_optional`](crate::aws::Loader::omit_missing_optional).
pub(super) async fn deployment(
    engine: &Engine,
    deployment: &Deployment,
    options: OmitOptions,
) -> Result<Omitted<Deployment>, OmitError> {
    let report = preflight::preflight(engine, deployment, preflight_options(&options)).await;
    let fields: Vec<&Field> = deployment.references().map(|(f, _)| f).collect();
    let (left_out, omissions) = decide(&report, &fields)?;
    let mut value = deployment.clone();
    value.retain_references(|at| !left_out.contains(&at));
    Ok(Omitted { value, omissions })
}

/// [`Loader::omit_missing_optional_task`](crate::aws::Loader::omit_missing_optional_task).
pub(super) async fn task(
    engine: &Engine,
    task: &Task,
    options: OmitOptions,
) -> Result<Omitted<Task>, OmitError> {
    let report = preflight::preflight_task(engine, task, preflight_options(&options)).await;
    let fields: Vec<&Field> = task
        .containers
        .iter()
        .flat_map(|c| &c.declarations)
        .flat_map(|d| d.references().map(|(f, _)| f))
        .collect();
    let (left_out, omissions) = decide(&report, &fields)?;
    let mut value = task.clone();
    value.retain_references(|at| !left_out.contains(&at));
    Ok(Omitted { value, omissions })
}

/// Whether `finding` proves the reference missing: the secret or parameter does not exist, or
/// (values read) the secret's JSON has no such key.
fn proves_missing(finding: &Finding) -> bool {
    matches!(
        finding,
        Finding::SecretNotFound { .. }
            | Finding::ParameterNotFound { .. }
            | Finding::JsonKey {
                error: ExtractError::KeyMissing,
                ..
            }
    )
}

/// The references to leave out (indices among the declarations' references, in preflight's
/// order) and why, or every problem that remains. `fields[k]` is the field of the `k`-th
/// field check of `report`: preflight checks the declarations' references in that order.
fn decide(
    report: &PreflightReport,
    fields: &[&Field],
) -> Result<(Vec<usize>, Vec<Omission>), OmitError> {
    let mut left_out = Vec::new();
    let mut omissions = Vec::new();
    let mut problems = Vec::new();
    let mut field_checks = 0;
    for check in report.checks() {
        let mut missing = None;
        if let Subject::Field {
            struct_name,
            field,
            env,
        } = check.subject
        {
            let at = field_checks;
            field_checks += 1;
            let optional = fields.get(at).is_some_and(|f| f.optional);
            if optional {
                missing = check
                    .findings
                    .iter()
                    .find(|f| proves_missing(f))
                    .map(|reason| {
                        (
                            at,
                            Omission {
                                container: check.container.clone(),
                                struct_name,
                                field,
                                env,
                                value_from: check.value_from.clone(),
                                reason: reason.clone(),
                            },
                        )
                    });
            }
        }
        match missing {
            Some((at, omission)) => {
                left_out.push(at);
                omissions.push(omission);
            }
            None if check.has_problem() => {
                let mut only = check.clone();
                only.findings.retain(Finding::is_problem);
                problems.push(only);
            }
            None => {}
        }
    }
    if problems.is_empty() {
        Ok((left_out, omissions))
    } else {
        Err(OmitError::Problems {
            name: report.name().to_owned(),
            checks: problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EcsSecrets;

    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "app/db", key = "password")]
        password: String,
        #[ecs(ssm = "/app/flag")]
        flag: Option<String>,
        #[ecs(secret = "app/beta", key = "on")]
        beta: Option<String>,
    }

    fn check(env: &'static str, field: &'static str, findings: Vec<Finding>) -> Check {
        let mut c = Check::new(
            None,
            Subject::Field {
                struct_name: "Config",
                field,
                env,
            },
            format!("{env}-ref"),
        );
        c.findings = findings;
        c
    }

    fn report(checks: Vec<Check>) -> PreflightReport {
        PreflightReport::new("Config".to_owned(), false, checks)
    }

    fn east() -> String {
        "us-east-1".to_owned()
    }

    #[test]
    fn only_a_proven_missing_optional_reference_is_left_out() {
        let fields: Vec<&Field> = Config::FIELDS.iter().collect();
        let not_found = Finding::ParameterNotFound { region: east() };
        let key_missing = Finding::JsonKey {
            key: "on".into(),
            error: ExtractError::KeyMissing,
        };
        let r = report(vec![
            check("PASSWORD", "password", vec![]),
            check("FLAG", "flag", vec![not_found.clone()]),
            check("BETA", "beta", vec![key_missing.clone()]),
        ]);
        let (left_out, omissions) = decide(&r, &fields).unwrap();
        assert_eq!(left_out, [1, 2]);
        assert_eq!(omissions[0].reason, not_found);
        assert_eq!(omissions[1].reason, key_missing);
        assert_eq!(
            omissions[0].to_string(),
            "left out FLAG (optional field `Config.flag`, from FLAG-ref): GetParameters lists it \
             in InvalidParameters in us-east-1: it does not exist there, or the caller cannot see \
             it"
        );

        // A key not verified is no problem and proves nothing: kept.
        let note = Finding::JsonKeyNotVerified { key: "on".into() };
        let r = report(vec![check("BETA", "beta", vec![note])]);
        assert_eq!(decide(&r, &fields[2..]).unwrap(), (vec![], vec![]));
    }

    #[test]
    fn every_other_problem_is_an_error() {
        let fields: Vec<&Field> = Config::FIELDS.iter().collect();
        let denied = Finding::Request {
            operation: "GetParameters",
            code: "AccessDeniedException".into(),
            reason: "denied".into(),
        };
        let not_json = Finding::JsonKey {
            key: "on".into(),
            error: ExtractError::NotObject,
        };
        let missing = Finding::SecretNotFound { region: east() };
        let r = report(vec![
            check("PASSWORD", "password", vec![missing.clone()]),
            check("FLAG", "flag", vec![denied.clone()]),
            check(
                "BETA",
                "beta",
                vec![Finding::JsonKeyNotVerified { key: "on".into() }, not_json],
            ),
        ]);
        let error = decide(&r, &fields).unwrap_err();
        let findings: Vec<&[Finding]> = error.checks().iter().map(|c| &c.findings[..]).collect();
        assert_eq!(findings.len(), 3);
        assert_eq!(findings[0], [missing]);
        assert_eq!(findings[1], [denied]);
        assert_eq!(findings[2].len(), 1, "the note is not a problem");
        let text = error.to_string();
        assert!(
            text.starts_with(
                "`Config`: 3 problems that leaving out missing optional references does not \
                 solve, so nothing was left out:\n  PASSWORD (field `Config.password`) from \
                 PASSWORD-ref\n    - DescribeSecret finds no such secret in us-east-1\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn printed_text_is_escaped() {
        let omission = Omission {
            container: Some("app\nforged".into()),
            struct_name: "Config",
            field: "flag",
            env: "FLAG",
            value_from: "x\u{1b}[8m".into(),
            reason: Finding::SecretNotFound { region: east() },
        };
        assert_eq!(
            omission.to_string(),
            "container `app\\nforged`: left out FLAG (optional field `Config.flag`, from \
             x\\u{1b}[8m): DescribeSecret finds no such secret in us-east-1"
        );
    }
}
