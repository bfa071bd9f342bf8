//! The build script's output is the base task definition with exactly the config's `secrets` in
//! the `app` container, and the execution role's policy; on request it is written next to the
//! manifest too.

use ecs_secrets::EcsSecrets;
use ecs_secrets_example_config::AppConfig;
use ecs_secrets_example_service::generate::{self, BASE_FILE, OUTPUT_FILE, POLICY_FILE};
use ecs_secrets_example_service::{EXECUTION_ROLE_POLICY, TASK_DEFINITION};
use serde_json::{Value, json};

fn base() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/task-definition.base.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn generated_task_definition_is_the_base_plus_the_secrets() {
    let generated: Value = serde_json::from_str(TASK_DEFINITION).unwrap();
    let mut expected = base();
    expected["containerDefinitions"][0]["secrets"] = json!([
        {"name": "DATABASE_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/database:password::"},
        {"name": "DATABASE_USER", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/database:username::"},
        {"name": "STRIPE_KEY", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/orders/stripe-key"},
    ]);
    assert_eq!(generated, expected);
    // The build script keeps the base file's key order (feature `preserve-order`).
    let keys: Vec<&String> = generated.as_object().unwrap().keys().collect();
    assert_eq!(keys[..2], ["family", "executionRoleArn"]);

    let report = AppConfig::deployment().check(&generated, "app").unwrap();
    assert!(!report.has_drift(), "{report}");
}

#[test]
fn generated_policy_reads_one_secret_one_parameter_and_the_key() {
    let policy: Value = serde_json::from_str(EXECUTION_ROLE_POLICY).unwrap();
    assert_eq!(
        policy,
        json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                 "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/database-??????"]},
                {"Effect": "Allow", "Action": ["ssm:GetParameters"],
                 "Resource": ["arn:aws:ssm:us-east-1:123456789012:parameter/orders/stripe-key"]},
                // Decrypt through each service only for the declared secret and parameter.
                {"Effect": "Allow", "Action": ["kms:Decrypt"],
                 "Resource": ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
                 "Condition": {
                     "StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com"]},
                     "StringLike": {"kms:EncryptionContext:SecretARN": [
                         "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/database-??????"]}}},
                {"Effect": "Allow", "Action": ["kms:Decrypt"],
                 "Resource": ["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
                 "Condition": {"StringEquals": {
                     "kms:ViaService": ["ssm.us-east-1.amazonaws.com"],
                     "kms:EncryptionContext:PARAMETER_ARN": [
                         "arn:aws:ssm:us-east-1:123456789012:parameter/orders/stripe-key"]}}},
            ]
        })
    );
}

#[test]
fn writes_next_to_the_manifest_only_on_request() {
    let root =
        std::env::temp_dir().join(format!("ecs-secrets-build-script-{}", std::process::id()));
    let (manifest, out) = (root.join("manifest"), root.join("out"));
    for dir in [&manifest, &out] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/task-definition.base.json"),
        manifest.join(BASE_FILE),
    )
    .unwrap();

    let written = generate::generate(&manifest, &out, false).unwrap();
    assert_eq!(written, [out.join(OUTPUT_FILE), out.join(POLICY_FILE)]);
    assert!(!manifest.join(OUTPUT_FILE).exists());
    assert_eq!(
        std::fs::read_to_string(out.join(OUTPUT_FILE)).unwrap(),
        TASK_DEFINITION
    );

    let written = generate::generate(&manifest, &out, true).unwrap();
    assert_eq!(written.len(), 4);
    assert_eq!(
        std::fs::read_to_string(manifest.join(OUTPUT_FILE)).unwrap(),
        TASK_DEFINITION
    );
    assert_eq!(
        std::fs::read_to_string(manifest.join(POLICY_FILE)).unwrap(),
        EXECUTION_ROLE_POLICY
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_refused_merge_names_the_variable() {
    let mut td = base();
    td["containerDefinitions"][0]["environment"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "STRIPE_KEY", "value": "sk_live_plaintext"}));
    let err = generate::task_definition(&td.to_string()).unwrap_err();
    assert!(
        err.contains("`STRIPE_KEY` is already in `environment`"),
        "{err}"
    );
    assert!(!err.contains("sk_live_plaintext"), "{err}");
}
