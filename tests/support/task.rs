//! The three-container task of test_task and test_formats: app, a sidecar with registry
//! credentials, a log router with a Splunk token.

// Each test file uses its own part of the fixture.
#![allow(dead_code)]

use ecs_secrets::{EcsSecrets, Secret, Task, ValueFrom};
use serde_json::{Value, json};

pub const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const DB_PASSWORD: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:password::";
pub const DB_USER: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:username::";
pub const TOKEN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token";
pub const CERT: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/envoy/cert";
pub const SPLUNK: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/splunk-AbCdEf:token::";
pub const REGISTRY: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/registry-XyZ123";

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)]
pub struct App {
    #[ecs(secret = "prod/app/db", key = "password")]
    db_password: Secret<String>,
    #[ecs(ssm = "/prod/app/token")]
    token: String,
    #[ecs(default = "3000")]
    port: u16,
}

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
pub struct Envoy {
    #[ecs(secret = "prod/app/db", key = "username")]
    db_user: String,
    #[ecs(ssm = "/prod/envoy/cert")]
    envoy_cert: String,
}

pub fn vf(s: &str) -> ValueFrom {
    s.parse().unwrap()
}

/// app with `App`, sidecar with `Envoy` and registry credentials, log_router with a Splunk token.
pub fn task() -> Task {
    Task::new()
        .container("app", App::deployment())
        .container("sidecar", Envoy::deployment())
        .repository_credentials("sidecar", vf(REGISTRY))
        .unwrap()
        .log_secret("log_router", "splunk-token", vf(SPLUNK))
        .unwrap()
}

/// A Fargate task definition in the `register-task-definition --cli-input-json` shape.
pub fn registration(family: &str) -> Value {
    json!({
        "family": family,
        "executionRoleArn": "arn:aws:iam::123456789012:role/app-execution",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "containerDefinitions": [
            {"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3",
             "essential": true,
             "environment": [{"name": "PORT", "value": "3000"}],
             "secrets": [{"name": "OLD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/old"}]},
            {"name": "sidecar", "image": "registry.example.com/envoy:v1.30", "essential": false},
            {"name": "log_router", "image": "amazon/aws-for-fluent-bit:stable", "essential": true,
             "logConfiguration": {"logDriver": "splunk",
                                  "options": {"splunk-url": "https://splunk.example.com:8088"}}}
        ]
    })
}

pub fn merged_containers() -> Value {
    json!([
        {"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3",
         "essential": true,
         "environment": [{"name": "PORT", "value": "3000"}],
         "secrets": [{"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD},
                     {"name": "TOKEN", "valueFrom": TOKEN}]},
        {"name": "sidecar", "image": "registry.example.com/envoy:v1.30", "essential": false,
         "secrets": [{"name": "DB_USER", "valueFrom": DB_USER},
                     {"name": "ENVOY_CERT", "valueFrom": CERT}],
         "repositoryCredentials": {"credentialsParameter": REGISTRY}},
        {"name": "log_router", "image": "amazon/aws-for-fluent-bit:stable", "essential": true,
         "logConfiguration": {"logDriver": "splunk",
                              "options": {"splunk-url": "https://splunk.example.com:8088"},
                              "secretOptions": [{"name": "splunk-token", "valueFrom": SPLUNK}]}}
    ])
}
