use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(secret = "arn:aws:secretsmanager::123456789012:secret:prod/db")]
    password: String,
    #[ecs(ssm = "arn:aws:ssm:us-east-1::parameter/prod/db")]
    token: String,
}

fn main() {}
