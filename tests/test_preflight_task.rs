//! Preflight of a whole task against the local AWS endpoint (moto, started by `scripts/test`),
//! through the counting proxy: every container's declarations, its log driver's
//! `secretOptions` and its registry credentials (whose secret needs `username` and `password`),
//! each problem naming its container; the task definition the secrets go into, merged into a
//! copy (64 KiB, refusals); the task command line's `preflight`; and no value in any output.
#![cfg(feature = "deploy")]

use ecs_secrets::aws::Loader;
use ecs_secrets::deploy::{Finding, PreflightOptions, PreflightReport, Subject};
use ecs_secrets::extract::ExtractError;
use ecs_secrets::{EcsSecrets, Task, TaskDefinitionError, ValueFrom, Vars};
use ecs_secrets_testkit::{self as testkit, Moto};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
use common::{assert_clean, report_outputs};

const CANARY: &str = "CANARY-task-preflight";
const ACCOUNT: &str = "123456789012";

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct App {
    #[ecs(secret = "{p}/db", key = "password")]
    password: String,
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct Sidecar {
    #[ecs(secret = "{p}/missing")]
    token: String,
}

fn vars(moto: &Moto) -> Vars {
    Vars::new().with("p", &moto.prefix)
}

fn secret_arn(moto: &Moto, suffix: &str) -> ValueFrom {
    let name = moto.name(suffix);
    format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{name}")
        .parse()
        .unwrap()
}

fn param_arn(moto: &Moto, suffix: &str) -> ValueFrom {
    let name = moto.name(suffix);
    format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/{name}")
        .parse()
        .unwrap()
}

/// The fixtures: `db` (JSON with `password`), `flag`, the log token parameter, registry
/// secrets with both keys (`registry`) and without `password` (`registry-half`). No `missing`
/// secret, no `/nolog` parameter.
async fn fixtures(moto: &Moto) {
    let db = json!({"password": format!("{CANARY}-db")}).to_string();
    moto.secret("/db", &db).await;
    moto.param("/flag", &format!("{CANARY}-flag")).await;
    moto.param("/log-token", &format!("{CANARY}-log")).await;
    let both = json!({"username": "robot", "password": format!("{CANARY}-reg")}).to_string();
    moto.secret("/registry", &both).await;
    let half = json!({"username": format!("{CANARY}-user")}).to_string();
    moto.secret("/registry-half", &half).await;
}

/// app: a healthy declaration and registry credentials with both keys; sidecar: a missing
/// secret and registry credentials without `password`; log_router: one log option that
/// exists, one that does not.
fn task(moto: &Moto) -> Task {
    let vars = vars(moto);
    Task::new()
        .container("app", App::deployment_for(&vars).unwrap())
        .repository_credentials("app", secret_arn(moto, "/registry"))
        .unwrap()
        .container("sidecar", Sidecar::deployment_for(&vars).unwrap())
        .repository_credentials("sidecar", secret_arn(moto, "/registry-half"))
        .unwrap()
        .log_secret("log_router", "splunk-token", param_arn(moto, "/log-token"))
        .unwrap()
        .log_secret("log_router", "api-key", param_arn(moto, "/nolog"))
        .unwrap()
}

/// Each check as (container, what, findings).
fn findings(report: &PreflightReport) -> Vec<(Option<&str>, String, Vec<Finding>)> {
    report
        .checks()
        .iter()
        .map(|c| {
            let what = match &c.subject {
                Subject::Field { env, .. } => (*env).to_owned(),
                Subject::LogOption { option } => format!("log:{option}"),
                Subject::RepositoryCredentials => "registry".to_owned(),
                Subject::KmsKey { .. } => "kms_key".to_owned(),
                Subject::TaskDefinition => "task_definition".to_owned(),
                other => format!("{other:?}"),
            };
            (c.container.as_deref(), what, c.findings.clone())
        })
        .collect()
}

fn assert_no_value(report: &PreflightReport) {
    assert_clean("a report", &report_outputs(report), &[CANARY]);
}

fn not_verified(keys: &[&str]) -> Vec<Finding> {
    keys.iter()
        .map(|k| Finding::JsonKeyNotVerified {
            key: (*k).to_owned(),
        })
        .collect()
}

/// What the task's checks find, with and without values read.
fn expected(read_values: bool) -> Vec<(Option<&'static str>, String, Vec<Finding>)> {
    let east = || "us-east-1".to_owned();
    let (password, registry, half) = if read_values {
        let missing = Finding::JsonKey {
            key: "password".into(),
            error: ExtractError::KeyMissing,
        };
        (vec![], vec![], vec![missing])
    } else {
        (
            not_verified(&["password"]),
            not_verified(&["username", "password"]),
            not_verified(&["username", "password"]),
        )
    };
    vec![
        (Some("app"), "PASSWORD".into(), password),
        (Some("app"), "FLAG".into(), vec![]),
        (Some("app"), "registry".into(), registry),
        (
            Some("sidecar"),
            "TOKEN".into(),
            vec![Finding::SecretNotFound { region: east() }],
        ),
        (Some("sidecar"), "registry".into(), half),
        (Some("log_router"), "log:splunk-token".into(), vec![]),
        (
            Some("log_router"),
            "log:api-key".into(),
            vec![Finding::ParameterNotFound { region: east() }],
        ),
    ]
}

#[tokio::test]
async fn every_place_a_task_takes_secrets_is_checked() {
    let Some(moto) = Moto::start("task-preflight").await else {
        return;
    };
    fixtures(&moto).await;
    let task = task(&moto);
    let loader = Loader::new(&moto.config);

    let report = loader.preflight_task(&task, PreflightOptions::new()).await;
    assert_eq!(findings(&report), expected(false), "{report}");
    // The missing secret and the missing log option; JSON keys are only "not verified".
    assert_eq!(report.problems().count(), 2, "{report}");
    // db, missing, registry, registry-half described once each; flag, log-token and nolog in
    // one GetParameters (one region); no value read.
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 4);
    assert_eq!(moto.proxy.count(testkit::PARAMS), 1);
    assert_eq!(moto.proxy.count(testkit::GET), 0);
    assert_no_value(&report);

    moto.proxy.reset_counts();
    let options = PreflightOptions::new().read_values(true);
    let report = loader.preflight_task(&task, options).await;
    assert_eq!(findings(&report), expected(true), "{report}");
    assert_eq!(report.problems().count(), 3, "{report}");
    // db, registry and registry-half read once each; the missing secret is not read.
    assert_eq!(moto.proxy.count(testkit::GET), 3);
    assert_no_value(&report);

    let text = report.to_string();
    assert!(
        text.starts_with("preflight of `task (containers app, sidecar, log_router)`"),
        "{text}"
    );
    assert!(
        text.contains("PROBLEM container `sidecar`: registry credentials from arn:aws:"),
        "{text}"
    );
    assert!(
        text.contains("PROBLEM container `log_router`: log option `api-key` from arn:aws:ssm:"),
        "{text}"
    );
    assert!(text.contains("did not contain json key password"), "{text}");
    let json = report.to_json();
    let sidecar = &json["checks"][4];
    assert_eq!(sidecar["subject"], "repository_credentials");
    assert_eq!(sidecar["container"], "sidecar");
    assert_eq!(sidecar["env"], Value::Null);
    assert_eq!(sidecar["findings"][0]["code"], "JsonKeyMissing");
    assert_eq!(json["checks"][6]["option"], "api-key");
    assert_eq!(json["checks"][0]["struct"], "App");
}

/// A task definition whose containers take the task's secrets.
fn task_definition(router_driver: bool, padding: usize) -> Value {
    let mut router = json!({"name": "log_router", "image": "fluent-bit:1"});
    if router_driver {
        router["logConfiguration"] = json!({"logDriver": "awsfirelens"});
    }
    json!({
        "family": "preflight",
        "containerDefinitions": [
            {"name": "app", "image": "app:1", "environment": [
                {"name": "PADDING", "value": "p".repeat(padding)},
                {"name": "LOG_LEVEL", "value": CANARY}
            ]},
            {"name": "sidecar", "image": "sidecar:1"},
            router
        ]
    })
}

#[tokio::test]
async fn the_task_definition_is_merged_into_a_copy() {
    let Some(moto) = Moto::start("task-preflight-td").await else {
        return;
    };
    fixtures(&moto).await;
    let task = task(&moto);
    let loader = Loader::new(&moto.config);
    let last = |report: &PreflightReport| {
        let check = report.checks().last().unwrap().clone();
        assert_eq!(check.subject, Subject::TaskDefinition);
        check.findings
    };

    let td = task_definition(true, 10);
    let options = PreflightOptions::new().task_definition(td.clone());
    let report = loader.preflight_task(&task, options).await;
    assert_eq!(last(&report), [], "{report}");
    assert_eq!(report.checks().len(), expected(false).len() + 1);
    assert_no_value(&report);

    // Within 64 KiB as it is, over once the secrets are in.
    let room = 65_536 - serde_json::to_vec(&task_definition(true, 0)).unwrap().len();
    let big = task_definition(true, room - 50);
    assert!(serde_json::to_vec(&big).unwrap().len() <= 65_536);
    let options = PreflightOptions::new().task_definition(big);
    let report = loader.preflight_task(&task, options).await;
    let findings = last(&report);
    assert!(
        matches!(
            &findings[..],
            [Finding::TaskDefinition {
                error: TaskDefinitionError::TaskTooLarge { limit: 65_536, .. }
            }]
        ),
        "{report}"
    );
    assert_eq!(findings[0].code(), "TaskDefinitionTooLarge");
    assert_no_value(&report);

    // Log secrets for a container without a log driver: the merge's refusal, named.
    let options = PreflightOptions::new().task_definition(task_definition(false, 10));
    let report = loader.preflight_task(&task, options).await;
    let findings = last(&report);
    assert!(
        matches!(&findings[..], [Finding::TaskDefinition { error: TaskDefinitionError::NoLogDriver { container } }] if container == "log_router"),
        "{report}"
    );
    assert_eq!(findings[0].code(), "TaskDefinitionRefused");
    assert!(
        report
            .to_string()
            .contains("cannot take the secrets (ECS's RegisterTaskDefinition, or the merge, would refuse it): container `log_router`: log secrets need a `logConfiguration`"),
        "{report}"
    );
    assert_no_value(&report);

    // One declaration: merged into the only container; a definition of several is refused.
    let app = App::deployment_for(&vars(&moto)).unwrap();
    let one = json!({"family": "one", "containerDefinitions": [{"name": "web", "image": "w:1"}]});
    let options = PreflightOptions::new().task_definition(one);
    let report = loader.preflight(&app, options).await;
    assert_eq!(last(&report), [], "{report}");
    let options = PreflightOptions::new().task_definition(td);
    let report = loader.preflight(&app, options).await;
    let text = report.to_string();
    assert!(
        text.contains("it has 3 containers (`app`, `sidecar`, `log_router`)"),
        "{text}"
    );
    assert!(text.contains("preflight a Task"), "{text}");
    assert_no_value(&report);
}

/// The same failures with different values give the same report, byte for byte.
#[tokio::test]
async fn reports_do_not_depend_on_the_values() {
    let mut reports = Vec::new();
    let values = [
        "CANARY-a",
        "CANARY-a-much-longer-registry-user-name-0123456789",
    ];
    for value in values {
        let Some(moto) = Moto::start("task-preflight-diff").await else {
            return;
        };
        // A registry secret without `password`, and a value that is no JSON object.
        let half = json!({"username": value}).to_string();
        moto.secret("/registry-half", &half).await;
        moto.secret("/registry", value).await;
        let task = Task::new()
            .repository_credentials("a", secret_arn(&moto, "/registry-half"))
            .unwrap()
            .repository_credentials("b", secret_arn(&moto, "/registry"))
            .unwrap();
        let options = PreflightOptions::new().read_values(true);
        let report = Loader::new(&moto.config)
            .preflight_task(&task, options)
            .await;
        assert_eq!(report.problems().count(), 3, "{report}");
        // The prefix differs per run: take it out.
        let text = format!("{report}\n{report:?}\n{}", report.to_json()).replace(&moto.prefix, "P");
        assert!(!text.contains("CANARY"), "a value leaked into a report");
        reports.push(text);
    }
    assert_eq!(reports[0], reports[1]);
}

#[test]
fn the_task_command_line_preflights_the_task() {
    use ecs_secrets::cli;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(moto) = rt.block_on(Moto::start("task-preflight-cli")) else {
        return;
    };
    rt.block_on(fixtures(&moto));
    let names = ecs_secrets::placeholders::<App>();
    let dir = std::env::temp_dir().join(format!("{}-td", moto.prefix.replace('/', "-")));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("td.json");
    let td = serde_json::to_string_pretty(&task_definition(true, 10)).unwrap();
    std::fs::write(&file, &td).unwrap();
    let run = |healthy: bool, args: &[&str]| {
        let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
        let var = format!("p={}", moto.prefix);
        let mut all = vec!["deploy", "--var", &var, "preflight"];
        all.extend_from_slice(args);
        let out = cli::run_task_with_config(all, &|_| None, &names, &config, |vars: &Vars| {
            let app = App::deployment_for(vars)?;
            if healthy {
                return Ok(Task::new().container("app", app));
            }
            Ok(task(&moto))
        })
        .unwrap();
        assert!(!out.stdout.contains(CANARY) && !out.stderr.contains(CANARY));
        out
    };

    let out = run(true, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .starts_with("preflight of `task (containers app)`: 2 references, 0 problems"),
        "{}",
        out.stdout
    );

    let path = file.to_str().unwrap();
    let out = run(
        false,
        &["--json", "--read-values", "--task-definition", path],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["problems"], 3);
    let last = report["checks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["subject"], "task_definition");
    assert_eq!(last["status"], "ok");
    // The file is read, never written.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), td);

    let help = cli::run_task(["deploy", "preflight", "--help"], &|_| None, &names, |_| {
        Ok(Task::new())
    })
    .unwrap()
    .stdout;
    for flag in [
        "--read-values",
        "--execution-role <ROLE_ARN>",
        "--task-definition <FILE>",
    ] {
        assert!(help.contains(flag), "{flag} not in {help}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The deploy step's policy covers what a task's preflight checks: the registry secret
/// (described, and read with values) and the log option's parameter, beside the declarations.
#[test]
fn the_preflight_policies_cover_log_options_and_registry_credentials() {
    use ecs_secrets::Role;
    let registry = "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry";
    let log = "arn:aws:ssm:us-east-1:123456789012:parameter/log-token";
    let task = Task::new()
        .container(
            "app",
            Sidecar::deployment_for(&Vars::new().with("p", "p")).unwrap(),
        )
        .repository_credentials("app", registry.parse().unwrap())
        .unwrap()
        .log_secret("router", "token", log.parse().unwrap())
        .unwrap();
    let token = "arn:aws:secretsmanager:us-east-1:123456789012:secret:p/missing-??????";
    let registry_arn = format!("{registry}-??????");
    let statement = |action: &str, resources: &[&str]| json!({"Effect": "Allow", "Action": [action], "Resource": resources});
    assert_eq!(
        task.policy(Role::Preflight).to_json()["Statement"],
        json!([
            statement("ssm:GetParameters", &[log]),
            statement("secretsmanager:DescribeSecret", &[token, &registry_arn]),
            statement("ssm:DescribeParameters", &["*"]),
        ])
    );
    let read = task.policy(Role::PreflightReadValues).to_json();
    assert_eq!(
        read["Statement"][0],
        statement("secretsmanager:GetSecretValue", &[token, &registry_arn])
    );
    // The application's own role still reads only its declarations.
    let app = task.policy(Role::Task).to_json().to_string();
    assert!(
        !app.contains("registry") && !app.contains("log-token"),
        "{app}"
    );
}
