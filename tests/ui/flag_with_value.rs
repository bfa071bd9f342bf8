use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(json = "yes")]
    value: String,
}

fn main() {}
