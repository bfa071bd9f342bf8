//! Generated code is clean under strict lints.

#![deny(unused_qualifications, clippy::pedantic, missing_docs, unsafe_code)]
//! (crate docs for `missing_docs`)

use ecs_secrets::{EcsSecrets, Secret};

/// A documented config.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012", env_prefix = "APP_")]
pub struct Config {
    /// Password.
    #[ecs(secret = "prod/db", key = "password")]
    pub password: Secret<String>,
    /// Port.
    #[ecs(default = "1")]
    pub port: u16,
    /// Flags.
    #[ecs(ssm = "/flags", json)]
    pub flags: Option<Vec<String>>,
    /// Nested.
    #[ecs(flatten)]
    pub inner: Inner,
    /// A schema at a site with its own prefix and secret.
    #[ecs(flatten, env_prefix = "REPLICA_", secret = "prod/db-replica")]
    pub replica: Db,
}

/// A schema: the keys of one secret.
#[derive(Debug, EcsSecrets)]
#[ecs(secret = "prod/db")]
pub struct Db {
    /// A key.
    pub username: String,
    /// A plain variable beside the keys.
    #[ecs(plain, default = "2")]
    pub pool: u8,
}

/// Nested config.
#[derive(Debug, EcsSecrets)]
pub struct Inner {
    /// Name.
    pub name: String,
}

#[test]
fn derived_struct_passes_strict_lints() {
    let c = Config::from_lookup(|k| (k != "APP_FLAGS").then(|| "1".to_owned())).unwrap();
    assert_eq!(c.port, 1);
    assert_eq!(c.inner.name, "1");
    assert_eq!((c.replica.username.as_str(), c.replica.pool), ("1", 1));
}
