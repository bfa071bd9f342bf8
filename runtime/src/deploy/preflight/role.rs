//! The execution role's permissions, when [`PreflightOptions::execution_role`] names it: IAM's
//! policy simulator (`iam:SimulatePrincipalPolicy`) evaluates the role's policies for exactly
//! what ECS will ask at task start — the actions and resources of
//! [`Role::Execution`](crate::Role::Execution)'s policy, `kms:Decrypt` under each
//! `kms:ViaService` value that policy allows — and every pair it does not allow is a finding on
//! the reference (or `kms_key`) that needs it.
//!
//! A secret given by partial ARN is simulated with its complete ARN from `DescribeSecret` (a role
//! policy may name the complete ARN, which the partial ARN's `-??????` pattern would not match
//! as a literal), else with the policy's resource. The simulator sees the role's identity
//! policies and permissions boundary, not the secret's resource policy nor the key policy (which
//! a caller can add with `ResourcePolicy` only for one resource at a time): a denial there still
//! shows only at task start.

use aws_sdk_iam::types::{ContextEntry, ContextKeyTypeEnum, PolicyEvaluationDecisionType};

use crate::deployment::iam::{Action, Condition, PolicyDocument, Role};
use crate::value_from::ValueFrom;

use super::{Finding, request_finding};
use crate::aws::engine::Failure;
use crate::aws::engine::failure::request_failure;
use crate::aws::engine::run::Job;
use crate::aws::engine::{Engine, Run};

const SIMULATE: &str = "SimulatePrincipalPolicy";

/// One thing the role must be allowed: an action on a resource, maybe under `kms:ViaService`
/// and an encryption context (its condition key and value), for the reference (or key) `at`
/// (references first, then keys).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Need {
    at: usize,
    action: &'static str,
    resource: String,
    via: Option<String>,
    context: Option<(&'static str, String)>,
}

/// What each simulation is about: one action under one context, on several resources.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Call {
    action: &'static str,
    via: Option<String>,
    context: Option<(&'static str, String)>,
    resources: Vec<String>,
}

impl Call {
    fn serves(&self, n: &Need) -> bool {
        self.action == n.action && self.via == n.via && self.context == n.context
    }
}

/// The value of an encryption-context condition as the service will send it: a secret's
/// complete ARN where `DescribeSecret` found it (the policy's `-??????` stands for its suffix).
fn context_value(value: &str, arns: &[(usize, String)]) -> String {
    value
        .strip_suffix("-??????")
        .and_then(|partial| {
            arns.iter()
                .map(|(_, arn)| arn)
                .find(|arn| crate::value_from::strip_random_suffix(arn) == Some(partial))
        })
        .map_or_else(|| value.to_owned(), Clone::clone)
}

/// What the role check is about: the references, the declared keys, the execution role's
/// policy (for the `kms:ViaService` values of each key), and the complete ARN of each
/// reference's secret that `DescribeSecret` found.
pub(super) struct Needs<'a> {
    pub refs: &'a [&'a ValueFrom],
    pub keys: &'a [&'a str],
    pub policy: &'a PolicyDocument,
    pub arns: &'a [(usize, String)],
}

/// What the role must be allowed: for each reference (index in order), then each key (index
/// `references + k`). A reference's secret resource is its complete ARN where known.
fn needs(of: &Needs<'_>) -> Vec<Need> {
    let mut out = Vec::new();
    let (refs, arns) = (of.refs, of.arns);
    for (at, r) in refs.iter().enumerate() {
        let Ok(policy) = PolicyDocument::from_references(Role::Execution, [*r], []) else {
            continue;
        };
        let complete = arns.iter().find(|(a, _)| *a == at).map(|(_, arn)| arn);
        for statement in policy.statements() {
            for resource in statement.resources() {
                let resource = match (statement.action(), r, complete) {
                    (Action::GetSecretValue, ValueFrom::SecretsManager(_), Some(arn)) => {
                        arn.clone()
                    }
                    _ => resource.clone(),
                };
                out.push(Need {
                    at,
                    action: statement.action().as_str(),
                    resource,
                    via: None,
                    context: None,
                });
            }
        }
    }
    for (k, key) in of.keys.iter().enumerate() {
        for statement in of.policy.statements() {
            let resources = statement.resources();
            if statement.action() != Action::KmsDecrypt || !resources.iter().any(|r| r == key) {
                continue;
            }
            let Some(Condition::ViaService(services)) = statement.condition() else {
                continue;
            };
            // Each secret or parameter the statement may decrypt, as the service names it in
            // the encryption context; none without such a condition.
            let contexts: Vec<Option<(&'static str, String)>> = match statement.encryption_context()
            {
                Some(c @ (Condition::SecretArn(values) | Condition::ParameterArn(values))) => {
                    values
                        .iter()
                        .map(|v| Some((c.key(), context_value(v, arns))))
                        .collect()
                }
                _ => vec![None],
            };
            for service in services {
                for context in &contexts {
                    out.push(Need {
                        at: refs.len() + k,
                        action: Action::KmsDecrypt.as_str(),
                        resource: (*key).to_owned(),
                        via: Some(service.clone()),
                        context: context.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The needs grouped into simulations: one per action and context.
fn calls(needs: &[Need]) -> Vec<Call> {
    let mut calls: Vec<Call> = Vec::new();
    for n in needs {
        match calls.iter_mut().find(|c| c.serves(n)) {
            Some(c) if !c.resources.contains(&n.resource) => c.resources.push(n.resource.clone()),
            Some(_) => {}
            None => calls.push(Call {
                action: n.action,
                via: n.via.clone(),
                context: n.context.clone(),
                resources: vec![n.resource.clone()],
            }),
        }
    }
    calls
}

/// The findings of `role_arn` on every reference and key (index as in [`needs`]).
pub(super) async fn check(
    engine: &Engine,
    run: &Run,
    role_arn: &str,
    of: &Needs<'_>,
) -> Vec<(usize, Finding)> {
    let needs = needs(of);
    let calls = calls(&needs);
    let client = crate::aws::engine::client!(
        aws_sdk_iam,
        engine,
        Some(iam_region(role_arn)),
        super::super::iam_codes
    );
    let jobs = calls
        .iter()
        .map(|c| {
            let mut request = client
                .simulate_principal_policy()
                .policy_source_arn(role_arn)
                .action_names(c.action)
                .set_resource_arns(Some(c.resources.clone()));
            if let Some(via) = &c.via {
                request = request.context_entries(
                    ContextEntry::builder()
                        .context_key_name("kms:ViaService")
                        .context_key_type(ContextKeyTypeEnum::String)
                        .context_key_values(via)
                        .build(),
                );
            }
            if let Some((key, value)) = &c.context {
                request = request.context_entries(
                    ContextEntry::builder()
                        .context_key_name(*key)
                        .context_key_type(ContextKeyTypeEnum::String)
                        .context_key_values(value)
                        .build(),
                );
            }
            let job: Job<Result<Vec<(String, String)>, Failure>> = Box::pin(async move {
                let mut pages = request.into_paginator().send();
                let mut decisions = Vec::new();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| request_failure(SIMULATE, &e))?;
                    for r in page.evaluation_results.unwrap_or_default() {
                        let resource = r.eval_resource_name.unwrap_or_default();
                        decisions.push((resource, r.eval_decision.as_str().to_owned()));
                    }
                }
                Ok(decisions)
            });
            (SIMULATE, job)
        })
        .collect();
    let answers = run.all(jobs).await;
    findings(role_arn, &needs, &calls, &answers)
}

/// Each need the simulations did not allow, once per reference and action.
fn findings(
    role: &str,
    needs: &[Need],
    calls: &[Call],
    answers: &[Result<Vec<(String, String)>, Failure>],
) -> Vec<(usize, Finding)> {
    let allowed = PolicyEvaluationDecisionType::Allowed.as_str();
    let mut out: Vec<(usize, Finding)> = Vec::new();
    for n in needs {
        let Some(i) = calls.iter().position(|c| c.serves(n)) else {
            continue;
        };
        let finding = match &answers[i] {
            Err(f) => request_finding(SIMULATE, f),
            Ok(decisions) => {
                let decision = decisions
                    .iter()
                    .find(|(resource, _)| *resource == n.resource)
                    .map_or("notEvaluated", |(_, d)| d.as_str());
                if decision == allowed {
                    continue;
                }
                Finding::RoleDenied {
                    role: role.to_owned(),
                    action: n.action,
                    resource: n.resource.clone(),
                    via: n.via.clone(),
                    decision: decision.to_owned(),
                }
            }
        };
        if !out.iter().any(|(at, f)| *at == n.at && *f == finding) {
            out.push((n.at, finding));
        }
    }
    out
}

/// IAM's one region per partition.
fn iam_region(role_arn: &str) -> &'static str {
    match role_arn.split(':').nth(1) {
        Some("aws-cn") => "cn-north-1",
        Some("aws-us-gov") => "us-gov-west-1",
        _ => "us-east-1",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EcsSecrets;

    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    #[allow(dead_code)]
    struct App {
        #[ecs(secret = "app/db", key = "password")]
        password: String,
        #[ecs(secret = "app/db", key = "user")]
        user: String,
        #[ecs(ssm = "/app/flag")]
        flag: String,
    }

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    const DB: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";
    const FLAG: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/app/flag";

    #[test]
    fn what_ecs_asks_grouped_into_one_simulation_per_action_and_context() {
        let d = App::deployment();
        let arns = [(0, DB.to_owned()), (1, DB.to_owned())];
        let refs: Vec<&ValueFrom> = d.references().map(|(_, v)| v).collect();
        let keys: Vec<&str> = d.kms_keys().iter().map(String::as_str).collect();
        let policy = d.policy(Role::Execution);
        let needs = needs(&Needs {
            refs: &refs,
            keys: &keys,
            policy: &policy,
            arns: &arns,
        });
        let calls = calls(&needs);
        let via = |s: &str| Some(format!("{s}.us-east-1.amazonaws.com"));
        let call = |action, via, context: Option<(&'static str, &str)>, resources: &[&str]| Call {
            action,
            via,
            context: context.map(|(k, v)| (k, v.to_owned())),
            resources: resources.iter().map(|r| (*r).to_owned()).collect(),
        };
        // The decrypts under the encryption context each service sends: the secret's complete
        // ARN (the policy's `app/db-??????`, completed by `DescribeSecret`), the parameter's.
        let secret_arn = Some(("kms:EncryptionContext:SecretARN", DB));
        let parameter_arn = Some(("kms:EncryptionContext:PARAMETER_ARN", FLAG));
        assert_eq!(
            calls,
            [
                call("secretsmanager:GetSecretValue", None, None, &[DB]),
                call("ssm:GetParameters", None, None, &[FLAG]),
                call("kms:Decrypt", via("secretsmanager"), secret_arn, &[KEY]),
                call("kms:Decrypt", via("ssm"), parameter_arn, &[KEY]),
            ]
        );
        // The parameter allowed, the secret and one KMS context not.
        let answers = vec![
            Ok(vec![(DB.to_owned(), "implicitDeny".to_owned())]),
            Ok(vec![(FLAG.to_owned(), "allowed".to_owned())]),
            Ok(vec![(KEY.to_owned(), "explicitDeny".to_owned())]),
            Ok(vec![(KEY.to_owned(), "allowed".to_owned())]),
        ];
        let role = "arn:aws:iam::123456789012:role/exec";
        let denied =
            |action, resource: &str, via: Option<String>, decision: &str| Finding::RoleDenied {
                role: role.to_owned(),
                action,
                resource: resource.to_owned(),
                via,
                decision: decision.to_owned(),
            };
        assert_eq!(
            findings(role, &needs, &calls, &answers),
            [
                (
                    0,
                    denied("secretsmanager:GetSecretValue", DB, None, "implicitDeny")
                ),
                (
                    1,
                    denied("secretsmanager:GetSecretValue", DB, None, "implicitDeny")
                ),
                (
                    3,
                    denied("kms:Decrypt", KEY, via("secretsmanager"), "explicitDeny")
                ),
            ]
        );
        // A resource the answer does not name is not allowed.
        let answers = vec![Ok(vec![]), Ok(vec![]), Ok(vec![]), Ok(vec![])];
        assert_eq!(findings(role, &needs, &calls, &answers).len(), 5);
    }

    #[test]
    fn a_task_needs_its_log_options_and_registry_credentials() {
        let log: ValueFrom = format!("{FLAG}-log").parse().unwrap();
        let registry = "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry";
        let task = crate::Task::new()
            .container("app", App::deployment())
            .repository_credentials("app", registry.parse().unwrap())
            .unwrap()
            .log_secret("router", "token", log.clone())
            .unwrap();
        let scope = super::super::Scope::task(&task, &super::super::PreflightOptions::new());
        let subjects: Vec<(Option<&str>, &str)> = scope
            .references
            .iter()
            .map(|r| {
                let what = match &r.subject {
                    super::super::Subject::Field { env, .. } => *env,
                    super::super::Subject::LogOption { .. } => "log",
                    super::super::Subject::RepositoryCredentials => "registry",
                    _ => "other",
                };
                (r.container.as_deref(), what)
            })
            .collect();
        assert_eq!(
            subjects,
            [
                (Some("app"), "PASSWORD"),
                (Some("app"), "USER"),
                (Some("app"), "FLAG"),
                (Some("app"), "registry"),
                (Some("router"), "log"),
            ]
        );
        assert_eq!(scope.references[3].keys, ["username", "password"]);
        let refs: Vec<&ValueFrom> = scope.references.iter().map(|r| &r.value_from).collect();
        let keys: Vec<&str> = scope.keys.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, [KEY]);
        let needs = needs(&Needs {
            refs: &refs,
            keys: &keys,
            policy: &scope.execution_policy,
            arns: &[],
        });
        let about = |at: usize| -> Vec<(&str, &str)> {
            needs
                .iter()
                .filter(|n| n.at == at)
                .map(|n| (n.action, n.resource.as_str()))
                .collect()
        };
        assert_eq!(
            about(3),
            [(
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-??????"
            )]
        );
        assert_eq!(about(4), [("ssm:GetParameters", log.to_string().as_str())]);
        // The key's decrypt (index after the references), through each service under the
        // context of each secret or parameter it serves: the registry's and the log option's
        // included.
        let contexts: Vec<(Option<&str>, &str)> = needs
            .iter()
            .filter(|n| n.at == 5)
            .map(|n| {
                let via = n.via.as_deref().and_then(|v| v.split('.').next());
                (via, n.context.as_ref().map_or("", |(_, v)| v.as_str()))
            })
            .collect();
        let flag = log.to_string();
        assert_eq!(
            contexts,
            [
                (
                    Some("secretsmanager"),
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????"
                ),
                (
                    Some("secretsmanager"),
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-??????"
                ),
                (Some("ssm"), FLAG),
                (Some("ssm"), flag.as_str()),
            ]
        );
    }

    #[test]
    fn iam_is_global_per_partition() {
        assert_eq!(iam_region("arn:aws:iam::123456789012:role/r"), "us-east-1");
        assert_eq!(
            iam_region("arn:aws-cn:iam::123456789012:role/r"),
            "cn-north-1"
        );
        assert_eq!(
            iam_region("arn:aws-us-gov:iam::123456789012:role/r"),
            "us-gov-west-1"
        );
    }
}
