use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(env = "A", env = "B")]
    value: String,
}

fn main() {}
