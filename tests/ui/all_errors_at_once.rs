use ecs_secrets::EcsSecrets;

// Four mistakes, one build: every one is reported, and the call below does not cascade.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Config {
    #[ecs(secret = "prod/db", key = "a:b")]
    password: String,
    #[ecs(ssm = "/prod/token:1")]
    token: String,
    #[ecs(colour = "blue")]
    theme: String,
    #[ecs(env = "PASSWORD")]
    other_password: String,
}

fn main() {
    let _ = Config::from_env();
}
