//! The KMS checks: one `DescribeKey` per declared `kms_key`, in the key's region. Metadata only:
//! no `Decrypt`, and the caller needs `kms:DescribeKey` on the keys, nothing more.
//!
//! A key that is not `Enabled` (disabled, pending deletion or import, unavailable) cannot
//! decrypt, so every secret or SecureString it protects fails at task start.

use std::time::Instant;

use super::super::Loader;
use super::super::fetch::{Failure, request_failure};
use super::{Finding, Job, request_finding, run_all};

const DESCRIBE_KEY: &str = "DescribeKey";
/// KMS's code for a key that does not exist.
const NOT_FOUND: &str = "NotFoundException";
const ENABLED: &str = "Enabled";

/// The findings of each key, by index into `keys`.
pub(super) async fn check(
    loader: &Loader,
    keys: &[String],
    started: Instant,
) -> Vec<(usize, Finding)> {
    let jobs = keys
        .iter()
        .map(|key| {
            let client = loader.kms_client(crate::iam::key_region(key));
            let request = client.describe_key().key_id(key.clone());
            let job: Job<Result<String, Failure>> = Box::pin(async move {
                let out = request
                    .send()
                    .await
                    .map_err(|e| request_failure(DESCRIBE_KEY, &e))?;
                let state = out
                    .key_metadata
                    .and_then(|m| m.key_state)
                    .map_or_else(|| "unknown".to_owned(), |s| s.as_str().to_owned());
                Ok(state)
            });
            (DESCRIBE_KEY, job)
        })
        .collect();
    let answers = run_all(loader, started, jobs).await;
    let mut findings = Vec::new();
    for (at, answer) in answers.iter().enumerate() {
        match answer {
            Ok(state) if state == ENABLED => {}
            Ok(state) => findings.push((
                at,
                Finding::KeyNotEnabled {
                    state: state.clone(),
                },
            )),
            Err(f) if f.kind.code() == NOT_FOUND => findings.push((
                at,
                Finding::KeyNotFound {
                    region: crate::iam::key_region(&keys[at]).to_owned(),
                },
            )),
            Err(f) => findings.push((at, request_finding(DESCRIBE_KEY, f))),
        }
    }
    findings
}
