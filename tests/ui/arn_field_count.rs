use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password")]
    one: String,
    #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password:AWSCURRENT")]
    two: String,
    #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password:AWSCURRENT::")]
    four: String,
}

fn main() {}
