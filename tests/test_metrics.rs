//! The `metrics` feature against the local AWS endpoint (moto, started by `scripts/test`),
//! faults injected at the proxy, every metric read back through metrics-util's debugging
//! recorder: requests by operation and outcome, attempts, retries and throttles counted by the
//! SDK interceptor, a watch's refreshes and value age; and no label that names a secret.
//!
//! One test: the recorder is process-wide, so the steps run one after the other and each
//! asserts the difference it made.
#![cfg(feature = "metrics")]

use std::collections::BTreeMap;

use ecs_secrets::aws::WatchOptions;
use ecs_secrets::{EcsSecrets, Secret};
use ecs_secrets_testkit::{self as testkit, FaultKind, Moto};
use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

#[path = "support/common.rs"]
mod common;
use common::{NEVER, loader};
use testkit::{BATCH, PARAMS};

#[allow(dead_code)] // read through the load only
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Observed {
    #[ecs(secret = "{p}/db", key = "password")]
    password: Secret<String>,
    #[ecs(secret = "{p}/api")]
    api_key: Secret<String>,
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
}

#[allow(dead_code)]
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Missing {
    #[ecs(secret = "{p}/nothing-here")]
    absent: Option<String>,
}

/// Every metric as `name{label=value,…}` → its value (counters and gauges) since the last
/// read: the debugging recorder hands out each counter's growth and resets it.
fn read(snapshotter: &Snapshotter) -> BTreeMap<String, f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let k = key.key();
            let labels: Vec<String> = k
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            #[allow(clippy::cast_precision_loss)]
            let value = match value {
                DebugValue::Counter(n) => n as f64,
                DebugValue::Gauge(g) => g.into_inner(),
                DebugValue::Histogram(h) => h.len() as f64,
            };
            let kind = match key.kind() {
                MetricKind::Counter => "",
                MetricKind::Gauge => "gauge:",
                MetricKind::Histogram => "histogram:",
            };
            (format!("{kind}{}{{{}}}", k.name(), labels.join(",")), value)
        })
        .collect()
}

/// The counters of a [`read`] that grew.
fn grown(read: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    read.iter()
        .filter(|(k, v)| !k.starts_with("gauge:") && **v > 0.0)
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

fn expect(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

#[tokio::test]
async fn requests_retries_throttles_and_refreshes_are_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this test binary");
    let Some(moto) = Moto::start("metrics").await else {
        return;
    };
    moto.secret("/db", r#"{"password":"pw-1"}"#).await;
    moto.secret("/api", "key-1").await;
    moto.param("/flag", "on").await;
    let first = loader(&moto);
    // A fresh loader of the same settings: each step starts with batching on (a throttled batch
    // pauses batching for the loader and its clones).
    let fresh = || loader(&moto);

    // A throttled batch is not retried: its secrets are fetched one by one at once.
    read(&snapshotter);
    moto.fault(BATCH, 1, FaultKind::Throttle);
    first.fetch::<Observed>().await.unwrap();
    assert_eq!(
        grown(&read(&snapshotter)),
        expect(&[
            (
                "ecs_secrets_attempts_total{operation=BatchGetSecretValue}",
                1.0
            ),
            ("ecs_secrets_attempts_total{operation=GetParameters}", 1.0),
            ("ecs_secrets_attempts_total{operation=GetSecretValue}", 2.0),
            (
                "ecs_secrets_requests_total{operation=BatchGetSecretValue,outcome=throttled}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetParameters,outcome=ok}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetSecretValue,outcome=ok}",
                2.0
            ),
            (
                "ecs_secrets_throttles_total{operation=BatchGetSecretValue}",
                1.0
            ),
        ])
    );

    // A throttled GetSecretValue is sent again by the loader itself (the SDK leaves throttled
    // loads to it): a throttled request, a retry, and the answer.
    moto.fault(testkit::GET, 1, FaultKind::Throttle);
    fresh().batching(false).fetch::<Observed>().await.unwrap();
    assert_eq!(
        grown(&read(&snapshotter)),
        expect(&[
            ("ecs_secrets_attempts_total{operation=GetParameters}", 1.0),
            ("ecs_secrets_attempts_total{operation=GetSecretValue}", 3.0),
            (
                "ecs_secrets_requests_total{operation=GetParameters,outcome=ok}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetSecretValue,outcome=ok}",
                2.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetSecretValue,outcome=throttled}",
                1.0
            ),
            ("ecs_secrets_retries_total{operation=GetSecretValue}", 1.0),
            ("ecs_secrets_throttles_total{operation=GetSecretValue}", 1.0),
        ])
    );

    // With the caller's own retry policy the SDK retries throttling, and gives up after its
    // three attempts.
    moto.fault(PARAMS, usize::MAX, FaultKind::Throttle);
    let standard = aws_config::retry::RetryConfig::standard();
    fresh()
        .retry_config(standard)
        .fetch::<Observed>()
        .await
        .unwrap_err();
    moto.proxy.clear_faults();
    assert_eq!(
        grown(&read(&snapshotter)),
        expect(&[
            (
                "ecs_secrets_attempts_total{operation=BatchGetSecretValue}",
                1.0
            ),
            ("ecs_secrets_attempts_total{operation=GetParameters}", 3.0),
            (
                "ecs_secrets_requests_total{operation=BatchGetSecretValue,outcome=ok}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetParameters,outcome=throttled}",
                1.0
            ),
            ("ecs_secrets_retries_total{operation=GetParameters}", 2.0),
            ("ecs_secrets_throttles_total{operation=GetParameters}", 3.0),
        ])
    );

    // A denied batch (not retried) falls back to one GetSecretValue per secret; a missing
    // secret is `not_found`.
    moto.fault(BATCH, 1, FaultKind::AccessDenied);
    let denied = fresh();
    denied.fetch::<Observed>().await.unwrap();
    let missing = denied.clone().batching(false).fetch::<Missing>().await;
    assert_eq!(missing.unwrap().absent, None);
    assert_eq!(
        grown(&read(&snapshotter)),
        expect(&[
            (
                "ecs_secrets_attempts_total{operation=BatchGetSecretValue}",
                1.0
            ),
            ("ecs_secrets_attempts_total{operation=GetParameters}", 1.0),
            ("ecs_secrets_attempts_total{operation=GetSecretValue}", 3.0),
            (
                "ecs_secrets_requests_total{operation=BatchGetSecretValue,outcome=denied}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetParameters,outcome=ok}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetSecretValue,outcome=not_found}",
                1.0
            ),
            (
                "ecs_secrets_requests_total{operation=GetSecretValue,outcome=ok}",
                2.0
            ),
        ])
    );

    // A watch: its version checks, one successful and one failed refresh, and its value's age.
    let watch = first
        .watch::<Observed>(WatchOptions::new().interval(NEVER))
        .await
        .unwrap();
    read(&snapshotter);
    assert_eq!(watch.refresh_now().await, Ok(None));
    moto.fault(PARAMS, usize::MAX, FaultKind::AccessDenied);
    watch.refresh_now().await.unwrap_err();
    moto.proxy.clear_faults();
    let now = read(&snapshotter);
    let refreshes = grown(&now);
    assert_eq!(
        (
            refreshes.get("ecs_secrets_refreshes_total{outcome=ok}"),
            refreshes.get("ecs_secrets_refreshes_total{outcome=failed}"),
            refreshes.get("ecs_secrets_requests_total{operation=DescribeSecret,outcome=ok}"),
        ),
        (Some(&1.0), Some(&1.0), Some(&4.0)),
        "{refreshes:#?}"
    );
    let age = now["gauge:ecs_secrets_value_age_seconds{config=Observed}"];
    assert!((0.0..60.0).contains(&age), "{age}");
    let loaded = now["gauge:ecs_secrets_last_success_seconds{config=Observed}"];
    assert!(loaded > 1.7e9, "a Unix time: {loaded}");

    // Labels: operation, outcome, config; never a name of the test's secrets or parameters.
    for key in now.keys() {
        assert!(key.contains("ecs_secrets_"), "{key}");
        assert!(!key.contains(&moto.prefix), "a name in a label: {key}");
        let labels = key.split_once('{').unwrap().1.trim_end_matches('}');
        for label in labels.split(',') {
            let name = label.split('=').next().unwrap();
            assert!(["operation", "outcome", "config"].contains(&name), "{key}");
        }
    }
}
