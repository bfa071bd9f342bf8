use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    database_url: String,
    #[ecs(env = "DATABASE_URL")]
    fallback_url: String,
}

fn main() {}
