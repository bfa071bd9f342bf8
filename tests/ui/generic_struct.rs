use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config<T> {
    value: T,
}

fn main() {}
