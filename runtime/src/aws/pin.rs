//! Pinned versions for env injection: a [`Deployment`] whose unpinned Secrets Manager references
//! carry the id of their current version, so that a rotation makes a new task-definition
//! revision and ECS rolls the service onto the new value.
//!
//! The version ids come from `DescribeSecret` (`VersionIdsToStages`), which reads metadata only:
//! no secret value is read, nothing is decrypted (no KMS call), CloudTrail records no secret
//! read, and the deploy role needs only `secretsmanager:DescribeSecret` on the secrets
//! ([`Role::Pin`](crate::Role::Pin)). One call per distinct secret, all at once under the
//! loader's concurrency bound and deadline (`DescribeSecret`'s quota is 40,000/s per account and
//! region, far above `BatchGetSecretValue`'s 100/s).

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use crate::EcsSecrets;
use crate::deployment::Deployment;
use crate::deployment::fragment::Vars;
use crate::error::{FetchCode, FieldError, ResolveError};
use crate::value_from::{ValueFrom, with_selector};

use super::Loader;
use super::fetch::{Failure, request_failure, unanswered, within};
use crate::iam::AWSCURRENT;

pub(super) const DESCRIBE: &str = "DescribeSecret";

/// One distinct secret to describe: its region and the identifier the `valueFrom` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Describe {
    pub region: String,
    pub secret_id: String,
}

/// A secret's versions and their stages (`VersionIdsToStages`).
pub(super) type Versions = std::collections::HashMap<String, Vec<String>>;

/// What `DescribeSecret` says of one secret.
#[derive(Clone)]
pub(super) struct Described {
    pub versions: Versions,
    /// Scheduled for deletion (`DeletedDate`): its values can no longer be read.
    pub deleted: bool,
}

/// See the module docs. References that already select a version (`version_stage` other than
/// `AWSCURRENT`, or `version_id`) and SSM parameters (ECS accepts no version on them) stay as
/// they are. Fails with every problem at once: missing placeholder values, and each secret whose
/// current version could not be read (with AWS's error code).
pub(super) async fn pin<T: EcsSecrets>(
    loader: &Loader,
    vars: &Vars,
) -> Result<Deployment, ResolveError> {
    let mut deployment = T::deployment_for(vars)?;
    // Which reference needs which describe.
    let mut describes: Vec<Describe> = Vec::new();
    let mut wanted: Vec<(usize, usize)> = Vec::new();
    for (at, (_, value_from)) in deployment.references_mut().iter().enumerate() {
        let ValueFrom::SecretsManager(r) = value_from else {
            continue;
        };
        if !crate::iam::follows_current(r) {
            continue;
        }
        let d = Describe {
            region: r.region().to_owned(),
            secret_id: r.secret_id(),
        };
        let i = match describes.iter().position(|x| *x == d) {
            Some(i) => i,
            None => {
                describes.push(d);
                describes.len() - 1
            }
        };
        wanted.push((at, i));
    }
    if describes.is_empty() {
        return Ok(deployment);
    }
    let answers: Vec<Result<String, Failure>> = describe_all(loader, &describes)
        .await
        .into_iter()
        .map(|versions| {
            versions.and_then(|d| {
                version_with_stage(&d.versions, AWSCURRENT)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Failure::ours(
                            FetchCode::NoVersionId,
                            format!("{DESCRIBE} named no version with the stage {AWSCURRENT}"),
                        )
                    })
            })
        })
        .collect();

    let mut errors = Vec::new();
    let refs = deployment.references_mut();
    for (at, i) in wanted {
        let (field, value_from) = &mut refs[at];
        let ValueFrom::SecretsManager(r) = &*value_from else {
            unreachable!("only Secrets Manager references are described")
        };
        let pinned = answers[i].as_ref().map_err(Clone::clone).and_then(|id| {
            let text = with_selector(&r.secret_id(), r.json_key(), None, Some(id));
            // A version id AWS gave that ECS would not take (the grammar checks its length).
            text.parse::<ValueFrom>().map_err(|_| {
                Failure::ours(
                    FetchCode::NoVersionId,
                    format!("{DESCRIBE} gave a version id that is not a valid ECS version id"),
                )
            })
        });
        match pinned {
            Ok(pinned) => *value_from = pinned,
            Err(failure) => errors
                .push(FieldError::new(field, failure.kind).with_source(value_from.to_string())),
        }
    }
    if errors.is_empty() {
        Ok(deployment)
    } else {
        Err(ResolveError::new(errors))
    }
}

/// The versions of each secret, or why not: one `DescribeSecret` per secret, all at once under
/// the loader's concurrency bound and deadline.
pub(super) async fn describe_all(
    loader: &Loader,
    describes: &[Describe],
) -> Vec<Result<Described, Failure>> {
    let settings = loader.settings();
    let permits = Arc::new(Semaphore::new(settings.max_concurrency));
    let mut tasks = JoinSet::new();
    for (i, d) in describes.iter().enumerate() {
        let client = loader.secrets_client(&d.region);
        let permits = Arc::clone(&permits);
        let secret_id = d.secret_id.clone();
        let span = tracing::info_span!(
            "ecs_secrets.aws.request",
            op = DESCRIBE,
            region = d.region.as_str(),
            ids = ?[&secret_id],
            count = 1,
        );
        tasks.spawn(
            async move {
                let _permit = permits.acquire_owned().await.ok();
                let answer = client.describe_secret().secret_id(secret_id).send().await;
                (i, versions(answer))
            }
            .instrument(span),
        );
    }
    let mut out: Vec<Option<Result<Described, Failure>>> = vec![None; describes.len()];
    let collect = async {
        while let Some(joined) = tasks.join_next().await {
            if let Ok((i, answer)) = joined {
                out[i] = Some(answer);
            }
        }
    };
    let missed = within(settings.deadline, collect).await;
    drop(tasks);
    out.into_iter()
        .map(|answer| answer.unwrap_or_else(|| Err(unanswered(DESCRIBE, missed))))
        .collect()
}

type DescribeAnswer = Result<
    aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput,
    aws_sdk_secretsmanager::error::SdkError<
        aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError,
        aws_sdk_secretsmanager::config::http::HttpResponse,
    >,
>;

/// The versions and stages a `DescribeSecret` answer lists, and whether the secret is scheduled
/// for deletion.
fn versions(answer: DescribeAnswer) -> Result<Described, Failure> {
    let out = answer.map_err(|e| request_failure(DESCRIBE, &e))?;
    Ok(Described {
        deleted: out.deleted_date.is_some(),
        versions: out.version_ids_to_stages.unwrap_or_default(),
    })
}

/// The version that carries `stage` (at most one version carries a stage).
pub(super) fn version_with_stage<'a>(versions: &'a Versions, stage: &str) -> Option<&'a str> {
    versions
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == stage))
        .map(|(id, _)| id.as_str())
}
