use ecs_secrets::{EcsSecrets, Vars};

#[derive(EcsSecrets)]
#[ecs(region = "{region}", account = "{account}", partition = "{partition}")]
struct Config {
    #[ecs(secret = "{stage}/my-app/db", key = "password")]
    password: String,
    #[ecs(ssm = "/{stage}/my-app/token")]
    token: String,
    #[ecs(secret = "arn:aws:secretsmanager:{region}:{account}:secret:{stage}-db-{suffix}")]
    by_arn: String,
    #[ecs(secret = "{stage}/literal", key = "{not-a-placeholder}")]
    escaped: Option<String>,
}

fn main() {
    let vars = Vars::new()
        .with("region", "us-east-1")
        .with("account", "123456789012")
        .with("partition", "aws")
        .with("stage", "prod")
        .with("suffix", "a1B2c3");
    let _ = Config::deployment_for(&vars);
}
