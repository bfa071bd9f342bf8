use ecs_secrets::{EcsSecrets, Secret};

#[test]
fn flattened_fields_keep_their_names_and_order() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(
        region = "eu-west-1",
        account = "111122223333",
        env_prefix = "DB_",
        kms_key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )]
    struct Db {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(default = "5432")]
        port: u16,
    }

    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012", env_prefix = "APP_")]
    struct App {
        #[ecs(ssm = "/app/token")]
        token: String,
        #[ecs(flatten)]
        db: Db,
        name: String,
    }

    let json = serde_json::to_value(App::deployment().secrets()).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"name": "APP_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/app/token"},
            {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db:password::"},
        ])
    );
    let envs: Vec<_> = App::FIELDS.iter().map(|f| f.env).collect();
    assert_eq!(envs, ["APP_TOKEN", "DB_PASSWORD", "DB_PORT", "APP_NAME"]);
    assert_eq!(
        App::KMS_KEYS,
        ["arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    );

    let app = App::from_lookup(|k| match k {
        "APP_TOKEN" => Some("t".into()),
        "DB_PASSWORD" => Some("pw".into()),
        "APP_NAME" => Some("svc".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(app.db.port, 5432);
    assert_eq!(app.db.password.expose_secret(), "pw");
    assert_eq!(app.name, "svc");
    assert_eq!(app.token, "t");
}
