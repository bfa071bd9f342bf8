//! Metrics for operators (features `aws` and `metrics`), through the [`metrics`] facade: any
//! recorder the application installs (Prometheus, StatsD, OpenTelemetry exporters…) sees them;
//! without one they cost an atomic load each.
//!
//! The names, kinds and labels are tabled in the docs of [`crate::aws`].
//!
//! Labels name operations and outcomes only, and for watches the configuration type's name
//! (`AppConfig`: two watches of one type share its gauges). No secret or parameter name, no
//! region, no value, no error message: nothing a `valueFrom` does not already show, and less.
//!
//! Requests and attempts are counted by an SDK interceptor on every client a
//! [`Loader`](crate::aws::Loader) builds, so they include the loader's fetches, a watch's version
//! checks, pinning and preflight. A `BatchGetSecretValue` whose answer lists per-secret errors
//! is `ok` (the request succeeded); so is a `GetParameters` that lists `InvalidParameters`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::ops::{Codes, OperationError};
use aws_sdk_secretsmanager::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_secretsmanager::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_secretsmanager::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::{Metadata, OrchestratorError};
use aws_smithy_runtime_api::client::retries::RequestAttempts;

pub(crate) const REQUESTS: &str = "ecs_secrets_requests_total";
pub(crate) const ATTEMPTS: &str = "ecs_secrets_attempts_total";
pub(crate) const RETRIES: &str = "ecs_secrets_retries_total";
pub(crate) const THROTTLES: &str = "ecs_secrets_throttles_total";
pub(crate) const REFRESHES: &str = "ecs_secrets_refreshes_total";
pub(crate) const VALUE_AGE: &str = "ecs_secrets_value_age_seconds";
pub(crate) const LAST_SUCCESS: &str = "ecs_secrets_last_success_seconds";

/// Counts requests, attempts, retries and throttles of every client of a loader.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Interceptor {
    codes: Codes,
}

impl Interceptor {
    pub(crate) fn new(codes: Codes) -> Self {
        Interceptor { codes }
    }
}

fn operation(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned())
}

impl Intercept for Interceptor {
    fn name(&self) -> &'static str {
        "ecs_secrets::aws::metrics"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = operation(cfg);
        metrics::counter!(ATTEMPTS, "operation" => op.clone()).increment(1);
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            metrics::counter!(RETRIES, "operation" => op).increment(1);
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Err(error)) = context.output_or_error() {
            if self.outcome(error) == Outcome::Throttled {
                metrics::counter!(THROTTLES, "operation" => operation(cfg)).increment(1);
            }
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let outcome = match context.output_or_error() {
            Some(Ok(_)) => Outcome::Ok,
            Some(Err(error)) => self.outcome(error),
            None => Outcome::Error,
        };
        metrics::counter!(
            REQUESTS,
            "operation" => operation(cfg),
            "outcome" => outcome.as_str()
        )
        .increment(1);
        Ok(())
    }
}

/// A request the loader sends again itself after throttling (the SDK leaves throttled loads to
/// it, see `backoff.rs`): a retry like the SDK's own.
pub(crate) fn retried(operation: &'static str) {
    metrics::counter!(RETRIES, "operation" => operation).increment(1);
}

/// How a request (or one attempt) ended, for the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Ok,
    Throttled,
    Denied,
    NotFound,
    Timeout,
    Error,
}

impl Outcome {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Throttled => "throttled",
            Outcome::Denied => "denied",
            Outcome::NotFound => "not_found",
            Outcome::Timeout => "timeout",
            Outcome::Error => "error",
        }
    }

    /// The outcome of an AWS error code.
    pub(crate) fn of_code(code: &str) -> Outcome {
        match code {
            _ if super::throttle::is_throttling(code) => Outcome::Throttled,
            "AccessDeniedException" | "AccessDenied" => Outcome::Denied,
            "ResourceNotFoundException"
            | "ParameterNotFound"
            | "NotFoundException"
            | "NoSuchEntity" => Outcome::NotFound,
            _ => Outcome::Error,
        }
    }
}

impl Interceptor {
    fn outcome(&self, error: &OrchestratorError<OperationError>) -> Outcome {
        if error.is_timeout_error() {
            return Outcome::Timeout;
        }
        error
            .as_operation_error()
            .and_then(self.codes)
            .map_or(Outcome::Error, Outcome::of_code)
    }
}

/// Records the end of a watch's refresh: its outcome, and the age of the current value.
pub(crate) fn refreshed(config: &'static str, ok: bool, last_success: SystemTime) {
    let outcome = if ok { "ok" } else { "failed" };
    metrics::counter!(REFRESHES, "outcome" => outcome).increment(1);
    loaded(config, last_success);
}

/// Records the age of a watch's current value, and when it was loaded.
pub(crate) fn loaded(config: &'static str, last_success: SystemTime) {
    let age = SystemTime::now()
        .duration_since(last_success)
        .unwrap_or(Duration::ZERO);
    metrics::gauge!(VALUE_AGE, "config" => config).set(age.as_secs_f64());
    let at = last_success
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    metrics::gauge!(LAST_SUCCESS, "config" => config).set(at.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_outcomes() {
        for (code, outcome) in [
            ("ThrottlingException", "throttled"),
            ("TooManyRequestsException", "throttled"),
            ("AccessDeniedException", "denied"),
            ("ResourceNotFoundException", "not_found"),
            ("ParameterNotFound", "not_found"),
            ("InternalServiceError", "error"),
            ("DecryptionFailure", "error"),
        ] {
            assert_eq!(Outcome::of_code(code).as_str(), outcome, "{code}");
        }
    }
}
