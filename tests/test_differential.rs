//! Differential leak tests: for a secret — a Secrets Manager or SSM source, a `Secret<T>` field,
//! a `json` field — the text of a load error depends only on the field and the kind of failure.
//! Several different bad values of one kind must give byte-identical `Display`, `Debug` and
//! pretty `Debug`; a canary search alone misses short values (`t`) and partial echoes (a parser
//! that quotes its trimmed input, or a prefix of it, or points at a column).
//!
//! Every value reaches the parser through the same loading engine whether it came from the
//! environment or from AWS (the AWS loader hands its answers to the same code), so loading with
//! `from_lookup` covers both; what decides is the field's source and type.

use ecs_secrets::{EcsSecrets, Secret};
use zeroize::Zeroize;

/// A parser that quotes its trimmed input, as many do (`unrecognised value 'alpha'`).
#[derive(Debug)]
struct Word;
impl std::str::FromStr for Word {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Err(format!("unrecognised value '{}'", s.trim()))
    }
}
impl Zeroize for Word {
    fn zeroize(&mut self) {}
}

/// A parser that quotes a prefix of its input (`bad scheme in htps...`).
#[derive(Debug)]
struct Url;
impl std::str::FromStr for Url {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Err(format!(
            "bad scheme in {}...",
            s.chars().take(4).collect::<String>()
        ))
    }
}
impl Zeroize for Url {
    fn zeroize(&mut self) {}
}

/// The error of loading `T` with `V` set to `value`: Display, Debug and pretty Debug.
fn text<T: EcsSecrets>(value: &str) -> String {
    let error = T::from_lookup(|k| (k == "V").then(|| value.to_owned()))
        .err()
        .unwrap_or_else(|| panic!("{value:?} loaded"));
    format!("{error}\n{error:?}\n{error:#?}")
}

/// Every value of `values` gives the same error text for `T`, and none of it shows up there.
fn same<T: EcsSecrets>(what: &str, values: &[&str]) {
    let first = text::<T>(values[0]);
    for value in values {
        let t = text::<T>(value);
        assert_eq!(
            t, first,
            "{what}: {value:?} gives another text than {:?}",
            values[0]
        );
        let shown = value.trim();
        // (Shorter values are words of the message itself: `in` is in "invalid".)
        if shown.chars().count() >= 4 {
            assert!(!t.contains(shown), "{what}: {value:?} is in\n{t}");
        }
    }
}

/// One single-field struct per (source, type), all read from the variable `V`.
macro_rules! shapes {
    // The type as tokens, not a `ty` fragment: the derive must see `Option<…>` to know the
    // field is optional.
    ($($name:ident [$($ty:tt)+] $($attr:meta),*;)*) => {
        $(
            #[derive(EcsSecrets)]
            #[ecs(region = "us-east-1", account = "123456789012")]
            #[allow(dead_code)]
            struct $name {
                $(#[$attr])*
                v: $($ty)+,
            }
        )*
    };
}

shapes! {
    SmU16 [u16] ecs(secret = "app/db", key = "port");
    SmOptU16 [Option<u16>] ecs(secret = "app/db", key = "port");
    SmSecretU16 [Secret<u16>] ecs(secret = "app/db", key = "port");
    SsmU16 [u16] ecs(ssm = "/app/port");
    SsmOptSecretU16 [Option<Secret<u16>>] ecs(ssm = "/app/port");
    EnvSecretU16 [Secret<u16>] ecs(env = "V");
    SmWord [Word] ecs(secret = "app/db", key = "word");
    SsmWord [Option<Word>] ecs(ssm = "/app/word");
    EnvSecretWord [Secret<Word>] ecs(env = "V");
    SmUrl [Url] ecs(secret = "app/db", key = "url");
    SsmSecretUrl [Secret<Url>] ecs(ssm = "/app/url");
    EnvJson [Vec<u16>] ecs(json);
    SmJson [Vec<u16>] ecs(json, secret = "app/config");
    SsmOptJson [Option<Vec<u16>>] ecs(json, ssm = "/app/config");
    EnvSecretJson [Secret<Vec<u16>>] ecs(json);
    PlainU16 [u16] ecs(env = "V");
}

/// Not a number: `t`, `q`, `in` (the review's values), and empty, overflowing, negative.
const NOT_U16: &[&str] = &["t", "q", "in", "n", "", "99999", "-1", "12a"];

#[test]
fn numbers_from_every_source_and_type() {
    same::<SmU16>("secret u16", NOT_U16);
    same::<SmOptU16>("secret Option<u16>", NOT_U16);
    same::<SmSecretU16>("secret Secret<u16>", NOT_U16);
    same::<SsmU16>("ssm u16", NOT_U16);
    same::<SsmOptSecretU16>("ssm Option<Secret<u16>>", NOT_U16);
    same::<EnvSecretU16>("env Secret<u16>", NOT_U16);
    assert_eq!(
        SmU16::from_lookup(|_| Some("t".into()))
            .err()
            .unwrap()
            .to_string(),
        "failed to load configuration: field `SmU16.v` (env `V`, from \
         arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db:port::): invalid value: not \
         a valid `u16`"
    );
}

#[test]
fn parsers_that_quote_their_input_or_a_prefix() {
    let trimmed = &["alpha\n", "bravo\n", " charlie ", "x"];
    same::<SmWord>("secret Word", trimmed);
    same::<SsmWord>("ssm Option<Word>", trimmed);
    same::<EnvSecretWord>("env Secret<Word>", trimmed);
    let prefixed = &["htps://db", "ftp://x", "hunter2", "h"];
    same::<SmUrl>("secret Url", prefixed);
    same::<SsmSecretUrl>("ssm Secret<Url>", prefixed);
}

#[test]
fn json_errors_keep_the_category_only() {
    // Truncated JSON of different lengths: an eof error whose column would tell the length.
    let truncated = &["[1, 2", "[1", "[123, 4567, 8", "["];
    // A bad character after a prefix of different lengths: the column would tell the prefix.
    let syntax = &["[1, x]", "[123, x]", "[12345, 6, x]", "[1,,2]", "[x"];
    // Valid JSON of another shape, quoting the input in serde's message.
    let data = &["\"hunter2\"", "\"a\"", "{\"k\": 1}", "[\"x\"]", "[70000]"];
    same::<EnvJson>("env json eof", truncated);
    same::<EnvJson>("env json syntax", syntax);
    same::<EnvJson>("env json data", data);
    same::<SmJson>("secret json eof", truncated);
    same::<SmJson>("secret json syntax", syntax);
    same::<SsmOptJson>("ssm Option json data", data);
    same::<EnvSecretJson>("env Secret json data", data);
    assert!(text::<SmJson>("[1, 2").contains("invalid JSON: eof error\n"));
}

/// The harness sees differences where the rule allows them: a plain variable is in clear in the
/// task definition, so its parser's message is kept.
#[test]
fn control_plain_variables_keep_the_parsers_message() {
    assert_ne!(text::<PlainU16>(""), text::<PlainU16>("t"));
    assert!(text::<PlainU16>("t").contains("invalid digit found in string"));
}

/// `Secret<T>`'s `Deserialize`, used in a caller's own config files too, says only that the
/// secret could not be parsed: serde's messages quote the input.
#[test]
fn deserializing_a_secret_never_quotes_it() {
    let error = |json: &str| {
        serde_json::from_str::<Secret<u16>>(json)
            .err()
            .unwrap()
            .to_string()
    };
    // Same length, so serde_json's own position suffix is the same too.
    let (a, b) = (error("\"hunter2\""), error("\"abcdefg\""));
    assert_eq!(a, b);
    assert!(!a.contains("hunter2"), "{a}");
    assert!(a.starts_with("the secret value could not be parsed"), "{a}");
    let nested = serde_json::from_str::<Vec<Secret<String>>>("[\"ok\", 5]")
        .err()
        .unwrap()
        .to_string();
    assert!(
        nested.starts_with("the secret value could not be parsed"),
        "{nested}"
    );
}
