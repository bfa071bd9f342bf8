//! Secret values never reach an error's `Display`/`Debug`, a `Secret`'s output, or a derived
//! `Debug` — including the values of fields that fail to parse.

use std::collections::HashMap;

use ecs_secrets::{EcsSecrets, Secret};

#[path = "support/common.rs"]
mod common;
use common::{assert_clean, lookup, outputs};

const CANARY: &str = "CANARY-5f1e0c";
/// The canary, and a part of it.
const CANARIES: &[&str] = &[CANARY, "5f1e0c"];

#[test]
fn secrets_are_redacted_in_debug_and_display() {
    let s: Secret<String> = Secret::new(CANARY.to_owned());
    assert_clean("a Secret's output", &format!("{s} {s:?} {s:#?}"), CANARIES);
    let n: Secret<u64> = "123".parse().unwrap();
    assert_eq!(format!("{n}/{n:?}"), "[REDACTED]/[REDACTED]");
    let bytes: Secret<Vec<u8>> = Secret::new(CANARY.as_bytes().to_vec());
    assert_clean("an output", &format!("{bytes:?}"), CANARIES);
}

#[test]
fn loaded_struct_debug_is_clean() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<String>,
        #[ecs(ssm = "/token")]
        token: Option<Secret<String>>,
        #[ecs(secret = "prod/db", key = "blob", json)]
        blob: Secret<String>,
    }
    let r = Config::from_lookup(lookup(&[
        ("PASSWORD", CANARY.to_owned()),
        ("TOKEN", CANARY.to_owned()),
        ("BLOB", format!("\"{CANARY}\"")),
    ]));
    assert!(r.is_ok());
    assert_clean("an output", &outputs(&r), CANARIES);
}

#[test]
fn failed_parses_never_echo_the_value() {
    #[derive(Debug, PartialEq)]
    struct Echo(String);
    impl std::str::FromStr for Echo {
        type Err = String;
        fn from_str(s: &str) -> Result<Self, String> {
            // A parser that quotes its input, raw and escaped, as many do.
            Err(format!("bad value '{s}' ({s:?})"))
        }
    }
    impl zeroize::Zeroize for Echo {
        fn zeroize(&mut self) {
            self.0.zeroize();
        }
    }

    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db", key = "port")]
        port: u16,
        #[ecs(secret = "prod/db", key = "echo")]
        echo: Echo,
        #[ecs(secret = "prod/db", key = "secret_echo")]
        secret_echo: Secret<Echo>,
        #[ecs(secret = "prod/db", key = "config", json)]
        config: HashMap<String, u32>,
        #[ecs(secret = "prod/db", key = "secret_json", json)]
        secret_json: Secret<String>,
        #[ecs(secret = "prod/db", key = "quoted", json)]
        quoted: Vec<u8>,
    }
    let tricky = format!("{CANARY}\"\n\\");
    let r = Config::from_lookup(lookup(&[
        ("PORT", CANARY.to_owned()),
        ("ECHO", tricky.clone()),
        ("SECRET_ECHO", CANARY.to_owned()),
        ("CONFIG", format!("{{\"{CANARY}\": \"{CANARY}\"}}")),
        ("SECRET_JSON", format!("{{\"{CANARY}\": 1}}")),
        ("QUOTED", format!("[\"{CANARY}\"]")),
    ]));
    let e = r.as_ref().unwrap_err();
    assert_eq!(e.errors().len(), 6, "{e}");
    assert_clean("an output", &outputs(&r), CANARIES);
    // A secret's parser message is never shown: only the type it is not a value of.
    let echo = e.errors().iter().find(|e| e.field == "echo").unwrap();
    assert_eq!(echo.kind.to_string(), "invalid value: not a valid `Echo`");
    let secret = e
        .errors()
        .iter()
        .find(|e| e.field == "secret_echo")
        .unwrap();
    assert_eq!(secret.kind.to_string(), "invalid value: not a valid `Echo`");
}
