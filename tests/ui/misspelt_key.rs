use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Config {
    #[ecs(secrets = "my-app/db")]
    password: String,
}

fn main() {}
