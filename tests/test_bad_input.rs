//! Bad input at load: values that are not UTF-8, empty, very large, JSON of unexpected shapes,
//! duplicate keys, defaults that do not parse. Each gives a clear, field-named error or a
//! documented behaviour (docs/reliability.md), and no planted value appears in any output.

use std::collections::HashMap;

use ecs_secrets::extract::{ExtractError, NotJsonKind, json_key};
use ecs_secrets::{EcsSecrets, ErrorKind, Secret};

#[path = "support/common.rs"]
mod common;
use common::{assert_clean, lookup, outputs};

const CANARY: &str = "CANARY-bad-input-7d41";
/// Any canary of the file, and a part of this one.
const CANARIES: &[&str] = &["CANARY", "7d41"];

/// `(field, kind)` of every error.
fn kinds(e: &ecs_secrets::Error) -> Vec<(&'static str, ErrorKind)> {
    e.errors()
        .iter()
        .map(|e| (e.field, e.kind.clone()))
        .collect()
}

fn json_error(category: &'static str) -> ErrorKind {
    ErrorKind::InvalidJson { category }
}

fn invalid(reason: &str) -> ErrorKind {
    ErrorKind::Invalid {
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Not UTF-8: needs the real process environment, so the test re-runs itself as a child with
// such variables instead of mutating its own environment.

/// Runs test `name` in a child process with `vars` set; returns its stdout after checking it
/// passed and printed `CHILD-OK`.
#[cfg(unix)]
fn run_child(name: &str, vars: &[(&str, &std::ffi::OsStr)]) -> String {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("ECS_SECRETS_TEST_CHILD", "1");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("CHILD-OK"), "{stdout}\n{stderr}");
    assert_clean("the child's stdout", &stdout, CANARIES);
    assert_clean("the child's stderr", &stderr, CANARIES);
    stdout
}

fn in_child() -> bool {
    std::env::var_os("ECS_SECRETS_TEST_CHILD").is_some()
}

/// Every kind of field reports `NotUnicode` — a `Secret`, a `json` field, an `Option` (not
/// `None`) and a field with a default (not the default) — and the valid field still loads.
#[cfg(unix)]
#[test]
fn values_that_are_not_utf8_are_field_errors() {
    use std::os::unix::ffi::OsStrExt;

    #[derive(Debug, EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        env_prefix = "ECS_SECRETS_BAD_"
    )]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(json)]
        blob: serde_json::Value,
        flag: Option<String>,
        #[ecs(default = "3000")]
        port: u16,
        fine: String,
    }
    if in_child() {
        let r = Config::from_env();
        let e = r.as_ref().unwrap_err();
        assert_eq!(
            kinds(e),
            [
                ("password", ErrorKind::NotUnicode),
                ("blob", ErrorKind::NotUnicode),
                ("flag", ErrorKind::NotUnicode),
                ("port", ErrorKind::NotUnicode),
            ]
        );
        assert_eq!(
            e.errors()[0].to_string(),
            "field `Config.password` (env `ECS_SECRETS_BAD_PASSWORD`, from \
             arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db:password::): the value \
             is not valid UTF-8"
        );
        println!("CHILD-OK {}", outputs(&r));
        return;
    }
    let bad = |tail: &[u8]| {
        let mut v = CANARY.as_bytes().to_vec();
        v.extend_from_slice(tail);
        std::ffi::OsString::from(std::ffi::OsStr::from_bytes(&v))
    };
    let (a, b, c, d) = (
        bad(b"\xff"),
        bad(b"{\"a\":\"\xc3\x28\"}"),
        bad(b"\xed\xa0\x80"), // an encoded surrogate: WTF-8, not UTF-8
        bad(b"\x80"),
    );
    let stdout = run_child(
        "values_that_are_not_utf8_are_field_errors",
        &[
            ("ECS_SECRETS_BAD_PASSWORD", &a),
            ("ECS_SECRETS_BAD_BLOB", &b),
            ("ECS_SECRETS_BAD_FLAG", &c),
            ("ECS_SECRETS_BAD_PORT", &d),
            ("ECS_SECRETS_BAD_FINE", std::ffi::OsStr::new("ok")),
        ],
    );
    assert!(stdout.contains("4 problems"), "{stdout}");
}

/// The largest value a process environment can carry on Linux: one `NAME=value` string is
/// capped at 128 KiB (`MAX_ARG_STRLEN`), above Secrets Manager's 64 KiB secret limit.
#[cfg(target_os = "linux")]
#[test]
fn largest_environment_value_loads_whole() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(
        region = "us-east-1",
        account = "123456789012",
        env_prefix = "ECS_SECRETS_BIG_"
    )]
    struct Config {
        #[ecs(secret = "prod/blob")]
        blob: Secret<String>,
    }
    let value = big_value(128 * 1024 - "ECS_SECRETS_BIG_BLOB=".len() - 1);
    if in_child() {
        let c = Config::from_env().unwrap();
        assert_eq!(c.blob.expose_secret().len(), value.len());
        assert!(c.blob.expose_secret() == &value, "loaded byte for byte");
        println!("CHILD-OK {c:?}");
        return;
    }
    run_child(
        "largest_environment_value_loads_whole",
        &[("ECS_SECRETS_BIG_BLOB", std::ffi::OsStr::new(&value))],
    );
}

/// `n` bytes of canaries.
fn big_value(n: usize) -> String {
    let mut s = CANARY.repeat(n / CANARY.len() + 1);
    s.truncate(n);
    s
}

// ---------------------------------------------------------------------------------------------
// Empty values: a set, empty variable is present — parsed, never defaulted or `None`.

#[test]
fn empty_values_are_present_and_parsed() {
    #[derive(Debug, EcsSecrets)]
    #[allow(dead_code)]
    struct Config {
        name: String,
        token: Secret<String>,
        maybe: Option<String>,
        #[ecs(default = "fallback")]
        label: String,
        port: u16,
        limit: Option<u32>,
        enabled: bool,
        #[ecs(json)]
        tags: Vec<String>,
    }
    let empty = |names: &[&str]| {
        let pairs: Vec<(&str, String)> = names.iter().map(|n| (*n, String::new())).collect();
        lookup(&pairs)
    };
    let ok = Config::from_lookup(empty(&["NAME", "TOKEN", "MAYBE", "LABEL"]));
    // The others are absent; only the four String fields are set (empty) here.
    let e = ok.unwrap_err();
    assert_eq!(
        kinds(&e),
        [
            ("port", ErrorKind::Missing),
            ("enabled", ErrorKind::Missing),
            ("tags", ErrorKind::Missing),
        ]
    );

    let all = [
        "NAME", "TOKEN", "MAYBE", "LABEL", "PORT", "LIMIT", "ENABLED", "TAGS",
    ];
    let e = Config::from_lookup(empty(&all)).unwrap_err();
    assert_eq!(
        kinds(&e),
        [
            ("port", invalid("cannot parse integer from empty string")),
            ("limit", invalid("cannot parse integer from empty string")),
            (
                "enabled",
                invalid("provided string was not `true` or `false`")
            ),
            ("tags", json_error("eof")),
        ]
    );

    let mut pairs: Vec<(&str, String)> = all.iter().map(|n| (*n, String::new())).collect();
    pairs.retain(|(k, _)| !["PORT", "LIMIT", "ENABLED", "TAGS"].contains(k));
    pairs.extend([
        ("PORT", "1".to_owned()),
        ("ENABLED", "true".to_owned()),
        ("TAGS", "[]".to_owned()),
    ]);
    let c = Config::from_lookup(lookup(&pairs)).unwrap();
    assert_eq!(c.name, "");
    assert_eq!(c.token.expose_secret(), "");
    assert_eq!(
        c.maybe.as_deref(),
        Some(""),
        "empty is Some(\"\"), not None"
    );
    assert_eq!(
        c.label, "",
        "empty is a value, not a reason to take the default"
    );
}

// ---------------------------------------------------------------------------------------------
// Very large values (1 MiB, sixteen times Secrets Manager's limit): loaded whole, or rejected
// with an error that carries no part of them.

const MIB: usize = 1024 * 1024;

#[test]
fn one_mebibyte_values_load_whole() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Blob {
        data: String,
        items: Vec<String>,
    }
    #[derive(Debug, EcsSecrets)]
    struct Config {
        secret: Secret<String>,
        #[ecs(json)]
        blob: Blob,
        #[ecs(json)]
        secret_json: Secret<String>,
    }
    let text = big_value(MIB);
    let blob = format!(
        "{{\"data\":\"{}\",\"items\":[{}]}}",
        big_value(MIB / 2),
        vec![format!("\"{CANARY}\""); MIB / 2 / (CANARY.len() + 3)].join(",")
    );
    let r = Config::from_lookup(lookup(&[
        ("SECRET", text.clone()),
        ("BLOB", blob),
        ("SECRET_JSON", format!("\"{text}\"")),
    ]));
    let c = r.as_ref().unwrap();
    assert!(c.secret.expose_secret() == &text);
    assert_eq!(c.blob.data.len(), MIB / 2);
    assert_eq!(c.blob.items.len(), MIB / 2 / (CANARY.len() + 3));
    assert!(c.secret_json.expose_secret() == &text);
    // Debug of a loaded struct prints the plain field, by design: keep secrets in `Secret`.
    let debug = format!("{:?}", c.secret);
    assert_eq!(debug, "[REDACTED]");
}

#[test]
fn one_mebibyte_invalid_values_are_rejected_with_bounded_messages() {
    /// A parser that quotes all of its input in its error, as many do.
    #[derive(Debug)]
    struct Echo;
    impl std::str::FromStr for Echo {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            Err(format!("bad value `{s}`"))
        }
    }
    #[derive(Debug, EcsSecrets)]
    #[allow(dead_code)]
    struct Config {
        number: u64,
        echo: Echo,
        #[ecs(json)]
        list: Vec<String>,
        #[ecs(json)]
        secret_json: Secret<String>,
    }
    let text = big_value(MIB);
    // A list of canaries that breaks off in its last element: an eof error at its very end.
    let list = format!("[\"{text}\",\"{CANARY}");
    let r = Config::from_lookup(lookup(&[
        ("NUMBER", "9".repeat(MIB)),
        ("ECHO", text.clone()),
        ("LIST", list.clone()),
        ("SECRET_JSON", format!("{{\"{text}\": 1}}")),
    ]));
    let e = r.as_ref().unwrap_err();
    assert_eq!(
        kinds(e),
        [
            ("number", invalid("number too large to fit in target type")),
            // A plain variable is in clear in the task definition: its parser's message is
            // kept, cut to 200 bytes.
            (
                "echo",
                invalid(&format!("{}…", &format!("bad value `{text}`")[..200]))
            ),
            ("list", json_error("eof")),
            ("secret_json", json_error("data")),
        ]
    );
    // Every error but the plain variable's (in clear anyway) is free of the value.
    let secrets: Vec<_> = e.errors().iter().filter(|f| f.field != "echo").collect();
    assert_clean("an output", &format!("{secrets:?}"), CANARIES);
}

// ---------------------------------------------------------------------------------------------
// `json` fields: JSON of an unexpected shape is an `InvalidJson` error with serde_json's category
// and position only (its message would quote the input).

#[test]
fn json_of_unexpected_shapes() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Endpoint {
        host: String,
        port: u16,
    }
    #[derive(Debug, EcsSecrets)]
    #[allow(dead_code)]
    struct Config {
        #[ecs(json)]
        as_array: Endpoint,
        #[ecs(json)]
        as_string: Endpoint,
        #[ecs(json)]
        as_null: Endpoint,
        #[ecs(json)]
        as_number: Endpoint,
        #[ecs(json)]
        out_of_range: Endpoint,
        #[ecs(json)]
        wrong_field_type: Endpoint,
        #[ecs(json)]
        duplicate_field: Endpoint,
        #[ecs(json)]
        trailing: Endpoint,
        #[ecs(json)]
        list_as_object: Vec<String>,
        #[ecs(json)]
        null_option: Option<Endpoint>,
        #[ecs(json)]
        secret_object: Secret<String>,
        #[ecs(json)]
        not_json: serde_json::Value,
    }
    let c = CANARY;
    let r = Config::from_lookup(lookup(&[
        ("AS_ARRAY", format!("[\"{c}\"]")),
        ("AS_STRING", format!("\"{c}\"")),
        ("AS_NULL", "null".into()),
        ("AS_NUMBER", "42".into()),
        (
            "OUT_OF_RANGE",
            format!("{{\"host\":\"{c}\",\"port\":70000}}"),
        ),
        ("WRONG_FIELD_TYPE", "{\"host\":5,\"port\":1}".into()),
        (
            "DUPLICATE_FIELD",
            format!("{{\"host\":\"{c}\",\"port\":1,\"host\":\"{c}\"}}"),
        ),
        ("TRAILING", format!("{{\"host\":\"{c}\",\"port\":1}} {c}")),
        ("LIST_AS_OBJECT", format!("{{\"{c}\":\"{c}\"}}")),
        ("NULL_OPTION", "null".into()),
        ("SECRET_OBJECT", format!("{{\"password\":\"{c}\"}}")),
        ("NOT_JSON", c.into()),
    ]));
    let e = r.as_ref().unwrap_err();
    assert_eq!(
        kinds(e),
        [
            ("as_array", json_error("data")),
            ("as_string", json_error("data")),
            ("as_null", json_error("data")),
            ("as_number", json_error("data")),
            ("out_of_range", json_error("data")),
            ("wrong_field_type", json_error("data")),
            ("duplicate_field", json_error("data")),
            ("trailing", json_error("syntax")),
            ("list_as_object", json_error("data")),
            // A set variable is parsed as the inner type: `null` is not "absent".
            ("null_option", json_error("data")),
            ("secret_object", json_error("data")),
            ("not_json", json_error("syntax")),
        ]
    );
    assert_clean("an output", &outputs(&r), CANARIES);
}

/// Nesting far deeper than serde_json's limit of 128 is an error, not a stack overflow.
#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    #[derive(Debug, EcsSecrets)]
    #[allow(dead_code)]
    struct Config {
        #[ecs(json)]
        value: serde_json::Value,
    }
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = Config::from_lookup(lookup(&[("VALUE", deep)])).unwrap_err();
    assert_eq!(kinds(&e), [("value", json_error("syntax"))]);
}

/// Duplicate keys in a `json` field: a map keeps the last, like serde_json and Go; a struct
/// rejects the duplicate field (see `json_of_unexpected_shapes`).
#[test]
fn duplicate_keys_in_a_json_field_keep_the_last() {
    #[derive(Debug, EcsSecrets)]
    struct Config {
        #[ecs(json)]
        limits: HashMap<String, u32>,
        #[ecs(json)]
        raw: serde_json::Value,
    }
    let c = Config::from_lookup(lookup(&[
        ("LIMITS", "{\"a\":1,\"b\":2,\"a\":3}"),
        ("RAW", "{\"k\":{\"x\":1},\"k\":\"last\"}"),
    ]))
    .unwrap();
    assert_eq!(c.limits, HashMap::from([("a".into(), 3), ("b".into(), 2)]));
    assert_eq!(c.raw, serde_json::json!({"k": "last"}));
}

// ---------------------------------------------------------------------------------------------
// Duplicate keys in a JSON *secret* (`valueFrom` with a JSON key): the agent's Go decoder keeps
// the last one, and so does the extraction shared by the `aws` loader.

#[test]
fn duplicate_keys_in_a_json_secret_last_wins() {
    let get = |secret: &str, key: &str| json_key(secret, key).map(|v| v.as_str().to_owned());
    assert_eq!(
        get(r#"{"password":"first","password":"second"}"#, "password"),
        Ok("second".into())
    );
    // The last wins outright: no merging of an earlier object value.
    assert_eq!(
        get(r#"{"k":{"a":1},"k":{"b":"x"}}"#, "k"),
        Ok("map[b:x]".into())
    );
    assert_eq!(get(r#"{"k":{"a":1},"k":"x"}"#, "k"), Ok("x".into()));
    assert_eq!(get(r#"{"k":"x","k":null}"#, "k"), Ok("<nil>".into()));
    // Keys compare after unescaping: `"\u0070assword"` is `password`.
    assert_eq!(
        get(r#"{"password":"a","\u0070assword":"b"}"#, "password"),
        Ok("b".into())
    );
    // A duplicate nested key does not shadow a top-level one.
    assert_eq!(
        get(r#"{"k":"top","n":{"k":"nested"}}"#, "k"),
        Ok("top".into())
    );
    assert_eq!(get(r#"{"a":1,"a":2}"#, "b"), Err(ExtractError::KeyMissing));
}

/// The other shapes of a JSON secret, with the errors the `aws` loader turns into field errors.
#[test]
fn json_secret_shapes() {
    let c = CANARY;
    let cases: [(&str, String, Result<&str, ExtractError>); 9] = [
        (
            "k",
            format!("{{\"k\":\"{c}\\n\\u00e9\"}}"),
            Ok("CANARY-bad-input-7d41\né"),
        ),
        ("k", "{\"k\":1234567}".into(), Ok("1.234567e+06")),
        ("k", "{\"k\":[1,\"a\",true]}".into(), Ok("[1 a true]")),
        ("k", format!("[\"{c}\"]"), Err(ExtractError::NotObject)),
        ("k", format!("\"{c}\""), Err(ExtractError::NotObject)),
        ("k", "null".into(), Err(ExtractError::KeyMissing)),
        ("k", format!("{{\"{c}\":1}}"), Err(ExtractError::KeyMissing)),
        (
            "k",
            c.into(),
            Err(ExtractError::NotJson(NotJsonKind::Syntax)),
        ),
        (
            "k",
            format!("{{\"k\":\"{c}"),
            Err(ExtractError::NotJson(NotJsonKind::Eof)),
        ),
    ];
    for (key, secret, want) in cases {
        let got = json_key(&secret, key);
        let shown = format!("{got:?}");
        match (&got, want) {
            (Ok(v), Ok(w)) => assert_eq!(v.as_str(), w, "{secret}"),
            (Err(e), Err(w)) => {
                assert_eq!(e, &w, "{secret}");
                assert_clean("an output", &format!("{e} {e:?}"), CANARIES);
            }
            _ => panic!("{secret}: got {shown}"),
        }
        assert!(!shown.contains(CANARY) || got.is_ok(), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Defaults that do not parse: an error on the field, saying it is the default, only when the
// default is actually used.

#[test]
fn defaults_that_do_not_parse() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(default = "many")]
        workers: u8,
        #[ecs(default = "300")]
        small: u8,
        #[ecs(secret = "dev/db", key = "port", default = "localhost")]
        db_port: Secret<u16>,
        #[ecs(json, default = "[1,")]
        list: Vec<u8>,
    }
    let e = Config::from_lookup(|_| None).unwrap_err();
    assert_eq!(
        kinds(&e),
        [
            (
                "workers",
                ErrorKind::InvalidDefault {
                    reason: "invalid digit found in string".into()
                }
            ),
            (
                "small",
                ErrorKind::InvalidDefault {
                    reason: "number too large to fit in target type".into()
                }
            ),
            (
                "db_port",
                ErrorKind::InvalidDefault {
                    reason:
                        "the secret value could not be parsed (details withheld to keep it secret)"
                            .into()
                }
            ),
            (
                "list",
                ErrorKind::InvalidDefault {
                    reason: "invalid JSON: eof error at line 1, column 3".into()
                }
            ),
        ]
    );
    assert_eq!(
        e.errors()[0].to_string(),
        "field `Config.workers` (env `WORKERS`, from environment): invalid default: invalid digit \
         found in string"
    );
    // Set variables never touch the defaults.
    let c = Config::from_lookup(lookup(&[
        ("WORKERS", "4"),
        ("SMALL", "5"),
        ("DB_PORT", "5432"),
        ("LIST", "[1]"),
    ]))
    .unwrap();
    assert_eq!(
        (c.workers, c.small, *c.db_port.expose_secret()),
        (4, 5, 5432)
    );
    assert_eq!(c.list, [1]);
}
