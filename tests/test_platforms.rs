//! Where tasks run: task definitions for ECS Managed Instances (`MANAGED_INSTANCES`) and ECS
//! Anywhere (`EXTERNAL`) take `secrets`, `logConfiguration.secretOptions` and
//! `repositoryCredentials` as EC2 and Fargate ones do (docs/ecs-facts.md, "Where tasks run"), so
//! merge, check and the size limit treat them alike and keep every platform-specific field.

use ecs_secrets::task_definition::{self, MAX_TASK_DEFINITION_BYTES};
use ecs_secrets::{Drift, EcsSecrets, Secret, Shape, Task, TaskDefinitionError};
use serde_json::{Value, json};

const SM: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:";
const SPLUNK: &str = "arn:aws:ssm:us-east-1:111122223333:parameter/shop/splunk-token";
const REGISTRY: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/registry-AbC123";

/// Container `app`: a primary and a replica database (one schema), a Splunk token for its log
/// driver, and the credentials of the private registry its image comes from.
fn task() -> Task {
    #[derive(EcsSecrets)]
    #[ecs(secret = "shop/db")]
    #[allow(dead_code)]
    struct Db {
        username: String,
        password: Secret<String>,
    }

    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333")]
    #[allow(dead_code)]
    struct App {
        #[ecs(flatten, env_prefix = "PRIMARY_")]
        primary: Db,
        #[ecs(flatten, env_prefix = "REPLICA_", secret = "shop/db-replica")]
        replica: Db,
        log_level: String,
    }

    Task::new()
        .container("app", App::deployment())
        .log_secret("app", "splunk-token", SPLUNK.parse().unwrap())
        .unwrap()
        .repository_credentials("app", REGISTRY.parse().unwrap())
        .unwrap()
}

fn app(platform_fields: Value) -> Value {
    let mut app = json!({
        "name": "app",
        "image": "registry.example.com/shop/app:1.4.0",
        "essential": true,
        "environment": [{"name": "LOG_LEVEL", "value": "info"}],
        "logConfiguration": {"logDriver": "splunk",
                             "options": {"splunk-url": "https://splunk.example.com:8088"}}
    });
    for (k, v) in platform_fields.as_object().unwrap() {
        app[k] = v.clone();
    }
    app
}

/// ECS Managed Instances: `awsvpc`, Linux, task-level size.
fn managed_instances() -> Value {
    json!({
        "family": "shop",
        "requiresCompatibilities": ["MANAGED_INSTANCES"],
        "networkMode": "awsvpc",
        "cpu": "1024",
        "memory": "2048",
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"},
        "executionRoleArn": "arn:aws:iam::111122223333:role/shop-execution",
        "containerDefinitions": [app(json!({"portMappings": [{"containerPort": 8080}]}))]
    })
}

/// ECS Anywhere: `bridge` on the operator's own server, container-level memory.
fn external() -> Value {
    json!({
        "family": "shop-onprem",
        "requiresCompatibilities": ["EXTERNAL"],
        "networkMode": "bridge",
        "executionRoleArn": "arn:aws:iam::111122223333:role/shop-execution",
        "containerDefinitions": [app(json!({
            "memory": 512,
            "portMappings": [{"containerPort": 8080, "hostPort": 8080}]
        }))]
    })
}

/// `td` with the task's secrets, log secret and registry credentials in container `app`.
fn expected(mut td: Value) -> Value {
    let app = &mut td["containerDefinitions"][0];
    app["secrets"] = json!([
        {"name": "PRIMARY_USERNAME", "valueFrom": format!("{SM}shop/db:username::")},
        {"name": "PRIMARY_PASSWORD", "valueFrom": format!("{SM}shop/db:password::")},
        {"name": "REPLICA_USERNAME", "valueFrom": format!("{SM}shop/db-replica:username::")},
        {"name": "REPLICA_PASSWORD", "valueFrom": format!("{SM}shop/db-replica:password::")},
    ]);
    app["logConfiguration"]["secretOptions"] =
        json!([{"name": "splunk-token", "valueFrom": SPLUNK}]);
    app["repositoryCredentials"] = json!({"credentialsParameter": REGISTRY});
    td
}

/// `describe-task-definition` output of `td` as ECS would give it back.
fn described(td: &Value, compatibilities: &[&str]) -> Value {
    let mut inner = td.clone();
    inner["taskDefinitionArn"] = json!("arn:aws:ecs:us-east-1:111122223333:task-definition/shop:7");
    inner["revision"] = json!(7);
    inner["status"] = json!("ACTIVE");
    inner["compatibilities"] = json!(compatibilities);
    inner["requiresAttributes"] =
        json!([{"name": "ecs.capability.secrets.asm.environment-variables"}]);
    json!({"taskDefinition": inner, "tags": []})
}

/// Merges into `td` and its describe output, and checks the result, each exactly.
fn merged_and_checked(td: Value, compatibilities: &[&str]) {
    let task = task();
    let mut merged = td.clone();
    assert_eq!(task.merge_into(&mut merged).unwrap(), Shape::TaskDefinition);
    assert_eq!(merged, expected(td.clone()));
    assert_eq!(
        task.check(&merged).unwrap().to_string(),
        "container `app`: no drift"
    );
    // Before the merge, everything the task declares is missing.
    let before = task.check(&td).unwrap();
    let drifts = &before.container("app").unwrap().drifts;
    assert_eq!(drifts.len(), 6, "{drifts:?}");
    assert_eq!(
        drifts[5],
        Drift::RepositoryCredentials {
            actual: None,
            expected: REGISTRY.to_owned()
        }
    );

    let mut out = described(&td, compatibilities);
    task.merge_into(&mut out).unwrap();
    assert_eq!(out, described(&expected(td), compatibilities));
    assert_eq!(task_definition::registration_input(&out), merged);
    assert!(!task.check(&out).unwrap().has_drift());
}

#[test]
fn a_managed_instances_task_definition_is_merged_and_checked() {
    merged_and_checked(managed_instances(), &["EC2", "MANAGED_INSTANCES"]);
}

#[test]
fn an_external_task_definition_is_merged_and_checked() {
    merged_and_checked(external(), &["EXTERNAL"]);
}

/// Drift reads the same on every platform: a replica secret changed by hand and a log secret
/// removed, each named.
#[test]
fn drift_is_reported_the_same_on_both() {
    for td in [managed_instances(), external()] {
        let mut merged = expected(td);
        merged["containerDefinitions"][0]["secrets"][3]["valueFrom"] =
            json!(format!("{SM}shop/db:password::"));
        merged["containerDefinitions"][0]["logConfiguration"]
            .as_object_mut()
            .unwrap()
            .remove("secretOptions");
        assert_eq!(
            task().check(&merged).unwrap().to_string(),
            format!(
                "container `app`: 2 differences\n  - changed secret `REPLICA_PASSWORD`: \
                 valueFrom is {SM}shop/db:password::, declared {SM}shop/db-replica:password::\n  \
                 - missing log secret `splunk-token` in `logConfiguration.secretOptions` \
                 (valueFrom {SPLUNK})"
            )
        );
    }
}

/// One declaration, the single-container API: the same result for its `secrets`.
#[test]
fn a_deployment_merges_into_either() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333", secret = "shop/db")]
    #[allow(dead_code)]
    struct Db {
        username: String,
    }

    for td in [managed_instances(), external()] {
        let mut merged = td.clone();
        Db::deployment().merge_into(&mut merged, "app").unwrap();
        let mut want = td;
        want["containerDefinitions"][0]["secrets"] =
            json!([{"name": "USERNAME", "valueFrom": format!("{SM}shop/db:username::")}]);
        assert_eq!(merged, want);
        assert!(!Db::deployment().check(&merged, "app").unwrap().has_drift());
    }
}

/// ECS's 64 KiB limit is the task definition's, whatever it runs on: a definition that fits
/// before the merge and not after is refused, unchanged.
#[test]
fn the_size_limit_is_the_same_on_both() {
    for td in [managed_instances(), external()] {
        let mut td = td;
        td["containerDefinitions"][0]["environment"][0]["value"] = json!("");
        let room = MAX_TASK_DEFINITION_BYTES - task_definition::size_in_bytes(&td);
        td["containerDefinitions"][0]["environment"][0]["value"] = json!("x".repeat(room - 200));
        assert!(task_definition::size_in_bytes(&td) <= MAX_TASK_DEFINITION_BYTES);
        let mut copy = td.clone();
        let err = task().merge_into(&mut copy).unwrap_err();
        assert!(
            matches!(err, TaskDefinitionError::TaskTooLarge { limit: 65536, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "with the secrets of containers `app` the task definition would exceed ECS's limit \
             of 65536 bytes"
        );
        assert_eq!(copy, td);
    }
}
