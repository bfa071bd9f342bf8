//! The fixtures and the second client (the AWS CLI) against the local endpoint.

use aws_sdk_secretsmanager::Client as SecretsClient;
use aws_sdk_ssm::Client as SsmClient;
use aws_sdk_ssm::types::ParameterType;
use ecs_secrets_testkit as testkit;

#[tokio::test]
async fn create_secret_returns_the_full_arn() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let config = testkit::sdk_config(&ep).await;
    let name = testkit::unique("fixture/db");
    let arn = testkit::create_secret(&config, &name, r#"{"password":"pw"}"#).await;

    let prefix = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}-");
    assert!(arn.starts_with(&prefix), "{arn}");
    assert_eq!(arn.len(), prefix.len() + 6, "{arn}");
    let got = SecretsClient::new(&config)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), Some(r#"{"password":"pw"}"#));
    assert_eq!(got.name(), Some(name.as_str()));
}

#[tokio::test]
async fn put_secret_value_makes_a_new_current_version() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let config = testkit::sdk_config(&ep).await;
    let name = testkit::unique("fixture-rotated");
    testkit::create_secret(&config, &name, "one").await;
    let v2 = testkit::put_secret_value(&config, &name, "two").await;

    let client = SecretsClient::new(&config);
    let current = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(current.secret_string(), Some("two"));
    assert_eq!(current.version_id(), Some(v2.as_str()));
    let previous = client
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(previous.secret_string(), Some("one"));
}

#[tokio::test]
async fn binary_secret_has_no_string() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let config = testkit::sdk_config(&ep).await;
    let name = testkit::unique("fixture-binary");
    let arn = testkit::create_binary_secret(&config, &name, &[0, 159, 146, 150]).await;

    let got = SecretsClient::new(&config)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.secret_string(), None);
    assert_eq!(
        got.secret_binary().map(|b| b.as_ref().to_vec()),
        Some(vec![0, 159, 146, 150])
    );
}

#[tokio::test]
async fn put_parameter_writes_secure_and_plain_parameters() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let config = testkit::sdk_config(&ep).await;
    let base = format!("/{}", testkit::unique("fixture"));
    let secure = format!("{base}/password");
    let plain = format!("{base}/host");
    assert_eq!(
        testkit::put_parameter(&config, &secure, "s3cret", true).await,
        1
    );
    assert_eq!(
        testkit::put_parameter(&config, &plain, "db.local", false).await,
        1
    );
    assert_eq!(
        testkit::put_parameter(&config, &plain, "db2.local", false).await,
        2
    );

    let client = SsmClient::new(&config);
    let got = client
        .get_parameter()
        .name(&secure)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    let param = got.parameter().unwrap();
    assert_eq!(param.value(), Some("s3cret"));
    assert_eq!(param.r#type(), Some(&ParameterType::SecureString));
    let got = client.get_parameter().name(&plain).send().await.unwrap();
    let param = got.parameter().unwrap();
    assert_eq!(param.value(), Some("db2.local"));
    assert_eq!(param.r#type(), Some(&ParameterType::String));
}

#[tokio::test]
async fn aws_cli_is_an_independent_client_of_the_same_endpoint() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let config = testkit::sdk_config(&ep).await;

    let name = testkit::unique("fixture-cli");
    testkit::create_secret(&config, &name, "from-sdk").await;
    let got = testkit::aws_cli_json(&["secretsmanager", "get-secret-value", "--secret-id", &name]);
    assert_eq!(got["SecretString"], "from-sdk");

    let param = format!("/{}", testkit::unique("fixture-cli"));
    let put = testkit::aws_cli_json(&[
        "ssm",
        "put-parameter",
        "--name",
        &param,
        "--value",
        "from-cli",
        "--type",
        "SecureString",
    ]);
    assert_eq!(put["Version"], 1);
    let got = SsmClient::new(&config)
        .get_parameter()
        .name(&param)
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got.parameter().unwrap().value(), Some("from-cli"));
}

#[test]
fn aws_cli_json_fails_with_the_cli_error() {
    let Some(_ep) = testkit::endpoint() else {
        return;
    };
    let missing = testkit::unique("fixture-missing");
    let panic = std::panic::catch_unwind(|| {
        testkit::aws_cli_json(&[
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            &missing,
        ])
    })
    .unwrap_err();
    let msg = panic.downcast_ref::<String>().unwrap();
    assert!(
        msg.starts_with(&format!(
            "aws secretsmanager get-secret-value --secret-id {missing} failed"
        )),
        "{msg}"
    );
    assert!(msg.contains("ResourceNotFoundException"), "{msg}");
}
