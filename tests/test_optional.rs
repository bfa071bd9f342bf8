//! Optional references resolved per environment against the local AWS endpoint (moto, started
//! by `scripts/test`), through the counting proxy: the references of `Option` fields that do not
//! exist are left out, each named, and every output of what remains agrees; a required one
//! missing, or a request that fails, is an error and nothing is left out; with `read_values` a
//! missing key of an optional field is left out too; both command lines; no value in any output.
#![cfg(feature = "deploy")]

use ecs_secrets::aws::Loader;
use ecs_secrets::cli::{self, Output};
use ecs_secrets::deploy::{OmitError, OmitOptions, Omitted};
use ecs_secrets::{Action, Deployment, Drift, EcsSecrets, Role, Task, Vars};
use ecs_secrets_testkit::{self as testkit, FaultKind, Moto};
use serde_json::{Value, json};

#[path = "support/optional.rs"]
mod optional;
#[path = "support/preflight.rs"]
mod requests;
use optional::{
    CANARY, Flags, Required, Sidecar, assert_clean, entries, fixtures, gamma, lines, new_flag, off,
    param, replica, rows, secret, vars,
};
use requests::{assert_no_decryption, request_counts};

async fn omit(moto: &Moto, d: &Deployment, read_values: bool) -> Omitted<Deployment> {
    let options = OmitOptions::new().read_values(read_values);
    let omitted = Loader::new(&moto.config)
        .omit_missing_optional(d, options)
        .await
        .unwrap();
    assert_clean(&format!("{omitted:?}"));
    for omission in omitted.omissions() {
        assert_clean(&omission.to_string());
    }
    omitted
}

#[tokio::test]
async fn missing_optional_references_are_left_out_and_every_output_agrees() {
    let Some(moto) = Moto::start("optional").await else {
        return;
    };
    fixtures(&moto).await;
    let d = Flags::deployment_for(&vars(&moto)).unwrap();

    let omitted = omit(&moto, &d, false).await;
    assert_eq!(rows(&omitted), [gamma(&moto, None), new_flag(&moto, None)]);
    // One DescribeSecret per distinct secret (db, beta, gamma), one GetParameters for both
    // parameters, one DescribeParameters for the one that exists; no value read.
    assert_eq!(request_counts(&moto), [3, 1, 0, 0, 0, 1]);
    assert_no_decryption(&moto);

    let reduced = omitted.get();
    let db = secret(&moto, "db");
    let (beta, flag) = (secret(&moto, "beta"), param(&moto, "flag"));
    assert_eq!(
        serde_json::to_value(reduced.secrets()).unwrap(),
        entries(&[
            ("DB_PASSWORD", format!("{db}:password::")),
            ("BETA", beta.clone()),
            ("FLAG", flag.clone()),
            ("REPLICA", format!("{db}:replica::")),
        ])
    );
    let (beta_any, db_any) = (format!("{beta}-??????"), format!("{db}-??????"));
    for role in [Role::Execution, Role::Task] {
        let policy = reduced.policy(role);
        assert_eq!(
            policy.resources(Action::GetSecretValue),
            [&*beta_any, &*db_any]
        );
        assert_eq!(policy.resources(Action::GetParameters), [&*flag]);
        assert_eq!(policy.resources(Action::KmsDecrypt), Vec::<&str>::new());
    }
    let task_role = reduced.policy(Role::Task);
    assert_eq!(task_role.resources(Action::BatchGetSecretValue), ["*"]);
    assert_eq!(
        task_role.resources(Action::DescribeSecret),
        [&*beta_any, &*db_any]
    );
    assert_eq!(reduced.policy(Role::Execution).statements().len(), 2);

    // A task definition that still has GAMMA: the check calls it extra (ECS would fail the task
    // on it) and misses nothing; the merge takes it out, and the check then agrees.
    let mut td = json!({"family": "app", "containerDefinitions": [{"name": "app",
        "secrets": reduced.secrets()}]});
    let stale = json!({"name": "GAMMA", "valueFrom": secret(&moto, "gamma")});
    td["containerDefinitions"][0]["secrets"]
        .as_array_mut()
        .unwrap()
        .push(stale);
    let report = reduced.check(&td, "app").unwrap();
    let extra = Drift::Extra {
        name: "GAMMA".into(),
        value_from: Some(secret(&moto, "gamma")),
    };
    assert_eq!(report.drifts, [extra]);
    reduced.merge_into(&mut td, "app").unwrap();
    let merged = &td["containerDefinitions"][0]["secrets"];
    assert_eq!(*merged, serde_json::to_value(reduced.secrets()).unwrap());
    assert!(!reduced.check(&td, "app").unwrap().has_drift());
    // Without the omission the same task definition misses both.
    let missing: Vec<String> = d
        .check(&td, "app")
        .unwrap()
        .drifts
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        missing,
        [
            format!(
                "missing secret `GAMMA` (valueFrom {})",
                secret(&moto, "gamma")
            ),
            format!(
                "missing secret `NEW_FLAG` (valueFrom {})",
                param(&moto, "new-flag")
            ),
        ]
    );
}

#[tokio::test]
async fn with_read_values_a_missing_optional_key_is_left_out_too() {
    let Some(moto) = Moto::start("optional-values").await else {
        return;
    };
    fixtures(&moto).await;
    let d = Flags::deployment_for(&vars(&moto)).unwrap();

    let omitted = omit(&moto, &d, true).await;
    assert_eq!(
        rows(&omitted),
        [gamma(&moto, None), new_flag(&moto, None), replica(&moto)]
    );
    // db's current version once (for both of its keys) and beta: the only values read.
    assert_eq!(request_counts(&moto), [3, 1, 2, 0, 0, 1]);
    assert_no_decryption(&moto);
    let db = secret(&moto, "db");
    assert_eq!(
        serde_json::to_value(omitted.get().secrets()).unwrap(),
        entries(&[
            ("DB_PASSWORD", format!("{db}:password::")),
            ("BETA", secret(&moto, "beta")),
            ("FLAG", param(&moto, "flag")),
        ])
    );
    assert_eq!(
        omitted.omissions()[2].to_string(),
        format!(
            "left out REPLICA (optional field `Flags.replica`, from {db}:replica::): JSON key \
             `replica`: the secret does not contain the requested top-level JSON key"
        )
    );
}

/// What each check of an error is about, with its findings' codes.
fn problems(error: &OmitError) -> Vec<(Option<&'static str>, Vec<String>)> {
    let codes =
        |c: &ecs_secrets::deploy::Check| c.findings.iter().map(|f| f.code().to_owned()).collect();
    error.checks().iter().map(|c| (c.env(), codes(c))).collect()
}

#[tokio::test]
async fn a_missing_required_reference_is_an_error_and_nothing_is_left_out() {
    let Some(moto) = Moto::start("optional-required").await else {
        return;
    };
    fixtures(&moto).await;
    let d = Required::deployment_for(&vars(&moto)).unwrap();
    let loader = Loader::new(&moto.config);

    let error = loader
        .omit_missing_optional(&d, OmitOptions::new())
        .await
        .unwrap_err();
    let code = |c: &str| vec![c.to_owned()];
    assert_eq!(problems(&error), [(Some("TOKEN"), code("SecretNotFound"))]);
    let token = secret(&moto, "token");
    assert_eq!(
        error.to_string(),
        format!(
            "`Required`: 1 problem that leaving out missing optional references does not \
             solve, so nothing was left out:\n  TOKEN (field `Required.token`) from {token}\n    \
             - DescribeSecret finds no such secret in us-east-1\n      ECS at task start: \
             ResourceInitializationError: unable to pull secrets or registry auth: execution \
             resource retrieval failed: unable to retrieve secret from asm: … \
             ResourceNotFoundException: Secrets Manager can't find the specified secret."
        )
    );
    assert_eq!(request_counts(&moto), [2, 1, 0, 0, 0, 0]);

    // With values read, the required key the secret lacks is one more.
    let options = OmitOptions::new().read_values(true);
    let error = loader.omit_missing_optional(&d, options).await.unwrap_err();
    let expected = [
        (Some("TOKEN"), code("SecretNotFound")),
        (Some("USER"), code("JsonKeyMissing")),
    ];
    assert_eq!(problems(&error), expected);
    assert_clean(&format!("{error}\n{error:?}"));
}

/// A request that fails proves nothing: the optional reference is not left out, and the
/// failure is the error.
#[tokio::test]
async fn a_failed_request_is_an_error_not_an_omission() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Optional {
        #[ecs(secret = "{p}/gamma")]
        gamma: Option<String>,
    }
    let Some(moto) = Moto::start("optional-denied").await else {
        return;
    };
    moto.fault(testkit::DESCRIBE, 1, FaultKind::AccessDenied);
    let d = Optional::deployment_for(&vars(&moto)).unwrap();
    let error = Loader::new(&moto.config)
        .omit_missing_optional(&d, OmitOptions::new())
        .await
        .unwrap_err();
    let denied = vec!["AccessDeniedException".to_owned()];
    assert_eq!(problems(&error), [(Some("GAMMA"), denied)]);
    assert!(
        error
            .to_string()
            .contains("- not proven: DescribeSecret failed (AccessDeniedException)"),
        "{error}"
    );
    assert_eq!(request_counts(&moto), [1, 0, 0, 0, 0, 0]);
}

#[tokio::test]
async fn a_task_of_two_containers() {
    let Some(moto) = Moto::start("optional-task").await else {
        return;
    };
    fixtures(&moto).await;
    let vars = vars(&moto);
    let task = Task::new()
        .container("app", Flags::deployment_for(&vars).unwrap())
        .container("sidecar", Sidecar::deployment_for(&vars).unwrap());
    let omitted = Loader::new(&moto.config)
        .omit_missing_optional_task(&task, OmitOptions::new())
        .await
        .unwrap();
    let expected = [
        gamma(&moto, Some("app")),
        new_flag(&moto, Some("app")),
        off(&moto),
    ];
    assert_eq!(rows(&omitted), expected);
    // One GetParameters for the three parameters of both containers.
    assert_eq!(request_counts(&moto), [3, 1, 0, 0, 0, 1]);
    let reduced = omitted.get();
    let names = |c: &str| -> Vec<String> {
        reduced
            .secrets(c)
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(names("app"), ["DB_PASSWORD", "BETA", "FLAG", "REPLICA"]);
    assert_eq!(names("sidecar"), ["FLAG"]);
    let execution = reduced.policy(Role::Execution);
    assert_eq!(
        execution.resources(Action::GetParameters),
        [param(&moto, "flag")]
    );
    assert_eq!(
        omitted.omissions()[2].to_string(),
        format!(
            "container `sidecar`: left out OFF (optional field `Sidecar.off`, from {}): \
             GetParameters lists it in InvalidParameters in us-east-1: it does not exist there, \
             or the caller cannot see it",
            param(&moto, "sidecar-off")
        )
    );
    let mut td = json!({"family": "app", "containerDefinitions": [
        {"name": "app", "image": "app:1"}, {"name": "sidecar", "image": "envoy:1"}]});
    reduced.merge_into(&mut td).unwrap();
    assert!(!reduced.check(&td).unwrap().has_drift());
    assert_eq!(
        td["containerDefinitions"][1]["secrets"],
        json!([{"name": "FLAG", "valueFrom": param(&moto, "flag")}])
    );
}

/// What is left out and why, and the error, are the same whatever the values: byte for byte,
/// and none of a value in them.
#[tokio::test]
async fn outputs_do_not_depend_on_the_values() {
    let mut outputs = Vec::new();
    for value in ["", "a much longer value, with \"quotes\" and a\nnewline"] {
        let Some(moto) = Moto::start("optional-values").await else {
            return;
        };
        let db = json!({"password": format!("{CANARY}{value}")}).to_string();
        moto.secret("/db", &db).await;
        moto.secret("/beta", &format!("{CANARY}{value}")).await;
        moto.param("/flag", &format!("{CANARY}{value}")).await;
        let loader = Loader::new(&moto.config);
        let options = || OmitOptions::new().read_values(true);
        let flags = Flags::deployment_for(&vars(&moto)).unwrap();
        let omitted = loader.omit_missing_optional(&flags, options()).await;
        let required = Required::deployment_for(&vars(&moto)).unwrap();
        let error = loader.omit_missing_optional(&required, options()).await;
        let omitted = omitted.unwrap();
        let error = error.unwrap_err();
        let lines: Vec<String> = omitted
            .omissions()
            .iter()
            .map(ToString::to_string)
            .collect();
        let text = format!("{lines:?}\n{omitted:?}\n{error}\n{error:?}");
        assert_clean(&text);
        outputs.push(text.replace(&moto.prefix, "P"));
    }
    assert_eq!(outputs[0], outputs[1]);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One run of `T`'s command line with `--var p=…`, through the proxy (a fresh client: each run
/// has its own runtime); no output holds a value.
fn run<T: EcsSecrets>(rt: &tokio::runtime::Runtime, moto: &Moto, args: &[&str]) -> Output {
    let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
    let var = format!("p={}", moto.prefix);
    let mut all = vec!["deploy", "--var", &var];
    all.extend_from_slice(args);
    let out = cli::run_with_config::<T>(all, &|_| None, &config).unwrap();
    assert_clean(&format!("{}{}", out.stdout, out.stderr));
    out
}

const OMIT: &str = "--omit-missing-optional";

/// A task definition whose container `app` still has GAMMA, in a directory of its own.
fn task_definition_file(moto: &Moto) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(testkit::unique("optional-cli"));
    std::fs::create_dir_all(&dir).unwrap();
    let td = json!({"family": "app", "containerDefinitions": [{"name": "app", "image": "app:1",
        "secrets": [{"name": "GAMMA", "valueFrom": secret(moto, "gamma")}]}]});
    let file = dir.join("td.json");
    std::fs::write(&file, td.to_string()).unwrap();
    let file = file.to_str().unwrap().to_owned();
    (dir, file)
}

#[test]
fn the_command_line_prints_what_ecs_gets_and_says_what_was_left_out() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("optional-cli")) else {
        return;
    };
    rt.block_on(fixtures(&moto));
    let d = Flags::deployment_for(&vars(&moto)).unwrap();
    let omitted = rt.block_on(omit(&moto, &d, false));
    let reduced = omitted.get();
    let secrets = serde_json::to_value(reduced.secrets()).unwrap();
    let stderr = lines(&[gamma(&moto, None), new_flag(&moto, None)]);
    moto.proxy.reset_counts();

    let out = run::<Flags>(&rt, &moto, &["secrets", OMIT]);
    assert_eq!((out.code, out.stderr.as_str()), (0, stderr.as_str()));
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap(), secrets);
    assert_eq!(request_counts(&moto), [3, 1, 0, 0, 0, 1]);

    for (role, name) in [(Role::Execution, "execution"), (Role::Task, "task")] {
        let out = run::<Flags>(&rt, &moto, &["policy", "--role", name, OMIT]);
        assert_eq!((out.code, out.stderr.as_str()), (0, stderr.as_str()));
        let policy: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(policy, reduced.policy(role).to_json());
    }

    // The check calls the left-out GAMMA extra, and misses nothing that was left out.
    let (dir, file) = task_definition_file(&moto);
    let out = run::<Flags>(&rt, &moto, &["check", "--container", "app", &file, OMIT]);
    assert_eq!((out.code, out.stderr.as_str()), (1, stderr.as_str()));
    let extra = format!(
        "  - extra secret `GAMMA` (valueFrom {}): not declared\n",
        secret(&moto, "gamma")
    );
    assert!(out.stdout.ends_with(&extra), "{}", out.stdout);
    assert!(!out.stdout.contains("`NEW_FLAG`"), "{}", out.stdout);

    // The merge writes what ECS gets; the check of the result agrees.
    let merged = dir.join("merged.json").to_str().unwrap().to_owned();
    let out = run::<Flags>(
        &rt,
        &moto,
        &["merge", "--container", "app", &file, "-o", &merged, OMIT],
    );
    let wrote = format!("wrote 4 secrets of `Flags` into container `app` of {merged}\n");
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert_eq!(out.stderr, format!("{stderr}{wrote}"));
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(written["containerDefinitions"][0]["secrets"], secrets);
    let out = run::<Flags>(&rt, &moto, &["check", "--container", "app", &merged, OMIT]);
    let clean = (0, "container `app`: no drift\n", stderr.as_str());
    assert_eq!((out.code, out.stdout.as_str(), out.stderr.as_str()), clean);

    // With --read-values the key the secret lacks is left out too.
    let out = run::<Flags>(&rt, &moto, &["secrets", OMIT, "--read-values"]);
    let with_key = lines(&[gamma(&moto, None), new_flag(&moto, None), replica(&moto)]);
    assert_eq!((out.code, out.stderr.as_str()), (0, with_key.as_str()));
    let names: Vec<Value> = serde_json::from_str::<Vec<Value>>(&out.stdout)
        .unwrap()
        .into_iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, ["DB_PASSWORD", "BETA", "FLAG"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A required reference missing: exit 1, nothing on standard output, the output file not
/// created, the problem on standard error with preflight's words.
#[test]
fn the_command_line_refuses_a_missing_required_reference() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("optional-cli-refused")) else {
        return;
    };
    rt.block_on(fixtures(&moto));
    let (dir, file) = task_definition_file(&moto);
    let out_file = dir.join("out.json");
    let out_arg = out_file.to_str().unwrap();
    let token = secret(&moto, "token");
    let stderr = format!(
        "error: `Required`: 1 problem that leaving out missing optional references does not \
         solve, so nothing was left out:\n  TOKEN (field `Required.token`) from {token}\n    \
         - DescribeSecret finds no such secret in us-east-1\n      ECS at task start: \
         ResourceInitializationError: unable to pull secrets or registry auth: execution \
         resource retrieval failed: unable to retrieve secret from asm: … \
         ResourceNotFoundException: Secrets Manager can't find the specified secret.\n"
    );
    let merge = ["merge", "--container", "app", &file, "-o", out_arg, OMIT];
    for args in [&merge[..], &["secrets", OMIT], &["policy", OMIT]] {
        let out = run::<Required>(&rt, &moto, args);
        assert_eq!((out.code, out.stdout.as_str()), (1, ""), "{args:?}");
        assert_eq!(out.stderr, stderr);
    }
    assert!(!out_file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Without the flag nothing changes and AWS is not asked; `--read-values` needs the flag; the
/// help of each subcommand names both.
#[test]
fn without_the_flag_nothing_changes() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("optional-cli-off")) else {
        return;
    };
    let d = Flags::deployment_for(&vars(&moto)).unwrap();
    let out = run::<Flags>(&rt, &moto, &["secrets"]);
    let secrets = serde_json::to_value(d.secrets()).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&out.stdout).unwrap(), secrets);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(moto.proxy.total(), 0);

    let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
    let alone = ["deploy", "secrets", "--read-values"];
    let error = cli::run_with_config::<Flags>(alone, &|_| None, &config).unwrap_err();
    assert!(error.to_string().contains(OMIT), "{error}");
    assert_eq!(error.exit_code(), cli::EXIT_ERROR);
    for command in ["secrets", "policy", "merge", "check"] {
        let help = cli::run_with_env::<Flags>(["deploy", command, "--help"], &|_| None);
        let help = help.unwrap().stdout;
        assert!(
            help.contains(OMIT) && help.contains("--read-values"),
            "{help}"
        );
    }
}

#[test]
fn the_task_command_line_leaves_out_per_container() {
    let rt = runtime();
    let Some(moto) = rt.block_on(Moto::start("optional-task-cli")) else {
        return;
    };
    rt.block_on(fixtures(&moto));
    let mut names = ecs_secrets::placeholders::<Flags>();
    names.extend(ecs_secrets::placeholders::<Sidecar>());
    names.dedup();
    let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
    let var = format!("p={}", moto.prefix);
    let build = |vars: &Vars| -> Result<Task, Box<dyn std::error::Error>> {
        Ok(Task::new()
            .container("app", Flags::deployment_for(vars)?)
            .container("sidecar", Sidecar::deployment_for(vars)?))
    };
    let args = ["deploy", "--var", &var, "containers", OMIT];
    let out = cli::run_task_with_config(args, &|_| None, &names, &config, build).unwrap();
    assert_clean(&format!("{}{}", out.stdout, out.stderr));
    assert_eq!(out.code, 0);
    let expected = [
        gamma(&moto, Some("app")),
        new_flag(&moto, Some("app")),
        off(&moto),
    ];
    assert_eq!(out.stderr, lines(&expected));
    assert!(
        !out.stdout.contains("GAMMA") && !out.stdout.contains("sidecar-off"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("REPLICA"), "{}", out.stdout);
    assert_eq!(request_counts(&moto), [3, 1, 0, 0, 0, 1]);
    for command in ["containers", "policy", "merge", "check"] {
        let help = cli::run_task(["deploy", command, "--help"], &|_| None, &names, build)
            .unwrap()
            .stdout;
        assert!(
            help.contains(OMIT) && help.contains("--read-values"),
            "{help}"
        );
    }
}
