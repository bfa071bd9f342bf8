//! Rotation against the local AWS endpoint (moto, started by `scripts/test`), through
//! the counting, fault-injecting proxy: a watch that follows `PutSecretValue`, names exactly the
//! changed fields, keeps the last good value through failures, starts from the injected
//! environment, stops when dropped, and never leaks a value. `refresh_now` has its own file
//! (test_refresh_now), and so do fragments pinned to the current version ids (test_pin).
//!
//! No timing is asserted: every wait is for an event, with a generous timeout.
#![cfg(feature = "aws")]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ecs_secrets::aws::{Initial, Subscription, WatchOptions};
use ecs_secrets::{EcsSecrets, Secret};
use ecs_secrets_testkit::{self as testkit, Fault, FaultKind, Moto, bounded};
use serde_json::json;

#[path = "support/common.rs"]
mod common;
#[path = "support/rotation.rs"]
mod rotation;
use common::{NEVER, assert_clean, capture_trace, codes, db_json, loader, lookup};
use rotation::{Db, db_fixtures, fields, next_change, put_flag, until, watch_options, watched};
use testkit::PARAMS;

#[tokio::test]
async fn a_rotation_reaches_the_watch_within_one_interval() {
    let Some(moto) = Moto::start("rot").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let watch = loader(&moto)
        .watch::<Db>(watch_options(Duration::from_millis(300)).jitter(0.0))
        .await
        .unwrap();
    let mut sub = watch.subscribe();
    let first = watch.current();
    assert_eq!(
        (
            first.username.as_str(),
            first.password.expose_secret().as_str(),
            first.api_key.expose_secret().as_str(),
            first.flag.as_str(),
            first.port
        ),
        ("app", "pw-1", "key-1", "on", 8080)
    );
    assert_eq!(
        moto.counts(),
        [1, 0, 1],
        "two secrets in one batch, one parameter call"
    );

    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    let change = next_change(&mut sub).await;
    assert_eq!(
        fields(&change),
        (vec!["password"], vec!["PASSWORD"]),
        "the secret rotated, but only the password's text changed"
    );
    let now = watch.current();
    assert_eq!(now.password.expose_secret(), "pw-2");
    assert_eq!(now.username, "app");
    assert_eq!(
        first.password.expose_secret(),
        "pw-1",
        "a reader's Arc is its own"
    );

    let status = watch.status();
    assert!(status.refreshes >= 1, "{status:?}");
    assert_eq!((status.failures, status.consecutive_failures), (0, 0));
    assert!(status.last_change.is_some());
    assert_eq!(status.last_error, None);

    // Stopped, so no refresh is half-sent. Values were read twice: by the first load and by
    // the refresh that found the rotation; every other refresh only asked for versions.
    drop(watch);
    assert_eq!(bounded("the watch to stop", sub.recv()).await, None);
    let [batches, gets, _] = moto.counts();
    assert_eq!((batches, gets), (2, 0), "{:?}", moto.proxy.targets());
    assert!(moto.proxy.count(testkit::DESCRIBE) >= 2);
}

#[tokio::test]
async fn subscribers_get_exactly_the_changed_fields() {
    let Some((moto, _db, watch)) = watched("fields").await else {
        return;
    };
    let (mut a, mut b) = (watch.subscribe(), watch.clone().subscribe());

    // Nothing rotated: no change, and the very same value stays.
    let before = watch.current();
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert!(
        Arc::ptr_eq(&before, &watch.current()),
        "no churn without a change"
    );

    testkit::put_secret_value(&moto.direct, &moto.name("/api"), "key-2").await;
    put_flag(&moto, "off").await;
    let change = watch.refresh_now().await.unwrap().expect("a change");
    let expected = (vec!["api_key", "flag"], vec!["API_KEY", "FLAG"]);
    assert_eq!(fields(&change), expected);
    assert!(change.contains("flag") && !change.contains("password"));
    for sub in [&mut a, &mut b] {
        assert_eq!(
            fields(&next_change(sub).await),
            expected,
            "every subscriber"
        );
    }
    let now = watch.current();
    assert_eq!(
        (now.api_key.expose_secret().as_str(), now.flag.as_str()),
        ("key-2", "off")
    );

    // A new version with the same text is no change either.
    testkit::put_secret_value(&moto.direct, &moto.name("/api"), "key-2").await;
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert_eq!(watch.status().refreshes, 3);
    // The first load read both secrets in one batch; each refresh described both and checked
    // the parameter's version (one GetParameters without decryption), then read only what
    // had a new version: nothing, then the API key (a batch of one) and the flag, then the
    // API key.
    assert_eq!(
        moto.counts(),
        [3, 0, 5],
        "the first load and three refreshes: {:?}",
        moto.proxy.targets()
    );
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 6);
}

#[tokio::test]
async fn a_refresh_under_faults_keeps_the_last_good_value() {
    let Some((moto, db, watch)) = watched("faults").await else {
        return;
    };
    let mut sub = watch.subscribe();
    let started = watch.status().last_success;
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;

    // A 500 on every attempt (retried, then failed), and AccessDenied (not retried; the batch
    // falls back to GetSecretValue, which is denied too).
    for (n, code) in ["InternalFailure", "AccessDeniedException"]
        .into_iter()
        .enumerate()
    {
        let fault = match n {
            0 => FaultKind::json_error(500, code, "injected"),
            _ => FaultKind::AccessDenied,
        };
        moto.proxy.add_fault(Fault::any(usize::MAX, fault));
        let error = watch.refresh_now().await.unwrap_err();
        moto.proxy.clear_faults();
        assert_eq!(
            codes(&error),
            [
                ("USERNAME", code),
                ("PASSWORD", code),
                ("API_KEY", code),
                ("FLAG", code)
            ],
            "{error}"
        );
        assert_eq!(watch.current().password.expose_secret(), "pw-1", "{code}");
        let status = watch.status();
        let n = n as u64 + 1;
        assert_eq!(
            (
                status.refreshes,
                status.failures,
                status.consecutive_failures
            ),
            (n, n, n)
        );
        assert_eq!(status.last_error.as_ref(), Some(&error));
        assert!(status.last_failure.is_some());
        assert_eq!(status.last_success, started);
        assert_eq!(status.last_change, None);
    }

    // Partial: the secrets answer, SSM does not. Nothing of it is taken, not even the new
    // password.
    moto.proxy
        .add_fault(Fault::on(PARAMS, usize::MAX, FaultKind::AccessDenied));
    let error = watch.refresh_now().await.unwrap_err();
    moto.proxy.clear_faults();
    assert_eq!(codes(&error), [("FLAG", "AccessDeniedException")]);
    assert_eq!(watch.current().password.expose_secret(), "pw-1");
    assert_eq!(watch.status().consecutive_failures, 3);

    // Healed: the rotation goes through, and is the only change subscribers were told of.
    let change = watch.refresh_now().await.unwrap().expect("the rotation");
    assert_eq!(fields(&change).0, ["password"]);
    assert_eq!(fields(&next_change(&mut sub).await).0, ["password"]);
    assert!(sub.try_recv_is_empty());
    let status = watch.status();
    assert_eq!(
        (
            status.refreshes,
            status.failures,
            status.consecutive_failures
        ),
        (4, 3, 0)
    );
    assert!(status.last_success > started);
    assert!(status.last_error.is_some(), "kept for the record");
}

/// A helper trait so the test reads well: no pending change.
trait Empty {
    fn try_recv_is_empty(&mut self) -> bool;
}

impl Empty for Subscription {
    fn try_recv_is_empty(&mut self) -> bool {
        // `recv` on an empty channel would wait: poll it once.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut recv = std::pin::pin!(self.recv());
        recv.as_mut().poll(&mut cx).is_pending()
    }
}

#[tokio::test]
async fn an_optional_value_that_vanishes_is_kept() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Flags {
        #[ecs(secret = "{p}/flags")]
        flags: Option<String>,
        #[ecs(secret = "{p}/later")]
        later: Option<String>,
    }
    let Some(moto) = Moto::start("vanish").await else {
        return;
    };
    let arn = testkit::create_secret(&moto.direct, &moto.name("/flags"), "a,b").await;
    let watch = loader(&moto)
        .watch::<Flags>(watch_options(NEVER))
        .await
        .unwrap();
    assert_eq!(watch.current().later, None, "does not exist yet");

    // Absent → present is a change.
    testkit::create_secret(&moto.direct, &moto.name("/later"), "x").await;
    let change = watch.refresh_now().await.unwrap().expect("a change");
    assert_eq!(change.fields, ["later"]);

    // Present → absent would replace a good value with None: refused, value kept.
    testkit::aws_sdk_secretsmanager::Client::new(&moto.direct)
        .delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    let error = watch.refresh_now().await.unwrap_err();
    assert_eq!(codes(&error), [("FLAGS", "SourceVanished")]);
    assert_eq!(watch.current().flags.as_deref(), Some("a,b"));
    assert_eq!(watch.status().consecutive_failures, 1);
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_refresh() {
    let Some(moto) = Moto::start("drop").await else {
        return;
    };
    db_fixtures(&moto).await;
    let interval = Duration::from_millis(50);
    let watch = loader(&moto)
        .watch::<Db>(watch_options(interval))
        .await
        .unwrap();
    let mut sub = watch.subscribe();
    until("three background refreshes", || {
        watch.status().refreshes >= 3
    })
    .await;

    // A clone keeps it alive.
    let clone = watch.clone();
    drop(watch);
    let seen = clone.status().refreshes;
    until("a refresh after the first handle's drop", || {
        clone.status().refreshes > seen
    })
    .await;

    drop(clone);
    // The task gives up the shared state when it stops, which closes the channel.
    assert_eq!(bounded("the task to stop", sub.recv()).await, None);
    // Requests written just before the stop may still reach the proxy (another thread), however
    // late: at most one refresh's version checks (two `DescribeSecret`, one `GetParameters`). A
    // task still running would send that many every interval.
    let stopped = moto.proxy.total();
    tokio::time::sleep(interval * 20).await;
    let late = moto.proxy.total() - stopped;
    assert!(
        late <= 3,
        "{late} after the stop: {:?}",
        moto.proxy.targets()
    );
}

#[tokio::test]
async fn load_and_watch_starts_from_the_injected_environment() {
    let Some(moto) = Moto::start("env").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    // What ECS injected at start; the API key has rotated since.
    let injected = [
        ("USERNAME", "app"),
        ("PASSWORD", "pw-1"),
        ("API_KEY", "key-0"),
        ("FLAG", "on"),
    ];
    let watch = loader(&moto)
        .lookup(lookup(&injected))
        .watch::<Db>(WatchOptions::new().interval(NEVER).initial(Initial::Load))
        .await
        .unwrap();
    assert_eq!(
        moto.counts(),
        [0, 0, 0],
        "everything came from the environment"
    );
    assert_eq!(watch.current().api_key.expose_secret(), "key-0");

    // The first refresh reads AWS: only what differs from the injected values changed.
    let change = watch.refresh_now().await.unwrap().expect("the stale key");
    assert_eq!(fields(&change).0, ["api_key"]);
    assert_eq!(watch.current().api_key.expose_secret(), "key-1");
    assert_eq!(moto.counts(), [1, 0, 1]);

    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    let change = watch.refresh_now().await.unwrap().expect("the rotation");
    assert_eq!(fields(&change).0, ["password"]);
}

#[tokio::test]
async fn watch_fails_like_from_aws_when_the_first_load_fails() {
    let Some(moto) = Moto::start("first").await else {
        return;
    };
    // No fixtures: every sourced field is missing.
    let error = loader(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap_err();
    let from_aws = loader(&moto).fetch::<Db>().await.unwrap_err();
    assert_eq!(error, from_aws);
    assert_eq!(error.errors().len(), 4);
}

/// Canary values through a watch's whole life (first load, rotation, a failed and a partial
/// refresh, a storm, drop) must not show in any `Debug`/`Display` of what it hands out, nor in
/// anything it or the SDK traces at TRACE level.
#[tokio::test]
async fn a_watch_never_leaks_a_value() {
    const MARK: &str = "w9Rt2x";
    #[allow(dead_code)] // read through `Debug` only
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Canaries {
        #[ecs(secret = "{p}/db", key = "password")]
        password: Secret<String>,
        #[ecs(secret = "{p}/db", key = "port")]
        port: Secret<u16>,
        #[ecs(ssm = "/{p}/token")]
        token: Secret<String>,
    }
    let Some(moto) = Moto::start("leak").await else {
        return;
    };
    let (log, _guard) = capture_trace();

    let canary = |tag: &str| format!("{MARK}-{tag}-{MARK}");
    let db_value = |tag: &str| json!({"password": canary(tag), "port": "5432"}).to_string();
    let db = testkit::create_secret(&moto.direct, &moto.name("/db"), &db_value("pw-1")).await;
    let token = format!("/{}/token", moto.prefix);
    testkit::put_parameter(&moto.direct, &token, &canary("token-1"), true).await;

    let watch = loader(&moto)
        .watch::<Canaries>(watch_options(NEVER))
        .await
        .unwrap();
    let mut sub = watch.subscribe();
    let mut outputs = vec![format!("{watch:?}"), format!("{:?}", watch.current())];

    testkit::put_secret_value(&moto.direct, &db, &db_value("pw-2")).await;
    testkit::put_parameter(&moto.direct, &token, &canary("token-2"), true).await;
    let change = watch.refresh_now().await.unwrap().unwrap();
    outputs.push(format!("{change:?} {:?}", next_change(&mut sub).await));
    assert_eq!(change.fields, ["password", "token"]);

    // Failures echo what AWS said; the port's JSON becomes unparsable.
    moto.proxy
        .add_fault(Fault::any(usize::MAX, FaultKind::AccessDenied));
    let denied = watch.refresh_now().await.unwrap_err();
    moto.proxy.clear_faults();
    testkit::put_secret_value(
        &moto.direct,
        &db,
        &json!({"password": canary("pw-3"), "port": canary("port")}).to_string(),
    )
    .await;
    let unparsable = watch.refresh_now().await.unwrap_err();
    assert_eq!(codes(&unparsable), [("PORT", "Invalid")]);
    for e in [&denied, &unparsable] {
        outputs.push(format!("{e} {e:?}"));
    }
    outputs.push(format!("{watch:?} {:?} {sub:?}", watch.status()));
    // The canaries went through: the check below is not vacuous.
    assert!(watch.current().password.expose_secret().contains(MARK));
    drop(watch);

    let text = log.text();
    assert!(
        text.contains("refresh changed values"),
        "the log was captured"
    );
    assert!(text.contains("refresh failed; keeping the last good value"));
    for (what, out) in outputs
        .iter()
        .map(|o| ("an output", o.as_str()))
        .chain([("the log", &*text)])
    {
        assert_clean(what, out, &[MARK]);
    }
}
