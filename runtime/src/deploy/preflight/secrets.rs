//! The Secrets Manager checks: one `DescribeSecret` per distinct secret (metadata only), then,
//! with `read_values`, one `GetSecretValue` per distinct secret version, for the JSON keys and
//! the size.
//!
//! A parameter under `/aws/reference/secretsmanager/` reads a secret through SSM, and SSM
//! refuses such a name without decryption (Systems Manager user guide, "Referencing AWS Secrets
//! Manager secrets from Parameter Store parameters"), so that secret is described here instead,
//! in the parameter's region and account.

use zeroize::Zeroizing;

use crate::value_from::{self, SsmRef, ValueFrom};

use super::{Finding, SECRET_VALUE_LIMIT, request_finding};
use crate::aws::engine::Failure;
use crate::aws::engine::failure::request_failure;
use crate::aws::engine::run::Job;
use crate::aws::engine::{Engine, Run};
use crate::aws::read::{SecretValue, secret_value};

const DESCRIBE: &str = "DescribeSecret";
const GET: &str = "GetSecretValue";
use crate::aws::read::plan::position_or_push;
use crate::deployment::iam::{AWSCURRENT, SSM_SECRETS_MANAGER_REFERENCE};

/// One distinct secret: its region and the identifier the reference holds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    region: String,
    secret_id: String,
}

/// What `DescribeSecret` says about a secret; no value.
struct Described {
    /// The complete ARN (with the random suffix).
    arn: Option<String>,
    deleted: bool,
    /// `VersionIdsToStages`.
    versions: Vec<(String, Vec<String>)>,
}

/// One distinct version to read.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Read {
    target: usize,
    stage: Option<String>,
    version_id: Option<String>,
}

/// For `/aws/reference/secretsmanager/ID`, the secret SSM would read: in the parameter's region
/// and account (the configured region for a bare name). `None` for any other parameter.
pub(super) fn referenced_secret(p: &SsmRef, default_region: &str) -> Option<(String, String)> {
    let id = p
        .parameter_name()
        .strip_prefix(SSM_SECRETS_MANAGER_REFERENCE)?
        .to_owned();
    Some(match p {
        SsmRef::Arn {
            partition,
            region,
            account,
            ..
        } => (
            region.clone(),
            value_from::secret_arn(partition, region, account, &id),
        ),
        SsmRef::Name(_) => (default_region.to_owned(), id),
    })
}

/// What the Secrets Manager checks found, by index into the references.
#[derive(Default)]
pub(super) struct Found {
    pub findings: Vec<(usize, Finding)>,
    /// The complete ARN of each Secrets Manager reference's secret that exists.
    pub arns: Vec<(usize, String)>,
}

/// The findings of every Secrets Manager reference (and `/aws/reference/secretsmanager/`
/// parameter), by index into `refs`; `json_keys[i]` are the keys reference `i`'s value must
/// have (its own key, or a registry secret's `username` and `password`).
pub(super) async fn check(
    engine: &Engine,
    run: &Run,
    refs: &[&ValueFrom],
    json_keys: &[&[String]],
    default_region: &str,
    read_values: bool,
) -> Found {
    let mut arns = Vec::new();
    // Which reference describes which target, and what it pins.
    let mut targets: Vec<Target> = Vec::new();
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    for (at, r) in refs.iter().enumerate() {
        let (region, secret_id) = match r {
            ValueFrom::SecretsManager(s) => (s.region().to_owned(), s.secret_id()),
            ValueFrom::Ssm(p) => match referenced_secret(p, default_region) {
                Some(t) => t,
                None => continue,
            },
        };
        let t = Target { region, secret_id };
        let i = position_or_push(&mut targets, t);
        wanted.push((at, i));
    }
    if targets.is_empty() {
        return Found::default();
    }
    let jobs = targets
        .iter()
        .map(|t| {
            let client = engine.secrets_client(&t.region);
            let secret_id = t.secret_id.clone();
            let job: Job<Result<Described, Failure>> =
                Box::pin(async move { describe(client, secret_id).await });
            (DESCRIBE, job)
        })
        .collect();
    let described = run.all(jobs).await;

    let mut findings = Vec::new();
    let mut reads: Vec<Read> = Vec::new();
    // (reference, index into `reads`) for the values to check.
    let mut to_read: Vec<(usize, usize)> = Vec::new();
    for &(at, i) in &wanted {
        let before = findings.len();
        let sm = match refs[at] {
            ValueFrom::SecretsManager(s) => Some(s),
            ValueFrom::Ssm(_) => None,
        };
        match &described[i] {
            Err(f) if f.not_found() => findings.push((
                at,
                Finding::SecretNotFound {
                    region: targets[i].region.clone(),
                },
            )),
            Err(f) => findings.push((at, request_finding(DESCRIBE, f))),
            Ok(d) => {
                if let (Some(arn), Some(_)) = (&d.arn, sm) {
                    arns.push((at, arn.clone()));
                }
                if d.deleted {
                    findings.push((at, Finding::ScheduledForDeletion));
                }
                if let Some(stage) = sm.and_then(|s| s.version_stage()) {
                    if !d.versions.iter().any(|(_, s)| s.iter().any(|x| x == stage)) {
                        let stage = stage.to_owned();
                        findings.push((at, Finding::VersionStageMissing { stage }));
                    }
                }
                if let Some(id) = sm.and_then(|s| s.version_id()) {
                    if !d.versions.iter().any(|(v, _)| v == id) {
                        let version_id = id.to_owned();
                        findings.push((at, Finding::VersionIdMissing { version_id }));
                    }
                }
            }
        }
        let Some(s) = sm else { continue };
        if !read_values {
            for key in json_keys[at] {
                let key = key.clone();
                findings.push((at, Finding::JsonKeyNotVerified { key }));
            }
        } else if findings.len() == before {
            // Read only what is known to be there: a missing secret or version says all.
            // `AWSCURRENT` and no selector are the same version: read it once.
            let read = Read {
                target: i,
                stage: s
                    .version_stage()
                    .filter(|&stage| stage != AWSCURRENT)
                    .map(str::to_owned),
                version_id: s.version_id().map(str::to_owned),
            };
            to_read.push((at, position_or_push(&mut reads, read)));
        }
    }
    if reads.is_empty() {
        return Found { findings, arns };
    }

    let jobs = reads
        .iter()
        .map(|r| {
            let t = &targets[r.target];
            let client = engine.secrets_client(&t.region);
            let request = client
                .get_secret_value()
                .secret_id(t.secret_id.clone())
                .set_version_stage(r.stage.clone())
                .set_version_id(r.version_id.clone());
            let job: Job<Result<SecretValue, Failure>> = Box::pin(async move {
                let out = request.send().await.map_err(|e| request_failure(GET, &e))?;
                Ok(secret_value(out.secret_string, out.secret_binary, None))
            });
            (GET, job)
        })
        .collect();
    let values = run.all(jobs).await;
    for (at, read) in to_read {
        match &values[read] {
            Err(f) if f.not_found() => findings.push((
                at,
                Finding::SecretNotFound {
                    region: targets[reads[read].target].region.clone(),
                },
            )),
            Err(f) => findings.push((at, request_finding(GET, f))),
            Ok(SecretValue::Binary) => findings.push((at, Finding::BinarySecret)),
            Ok(SecretValue::Text(text, _)) => {
                findings.extend(
                    check_value(text, json_keys[at])
                        .into_iter()
                        .map(|f| (at, f)),
                );
            }
        }
    }
    // `values` drops here: every text is `Zeroizing`, wiped.
    Found { findings, arns }
}

/// What is wrong with a value read for a reference that needs `keys`: the size, then each
/// key, extracted exactly as the agent does.
fn check_value(text: &Zeroizing<String>, keys: &[String]) -> Vec<Finding> {
    if text.len() > SECRET_VALUE_LIMIT {
        return vec![Finding::SecretTooLarge];
    }
    keys.iter()
        .filter_map(|key| match crate::extract::json_key(text, key) {
            // The extracted value is `Zeroizing` too, wiped here.
            Ok(_) => None,
            Err(error) => Some(Finding::JsonKey {
                key: key.clone(),
                error,
            }),
        })
        .collect()
}

async fn describe(
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
) -> Result<Described, Failure> {
    let out = client
        .describe_secret()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| request_failure(DESCRIBE, &e))?;
    Ok(Described {
        arn: out.arn,
        deleted: out.deleted_date.is_some(),
        versions: out
            .version_ids_to_stages
            .unwrap_or_default()
            .into_iter()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{ExtractError, NotJsonKind};

    #[test]
    fn values_are_checked_for_size_then_key() {
        let keys = |k: &[&str]| k.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        let ok = Zeroizing::new(r#"{"password":"pw","username":"u"}"#.to_owned());
        assert_eq!(check_value(&ok, &keys(&["password"])), []);
        assert_eq!(check_value(&ok, &keys(&["username", "password"])), []);
        assert_eq!(check_value(&ok, &[]), []);
        assert_eq!(
            check_value(&ok, &keys(&["pass", "password", "user"])),
            [
                Finding::JsonKey {
                    key: "pass".into(),
                    error: ExtractError::KeyMissing
                },
                Finding::JsonKey {
                    key: "user".into(),
                    error: ExtractError::KeyMissing
                }
            ]
        );
        let text = Zeroizing::new("not json".to_owned());
        assert_eq!(
            check_value(&text, &keys(&["k"])),
            [Finding::JsonKey {
                key: "k".into(),
                error: ExtractError::NotJson(NotJsonKind::Syntax)
            }]
        );
        let big = Zeroizing::new("x".repeat(SECRET_VALUE_LIMIT + 1));
        assert_eq!(check_value(&big, &keys(&["k"])), [Finding::SecretTooLarge]);
        let limit = Zeroizing::new("x".repeat(SECRET_VALUE_LIMIT));
        assert_eq!(check_value(&limit, &[]), []);
    }

    #[test]
    fn referenced_secrets_are_in_the_parameters_region_and_account() {
        let p = |s: &str| match s.parse::<ValueFrom>().unwrap() {
            ValueFrom::Ssm(p) => p,
            ValueFrom::SecretsManager(_) => unreachable!(),
        };
        assert_eq!(
            referenced_secret(
                &p("arn:aws:ssm:eu-west-1:111111111111:parameter/aws/reference/secretsmanager/db"),
                "us-east-1"
            ),
            Some((
                "eu-west-1".into(),
                "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db".into()
            ))
        );
        assert_eq!(
            referenced_secret(&p("/aws/reference/secretsmanager/db"), "us-east-1"),
            Some(("us-east-1".into(), "db".into()))
        );
        assert_eq!(
            referenced_secret(
                &p("arn:aws:ssm:eu-west-1:111111111111:parameter/app/x"),
                "r"
            ),
            None
        );
    }
}
