//! Task-definition merge and drift check; and every merged task definition registered through the
//! AWS CLI against the local endpoint, which validates it against the ECS API model.

use ecs_secrets::task_definition::{self, MAX_TASK_DEFINITION_BYTES};
use ecs_secrets::{Drift, EcsSecrets, Secret, TaskDefinitionError, Vars};
use serde_json::{Value, json};

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct App {
    #[ecs(secret = "prod/app/db", key = "password")]
    db_password: Secret<String>,
    #[ecs(ssm = "/prod/app/token")]
    token: String,
    #[ecs(default = "3000")]
    port: u16,
    #[ecs(env = "REGION_NAME")]
    region_name: String,
    log_level: Option<String>,
}

const DB: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:password::";
const TOKEN: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token";

fn app_secrets() -> Value {
    json!([{"name": "DB_PASSWORD", "valueFrom": DB}, {"name": "TOKEN", "valueFrom": TOKEN}])
}

/// A Fargate task definition in the `register-task-definition --cli-input-json` shape.
fn registration(family: &str) -> Value {
    json!({
        "family": family,
        "executionRoleArn": "arn:aws:iam::123456789012:role/app-execution",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": "app",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.2.3",
                "essential": true,
                "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
                "environment": [{"name": "REGION_NAME", "value": "eu"}],
                "secrets": [{"name": "OLD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/old"}],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {"awslogs-group": "/ecs/app", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}
                }
            },
            {"name": "sidecar", "image": "envoyproxy/envoy:v1.30", "essential": false,
             "secrets": [{"name": "SIDECAR_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/sidecar"}]}
        ],
        "tags": [{"key": "team", "value": "payments"}]
    })
}

/// The same task definition as `describe-task-definition --include TAGS` prints it.
fn described(family: &str) -> Value {
    let mut inner = registration(family);
    let tags = inner.as_object_mut().unwrap().remove("tags").unwrap();
    let inner = inner.as_object_mut().unwrap();
    inner.insert(
        "taskDefinitionArn".into(),
        json!(format!(
            "arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:7"
        )),
    );
    inner.insert("revision".into(), json!(7));
    inner.insert("status".into(), json!("ACTIVE"));
    inner.insert("compatibilities".into(), json!(["EC2", "FARGATE"]));
    inner.insert(
        "requiresAttributes".into(),
        json!([{"name": "ecs.capability.secrets.asm.environment-variables"}]),
    );
    inner.insert("registeredAt".into(), json!("2024-05-01T10:00:00.000Z"));
    inner.insert(
        "registeredBy".into(),
        json!("arn:aws:sts::123456789012:assumed-role/deploy/ci"),
    );
    json!({"taskDefinition": inner, "tags": tags})
}

// ------------------------------------------------------------------------------------------
// Merge

#[test]
fn merge_sets_the_container_secrets_and_keeps_everything_else() {
    let before = registration("app");
    let mut td = before.clone();
    App::deployment().merge_into(&mut td, "app").unwrap();

    let mut expected = before;
    expected["containerDefinitions"][0]["secrets"] = app_secrets();
    assert_eq!(td, expected);
    // Merging again changes nothing.
    let again = td.clone();
    App::deployment().merge_into(&mut td, "app").unwrap();
    assert_eq!(td, again);
}

#[test]
fn merge_into_describe_output_keeps_its_shape() {
    let before = described("app");
    let mut td = before.clone();
    App::deployment().merge_into(&mut td, "app").unwrap();
    let mut expected = before;
    expected["taskDefinition"]["containerDefinitions"][0]["secrets"] = app_secrets();
    assert_eq!(td, expected);

    // ... and the registration input drops what ECS sets and moves the tags in.
    let mut merged = registration("app");
    App::deployment().merge_into(&mut merged, "app").unwrap();
    assert_eq!(task_definition::registration_input(&td), merged);
    assert_eq!(task_definition::registration_input(&merged), merged);
}

#[test]
fn merge_into_a_container_without_secrets_or_environment() {
    let mut td = json!({"family": "f", "containerDefinitions": [{"name": "app", "image": "x"}]});
    App::deployment().merge_into(&mut td, "app").unwrap();
    assert_eq!(
        td,
        json!({"family": "f", "containerDefinitions": [{"name": "app", "image": "x", "secrets": app_secrets()}]})
    );
}

#[test]
fn refuses_a_name_already_in_environment() {
    let mut td = registration("app");
    td["containerDefinitions"][0]["environment"] = json!([
        {"name": "TOKEN", "value": "canary-plain-text-token"},
        {"name": "REGION_NAME", "value": "eu"},
        {"name": "DB_PASSWORD", "value": "canary-plain-text-password"},
    ]);
    let before = td.clone();
    let err = App::deployment().merge_into(&mut td, "app").unwrap_err();
    assert_eq!(
        err,
        TaskDefinitionError::NameInEnvironment {
            container: "app".into(),
            names: vec!["DB_PASSWORD".into(), "TOKEN".into()],
        }
    );
    let msg = err.to_string();
    assert_eq!(
        msg,
        "container `app`: `DB_PASSWORD`, `TOKEN` are already in `environment`, and ECS rejects a \
         name that is in both `environment` and `secrets` (\"The secret name must be unique and \
         not shared with any … environment variables\"); remove them from `environment`"
    );
    assert!(!msg.contains("canary"));
    assert_eq!(td, before, "a refused merge changes nothing");

    // The other container's environment does not matter.
    let mut td = registration("app");
    td["containerDefinitions"][1]["environment"] = json!([{"name": "TOKEN", "value": "x"}]);
    App::deployment().merge_into(&mut td, "app").unwrap();
}

#[test]
fn refuses_an_unknown_container() {
    let mut td = registration("app");
    let err = App::deployment().merge_into(&mut td, "web").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the task definition has no container `web`; its containers are `app`, `sidecar`"
    );
    assert!(
        matches!(err, TaskDefinitionError::UnknownContainer { ref available, .. } if available.len() == 2)
    );
    let mut empty = json!({"family": "f", "containerDefinitions": []});
    let err = App::deployment().merge_into(&mut empty, "app").unwrap_err();
    assert_eq!(
        err.to_string(),
        "the task definition has no container `app` (it has no containers)"
    );
}

#[test]
fn refuses_a_result_over_64_kib_measured_as_compact_json() {
    let padded = |n: usize| {
        let mut td = registration("app");
        td["containerDefinitions"][0]["environment"] =
            json!([{"name": "REGION_NAME", "value": "x".repeat(n)}]);
        td
    };
    let mut probe = padded(0);
    App::deployment().merge_into(&mut probe, "app").unwrap();
    let base = serde_json::to_vec(&probe).unwrap().len();
    assert_eq!(task_definition::size_in_bytes(&probe), base);

    let fits = MAX_TASK_DEFINITION_BYTES - base;
    let mut td = padded(fits);
    App::deployment().merge_into(&mut td, "app").unwrap();
    assert_eq!(
        serde_json::to_vec(&td).unwrap().len(),
        MAX_TASK_DEFINITION_BYTES
    );

    let mut td = padded(fits + 1);
    let before = td.clone();
    let err = App::deployment().merge_into(&mut td, "app").unwrap_err();
    assert_eq!(
        err,
        TaskDefinitionError::TooLarge {
            container: "app".into(),
            limit: 65_536
        }
    );
    assert_eq!(
        err.to_string(),
        "with the secrets of container `app` the task definition would exceed ECS's limit of \
         65536 bytes"
    );
    assert_eq!(td, before);

    // Describe output is measured without the fields ECS sets.
    let mut described = described("app");
    described["taskDefinition"]["containerDefinitions"][0]["environment"] =
        json!([{"name": "REGION_NAME", "value": "x".repeat(fits)}]);
    described["taskDefinition"]["containerDefinitions"][0]["secrets"] = json!([]);
    App::deployment().merge_into(&mut described, "app").unwrap();
}

#[test]
fn refuses_what_is_not_a_task_definition() {
    let cases = [
        (
            json!([]),
            "not a valid task definition: expected a JSON object",
        ),
        (
            json!({"family": "f"}),
            "not a valid task definition: there is no `containerDefinitions` list",
        ),
        (
            json!({"taskDefinition": 1}),
            "not a valid task definition: `taskDefinition` is not an object",
        ),
        (
            json!({"containerDefinitions": {}}),
            "not a valid task definition: `containerDefinitions` is not a list",
        ),
        (
            json!({"containerDefinitions": [{"image": "x"}]}),
            "not a valid task definition: container definition #1 has no string `name`",
        ),
        (
            json!({"containerDefinitions": [{"name": "app"}, {"name": "app"}]}),
            "not a valid task definition: two container definitions are named `app`",
        ),
        (
            json!({"containerDefinitions": [{"name": "app", "environment": {}}]}),
            "not a valid task definition: `environment` of container `app` is not a list",
        ),
        (
            json!({"containerDefinitions": [{"name": "app", "environment": [{"value": "v"}]}]}),
            "not a valid task definition: entry #1 of `environment` of container `app` has no string `name`",
        ),
    ];
    for (mut td, message) in cases {
        let err = App::deployment().merge_into(&mut td, "app").unwrap_err();
        assert_eq!(err.to_string(), message);
        assert!(matches!(err, TaskDefinitionError::Invalid { .. }));
    }
}

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Staged {
    #[ecs(secret = "{stage}/app/db", key = "password")]
    db_password: Secret<String>,
    #[ecs(ssm = "/{stage}/app/token")]
    token: String,
}

#[test]
fn merge_and_check_with_placeholder_values() {
    let mut td = registration("app");
    Staged::deployment_for(&Vars::new().with("stage", "staging"))
        .expect("placeholders resolve")
        .merge_into(&mut td, "app")
        .unwrap();
    assert_eq!(
        td["containerDefinitions"][0]["secrets"],
        json!([
            {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:staging/app/db:password::"},
            {"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/staging/app/token"},
        ])
    );
    let staging = Staged::deployment_for(&Vars::new().with("stage", "staging"))
        .expect("placeholders resolve")
        .check(&td, "app")
        .unwrap();
    assert!(!staging.has_drift(), "{staging}");
    let prod = Staged::deployment_for(&Vars::new().with("stage", "prod"))
        .expect("placeholders resolve")
        .check(&td, "app")
        .unwrap();
    assert_eq!(prod.drifts.len(), 2);

    let err = Staged::deployment_for(&Vars::new()).unwrap_err();
    assert_eq!(err.errors().len(), 1);
    assert_eq!(
        err.to_string(),
        "cannot resolve the declaration for this environment: \
         field `Staged.db_password` (env `DB_PASSWORD`, from arn:aws:secretsmanager:us-east-1:123456789012:secret:{stage}/app/db:password::): \
         no value for placeholder `{stage}`; also used by `Staged.token`"
    );
}

// ------------------------------------------------------------------------------------------
// Drift

#[test]
fn a_merged_task_definition_has_no_drift() {
    for mut td in [registration("app"), described("app")] {
        App::deployment().merge_into(&mut td, "app").unwrap();
        let report = App::deployment().check(&td, "app").unwrap();
        assert!(!report.has_drift());
        assert_eq!(report.to_string(), "container `app`: no drift");
    }
}

#[test]
fn drift_report_lists_every_difference() {
    let mut td = registration("app");
    td["containerDefinitions"][0]["environment"] =
        json!([{"name": "DB_PASSWORD", "value": "canary-in-plain-text"}]);
    td["containerDefinitions"][0]["secrets"] = json!([
        {"name": "TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/staging/app/token"},
        {"name": "LEGACY", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/legacy"},
        {"name": "LEGACY", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/legacy"},
        {"name": "LEGACY"},
    ]);
    let report = App::deployment().check(&td, "app").unwrap();
    assert!(report.has_drift());
    assert_eq!(
        report.drifts,
        [
            Drift::InEnvironment {
                name: "DB_PASSWORD".into(),
                value_from: DB.into()
            },
            Drift::Changed {
                name: "TOKEN".into(),
                actual: Some(
                    "arn:aws:ssm:us-east-1:123456789012:parameter/staging/app/token".into()
                ),
                expected: TOKEN.into(),
            },
            Drift::Extra {
                name: "LEGACY".into(),
                value_from: Some("arn:aws:ssm:us-east-1:123456789012:parameter/legacy".into())
            },
            Drift::Duplicate {
                name: "LEGACY".into()
            },
            Drift::RequiredEnvUnset {
                name: "REGION_NAME".into()
            },
        ]
    );
    let text = report.to_string();
    assert_eq!(
        text,
        "container `app`: 5 differences\n  \
         - `DB_PASSWORD` is a plain `environment` variable, but is declared as a secret (valueFrom arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:password::): remove it from `environment`\n  \
         - changed secret `TOKEN`: valueFrom is arn:aws:ssm:us-east-1:123456789012:parameter/staging/app/token, declared arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token\n  \
         - extra secret `LEGACY` (valueFrom arn:aws:ssm:us-east-1:123456789012:parameter/legacy): not declared\n  \
         - secret `LEGACY` is listed more than once (ECS: \"Duplicate secret names found\")\n  \
         - required variable `REGION_NAME` is in neither `environment` nor `secrets`: the service would fail to load its configuration"
    );
    assert!(!text.contains("canary"));
    let names: Vec<&str> = report.drifts.iter().map(Drift::name).collect();
    assert_eq!(
        names,
        ["DB_PASSWORD", "TOKEN", "LEGACY", "LEGACY", "REGION_NAME"]
    );
}

#[test]
fn drift_missing_and_changed_without_value_from() {
    let td = json!({"containerDefinitions": [{"name": "app", "secrets": [{"name": "DB_PASSWORD"}],
        "environment": [{"name": "REGION_NAME", "value": "eu"}]}]});
    let report = App::deployment().check(&td, "app").unwrap();
    assert_eq!(
        report.drifts,
        [
            Drift::Changed {
                name: "DB_PASSWORD".into(),
                actual: None,
                expected: DB.into()
            },
            Drift::Missing {
                name: "TOKEN".into(),
                value_from: TOKEN.into()
            },
        ]
    );
    assert_eq!(
        report.to_string(),
        format!(
            "container `app`: 2 differences\n  - changed secret `DB_PASSWORD`: valueFrom is (none), declared {DB}\n  - missing secret `TOKEN` (valueFrom {TOKEN})"
        )
    );
}

#[test]
fn plain_variables_from_secrets_or_environment_files() {
    // A required plain variable injected from a secret is set (and reported as an extra secret,
    // since a merge would drop it).
    let mut td = registration("app");
    App::deployment().merge_into(&mut td, "app").unwrap();
    td["containerDefinitions"][0]["environment"] = json!([]);
    td["containerDefinitions"][0]["secrets"].as_array_mut().unwrap().push(
        json!({"name": "REGION_NAME", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/region"}),
    );
    let report = App::deployment().check(&td, "app").unwrap();
    assert_eq!(report.drifts.len(), 1);
    assert!(matches!(&report.drifts[0], Drift::Extra { name, .. } if name == "REGION_NAME"));

    // With environmentFiles, an unset required variable cannot be checked: a note, not drift.
    let mut td = registration("app");
    App::deployment().merge_into(&mut td, "app").unwrap();
    td["containerDefinitions"][0]["environment"] = json!([]);
    td["containerDefinitions"][0]["environmentFiles"] =
        json!([{"value": "arn:aws:s3:::configs/app.env", "type": "s3"}]);
    let report = App::deployment().check(&td, "app").unwrap();
    assert!(!report.has_drift());
    assert_eq!(report.unverified, ["REGION_NAME"]);
    assert_eq!(
        report.to_string(),
        "container `app`: no drift\n  note: `REGION_NAME` not in `environment` or `secrets`; the container's `environmentFiles` may set it"
    );
}

#[test]
fn check_refuses_like_merge() {
    let td = registration("app");
    assert!(matches!(
        App::deployment().check(&td, "web"),
        Err(TaskDefinitionError::UnknownContainer { .. })
    ));
    assert!(matches!(
        App::deployment().check(&json!({"family": "f"}), "app"),
        Err(TaskDefinitionError::Invalid { .. })
    ));
}

// ------------------------------------------------------------------------------------------
// A real client: the AWS CLI validates each merged task definition against the ECS API model,
// moto stores it, and `describe-task-definition` gives back our `secrets`.

fn register_and_read_back(td: &Value, container: &str) -> Value {
    let described = ecs_secrets_testkit::register_and_describe(td);
    let containers = described["taskDefinition"]["containerDefinitions"]
        .as_array()
        .unwrap();
    let found = containers.iter().find(|c| c["name"] == container).unwrap();
    found["secrets"].clone()
}

#[test]
fn every_merged_task_definition_registers_with_the_aws_cli() {
    let Some(_endpoint) = ecs_secrets_testkit::endpoint() else {
        return;
    };

    // The registration shape, merged.
    let mut a = registration(&ecs_secrets_testkit::unique("merge-register"));
    App::deployment().merge_into(&mut a, "app").unwrap();
    // describe-task-definition output, merged and turned into a registration input.
    let mut b = described(&ecs_secrets_testkit::unique("merge-describe"));
    App::deployment().merge_into(&mut b, "app").unwrap();
    let b = task_definition::registration_input(&b);
    // Two environments of one declaration.
    let mut staging = registration(&ecs_secrets_testkit::unique("merge-staging"));
    Staged::deployment_for(&Vars::new().with("stage", "staging"))
        .expect("placeholders resolve")
        .merge_into(&mut staging, "app")
        .unwrap();
    let mut prod = registration(&ecs_secrets_testkit::unique("merge-prod"));
    Staged::deployment_for(&Vars::new().with("stage", "prod"))
        .expect("placeholders resolve")
        .merge_into(&mut prod, "app")
        .unwrap();

    // The CLI does validate: describe output as is has parameters registration does not take.
    let raw = std::env::temp_dir().join(format!(
        "ecs-secrets-register-raw-{}.json",
        std::process::id()
    ));
    std::fs::write(
        &raw,
        described(&ecs_secrets_testkit::unique("raw")).to_string(),
    )
    .unwrap();
    let out = ecs_secrets_testkit::aws_cli()
        .args(["ecs", "register-task-definition", "--cli-input-json"])
        .arg(format!("file://{}", raw.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Unknown parameter"), "{stderr}");

    for (td, expected) in [
        (&a, App::deployment().secrets()),
        (&b, App::deployment().secrets()),
        (
            &staging,
            Staged::deployment_for(&Vars::new().with("stage", "staging"))
                .map(|d| d.secrets())
                .unwrap(),
        ),
        (
            &prod,
            Staged::deployment_for(&Vars::new().with("stage", "prod"))
                .map(|d| d.secrets())
                .unwrap(),
        ),
    ] {
        let secrets = register_and_read_back(td, "app");
        assert_eq!(
            secrets,
            serde_json::to_value(&expected).unwrap(),
            "{}",
            td["family"]
        );
        // The untouched container keeps its own.
        let sidecar = &td["containerDefinitions"][1]["secrets"];
        assert_eq!(sidecar[0]["name"], "SIDECAR_TOKEN");
    }
}
