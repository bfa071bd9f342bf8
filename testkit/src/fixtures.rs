//! Fixtures written with the SDK straight to the endpoint. They panic with the SDK's error: a
//! fixture that cannot be written is a broken test setup, not a result.

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_ssm::types::ParameterType;

fn secrets(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

/// Creates the string secret `name` with `value` and returns its full ARN (with the random
/// six-character suffix).
///
/// # Panics
///
/// When Secrets Manager refuses (for example, the name exists already).
pub async fn create_secret(config: &SdkConfig, name: &str, value: &str) -> String {
    let out = secrets(config)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_secret {name}: {}", DisplayErrorContext(&e)));
    out.arn
        .unwrap_or_else(|| panic!("create_secret {name}: no ARN in the answer"))
}

/// Creates the binary secret `name` (`SecretBinary`, which ECS cannot inject) and returns its full
/// ARN.
///
/// # Panics
///
/// When Secrets Manager refuses.
pub async fn create_binary_secret(config: &SdkConfig, name: &str, value: &[u8]) -> String {
    let out = secrets(config)
        .create_secret()
        .name(name)
        .secret_binary(Blob::new(value))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create_binary_secret {name}: {}", DisplayErrorContext(&e)));
    out.arn
        .unwrap_or_else(|| panic!("create_binary_secret {name}: no ARN in the answer"))
}

/// Stores `value` as a new version of the secret `secret_id` (name or ARN) and returns the new
/// version id. The new version becomes `AWSCURRENT`; the old one `AWSPREVIOUS`.
///
/// # Panics
///
/// When Secrets Manager refuses (for example, the secret does not exist).
pub async fn put_secret_value(config: &SdkConfig, secret_id: &str, value: &str) -> String {
    let out = secrets(config)
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(value)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_secret_value {secret_id}: {}", DisplayErrorContext(&e)));
    out.version_id
        .unwrap_or_else(|| panic!("put_secret_value {secret_id}: no version id in the answer"))
}

/// Writes the SSM parameter `name` (a `SecureString` when `secure`, else a `String`), overwriting
/// an existing one, and returns its new version number.
///
/// # Panics
///
/// When SSM refuses (for example, an invalid name).
pub async fn put_parameter(config: &SdkConfig, name: &str, value: &str, secure: bool) -> i64 {
    let kind = if secure {
        ParameterType::SecureString
    } else {
        ParameterType::String
    };
    let out = aws_sdk_ssm::Client::new(config)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put_parameter {name}: {}", DisplayErrorContext(&e)));
    out.version
}
