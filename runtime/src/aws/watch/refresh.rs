//! Cheap refreshes: how a [`Watch`](super::Watch) refresh fetches, so that one which finds
//! nothing rotated reads no value.
//!
//! Every load of a watch remembers, per distinct secret version and parameter it fetched, the
//! version that answered (`VersionId` of `GetSecretValue` / `BatchGetSecretValue`, `Version` of
//! `GetParameters`) and the raw answer, in wiped memory ([`Kept`]). A refresh then asks, per
//! distinct fetch, only whether that version is still the one that counts (the APIs and quotas:
//! docs/ecs-facts.md, "Direct-fetch APIs" and "Quotas"):
//!
//! - **Secrets followed by stage** (no selector, `AWSCURRENT`, or another stage): one
//!   `DescribeSecret` per distinct secret (all its stages in one answer), metadata only: no
//!   value, no KMS `Decrypt` inside Secrets Manager, CloudTrail records no secret read, and its
//!   quota (40,000/s per account and region) is four times `GetSecretValue`'s and 400 times
//!   `BatchGetSecretValue`'s. Where the version now holding the stage is the one loaded, the
//!   kept answer is used; otherwise the value is fetched (so is a secret scheduled for
//!   deletion, whose read then fails as it would have without the check).
//! - **Secrets pinned by version id** never change: no request at all.
//! - **SSM parameters** have no metadata-only read at the same cost (`DescribeParameters` has a
//!   low quota and no filter for one parameter's version), so the refresh sends the same
//!   `GetParameters` calls as a load (ten names a call) but **without decryption**: the answer
//!   carries each `Version`, and a `SecureString` costs no KMS `Decrypt`. A changed `String` or
//!   `StringList` is taken from that answer (decryption does not apply to them); only a
//!   `SecureString` whose version changed is fetched again, with decryption. A refresh that
//!   finds nothing changed sends as many `GetParameters` as before and decrypts nothing; one
//!   that finds a changed `SecureString` sends one call more. Parameters read through
//!   `/aws/reference/secretsmanager/` are always fetched with decryption: SSM refuses that name
//!   without it.
//! - Anything not known from the last load (the first refresh of an [`Initial::Load`] watch,
//!   a fetch that failed, a describe or check that failed) is fetched as a load would.
//!
//! The values of the fetches that still need one go through the loader's own plan rules
//! (batching, concurrency) in one [`send::send`], within what the version checks left of the
//! loader's deadline: a refresh, checks and reads together, is one run (one concurrency limit,
//! one deadline, and throttled checks backed off as a load's requests are).
//!
//! **Why a kept copy.** The alternative, reading every value again when any secret rotated,
//! keeps no second copy but costs a read (and a KMS decrypt) of every secret at each rotation
//! of one. The copy is of what the process holds anyway in its configuration value: in the same
//! memory, in `Zeroizing` strings wiped when replaced or dropped, never shown by `Debug`, never
//! logged. It is the raw answer (a whole JSON secret, keys the declaration does not use
//! included), dropped for every fetch that is no longer in the plan or failed.
//!
//! **An older role without `secretsmanager:DescribeSecret`.** The first denial is said once in
//! a warning and the watch then reads every secret's value on each refresh, as loads do.
//! [`Role::Task`](crate::Role::Task) grants `DescribeSecret` on every secret not pinned by
//! version id, since the loader cannot know whether the application watches.
//!
//! [`Initial::Load`]: super::Initial::Load

use std::fmt;

use tracing::Instrument;
use zeroize::Zeroizing;

use super::super::engine::failure::{request_failure, unanswered};
use super::super::engine::ops::{DESCRIBE_SECRET as DESCRIBE, GET_PARAMETERS};
use super::super::engine::run::{Job, Jobs};
use super::super::engine::{Engine, Failure, Run, throttle};
use super::super::read::describe::{self, Describe, version_with_stage};
use super::super::read::plan::{
    PARAMS_MAX, ParamFetch, Plan, SecretFetch, param_matches, position_or_push,
};
use super::super::read::send;
use super::super::read::{Fetched, ParamResult, ParamValue, SecretResult, SecretValue};
use crate::deployment::iam::{AWSCURRENT, SSM_SECRETS_MANAGER_REFERENCE};

/// What a watch remembers of its last load: per fetch, the answer with its version.
#[derive(Default)]
pub(crate) struct Kept {
    /// Only `SecretValue::Text` answers that named their `VersionId`.
    secrets: Vec<(SecretFetch, SecretValue)>,
    /// Only answers that named their `Version`.
    params: Vec<(ParamFetch, ParamValue)>,
    /// `DescribeSecret` was denied: every refresh reads every secret's value.
    describe_denied: bool,
}

impl fmt::Debug for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kept")
            .field("secrets", &self.secrets.len())
            .field("params", &self.params.len())
            .field("describe_denied", &self.describe_denied)
            .finish()
    }
}

impl Kept {
    fn secret(&self, fetch: &SecretFetch) -> Option<(&str, &SecretValue)> {
        self.secrets
            .iter()
            .find(|(f, _)| f == fetch)
            .and_then(|(_, value)| match value {
                SecretValue::Text(_, Some(version)) => Some((version.as_str(), value)),
                _ => None,
            })
    }

    fn param(&self, fetch: &ParamFetch) -> Option<&ParamValue> {
        self.params
            .iter()
            .find(|(f, _)| f == fetch)
            .map(|(_, value)| value)
    }

    /// Remembers the answers of this load (and forgets every fetch it did not answer).
    fn remember(&mut self, plan: &Plan, fetched: &Fetched) {
        self.secrets = plan
            .secrets
            .iter()
            .zip(&fetched.secrets)
            .filter_map(|(f, r)| match r {
                Ok(value @ SecretValue::Text(_, Some(_))) => Some((f.clone(), value.clone())),
                _ => None,
            })
            .collect();
        self.params = plan
            .params
            .iter()
            .zip(&fetched.params)
            .filter_map(|(f, r)| match r {
                Ok(value) if value.version.is_some() => Some((f.clone(), value.clone())),
                _ => None,
            })
            .collect();
    }
}

/// Sends `plan` for a watch: the kept answer of every fetch whose version did not change, a
/// value read for the others (see the module docs); then remembers what it got. With nothing
/// kept (a watch's first load) it is one [`send::send`]. The version checks and the reads
/// share one [`Run`]: one concurrency limit, one deadline, one retry budget.
pub(crate) async fn refresh(engine: &Engine, plan: &Plan, kept: &mut Kept) -> Fetched {
    let run = send::run_for(engine, plan);
    let mut secrets: Vec<Option<SecretResult>> = vec![None; plan.secrets.len()];
    let mut params: Vec<Option<ParamResult>> = vec![None; plan.params.len()];

    let mut describes: Vec<Describe> = Vec::new();
    // (secret index, describe index)
    let mut described: Vec<(usize, usize)> = Vec::new();
    for (i, f) in plan.secrets.iter().enumerate() {
        let Some((_, value)) = kept.secret(f) else {
            continue;
        };
        if f.version_id.is_some() {
            // A version never changes.
            secrets[i] = Some(Ok(value.clone()));
        } else if !kept.describe_denied {
            let d = Describe {
                region: f.region.clone(),
                secret_id: f.secret_id.clone(),
            };
            described.push((i, position_or_push(&mut describes, d)));
        }
    }
    let checked: Vec<usize> = (0..plan.params.len())
        .filter(|&i| {
            kept.param(&plan.params[i]).is_some()
                && !plan.params[i]
                    .name
                    .starts_with(SSM_SECRETS_MANAGER_REFERENCE)
        })
        .collect();

    let describing = async {
        if describes.is_empty() {
            Vec::new()
        } else {
            describe::describe_all(engine, &run, &describes).await
        }
    };
    let (answers, (versions, check_calls)) = tokio::join!(
        describing,
        param_versions(engine, &run, plan, &checked, kept)
    );

    let mut denied = false;
    for (i, at) in described {
        let f = &plan.secrets[i];
        match &answers[at] {
            // A secret scheduled for deletion is read, so that the refresh fails as
            // `GetSecretValue` does, rather than serving the kept answer.
            Ok(d) if !d.deleted => {
                let stage = f.stage.as_deref().unwrap_or(AWSCURRENT);
                if let Some((loaded, value)) = kept.secret(f) {
                    if version_with_stage(&d.versions, stage) == Some(loaded) {
                        secrets[i] = Some(Ok(value.clone()));
                    }
                }
            }
            Ok(_) => {}
            Err(failure) => denied |= failure.denied(),
        }
    }
    if denied && !kept.describe_denied {
        kept.describe_denied = true;
        tracing::warn!(
            "{DESCRIBE} was denied: refreshes read every secret's value from now on (grant \
             secretsmanager:DescribeSecret on the secrets, as Role::Task does, to skip \
             unrotated ones)"
        );
    }
    for (i, check) in checked.iter().zip(versions) {
        let Some(loaded) = kept.param(&plan.params[*i]) else {
            continue;
        };
        match check {
            Checked::Version(version) if Some(version) == loaded.version => {
                params[*i] = Some(Ok(loaded.clone()));
            }
            // A changed `String`: the undecrypted answer is its value.
            Checked::Plain(value) => params[*i] = Some(Ok(value)),
            _ => {}
        }
    }

    // Everything else: read as a load reads it.
    let reread = Plan {
        secrets: (0..plan.secrets.len())
            .filter(|&i| secrets[i].is_none())
            .map(|i| plan.secrets[i].clone())
            .collect(),
        params: (0..plan.params.len())
            .filter(|&i| params[i].is_none())
            .map(|i| plan.params[i].clone())
            .collect(),
        fields: Vec::new(),
    };
    let read = (reread.secrets.len(), reread.params.len());
    let mut requests = describes.len() + check_calls;
    if !reread.secrets.is_empty() || !reread.params.is_empty() {
        // One run for the whole refresh: the reads get what the checks left of its deadline
        // (none left: they fail at once with `DeadlineExceeded`).
        let fetched = send::send(engine, &run, &reread).await;
        requests += fetched.requests;
        let mut fresh = fetched.secrets.into_iter();
        for slot in secrets.iter_mut().filter(|s| s.is_none()) {
            *slot = fresh.next();
        }
        let mut fresh = fetched.params.into_iter();
        for slot in params.iter_mut().filter(|s| s.is_none()) {
            *slot = fresh.next();
        }
    }
    tracing::debug!(
        secrets = plan.secrets.len(),
        secrets_read = read.0,
        params = plan.params.len(),
        params_read = read.1,
        requests,
        "refresh fetched"
    );
    let fetched = Fetched {
        secrets: secrets
            .into_iter()
            .map(|r| r.unwrap_or_else(no_answer))
            .collect(),
        params: params
            .into_iter()
            .map(|r| r.unwrap_or_else(no_answer))
            .collect(),
        requests: requests + run.retries_made(),
    };
    kept.remember(plan, &fetched);
    fetched
}

/// A slot no step filled (a bug): fails like a task that ended without an answer.
fn no_answer<T>() -> Result<T, Failure> {
    Err(unanswered("the refresh", None))
}

/// What the undecrypted `GetParameters` said of one parameter.
#[derive(Clone, Default)]
enum Checked {
    /// Nothing: the call failed, or did not name it. Its value is read.
    #[default]
    Unknown,
    /// Its current version (a `SecureString`, or a `String` at the version loaded).
    Version(i64),
    /// A `String` or `StringList` at another version than loaded: its value, as the answer
    /// carries it in clear (decryption does not apply to these types).
    Plain(ParamValue),
}

/// What `GetParameters` without decryption says of each parameter `checked` (indices into
/// `plan.params`), ten names a call per region, all at once under `run` (a throttled check is
/// backed off as a load's request is); also the number of calls. A `SecureString`'s value
/// (encrypted) is wiped unread; so is a `String`'s unless its version changed.
async fn param_versions(
    engine: &Engine,
    run: &Run,
    plan: &Plan,
    checked: &[usize],
    kept: &Kept,
) -> (Vec<Checked>, usize) {
    let mut regions: Vec<&Option<String>> = Vec::new();
    for &i in checked {
        if !regions.contains(&&plan.params[i].region) {
            regions.push(&plan.params[i].region);
        }
    }
    let mut jobs: Jobs<Vec<(usize, Checked)>> = Vec::new();
    for region in regions {
        let items: Vec<usize> = checked
            .iter()
            .copied()
            .filter(|&i| plan.params[i].region == *region)
            .collect();
        for chunk in items.chunks(PARAMS_MAX) {
            let client = engine.ssm_client(region.as_deref());
            let fetches: Vec<(usize, ParamFetch, Option<i64>)> = chunk
                .iter()
                .map(|&i| {
                    let loaded = kept.param(&plan.params[i]).and_then(|v| v.version);
                    (i, plan.params[i].clone(), loaded)
                })
                .collect();
            let ids: Vec<&str> = fetches.iter().map(|(_, p, _)| p.ident.as_str()).collect();
            let span = tracing::info_span!(
                "ecs_secrets.aws.request",
                op = GET_PARAMETERS,
                decryption = false,
                region = region.as_deref().unwrap_or("(config)"),
                ids = ?ids,
                count = ids.len(),
            );
            let run = run.clone();
            let job: Job<_> = Box::pin(versions_of(client, run, fetches).instrument(span));
            jobs.push((GET_PARAMETERS, job));
        }
    }
    let calls = jobs.len();
    let mut out: Vec<Checked> = vec![Checked::Unknown; plan.params.len()];
    for answer in run.all_sending(jobs).await {
        match answer {
            Ok(found) => {
                for (i, checked) in found {
                    out[i] = checked;
                }
            }
            Err(failure) => tracing::debug!(
                code = failure.code(),
                "checking parameter versions failed; reading their values"
            ),
        }
    }
    (
        checked
            .iter()
            .map(|&i| std::mem::take(&mut out[i]))
            .collect(),
        calls,
    )
}

async fn versions_of(
    client: aws_sdk_ssm::Client,
    run: Run,
    fetches: Vec<(usize, ParamFetch, Option<i64>)>,
) -> Result<Vec<(usize, Checked)>, Failure> {
    use aws_sdk_ssm::types::ParameterType;

    let names: Vec<String> = fetches.iter().map(|(_, p, _)| p.ident.clone()).collect();
    let ours = run.retries_throttling();
    let parameters = run
        .send(GET_PARAMETERS, || {
            let request = client
                .get_parameters()
                .set_names(Some(names.clone()))
                .with_decryption(false)
                .customize()
                .config_override(throttle::ssm_override(ours));
            async move {
                request
                    .send()
                    .await
                    .map_err(|e| request_failure(GET_PARAMETERS, &e))
            }
        })
        .await?
        .parameters
        .unwrap_or_default();
    let out = fetches
        .iter()
        .map(|(i, f, loaded)| {
            let Some(p) = parameters
                .iter()
                .find(|p| param_matches(f, p.name.as_deref(), p.arn.as_deref()))
                .filter(|p| p.version > 0)
            else {
                return (*i, Checked::Unknown);
            };
            let plain = matches!(
                p.r#type,
                Some(ParameterType::String | ParameterType::StringList)
            );
            let checked = match &p.value {
                Some(value) if plain && Some(p.version) != *loaded => Checked::Plain(ParamValue {
                    text: Zeroizing::new(value.clone()),
                    version: Some(p.version),
                }),
                _ => Checked::Version(p.version),
            };
            (*i, checked)
        })
        .collect();
    // The values in the answer (a String's in clear, a SecureString's encrypted): wipe them.
    for p in parameters {
        drop(p.value.map(Zeroizing::new));
    }
    Ok(out)
}
