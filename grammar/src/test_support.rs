//! Shorthands and helpers for the unit tests' case tables.

use crate::{SecretsManagerRef, SsmRef, ValueFrom};

pub const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
pub const PARAM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/";
pub const UUID: &str = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE";
pub const W: &str = "\u{1A}";

/// Expands the shorthands used in the case tables; a trailing `$A<n>` is n 'a's.
fn expand(s: &str) -> String {
    let s = s.replace("$SM", SM).replace("$P", PARAM);
    let s = s.replace("$UUID", UUID).replace("$W", W);
    match s.split_once("$A") {
        Some((head, n)) => head.to_string() + &"a".repeat(n.parse().unwrap()),
        None => s,
    }
}

/// Runs a table of `function | input | "ok" or a needle the error message must contain`.
pub fn run_table(table: &str, f: impl Fn(&str, &str) -> Result<(), String>) {
    for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let [func, input, want] =
            <[&str; 3]>::try_from(line.split('|').map(str::trim).collect::<Vec<_>>()).expect(line);
        match (f(func, &expand(input)), want) {
            (Ok(()), "ok") => {}
            (Err(e), _) if want != "ok" && e.contains(&expand(want)) => {}
            (got, _) => panic!("{line}: got {got:?}"),
        }
    }
}

pub fn ok(s: &str) -> ValueFrom {
    let v: ValueFrom = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(v.to_string(), s, "round trip");
    v
}

pub fn sm(v: &ValueFrom) -> &SecretsManagerRef {
    match v {
        ValueFrom::SecretsManager(r) => r,
        other => panic!("not Secrets Manager: {other:?}"),
    }
}

pub fn ssm(v: ValueFrom) -> SsmRef {
    match v {
        ValueFrom::Ssm(r) => r,
        other => panic!("not SSM: {other:?}"),
    }
}
