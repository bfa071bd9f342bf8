//! The deploy command line for a config struct, in one line of `main`: print the task
//! definition's `secrets`, the IAM policies, merge into a task-definition file, check one for
//! drift. One declaration serves every environment through its `{stage}` placeholder.
//!
//! ```text
//! cargo run --example cli --features cli -- --help
//! cargo run --example cli --features cli -- secrets --var stage=prod
//! cargo run --example cli --features cli -- policy --role task --var stage=prod
//! STAGE=staging cargo run --example cli --features cli -- --vars-from-env \
//!     merge --container app task-definition.json --in-place
//! cargo run --example cli --features cli -- check --container app task-definition.json --var stage=prod
//! ```

use ecs_secrets::{EcsSecrets, Secret};

#[allow(dead_code)] // only its deployment outputs are used here
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct AppConfig {
    #[ecs(secret = "{stage}/my-app/database", key = "password")]
    database_password: Secret<String>,
    #[ecs(secret = "{stage}/my-app/database", key = "username")]
    database_user: String,
    #[ecs(ssm = "/{stage}/my-app/api-key", env = "API_KEY")]
    api_key: Secret<String>,
    #[ecs(default = "3000")]
    port: u16,
}

fn main() {
    ecs_secrets::cli::main::<AppConfig>()
}
