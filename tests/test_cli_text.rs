//! What the command line and the library print about a task definition: nothing that measures
//! its plaintext values (the 64 KiB refusal says the limit, never the size), and every name
//! taken from the file escaped, so that a name cannot forge a line of a report or drive the
//! terminal. JSON output stays exact.

#[path = "support/cli.rs"]
mod support;

use ecs_secrets::cli::{CliError, EXIT_DRIFT, EXIT_ERROR, Output};
use ecs_secrets::task_definition;
use ecs_secrets::{EcsSecrets, TaskDefinitionError};
use serde_json::{Value, json};
use support::scratch;

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct App {
    #[ecs(secret = "prod/app/db", key = "password")]
    db_password: String,
}

const DB_PASSWORD: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:password::";
/// A secret name that, printed as it is, ends the report early and hides what follows.
const FORGED: &str = "X\ncontainer `app`: no drift\x1b[8m";
const FORGED_SHOWN: &str = "X\\ncontainer `app`: no drift\\u{1b}[8m";
const FORGED_VALUE_FROM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/x\r\u{202e}";

fn run(args: &[&str]) -> Result<Output, CliError> {
    support::run::<App>(args)
}

/// A task definition whose one plain value makes it `total` bytes once merged.
fn with_plaintext_of(total: usize) -> Value {
    let td = |value: &str| {
        json!({"family": "app", "containerDefinitions": [{
            "name": "app",
            "environment": [{"name": "NOTE", "value": value}],
        }]})
    };
    let mut probe = td("");
    App::deployment().merge_into(&mut probe, "app").unwrap();
    let base = task_definition::size_in_bytes(&probe);
    let value = format!("CANARY-{}", "x".repeat(total - base - "CANARY-".len()));
    // What the merge would make (it refuses to): exactly `total` bytes.
    let mut merged = td(&value);
    merged["containerDefinitions"][0]["secrets"] =
        json!([{"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD}]);
    assert_eq!(task_definition::size_in_bytes(&merged), total);
    td(&value)
}

/// Three task definitions that differ only in the length of one plain value: the same refusal,
/// byte for byte, from the library and from the command line, naming the limit and not the
/// size.
#[test]
fn the_size_refusal_is_the_same_whatever_the_plaintext() {
    let path = scratch("text-size").join("td.json");
    let p = path.to_str().unwrap();
    let mut library = Vec::new();
    let mut cli = Vec::new();
    for total in [66_000, 66_001, 70_000] {
        let td = with_plaintext_of(total);
        let mut copy = td.clone();
        let err = App::deployment().merge_into(&mut copy, "app").unwrap_err();
        assert_eq!(
            err,
            TaskDefinitionError::TooLarge {
                container: "app".to_owned(),
                limit: 65_536
            }
        );
        assert_eq!(copy, td);
        library.push((err.to_string(), format!("{err:?}")));

        std::fs::write(&path, serde_json::to_vec(&td).unwrap()).unwrap();
        let err = run(&["merge", "--container", "app", p, "--in-place"]).unwrap_err();
        assert_eq!(err.exit_code(), EXIT_ERROR);
        cli.push((err.to_string(), format!("{err:?}")));
        // Nothing was written.
        assert_eq!(
            std::fs::read(&path).unwrap(),
            serde_json::to_vec(&td).unwrap()
        );
    }
    assert_eq!(
        library[0].0,
        "with the secrets of container `app` the task definition would exceed ECS's limit of \
         65536 bytes"
    );
    assert_eq!(cli[0].0, format!("error: {p}: {}", library[0].0));
    for seen in [&library, &cli] {
        assert_eq!(seen[0], seen[1]);
        assert_eq!(seen[0], seen[2]);
        for (text, debug) in seen {
            for leak in ["66000", "66001", "70000", "CANARY"] {
                assert!(
                    !text.contains(leak) && !debug.contains(leak),
                    "{leak}: {debug}"
                );
            }
        }
    }
}

fn forged_task_definition() -> Value {
    json!({"family": "app", "containerDefinitions": [{
        "name": "app",
        "secrets": [
            {"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD},
            {"name": FORGED, "valueFrom": FORGED_VALUE_FROM},
        ],
    }]})
}

const FORGED_REPORT: &str = "container `app`: 1 difference\n  \
    - extra secret `X\\ncontainer `app`: no drift\\u{1b}[8m` (valueFrom \
    arn:aws:ssm:us-east-1:123456789012:parameter/x\\r\\u{202e}): not declared";

#[test]
fn a_forged_name_prints_escaped_in_the_drift_report() {
    let report = App::deployment()
        .check(&forged_task_definition(), "app")
        .unwrap();
    assert_eq!(report.to_string(), FORGED_REPORT);
    // The report keeps the name as it is; only printing escapes it.
    assert_eq!(report.drifts[0].name(), FORGED);

    let path = scratch("text-check").join("td.json");
    std::fs::write(&path, forged_task_definition().to_string()).unwrap();
    let out = run(&["check", "--container", "app", path.to_str().unwrap()]).unwrap();
    assert_eq!(out.code, EXIT_DRIFT);
    assert_eq!(out.stdout, format!("{FORGED_REPORT}\n"));
    assert_eq!(out.stderr, "");
    assert_eq!(out.stdout.lines().count(), 2);
    assert!(!out.stdout.contains(['\x1b', '\r', '\u{202e}']));
}

#[test]
fn forged_names_print_escaped_in_errors_and_exact_in_json() {
    let mut td = forged_task_definition();
    td["containerDefinitions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": FORGED}));
    let path = scratch("text-errors").join("td.json");
    std::fs::write(&path, td.to_string()).unwrap();
    let p = path.to_str().unwrap();

    let err = run(&["check", "--container", "web", p]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error: {p}: the task definition has no container `web`; its containers are \
             `app`, `{FORGED_SHOWN}`"
        )
    );
    // A name given on the command line is escaped as well.
    let err = run(&["check", "--container", "web\x1b[2J", p]).unwrap_err();
    assert!(
        err.to_string()
            .contains("the task definition has no container `web\\u{1b}[2J`"),
        "{err}"
    );

    // JSON keeps every name exactly: serde_json escapes them as JSON does.
    let out = run(&["merge", "--container", "app", p]).unwrap();
    let printed: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed["containerDefinitions"][1]["name"], FORGED);
    assert!(
        out.stdout
            .contains(r#""X\ncontainer `app`: no drift\u001b[8m""#),
        "{}",
        out.stdout
    );
}
