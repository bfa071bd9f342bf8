use ecs_secrets::EcsSecrets;

/// Names no region or account: alone, its references take `{region}` and `{account}`.
#[derive(EcsSecrets)]
#[ecs(secret = "shop/db")]
struct Db {
    username: String,
}

/// Names both: the flattened keys are complete, so `deployment()` compiles.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333")]
struct App {
    #[ecs(flatten)]
    db: Db,
}

fn main() {
    let _ = App::deployment();
    let _ = Db::deployment();
}
