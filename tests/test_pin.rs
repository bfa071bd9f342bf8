//! Fragments pinned to the current version ids (`Loader::pin`, `--pin-versions`) against the
//! local AWS endpoint, through the counting proxy: a pinned fragment changes exactly when a
//! secret rotates, reads no value, and reports every secret it cannot pin.
#![cfg(feature = "deploy")]

use ecs_secrets::aws::Loader;
use ecs_secrets::{EcsSecrets, SecretRef, Vars};
use ecs_secrets_testkit::{self as testkit, Moto};

#[path = "support/common.rs"]
mod common;
#[path = "support/rotation.rs"]
mod rotation;
use common::{SM, db_json, field_codes};
use rotation::db_fixtures;

/// A `GetSecretValue` straight to moto: the current version id of `secret`.
async fn current_version(moto: &Moto, secret: &str) -> String {
    testkit::aws_sdk_secretsmanager::Client::new(&moto.direct)
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap()
}

/// Only its fragment is used (by three tests, hence outside them).
#[allow(dead_code)]
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Pinned {
    #[ecs(secret = "{p}/db", key = "password")]
    password: String,
    #[ecs(secret = "{p}/db", key = "username", version_stage = "AWSCURRENT")]
    username: String,
    #[ecs(secret = "{p}/api")]
    api_key: String,
    #[ecs(secret = "{p}/db", key = "password", version_stage = "AWSPREVIOUS")]
    previous: String,
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
    #[ecs(default = "8080")]
    port: u16,
}

fn pinned_fragment(prefix: &str, db: &str, api: &str) -> Vec<SecretRef> {
    let entry = |name: &str, value_from: String| SecretRef {
        name: name.to_owned(),
        value_from,
    };
    vec![
        entry("PASSWORD", format!("{SM}{prefix}/db:password::{db}")),
        entry("USERNAME", format!("{SM}{prefix}/db:username::{db}")),
        entry("API_KEY", format!("{SM}{prefix}/api:::{api}")),
        entry("PREVIOUS", format!("{SM}{prefix}/db:password:AWSPREVIOUS:")),
        entry(
            "FLAG",
            format!("arn:aws:ssm:us-east-1:123456789012:parameter/{prefix}/flag"),
        ),
    ]
}

#[tokio::test]
async fn pinned_fragments_change_exactly_when_a_secret_rotates() {
    let Some(moto) = Moto::start("pin").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let api = moto.name("/api");
    let vars = Vars::new().with("p", &moto.prefix);
    let p = &moto.prefix;

    let loader = Loader::new(&moto.config);
    let pin = || async { loader.pin::<Pinned>(&vars).await.unwrap().secrets() };
    let first = pin().await;
    let (db1, api1) = (
        current_version(&moto, &db).await,
        current_version(&moto, &api).await,
    );
    assert_eq!(first, pinned_fragment(p, &db1, &api1));
    assert_eq!(
        moto.proxy.count(testkit::DESCRIBE),
        2,
        "one DescribeSecret per secret; AWSPREVIOUS and SSM are not read"
    );
    assert_eq!(moto.counts(), [0, 0, 0], "no value is read");
    assert_eq!(pin().await, first, "no rotation, no change");

    let api2 = testkit::put_secret_value(&moto.direct, &api, "key-2").await;
    let second = pin().await;
    assert_eq!(second, pinned_fragment(p, &db1, &api2));
    let changed: Vec<&str> = first
        .iter()
        .zip(&second)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.name.as_str())
        .collect();
    assert_eq!(changed, ["API_KEY"]);

    let db2 = testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    assert_eq!(pin().await, pinned_fragment(p, &db2, &api2));
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 8);
    assert_eq!(moto.counts(), [0, 0, 0], "still no value read");

    // Every pinned fragment is one ECS accepts.
    for entry in &second {
        entry
            .value_from
            .parse::<ecs_secrets::ValueFrom>()
            .unwrap_or_else(|e| panic!("{}: {e}", entry.value_from));
    }

    // What the deploy step needs for this: DescribeSecret on the unpinned secrets, nothing else.
    let policy = Pinned::deployment_for(&vars)
        .unwrap()
        .policy(ecs_secrets::Role::Pin);
    assert_eq!(
        policy.to_json(),
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret"],
                "Resource": [
                    format!("{SM}{p}/api-??????"),
                    format!("{SM}{p}/db-??????"),
                ]
            }]
        })
    );
}

#[tokio::test]
async fn pinning_reports_every_secret_it_cannot_read() {
    let Some(moto) = Moto::start("pinerr").await else {
        return;
    };
    // Only the API key exists.
    testkit::create_secret(&moto.direct, &moto.name("/api"), "key-1").await;
    let vars = Vars::new().with("p", &moto.prefix);
    let error = Loader::new(&moto.config)
        .pin::<Pinned>(&vars)
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(error.errors()),
        [
            ("PASSWORD", "ResourceNotFoundException"),
            ("USERNAME", "ResourceNotFoundException")
        ]
    );
    assert!(
        error
            .to_string()
            .starts_with("cannot resolve the declaration"),
        "{error}"
    );

    // Missing placeholders: reported without a request.
    moto.proxy.reset_counts();
    let error = Loader::new(&moto.config)
        .pin::<Pinned>(&Vars::new())
        .await
        .unwrap_err();
    assert!(
        field_codes(error.errors())
            .iter()
            .all(|(_, c)| *c == "Placeholder"),
        "{error}"
    );
    assert_eq!(moto.proxy.total(), 0);
}

/// `--pin-versions` on `secrets`, `merge` and `check` (features `cli` and `aws`). A plain test:
/// the command line runs its own runtime.
#[cfg(feature = "cli")]
#[test]
fn cli_pins_versions() {
    use ecs_secrets::cli;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(moto) = rt.block_on(Moto::start("pincli")) else {
        return;
    };
    let db = rt.block_on(db_fixtures(&moto));
    let api = moto.name("/api");
    let (db1, api1) = rt.block_on(async {
        (
            current_version(&moto, &db).await,
            current_version(&moto, &api).await,
        )
    });
    // A fresh client per run: each run has its own runtime, and pooled connections must not
    // outlive theirs.
    let var = format!("p={}", moto.prefix);
    let run = |args: &[&str]| {
        let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
        let mut all = vec!["deploy"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--var", &var]);
        cli::run_with_config::<Pinned>(all, &|_| None, &config)
    };
    let expected = serde_json::to_value(pinned_fragment(&moto.prefix, &db1, &api1)).unwrap();

    let out = run(&["secrets", "--pin-versions"]).unwrap();
    let printed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed, expected);
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 2);
    assert_eq!(moto.counts(), [0, 0, 0], "no value read");
    let plain = run(&["secrets"]).unwrap();
    assert!(!plain.stdout.contains(&db1), "no pinning without the flag");
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 2, "and no request");

    let dir = std::env::temp_dir().join(testkit::unique("pincli"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("td.json");
    let td = serde_json::json!({"family": "app", "containerDefinitions": [{"name": "app", "image": "x"}]});
    std::fs::write(&file, td.to_string()).unwrap();
    let path = file.to_str().unwrap();
    run(&[
        "merge",
        "--container",
        "app",
        path,
        "--in-place",
        "--pin-versions",
    ])
    .unwrap();
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(merged["containerDefinitions"][0]["secrets"], expected);

    let check = |pin: bool| {
        let mut args = vec!["check", "--container", "app", path];
        if pin {
            args.push("--pin-versions");
        }
        run(&args).unwrap().code
    };
    assert_eq!(check(true), 0, "deployed revision is current");
    rt.block_on(testkit::put_secret_value(
        &moto.direct,
        &db,
        &db_json("pw-2"),
    ));
    assert_eq!(check(true), cli::EXIT_DRIFT, "rotated since");
    std::fs::remove_dir_all(&dir).unwrap();

    let missing = cli::run_with_config::<Pinned>(
        [
            "deploy",
            "secrets",
            "--pin-versions",
            "--var",
            "p=nothing-here",
        ],
        &|_| None,
        &rt.block_on(testkit::sdk_config(moto.proxy.url())),
    )
    .unwrap_err();
    let message = missing.to_string();
    assert!(
        message.starts_with("error: cannot pin the secrets to their current versions:")
            && message.contains("ResourceNotFoundException"),
        "{message}"
    );
    assert_eq!(missing.exit_code(), 2);
}
