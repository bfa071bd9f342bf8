//! Test support for `ecs-secrets`: the local AWS endpoint (moto, started by `scripts/test`), SDK
//! configuration for it, fixtures, a second independent client (the AWS CLI), and a [`Proxy`] that
//! counts requests and injects faults between the code under test and the endpoint.
//!
//! ```no_run
//! # async fn demo() {
//! let Some(ep) = ecs_secrets_testkit::endpoint() else { return };
//! let config = ecs_secrets_testkit::sdk_config(&ep).await;
//! let name = ecs_secrets_testkit::unique("db");
//! let arn = ecs_secrets_testkit::create_secret(&config, &name, r#"{"password":"pw"}"#).await;
//! # let _ = arn;
//! # }
//! ```
//!
//! Tests that need the endpoint fail without it, with a message naming `scripts/test`;
//! `ECS_SECRETS_SKIP_AWS_TESTS=1` skips them instead, loudly.

mod fault;
mod fixtures;
mod gate;
mod http;
mod proxy;
mod quota;

use std::future::Future;
use std::io;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::config::Credentials;

pub use fault::{AWS_JSON, Fault, FaultKind};
pub use fixtures::{create_binary_secret, create_secret, put_parameter, put_secret_value};
pub use gate::Gate;
pub use proxy::{Proxy, Seen};
pub use quota::Quota;

/// Re-exported so that tests need no direct dependency on the SDK crates.
pub use {aws_config, aws_sdk_secretsmanager, aws_sdk_ssm};

/// The variable `scripts/test` and `scripts/with-moto` set to moto's URL.
pub const ENDPOINT_VAR: &str = "ECS_SECRETS_TEST_ENDPOINT";
/// The variable that holds the path of the AWS CLI in the test venv.
pub const AWS_CLI_VAR: &str = "ECS_SECRETS_TEST_AWS_CLI";
/// Set to `1` to skip, loudly, the tests that need the local AWS endpoint.
pub const SKIP_VAR: &str = "ECS_SECRETS_SKIP_AWS_TESTS";
/// An attempt timeout or deadline that a healthy request through the proxy meets however busy
/// the machine is. A test that needs a client to give up pairs it with an answer held for good
/// (a [`Gate`] never opened), so that which comes first never depends on speed; the price is
/// that such a test waits this long.
pub const PATIENCE: Duration = Duration::from_secs(5);
/// The bound of every wait of a test for an event (an answer held, a load's end, a change): far
/// above what it takes on a busy machine, so reaching it means the event will not come.
pub const WAIT: Duration = Duration::from_secs(30);

/// Awaits `event`, failing the test if it has not happened within [`WAIT`]: a hang fails the
/// test instead of stalling the suite. `what` names the event in the failure.
///
/// # Panics
///
/// When `event` is not ready within [`WAIT`].
pub async fn bounded<F: Future>(what: &str, event: F) -> F::Output {
    match tokio::time::timeout(WAIT, event).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: nothing within {WAIT:?}"),
    }
}
/// The region every fixture and client of the testkit uses.
pub const REGION: &str = "us-east-1";
/// Moto's default account id, the one in every ARN it returns.
pub const ACCOUNT_ID: &str = "123456789012";

/// The URL of the local AWS endpoint, from `ECS_SECRETS_TEST_ENDPOINT`.
///
/// Use it as `let Some(ep) = ecs_secrets_testkit::endpoint() else { return };`.
///
/// # Panics
///
/// When the variable is unset, unless `ECS_SECRETS_SKIP_AWS_TESTS=1`: a test that needs the endpoint
/// must not pass silently without it. With the opt-out it prints `SKIPPED: …` to stderr and returns
/// `None`.
#[must_use]
pub fn endpoint() -> Option<String> {
    endpoint_from(|name| std::env::var(name).ok())
}

fn endpoint_from(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    if let Some(ep) = var(ENDPOINT_VAR).filter(|ep| !ep.is_empty()) {
        return Some(ep);
    }
    if var(SKIP_VAR).as_deref() == Some("1") {
        eprintln!(
            "\n*** SKIPPED: this test needs the local AWS endpoint ({ENDPOINT_VAR}); \
             skipped as requested by {SKIP_VAR}=1 ***\n"
        );
        return None;
    }
    panic!(
        "the local AWS endpoint is missing: {ENDPOINT_VAR} is not set. Run the tests through \
         `scripts/test` (or `scripts/with-moto cargo test ...`), which starts moto and sets it; \
         set {SKIP_VAR}=1 to skip the AWS tests instead"
    );
}

/// An SDK configuration for `endpoint`: region `us-east-1`, static dummy credentials, and fast
/// standard retries (3 attempts, 10 ms initial backoff) so a retry test costs milliseconds.
///
/// Region and credentials are given, so the loader never asks IMDS or an SSO portal.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(10));
    sdk_config_with(endpoint, retry, None).await
}

/// Like [`sdk_config`], with the caller's retry and timeout configuration.
pub async fn sdk_config_with(
    endpoint: &str,
    retry: RetryConfig,
    timeout: Option<TimeoutConfig>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "ecs-secrets-testkit",
        ))
        .endpoint_url(endpoint)
        .retry_config(retry);
    if let Some(timeout) = timeout {
        loader = loader.timeout_config(timeout);
    }
    loader.load().await
}

/// A name prefix no other test (in this or another process) uses: `PREFIX-pPID-TIME-N`.
///
/// The last piece is a short counter, so a name never ends in `-` plus 6 characters, the shape of
/// the random suffix of a full Secrets Manager ARN. The characters are valid in both secret and
/// parameter names.
#[must_use]
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{prefix}-p{}-{}-{n}", std::process::id(), base36(millis))
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII digits")
}

/// The AWS CLI of the test venv, already pointed at the local endpoint: `--endpoint-url`,
/// `--region us-east-1`, `--output json` and dummy credentials. Add the service and operation:
///
/// ```no_run
/// let out = ecs_secrets_testkit::aws_cli()
///     .args(["secretsmanager", "get-secret-value", "--secret-id", "db"])
///     .output()
///     .unwrap();
/// ```
///
/// A second client that shares no code with the SDK, for writing fixtures or checking state.
/// Each call costs ~0.7 s of Python start-up.
///
/// # Panics
///
/// When `ECS_SECRETS_TEST_ENDPOINT` or `ECS_SECRETS_TEST_AWS_CLI` is unset (run through
/// `scripts/test`).
#[must_use]
pub fn aws_cli() -> Command {
    let ep = std::env::var(ENDPOINT_VAR).unwrap_or_else(|_| {
        panic!("{ENDPOINT_VAR} is not set: run the tests through `scripts/test`")
    });
    let cli = std::env::var(AWS_CLI_VAR).unwrap_or_else(|_| {
        panic!("{AWS_CLI_VAR} is not set: run the tests through `scripts/test`")
    });
    let mut cmd = Command::new(cli);
    cmd.args([
        "--endpoint-url",
        &ep,
        "--region",
        REGION,
        "--output",
        "json",
    ])
    .env("AWS_ACCESS_KEY_ID", "testing")
    .env("AWS_SECRET_ACCESS_KEY", "testing")
    .env("AWS_DEFAULT_REGION", REGION)
    .env("AWS_EC2_METADATA_DISABLED", "true")
    .env("AWS_PAGER", "")
    .env_remove("AWS_PROFILE")
    .env_remove("AWS_SESSION_TOKEN");
    cmd
}

/// Registers `task_definition` (the `register-task-definition --cli-input-json` input) with the
/// AWS CLI, which validates it against the ECS API model, and returns what
/// `describe-task-definition --include TAGS` then says of it.
///
/// # Panics
///
/// As [`aws_cli_json`]; also when the input cannot be written to a temporary file or the answer
/// names no task definition.
#[must_use]
pub fn register_and_describe(task_definition: &serde_json::Value) -> serde_json::Value {
    let dir = std::env::temp_dir().join(unique("register"));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("task-definition.json");
    let text = serde_json::to_string_pretty(task_definition).expect("JSON serializes");
    std::fs::write(&path, text).expect("the temporary file is written");
    let input = format!("file://{}", path.display());
    let registered = aws_cli_json(&[
        "ecs",
        "register-task-definition",
        "--cli-input-json",
        &input,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let arn = registered["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .expect("register-task-definition names the new revision")
        .to_owned();
    aws_cli_json(&[
        "ecs",
        "describe-task-definition",
        "--task-definition",
        &arn,
        "--include",
        "TAGS",
    ])
}

/// Runs [`aws_cli`] with `args` and parses its JSON output (`null` when it prints nothing).
///
/// # Panics
///
/// When the CLI cannot be started, exits non-zero (the message carries its stderr), or prints
/// something other than JSON.
#[must_use]
pub fn aws_cli_json(args: &[&str]) -> serde_json::Value {
    let out = aws_cli()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the AWS CLI: {e}"));
    assert!(
        out.status.success(),
        "aws {} failed ({}): {}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.iter().all(u8::is_ascii_whitespace) {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "aws {} printed no JSON ({e}): {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `X-Amz-Target` of `BatchGetSecretValue`, as [`Proxy::count`] counts it.
pub const BATCH: &str = "secretsmanager.BatchGetSecretValue";
/// `X-Amz-Target` of `GetSecretValue`.
pub const GET: &str = "secretsmanager.GetSecretValue";
/// `X-Amz-Target` of SSM `GetParameters`.
pub const PARAMS: &str = "AmazonSSM.GetParameters";
/// `X-Amz-Target` of `DescribeSecret` (metadata, no value).
pub const DESCRIBE: &str = "secretsmanager.DescribeSecret";

/// Everything written to it, kept in memory: the writer of a `tracing` subscriber in the leak
/// tests (`.with_writer(move || captured.clone())`), read back with [`Captured::text`]. Clones
/// share one buffer.
#[derive(Clone, Debug, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// What was written so far, as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The usual harness of a test against moto: the endpoint, a counting [`Proxy`] in front of it,
/// and a unique name prefix for the test's fixtures.
#[derive(Debug)]
pub struct Moto {
    /// Straight to moto: for fixtures, so they are not counted.
    pub direct: SdkConfig,
    /// Through the proxy: for the code under test.
    pub config: SdkConfig,
    /// Counts, delays and breaks the requests of `config`.
    pub proxy: Proxy,
    /// Unique per call; the prefix of every name the test creates.
    pub prefix: String,
}

impl Moto {
    /// `None` when the endpoint is missing and skipping was asked for (see [`endpoint`]).
    pub async fn start(prefix: &str) -> Option<Moto> {
        let ep = endpoint()?;
        let proxy = Proxy::start(&ep);
        Some(Moto {
            direct: sdk_config(&ep).await,
            config: sdk_config(proxy.url()).await,
            proxy,
            prefix: unique(prefix),
        })
    }

    /// A fixture name under the test's prefix.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// Creates the string secret `{prefix}{suffix}` (not counted) and returns its full ARN.
    pub async fn secret(&self, suffix: &str, value: &str) -> String {
        create_secret(&self.direct, &self.name(suffix), value).await
    }

    /// Puts the SecureString parameter `/{prefix}{suffix}` (not counted).
    pub async fn param(&self, suffix: &str, value: &str) {
        put_parameter(
            &self.direct,
            &format!("/{}", self.name(suffix)),
            value,
            true,
        )
        .await;
    }

    /// Adds a fault on the requests with this `X-Amz-Target`.
    pub fn fault(&self, target: &str, times: usize, kind: FaultKind) {
        self.proxy.add_fault(Fault::on(target, times, kind));
    }

    /// `[BatchGetSecretValue, GetSecretValue, GetParameters]` requests seen so far.
    pub fn counts(&self) -> [usize; 3] {
        [BATCH, GET, PARAMS].map(|t| self.proxy.count(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn endpoint_is_read_from_the_variable() {
        let got = endpoint_from(vars(&[(ENDPOINT_VAR, "http://127.0.0.1:5000")]));
        assert_eq!(got.as_deref(), Some("http://127.0.0.1:5000"));
    }

    #[test]
    #[should_panic(
        expected = "the local AWS endpoint is missing: ECS_SECRETS_TEST_ENDPOINT is not set. Run the tests through `scripts/test`"
    )]
    fn missing_endpoint_fails_and_names_the_script() {
        let _ = endpoint_from(vars(&[]));
    }

    #[test]
    #[should_panic(expected = "the local AWS endpoint is missing")]
    fn empty_endpoint_counts_as_missing() {
        let _ = endpoint_from(vars(&[(ENDPOINT_VAR, "")]));
    }

    #[test]
    #[should_panic(expected = "the local AWS endpoint is missing")]
    fn skip_needs_exactly_one() {
        let _ = endpoint_from(vars(&[(SKIP_VAR, "true")]));
    }

    #[test]
    fn skip_variable_skips() {
        assert_eq!(endpoint_from(vars(&[(SKIP_VAR, "1")])), None);
    }

    #[test]
    fn unique_names_differ_and_are_valid_names() {
        let a = unique("db");
        let b = unique("db");
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("db-p{}-", std::process::id())));
        let last = a.rsplit('-').next().unwrap();
        assert!(last.len() < 6, "{a}");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"/_+=.@-".contains(&c))
        );
    }

    #[test]
    fn base36_digits() {
        assert_eq!(base36(0), "0");
        assert_eq!(base36(35), "z");
        assert_eq!(base36(36), "10");
    }
}
