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
}
