//! The main job: no AWS account needed. Prints the task definition's `secrets` fragment for a
//! config struct, then loads the struct from a lookup (as ECS would have injected it) and prints
//! it with secrets redacted.
//!
//! Run: `cargo run --example quickstart`

use std::collections::HashMap;

use ecs_secrets::{EcsSecrets, Secret};

#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct AppConfig {
    /// One key of a JSON secret; the env name defaults to DATABASE_PASSWORD.
    #[ecs(secret = "my-app/database-credentials", key = "password")]
    database_password: Secret<String>,
    /// Typed: parsed with FromStr after extraction.
    #[ecs(secret = "my-app/database-credentials", key = "port")]
    database_port: u16,
    /// SSM SecureString parameter, explicit env name.
    #[ecs(ssm = "/my-app/api-key", env = "API_KEY")]
    api_key: Secret<String>,
    /// Plain environment variable with a default; not a secret.
    #[ecs(default = "3000")]
    port: u16,
    /// Optional: absent is None, not an error.
    #[ecs(ssm = "/my-app/feature-flags")]
    feature_flags: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("# container definition `secrets` for AppConfig");
    println!(
        "{}",
        serde_json::to_string_pretty(&AppConfig::deployment().secrets())?
    );

    // What ECS injects at start, here from a map instead of the process environment.
    let injected: HashMap<&str, &str> = HashMap::from([
        ("DATABASE_PASSWORD", "correct horse battery staple"),
        ("DATABASE_PORT", "5432"),
        ("API_KEY", "sk-live-0123456789"),
    ]);
    let config = AppConfig::from_lookup(|name| injected.get(name).map(|v| v.to_string()))?;
    println!("\n# loaded (secrets redacted)\n{config:#?}");
    // The values go where they are used (a connection, a client), and nowhere else: not to a
    // log, not even their length.
    let (_password, _api_key) = (
        config.database_password.expose_secret(),
        config.api_key.expose_secret(),
    );
    println!(
        "listening on :{}, database on :{}, flags: {:?}",
        config.port, config.database_port, config.feature_flags,
    );

    // A broken environment: every problem is reported at once, no value is ever shown.
    let broken: HashMap<&str, &str> = HashMap::from([("DATABASE_PORT", "not-a-port")]);
    if let Err(e) = AppConfig::from_lookup(|name| broken.get(name).map(|v| v.to_string())) {
        println!("\n# a broken environment: every problem at once, never a value\n{e}");
    }
    Ok(())
}
