use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Inner {
    host: String,
}

#[derive(EcsSecrets)]
struct Config {
    #[ecs(flatten, json)]
    inner: Inner,
    #[ecs(flatten, env = "X")]
    other: Inner,
}

fn main() {}
