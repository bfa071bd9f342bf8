use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Config {
    #[ecs(
        secret = "prod/db",
        version_stage = "AWSPREVIOUS",
        version_id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
    )]
    password: String,
}

fn main() {}
