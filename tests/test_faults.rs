//! The fault matrix (RELIABILITY.md, "Faults on the AWS path") for direct loading (feature `aws`), against moto through the
//! testkit's fault-injecting proxy. Each fault has one defined outcome — recovered by the SDK's
//! retries (with the exact number of attempts the proxy saw), a fallback taken, or an error on
//! exactly the fields it touched — and every load is bounded by `tokio::time::timeout`, so a hang
//! fails the test instead of stalling it. No field ever silently gets a default or `None`. No
//! outcome depends on the machine's speed: an answer that must be too slow is held at the proxy
//! for good, and a timeout that a healthy attempt must beat is generous.
//!
//! Cases `tests/test_aws_faults.rs` and `tests/test_aws_direct.rs` already cover are not repeated
//! here (RELIABILITY.md lists them): AccessDenied on one secret of a batch, a denied or throttled
//! batch falling back, throttled and slow `GetParameters`, the deadline, a 500 on every attempt of
//! `GetSecretValue`, SSM `InvalidParameters`, and secrets that are not JSON, not an object, lack
//! the key or are binary.
#![cfg(feature = "aws")]

use std::time::Duration;

use ecs_secrets::{EcsSecrets, Secret};
use ecs_secrets_testkit::{self as testkit, FaultKind, Gate, Moto, PATIENCE, bounded};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
use common::{SM, codes, loader, reason};
use testkit::{BATCH, GET, PARAMS};

/// One secret batched, one pinned (so fetched with `GetSecretValue`), one parameter.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Three {
    #[ecs(secret = "{p}/db", key = "password")]
    password: Secret<String>,
    #[ecs(secret = "{p}/db", version_stage = "AWSPREVIOUS")]
    previous: Secret<String>,
    #[ecs(ssm = "/{p}/token")]
    token: Secret<String>,
}

async fn three(prefix: &str) -> Option<Moto> {
    let moto = Moto::start(prefix).await?;
    let db = moto.secret("/db", r#"{"password":"old"}"#).await;
    testkit::put_secret_value(&moto.direct, &db, r#"{"password":"pw"}"#).await;
    moto.param("/token", "tok").await;
    Some(moto)
}

fn assert_three(c: &Three) {
    assert_eq!(c.password.expose_secret(), "pw");
    assert_eq!(c.previous.expose_secret(), r#"{"password":"old"}"#);
    assert_eq!(c.token.expose_secret(), "tok");
}

// ---------------------------------------------------------------------------------------------
// Transient faults: recovered by the SDK's retries, each attempt counted.

#[tokio::test]
async fn server_errors_500_and_503_are_retried_until_they_pass() {
    let Some(moto) = three("retry-5xx").await else {
        return;
    };
    moto.fault(
        BATCH,
        1,
        FaultKind::json_error(500, "InternalServiceError", "try again"),
    );
    moto.fault(
        GET,
        2,
        FaultKind::json_error(503, "ServiceUnavailable", "slow down"),
    );
    // A 503 from something in between (a load balancer): not AWS JSON at all.
    moto.fault(
        PARAMS,
        2,
        FaultKind::Status(
            503,
            "<html>Service Unavailable</html>".into(),
            "text/html".into(),
        ),
    );
    let c = bounded("the load", loader(&moto).fetch::<Three>())
        .await
        .unwrap();
    assert_three(&c);
    assert_eq!(
        moto.counts(),
        [2, 3, 3],
        "one retry, two retries, two retries"
    );
    assert_eq!(moto.proxy.pending_faults(), 0);
}

#[tokio::test]
async fn connection_resets_are_retried() {
    let Some(moto) = three("retry-reset").await else {
        return;
    };
    for target in [BATCH, GET, PARAMS] {
        moto.fault(target, 1, FaultKind::Reset);
    }
    let c = bounded("the load", loader(&moto).fetch::<Three>())
        .await
        .unwrap();
    assert_three(&c);
    assert_eq!(moto.counts(), [2, 2, 2]);
}

#[tokio::test]
async fn throttled_get_secret_value_is_retried() {
    let Some(moto) = three("retry-throttle").await else {
        return;
    };
    moto.fault(GET, 2, FaultKind::Throttle);
    let c = bounded("the load", loader(&moto).fetch::<Three>())
        .await
        .unwrap();
    assert_three(&c);
    assert_eq!(moto.counts(), [1, 3, 1]);
}

/// An attempt whose answer never comes is abandoned at the per-attempt timeout and retried: the
/// values arrive from the second attempts. (The timeout is generous, so that those beat it on
/// any machine.)
#[tokio::test]
async fn slow_secrets_manager_attempts_time_out_and_are_retried() {
    let Some(moto) = three("retry-slow").await else {
        return;
    };
    let never = Gate::new();
    moto.fault(BATCH, 1, FaultKind::Hold(never.clone()));
    moto.fault(GET, 1, FaultKind::Hold(never.clone()));
    let options = loader(&moto).attempt_timeout(PATIENCE);
    let c = bounded("the load", options.fetch::<Three>()).await.unwrap();
    assert_three(&c);
    assert_eq!(moto.counts(), [2, 2, 1]);
    assert_eq!(never.held(), 2, "the first answers never went out");
}

#[tokio::test]
async fn a_truncated_body_is_retried() {
    let Some(moto) = three("retry-truncated").await else {
        return;
    };
    for target in [BATCH, GET, PARAMS] {
        moto.fault(target, 1, FaultKind::TruncateBody);
    }
    let c = bounded("the load", loader(&moto).fetch::<Three>())
        .await
        .unwrap();
    assert_three(&c);
    assert_eq!(moto.counts(), [2, 2, 2]);
}

// ---------------------------------------------------------------------------------------------
// The same faults on every attempt: field-named errors, after exactly the attempts allowed.

/// Every field of a request that failed for good has the request's error; a `default` is not a
/// way out, and neither is `None` for an `Option` (only "not found" is).
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct Fallible {
    #[ecs(secret = "{p}/db", key = "password")]
    password: Secret<String>,
    #[ecs(secret = "{p}/db", key = "port", default = "5432")]
    port: u16,
    #[ecs(secret = "{p}/db", key = "user")]
    user: Option<String>,
    #[ecs(ssm = "/{p}/token")]
    token: Option<Secret<String>>,
}

async fn fallible(prefix: &str) -> Option<Moto> {
    let moto = Moto::start(prefix).await?;
    moto.secret("/db", r#"{"password":"pw","port":"1","user":"u"}"#)
        .await;
    moto.param("/token", "tok").await;
    Some(moto)
}

const FALLIBLE: [&str; 4] = ["PASSWORD", "PORT", "USER", "TOKEN"];

fn all_fields(code: &'static str) -> Vec<(&'static str, &'static str)> {
    FALLIBLE.iter().map(|env| (*env, code)).collect()
}

#[tokio::test]
async fn server_errors_on_every_attempt_are_errors_on_every_field() {
    let Some(moto) = fallible("fail-5xx").await else {
        return;
    };
    moto.fault(
        BATCH,
        3,
        FaultKind::json_error(503, "ServiceUnavailable", "slow down"),
    );
    moto.fault(
        PARAMS,
        3,
        FaultKind::json_error(500, "InternalServerError", "oops"),
    );
    let e = bounded("the load", loader(&moto).fetch::<Fallible>())
        .await
        .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("PASSWORD", "ServiceUnavailable"),
            ("PORT", "ServiceUnavailable"),
            ("USER", "ServiceUnavailable"),
            ("TOKEN", "InternalServerError"),
        ]
    );
    assert_eq!(
        reason(&e, "PASSWORD"),
        "BatchGetSecretValue failed: slow down"
    );
    assert_eq!(reason(&e, "TOKEN"), "GetParameters failed: oops");
    // A 5xx is not a reason to fall back to GetSecretValue.
    assert_eq!(moto.counts(), [3, 0, 3]);
}

#[tokio::test]
async fn a_reset_on_every_attempt_is_a_dispatch_failure() {
    let Some(moto) = fallible("fail-reset").await else {
        return;
    };
    moto.fault(BATCH, 3, FaultKind::Reset);
    moto.fault(PARAMS, 3, FaultKind::Reset);
    let e = bounded("the load", loader(&moto).fetch::<Fallible>())
        .await
        .unwrap_err();
    assert_eq!(codes(&e), all_fields("DispatchFailure"));
    let r = reason(&e, "PASSWORD");
    assert!(
        r.starts_with("BatchGetSecretValue could not be sent: "),
        "{r}"
    );
    assert_eq!(moto.counts(), [3, 0, 3]);
}

/// Answers that never come: each attempt is abandoned at the per-attempt timeout, and the load
/// ends after the attempts the policy allows (it could not wait for the answers: there are none).
#[tokio::test]
async fn slow_on_every_attempt_is_a_timeout_error_in_bounded_time() {
    let Some(moto) = fallible("fail-slow").await else {
        return;
    };
    let never = Gate::new();
    moto.fault(BATCH, 3, FaultKind::Hold(never.clone()));
    moto.fault(PARAMS, 3, FaultKind::Hold(never.clone()));
    let options = loader(&moto).attempt_timeout(Duration::from_millis(300));
    let e = bounded("the load", options.fetch::<Fallible>())
        .await
        .unwrap_err();
    assert_eq!(codes(&e), all_fields("TimeoutError"));
    assert_eq!(
        reason(&e, "PASSWORD"),
        "BatchGetSecretValue timed out (every attempt the retry policy allowed)"
    );
    assert_eq!(moto.counts(), [3, 0, 3]);
    assert_eq!(never.held(), 6);
}

#[tokio::test]
async fn a_truncated_body_on_every_attempt_is_an_error() {
    let Some(moto) = fallible("fail-truncated").await else {
        return;
    };
    moto.fault(BATCH, 3, FaultKind::TruncateBody);
    moto.fault(PARAMS, 3, FaultKind::TruncateBody);
    let e = bounded("the load", loader(&moto).fetch::<Fallible>())
        .await
        .unwrap_err();
    assert_eq!(codes(&e), all_fields("ResponseError"), "{e}");
    assert_eq!(
        reason(&e, "PASSWORD"),
        "BatchGetSecretValue got an answer that could not be read"
    );
    assert_eq!(moto.counts(), [3, 0, 3]);
}

/// A 200 whose body is not the JSON the SDK expects: an error on every field, not retried, never
/// a panic.
#[tokio::test]
async fn an_unreadable_answer_is_an_error() {
    let Some(moto) = fallible("fail-garbage").await else {
        return;
    };
    let garbage = || {
        FaultKind::Status(
            200,
            "{\"SecretValues\": 42".into(),
            testkit::AWS_JSON.into(),
        )
    };
    moto.fault(BATCH, 3, garbage());
    moto.fault(PARAMS, 3, garbage());
    let e = bounded("the load", loader(&moto).fetch::<Fallible>())
        .await
        .unwrap_err();
    // The SDK reports a 200 it cannot deserialize as an unhandled service error without a code
    // or message; the loader says no more, because the parser's message could quote the body.
    assert_eq!(codes(&e), all_fields("UnknownError"));
    assert_eq!(
        reason(&e, "PASSWORD"),
        "BatchGetSecretValue failed: no message"
    );
    assert_eq!(reason(&e, "TOKEN"), "GetParameters failed: no message");
    assert_eq!(moto.counts(), [1, 0, 1], "not retried");
}

/// Throttled on every attempt: the loader backs off and sends each request again until the
/// load's retry budget is spent (50 retries for each request of its plan, shared: 100 here), then
/// reports the throttling on every field, saying why it gave up and after how many attempts.
///
/// The deadline is far away, so the outcome is the same on any machine; the backoff's waits make
/// this test take about 15 s. Giving up because the next wait would pass the deadline is decided
/// against the clock, and tested so (`backoff`'s unit tests): against a real deadline, the last
/// attempt of a request may still be in flight when the deadline passes, and its fields then
/// fail with `DeadlineExceeded` instead, as the deadline promises.
#[tokio::test]
async fn throttled_on_every_attempt_after_the_fallback_is_an_error() {
    let Some(moto) = fallible("fail-throttle").await else {
        return;
    };
    // The batch falls back at once; GetSecretValue and GetParameters are throttled throughout.
    moto.fault(BATCH, 1, FaultKind::Throttle);
    moto.fault(GET, 10_000, FaultKind::Throttle);
    moto.fault(PARAMS, 10_000, FaultKind::Throttle);
    let patient = loader(&moto).deadline(Duration::from_secs(600));
    let e = tokio::time::timeout(Duration::from_secs(900), patient.fetch::<Fallible>())
        .await
        .expect("the budget ends the load long before this")
        .unwrap_err();
    assert_eq!(codes(&e), all_fields("ThrottlingException"));
    let [batches, gets, params] = moto.counts();
    assert_eq!(batches, 1, "a throttled batch is not retried");
    assert_eq!(
        gets + params,
        2 + 100,
        "two first attempts, then the budget"
    );
    for (env, op, attempts) in [
        ("PASSWORD", "GetSecretValue", gets),
        ("TOKEN", "GetParameters", params),
    ] {
        assert_eq!(
            reason(&e, env),
            format!(
                "{op} failed: Rate exceeded (throttled on {attempts} attempts; the load's \
                 retry budget is spent)"
            )
        );
    }
}

/// With a retry policy of the caller's, the SDK retries throttling by it, as before: 3 attempts
/// of the batch, then 3 of each request of the fallback.
#[tokio::test]
async fn a_callers_retry_policy_retries_throttling_itself() {
    let Some(moto) = fallible("fail-throttle-sdk").await else {
        return;
    };
    moto.fault(BATCH, 3, FaultKind::Throttle);
    moto.fault(GET, 3, FaultKind::Throttle);
    moto.fault(PARAMS, 3, FaultKind::Throttle);
    let retry = testkit::aws_config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(10));
    let sdk = loader(&moto).retry_config(retry);
    let e = bounded("the load", sdk.fetch::<Fallible>())
        .await
        .unwrap_err();
    assert_eq!(codes(&e), all_fields("ThrottlingException"));
    assert_eq!(
        reason(&e, "PASSWORD"),
        "GetSecretValue failed: Rate exceeded"
    );
    assert_eq!(moto.counts(), [3, 3, 3]);
}

/// HTTP 429 `TooManyRequestsException` on the batch is a quota answer: fall back.
#[tokio::test]
async fn too_many_requests_on_the_batch_falls_back() {
    let Some(moto) = fallible("fallback-429").await else {
        return;
    };
    moto.fault(
        BATCH,
        1,
        FaultKind::json_error(429, "TooManyRequestsException", "quota"),
    );
    let c = bounded("the load", loader(&moto).fetch::<Fallible>())
        .await
        .unwrap();
    assert_eq!(c.password.expose_secret(), "pw");
    assert_eq!((c.port, c.user.as_deref()), (1, Some("u")));
    assert_eq!(
        moto.counts(),
        [1, 1, 1],
        "at once, not after the SDK's retries"
    );
}

/// The role may neither batch nor read: the batch falls back, and the denial of each secret is
/// that secret's fields' error — an `Option` stays an error, a `default` is not used.
#[tokio::test]
async fn access_denied_on_the_batch_and_on_every_secret() {
    let Some(moto) = fallible("denied-all").await else {
        return;
    };
    moto.fault(BATCH, 1, FaultKind::AccessDenied);
    moto.fault(GET, 1, FaultKind::AccessDenied);
    moto.fault(PARAMS, 1, FaultKind::AccessDenied);
    let e = bounded("the load", loader(&moto).fetch::<Fallible>())
        .await
        .unwrap_err();
    assert_eq!(codes(&e), all_fields("AccessDeniedException"));
    assert!(
        reason(&e, "PASSWORD").starts_with("GetSecretValue failed: User: "),
        "{e}"
    );
    // AccessDenied is not retried.
    assert_eq!(moto.counts(), [1, 1, 1]);
}

// ---------------------------------------------------------------------------------------------
// Per-secret errors inside a successful `BatchGetSecretValue`, and KMS.

#[tokio::test]
async fn batch_errors_are_per_secret() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/ok")]
        ok: Secret<String>,
        #[ecs(secret = "{p}/kms", key = "k")]
        kms: Secret<String>,
        #[ecs(secret = "{p}/gone")]
        gone: Option<String>,
        #[ecs(secret = "{p}/gone", key = "k", default = "fallback")]
        gone_default: String,
        #[ecs(secret = "{p}/internal")]
        internal: String,
        #[ecs(secret = "{p}/lost")]
        lost: String,
    }
    let Some(moto) = Moto::start("batch-errors").await else {
        return;
    };
    moto.secret("/ok", "fine").await;
    for s in ["/kms", "/gone", "/internal", "/lost"] {
        moto.secret(s, r#"{"k":"v"}"#).await;
    }
    let p = moto.prefix.clone();
    let error = move |name: &str, code: &str| {
        json!({
            "SecretId": format!("{SM}{p}/{name}"),
            "ErrorCode": code,
            "Message": format!("{code} for this secret"),
        })
    };
    let p = moto.prefix.clone();
    moto.fault(
        BATCH,
        1,
        FaultKind::rewrite(move |mut answer: Value| {
            let keep = json!(format!("{p}/ok"));
            if let Some(values) = answer["SecretValues"].as_array_mut() {
                values.retain(|v| v["Name"] == keep);
            }
            // `lost` is in neither list: it is fetched again alone.
            answer["Errors"] = json!([
                error("kms", "DecryptionFailure"),
                error("gone", "ResourceNotFoundException"),
                error("internal", "InternalServiceError"),
            ]);
            answer
        }),
    );
    let e = bounded("the load", loader(&moto).fetch::<Config>())
        .await
        .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("KMS", "DecryptionFailure"),
            ("GONE_DEFAULT", "ResourceNotFoundException"),
            ("INTERNAL", "InternalServiceError"),
        ],
        "{e}"
    );
    assert_eq!(
        reason(&e, "KMS"),
        "BatchGetSecretValue returned an error for this secret: DecryptionFailure for this secret"
    );
    assert_eq!(e.errors()[0].source, format!("{SM}{}/kms:k::", moto.prefix));
    // Per-secret errors are answers, not failed requests: no retry, no fallback. The secret
    // the answer left out is asked for once more, alone.
    assert_eq!(moto.counts(), [1, 1, 0]);
    let asked: Vec<Value> = moto
        .proxy
        .bodies(GET)
        .iter()
        .map(|b| b["SecretId"].clone())
        .collect();
    assert_eq!(asked, [json!(format!("{SM}{}/lost", moto.prefix))]);
}

#[tokio::test]
async fn kms_decryption_failure_is_the_fields_error_and_not_retried() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/db", version_stage = "AWSPREVIOUS")]
        previous: Secret<String>,
        #[ecs(ssm = "/{p}/token")]
        token: Secret<String>,
    }
    let Some(moto) = Moto::start("kms").await else {
        return;
    };
    let db = moto.secret("/db", "one").await;
    testkit::put_secret_value(&moto.direct, &db, "two").await;
    moto.param("/token", "tok").await;
    moto.fault(
        GET,
        1,
        FaultKind::json_error(
            400,
            "DecryptionFailure",
            "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        ),
    );
    moto.fault(
        PARAMS,
        1,
        FaultKind::json_error(400, "InvalidKeyId", "The KMS key is disabled"),
    );
    let e = bounded("the load", loader(&moto).fetch::<Config>())
        .await
        .unwrap_err();
    assert_eq!(
        codes(&e),
        [("PREVIOUS", "DecryptionFailure"), ("TOKEN", "InvalidKeyId")]
    );
    assert_eq!(
        reason(&e, "PREVIOUS"),
        "GetSecretValue failed: Secrets Manager can't decrypt the protected secret text using \
         the provided KMS key."
    );
    assert_eq!(moto.counts(), [0, 1, 1]);
}

// ---------------------------------------------------------------------------------------------
// Size: Secrets Manager's largest secret, 65,536 bytes, whole and through a JSON key.

#[tokio::test]
async fn a_65536_byte_secret_loads_byte_for_byte() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/big")]
        whole: Secret<String>,
        #[ecs(secret = "{p}/big", key = "blob")]
        blob: Secret<String>,
        #[ecs(secret = "{p}/big", key = "n")]
        n: u32,
    }
    let Some(moto) = Moto::start("big").await else {
        return;
    };
    // `{"n":7,"blob":"…"}` of exactly 65,536 bytes, with escapes in the value.
    let head = r#"{"n":7,"blob":"\"\\"#;
    let fill = 65_536 - head.len() - r#""}"#.len();
    let secret = format!("{head}{}\"}}", "x".repeat(fill));
    assert_eq!(secret.len(), 65_536);
    moto.secret("/big", &secret).await;
    let c = bounded("the load", loader(&moto).fetch::<Config>())
        .await
        .unwrap();
    assert!(
        c.whole.expose_secret() == &secret,
        "whole secret, byte for byte"
    );
    let blob = c.blob.expose_secret();
    assert_eq!(blob.len(), 2 + fill);
    assert!(blob.starts_with("\"\\x") && blob.bytes().skip(2).all(|b| b == b'x'));
    assert_eq!(c.n, 7);
    assert_eq!(moto.counts(), [1, 0, 0]);
}
