//! A service whose build script writes its ECS task definition from its configuration struct.
//!
//! `cargo build -p ecs-secrets-example-service` writes `task-definition.json` and
//! `execution-role-policy.json` into `OUT_DIR`; with `ECS_SECRETS_WRITE_TASK_DEFINITION=1` also
//! next to this crate's `Cargo.toml`, ready for
//! `aws ecs register-task-definition --cli-input-json file://task-definition.json`.

pub mod generate;

/// The task definition the build script generated.
pub const TASK_DEFINITION: &str = include_str!(concat!(env!("OUT_DIR"), "/task-definition.json"));

/// The execution role's policy the build script generated.
pub const EXECUTION_ROLE_POLICY: &str =
    include_str!(concat!(env!("OUT_DIR"), "/execution-role-policy.json"));
