//! The engine under the [`Loader`](super::Loader) and the deploy-time verbs: the caller's
//! `SdkConfig` and the settings, the clients per region (each built once, shared by clones), a
//! [`Run`] for "these requests, under this concurrency limit, within what is left of this
//! deadline", the loader's throttling backoff, the operations' names and their failures.
//!
//! Crate-private. The public handle is a facade over it: the code below the handle (the reads
//! of a load, a watch's refresh, and with feature `deploy` pin, preflight and migrate) takes an
//! [`Engine`], never the handle.

pub(crate) mod backoff;
pub(crate) mod failure;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
pub(crate) mod ops;
pub(crate) mod run;
pub(crate) mod throttle;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use zeroize::Zeroizing;

use crate::EcsSecrets;
use crate::deployment::fragment::Vars;
use crate::load::{self, Raw};

pub(crate) use failure::Failure;
pub(crate) use run::Run;
use throttle::BatchMemory;

/// The client of SDK crate `$sdk` for `$region` from `$engine`, built the first time the one way
/// every client is built: the caller's `SdkConfig`, the region (`None`: the config's), the retry
/// policy and timeouts of the settings, and with feature `metrics` the interceptor that counts
/// requests, attempts and throttles (`$codes` reads AWS's error code from that service's
/// operation errors). A macro: each SDK crate has its own `config::Builder` type.
macro_rules! client {
    ($sdk:ident, $engine:expr, $region:expr, $codes:path) => {{
        let engine: &$crate::aws::engine::Engine = $engine;
        let region: Option<&str> = $region;
        engine.client(region, || {
            let mut b = $sdk::config::Builder::from(engine.sdk_config());
            if let Some(region) = region {
                b = b.region($sdk::config::Region::new(region.to_owned()));
            }
            if let Some(retry) = &engine.settings().retry {
                b = b.retry_config(retry.clone());
            }
            if let Some(t) = engine.timeouts() {
                b = b.timeout_config(t);
            }
            #[cfg(feature = "metrics")]
            {
                b = b.interceptor($crate::aws::engine::metrics::Interceptor::new($codes));
            }
            $sdk::Client::from_conf(b.build())
        })
    }};
}
// The deploy-time verbs build their own clients and read their own operations' codes.
#[cfg_attr(not(feature = "deploy"), allow(unused_imports))]
pub(crate) use client;

/// Reads an environment variable's text, or `None` when it is not set.
pub(crate) type LookupFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// The settings every request and load reads. The loader's builder methods set them.
#[derive(Clone)]
pub(crate) struct Settings {
    pub attempt_timeout: Option<Duration>,
    pub deadline: Option<Duration>,
    pub max_concurrency: usize,
    pub batching: bool,
    pub retry: Option<RetryConfig>,
    pub lookup: Option<Arc<LookupFn>>,
    pub vars: Option<Vars>,
}

/// Clients by SDK type and region (`None`: the `SdkConfig`'s), each built once.
type Clients = Mutex<HashMap<(TypeId, Option<String>), Box<dyn Any + Send + Sync>>>;

/// See the module docs. Cheap to clone: clones share the clients and the batch memory.
#[derive(Clone)]
pub(crate) struct Engine {
    config: Arc<SdkConfig>,
    settings: Arc<Settings>,
    clients: Arc<Clients>,
    /// Shared by clones: a throttled batch pauses batching for all of them.
    batches: Arc<BatchMemory>,
}

impl Engine {
    pub fn new(config: &SdkConfig, settings: Settings) -> Self {
        Engine {
            config: Arc::new(config.clone()),
            settings: Arc::new(settings),
            clients: Arc::default(),
            batches: Arc::default(),
        }
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Changes the settings; `rebuild`: the change is one the SDK bakes into a client (retry
    /// policy, timeouts), so this engine gets clients of its own.
    pub fn set(&mut self, rebuild: bool, change: impl FnOnce(&mut Settings)) {
        change(Arc::make_mut(&mut self.settings));
        if rebuild {
            self.clients = Arc::default();
        }
    }

    /// A run of requests that starts now (see [`Run`]); `requests` sizes its retry budget.
    pub fn run(&self, requests: usize) -> Run {
        Run::new(self, requests)
    }

    /// Whether this load batches: the setting, unless a batch was throttled lately.
    pub fn batch_now(&self) -> bool {
        throttle::batch_now(self.settings.batching, self.batches.last(), Instant::now())
    }

    /// Remembers that a batch was throttled.
    pub fn batch_throttled(&self) {
        self.batches.throttled(Instant::now());
    }

    /// Whether the loader retries throttled requests itself (no caller retry policy).
    pub fn retries_throttling(&self) -> bool {
        self.settings.retry.is_none()
    }

    /// The client of type `C` for `region`, built by `build` the first time.
    pub fn client<C>(&self, region: Option<&str>, build: impl FnOnce() -> C) -> C
    where
        C: Clone + Send + Sync + 'static,
    {
        let key = (TypeId::of::<C>(), region.map(str::to_owned));
        // A panic while holding the lock leaves a map of complete clients.
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = clients.get(&key).and_then(|c| c.downcast_ref::<C>()) {
            return client.clone();
        }
        let client = build();
        clients.insert(key, Box::new(client.clone()));
        client
    }

    /// The Secrets Manager client of `region`.
    pub fn secrets_client(&self, region: &str) -> aws_sdk_secretsmanager::Client {
        client!(
            aws_sdk_secretsmanager,
            self,
            Some(region),
            ops::secrets_codes
        )
    }

    /// The SSM client of `region` (`None`: the `SdkConfig`'s).
    pub fn ssm_client(&self, region: Option<&str>) -> aws_sdk_ssm::Client {
        client!(aws_sdk_ssm, self, region, ops::ssm_codes)
    }

    /// The caller's timeouts with the per-attempt timeout on top.
    pub fn timeouts(&self) -> Option<aws_config::timeout::TimeoutConfig> {
        let attempt = self.settings.attempt_timeout?;
        let base = self.config.timeout_config().map_or_else(
            aws_config::timeout::TimeoutConfig::builder,
            aws_config::timeout::TimeoutConfig::to_builder,
        );
        Some(base.operation_attempt_timeout(attempt).build())
    }

    /// One environment variable, through the lookup or from the process environment.
    pub fn env_raw(&self, name: &str) -> Raw {
        match &self.settings.lookup {
            None => load::env_var(name),
            Some(f) => match f(name) {
                Some(s) => Raw::Value(Zeroizing::new(s)),
                None => Raw::Absent,
            },
        }
    }

    /// The placeholder values of `T`: the configured ones, or each read from the environment.
    pub fn vars_for<T: EcsSecrets>(&self) -> Vars {
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
    pub fn client_count(&self) -> usize {
        self.clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
