//! The SSM checks: `GetParameters` **without decryption**, ten names per call and per region,
//! each distinct identifier once, sent as the `valueFrom` holds it (as the agent sends it).
//!
//! Why `GetParameters` and not `DescribeParameters`: it is the call ECS makes, with the same
//! identifiers, so a name it lists in `InvalidParameters` is exactly a name that fails the task
//! (missing in that region, or not visible); it needs the execution role's own action,
//! `ssm:GetParameters`, on the parameter ARNs, where `DescribeParameters` needs
//! `ssm:DescribeParameters` on `*` and lists only the caller's own account's parameters (a
//! shared parameter needs another filter). Without decryption no KMS call is made and no
//! `SecureString` is decrypted.
//!
//! What it cannot tell, the tier and a `SecureString`'s key id, comes from one
//! `DescribeParameters` per region and 50 existing names (`Name` `Equals` filter; metadata only,
//! no value at all), which needs `ssm:DescribeParameters` on `*` and lists only the caller's own
//! account's parameters: a parameter shared from another account gets neither check.
//!
//! Sizes without decrypting: a `String`/`StringList` value is in clear in the `GetParameters`
//! answer, so its length is exact and checked against its tier's limit (4 KB standard, 8 KB
//! advanced; SSM itself refuses a longer value at `PutParameter`, so this catches an endpoint
//! that broke its contract or a tier changed behind it). A `SecureString`'s answer is its
//! ciphertext, whose length is not the plaintext's (KMS adds a header and the SDK encodes it),
//! so nothing about the plaintext's size can be known without decrypting; SSM enforced the
//! tier's limit on the plaintext when it was written. Every value in the answer is wiped, and
//! none is kept or shown; only the length of a clear value is looked at.
//!
//! A `SecureString`'s key is checked with the declared keys (`kms.rs`), except the AWS managed
//! `alias/aws/ssm`, which cannot be disabled or deleted.

use zeroize::Zeroizing;

use crate::value_from::{SsmRef, ValueFrom};

use super::{Finding, PARAMETER_VALUE_LIMIT, request_finding};
use crate::aws::engine::Failure;
use crate::aws::engine::failure::request_failure;
use crate::aws::engine::run::Job;
use crate::aws::engine::{Engine, Run};
use crate::aws::read::plan::{ParamFetch, param_matches};

const GET_PARAMETERS: &str = "GetParameters";
/// `GetParameters` takes at most ten names.
const BATCH: usize = 10;
const SECURE_STRING: &str = "SecureString";

/// What the SSM checks found, by index into the references.
#[derive(Default)]
pub(super) struct Found {
    pub findings: Vec<(usize, Finding)>,
    /// The type of each parameter that exists.
    pub types: Vec<(usize, String)>,
    /// The customer-managed key of each `SecureString`: (reference, key region, key id).
    pub keys: Vec<(usize, String, String)>,
}

/// What `DescribeParameters` said about one parameter.
#[derive(Clone, Debug)]
struct Meta {
    name: String,
    tier: String,
    key_id: Option<String>,
}

const DESCRIBE_PARAMETERS: &str = "DescribeParameters";
/// `DescribeParameters` takes at most 50 values in a filter.
const DESCRIBE_BATCH: usize = 50;
const ADVANCED: &str = "Advanced";
/// SSM's AWS managed key: it cannot be disabled or deleted.
const AWS_MANAGED_KEY: &str = "alias/aws/ssm";

/// What `GetParameters` said about one identifier; never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Exists {
        kind: String,
        /// Only for a `String`/`StringList`: the length of the clear value (never shown).
        clear_len: Option<usize>,
    },
    Invalid,
    NotInResponse,
}

/// See the module docs. `/aws/reference/secretsmanager/` parameters are left to `secrets.rs`.
pub(super) async fn check(
    engine: &Engine,
    run: &Run,
    refs: &[&ValueFrom],
    default_region: &str,
) -> Found {
    let mut params: Vec<ParamFetch> = Vec::new();
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    for (at, r) in refs.iter().enumerate() {
        let ValueFrom::Ssm(p) = r else { continue };
        if super::secrets::referenced_secret(p, default_region).is_some() {
            continue;
        }
        let fetch = param_fetch(p);
        let i = match params.iter().position(|x| *x == fetch) {
            Some(i) => i,
            None => {
                params.push(fetch);
                params.len() - 1
            }
        };
        wanted.push((at, i));
    }
    let region_of: Vec<String> = params
        .iter()
        .map(|p| {
            p.region
                .clone()
                .unwrap_or_else(|| default_region.to_owned())
        })
        .collect();
    let batches = batches(&params, BATCH, |_| true);
    let jobs = batches
        .iter()
        .map(|batch| {
            let client = engine.ssm_client(params[batch[0]].region.as_deref());
            let fetches: Vec<ParamFetch> = batch.iter().map(|&i| params[i].clone()).collect();
            let job: Job<Result<Vec<Answer>, Failure>> =
                Box::pin(async move { get_parameters(client, fetches).await });
            (GET_PARAMETERS, job)
        })
        .collect();
    let answers = run.all(jobs).await;
    // The answer of each distinct parameter.
    let mut by_param: Vec<Option<Result<Answer, Failure>>> = vec![None; params.len()];
    for (batch, answer) in batches.iter().zip(answers) {
        for (n, &i) in batch.iter().enumerate() {
            by_param[i] = Some(match &answer {
                Ok(list) => Ok(list[n].clone()),
                Err(f) => Err(f.clone()),
            });
        }
    }
    let metas = describe_all(engine, run, &params, &by_param).await;
    let mut found = Found::default();
    for (at, i) in wanted {
        let region = region_of[i].clone();
        let not_found = Finding::ParameterNotFound { region };
        let answer = by_param[i].clone().unwrap_or_else(|| {
            Err(Failure::ours(
                crate::error::FetchCode::NoAnswer,
                format!("no {GET_PARAMETERS} was sent for it"),
            ))
        });
        match answer {
            Ok(Answer::Exists { kind, clear_len }) => {
                let meta = match &metas[i] {
                    Ok(meta) => meta.as_ref(),
                    Err(f) => {
                        found
                            .findings
                            .push((at, request_finding(DESCRIBE_PARAMETERS, f)));
                        None
                    }
                };
                let limit = match meta {
                    Some(m) if m.tier != ADVANCED => crate::deploy::PARAMETER_STANDARD_LIMIT,
                    _ => PARAMETER_VALUE_LIMIT,
                };
                if clear_len.is_some_and(|len| len > limit) {
                    found
                        .findings
                        .push((at, Finding::ParameterTooLarge { limit }));
                }
                let key = meta.and_then(|m| m.key_id.as_deref());
                if let Some(key) = key.filter(|k| kind == SECURE_STRING && !is_aws_managed(k)) {
                    let region = key_region(key).unwrap_or(&region_of[i]).to_owned();
                    found.keys.push((at, region, key.to_owned()));
                }
                found.types.push((at, kind));
            }
            Ok(Answer::Invalid) => found.findings.push((at, not_found)),
            Ok(Answer::NotInResponse) => found.findings.push((
                at,
                Finding::Request {
                    operation: GET_PARAMETERS,
                    code: "NotInResponse".to_owned(),
                    reason: format!("{GET_PARAMETERS} answered without this parameter"),
                },
            )),
            Err(f) => found
                .findings
                .push((at, request_finding(GET_PARAMETERS, &f))),
        }
    }
    found
}

fn param_fetch(p: &SsmRef) -> ParamFetch {
    ParamFetch {
        region: p.region().map(str::to_owned),
        ident: match p {
            SsmRef::Arn { .. } => p.arn().unwrap_or_else(|| p.parameter_name()),
            SsmRef::Name(name) => name.clone(),
        },
        name: p.parameter_name(),
    }
}

/// The distinct parameters that `keep` keeps, grouped by region (in order of first
/// appearance), `size` a batch.
fn batches(params: &[ParamFetch], size: usize, keep: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
    let mut regions: Vec<&Option<String>> = Vec::new();
    for p in params {
        if !regions.contains(&&p.region) {
            regions.push(&p.region);
        }
    }
    let mut out = Vec::new();
    for region in regions {
        let of_region: Vec<usize> = (0..params.len())
            .filter(|&i| params[i].region == *region && keep(i))
            .collect();
        out.extend(of_region.chunks(size).map(<[usize]>::to_vec));
    }
    out
}

/// The metadata of every parameter that exists, by index into `params`: `Ok(None)` when
/// `DescribeParameters` does not list it (another account's), `Err` when the call failed.
async fn describe_all(
    engine: &Engine,
    run: &Run,
    params: &[ParamFetch],
    answers: &[Option<Result<Answer, Failure>>],
) -> Vec<Result<Option<Meta>, Failure>> {
    let exists = |i: usize| matches!(answers[i], Some(Ok(Answer::Exists { .. })));
    let batches = batches(params, DESCRIBE_BATCH, exists);
    let jobs = batches
        .iter()
        .map(|batch| {
            let client = engine.ssm_client(params[batch[0]].region.as_deref());
            let names: Vec<String> = batch.iter().map(|&i| params[i].name.clone()).collect();
            let job: Job<Result<Vec<Meta>, Failure>> =
                Box::pin(async move { describe(client, names).await });
            (DESCRIBE_PARAMETERS, job)
        })
        .collect();
    let described = run.all(jobs).await;
    let mut out: Vec<Result<Option<Meta>, Failure>> = vec![Ok(None); params.len()];
    for (batch, answer) in batches.iter().zip(described) {
        for &i in batch {
            out[i] = match &answer {
                Ok(metas) => Ok(metas.iter().find(|m| m.name == params[i].name).cloned()),
                Err(f) => Err(f.clone()),
            };
        }
    }
    out
}

/// `DescribeParameters` for `names` (`Name` `Equals`), every page.
async fn describe(client: aws_sdk_ssm::Client, names: Vec<String>) -> Result<Vec<Meta>, Failure> {
    use aws_sdk_ssm::types::ParameterStringFilter;

    let filter = ParameterStringFilter::builder()
        .key("Name")
        .option("Equals")
        .set_values(Some(names))
        .build()
        .map_err(|e| {
            Failure::ours(
                crate::error::FetchCode::Construction,
                format!("{DESCRIBE_PARAMETERS} could not be built: {e}"),
            )
        })?;
    let mut pages = client
        .describe_parameters()
        .parameter_filters(filter)
        .max_results(i32::try_from(DESCRIBE_BATCH).unwrap_or(50))
        .into_paginator()
        .send();
    let mut metas = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| request_failure(DESCRIBE_PARAMETERS, &e))?;
        for p in page.parameters.unwrap_or_default() {
            metas.push(Meta {
                name: p.name.unwrap_or_default(),
                tier: p.tier.map(|t| t.as_str().to_owned()).unwrap_or_default(),
                key_id: p.key_id,
            });
        }
    }
    Ok(metas)
}

fn is_aws_managed(key: &str) -> bool {
    key == AWS_MANAGED_KEY || key.ends_with(&format!(":{AWS_MANAGED_KEY}"))
}

/// The region of a key given as an ARN; `None` for a key id or alias (the parameter's region).
fn key_region(key: &str) -> Option<&str> {
    key.starts_with("arn:")
        .then(|| key.split(':').nth(3))
        .flatten()
}

async fn get_parameters(
    client: aws_sdk_ssm::Client,
    fetches: Vec<ParamFetch>,
) -> Result<Vec<Answer>, Failure> {
    let names: Vec<String> = fetches.iter().map(|p| p.ident.clone()).collect();
    // No `WithDecryption`: AWS's default is false, so no SecureString is decrypted.
    let out = client
        .get_parameters()
        .set_names(Some(names))
        .send()
        .await
        .map_err(|e| request_failure(GET_PARAMETERS, &e))?;
    let parameters = out.parameters.unwrap_or_default();
    let invalid = out.invalid_parameters.unwrap_or_default();
    let answers = fetches
        .iter()
        .map(|fetch| {
            let found = parameters
                .iter()
                .find(|p| param_matches(fetch, p.name.as_deref(), p.arn.as_deref()));
            match found {
                Some(p) => {
                    let kind = p.r#type.as_ref().map_or("", |t| t.as_str()).to_owned();
                    let len = p.value.as_ref().map_or(0, String::len);
                    Answer::Exists {
                        clear_len: (kind != SECURE_STRING).then_some(len),
                        kind,
                    }
                }
                None if invalid.contains(&fetch.ident) => Answer::Invalid,
                None => Answer::NotInResponse,
            }
        })
        .collect();
    // Wipe the SDK's copies of the values (a String's in clear, a SecureString's ciphertext).
    for p in parameters {
        drop(p.value.map(Zeroizing::new));
    }
    Ok(answers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetch(region: Option<&str>, n: usize) -> ParamFetch {
        ParamFetch {
            region: region.map(str::to_owned),
            ident: format!("/p{n}"),
            name: format!("/p{n}"),
        }
    }

    #[test]
    fn batches_are_per_region_and_at_most_ten() {
        let mut params: Vec<ParamFetch> = (0..12).map(|n| fetch(Some("us-east-1"), n)).collect();
        params.insert(3, fetch(Some("eu-west-1"), 99));
        params.push(fetch(None, 100));
        let b = batches(&params, BATCH, |_| true);
        let sizes: Vec<usize> = b.iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 2, 1, 1]);
        assert_eq!(b[2], [3]);
        assert!(b.iter().all(|batch| {
            batch
                .iter()
                .all(|&i| params[i].region == params[batch[0]].region)
        }));
        let kept = batches(&params, 50, |i| i % 2 == 0);
        let sizes: Vec<usize> = kept.iter().map(Vec::len).collect();
        assert_eq!(sizes, [7], "the even ones, all in us-east-1");
    }

    #[test]
    fn aws_managed_keys_and_key_regions() {
        assert!(is_aws_managed("alias/aws/ssm"));
        assert!(is_aws_managed(
            "arn:aws:kms:us-east-1:123456789012:alias/aws/ssm"
        ));
        assert!(!is_aws_managed("alias/app"));
        assert_eq!(
            key_region("arn:aws:kms:eu-west-1:123456789012:key/k"),
            Some("eu-west-1")
        );
        assert_eq!(key_region("1234abcd-12ab-34cd-56ef-1234567890ab"), None);
    }
}
