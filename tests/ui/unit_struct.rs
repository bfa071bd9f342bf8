use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config;

fn main() {}
