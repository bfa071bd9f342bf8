//! The declaration of the IAM tests: secrets by name, by partial and complete ARN, pinned, two
//! keys of one JSON secret; parameters by path and by simple name; one key.

// Each test file uses its own part.
#![allow(dead_code)]

use ecs_secrets::{EcsSecrets, Secret};

pub const KEY_A: &str =
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
pub const KEY_B: &str =
    "arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab";

#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)]
pub struct App {
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
