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

use crate::EcsSecrets;
use crate::aws::engine::ops::DESCRIBE_SECRET as DESCRIBE;
use crate::aws::engine::{Engine, Failure};
use crate::aws::read::describe::{self, Describe, version_with_stage};
use crate::aws::read::plan::position_or_push;
use crate::deployment::Deployment;
use crate::deployment::fragment::Vars;
use crate::deployment::iam::AWSCURRENT;
use crate::error::{FetchCode, FieldError, ResolveError};
use crate::value_from::{ValueFrom, with_selector};

/// See the module docs. References that already select a version (`version_stage` other than
/// `AWSCURRENT`, or `version_id`) and SSM parameters (ECS accepts no version on them) stay as
/// they are. Fails with every problem at once: missing placeholder values, and each secret whose
/// current version could not be read (with AWS's error code).
pub(super) async fn pin<T: EcsSecrets>(
    engine: &Engine,
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
        if !crate::deployment::iam::follows_current(r) {
            continue;
        }
        let d = Describe {
            region: r.region().to_owned(),
            secret_id: r.secret_id(),
        };
        wanted.push((at, position_or_push(&mut describes, d)));
    }
    if describes.is_empty() {
        return Ok(deployment);
    }
    let run = engine.run(describes.len());
    let answers: Vec<Result<String, Failure>> = describe::describe_all(engine, &run, &describes)
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
