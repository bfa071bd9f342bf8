use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
struct Config {
    #[ecs(default = "8080")]
    port: Option<u16>,
}

fn main() {}
