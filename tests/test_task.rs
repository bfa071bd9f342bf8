//! A task of several containers: one merge, one drift check and one execution-role policy over
//! every container's `secrets`, log secrets (`secretOptions`) and registry credentials, in a task
//! definition and in an ECS Express Mode service input.

#[path = "support/task.rs"]
mod fixture;

use ecs_secrets::task_definition::{self, MAX_TASK_DEFINITION_BYTES};
use ecs_secrets::{
    Drift, EcsSecrets, Role, Shape, Task, TaskDefinitionError, TaskError, ValueFrom,
};
use fixture::*;
use serde_json::{Value, json};

#[test]
fn three_containers_merged_exact_json() {
    let mut td = registration("three");
    assert_eq!(task().merge_into(&mut td).unwrap(), Shape::TaskDefinition);
    let mut expected = registration("three");
    expected["containerDefinitions"] = merged_containers();
    assert_eq!(td, expected);
    assert!(!task().check(&td).unwrap().has_drift());

    // describe-task-definition output: the same, inside `taskDefinition`.
    let mut described = json!({"taskDefinition": registration("three"), "tags": []});
    task().merge_into(&mut described).unwrap();
    assert_eq!(described["taskDefinition"], expected);
    assert_eq!(
        task().check(&described).unwrap().to_string(),
        "container `app`: no drift\ncontainer `sidecar`: no drift\ncontainer `log_router`: no drift"
    );
}

#[test]
fn union_policy_exact_json() {
    assert_eq!(
        task().policy(Role::Execution).to_json(),
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/registry-XyZ123",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/splunk-AbCdEf"]},
                {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [TOKEN, CERT]},
                // Each decrypt for exactly the secrets (log secret and registry credentials
                // included) or parameters the task reads.
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY],
                 "Condition": {
                     "StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com"]},
                     "StringLike": {"kms:EncryptionContext:SecretARN": [
                         "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????",
                         "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/registry-XyZ123",
                         "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/splunk-AbCdEf"]}}},
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY],
                 "Condition": {"StringEquals": {
                     "kms:ViaService": ["ssm.us-east-1.amazonaws.com"],
                     "kms:EncryptionContext:PARAMETER_ARN": [TOKEN, CERT]}}}
            ]
        })
    );
    // The same as the policy of every reference at once.
    let refs: Vec<ValueFrom> = [DB_PASSWORD, TOKEN, DB_USER, CERT, REGISTRY, SPLUNK]
        .iter()
        .map(|s| vf(s))
        .collect();
    assert_eq!(
        task().policy(Role::Execution),
        ecs_secrets::PolicyDocument::from_references(Role::Execution, &refs, [KEY]).unwrap()
    );
    // The application loads only the declarations: no log or registry secret in the task role.
    let task_role = task().policy(Role::Task);
    assert_eq!(
        task_role.resources(ecs_secrets::Action::GetSecretValue),
        ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????"]
    );
}

#[test]
fn the_same_declaration_in_two_containers() {
    let task = Task::new()
        .container("app", App::deployment())
        .container("sidecar", App::deployment());
    let mut td = registration("twice");
    task.merge_into(&mut td).unwrap();
    let secrets = json!([{"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD},
                         {"name": "TOKEN", "valueFrom": TOKEN}]);
    assert_eq!(td["containerDefinitions"][0]["secrets"], secrets);
    assert_eq!(td["containerDefinitions"][1]["secrets"], secrets);
    assert_eq!(
        task.policy(Role::Execution),
        App::deployment().policy(Role::Execution)
    );
    assert_eq!(task.secrets("sidecar").unwrap().len(), 2);
    assert_eq!(task.secrets("nobody"), None);
    assert_eq!(
        task.container_names().collect::<Vec<_>>(),
        ["app", "sidecar"]
    );
}

#[test]
fn drift_in_each_container_names_it() {
    let mut td = registration("drift");
    task().merge_into(&mut td).unwrap();
    let c = &mut td["containerDefinitions"];
    c[0]["secrets"][1]["valueFrom"] = json!("arn:aws:ssm:us-east-1:123456789012:parameter/old");
    c[1].as_object_mut()
        .unwrap()
        .remove("repositoryCredentials");
    c[2]["logConfiguration"]["secretOptions"] = json!([{"name": "splunk-url", "valueFrom": TOKEN}]);
    let report = task().check(&td).unwrap();
    assert!(report.has_drift());
    assert_eq!(
        report.to_string(),
        format!(
            "container `app`: 1 difference\n  \
             - changed secret `TOKEN`: valueFrom is arn:aws:ssm:us-east-1:123456789012:parameter/old, declared {TOKEN}\n\
             container `sidecar`: 1 difference\n  \
             - `repositoryCredentials.credentialsParameter` is (none), declared {REGISTRY}\n\
             container `log_router`: 2 differences\n  \
             - missing log secret `splunk-token` in `logConfiguration.secretOptions` (valueFrom {SPLUNK})\n  \
             - extra log secret `splunk-url` (valueFrom {TOKEN}): not declared"
        )
    );
    assert_eq!(
        report.container("sidecar").unwrap().drifts,
        [Drift::RepositoryCredentials {
            actual: None,
            expected: REGISTRY.to_owned()
        }]
    );
    assert_eq!(
        report.container("log_router").unwrap().drifts[0].name(),
        "splunk-token"
    );
}

/// Asserts the merge is refused with `error`, whose message names the container, and that the
/// input is unchanged.
fn refused(task: &Task, mut td: Value, error: &TaskDefinitionError, message: &str) {
    let before = td.clone();
    assert_eq!(task.merge_into(&mut td).unwrap_err(), *error);
    assert_eq!(error.to_string(), message);
    assert_eq!(td, before);
}

#[test]
fn refusals_name_the_container_and_change_nothing() {
    let t = task().container("proxy", Envoy::deployment());
    refused(
        &t,
        registration("unknown"),
        &TaskDefinitionError::UnknownContainer {
            container: "proxy".into(),
            available: vec!["app".into(), "sidecar".into(), "log_router".into()],
        },
        "the task definition has no container `proxy`; its containers are `app`, `sidecar`, `log_router`",
    );

    let mut td = registration("env");
    td["containerDefinitions"][1]["environment"] = json!([{"name": "ENVOY_CERT", "value": "x"}]);
    refused(
        &task(),
        td.clone(),
        &TaskDefinitionError::NameInEnvironment {
            container: "sidecar".into(),
            names: vec!["ENVOY_CERT".into()],
        },
        "container `sidecar`: `ENVOY_CERT` is already in `environment`, and ECS rejects a name \
         that is in both `environment` and `secrets` (\"The secret name must be unique and not \
         shared with any … environment variables\"); remove it from `environment`",
    );
    // The check says the same as drift, not as an error.
    let report = task().check(&td).unwrap();
    assert!(matches!(
        report.container("sidecar").unwrap().drifts[..],
        [
            Drift::Missing { .. },
            Drift::InEnvironment { .. },
            Drift::RepositoryCredentials { .. }
        ]
    ));

    let mut td = registration("driver");
    td["containerDefinitions"][2]
        .as_object_mut()
        .unwrap()
        .remove("logConfiguration");
    refused(
        &task(),
        td,
        &TaskDefinitionError::NoLogDriver {
            container: "log_router".into(),
        },
        "container `log_router`: log secrets need a `logConfiguration` with a `logDriver` (the \
         `secretOptions` are options of the log driver), and it has none",
    );

    let twice = task()
        .container("app", Envoy::deployment())
        .container("app", App::deployment());
    let error = TaskDefinitionError::DuplicateName {
        container: "app".into(),
        names: vec!["DB_PASSWORD".into(), "TOKEN".into()],
    };
    refused(
        &twice,
        registration("duplicate"),
        &error,
        "container `app`: `DB_PASSWORD`, `TOKEN` declared more than once (two declarations with \
         the same variable), and ECS rejects duplicate secret names",
    );
    assert_eq!(twice.check(&registration("duplicate")).unwrap_err(), error);
}

#[test]
fn the_limit_applies_to_the_whole_result() {
    let mut td = registration("large");
    td["containerDefinitions"][0]["environment"][0]["value"] = json!("");
    let room = MAX_TASK_DEFINITION_BYTES - task_definition::size_in_bytes(&td);
    // Fits as it is, and with the secrets of any one container; not with all three.
    td["containerDefinitions"][0]["environment"][0]["value"] = json!("x".repeat(room - 300));
    assert!(task_definition::size_in_bytes(&td) <= MAX_TASK_DEFINITION_BYTES);
    for one in ["app", "sidecar"] {
        let mut copy = td.clone();
        let d = if one == "app" {
            App::deployment()
        } else {
            Envoy::deployment()
        };
        Task::new().container(one, d).merge_into(&mut copy).unwrap();
    }
    let mut copy = td.clone();
    let err = task().merge_into(&mut copy).unwrap_err();
    let TaskDefinitionError::TaskTooLarge { containers, limit } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(containers, &["app", "sidecar", "log_router"]);
    assert_eq!(*limit, MAX_TASK_DEFINITION_BYTES);
    // The limit, never the size: the size counts the plain `environment` values.
    assert_eq!(
        err.to_string(),
        "with the secrets of containers `app`, `sidecar`, `log_router` the task definition \
         would exceed ECS's limit of 65536 bytes"
    );
    assert_eq!(copy, td);
}

#[test]
fn builder_refusals() {
    let err = Task::new().log_secret("r", " ", vf(SPLUNK)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "container `r`: log secret ` `: the option name is empty"
    );
    let err = Task::new()
        .log_secret("r", "apiKey", vf("/dd/api-key"))
        .unwrap_err();
    assert_eq!(
        err,
        TaskError::LogSecret {
            container: "r".into(),
            option: "apiKey".into(),
            reason: "a bare parameter name names no region and account, so no policy can grant \
                     it; give the parameter ARN"
                .into()
        }
    );
    let err = Task::new()
        .log_secret("r", "apiKey", vf(TOKEN))
        .unwrap()
        .log_secret("r", "apiKey", vf(CERT))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "container `r`: log secret `apiKey`: the option is given twice"
    );
    // Any non-empty option name: log drivers spell theirs as they like.
    assert!(
        Task::new()
            .log_secret("r", "splunk-token", vf(TOKEN))
            .is_ok()
    );
    // A parse error of the reference is the grammar's own.
    assert!(
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
            .parse::<ValueFrom>()
            .is_err()
    );

    for (value_from, reason) in [
        (
            DB_PASSWORD,
            "registry credentials are the whole current secret: no JSON key, version stage or version id",
        ),
        (
            TOKEN,
            "registry credentials must be a Secrets Manager secret ARN, not a parameter",
        ),
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/registry-XyZ123:::",
            "remove the empty `:key:stage:id` tail",
        ),
    ] {
        let err = Task::new()
            .repository_credentials("sidecar", vf(value_from))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("container `sidecar`: repository credentials `{value_from}`: {reason}")
        );
    }
    let err = task()
        .repository_credentials("sidecar", vf(REGISTRY))
        .unwrap_err();
    assert!(
        err.to_string()
            .ends_with("the container already has registry credentials")
    );
}

fn express() -> Value {
    json!({
        "serviceName": "app",
        "cluster": "default",
        "executionRoleArn": "arn:aws:iam::123456789012:role/app-execution",
        "infrastructureRoleArn": "arn:aws:iam::123456789012:role/express-infrastructure",
        "primaryContainer": {
            "image": "registry.example.com/app:1.2.3",
            "containerPort": 3000,
            "environment": [{"name": "PORT", "value": "3000"}]
        }
    })
}

#[test]
fn express_mode_input_merged_and_checked() {
    let t = Task::new()
        .container("app", App::deployment())
        .repository_credentials("app", vf(REGISTRY))
        .unwrap();
    let mut input = express();
    assert_eq!(t.merge_into(&mut input).unwrap(), Shape::ExpressMode);
    let mut expected = express();
    expected["primaryContainer"]["secrets"] = json!([
        {"name": "DB_PASSWORD", "valueFrom": DB_PASSWORD}, {"name": "TOKEN", "valueFrom": TOKEN}]);
    expected["primaryContainer"]["repositoryCredentials"] =
        json!({"credentialsParameter": REGISTRY});
    assert_eq!(input, expected);
    let report = t.check(&input).unwrap();
    assert_eq!(report.shape, Shape::ExpressMode);
    assert!(!report.has_drift());

    input["primaryContainer"]["secrets"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_eq!(
        t.check(&input).unwrap().to_string(),
        format!("container `app`: 1 difference\n  - missing secret `TOKEN` (valueFrom {TOKEN})")
    );

    let err = task().merge_into(&mut express()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Express Mode service input (`primaryContainer`): it has one container, \
         `primaryContainer`, and the task names `app`, `sidecar`, `log_router`"
    );
    let logs = Task::new().log_secret("app", "apiKey", vf(TOKEN)).unwrap();
    assert_eq!(
        logs.check(&express()).unwrap_err().to_string(),
        "Express Mode service input (`primaryContainer`): container `app` has log secrets, and \
         `primaryContainer` takes none (its `awsLogsConfiguration` has no `secretOptions`)"
    );
    let mut clash = express();
    clash["primaryContainer"]["environment"] = json!([{"name": "TOKEN", "value": "x"}]);
    let before = clash.clone();
    assert!(matches!(
        t.merge_into(&mut clash).unwrap_err(),
        TaskDefinitionError::NameInEnvironment { container, .. } if container == "app"
    ));
    assert_eq!(clash, before);
}

#[test]
fn the_shape_is_told_by_its_keys() {
    assert_eq!(
        Shape::of(&registration("x")).unwrap(),
        Shape::TaskDefinition
    );
    assert_eq!(
        Shape::of(&json!({"taskDefinition": registration("x")})).unwrap(),
        Shape::TaskDefinition
    );
    assert_eq!(Shape::of(&express()).unwrap(), Shape::ExpressMode);
    assert_eq!(
        task()
            .check(&json!({"serviceName": "x"}))
            .unwrap_err()
            .to_string(),
        "not a valid task definition: it is neither a task definition (`containerDefinitions` or \
         `taskDefinition.containerDefinitions`) nor an Express Mode service input \
         (`primaryContainer`)"
    );
}

/// The merged three-container task registered with the AWS CLI against the local endpoint
/// (which validates it against the ECS API model) and read back: what was merged is what ECS
/// stores, and the drift check of the described task definition finds nothing.
#[cfg(feature = "moto")]
#[test]
fn the_merged_task_registers_with_the_aws_cli() {
    let Some(_endpoint) = ecs_secrets_testkit::endpoint() else {
        return;
    };
    let family = ecs_secrets_testkit::unique("task-register");
    let mut td = registration(&family);
    task().merge_into(&mut td).unwrap();
    let described = ecs_secrets_testkit::register_and_describe(&td);
    let report = task().check(&described).unwrap();
    assert!(!report.has_drift(), "{report}");
    let containers = described["taskDefinition"]["containerDefinitions"]
        .as_array()
        .unwrap();
    let expected = merged_containers();
    for (name, field) in [
        ("app", "secrets"),
        ("sidecar", "secrets"),
        ("sidecar", "repositoryCredentials"),
        ("log_router", "logConfiguration"),
    ] {
        let found = containers.iter().find(|c| c["name"] == name).unwrap();
        let want = expected
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        assert_eq!(found[field], want[field], "{name}.{field}");
    }
}
