//! Preflight: proves before a deploy that every task will get its secrets, by asking AWS about
//! each reference of a [`Deployment`] the way the ECS agent will at task start, and reporting
//! every problem at once.
//!
//! For each reference, in the region of its ARN:
//!
//! - **Secrets Manager** (`secrets.rs`): one `DescribeSecret` per distinct secret, all at once.
//!   It reads metadata only (no value, no KMS call) and answers: the secret exists (a partial
//!   ARN resolves), it is not scheduled for deletion (`DeletedDate`), and a pinned
//!   `version_stage` or `version_id` is among its versions (`VersionIdsToStages`).
//! - **JSON keys**: by default a key is [`Finding::JsonKeyNotVerified`], a status of its own that
//!   is not a problem: checking it needs the value. With
//!   [`PreflightOptions::read_values`] each distinct secret version is read once
//!   (`GetSecretValue` with the reference's selectors), held in `Zeroizing`, its keys extracted
//!   with [`json_key`](crate::extract::json_key) exactly as the agent extracts them, checked
//!   against Secrets Manager's 64 KiB limit, and wiped. Nothing of a value is kept, printed or
//!   logged: a finding says which key is missing or why the JSON is not usable, never what is
//!   there.
//! - **SSM** (`ssm.rs`): `GetParameters` **without decryption**, ten names per call and per
//!   region, as the agent groups them: a name in `InvalidParameters` does not exist in that
//!   region (a parameter that exists in another region than its ARN says is missing there, as
//!   it is for ECS). Then one `DescribeParameters` per region and 50 existing names, for the
//!   tier (the size limit of a `String`) and a `SecureString`'s key id. See `ssm.rs` for why
//!   both, and what the answers tell about sizes without decrypting.
//! - **Execution role** (`role.rs`, only with [`PreflightOptions::execution_role`]): IAM's policy
//!   simulator on what ECS will ask ([`Finding::RoleDenied`]).
//! - **KMS** (`kms.rs`): each declared `kms_key` and each `SecureString`'s customer-managed key
//!   exists and is `Enabled` (`DescribeKey`, in the key's region; no `Decrypt`). A declared key's
//!   [`Check`] has the field `kms_key` and no variable; a `SecureString`'s key problem is on the
//!   parameter's.
//!
//! A request that fails for another reason (access denied, throttled after the retries, the
//! deadline) is a [`Finding::Request`] on each reference it covered: preflight could not prove
//! the reference, which is a problem too.

mod finding;
mod kms;
mod report;
mod role;
mod scope;
mod secrets;
mod ssm;

use serde_json::Value;

use crate::Task;
use crate::aws::engine::{Engine, Failure};
use crate::deployment::Deployment;

use crate::deploy::{PARAMETER_VALUE_LIMIT, SECRET_VALUE_LIMIT};
pub use finding::{Check, Finding, Subject};
use scope::Scope;

/// What [`Loader::preflight`](crate::aws::Loader::preflight) may do beyond reading metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreflightOptions {
    read_values: bool,
    execution_role: Option<String>,
    task_definition: Option<Value>,
}

impl PreflightOptions {
    /// Metadata only: no secret value is read, nothing is decrypted.
    pub fn new() -> Self {
        PreflightOptions::default()
    }

    /// Also read each secret's value (`GetSecretValue`, which decrypts) to check its JSON keys
    /// and its size; the caller then needs [`Role::PreflightReadValues`](crate::Role). Default:
    /// off.
    pub fn read_values(mut self, on: bool) -> Self {
        self.read_values = on;
        self
    }

    /// Whether values are read.
    pub fn get_read_values(&self) -> bool {
        self.read_values
    }

    /// Also check that the task execution role `role_arn` may read every reference and decrypt
    /// with every `kms_key` as ECS will (`iam:SimulatePrincipalPolicy` on the role, see
    /// [`Finding::RoleDenied`]). Default: not checked.
    pub fn execution_role(mut self, role_arn: impl Into<String>) -> Self {
        self.execution_role = Some(role_arn.into());
        self
    }

    /// The execution role to check, if any.
    pub fn get_execution_role(&self) -> Option<&str> {
        self.execution_role.as_deref()
    }

    /// Also check the task definition (registration input, `describe-task-definition` output,
    /// or Express Mode service input) the secrets will be merged into: preflight merges them
    /// into a copy exactly as [`Task::merge_into`] does and reports its refusal, or a result
    /// over ECS's 64 KiB, as a [`Finding::TaskDefinition`] (the input is not changed). A
    /// [`Deployment`]'s preflight merges it into the task definition's only container; a task
    /// definition of several containers is a problem there: preflight a [`Task`] that names
    /// which container gets what. Default: not checked.
    pub fn task_definition(mut self, task_definition: Value) -> Self {
        self.task_definition = Some(task_definition);
        self
    }

    /// The task definition to check, if any.
    pub fn get_task_definition(&self) -> Option<&Value> {
        self.task_definition.as_ref()
    }
}

/// The outcome of [`Loader::preflight`](crate::aws::Loader::preflight) and
/// [`Loader::preflight_task`](crate::aws::Loader::preflight_task): one [`Check`] per
/// reference, in field order, then one per `kms_key`, then one for the task definition when
/// [`PreflightOptions::task_definition`] gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightReport {
    name: String,
    read_values: bool,
    checks: Vec<Check>,
}

impl PreflightReport {
    pub(in crate::deploy) fn new(name: String, read_values: bool, checks: Vec<Check>) -> Self {
        PreflightReport {
            name,
            read_values,
            checks,
        }
    }

    /// What was checked: the declaration's struct name, or `task (containers a, b)`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Every reference, with its findings: in field order (container by container, each with
    /// its fields, log options and registry credentials, for a task), then the keys, then the
    /// task definition.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// Every problem, with the reference it is about.
    pub fn problems(&self) -> impl Iterator<Item = (&Check, &Finding)> {
        self.checks.iter().flat_map(|c| {
            c.findings
                .iter()
                .filter(|f| f.is_problem())
                .map(move |f| (c, f))
        })
    }

    /// Whether no reference has a problem (JSON keys not verified are no problem).
    pub fn is_healthy(&self) -> bool {
        self.problems().next().is_none()
    }

    /// Whether values were read ([`PreflightOptions::read_values`]).
    pub fn get_read_values(&self) -> bool {
        self.read_values
    }
}

/// [`Loader::preflight`]: see the module docs.
pub(super) async fn preflight(
    engine: &Engine,
    deployment: &Deployment,
    options: PreflightOptions,
) -> PreflightReport {
    run(engine, Scope::deployment(deployment, &options), options).await
}

/// [`Loader::preflight_task`]: every container's references, log options and registry
/// credentials.
pub(super) async fn preflight_task(
    engine: &Engine,
    task: &Task,
    options: PreflightOptions,
) -> PreflightReport {
    run(engine, Scope::task(task, &options), options).await
}

async fn run(engine: &Engine, scope: Scope, options: PreflightOptions) -> PreflightReport {
    // One run for every phase: one concurrency limit, and one deadline for the whole preflight.
    let run = &engine.run(0);
    let default_region = engine
        .sdk_config()
        .region()
        .map_or_else(|| "(the configured region)".to_owned(), ToString::to_string);
    let mut checks: Vec<Check> = scope
        .references
        .iter()
        .map(|r| {
            Check::new(
                r.container.clone(),
                r.subject.clone(),
                r.value_from.to_string(),
            )
        })
        .collect();
    let refs: Vec<&crate::value_from::ValueFrom> =
        scope.references.iter().map(|r| &r.value_from).collect();
    let json_keys: Vec<&[String]> = scope.references.iter().map(|r| &r.keys[..]).collect();
    let declared_keys: Vec<&str> = scope.keys.iter().map(|k| k.key.as_str()).collect();
    // The SecureStrings' keys are known once SSM has answered; the declared ones wait for
    // them, so that a key both declare is described once.
    let ssm_then_kms = async {
        let params = ssm::check(engine, run, &refs, &default_region).await;
        let mut keys: Vec<(String, String)> = declared_keys
            .iter()
            .map(|k| {
                (
                    crate::deployment::iam::key_region(k).to_owned(),
                    (*k).to_owned(),
                )
            })
            .collect();
        for (_, region, key) in &params.keys {
            let key = (region.clone(), key.clone());
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let states = kms::check(engine, run, &keys).await;
        (params, keys, states)
    };
    // The role is simulated with the complete ARNs `DescribeSecret` returns.
    let secrets_then_role = async {
        let read = options.read_values;
        let sm = secrets::check(engine, run, &refs, &json_keys, &default_region, read).await;
        let role = match &options.execution_role {
            Some(arn) => {
                let needs = role::Needs {
                    refs: &refs,
                    keys: &declared_keys,
                    policy: &scope.execution_policy,
                    arns: &sm.arns,
                };
                role::check(engine, run, arn, &needs).await
            }
            None => Vec::new(),
        };
        (sm, role)
    };
    let ((sm, role), (params, keys, states)) = tokio::join!(secrets_then_role, ssm_then_kms);
    for (at, finding) in sm.findings.into_iter().chain(params.findings) {
        checks[at].findings.push(finding);
    }
    for (at, kind) in params.types {
        checks[at].parameter_type = Some(kind);
    }
    let first_key = checks.len();
    checks.extend(scope.keys.iter().map(|k| {
        let subject = Subject::KmsKey {
            struct_name: k.struct_name,
        };
        Check::new(k.container.clone(), subject, k.key.clone())
    }));
    let state = |region: &str, key: &str| {
        let i = keys.iter().position(|(r, k)| r == region && k == key)?;
        states[i].clone()
    };
    for (at, key) in declared_keys.iter().enumerate() {
        if let Some(finding) = state(crate::deployment::iam::key_region(key), key) {
            checks[first_key + at].findings.push(finding);
        }
    }
    for (at, region, key) in &params.keys {
        if let Some(finding) = state(region, key) {
            checks[*at].findings.push(finding);
        }
    }
    for (at, finding) in role {
        checks[at].findings.push(finding);
    }
    if let Some(merged) = scope.task_definition {
        let mut check = Check::new(None, Subject::TaskDefinition, String::new());
        check.findings.extend(merged);
        checks.push(check);
    }
    PreflightReport::new(scope.name, options.read_values, checks)
}

/// A failed request as a finding.
fn request_finding(operation: &'static str, failure: &Failure) -> Finding {
    let (code, reason) = failure.parts();
    Finding::Request {
        operation,
        code,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ExtractError;
    use crate::{EcsSecrets, Role};
    use serde_json::json;

    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    #[allow(dead_code)]
    struct Policy {
        #[ecs(secret = "app/db", key = "password")]
        password: String,
        #[ecs(secret = "app/db", key = "user", version_stage = "AWSPREVIOUS")]
        user: String,
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-a1B2c3")]
        api: String,
        #[ecs(ssm = "/app/flag")]
        flag: String,
        #[ecs(ssm = "/aws/reference/secretsmanager/app/token")]
        token: String,
    }

    const DB: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????";
    const API: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:api-a1B2c3";
    const TOKEN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/token-??????";
    const FLAG: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/app/flag";
    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn statement(action: &str, resources: &[&str]) -> serde_json::Value {
        json!({"Effect": "Allow", "Action": [action], "Resource": resources})
    }

    #[test]
    fn preflight_policy_is_metadata_only() {
        let policy = Policy::deployment().policy(Role::Preflight).to_json();
        assert_eq!(
            policy,
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    statement("ssm:GetParameters", &[FLAG]),
                    statement("secretsmanager:DescribeSecret", &[API, DB, TOKEN]),
                    statement("kms:DescribeKey", &[KEY]),
                    statement("ssm:DescribeParameters", &["*"]),
                ]
            })
        );
    }

    #[test]
    fn preflight_read_values_policy_adds_the_reads_of_secrets_manager_only() {
        let policy = Policy::deployment()
            .policy(Role::PreflightReadValues)
            .to_json();
        let mut decrypt = statement("kms:Decrypt", &[KEY]);
        decrypt["Condition"] =
            json!({"StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com"]}});
        assert_eq!(
            policy,
            json!({
                "Version": "2012-10-17",
                "Statement": [
                    statement("secretsmanager:GetSecretValue", &[API, DB]),
                    statement("ssm:GetParameters", &[FLAG]),
                    decrypt,
                    statement("secretsmanager:DescribeSecret", &[API, DB, TOKEN]),
                    statement("kms:DescribeKey", &[KEY]),
                    statement("ssm:DescribeParameters", &["*"]),
                ]
            })
        );
        assert_eq!(Role::PreflightReadValues.as_str(), "preflight-read-values");
    }

    #[test]
    fn options_and_finding_codes() {
        assert!(!PreflightOptions::new().get_read_values());
        assert!(PreflightOptions::new().read_values(true).get_read_values());
        let note = Finding::JsonKeyNotVerified { key: "k".into() };
        assert!(!note.is_problem());
        assert_eq!(note.ecs_says(), None);
        let missing = Finding::JsonKey {
            key: "k".into(),
            error: ExtractError::KeyMissing,
        };
        assert!(missing.is_problem());
        assert_eq!(missing.code(), "JsonKeyMissing");
        assert!(
            missing
                .ecs_says()
                .unwrap()
                .ends_with("did not contain json key k")
        );
    }
}
