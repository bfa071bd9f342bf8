//! What `DescribeSecret` says of secrets: their versions and stages, and whether they are
//! scheduled for deletion. Metadata only: no value is read, nothing is decrypted (no KMS call),
//! and CloudTrail records no secret read. A watch's refresh asks it to skip unrotated secrets;
//! pin (feature `deploy`) asks it for the current version ids.

use std::time::Instant;

use tracing::Instrument;

use super::super::engine::failure::{finish, request_failure, request_span};
use super::super::engine::ops::DESCRIBE_SECRET;
use super::super::engine::run::Job;
use super::super::engine::{Engine, Failure, Run, throttle};

/// One distinct secret to describe: its region and the identifier the `valueFrom` holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Describe {
    pub region: String,
    pub secret_id: String,
}

/// A secret's versions and their stages (`VersionIdsToStages`).
pub(crate) type Versions = std::collections::HashMap<String, Vec<String>>;

/// What `DescribeSecret` says of one secret.
#[derive(Clone)]
pub(crate) struct Described {
    pub versions: Versions,
    /// Scheduled for deletion (`DeletedDate`): its values can no longer be read.
    pub deleted: bool,
}

/// The versions of each secret, or why not: one `DescribeSecret` per secret, all at once under
/// `run` (its concurrency limit and deadline; a throttled describe is backed off as a load's
/// request is).
pub(crate) async fn describe_all(
    engine: &Engine,
    run: &Run,
    describes: &[Describe],
) -> Vec<Result<Described, Failure>> {
    let ours = run.retries_throttling();
    let jobs = describes
        .iter()
        .map(|d| {
            let client = engine.secrets_client(&d.region);
            let secret_id = d.secret_id.clone();
            let span = request_span(DESCRIBE_SECRET, Some(&d.region), &[&secret_id]);
            let run = run.clone();
            let job: Job<Result<Described, Failure>> = Box::pin(
                async move {
                    let started = Instant::now();
                    let answer = run
                        .send(DESCRIBE_SECRET, || {
                            let request = client
                                .describe_secret()
                                .secret_id(secret_id.clone())
                                .customize()
                                .config_override(throttle::secrets_override(ours));
                            async move {
                                request
                                    .send()
                                    .await
                                    .map_err(|e| request_failure(DESCRIBE_SECRET, &e))
                            }
                        })
                        .await;
                    finish(
                        started,
                        answer.as_ref().map_or_else(Failure::code, |_| "ok"),
                        usize::from(answer.is_err()),
                    );
                    answer.map(|out| Described {
                        deleted: out.deleted_date.is_some(),
                        versions: out.version_ids_to_stages.unwrap_or_default(),
                    })
                }
                .instrument(span),
            );
            (DESCRIBE_SECRET, job)
        })
        .collect();
    run.all_sending(jobs).await
}

/// The version that carries `stage` (at most one version carries a stage).
pub(crate) fn version_with_stage<'a>(versions: &'a Versions, stage: &str) -> Option<&'a str> {
    versions
        .iter()
        .find(|(_, stages)| stages.iter().any(|s| s == stage))
        .map(|(id, _)| id.as_str())
}
