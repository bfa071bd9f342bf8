//! `Secret<T>` wipes its value when dropped, through `T`'s `Zeroize` (the `secrecy`/`zeroize`
//! mechanism), on every path that creates one: `new`, `From`, `FromStr`, serde, `Clone`, and a
//! derived load — including a load that fails after the secret field was already parsed.
//!
//! Tested by counting `Zeroize::zeroize` calls on a tracking type, not by reading freed memory.

use std::cell::Cell;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ecs_secrets::{EcsSecrets, ErrorKind, Secret};
use zeroize::Zeroize;

/// A value that counts how often it was zeroized, and wipes its text when it is.
struct Tracked {
    text: String,
    wipes: Arc<AtomicUsize>,
}

impl Zeroize for Tracked {
    fn zeroize(&mut self) {
        self.text.zeroize();
        self.wipes.fetch_add(1, Ordering::SeqCst);
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked {
            text: self.text.clone(),
            wipes: Arc::clone(&self.wipes),
        }
    }
}

fn tracked(text: &str) -> (Tracked, Arc<AtomicUsize>) {
    let wipes = Arc::new(AtomicUsize::new(0));
    let value = Tracked {
        text: text.to_owned(),
        wipes: Arc::clone(&wipes),
    };
    (value, wipes)
}

#[test]
fn dropping_a_secret_zeroizes_its_value_once() {
    let (value, wipes) = tracked("CANARY-zeroize-1");
    let secret = Secret::new(value);
    assert_eq!(secret.expose_secret().text, "CANARY-zeroize-1");
    assert_eq!(wipes.load(Ordering::SeqCst), 0, "not wiped while alive");
    drop(secret);
    assert_eq!(
        wipes.load(Ordering::SeqCst),
        1,
        "wiped exactly once on drop"
    );
}

#[test]
fn from_and_clone_zeroize_every_copy() {
    let (value, wipes) = tracked("CANARY-zeroize-2");
    let a: Secret<Tracked> = value.into();
    let b = a.clone();
    assert_eq!(b.expose_secret().text, "CANARY-zeroize-2");
    drop(a);
    assert_eq!(wipes.load(Ordering::SeqCst), 1);
    assert_eq!(
        b.expose_secret().text,
        "CANARY-zeroize-2",
        "the clone is its own copy"
    );
    drop(b);
    assert_eq!(wipes.load(Ordering::SeqCst), 2, "both copies wiped");
}

// `FromStr` and serde build the value themselves, so they report to a per-thread counter (each
// test runs on its own thread, and drops happen on it).
thread_local! {
    static PARSED_WIPES: Cell<usize> = const { Cell::new(0) };
}

/// Parsed from text; counts its wipes in `PARSED_WIPES`.
#[derive(Debug)]
struct Parsed(String);

impl FromStr for Parsed {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Parsed(s.to_owned()))
    }
}

impl<'de> serde::Deserialize<'de> for Parsed {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Parsed)
    }
}

impl Zeroize for Parsed {
    fn zeroize(&mut self) {
        self.0.zeroize();
        PARSED_WIPES.with(|w| w.set(w.get() + 1));
    }
}

fn parsed_wipes() -> usize {
    PARSED_WIPES.with(Cell::get)
}

#[test]
fn parsed_and_deserialized_secrets_are_zeroized() {
    let s: Secret<Parsed> = "CANARY-zeroize-3".parse().unwrap();
    assert_eq!(s.expose_secret().0, "CANARY-zeroize-3");
    drop(s);
    assert_eq!(parsed_wipes(), 1);

    let s: Secret<Parsed> = serde_json::from_str("\"CANARY-zeroize-4\"").unwrap();
    assert_eq!(s.expose_secret().0, "CANARY-zeroize-4");
    drop(s);
    assert_eq!(parsed_wipes(), 2);
}

#[test]
fn loaded_secret_fields_are_zeroized_when_the_struct_drops() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<Parsed>,
        #[ecs(ssm = "/token")]
        token: Option<Secret<Parsed>>,
        #[ecs(secret = "prod/db", key = "blob", json)]
        blob: Secret<Parsed>,
    }
    let map = HashMap::from([
        ("PASSWORD", "CANARY-zeroize-5"),
        ("TOKEN", "CANARY-zeroize-6"),
        ("BLOB", "\"CANARY-zeroize-7\""),
    ]);
    let c = Config::from_lookup(|k| map.get(k).map(|v| v.to_string())).unwrap();
    assert_eq!(c.password.expose_secret().0, "CANARY-zeroize-5");
    assert_eq!(
        c.token.as_ref().map(|t| t.expose_secret().0.as_str()),
        Some("CANARY-zeroize-6")
    );
    assert_eq!(c.blob.expose_secret().0, "CANARY-zeroize-7");
    assert_eq!(parsed_wipes(), 0, "nothing wiped while the config lives");
    drop(c);
    assert_eq!(parsed_wipes(), 3, "password, token and blob wiped");
}

/// When another field fails, the secrets already parsed are dropped — and wiped — before the
/// error is returned; none is leaked or forgotten.
#[test]
fn a_failed_load_zeroizes_the_secrets_it_had_parsed() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        password: Secret<Parsed>,
        #[ecs(secret = "prod/db", key = "port")]
        port: u16,
        #[ecs(ssm = "/token")]
        token: Secret<Parsed>,
    }
    let map = HashMap::from([
        ("PASSWORD", "CANARY-zeroize-8"),
        ("PORT", "not-a-port"),
        ("TOKEN", "CANARY-zeroize-9"),
    ]);
    let e = Config::from_lookup(|k| map.get(k).map(|v| v.to_string())).unwrap_err();
    assert_eq!(e.errors().len(), 1);
    assert_eq!(e.errors()[0].field, "port");
    assert_eq!(
        e.errors()[0].kind,
        ErrorKind::Invalid {
            reason: "not a valid `u16`".into()
        }
    );
    assert_eq!(
        parsed_wipes(),
        2,
        "both parsed secrets wiped on the error path"
    );
}
