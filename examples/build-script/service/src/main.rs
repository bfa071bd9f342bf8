//! `cargo run -p ecs-secrets-example-service -- task-definition` prints the generated task
//! definition (`policy` the execution role's policy); without arguments the service loads its
//! configuration from the environment, as it would in ECS.

use ecs_secrets::EcsSecrets;
use ecs_secrets_example_config::AppConfig;
use ecs_secrets_example_service::{EXECUTION_ROLE_POLICY, TASK_DEFINITION};

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("task-definition") => print!("{TASK_DEFINITION}"),
        Some("policy") => print!("{EXECUTION_ROLE_POLICY}"),
        Some(other) => {
            eprintln!("unknown argument `{other}`; try `task-definition` or `policy`");
            std::process::exit(2);
        }
        None => match AppConfig::from_env() {
            Ok(config) => println!(
                "orders service on :{} (database {} as {})",
                config.port, config.database_host, config.database_user
            ),
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        },
    }
}
