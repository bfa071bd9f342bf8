//! Direct loading (feature `aws`) when AWS says no, slows down or breaks: per-item AccessDenied,
//! a denied or throttled `BatchGetSecretValue` (fallback to `GetSecretValue`), whole-request
//! failures, retries, timeouts, the deadline, concurrency, and the tracing output. moto cannot
//! produce these, so a proxy in front of it rewrites, replaces or holds its answers. No outcome
//! depends on the machine's speed: what must overlap, wait or time out is held at a [`Gate`].
#![cfg(feature = "aws")]

use std::time::{Duration, Instant};

use ecs_secrets::{EcsSecrets, Vars};
use ecs_secrets_testkit::{self as testkit, Fault, FaultKind, Gate, Moto, PATIENCE, bounded};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
use common::{SM, capture_trace, codes, loader, reason};
use testkit::{BATCH, GET, PARAMS};

#[tokio::test]
async fn access_denied_on_one_secret_is_that_fields_error() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/open", key = "user")]
        user: String,
        #[ecs(secret = "{p}/locked", key = "password")]
        password: String,
        /// An `Option` is `None` only when the secret does not exist; denied stays an error.
        #[ecs(secret = "{p}/locked", key = "other")]
        other: Option<String>,
    }
    let Some(moto) = Moto::start("denied-item").await else {
        return;
    };
    moto.secret("/open", r#"{"user":"u"}"#).await;
    moto.secret("/locked", r#"{"password":"pw","other":"o"}"#)
        .await;
    let locked = moto.name("/locked");
    let locked_id = format!("{SM}{locked}");
    // What AWS answers when the role may read one secret of the batch but not the other.
    moto.fault(
        BATCH,
        1,
        FaultKind::rewrite(move |mut answer: Value| {
            if let Some(values) = answer["SecretValues"].as_array_mut() {
                values.retain(|v| v["Name"] != json!(locked));
            }
            answer["Errors"] = json!([{
                "SecretId": locked_id,
                "ErrorCode": "AccessDeniedException",
                "Message": "User is not authorized to perform secretsmanager:GetSecretValue",
            }]);
            answer
        }),
    );

    let e = loader(&moto).fetch::<Config>().await.unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("PASSWORD", "AccessDeniedException"),
            ("OTHER", "AccessDeniedException")
        ]
    );
    assert!(
        reason(&e, "PASSWORD").starts_with(
            "BatchGetSecretValue returned an error for this secret: User is not authorized"
        ),
        "{e}"
    );
    assert_eq!(
        e.errors()[0].source,
        format!("{SM}{}/locked:password::", moto.prefix)
    );
    assert_eq!(
        moto.counts(),
        [1, 0, 0],
        "a per-item error is not a reason to fall back"
    );
    assert_eq!(moto.proxy.pending_faults(), 0);
}

#[tokio::test]
async fn denied_batch_falls_back_to_get_secret_value() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/a", key = "x")]
        ax: String,
        #[ecs(secret = "{p}/a", key = "y")]
        ay: u8,
        #[ecs(secret = "{p}/b")]
        b: String,
        #[ecs(secret = "{p}/c")]
        c: String,
        #[ecs(secret = "{p}/b", version_stage = "AWSPREVIOUS")]
        b_previous: String,
        #[ecs(secret = "{p}/absent")]
        absent: Option<String>,
    }
    let Some(moto) = Moto::start("denied-batch").await else {
        return;
    };
    moto.secret("/a", r#"{"x":"ax","y":7}"#).await;
    let b = moto.secret("/b", "b1").await;
    testkit::put_secret_value(&moto.direct, &b, "b2").await;
    moto.secret("/c", "c").await;
    // The role lacks secretsmanager:BatchGetSecretValue.
    moto.fault(BATCH, 1, FaultKind::AccessDenied);

    let c = loader(&moto).fetch::<Config>().await.unwrap();
    assert_eq!(
        (
            c.ax.as_str(),
            c.ay,
            c.b.as_str(),
            c.c.as_str(),
            c.b_previous.as_str()
        ),
        ("ax", 7, "b2", "c", "b1")
    );
    assert_eq!(
        c.absent, None,
        "not found through the fallback is still None"
    );
    // One denied batch, then one GetSecretValue per distinct secret: a, b, c, absent, and
    // b's previous version (never batched).
    assert_eq!(moto.counts(), [1, 5, 0]);
    let mut ids: Vec<String> = moto
        .proxy
        .bodies(GET)
        .iter()
        .map(|b| b["SecretId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let p = &moto.prefix;
    let mut want = ["a", "absent", "b", "b", "c"].map(|s| format!("{SM}{p}/{s}"));
    want.sort();
    assert_eq!(ids, want);
}

#[tokio::test]
async fn a_throttled_batch_falls_back_at_once() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/a")]
        a: String,
        #[ecs(secret = "{p}/b")]
        b: String,
    }
    let Some(moto) = Moto::start("throttled-batch").await else {
        return;
    };
    moto.secret("/a", "a").await;
    moto.secret("/b", "b").await;
    // Throttled once: not retried, its secrets fetched one by one at once.
    moto.fault(BATCH, 1, FaultKind::Throttle);

    let throttled = loader(&moto);
    let c = throttled.fetch::<Config>().await.unwrap();
    assert_eq!((c.a.as_str(), c.b.as_str()), ("a", "b"));
    assert_eq!(moto.counts(), [1, 2, 0]);
    assert_eq!(moto.proxy.pending_faults(), 0);
    // The loader (and its clones) remember it, and fetch one by one for a while.
    throttled.clone().fetch::<Config>().await.unwrap();
    assert_eq!(moto.counts(), [1, 4, 0]);
    // A new loader batches again.
    loader(&moto).fetch::<Config>().await.unwrap();
    assert_eq!(moto.counts(), [2, 4, 0]);

    // With the caller's retry policy (testkit's: 3 attempts), the SDK retries the batch first.
    moto.proxy.reset_counts();
    moto.fault(BATCH, 3, FaultKind::Throttle);
    let sdk = loader(&moto).retry_config(
        testkit::aws_config::retry::RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(10)),
    );
    sdk.fetch::<Config>().await.unwrap();
    assert_eq!(moto.counts(), [3, 2, 0]);
    assert_eq!(moto.proxy.pending_faults(), 0);
}

#[tokio::test]
async fn a_failed_request_is_one_error_per_field_it_covered() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/db")]
        db: String,
        #[ecs(ssm = "/{p}/a")]
        a: String,
        #[ecs(ssm = "/{p}/b")]
        b: Option<String>,
        #[ecs(secret = "{p}/db", version_stage = "AWSPREVIOUS")]
        previous: String,
    }
    let Some(moto) = Moto::start("request-failed").await else {
        return;
    };
    let db = moto.secret("/db", "one").await;
    testkit::put_secret_value(&moto.direct, &db, "two").await;
    moto.param("/a", "a").await;
    moto.param("/b", "b").await;
    moto.fault(PARAMS, 1, FaultKind::AccessDenied);
    moto.fault(
        GET,
        3,
        FaultKind::json_error(500, "InternalServiceError", "try again later"),
    );

    let e = loader(&moto).fetch::<Config>().await.unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("A", "AccessDeniedException"),
            ("B", "AccessDeniedException"),
            ("PREVIOUS", "InternalServiceError"),
        ],
        "{e}"
    );
    let r = reason(&e, "A");
    assert!(r.starts_with("GetParameters failed: User: "), "{r}");
    assert_eq!(
        reason(&e, "PREVIOUS"),
        "GetSecretValue failed: try again later"
    );
    // AccessDenied is not retried; a 500 is, up to the 3 attempts.
    assert_eq!(moto.counts(), [1, 3, 1]);
}

/// Throttled `GetParameters` is retried by the loader's backoff, twice here.
#[tokio::test]
async fn throttled_get_parameters_is_retried() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(ssm = "/{p}/a")]
        a: String,
    }
    let Some(moto) = Moto::start("throttled").await else {
        return;
    };
    moto.param("/a", "a").await;
    moto.fault(PARAMS, 2, FaultKind::Throttle);

    let c = loader(&moto).fetch::<Config>().await.unwrap();
    assert_eq!(c.a, "a");
    assert_eq!(moto.counts(), [0, 0, 3]);
}

/// An attempt whose answer never comes is abandoned at the per-attempt timeout and retried; the
/// value arrives from the second attempt (the timeout is generous, so that it beats it on any
/// machine).
#[tokio::test]
async fn a_slow_attempt_times_out_and_is_retried() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(ssm = "/{p}/a")]
        a: String,
    }
    let Some(moto) = Moto::start("attempt-timeout").await else {
        return;
    };
    moto.param("/a", "a").await;
    let never = Gate::new();
    moto.fault(PARAMS, 1, FaultKind::Hold(never.clone()));

    let options = loader(&moto).attempt_timeout(PATIENCE);
    let c = options.fetch::<Config>().await.unwrap();
    assert_eq!(c.a, "a");
    assert_eq!(moto.counts(), [0, 0, 2]);
    assert_eq!(never.held(), 1, "the first answer never went out");
}

/// The parameters' answer never comes; the secret's does, well within a generous deadline.
#[tokio::test]
async fn the_deadline_bounds_the_whole_load() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/db")]
        db: String,
        #[ecs(ssm = "/{p}/a")]
        a: String,
        #[ecs(ssm = "/{p}/b")]
        b: Option<String>,
    }
    let Some(moto) = Moto::start("deadline").await else {
        return;
    };
    moto.secret("/db", "db").await;
    moto.param("/a", "a").await;
    let never = Gate::new();
    moto.fault(PARAMS, 1, FaultKind::Hold(never.clone()));

    let started = Instant::now();
    let options = loader(&moto).deadline(PATIENCE);
    let e = options.fetch::<Config>().await.unwrap_err();
    // A lower bound only: the load waited for the parameters until the deadline.
    assert!(started.elapsed() >= PATIENCE, "{:?}", started.elapsed());
    assert_eq!(
        codes(&e),
        [("A", "DeadlineExceeded"), ("B", "DeadlineExceeded")],
        "the secret arrived in time; the parameters did not"
    );
    assert_eq!(
        reason(&e, "A"),
        format!("the deadline ({PATIENCE:?}) passed before GetParameters answered")
    );
    assert_eq!(moto.counts(), [1, 0, 1]);
}

/// The plan's three requests (a batch, a `GetSecretValue`, a `GetParameters`) are sent at once:
/// their three answers are held at the proxy together. With a limit of one, each is sent only
/// after the answer before it was let through.
#[tokio::test]
async fn requests_run_concurrently_up_to_the_limit() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/db")]
        db: String,
        #[ecs(secret = "{p}/db", version_stage = "AWSPREVIOUS")]
        previous: String,
        #[ecs(ssm = "/{p}/a")]
        a: String,
    }
    let Some(moto) = Moto::start("concurrency").await else {
        return;
    };
    let db = moto.secret("/db", "one").await;
    testkit::put_secret_value(&moto.direct, &db, "two").await;
    moto.param("/a", "a").await;

    let gate = Gate::new();
    moto.proxy
        .add_fault(Fault::any(usize::MAX, FaultKind::Hold(gate.clone())));
    let at_once = loader(&moto);
    let load = tokio::spawn(async move { at_once.fetch::<Config>().await });
    bounded("three answers held at once", gate.until_held(3)).await;
    gate.open();
    let c = load.await.unwrap().unwrap();
    assert_eq!(
        (c.db.as_str(), c.previous.as_str(), c.a.as_str()),
        ("two", "one", "a")
    );
    assert_eq!(moto.counts(), [1, 1, 1]);

    moto.proxy.clear_faults();
    moto.proxy.reset_counts();
    let gate = Gate::new();
    moto.proxy
        .add_fault(Fault::any(usize::MAX, FaultKind::Hold(gate.clone())));
    let one_by_one = loader(&moto).max_concurrency(1);
    let load = tokio::spawn(async move { one_by_one.fetch::<Config>().await });
    for sent in 1..=3 {
        bounded("the next answer held", gate.until_held(1)).await;
        assert_eq!(moto.proxy.total(), sent, "nothing else was sent meanwhile");
        gate.release(1);
    }
    load.await.unwrap().unwrap();
    assert_eq!((moto.proxy.total(), gate.peak()), (3, 1));
}

#[tokio::test]
async fn spans_name_requests_and_never_values() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/db", key = "password")]
        password: String,
        #[ecs(secret = "{p}/db", key = "missing")]
        missing: String,
        #[ecs(secret = "{p}/text", key = "k")]
        not_json: String,
        #[ecs(ssm = "/{p}/token")]
        token: String,
        #[ecs(secret = "{p}/pinned", version_stage = "AWSPREVIOUS")]
        pinned: String,
    }
    let Some(moto) = Moto::start("spans").await else {
        return;
    };
    const CANARY: &str = "CANARY-d41c07";
    moto.secret("/db", &format!(r#"{{"password":"{CANARY}-pw"}}"#))
        .await;
    moto.secret("/text", &format!("{CANARY}-text")).await;
    moto.param("/token", &format!("{CANARY}-token")).await;
    let pinned = moto.secret("/pinned", &format!("{CANARY}-1")).await;
    testkit::put_secret_value(&moto.direct, &pinned, &format!("{CANARY}-2")).await;
    // Throttled on every attempt: falls back to GetSecretValue.
    moto.fault(BATCH, 3, FaultKind::Throttle);

    // Everything, the SDK's own trace output included.
    let (captured, guard) = capture_trace();
    let e = loader(&moto).fetch::<Config>().await.unwrap_err();
    drop(guard);
    assert_eq!(
        codes(&e),
        [("MISSING", "JsonKeyMissing"), ("NOT_JSON", "NotJson")]
    );

    let log = captured.text();
    assert!(
        !log.contains("d41c07"),
        "a value reached the tracing output"
    );
    let ours: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("ecs_secrets.aws.request{")
                && l.contains("ecs_secrets::aws::engine::failure: close")
        })
        .collect();
    let p = &moto.prefix;
    for (op, id, outcome) in [
        ("BatchGetSecretValue", format!("{SM}{p}/db"), "fallback"),
        ("GetSecretValue", format!("{SM}{p}/db"), "ok"),
        (
            "GetSecretValue",
            format!("{SM}{p}/pinned (stage AWSPREVIOUS)"),
            "ok",
        ),
        (
            "GetParameters",
            format!("arn:aws:ssm:us-east-1:123456789012:parameter/{p}/token"),
            "ok",
        ),
    ] {
        let line = ours
            .iter()
            .find(|l| l.contains(&format!("op=\"{op}\"")) && l.contains(&id))
            .unwrap_or_else(|| panic!("no span for {op} {id} in:\n{}", ours.join("\n")));
        assert!(line.contains(&format!("outcome=\"{outcome}\"")), "{line}");
        assert!(line.contains("duration_ms="), "{line}");
        assert!(line.contains("count="), "{line}");
    }
    assert_eq!(ours.len(), 5, "one span per request:\n{}", ours.join("\n"));
    assert!(
        log.lines().any(|l| l.contains("ecs_secrets.aws.load{")
            && l.contains("requests=5")
            && l.contains("errors=2")
            && l.contains("ecs_secrets::aws::answers: close")),
        "the load's span has the totals:\n{log}"
    );
}

/// One secret named twice, by partial and by complete ARN: one id is sent, and its answer
/// serves both fields, even when AWS answers once for the secret.
#[tokio::test]
async fn one_secret_by_partial_and_complete_arn_is_one_answer() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Twice {
        #[ecs(secret = "{p}/db", key = "password")]
        by_name: String,
        #[ecs(
            secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{p}/db-{suffix}",
            key = "username"
        )]
        by_arn: String,
    }
    let Some(moto) = Moto::start("twice").await else {
        return;
    };
    let arn = moto
        .secret("/db", r#"{"username":"u","password":"pw"}"#)
        .await;
    let suffix = &arn[arn.len() - 6..];
    // However many ids were sent, AWS answers each secret once.
    moto.fault(
        BATCH,
        1,
        FaultKind::rewrite(|mut answer: Value| {
            if let Some(values) = answer["SecretValues"].as_array_mut() {
                values.truncate(1);
            }
            answer
        }),
    );
    let vars = Vars::new().with("p", &moto.prefix).with("suffix", suffix);
    let c = loader(&moto).vars(vars).fetch::<Twice>().await.unwrap();
    assert_eq!((c.by_name.as_str(), c.by_arn.as_str()), ("pw", "u"));
    assert_eq!(moto.counts(), [1, 0, 0]);
    let sent = &moto.proxy.bodies(BATCH)[0]["SecretIdList"];
    assert_eq!(sent, &json!([arn]), "one id for the one secret");
}

/// A `BatchGetSecretValue` answer with `NextToken` is followed: the next page is asked for with
/// the same ids and the token, and its answers count.
#[tokio::test]
async fn batch_pages_are_followed() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Three {
        #[ecs(secret = "{p}/a")]
        a: String,
        #[ecs(secret = "{p}/b")]
        b: String,
        #[ecs(secret = "{p}/c")]
        c: String,
    }
    let Some(moto) = Moto::start("pages").await else {
        return;
    };
    for name in ["a", "b", "c"] {
        moto.secret(&format!("/{name}"), name).await;
    }
    // The first page holds one secret and a token; the second (moto's whole answer) the rest.
    moto.fault(
        BATCH,
        1,
        FaultKind::rewrite(|mut answer: Value| {
            if let Some(values) = answer["SecretValues"].as_array_mut() {
                values.truncate(1);
            }
            // moto's tokens are offsets into the list it answers.
            answer["NextToken"] = json!("1");
            answer
        }),
    );
    let c = loader(&moto).fetch::<Three>().await.unwrap();
    assert_eq!((c.a.as_str(), c.b.as_str(), c.c.as_str()), ("a", "b", "c"));
    assert_eq!(moto.counts(), [2, 0, 0]);
    let bodies = moto.proxy.bodies(BATCH);
    assert_eq!(bodies[0].get("NextToken"), None);
    assert_eq!(bodies[1]["NextToken"], "1");
    assert_eq!(bodies[1]["SecretIdList"], bodies[0]["SecretIdList"]);
}

/// An item that a batch answers neither with a value nor with an error is fetched again with
/// `GetSecretValue` before anything is reported.
#[tokio::test]
async fn an_item_missing_from_a_batch_answer_is_fetched_alone() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Two {
        #[ecs(secret = "{p}/a")]
        a: String,
        #[ecs(secret = "{p}/b")]
        b: String,
    }
    let Some(moto) = Moto::start("missing-item").await else {
        return;
    };
    moto.secret("/a", "a").await;
    moto.secret("/b", "b").await;
    moto.fault(
        BATCH,
        1,
        FaultKind::rewrite(|mut answer: Value| {
            if let Some(values) = answer["SecretValues"].as_array_mut() {
                values.truncate(1);
            }
            answer
        }),
    );
    let c = loader(&moto).fetch::<Two>().await.unwrap();
    assert_eq!((c.a.as_str(), c.b.as_str()), ("a", "b"));
    assert_eq!(
        moto.counts(),
        [1, 1, 0],
        "one batch, then the missing one alone"
    );
}
