//! The service's configuration, in a crate of its own so that both the service and its build
//! script (`../service/build.rs`) can depend on it: the binary loads it at start, the build
//! script turns it into the task definition's `secrets` and the execution role's policy.

use ecs_secrets::{EcsSecrets, Secret};

/// Everything the service reads from its environment.
#[derive(Debug, EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)]
pub struct AppConfig {
    /// One key of a JSON secret.
    #[ecs(secret = "orders/database", key = "password")]
    pub database_password: Secret<String>,
    /// Another key of the same secret: still one IAM resource.
    #[ecs(secret = "orders/database", key = "username")]
    pub database_user: String,
    /// An SSM SecureString parameter.
    #[ecs(ssm = "/orders/stripe-key", env = "STRIPE_KEY")]
    pub stripe_key: Secret<String>,
    /// A plain variable the task definition must set in `environment`.
    pub database_host: String,
    /// A plain variable with a default.
    #[ecs(default = "8080")]
    pub port: u16,
}
