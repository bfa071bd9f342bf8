use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1")]
struct Config {
    #[ecs(secret = "prod/db", key = "password")]
    password: String,
    #[ecs(ssm = "/prod/token")]
    token: String,
}

fn main() {}
