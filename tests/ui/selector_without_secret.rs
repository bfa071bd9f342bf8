use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Config {
    #[ecs(key = "password")]
    password: String,
    #[ecs(ssm = "/prod/token", version_stage = "AWSPREVIOUS")]
    token: String,
    #[ecs(version_id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE")]
    other: String,
}

fn main() {}
