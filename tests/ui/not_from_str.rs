use ecs_secrets::EcsSecrets;

struct Endpoint {
    _host: String,
}

#[derive(EcsSecrets)]
struct Config {
    endpoint: Endpoint,
    retries: Option<Vec<u8>>,
}

fn main() {
    let _ = Config::from_env();
}
