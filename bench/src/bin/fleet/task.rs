//! One task of the fleet: its own process, `SdkConfig`, `Loader` and clients.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ecs_secrets::aws::Loader;
use ecs_secrets::{EcsSecrets, Vars};
use ecs_secrets_bench::fetch::{Fetch50, Item, Pin, SPEC50, Values};
use ecs_secrets_bench::fixture::Fixture;
use ecs_secrets_testkit::aws_config::retry::RetryConfig;
use ecs_secrets_testkit::aws_config::{self, AppName, BehaviorVersion, Region, SdkConfig};
use ecs_secrets_testkit::aws_sdk_secretsmanager::config::Credentials;
use ecs_secrets_testkit::{self as testkit, aws_sdk_secretsmanager, aws_sdk_ssm};
use serde_json::{Value, json};

use super::Decl;

/// The 5-secret declaration: five fields, each a whole secret.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
pub(super) struct Fleet5 {
    #[ecs(secret = "{p}/f0")]
    f0: String,
    #[ecs(secret = "{p}/f1")]
    f1: String,
    #[ecs(secret = "{p}/f2")]
    f2: String,
    #[ecs(secret = "{p}/f3")]
    f3: String,
    #[ecs(secret = "{p}/f4")]
    f4: String,
}

impl Fleet5 {
    pub(super) fn check(&self) -> bool {
        [&self.f0, &self.f1, &self.f2, &self.f3, &self.f4]
            .iter()
            .enumerate()
            .all(|(i, v)| **v == value5(i))
    }
}

pub(super) fn value5(i: usize) -> String {
    format!("fleet-value-{i}")
}

pub(super) struct TaskArgs {
    id: usize,
    endpoint: String,
    decl: Decl,
    strategy: String,
    prefix: String,
    version_ids: HashMap<usize, String>,
}

impl TaskArgs {
    pub(super) fn parse(mut it: impl Iterator<Item = String>) -> TaskArgs {
        let mut a = TaskArgs {
            id: 0,
            endpoint: String::new(),
            decl: Decl::Five,
            strategy: "default".into(),
            prefix: String::new(),
            version_ids: HashMap::new(),
        };
        while let Some(arg) = it.next() {
            let value = it.next().expect("every task argument takes a value");
            match arg.as_str() {
                "--id" => a.id = value.parse().expect("an id"),
                "--endpoint" => a.endpoint = value,
                "--decl" => a.decl = Decl::parse(&value),
                "--strategy" => a.strategy = value,
                "--prefix" => a.prefix = value,
                "--version-id" => {
                    let (i, id) = value.split_once('=').expect("INDEX=ID");
                    a.version_ids
                        .insert(i.parse().expect("an index"), id.to_owned());
                }
                other => panic!("unknown task argument {other}"),
            }
        }
        a
    }

    fn fixture(&self) -> Fixture {
        Fixture {
            spec: &SPEC50,
            prefix: self.prefix.clone(),
            version_ids: self.version_ids.clone(),
        }
    }
}

/// The `SdkConfig` a task gets from `aws-config`'s defaults (standard retries: 3 attempts, 1 s
/// initial backoff), with its own app name so that the proxy can tell its requests apart.
async fn task_config(a: &TaskArgs) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(testkit::REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "fleet"))
        .endpoint_url(&a.endpoint)
        .app_name(AppName::new(format!("task-{}", a.id)).expect("a valid app name"))
        .load()
        .await
}

fn loader(config: &SdkConfig, strategy: &str, vars: Vars) -> Loader {
    let l = Loader::new(config).vars(vars).lookup(|_| None);
    match strategy {
        "default" => l,
        "no-batching" => l.batching(false),
        // The SDK's standard mode for everything (throttling included): the old default.
        "sdk-standard" => l.retry_config(RetryConfig::standard()),
        // Batching off and the SDK's retry only: 12 standard attempts, or its adaptive mode (a
        // client-side rate limiter per retry partition). With batching on, both spend their
        // attempts (1 s backoffs and up) on the batch first.
        "sdk-standard-12" => l
            .batching(false)
            .retry_config(RetryConfig::standard().with_max_attempts(12)),
        "sdk-adaptive" => l.batching(false).retry_config(RetryConfig::adaptive()),
        other => panic!("not a loader strategy: {other}"),
    }
}

/// Error codes of a failed load (`Ok` when every value is the fixture's).
async fn run_task(a: &TaskArgs, config: &SdkConfig) -> Result<(), Vec<String>> {
    let codes = |e: ecs_secrets::Error| -> Vec<String> {
        e.errors()
            .iter()
            .map(|e| e.kind.code().to_owned())
            .collect()
    };
    let wrong = || vec!["WrongValue".to_owned()];
    match (a.decl, a.strategy.as_str()) {
        (Decl::Five, "per-field") => per_field_5(config, &a.prefix).await,
        (Decl::Fifty, "per-field") => per_field_50(config, &a.fixture()).await,
        (Decl::Five, s) => {
            let vars = Vars::new().with("p", &a.prefix);
            let c: Fleet5 = loader(config, s, vars).fetch().await.map_err(codes)?;
            c.check().then_some(()).ok_or_else(wrong)
        }
        (Decl::Fifty, s) => {
            let fx = a.fixture();
            let c: Fetch50 = loader(config, s, fx.vars()).fetch().await.map_err(codes)?;
            let values = c.values();
            let right = fx
                .spec
                .fields
                .iter()
                .zip(&values)
                .all(|(item, (_, v))| *v == fx.spec.expected(item));
            right.then_some(()).ok_or_else(wrong)
        }
    }
}

fn sdk_code<E: aws_sdk_secretsmanager::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("Unknown").to_owned()
}

/// The per-field loop of §1 (c): one `GetSecretValue` per field, all at once.
pub(super) async fn per_field_5(config: &SdkConfig, prefix: &str) -> Result<(), Vec<String>> {
    let sm = aws_sdk_secretsmanager::Client::new(config);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..5 {
        let sm = sm.clone();
        let id = format!("{prefix}/f{i}");
        set.spawn(async move {
            let out = sm.get_secret_value().secret_id(&id).send().await;
            match out {
                Ok(o) if o.secret_string() == Some(value5(i).as_str()) => Ok(()),
                Ok(_) => Err("WrongValue".to_owned()),
                Err(e) => Err(sdk_code(&e)),
            }
        });
    }
    let errors: Vec<String> = set
        .join_all()
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The per-field loop for the 50-field declaration: one `GetSecretValue` per secret field (its
/// JSON key picked out), one `GetParameter` per parameter, all at once.
pub(super) async fn per_field_50(config: &SdkConfig, fx: &Fixture) -> Result<(), Vec<String>> {
    let sm = aws_sdk_secretsmanager::Client::new(config);
    let ssm = aws_sdk_ssm::Client::new(config);
    let mut set = tokio::task::JoinSet::new();
    for item in fx.spec.fields {
        let want = fx.spec.expected(item);
        match *item {
            Item::Secret { secret, key, .. } => {
                let mut call = sm.get_secret_value().secret_id(fx.secret_id(secret));
                match fx.spec.secrets[secret].pin {
                    Pin::None => {}
                    Pin::PreviousStage => call = call.version_stage("AWSPREVIOUS"),
                    Pin::FirstVersionId => {
                        call = call.set_version_id(fx.version_ids.get(&secret).cloned());
                    }
                }
                set.spawn(async move {
                    let out = call.send().await.map_err(|e| sdk_code(&e))?;
                    let json: Value = serde_json::from_str(out.secret_string().unwrap_or("{}"))
                        .map_err(|_| "NotJson".to_owned())?;
                    (json[key].as_str() == Some(want.as_str()))
                        .then_some(())
                        .ok_or_else(|| "WrongValue".to_owned())
                });
            }
            Item::Param { param, .. } => {
                let call = ssm
                    .get_parameter()
                    .name(fx.param_name(param))
                    .with_decryption(true);
                set.spawn(async move {
                    let out = call.send().await.map_err(|e| sdk_code(&e))?;
                    let value = out.parameter.and_then(|p| p.value);
                    (value.as_deref() == Some(want.as_str()))
                        .then_some(())
                        .ok_or_else(|| "WrongValue".to_owned())
                });
            }
        }
    }
    let errors: Vec<String> = set
        .join_all()
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub(super) fn unix_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub(super) fn task_main(a: TaskArgs) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(async {
        let config = task_config(&a).await;
        // A started task's SDK is initialized: one request (not counted, under no quota) opens
        // the shared HTTP client's connection and resolves the credentials, so that 200
        // processes doing that at once on 2 cores do not stand for work real tasks do on their
        // own CPUs.
        let _ = aws_sdk_secretsmanager::Client::new(&config)
            .describe_secret()
            .secret_id(format!("{}/f0", a.prefix))
            .send()
            .await;
        let mut out = std::io::stdout().lock();
        writeln!(out, "ready")
            .and_then(|()| out.flush())
            .expect("stdout");
        let mut byte = [0u8; 1];
        // Blocks the runtime, which has nothing else to do before the release.
        if std::io::stdin().read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        let released = unix_ms();
        let started = Instant::now();
        let result = run_task(&a, &config).await;
        let line = json!({
            "id": a.id,
            "ok": result.is_ok(),
            "errors": result.err().unwrap_or_default(),
            "released_unix_ms": released,
            "configured_unix_ms": unix_ms(),
            "ms": started.elapsed().as_secs_f64() * 1000.0,
        });
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .expect("stdout");
    });
}
