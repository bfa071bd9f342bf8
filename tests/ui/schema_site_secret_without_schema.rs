use ecs_secrets::EcsSecrets;

/// No struct-level `secret`: nothing for a flatten site's `secret` to replace.
#[derive(EcsSecrets)]
struct Cache {
    host: String,
}

#[derive(EcsSecrets)]
#[ecs(secret = "shop/db")]
struct Db {
    username: String,
}

/// Flattens two schemas, but has no struct-level `secret` of its own.
#[derive(EcsSecrets)]
struct Pair {
    #[ecs(flatten, env_prefix = "PRIMARY_")]
    primary: Db,
    #[ecs(flatten, env_prefix = "REPLICA_")]
    replica: Db,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333")]
struct App {
    #[ecs(flatten, secret = "shop/cache")]
    cache: Cache,
    #[ecs(flatten, env_prefix = "EU_", secret = "shop/eu-db")]
    pair: Pair,
    #[ecs(flatten, env_prefix = "US_", secret = "shop/us-db")]
    db: Db,
}

fn main() {}
