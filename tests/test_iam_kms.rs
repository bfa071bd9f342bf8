//! IAM policy documents, their KMS statements: one per key region and decrypting service, each
//! through that service only (`kms:ViaService`) and, for the execution and task roles, only for
//! the secrets and parameters read there (the encryption context); cross-account warnings.

use ecs_secrets::{
    Action, Condition, EcsSecrets, PolicyDocument, PolicyError, Role, Secret, ValueFrom, Vars,
    Warning,
};
use serde_json::json;

#[path = "support/iam.rs"]
mod fixture;
use fixture::{App, KEY_A, KEY_B};

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
            // One statement per key region and service. No reference is in us-east-1: no secret
            // there can be encrypted with KEY_A, so it gets no decrypt at all.
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_B],
             "Condition": {
                 "StringEquals": {"kms:ViaService": ["secretsmanager.eu-west-1.amazonaws.com"]},
                 "StringLike": {"kms:EncryptionContext:SecretARN": [
                     "arn:aws:secretsmanager:eu-west-1:111122223333:secret:common/db-??????"]}}},
        ]})
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
            // SSM passes a read of `/aws/reference/secretsmanager/` on to Secrets Manager, which
            // decrypts it as that secret: one context, one service. The eu-west-1 secret is not
            // KEY_A's to decrypt (a key serves its own region).
            {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [KEY_A],
             "Condition": {
                 "StringEquals": {"kms:ViaService": ["secretsmanager.us-east-1.amazonaws.com"]},
                 "StringLike": {"kms:EncryptionContext:SecretARN": [
                     "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????"]}}},
        ]})
    );
}

/// One secret, one SecureString, one key. `kms:Decrypt` only through Secrets Manager and SSM of
/// the key's region, never directly, each for its own reference only (Secrets Manager names a
/// secret in the encryption context by its complete ARN, `-??????` stands for the suffix;
/// Parameter Store a parameter by its ARN); the task role the same.
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
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????"]},{"Effect":"Allow","Action":["ssm:GetParameters"],"Resource":["arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key"]},{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],"Condition":{"StringEquals":{"kms:ViaService":["secretsmanager.us-east-1.amazonaws.com"]},"StringLike":{"kms:EncryptionContext:SecretARN":["arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-??????"]}}},{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],"Condition":{"StringEquals":{"kms:ViaService":["ssm.us-east-1.amazonaws.com"],"kms:EncryptionContext:PARAMETER_ARN":["arn:aws:ssm:us-east-1:123456789012:parameter/app/api-key"]}}}]}"#
    );
    let task = d.policy(Role::Task);
    let decrypt = |p: &PolicyDocument| {
        let all = p.statements().iter();
        all.filter(|s| s.action() == Action::KmsDecrypt)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(decrypt(&task), decrypt(&d.policy(Role::Execution)));
    assert_eq!(task.statements().len(), 6);
    assert!(d.policy(Role::Pin).resources(Action::KmsDecrypt).is_empty());
}

/// Each key gets the services of the references in its own region (a KMS key is regional, and
/// both services use keys of the resource's region only); one statement per key region and
/// service; a key of a region without references gets none.
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
    let secrets = |keys: &[&str], region: &str, arns: &[&str]| {
        json!({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": keys,
               "Condition": {
                   "StringEquals": {"kms:ViaService": [format!("secretsmanager.{region}.amazonaws.com")]},
                   "StringLike": {"kms:EncryptionContext:SecretARN": arns}}})
    };
    let parameters = |keys: &[&str], region: &str, arns: &[&str]| {
        json!({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": keys,
               "Condition": {"StringEquals": {
                   "kms:ViaService": [format!("ssm.{region}.amazonaws.com")],
                   "kms:EncryptionContext:PARAMETER_ARN": arns}}})
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
            statements[statements.len() - 3..],
            [
                // A parameter that reads a secret: SSM hands the read to Secrets Manager, which
                // decrypts it as that secret.
                secrets(
                    &[KEY_SOUTH],
                    "ap-south-1",
                    &["arn:aws:secretsmanager:ap-south-1:123456789012:secret:app/x-??????"]
                ),
                // No reference in eu-north-1: nothing there is KEY_NORTH's to decrypt.
                parameters(&[KEY_WEST], "eu-west-1", &[SSM_WEST]),
                // Two keys of one region (any accounts) share a statement.
                secrets(
                    &[KEY_EAST_2, KEY_EAST],
                    "us-east-1",
                    &[&format!("{SM_EAST}-??????")]
                ),
            ],
            "{role}"
        );
        assert_eq!(
            statements[statements.len() - 4]["Action"],
            json!(["ssm:GetParameters"])
        );
    }
    // `resources` gathers every statement of the action, sorted.
    assert_eq!(
        PolicyDocument::from_references(Role::Execution, &refs, [KEY_WEST, KEY_EAST, KEY_EAST_2])
            .unwrap()
            .resources(Action::KmsDecrypt),
        [KEY_WEST, KEY_EAST_2, KEY_EAST]
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
               "Condition": {
                   "StringEquals": {"kms:ViaService": ["secretsmanager.cn-north-1.amazonaws.com"]},
                   "StringLike": {"kms:EncryptionContext:SecretARN": [
                       "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app/db-??????"]}}})
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

/// No role decrypts (and migrate encrypts) with a key of a region no reference is in: nothing
/// it reads can be encrypted with it.
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
    for role in [
        Role::Execution,
        Role::Task,
        Role::PreflightReadValues,
        Role::Migrate,
    ] {
        let policy = d.policy(role).to_json().to_string();
        for action in ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"] {
            assert!(!policy.contains(action), "{role:?}: {policy}");
        }
    }
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

/// The secrets' encryption context is matched like the resource: a complete ARN as it is, a
/// partial one with `-??????` for exactly the six characters of the suffix.
#[test]
fn the_secret_context_matches_like_the_resource() {
    let refs: Vec<ValueFrom> = [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123:password::",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/other",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    for role in [Role::Execution, Role::Task] {
        let policy = PolicyDocument::from_references(role, &refs, [KEY_A]).unwrap();
        let decrypt: Vec<_> = (policy.statements().iter())
            .filter(|s| s.action() == Action::KmsDecrypt)
            .collect();
        assert_eq!(decrypt.len(), 1, "{role}");
        assert_eq!(
            decrypt[0].encryption_context(),
            Some(&Condition::SecretArn(vec![
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbC123".to_owned(),
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/other-??????".to_owned(),
            ]))
        );
        assert_eq!(
            decrypt[0].encryption_context().unwrap().values(),
            policy.resources(Action::GetSecretValue)
        );
    }
}
