//! IAM policy documents: exact JSON for the execution and task roles.

use ecs_secrets::{
    Action, Condition, EcsSecrets, PolicyDocument, PolicyError, Role, Secret, ValueFrom, Vars,
};
use serde_json::json;

#[path = "support/iam.rs"]
mod fixture;
use fixture::{App, KEY_A};

const EXECUTION: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/api-AbC123","arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????","arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/tls-??????"]},{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["arn:aws:ssm:us-east-1:123456789012:parameter/feature-flags","arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token"]},{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],"Condition":{"StringEquals":{"kms:ViaService":["secretsmanager.us-east-1.amazonaws.com"]},"StringLike":{"kms:EncryptionContext:SecretARN":["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db-??????","arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/tls-??????"]}}},{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],"Condition":{"StringEquals":{"kms:ViaService":["ssm.us-east-1.amazonaws.com"],"kms:EncryptionContext:PARAMETER_ARN":["arn:aws:ssm:us-east-1:123456789012:parameter/feature-flags","arn:aws:ssm:us-east-1:123456789012:parameter/prod/app/token"]}}}]}"#;

/// The key decrypts through Secrets Manager for the two secrets of its region (not `common/api`,
/// of eu-west-1: a key serves its own region only) and through SSM for the two parameters, each
/// named as its service names it in the encryption context.
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
    let (secrets, parameters) = (&policy.statements()[3], &policy.statements()[4]);
    let condition = secrets.condition().unwrap();
    assert_eq!(
        (condition.operator(), condition.key()),
        ("StringEquals", "kms:ViaService")
    );
    assert_eq!(
        condition,
        &Condition::ViaService(vec!["secretsmanager.us-east-1.amazonaws.com".to_owned()])
    );
    let context = secrets.encryption_context().unwrap();
    assert_eq!(
        (context.operator(), context.key()),
        ("StringLike", "kms:EncryptionContext:SecretARN")
    );
    assert_eq!(
        context.values(),
        &policy.resources(Action::GetSecretValue)[1..]
    );
    assert_eq!(
        parameters.condition(),
        Some(&Condition::ViaService(vec![
            "ssm.us-east-1.amazonaws.com".to_owned()
        ]))
    );
    let context = parameters.encryption_context().unwrap();
    assert_eq!(
        (context.operator(), context.key()),
        ("StringEquals", "kms:EncryptionContext:PARAMETER_ARN")
    );
    assert_eq!(context.values(), policy.resources(Action::GetParameters));
    assert!(
        policy
            .statements()
            .iter()
            .filter(|s| s.action() != Action::KmsDecrypt)
            .all(|s| s.condition().is_none() && s.encryption_context().is_none())
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
             "Condition": {
                 "StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com"]},
                 "StringLike": {"kms:EncryptionContext:SecretARN": [
                     "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/app/db-??????"]}}},
            {"Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": ["arn:aws:kms:us-east-1:111111111111:key/1111aaaa-1111-1111-1111-111111111111"],
             "Condition": {"StringEquals": {
                 "kms:ViaService": ["ssm.us-east-1.amazonaws.com"],
                 "kms:EncryptionContext:PARAMETER_ARN": [
                     "arn:aws:ssm:us-east-1:111111111111:parameter/prod/app/token"]}}},
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
             "Condition": {
                 "StringEquals": {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com"]},
                 "StringLike": {"kms:EncryptionContext:SecretARN": [
                     "arn:aws:secretsmanager:eu-west-1:222222222222:secret:staging/app/db-??????"]}}},
            {"Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": ["arn:aws:kms:eu-west-1:222222222222:key/2222bbbb-2222-2222-2222-222222222222"],
             "Condition": {"StringEquals": {
                 "kms:ViaService": ["ssm.eu-west-1.amazonaws.com"],
                 "kms:EncryptionContext:PARAMETER_ARN": [
                     "arn:aws:ssm:eu-west-1:222222222222:parameter/staging/app/token"]}}},
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
