//! Runs a [`Plan`]: every request at once on its own task, bounded by a semaphore and the load's
//! deadline, with the [`Loader`]'s clients (one per region, built once).
//!
//! Each request gets a `tracing` span (`ecs_secrets.aws.request`) with its operation, region,
//! identifiers, count, duration and outcome. Identifiers are ARNs and parameter names; no value
//! ever goes into a span, an event or a [`Failure`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;
use zeroize::Zeroizing;

use crate::error::{ErrorKind, FetchCode};

use super::Loader;
use super::backoff::{self, Retries};
use super::plan::{ParamFetch, Plan, Request, SecretFetch, param_matches};
use super::throttle;

pub(super) const BATCH_GET: &str = "BatchGetSecretValue";
const GET: &str = "GetSecretValue";
const GET_PARAMETERS: &str = "GetParameters";

/// AWS's code for a secret (or version) that does not exist.
pub(crate) const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";

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

/// Why one secret or parameter could not be fetched. Never carries a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// [`ErrorKind::Aws`] (AWS's code) or [`ErrorKind::Fetch`] (ours).
    pub kind: ErrorKind,
}

impl Failure {
    pub(super) fn aws(code: impl Into<String>, reason: impl Into<String>) -> Self {
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
    pub(super) fn parts(&self) -> (String, String) {
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
}

pub(super) type SecretResult = Result<SecretValue, Failure>;
pub(super) type ParamResult = Result<ParamValue, Failure>;

/// The outcome of every fetch of a plan, by index into [`Plan::secrets`] / [`Plan::params`].
pub(crate) struct Fetched {
    pub secrets: Vec<SecretResult>,
    pub params: Vec<ParamResult>,
    /// How many requests were sent (fallbacks included), for the load's span.
    pub requests: usize,
}

/// What a request task reports.
pub(super) enum Done {
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

struct Ctx<'a> {
    plan: &'a Plan,
    loader: &'a Loader,
    permits: Arc<Semaphore>,
    /// The operation each unanswered secret / parameter waits on, for deadline errors.
    secret_ops: Vec<&'static str>,
    param_ops: Vec<&'static str>,
    requests: usize,
    /// The loader's own retries of throttled requests (`None`: the SDK's retry policy).
    retries: Option<Arc<Retries>>,
}

/// Sends every request of the plan and collects the answers. Never fails as a whole: each
/// secret and parameter gets its own result.
pub(crate) async fn fetch(loader: &Loader, plan: &Plan) -> Fetched {
    let options = loader.settings();
    let requests = plan.requests(loader.batch_now());
    let retries = loader.retries_throttling().then(|| {
        // Budgeted by the requests the load sends when nothing is batched: a throttled batch's
        // fallback sends one per secret.
        Arc::new(Retries::new(
            plan.requests(false).len(),
            Instant::now(),
            options.deadline,
        ))
    });
    let mut ctx = Ctx {
        plan,
        loader,
        permits: Arc::new(Semaphore::new(options.max_concurrency.max(1))),
        secret_ops: vec![BATCH_GET; plan.secrets.len()],
        param_ops: vec![GET_PARAMETERS; plan.params.len()],
        requests: 0,
        retries,
    };
    let mut secrets: Vec<Option<SecretResult>> = vec![None; plan.secrets.len()];
    let mut params: Vec<Option<ParamResult>> = vec![None; plan.params.len()];
    let mut tasks = JoinSet::new();
    for request in requests {
        spawn(&mut ctx, &mut tasks, request);
    }

    let drive = drive(&mut ctx, &mut tasks, &mut secrets, &mut params);
    let missing = within(options.deadline, drive).await;
    // Dropping the set aborts whatever is still running.
    drop(tasks);
    let unanswered = |op: &str| unanswered(op, missing);
    if missing.is_some() {
        tracing::warn!(deadline = ?options.deadline, "deadline passed; unanswered fetches fail");
    }
    Fetched {
        secrets: secrets
            .into_iter()
            .zip(&ctx.secret_ops)
            .map(|(r, op)| r.unwrap_or_else(|| Err(unanswered(op))))
            .collect(),
        params: params
            .into_iter()
            .zip(&ctx.param_ops)
            .map(|(r, op)| r.unwrap_or_else(|| Err(unanswered(op))))
            .collect(),
        requests: ctx.requests + ctx.retries.as_ref().map_or(0, |r| r.made()),
    }
}

async fn drive(
    ctx: &mut Ctx<'_>,
    tasks: &mut JoinSet<Done>,
    secrets: &mut [Option<SecretResult>],
    params: &mut [Option<ParamResult>],
) {
    while let Some(joined) = tasks.join_next().await {
        // A panicked task (a bug) leaves its items unanswered; they fail with `NoAnswer`.
        let Ok(done) = joined else { continue };
        match done {
            Done::Secrets(results) => {
                for (i, r) in results {
                    secrets[i] = Some(r);
                }
            }
            Done::Params(results) => {
                for (i, r) in results {
                    params[i] = Some(r);
                }
            }
            Done::Batch {
                results,
                unanswered,
                more_pages,
            } => {
                ctx.requests += more_pages;
                for (i, r) in results {
                    secrets[i] = Some(r);
                }
                if !unanswered.is_empty() {
                    tracing::warn!(
                        secrets = unanswered.len(),
                        "BatchGetSecretValue answered neither a value nor an error; fetching \
                         with GetSecretValue"
                    );
                }
                for item in unanswered {
                    spawn(ctx, tasks, Request::Get { item });
                }
            }
            Done::Fallback(items, why) => {
                if matches!(&why.kind, ErrorKind::Aws { code, .. } if super::throttle::is_throttling(code))
                {
                    ctx.loader.batch_throttled();
                }
                tracing::warn!(
                    code = why.code(),
                    secrets = items.len(),
                    "BatchGetSecretValue refused; fetching with GetSecretValue instead"
                );
                for item in items {
                    spawn(ctx, tasks, Request::Get { item });
                }
            }
        }
    }
}

fn spawn(ctx: &mut Ctx<'_>, tasks: &mut JoinSet<Done>, request: Request) {
    ctx.requests += 1;
    let permits = Arc::clone(&ctx.permits);
    match request {
        Request::Batch { region, items } => {
            let client = ctx.loader.secrets_client(&region);
            let fetches: Vec<(usize, SecretFetch)> = items
                .iter()
                .map(|&i| (i, ctx.plan.secrets[i].clone()))
                .collect();
            let ids: Vec<&str> = fetches.iter().map(|(_, s)| s.secret_id.as_str()).collect();
            let span = request_span(BATCH_GET, Some(&region), &ids);
            let ours = ctx.retries.is_some();
            tasks.spawn(super::batch::batch(client, fetches, permits, ours).instrument(span));
        }
        Request::Get { item } => {
            let fetch = ctx.plan.secrets[item].clone();
            let client = ctx.loader.secrets_client(&fetch.region);
            ctx.secret_ops[item] = GET;
            let span = request_span(GET, Some(&fetch.region), &[&fetch.describe()]);
            let retries = ctx.retries.clone();
            tasks.spawn(get(client, item, fetch, permits, retries).instrument(span));
        }
        Request::Params { region, items } => {
            let client = ctx.loader.ssm_client(region.as_deref());
            let fetches: Vec<(usize, ParamFetch)> = items
                .iter()
                .map(|&i| (i, ctx.plan.params[i].clone()))
                .collect();
            let ids: Vec<&str> = fetches.iter().map(|(_, p)| p.ident.as_str()).collect();
            let span = request_span(GET_PARAMETERS, region.as_deref(), &ids);
            let retries = ctx.retries.clone();
            tasks.spawn(get_parameters(client, fetches, permits, retries).instrument(span));
        }
    }
}

fn request_span(op: &'static str, region: Option<&str>, ids: &[&str]) -> tracing::Span {
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
pub(super) fn finish(started: Instant, outcome: &str, failed: usize) {
    let span = tracing::Span::current();
    let ms = duration_ms(started.elapsed());
    span.record("duration_ms", ms);
    span.record("outcome", outcome);
    span.record("failed", failed);
    tracing::debug!(duration_ms = ms, outcome, failed, "request finished");
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
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

/// Whether a failed `BatchGetSecretValue` should be retried one by one: the role may lack
/// `secretsmanager:BatchGetSecretValue` (it needs `*`), and its quota (~100/s) is far below
/// `GetSecretValue`'s.
pub(super) fn falls_back(failure: &Failure) -> bool {
    matches!(
        &failure.kind,
        ErrorKind::Aws { code, .. }
            if code == "AccessDeniedException" || super::throttle::is_throttling(code)
    )
}

/// Runs `work` within `deadline`: `Some(deadline)` when the deadline passed first.
pub(super) async fn within(
    deadline: Option<Duration>,
    work: impl Future<Output = ()>,
) -> Option<Duration> {
    match deadline {
        Some(d) => tokio::time::timeout(d, work).await.err().map(|_| d),
        None => {
            work.await;
            None
        }
    }
}

/// Why an item of `op` has no answer: the deadline passed (`missed`), or its task ended
/// without one.
pub(super) fn unanswered(op: &str, missed: Option<Duration>) -> Failure {
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

/// `SecretString` (with the answer's `VersionId`), or else a binary secret (`SecretBinary`,
/// which has no text). A binary value is wiped here: ECS cannot inject it, and neither does the
/// loader.
pub(super) fn secret_value(
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

async fn get(
    client: aws_sdk_secretsmanager::Client,
    item: usize,
    fetch: SecretFetch,
    permits: Arc<Semaphore>,
    retries: Option<Arc<Retries>>,
) -> Done {
    let started = Instant::now();
    let mut retry = 0;
    let result = loop {
        let permit = permits.acquire().await.ok();
        let sent = client
            .get_secret_value()
            .secret_id(&fetch.secret_id)
            .set_version_stage(fetch.stage.clone())
            .set_version_id(fetch.version_id.clone())
            .customize()
            .config_override(throttle::secrets_override(retries.is_some()))
            .send()
            .await;
        drop(permit);
        match sent {
            Ok(out) => {
                finish(started, "ok", 0);
                break Ok(secret_value(
                    out.secret_string,
                    out.secret_binary,
                    out.version_id,
                ));
            }
            Err(e) => {
                let mut failure = request_failure(GET, &e);
                let retries = retries.as_deref();
                if backoff::after_failure(GET, retries, &mut retry, started, &mut failure).await {
                    continue;
                }
                finish(started, failure.code(), 1);
                break Err(failure);
            }
        }
    };
    Done::Secrets(vec![(item, result)])
}

async fn get_parameters(
    client: aws_sdk_ssm::Client,
    fetches: Vec<(usize, ParamFetch)>,
    permits: Arc<Semaphore>,
    retries: Option<Arc<Retries>>,
) -> Done {
    let started = Instant::now();
    let names: Vec<String> = fetches.iter().map(|(_, p)| p.ident.clone()).collect();
    let mut retry = 0;
    let sent = loop {
        let permit = permits.acquire().await.ok();
        let sent = client
            .get_parameters()
            .set_names(Some(names.clone()))
            .with_decryption(true)
            .customize()
            .config_override(throttle::ssm_override(retries.is_some()))
            .send()
            .await;
        drop(permit);
        match sent {
            Err(e) => {
                let mut failure = request_failure(GET_PARAMETERS, &e);
                let retries = retries.as_deref();
                if backoff::after_failure(
                    GET_PARAMETERS,
                    retries,
                    &mut retry,
                    started,
                    &mut failure,
                )
                .await
                {
                    continue;
                }
                break Err(failure);
            }
            Ok(out) => break Ok(out),
        }
    };
    let out = match sent {
        Ok(out) => out,
        Err(failure) => {
            finish(started, failure.code(), fetches.len());
            return Done::Params(
                fetches
                    .into_iter()
                    .map(|(i, _)| (i, Err(failure.clone())))
                    .collect(),
            );
        }
    };
    let parameters = out.parameters.unwrap_or_default();
    let invalid = out.invalid_parameters.unwrap_or_default();
    let mut results = Vec::with_capacity(fetches.len());
    for (i, fetch) in &fetches {
        let found = parameters
            .iter()
            .position(|p| param_matches(fetch, p.name.as_deref(), p.arn.as_deref()));
        let result = match found {
            // One parameter can answer two identifiers (`/a/b` and its ARN): keep a copy.
            Some(at) => match &parameters[at].value {
                Some(v) => Ok(ParamValue {
                    text: Zeroizing::new(v.clone()),
                    version: Some(parameters[at].version),
                }),
                None => Err(Failure::ours(
                    FetchCode::NoValue,
                    format!("{GET_PARAMETERS} returned the parameter without a value"),
                )),
            },
            None if invalid.contains(&fetch.ident) => Err(Failure::ours(
                FetchCode::ParameterNotFound,
                format!(
                    "{GET_PARAMETERS} listed it in InvalidParameters: it does not exist, or \
                     is not visible to this role and region"
                ),
            )),
            None => Err(Failure::ours(
                FetchCode::NotInResponse,
                format!("{GET_PARAMETERS} answered without this parameter"),
            )),
        };
        results.push((*i, result));
    }
    // Wipe the SDK's copies of the values.
    for p in parameters {
        drop(p.value.map(Zeroizing::new));
    }
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    finish(started, if failed == 0 { "ok" } else { "partial" }, failed);
    Done::Params(results)
}
