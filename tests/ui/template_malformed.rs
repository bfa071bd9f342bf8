use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "{region", account = "{1account}")]
struct Config {
    #[ecs(secret = "{stage}/db}", key = "password")]
    password: String,
    #[ecs(ssm = "/{}/token")]
    token: String,
}

fn main() {}
