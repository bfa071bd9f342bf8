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
//! What it cannot tell: the tier and the `SecureString`'s key id (only `DescribeParameters`
//! returns them). Sizes without decrypting: a `String`/`StringList` value is in clear in the
//! answer, so its length is exact and checked against the advanced tier's 8 KB (SSM itself
//! refuses a longer value at `PutParameter`, in either tier, so this only catches an endpoint
//! that broke its contract). A `SecureString`'s answer is its ciphertext, whose length is not
//! the plaintext's (KMS adds a header and the SDK encodes it), so nothing about the plaintext's
//! size can be known without decrypting; SSM enforced the tier's limit on the plaintext when it
//! was written. Every value in the answer is wiped, and none is kept or shown.

use std::time::Instant;

use zeroize::Zeroizing;

use crate::value_from::{SsmRef, ValueFrom};

use super::super::Loader;
use super::super::fetch::{Failure, request_failure};
use super::super::plan::{ParamFetch, param_matches};
use super::{Finding, Job, PARAMETER_VALUE_LIMIT, request_finding, run_all};

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
}

/// What `GetParameters` said about one identifier; never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Answer {
    Exists {
        kind: String,
        /// Only for a `String`/`StringList`: whether the clear value is over the limit.
        too_large: bool,
    },
    Invalid,
    NotInResponse,
}

/// See the module docs. `/aws/reference/secretsmanager/` parameters are left to `secrets.rs`.
pub(super) async fn check(
    loader: &Loader,
    refs: &[&ValueFrom],
    default_region: &str,
    started: Instant,
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
    let batches = batches(&params);
    let jobs = batches
        .iter()
        .map(|batch| {
            let client = loader.ssm_client(params[batch[0]].region.as_deref());
            let fetches: Vec<ParamFetch> = batch.iter().map(|&i| params[i].clone()).collect();
            let job: Job<Result<Vec<Answer>, Failure>> =
                Box::pin(async move { get_parameters(client, fetches).await });
            (GET_PARAMETERS, job)
        })
        .collect();
    let answers = run_all(loader, started, jobs).await;
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
    let mut found = Found::default();
    for (at, i) in wanted {
        let region = params[i]
            .region
            .clone()
            .unwrap_or_else(|| default_region.to_owned());
        let not_found = Finding::ParameterNotFound { region };
        let answer = by_param[i].clone().unwrap_or_else(|| {
            Err(Failure::ours(
                crate::error::FetchCode::NoAnswer,
                format!("no {GET_PARAMETERS} was sent for it"),
            ))
        });
        match answer {
            Ok(Answer::Exists { kind, too_large }) => {
                if too_large {
                    let limit = PARAMETER_VALUE_LIMIT;
                    found
                        .findings
                        .push((at, Finding::ParameterTooLarge { limit }));
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

/// The distinct parameters grouped by region (in order of first appearance), ten a batch.
fn batches(params: &[ParamFetch]) -> Vec<Vec<usize>> {
    let mut regions: Vec<&Option<String>> = Vec::new();
    for p in params {
        if !regions.contains(&&p.region) {
            regions.push(&p.region);
        }
    }
    let mut out = Vec::new();
    for region in regions {
        let of_region: Vec<usize> = (0..params.len())
            .filter(|&i| params[i].region == *region)
            .collect();
        out.extend(of_region.chunks(BATCH).map(<[usize]>::to_vec));
    }
    out
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
                        too_large: kind != SECURE_STRING && len > PARAMETER_VALUE_LIMIT,
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
        let b = batches(&params);
        let sizes: Vec<usize> = b.iter().map(Vec::len).collect();
        assert_eq!(sizes, [10, 2, 1, 1]);
        assert_eq!(b[2], [3]);
        assert!(b.iter().all(|batch| {
            batch
                .iter()
                .all(|&i| params[i].region == params[batch[0]].region)
        }));
    }
}
