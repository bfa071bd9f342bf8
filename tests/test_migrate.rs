//! Migration from plaintext `environment` values to secrets, against the local AWS endpoint
//! (moto, started by `scripts/test`) through the counting, fault-injecting proxy, with the AWS
//! CLI and boto3 as independent readers of what was stored.
#![cfg(feature = "aws")]

use std::path::{Path, PathBuf};
use std::process::Command;

use ecs_secrets::aws::{
    Loader, MigrateError, MigrateOptions, MigrationReport, Refusal, StepAction, StepStatus,
};
use ecs_secrets::{EcsSecrets, Secret, Vars, cli};
use ecs_secrets_testkit::{self as testkit, FaultKind, Moto};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
use common::{assert_clean, capture_trace};

const CANARY: &str = "CANARY-migrate-s3cr3tP@ssw0rd!";
const CREATE: &str = "secretsmanager.CreateSecret";
const PUT: &str = "secretsmanager.PutSecretValue";
const PUT_PARAMETER: &str = "AmazonSSM.PutParameter";

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct Db {
    #[ecs(secret = "{p}/db")]
    database_password: Secret<String>,
    #[ecs(default = "info")]
    log_level: String,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct Creds {
    #[ecs(secret = "{p}/creds", key = "username")]
    db_user: String,
    #[ecs(secret = "{p}/creds", key = "password")]
    db_password: Secret<String>,
}

/// A secret first, a parameter second: the second write is `PutParameter`.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct Two {
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
struct Sealed {
    #[ecs(ssm = "/{p}/token")]
    api_token: Secret<String>,
}

fn vars(moto: &Moto) -> Vars {
    let mut v = Vars::new();
    v.set("p", moto.prefix.clone());
    v
}

/// A Fargate task definition with one container and these plain variables.
fn fargate(env: &[(&str, &str)]) -> Value {
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

fn env_names(def: &Value) -> Vec<&str> {
    def["environment"]
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["name"].as_str()).collect())
        .unwrap_or_default()
}

fn secret_string(id: &str) -> String {
    let out = testkit::aws_cli_json(&["secretsmanager", "get-secret-value", "--secret-id", id]);
    out["SecretString"]
        .as_str()
        .expect("a string secret")
        .to_owned()
}

/// The secret's value as boto3 reads it: a reader that shares no code with the SDK for Rust.
fn boto3_secret(id: &str) -> String {
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

fn parameter(name: &str) -> (String, Value) {
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
fn renderings(report: &MigrationReport) -> String {
    format!("{report}\n{report:?}\n{report:#?}\n{}", report.to_json())
}

fn error_renderings(e: &MigrateError) -> String {
    format!(
        "{e}\n{e:?}\n{e:#?}\n{}",
        e.report().map(renderings).unwrap_or_default()
    )
}

fn write_temp(name: &str, json: &Value, mode: u32) -> PathBuf {
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
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The command line of `T` against the proxy; a fresh client per run (each run has its own
/// runtime).
fn run_cli<T: EcsSecrets>(
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

fn writes(moto: &Moto) -> usize {
    [CREATE, PUT, PUT_PARAMETER]
        .iter()
        .map(|t| moto.proxy.count(t))
        .sum()
}

/// The usual starting point, a plaintext password in a Fargate task definition, end to end
/// through the command line: plan (reads only, file untouched), apply (the secret holds the
/// value, read back by boto3; `environment` no longer has it,
/// `secrets` has it; the file keeps its mode and registers with the AWS CLI), and a re-run that
/// changes nothing and sends nothing.
#[test]
fn plaintext_database_password_is_migrated() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("mig-db")) else {
        return;
    };
    let td = fargate(&[("DATABASE_PASSWORD", CANARY), ("LOG_LEVEL", "debug")]);
    let path = write_temp("task-definition.json", &td, 0o640);
    let file = path.to_str().unwrap();
    let before = std::fs::read(&path).unwrap();

    let plan = run_cli::<Db>(&rt, &moto, &["migrate", "--container", "app", file]).unwrap();
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    assert!(plan.stdout.contains("DATABASE_PASSWORD"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("(does not exist): create it"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("plan only"), "{}", plan.stdout);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a plan writes nothing"
    );
    assert_eq!(writes(&moto), 0, "a plan sends no write");
    assert_eq!(
        moto.proxy.count(testkit::GET),
        1,
        "one read per destination"
    );

    let apply = run_cli::<Db>(
        &rt,
        &moto,
        &["migrate", "--container", "app", file, "--apply"],
    )
    .unwrap();
    assert_eq!(apply.code, 0, "{}", apply.stdout);
    assert!(apply.stdout.contains("stored"), "{}", apply.stdout);
    assert_eq!(moto.proxy.count(CREATE), 1);
    let name = format!("{}/db", moto.prefix);
    assert_eq!(boto3_secret(&name), CANARY);

    let migrated: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let def = &migrated["containerDefinitions"][0];
    assert_eq!(env_names(def), ["LOG_LEVEL"]);
    let arn = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}");
    assert_eq!(
        def["secrets"],
        json!([{"name": "DATABASE_PASSWORD", "valueFrom": arn}])
    );
    #[cfg(unix)]
    assert_eq!(mode_of(&path), 0o640, "the file keeps its mode");
    let registered = testkit::register_and_describe(&migrated);
    let container = &registered["taskDefinition"]["containerDefinitions"][0];
    assert_eq!(container["secrets"][0]["name"], "DATABASE_PASSWORD");
    assert_eq!(container["secrets"][0]["valueFrom"], arn.as_str());

    // A second run: nothing to move, no request, the file byte for byte as it was.
    let after = std::fs::read(&path).unwrap();
    moto.proxy.reset_counts();
    let again = run_cli::<Db>(
        &rt,
        &moto,
        &["migrate", "--container", "app", file, "--apply"],
    )
    .unwrap();
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("nothing to migrate"),
        "{}",
        again.stdout
    );
    assert_eq!(again.stderr, "", "nothing written");
    assert_eq!(std::fs::read(&path).unwrap(), after);
    assert_eq!(moto.proxy.total(), 0, "a re-run sends no request at all");

    for out in [&plan, &apply, &again] {
        assert_clean("the command line's output", &out.stdout, &[CANARY]);
        assert_clean("the command line's notes", &out.stderr, &[CANARY]);
    }
    // JSON output too.
    let json_plan = {
        let td = fargate(&[("DATABASE_PASSWORD", CANARY)]);
        let other = write_temp("td.json", &td, 0o600);
        run_cli::<Db>(
            &rt,
            &moto,
            &[
                "migrate",
                "--container",
                "app",
                other.to_str().unwrap(),
                "--json",
            ],
        )
        .unwrap()
    };
    let report: Value = serde_json::from_str(&json_plan.stdout).unwrap();
    assert_eq!(report["steps"][0]["action"], "nothing_to_do");
    assert_clean("the JSON report", &json_plan.stdout, &[CANARY]);
}

/// Two variables into two keys of one JSON secret: one `PutSecretValue` of one object, the
/// other keys kept; and into a secret that does not exist: one `CreateSecret` of a new object.
#[tokio::test]
async fn two_keys_of_one_json_secret_are_one_write() {
    let Some(moto) = Moto::start("mig-keys").await else {
        return;
    };
    moto.secret("/creds", r#"{"host":"db.internal","port":5432}"#)
        .await;
    let loader = Loader::new(&moto.config);
    let deployment = Creds::deployment_for(&vars(&moto)).unwrap();
    let user = "CANARY-user-admin";
    let mut td = fargate(&[("DB_USER", user), ("DB_PASSWORD", CANARY)]);
    let report = loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    assert_eq!(moto.proxy.count(PUT), 1, "one write for both keys");
    assert_eq!(moto.proxy.count(CREATE), 0);
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.action == StepAction::MergeKey && s.status == StepStatus::Stored)
    );
    let stored: Value = serde_json::from_str(&secret_string(&moto.name("/creds"))).unwrap();
    assert_eq!(
        stored,
        json!({"host": "db.internal", "port": 5432, "username": user, "password": CANARY})
    );
    let def = &td["containerDefinitions"][0];
    assert!(env_names(def).is_empty());
    assert_eq!(
        def["secrets"][0]["valueFrom"]
            .as_str()
            .unwrap()
            .split(':')
            .nth(7),
        Some("username")
    );
    assert_clean("the report", &renderings(&report), &[CANARY, user]);

    // A secret that does not exist yet: created as an object of the two keys.
    let Some(fresh) = Moto::start("mig-keys-new").await else {
        return;
    };
    let loader = Loader::new(&fresh.config);
    let deployment = Creds::deployment_for(&vars(&fresh)).unwrap();
    let mut td = fargate(&[("DB_USER", user), ("DB_PASSWORD", CANARY)]);
    loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    assert_eq!((fresh.proxy.count(CREATE), fresh.proxy.count(PUT)), (1, 0));
    let stored: Value = serde_json::from_str(&secret_string(&fresh.name("/creds"))).unwrap();
    assert_eq!(stored, json!({"username": user, "password": CANARY}));
}

/// A secret that holds another value is refused (nothing written, the JSON unchanged, the
/// report naming the variable); `overwrite` then replaces it.
#[tokio::test]
async fn a_different_value_is_refused_until_overwrite() {
    let Some(moto) = Moto::start("mig-diff").await else {
        return;
    };
    moto.secret("/db", "CANARY-the-old-value").await;
    let loader = Loader::new(&moto.config);
    let deployment = Db::deployment_for(&vars(&moto)).unwrap();
    let original = fargate(&[("DATABASE_PASSWORD", CANARY)]);
    let mut td = original.clone();
    let apply = MigrateOptions::new().apply(true);
    let err = loader
        .migrate(&deployment, &mut td, "app", apply)
        .await
        .unwrap_err();
    let MigrateError::Refused(report) = &err else {
        panic!("refused, not {err:?}")
    };
    assert_eq!(
        report.steps[0].action,
        StepAction::Refused(Refusal::Different)
    );
    assert_eq!(report.steps[0].variable, "DATABASE_PASSWORD");
    assert!(err.to_string().contains("DATABASE_PASSWORD"));
    assert!(err.to_string().contains("different value"));
    assert_eq!(td, original, "the JSON is as it was");
    assert_eq!(writes(&moto), 0);
    assert_clean(
        "the refusal",
        &error_renderings(&err),
        &[CANARY, "the-old-value"],
    );

    let report = loader
        .migrate(&deployment, &mut td, "app", apply.overwrite(true))
        .await
        .unwrap();
    assert_eq!(report.steps[0].action, StepAction::NewVersion);
    assert_eq!(moto.proxy.count(PUT), 1);
    assert_eq!(secret_string(&moto.name("/db")), CANARY);
    assert!(env_names(&td["containerDefinitions"][0]).is_empty());
}

/// AWS refuses the second write: the file stays byte for byte as it was, the report says the
/// first value is stored, and a second run finds it equal and completes.
#[test]
fn a_failed_second_write_leaves_the_file_and_a_rerun_completes() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("mig-fault")) else {
        return;
    };
    let td = fargate(&[("ONE", "CANARY-first-value"), ("TWO", CANARY)]);
    let path = write_temp("td.json", &td, 0o600);
    let file = path.to_str().unwrap();
    let before = std::fs::read(&path).unwrap();
    moto.fault(PUT_PARAMETER, 1, FaultKind::AccessDenied);

    let failed = run_cli::<Two>(
        &rt,
        &moto,
        &["migrate", "--container", "app", file, "--apply"],
    )
    .unwrap();
    assert_eq!(failed.code, 1, "{}", failed.stdout);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is untouched"
    );
    assert!(
        failed.stdout.contains("AccessDeniedException"),
        "{}",
        failed.stdout
    );
    assert!(
        failed.stdout.contains("Stored in AWS already: ONE;"),
        "{}",
        failed.stdout
    );
    assert_eq!(secret_string(&moto.name("/one")), "CANARY-first-value");
    assert_eq!(
        (moto.proxy.count(CREATE), moto.proxy.count(PUT_PARAMETER)),
        (1, 1)
    );

    let done = run_cli::<Two>(
        &rt,
        &moto,
        &["migrate", "--container", "app", file, "--apply"],
    )
    .unwrap();
    assert_eq!(done.code, 0, "{}", done.stdout);
    assert!(done.stdout.contains("nothing to do"), "{}", done.stdout);
    assert_eq!(
        moto.proxy.count(CREATE),
        1,
        "the stored value is not written again"
    );
    assert_eq!(moto.proxy.count(PUT_PARAMETER), 2);
    let (value, _) = parameter(&format!("/{}", moto.name("/two")));
    assert_eq!(value, CANARY);
    let migrated: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert!(env_names(&migrated["containerDefinitions"][0]).is_empty());
    for out in [&failed, &done] {
        assert_clean(
            "the output",
            &format!("{}{}", out.stdout, out.stderr),
            &[CANARY, "first-value"],
        );
    }
}

/// An SSM destination is a `SecureString` under the declared `kms_key`.
#[tokio::test]
async fn ssm_secure_string_with_the_declared_kms_key() {
    let Some(moto) = Moto::start("mig-kms").await else {
        return;
    };
    let key = testkit::aws_cli_json(&["kms", "create-key"]);
    let key_arn = key["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let key_id = key["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let mut v = vars(&moto);
    v.set("key", key_id);
    let deployment = Sealed::deployment_for(&v).unwrap();
    let mut td = fargate(&[("API_TOKEN", CANARY)]);
    let loader = Loader::new(&moto.config);
    let report = loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    assert_eq!(report.steps[0].action, StepAction::Create);
    let sent = moto.proxy.bodies(PUT_PARAMETER);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["Type"], "SecureString");
    assert_eq!(sent[0]["KeyId"], key_arn.as_str());
    assert!(
        sent[0].get("Overwrite").is_none(),
        "a new parameter is not overwritten"
    );
    let (value, described) = parameter(&format!("/{}", moto.name("/token")));
    assert_eq!(value, CANARY);
    assert_eq!(described["Type"], "SecureString");
    assert!(
        described["KeyId"]
            .as_str()
            .unwrap()
            .contains(key_arn.rsplit('/').next().unwrap())
    );
    assert_eq!(
        td["containerDefinitions"][0]["secrets"][0]["valueFrom"],
        format!(
            "arn:aws:ssm:us-east-1:123456789012:parameter/{}/token",
            moto.prefix
        )
    );
}

/// An ECS Express Mode service input: the values of `primaryContainer` move the same way.
#[tokio::test]
async fn express_mode_input_is_migrated() {
    let Some(moto) = Moto::start("mig-express").await else {
        return;
    };
    let loader = Loader::new(&moto.config);
    let deployment = Db::deployment_for(&vars(&moto)).unwrap();
    let mut input = json!({
        "serviceName": "web",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/infra",
        "primaryContainer": {
            "image": "public.ecr.aws/nginx/nginx:latest",
            "containerPort": 80,
            "environment": [{"name": "DATABASE_PASSWORD", "value": CANARY},
                            {"name": "LOG_LEVEL", "value": "info"}]
        }
    });
    let report = loader
        .migrate(
            &deployment,
            &mut input,
            "web",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    assert_eq!(report.shape, ecs_secrets::Shape::ExpressMode);
    assert!(report.changed);
    let primary = &input["primaryContainer"];
    assert_eq!(env_names(primary), ["LOG_LEVEL"]);
    assert_eq!(primary["secrets"][0]["name"], "DATABASE_PASSWORD");
    assert_eq!(secret_string(&moto.name("/db")), CANARY);
}

/// Plan, refusal, failure and apply with canaries, under a TRACE subscriber: no canary in any
/// rendering of the reports or errors, nor in the trace, which does record the requests.
#[tokio::test]
async fn canaries_are_in_no_report_error_or_trace() {
    let Some(moto) = Moto::start("mig-canary").await else {
        return;
    };
    let (log, _guard) = capture_trace();
    let canaries = [CANARY, "CANARY-second", "CANARY-stored"];
    moto.secret("/one", "CANARY-stored").await;
    let loader = Loader::new(&moto.config);
    let deployment = Two::deployment_for(&vars(&moto)).unwrap();
    let mut out = String::new();
    let td = fargate(&[("ONE", CANARY), ("TWO", "CANARY-second")]);

    let mut json = td.clone();
    let plan = loader
        .migrate(&deployment, &mut json, "app", MigrateOptions::new())
        .await;
    out.push_str(&format!("{plan:?}\n"));
    if let Err(e) = &plan {
        out.push_str(&error_renderings(e));
    }
    let refused = loader
        .migrate(
            &deployment,
            &mut json,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap_err();
    out.push_str(&error_renderings(&refused));
    moto.fault(PUT_PARAMETER, 1, FaultKind::AccessDenied);
    let failed = loader
        .migrate(
            &deployment,
            &mut json,
            "app",
            MigrateOptions::new().apply(true).overwrite(true),
        )
        .await
        .unwrap_err();
    assert!(matches!(failed, MigrateError::Failed(_)));
    out.push_str(&error_renderings(&failed));
    let done = loader
        .migrate(
            &deployment,
            &mut json,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    out.push_str(&renderings(&done));
    assert_clean("the reports and errors", &out, &canaries);
    let trace = log.text();
    assert!(
        trace.contains("PutSecretValue") && trace.contains("PutParameter"),
        "the trace records the writes"
    );
    assert_clean("the trace", &trace, &canaries);
}

/// The same refusal for two different values (of different lengths) reads the same, in every
/// rendering: nothing in it depends on the value.
#[tokio::test]
async fn refusals_do_not_depend_on_the_value() {
    let Some(moto) = Moto::start("mig-diffl").await else {
        return;
    };
    moto.secret("/db", "stored").await;
    let loader = Loader::new(&moto.config);
    let deployment = Db::deployment_for(&vars(&moto)).unwrap();
    let mut texts = Vec::new();
    for value in [
        "CANARY-a",
        "CANARY-a-much-longer-value-with-other-characters-§",
    ] {
        let mut td = fargate(&[("DATABASE_PASSWORD", value)]);
        td["family"] = json!("same");
        let err = loader
            .migrate(
                &deployment,
                &mut td,
                "app",
                MigrateOptions::new().apply(true),
            )
            .await
            .unwrap_err();
        texts.push(error_renderings(&err));
        // And over the limit: the same text for any oversized value.
        let mut big = fargate(&[("DATABASE_PASSWORD", &value.repeat(70_000))]);
        big["family"] = json!("same");
        let err = loader
            .migrate(&deployment, &mut big, "app", MigrateOptions::new())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("65536 bytes"), "{err}");
        texts.push(error_renderings(&err));
    }
    assert_eq!(texts[0], texts[2]);
    assert_eq!(texts[1], texts[3]);
}

/// Bad input at the command line: `--apply` on standard input is a usage error (2); missing
/// placeholder values refuse the migration (1), naming the placeholder.
#[test]
fn command_line_refusals_and_usage() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("mig-usage")) else {
        return;
    };
    let err = run_cli::<Db>(
        &rt,
        &moto,
        &["migrate", "--container", "app", "-", "--apply"],
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
    let td = write_temp("td.json", &fargate(&[("DATABASE_PASSWORD", CANARY)]), 0o600);
    let out = cli::run_with_config::<Db>(
        [
            "deploy",
            "migrate",
            "--container",
            "app",
            td.to_str().unwrap(),
        ],
        &|_| None,
        &config,
    )
    .unwrap();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("{p}"), "{}", out.stderr);
    assert_eq!(moto.proxy.total(), 0);
    let unknown = run_cli::<Db>(
        &rt,
        &moto,
        &["migrate", "--container", "web", td.to_str().unwrap()],
    )
    .unwrap_err();
    assert_eq!(unknown.exit_code(), 2);
    assert!(
        unknown.to_string().contains("no container `web`"),
        "{unknown}"
    );
    assert_clean(
        "the errors",
        &format!("{err}{}{unknown}", out.stderr),
        &[CANARY],
    );
}

/// A parameter that exists as a `String` (in clear) is refused even when it holds the value, and
/// the whole run with it: the secret beside it is not created either.
#[tokio::test]
async fn a_parameter_in_clear_is_refused() {
    let Some(moto) = Moto::start("mig-plain").await else {
        return;
    };
    let name = format!("/{}", moto.name("/two"));
    testkit::put_parameter(&moto.direct, &name, CANARY, false).await;
    let loader = Loader::new(&moto.config);
    let deployment = Two::deployment_for(&vars(&moto)).unwrap();
    let mut td = fargate(&[("ONE", "CANARY-one"), ("TWO", CANARY)]);
    let err = loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true).overwrite(true),
        )
        .await
        .unwrap_err();
    let report = err.report().unwrap();
    assert_eq!(report.steps[0].action, StepAction::Create);
    assert_eq!(
        report.steps[1].action,
        StepAction::Refused(Refusal::NotSecure)
    );
    assert_eq!(
        writes(&moto),
        0,
        "nothing is written while anything is refused"
    );
    assert!(err.to_string().contains("TWO"), "{err}");
    assert_clean(
        "the refusal",
        &error_renderings(&err),
        &[CANARY, "CANARY-one"],
    );
}

/// `describe-task-definition` output (the task definition under `taskDefinition`) is migrated
/// in place, its other fields kept.
#[tokio::test]
async fn describe_output_is_migrated_in_place() {
    let Some(moto) = Moto::start("mig-describe").await else {
        return;
    };
    let loader = Loader::new(&moto.config);
    let deployment = Db::deployment_for(&vars(&moto)).unwrap();
    let mut described = json!({
        "taskDefinition": fargate(&[("DATABASE_PASSWORD", CANARY)]),
        "tags": [{"key": "team", "value": "core"}]
    });
    described["taskDefinition"]["revision"] = json!(7);
    let report = loader
        .migrate(
            &deployment,
            &mut described,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    assert_eq!(report.shape, ecs_secrets::Shape::TaskDefinition);
    let def = &described["taskDefinition"]["containerDefinitions"][0];
    assert!(env_names(def).is_empty());
    assert_eq!(def["secrets"][0]["name"], "DATABASE_PASSWORD");
    assert_eq!(described["taskDefinition"]["revision"], 7);
    assert_eq!(described["tags"][0]["key"], "team");
    assert_eq!(secret_string(&moto.name("/db")), CANARY);
}

/// A new secret and a parameter are written by name, in the caller's account: declared in
/// another account, they are refused before any write (one `GetCallerIdentity`, nothing stored,
/// the JSON as it was).
#[tokio::test]
async fn a_write_by_name_into_another_account_is_refused() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111111111111")]
    #[allow(dead_code)]
    struct Elsewhere {
        #[ecs(secret = "{p}/db")]
        database_password: Secret<String>,
        #[ecs(ssm = "/{p}/token")]
        api_token: Secret<String>,
    }
    let Some(moto) = Moto::start("mig-account").await else {
        return;
    };
    let loader = Loader::new(&moto.config);
    let deployment = Elsewhere::deployment_for(&vars(&moto)).unwrap();
    let original = fargate(&[("DATABASE_PASSWORD", CANARY), ("API_TOKEN", CANARY)]);
    let mut td = original.clone();
    let err = loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap_err();
    let MigrateError::Refused(report) = &err else {
        panic!("refused, not {err:?}")
    };
    let other = StepAction::Refused(Refusal::OtherAccount {
        declared: "111111111111".into(),
        caller: "123456789012".into(),
    });
    assert_eq!(report.steps.len(), 2);
    assert!(report.steps.iter().all(|s| s.action == other), "{report}");
    let text = err.to_string();
    assert!(text.contains("declared in account 111111111111"), "{text}");
    assert!(text.contains("API_TOKEN") && text.contains("DATABASE_PASSWORD"));
    assert_eq!(td, original, "the JSON is as it was");
    assert_eq!(writes(&moto), 0);
    assert_eq!(moto.proxy.count("POST /"), 1, "{:?}", moto.proxy.targets());
    assert_clean("the refusal", &error_renderings(&err), &[CANARY]);
}
