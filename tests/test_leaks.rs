//! Leak canaries (RELIABILITY.md) for direct loading (feature `aws`): every planted secret value is
//! a unique canary, and none may appear in any output — the `Display` and `Debug` of every result
//! (loaded structs and errors), panic messages, or anything `tracing` emits at TRACE level, the
//! AWS SDK's own output included — through the load paths and the fault matrix.
//!
//! Each canary carries the marker [`MARK`] at its start, middle and end, so that a fragment of a
//! value (half a truncated answer) is caught as well as a whole one.
#![cfg(feature = "aws")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ecs_secrets::aws::Loader;
use ecs_secrets::{EcsSecrets, Secret, Vars};
use ecs_secrets_testkit::{self as testkit, Captured, FaultKind, Gate, Moto, bounded};
use serde_json::{Value, json};

#[path = "support/common.rs"]
mod common;
use common::{SM, assert_clean, capture_trace, loader, lookup, outputs};
use testkit::{BATCH, GET, PARAMS};

/// In every canary, three times; in nothing else.
const MARK: &str = "q7Lk3z";

/// A named fault, armed afresh for each scenario.
type Scenario = (&'static str, fn() -> FaultKind);

/// A new canary: `q7Lk3z-<n>-q7Lk3z-<tag>-q7Lk3z`.
fn canary(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{MARK}-{n}-{MARK}-{tag}-{MARK}")
}

/// Panic messages of the whole process (a panicking request task is one; so is a test's own
/// failed assertion, which is why those never quote a canary).
fn panics() -> &'static Mutex<String> {
    static PANICS: OnceLock<Mutex<String>> = OnceLock::new();
    PANICS.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut p) = panics().lock() {
                p.push_str(&format!("{info}\n"));
            }
            previous(info);
        }));
        Mutex::new(String::new())
    })
}

/// A TRACE subscriber for this thread (the tests' runtime is single-threaded, so the loader's
/// tasks and the SDK run on it), with span open/close events and their fields.
struct Harness {
    log: Captured,
    outputs: String,
    /// The capture's guard.
    _guard: Box<dyn std::any::Any>,
}

impl Harness {
    fn new() -> Harness {
        let _ = panics();
        let (log, guard) = capture_trace();
        Harness {
            log,
            outputs: String::new(),
            _guard: Box::new(guard),
        }
    }

    /// Records every rendering of a load's result; returns it.
    fn record<T: std::fmt::Debug>(
        &mut self,
        scenario: &str,
        r: Result<T, ecs_secrets::Error>,
    ) -> Result<T, ecs_secrets::Error> {
        self.outputs
            .push_str(&format!("== {scenario}\n{r:?}\n{}\n", outputs(&r)));
        if let Err(e) = &r {
            for fe in e.errors() {
                self.outputs
                    .push_str(&format!("{fe}\n{fe:?}\n{}\n{:?}\n", fe.kind, fe.kind));
            }
        }
        r
    }

    /// The final check: outputs, the trace log and panics are clean, and the log really holds
    /// the SDK's TRACE output and our spans (so the capture works).
    fn check(self) {
        assert_clean("a Display/Debug output", &self.outputs, &[MARK]);
        let log = self.log.text();
        assert_clean("the tracing output", &log, &[MARK]);
        assert_clean("a panic message", &panics().lock().unwrap(), &[MARK]);
        assert!(log.contains("TRACE"), "no TRACE output captured");
        assert!(
            log.contains("aws_smithy_runtime"),
            "the SDK's own output was not captured"
        );
        assert!(log.contains("ecs_secrets.aws.request"), "no request spans");
    }
}

/// Every kind of sourced field, all `Secret`s, so a loaded struct's `Debug` must be clean too.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Everything {
    #[ecs(secret = "{p}/whole")]
    whole: Secret<String>,
    #[ecs(secret = "{p}/db", key = "password")]
    password: Secret<String>,
    #[ecs(secret = "{p}/db", key = "port")]
    port: Secret<u16>,
    #[ecs(secret = "{p}/db", version_stage = "AWSPREVIOUS")]
    previous: Secret<String>,
    #[ecs(ssm = "/{p}/token")]
    token: Secret<String>,
    #[ecs(secret = "{p}/json", json)]
    json: Secret<String>,
    #[ecs(ssm = "/{p}/absent")]
    absent: Option<Secret<String>>,
    #[ecs(default = "3000")]
    plain: u16,
}

/// Fixtures for [`Everything`], each value a fresh canary.
async fn everything(prefix: &str) -> Option<Moto> {
    let moto = Moto::start(prefix).await?;
    moto.secret("/whole", &canary("whole")).await;
    let db = moto
        .secret(
            "/db",
            &json!({"password": canary("old-password"), "port": "1"}).to_string(),
        )
        .await;
    let current = json!({"password": canary("password"), "port": "5432"}).to_string();
    testkit::put_secret_value(&moto.direct, &db, &current).await;
    moto.param("/token", &canary("token")).await;
    moto.secret("/json", &json!(canary("json")).to_string())
        .await;
    Some(moto)
}

fn assert_loaded(c: &Everything) {
    // The canaries really went through: the capture is not vacuously clean.
    for s in [&c.whole, &c.password, &c.previous, &c.token, &c.json] {
        assert!(s.expose_secret().contains(MARK));
    }
    assert_eq!(*c.port.expose_secret(), 5432);
    assert!(c.absent.is_none());
    assert_eq!(c.plain, 3000);
}

/// Fields whose secret values fail in every way the loader can fail on a value.
#[derive(Debug, EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
struct Broken {
    #[ecs(secret = "{p}/db", key = "password")]
    number: u16,
    #[ecs(secret = "{p}/db", key = "password")]
    secret_number: Secret<u16>,
    #[ecs(secret = "{p}/db", key = "password")]
    echo: Echo,
    #[ecs(secret = "{p}/db", key = "password", json)]
    json: Vec<u8>,
    #[ecs(secret = "{p}/db", key = "nokey")]
    missing_key: Secret<String>,
    #[ecs(secret = "{p}/text", key = "k")]
    not_json: Secret<String>,
    #[ecs(secret = "{p}/array", key = "k")]
    not_object: Secret<String>,
    #[ecs(secret = "{p}/range", key = "k")]
    out_of_range: Secret<String>,
    #[ecs(secret = "{p}/cut", key = "k")]
    cut: Secret<String>,
    #[ecs(secret = "{p}/binary")]
    binary: Secret<String>,
    #[ecs(ssm = "/{p}/token")]
    token_number: u64,
}

/// A parser that quotes its input in its error, as many do.
#[derive(Debug)]
struct Echo;

impl std::str::FromStr for Echo {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Err(format!("cannot parse '{s}' ({s:?})"))
    }
}

/// Fixtures for [`Broken`] under `{p}/broken`: a value that fails in each way.
async fn broken(moto: &Moto) -> Loader {
    let db = json!({"password": format!("{}\"\n\\", canary("bad"))}).to_string();
    moto.secret("/broken/db", &db).await;
    moto.secret("/broken/text", &canary("text")).await;
    moto.secret("/broken/array", &json!([canary("array")]).to_string())
        .await;
    let range = format!(r#"{{"k":"{}","n":1e999}}"#, canary("range"));
    moto.secret("/broken/range", &range).await;
    let cut = format!(r#"{{"k":"{}"#, canary("cut"));
    moto.secret("/broken/cut", &cut).await;
    testkit::create_binary_secret(
        &moto.direct,
        &moto.name("/broken/binary"),
        canary("binary").as_bytes(),
    )
    .await;
    moto.param("/broken/token", &canary("token-number")).await;
    loader(moto).vars(Vars::new().with("p", format!("{}/broken", moto.prefix)))
}

#[tokio::test]
async fn load_paths_never_leak() {
    let Some(moto) = everything("leak-load").await else {
        return;
    };
    let broken_options = broken(&moto).await;
    // Capture from here on: the fixtures above are test setup, not the code under test.
    let mut h = Harness::new();

    let c = h
        .record(
            "from_aws",
            bounded("the load", loader(&moto).fetch::<Everything>()).await,
        )
        .unwrap();
    assert_loaded(&c);

    // load(): some variables set (ECS injected them), the rest fetched.
    let (whole, token) = (canary("env-whole"), canary("env-token"));
    let options = loader(&moto).lookup(lookup(&[("WHOLE", &whole), ("TOKEN", &token)]));
    h.outputs.push_str(&format!("{options:?}\n"));
    let c = h
        .record(
            "load",
            bounded("the load", options.load::<Everything>()).await,
        )
        .unwrap();
    assert!(c.whole.expose_secret().contains("env-whole"));
    assert_loaded(&c);

    // Every way a value can fail, each one quoted nowhere.
    let e = h
        .record(
            "broken",
            bounded("the load", broken_options.fetch::<Broken>()).await,
        )
        .unwrap_err();
    let codes: Vec<&str> = e.errors().iter().map(|e| e.kind.code()).collect();
    assert_eq!(
        codes,
        [
            "Invalid",
            "Invalid",
            "Invalid",
            "InvalidJson",
            "JsonKeyMissing",
            "NotJson",
            "NotObject",
            "NotJson",
            "NotJson",
            "BinarySecret",
            "Invalid"
        ]
    );
    h.check();
}

/// The harness itself: a value that does reach an output is caught, and the failure message
/// does not repeat it.
#[test]
fn the_harness_catches_a_leak() {
    #[derive(Debug, EcsSecrets)]
    struct Plain {
        /// A plain field: its `Debug` shows the value, by design.
        token: String,
    }
    let value = canary("control");
    let mut h = Harness::new();
    let loaded = Plain::from_lookup(|_| Some(value.clone()));
    assert_eq!(h.record("plain", loaded).unwrap().token, value);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.check()));
    let message = caught.expect_err("the leak went unnoticed");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.starts_with("a canary leaked into a Display/Debug output, line "),
        "{}",
        message.replace(MARK, "<MARK>")
    );
    assert!(!message.contains(MARK));
}

#[tokio::test]
async fn the_fault_matrix_never_leaks() {
    let Some(moto) = everything("leak-faults").await else {
        return;
    };
    let mut h = Harness::new();
    let all = [BATCH, GET, PARAMS];

    // Recovered faults: each value arrives after a failed attempt.
    let recovered: [Scenario; 4] = [
        ("throttled", || FaultKind::Throttle),
        ("reset", || FaultKind::Reset),
        ("truncated", || FaultKind::TruncateBody),
        ("500", || {
            FaultKind::json_error(500, "InternalServiceError", "try again")
        }),
    ];
    for (scenario, kind) in recovered {
        for target in all {
            moto.fault(target, 1, kind());
        }
        let r = bounded("the load", loader(&moto).fetch::<Everything>()).await;
        assert_loaded(&h.record(scenario, r).unwrap());
        assert_eq!(moto.proxy.pending_faults(), 0, "{scenario}");
    }

    // The batch refused: the fallback fetches each secret alone.
    moto.fault(BATCH, 1, FaultKind::Throttle);
    let r = bounded("the load", loader(&moto).fetch::<Everything>()).await;
    assert_loaded(&h.record("fallback", r).unwrap());

    // Faults on every attempt: errors, whose texts must not carry the half-read answers.
    let failing: [Scenario; 3] = [
        ("truncated always", || FaultKind::TruncateBody),
        ("reset always", || FaultKind::Reset),
        ("503 always", || {
            FaultKind::json_error(503, "ServiceUnavailable", "later")
        }),
    ];
    for (scenario, kind) in failing {
        for target in all {
            moto.fault(target, 3, kind());
        }
        let r = bounded("the load", loader(&moto).fetch::<Everything>()).await;
        assert!(h.record(scenario, r).is_err(), "{scenario}");
        moto.proxy.clear_faults();
    }

    // Answers that hold values and never come: abandoned by the attempt timeout, then by the
    // deadline.
    let never = Gate::new();
    for target in all {
        moto.fault(target, 3, FaultKind::Hold(never.clone()));
    }
    let slow = loader(&moto).attempt_timeout(Duration::from_millis(200));
    let r = bounded("the load", slow.fetch::<Everything>()).await;
    assert!(h.record("attempt timeouts", r).is_err());
    moto.proxy.clear_faults();
    for target in all {
        moto.fault(target, 1, FaultKind::Hold(never.clone()));
    }
    let late = loader(&moto).deadline(Duration::from_millis(500));
    let r = bounded("the load", late.fetch::<Everything>()).await;
    assert!(h.record("deadline", r).is_err());
    moto.proxy.clear_faults();

    // A 200 the SDK cannot read, holding a value in its broken JSON.
    let broken = format!(
        r#"{{"SecretValues":[{{"SecretString":"{}"#,
        canary("garbage")
    );
    let garbage = move || FaultKind::Status(200, broken.clone(), testkit::AWS_JSON.into());
    moto.fault(BATCH, 1, garbage());
    let r = bounded("the load", loader(&moto).fetch::<Everything>()).await;
    assert!(h.record("garbage", r).is_err());

    // Partial `Errors`, and an entry for a secret nobody asked for (its value is dropped).
    let p = moto.prefix.clone();
    let stray = canary("stray");
    moto.fault(
        BATCH,
        1,
        FaultKind::rewrite(move |mut answer: Value| {
            let whole = json!(format!("{p}/whole"));
            if let Some(values) = answer["SecretValues"].as_array_mut() {
                values.retain(|v| v["Name"] != whole);
                values.push(json!({
                    "ARN": format!("{SM}{p}/stray-AbCdEf"),
                    "Name": format!("{p}/stray"),
                    "SecretString": stray,
                }));
            }
            answer["Errors"] = json!([{
                "SecretId": format!("{SM}{p}/whole"),
                "ErrorCode": "DecryptionFailure",
                "Message": "Secrets Manager can't decrypt the protected secret text",
            }]);
            answer
        }),
    );
    let r = bounded("the load", loader(&moto).fetch::<Everything>()).await;
    let e = h.record("partial errors", r).unwrap_err();
    assert_eq!(e.errors().len(), 1);
    assert_eq!(e.errors()[0].kind.code(), "DecryptionFailure");
    h.check();
}
