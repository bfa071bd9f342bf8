//! Preflight against the local AWS endpoint (moto, started by `scripts/test`), through the
//! counting proxy: one declaration with one of each problem reports exactly those, a healthy one
//! passes (exit 0 through the CLI), the requests are the metadata calls only unless values are
//! read, and no output holds a value.
#![cfg(feature = "deploy")]

use ecs_secrets::aws::Loader;
use ecs_secrets::deploy::{Finding, PreflightOptions, PreflightReport};
use ecs_secrets::extract::ExtractError;
use ecs_secrets::{Deployment, EcsSecrets, Vars};
use ecs_secrets_testkit::{self as testkit, Moto};

#[path = "support/fifty.rs"]
mod fifty;
#[path = "support/preflight.rs"]
mod requests;
use fifty::Fifty;
use requests::{assert_no_decryption, request_counts};
#[path = "support/common.rs"]
mod common;
use common::{assert_clean, report_outputs};
use serde_json::json;
use testkit::{DESCRIBE, GET};

const CANARY: &str = "CANARY-preflight-value";
/// The version id `{p}/db` is created with (`ClientRequestToken` becomes its first version id).
const VID: &str = "preflight-version-0000000000000001";
const VID_MISSING: &str = "preflight-version-0000000000000999";

#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/{enabled}"
)]
#[allow(dead_code)]
struct Healthy {
    #[ecs(secret = "{p}/db", key = "password")]
    password: String,
    #[ecs(secret = "{p}/db", version_id = "preflight-version-0000000000000001")]
    pinned: String,
    #[ecs(secret = "{p}/db", version_stage = "AWSCURRENT")]
    current: String,
    #[ecs(secret = "{p}/api")]
    api: String,
    #[ecs(ssm = "/{p}/flag")]
    flag: String,
    #[ecs(ssm = "/{p}/plain")]
    plain: String,
    #[ecs(ssm = "/aws/reference/secretsmanager/{p}/api")]
    via_ssm: String,
    /// A SecureString under the enabled customer-managed key.
    #[ecs(ssm = "/{p}/sealed")]
    sealed: String,
    #[ecs(default = "8080")]
    port: u16,
}

#[derive(EcsSecrets)]
#[ecs(
    region = "us-east-1",
    account = "123456789012",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/{disabled}",
    kms_key = "arn:aws:kms:us-east-1:123456789012:key/{absent}"
)]
#[allow(dead_code)]
struct Broken {
    #[ecs(secret = "{p}/db", key = "password")]
    good: String,
    #[ecs(secret = "{p}/missing")]
    missing: String,
    #[ecs(secret = "{p}/db", version_stage = "NOSUCHSTAGE")]
    stage: String,
    #[ecs(secret = "{p}/db", version_id = "preflight-version-0000000000000999")]
    version: String,
    #[ecs(secret = "{p}/db", key = "passwd")]
    renamed: String,
    #[ecs(secret = "{p}/deleted")]
    deleted: String,
    #[ecs(secret = "{p}/big")]
    big: String,
    #[ecs(ssm = "/{p}/missing")]
    no_param: String,
    #[ecs(ssm = "arn:aws:ssm:us-west-2:123456789012:parameter/{p}/flag")]
    wrong_region: String,
    /// A SecureString under the disabled key.
    #[ecs(ssm = "/{p}/locked")]
    locked: String,
}

/// Creates every fixture and returns the placeholder values, `NAME=VALUE`: `p`, and the key ids
/// `enabled`, `disabled` (made, then disabled) and `absent` (never made).
async fn fixtures(moto: &Moto) -> Vec<String> {
    let sm = testkit::aws_sdk_secretsmanager::Client::new(&moto.direct);
    let db = json!({"user": "app", "password": format!("{CANARY}-db")}).to_string();
    sm.create_secret()
        .name(moto.name("/db"))
        .secret_string(db)
        .client_request_token(VID)
        .send()
        .await
        .unwrap();
    moto.secret("/api", &format!("{CANARY}-api")).await;
    moto.secret("/deleted", &format!("{CANARY}-deleted")).await;
    sm.delete_secret()
        .secret_id(moto.name("/deleted"))
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let big = format!("{CANARY}{}", "x".repeat(70_000));
    moto.secret("/big", &big).await;
    moto.param("/flag", &format!("{CANARY}-flag")).await;
    let plain = format!("/{}/plain", moto.prefix);
    testkit::put_parameter(&moto.direct, &plain, &format!("{CANARY}-plain"), false).await;
    let key = || testkit::aws_cli_json(&["kms", "create-key"])["KeyMetadata"]["KeyId"].clone();
    let (enabled, disabled) = (key(), key());
    let (enabled, disabled) = (enabled.as_str().unwrap(), disabled.as_str().unwrap());
    secure_under(moto, "/sealed", enabled).await;
    secure_under(moto, "/locked", disabled).await;
    let _ = testkit::aws_cli_json(&["kms", "disable-key", "--key-id", disabled]);
    vec![
        format!("p={}", moto.prefix),
        format!("enabled={enabled}"),
        format!("disabled={disabled}"),
        "absent=00000000-0000-0000-0000-000000000000".to_owned(),
    ]
}

/// The SecureString `/{p}{suffix}`, encrypted with the key `key_id`.
async fn secure_under(moto: &Moto, suffix: &str, key_id: &str) {
    testkit::aws_sdk_ssm::Client::new(&moto.direct)
        .put_parameter()
        .name(format!("/{}", moto.name(suffix)))
        .value(format!("{CANARY}{suffix}"))
        .r#type(testkit::aws_sdk_ssm::types::ParameterType::SecureString)
        .key_id(key_id)
        .send()
        .await
        .unwrap();
}

/// The id of the key `KEY=VALUE` names among the placeholder values.
fn value_of(values: &[String], name: &str) -> String {
    let prefix = format!("{name}=");
    let found = values.iter().find(|v| v.starts_with(&prefix)).unwrap();
    found[prefix.len()..].to_owned()
}

fn vars(pairs: &[String]) -> Vars {
    let split = |pair: &String| {
        pair.split_once('=')
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
    };
    pairs
        .iter()
        .filter_map(split)
        .fold(Vars::new(), |v, (n, x)| v.with(&n, &x))
}

/// Every reference's env and findings, in field order.
fn findings(report: &PreflightReport) -> Vec<(&'static str, Vec<Finding>)> {
    report
        .checks()
        .iter()
        .map(|c| (c.env().unwrap_or(""), c.findings.clone()))
        .collect()
}

/// No output of the report holds a value: not `Display`, `Debug`, pretty `Debug` nor the JSON.
fn assert_no_value(report: &PreflightReport) {
    assert_clean("a report", &report_outputs(report), &[CANARY, "xxxxxxxx"]);
}

fn not_verified(key: &str) -> Vec<Finding> {
    vec![Finding::JsonKeyNotVerified { key: key.into() }]
}

fn broken_expected(values: &[String], read_values: bool) -> Vec<(&'static str, Vec<Finding>)> {
    let disabled = value_of(values, "disabled");
    let arn = |id: &str| format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
    let east = || "us-east-1".to_owned();
    let (good, renamed, big) = if read_values {
        let missing = Finding::JsonKey {
            key: "passwd".into(),
            error: ExtractError::KeyMissing,
        };
        (vec![], vec![missing], vec![Finding::SecretTooLarge])
    } else {
        (not_verified("password"), not_verified("passwd"), vec![])
    };
    let disabled_key = |key: String| Finding::KeyNotEnabled {
        key,
        state: "Disabled".into(),
    };
    let stage = "NOSUCHSTAGE".into();
    let version_id = VID_MISSING.into();
    let west = "us-west-2".into();
    let absent = arn(&value_of(values, "absent"));
    let one = |f: Finding| vec![f];
    vec![
        ("GOOD", good),
        ("MISSING", one(Finding::SecretNotFound { region: east() })),
        ("STAGE", one(Finding::VersionStageMissing { stage })),
        ("VERSION", one(Finding::VersionIdMissing { version_id })),
        ("RENAMED", renamed),
        ("DELETED", one(Finding::ScheduledForDeletion)),
        ("BIG", big),
        (
            "NO_PARAM",
            one(Finding::ParameterNotFound { region: east() }),
        ),
        (
            "WRONG_REGION",
            one(Finding::ParameterNotFound { region: west }),
        ),
        ("LOCKED", one(disabled_key(disabled.clone()))),
        ("", one(disabled_key(arn(&disabled)))),
        (
            "",
            one(Finding::KeyNotFound {
                key: absent,
                region: east(),
            }),
        ),
    ]
}

async fn preflight(moto: &Moto, d: &Deployment, read_values: bool) -> PreflightReport {
    let options = PreflightOptions::new().read_values(read_values);
    Loader::new(&moto.config).preflight(d, options).await
}

#[tokio::test]
async fn one_of_each_problem_is_reported_exactly() {
    let Some(moto) = Moto::start("preflight").await else {
        return;
    };
    let values = fixtures(&moto).await;
    let d = Broken::deployment_for(&vars(&values)).unwrap();

    let report = preflight(&moto, &d, false).await;
    assert_eq!(
        findings(&report),
        broken_expected(&values, false),
        "{report}"
    );
    assert_eq!(report.problems().count(), 9);
    assert!(!report.is_healthy());
    // One DescribeSecret per distinct secret (db, missing, deleted, big), one GetParameters per
    // region, one DescribeParameters for the one that exists, one DescribeKey per key (the
    // declared ARN and locked's key id are two names of one key: two calls), no value read.
    assert_eq!(request_counts(&moto), [4, 2, 0, 0, 3, 1]);
    assert_no_decryption(&moto);
    assert_no_value(&report);

    moto.proxy.reset_counts();
    let report = preflight(&moto, &d, true).await;
    assert_eq!(
        findings(&report),
        broken_expected(&values, true),
        "{report}"
    );
    assert_eq!(report.problems().count(), 11);
    // The current version of db is read once for both keys, and big once; the secrets that are
    // missing, deleted or lack the pinned version are not read.
    assert_eq!(request_counts(&moto), [4, 2, 2, 0, 3, 1]);
    assert_no_decryption(&moto);
    assert_no_value(&report);

    // Each problem names the variable and the reference, and what ECS would say.
    let text = report.to_string();
    assert!(text.contains("PROBLEM MISSING (field `Broken.missing`) from arn:aws:secretsmanager:"));
    assert!(text.contains("did not contain json key passwd"), "{text}");
    assert!(text.contains("invalid parameters"), "{text}");
    let json = report.to_json();
    assert_eq!(json["healthy"], false);
    assert_eq!(json["problems"], 11);
    assert!(
        text.contains("PROBLEM kms_key of `Broken`: arn:aws:kms:"),
        "{text}"
    );
    assert_eq!(json["checks"][0]["status"], "ok");
    assert_eq!(json["checks"][4]["findings"][0]["code"], "JsonKeyMissing");
    assert_eq!(json["checks"][8]["value_from"], d.secrets()[8].value_from);
}

#[tokio::test]
async fn a_healthy_declaration_passes() {
    let Some(moto) = Moto::start("preflight-ok").await else {
        return;
    };
    let values = fixtures(&moto).await;
    let d = Healthy::deployment_for(&vars(&values)).unwrap();

    let report = preflight(&moto, &d, false).await;
    assert!(report.is_healthy(), "{report}");
    let mut expected: Vec<(&str, Vec<Finding>)> = [
        "PASSWORD", "PINNED", "CURRENT", "API", "FLAG", "PLAIN", "VIA_SSM", "SEALED", "",
    ]
    .into_iter()
    .map(|env| (env, vec![]))
    .collect();
    expected[0].1 = not_verified("password");
    assert_eq!(findings(&report), expected);
    let types: Vec<Option<&str>> = report
        .checks()
        .iter()
        .map(|c| c.parameter_type.as_deref())
        .collect();
    assert_eq!(
        types,
        [
            None,
            None,
            None,
            None,
            Some("SecureString"),
            Some("String"),
            None,
            Some("SecureString"),
            None
        ]
    );
    // db and api, once each (via_ssm describes api through its reference), flag and plain in
    // one GetParameters.
    assert_eq!(request_counts(&moto), [2, 1, 0, 0, 2, 1]);
    assert_no_decryption(&moto);
    assert_no_value(&report);

    moto.proxy.reset_counts();
    let report = preflight(&moto, &d, true).await;
    assert!(report.is_healthy(), "{report}");
    assert!(report.checks().iter().all(|c| c.findings.is_empty()));
    // db's current version (for password, and for current: `AWSCURRENT` is no selector), db
    // by id, api.
    assert_eq!(request_counts(&moto), [2, 1, 3, 0, 2, 1]);
    assert_no_value(&report);
}

#[test]
fn cli_preflight_exit_status_and_json() {
    use ecs_secrets::cli;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let Some(moto) = rt.block_on(Moto::start("preflight-cli")) else {
        return;
    };
    let values = rt.block_on(fixtures(&moto));
    // A fresh client per run: each run has its own runtime.
    let run = |healthy: bool, args: &[&str]| {
        let config = rt.block_on(testkit::sdk_config(moto.proxy.url()));
        let vars = if healthy {
            var_args::<Healthy>(&values)
        } else {
            var_args::<Broken>(&values)
        };
        let mut all = vec!["deploy", "preflight"];
        all.extend(vars.iter().map(String::as_str));
        all.extend_from_slice(args);
        let out = if healthy {
            cli::run_with_config::<Healthy>(all, &|_| None, &config)
        } else {
            cli::run_with_config::<Broken>(all, &|_| None, &config)
        };
        let out = out.unwrap();
        assert!(!out.stdout.contains(CANARY) && !out.stderr.contains(CANARY));
        out
    };

    let out = run(true, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .starts_with("preflight of `Healthy`: 9 references, 0 problems")
    );
    let out = run(true, &["--read-values", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["healthy"], true);
    assert_eq!(report["read_values"], true);

    moto.proxy.reset_counts();
    let out = run(false, &["--json"]);
    assert_eq!(out.code, 1);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["problems"], 9);
    assert_eq!(
        moto.proxy.count(GET),
        0,
        "no value read without --read-values"
    );
    let out = run(false, &["--read-values"]);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("11 problems"), "{}", out.stdout);

    let help = cli::run_with_env::<Broken>(["deploy", "preflight", "--help"], &|_| None);
    let help = help.unwrap().stdout;
    for flag in [
        "--json",
        "--read-values",
        "--execution-role <ROLE_ARN>",
        "--task-definition <FILE>",
    ] {
        assert!(help.contains(flag), "{flag} not in {help}");
    }

    let policy = run_policy(&values, "preflight");
    assert!(!policy.contains("GetSecretValue"), "{policy}");
    assert!(!policy.contains("kms:Decrypt") && policy.contains("kms:DescribeKey"));
    let policy = run_policy(&values, "preflight-read-values");
    assert!(policy.contains("secretsmanager:GetSecretValue"), "{policy}");
}

fn run_policy(values: &[String], role: &str) -> String {
    let vars = var_args::<Broken>(values);
    let mut args = vec!["deploy", "policy", "--role", role];
    args.extend(vars.iter().map(String::as_str));
    ecs_secrets::cli::run_with_env::<Broken>(args, &|_| None)
        .unwrap()
        .stdout
}

/// `--var NAME=VALUE` for the placeholders `T` has: the CLI refuses a value for any other.
fn var_args<T: EcsSecrets>(values: &[String]) -> Vec<String> {
    let known = ecs_secrets::placeholders::<T>();
    values
        .iter()
        .filter(|v| known.iter().any(|k| v.starts_with(&format!("{k}="))))
        .flat_map(|v| ["--var".to_owned(), v.clone()])
        .collect()
}

#[tokio::test]
async fn fifty_fields_request_counts() {
    let Some(moto) = Moto::start("preflight-50").await else {
        return;
    };
    for s in 0..10 {
        let value = json!({"k0": CANARY, "k1": CANARY, "k2": CANARY}).to_string();
        moto.secret(&format!("/s{s}"), &value).await;
    }
    for q in 0..20 {
        moto.param(&format!("/q{q}"), CANARY).await;
    }
    let d = Fifty::deployment_for(&vars(&[format!("p={}", moto.prefix)])).unwrap();
    assert_eq!(d.references().len(), 50);

    let report = preflight(&moto, &d, false).await;
    assert!(report.is_healthy(), "{report}");
    // moto pages DescribeParameters by 10 whatever MaxResults says, and sends a NextToken after
    // a full last page: three pages for 20 names, where AWS (MaxResults 50) answers in one.
    assert_eq!(request_counts(&moto), [10, 2, 0, 0, 0, 3]);
    assert_no_value(&report);

    moto.proxy.reset_counts();
    let report = preflight(&moto, &d, true).await;
    assert!(
        report.checks().iter().all(|c| c.findings.is_empty()),
        "{report}"
    );
    assert_eq!(request_counts(&moto), [10, 2, 10, 0, 0, 3]);
    assert_no_decryption(&moto);
    assert_no_value(&report);
}

/// The execution role, simulated. moto has no `SimulatePrincipalPolicy`: the proxy answers IAM's
/// one `POST /` (no `X-Amz-Target`) with one secret allowed, the other implicitly denied.
#[tokio::test]
async fn the_execution_role_is_simulated() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Guarded {
        #[ecs(secret = "{p}/db", key = "password")]
        password: String,
        #[ecs(secret = "{p}/api")]
        api: String,
    }
    const ROLE: &str = "arn:aws:iam::123456789012:role/exec";

    let Some(moto) = Moto::start("preflight-role").await else {
        return;
    };
    let db = moto
        .secret("/db", &json!({"password": CANARY}).to_string())
        .await;
    let api = moto.secret("/api", CANARY).await;
    let member = |arn: &str, decision: &str| {
        format!(
            "<member><EvalActionName>secretsmanager:GetSecretValue</EvalActionName>\
             <EvalResourceName>{arn}</EvalResourceName><EvalDecision>{decision}</EvalDecision>\
             <MatchedStatements/><MissingContextValues/></member>"
        )
    };
    let xml = format!(
        "<SimulatePrincipalPolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
         <SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>\
         {}{}</EvaluationResults></SimulatePrincipalPolicyResult>\
         <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>\
         </SimulatePrincipalPolicyResponse>",
        member(&db, "allowed"),
        member(&api, "implicitDeny"),
    );
    let answer = testkit::FaultKind::Status(200, xml, "text/xml".to_owned());
    moto.fault("POST /", 1, answer);

    let d = Guarded::deployment_for(&vars(&[format!("p={}", moto.prefix)])).unwrap();
    let options = PreflightOptions::new().execution_role(ROLE);
    let report = Loader::new(&moto.config).preflight(&d, options).await;
    let denied = Finding::RoleDenied {
        role: ROLE.to_owned(),
        action: "secretsmanager:GetSecretValue",
        resource: api.clone(),
        via: None,
        decision: "implicitDeny".to_owned(),
    };
    let expected = vec![
        ("PASSWORD", not_verified("password")),
        ("API", vec![denied]),
    ];
    assert_eq!(findings(&report), expected, "{report}");
    assert!(report.to_string().contains(&format!(
        "is not authorized to perform: secretsmanager:GetSecretValue on resource: {api}"
    )));
    assert_no_value(&report);
    // One simulation for the one action, on the complete ARNs DescribeSecret gave.
    assert_eq!(moto.proxy.count(DESCRIBE), 2);
    let simulated = moto.proxy.bodies("POST /");
    assert_eq!(simulated.len(), 1);
    let body = simulated[0].as_str().unwrap();
    assert!(body.contains("Action=SimulatePrincipalPolicy"), "{body}");
    let encoded = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
    for part in [ROLE, &db, &api, "secretsmanager:GetSecretValue"] {
        assert!(body.contains(&encoded(part)), "{part} not in {body}");
    }
    assert_eq!(moto.proxy.total(), 3, "{:?}", moto.proxy.targets());
}

/// A failed request is no pass: "not proven", a problem naming the operation and AWS's code.
#[tokio::test]
async fn a_failed_request_is_a_problem_not_a_pass() {
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Denied {
        #[ecs(secret = "{p}/api")]
        api: String,
    }
    let Some(moto) = Moto::start("preflight-denied").await else {
        return;
    };
    moto.secret("/api", CANARY).await;
    moto.fault(DESCRIBE, 1, testkit::FaultKind::AccessDenied);
    let d = Denied::deployment_for(&vars(&[format!("p={}", moto.prefix)])).unwrap();
    let report = preflight(&moto, &d, false).await;
    assert!(!report.is_healthy());
    let [(check, finding)] = report.problems().collect::<Vec<_>>()[..] else {
        panic!("one problem expected: {report}");
    };
    assert_eq!(check.env(), Some("API"));
    assert!(
        matches!(finding, Finding::Request { operation: "DescribeSecret", code, .. } if code == "AccessDeniedException"),
        "{finding:?}"
    );
    assert_eq!(request_counts(&moto), [1, 0, 0, 0, 0, 0]);
}
