use ecs_secrets::EcsSecrets;

/// Without a struct-level `secret`, a field without a source is plain already.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333")]
struct NoSchema {
    #[ecs(plain)]
    a: String,
    #[ecs(key = "b")]
    b: String,
}

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333", secret = "shop/db")]
struct Schema {
    #[ecs(plain, ssm = "/shop/a")]
    a: String,
    #[ecs(key = "db:name")]
    b: String,
    #[ecs(plain, key = "c")]
    c: String,
    username: String,
}

#[derive(EcsSecrets)]
#[ecs(secret = "arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/db:password::")]
struct TailedArn {
    a: String,
}

#[derive(EcsSecrets)]
#[ecs(secret = "arn:aws:ssm:us-east-1:111122223333:parameter/db")]
struct SsmArn {
    a: String,
}

/// A struct-level `secret` that no field is a key of.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "111122223333", secret = "shop/db")]
struct NoKeys {
    #[ecs(plain)]
    a: String,
    #[ecs(ssm = "/shop/b")]
    b: String,
}

fn main() {}
