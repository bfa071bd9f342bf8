//! The reads of a load: the [`Plan`](plan::Plan) of requests a load sends, and sending it
//! ([`send`]) — batches ([`batch`]), one-by-one reads and parameters —, and the metadata reads a
//! refresh and pin share ([`describe`]). The answer types every reader of values shares live
//! here.

pub(crate) mod batch;
pub(crate) mod describe;
pub(crate) mod plan;
pub(crate) mod send;

use zeroize::Zeroizing;

use super::engine::Failure;

/// A fetched secret.
#[derive(Clone)]
pub(crate) enum SecretValue {
    /// `SecretString` (wiped when dropped), and the `VersionId` the answer named: what a
    /// [`Watch`](super::Watch) refresh compares with `DescribeSecret` to skip an unrotated
    /// secret.
    Text(Zeroizing<String>, Option<String>),
    /// `SecretBinary` only: ECS cannot inject it, and neither do we.
    Binary,
}

/// A fetched parameter: its value (wiped when dropped) and its `Version`, which a
/// [`Watch`](super::Watch) refresh compares to skip an unchanged parameter.
#[derive(Clone)]
pub(crate) struct ParamValue {
    pub text: Zeroizing<String>,
    pub version: Option<i64>,
}

pub(crate) type SecretResult = Result<SecretValue, Failure>;
pub(crate) type ParamResult = Result<ParamValue, Failure>;

/// The outcome of every fetch of a plan, by index into [`Plan::secrets`] / [`Plan::params`].
pub(crate) struct Fetched {
    pub secrets: Vec<SecretResult>,
    pub params: Vec<ParamResult>,
    /// How many requests were sent (fallbacks included), for the load's span.
    pub requests: usize,
}

/// What a request task reports.
pub(crate) enum Done {
    Secrets(Vec<(usize, SecretResult)>),
    Params(Vec<(usize, ParamResult)>),
    /// A `BatchGetSecretValue` call (with every page its `NextToken`s asked for): the answers,
    /// the items it answered neither with a value nor with an error (fetched again one by one
    /// before they are reported), and how many pages past the first it took.
    Batch {
        results: Vec<(usize, SecretResult)>,
        unanswered: Vec<usize>,
        more_pages: usize,
    },
    /// `BatchGetSecretValue` was denied or throttled: fetch these one by one instead.
    Fallback(Vec<usize>, Failure),
}

/// `SecretString` (with the answer's `VersionId`), or else a binary secret (`SecretBinary`,
/// which has no text). A binary value is wiped here: ECS cannot inject it, and neither does the
/// loader.
pub(crate) fn secret_value(
    string: Option<String>,
    binary: Option<aws_sdk_secretsmanager::primitives::Blob>,
    version_id: Option<String>,
) -> SecretValue {
    drop(binary.map(|b| Zeroizing::new(b.into_inner())));
    match string {
        Some(s) => SecretValue::Text(Zeroizing::new(s), version_id),
        None => SecretValue::Binary,
    }
}
