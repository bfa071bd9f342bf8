use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(secret = "shop/db")]
struct Db {
    username: String,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333")]
struct App {
    #[ecs(flatten, env_prefix = "A_", secret = "shop/db replica")]
    a: Db,
    #[ecs(flatten, env_prefix = "B_", secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/db:username::")]
    b: Db,
    #[ecs(flatten, env_prefix = "C_", secret = "arn:aws:ssm:us-east-1:111122223333:parameter/db")]
    c: Db,
    #[ecs(flatten, env_prefix = "D_", secret = "shop/db-backup")]
    d: Db,
    #[ecs(flatten, env_prefix = "E_", secret = "{stage/db")]
    e: Db,
    #[ecs(flatten, env_prefix = "1_")]
    f: Db,
    #[ecs(flatten, env_prefix = "G-")]
    g: Db,
    #[ecs(flatten, env = "H", key = "k", plain)]
    h: Db,
    #[ecs(env_prefix = "I_")]
    i: String,
}

fn main() {}
