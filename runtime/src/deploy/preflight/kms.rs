//! The KMS checks: one `DescribeKey` per distinct key, in the key's region — each declared
//! `kms_key`, and each customer-managed key of a `SecureString` (from `DescribeParameters`).
//! Metadata only: no `Decrypt`, and the caller needs `kms:DescribeKey` on the keys, nothing more.
//!
//! A key that is not `Enabled` (disabled, pending deletion or import, unavailable) cannot
//! decrypt, so every secret or SecureString it protects fails at task start.

use super::{Finding, request_finding};
use crate::aws::engine::Failure;
use crate::aws::engine::failure::request_failure;
use crate::aws::engine::run::Job;
use crate::aws::engine::{Engine, Run};

const DESCRIBE_KEY: &str = "DescribeKey";
/// KMS's code for a key that does not exist.
const NOT_FOUND: &str = "NotFoundException";
const ENABLED: &str = "Enabled";

/// What is wrong with each key, `(region, key id or ARN)`, in order (`None`: enabled).
pub(super) async fn check(
    engine: &Engine,
    run: &Run,
    keys: &[(String, String)],
) -> Vec<Option<Finding>> {
    let jobs = keys
        .iter()
        .map(|(region, key)| {
            let client = crate::aws::engine::client!(
                aws_sdk_kms,
                engine,
                Some(region.as_str()),
                super::super::kms_codes
            );
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
    let answers = run.all(jobs).await;
    answers
        .iter()
        .zip(keys)
        .map(|(answer, (region, key))| match answer {
            Ok(state) if state == ENABLED => None,
            Ok(state) => Some(Finding::KeyNotEnabled {
                key: key.clone(),
                state: state.clone(),
            }),
            Err(f) if f.kind.code() == NOT_FOUND => Some(Finding::KeyNotFound {
                key: key.clone(),
                region: region.clone(),
            }),
            Err(f) => Some(request_finding(DESCRIBE_KEY, f)),
        })
        .collect()
}
