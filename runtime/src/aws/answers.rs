//! One load of a struct from AWS: which fields come from AWS, the plan, its reads, and the
//! answers fed to the same parsing code as `from_env` (a [`Lookup`] over the answers).

use std::collections::HashMap;
use std::time::Instant;

use tracing::Instrument;

use crate::EcsSecrets;
use crate::error::{Error, ErrorKind, FetchCode};
use crate::extract;
use crate::load::{self, Lookup, Raw};
use crate::model::{Field, Source};
use crate::value_from::ValueFrom;

use super::engine::Engine;
use super::read::plan::{Plan, Target};
use super::read::{Fetched, SecretValue, send};
use super::watch::refresh::{self, Kept};

/// The loader's view: sourced fields from the answers, plain ones from the environment.
struct Answers<'a> {
    engine: &'a Engine,
    by_env: HashMap<&'static str, Raw>,
}

impl Lookup for Answers<'_> {
    fn get(&self, field: &Field) -> Raw {
        match (field.source, self.by_env.get(field.env)) {
            (Source::Env, _) | (_, None) => self.engine.env_raw(field.env),
            (_, Some(answer)) => answer.clone(),
        }
    }
}

/// Which fields come from AWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Every sourced field ([`Loader::fetch`](super::Loader::fetch)).
    All,
    /// Only sourced fields whose variable is not set ([`Loader::load`](super::Loader::load)).
    Missing,
}

/// Sees each sourced field's answer (by index into `T::FIELDS`) before it is parsed.
pub(crate) type Observer<'a> = dyn FnMut(usize, &Raw) + Send + 'a;

/// Loads `T` with the values fetched from AWS, showing `observe` every sourced field's answer:
/// how a [`Watch`](super::watch::Watch) tells which fields changed (by a digest of each answer).
pub(crate) async fn load<T: EcsSecrets>(
    engine: &Engine,
    mode: Mode,
    observe: Option<&mut Observer<'_>>,
) -> Result<T, Error> {
    load_with::<T>(engine, mode, observe, None).await
}

/// [`load`], fetching through `kept` (a watch's memory of its last load, see
/// [`refresh`]) when given: unchanged secrets and parameters are not read again.
pub(crate) async fn load_with<T: EcsSecrets>(
    engine: &Engine,
    mode: Mode,
    observe: Option<&mut Observer<'_>>,
    kept: Option<&mut Kept>,
) -> Result<T, Error> {
    let span = tracing::info_span!(
        "ecs_secrets.aws.load",
        mode = ?mode,
        fields = T::FIELDS.len(),
        fetched_fields = tracing::field::Empty,
        secrets = tracing::field::Empty,
        parameters = tracing::field::Empty,
        requests = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
        errors = tracing::field::Empty,
    );
    load_in_span::<T>(engine, mode, observe, kept)
        .instrument(span)
        .await
}

async fn load_in_span<T: EcsSecrets>(
    engine: &Engine,
    mode: Mode,
    observe: Option<&mut Observer<'_>>,
    kept: Option<&mut Kept>,
) -> Result<T, Error> {
    let started = Instant::now();
    let vars = engine.vars_for::<T>();

    let mut by_env: HashMap<&'static str, Raw> = HashMap::new();
    let mut resolved: Vec<(usize, ValueFrom)> = Vec::new();
    // The final `valueFrom` of each fetched field, for its errors.
    let mut sources: HashMap<&'static str, String> = HashMap::new();
    for (i, field) in T::FIELDS.iter().enumerate() {
        let Some(template) = field.source.value_from() else {
            continue;
        };
        if mode == Mode::Missing {
            let answer = engine.env_raw(field.env);
            if !matches!(answer, Raw::Absent) {
                by_env.insert(field.env, answer);
                continue;
            }
        }
        match template.resolve(&|name| vars.get(name).map(str::to_owned)) {
            Ok(value_from) => {
                sources.insert(field.env, value_from.to_string());
                resolved.push((i, value_from));
            }
            Err(problems) => {
                let reason = problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ");
                by_env.insert(field.env, Raw::Failed(ErrorKind::Placeholder { reason }));
            }
        }
    }

    let plan = Plan::new(&resolved, engine.sdk_config().region().map(|r| r.as_ref()));
    let span = tracing::Span::current();
    span.record("fetched_fields", plan.fields.len());
    span.record("secrets", plan.secrets.len());
    span.record("parameters", plan.params.len());
    if plan.fields.is_empty() {
        span.record("requests", 0);
    } else {
        let fetched = match kept {
            Some(kept) => refresh::refresh(engine, &plan, kept).await,
            None => {
                let run = send::run_for(engine, &plan);
                let mut fetched = send::send(engine, &run, &plan).await;
                fetched.requests += run.retries_made();
                fetched
            }
        };
        span.record("requests", fetched.requests);
        for (i, target) in &plan.fields {
            let field = &T::FIELDS[*i];
            by_env.insert(field.env, answer(field, target, &fetched));
        }
    }

    if let Some(observe) = observe {
        for (i, field) in T::FIELDS.iter().enumerate() {
            if let (Some(_), Some(answer)) = (field.source.value_from(), by_env.get(field.env)) {
                observe(i, answer);
            }
        }
    }
    let result = load::run::<T>(&Answers { engine, by_env });
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    span.record("duration_ms", ms);
    let errors = result.as_ref().err().map_or(0, |e| e.errors().len());
    span.record("errors", errors);
    tracing::debug!(duration_ms = ms, errors, "load finished");
    result.map_err(|e| {
        Error::new(
            e.into_errors()
                .into_iter()
                .map(|fe| match sources.get(fe.env) {
                    Some(source) => fe.with_source(source.clone()),
                    None => fe,
                })
                .collect(),
        )
    })
}

fn fetch_error(code: FetchCode, reason: impl Into<String>) -> Raw {
    Raw::Failed(ErrorKind::Fetch {
        code,
        reason: reason.into(),
    })
}

/// A fetched field's answer: its text (a JSON key extracted), `Absent` for an `Option` whose
/// source does not exist, or the error.
fn answer(field: &Field, target: &Target, fetched: &Fetched) -> Raw {
    let failure = match target {
        Target::Secret(i, key) => match &fetched.secrets[*i] {
            Ok(SecretValue::Text(text, _)) => {
                return match key {
                    None => Raw::Value(text.clone()),
                    Some(key) => match extract::json_key(text, key) {
                        Ok(value) => Raw::Value(value),
                        Err(e) => fetch_error(extract_code(&e), e.to_string()),
                    },
                };
            }
            Ok(SecretValue::Binary) => {
                return fetch_error(
                    FetchCode::BinarySecret,
                    "the secret holds SecretBinary only; ECS injects SecretString text only",
                );
            }
            Err(failure) => failure,
        },
        Target::Param(i) => match &fetched.params[*i] {
            Ok(param) => return Raw::Value(param.text.clone()),
            Err(failure) => failure,
        },
    };
    if field.optional && failure.not_found() {
        Raw::Absent
    } else {
        Raw::Failed(failure.kind.clone())
    }
}

fn extract_code(e: &extract::ExtractError) -> FetchCode {
    match e {
        extract::ExtractError::NotObject => FetchCode::NotObject,
        extract::ExtractError::KeyMissing => FetchCode::JsonKeyMissing,
        _ => FetchCode::NotJson,
    }
}
