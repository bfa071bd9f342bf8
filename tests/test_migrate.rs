//! Migration from plaintext `environment` values to secrets, against the local AWS endpoint
//! (moto, started by `scripts/test`) through the counting, fault-injecting proxy, with the AWS
//! CLI and boto3 as independent readers of what was stored. What migrate refuses, and what its
//! reports never show, is in test_migrate_refusals.
#![cfg(feature = "deploy")]

use ecs_secrets::EcsSecrets;
use ecs_secrets::aws::Loader;
use ecs_secrets::deploy::{MigrateOptions, StepAction, StepStatus};
use ecs_secrets_testkit::{self as testkit, FaultKind, Moto};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
#[path = "support/migrate.rs"]
mod migrate;
use common::assert_clean;
use migrate::*;

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
