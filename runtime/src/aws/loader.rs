//! [`Loader`]: the public handle, a facade over the [engine](super::engine) that owns the
//! clients and the settings of every load and refresh (and, with feature `deploy`, of pin,
//! preflight and migrate).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;

use crate::EcsSecrets;
use crate::deployment::fragment::Vars;
use crate::error::Error;

use super::answers::{self, Mode};
use super::engine::{Engine, Settings};
use super::watch::{Watch, WatchOptions};

/// The default of [`Loader::max_concurrency`]: more than a struct's requests, so all go out at
/// once (Secrets Manager allows 10,000 `GetSecretValue`/s, ~100 `BatchGetSecretValue`/s).
pub const DEFAULT_MAX_CONCURRENCY: usize = 32;
/// The default of [`Loader::deadline`]: a start-up load should fail, not hang.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

/// Loads configuration structs directly from Secrets Manager and SSM Parameter Store.
///
/// Built once from the caller's [`SdkConfig`] (credentials, region, retries and timeouts from
/// `aws-config`'s standard chain), then used for every load: it builds each region's clients on
/// first use and reuses them for every later load, refresh and pin. Cheap to clone — clones
/// share the clients — and `Send + Sync`; its futures are `Send`.
///
/// The settings are a builder; changing the retry policy or the attempt timeout gives the
/// loader clients of its own (the SDK bakes both into a client):
///
/// ```no_run
/// # async fn f() -> Result<(), ecs_secrets::Error> {
/// use std::time::Duration;
/// use ecs_secrets::{EcsSecrets, aws::Loader};
///
/// #[derive(EcsSecrets)]
/// #[ecs(region = "us-east-1", account = "123456789012")]
/// struct AppConfig {
///     #[ecs(secret = "app/db", key = "password")]
///     db_password: ecs_secrets::Secret<String>,
/// }
///
/// let sdk_config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
/// let loader = Loader::new(&sdk_config)
///     .attempt_timeout(Duration::from_secs(2))
///     .deadline(Duration::from_secs(10));
/// let config: AppConfig = loader.load().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Loader {
    engine: Engine,
}

impl Loader {
    /// A loader with the defaults: the `SdkConfig`'s timeouts and retry policy (but throttling
    /// answered by the loader: see [`Loader::retry_config`]), a 30 s deadline,
    /// 32 requests at once, batching on, the process environment, placeholder values from the
    /// environment.
    pub fn new(config: &SdkConfig) -> Self {
        let settings = Settings {
            attempt_timeout: None,
            deadline: Some(DEFAULT_DEADLINE),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            batching: true,
            retry: None,
            lookup: None,
            vars: None,
        };
        Loader {
            engine: Engine::new(config, settings),
        }
    }

    /// A setting of the loader's own: clones keep sharing the clients.
    fn set(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        self.engine.set(false, change);
        self
    }

    /// A setting the SDK bakes into a client: this loader gets clients of its own.
    fn set_client(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        self.engine.set(true, change);
        self
    }

    /// The engine below the handle, for the deploy-time verbs.
    #[cfg(feature = "deploy")]
    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Bounds each attempt of each request; an attempt that takes longer is retried by the
    /// retry policy (`TimeoutConfig::operation_attempt_timeout`, set on top of the
    /// `SdkConfig`'s other timeouts). Default: the `SdkConfig`'s.
    pub fn attempt_timeout(self, timeout: Duration) -> Self {
        self.set_client(|s| s.attempt_timeout = Some(timeout))
    }

    /// Bounds each whole load, retries included. Whatever has not answered by then fails with
    /// [`FetchCode::DeadlineExceeded`](crate::FetchCode::DeadlineExceeded), naming the
    /// operation it waited on. Default: 30 s.
    pub fn deadline(self, deadline: Duration) -> Self {
        self.set(|s| s.deadline = Some(deadline))
    }

    /// No overall deadline: a load takes as long as the attempts and retries do.
    pub fn no_deadline(self) -> Self {
        self.set(|s| s.deadline = None)
    }

    /// At most this many requests in flight at once per load (at least 1). Default: 32.
    pub fn max_concurrency(self, n: usize) -> Self {
        self.set(|s| s.max_concurrency = n.max(1))
    }

    /// Whether unpinned secrets go through `BatchGetSecretValue` (20 per call); off, every
    /// secret is one `GetSecretValue`, and the role needs no `secretsmanager:BatchGetSecretValue`.
    /// Default: on. Even on, a batch that is throttled (its quota, ~100/s per region, is a
    /// hundredth of `GetSecretValue`'s) is not retried: its secrets are fetched one by one at
    /// once, and the loader and its clones fetch one by one for the next minute.
    pub fn batching(self, on: bool) -> Self {
        self.set(|s| s.batching = on)
    }

    /// The retry policy of every request, throttled ones included, instead of the default.
    ///
    /// By default the SDK retries every retryable error under the `SdkConfig`'s policy except
    /// throttling, which the loader answers itself: a throttled `BatchGetSecretValue` falls back
    /// to `GetSecretValue` at once, and a throttled `GetSecretValue` or `GetParameters` is sent
    /// again after a full-jitter exponential backoff (20 ms at least, 1 s at most, and at most a
    /// quarter of the time the request has waited so far) until it is answered, the load's
    /// retry budget is spent, or the next wait would pass the [deadline](Loader::deadline). That lets a fleet that starts at once share the regional
    /// quotas without failing tasks (the SDK's standard mode gives up after 3 attempts). With a
    /// policy set here, the SDK retries throttling too, by that policy, and a throttled batch
    /// falls back only once the SDK gives up.
    pub fn retry_config(self, retry: RetryConfig) -> Self {
        self.set_client(|s| s.retry = Some(retry))
    }

    /// Reads environment variables through `lookup` instead of the process environment: the
    /// plain fields, the variables [`Loader::load`] checks first, and (unless
    /// [`Loader::vars`] is set) the placeholder values.
    pub fn lookup(self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.set(|s| s.lookup = Some(Arc::new(lookup)))
    }

    /// The values of the declarations' `{placeholders}`. Default: each from the variable of its
    /// upper-case name (`{stage}` ← `STAGE`), read through the lookup.
    pub fn vars(self, vars: Vars) -> Self {
        self.set(|s| s.vars = Some(vars))
    }

    /// The per-attempt timeout, if set.
    pub fn get_attempt_timeout(&self) -> Option<Duration> {
        self.engine.settings().attempt_timeout
    }

    /// The overall deadline of a load, if any.
    pub fn get_deadline(&self) -> Option<Duration> {
        self.engine.settings().deadline
    }

    /// The maximum of requests in flight.
    pub fn get_max_concurrency(&self) -> usize {
        self.engine.settings().max_concurrency
    }

    /// Whether batching is on.
    pub fn get_batching(&self) -> bool {
        self.engine.settings().batching
    }

    /// Takes each field from the environment when its variable is set (ECS injected it) and
    /// fetches only the missing sourced fields, so one binary works in ECS, on a laptop and in
    /// CI. Reports every problem at once.
    pub async fn load<T: EcsSecrets>(&self) -> Result<T, Error> {
        answers::load::<T>(&self.engine, Mode::Missing, None).await
    }

    /// Loads every sourced field directly from Secrets Manager / SSM Parameter Store, each in
    /// the region of its ARN, and the plain fields from the environment (or their default).
    /// Reports every problem at once. A sourced field's `default` is not used when its secret
    /// is missing; an `Option` field whose source does not exist is `None`.
    pub async fn fetch<T: EcsSecrets>(&self) -> Result<T, Error> {
        answers::load::<T>(&self.engine, Mode::All, None).await
    }

    /// Loads `T` (see [`WatchOptions::initial`]: from AWS, or environment first), then keeps the
    /// value fresh in a background task that refreshes every sourced field on an interval
    /// (default 5 minutes ±10 %) — reading only the secrets and parameters whose version
    /// changed —, replaces the value only with a complete load, and tells
    /// subscribers which fields changed. Needs a Tokio runtime; the refresh stops when the last
    /// handle drops.
    pub async fn watch<T>(&self, options: WatchOptions) -> Result<Watch<T>, Error>
    where
        T: EcsSecrets + Send + Sync + 'static,
    {
        Watch::start(self.engine.clone(), options).await
    }
}

impl fmt::Debug for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.engine.settings();
        f.debug_struct("Loader")
            .field("region", &self.engine.sdk_config().region())
            .field("attempt_timeout", &s.attempt_timeout)
            .field("deadline", &s.deadline)
            .field("max_concurrency", &s.max_concurrency)
            .field("batching", &s.batching)
            .field("retry", &s.retry)
            .field("lookup", &s.lookup.as_ref().map(|_| "<fn>"))
            .field("vars", &s.vars)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build()
    }

    #[test]
    fn settings_defaults_and_builder() {
        let l = Loader::new(&config());
        assert_eq!(l.get_attempt_timeout(), None);
        assert_eq!(l.get_deadline(), Some(DEFAULT_DEADLINE));
        assert!(l.get_max_concurrency() >= 16);
        assert!(l.get_batching());
        let l = l
            .attempt_timeout(Duration::from_millis(5))
            .no_deadline()
            .max_concurrency(0)
            .batching(false)
            .lookup(|_| Some("secret-looking".into()));
        assert_eq!(
            (
                l.get_attempt_timeout(),
                l.get_deadline(),
                l.get_max_concurrency(),
                l.get_batching()
            ),
            (Some(Duration::from_millis(5)), None, 1, false)
        );
        let shown = format!("{l:?}");
        assert!(shown.contains("lookup: Some(\"<fn>\")"), "{shown}");
        assert!(!shown.contains("secret-looking"));
    }

    #[test]
    fn clients_are_built_once_per_region_and_shared_by_clones() {
        let l = Loader::new(&config());
        l.engine.secrets_client("us-east-1");
        l.engine.secrets_client("us-east-1");
        l.engine.secrets_client("eu-west-1");
        l.engine.ssm_client(None);
        l.engine.ssm_client(None);
        assert_eq!(l.engine.client_count(), 3);
        let clone = l.clone();
        clone.engine.ssm_client(Some("eu-west-1"));
        assert_eq!(
            l.engine.client_count(),
            4,
            "clones share one set of clients"
        );
        // Settings that the SDK bakes into a client give the loader clients of its own.
        let retried = l.clone().retry_config(RetryConfig::standard());
        assert_eq!(retried.engine.client_count(), 0);
        let timed = l.clone().attempt_timeout(Duration::from_secs(1));
        assert_eq!(timed.engine.client_count(), 0);
        assert_eq!(l.engine.client_count(), 4);
        // Settings that are the loader's own keep the clients.
        let batched = l.clone().batching(false);
        assert_eq!(batched.engine.client_count(), 4);
    }

    #[test]
    fn the_lookup_answers_environment_variables() {
        use crate::load::Raw;
        let l = Loader::new(&config()).lookup(|name| (name == "A").then(|| "1".to_owned()));
        assert!(matches!(l.engine.env_raw("A"), Raw::Value(v) if v.as_str() == "1"));
        assert!(matches!(l.engine.env_raw("B"), Raw::Absent));
    }

    #[test]
    fn loader_is_send_sync_and_its_futures_are_send() {
        fn send_sync<T: Send + Sync + Clone>(_: &T) {}
        fn send<F: Send>(_: F) {}
        #[derive(crate::EcsSecrets)]
        struct C {
            #[ecs(default = "1")]
            _a: u8,
        }
        let l = Loader::new(&config());
        send_sync(&l);
        send(l.load::<C>());
        send(l.fetch::<C>());
        send(l.watch::<C>(WatchOptions::new()));
    }
}
