//! IAM policy documents: exact JSON for the execution and task roles.

use ecs_secrets::{
    Action, Condition, EcsSecrets, PolicyDocument, PolicyError, Role, Secret, ValueFrom, Vars,
    Warning,
};
use serde_json::json;

const KEY_A: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_B: &str = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)]
struct App {
    /// Partial ARN from a name, two keys of one JSON secret: one resource.
    #[ecs(secret = "prod/app/db", key = "password")]
    db_password: Secret<String>,
    #[ecs(secret = "prod/app/db", key = "username")]
    db_user: String,
    /// A complete ARN, pinned: used as is, without the `:key:stage:id` tail.
    #[ecs(
        secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123",
        version_stage = "AWSPREVIOUS"
    )]
    api_key: Secret<String>,
    /// A partial ARN given in full, whole secret.
    #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/tls")]
    tls: String,
    /// SSM: a path and a simple name.
    #[ecs(ssm = "/prod/app/token")]
    token: String,
    #[ecs(ssm = "feature-flags")]
    flags: Option<String>,
    /// Plain variables need nothing.
    #[ecs(default = "3000")]
    port: u16,
    host: String,
}

const EXECUTION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123","arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????","arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/tls-??????"]},{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["arn:aws:ssm:us-east-1:123456789012:parameter/feature-flags","arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token"]},{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],"Condition":{"StringEquals":{"kms:ViaService":["secretsmanager.us-east-1.amazonaws.com","ssm.us-east-1.amazonaws.com"]}}}]}"#;

#[test]
fn execution_role_policy_exact_json() {
    // The typed document is compared as text: key order and array shapes are the contract.
    assert_eq!(
        serde_json::to_string(&App::deployment().policy(Role::Execution)).unwrap(),
        EXECUTION
    );
    // The `Value` form's key order is serde_json's map order (sorted without `preserve_order`).
    let value: serde_json::Value = serde_json::from_str(EXECUTION).unwrap();
    assert_eq!(
        App::deployment()
            .policy(ecs_secrets::Role::Execution)
            .to_json(),
        value
    );
}

/// The task role reads what the execution role reads, batches, and describes every secret not
/// pinned by version id (a watch's refresh compares versions before it reads values again; a
/// stage such as `AWSPREVIOUS` moves, so it is described too).
#[test]
fn task_role_policy_adds_batch_get_on_star_and_describe_secret() {
    let task = App::deployment().policy(ecs_secrets::Role::Task).to_json();
    let mut expected: serde_json::Value = serde_json::from_str(EXECUTION).unwrap();
    let statements = expected["Statement"].as_array_mut().unwrap();
    statements.insert(
        1,
        json!({"Effect": "Allow", "Action": ["secretsmanager:BatchGetSecretValue"], "Resource": ["*"]}),
    );
    statements.push(
        json!({"Effect": "Allow", "Action": ["secretsmanager:DescribeSecret"],
        "Resource": [
            "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/tls-??????"
        ]}),
    );
    assert_eq!(task, expected);
}

#[test]
fn typed_form() {
    let policy = App::deployment().policy(Role::Task);
    let actions: Vec<Action> = policy.statements().iter().map(|s| s.action()).collect();
    assert_eq!(
        actions,
        [
            Action::GetSecretValue,
            Action::BatchGetSecretValue,
            Action::GetParameters,
            Action::KmsDecrypt,
            Action::DescribeSecret
        ]
    );
    assert_eq!(policy.resources(Action::GetSecretValue).len(), 3);
    assert_eq!(
        policy.resources(Action::DescribeSecret),
        policy.resources(Action::GetSecretValue)
    );
    assert_eq!(policy.resources(Action::KmsDecrypt), [KEY_A]);
    let decrypt = &policy.statements()[3];
    let condition = decrypt.condition().unwrap();
    assert_eq!(
        (condition.operator(), condition.key()),
        ("StringEquals", "kms:ViaService")
    );
    assert_eq!(
        condition,
        &Condition::ViaService(vec![
            "secretsmanager.us-east-1.amazonaws.com".to_owned(),
            "ssm.us-east-1.amazonaws.com".to_owned()
        ])
    );
    assert!(
        policy
            .statements()
            .iter()
            .filter(|s| s.action() != Action::KmsDecrypt)
            .all(|s| s.condition().is_none())
    );
    assert!(
        App::deployment()
            .policy(Role::Execution)
            .resources(Action::BatchGetSecretValue)
            .is_empty()
    );
    assert_eq!(
        policy.to_json(),
        App::deployment().policy(ecs_secrets::Role::Task).to_json()
    );
    assert_eq!(Action::GetParameters.to_string(), "ssm:GetParameters");
    assert_eq!(Role::Task.to_string(), "task");
    // Display is the pretty JSON.
    let pretty = App::deployment().policy(Role::Execution).to_string();
    assert!(
        pretty.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n"),
        "{pretty}"
    );
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&pretty).unwrap(),
        App::deployment()
            .policy(ecs_secrets::Role::Execution)
            .to_json()
    );
}

#[test]
fn batch_get_only_for_unpinned_secrets() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Pinned {
        #[ecs(secret = "a", version_stage = "AWSPREVIOUS")]
        a: String,
        #[ecs(ssm = "/b")]
        b: String,
    }
    /// An explicit `AWSCURRENT` is the current version: the loader batches it, so the task
    /// role may batch it.
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Current {
        #[ecs(secret = "a", version_stage = "AWSCURRENT")]
        a: String,
    }
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct SsmOnly {
        #[ecs(ssm = "/b")]
        b: String,
    }
    for policy in [
        Pinned::deployment()
            .policy(ecs_secrets::Role::Task)
            .to_json(),
        SsmOnly::deployment()
            .policy(ecs_secrets::Role::Task)
            .to_json(),
    ] {
        assert!(
            !policy.to_string().contains("BatchGetSecretValue"),
            "{policy}"
        );
    }
    // A stage is described (a watch compares the version that holds it), never batched.
    let task = Pinned::deployment().policy(ecs_secrets::Role::Task);
    let execution = Pinned::deployment().policy(ecs_secrets::Role::Execution);
    assert_eq!(
        task.statements()[..task.statements().len() - 1],
        *execution.statements()
    );
    assert_eq!(
        task.resources(ecs_secrets::Action::DescribeSecret),
        ["arn:aws:secretsmanager:us-east-1:123456789012:secret:a-??????"]
    );
    /// A version id never changes: the task role gets no `DescribeSecret` on it.
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct ById {
        #[ecs(secret = "a", version_id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE")]
        a: String,
    }
    assert_eq!(
        ById::deployment().policy(ecs_secrets::Role::Task).to_json(),
        ById::deployment()
            .policy(ecs_secrets::Role::Execution)
            .to_json()
    );
    assert_eq!(
        Current::deployment()
            .policy(ecs_secrets::Role::Task)
            .resources(ecs_secrets::Action::BatchGetSecretValue),
        ["*"]
    );
}

#[test]
fn kms_keys_of_flattened_structs_sorted_and_deduplicated() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        region = "eu-west-1",
        account = "111122223333",
        kms_key = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    struct Inner {
        #[ecs(secret = "common/db", key = "password")]
        password: String,
    }
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    struct Outer {
        #[ecs(flatten)]
        inner: Inner,
    }
    assert_eq!(
        Outer::deployment()
            .policy(ecs_secrets::Role::Execution)
            .to_json(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
             "Resource": ["arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/db-??????"]},
            // One statement per key region. No reference is in us-east-1, so KEY_A may be used
            // by either service there, and never directly.
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_B],
             "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com"]}}},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_A],
             "Condition": {"StringEquals": {"kms:ViaService": [
                 "secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]}}},
        ]})
    );
}

#[test]
fn no_secrets_no_statements() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    struct Plain {
        port: u16,
    }
    assert_eq!(
        Plain::deployment()
            .policy(ecs_secrets::Role::Execution)
            .to_json(),
        json!({"Version": "2012-10-17", "Statement": []})
    );
    assert!(Plain::deployment().policy(Role::Task).is_empty());
}

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(
    region = "{region}",
    account = "{account}",
    kms_key = "arn:aws:kms:{region}:{account}:key/{kms_key_id}"
)]
struct Staged {
    #[ecs(secret = "{stage}/app/db", key = "password")]
    db_password: Secret<String>,
    #[ecs(ssm = "/{stage}/app/token")]
    token: String,
}

#[test]
fn two_environments_from_one_declaration() {
    let prod = Vars::new()
        .with("stage", "prod")
        .with("region", "us-east-1")
        .with("account", "111111111111")
        .with("kms_key_id", "1111aaaa-1111-1111-1111-111111111111");
    let staging = Vars::new()
        .with("stage", "staging")
        .with("region", "eu-west-1")
        .with("account", "222222222222")
        .with("kms_key_id", "2222bbbb-2222-2222-2222-222222222222");
    assert_eq!(
        Staged::deployment_for(&prod)
            .map(|d| d.policy(ecs_secrets::Role::Execution).to_json())
            .unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
             "Resource": ["arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/app/db-??????"]},
            {"Effect": "Allow", "Action": ["ssm:GetParameters"],
             "Resource": ["arn:aws:ssm:us-east-1:111111111111:parameter/prod/app/token"]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": ["arn:aws:kms:us-east-1:111111111111:key/1111aaaa-1111-1111-1111-111111111111"],
             "Condition": {"StringEquals": {"kms:ViaService": [
                 "secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]}}},
        ]})
    );
    assert_eq!(
        Staged::deployment_for(&staging)
            .map(|d| d.policy(ecs_secrets::Role::Task).to_json())
            .unwrap(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
             "Resource": ["arn:aws:secretsmanager:eu-west-1:222222222222:secret:staging/app/db-??????"]},
            {"Effect": "Allow", "Action": ["secretsmanager:BatchGetSecretValue"], "Resource": ["*"]},
            {"Effect": "Allow", "Action": ["ssm:GetParameters"],
             "Resource": ["arn:aws:ssm:eu-west-1:222222222222:parameter/staging/app/token"]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": ["arn:aws:kms:eu-west-1:222222222222:key/2222bbbb-2222-2222-2222-222222222222"],
             "Condition": {"StringEquals": {"kms:ViaService": [
                 "secretsmanager.eu-west-1.amazonaws.com", "ssm.eu-west-1.amazonaws.com"]}}},
            {"Effect": "Allow", "Action": ["secretsmanager:DescribeSecret"],
             "Resource": ["arn:aws:secretsmanager:eu-west-1:222222222222:secret:staging/app/db-??????"]},
        ]})
    );
    assert_eq!(
        ecs_secrets::placeholders::<Staged>(),
        ["region", "account", "stage", "kms_key_id"]
    );
}

#[test]
fn missing_and_invalid_values_are_reported_together() {
    let vars = Vars::new()
        .with("region", "us-east-1")
        .with("account", "111111111111")
        .with("kms_key_id", "not a key id");
    let err = Staged::deployment_for(&vars)
        .map(|d| d.policy(Role::Execution))
        .unwrap_err();
    let lines: Vec<String> = err.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "field `Staged.db_password` (env `DB_PASSWORD`, from arn:aws:secretsmanager:{region}:{account}:secret:{stage}/app/db:password::): no value for placeholder `{stage}`; also used by `Staged.token`",
            "attribute `kms_key` of `Staged` (`arn:aws:kms:{region}:{account}:key/{kms_key_id}`): `arn:aws:kms:us-east-1:111111111111:key/not a key id`: expected `key/KEY-ID` after the account in a KMS key ARN",
        ]
    );
    let err = Staged::deployment_for(&Vars::new().with("stage", "prod"))
        .map(|d| d.policy(ecs_secrets::Role::Execution).to_json())
        .unwrap_err();
    let codes: Vec<&str> = err.errors().iter().map(|e| e.kind.code()).collect();
    // region, account and kms_key_id, each once, whoever uses them.
    assert_eq!(codes, ["Placeholder"; 3]);
}

#[test]
fn a_kms_key_placeholder_alone_makes_the_declaration_environment_dependent() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    )]
    struct KeyOnly {
        #[ecs(secret = "app/db")]
        db: String,
    }
    // `KeyOnly::deployment().policy(ecs_secrets::Role::Execution).to_json()` does not compile (tests/ui/policy_needs_vars.rs); `_with` works.
    assert_eq!(ecs_secrets::placeholders::<KeyOnly>(), ["key_id"]);
    let policy = KeyOnly::deployment_for(&Vars::new().with("key_id", "abcd-1234"))
        .map(|d| d.policy(Role::Execution))
        .unwrap();
    assert_eq!(
        policy.resources(Action::KmsDecrypt),
        ["arn:aws:kms:us-east-1:123456789012:key/abcd-1234"]
    );
}

#[test]
fn hand_written_references() {
    let refs: Vec<ValueFrom> = [
        // A Secrets Manager secret read through SSM: SSM checks GetSecretValue on it too.
        "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/app/db",
        "arn:aws:ssm:eu-west-1:111122223333:parameter/aws/reference/secretsmanager/common/key-AbC123",
        // Three references to one secret: one resource.
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db:password::",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db::AWSPREVIOUS:",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let policy = PolicyDocument::from_references(Role::Execution, &refs, [KEY_A, KEY_A]).unwrap();
    assert_eq!(
        policy.to_json(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/key-AbC123",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????",
            ]},
            {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [
                "arn:aws:ssm:eu-west-1:111122223333:parameter/aws/reference/secretsmanager/common/key-AbC123",
                "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/app/db",
            ]},
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_A],
             "Condition": {"StringEquals": {"kms:ViaService": [
                 "secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]}}},
        ]})
    );
}

/// A bare SSM parameter name is read by ECS in the task's own region and account, which no
/// policy can know: refused for every role (a wildcard would grant it in every region and
/// account), naming the reference.
#[test]
fn references_without_region_or_account_are_refused() {
    let secret: ValueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db"
        .parse()
        .unwrap();
    for bare in [
        "feature-flags",
        "/app/token",
        "/aws/reference/secretsmanager/common/key-AbC123",
    ] {
        let bare: ValueFrom = bare.parse().unwrap();
        for role in [Role::Execution, Role::Task, Role::Pin] {
            let err = PolicyDocument::from_references(role, [&secret, &bare], [KEY_A]).unwrap_err();
            assert_eq!(
                err,
                PolicyError::NoRegionOrAccount {
                    value_from: bare.to_string()
                }
            );
        }
    }
    let bare: ValueFrom = "/app/token".parse().unwrap();
    assert_eq!(
        PolicyDocument::from_references(Role::Execution, [&bare], [])
            .unwrap_err()
            .to_string(),
        "`/app/token` names no region and account (ECS reads a bare parameter name in the task's \
         own), so no policy can name it without granting it in every region and account; give \
         the parameter ARN `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`"
    );
}

#[test]
fn kms_keys_that_are_not_key_arns_are_refused() {
    for key in [
        "arn:aws:kms:us-east-1:123456789012:alias/app",
        "arn:aws:kms:*:123456789012:key/1234abcd",
        "arn:aws:kms:us-east-1:*:key/1234abcd",
        "arn:aws:kms:us-east-1:123456789012:key/*",
        "*",
        // The derive's stand-in for placeholder text is not a key either.
        "arn:aws:kms:us-east-1:123456789012:key/\u{1A}",
    ] {
        for role in [Role::Execution, Role::Task, Role::Pin] {
            let err = PolicyDocument::from_references(role, [], [key]).unwrap_err();
            assert!(
                matches!(&err, PolicyError::InvalidKmsKey { key: k, .. } if k == key),
                "{err:?}"
            );
        }
    }
    assert_eq!(
        PolicyDocument::from_references(
            Role::Execution,
            [],
            ["arn:aws:kms:us-east-1:123456789012:alias/app"]
        )
        .unwrap_err()
        .to_string(),
        "kms_key `arn:aws:kms:us-east-1:123456789012:alias/app`: an alias cannot be an IAM \
         resource for `kms:Decrypt`; give the key ARN (`…:key/KEY-ID`)"
    );
}

/// Every `valueFrom` form the derive emits is a full ARN, so `Deployment::policy` never meets
/// a reference it must refuse, and no policy names a wildcard region or account.
#[test]
fn every_derived_form_has_a_region_and_account() {
    const ID: &str = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4";
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Every {
        #[ecs(secret = "app/whole")]
        whole: String,
        #[ecs(secret = "app/db", key = "password")]
        key: String,
        #[ecs(secret = "app/db", version_stage = "AWSPREVIOUS")]
        stage: String,
        #[ecs(secret = "app/db", version_id = "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4")]
        id: String,
        #[ecs(secret = "app/db", key = "user", version_stage = "AWSCURRENT")]
        key_stage: String,
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/partial")]
        partial_arn: String,
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123")]
        complete_arn: String,
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/tls:cert::")]
        arn_with_tail: String,
        #[ecs(ssm = "/app/token")]
        path: String,
        #[ecs(ssm = "flags")]
        simple: String,
        #[ecs(ssm = "arn:aws:ssm:eu-west-1:111122223333:parameter/common/url")]
        ssm_arn: String,
        #[ecs(ssm = "/aws/reference/secretsmanager/app/via-ssm")]
        through_ssm: String,
    }
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(partition = "{partition}", region = "{region}", account = "{account}")]
    struct Templated {
        #[ecs(secret = "{stage}/db", key = "password")]
        name: String,
        #[ecs(secret = "arn:aws-cn:secretsmanager:cn-north-1:{shared}:secret:{stage}/api")]
        arn: String,
        #[ecs(ssm = "{param}")]
        param: String,
        #[ecs(ssm = "/aws/reference/secretsmanager/{stage}/key")]
        through_ssm: String,
    }
    let every = Every::deployment();
    let templated = Templated::deployment_for(
        &Vars::new()
            .with("partition", "aws-cn")
            .with("region", "cn-northwest-1")
            .with("account", "123456789012")
            .with("shared", "111122223333")
            .with("stage", "prod")
            .with("param", "flags"),
    )
    .unwrap();
    for d in [&every, &templated] {
        for role in [Role::Execution, Role::Task, Role::Pin] {
            let policy = PolicyDocument::from_references(
                role,
                d.references().map(|(_, v)| v),
                d.kms_keys().iter().map(String::as_str),
            );
            assert_eq!(policy.as_ref(), Ok(&d.policy(role)));
            for s in d.policy(role).statements() {
                for r in s.resources() {
                    assert!(
                        r == "*" && s.action() == Action::BatchGetSecretValue || !r.contains('*'),
                        "{r}"
                    );
                }
            }
        }
    }
    assert_eq!(
        every.policy(Role::Execution).to_json(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123",
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/partial-??????",
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/tls-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/via-ssm-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/whole-??????",
            ]},
            {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [
                "arn:aws:ssm:eu-west-1:111122223333:parameter/common/url",
                "arn:aws:ssm:us-east-1:123456789012:parameter/app/token",
                "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/app/via-ssm",
                "arn:aws:ssm:us-east-1:123456789012:parameter/flags",
            ]},
        ]})
    );
    assert_eq!(
        every.secrets()[3].value_from,
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db:::{ID}")
    );
    assert_eq!(
        templated.policy(Role::Execution).to_json(),
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [
                "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:prod/api-??????",
                "arn:aws-cn:secretsmanager:cn-northwest-1:123456789012:secret:prod/db-??????",
                "arn:aws-cn:secretsmanager:cn-northwest-1:123456789012:secret:prod/key-??????",
            ]},
            {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [
                "arn:aws-cn:ssm:cn-northwest-1:123456789012:parameter/aws/reference/secretsmanager/prod/key",
                "arn:aws-cn:ssm:cn-northwest-1:123456789012:parameter/flags",
            ]},
        ]})
    );
}

/// The shape of the finding: one secret, one SecureString, one key. `kms:Decrypt` only through
/// Secrets Manager and SSM of the key's region, never directly; the task role the same.
#[test]
fn kms_decrypt_only_via_the_services_that_read() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    struct One {
        #[ecs(secret = "app/db", key = "password")]
        password: Secret<String>,
        #[ecs(ssm = "/app/api-key")]
        api_key: Secret<String>,
    }
    let d = One::deployment();
    assert_eq!(
        serde_json::to_string(&d.policy(Role::Execution)).unwrap(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????"]},{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key"]},{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],"Condition":{"StringEquals":{"kms:ViaService":["secretsmanager.us-east-1.amazonaws.com","ssm.us-east-1.amazonaws.com"]}}}]}"#
    );
    let task = d.policy(Role::Task);
    let decrypt = |p: &PolicyDocument| {
        p.statements()
            .iter()
            .find(|s| s.action() == Action::KmsDecrypt)
            .cloned()
    };
    assert_eq!(decrypt(&task), decrypt(&d.policy(Role::Execution)));
    assert_eq!(task.statements().len(), 5);
    assert!(d.policy(Role::Pin).resources(Action::KmsDecrypt).is_empty());
}

/// Each key gets the services of the references in its own region (a KMS key is regional, and
/// both services use keys of the resource's region only); one statement per key region.
#[test]
fn kms_condition_per_key_region() {
    const SM_EAST: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db";
    const SSM_WEST: &str = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/token";
    const REF_SOUTH: &str =
        "arn:aws:ssm:ap-south-1:123456789012:parameter/aws/reference/secretsmanager/app/x";
    const KEY_EAST: &str = "arn:aws:kms:us-east-1:123456789012:key/e";
    const KEY_EAST_2: &str = "arn:aws:kms:us-east-1:111122223333:key/d";
    const KEY_WEST: &str = "arn:aws:kms:eu-west-1:123456789012:key/w";
    const KEY_SOUTH: &str = "arn:aws:kms:ap-south-1:123456789012:key/s";
    const KEY_NORTH: &str = "arn:aws:kms:eu-north-1:123456789012:key/n";
    let refs: Vec<ValueFrom> = [SM_EAST, SSM_WEST, REF_SOUTH]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let decrypt = |keys: &[&str], services: &[&str]| {
        json!({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": keys,
               "Condition": {"StringEquals": {"kms:ViaService": services}}})
    };
    for role in [Role::Execution, Role::Task] {
        let policy = PolicyDocument::from_references(
            role,
            &refs,
            [KEY_WEST, KEY_NORTH, KEY_EAST, KEY_SOUTH, KEY_EAST_2],
        )
        .unwrap()
        .to_json();
        let mut statements = policy["Statement"].as_array().unwrap().clone();
        if role == Role::Task {
            // Last in the order of `Action`: the secret a watch describes.
            let describe = statements.pop().unwrap();
            assert_eq!(describe["Action"], json!(["secretsmanager:DescribeSecret"]));
            assert_eq!(describe["Resource"], json!([format!("{SM_EAST}-??????")]));
        }
        assert_eq!(
            statements[statements.len() - 4..],
            [
                // A parameter that reads a secret: SSM hands the read to Secrets Manager, which
                // calls KMS; both are allowed.
                decrypt(
                    &[KEY_SOUTH],
                    &[
                        "secretsmanager.ap-south-1.amazonaws.com",
                        "ssm.ap-south-1.amazonaws.com"
                    ]
                ),
                // No reference in eu-north-1: both services of the key's own region.
                decrypt(
                    &[KEY_NORTH],
                    &[
                        "secretsmanager.eu-north-1.amazonaws.com",
                        "ssm.eu-north-1.amazonaws.com"
                    ]
                ),
                decrypt(&[KEY_WEST], &["ssm.eu-west-1.amazonaws.com"]),
                // Two keys of one region (any accounts) share a statement.
                decrypt(
                    &[KEY_EAST_2, KEY_EAST],
                    &["secretsmanager.us-east-1.amazonaws.com"]
                ),
            ],
            "{role}"
        );
        assert_eq!(
            statements[statements.len() - 5]["Action"],
            json!(["ssm:GetParameters"])
        );
    }
    // `resources` gathers every statement of the action, sorted.
    assert_eq!(
        PolicyDocument::from_references(Role::Execution, &refs, [KEY_NORTH, KEY_EAST, KEY_EAST_2])
            .unwrap()
            .resources(Action::KmsDecrypt),
        [KEY_NORTH, KEY_EAST_2, KEY_EAST]
    );
}

/// The `kms:ViaService` names end in `amazonaws.com` in every partition, China included (KMS
/// developer guide, condition keys).
#[test]
fn via_service_names_in_other_partitions() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        partition = "aws-cn",
        region = "cn-north-1",
        account = "123456789012",
        kms_key = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    struct China {
        #[ecs(secret = "app/db")]
        db: String,
    }
    let policy = China::deployment().policy(Role::Execution).to_json();
    assert_eq!(
        policy["Statement"][1],
        json!({"Effect": "Allow", "Action": ["kms:Decrypt"],
               "Resource": ["arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
               "Condition": {"StringEquals": {"kms:ViaService": ["secretsmanager.cn-north-1.amazonaws.com"]}}})
    );
}

/// `App` reads `common/api` of account 111122223333, in eu-west-1 where it has no `kms_key`, and
/// its other references are in 123456789012: unless the task runs in 111122223333, the policy
/// grants no decrypt for a read that needs a customer-managed key.
#[test]
fn a_cross_account_reference_without_a_key_is_a_warning() {
    let warnings = App::deployment().warnings();
    assert_eq!(
        warnings,
        [Warning::CrossAccountWithoutKey {
            field: "api_key",
            struct_name: "App",
            env: "API_KEY",
            value_from:
                "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123::AWSPREVIOUS:"
                    .to_owned(),
            account: "111122223333".to_owned(),
            region: "eu-west-1".to_owned(),
            accounts: vec!["111122223333".to_owned(), "123456789012".to_owned()],
        }]
    );
    assert_eq!(
        warnings[0].to_string(),
        "field `App.api_key` (env `API_KEY`, from \
         arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123::AWSPREVIOUS:): \
         the references are in accounts 111122223333, 123456789012 and no `kms_key` is in \
         eu-west-1; unless the task runs in 111122223333, this is a cross-account read, which \
         needs a customer-managed KMS key (the AWS managed key cannot be shared) declared with \
         `kms_key`, and the owner account must allow the read and the key's use"
    );
}

#[test]
fn cross_account_warnings_secrets_and_parameters() {
    /// A name in the struct's account, and three full ARNs of another account: a secret, a
    /// SecureString, a secret read through SSM. No key at all.
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Shared {
        #[ecs(secret = "app/db")]
        own: String,
        #[ecs(secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:common/api")]
        secret: String,
        #[ecs(ssm = "arn:aws:ssm:us-east-1:111122223333:parameter/common/token")]
        parameter: String,
        #[ecs(
            ssm = "arn:aws:ssm:us-east-1:111122223333:parameter/aws/reference/secretsmanager/common/x"
        )]
        through_ssm: String,
    }
    /// The same with the owner's key in us-east-1: nothing to report.
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    struct WithKey {
        #[ecs(secret = "app/db")]
        own: String,
        #[ecs(secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:common/api")]
        secret: String,
    }
    /// Every reference in one account, whatever the struct's own: nothing to compare with.
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct OneAccount {
        #[ecs(secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:common/api")]
        secret: String,
        #[ecs(ssm = "arn:aws:ssm:us-east-1:111122223333:parameter/common/token")]
        parameter: String,
    }
    // The task runs in one account, so at least one of these reads fails; which one depends on
    // that account, which a caller that knows it filters by.
    assert_eq!(
        warned(&Shared::deployment()),
        [
            "Shared.own 123456789012 us-east-1",
            "Shared.secret 111122223333 us-east-1",
            "Shared.parameter 111122223333 us-east-1",
            "Shared.through_ssm 111122223333 us-east-1",
        ]
    );
    for w in Shared::deployment().warnings() {
        let Warning::CrossAccountWithoutKey { accounts, .. } = w else {
            panic!("{w:?}")
        };
        assert_eq!(accounts, ["111122223333", "123456789012"]);
    }
    assert!(WithKey::deployment().warnings().is_empty());
    assert!(OneAccount::deployment().warnings().is_empty());
}

/// Flattened structs count like the top level: their references are the deployment's.
#[test]
fn cross_account_warnings_through_flatten() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(
        region = "eu-west-1",
        account = "111122223333",
        kms_key = "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    )]
    struct Central {
        #[ecs(secret = "common/a")]
        a: String,
    }
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Service {
        #[ecs(flatten)]
        central: Central,
        #[ecs(ssm = "/app/token")]
        token: String,
    }
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "eu-west-1", account = "111122223333")]
    struct CentralWithoutKey {
        #[ecs(secret = "common/a")]
        a: String,
    }
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Unkeyed {
        #[ecs(flatten)]
        central: CentralWithoutKey,
        #[ecs(ssm = "/app/token")]
        token: String,
    }
    // Central's key covers its secret; the token uses the AWS managed key of the task's account.
    let messages: Vec<String> = Service::deployment()
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(messages.len(), 1);
    assert!(
        messages[0].starts_with(
            "field `Service.token` (env `TOKEN`, from \
             arn:aws:ssm:us-east-1:123456789012:parameter/app/token): the references are in \
             accounts 111122223333, 123456789012 and no `kms_key` is in us-east-1; unless the \
             task runs in 123456789012,"
        ),
        "{messages:?}"
    );
    assert_eq!(
        warned(&Unkeyed::deployment()),
        [
            "CentralWithoutKey.a 111122223333 eu-west-1",
            "Unkeyed.token 123456789012 us-east-1",
        ]
    );
}

/// `struct.field account region` of each warning.
fn warned(d: &ecs_secrets::Deployment) -> Vec<String> {
    d.warnings()
        .into_iter()
        .map(|w| match w {
            Warning::CrossAccountWithoutKey {
                struct_name,
                field,
                account,
                region,
                ..
            } => format!("{struct_name}.{field} {account} {region}"),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The deploy step that migrates plaintext values: on each secret it may write (not the pinned
/// one) the read to compare, `PutSecretValue`, and `CreateSecret` on the ARN pattern a new
/// secret gets; on each parameter the decrypted read and `PutParameter`; on the key the three
/// KMS uses of a write and a read, only through the two services.
#[test]
fn migrate_role_policy_exact_json() {
    let db = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????";
    let tls = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/tls-??????";
    let flags = "arn:aws:ssm:us-east-1:123456789012:parameter/feature-flags";
    let token = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token";
    let via = json!({"StringEquals": {"kms:ViaService": [
        "secretsmanager.us-east-1.amazonaws.com", "ssm.us-east-1.amazonaws.com"]}});
    let expected = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [db, tls]},
        {"Effect": "Allow", "Action": ["ssm:GetParameters"], "Resource": [flags, token]},
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_A], "Condition": via},
        {"Effect": "Allow", "Action": ["secretsmanager:CreateSecret"], "Resource": [db, tls]},
        {"Effect": "Allow", "Action": ["secretsmanager:PutSecretValue"], "Resource": [db, tls]},
        {"Effect": "Allow", "Action": ["ssm:PutParameter"], "Resource": [flags, token]},
        {"Effect": "Allow", "Action": ["kms:Encrypt"], "Resource": [KEY_A], "Condition": via},
        {"Effect": "Allow", "Action": ["kms:GenerateDataKey"], "Resource": [KEY_A], "Condition": via},
    ]});
    let policy = App::deployment().policy(Role::Migrate);
    assert_eq!(policy.to_json(), expected);
    assert_eq!(Role::Migrate.as_str(), "migrate");
    // The text keeps the fixed key order of every document.
    let text = serde_json::to_string(&policy).unwrap();
    assert!(
        text.starts_with(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"#),
        "{text}"
    );
}

/// A complete ARN names a secret that exists: a migration puts a new version into it and never
/// creates one (a new secret would get another random suffix). An `/aws/reference/` parameter
/// and a pinned secret get nothing.
#[test]
fn migrate_role_creates_only_partial_arns() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Complete {
        #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/key-AbC123")]
        key: String,
        #[ecs(ssm = "/aws/reference/secretsmanager/app/other")]
        via: String,
        #[ecs(secret = "app/pinned", version_id = "0123456789abcdef0123456789abcdef")]
        pinned: String,
    }
    let policy = Complete::deployment().policy(Role::Migrate);
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/key-AbC123";
    assert_eq!(policy.resources(Action::GetSecretValue), [arn]);
    assert_eq!(policy.resources(Action::PutSecretValue), [arn]);
    assert!(policy.resources(Action::CreateSecret).is_empty());
    assert!(policy.resources(Action::GetParameters).is_empty());
    assert!(policy.resources(Action::PutParameter).is_empty());
    assert_eq!(policy.statements().len(), 2);
}

/// A deploy step decrypts (and migrate encrypts) only through a service that reads a reference
/// in the key's region: a key of a region no reference is in gets none of it. The execution
/// role keeps its decrypt through both services there.
#[test]
fn deploy_roles_get_no_kms_for_a_key_no_read_goes_through() {
    #[derive(EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        kms_key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    #[allow(dead_code)]
    struct ParamsOnly {
        #[ecs(ssm = "/app/token")]
        token: String,
    }
    let d = ParamsOnly::deployment();
    for role in [Role::PreflightReadValues, Role::Migrate] {
        let policy = d.policy(role).to_json().to_string();
        for action in ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] {
            assert!(!policy.contains(action), "{role:?}: {policy}");
        }
    }
    let execution = d.policy(Role::Execution).to_json().to_string();
    assert!(execution.contains("kms:Decrypt"), "{execution}");
}
