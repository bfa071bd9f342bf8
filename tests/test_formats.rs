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

/// The `cfn-lint` of the test venv (scripts/test installs it), or `None` when the tests run
/// without it and `ECS_SECRETS_SKIP_AWS_TESTS=1` says so; otherwise the test fails, naming the
/// script, rather than passing without the validator.
fn cfn_lint() -> Option<std::path::PathBuf> {
    if let Some(path) = std::env::var_os("ECS_SECRETS_TEST_CFN_LINT") {
        return Some(path.into());
    }
    if std::env::var("ECS_SECRETS_SKIP_AWS_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: cfn-lint not available (ECS_SECRETS_SKIP_AWS_TESTS=1)");
        return None;
    }
    panic!(
        "ECS_SECRETS_TEST_CFN_LINT is not set: run the tests with scripts/test (or scripts/with-moto)"
    )
}

/// A whole template: the task definition with the task's containers (each entry completed with
/// what a real container has besides its secrets), and the execution role's policy.
fn template(containers: Value) -> Value {
    let Value::Array(mut containers) = containers else {
        panic!("containers are a list")
    };
    for c in &mut containers {
        c["Image"] = json!("123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3");
        c["Essential"] = json!(true);
        if c.get("LogConfiguration").is_some() {
            c["LogConfiguration"]["LogDriver"] = json!("splunk");
            c["LogConfiguration"]["Options"] =
                json!({"splunk-url": "https://splunk.example.com:8088"});
        }
    }
    let policy = ecs_secrets::formats::cloudformation_policy(
        &task().policy(Role::Execution),
        Role::Execution,
    );
    let mut template = policy;
    template["Resources"]["TaskDefinition"] = json!({
        "Type": "AWS::ECS::TaskDefinition",
        "Properties": {
            "Family": "app",
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "Cpu": "512",
            "Memory": "1024",
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/app-execution",
            "ContainerDefinitions": containers
        }
    });
    template
}

/// Runs cfn-lint on `text` (a template, `.json` or `.yaml`): its exit status and output.
fn lint(cfn_lint: &std::path::Path, text: &str, extension: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("ecs-secrets-cfn-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!("template-{extension}.{extension}"));
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new(cfn_lint)
        .arg("--")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", cfn_lint.display()));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

/// An independent validator reads the generated CloudFormation, JSON and YAML alike: zero
/// findings. A control proves the validator looks: a `Secrets` entry without `ValueFrom` fails.
#[test]
fn generated_cloudformation_passes_cfn_lint() {
    let Some(cfn_lint) = cfn_lint() else {
        return;
    };
    let containers: Value =
        serde_json::from_str(&Format::CloudFormation.task(&task()).unwrap()).unwrap();
    let good = template(containers);
    let json_text = serde_json::to_string_pretty(&good).unwrap();
    let (code, out) = lint(&cfn_lint, &json_text, "json");
    assert_eq!(
        code, 0,
        "cfn-lint on the JSON template:\n{out}\n{json_text}"
    );

    // The YAML form of the same pieces, assembled the same way, reads back as the same template.
    let yaml_containers = Format::CloudFormationYaml.task(&task()).unwrap();
    assert!(
        yaml_containers.starts_with("- \"Name\": \"app\"\n"),
        "{yaml_containers}"
    );
    let yaml_policy = Format::CloudFormationYaml
        .policy(&task().policy(Role::Execution), Role::Execution)
        .unwrap();
    assert!(
        yaml_policy.contains("\"AWS::IAM::Policy\""),
        "{yaml_policy}"
    );
    let (code, out) = lint(&cfn_lint, &yaml_policy, "yaml");
    assert_eq!(
        code, 0,
        "cfn-lint on the YAML policy template:\n{out}\n{yaml_policy}"
    );

    let mut bad = good.clone();
    let secrets = &mut bad["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
        ["Secrets"][0];
    secrets.as_object_mut().unwrap().remove("ValueFrom");
    let (code, out) = lint(
        &cfn_lint,
        &serde_json::to_string_pretty(&bad).unwrap(),
        "json",
    );
    assert_ne!(
        code, 0,
        "cfn-lint accepted a secret without ValueFrom:\n{out}"
    );
    assert!(out.contains("ValueFrom"), "{out}");
}
