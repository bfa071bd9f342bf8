//! The `secrets` fragment: every valueFrom form ECS accepts, as exact JSON.

use ecs_secrets::{EcsSecrets, Secret, Source};
use serde_json::json;

#[test]
fn secrets_manager_forms() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db")]
        whole: Secret<String>,
        #[ecs(secret = "prod/db", key = "password")]
        key: Secret<String>,
        #[ecs(secret = "prod/db", version_stage = "AWSPREVIOUS")]
        stage: String,
        #[ecs(
            secret = "prod/db",
            version_id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
        )]
        id: String,
        #[ecs(secret = "prod/db", key = "password", version_stage = "AWSPREVIOUS")]
        key_stage: String,
        #[ecs(
            secret = "prod/db",
            key = "password",
            version_id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE"
        )]
        key_id: String,
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:common/db-a1B2c3")]
        full_arn: String,
        #[ecs(
            secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:common/db-a1B2c3",
            key = "user"
        )]
        full_arn_key: String,
        #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:common/db:host::")]
        arn_with_fields: String,
    }
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db";
    let full = "arn:aws:secretsmanager:eu-west-1:210987654321:secret:common/db-a1B2c3";
    let id = "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE";
    assert_eq!(
        serde_json::to_value(Config::deployment().secrets()).unwrap(),
        json!([
            {"name": "WHOLE", "valueFrom": arn},
            {"name": "KEY", "valueFrom": format!("{arn}:password::")},
            {"name": "STAGE", "valueFrom": format!("{arn}::AWSPREVIOUS:")},
            {"name": "ID", "valueFrom": format!("{arn}:::{id}")},
            {"name": "KEY_STAGE", "valueFrom": format!("{arn}:password:AWSPREVIOUS:")},
            {"name": "KEY_ID", "valueFrom": format!("{arn}:password::{id}")},
            {"name": "FULL_ARN", "valueFrom": full},
            {"name": "FULL_ARN_KEY", "valueFrom": format!("{full}:user::")},
            {"name": "ARN_WITH_FIELDS", "valueFrom": "arn:aws:secretsmanager:eu-west-1:210987654321:secret:common/db:host::"},
        ])
    );
}

#[test]
fn ssm_forms_and_partitions() {
    #[derive(EcsSecrets)]
    #[ecs(region = "cn-north-1", account = "123456789012", partition = "aws-cn")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(ssm = "/my-app/api-key")]
        with_slash: String,
        #[ecs(ssm = "my-app-key")]
        without_slash: String,
        #[ecs(ssm = "arn:aws:ssm:us-west-2:123456789012:parameter/other/region")]
        by_arn: String,
        #[ecs(secret = "db")]
        secret: String,
    }
    assert_eq!(
        serde_json::to_value(Config::deployment().secrets()).unwrap(),
        json!([
            {"name": "WITH_SLASH", "valueFrom": "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/my-app/api-key"},
            {"name": "WITHOUT_SLASH", "valueFrom": "arn:aws-cn:ssm:cn-north-1:123456789012:parameter/my-app-key"},
            {"name": "BY_ARN", "valueFrom": "arn:aws:ssm:us-west-2:123456789012:parameter/other/region"},
            {"name": "SECRET", "valueFrom": "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db"},
        ])
    );
}

#[test]
fn env_names_prefix_and_verbatim() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012", env_prefix = "MY_APP_")]
    #[allow(dead_code, non_snake_case)]
    struct Config {
        #[ecs(ssm = "/a")]
        api_key: String,
        #[ecs(ssm = "/b", env = "verbatim_Name")]
        other: String,
        #[ecs(default = "1")]
        httpServerPort: u16,
        r#type: String,
    }
    let envs: Vec<_> = Config::FIELDS.iter().map(|f| f.env).collect();
    assert_eq!(
        envs,
        [
            "MY_APP_API_KEY",
            "verbatim_Name",
            "MY_APP_HTTP_SERVER_PORT",
            "MY_APP_TYPE"
        ]
    );
    let names: Vec<_> = Config::FIELDS.iter().map(|f| f.name).collect();
    assert_eq!(names, ["api_key", "other", "httpServerPort", "type"]);
    // Only sourced fields are in the fragment; plain env fields are the `environment`'s job.
    let fragment: Vec<_> = Config::deployment()
        .secrets()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(fragment, ["MY_APP_API_KEY", "verbatim_Name"]);
}

#[test]
fn optional_fields_are_still_listed() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(ssm = "/flags")]
        flags: Option<String>,
    }
    assert_eq!(
        serde_json::to_value(Config::deployment().secrets()).unwrap(),
        json!([{"name": "FLAGS", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/flags"}])
    );
    let f = Config::FIELDS[0];
    assert!(f.optional);
    assert!(matches!(f.source, Source::Ssm(_)));
}

#[test]
fn the_model_describes_every_field() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(default = "3000")]
        port: u16,
        #[ecs(json)]
        hosts: Vec<String>,
    }
    let [password, port, hosts] = Config::FIELDS else {
        panic!("three fields")
    };
    assert_eq!(password.name, "password");
    assert_eq!(password.struct_name, "Config");
    assert!(password.redacted && !password.optional && !password.json);
    assert_eq!(
        password.source.value_from().unwrap().as_str(),
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password::"
    );
    assert_eq!(port.default, Some("3000"));
    assert_eq!(port.source, Source::Env);
    assert!(hosts.json && !hosts.redacted);
}
