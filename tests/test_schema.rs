//! One typed schema for every secret of a shape: a struct-level `secret` whose keys are the
//! fields, reused at `flatten` sites with their own `env_prefix` and `secret`.

use ecs_secrets::{EcsSecrets, ErrorKind, Role, Secret, Vars};
use serde_json::json;

fn fragment<T: EcsSecrets>(vars: &Vars) -> serde_json::Value {
    serde_json::to_value(T::deployment_for(vars).unwrap().secrets()).unwrap()
}

fn envs<T: EcsSecrets>() -> Vec<&'static str> {
    T::FIELDS.iter().map(|f| f.env).collect()
}

const SM: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:";

#[test]
fn primary_and_replica_from_one_schema() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(secret = "shop/db")]
    struct Db {
        username: String,
        password: Secret<String>,
        host: String,
        port: u16,
    }

    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333")]
    struct App {
        #[ecs(flatten, env_prefix = "PRIMARY_")]
        primary: Db,
        #[ecs(flatten, env_prefix = "REPLICA_", secret = "shop/db-replica")]
        replica: Db,
    }

    let d = App::deployment();
    assert_eq!(
        serde_json::to_value(d.secrets()).unwrap(),
        json!([
            {"name": "PRIMARY_USERNAME", "valueFrom": format!("{SM}shop/db:username::")},
            {"name": "PRIMARY_PASSWORD", "valueFrom": format!("{SM}shop/db:password::")},
            {"name": "PRIMARY_HOST", "valueFrom": format!("{SM}shop/db:host::")},
            {"name": "PRIMARY_PORT", "valueFrom": format!("{SM}shop/db:port::")},
            {"name": "REPLICA_USERNAME", "valueFrom": format!("{SM}shop/db-replica:username::")},
            {"name": "REPLICA_PASSWORD", "valueFrom": format!("{SM}shop/db-replica:password::")},
            {"name": "REPLICA_HOST", "valueFrom": format!("{SM}shop/db-replica:host::")},
            {"name": "REPLICA_PORT", "valueFrom": format!("{SM}shop/db-replica:port::")},
        ])
    );
    // One statement, one resource per secret: the four keys of each are one secret to IAM.
    assert_eq!(
        serde_json::to_string(&d.policy(Role::Execution)).unwrap(),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/db-??????","arn:aws:secretsmanager:us-east-1:111122223333:secret:shop/db-replica-??????"]}]}"#
    );

    let values = [
        ("PRIMARY_USERNAME", "app"),
        ("PRIMARY_PASSWORD", "pw-1"),
        ("PRIMARY_HOST", "db-1.internal"),
        ("PRIMARY_PORT", "5432"),
        ("REPLICA_USERNAME", "reader"),
        ("REPLICA_PASSWORD", "pw-2"),
        ("REPLICA_HOST", "db-2.internal"),
        ("REPLICA_PORT", "6432"),
    ];
    let lookup = |k: &str| {
        values
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    let app = App::from_lookup(lookup).unwrap();
    assert_eq!(
        (app.primary.username.as_str(), app.primary.host.as_str()),
        ("app", "db-1.internal")
    );
    assert_eq!(app.primary.password.expose_secret(), "pw-1");
    assert_eq!((app.primary.port, app.replica.port), (5432, 6432));
    assert_eq!(
        (app.replica.username.as_str(), app.replica.host.as_str()),
        ("reader", "db-2.internal")
    );
    assert_eq!(app.replica.password.expose_secret(), "pw-2");

    // An error names the variable the site gave the field, and the secret it replaced.
    let e = App::from_lookup(|k| (k != "REPLICA_PASSWORD").then(|| lookup(k)).flatten());
    assert_eq!(
        e.unwrap_err().to_string(),
        format!(
            "failed to load configuration: field `Db.password` (env `REPLICA_PASSWORD`, from \
             {SM}shop/db-replica:password::): missing: the variable is not set"
        )
    );
}

/// Loading needs names only, so a schema that names no region or account loads on its own; its
/// references take the region and account as the placeholders `{region}` and `{account}`.
#[test]
fn a_schema_alone_takes_its_region_and_account_as_placeholders() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(secret = "shop/db", env_prefix = "DB_")]
    struct Db {
        username: String,
        #[ecs(default = "5432")]
        port: u16,
    }

    assert_eq!(ecs_secrets::placeholders::<Db>(), ["region", "account"]);
    assert_eq!(
        Db::FIELDS[0].source.value_from().unwrap().as_str(),
        "arn:aws:secretsmanager:{region}:{account}:secret:shop/db:username::"
    );
    let vars = Vars::new()
        .with("region", "eu-west-1")
        .with("account", "444455556666");
    let arn = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:shop/db";
    assert_eq!(
        fragment::<Db>(&vars),
        json!([
            {"name": "DB_USERNAME", "valueFrom": format!("{arn}:username::")},
            {"name": "DB_PORT", "valueFrom": format!("{arn}:port::")},
        ])
    );
    let e = Db::deployment_for(&Vars::new()).unwrap_err();
    let problems: Vec<String> = (e.errors().iter())
        .map(|e| match &e.kind {
            ErrorKind::Placeholder { reason } => format!("{} {}: {reason}", e.field, e.env),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        problems,
        [
            // Each missing value once, naming every other field that needs it.
            "username DB_USERNAME: no value for placeholder `{region}`; also used by `Db.port`",
            "username DB_USERNAME: no value for placeholder `{account}`; also used by `Db.port`",
        ]
    );
    let db = Db::from_lookup(|k| (k == "DB_USERNAME").then(|| "app".to_owned())).unwrap();
    assert_eq!((db.username.as_str(), db.port), ("app", 5432));
}

#[test]
fn a_schema_reused_in_three_places_with_placeholders() {
    #[derive(EcsSecrets)]
    #[ecs(secret = "{stage}/shop/db")]
    #[allow(dead_code)]
    struct Db {
        username: String,
        password: Secret<String>,
    }

    #[derive(EcsSecrets)]
    #[ecs(region = "{region}", account = "{account}")]
    #[allow(dead_code)]
    struct App {
        #[ecs(flatten, env_prefix = "PRIMARY_")]
        primary: Db,
        #[ecs(flatten, env_prefix = "REPLICA_", secret = "{stage}/shop/db-replica")]
        replica: Db,
        #[ecs(
            flatten,
            env_prefix = "REPORTING_",
            secret = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:{stage}/reporting-AbC123"
        )]
        reporting: Db,
    }

    assert_eq!(
        ecs_secrets::placeholders::<App>(),
        ["region", "account", "stage"]
    );
    let staging = Vars::new()
        .with("stage", "staging")
        .with("region", "eu-west-1")
        .with("account", "111111111111");
    let sm = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:staging/shop";
    let reporting = "arn:aws:secretsmanager:eu-west-1:999999999999:secret:staging/reporting-AbC123";
    assert_eq!(
        fragment::<App>(&staging),
        json!([
            {"name": "PRIMARY_USERNAME", "valueFrom": format!("{sm}/db:username::")},
            {"name": "PRIMARY_PASSWORD", "valueFrom": format!("{sm}/db:password::")},
            {"name": "REPLICA_USERNAME", "valueFrom": format!("{sm}/db-replica:username::")},
            {"name": "REPLICA_PASSWORD", "valueFrom": format!("{sm}/db-replica:password::")},
            {"name": "REPORTING_USERNAME", "valueFrom": format!("{reporting}:username::")},
            {"name": "REPORTING_PASSWORD", "valueFrom": format!("{reporting}:password::")},
        ])
    );
    let prod = Vars::new()
        .with("stage", "prod")
        .with("region", "us-east-1")
        .with("account", "222222222222");
    let policy = App::deployment_for(&prod).unwrap().policy(Role::Execution);
    assert_eq!(
        policy.resources(ecs_secrets::Action::GetSecretValue),
        [
            "arn:aws:secretsmanager:eu-west-1:999999999999:secret:prod/reporting-AbC123",
            "arn:aws:secretsmanager:us-east-1:222222222222:secret:prod/shop/db-??????",
            "arn:aws:secretsmanager:us-east-1:222222222222:secret:prod/shop/db-replica-??????",
        ]
    );
}

/// An RDS-managed secret's keys, one renamed; a field's own `env` and `version_stage` go with
/// the key, and the site's prefix goes on every name, the verbatim one included.
#[test]
fn keys_are_renamed_and_pinned_per_field() {
    #[derive(EcsSecrets)]
    #[ecs(secret = "orders/db", env_prefix = "DB_")]
    #[allow(dead_code)]
    struct Rds {
        #[ecs(key = "dbInstanceIdentifier")]
        instance: String,
        #[ecs(env = "PGPASSWORD")]
        password: Secret<String>,
        #[ecs(version_stage = "AWSPREVIOUS")]
        previous_password: Option<Secret<String>>,
        #[ecs(
            key = "password",
            version_stage = "AWSPREVIOUS",
            env = "PGPASSWORD_OLD"
        )]
        old: Option<Secret<String>>,
    }

    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333")]
    #[allow(dead_code)]
    struct App {
        #[ecs(flatten, env_prefix = "ORDERS_")]
        orders: Rds,
    }

    assert_eq!(
        fragment::<App>(&Vars::new()),
        json!([
            {"name": "ORDERS_DB_INSTANCE", "valueFrom": format!("{SM}orders/db:dbInstanceIdentifier::")},
            {"name": "ORDERS_PGPASSWORD", "valueFrom": format!("{SM}orders/db:password::")},
            {"name": "ORDERS_DB_PREVIOUS_PASSWORD", "valueFrom": format!("{SM}orders/db:previous_password:AWSPREVIOUS:")},
            {"name": "ORDERS_PGPASSWORD_OLD", "valueFrom": format!("{SM}orders/db:password:AWSPREVIOUS:")},
        ])
    );
}

/// `ssm`, an explicit `secret`, `plain` variables and defaults beside the keys: a site's
/// `secret` replaces the struct-level one only, its prefix goes on every name.
#[test]
fn other_sources_and_plain_variables_beside_keys() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333", secret = "shop/db")]
    struct Db {
        username: String,
        #[ecs(default = "5432")]
        port: u16,
        #[ecs(plain, default = "require")]
        sslmode: String,
        #[ecs(plain)]
        pool: Option<u32>,
        #[ecs(ssm = "/shop/db/ca")]
        ca: String,
        #[ecs(secret = "shop/db-admin", key = "password")]
        admin_password: Secret<String>,
    }

    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "eu-west-1", account = "444455556666")]
    struct App {
        #[ecs(flatten, env_prefix = "ORDERS_", secret = "shop/orders-db")]
        orders: Db,
    }

    let ssm = "arn:aws:ssm:us-east-1:111122223333:parameter/shop/db/ca";
    assert_eq!(
        fragment::<Db>(&Vars::new()),
        json!([
            {"name": "USERNAME", "valueFrom": format!("{SM}shop/db:username::")},
            {"name": "PORT", "valueFrom": format!("{SM}shop/db:port::")},
            {"name": "CA", "valueFrom": ssm},
            {"name": "ADMIN_PASSWORD", "valueFrom": format!("{SM}shop/db-admin:password::")},
        ])
    );
    // The schema names its region and account: they stay, whatever the flattening struct's.
    assert_eq!(
        fragment::<App>(&Vars::new()),
        json!([
            {"name": "ORDERS_USERNAME", "valueFrom": format!("{SM}shop/orders-db:username::")},
            {"name": "ORDERS_PORT", "valueFrom": format!("{SM}shop/orders-db:port::")},
            {"name": "ORDERS_CA", "valueFrom": ssm},
            {"name": "ORDERS_ADMIN_PASSWORD", "valueFrom": format!("{SM}shop/db-admin:password::")},
        ])
    );
    assert_eq!(
        envs::<App>(),
        [
            "ORDERS_USERNAME",
            "ORDERS_PORT",
            "ORDERS_SSLMODE",
            "ORDERS_POOL",
            "ORDERS_CA",
            "ORDERS_ADMIN_PASSWORD"
        ]
    );
    let app = App::from_lookup(|k| match k {
        "ORDERS_USERNAME" => Some("app".into()),
        "ORDERS_POOL" => Some("8".into()),
        "ORDERS_CA" => Some("pem".into()),
        "ORDERS_ADMIN_PASSWORD" => Some("root".into()),
        _ => None,
    })
    .unwrap();
    let o = &app.orders;
    assert_eq!(
        (o.username.as_str(), o.port, o.sslmode.as_str(), o.pool),
        ("app", 5432, "require", Some(8))
    );
    assert_eq!(
        (o.ca.as_str(), o.admin_password.expose_secret().as_str()),
        ("pem", "root")
    );
}

/// Each of `partition`, `region` and `account` comes from the schema when it names it, else
/// from the nearest flattening struct that does.
#[test]
fn the_context_of_a_key_comes_from_the_nearest_struct_that_names_it() {
    #[derive(EcsSecrets)]
    #[ecs(secret = "shop/db")]
    #[allow(dead_code)]
    struct Db {
        username: String,
    }

    #[derive(EcsSecrets)]
    #[ecs(secret = "shop/db", region = "cn-northwest-1")]
    #[allow(dead_code)]
    struct NorthWest {
        username: String,
    }

    /// Names no context: its keys stay open until it is flattened.
    #[derive(EcsSecrets)]
    #[allow(dead_code)]
    struct Pair {
        #[ecs(flatten, env_prefix = "A_")]
        a: Db,
        #[ecs(flatten, env_prefix = "B_", secret = "shop/db-b")]
        b: NorthWest,
    }

    #[derive(EcsSecrets)]
    #[ecs(partition = "aws-cn", region = "cn-north-1", account = "111122223333")]
    #[allow(dead_code)]
    struct App {
        #[ecs(flatten, env_prefix = "X_")]
        pair: Pair,
    }

    let b = "arn:aws:secretsmanager:{region}:{account}:secret:shop/db";
    assert_eq!(ecs_secrets::placeholders::<Pair>(), ["region", "account"]);
    let pair: Vec<_> = (Pair::FIELDS.iter())
        .map(|f| f.source.value_from().unwrap().as_str())
        .collect();
    assert_eq!(
        pair,
        [
            format!("{b}:username::"),
            "arn:aws:secretsmanager:cn-northwest-1:{account}:secret:shop/db-b:username::".into(),
        ]
    );
    assert_eq!(
        fragment::<App>(&Vars::new()),
        json!([
            {"name": "X_A_USERNAME", "valueFrom": "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:shop/db:username::"},
            {"name": "X_B_USERNAME", "valueFrom": "arn:aws-cn:secretsmanager:cn-northwest-1:111122223333:secret:shop/db-b:username::"},
        ])
    );
}

/// A site's `secret` replaces the struct-level `secret` of the struct it flattens, not the
/// secrets of the structs that one flattens.
#[test]
fn a_site_secret_replaces_one_struct_level_secret() {
    #[derive(EcsSecrets)]
    #[ecs(secret = "shop/db")]
    #[allow(dead_code)]
    struct Db {
        username: String,
    }

    #[derive(EcsSecrets)]
    #[ecs(secret = "shop/api")]
    #[allow(dead_code)]
    struct Service {
        token: Secret<String>,
        #[ecs(flatten, env_prefix = "DB_")]
        db: Db,
    }

    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333")]
    #[allow(dead_code)]
    struct App {
        #[ecs(flatten, env_prefix = "BILLING_", secret = "billing/api")]
        billing: Service,
    }

    assert_eq!(
        fragment::<App>(&Vars::new()),
        json!([
            {"name": "BILLING_TOKEN", "valueFrom": format!("{SM}billing/api:token::")},
            {"name": "BILLING_DB_USERNAME", "valueFrom": format!("{SM}shop/db:username::")},
        ])
    );
}

/// A struct-level or site `secret` given as the ARN of a whole secret is kept as written (no
/// partition, region or account applies); `r#type` is the key `type`; an `Option` key is still
/// in the fragment (ECS has no optional secrets).
#[test]
fn arns_are_kept_and_raw_names_are_keys() {
    const TLS: &str = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:platform/tls-AbC123";

    #[derive(Debug, EcsSecrets)]
    #[ecs(secret = "arn:aws:secretsmanager:eu-west-1:444455556666:secret:platform/tls-AbC123")]
    struct Tls {
        r#type: String,
        chain: Option<String>,
    }

    #[derive(Debug, EcsSecrets)]
    #[ecs(partition = "aws-cn", region = "cn-north-1", account = "111122223333")]
    struct App {
        #[ecs(flatten, env_prefix = "PUBLIC_")]
        public: Tls,
        #[ecs(flatten, env_prefix = "INTERNAL_", secret = "internal/tls")]
        internal: Tls,
    }

    let internal = "arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:internal/tls";
    assert_eq!(
        fragment::<App>(&Vars::new()),
        json!([
            {"name": "PUBLIC_TYPE", "valueFrom": format!("{TLS}:type::")},
            {"name": "PUBLIC_CHAIN", "valueFrom": format!("{TLS}:chain::")},
            {"name": "INTERNAL_TYPE", "valueFrom": format!("{internal}:type::")},
            {"name": "INTERNAL_CHAIN", "valueFrom": format!("{internal}:chain::")},
        ])
    );
    // Alone, the ARN names everything: no placeholder.
    assert_eq!(
        serde_json::to_value(Tls::deployment().secrets()).unwrap()[0],
        json!({"name": "TYPE", "valueFrom": format!("{TLS}:type::")})
    );
    let app = App::from_lookup(|k| k.ends_with("_TYPE").then(|| "ecdsa".to_owned())).unwrap();
    assert_eq!(
        (app.public.r#type.as_str(), &app.internal.chain),
        ("ecdsa", &None)
    );
}

/// A secret that RDS manages for a database's master user is named `rds!db-<uuid>` (Aurora's
/// `rds!cluster-<uuid>`) and holds `username` and `password`: a schema like any other.
#[test]
fn a_secret_that_rds_manages_is_a_schema() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(secret = "rds!db-{db}")]
    struct MasterUser {
        username: String,
        password: Secret<String>,
    }

    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111122223333")]
    struct App {
        #[ecs(flatten, env_prefix = "DB_")]
        db: MasterUser,
        #[ecs(
            flatten,
            env_prefix = "REPORTING_",
            secret = "rds!cluster-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
        )]
        reporting: MasterUser,
    }

    let rds = format!("{SM}rds!db-0a1b2c3d-e4f5-4a6b-8c7d-9e0f1a2b3c4d");
    let cluster = format!("{SM}rds!cluster-9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a");
    let vars = Vars::new().with("db", "0a1b2c3d-e4f5-4a6b-8c7d-9e0f1a2b3c4d");
    let d = App::deployment_for(&vars).unwrap();
    assert_eq!(
        serde_json::to_value(d.secrets()).unwrap(),
        json!([
            {"name": "DB_USERNAME", "valueFrom": format!("{rds}:username::")},
            {"name": "DB_PASSWORD", "valueFrom": format!("{rds}:password::")},
            {"name": "REPORTING_USERNAME", "valueFrom": format!("{cluster}:username::")},
            {"name": "REPORTING_PASSWORD", "valueFrom": format!("{cluster}:password::")},
        ])
    );
    assert_eq!(
        serde_json::to_string(&d.policy(Role::Execution)).unwrap(),
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["{cluster}-??????","{rds}-??????"]}}]}}"#
        )
    );
    let app = App::from_lookup(|k| Some(format!("<{k}>"))).unwrap();
    assert_eq!(
        (
            app.db.username.as_str(),
            app.reporting.password.expose_secret().as_str()
        ),
        ("<DB_USERNAME>", "<REPORTING_PASSWORD>")
    );
    // A placeholder value is checked as the rest of the name: a second '!' is refused.
    let e = App::deployment_for(&Vars::new().with("db", "a!b")).unwrap_err();
    assert!(e.to_string().contains("has a '!' out of place"), "{e}");
}
