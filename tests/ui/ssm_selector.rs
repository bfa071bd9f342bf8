use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Config {
    #[ecs(ssm = "/prod/token:3")]
    token: String,
    #[ecs(ssm = "arn:aws:ssm:us-east-1:123456789012:parameter/prod/token:live")]
    labelled: String,
}

fn main() {}
