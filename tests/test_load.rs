//! Loading from the environment: parsing, options, defaults, `json`, every error at once.

use ecs_secrets::{EcsSecrets, ErrorKind, Secret};

#[path = "support/common.rs"]
mod common;
use common::lookup;

#[test]
fn values_options_and_defaults() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(secret = "prod/db", key = "port")]
        db_port: u16,
        #[ecs(default = "3000")]
        port: u16,
        #[ecs(ssm = "/flags")]
        flags: Option<String>,
        #[ecs(ssm = "/limit")]
        limit: Option<u32>,
        #[ecs(ssm = "/token")]
        token: Option<Secret<String>>,
        name: String,
    }
    let c = Config::from_lookup(lookup(&[
        ("PASSWORD", "pw"),
        ("DB_PORT", "5432"),
        ("LIMIT", "7"),
        ("TOKEN", "tok"),
        ("NAME", ""),
    ]))
    .unwrap();
    assert_eq!(c.password.expose_secret(), "pw");
    assert_eq!(c.db_port, 5432);
    assert_eq!(c.port, 3000, "default applies when absent");
    assert_eq!(c.flags, None, "absent Option is None");
    assert_eq!(c.limit, Some(7));
    assert_eq!(
        c.token.as_ref().map(|t| t.expose_secret().as_str()),
        Some("tok")
    );
    assert_eq!(c.name, "", "an empty string is present");

    let c = Config::from_lookup(lookup(&[
        ("PASSWORD", "pw"),
        ("DB_PORT", "1"),
        ("PORT", "8080"),
        ("NAME", "n"),
    ]))
    .unwrap();
    assert_eq!(c.port, 8080, "a set variable wins over the default");
}

#[test]
fn empty_string_is_parsed_not_defaulted() {
    #[derive(Debug, EcsSecrets)]
    #[allow(dead_code)]
    struct Config {
        #[ecs(default = "3000")]
        port: u16,
    }
    let e = Config::from_lookup(lookup(&[("PORT", "")])).unwrap_err();
    assert_eq!(e.errors().len(), 1);
    assert_eq!(
        e.errors()[0].kind,
        ErrorKind::Invalid {
            reason: "cannot parse integer from empty string".into()
        }
    );
}

#[test]
fn json_fields() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Endpoint {
        host: String,
        port: u16,
    }
    #[derive(Debug, EcsSecrets)]
    struct Config {
        #[ecs(json)]
        endpoints: Vec<Endpoint>,
        #[ecs(json, default = "[]")]
        tags: Vec<String>,
        #[ecs(json)]
        extra: Option<serde_json::Value>,
        #[ecs(json)]
        credentials: Secret<String>,
    }
    let c = Config::from_lookup(lookup(&[
        ("ENDPOINTS", r#"[{"host":"a","port":1}]"#),
        ("CREDENTIALS", r#""s3cr3t""#),
    ]))
    .unwrap();
    assert_eq!(
        c.endpoints,
        vec![Endpoint {
            host: "a".into(),
            port: 1
        }]
    );
    assert!(c.tags.is_empty());
    assert_eq!(c.extra, None);
    assert_eq!(c.credentials.expose_secret(), "s3cr3t");

    let e = Config::from_lookup(lookup(&[
        ("ENDPOINTS", "[{\"host\": 5}]"),
        ("CREDENTIALS", "\"abc"),
    ]))
    .unwrap_err();
    let kinds: Vec<_> = e
        .errors()
        .iter()
        .map(|e| (e.field, e.kind.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("endpoints", ErrorKind::InvalidJson { category: "data" }),
            // A `Secret`'s own deserialization failure is a data error whatever went wrong
            // inside: its message says only that the secret could not be parsed.
            ("credentials", ErrorKind::InvalidJson { category: "data" }),
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(secret = "prod/db", key = "port")]
        db_port: u16,
        #[ecs(ssm = "/limit")]
        limit: Option<u32>,
        #[ecs(default = "not-a-number")]
        workers: u8,
        fine: String,
    }
    let e = Config::from_lookup(lookup(&[
        ("DB_PORT", "99999"),
        ("LIMIT", "-1"),
        ("FINE", "ok"),
    ]))
    .unwrap_err();
    let summary: Vec<_> = e
        .errors()
        .iter()
        .map(|e| (e.field, e.env, e.kind.code()))
        .collect();
    assert_eq!(
        summary,
        [
            ("password", "PASSWORD", "Missing"),
            ("db_port", "DB_PORT", "Invalid"),
            ("limit", "LIMIT", "Invalid"),
            ("workers", "WORKERS", "InvalidDefault"),
        ]
    );
    assert_eq!(
        e.to_string(),
        "failed to load configuration: 4 problems\n  \
         - field `Config.password` (env `PASSWORD`, from arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password::): missing: the variable is not set\n  \
         - field `Config.db_port` (env `DB_PORT`, from arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:port::): invalid value: not a valid `u16`\n  \
         - field `Config.limit` (env `LIMIT`, from arn:aws:ssm:us-east-1:123456789012:parameter/limit): invalid value: not a valid `u32`\n  \
         - field `Config.workers` (env `WORKERS`, from environment): invalid default: invalid digit found in string"
    );
}

#[test]
fn one_problem_reads_as_one_line() {
    #[derive(Debug, EcsSecrets)]
    struct Config {
        #[allow(dead_code)]
        name: String,
    }
    let e = Config::from_lookup(|_| None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "failed to load configuration: field `Config.name` (env `NAME`, from environment): missing: the variable is not set"
    );
}

/// Invalid UTF-8 needs the real process environment; the test re-runs itself as a child with
/// such a variable rather than mutating its own environment.
#[cfg(unix)]
#[test]
fn value_that_is_not_utf8_is_an_error() {
    use std::os::unix::ffi::OsStrExt;

    #[derive(Debug, EcsSecrets)]
    struct Config {
        #[allow(dead_code)]
        ecs_secrets_test_bytes: String,
    }
    if std::env::var_os("ECS_SECRETS_TEST_CHILD").is_some() {
        let e = Config::from_env().unwrap_err();
        assert_eq!(e.errors()[0].kind, ErrorKind::NotUnicode);
        println!("CHILD-OK {e}");
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "value_that_is_not_utf8_is_an_error",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ECS_SECRETS_TEST_CHILD", "1")
        .env(
            "ECS_SECRETS_TEST_BYTES",
            std::ffi::OsStr::from_bytes(b"caf\xe9-CANARY"),
        )
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("CHILD-OK"), "{stdout}");
    assert!(
        stdout.contains("not valid UTF-8") && !stdout.contains("CANARY"),
        "{stdout}"
    );
}

#[test]
fn string_fields_take_the_text_every_other_type_parses_it() {
    // `String` and `Secret<String>` fields take the looked-up text instead of copying it; every
    // other type parses it, and a failure still names the field. The same for plain and sourced
    // fields, for defaults, and for text that is empty or not ASCII.
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "prod/db", key = "user")]
        user: String,
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(ssm = "/token")]
        token: Option<Secret<String>>,
        #[ecs(ssm = "/name")]
        name: Option<String>,
        #[ecs(default = "défaut ✓")]
        label: String,
        #[ecs(default = "s3cr3t")]
        fallback: Secret<String>,
        #[ecs(ssm = "/port")]
        port: u16,
        empty: String,
    }
    let c = Config::from_lookup(lookup(&[
        ("USER", "ünïcödé"),
        ("PASSWORD", "p@ss word"),
        ("TOKEN", ""),
        ("NAME", "n"),
        ("PORT", "8080"),
        ("EMPTY", ""),
    ]))
    .unwrap();
    assert_eq!(c.user, "ünïcödé");
    assert_eq!(c.password.expose_secret(), "p@ss word");
    assert_eq!(
        c.token.as_ref().map(|t| t.expose_secret().as_str()),
        Some("")
    );
    assert_eq!(c.name.as_deref(), Some("n"));
    assert_eq!(c.label, "défaut ✓");
    assert_eq!(c.fallback.expose_secret(), "s3cr3t");
    assert_eq!(c.port, 8080);
    assert_eq!(c.empty, "");

    let e = Config::from_lookup(lookup(&[
        ("USER", "u"),
        ("PASSWORD", "p"),
        ("PORT", "http"),
        ("EMPTY", "x"),
    ]))
    .unwrap_err();
    assert_eq!(e.errors().len(), 1);
    assert_eq!(e.errors()[0].env, "PORT");
    assert_eq!(
        e.errors()[0].kind,
        ErrorKind::Invalid {
            reason: "not a valid `u16`".into()
        }
    );
}
