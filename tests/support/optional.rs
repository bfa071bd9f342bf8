//! The declarations and fixtures of test_optional, and what it expects of them: which
//! references are left out, and the lines that say so.

use ecs_secrets::deploy::{Finding, Omission, Omitted};
use ecs_secrets::extract::ExtractError;
use ecs_secrets::{EcsSecrets, Vars};
use ecs_secrets_testkit::Moto;
use serde_json::{Value, json};

pub const CANARY: &str = "CANARY-optional-value";
const ACCOUNT: &str = "123456789012";

/// Present: `db` (without the key `replica`), `beta`, `/flag`. Absent: `gamma`, `/new-flag`.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Flags {
    #[ecs(secret = "{p}/db", key = "password")]
    db_password: String,
    #[ecs(secret = "{p}/beta")]
    beta: Option<String>,
    #[ecs(ssm = "/{p}/flag")]
    flag: Option<String>,
    #[ecs(secret = "{p}/gamma")]
    gamma: Option<String>,
    #[ecs(ssm = "/{p}/new-flag")]
    new_flag: Option<String>,
    /// A key the secret does not have: kept unless values are read.
    #[ecs(secret = "{p}/db", key = "replica")]
    replica: Option<String>,
    #[ecs(default = "8080")]
    port: u16,
}

/// A required secret that does not exist, a required key the secret does not have, beside an
/// optional parameter that does not exist.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Required {
    #[ecs(secret = "{p}/token")]
    token: String,
    #[ecs(secret = "{p}/db", key = "user")]
    user: String,
    #[ecs(ssm = "/{p}/new-flag")]
    new_flag: Option<String>,
}

/// The second container of the task: a required parameter that exists, an optional one that
/// does not.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Sidecar {
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
    #[ecs(ssm = "/{p}/sidecar-off")]
    off: Option<String>,
}

pub async fn fixtures(moto: &Moto) {
    let db = json!({"password": format!("{CANARY}-db")}).to_string();
    moto.secret("/db", &db).await;
    moto.secret("/beta", &format!("{CANARY}-beta")).await;
    moto.param("/flag", &format!("{CANARY}-flag")).await;
}

pub fn vars(moto: &Moto) -> Vars {
    Vars::new().with("p", &moto.prefix)
}

pub fn secret(moto: &Moto, name: &str) -> String {
    format!(
        "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{}/{name}",
        moto.prefix
    )
}

pub fn param(moto: &Moto, name: &str) -> String {
    format!(
        "arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/{}/{name}",
        moto.prefix
    )
}

pub fn east() -> String {
    "us-east-1".to_owned()
}

/// Each omission as (container, field, env, valueFrom, why).
pub type Row = (Option<String>, &'static str, &'static str, String, Finding);

pub fn rows<T>(omitted: &Omitted<T>) -> Vec<Row> {
    let row = |o: &Omission| {
        let container = o.container.clone();
        (
            container,
            o.field,
            o.env,
            o.value_from.clone(),
            o.reason.clone(),
        )
    };
    omitted.omissions().iter().map(row).collect()
}

pub fn gamma(moto: &Moto, container: Option<&str>) -> Row {
    let reason = Finding::SecretNotFound { region: east() };
    let container = container.map(str::to_owned);
    (container, "gamma", "GAMMA", secret(moto, "gamma"), reason)
}

pub fn new_flag(moto: &Moto, container: Option<&str>) -> Row {
    let reason = Finding::ParameterNotFound { region: east() };
    let container = container.map(str::to_owned);
    (
        container,
        "new_flag",
        "NEW_FLAG",
        param(moto, "new-flag"),
        reason,
    )
}

pub fn replica(moto: &Moto) -> Row {
    let reason = Finding::JsonKey {
        key: "replica".into(),
        error: ExtractError::KeyMissing,
    };
    let value_from = format!("{}:replica::", secret(moto, "db"));
    (None, "replica", "REPLICA", value_from, reason)
}

/// The `secrets` list as JSON, `name → valueFrom` pairs in order.
pub fn entries(pairs: &[(&str, String)]) -> Value {
    let list = pairs
        .iter()
        .map(|(n, v)| json!({"name": n, "valueFrom": v}));
    Value::Array(list.collect())
}

/// Fails when `text` holds a value of a fixture.
pub fn assert_clean(text: &str) {
    assert!(!text.contains(CANARY), "a value leaked: {text}");
}

pub fn off(moto: &Moto) -> Row {
    let reason = Finding::ParameterNotFound { region: east() };
    let container = Some("sidecar".to_owned());
    (container, "off", "OFF", param(moto, "sidecar-off"), reason)
}

/// The lines on standard error that say what was left out of `Flags` (or, with a container, of
/// the task's `Flags` and `Sidecar`).
pub fn lines(rows: &[Row]) -> String {
    let line = |(container, field, env, value_from, reason): &Row| {
        let (prefix, name) = match container.as_deref() {
            Some("sidecar") => ("container `sidecar`: ".to_owned(), "Sidecar"),
            Some(c) => (format!("container `{c}`: "), "Flags"),
            None => (String::new(), "Flags"),
        };
        format!(
            "{prefix}left out {env} (optional field `{name}.{field}`, from {value_from}): \
             {reason}\n"
        )
    };
    rows.iter().map(line).collect()
}
