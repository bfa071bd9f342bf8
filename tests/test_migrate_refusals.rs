//! What migration refuses, against the local AWS endpoint (moto, started by `scripts/test`)
//! through the counting, fault-injecting proxy: a secret that holds another value, a parameter
//! in clear, a write into another account, bad command lines; every refusal before any write,
//! reading the same whatever the value; and no value in any report, error or trace.
#![cfg(feature = "deploy")]

use ecs_secrets::aws::Loader;
use ecs_secrets::deploy::{MigrateError, MigrateOptions, Refusal, StepAction};
use ecs_secrets::{EcsSecrets, Secret, cli};
use ecs_secrets_testkit::{self as testkit, FaultKind, Moto};
use serde_json::json;

#[path = "support/common.rs"]
mod common;
#[path = "support/migrate.rs"]
mod migrate;
use common::{assert_clean, capture_trace};
use migrate::*;

/// A secret that holds another value is refused (nothing written, the JSON unchanged, the
/// report naming the variable); `overwrite` then replaces it.
#[tokio::test]
async fn a_different_value_is_refused_until_overwrite() {
    let Some(moto) = Moto::start("mig-diff").await else {
        return;
    };
    moto.secret("/db", "CANARY-the-old-value").await;
    let loader = Loader::new(&moto.config);
    let deployment = Db::deployment_for(&vars(&moto)).unwrap();
    let original = fargate(&[("DATABASE_PASSWORD", CANARY)]);
    let mut td = original.clone();
    let apply = MigrateOptions::new().apply(true);
    let err = loader
        .migrate(&deployment, &mut td, "app", apply)
        .await
        .unwrap_err();
    let MigrateError::Refused(report) = &err else {
        panic!("refused, not {err:?}")
    };
    assert_eq!(
        report.steps[0].action,
        StepAction::Refused(Refusal::Different)
    );
    assert_eq!(report.steps[0].variable, "DATABASE_PASSWORD");
    assert!(err.to_string().contains("DATABASE_PASSWORD"));
    assert!(err.to_string().contains("different value"));
    assert_eq!(td, original, "the JSON is as it was");
    assert_eq!(writes(&moto), 0);
    assert_clean(
        "the refusal",
        &error_renderings(&err),
        &[CANARY, "the-old-value"],
    );

    let report = loader
        .migrate(&deployment, &mut td, "app", apply.overwrite(true))
        .await
        .unwrap();
    assert_eq!(report.steps[0].action, StepAction::NewVersion);
    assert_eq!(moto.proxy.count(PUT), 1);
    assert_eq!(secret_string(&moto.name("/db")), CANARY);
    assert!(env_names(&td["containerDefinitions"][0]).is_empty());
}

/// Plan, refusal, failure and apply with canaries, under a TRACE subscriber: no canary in any
/// rendering of the reports or errors, nor in the trace, which does record the requests.
#[tokio::test]
async fn canaries_are_in_no_report_error_or_trace() {
    let Some(moto) = Moto::start("mig-canary").await else {
        return;
    };
    let (log, _guard) = capture_trace();
    let canaries = [CANARY, "CANARY-second", "CANARY-stored"];
    moto.secret("/one", "CANARY-stored").await;
    let loader = Loader::new(&moto.config);
    let deployment = Two::deployment_for(&vars(&moto)).unwrap();
    let mut out = String::new();
    let td = fargate(&[("ONE", CANARY), ("TWO", "CANARY-second")]);

    let mut json = td.clone();
    let plan = loader
        .migrate(&deployment, &mut json, "app", MigrateOptions::new())
        .await;
    out.push_str(&format!("{plan:?}\n"));
    if let Err(e) = &plan {
        out.push_str(&error_renderings(e));
    }
    let refused = loader
        .migrate(
            &deployment,
            &mut json,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap_err();
    out.push_str(&error_renderings(&refused));
    moto.fault(PUT_PARAMETER, 1, FaultKind::AccessDenied);
    let failed = loader
        .migrate(
            &deployment,
            &mut json,
            "app",
            MigrateOptions::new().apply(true).overwrite(true),
        )
        .await
        .unwrap_err();
    assert!(matches!(failed, MigrateError::Failed(_)));
    out.push_str(&error_renderings(&failed));
    let done = loader
        .migrate(
            &deployment,
            &mut json,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap();
    out.push_str(&renderings(&done));
    assert_clean("the reports and errors", &out, &canaries);
    let trace = log.text();
    assert!(
        trace.contains("PutSecretValue") && trace.contains("PutParameter"),
        "the trace records the writes"
    );
    assert_clean("the trace", &trace, &canaries);
}

/// The same refusal for two different values (of different lengths) reads the same, in every
/// rendering: nothing in it depends on the value.
#[tokio::test]
async fn refusals_do_not_depend_on_the_value() {
    let Some(moto) = Moto::start("mig-diffl").await else {
        return;
    };
    moto.secret("/db", "stored").await;
    let loader = Loader::new(&moto.config);
    let deployment = Db::deployment_for(&vars(&moto)).unwrap();
    let mut texts = Vec::new();
    for value in [
        "CANARY-a",
        "CANARY-a-much-longer-value-with-other-characters-§",
    ] {
        let mut td = fargate(&[("DATABASE_PASSWORD", value)]);
        td["family"] = json!("same");
        let err = loader
            .migrate(
                &deployment,
                &mut td,
                "app",
                MigrateOptions::new().apply(true),
            )
            .await
            .unwrap_err();
        texts.push(error_renderings(&err));
        // And over the limit: the same text for any oversized value.
        let mut big = fargate(&[("DATABASE_PASSWORD", &value.repeat(70_000))]);
        big["family"] = json!("same");
        let err = loader
            .migrate(&deployment, &mut big, "app", MigrateOptions::new())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("65536 bytes"), "{err}");
        texts.push(error_renderings(&err));
    }
    assert_eq!(texts[0], texts[2]);
    assert_eq!(texts[1], texts[3]);
}

/// Bad input at the command line: `--apply` on standard input is a usage error (2); missing
/// placeholder values refuse the migration (1), naming the placeholder.
#[test]
fn command_line_refusals_and_usage() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("mig-usage")) else {
        return;
    };
    let err = run_cli::<Db>(
        &rt,
        &moto,
        &["migrate", "--container", "app", "-", "--apply"],
    )
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
    let td = write_temp("td.json", &fargate(&[("DATABASE_PASSWORD", CANARY)]), 0o600);
    let out = cli::run_with_config::<Db>(
        [
            "deploy",
            "migrate",
            "--container",
            "app",
            td.to_str().unwrap(),
        ],
        &|_| None,
        &config,
    )
    .unwrap();
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("{p}"), "{}", out.stderr);
    assert_eq!(moto.proxy.total(), 0);
    let unknown = run_cli::<Db>(
        &rt,
        &moto,
        &["migrate", "--container", "web", td.to_str().unwrap()],
    )
    .unwrap_err();
    assert_eq!(unknown.exit_code(), 2);
    assert!(
        unknown.to_string().contains("no container `web`"),
        "{unknown}"
    );
    assert_clean(
        "the errors",
        &format!("{err}{}{unknown}", out.stderr),
        &[CANARY],
    );
}

/// A parameter that exists as a `String` (in clear) is refused even when it holds the value, and
/// the whole run with it: the secret beside it is not created either.
#[tokio::test]
async fn a_parameter_in_clear_is_refused() {
    let Some(moto) = Moto::start("mig-plain").await else {
        return;
    };
    let name = format!("/{}", moto.name("/two"));
    testkit::put_parameter(&moto.direct, &name, CANARY, false).await;
    let loader = Loader::new(&moto.config);
    let deployment = Two::deployment_for(&vars(&moto)).unwrap();
    let mut td = fargate(&[("ONE", "CANARY-one"), ("TWO", CANARY)]);
    let err = loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true).overwrite(true),
        )
        .await
        .unwrap_err();
    let report = err.report().unwrap();
    assert_eq!(report.steps[0].action, StepAction::Create);
    assert_eq!(
        report.steps[1].action,
        StepAction::Refused(Refusal::NotSecure)
    );
    assert_eq!(
        writes(&moto),
        0,
        "nothing is written while anything is refused"
    );
    assert!(err.to_string().contains("TWO"), "{err}");
    assert_clean(
        "the refusal",
        &error_renderings(&err),
        &[CANARY, "CANARY-one"],
    );
}

/// A new secret and a parameter are written by name, in the caller's account: declared in
/// another account, they are refused before any write (one `GetCallerIdentity`, nothing stored,
/// the JSON as it was).
#[tokio::test]
async fn a_write_by_name_into_another_account_is_refused() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "111111111111")]
    #[allow(dead_code)]
    struct Elsewhere {
        #[ecs(secret = "{p}/db")]
        database_password: Secret<String>,
        #[ecs(ssm = "/{p}/token")]
        api_token: Secret<String>,
    }
    let Some(moto) = Moto::start("mig-account").await else {
        return;
    };
    let loader = Loader::new(&moto.config);
    let deployment = Elsewhere::deployment_for(&vars(&moto)).unwrap();
    let original = fargate(&[("DATABASE_PASSWORD", CANARY), ("API_TOKEN", CANARY)]);
    let mut td = original.clone();
    let err = loader
        .migrate(
            &deployment,
            &mut td,
            "app",
            MigrateOptions::new().apply(true),
        )
        .await
        .unwrap_err();
    let MigrateError::Refused(report) = &err else {
        panic!("refused, not {err:?}")
    };
    let other = StepAction::Refused(Refusal::OtherAccount {
        declared: "111111111111".into(),
        caller: "123456789012".into(),
    });
    assert_eq!(report.steps.len(), 2);
    assert!(report.steps.iter().all(|s| s.action == other), "{report}");
    let text = err.to_string();
    assert!(text.contains("declared in account 111111111111"), "{text}");
    assert!(text.contains("API_TOKEN") && text.contains("DATABASE_PASSWORD"));
    assert_eq!(td, original, "the JSON is as it was");
    assert_eq!(writes(&moto), 0);
    assert_eq!(moto.proxy.count("POST /"), 1, "{:?}", moto.proxy.targets());
    assert_clean("the refusal", &error_renderings(&err), &[CANARY]);
}
