//! The `cli` entry point, through its testable core `ecs_secrets::cli::run`.

#[path = "support/cli.rs"]
mod support;

use ecs_secrets::cli::{self, CliError, EXIT_DRIFT, Output};
use ecs_secrets::{EcsSecrets, Secret};
use serde_json::{Value, json};

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "{account}")]
struct Staged {
    #[ecs(secret = "{stage}/app/db", key = "password")]
    db_password: Secret<String>,
    #[ecs(ssm = "/{stage}/app/token")]
    token: String,
    #[ecs(default = "3000")]
    port: u16,
    region_name: String,
}

const PROD: &[&str] = &["--var", "stage=prod", "--var", "account=111122223333"];

fn run(args: &[&str]) -> Result<Output, CliError> {
    support::run::<Staged>(args)
}

fn ok(args: &[&str]) -> Output {
    run(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn json_of(out: &Output) -> Value {
    assert!(out.stdout.ends_with('\n'));
    serde_json::from_str(&out.stdout).unwrap()
}

fn with(args: &[&str], extra: &[&str]) -> Vec<String> {
    args.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn ok_owned(args: &[String]) -> Output {
    ok(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn run_owned(args: &[String]) -> Result<Output, CliError> {
    run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn temp_file(name: &str, content: &Value) -> std::path::PathBuf {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let path = DIR.get_or_init(|| support::scratch("cli")).join(name);
    std::fs::write(&path, serde_json::to_string_pretty(content).unwrap()).unwrap();
    path
}

fn task_definition() -> Value {
    json!({
        "family": "app",
        "containerDefinitions": [
            {"name": "app", "image": "app:1", "environment": [{"name": "REGION_NAME", "value": "eu"}]},
            {"name": "sidecar", "image": "envoy"}
        ]
    })
}

const PROD_SECRETS: &str = r#"[
  {
    "name": "DB_PASSWORD",
    "valueFrom": "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/app/db:password::"
  },
  {
    "name": "TOKEN",
    "valueFrom": "arn:aws:ssm:us-east-1:111122223333:parameter/prod/app/token"
  }
]
"#;

#[test]
fn secrets_prints_the_fragment_for_the_vars() {
    let out = ok(&with(&["secrets"], PROD)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert_eq!(out.stdout, PROD_SECRETS);
    assert_eq!(out.code, 0);
    // The options may come before the subcommand too.
    let out = ok_owned(&with(PROD, &["secrets"]));
    assert_eq!(out.stdout, PROD_SECRETS);
}

#[test]
fn vars_from_env_reads_upper_case_names_and_var_wins() {
    let env = |name: &str| match name {
        "STAGE" => Some("staging".to_owned()),
        "ACCOUNT" => Some("222233334444".to_owned()),
        _ => None,
    };
    let out = cli::run_with_env::<Staged>(["deploy", "--vars-from-env", "secrets"], &env).unwrap();
    assert_eq!(
        json_of(&out)[0]["valueFrom"],
        "arn:aws:secretsmanager:us-east-1:222233334444:secret:staging/app/db:password::"
    );
    let out = cli::run_with_env::<Staged>(
        [
            "deploy",
            "--vars-from-env",
            "--var",
            "stage=prod",
            "secrets",
        ],
        &env,
    )
    .unwrap();
    assert_eq!(
        json_of(&out)[1]["valueFrom"],
        "arn:aws:ssm:us-east-1:222233334444:parameter/prod/app/token"
    );
}

#[test]
fn missing_vars_are_reported_together() {
    let err = run(&["secrets", "--var", "stage=prod"]).unwrap_err();
    assert!(matches!(err, CliError::Placeholders { .. }), "{err:?}");
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.starts_with("error: missing or invalid placeholder values:"),
        "{msg}"
    );
    assert_eq!(
        msg.matches("no value for placeholder `{account}`").count(),
        1,
        "{msg}"
    );
    assert!(msg.ends_with(
        "the configuration's placeholders: {account}, {stage}; give them with --var NAME=VALUE or --vars-from-env"
    ), "{msg}");

    let err = run(&[
        "secrets",
        "--var",
        "stage=a:b",
        "--var",
        "account=111122223333",
    ])
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("value for placeholder `{stage}` is invalid: it contains ':'"),
        "{err}"
    );
}

#[test]
fn unknown_or_malformed_var_is_an_error() {
    let err = run(&["secrets", "--var", "stgae=prod"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "error: --var stgae: the configuration has no placeholder `{stgae}` (its placeholders: {account}, {stage})"
    );
    let err = run(&["secrets", "--var", "stage"]).unwrap_err();
    assert!(matches!(err, CliError::Usage(_)));
    assert!(
        err.to_string().contains("expected NAME=VALUE, got `stage`"),
        "{err}"
    );
}

#[test]
fn policy_for_both_roles() {
    let execution = json_of(&ok_owned(&with(&["policy"], PROD)));
    assert_eq!(
        execution,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
             "Resource": ["arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/app/db-??????"]},
            {"Effect": "Allow", "Action": ["ssm:GetParameters"],
             "Resource": ["arn:aws:ssm:us-east-1:111122223333:parameter/prod/app/token"]},
        ]})
    );
    assert_eq!(
        json_of(&ok_owned(&with(&["policy", "--role", "execution"], PROD))),
        execution
    );
    let task = json_of(&ok_owned(&with(&["policy", "--role", "task"], PROD)));
    assert_eq!(
        task["Statement"][1],
        json!({"Effect": "Allow", "Action": ["secretsmanager:BatchGetSecretValue"], "Resource": ["*"]})
    );
    assert_eq!(
        task["Statement"][3],
        json!({"Effect": "Allow", "Action": ["secretsmanager:DescribeSecret"],
               "Resource": ["arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/app/db-??????"]})
    );
    assert_eq!(task["Statement"].as_array().unwrap().len(), 4);

    let err = run_owned(&with(&["policy", "--role", "admin"], PROD)).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid value 'admin' for '--role <ROLE>'"),
        "{err}"
    );
}

#[test]
fn placeholders_lists_the_names() {
    assert_eq!(ok(&["placeholders"]).stdout, "account\nstage\n");
}

#[test]
fn merge_prints_in_place_and_to_a_file() {
    let path = temp_file("merge.json", &task_definition());
    let file = path.to_str().unwrap();
    let mut expected = task_definition();
    expected["containerDefinitions"][0]["secrets"] = serde_json::from_str(PROD_SECRETS).unwrap();

    let out = ok_owned(&with(&["merge", "--container", "app", file], PROD));
    assert_eq!(json_of(&out), expected);
    assert_eq!(out.stderr, "");
    // Key order is kept (feature `cli` turns on `preserve-order`).
    assert!(
        out.stdout.find("\"family\"").unwrap()
            < out.stdout.find("\"containerDefinitions\"").unwrap()
    );

    let out_path = path.with_file_name("merged.json");
    let out = ok_owned(&with(
        &[
            "merge",
            "--container",
            "app",
            file,
            "-o",
            out_path.to_str().unwrap(),
        ],
        PROD,
    ));
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .starts_with("wrote 2 secrets of `Staged` into container `app` of "),
        "{}",
        out.stderr
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(written, expected);
    // The input is untouched.
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(input, task_definition());

    ok_owned(&with(
        &["merge", "--container", "app", file, "--in-place"],
        PROD,
    ));
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(input, expected);

    let err = run_owned(&with(
        &[
            "merge",
            "--container",
            "app",
            file,
            "--in-place",
            "-o",
            "x.json",
        ],
        PROD,
    ))
    .unwrap_err();
    assert!(matches!(err, CliError::Usage(_)), "{err:?}");
}

/// A task definition may hold plain `environment` values, so an in-place rewrite keeps the
/// file's permissions (a 0600 file stays 0600), leaves no temporary file behind, and writes
/// through a symlink to the file it points to.
#[cfg(unix)]
#[test]
fn in_place_keeps_the_mode_and_writes_through_symlinks() {
    use std::os::unix::fs::PermissionsExt;

    // A directory of its own: other tests of this binary write temporary files beside theirs.
    let dir = support::scratch("cli-mode");
    let path = dir.join("private.json");
    std::fs::write(&path, task_definition().to_string()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let file = path.to_str().unwrap();
    ok_owned(&with(
        &["merge", "--container", "app", file, "--in-place"],
        PROD,
    ));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the mode was {mode:o}");
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(merged["containerDefinitions"][0]["secrets"].is_array());
    assert_eq!(support::temporaries(&dir), Vec::<String>::new());

    // A symlink: the file it points to is rewritten (mode kept), the link stays a link.
    let real = dir.join("real.json");
    std::fs::write(&real, task_definition().to_string()).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("link.json");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&real, &link).unwrap();
    ok_owned(&with(
        &[
            "merge",
            "--container",
            "app",
            link.to_str().unwrap(),
            "--in-place",
        ],
        PROD,
    ));
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let through: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert!(through["containerDefinitions"][0]["secrets"].is_array());
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640, "the mode was {mode:o}");
}

#[test]
fn merge_register_input_unwraps_describe_output() {
    let described = json!({
        "taskDefinition": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:111122223333:task-definition/app:3",
            "revision": 3, "status": "ACTIVE", "family": "app",
            "containerDefinitions": [{"name": "app", "image": "app:1"}],
            "registeredAt": "2024-01-01T00:00:00Z",
        },
        "tags": [{"key": "team", "value": "payments"}]
    });
    let path = temp_file("described.json", &described);
    let out = ok_owned(&with(
        &[
            "merge",
            "--container",
            "app",
            path.to_str().unwrap(),
            "--register-input",
        ],
        PROD,
    ));
    assert_eq!(
        json_of(&out),
        json!({
            "family": "app",
            "containerDefinitions": [{"name": "app", "image": "app:1", "secrets": serde_json::from_str::<Value>(PROD_SECRETS).unwrap()}],
            "tags": [{"key": "team", "value": "payments"}]
        })
    );
}

#[test]
fn merge_refusals_exit_2_and_name_the_problem() {
    let mut td = task_definition();
    td["containerDefinitions"][0]["environment"] =
        json!([{"name": "TOKEN", "value": "plain-canary-value"}]);
    let path = temp_file("clash.json", &td);
    let file = path.to_str().unwrap();
    let err = run_owned(&with(
        &["merge", "--container", "app", file, "--in-place"],
        PROD,
    ))
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "error: {file}: container `app`: `TOKEN` is already in `environment`"
        )),
        "{msg}"
    );
    assert!(!msg.contains("plain-canary-value"));
    // Nothing was written.
    let after: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(after, td);

    let err = run_owned(&with(&["merge", "--container", "web", file], PROD)).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "the task definition has no container `web`; its containers are `app`, `sidecar`"
        ),
        "{err}"
    );

    let err = run_owned(&with(
        &["merge", "--container", "app", "/nonexistent/td.json"],
        PROD,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("error: /nonexistent/td.json: cannot read it:"),
        "{err}"
    );

    let bad = path.with_file_name("bad.json");
    std::fs::write(&bad, "{\"family\": ").unwrap();
    let err = run_owned(&with(
        &["merge", "--container", "app", bad.to_str().unwrap()],
        PROD,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("not valid JSON: it ends too early (line 1)"),
        "{err}"
    );

    let err = run_owned(&with(
        &["merge", "--container", "app", "-", "--in-place"],
        PROD,
    ))
    .unwrap_err();
    assert!(err.to_string().contains("--in-place needs a FILE"), "{err}");
}

#[test]
fn check_exits_1_on_drift_and_0_without() {
    let mut td = task_definition();
    td["containerDefinitions"][0]["secrets"] = serde_json::from_str(PROD_SECRETS).unwrap();
    let clean = temp_file("clean.json", &td);
    let out = ok_owned(&with(
        &["check", "--container", "app", clean.to_str().unwrap()],
        PROD,
    ));
    assert_eq!(out.stdout, "container `app`: no drift\n");
    assert_eq!(out.code, 0);

    // Staging's references against production's task definition: both changed.
    let out = ok(&[
        "check",
        "--container",
        "app",
        clean.to_str().unwrap(),
        "--var",
        "stage=staging",
        "--var",
        "account=111122223333",
    ]);
    assert_eq!(out.code, EXIT_DRIFT);
    assert_eq!(
        out.stdout,
        "container `app`: 2 differences\n  \
         - changed secret `DB_PASSWORD`: valueFrom is arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/app/db:password::, declared arn:aws:secretsmanager:us-east-1:111122223333:secret:staging/app/db:password::\n  \
         - changed secret `TOKEN`: valueFrom is arn:aws:ssm:us-east-1:111122223333:parameter/prod/app/token, declared arn:aws:ssm:us-east-1:111122223333:parameter/staging/app/token\n"
    );

    let unmerged = temp_file(
        "unmerged.json",
        &json!({"family": "app", "containerDefinitions": [{"name": "app"}]}),
    );
    let out = ok_owned(&with(
        &["check", "--container", "app", unmerged.to_str().unwrap()],
        PROD,
    ));
    assert_eq!(out.code, EXIT_DRIFT);
    assert_eq!(
        out.stdout.lines().next(),
        Some("container `app`: 3 differences")
    );
    assert!(
        out.stdout.contains(
            "- required variable `REGION_NAME` is in neither `environment` nor `secrets`"
        )
    );
}

#[test]
fn help_documents_every_subcommand() {
    let out = ok(&["--help"]);
    assert_eq!(out.code, 0);
    let help = out.stdout;
    assert!(help.starts_with("Deployment outputs of `Staged`"), "{help}");
    for line in [
        "secrets       Print the container definition's `secrets` list (JSON)",
        "policy        Print the least-privilege IAM policy document (JSON) of a role: execution (the default), task, pin, preflight, preflight-read-values or migrate",
        "merge         Set a container's `secrets` in a task-definition JSON file",
        "check         Compare a container of a task-definition JSON file with the declaration; exit 1 on drift",
        "placeholders  List the declaration's placeholder names, one a line",
        "--var <NAME=VALUE>",
        "--vars-from-env",
    ] {
        assert!(help.contains(line), "missing {line:?} in\n{help}");
    }
    // The exit statuses of the subcommands this build has, and no other's.
    let exit = if cfg!(feature = "deploy") {
        "Exit status: 0 on success, 1 when `check` finds drift, `preflight` a problem or `migrate` a refusal or a failed write, 2 on an error."
    } else {
        "Exit status: 0 on success, 1 when `check` finds drift, 2 on an error."
    };
    assert!(help.contains(exit), "missing {exit:?} in\n{help}");
    // Help is plain text: no rustdoc link or Rust path.
    for page in [
        "--help",
        "policy --help",
        "secrets --help",
        "merge --help",
        "check --help",
    ] {
        let text = ok(&page.split(' ').collect::<Vec<_>>()).stdout;
        for markup in ["[`", "`]", "](", "crate::", "Format::", "Role::"] {
            assert!(!text.contains(markup), "{markup:?} in `{page}`:\n{text}");
        }
    }
    let merge = ok(&["merge", "--help"]).stdout;
    for line in [
        "--container <NAME>",
        "--in-place",
        "-o, --output <OUT>",
        "--register-input",
        "64 KiB",
    ] {
        assert!(merge.contains(line), "missing {line:?} in\n{merge}");
    }
    let policy = ok(&["help", "policy"]).stdout;
    assert!(policy.contains("[default: execution]"), "{policy}");
    assert!(policy.contains("--role <ROLE>"), "{policy}");

    let err = run(&["frobnicate"]).unwrap_err();
    assert!(matches!(err, CliError::Usage(_)));
    assert!(
        err.to_string()
            .starts_with("error: unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
    let err = run(&[]).unwrap_err();
    assert!(err.to_string().contains("Usage: deploy"), "{err}");
}

#[test]
fn a_struct_without_placeholders_needs_no_vars() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "eu-west-1", account = "123456789012")]
    struct Fixed {
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf")]
        db: String,
    }
    let out = cli::run_with_env::<Fixed>(["deploy", "policy"], &|_| None).unwrap();
    assert_eq!(
        json_of(&out)["Statement"][0]["Resource"],
        json!(["arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf"])
    );
    let err = cli::run_with_env::<Fixed>(["deploy", "--var", "stage=x", "secrets"], &|_| None)
        .unwrap_err();
    assert!(
        err.to_string().ends_with("(its placeholders: none)"),
        "{err}"
    );
}
