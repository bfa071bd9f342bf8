//! Cheap watch refreshes against the local AWS endpoint (moto, started by `scripts/test`),
//! requests counted at the proxy: a refresh that finds nothing rotated reads no value (one
//! `DescribeSecret` per secret, one `GetParameters` without decryption per ten parameters); one
//! that finds a rotation reads exactly the rotated secret or `SecureString` (a changed `String`
//! parameter comes with the undecrypted answer); a secret pinned by
//! version id costs no request; a role without `DescribeSecret` falls back to reading every
//! value. The last test prints the figures of a fleet of watches, before and after.
#![cfg(feature = "aws")]

use std::time::Duration;

use ecs_secrets::aws::{Change, Watch, WatchOptions};
use ecs_secrets::{EcsSecrets, Secret, Vars};
use ecs_secrets_testkit::{self as testkit, Fault, FaultKind, Gate, Moto, PATIENCE, bounded};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
use common::{NEVER, SM, capture_trace, codes, db_json, loader};
use testkit::{BATCH, DESCRIBE, GET, PARAMS};
/// The end of the one `SecureString` parameter's name in [`Fleet`].
const SECURE: &str = "/flag";

/// Five secrets (one of them JSON, two keys) and two parameters (a `SecureString` and a
/// `String`): the declaration of the figures.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Fleet {
    #[ecs(secret = "{p}/db", key = "username")]
    username: String,
    #[ecs(secret = "{p}/db", key = "password")]
    password: Secret<String>,
    #[ecs(secret = "{p}/api")]
    api_key: Secret<String>,
    #[ecs(secret = "{p}/token")]
    token: Secret<String>,
    #[ecs(secret = "{p}/cert")]
    cert: Secret<String>,
    #[ecs(secret = "{p}/queue")]
    queue: String,
    #[ecs(ssm = "/{p}/flag")]
    flag: Secret<String>,
    #[ecs(ssm = "/{p}/region")]
    region: String,
}

/// The fixtures of [`Fleet`]; returns the ARN of each secret, `db` first.
async fn fleet_fixtures(moto: &Moto) -> Vec<String> {
    let mut arns = vec![moto.secret("/db", &db_json("pw-1")).await];
    for name in ["api", "token", "cert", "queue"] {
        arns.push(moto.secret(&format!("/{name}"), &format!("{name}-1")).await);
    }
    testkit::put_parameter(&moto.direct, &flag_name(moto), "on", true).await;
    let region = format!("/{}/region", moto.prefix);
    testkit::put_parameter(&moto.direct, &region, "eu", false).await;
    arns
}

fn flag_name(moto: &Moto) -> String {
    format!("/{}/flag", moto.prefix)
}

async fn watch<T: EcsSecrets + Send + Sync + 'static>(moto: &Moto) -> Watch<T> {
    loader(moto)
        .watch::<T>(WatchOptions::new().interval(NEVER))
        .await
        .unwrap()
}

/// What one round of refreshes sent, by operation, and how many values it read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sent {
    describe: usize,
    batch: usize,
    get: usize,
    /// `GetParameters` without decryption (versions only).
    params_plain: usize,
    /// `GetParameters` with decryption (values).
    params_decrypted: usize,
    /// Secret values read (ids in batches, plus `GetSecretValue`s): each one a KMS decrypt
    /// inside Secrets Manager.
    secret_values: usize,
    /// Parameter values read with decryption (names in decrypting calls).
    param_values: usize,
    /// Of those, `SecureString`s (the flag): each one a KMS decrypt inside SSM.
    secure_values: usize,
}

impl Sent {
    fn of(moto: &Moto) -> Sent {
        let params = moto.proxy.bodies(PARAMS);
        let decrypted = |b: &&Value| b["WithDecryption"] == json!(true);
        let ids = |b: &Value, key: &str| b[key].as_array().map_or(0, Vec::len);
        Sent {
            describe: moto.proxy.count(DESCRIBE),
            batch: moto.proxy.count(BATCH),
            get: moto.proxy.count(GET),
            params_plain: params.iter().filter(|b| !decrypted(b)).count(),
            params_decrypted: params.iter().filter(decrypted).count(),
            secret_values: moto
                .proxy
                .bodies(BATCH)
                .iter()
                .map(|b| ids(b, "SecretIdList"))
                .sum::<usize>()
                + moto.proxy.count(GET),
            param_values: params
                .iter()
                .filter(decrypted)
                .map(|b| ids(b, "Names"))
                .sum(),
            secure_values: params
                .iter()
                .filter(decrypted)
                .flat_map(|b| b["Names"].as_array().cloned().unwrap_or_default())
                .filter(|name| name.as_str().is_some_and(|n| n.ends_with(SECURE)))
                .count(),
        }
    }
}

fn fields(change: Option<Change>) -> Vec<&'static str> {
    change.map(|c| c.fields).unwrap_or_default()
}

#[tokio::test]
async fn a_refresh_reads_only_what_rotated() {
    let Some(moto) = Moto::start("cheap").await else {
        return;
    };
    let arns = fleet_fixtures(&moto).await;
    let watch = watch::<Fleet>(&moto).await;
    let v = watch.current();
    assert_eq!(
        [
            v.username.as_str(),
            v.password.expose_secret(),
            v.api_key.expose_secret(),
            v.token.expose_secret(),
            v.cert.expose_secret(),
            v.queue.as_str(),
            v.flag.expose_secret(),
            v.region.as_str()
        ],
        [
            "app", "pw-1", "api-1", "token-1", "cert-1", "queue-1", "on", "eu"
        ]
    );
    let first = Sent::of(&moto);
    assert_eq!(
        (first.batch, first.secret_values, first.params_decrypted),
        (1, 5, 1),
        "the first load reads every value: {first:?}"
    );

    // Nothing rotated: metadata only, and the very same value stays.
    moto.proxy.reset_counts();
    let before = watch.current();
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert!(std::sync::Arc::ptr_eq(&before, &watch.current()));
    assert_eq!(
        Sent::of(&moto),
        Sent {
            describe: 5,
            params_plain: 1,
            ..Sent::default()
        },
        "one DescribeSecret per secret, one GetParameters without decryption, no value"
    );

    // One secret rotated: exactly that one is read.
    testkit::put_secret_value(&moto.direct, &arns[2], "token-2").await;
    moto.proxy.reset_counts();
    let change = watch.refresh_now().await.unwrap();
    assert_eq!(fields(change), ["token"]);
    assert_eq!(watch.current().token.expose_secret(), "token-2");
    assert_eq!(watch.current().password.expose_secret(), "pw-1");
    let sent = Sent::of(&moto);
    assert_eq!(
        sent,
        Sent {
            describe: 5,
            batch: 1,
            params_plain: 1,
            secret_values: 1,
            ..Sent::default()
        }
    );
    assert_eq!(
        moto.proxy.bodies(BATCH)[0]["SecretIdList"],
        json!([format!("{SM}{}/token", moto.prefix)]),
        "the batch names the rotated secret only"
    );

    // The JSON secret rotated, with one key changed; and the SecureString parameter: each is
    // read once, the other parameter is not.
    testkit::put_secret_value(&moto.direct, &arns[0], &db_json("pw-2")).await;
    testkit::put_parameter(&moto.direct, &flag_name(&moto), "off", true).await;
    moto.proxy.reset_counts();
    let change = watch.refresh_now().await.unwrap();
    assert_eq!(fields(change), ["password", "flag"]);
    let now = watch.current();
    assert_eq!(
        (now.password.expose_secret().as_str(), now.username.as_str()),
        ("pw-2", "app")
    );
    assert_eq!(now.flag.expose_secret(), "off");
    let sent = Sent::of(&moto);
    assert_eq!(
        (
            sent.secret_values,
            sent.params_plain,
            sent.param_values,
            sent.secure_values
        ),
        (1, 1, 1, 1),
        "{sent:?}"
    );
    let decrypted: Vec<Value> = moto
        .proxy
        .bodies(PARAMS)
        .into_iter()
        .filter(|b| b["WithDecryption"] == json!(true))
        .collect();
    assert_eq!(
        decrypted[0]["Names"],
        json!([format!(
            "arn:aws:ssm:us-east-1:123456789012:parameter{}",
            flag_name(&moto)
        )])
    );

    // A changed String parameter comes with the undecrypted answer: no second call.
    let region = format!("/{}/region", moto.prefix);
    testkit::put_parameter(&moto.direct, &region, "us", false).await;
    moto.proxy.reset_counts();
    assert_eq!(fields(watch.refresh_now().await.unwrap()), ["region"]);
    assert_eq!(watch.current().region, "us");
    assert_eq!(
        Sent::of(&moto),
        Sent {
            describe: 5,
            params_plain: 1,
            ..Sent::default()
        }
    );

    // A new version with the same text: read (its version changed), but no change.
    testkit::put_secret_value(&moto.direct, &arns[1], "api-1").await;
    moto.proxy.reset_counts();
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert_eq!(Sent::of(&moto).secret_values, 1);
    let status = watch.status();
    assert_eq!((status.refreshes, status.failures), (5, 0));
}

#[tokio::test]
async fn pinned_versions_cost_nothing_and_stages_are_compared() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Versions {
        #[ecs(secret = "{p}/db", key = "password")]
        current: String,
        #[ecs(secret = "{p}/db", key = "password", version_stage = "AWSPREVIOUS")]
        previous: String,
        #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{p}/api:::{first}")]
        pinned: String,
    }
    let Some(moto) = Moto::start("pinned").await else {
        return;
    };
    let db = moto.secret("/db", &db_json("pw-1")).await;
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    let api = moto.secret("/api", "key-1").await;
    let first = testkit::aws_sdk_secretsmanager::Client::new(&moto.direct)
        .describe_secret()
        .secret_id(&api)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages
        .unwrap()
        .into_keys()
        .next()
        .unwrap();
    testkit::put_secret_value(&moto.direct, &api, "key-2").await;
    let vars = Vars::new().with("p", &moto.prefix).with("first", &first);
    let watch = loader(&moto)
        .vars(vars)
        .watch::<Versions>(WatchOptions::new().interval(NEVER))
        .await
        .unwrap();
    let value = watch.current();
    assert_eq!(
        (
            value.current.as_str(),
            value.previous.as_str(),
            value.pinned.as_str()
        ),
        ("pw-2", "pw-1", "key-1")
    );

    moto.proxy.reset_counts();
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert_eq!(
        Sent::of(&moto),
        Sent {
            describe: 1,
            ..Sent::default()
        },
        "one DescribeSecret answers both stages of the secret; the pinned version is not asked"
    );

    // A rotation moves both stages: both are read, the pinned version still is not.
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-3")).await;
    moto.proxy.reset_counts();
    let change = watch.refresh_now().await.unwrap();
    assert_eq!(fields(change), ["current", "previous"]);
    let value = watch.current();
    assert_eq!(
        (value.current.as_str(), value.previous.as_str()),
        ("pw-3", "pw-2")
    );
    let sent = Sent::of(&moto);
    assert_eq!(
        (sent.describe, sent.batch, sent.get, sent.secret_values),
        (1, 1, 1, 2),
        "the current one batched, the previous one by stage: {sent:?}"
    );
}

#[tokio::test]
async fn without_describe_secret_a_refresh_reads_every_value() {
    let Some(moto) = Moto::start("nodescribe").await else {
        return;
    };
    let arns = fleet_fixtures(&moto).await;
    let watch = watch::<Fleet>(&moto).await;
    let (log, _guard) = capture_trace();
    // An older task role: no secretsmanager:DescribeSecret.
    moto.fault(DESCRIBE, usize::MAX, FaultKind::AccessDenied);
    moto.proxy.reset_counts();
    assert_eq!(watch.refresh_now().await, Ok(None));
    let sent = Sent::of(&moto);
    assert_eq!(
        (sent.batch, sent.secret_values, sent.params_decrypted),
        (1, 5, 0),
        "every secret read again; the parameters still by version: {sent:?}"
    );
    assert_eq!(
        sent.describe, 5,
        "one per secret, each denied once: {sent:?}"
    );

    // The denial is remembered: no more DescribeSecret, and rotations still arrive.
    testkit::put_secret_value(&moto.direct, &arns[4], "queue-2").await;
    moto.proxy.reset_counts();
    let change = watch.refresh_now().await.unwrap();
    assert_eq!(fields(change), ["queue"]);
    let sent = Sent::of(&moto);
    assert_eq!((sent.describe, sent.secret_values), (0, 5), "{sent:?}");
    // Said once, for both refreshes.
    assert_eq!(
        log.text().matches("DescribeSecret was denied").count(),
        1,
        "{}",
        log.text()
    );
    moto.proxy.clear_faults();
}

#[tokio::test]
async fn a_failed_version_check_reads_the_value_instead() {
    let Some(moto) = Moto::start("checkfail").await else {
        return;
    };
    let arns = fleet_fixtures(&moto).await;
    // One request at a time (per step), so that the faults below hit the first secret's every
    // attempt.
    let watch = loader(&moto)
        .max_concurrency(1)
        .watch::<Fleet>(WatchOptions::new().interval(NEVER))
        .await
        .unwrap();
    testkit::put_secret_value(&moto.direct, &arns[3], "cert-2").await;
    // The first DescribeSecret and the version check of the parameters fail (a 500 on each of
    // the three attempts): those are read, the other three secrets are not.
    moto.proxy.add_fault(Fault::on(
        DESCRIBE,
        3,
        FaultKind::json_error(500, "InternalFailure", "injected"),
    ));
    moto.proxy.add_fault(Fault::on(
        PARAMS,
        3,
        FaultKind::json_error(500, "InternalFailure", "injected"),
    ));
    moto.proxy.reset_counts();
    let change = watch.refresh_now().await.unwrap();
    assert_eq!(fields(change), ["cert"]);
    let sent = Sent::of(&moto);
    assert_eq!(
        (sent.secret_values, sent.param_values),
        (2, 2),
        "the rotated secret, the one whose describe failed, both parameters: {sent:?}"
    );
    assert_eq!(watch.status().failures, 0);
}

/// A secret scheduled for deletion keeps its versions, but its value can no longer be read: the
/// refresh reads it and fails as a full reload would, instead of serving the kept answer.
#[tokio::test]
async fn a_secret_scheduled_for_deletion_fails_the_refresh() {
    let Some(moto) = Moto::start("deleted").await else {
        return;
    };
    let arns = fleet_fixtures(&moto).await;
    let watch = watch::<Fleet>(&moto).await;
    testkit::aws_sdk_secretsmanager::Client::new(&moto.direct)
        .delete_secret()
        .secret_id(&arns[3])
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    moto.proxy.reset_counts();
    let refreshed = watch.refresh_now().await.unwrap_err();
    let from_aws = loader(&moto).fetch::<Fleet>().await.unwrap_err();
    assert_eq!(refreshed, from_aws);
    assert_eq!(refreshed.errors().len(), 1, "{refreshed}");
    assert_eq!(refreshed.errors()[0].env, "CERT");
    assert_eq!(watch.current().cert.expose_secret(), "cert-1");
}

/// The version checks and the reads of a refresh share the loader's deadline: checks held for
/// part of it leave the reads the rest, not a deadline of their own. The checks' answers are
/// held for `HELD`, the read's until `HELD / 2` past the deadline: with a deadline of its own,
/// the read would have been answered. No speed matters, short of the checks taking
/// [`PATIENCE`] to arrive once let through.
#[tokio::test]
async fn checks_and_reads_share_one_deadline() {
    const HELD: Duration = Duration::from_secs(1);
    let deadline = HELD + PATIENCE;
    let Some(moto) = Moto::start("deadline").await else {
        return;
    };
    let arns = fleet_fixtures(&moto).await;
    let watch = loader(&moto)
        .deadline(deadline)
        .watch::<Fleet>(WatchOptions::new().interval(NEVER))
        .await
        .unwrap();
    testkit::put_secret_value(&moto.direct, &arns[1], "api-2").await;
    let (checks, read) = (Gate::new(), Gate::new());
    moto.fault(DESCRIBE, 5, FaultKind::Hold(checks.clone()));
    moto.fault(BATCH, 1, FaultKind::Hold(read.clone()));
    let refresh = {
        let watch = watch.clone();
        tokio::spawn(async move { watch.refresh_now().await })
    };
    bounded("the version checks held", checks.until_held(5)).await;
    // The refresh, and its deadline, started before this.
    let started = tokio::time::Instant::now();
    tokio::time::sleep_until(started + HELD).await;
    checks.open();
    tokio::time::sleep_until(started + deadline + HELD / 2).await;
    assert_eq!(read.held(), 1, "the read was sent with the time left");
    read.open();
    let error = refresh.await.unwrap().unwrap_err();
    assert_eq!(codes(&error), [("API_KEY", "DeadlineExceeded")], "{error}");
    moto.proxy.clear_faults();
    assert_eq!(watch.current().api_key.expose_secret(), "api-1");
    assert_eq!(fields(watch.refresh_now().await.unwrap()), ["api_key"]);
}

/// The figures of BENCHMARKS.md §5: requests and values read per refresh of a fleet of 20
/// watches of [`Fleet`], with nothing and with one secret rotated, before (every refresh a full
/// load, as [`Loader::fetch`]) and after. Counts, not times, so they are asserted too.
#[tokio::test]
async fn figures_for_a_fleet_of_watches() {
    const WATCHES: usize = 20;
    let Some(moto) = Moto::start("figures").await else {
        return;
    };
    let arns = fleet_fixtures(&moto).await;
    let mut watches = Vec::new();
    for _ in 0..WATCHES {
        watches.push(watch::<Fleet>(&moto).await);
    }
    let full = loader(&moto);
    let mut rows = Vec::new();
    for rotated in [false, true] {
        if rotated {
            testkit::put_secret_value(&moto.direct, &arns[1], "api-2").await;
        }
        moto.proxy.reset_counts();
        for _ in 0..WATCHES {
            full.fetch::<Fleet>().await.unwrap();
        }
        let before = Sent::of(&moto);
        moto.proxy.reset_counts();
        for w in &watches {
            let change = w.refresh_now().await.unwrap();
            assert_eq!(
                fields(change),
                if rotated { vec!["api_key"] } else { vec![] }
            );
        }
        let after = Sent::of(&moto);
        rows.push((rotated, before, after));
    }
    println!("\nrefresh of {WATCHES} watches (5 secrets, 2 parameters: 1 SecureString, 1 String)");
    println!(
        "{:<9} {:<7} {:>8} {:>6} {:>4} {:>10} {:>15} {:>13} {:>12} {:>12}",
        "rotated",
        "code",
        "Describe",
        "Batch",
        "Get",
        "GetParams",
        "GetParams+decr",
        "secret reads",
        "param reads",
        "KMS decrypts"
    );
    for (rotated, before, after) in &rows {
        for (code, s) in [("before", before), ("after", after)] {
            println!(
                "{:<9} {:<7} {:>8} {:>6} {:>4} {:>10} {:>15} {:>13} {:>12} {:>12}",
                if *rotated { "1 secret" } else { "none" },
                code,
                s.describe,
                s.batch,
                s.get,
                s.params_plain,
                s.params_decrypted,
                s.secret_values,
                s.param_values,
                s.secret_values + s.secure_values,
            );
        }
    }
    let (_, before, after) = rows[0];
    assert_eq!(
        (
            before.batch,
            before.params_decrypted,
            before.secret_values,
            before.param_values,
            before.secure_values
        ),
        (20, 20, 100, 40, 20)
    );
    assert_eq!(
        after,
        Sent {
            describe: 100,
            params_plain: 20,
            ..Sent::default()
        }
    );
    let (_, before1, after1) = rows[1];
    assert_eq!(before1, before);
    assert_eq!(
        after1,
        Sent {
            describe: 100,
            batch: 20,
            params_plain: 20,
            secret_values: 20,
            ..Sent::default()
        }
    );
}
