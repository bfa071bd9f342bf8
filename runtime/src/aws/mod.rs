//! Direct loading from AWS Secrets Manager and SSM Parameter Store (feature `aws`), for services
//! that run outside ECS or need values ECS did not inject.
//!
//! [`EcsSecrets::from_aws`] fetches every sourced field;
//! [`EcsSecrets::load`] takes each field from the environment when its
//! variable is set and fetches only the others. Both fetch the way ECS does (`ECS_FACTS.md`):
//! each source in the region of its ARN with the identifier the `valueFrom` holds, each distinct
//! secret version once, JSON keys extracted byte for byte as the ECS agent injects them. Parsing,
//! `Option`s, defaults and the all-errors-at-once report are the same code as
//! [`EcsSecrets::from_env`]: this module only fetches and answers the
//! loader's questions from what it fetched.
//!
//! A sourced field's `default` is **not** used when its secret or parameter is missing: a
//! default taken because AWS said "not found" would be a silent wrong value in production. An
//! `Option` field whose secret or parameter does not exist is `None`; any other failure is an
//! error.

mod fetch;
mod pin;
mod plan;
mod watch;

pub use pin::secrets_pinned;
pub use watch::{
    Change, DEFAULT_INTERVAL, DEFAULT_JITTER, Status, Subscription, Watch, WatchOptions,
};

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use tracing::Instrument;
use zeroize::Zeroizing;

use crate::__private::{self, Lookup, Raw};
use crate::error::{Error, ErrorKind};
use crate::fragment::Vars;
use crate::model::{Field, Source};
use crate::value_from::ValueFrom;
use crate::{EcsSecrets, extract};

use fetch::{Fetched, SecretValue};
use plan::{Plan, Target};

/// The default of [`Options::max_concurrency`]: more than a struct's requests, so all go out at
/// once (Secrets Manager allows 10,000 `GetSecretValue`/s, ~100 `BatchGetSecretValue`/s).
pub const DEFAULT_MAX_CONCURRENCY: usize = 32;
/// The default of [`Options::deadline`]: a start-up load should fail, not hang.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);

type LookupFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// How [`EcsSecrets::from_aws_with`] and
/// [`EcsSecrets::load_with`] fetch. A builder:
///
/// ```
/// use std::time::Duration;
/// use ecs_secrets::aws::Options;
///
/// let options = Options::new()
///     .attempt_timeout(Duration::from_secs(2))
///     .deadline(Duration::from_secs(10))
///     .max_concurrency(8)
///     .lookup(|name| (name == "STAGE").then(|| "prod".to_owned()));
/// assert_eq!(options.get_max_concurrency(), 8);
/// ```
#[derive(Clone)]
pub struct Options {
    attempt_timeout: Option<Duration>,
    deadline: Option<Duration>,
    max_concurrency: usize,
    batching: bool,
    retry: Option<RetryConfig>,
    lookup: Option<Arc<LookupFn>>,
    vars: Option<Vars>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            attempt_timeout: None,
            deadline: Some(DEFAULT_DEADLINE),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            batching: true,
            retry: None,
            lookup: None,
            vars: None,
        }
    }
}

impl Options {
    /// The defaults: the `SdkConfig`'s timeouts and retry policy, a 30 s deadline, 32 requests
    /// at once, batching on, the process environment, placeholders from the environment.
    pub fn new() -> Self {
        Options::default()
    }

    /// Bounds each attempt of each request; an attempt that takes longer is retried by the
    /// retry policy (`TimeoutConfig::operation_attempt_timeout`, set on top of the
    /// `SdkConfig`'s other timeouts). Default: the `SdkConfig`'s.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self
    }

    /// Bounds the whole load, retries included. Whatever has not answered by then fails with
    /// `DeadlineExceeded`, naming the operation it waited on. Default: 30 s.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// No overall deadline: the load takes as long as the attempts and retries do.
    pub fn no_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// At most this many requests in flight at once (at least 1). Default: 32.
    pub fn max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = n.max(1);
        self
    }

    /// Whether unpinned secrets go through `BatchGetSecretValue` (20 per call); off, every
    /// secret is one `GetSecretValue`, and the role needs no `secretsmanager:BatchGetSecretValue`.
    /// Default: on.
    pub fn batching(mut self, on: bool) -> Self {
        self.batching = on;
        self
    }

    /// The retry policy of every request, instead of the `SdkConfig`'s.
    pub fn retry_config(mut self, retry: RetryConfig) -> Self {
        self.retry = Some(retry);
        self
    }

    /// Reads environment variables through `lookup` instead of the process environment: the
    /// plain fields, the variables [`EcsSecrets::load`] checks first,
    /// and (unless [`Options::vars`] is set) the placeholder values.
    pub fn lookup(
        mut self,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.lookup = Some(Arc::new(lookup));
        self
    }

    /// The values of the declaration's `{placeholders}`. Default: each from the variable of its
    /// upper-case name (`{stage}` ← `STAGE`), read through the lookup.
    pub fn vars(mut self, vars: Vars) -> Self {
        self.vars = Some(vars);
        self
    }

    /// The per-attempt timeout, if set.
    pub fn get_attempt_timeout(&self) -> Option<Duration> {
        self.attempt_timeout
    }

    /// The overall deadline, if any.
    pub fn get_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// The maximum of requests in flight.
    pub fn get_max_concurrency(&self) -> usize {
        self.max_concurrency
    }

    /// Whether batching is on.
    pub fn get_batching(&self) -> bool {
        self.batching
    }

    fn env(&self) -> EnvSource<'_> {
        match &self.lookup {
            Some(f) => EnvSource::Fn(f.as_ref()),
            None => EnvSource::Process,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("attempt_timeout", &self.attempt_timeout)
            .field("deadline", &self.deadline)
            .field("max_concurrency", &self.max_concurrency)
            .field("batching", &self.batching)
            .field("retry", &self.retry)
            .field("lookup", &self.lookup.as_ref().map(|_| "<fn>"))
            .field("vars", &self.vars)
            .finish()
    }
}

/// Where environment variables come from.
#[derive(Clone, Copy)]
enum EnvSource<'a> {
    Process,
    Fn(&'a LookupFn),
}

impl EnvSource<'_> {
    fn raw(self, name: &str) -> Raw {
        match self {
            EnvSource::Process => __private::env_var(name),
            EnvSource::Fn(f) => match f(name) {
                Some(s) => Raw::Value(Zeroizing::new(s)),
                None => Raw::Absent,
            },
        }
    }

    fn text(self, name: &str) -> Option<String> {
        match self {
            EnvSource::Process => std::env::var(name).ok(),
            EnvSource::Fn(f) => f(name),
        }
    }
}

/// The loader's view: sourced fields from the answers, plain ones from the environment.
struct Answers<'a> {
    env: EnvSource<'a>,
    by_env: HashMap<&'static str, Raw>,
}

impl Lookup for Answers<'_> {
    fn get(&self, field: &Field) -> Raw {
        match (field.source, self.by_env.get(field.env)) {
            (Source::Env, _) | (_, None) => self.env.raw(field.env),
            (_, Some(answer)) => answer.clone(),
        }
    }
}

/// Which fields come from AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every sourced field ([`EcsSecrets::from_aws`]).
    All,
    /// Only sourced fields whose variable is not set ([`EcsSecrets::load`]).
    Missing,
}

/// Loads `T` with the values fetched from AWS. The entry point of the trait methods.
pub(crate) async fn load<T: EcsSecrets>(
    config: &SdkConfig,
    options: &Options,
    mode: Mode,
) -> Result<T, Error> {
    load_observed::<T>(config, options, mode, None).await
}

/// Sees each sourced field's answer (by index into `T::FIELDS`) before it is parsed.
type Observer<'a> = dyn FnMut(usize, &Raw) + Send + 'a;

/// [`load`], showing `observe` every sourced field's answer: how a [`Watch`] tells which fields
/// changed without keeping a second copy of the values.
async fn load_observed<T: EcsSecrets>(
    config: &SdkConfig,
    options: &Options,
    mode: Mode,
    observe: Option<&mut Observer<'_>>,
) -> Result<T, Error> {
    let span = tracing::info_span!(
        "ecs_secrets.aws.load",
        mode = ?mode,
        fields = T::FIELDS.len(),
        fetched_fields = tracing::field::Empty,
        secrets = tracing::field::Empty,
        parameters = tracing::field::Empty,
        requests = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
        errors = tracing::field::Empty,
    );
    load_in_span::<T>(config, options, mode, observe)
        .instrument(span)
        .await
}

async fn load_in_span<T: EcsSecrets>(
    config: &SdkConfig,
    options: &Options,
    mode: Mode,
    observe: Option<&mut Observer<'_>>,
) -> Result<T, Error> {
    let started = Instant::now();
    let env = options.env();
    let vars = match &options.vars {
        Some(vars) => vars.clone(),
        None => {
            let names = T::placeholders();
            Vars::from_lookup(names.iter().map(String::as_str), |k| env.text(k))
        }
    };

    let mut by_env: HashMap<&'static str, Raw> = HashMap::new();
    let mut resolved: Vec<(usize, ValueFrom)> = Vec::new();
    // The final `valueFrom` of each fetched field, for its errors.
    let mut sources: HashMap<&'static str, String> = HashMap::new();
    for (i, field) in T::FIELDS.iter().enumerate() {
        let Some(template) = field.source.value_from() else {
            continue;
        };
        if mode == Mode::Missing {
            let answer = env.raw(field.env);
            if !matches!(answer, Raw::Absent) {
                by_env.insert(field.env, answer);
                continue;
            }
        }
        match template.resolve(&|name| vars.get(name).map(str::to_owned)) {
            Ok(value_from) => {
                sources.insert(field.env, value_from.to_string());
                resolved.push((i, value_from));
            }
            Err(problems) => {
                let reason = problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                by_env.insert(field.env, Raw::Failed(ErrorKind::Placeholder { reason }));
            }
        }
    }

    let plan = Plan::new(&resolved, config.region().map(|r| r.as_ref()));
    let span = tracing::Span::current();
    span.record("fetched_fields", plan.fields.len());
    span.record("secrets", plan.secrets.len());
    span.record("parameters", plan.params.len());
    if !plan.fields.is_empty() {
        let fetched = fetch::fetch(config, options, &plan).await;
        span.record("requests", fetched.requests);
        for (i, target) in &plan.fields {
            let field = &T::FIELDS[*i];
            by_env.insert(field.env, answer(field, target, &fetched));
        }
    } else {
        span.record("requests", 0);
    }

    if let Some(observe) = observe {
        for (i, field) in T::FIELDS.iter().enumerate() {
            if let (Some(_), Some(answer)) = (field.source.value_from(), by_env.get(field.env)) {
                observe(i, answer);
            }
        }
    }
    let result = __private::run::<T>(&Answers { env, by_env });
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("duration_ms", ms);
    let errors = result.as_ref().err().map_or(0, |e| e.errors().len());
    span.record("errors", errors);
    tracing::debug!(duration_ms = ms, errors, "load finished");
    result.map_err(|e| {
        Error::new(
            e.into_errors()
                .into_iter()
                .map(|fe| match sources.get(fe.env) {
                    Some(source) => fe.with_source(source.clone()),
                    None => fe,
                })
                .collect(),
        )
    })
}

fn source_error(code: &str, reason: impl Into<String>) -> Raw {
    Raw::Failed(ErrorKind::Source {
        code: code.to_owned(),
        reason: reason.into(),
    })
}

/// A fetched field's answer: its text (a JSON key extracted), `Absent` for an `Option` whose
/// source does not exist, or the error.
fn answer(field: &Field, target: &Target, fetched: &Fetched) -> Raw {
    let failure = match target {
        Target::Secret(i, key) => match &fetched.secrets[*i] {
            Ok(SecretValue::Text(text, _)) => {
                return match key {
                    None => Raw::Value(text.clone()),
                    Some(key) => match extract::json_key(text, key) {
                        Ok(value) => Raw::Value(value),
                        Err(e) => source_error(e.code(), e.to_string()),
                    },
                };
            }
            Ok(SecretValue::Binary) => {
                return source_error(
                    "BinarySecret",
                    "the secret holds SecretBinary only; ECS injects SecretString text only",
                );
            }
            Err(failure) => failure,
        },
        Target::Param(i) => match &fetched.params[*i] {
            Ok(text) => return Raw::Value(text.clone()),
            Err(failure) => failure,
        },
    };
    if field.optional && failure.not_found() {
        Raw::Absent
    } else {
        source_error(&failure.code, failure.reason.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_defaults_and_builder() {
        let o = Options::new();
        assert_eq!(o.get_attempt_timeout(), None);
        assert_eq!(o.get_deadline(), Some(DEFAULT_DEADLINE));
        assert!(o.get_max_concurrency() >= 16);
        assert!(o.get_batching());
        let o = o
            .attempt_timeout(Duration::from_millis(5))
            .no_deadline()
            .max_concurrency(0)
            .batching(false)
            .lookup(|_| Some("secret-looking".into()));
        assert_eq!(
            (
                o.get_attempt_timeout(),
                o.get_deadline(),
                o.get_max_concurrency(),
                o.get_batching()
            ),
            (Some(Duration::from_millis(5)), None, 1, false)
        );
        let shown = format!("{o:?}");
        assert!(shown.contains("lookup: Some(\"<fn>\")"), "{shown}");
        assert!(!shown.contains("secret-looking"));
    }

    #[test]
    fn env_source_reads_the_lookup() {
        let f = |name: &str| (name == "A").then(|| "1".to_owned());
        let env = EnvSource::Fn(&f);
        assert!(matches!(env.raw("A"), Raw::Value(v) if v.as_str() == "1"));
        assert!(matches!(env.raw("B"), Raw::Absent));
        assert_eq!(env.text("A").as_deref(), Some("1"));
    }
}
