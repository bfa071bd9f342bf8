//! Pinned versions for env injection (issue #8 §2): the `secrets` fragment with each unpinned
//! Secrets Manager reference pinned to the id of its current version, so that a rotation makes
//! a new task-definition revision and ECS rolls the service onto the new value.
//!
//! The version ids come from the same fetch as direct loading: `BatchGetSecretValue` returns the
//! `AWSCURRENT` version's `VersionId` with each value, 20 secrets a call, which is the fewest
//! calls (`DescribeSecret` is one call per secret), and needs exactly the task role's rights
//! (`secretsmanager:BatchGetSecretValue`, or `GetSecretValue` with batching off or refused). The
//! values come along and are wiped at once; only the ids are kept.

use aws_config::SdkConfig;

use crate::EcsSecrets;
use crate::error::{Error, ErrorKind, FieldError};
use crate::fragment::{self, SecretRef, Vars};
use crate::value_from::{ValueFrom, with_selector};

use super::Options;
use super::fetch::{self, SecretValue};
use super::plan::{Plan, Target};

/// The `secrets` fragment of `T` for the environment `vars`, with every unpinned Secrets Manager
/// reference pinned to its current version: `ARN:json-key::version-id` (the stage left empty:
/// ECS takes a stage or an id, not both).
///
/// References that already select a version (`version_stage` or `version_id`) and SSM
/// parameters (ECS accepts no version on them) are emitted as [`EcsSecrets::secrets_with`] does.
/// An explicit `version_stage = "AWSCURRENT"` counts as unpinned. `options` gives the transport
/// (timeouts, deadline, retries, batching); its `vars` and `lookup` are not used.
///
/// Fails with every problem at once: missing placeholder values, and each secret that could
/// not be read (with AWS's error code) or holds `SecretBinary` only, which ECS cannot inject.
pub async fn secrets_pinned<T: EcsSecrets>(
    config: &SdkConfig,
    vars: &Vars,
    options: &Options,
) -> Result<Vec<SecretRef>, Error> {
    let resolved = fragment::resolve(T::FIELDS, vars)?;
    let unpinned: Vec<(usize, ValueFrom)> = resolved
        .iter()
        .enumerate()
        .filter_map(|(i, v)| match v {
            Some(ValueFrom::SecretsManager(r))
                if r.version_id().is_none()
                    && r.version_stage().is_none_or(|s| s == "AWSCURRENT") =>
            {
                Some((i, ValueFrom::SecretsManager(r.clone())))
            }
            _ => None,
        })
        .collect();
    let plan = Plan::new(&unpinned, config.region().map(|r| r.as_ref()));
    let fetched = if plan.fields.is_empty() {
        None
    } else {
        Some(fetch::fetch(config, options, &plan).await)
    };

    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut targets = plan.fields.iter().peekable();
    for (i, (field, value_from)) in T::FIELDS.iter().zip(&resolved).enumerate() {
        let Some(value_from) = value_from else {
            continue;
        };
        let mut text = value_from.to_string();
        if let Some((_, Target::Secret(s, _))) = targets.next_if(|(at, _)| *at == i) {
            let fetched = fetched.as_ref().expect("fetched when the plan has fields");
            let failure = match &fetched.secrets[*s] {
                Ok(SecretValue::Text(_, Some(id))) => {
                    let ValueFrom::SecretsManager(r) = value_from else {
                        unreachable!("only Secrets Manager references are planned")
                    };
                    text = with_selector(&r.secret_id(), r.json_key(), None, Some(id));
                    None
                }
                Ok(SecretValue::Text(_, None)) => Some((
                    "NoVersionId".to_owned(),
                    "the answer named no version id".to_owned(),
                )),
                Ok(SecretValue::Binary) => Some((
                    "BinarySecret".to_owned(),
                    "the secret holds SecretBinary only; ECS injects SecretString text only"
                        .to_owned(),
                )),
                Err(f) => Some((f.code.clone(), f.reason.clone())),
            };
            if let Some((code, reason)) = failure {
                errors.push(
                    FieldError::new(field, ErrorKind::Source { code, reason }).with_source(text),
                );
                continue;
            }
        }
        out.push(SecretRef {
            name: field.env.to_owned(),
            value_from: text,
        });
    }
    // The fetched values are wiped here, when `fetched` drops.
    drop(fetched);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Error::output(errors))
    }
}
