use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", acount = "123456789012")]
struct Config {
    #[ecs(secrte = "db")]
    password: String,
    #[ecs(env = "PORT", region = "us-east-1")]
    port: u16,
}

fn main() {}
