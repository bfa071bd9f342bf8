use ecs_secrets::EcsSecrets;

#[derive(EcsSecrets)]
#[ecs(kms_key = "arn:aws:kms:us-east-1:123456789012:alias/my-key", kms_key = "not-an-arn")]
struct Config {
    port: u16,
}

fn main() {}
