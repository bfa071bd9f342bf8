use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
union Config {
    a: u32,
}

fn main() {}
