//! One `BatchGetSecretValue` request of a plan: every page of it, and the answers matched to
//! the secrets asked for.

use std::time::Instant;

use aws_sdk_secretsmanager::types::{ApiErrorType, SecretValueEntry};

use crate::value_from::strip_random_suffix;

use super::super::engine::failure::{finish, request_failure};
use super::super::engine::ops::BATCH_GET_SECRET_VALUE as BATCH_GET;
use super::super::engine::{Failure, Run, throttle};
use super::plan::{SecretFetch, secret_matches};
use super::{Done, SecretResult, SecretValue, secret_value};

/// Pages one request may follow: 20 ids never need more, so more is a misbehaving answer.
const MAX_PAGES: usize = 20;

/// The ids to send: one per secret. A partial ARN whose secret is also asked for by its
/// complete ARN in the same call is left out: the complete one's answer serves both (and the
/// service may refuse, or answer once for, two ids of one secret).
fn ids(fetches: &[(usize, SecretFetch)]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(fetches.len());
    for (_, f) in fetches {
        let completed_elsewhere = fetches
            .iter()
            .any(|(_, g)| strip_random_suffix(&g.secret_id) == Some(f.secret_id.as_str()));
        if !completed_elsewhere && !ids.contains(&f.secret_id) {
            ids.push(f.secret_id.clone());
        }
    }
    ids
}

/// Sends the batch, following `NextToken`, and matches every answer to every fetch it serves.
/// When the run answers throttling itself (the loader's default), the SDK does not retry a
/// throttled batch: it falls back at once.
pub(super) async fn batch(
    client: aws_sdk_secretsmanager::Client,
    fetches: Vec<(usize, SecretFetch)>,
    run: Run,
) -> Done {
    let falls_back_at_once = run.retries_throttling();
    let started = Instant::now();
    let ids = ids(&fetches);
    let mut entries: Vec<SecretValueEntry> = Vec::new();
    let mut errors: Vec<ApiErrorType> = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let permit = run.permit().await;
        let sent = client
            .batch_get_secret_value()
            .set_secret_id_list(Some(ids.clone()))
            .set_next_token(token.take())
            .customize()
            .config_override(throttle::secrets_override(falls_back_at_once))
            .send()
            .await;
        drop(permit);
        pages += 1;
        match sent {
            Ok(out) => {
                entries.extend(out.secret_values.unwrap_or_default());
                errors.extend(out.errors.unwrap_or_default());
                token = out.next_token.filter(|t| !t.is_empty());
            }
            // A later page that fails leaves what it would have answered unanswered: those are
            // fetched one by one. A first page that fails fails (or falls back) as a whole.
            Err(e) if pages > 1 => {
                let failure = request_failure(BATCH_GET, &e);
                tracing::warn!(
                    code = failure.code(),
                    "a later page of BatchGetSecretValue failed"
                );
                break;
            }
            Err(e) => {
                let failure = request_failure(BATCH_GET, &e);
                let items: Vec<usize> = fetches.iter().map(|(i, _)| *i).collect();
                if falls_back(&failure) {
                    finish(started, "fallback", 0);
                    return Done::Fallback(items, failure);
                }
                finish(started, failure.code(), items.len());
                let results = items.into_iter().map(|i| (i, Err(failure.clone())));
                return Done::Secrets(results.collect());
            }
        }
        if token.is_none() || pages == MAX_PAGES {
            break;
        }
    }
    let (results, unanswered) = match_answers(&fetches, entries, &errors);
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    finish(started, if failed == 0 { "ok" } else { "partial" }, failed);
    Done::Batch {
        results,
        unanswered,
        more_pages: pages - 1,
    }
}

/// Each fetch's answer: the entry that is its secret (one entry may serve several fetches: a
/// secret asked for by partial and by complete ARN), else the error AWS gave for its id, else
/// nothing (the fetch is in the second list). Every value is wiped, used or not.
fn match_answers(
    fetches: &[(usize, SecretFetch)],
    entries: Vec<SecretValueEntry>,
    errors: &[ApiErrorType],
) -> (Vec<(usize, SecretResult)>, Vec<usize>) {
    let found: Vec<Option<usize>> = fetches
        .iter()
        .map(|(_, f)| {
            entries
                .iter()
                .position(|e| secret_matches(f, e.arn.as_deref(), e.name.as_deref()))
        })
        .collect();
    let values: Vec<SecretValue> = entries
        .into_iter()
        .map(|e| secret_value(e.secret_string, e.secret_binary, e.version_id))
        .collect();
    let mut results = Vec::with_capacity(fetches.len());
    let mut unanswered = Vec::new();
    for ((i, fetch), found) in fetches.iter().zip(found) {
        if let Some(at) = found {
            results.push((*i, Ok(values[at].clone())));
        } else if let Some(err) = errors.iter().find(|e| answers(e, fetch, fetches)) {
            let reason = format!(
                "{BATCH_GET} returned an error for this secret: {}",
                err.message.as_deref().unwrap_or("no message")
            );
            let code = err.error_code.as_deref().unwrap_or("UnknownError");
            results.push((*i, Err(Failure::aws(code, reason))));
        } else {
            unanswered.push(*i);
        }
    }
    // `values` (and the copies not handed out) are wiped here.
    drop(values);
    (results, unanswered)
}

/// Whether a per-secret error is about `fetch`: its own id, or the complete ARN sent for it.
fn answers(e: &ApiErrorType, fetch: &SecretFetch, fetches: &[(usize, SecretFetch)]) -> bool {
    let Some(id) = e.secret_id.as_deref() else {
        return false;
    };
    id == fetch.secret_id
        || (strip_random_suffix(id) == Some(fetch.secret_id.as_str())
            && fetches.iter().any(|(_, g)| g.secret_id == id))
}

/// Whether a failed `BatchGetSecretValue` should be retried one by one: the role may lack
/// `secretsmanager:BatchGetSecretValue` (it needs `*`), and its quota (~100/s) is far below
/// `GetSecretValue`'s.
pub(crate) fn falls_back(failure: &Failure) -> bool {
    failure.denied() || failure.throttled()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_denied_or_throttled_with_any_throttling_code_falls_back() {
        let failure = |code: &str| Failure::aws(code, "r");
        for code in [
            "Throttling",
            "ThrottlingException",
            "RequestLimitExceeded",
            "AccessDeniedException",
        ] {
            assert!(falls_back(&failure(code)), "{code}");
        }
        assert!(!falls_back(&failure("InternalServiceError")));
        assert!(!falls_back(&failure("ResourceNotFoundException")));
    }
}
