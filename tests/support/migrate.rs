//! The fixtures and readers of the migration tests (test_migrate, test_migrate_refusals): their
//! declarations, a Fargate task definition with plain values, independent readers of what was
//! stored (the AWS CLI, boto3), the renderings of reports, and the command line against the
//! proxy.

// Each test file uses its own part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ecs_secrets::deploy::{MigrateError, MigrationReport};
use ecs_secrets::{EcsSecrets, Secret, Vars, cli};
use ecs_secrets_testkit::{self as testkit, Moto};
use serde_json::{Value, json};

pub const CANARY: &str = "CANARY-migrate-s3cr3tP@ssw0rd!";
pub const CREATE: &str = "secretsmanager.CreateSecret";
pub const PUT: &str = "secretsmanager.PutSecretValue";
pub const PUT_PARAMETER: &str = "AmazonSSM.PutParameter";

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Db {
    #[ecs(secret = "{p}/db")]
    database_password: Secret<String>,
    #[ecs(default = "info")]
    log_level: String,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Creds {
    #[ecs(secret = "{p}/creds", key = "username")]
    db_user: String,
    #[ecs(secret = "{p}/creds", key = "password")]
    db_password: Secret<String>,
}

/// A secret first, a parameter second: the second write is `PutParameter`.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Two {
    #[ecs(secret = "{p}/one")]
    one: Secret<String>,
    #[ecs(ssm = "/{p}/two")]
    two: Secret<String>,
}

#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/{key}"
)]
#[allow(dead_code)]
pub struct Sealed {
    #[ecs(ssm = "/{p}/token")]
    api_token: Secret<String>,
}

pub fn vars(moto: &Moto) -> Vars {
    let mut v = Vars::new();
    v.set("p", moto.prefix.clone());
    v
}

/// A Fargate task definition with one container and these plain variables.
pub fn fargate(env: &[(&str, &str)]) -> Value {
    let environment: Vec<Value> = env
        .iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect();
    json!({
        "family": testkit::unique("migrate"),
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{
            "name": "app",
            "image": "public.ecr.aws/docker/library/busybox:latest",
            "essential": true,
            "environment": environment
        }]
    })
}

pub fn env_names(def: &Value) -> Vec<&str> {
    def["environment"]
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default()
}

pub fn secret_string(id: &str) -> String {
    let out = testkit::aws_cli_json(&["secretsmanager", "get-secret-value", "--secret-id", id]);
    out["SecretString"]
        .as_str()
        .expect("a string secret")
        .to_owned()
}

/// The secret's value as boto3 reads it: a reader that shares no code with the SDK for Rust.
pub fn boto3_secret(id: &str) -> String {
    let cli = std::env::var(testkit::AWS_CLI_VAR).expect("run through scripts/test");
    let python = Path::new(&cli).with_file_name("python");
    let endpoint = std::env::var(testkit::ENDPOINT_VAR).expect("run through scripts/test");
    let script = "import boto3, sys\n\
        c = boto3.client('secretsmanager', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
            aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        sys.stdout.write(c.get_secret_value(SecretId=sys.argv[2])['SecretString'])\n";
    let out = Command::new(python)
        .args(["-c", script, &endpoint, id])
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "boto3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

pub fn parameter(name: &str) -> (String, Value) {
    let got = testkit::aws_cli_json(&["ssm", "get-parameter", "--name", name, "--with-decryption"]);
    let value = got["Parameter"]["Value"].as_str().unwrap().to_owned();
    let described = testkit::aws_cli_json(&[
        "ssm",
        "describe-parameters",
        "--parameter-filters",
        &format!("Key=Name,Values={name}"),
    ]);
    (value, described["Parameters"][0].clone())
}

/// Every rendering of a report.
pub fn renderings(report: &MigrationReport) -> String {
    format!("{report}\n{report:?}\n{report:#?}\n{}", report.to_json())
}

pub fn error_renderings(e: &MigrateError) -> String {
    format!(
        "{e}\n{e:?}\n{e:#?}\n{}",
        e.report().map(renderings).unwrap_or_default()
    )
}

pub fn write_temp(name: &str, json: &Value, mode: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(testkit::unique("migrate"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(json).unwrap()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let _ = mode;
    path
}

#[cfg(unix)]
pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The command line of `T` against the proxy; a fresh client per run (each run has its own
/// runtime).
pub fn run_cli<T: EcsSecrets>(
    rt: &tokio::runtime::Runtime,
    moto: &Moto,
    args: &[&str],
) -> Result<cli::Output, cli::CliError> {
    let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
    let var = format!("p={}", moto.prefix);
    let mut all = vec!["deploy", "--var", &var];
    all.extend_from_slice(args);
    cli::run_with_config::<T>(all, &|_| None, &config)
}

pub fn writes(moto: &Moto) -> usize {
    [CREATE, PUT, PUT_PARAMETER]
        .iter()
        .map(|t| moto.proxy.count(t))
        .sum()
}
