use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(env_prefix = "MY-APP_")]
struct Config {
    #[ecs(env = "1PASSWORD")]
    password: String,
    #[ecs(env = "API KEY")]
    api_key: String,
}

fn main() {}
