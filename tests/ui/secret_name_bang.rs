use ecs_secrets::EcsSecrets;

// A '!' belongs only after the prefix of the service that manages a secret (`rds!db-…`).
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Config {
    #[ecs(secret = "prod/rds!db", key = "password")]
    password: String,
}

fn main() {}
