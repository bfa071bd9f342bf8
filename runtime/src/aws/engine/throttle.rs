//! What the loader does when a quota answers: which answers are throttling, the SDK classifier
//! that leaves them to the loader, and the memory that a `BatchGetSecretValue` was throttled.
//!
//! `BatchGetSecretValue` has a quota of ~100 requests per second and per region that cannot be
//! raised, against ~10,000 for `GetSecretValue` (docs/ecs-facts.md, "Direct-fetch APIs"). For
//! one task, a batch is the cheaper request; for a fleet that starts at once it is the scarcer
//! one. So a throttled batch is not retried at all: its secrets are fetched with
//! `GetSecretValue` at once, and the loader skips batching for [`BATCH_PAUSE`] after that.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::config::interceptors::InterceptorContext;
use aws_sdk_secretsmanager::config::retry::{ClassifyRetry, RetryAction};

/// How long after a throttled batch the loader fetches every secret with `GetSecretValue`.
pub(crate) const BATCH_PAUSE: Duration = Duration::from_secs(60);

/// The error codes of a quota's answer: the ones the SDK's standard retry treats as throttling.
/// The one list: the loader's backoff, the batch fallback and the metrics' `throttled` outcome
/// all ask it.
pub(crate) fn is_throttling(code: &str) -> bool {
    matches!(
        code,
        "Throttling"
            | "ThrottlingException"
            | "ThrottledException"
            | "RequestThrottledException"
            | "TooManyRequestsException"
            | "ProvisionedThroughputExceededException"
            | "TransactionInProgressException"
            | "RequestLimitExceeded"
            | "BandwidthLimitExceeded"
            | "LimitExceededException"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete"
            | "EC2ThrottledException"
    )
}

/// An SDK retry classifier that forbids the SDK's retry of a throttled `BatchGetSecretValue`,
/// `GetSecretValue`, `DescribeSecret` or `GetParameters`: the loader answers those itself (a
/// batch falls back, the others back off in `backoff`). Any other error of theirs is classified as the SDK does. Set
/// per request on the loads' own requests (not on the clients: preflight's reads keep the SDK's
/// retries), unless the caller chose the retry policy
/// ([`Loader::retry_config`](crate::aws::Loader::retry_config)).
#[derive(Debug)]
pub(crate) struct ThrottlingIsOurs;

impl ClassifyRetry for ThrottlingIsOurs {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(error) = error.as_operation_error() else {
            return RetryAction::NoActionIndicated;
        };
        let code = super::ops::secrets_codes(error).or_else(|| super::ops::ssm_codes(error));
        if code.is_some_and(is_throttling) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "ecs-secrets: throttling is retried by the loader"
    }
}

/// The per-request configuration of a load's Secrets Manager request: with the classifier when
/// the loader answers throttling (`ours`), else nothing over the client's.
pub(crate) fn secrets_override(ours: bool) -> aws_sdk_secretsmanager::config::Builder {
    let b = aws_sdk_secretsmanager::config::Builder::default();
    if ours {
        b.retry_classifier(ThrottlingIsOurs)
    } else {
        b
    }
}

/// [`secrets_override`] for SSM.
pub(crate) fn ssm_override(ours: bool) -> aws_sdk_ssm::config::Builder {
    let b = aws_sdk_ssm::config::Builder::default();
    if ours {
        b.retry_classifier(ThrottlingIsOurs)
    } else {
        b
    }
}

/// When a batch of this loader was last throttled.
#[derive(Debug, Default)]
pub(crate) struct BatchMemory(Mutex<Option<Instant>>);

impl BatchMemory {
    pub fn throttled(&self, now: Instant) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(now);
    }

    pub fn last(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The planner's choice: batch unpinned secrets when the caller allows it (`setting`) and no
/// batch of this loader was throttled in the last [`BATCH_PAUSE`] before `now`.
pub(crate) fn batch_now(setting: bool, last_throttled: Option<Instant>, now: Instant) -> bool {
    setting && last_throttled.is_none_or(|t| now.saturating_duration_since(t) >= BATCH_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_codes() {
        for code in [
            "ThrottlingException",
            "TooManyRequestsException",
            "Throttling",
            "RequestLimitExceeded",
        ] {
            assert!(is_throttling(code), "{code}");
        }
        for code in [
            "AccessDeniedException",
            "InternalServiceError",
            "ResourceNotFoundException",
            "",
        ] {
            assert!(!is_throttling(code), "{code}");
        }
    }

    #[test]
    fn batching_pauses_after_a_throttled_batch_and_resumes() {
        let t0 = Instant::now();
        assert!(batch_now(true, None, t0));
        assert!(!batch_now(false, None, t0), "the caller's off stays off");
        let memory = BatchMemory::default();
        assert_eq!(memory.last(), None);
        memory.throttled(t0);
        let last = memory.last();
        assert_eq!(last, Some(t0));
        assert!(!batch_now(true, last, t0));
        assert!(!batch_now(
            true,
            last,
            t0 + BATCH_PAUSE - Duration::from_millis(1)
        ));
        assert!(batch_now(true, last, t0 + BATCH_PAUSE));
        assert!(!batch_now(false, last, t0 + BATCH_PAUSE));
        // A clock that reads earlier than the memory (another thread's instant) still pauses.
        assert!(!batch_now(true, Some(t0 + Duration::from_secs(5)), t0));
    }
}
