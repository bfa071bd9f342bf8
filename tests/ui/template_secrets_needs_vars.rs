use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(region = "{region}", account = "{account}")]
struct Config {
    #[ecs(secret = "{stage}/my-app/db", key = "password")]
    password: String,
}

#[derive(EcsSecrets)]
struct Outer {
    #[ecs(flatten)]
    inner: Config,
}

fn main() {
    let _ = Config::deployment();
    let _ = Outer::deployment();
}
