//! The character and length rules of each part of a reference, and the checks the derive runs
//! on its attributes. A [`WILDCARD`] passes every char test and stands for at least one char.
//!
//! The limits come from the Secrets Manager API Reference (`CreateSecret` names: 1–512 of
//! `A-Za-z0-9/_+=.@-`; `GetSecretValue` version ids: 32–64 characters, stages: 1–256) and the
//! Systems Manager API Reference (`PutParameter` names: 1–2048 of `a-zA-Z0-9_.-/`).

/// Placeholder stand-in used for compile-time checking of templates: each `{name}` becomes one
/// `WILDCARD`, meaning "some non-empty text without `:`, `{` or `}`" (what
/// [`resolve`](crate::resolve) allows).
pub const WILDCARD: char = '\u{1A}';

pub(crate) const NO_SSM_SELECTOR: &str = "ECS does not accept a `:version` or `:label` selector \
    (nor a JSON key) on an SSM parameter and rejects the task definition; give the parameter alone";

pub(crate) type Check = Result<(), String>;

/// Which chars a field allows, and how to describe them.
pub(crate) type Chars = (fn(char) -> bool, &'static str);

pub(crate) const SECRET_CHARS: Chars = (secret_char, "ASCII letters, digits and `/_+=.@-`");
const SSM_CHARS: Chars = (ssm_char, "ASCII letters, digits and `_.-/`");
const LOWER_DASH: Chars = (lower_dash, "lowercase letters, digits and '-'");
const DIGITS: Chars = (|c| c.is_ascii_digit(), "digits");
const NO_COLON: Chars = (|c| c != ':', "text without ':'");

/// Text for messages, with wildcards shown as the placeholders they stand for.
pub(crate) fn shown(s: &str) -> String {
    s.replace(WILDCARD, "{…}")
}

/// Checks chars, then length: the maximum always (each WILDCARD is at least one char), the
/// minimum only without wildcards.
pub(crate) fn check_text(
    what: &str,
    s: &str,
    (min, max): (usize, usize),
    (ok, chars): Chars,
) -> Check {
    let (n, text) = (s.chars().count(), shown(s));
    if n == 0 {
        return Err(format!("{what} is empty"));
    }
    if let Some(c) = s.chars().find(|&c| c != WILDCARD && !ok(c)) {
        return Err(format!("{what} `{text}` contains {c:?}; use only {chars}"));
    }
    if n > max || (n < min && !s.contains(WILDCARD)) {
        return Err(format!(
            "{what} `{text}` is {n} characters long; the limit is {min}..={max}"
        ));
    }
    Ok(())
}

/// The name without Secrets Manager's random suffix, or `None` when it has none.
///
/// Secrets Manager appends `-` and six random letters or digits to a secret's name in its ARN; a
/// name ending that way looks like a complete ARN's, so ECS and IAM take those seven chars for
/// the suffix. This is the one place that rule is written.
///
/// ```
/// use ecs_secrets_grammar::strip_random_suffix;
///
/// assert_eq!(strip_random_suffix("prod/db-AbC123"), Some("prod/db"));
/// assert_eq!(strip_random_suffix("prod/db"), None);
/// assert_eq!(strip_random_suffix("prod/db-AbC12"), None);
/// ```
pub fn strip_random_suffix(name: &str) -> Option<&str> {
    // The suffix is ASCII, so its 7 chars are the last 7 bytes (no split inside a char).
    let (name, suffix) = name.split_at_checked(name.len().checked_sub(7)?)?;
    let random = suffix.strip_prefix('-')?;
    random
        .bytes()
        .all(|b| b.is_ascii_alphanumeric())
        .then_some(name)
}
fn secret_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

/// A secret name's chars and length ([`SECRET_CHARS`], `1..=max`), and its one `!` if it has
/// one. Secrets that another AWS service creates and manages for you are named after it, with a
/// `!` no name you choose may contain: `rds!db-…` and `rds!cluster-…` (RDS and Aurora's master
/// user secrets), `redshift!…`, `events!connection/…`. So a `!` is accepted once, after a prefix of
/// lowercase letters, digits and `-`.
pub(crate) fn check_secret_text(name: &str, max: usize) -> Check {
    let Some((service, rest)) = name.split_once('!') else {
        return check_text("secret name", name, (1, max), SECRET_CHARS);
    };
    let service_char = |c: char| c == WILDCARD || lower_dash(c);
    if service.is_empty()
        || !service.chars().all(service_char)
        || rest.is_empty()
        || rest.contains('!')
    {
        return Err(format!(
            "secret name `{}` has a '!' out of place: only the name of a secret that another \
            AWS service manages holds one, once, right after that service's name in lowercase \
            (`rds!db-…`)",
            shown(name)
        ));
    }
    const MANAGED: Chars = (|c| c == '!' || secret_char(c), SECRET_CHARS.1);
    check_text("secret name", name, (1, max), MANAGED)
}

fn ssm_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-/".contains(c)
}

fn lower_dash(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// A Secrets Manager secret NAME (not an ARN): 1–512 of `A-Za-z0-9/_+=.@-`, and a managed
/// secret's `service!` prefix (`rds!db-…`); WILDCARD allowed. A name ending in `-` + 6
/// alphanumerics is rejected: a partial ARN built from it looks complete, so ECS and IAM would
/// take its last 7 chars for the random suffix.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    check_secret_text(name, 512)?;
    if strip_random_suffix(name).is_some() {
        let name = shown(name);
        return Err(format!(
            "secret name `{name}` ends in '-' and 6 letters/digits like the random \
            suffix of a complete ARN, so ECS and IAM cannot tell a partial ARN for it from a \
            complete one; give the complete ARN (with its real suffix) instead"
        ));
    }
    Ok(())
}

/// An SSM parameter name: 1–2048 of `a-zA-Z0-9_.-/` (WILDCARD allowed); a hierarchy starts with
/// '/', has no `//` and no trailing '/'. `name:version` / `name:label` are rejected because ECS
/// refuses them in `valueFrom`.
pub fn check_ssm_name(name: &str) -> Result<(), String> {
    let text = shown(name);
    if name.contains(':') {
        return Err(format!(
            "SSM parameter name `{text}` contains ':'; {NO_SSM_SELECTOR}"
        ));
    }
    check_text("SSM parameter name", name, (1, 2048), SSM_CHARS)?;
    let problem = if name.contains('/') && !name.starts_with(['/', WILDCARD]) {
        "contains '/' but does not start with it; hierarchies start with '/'"
    } else if name.contains("//") || name.ends_with('/') {
        "has an empty path segment ('//' or a trailing '/')"
    } else {
        return Ok(());
    };
    Err(format!("SSM parameter name `{text}` {problem}"))
}

/// Selector fields (key, stage, id) may hold any text but ':'.
fn check_field(what: &str, s: &str, len: (usize, usize)) -> Check {
    if s.contains(':') {
        let s = shown(s);
        return Err(format!(
            "{what} `{s}` contains ':'; ECS splits valueFrom on ':'"
        ));
    }
    check_text(what, s, len, NO_COLON)
}

/// A JSON key: non-empty, no ':' (ECS splits `valueFrom` on ':'); ECS selects top-level keys
/// only. WILDCARD allowed.
pub fn check_json_key(key: &str) -> Result<(), String> {
    check_field("JSON key", key, (1, usize::MAX))
}

/// A version stage: 1–256 chars, no ':'. WILDCARD allowed.
pub fn check_version_stage(stage: &str) -> Result<(), String> {
    check_field("version stage", stage, (1, 256))
}

/// A version id: 32–64 chars, no ':'. WILDCARD allowed (then only the maximum is checked).
pub fn check_version_id(id: &str) -> Result<(), String> {
    check_field("version id", id, (1, 64))?;
    let n = id.chars().count();
    if n < 32 && !id.contains(WILDCARD) {
        return Err(format!(
            "version id `{id}` has {n} characters; GetSecretValue rejects version \
            ids shorter than 32 characters and ECS fails the task at start; give the full id"
        ));
    }
    Ok(())
}

pub(crate) fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*` (ECS documents no rule; this is the
/// POSIX-portable one). WILDCARD is not allowed.
pub fn check_env_name(name: &str) -> Result<(), String> {
    if is_ident(name) {
        return Ok(());
    }
    let name = shown(name);
    Err(format!(
        "environment variable name `{name}` is invalid; use `[A-Za-z_][A-Za-z0-9_]*`"
    ))
}

/// A partition: `aws` or `aws-` + lowercase/digit parts joined by '-'. WILDCARD allowed.
pub fn check_partition(p: &str) -> Result<(), String> {
    const HINT: &str = "partitions look like `aws`, `aws-cn` or `aws-us-gov`";
    check_text("partition", p, (1, usize::MAX), (lower_dash, HINT))?;
    let parts_ok = |r: &str| r.split('-').all(|x| !x.is_empty());
    if p == "aws" || p.strip_prefix("aws-").is_some_and(parts_ok) || p.contains(WILDCARD) {
        return Ok(());
    }
    Err(format!("partition `{p}` is not a partition; {HINT}"))
}

/// A region like `us-east-1`: non-empty, lowercase letters, digits and '-', starting with a
/// letter. WILDCARD allowed.
pub fn check_region(r: &str) -> Result<(), String> {
    check_text("region", r, (1, usize::MAX), LOWER_DASH)?;
    if r.starts_with(|c: char| c != WILDCARD && !c.is_ascii_lowercase()) {
        return Err(format!(
            "region `{}` must start with a letter, like `us-east-1`",
            shown(r)
        ));
    }
    Ok(())
}

/// An account id: exactly 12 ASCII digits. WILDCARD allowed.
pub fn check_account(a: &str) -> Result<(), String> {
    check_text("account", a, (1, usize::MAX), DIGITS)?;
    let n = a.chars().count();
    if n > 12 || (n < 12 && !a.contains(WILDCARD)) {
        return Err(format!(
            "account `{}` has {n} digits; an account id has 12",
            shown(a)
        ));
    }
    Ok(())
}

/// The KMS key rules on text in which each [`WILDCARD`] stands for placeholder text (see
/// [`check_kms_key`], the one entry point, which makes that text from a template).
pub(crate) fn check_kms_key_wildcards(key: &str) -> Check {
    let shape = || {
        format!(
            "`{}` is not a KMS key ARN `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`",
            shown(key)
        )
    };
    let parts: Vec<&str> = key.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(shape());
    };
    if *arn != "arn" || *service != "kms" {
        return Err(shape());
    }
    check_partition(partition)?;
    check_region(region)?;
    check_account(account)?;
    if resource.starts_with("alias/") {
        return Err("an alias cannot be an IAM resource for `kms:Decrypt`; give the key ARN (`…:key/KEY-ID`)".to_owned());
    }
    match resource.strip_prefix("key/") {
        Some(id)
            if !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == WILDCARD) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "`{}`: expected `key/KEY-ID` after the account in a KMS key ARN",
            shown(key)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::run_table;

    #[test]
    fn random_suffix() {
        assert_eq!(strip_random_suffix("db-AbC123"), Some("db"));
        assert_eq!(strip_random_suffix("-AbC123"), Some(""));
        assert_eq!(strip_random_suffix("a/b-000000"), Some("a/b"));
        for name in [
            "db",
            "AbC123",
            "db_AbC123",
            "db-AbC12",
            "db-AbC1-3",
            "db-AbC12é",
            "é-AbC12",
        ] {
            assert_eq!(strip_random_suffix(name), None, "{name}");
        }
    }

    const FIELD_CASES: &str = r"
        secret    | prod/db_pw+=.@-x  | ok
        secret    | db-$W             | ok
        secret    | $W                | ok
        secret    | rds!db-0a1b2c3d   | ok
        secret    | $W!cluster-$W     | ok
        secret    | rds!db-AbC123     | give the complete ARN
        secret    | rds!a!b           | has a '!' out of place
        secret    | rds!              | has a '!' out of place
        secret    | x/y!z             | has a '!' out of place
        secret    | db-AbC123         | give the complete ARN
        secret    |                   | secret name is empty
        secret    | a b               | contains ' '
        secret    | $A513             | limit is 1..=512
        ssm       | /a/b              | ok
        ssm       | x                 | ok
        ssm       | $W/b              | ok
        ssm       | x:1               | ECS does not accept a `:version` or `:label`
        ssm       | a/b               | hierarchies start with '/'
        ssm       | //a               | empty path segment
        ssm       | /a/               | empty path segment
        ssm       |                   | SSM parameter name is empty
        ssm       | $A2049            | limit is 1..=2048
        key       | password          | ok
        key       | $W                | ok
        key       |                   | JSON key is empty
        key       | a:b               | ECS splits valueFrom on ':'
        stage     | AWSPREVIOUS       | ok
        stage     | $W                | ok
        stage     |                   | is empty
        stage     | a:b               | contains ':'
        stage     | $A257             | limit is 1..=256
        id        | $UUID             | ok
        id        | $W                | ok
        id        | abc               | GetSecretValue rejects version ids shorter than 32 characters
        id        | $A65              | limit is 1..=64
        id        | $UUID:            | contains ':'
        env       | DB_PASSWORD       | ok
        env       | _x1               | ok
        env       | 1X                | is invalid
        env       | A-B               | is invalid
        env       |                   | is invalid
        env       | $W                | is invalid
        partition | aws               | ok
        partition | aws-cn            | ok
        partition | aws-us-gov        | ok
        partition | aws-iso-b         | ok
        partition | $W                | ok
        partition | aws-$W            | ok
        partition |                   | partition is empty
        partition | AWS               | contains 'A'
        partition | azure             | is not a partition
        partition | aws-              | is not a partition
        partition | aws--x            | is not a partition
        region    | us-east-1         | ok
        region    | $W                | ok
        region    | us-$W-1           | ok
        region    |                   | region is empty
        region    | US                | contains 'U'
        region    | 1a                | must start with a letter
        account   | 123456789012      | ok
        account   | $W                | ok
        account   | 12$W              | ok
        account   | 12345678901       | has 11 digits
        account   | 1234567890123     | has 13 digits
        account   | 123456789012$W    | has 13 digits
        account   | 12x               | contains 'x'
        account   |                   | account is empty
        kms       | arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab | ok
        kms       | arn:{p}:kms:{r}:{a}:key/{id}                          | ok
        kms       | arn:aws:kms:us-east-1:123456789012:key/$W             | control characters, and this one has '\u{1a}'
        kms       | arn:aws:kms:{r}:123456789012:key/$W                   | control characters
        kms       | arn:aws:kms:us-east-1:123456789012:key/{{x}}          | expected `key/KEY-ID`
        kms       | arn:aws:kms:us-east-1:123456789012:key/{x             | unclosed '{'
        kms       | arn:aws:kms:us-east-1:123456789012:alias/app          | an alias cannot
        kms       | arn:aws:kms:us-east-1:1234:key/x                      | has 4 digits
        kms       | not-an-arn                                            | is not a KMS key ARN
    ";

    #[test]
    fn field_cases() {
        run_table(FIELD_CASES, |func, s| match func {
            "secret" => check_secret_name(s),
            "ssm" => check_ssm_name(s),
            "key" => check_json_key(s),
            "stage" => check_version_stage(s),
            "id" => check_version_id(s),
            "env" => check_env_name(s),
            "partition" => check_partition(s),
            "region" => check_region(s),
            "account" => check_account(s),
            "kms" => crate::template::check_kms_key(s),
            _ => panic!("unknown check {func}"),
        });
    }
}
