use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
enum Config {
    A,
}

fn main() {}
