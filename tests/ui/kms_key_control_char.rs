use ecs_secrets::EcsSecrets;

// U+001A is the derive's stand-in for placeholder text; written literally it is a control
// character, which no key, region or name may hold.
#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/\u{1a}",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/{key_id}\u{1a}"
)]
struct Config {
    #[ecs(secret = "{stage}/db\u{1a}", key = "password")]
    password: String,
}

fn main() {}
