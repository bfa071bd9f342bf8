use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(secret = "shop/db")]
struct Db {
    username: String,
    host: String,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333")]
struct App {
    /// `PRIMARY_HOST`, which the `PRIMARY_` site gives `Db.host` too.
    primary_host: String,
    #[ecs(flatten, env_prefix = "PRIMARY_")]
    primary: Db,
    /// The same prefix again.
    #[ecs(flatten, env_prefix = "PRIMARY_", secret = "shop/db-replica")]
    replica: Db,
    /// No prefix: `USERNAME` and `HOST`, unlike the prefixed sites.
    #[ecs(flatten, secret = "shop/db-analytics")]
    analytics: Db,
}

fn main() {}
