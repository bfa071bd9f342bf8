//! Rotation against the local AWS endpoint (moto, started by `scripts/test`), through
//! the counting, fault-injecting proxy: a watch that follows `PutSecretValue`, names exactly the
//! changed fields, keeps the last good value through failures, coalesces `refresh_now` storms
//! into one fetch and stops when dropped; and fragments pinned to the current version ids.
//!
//! No timing is asserted: every wait is for an event, with a generous timeout, and what must
//! happen while a request is in flight happens while its answer is held at the proxy.
#![cfg(feature = "aws")]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use ecs_secrets::aws::{Change, Initial, Loader, Subscription, WatchOptions};
use ecs_secrets::{EcsSecrets, Secret, SecretRef, Vars};
use ecs_secrets_testkit::{self as testkit, Captured, Fault, FaultKind, Gate, Moto};
use serde_json::json;

use testkit::PARAMS;
const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
/// The upper bound of every wait: far above what any step takes on a loaded machine.
const WAIT: Duration = Duration::from_secs(30);
/// For watches that must not refresh on their own during a test.
const NEVER: Duration = Duration::from_secs(3600);

/// Every field kind a rotation touches: two keys of one JSON secret, a whole secret, an SSM
/// parameter, and a plain variable.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Db {
    #[ecs(secret = "{p}/db", key = "username")]
    username: String,
    #[ecs(secret = "{p}/db", key = "password")]
    password: Secret<String>,
    #[ecs(secret = "{p}/api")]
    api_key: Secret<String>,
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
    #[ecs(default = "8080")]
    port: u16,
}

fn db_json(password: &str) -> String {
    json!({"username": "app", "password": password}).to_string()
}

/// The fixtures of [`Db`]; returns the ARN of `{p}/db`.
async fn db_fixtures(moto: &Moto) -> String {
    let db = testkit::create_secret(&moto.direct, &moto.name("/db"), &db_json("pw-1")).await;
    testkit::create_secret(&moto.direct, &moto.name("/api"), "key-1").await;
    put_flag(moto, "on").await;
    db
}

async fn put_flag(moto: &Moto, value: &str) {
    let name = format!("/{}/flag", moto.prefix);
    testkit::put_parameter(&moto.direct, &name, value, true).await;
}

fn load_options(moto: &Moto) -> Loader {
    Loader::new(&moto.config)
        .vars(Vars::new().with("p", &moto.prefix))
        .lookup(|_| None)
        .deadline(Duration::from_secs(20))
}

fn watch_options(interval: Duration) -> WatchOptions {
    WatchOptions::new().interval(interval)
}

async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(WAIT, f).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: nothing within {WAIT:?}"),
    }
}

async fn next_change(sub: &mut Subscription) -> Change {
    bounded("waiting for a change", sub.recv())
        .await
        .expect("the watch is alive")
}

/// Polls `cond` every 10 ms until it holds.
async fn until(what: &str, cond: impl Fn() -> bool) {
    bounded(what, async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// Polls `call` once: a call to `refresh_now` is made (it decides which refresh may answer it)
/// when it is first polled.
async fn make<F: Future + Unpin>(call: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *call).poll(cx))).await
}

fn fields(c: &Change) -> (Vec<&str>, Vec<&str>) {
    (c.fields.clone(), c.env.clone())
}

fn codes(e: &ecs_secrets::Error) -> Vec<(&str, &str)> {
    field_codes(e.errors())
}

fn field_codes(e: &[ecs_secrets::FieldError]) -> Vec<(&str, &str)> {
    e.iter().map(|e| (e.env, e.kind.code())).collect()
}

#[tokio::test]
async fn a_rotation_reaches_the_watch_within_one_interval() {
    let Some(moto) = Moto::start("rot").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let watch = load_options(&moto)
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
    let Some(moto) = Moto::start("fields").await else {
        return;
    };
    db_fixtures(&moto).await;
    let watch = load_options(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap();
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
    let Some(moto) = Moto::start("faults").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let watch = load_options(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap();
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
    let watch = load_options(&moto)
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
async fn refresh_now_storms_coalesce_into_two_loads() {
    let Some(moto) = Moto::start("storm").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let watch = load_options(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap();
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    moto.proxy.reset_counts();
    // The first refresh's answers are held until every call has been made: all of them are
    // made while it is in flight.
    let gate = Gate::new();
    moto.proxy
        .add_fault(Fault::any(usize::MAX, FaultKind::Hold(gate.clone())));
    let made = Arc::new(AtomicUsize::new(0));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (watch, made) = (watch.clone(), Arc::clone(&made));
        calls.spawn(async move {
            let mut call = Box::pin(watch.refresh_now());
            let first = make(&mut call).await;
            made.fetch_add(1, Ordering::SeqCst);
            match first {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => call.await,
            }
        });
    }
    until("every call made", || made.load(Ordering::SeqCst) == 20).await;
    gate.open();
    let outcomes = bounded("the storm", calls.join_all()).await;
    moto.proxy.clear_faults();
    // The first call starts a refresh; the 19 that arrive while it is in flight may not take it
    // (it may have read AWS before what they react to) and share the next one. Each refresh
    // describes both secrets and checks the parameter's version; only the first finds the
    // rotated secret and reads it.
    assert_eq!(
        (moto.counts(), moto.proxy.count(testkit::DESCRIBE)),
        ([1, 0, 2], 4),
        "20 calls, two refreshes: {:?}",
        moto.proxy.targets()
    );
    let mut changed: Vec<_> = outcomes
        .iter()
        .map(|o| o.as_ref().unwrap().as_ref().map(|c| c.fields.clone()))
        .collect();
    changed.sort();
    let mut expected = vec![None; 19];
    expected.push(Some(vec!["password"]));
    assert_eq!(
        changed, expected,
        "one saw the change, the rest share the next"
    );
    assert_eq!(watch.status().refreshes, 2);
    assert_eq!(watch.current().password.expose_secret(), "pw-2");

    // The next call after the storm is a new refresh.
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert_eq!(
        (moto.counts(), moto.proxy.count(testkit::DESCRIBE)),
        ([1, 0, 3], 6)
    );
}

/// A refresh in flight when `refresh_now` is called may have read AWS before the rotation the
/// caller reacts to: the call must not take its outcome.
#[tokio::test]
async fn refresh_now_never_answers_with_data_older_than_the_call() {
    let Some(moto) = Moto::start("fresh").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let watch = load_options(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap();
    moto.proxy.reset_counts();
    // The next refresh's version checks (a DescribeSecret per secret) are answered by moto at
    // once, but the answers are held at the proxy: they name the old version.
    let gate = Gate::new();
    moto.proxy.add_fault(Fault::on(
        testkit::DESCRIBE,
        2,
        FaultKind::Hold(gate.clone()),
    ));
    let in_flight = {
        let watch = watch.clone();
        tokio::spawn(async move { watch.refresh_now().await })
    };
    bounded("the first version checks answered", gate.until_held(2)).await;
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;

    // The caller learned of the rotation (an authentication failure), and calls while that
    // refresh is in flight: it gets the new value.
    let mut call = Box::pin(watch.refresh_now());
    assert!(make(&mut call).await.is_pending(), "it waits");
    gate.open();
    let change = bounded("refresh_now", call).await.unwrap();
    assert_eq!(
        change.map(|c| c.fields),
        Some(vec!["password"]),
        "the call's own refresh saw the rotation"
    );
    assert_eq!(watch.current().password.expose_secret(), "pw-2");
    let first = bounded("the refresh in flight", in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, None, "the refresh in flight saw the old version");
    assert_eq!(
        moto.counts()[0],
        1,
        "only the call's own refresh read a value: the rotated secret"
    );
}

#[tokio::test]
async fn dropping_the_last_handle_stops_the_refresh() {
    let Some(moto) = Moto::start("drop").await else {
        return;
    };
    db_fixtures(&moto).await;
    let interval = Duration::from_millis(50);
    let watch = load_options(&moto)
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
    let options = load_options(&moto).lookup(move |name| {
        injected
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    });
    let watch = options
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
    let error = load_options(&moto)
        .watch::<Db>(watch_options(NEVER))
        .await
        .unwrap_err();
    let from_aws = load_options(&moto).fetch::<Db>().await.unwrap_err();
    assert_eq!(error, from_aws);
    assert_eq!(error.errors().len(), 4);
}

// --- Pinned versions ---------------------------------------------------------------------

/// A `GetSecretValue` straight to moto: the current version id of `secret`.
async fn current_version(moto: &Moto, secret: &str) -> String {
    testkit::aws_sdk_secretsmanager::Client::new(&moto.direct)
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap()
}

/// Only its fragment is used (by three tests, hence outside them).
#[allow(dead_code)]
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Pinned {
    #[ecs(secret = "{p}/db", key = "password")]
    password: String,
    #[ecs(secret = "{p}/db", key = "username", version_stage = "AWSCURRENT")]
    username: String,
    #[ecs(secret = "{p}/api")]
    api_key: String,
    #[ecs(secret = "{p}/db", key = "password", version_stage = "AWSPREVIOUS")]
    previous: String,
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
    #[ecs(default = "8080")]
    port: u16,
}

fn pinned_fragment(prefix: &str, db: &str, api: &str) -> Vec<SecretRef> {
    let entry = |name: &str, value_from: String| SecretRef {
        name: name.to_owned(),
        value_from,
    };
    vec![
        entry("PASSWORD", format!("{SM}{prefix}/db:password::{db}")),
        entry("USERNAME", format!("{SM}{prefix}/db:username::{db}")),
        entry("API_KEY", format!("{SM}{prefix}/api:::{api}")),
        entry("PREVIOUS", format!("{SM}{prefix}/db:password:AWSPREVIOUS:")),
        entry(
            "FLAG",
            format!("arn:aws:ssm:us-east-1:123456789012:parameter/{prefix}/flag"),
        ),
    ]
}

#[tokio::test]
async fn pinned_fragments_change_exactly_when_a_secret_rotates() {
    let Some(moto) = Moto::start("pin").await else {
        return;
    };
    let db = db_fixtures(&moto).await;
    let api = moto.name("/api");
    let vars = Vars::new().with("p", &moto.prefix);
    let p = &moto.prefix;

    let loader = Loader::new(&moto.config);
    let pin = || async { loader.pin::<Pinned>(&vars).await.unwrap().secrets() };
    let first = pin().await;
    let (db1, api1) = (
        current_version(&moto, &db).await,
        current_version(&moto, &api).await,
    );
    assert_eq!(first, pinned_fragment(p, &db1, &api1));
    assert_eq!(
        moto.proxy.count(testkit::DESCRIBE),
        2,
        "one DescribeSecret per secret; AWSPREVIOUS and SSM are not read"
    );
    assert_eq!(moto.counts(), [0, 0, 0], "no value is read");
    assert_eq!(pin().await, first, "no rotation, no change");

    let api2 = testkit::put_secret_value(&moto.direct, &api, "key-2").await;
    let second = pin().await;
    assert_eq!(second, pinned_fragment(p, &db1, &api2));
    let changed: Vec<&str> = first
        .iter()
        .zip(&second)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| a.name.as_str())
        .collect();
    assert_eq!(changed, ["API_KEY"]);

    let db2 = testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    assert_eq!(pin().await, pinned_fragment(p, &db2, &api2));
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 8);
    assert_eq!(moto.counts(), [0, 0, 0], "still no value read");

    // Every pinned fragment is one ECS accepts.
    for entry in &second {
        entry
            .value_from
            .parse::<ecs_secrets::ValueFrom>()
            .unwrap_or_else(|e| panic!("{}: {e}", entry.value_from));
    }

    // What the deploy step needs for this: DescribeSecret on the unpinned secrets, nothing else.
    let policy = Pinned::deployment_for(&vars)
        .unwrap()
        .policy(ecs_secrets::Role::Pin);
    assert_eq!(
        policy.to_json(),
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Action": ["secretsmanager:DescribeSecret"],
                "Resource": [
                    format!("{SM}{p}/api-??????"),
                    format!("{SM}{p}/db-??????"),
                ]
            }]
        })
    );
}

#[tokio::test]
async fn pinning_reports_every_secret_it_cannot_read() {
    let Some(moto) = Moto::start("pinerr").await else {
        return;
    };
    // Only the API key exists.
    testkit::create_secret(&moto.direct, &moto.name("/api"), "key-1").await;
    let vars = Vars::new().with("p", &moto.prefix);
    let error = Loader::new(&moto.config)
        .pin::<Pinned>(&vars)
        .await
        .unwrap_err();
    assert_eq!(
        field_codes(error.errors()),
        [
            ("PASSWORD", "ResourceNotFoundException"),
            ("USERNAME", "ResourceNotFoundException")
        ]
    );
    assert!(
        error
            .to_string()
            .starts_with("cannot resolve the declaration"),
        "{error}"
    );

    // Missing placeholders: reported without a request.
    moto.proxy.reset_counts();
    let error = Loader::new(&moto.config)
        .pin::<Pinned>(&Vars::new())
        .await
        .unwrap_err();
    assert!(
        field_codes(error.errors())
            .iter()
            .all(|(_, c)| *c == "Placeholder"),
        "{error}"
    );
    assert_eq!(moto.proxy.total(), 0);
}

/// `--pin-versions` on `secrets`, `merge` and `check` (features `cli` and `aws`). A plain test:
/// the command line runs its own runtime.
#[cfg(feature = "cli")]
#[test]
fn cli_pins_versions() {
    use ecs_secrets::cli;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(moto) = rt.block_on(Moto::start("pincli")) else {
        return;
    };
    let db = rt.block_on(db_fixtures(&moto));
    let api = moto.name("/api");
    let (db1, api1) = rt.block_on(async {
        (
            current_version(&moto, &db).await,
            current_version(&moto, &api).await,
        )
    });
    // A fresh client per run: each run has its own runtime, and pooled connections must not
    // outlive theirs.
    let var = format!("p={}", moto.prefix);
    let run = |args: &[&str]| {
        let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
        let mut all = vec!["deploy"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--var", &var]);
        cli::run_with_config::<Pinned>(all, &|_| None, &config)
    };
    let expected = serde_json::to_value(pinned_fragment(&moto.prefix, &db1, &api1)).unwrap();

    let out = run(&["secrets", "--pin-versions"]).unwrap();
    let printed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed, expected);
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 2);
    assert_eq!(moto.counts(), [0, 0, 0], "no value read");
    let plain = run(&["secrets"]).unwrap();
    assert!(!plain.stdout.contains(&db1), "no pinning without the flag");
    assert_eq!(moto.proxy.count(testkit::DESCRIBE), 2, "and no request");

    let dir = std::env::temp_dir().join(testkit::unique("pincli"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("td.json");
    let td = json!({"family": "app", "containerDefinitions": [{"name": "app", "image": "x"}]});
    std::fs::write(&file, td.to_string()).unwrap();
    let path = file.to_str().unwrap();
    run(&[
        "merge",
        "--container",
        "app",
        path,
        "--in-place",
        "--pin-versions",
    ])
    .unwrap();
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(merged["containerDefinitions"][0]["secrets"], expected);

    let check = |pin: bool| {
        let mut args = vec!["check", "--container", "app", path];
        if pin {
            args.push("--pin-versions");
        }
        run(&args).unwrap().code
    };
    assert_eq!(check(true), 0, "deployed revision is current");
    rt.block_on(testkit::put_secret_value(
        &moto.direct,
        &db,
        &db_json("pw-2"),
    ));
    assert_eq!(check(true), cli::EXIT_DRIFT, "rotated since");
    std::fs::remove_dir_all(&dir).unwrap();

    let missing = cli::run_with_config::<Pinned>(
        [
            "deploy",
            "secrets",
            "--pin-versions",
            "--var",
            "p=nothing-here",
        ],
        &|_| None,
        &rt.block_on(testkit::sdk_config(moto.proxy.url())),
    )
    .unwrap_err();
    let message = missing.to_string();
    assert!(
        message.starts_with("error: cannot pin the secrets to their current versions:")
            && message.contains("ResourceNotFoundException"),
        "{message}"
    );
    assert_eq!(missing.exit_code(), 2);
}

// --- Leaks -------------------------------------------------------------------------------

/// Canary values through a watch's whole life (first load, rotation, a failed and a partial
/// refresh, a storm, drop) must not show in any `Debug`/`Display` of what it hands out, nor in
/// anything it or the SDK traces at TRACE level.
#[tokio::test]
async fn a_watch_never_leaks_a_value() {
    use tracing_subscriber::util::SubscriberInitExt;

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
    // A silent global dispatcher as well as this thread's: with exactly one dispatcher
    // registered, tracing-core caches a callsite's interest from whichever thread registers it
    // first, and a sibling test's thread (no subscriber) would make it `never` for this one too
    // (tokio-rs/tracing#3611).
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_max_level(tracing_subscriber::filter::LevelFilter::OFF)
        .finish()
        .try_init();
    let log = Captured::default();
    let writer = log.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();

    let canary = |tag: &str| format!("{MARK}-{tag}-{MARK}");
    let db_value = |tag: &str| json!({"password": canary(tag), "port": "5432"}).to_string();
    let db = testkit::create_secret(&moto.direct, &moto.name("/db"), &db_value("pw-1")).await;
    let token = format!("/{}/token", moto.prefix);
    testkit::put_parameter(&moto.direct, &token, &canary("token-1"), true).await;

    let watch = load_options(&moto)
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
        assert!(!out.contains(MARK), "a canary leaked into {what}");
    }
}
