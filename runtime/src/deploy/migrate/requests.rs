//! The requests of a migration: what each destination holds now (`GetSecretValue`,
//! `GetParameters` decrypted), and the writes (`CreateSecret`, `PutSecretValue`, `PutParameter`).
//!
//! Each request gets the engine's `ecs_secrets.aws.request` span (operation, region, the ARN or
//! name); no value goes into a span, an event or a failure. A value handed to the SDK is a copy
//! the SDK owns (the request's input and its serialized body) and drops without wiping: the SDK
//! offers no way to reach those buffers.

use std::time::Instant;

use aws_sdk_ssm::types::{ParameterTier, ParameterType};
use tracing::Instrument;
use zeroize::Zeroizing;

use crate::aws::engine::failure::{finish, request_failure};
use crate::aws::engine::ops::{GET_PARAMETERS, GET_SECRET_VALUE as GET};
use crate::aws::engine::{Engine, Failure};
use crate::aws::read::{SecretValue, secret_value};

use super::steps::{Current, Dest, Op, Write};

const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";

fn span(op: &'static str, dest: &Dest) -> tracing::Span {
    tracing::info_span!(
        "ecs_secrets.aws.request",
        op,
        region = dest.region().unwrap_or_default(),
        ids = ?[dest.shown()],
        count = 1,
        duration_ms = tracing::field::Empty,
        outcome = tracing::field::Empty,
        failed = tracing::field::Empty,
    )
}

fn unreadable(failure: &Failure) -> Current {
    let (code, reason) = failure.parts();
    Current::Unreadable { code, reason }
}

/// The account of the caller's credentials (`sts:GetCallerIdentity`, which needs no
/// permission), asked in `region`.
pub(super) async fn caller_account(
    engine: &Engine,
    region: Option<&str>,
) -> Result<String, Failure> {
    let span = tracing::info_span!(
        "ecs_secrets.aws.request",
        op = GET_CALLER_IDENTITY,
        region = region.unwrap_or("(config)"),
        count = 1,
        duration_ms = tracing::field::Empty,
        outcome = tracing::field::Empty,
        failed = tracing::field::Empty,
    );
    async {
        let started = Instant::now();
        let sent =
            crate::aws::engine::client!(aws_sdk_sts, engine, region, super::super::sts_codes)
                .get_caller_identity()
                .send()
                .await;
        let result = match sent {
            Ok(out) => out.account.ok_or_else(|| {
                Failure::ours(
                    crate::FetchCode::NotInResponse,
                    format!("{GET_CALLER_IDENTITY} answered without an account"),
                )
            }),
            Err(e) => Err(request_failure(GET_CALLER_IDENTITY, &e)),
        };
        match &result {
            Ok(_) => finish(started, "ok", 0),
            Err(f) => finish(started, f.code(), 1),
        }
        result
    }
    .instrument(span)
    .await
}

/// What `dest` holds now.
pub(super) async fn read(engine: &Engine, dest: &Dest) -> Current {
    match dest {
        Dest::Secret { region, id, .. } => {
            read_secret(engine, region, id)
                .instrument(span(GET, dest))
                .await
        }
        Dest::Param { region, ident, .. } => {
            read_param(engine, region.as_deref(), ident)
                .instrument(span(GET_PARAMETERS, dest))
                .await
        }
    }
}

async fn read_secret(engine: &Engine, region: &str, id: &str) -> Current {
    let started = Instant::now();
    let sent = engine
        .secrets_client(region)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await;
    match sent {
        Ok(out) => {
            finish(started, "ok", 0);
            match secret_value(out.secret_string, out.secret_binary, None) {
                SecretValue::Text(text, _) => Current::Text(text),
                SecretValue::Binary => Current::Binary,
            }
        }
        Err(e) => {
            let failure = request_failure(GET, &e);
            if failure.not_found() {
                finish(started, "not_found", 0);
                Current::Missing
            } else {
                finish(started, failure.code(), 1);
                unreadable(&failure)
            }
        }
    }
}

async fn read_param(engine: &Engine, region: Option<&str>, ident: &str) -> Current {
    let started = Instant::now();
    let sent = engine
        .ssm_client(region)
        .get_parameters()
        .names(ident)
        .with_decryption(true)
        .send()
        .await;
    let out = match sent {
        Ok(out) => out,
        Err(e) => {
            let failure = request_failure(GET_PARAMETERS, &e);
            finish(started, failure.code(), 1);
            return unreadable(&failure);
        }
    };
    let mut parameters = out.parameters.unwrap_or_default();
    let secure = parameters
        .first()
        .is_some_and(|p| p.r#type == Some(ParameterType::SecureString));
    let current = match parameters.first_mut().map(|p| p.value.take()) {
        Some(Some(value)) if secure => Current::Text(Zeroizing::new(value)),
        Some(Some(value)) => {
            drop(Zeroizing::new(value));
            Current::Plain
        }
        Some(None) => Current::Unreadable {
            code: "NoValue".to_owned(),
            reason: format!("{GET_PARAMETERS} returned the parameter without a value"),
        },
        None => Current::Missing,
    };
    for p in parameters {
        drop(p.value.map(Zeroizing::new));
    }
    finish(started, "ok", 0);
    current
}

/// Sends one write. The payload's copy for the SDK is made here, at the last moment.
pub(super) async fn write(engine: &Engine, write: &Write) -> Result<(), Failure> {
    let op = write.op.as_str();
    async {
        let started = Instant::now();
        let result = send(engine, write).await;
        match &result {
            Ok(()) => {
                finish(started, "ok", 0);
                tracing::info!(op, "stored");
            }
            Err(failure) => finish(started, failure.code(), 1),
        }
        result
    }
    .instrument(span(op, &write.dest))
    .await
}

async fn send(engine: &Engine, write: &Write) -> Result<(), Failure> {
    let payload = write.payload.as_str().to_owned();
    match (&write.dest, write.op) {
        (Dest::Secret { region, name, .. }, Op::CreateSecret) => engine
            .secrets_client(region)
            .create_secret()
            .name(name)
            .secret_string(payload)
            .set_kms_key_id(write.kms_key.clone())
            .send()
            .await
            .map(drop)
            .map_err(|e| request_failure(Op::CreateSecret.as_str(), &e)),
        (Dest::Secret { region, id, .. }, _) => engine
            .secrets_client(region)
            .put_secret_value()
            .secret_id(id)
            .secret_string(payload)
            .send()
            .await
            .map(drop)
            .map_err(|e| request_failure(Op::PutSecretValue.as_str(), &e)),
        (Dest::Param { region, name, .. }, _) => engine
            .ssm_client(region.as_deref())
            .put_parameter()
            .name(name)
            .value(payload)
            .r#type(ParameterType::SecureString)
            .set_key_id(write.kms_key.clone())
            .set_overwrite(write.overwrite.then_some(true))
            .set_tier(write.advanced.then_some(ParameterTier::Advanced))
            .send()
            .await
            .map(drop)
            .map_err(|e| request_failure(Op::PutParameter.as_str(), &e)),
    }
}
