//! Sends a [`Plan`]: every request at once on its own task, under one [`Run`] (its
//! concurrency limit, deadline and throttling backoff), with the engine's clients.
//!
//! Each request gets a `tracing` span (`ecs_secrets.aws.request`) with its operation, region,
//! identifiers, count, duration and outcome. Identifiers are ARNs and parameter names; no value
//! ever goes into a span, an event or a [`Failure`].

use std::time::Instant;

use tokio::task::JoinSet;
use tracing::Instrument;
use zeroize::Zeroizing;

use crate::error::FetchCode;

use super::super::engine::failure::{finish, request_failure, request_span, unanswered};
use super::super::engine::ops::{BATCH_GET_SECRET_VALUE, GET_PARAMETERS, GET_SECRET_VALUE};
use super::super::engine::{Engine, Failure, Run, throttle};
use super::plan::{ParamFetch, Plan, Request, SecretFetch, param_matches};
use super::{Done, Fetched, ParamResult, ParamValue, SecretResult, secret_value};

struct Ctx<'a> {
    plan: &'a Plan,
    engine: &'a Engine,
    run: &'a Run,
    /// The operation each unanswered secret / parameter waits on, for deadline errors.
    secret_ops: Vec<&'static str>,
    param_ops: Vec<&'static str>,
    requests: usize,
}

/// A run sized for `plan`: its throttling retries are budgeted by the requests the plan sends
/// when nothing is batched (a throttled batch's fallback sends one per secret).
pub(crate) fn run_for(engine: &Engine, plan: &Plan) -> Run {
    engine.run(plan.requests(false).len())
}

/// Sends every request of the plan under `run` and collects the answers. Never fails as a
/// whole: each secret and parameter gets its own result. The requests counted are the plan's
/// and its fallbacks; the run's throttling retries are the run's ([`Run::retries_made`]).
pub(crate) async fn send(engine: &Engine, run: &Run, plan: &Plan) -> Fetched {
    let requests = plan.requests(engine.batch_now());
    let mut ctx = Ctx {
        plan,
        engine,
        run,
        secret_ops: vec![BATCH_GET_SECRET_VALUE; plan.secrets.len()],
        param_ops: vec![GET_PARAMETERS; plan.params.len()],
        requests: 0,
    };
    let mut secrets: Vec<Option<SecretResult>> = vec![None; plan.secrets.len()];
    let mut params: Vec<Option<ParamResult>> = vec![None; plan.params.len()];
    let mut tasks = JoinSet::new();
    for request in requests {
        spawn(&mut ctx, &mut tasks, request);
    }

    let drive = drive(&mut ctx, &mut tasks, &mut secrets, &mut params);
    let missing = run.within(drive).await;
    // Dropping the set aborts whatever is still running.
    drop(tasks);
    let unanswered = |op: &str| unanswered(op, missing);
    if missing.is_some() {
        tracing::warn!(deadline = ?run.deadline(), "deadline passed; unanswered fetches fail");
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
        requests: ctx.requests,
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
                if why.throttled() {
                    ctx.engine.batch_throttled();
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
    let run = ctx.run.clone();
    match request {
        Request::Batch { region, items } => {
            let client = ctx.engine.secrets_client(&region);
            let fetches: Vec<(usize, SecretFetch)> = items
                .iter()
                .map(|&i| (i, ctx.plan.secrets[i].clone()))
                .collect();
            let ids: Vec<&str> = fetches.iter().map(|(_, s)| s.secret_id.as_str()).collect();
            let span = request_span(BATCH_GET_SECRET_VALUE, Some(&region), &ids);
            tasks.spawn(super::batch::batch(client, fetches, run).instrument(span));
        }
        Request::Get { item } => {
            let fetch = ctx.plan.secrets[item].clone();
            let client = ctx.engine.secrets_client(&fetch.region);
            ctx.secret_ops[item] = GET_SECRET_VALUE;
            let span = request_span(GET_SECRET_VALUE, Some(&fetch.region), &[&fetch.describe()]);
            tasks.spawn(get(client, item, fetch, run).instrument(span));
        }
        Request::Params { region, items } => {
            let client = ctx.engine.ssm_client(region.as_deref());
            let fetches: Vec<(usize, ParamFetch)> = items
                .iter()
                .map(|&i| (i, ctx.plan.params[i].clone()))
                .collect();
            let ids: Vec<&str> = fetches.iter().map(|(_, p)| p.ident.as_str()).collect();
            let span = request_span(GET_PARAMETERS, region.as_deref(), &ids);
            tasks.spawn(get_parameters(client, fetches, run).instrument(span));
        }
    }
}

async fn get(
    client: aws_sdk_secretsmanager::Client,
    item: usize,
    fetch: SecretFetch,
    run: Run,
) -> Done {
    let started = Instant::now();
    let ours = run.retries_throttling();
    let sent = run
        .send(GET_SECRET_VALUE, || {
            let request = client
                .get_secret_value()
                .secret_id(&fetch.secret_id)
                .set_version_stage(fetch.stage.clone())
                .set_version_id(fetch.version_id.clone())
                .customize()
                .config_override(throttle::secrets_override(ours));
            async move {
                request
                    .send()
                    .await
                    .map_err(|e| request_failure(GET_SECRET_VALUE, &e))
            }
        })
        .await;
    let result = match sent {
        Ok(out) => {
            finish(started, "ok", 0);
            Ok(secret_value(
                out.secret_string,
                out.secret_binary,
                out.version_id,
            ))
        }
        Err(failure) => {
            finish(started, failure.code(), 1);
            Err(failure)
        }
    };
    Done::Secrets(vec![(item, result)])
}

async fn get_parameters(
    client: aws_sdk_ssm::Client,
    fetches: Vec<(usize, ParamFetch)>,
    run: Run,
) -> Done {
    let started = Instant::now();
    let names: Vec<String> = fetches.iter().map(|(_, p)| p.ident.clone()).collect();
    let ours = run.retries_throttling();
    let sent = run
        .send(GET_PARAMETERS, || {
            let request = client
                .get_parameters()
                .set_names(Some(names.clone()))
                .with_decryption(true)
                .customize()
                .config_override(throttle::ssm_override(ours));
            async move {
                request
                    .send()
                    .await
                    .map_err(|e| request_failure(GET_PARAMETERS, &e))
            }
        })
        .await;
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
