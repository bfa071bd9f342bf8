//! [`Loader`]: the handle that owns the AWS clients and the settings of every load, refresh and
//! pin.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use zeroize::Zeroizing;

use crate::deployment::Deployment;
use crate::deployment::fragment::Vars;
use crate::error::{Error, ResolveError};
use crate::load::{self, Raw};
use crate::{EcsSecrets, Task};

use super::load::Mode;
use super::migrate::{MigrateError, MigrateOptions, MigrationReport};
use super::preflight::{PreflightOptions, PreflightReport};
use super::throttle::{self, BatchMemory};
use super::watch::{Watch, WatchOptions};

/// The default of [`Loader::max_concurrency`]: more than a struct's requests, so all go out at
/// once (Secrets Manager allows 10,000 `GetSecretValue`/s, ~100 `BatchGetSecretValue`/s).
pub const DEFAULT_MAX_CONCURRENCY: usize = 32;
/// The default of [`Loader::deadline`]: a start-up load should fail, not hang.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

type LookupFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// Builds a client of the SDK crate `$sdk` the one way every client of a [`Loader`] is built: the
/// caller's `SdkConfig`, the region (`None`: the config's), the loader's retry policy and
/// timeouts, and with the `metrics` feature the interceptor that counts requests, attempts and
/// throttles. (A macro: each SDK crate has its own `config::Builder` type.)
macro_rules! client {
    ($sdk:ident, $loader:expr, $region:expr) => {{
        let loader: &Loader = $loader;
        let mut b = $sdk::config::Builder::from(&*loader.config);
        if let Some(region) = $region {
            b = b.region($sdk::config::Region::new(region.to_owned()));
        }
        if let Some(retry) = &loader.settings.retry {
            b = b.retry_config(retry.clone());
        }
        if let Some(t) = loader.timeouts() {
            b = b.timeout_config(t);
        }
        #[cfg(feature = "metrics")]
        {
            b = b.interceptor(super::metrics::Interceptor);
        }
        $sdk::Client::from_conf(b.build())
    }};
}

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
/// let sdk_config = aws_config::load_from_env().await;
/// let loader = Loader::new(&sdk_config)
///     .attempt_timeout(Duration::from_secs(2))
///     .deadline(Duration::from_secs(10));
/// let config: AppConfig = loader.load().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Loader {
    config: Arc<SdkConfig>,
    settings: Arc<Settings>,
    clients: Arc<Clients>,
    /// Shared by clones: a throttled batch pauses batching for all of them.
    batches: Arc<BatchMemory>,
}

#[derive(Clone)]
pub(super) struct Settings {
    pub attempt_timeout: Option<Duration>,
    pub deadline: Option<Duration>,
    pub max_concurrency: usize,
    pub batching: bool,
    pub retry: Option<RetryConfig>,
    pub lookup: Option<Arc<LookupFn>>,
    pub vars: Option<Vars>,
}

/// Clients by region, each built once.
#[derive(Default)]
struct Clients {
    secrets: Mutex<HashMap<String, aws_sdk_secretsmanager::Client>>,
    /// `None`: the `SdkConfig`'s region (a bare parameter name).
    ssm: Mutex<HashMap<Option<String>, aws_sdk_ssm::Client>>,
    kms: Mutex<HashMap<String, aws_sdk_kms::Client>>,
    iam: Mutex<HashMap<String, aws_sdk_iam::Client>>,
    /// `None`: the `SdkConfig`'s region.
    sts: Mutex<HashMap<Option<String>, aws_sdk_sts::Client>>,
}

impl Loader {
    /// A loader with the defaults: the `SdkConfig`'s timeouts and retry policy (but throttling
    /// answered by the loader: see [`Loader::retry_config`]), a 30 s deadline,
    /// 32 requests at once, batching on, the process environment, placeholder values from the
    /// environment.
    pub fn new(config: &SdkConfig) -> Self {
        Loader {
            config: Arc::new(config.clone()),
            settings: Arc::new(Settings {
                attempt_timeout: None,
                deadline: Some(DEFAULT_DEADLINE),
                max_concurrency: DEFAULT_MAX_CONCURRENCY,
                batching: true,
                retry: None,
                lookup: None,
                vars: None,
            }),
            clients: Arc::default(),
            batches: Arc::default(),
        }
    }

    fn set(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.settings));
        self
    }

    /// Bounds each attempt of each request; an attempt that takes longer is retried by the
    /// retry policy (`TimeoutConfig::operation_attempt_timeout`, set on top of the
    /// `SdkConfig`'s other timeouts). Default: the `SdkConfig`'s.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.clients = Arc::default();
        self.set(|s| s.attempt_timeout = Some(timeout))
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
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.clients = Arc::default();
        self.set(|s| s.retry = Some(retry))
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
        self.settings.attempt_timeout
    }

    /// The overall deadline of a load, if any.
    pub fn get_deadline(&self) -> Option<Duration> {
        self.settings.deadline
    }

    /// The maximum of requests in flight.
    pub fn get_max_concurrency(&self) -> usize {
        self.settings.max_concurrency
    }

    /// Whether batching is on.
    pub fn get_batching(&self) -> bool {
        self.settings.batching
    }

    /// Takes each field from the environment when its variable is set (ECS injected it) and
    /// fetches only the missing sourced fields, so one binary works in ECS, on a laptop and in
    /// CI. Reports every problem at once.
    pub async fn load<T: EcsSecrets>(&self) -> Result<T, Error> {
        super::load::load::<T>(self, Mode::Missing, None).await
    }

    /// Loads every sourced field directly from Secrets Manager / SSM Parameter Store, each in
    /// the region of its ARN, and the plain fields from the environment (or their default).
    /// Reports every problem at once. A sourced field's `default` is not used when its secret
    /// is missing; an `Option` field whose source does not exist is `None`.
    pub async fn fetch<T: EcsSecrets>(&self) -> Result<T, Error> {
        super::load::load::<T>(self, Mode::All, None).await
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
        Watch::start(self.clone(), options).await
    }

    /// The [`Deployment`] of `T` for the environment `vars`, with every unpinned Secrets
    /// Manager reference pinned to the id of its current version (`ARN:key::VERSION-ID`), so
    /// that a rotation produces a new task-definition revision and ECS rolls the service onto
    /// the new value. The version ids come from `DescribeSecret` (`VersionIdsToStages`): no
    /// value is read, nothing is decrypted, and the caller needs only
    /// `secretsmanager:DescribeSecret` on the secrets ([`Role::Pin`](crate::Role::Pin)). One
    /// call per distinct unpinned secret, all at once under the loader's concurrency bound and
    /// deadline. References that already select a version, and SSM parameters (ECS takes no
    /// version on them), stay as they are; every problem is reported at once.
    pub async fn pin<T: EcsSecrets>(&self, vars: &Vars) -> Result<Deployment, ResolveError> {
        super::pin::pin::<T>(self, vars).await
    }

    /// Checks, before a deploy, that every reference of `deployment` will resolve when a task
    /// starts, each in the region of its ARN, and reports every problem at once (see
    /// [`PreflightReport`]): Secrets Manager with `DescribeSecret` (exists, not scheduled for
    /// deletion, the pinned stage or version exists), one per distinct secret; SSM with
    /// `GetParameters` without decryption, ten a call per region; each `kms_key` with
    /// `DescribeKey` (exists and is enabled). JSON keys need the value:
    /// they are "not verified" unless [`PreflightOptions::read_values`], which reads each
    /// distinct secret version once, checks the keys as the agent extracts them and the size,
    /// and wipes the value. All requests at once under the loader's concurrency bound and
    /// deadline; nothing of a value is kept, printed or logged. The caller's policy:
    /// [`Role::Preflight`](crate::Role::Preflight) (or
    /// [`Role::PreflightReadValues`](crate::Role::PreflightReadValues)).
    pub async fn preflight(
        &self,
        deployment: &Deployment,
        options: PreflightOptions,
    ) -> PreflightReport {
        super::preflight::preflight(self, deployment, options).await
    }

    /// [`Loader::preflight`] for a whole [`Task`]: every container's declarations, its log
    /// driver's `secretOptions`, and its registry credentials — whose secret must be a JSON
    /// object with `username` and `password` (checked with
    /// [`PreflightOptions::read_values`], else reported as not verified) — each
    /// [`Check`](super::Check) naming its container; the role check covers the task's whole
    /// [`Role::Execution`](crate::Role::Execution) policy. With
    /// [`PreflightOptions::task_definition`], the task's secrets are also merged into a copy of
    /// that task definition, which must take them within ECS's 64 KiB.
    pub async fn preflight_task(&self, task: &Task, options: PreflightOptions) -> PreflightReport {
        super::preflight::preflight_task(self, task, options).await
    }

    /// Moves the plaintext values of container `container` of `json` (a task definition in
    /// either shape, or an ECS Express Mode input) into the secrets and parameters `deployment`
    /// declares, then takes the entries out of `environment` and sets the container's `secrets`.
    /// A plan by default: it only reads (whether each destination exists and holds the value)
    /// and leaves `json` as it was; with [`MigrateOptions::apply`] it writes, each destination
    /// at most once, and changes `json` only when every write succeeded. Any refused variable
    /// refuses the whole run, with every reason at once ([`MigrateError::Refused`]); a failed
    /// write leaves `json` as it was and the report says which values are stored already
    /// ([`MigrateError::Failed`]). Rules, and what the wiping cannot reach: the module
    /// `migrate` docs in the source; the caller's policy: [`Role::Migrate`](crate::Role::Migrate).
    pub async fn migrate(
        &self,
        deployment: &Deployment,
        json: &mut serde_json::Value,
        container: &str,
        options: MigrateOptions,
    ) -> Result<MigrationReport, MigrateError> {
        super::migrate::migrate(self, deployment, json, container, options).await
    }

    pub(super) fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    pub(super) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether this load batches: the setting, unless a batch was throttled lately.
    pub(super) fn batch_now(&self) -> bool {
        let now = std::time::Instant::now();
        throttle::batch_now(self.settings.batching, self.batches.last(), now)
    }

    /// Remembers that a batch was throttled.
    pub(super) fn batch_throttled(&self) {
        self.batches.throttled(std::time::Instant::now());
    }

    /// Whether the loader retries throttled requests itself (no caller retry policy).
    pub(super) fn retries_throttling(&self) -> bool {
        self.settings.retry.is_none()
    }

    /// The Secrets Manager client of `region`, built on first use.
    pub(super) fn secrets_client(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        cached(&self.clients.secrets, region.to_owned(), || {
            client!(aws_sdk_secretsmanager, self, Some(region))
        })
    }

    /// The SSM client of `region` (`None`: the `SdkConfig`'s), built on first use.
    pub(super) fn ssm_client(&self, region: Option<&str>) -> aws_sdk_ssm::Client {
        cached(&self.clients.ssm, region.map(str::to_owned), || {
            client!(aws_sdk_ssm, self, region)
        })
    }

    /// The KMS client of `region` (preflight's `DescribeKey`), built on first use.
    pub(super) fn kms_client(&self, region: &str) -> aws_sdk_kms::Client {
        cached(&self.clients.kms, region.to_owned(), || {
            client!(aws_sdk_kms, self, Some(region))
        })
    }

    /// The IAM client of `region` (IAM's one region of a partition; preflight's
    /// `SimulatePrincipalPolicy`), built on first use.
    pub(super) fn iam_client(&self, region: &str) -> aws_sdk_iam::Client {
        cached(&self.clients.iam, region.to_owned(), || {
            client!(aws_sdk_iam, self, Some(region))
        })
    }

    /// The STS client of `region` (`None`: the `SdkConfig`'s; migrate's `GetCallerIdentity`),
    /// built on first use.
    pub(super) fn sts_client(&self, region: Option<&str>) -> aws_sdk_sts::Client {
        cached(&self.clients.sts, region.map(str::to_owned), || {
            client!(aws_sdk_sts, self, region)
        })
    }

    /// The caller's timeouts with the per-attempt timeout on top.
    fn timeouts(&self) -> Option<aws_config::timeout::TimeoutConfig> {
        let attempt = self.settings.attempt_timeout?;
        let base = self.config.timeout_config().map_or_else(
            aws_config::timeout::TimeoutConfig::builder,
            aws_config::timeout::TimeoutConfig::to_builder,
        );
        Some(base.operation_attempt_timeout(attempt).build())
    }

    /// One environment variable, through the lookup or from the process environment.
    pub(super) fn env_raw(&self, name: &str) -> Raw {
        match &self.settings.lookup {
            None => load::env_var(name),
            Some(f) => match f(name) {
                Some(s) => Raw::Value(Zeroizing::new(s)),
                None => Raw::Absent,
            },
        }
    }

    /// The placeholder values of `T`: the configured ones, or each read from the environment.
    pub(super) fn vars_for<T: EcsSecrets>(&self) -> Vars {
        if let Some(vars) = &self.settings.vars {
            return vars.clone();
        }
        let names = crate::placeholders::<T>();
        let text = |name: &str| match &self.settings.lookup {
            None => std::env::var(name).ok(),
            Some(f) => f(name),
        };
        Vars::from_lookup(names.iter().map(String::as_str), text)
    }

    #[cfg(test)]
    fn client_count(&self) -> usize {
        lock(&self.clients.secrets).len()
            + lock(&self.clients.ssm).len()
            + lock(&self.clients.kms).len()
            + lock(&self.clients.iam).len()
            + lock(&self.clients.sts).len()
    }
}

/// The client under `key`, built by `build` the first time.
fn cached<K: Eq + std::hash::Hash, C: Clone>(
    clients: &Mutex<HashMap<K, C>>,
    key: K,
    build: impl FnOnce() -> C,
) -> C {
    lock(clients).entry(key).or_insert_with(build).clone()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding it leaves a map of complete clients.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for Loader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("Loader")
            .field("region", &self.config.region())
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
        l.secrets_client("us-east-1");
        l.secrets_client("us-east-1");
        l.secrets_client("eu-west-1");
        l.ssm_client(None);
        l.ssm_client(None);
        assert_eq!(l.client_count(), 3);
        let clone = l.clone();
        clone.ssm_client(Some("eu-west-1"));
        assert_eq!(l.client_count(), 4, "clones share one set of clients");
        // Settings that the SDK bakes into a client give the loader clients of its own.
        let retried = l.clone().retry_config(RetryConfig::standard());
        assert_eq!(retried.client_count(), 0);
        assert_eq!(l.client_count(), 4);
        // Settings that are the loader's own keep the clients.
        let batched = l.clone().batching(false);
        assert_eq!(batched.client_count(), 4);
    }

    #[test]
    fn the_lookup_answers_environment_variables() {
        let l = Loader::new(&config()).lookup(|name| (name == "A").then(|| "1".to_owned()));
        assert!(matches!(l.env_raw("A"), Raw::Value(v) if v.as_str() == "1"));
        assert!(matches!(l.env_raw("B"), Raw::Absent));
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
        send(l.pin::<C>(&Vars::new()));
        let d = C::deployment();
        send(l.preflight(&d, PreflightOptions::new()));
        let task = Task::new().container("app", C::deployment());
        send(l.preflight_task(&task, PreflightOptions::new()));
        let mut json = serde_json::json!({"containerDefinitions": []});
        send(l.migrate(&d, &mut json, "app", MigrateOptions::new()));
    }
}
