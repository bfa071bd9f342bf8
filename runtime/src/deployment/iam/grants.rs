//! What each role sends for a reference: the reads of the execution and task roles,
//! preflight's metadata reads, and a migration's reads and writes.

use super::{Action, Role, SECRETS_MANAGER, SSM, follows_current, referenced_secret};
use crate::value_from::ValueFrom;

/// What preflight sends for one reference: `DescribeSecret` on a secret (for an
/// `/aws/reference/secretsmanager/` parameter, on the secret it reads: SSM refuses that name
/// without decryption, so preflight describes the secret instead), `GetParameters` and `DescribeParameters` (on `*`) on any other
/// parameter; with values read, `GetSecretValue` on each Secrets Manager reference, decrypted by
/// Secrets Manager (`readers`).
pub(super) fn preflight_grants<'a>(
    role: Role,
    r: &'a ValueFrom,
    grant: &mut impl FnMut(Action, String),
    readers: &mut Vec<(&'a str, &'static str)>,
) {
    match r {
        ValueFrom::SecretsManager(s) => {
            grant(Action::DescribeSecret, s.iam_resource());
            if role == Role::PreflightReadValues {
                grant(Action::GetSecretValue, s.iam_resource());
                readers.push((s.region(), SECRETS_MANAGER));
            }
        }
        ValueFrom::Ssm(p) => match referenced_secret(p) {
            Some(secret) => grant(Action::DescribeSecret, secret),
            None => {
                if let Some(arn) = p.arn() {
                    grant(Action::GetParameters, arn);
                    grant(Action::DescribeParameters, "*".to_owned());
                }
            }
        },
    }
}

/// What a migration sends for one reference (see [`Role::Migrate`]); nothing for the references
/// it refuses.
pub(super) fn migrate_grants<'a>(
    r: &'a ValueFrom,
    grant: &mut impl FnMut(Action, String),
    readers: &mut Vec<(&'a str, &'static str)>,
) {
    match r {
        ValueFrom::SecretsManager(s) if follows_current(s) => {
            grant(Action::GetSecretValue, s.iam_resource());
            grant(Action::PutSecretValue, s.iam_resource());
            if !s.is_complete_arn() {
                grant(Action::CreateSecret, s.iam_resource());
            }
            readers.push((s.region(), SECRETS_MANAGER));
        }
        ValueFrom::SecretsManager(_) => {}
        ValueFrom::Ssm(p) => {
            if let (None, Some(arn), Some(region)) = (referenced_secret(p), p.arn(), p.region()) {
                grant(Action::GetParameters, arn.clone());
                grant(Action::PutParameter, arn);
                readers.push((region, SSM));
            }
        }
    }
}

/// What the execution role (ECS injecting the values) or the task role (the application
/// fetching them) reads for one reference, and what each read decrypts (`reads`: region,
/// service, encryption-context value). Secrets Manager names a secret in the context by its
/// complete ARN, which the IAM resource matches (`-??????` for a partial ARN's suffix); Parameter
/// Store names a parameter by its ARN. An `/aws/reference/secretsmanager/` parameter is read
/// through SSM, which passes the read on: Secrets Manager decrypts it, as the secret it names.
pub(super) fn task_grants<'a>(
    role: Role,
    r: &'a ValueFrom,
    grant: &mut impl FnMut(Action, String),
    reads: &mut Vec<(&'a str, &'static str, String)>,
) {
    match r {
        ValueFrom::SecretsManager(s) => {
            grant(Action::GetSecretValue, s.iam_resource());
            // BatchGetSecretValue takes no version selector, so the loader batches only
            // unpinned secrets.
            if role == Role::Task && follows_current(s) {
                grant(Action::BatchGetSecretValue, "*".to_owned());
            }
            // A watch compares versions before it reads values again; a version id never
            // changes, so it is never described.
            if role == Role::Task && s.version_id().is_none() {
                grant(Action::DescribeSecret, s.iam_resource());
            }
            reads.push((s.region(), SECRETS_MANAGER, s.iam_resource()));
        }
        ValueFrom::Ssm(p) => {
            let (Some(arn), Some(region)) = (p.arn(), p.region()) else {
                return;
            };
            grant(Action::GetParameters, arn.clone());
            match referenced_secret(p) {
                Some(secret) => {
                    grant(Action::GetSecretValue, secret.clone());
                    reads.push((region, SECRETS_MANAGER, secret));
                }
                None => reads.push((region, SSM, arn)),
            }
        }
    }
}
