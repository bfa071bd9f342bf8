//! Direct loading (feature `aws`) against the local AWS endpoint (moto, started by
//! `scripts/test`), through a counting proxy: values, versions, SSM, `load()`, partial failures,
//! and the exact number of requests (how they are split: test_aws_batching).
#![cfg(feature = "aws")]

use ecs_secrets::aws::Loader;
use ecs_secrets::{EcsSecrets, ErrorKind, FieldError, Secret, Vars};
use ecs_secrets_testkit::{self as testkit, Moto};
use serde_json::Value;

#[path = "support/common.rs"]
mod common;
use common::{SM, codes, loader, lookup};
use testkit::{BATCH, GET, PARAMS};
const SSM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter";

#[tokio::test]
async fn whole_secret_and_json_keys_of_every_type() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/json")]
        whole: String,
        #[ecs(secret = "{p}/json", key = "s")]
        s: Secret<String>,
        #[ecs(secret = "{p}/json", key = "empty")]
        empty: String,
        #[ecs(secret = "{p}/json", key = "int")]
        int: String,
        #[ecs(secret = "{p}/json", key = "int")]
        int_parsed: u32,
        #[ecs(secret = "{p}/json", key = "big")]
        big: String,
        #[ecs(secret = "{p}/json", key = "million")]
        million: String,
        #[ecs(secret = "{p}/json", key = "small")]
        small: String,
        #[ecs(secret = "{p}/json", key = "tenth_milli")]
        tenth_milli: String,
        #[ecs(secret = "{p}/json", key = "frac")]
        frac: String,
        #[ecs(secret = "{p}/json", key = "neg")]
        neg: String,
        #[ecs(secret = "{p}/json", key = "huge")]
        huge: String,
        #[ecs(secret = "{p}/json", key = "t")]
        t: String,
        #[ecs(secret = "{p}/json", key = "f")]
        f: bool,
        #[ecs(secret = "{p}/json", key = "z")]
        z: String,
        #[ecs(secret = "{p}/json", key = "arr")]
        arr: String,
        #[ecs(secret = "{p}/json", key = "obj")]
        obj: String,
        #[ecs(secret = "{p}/json", key = "dup")]
        dup: String,
        #[ecs(secret = "{p}/text")]
        text: Secret<String>,
    }
    let Some(moto) = Moto::start("json").await else {
        return;
    };
    let json = r#"{"s":"p\u00e4ss\"w:rd","empty":"","int":123456,"big":1234567,"million":1000000,
        "small":0.00001,"tenth_milli":0.0001,"frac":0.25,"neg":-5,"huge":1e21,"t":true,"f":false,
        "z":null,"arr":[1,"x",true,null,2.5],"obj":{"b":"x","a":1,"n":{"k":[2]}},
        "dup":1,"dup":"last"}"#;
    moto.secret("/json", json).await;
    moto.secret("/text", "  not json, kept as is\n").await;

    let c = loader(&moto).fetch::<Config>().await.unwrap();
    assert_eq!(
        c.whole, json,
        "a whole secret is the SecretString, byte for byte"
    );
    assert_eq!(
        c.s.expose_secret(),
        "p\u{e4}ss\"w:rd",
        "a string value is its raw text"
    );
    assert_eq!(c.empty, "");
    assert_eq!(c.int, "123456");
    assert_eq!(c.int_parsed, 123_456);
    assert_eq!(
        c.big, "1.234567e+06",
        "Go's %v of a float64 switches to exponent form"
    );
    assert_eq!(c.million, "1e+06");
    assert_eq!(c.small, "1e-05");
    assert_eq!(c.tenth_milli, "0.0001");
    assert_eq!(c.frac, "0.25");
    assert_eq!(c.neg, "-5");
    assert_eq!(c.huge, "1e+21");
    assert_eq!(c.t, "true");
    assert!(!c.f);
    assert_eq!(c.z, "<nil>");
    assert_eq!(c.arr, "[1 x true <nil> 2.5]");
    assert_eq!(
        c.obj, "map[a:1 b:x n:map[k:[2]]]",
        "keys sorted, strings raw"
    );
    assert_eq!(c.dup, "last", "the last of duplicate keys wins");
    assert_eq!(c.text.expose_secret(), "  not json, kept as is\n");

    assert_eq!(moto.counts(), [1, 0, 0], "two secrets, one batch");
    assert_eq!(moto.proxy.list_sizes(BATCH, "SecretIdList"), [2]);
}

#[tokio::test]
async fn versions_by_stage_and_id_with_fixtures_from_the_aws_cli() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/rotated", key = "password")]
        current: String,
        #[ecs(secret = "{p}/rotated", key = "password", version_stage = "AWSCURRENT")]
        explicit_current: String,
        #[ecs(secret = "{p}/rotated")]
        whole_current: String,
        #[ecs(
            secret = "{p}/rotated",
            key = "password",
            version_stage = "AWSPREVIOUS"
        )]
        previous: String,
        #[ecs(secret = "{p}/rotated", version_stage = "AWSPREVIOUS")]
        whole_previous: String,
        // (`version_id = "{first}"` is refused by the derive's length check; the ARN form
        // takes a placeholder.)
        #[ecs(
            secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{p}/rotated:password::{first}"
        )]
        first: String,
    }
    let Some(moto) = Moto::start("versions").await else {
        return;
    };
    // A second, independent client writes the fixtures and reads them back.
    let name = moto.name("/rotated");
    let created = testkit::aws_cli_json(&[
        "secretsmanager",
        "create-secret",
        "--name",
        &name,
        "--secret-string",
        r#"{"password":"one"}"#,
    ]);
    let first = created["VersionId"].as_str().unwrap().to_owned();
    let put = testkit::aws_cli_json(&[
        "secretsmanager",
        "put-secret-value",
        "--secret-id",
        &name,
        "--secret-string",
        r#"{"password":"two"}"#,
    ]);
    assert_ne!(put["VersionId"].as_str(), Some(first.as_str()));

    let vars = Vars::new().with("p", &moto.prefix).with("first", &first);
    let c = (loader(&moto).vars(vars)).fetch::<Config>().await.unwrap();
    assert_eq!(
        [&c.current, &c.explicit_current, &c.previous, &c.first],
        ["two", "two", "one", "one"]
    );
    let cli_read = |stage: &str| -> String {
        let out = testkit::aws_cli_json(&[
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            &name,
            "--version-stage",
            stage,
        ]);
        out["SecretString"].as_str().unwrap().to_owned()
    };
    assert_eq!(c.whole_current, cli_read("AWSCURRENT"));
    assert_eq!(c.whole_previous, cli_read("AWSPREVIOUS"));

    // Current (with or without an explicit AWSCURRENT) is one batched fetch; the previous
    // stage and the version id are one GetSecretValue each.
    assert_eq!(moto.counts(), [1, 2, 0]);
    assert_eq!(moto.proxy.list_sizes(BATCH, "SecretIdList"), [1]);
    let mut gets: Vec<String> = moto
        .proxy
        .bodies(GET)
        .iter()
        .map(|b| {
            let pick = |k: &str| b[k].as_str().unwrap_or("-").to_owned();
            format!(
                "{} {} {}",
                pick("SecretId"),
                pick("VersionStage"),
                pick("VersionId")
            )
        })
        .collect();
    gets.sort();
    let id = format!("{SM}{name}");
    let mut want = [format!("{id} AWSPREVIOUS -"), format!("{id} - {first}")];
    want.sort();
    assert_eq!(gets, want, "the partial ARN as the valueFrom holds it");
}

#[tokio::test]
async fn ssm_string_securestring_names_and_arns() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(ssm = "/{p}/plain")]
        plain: String,
        #[ecs(ssm = "/{p}/plain", env = "PLAIN_AGAIN")]
        plain_again: String,
        #[ecs(ssm = "/{p}/secure")]
        secure: Secret<String>,
        #[ecs(ssm = "{p}-flat")]
        flat: u16,
        #[ecs(ssm = "arn:aws:ssm:us-east-1:123456789012:parameter/{p}/by-arn")]
        by_arn: String,
        #[ecs(ssm = "/{p}/absent")]
        absent: Option<String>,
    }
    let Some(moto) = Moto::start("param").await else {
        return;
    };
    let p = &moto.prefix;
    testkit::put_parameter(&moto.direct, &format!("/{p}/plain"), "plain value", false).await;
    testkit::put_parameter(&moto.direct, &format!("/{p}/secure"), "s3cr3t", true).await;
    testkit::put_parameter(&moto.direct, &format!("{p}-flat"), "8080", false).await;
    testkit::put_parameter(&moto.direct, &format!("/{p}/by-arn"), "from arn", false).await;

    let c = loader(&moto).fetch::<Config>().await.unwrap();
    assert_eq!(c.plain, "plain value");
    assert_eq!(c.plain_again, "plain value");
    assert_eq!(
        c.secure.expose_secret(),
        "s3cr3t",
        "SecureString is decrypted"
    );
    assert_eq!(c.flat, 8080);
    assert_eq!(c.by_arn, "from arn");
    assert_eq!(
        c.absent, None,
        "a parameter that does not exist is None for an Option"
    );

    assert_eq!(moto.counts(), [0, 0, 1]);
    let body = &moto.proxy.bodies(PARAMS)[0];
    assert_eq!(body["WithDecryption"], Value::Bool(true));
    let mut names: Vec<&str> = body["Names"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    names.sort_unstable();
    let mut want = [
        format!("{SSM}/{p}/plain"),
        format!("{SSM}/{p}/secure"),
        format!("{SSM}/{p}-flat"),
        format!("{SSM}/{p}/by-arn"),
        format!("{SSM}/{p}/absent"),
    ];
    want.sort();
    assert_eq!(
        names, want,
        "each parameter once, by the ARN the valueFrom holds"
    );
}

#[tokio::test]
async fn load_takes_set_variables_and_fetches_only_the_rest() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/db", key = "password")]
        password: Secret<String>,
        #[ecs(secret = "{p}/db", key = "port")]
        db_port: u16,
        /// Injected by "ECS": its secret does not even exist.
        #[ecs(secret = "{p}/elsewhere")]
        injected: String,
        #[ecs(ssm = "/{p}/token")]
        token: String,
        #[ecs(ssm = "/{p}/injected")]
        injected_param: String,
        #[ecs(default = "3000")]
        port: u16,
        name: String,
    }
    let Some(moto) = Moto::start("load").await else {
        return;
    };
    let p = &moto.prefix;
    moto.secret("/db", r#"{"password":"pw","port":5432}"#).await;
    testkit::put_parameter(&moto.direct, &format!("/{p}/token"), "tok", true).await;
    let env = [
        ("INJECTED", "from env"),
        ("INJECTED_PARAM", "param from env"),
        ("NAME", "svc"),
    ];

    let c = loader(&moto)
        .lookup(lookup(&env))
        .load::<Config>()
        .await
        .unwrap();
    assert_eq!(c.password.expose_secret(), "pw");
    assert_eq!(c.db_port, 5432);
    assert_eq!(c.injected, "from env");
    assert_eq!(c.token, "tok");
    assert_eq!(c.injected_param, "param from env");
    assert_eq!((c.port, c.name.as_str()), (3000, "svc"));
    assert_eq!(moto.counts(), [1, 0, 1]);
    let batch = &moto.proxy.bodies(BATCH)[0];
    assert_eq!(
        batch["SecretIdList"],
        serde_json::json!([format!("{SM}{p}/db")])
    );
    let params = &moto.proxy.bodies(PARAMS)[0];
    assert_eq!(
        params["Names"],
        serde_json::json!([format!("{SSM}/{p}/token")])
    );

    // Everything set: nothing is fetched.
    moto.proxy.reset_counts();
    let all = [
        ("PASSWORD", "p"),
        ("DB_PORT", "1"),
        ("INJECTED", "i"),
        ("TOKEN", "t"),
        ("INJECTED_PARAM", "ip"),
        ("NAME", "n"),
    ];
    let c = loader(&moto)
        .lookup(lookup(&all))
        .load::<Config>()
        .await
        .unwrap();
    assert_eq!((c.db_port, c.token.as_str()), (1, "t"));
    assert_eq!(moto.proxy.total(), 0);

    // from_aws fetches every sourced field, so the missing secret is an error there.
    let e = loader(&moto)
        .lookup(lookup(&env))
        .fetch::<Config>()
        .await
        .unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("INJECTED", "ResourceNotFoundException"),
            ("INJECTED_PARAM", "ParameterNotFound")
        ]
    );
}

#[tokio::test]
async fn partial_failures_come_back_together() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "{p}/good", key = "user")]
        user: String,
        #[ecs(secret = "{p}/good", key = "nokey")]
        no_key: String,
        #[ecs(secret = "{p}/good", key = "port")]
        bad_port: u16,
        #[ecs(secret = "{p}/text", key = "k")]
        not_json: String,
        #[ecs(secret = "{p}/array", key = "k")]
        not_object: String,
        #[ecs(secret = "{p}/binary")]
        binary: String,
        #[ecs(secret = "{p}/absent")]
        absent: String,
        #[ecs(secret = "{p}/absent", key = "k", default = "fallback")]
        absent_with_default: String,
        #[ecs(secret = "{p}/absent-too")]
        maybe: Option<String>,
        #[ecs(ssm = "/{p}/absent")]
        param: String,
        #[ecs(ssm = "/{p}/absent-too")]
        maybe_param: Option<String>,
        #[ecs(ssm = "/{p}/ok")]
        param_ok: String,
        #[ecs(default = "3000")]
        port: u16,
    }
    let Some(moto) = Moto::start("partial").await else {
        return;
    };
    let p = &moto.prefix;
    let canary = "CANARY-9b2d47";
    moto.secret(
        "/good",
        &format!(r#"{{"user":"{canary}","port":"{canary}"}}"#),
    )
    .await;
    moto.secret("/text", canary).await;
    moto.secret("/array", &format!(r#"["{canary}"]"#)).await;
    testkit::create_binary_secret(&moto.direct, &moto.name("/binary"), canary.as_bytes()).await;
    testkit::put_parameter(&moto.direct, &format!("/{p}/ok"), canary, true).await;

    let e = loader(&moto).fetch::<Config>().await.unwrap_err();
    assert_eq!(
        codes(&e),
        [
            ("NO_KEY", "JsonKeyMissing"),
            ("BAD_PORT", "Invalid"),
            ("NOT_JSON", "NotJson"),
            ("NOT_OBJECT", "NotObject"),
            ("BINARY", "BinarySecret"),
            ("ABSENT", "ResourceNotFoundException"),
            ("ABSENT_WITH_DEFAULT", "ResourceNotFoundException"),
            ("PARAM", "ParameterNotFound"),
        ],
        "{e}"
    );
    let sources: Vec<&str> = e.errors().iter().map(|e| e.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            format!("{SM}{p}/good:nokey::"),
            format!("{SM}{p}/good:port::"),
            format!("{SM}{p}/text:k::"),
            format!("{SM}{p}/array:k::"),
            format!("{SM}{p}/binary"),
            format!("{SM}{p}/absent"),
            format!("{SM}{p}/absent:k::"),
            format!("{SSM}/{p}/absent"),
        ],
        "errors name the resolved valueFrom"
    );
    let absent: &FieldError = &e.errors()[5];
    assert_eq!((absent.field, absent.struct_name), ("absent", "Config"));
    assert!(
        matches!(&absent.kind, ErrorKind::Aws { reason, .. } | ErrorKind::Fetch { reason, .. } if reason.contains("BatchGetSecretValue")),
        "{absent}"
    );
    let shown = format!("{e}\n{e:?}");
    assert!(
        !shown.contains("9b2d47"),
        "a value leaked into the error:\n{shown}"
    );
    // Everything sent in as few requests as possible: one batch of the 6 distinct secrets,
    // one call for the 3 parameters.
    assert_eq!(moto.counts(), [1, 0, 1]);
    assert_eq!(moto.proxy.list_sizes(BATCH, "SecretIdList"), [6]);
    assert_eq!(moto.proxy.list_sizes(PARAMS, "Names"), [3]);
}

#[tokio::test]
async fn futures_are_send_and_default_options_read_placeholders_from_the_lookup() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{stage}-db", key = "password")]
        password: Secret<String>,
        #[ecs(default = "3000")]
        port: u16,
    }
    let Some(moto) = Moto::start("send").await else {
        return;
    };
    testkit::create_secret(
        &moto.direct,
        &format!("{}-db", moto.prefix),
        r#"{"password":"pw"}"#,
    )
    .await;
    let stage = moto.prefix.clone();
    // No `vars`: `{stage}` comes from STAGE, through the lookup.
    let options = Loader::new(&moto.config).lookup(move |k| (k == "STAGE").then(|| stage.clone()));
    let task = tokio::spawn(async move { options.fetch::<Config>().await });
    let c = task.await.unwrap().unwrap();
    assert_eq!((c.password.expose_secret().as_str(), c.port), ("pw", 3000));

    // Without a value for `{stage}`, nothing is fetched and the field says why.
    moto.proxy.reset_counts();
    let options = Loader::new(&moto.config).lookup(|_| None);
    let e = tokio::spawn(async move { options.load::<Config>().await })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(codes(&e), [("PASSWORD", "Placeholder")]);
    assert!(e.to_string().contains("{stage}"), "{e}");
    assert_eq!(moto.proxy.total(), 0);
}
