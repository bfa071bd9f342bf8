use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(secret = "arn:aws:s3:us-east-1:123456789012:secret:prod/db")]
    password: String,
    #[ecs(secret = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db")]
    token: String,
}

fn main() {}
