//! Direct loading (feature `aws`): the quickstart struct, fetched from Secrets Manager and SSM
//! Parameter Store instead of read from variables ECS injected.
//!
//! Against a local moto server (starts it, creates the demo secret and parameter, loads):
//!
//! ```sh
//! scripts/with-moto cargo run --example direct --features aws
//! ```
//!
//! Against real AWS: credentials and region from the standard chain (`AWS_PROFILE`,
//! `AWS_REGION`, an instance or task role…), after pointing `region`/`account` below at your
//! account and creating `my-app/database-credentials` and `/my-app/api-key`:
//!
//! ```sh
//! cargo run --example direct --features aws
//! ```

use std::time::Duration;

use aws_config::BehaviorVersion;
use ecs_secrets::aws::Loader;
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
    /// Optional: a parameter that does not exist is None, not an error.
    #[ecs(ssm = "/my-app/feature-flags")]
    feature_flags: Option<String>,
}

// A multi-threaded `#[tokio::main]` works the same; the workspace's tokio has no
// `rt-multi-thread` feature, to keep one build of the AWS stack.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = match std::env::var(ecs_secrets_testkit::ENDPOINT_VAR) {
        Ok(endpoint) => local_demo(&endpoint).await,
        Err(_) => aws_config::load_defaults(BehaviorVersion::latest()).await,
    };

    // `load` takes what the environment has (in ECS: everything) and fetches only the rest,
    // so this binary works unchanged in ECS, on a laptop and in CI.
    let loader = Loader::new(&config)
        .attempt_timeout(Duration::from_secs(3))
        .deadline(Duration::from_secs(15));
    match loader.load::<AppConfig>().await {
        Ok(app) => {
            println!("# loaded (secrets redacted)\n{app:#?}");
            // The values go where they are used, and nowhere else (not even their lengths).
            let (_password, _api_key) = (
                app.database_password.expose_secret(),
                app.api_key.expose_secret(),
            );
            println!(
                "listening on :{}, database on :{}, flags: {:?}",
                app.port, app.database_port, app.feature_flags,
            );
            Ok(())
        }
        // Every problem at once, each naming the field, variable and valueFrom; never a value.
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}

/// Only for the local demo: an SDK config for moto, and the secret and parameter the struct
/// reads (moto starts empty).
async fn local_demo(endpoint: &str) -> aws_config::SdkConfig {
    println!("# local endpoint {endpoint}: creating the demo secret and parameter");
    let config = ecs_secrets_testkit::sdk_config(endpoint).await;
    ecs_secrets_testkit::create_secret(
        &config,
        "my-app/database-credentials",
        r#"{"username":"app","password":"correct horse battery staple","port":5432}"#,
    )
    .await;
    ecs_secrets_testkit::put_parameter(&config, "/my-app/api-key", "sk-live-0123456789", true)
        .await;
    config
}
