use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:rotation:prod/db")]
    password: String,
    #[ecs(ssm = "arn:aws:ssm:us-east-1:123456789012:parameter:prod/db")]
    token: String,
}

fn main() {}
