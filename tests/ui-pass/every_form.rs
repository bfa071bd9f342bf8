use ecs_secrets::{EcsSecrets, Secret};

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012", partition = "aws")]
struct Config {
    #[ecs(secret = "prod/db")]
    whole: Secret<String>,
    #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:common/db-a1B2c3", key = "password")]
    cross_account: Secret<String>,
    #[ecs(secret = "prod/db", version_stage = "AWSPREVIOUS")]
    previous: Option<Secret<String>>,
    #[ecs(secret = "prod/db", version_id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE")]
    pinned: String,
    #[ecs(secret = "prod/db", key = "password", version_stage = "AWSCURRENT")]
    current: String,
    #[ecs(ssm = "/prod/token")]
    token: String,
    #[ecs(ssm = "simple")]
    simple: String,
    #[ecs(ssm = "arn:aws:ssm:us-west-2:123456789012:parameter/other/region")]
    other_region: String,
    #[ecs(json, default = "[1, 2]")]
    list: Vec<u8>,
    r#type: String,
}

fn main() {
    let _ = Config::deployment();
    let _ = Config::from_env();
}
