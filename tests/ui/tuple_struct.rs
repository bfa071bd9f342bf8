use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config(String, u16);

fn main() {}
