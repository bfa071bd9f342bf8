//! One declaration, several environments: `{placeholders}` resolved per environment.

use ecs_secrets::{EcsSecrets, ErrorKind, Secret, Vars};
use serde_json::json;

#[derive(Debug, EcsSecrets)]
#[ecs(region = "{region}", account = "{account}")]
#[allow(dead_code)]
struct Config {
    #[ecs(secret = "{stage}/my-app/db", key = "password")]
    password: Secret<String>,
    #[ecs(ssm = "/{stage}/my-app/api-key")]
    api_key: Secret<String>,
    #[ecs(secret = "arn:aws:secretsmanager:us-east-1:999999999999:secret:common/license-AbC123")]
    license: String,
    #[ecs(default = "3000")]
    port: u16,
}

fn staging() -> Vars {
    Vars::new()
        .with("stage", "staging")
        .with("region", "eu-west-1")
        .with("account", "111111111111")
}

fn production() -> Vars {
    Vars::new()
        .with("stage", "prod")
        .with("region", "us-east-1")
        .with("account", "222222222222")
}

#[test]
fn two_environments_from_one_struct() {
    assert_eq!(
        ecs_secrets::placeholders::<Config>(),
        ["region", "account", "stage"]
    );
    assert_eq!(
        serde_json::to_value(
            Config::deployment_for(&staging())
                .map(|d| d.secrets())
                .unwrap()
        )
        .unwrap(),
        json!([
            {"name": "PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111111111111:secret:staging/my-app/db:password::"},
            {"name": "API_KEY", "valueFrom": "arn:aws:ssm:eu-west-1:111111111111:parameter/staging/my-app/api-key"},
            {"name": "LICENSE", "valueFrom": "arn:aws:secretsmanager:us-east-1:999999999999:secret:common/license-AbC123"},
        ])
    );
    assert_eq!(
        serde_json::to_value(
            Config::deployment_for(&production())
                .map(|d| d.secrets())
                .unwrap()
        )
        .unwrap(),
        json!([
            {"name": "PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:222222222222:secret:prod/my-app/db:password::"},
            {"name": "API_KEY", "valueFrom": "arn:aws:ssm:us-east-1:222222222222:parameter/prod/my-app/api-key"},
            {"name": "LICENSE", "valueFrom": "arn:aws:secretsmanager:us-east-1:999999999999:secret:common/license-AbC123"},
        ])
    );
}

#[test]
/// Each placeholder without a (valid) value is one problem, reported on the first field that
/// uses it and naming the others.
fn missing_and_invalid_values_are_reported_together() {
    let vars = Vars::new().with("stage", "pr:42").with("account", "12345");
    let e = Config::deployment_for(&vars)
        .map(|d| d.secrets())
        .unwrap_err();
    let problems: Vec<_> = e
        .errors()
        .iter()
        .map(|e| match &e.kind {
            ErrorKind::Placeholder { reason } => format!("{}: {reason}", e.field),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        problems,
        [
            "password: no value for placeholder `{region}`; also used by `Config.api_key`",
            "password: value for placeholder `{stage}` is invalid: it contains ':'; also used by \
             `Config.api_key`",
        ],
        "{e}"
    );

    // Values that fill every placeholder but make an invalid reference are caught by the
    // `ValueFrom` parser.
    let vars = staging().with("account", "12345");
    let e = Config::deployment_for(&vars)
        .map(|d| d.secrets())
        .unwrap_err();
    assert_eq!(e.errors().len(), 2, "{e}");
    assert!(e.to_string().contains("account"), "{e}");
}

#[test]
fn vars_from_the_environment_use_upper_case_names() {
    let vars = Vars::from_lookup(
        ecs_secrets::placeholders::<Config>()
            .iter()
            .map(String::as_str),
        |k| match k {
            "STAGE" => Some("prod".into()),
            "REGION" => Some("us-east-1".into()),
            "ACCOUNT" => Some("222222222222".into()),
            _ => None,
        },
    );
    assert_eq!(vars, production());
}

#[test]
fn a_flattened_struct_without_placeholders_still_has_plain_output() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Plain {
        #[ecs(ssm = "/x")]
        x: String,
    }
    #[derive(Debug, EcsSecrets)]
    #[allow(dead_code)]
    struct Outer {
        #[ecs(flatten)]
        plain: Plain,
    }
    assert_eq!(Outer::deployment().secrets().len(), 1);
    assert!(ecs_secrets::placeholders::<Outer>().is_empty());
    assert_eq!(
        Outer::deployment().secrets(),
        Outer::deployment_for(&Vars::new())
            .map(|d| d.secrets())
            .unwrap()
    );
}

#[test]
fn loading_from_the_environment_needs_no_placeholder_values() {
    let c = Config::from_lookup(|k| match k {
        "PASSWORD" | "API_KEY" | "LICENSE" => Some("v".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(c.port, 3000);
}
