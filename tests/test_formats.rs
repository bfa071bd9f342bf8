//! The outputs in each deploy tool's form (CloudFormation/CDK, Terraform, AWS Copilot, the
//! amazon-ecs-render-task-definition action), from a declaration and from a task of three
//! containers, and the CLI's `--format`.

#[path = "support/task.rs"]
mod fixture;

use ecs_secrets::{EcsSecrets, Format, Role};
use fixture::*;
use serde_json::{Value, json};

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

#[test]
fn every_format_of_the_secrets_exact() {
    let secrets = App::deployment().secrets();
    let ecs = pretty(&json!([{"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD},
                             {"name": "TOKEN", "valueFrom": TOKEN}]));
    assert_eq!(Format::Ecs.secrets(&secrets), ecs);
    assert_eq!(Format::Terraform.secrets(&secrets), ecs);
    assert_eq!(
        Format::CloudFormation.secrets(&secrets),
        pretty(&json!([{"Name": "DB_PASSWORD", "ValueFrom": DB_PASSWORD},
                       {"Name": "TOKEN", "ValueFrom": TOKEN}]))
    );
    assert_eq!(
        Format::Copilot.secrets(&secrets),
        format!(
            "secrets:\n  DB_PASSWORD: {{secretsmanager: '{DB_PASSWORD}'}}\n  TOKEN: '{TOKEN}'\n"
        )
    );
    assert_eq!(
        ecs_secrets::formats::copilot_secrets(&secrets, Some(("us-east-1", "123456789012"))),
        format!(
            "secrets:\n  DB_PASSWORD: {{secretsmanager: '{DB_PASSWORD}'}}\n  TOKEN: '/prod/app/token'\n"
        )
    );
    assert_eq!(
        ecs_secrets::formats::copilot_secrets(&secrets, Some(("eu-west-1", "123456789012"))),
        Format::Copilot.secrets(&secrets)
    );
    assert_eq!(
        Format::RenderAction.secrets(&secrets),
        format!("DB_PASSWORD={DB_PASSWORD}\nTOKEN={TOKEN}\n")
    );
}

#[test]
fn every_format_of_the_policy_exact() {
    let policy = task().policy(Role::Execution);
    let iam = serde_json::to_string_pretty(&policy).unwrap() + "\n";
    assert_eq!(Format::Ecs.policy(&policy, Role::Execution).unwrap(), iam);
    assert_eq!(
        Format::Terraform.policy(&policy, Role::Execution).unwrap(),
        iam
    );
    let template: Value = serde_json::from_str(
        &Format::CloudFormation
            .policy(&policy, Role::Execution)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        template,
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"ExecutionRoleName": {
                "Type": "String",
                "Description": "The name of the IAM role that gets the execution policy"}},
            "Resources": {"EcsSecretsExecutionPolicy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": "ecs-secrets-execution",
                    "PolicyDocument": policy.to_json(),
                    "Roles": [{"Ref": "ExecutionRoleName"}]}}}
        })
    );
    assert_eq!(Format::Copilot.policy(&policy, Role::Execution), None);
    assert_eq!(Format::RenderAction.policy(&policy, Role::Execution), None);
}

#[test]
fn every_format_of_the_task_exact() {
    let ecs = json!([
        {"name": "app", "secrets": [{"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD},
                                    {"name": "TOKEN", "valueFrom": TOKEN}]},
        {"name": "sidecar", "secrets": [{"name": "DB_USER", "valueFrom": DB_USER},
                                        {"name": "ENVOY_CERT", "valueFrom": CERT}],
         "repositoryCredentials": {"credentialsParameter": REGISTRY}},
        {"name": "log_router",
         "logConfiguration": {"secretOptions": [{"name": "splunk-token", "valueFrom": SPLUNK}]}}
    ]);
    assert_eq!(Format::Ecs.task(&task()).unwrap(), pretty(&ecs));
    assert_eq!(Format::Terraform.task(&task()).unwrap(), pretty(&ecs));
    assert_eq!(
        Format::CloudFormation.task(&task()).unwrap(),
        pretty(&json!([
            {"Name": "app", "Secrets": [{"Name": "DB_PASSWORD", "ValueFrom": DB_PASSWORD},
                                        {"Name": "TOKEN", "ValueFrom": TOKEN}]},
            {"Name": "sidecar", "Secrets": [{"Name": "DB_USER", "ValueFrom": DB_USER},
                                            {"Name": "ENVOY_CERT", "ValueFrom": CERT}],
             "RepositoryCredentials": {"CredentialsParameter": REGISTRY}},
            {"Name": "log_router",
             "LogConfiguration": {"SecretOptions": [{"Name": "splunk-token", "ValueFrom": SPLUNK}]}}
        ]))
    );
    assert_eq!(Format::Copilot.task(&task()), None);
    assert_eq!(Format::RenderAction.task(&task()), None);
}

#[test]
fn the_cli_takes_a_format() {
    use ecs_secrets::cli::{CliError, run};
    let out = |args: &[&str]| {
        let mut all = vec!["deploy"];
        all.extend_from_slice(args);
        run::<App>(all).unwrap().stdout
    };
    assert_eq!(out(&["secrets"]), out(&["secrets", "--format", "ecs"]));
    assert_eq!(
        out(&["secrets"]),
        pretty(&serde_json::to_value(App::deployment().secrets()).unwrap())
    );
    assert_eq!(
        out(&["secrets", "--format", "render-action"]),
        format!("DB_PASSWORD={DB_PASSWORD}\nTOKEN={TOKEN}\n")
    );
    assert!(
        out(&["secrets", "--format", "copilot"])
            .starts_with("secrets:\n  DB_PASSWORD: {secretsmanager: ")
    );
    assert_eq!(
        out(&["policy"]),
        App::deployment().policy(Role::Execution).to_string() + "\n"
    );
    assert_eq!(out(&["policy", "--format", "terraform"]), out(&["policy"]));
    let template: Value = serde_json::from_str(&out(&[
        "policy",
        "--role",
        "task",
        "--format",
        "cloudformation",
    ]))
    .unwrap();
    assert_eq!(
        template["Resources"]["EcsSecretsTaskPolicy"]["Properties"]["Roles"],
        json!([{"Ref": "TaskRoleName"}])
    );
    let err = run::<App>(["deploy", "policy", "--format", "copilot"]).unwrap_err();
    assert!(matches!(err, CliError::Usage(_)));
    assert_eq!(
        err.to_string(),
        "error: --format copilot has no policy (the tool takes none); use ecs, cloudformation or terraform"
    );
}
