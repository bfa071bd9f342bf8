//! The service of the rotation tests (test_rotation, test_refresh_now, test_pin): its
//! declaration, its fixtures in moto, and the waits for a watch's events. Every wait is for an
//! event, bounded by the testkit's `WAIT`.

// Each test file uses its own part.
#![allow(dead_code)]

use std::time::Duration;

use ecs_secrets::aws::{Change, Subscription, Watch, WatchOptions};
use ecs_secrets::{EcsSecrets, Secret};
use ecs_secrets_testkit::{self as testkit, Moto, bounded};

use crate::common::{NEVER, db_json, loader};

/// Every field kind a rotation touches: two keys of one JSON secret, a whole secret, an SSM
/// parameter, and a plain variable.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
pub struct Db {
    #[ecs(secret = "{p}/db", key = "username")]
    pub username: String,
    #[ecs(secret = "{p}/db", key = "password")]
    pub password: Secret<String>,
    #[ecs(secret = "{p}/api")]
    pub api_key: Secret<String>,
    #[ecs(ssm = "/{p}/flag")]
    pub flag: String,
    #[ecs(default = "8080")]
    pub port: u16,
}

/// The fixtures of [`Db`]; returns the ARN of `{p}/db`.
pub async fn db_fixtures(moto: &Moto) -> String {
    let db = testkit::create_secret(&moto.direct, &moto.name("/db"), &db_json("pw-1")).await;
    testkit::create_secret(&moto.direct, &moto.name("/api"), "key-1").await;
    put_flag(moto, "on").await;
    db
}

/// Writes the `SecureString` parameter of [`Db`]'s `flag`.
pub async fn put_flag(moto: &Moto, value: &str) {
    let name = format!("/{}/flag", moto.prefix);
    testkit::put_parameter(&moto.direct, &name, value, true).await;
}

/// The usual start: [`Db`]'s fixtures under a new prefix, and a watch of them that refreshes
/// only when asked; with the ARN of `{p}/db`. `None` when the AWS tests are skipped.
pub async fn watched(prefix: &str) -> Option<(Moto, String, Watch<Db>)> {
    let moto = Moto::start(prefix).await?;
    let db = db_fixtures(&moto).await;
    let watch = loader(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap();
    Some((moto, db, watch))
}

pub fn watch_options(interval: Duration) -> WatchOptions {
    WatchOptions::new().interval(interval)
}

/// The next change a subscriber is told of.
pub async fn next_change(sub: &mut Subscription) -> Change {
    bounded("waiting for a change", sub.recv())
        .await
        .expect("the watch is alive")
}

/// Polls `cond` every 10 ms until it holds.
pub async fn until(what: &str, cond: impl Fn() -> bool) {
    bounded(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The fields and the variables a change names.
pub fn fields(c: &Change) -> (Vec<&str>, Vec<&str>) {
    (c.fields.clone(), c.env.clone())
}
