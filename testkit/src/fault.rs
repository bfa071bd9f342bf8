//! The fault rules of the [`Proxy`](crate::Proxy): which requests get which fault.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::Gate;

/// The content type of the AWS JSON 1.1 protocol that Secrets Manager and SSM speak.
pub const AWS_JSON: &str = "application/x-amz-json-1.1";

/// A fault rule: the next `times` requests whose `X-Amz-Target` equals `target` (any request when
/// `None`) get `kind` instead of, or on top of, the endpoint's answer. Rules are tried in the order
/// they were added; a request gets at most one fault; a rule whose `times` is used up stops.
#[derive(Debug)]
pub struct Fault {
    /// The `X-Amz-Target` to match, such as `secretsmanager.BatchGetSecretValue`; `None` matches
    /// every request.
    pub target: Option<String>,
    /// How many matching requests get the fault.
    pub times: usize,
    /// What they get.
    pub kind: FaultKind,
}

impl Fault {
    /// A rule for `times` requests to `target` (an `X-Amz-Target` value).
    #[must_use]
    pub fn on(target: &str, times: usize, kind: FaultKind) -> Self {
        Self {
            target: Some(target.to_owned()),
            times,
            kind,
        }
    }

    /// A rule for the next `times` requests, whatever their target.
    #[must_use]
    pub fn any(times: usize, kind: FaultKind) -> Self {
        Self {
            target: None,
            times,
            kind,
        }
    }
}

/// What a faulty request gets.
pub enum FaultKind {
    /// Answer with this status, body and `Content-Type` without asking the endpoint.
    Status(u16, String, String),
    /// HTTP 400 `{"__type":"ThrottlingException","message":"Rate exceeded"}`, which the SDK's
    /// standard retry mode retries.
    Throttle,
    /// HTTP 400 `{"__type":"AccessDeniedException",…}`, which is not retried.
    AccessDenied,
    /// Close the connection with a TCP reset after reading the request, without forwarding it.
    Reset,
    /// Forward the request, then hold the answer back this long. Only for a lower bound on how
    /// long something takes: a client that must give up first (an attempt timeout, a deadline)
    /// needs a [`FaultKind::Hold`] that is never released, which no machine's slowness can
    /// outrun.
    Delay(Duration),
    /// Forward the request, then hold the answer until the [`Gate`] lets it through.
    Hold(Gate),
    /// Forward the request, then send the head with the full `Content-Length` but only half the
    /// body, and close the connection.
    TruncateBody,
    /// Forward the request, then pass the JSON answer through this function (an answer that is not
    /// JSON is passed on unchanged). The function must not panic: that drops the connection.
    Rewrite(Box<dyn Fn(Value) -> Value + Send + Sync>),
}

impl FaultKind {
    /// An AWS JSON error answer: `status` with `{"__type": error_type, "message": message}`.
    #[must_use]
    pub fn json_error(status: u16, error_type: &str, message: &str) -> Self {
        let body = serde_json::json!({ "__type": error_type, "message": message });
        Self::Status(status, body.to_string(), AWS_JSON.to_owned())
    }

    /// [`FaultKind::Rewrite`] without the `Box`.
    pub fn rewrite(f: impl Fn(Value) -> Value + Send + Sync + 'static) -> Self {
        Self::Rewrite(Box::new(f))
    }

    /// The canned answer of the kinds that do not ask the endpoint.
    pub(crate) fn canned(&self) -> Option<(u16, String, String)> {
        match self {
            Self::Status(status, body, content_type) => {
                Some((*status, body.clone(), content_type.clone()))
            }
            Self::Throttle => {
                Self::json_error(400, "ThrottlingException", "Rate exceeded").canned()
            }
            Self::AccessDenied => Self::json_error(
                400,
                "AccessDeniedException",
                "User: arn:aws:sts::123456789012:assumed-role/test/ecs-secrets-testkit is not \
                 authorized to perform this operation (fault injected by ecs-secrets-testkit)",
            )
            .canned(),
            _ => None,
        }
    }
}

impl fmt::Debug for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status, body, content_type) => f
                .debug_tuple("Status")
                .field(status)
                .field(body)
                .field(content_type)
                .finish(),
            Self::Throttle => f.write_str("Throttle"),
            Self::AccessDenied => f.write_str("AccessDenied"),
            Self::Reset => f.write_str("Reset"),
            Self::Delay(d) => f.debug_tuple("Delay").field(d).finish(),
            Self::Hold(gate) => f.debug_tuple("Hold").field(gate).finish(),
            Self::TruncateBody => f.write_str("TruncateBody"),
            Self::Rewrite(_) => f.write_str("Rewrite(..)"),
        }
    }
}
