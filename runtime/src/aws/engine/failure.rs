//! Why a request failed, and the requests' tracing: what every read of the loader and every
//! deploy-time verb reports. A [`Failure`] never carries a value.

use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};

use crate::error::{ErrorKind, FetchCode};

/// AWS's code for a secret (or version) that does not exist.
pub(crate) const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";
/// AWS's code for a request the caller's policy does not allow.
pub(crate) const ACCESS_DENIED: &str = "AccessDeniedException";

/// Why one secret or parameter could not be fetched. Never carries a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// [`ErrorKind::Aws`] (AWS's code) or [`ErrorKind::Fetch`] (ours).
    pub kind: ErrorKind,
}

impl Failure {
    pub(crate) fn aws(code: impl Into<String>, reason: impl Into<String>) -> Self {
        Failure {
            kind: ErrorKind::Aws {
                code: code.into(),
                reason: reason.into(),
            },
        }
    }

    pub(crate) fn ours(code: FetchCode, reason: impl Into<String>) -> Self {
        Failure {
            kind: ErrorKind::Fetch {
                code,
                reason: reason.into(),
            },
        }
    }

    /// AWS's or our code, for logs.
    pub fn code(&self) -> &str {
        self.kind.code()
    }

    /// The code and the reason apart, for reports that show both.
    #[cfg(feature = "deploy")]
    pub(crate) fn parts(&self) -> (String, String) {
        match &self.kind {
            ErrorKind::Aws { code, reason } => (code.clone(), reason.clone()),
            ErrorKind::Fetch { code, reason } => (code.as_str().to_owned(), reason.clone()),
            other => (other.code().to_owned(), other.to_string()),
        }
    }

    /// Whether the secret or parameter does not exist (so an `Option` field is `None`).
    pub fn not_found(&self) -> bool {
        match &self.kind {
            ErrorKind::Aws { code, .. } => code == RESOURCE_NOT_FOUND,
            ErrorKind::Fetch { code, .. } => *code == FetchCode::ParameterNotFound,
            _ => false,
        }
    }

    /// Whether AWS refused the request to the caller's policy.
    pub fn denied(&self) -> bool {
        matches!(&self.kind, ErrorKind::Aws { code, .. } if code == ACCESS_DENIED)
    }

    /// Whether a quota answered (the one list of throttling codes).
    pub fn throttled(&self) -> bool {
        matches!(&self.kind, ErrorKind::Aws { code, .. } if super::throttle::is_throttling(code))
    }
}

/// The failure of a whole request after the SDK's retries, for every item it covered.
pub(crate) fn request_failure<E, R>(op: &str, e: &SdkError<E, R>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            let message = err.message().unwrap_or("no message");
            match err.code() {
                Some(code) => Failure::aws(code, format!("{op} failed: {message}")),
                None => Failure::ours(FetchCode::Unknown, format!("{op} failed: {message}")),
            }
        }
        SdkError::TimeoutError(_) => Failure::ours(
            FetchCode::Timeout,
            format!("{op} timed out (every attempt the retry policy allowed)"),
        ),
        SdkError::DispatchFailure(_) => Failure::ours(
            FetchCode::Dispatch,
            format!("{op} could not be sent: {}", chain(e)),
        ),
        SdkError::ConstructionFailure(_) => Failure::ours(
            FetchCode::Construction,
            format!("{op} could not be built: {}", chain(e)),
        ),
        // The chain of a response error can quote the body it failed to read: leave it out.
        SdkError::ResponseError(_) => Failure::ours(
            FetchCode::Response,
            format!("{op} got an answer that could not be read"),
        ),
        _ => Failure::ours(FetchCode::Unknown, format!("{op} failed")),
    }
}

/// An error and its sources, `: `-separated (`DisplayErrorContext` appends a `Debug` dump too).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Why an item of `op` has no answer: the deadline passed (`missed`), or its task ended
/// without one.
pub(crate) fn unanswered(op: &str, missed: Option<Duration>) -> Failure {
    match missed {
        Some(d) => Failure::ours(
            FetchCode::DeadlineExceeded,
            format!("the deadline ({d:?}) passed before {op} answered"),
        ),
        None => Failure::ours(
            FetchCode::NoAnswer,
            format!("the {op} task ended without an answer"),
        ),
    }
}

/// The span of one request: its operation, region, identifiers (ARNs and parameter names,
/// never a value) and count; [`finish`] records how it ended.
pub(crate) fn request_span(op: &'static str, region: Option<&str>, ids: &[&str]) -> tracing::Span {
    tracing::info_span!(
        "ecs_secrets.aws.request",
        op,
        region = region.unwrap_or("(config)"),
        ids = ?ids,
        count = ids.len(),
        duration_ms = tracing::field::Empty,
        outcome = tracing::field::Empty,
        failed = tracing::field::Empty,
    )
}

/// Records how a request ended on its span, and says so in one event.
pub(crate) fn finish(started: Instant, outcome: &str, failed: usize) {
    let span = tracing::Span::current();
    let ms = duration_ms(started.elapsed());
    span.record("duration_ms", ms);
    span.record("outcome", outcome);
    span.record("failed", failed);
    tracing::debug!(duration_ms = ms, outcome, failed, "request finished");
}

pub(crate) fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
