use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "{region}", account = "12x{account}")]
struct Config {
    #[ecs(secret = "{stage}/my app/db", key = "password")]
    password: String,
    #[ecs(secret = "arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password")]
    other: String,
}

fn main() {}
