use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Db {
    #[ecs(env = "DB_HOST")]
    host: String,
    port: u16,
}

#[derive(EcsSecrets)]
struct Cache {
    #[ecs(env = "DB_HOST")]
    host: String,
}

#[derive(EcsSecrets)]
struct Config {
    #[ecs(env = "PORT")]
    port: u16,
    #[ecs(flatten)]
    db: Db,
    #[ecs(flatten)]
    cache: Cache,
}

fn main() {}
