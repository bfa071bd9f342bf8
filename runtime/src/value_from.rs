//! The grammar of an ECS container definition's `secrets[].valueFrom`, plus `{placeholder}`
//! templates over it.
//!
//! Uses only `std`: the proc-macro crate includes this very file, so compile-time checks and
//! runtime parsing share one grammar. The rules follow `shared/ECS_FACTS.md`.

use std::fmt;
use std::str::FromStr;

/// Placeholder stand-in used for compile-time checking of templates: each `{name}` becomes one
/// `WILDCARD`, meaning "some non-empty text without `:`, `{` or `}`" (what [`resolve`] allows).
pub const WILDCARD: char = '\u{1A}';

/// Longest secret name Secrets Manager accepts.
const SECRET_NAME_MAX: usize = 512;
/// Longest SSM parameter name (including the part SSM reserves internally).
const SSM_NAME_MAX: usize = 2048;
const SECRET_NAME_CHARS: &str = "ASCII letters, digits and `/_+=.@-`";
const SSM_NAME_CHARS: &str = "ASCII letters, digits and `_.-/`";

/// A parsed `valueFrom` of an ECS container definition's `secrets` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValueFrom {
    /// A Secrets Manager secret ARN, optionally with a `:json-key:version-stage:version-id` tail.
    SecretsManager(SecretsManagerRef),
    /// An SSM Parameter Store parameter, by ARN or by bare name.
    Ssm(SsmRef),
}

/// A Secrets Manager secret ARN as written in `valueFrom`, kept raw so it displays unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretsManagerRef {
    partition: String,
    region: String,
    account: String,
    name: String,
    /// `[json_key, version_stage, version_id]` exactly as written (each may be empty).
    selector: Option<[String; 3]>,
}

impl SecretsManagerRef {
    /// The ARN's partition, e.g. `aws` or `aws-cn`.
    pub fn partition(&self) -> &str {
        &self.partition
    }
    /// The secret's region.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The 12-digit account that owns the secret.
    pub fn account(&self) -> &str {
        &self.account
    }
    /// The name as written in the ARN, including the random `-XXXXXX` suffix if present.
    pub fn secret_name(&self) -> &str {
        &self.name
    }
    /// The ARN without the `:key:stage:id` tail: the `SecretId` for `GetSecretValue` and
    /// `BatchGetSecretValue`, which do not understand the ECS-only tail.
    pub fn secret_id(&self) -> String {
        secret_arn(&self.partition, &self.region, &self.account, &self.name)
    }
    fn field(&self, i: usize) -> Option<&str> {
        self.selector
            .as_ref()
            .map(|s| s[i].as_str())
            .filter(|s| !s.is_empty())
    }
    /// The top-level JSON key to extract; `None` when absent or empty (whole secret).
    pub fn json_key(&self) -> Option<&str> {
        self.field(0)
    }
    /// The version stage (e.g. `AWSPREVIOUS`); `None` when absent or empty (`AWSCURRENT`).
    pub fn version_stage(&self) -> Option<&str> {
        self.field(1)
    }
    /// The version id; `None` when absent or empty.
    pub fn version_id(&self) -> Option<&str> {
        self.field(2)
    }
    /// Whether the name ends in `-` plus 6 ASCII alphanumerics, i.e. looks like a complete ARN
    /// with Secrets Manager's random suffix.
    pub fn is_complete_arn(&self) -> bool {
        has_random_suffix(&self.name)
    }
    /// The IAM resource for reading this secret. IAM matches the real, complete ARN, so a partial
    /// ARN gets `-??????` (exactly six chars; `-*` would also match other secrets). The
    /// `:key:stage:id` tail is never part of it.
    pub fn iam_resource(&self) -> String {
        let id = self.secret_id();
        if self.is_complete_arn() {
            id
        } else {
            id + "-??????"
        }
    }
}

impl fmt::Display for SecretsManagerRef {
    /// Writes the ARN exactly as it was parsed (empty selector fields included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.secret_id())?;
        match &self.selector {
            Some([k, s, i]) => write!(f, ":{k}:{s}:{i}"),
            None => Ok(()),
        }
    }
}

/// An SSM parameter reference in `valueFrom`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SsmRef {
    /// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`; `name` is the text after `parameter/`.
    Arn {
        partition: String,
        region: String,
        account: String,
        name: String,
    },
    /// A bare parameter name, resolved by ECS in the task's own region and account.
    Name(String),
}

impl SsmRef {
    /// The normalized SSM parameter name: an ARN's `parameter/a/b` is `/a/b` and `parameter/foo`
    /// is `foo` (the ARN drops a hierarchy's leading slash); a bare name as written.
    pub fn parameter_name(&self) -> String {
        match self {
            SsmRef::Arn { name, .. } if name.contains('/') => format!("/{name}"),
            SsmRef::Arn { name, .. } | SsmRef::Name(name) => name.clone(),
        }
    }
    /// The ARN's region; `None` for a bare name.
    pub fn region(&self) -> Option<&str> {
        match self {
            SsmRef::Arn { region, .. } => Some(region),
            SsmRef::Name(_) => None,
        }
    }
    /// The parameter ARN for the `Arn` variant; `None` for a bare name.
    pub fn arn(&self) -> Option<String> {
        match self {
            SsmRef::Arn {
                partition,
                region,
                account,
                name,
            } => Some(ssm_arn(partition, region, account, name)),
            SsmRef::Name(_) => None,
        }
    }
}

impl fmt::Display for SsmRef {
    /// Writes the reference exactly as it was parsed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SsmRef::Arn {
                partition: p,
                region: r,
                account: a,
                name,
            } => {
                write!(f, "arn:{p}:ssm:{r}:{a}:parameter/{name}")
            }
            SsmRef::Name(name) => f.write_str(name),
        }
    }
}

impl ValueFrom {
    /// Whether this refers to Secrets Manager (otherwise SSM Parameter Store).
    pub fn is_secrets_manager(&self) -> bool {
        matches!(self, ValueFrom::SecretsManager(_))
    }
    /// Parse a template in which `WILDCARD` chars stand for unknown placeholder text (see
    /// [`to_wildcards`]). Rules that depend on the unknown text are skipped; every literal char
    /// must still be legal. The service, `secret:` and `parameter/` must be literal.
    pub fn parse_with_wildcards(s: &str) -> Result<ValueFrom, ValueFromError> {
        parse(s, true)
    }
}

impl FromStr for ValueFrom {
    type Err = ValueFromError;
    /// Strict parse; a `WILDCARD` char is rejected like any other illegal char.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s, false)
    }
}

impl fmt::Display for ValueFrom {
    /// Gives back exactly the parsed input.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueFrom::SecretsManager(r) => r.fmt(f),
            ValueFrom::Ssm(r) => r.fmt(f),
        }
    }
}

/// Why a `valueFrom` is invalid; the message says what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueFromError {
    message: String,
}

impl ValueFromError {
    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValueFromError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueFromError {}

fn err<T>(message: impl Into<String>) -> Result<T, ValueFromError> {
    Err(ValueFromError {
        message: message.into(),
    })
}

/// `arn:{partition}:secretsmanager:{region}:{account}:secret:{name}`.
pub fn secret_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}")
}

/// `arn:{partition}:ssm:{region}:{account}:parameter/{name}`, dropping ONE leading `/` from the
/// name because SSM ARNs of hierarchical names carry no double slash (`/a/b` → `parameter/a/b`).
pub fn ssm_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    let name = name.strip_prefix('/').unwrap_or(name);
    format!("arn:{partition}:ssm:{region}:{account}:parameter/{name}")
}

/// Appends `:key:stage:id` (absent ones empty) when any is `Some`; otherwise returns the ARN
/// unchanged. ECS accepts either no fields or all three after the name.
pub fn with_selector(
    secret_arn: &str,
    key: Option<&str>,
    stage: Option<&str>,
    id: Option<&str>,
) -> String {
    if key.is_none() && stage.is_none() && id.is_none() {
        return secret_arn.to_string();
    }
    let (k, s, i) = (key.unwrap_or(""), stage.unwrap_or(""), id.unwrap_or(""));
    format!("{secret_arn}:{k}:{s}:{i}")
}

// ---------------------------------------------------------------------------------------------
// Field checks. `wild` says whether WILDCARD stands for unknown text (else it is a bad char).

/// Shows text for messages, with wildcards rendered as the placeholders they came from.
fn shown(s: &str) -> String {
    s.replace(WILDCARD, "{…}")
}

fn has_wild(s: &str, wild: bool) -> bool {
    wild && s.contains(WILDCARD)
}

/// Rejects the first char that is neither allowed nor (when `wild`) a WILDCARD.
fn check_chars(
    what: &str,
    s: &str,
    wild: bool,
    ok: impl Fn(char) -> bool,
    allowed: &str,
) -> Result<(), String> {
    match s.chars().find(|&c| !(ok(c) || (wild && c == WILDCARD))) {
        Some(c) => Err(format!(
            "{what} `{}` contains {c:?}; use only {allowed}",
            shown(s)
        )),
        None => Ok(()),
    }
}

/// Length bounds. Each WILDCARD stands for at least one char, so the maximum is always checked
/// and the minimum only when no WILDCARD is present.
fn check_len(what: &str, s: &str, wild: bool, min: usize, max: usize) -> Result<(), String> {
    let n = s.chars().count();
    if n == 0 && min > 0 {
        return Err(format!("{what} is empty"));
    }
    if n > max || (n < min && !has_wild(s, wild)) {
        return Err(format!(
            "{what} `{}` is {n} characters; it must be {min} to {max}",
            shown(s)
        ));
    }
    Ok(())
}

fn has_random_suffix(name: &str) -> bool {
    let tail: Vec<char> = name.chars().rev().take(7).collect();
    tail.len() == 7 && tail[6] == '-' && tail[..6].iter().all(char::is_ascii_alphanumeric)
}

fn secret_name_impl(name: &str, wild: bool, max: usize) -> Result<(), String> {
    check_len("secret name", name, wild, 1, max)?;
    check_chars(
        "secret name",
        name,
        wild,
        |c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c),
        SECRET_NAME_CHARS,
    )
}

/// A Secrets Manager secret NAME (not an ARN): 1–512 of `A-Za-z0-9/_+=.@-`; WILDCARD allowed.
/// A name ending in `-` + 6 alphanumerics is rejected: a partial ARN built from it looks
/// complete, so ECS and IAM would treat the last 7 chars as the random suffix.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    secret_name_impl(name, true, SECRET_NAME_MAX)?;
    if has_random_suffix(name) {
        return Err(format!(
            "secret name `{}` ends in '-' and 6 letters/digits, which looks like Secrets Manager's \
             random ARN suffix, so ECS and IAM cannot tell a partial ARN for it from a complete one; \
             give the complete ARN (with the real suffix) instead",
            shown(name)
        ));
    }
    Ok(())
}

fn ssm_name_impl(name: &str, wild: bool) -> Result<(), String> {
    const WHAT: &str = "SSM parameter name";
    check_len(WHAT, name, wild, 1, SSM_NAME_MAX)?;
    if name.contains(':') {
        return Err(format!(
            "{WHAT} `{}` contains ':'; ECS does not accept a `:version` or `:label` selector (nor a \
             JSON key) on an SSM parameter and rejects the task definition, so give the name alone",
            shown(name)
        ));
    }
    check_chars(
        WHAT,
        name,
        wild,
        |c| c.is_ascii_alphanumeric() || "_.-/".contains(c),
        SSM_NAME_CHARS,
    )?;
    let first_known = !(wild && name.starts_with(WILDCARD));
    if name.contains('/') && !name.starts_with('/') && first_known {
        return Err(format!(
            "{WHAT} `{}` contains '/' but does not start with it; hierarchies start with '/' (`/{}`)",
            shown(name),
            shown(name)
        ));
    }
    if name.contains("//") || name.ends_with('/') {
        return Err(format!(
            "{WHAT} `{}` has an empty path segment ('//' or a trailing '/'); remove the extra '/'",
            shown(name)
        ));
    }
    Ok(())
}

/// An SSM parameter name: 1–2048 of `a-zA-Z0-9_.-/` (WILDCARD allowed); a hierarchy starts with
/// '/', has no `//` and no trailing '/'. `name:version` / `name:label` are rejected because ECS
/// refuses them in `valueFrom`.
pub fn check_ssm_name(name: &str) -> Result<(), String> {
    ssm_name_impl(name, true)
}

/// Selector fields (key/stage/id) share this: no ':', since ECS splits `valueFrom` on ':'.
fn field_impl(what: &str, s: &str, wild: bool, min: usize, max: usize) -> Result<(), String> {
    check_len(what, s, wild, min, max)?;
    if s.contains(':') {
        return Err(format!(
            "{what} `{}` contains ':'; ECS splits valueFrom on ':', so it cannot contain one",
            shown(s)
        ));
    }
    check_chars(what, s, wild, |c| c != WILDCARD, "text without ':'")
}

/// A JSON key: non-empty, no ':' (ECS splits `valueFrom` on ':'); top-level keys only.
/// WILDCARD allowed.
pub fn check_json_key(key: &str) -> Result<(), String> {
    field_impl("JSON key", key, true, 1, usize::MAX)
}

/// A version stage: 1–256 chars, no ':'. WILDCARD allowed.
pub fn check_version_stage(stage: &str) -> Result<(), String> {
    field_impl("version stage", stage, true, 1, 256)
}

fn version_id_impl(id: &str, wild: bool) -> Result<(), String> {
    field_impl("version id", id, wild, 1, 64)?;
    let n = id.chars().count();
    if n < 32 && !has_wild(id, wild) {
        return Err(format!(
            "version id `{id}` is {n} characters; GetSecretValue rejects version ids shorter than 32 \
             characters and ECS fails the task at start, so give the full id (usually a 36-char UUID)"
        ));
    }
    Ok(())
}

/// A version id: 32–64 chars, no ':'. WILDCARD allowed (then only the maximum is checked).
pub fn check_version_id(id: &str) -> Result<(), String> {
    version_id_impl(id, true)
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    matches!(cs.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An environment variable name: `[A-Za-z_][A-Za-z0-9_]*` (ECS documents no rule; this is the
/// POSIX-portable one). WILDCARD is not allowed.
pub fn check_env_name(name: &str) -> Result<(), String> {
    if is_ident(name) {
        Ok(())
    } else {
        Err(format!(
            "environment variable name `{}` is invalid; use `[A-Za-z_][A-Za-z0-9_]*`, e.g. `DB_PASSWORD`",
            shown(name)
        ))
    }
}

fn partition_impl(p: &str, wild: bool) -> Result<(), String> {
    let hint = "partitions look like `aws`, `aws-cn` or `aws-us-gov`";
    if p.is_empty() {
        return Err(format!("partition is empty; {hint}"));
    }
    check_chars(
        "partition",
        p,
        wild,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        hint,
    )?;
    let ok = p == "aws"
        || p.strip_prefix("aws-")
            .is_some_and(|r| r.split('-').all(|x| !x.is_empty()));
    if !ok && !has_wild(p, wild) {
        return Err(format!("partition `{p}` is invalid; {hint}"));
    }
    Ok(())
}

/// A partition: `aws` or `aws-` + lowercase/digit parts joined by '-'. WILDCARD allowed.
pub fn check_partition(p: &str) -> Result<(), String> {
    partition_impl(p, true)
}

fn region_impl(r: &str, wild: bool) -> Result<(), String> {
    let hint = "lowercase letters, digits and '-', like `us-east-1`";
    if r.is_empty() {
        return Err(format!(
            "region is empty; give the region that holds it, {hint}"
        ));
    }
    check_chars(
        "region",
        r,
        wild,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        hint,
    )?;
    if r.starts_with(|c: char| c != WILDCARD && !c.is_ascii_lowercase()) {
        return Err(format!(
            "region `{}` must start with a letter, like `us-east-1`",
            shown(r)
        ));
    }
    Ok(())
}

/// A region like `us-east-1`: non-empty, lowercase letters, digits and '-', starting with a
/// letter. WILDCARD allowed.
pub fn check_region(r: &str) -> Result<(), String> {
    region_impl(r, true)
}

fn account_impl(a: &str, wild: bool) -> Result<(), String> {
    if a.is_empty() {
        return Err("account is empty; give the 12-digit AWS account id".into());
    }
    check_chars(
        "account",
        a,
        wild,
        |c| c.is_ascii_digit(),
        "digits (an account id is 12 digits)",
    )?;
    let n = a.chars().count();
    if n > 12 || (n < 12 && !has_wild(a, wild)) {
        return Err(format!(
            "account `{}` has {n} digits; an AWS account id is exactly 12 (keep leading zeros)",
            shown(a)
        ));
    }
    Ok(())
}

/// An account id: exactly 12 ASCII digits. WILDCARD allowed.
pub fn check_account(a: &str) -> Result<(), String> {
    account_impl(a, true)
}

// ---------------------------------------------------------------------------------------------
// Parsing.

fn parse(s: &str, wild: bool) -> Result<ValueFrom, ValueFromError> {
    if s.is_empty() {
        return err(
            "valueFrom is empty; give a Secrets Manager secret ARN, or an SSM parameter ARN or name",
        );
    }
    if s.starts_with("arn:") {
        return parse_arn(s, wild);
    }
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:")) {
        return err(format!(
            "`{}` looks like an ARN, but ARNs start with lowercase `arn:`",
            shown(s)
        ));
    }
    // ECS sends anything that is not an ARN to SSM, even a Secrets Manager secret name.
    ssm_name_impl(s, wild).map_err(|m| ValueFromError { message: m })?;
    Ok(ValueFrom::Ssm(SsmRef::Name(s.to_string())))
}

fn parse_arn(s: &str, wild: bool) -> Result<ValueFrom, ValueFromError> {
    let parts: Vec<&str> = s.split(':').collect();
    let service = parts.get(2).copied().unwrap_or("");
    let expected = match service {
        "secretsmanager" => "`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`",
        "ssm" => "`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`",
        _ => {
            return err(format!(
                "ARN service `{}` is not supported; ECS secrets come from `secretsmanager` \
                 (`arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`) or `ssm` \
                 (`arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`), written literally",
                shown(service)
            ));
        }
    };
    if parts.len() < 6 {
        return err(format!(
            "ARN `{}` is incomplete; expected {expected}",
            shown(s)
        ));
    }
    let ctx = |m: String| ValueFromError {
        message: format!("in ARN `{}`: {m}", shown(s)),
    };
    partition_impl(parts[1], wild).map_err(ctx)?;
    region_impl(parts[3], wild).map_err(ctx)?;
    account_impl(parts[4], wild).map_err(ctx)?;
    let (partition, region, account) = (
        parts[1].to_string(),
        parts[3].to_string(),
        parts[4].to_string(),
    );
    let res = &parts[5..];
    if service == "ssm" {
        let Some(name) = res[0].strip_prefix("parameter/") else {
            if res[0] == "parameter" && res.len() > 1 {
                return err(format!(
                    "SSM ARNs have a slash after `parameter`, not a colon: write `parameter/{}`",
                    shown(res[1])
                ));
            }
            return err(format!(
                "SSM ARN resource `{}` is not supported; expected {expected}",
                shown(res[0])
            ));
        };
        if res.len() > 1 {
            return err(format!(
                "SSM ARN has `:{}` after the parameter name; ECS does not accept a `:version` or \
                 `:label` selector on an SSM parameter, so give the parameter ARN alone",
                shown(&res[1..].join(":"))
            ));
        }
        if name.is_empty() {
            return err(format!(
                "SSM ARN has no parameter name after `parameter/`; expected {expected}"
            ));
        }
        if name.starts_with('/') {
            return err(format!(
                "SSM ARN has `parameter//`; the ARN of `/{0}` is `…:parameter/{0}` (no double slash)",
                shown(name.trim_start_matches('/'))
            ));
        }
        let r = SsmRef::Arn {
            partition,
            region,
            account,
            name: name.to_string(),
        };
        ssm_name_impl(&r.parameter_name(), wild).map_err(ctx)?;
        return Ok(ValueFrom::Ssm(r));
    }
    if res[0] != "secret" {
        let hint = if res[0].starts_with("secret/") {
            " (a colon, not a slash, after `secret`)"
        } else {
            ""
        };
        return err(format!(
            "Secrets Manager ARN resource `{}` is not supported; expected {expected}{hint}",
            shown(res[0])
        ));
    }
    if res.len() == 1 {
        return err(format!(
            "Secrets Manager ARN has no secret name after `secret:`; expected {expected}"
        ));
    }
    let fields = res.len() - 2;
    if fields != 0 && fields != 3 {
        return err(format!(
            "a Secrets Manager ARN takes either no fields or exactly three \
             (`:json-key:version-stage:version-id`) after the secret name, found {fields}; \
             leave unused ones empty, e.g. `:password::`"
        ));
    }
    let name = res[1];
    let max = if has_random_suffix(name) {
        SECRET_NAME_MAX + 7
    } else {
        SECRET_NAME_MAX
    };
    secret_name_impl(name, wild, max).map_err(ctx)?;
    let selector = if fields == 3 {
        let (key, stage, id) = (res[2], res[3], res[4]);
        if !key.is_empty() {
            field_impl("JSON key", key, wild, 1, usize::MAX).map_err(ctx)?;
        }
        if !stage.is_empty() {
            field_impl("version stage", stage, wild, 1, 256).map_err(ctx)?;
        }
        if !id.is_empty() {
            version_id_impl(id, wild).map_err(ctx)?;
        }
        if !stage.is_empty() && !id.is_empty() {
            return err(
                "a Secrets Manager ARN cannot give both a version stage and a version id; \
                        keep one (`:key:STAGE:` or `:key::ID`)",
            );
        }
        Some([key.to_string(), stage.to_string(), id.to_string()])
    } else {
        None
    };
    Ok(ValueFrom::SecretsManager(SecretsManagerRef {
        partition,
        region,
        account,
        name: name.to_string(),
        selector,
    }))
}

// ---------------------------------------------------------------------------------------------
// Templates.

/// A piece of a template: literal text (escapes already undone) or a `{name}` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// A placeholder name.
    Var(String),
}

/// Splits a template into pieces. `{name}` is a placeholder (name `[A-Za-z_][A-Za-z0-9_]*`),
/// `{{` / `}}` are literal braces. Errors name the problem: unclosed `{`, lone `}`, empty `{}`,
/// or a bad name.
pub fn parse_template(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '{' | '}' if it.peek().is_some_and(|&(_, d)| d == c) => {
                it.next();
                lit.push(c);
            }
            '}' => {
                return Err(format!(
                    "lone '}}' at byte {i} of `{s}`; write `}}}}` for a literal brace"
                ));
            }
            '{' => {
                let end = loop {
                    match it.next() {
                        Some((j, '}')) => break j,
                        Some(_) => {}
                        None => {
                            return Err(format!(
                                "unclosed '{{' at byte {i} of `{s}`; close the placeholder with '}}' or write `{{{{` for a literal brace"
                            ));
                        }
                    }
                };
                let name = &s[i + 1..end];
                if name.is_empty() {
                    return Err(format!(
                        "empty placeholder `{{}}` at byte {i} of `{s}`; put a name inside, or write `{{{{}}}}` for literal braces"
                    ));
                }
                if !is_ident(name) {
                    return Err(format!(
                        "placeholder `{{{name}}}` in `{s}` is not a valid name; use `[A-Za-z_][A-Za-z0-9_]*` (`{{{{`/`}}}}` for literal braces)"
                    ));
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Var(name.to_string()));
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Ok(out)
}

/// Distinct placeholder names in order of first appearance (empty if the template is malformed).
pub fn placeholders(s: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in parse_template(s).unwrap_or_default() {
        if let Piece::Var(n) = p {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    names
}

/// Replaces each `{name}` with one [`WILDCARD`] and undoes escapes, for
/// [`ValueFrom::parse_with_wildcards`] and the `check_*` functions.
pub fn to_wildcards(s: &str) -> Result<String, String> {
    Ok(parse_template(s)?
        .into_iter()
        .map(|p| match p {
            Piece::Lit(t) => t,
            Piece::Var(_) => WILDCARD.to_string(),
        })
        .collect())
}

/// Escapes literal text for a template: `{` → `{{`, `}` → `}}`.
pub fn escape(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

/// A problem found while resolving a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// The lookup had no value for this placeholder.
    Missing(String),
    /// The value would change the `valueFrom` structure (e.g. contains ':').
    Invalid { name: String, reason: String },
    /// The template itself is malformed.
    Malformed(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Missing(n) => write!(f, "no value for placeholder `{{{n}}}`"),
            TemplateError::Invalid { name, reason } => {
                write!(f, "value for placeholder `{{{name}}}` is invalid: {reason}")
            }
            TemplateError::Malformed(m) => write!(f, "malformed template: {m}"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Substitute every placeholder; returns all problems at once. A value must be non-empty and
/// must not contain ':', '{', '}' or `WILDCARD` (it would change the ARN's structure and break
/// the compile-time check's assumptions). The lookup is called once per distinct name.
pub fn resolve(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<TemplateError>> {
    let pieces = parse_template(s).map_err(|m| vec![TemplateError::Malformed(m)])?;
    let mut values: Vec<(String, String)> = Vec::new();
    let mut errors = Vec::new();
    for name in placeholders(s) {
        let Some(v) = lookup(&name) else {
            errors.push(TemplateError::Missing(name));
            continue;
        };
        let bad = v.chars().find(|c| [':', '{', '}', WILDCARD].contains(c));
        let reason = match bad {
            _ if v.is_empty() => "it is empty".to_string(),
            Some(c) => format!("it contains {c:?}"),
            None => {
                values.push((name, v));
                continue;
            }
        };
        errors.push(TemplateError::Invalid { name, reason });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = String::new();
    for p in &pieces {
        match p {
            Piece::Lit(t) => out.push_str(t),
            Piece::Var(n) => out.push_str(
                &values
                    .iter()
                    .find(|(k, _)| k == n)
                    .expect("resolved above")
                    .1,
            ),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
    const UUID: &str = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE";

    fn ok(s: &str) -> ValueFrom {
        let v: ValueFrom = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(v.to_string(), s, "round trip");
        v
    }
    fn bad(s: &str, needle: &str) {
        let e = s.parse::<ValueFrom>().expect_err(s).to_string();
        assert!(
            e.contains(needle),
            "`{s}` gave `{e}`, expected it to contain `{needle}`"
        );
    }
    fn sm(v: &ValueFrom) -> &SecretsManagerRef {
        match v {
            ValueFrom::SecretsManager(r) => r,
            other => panic!("not SM: {other:?}"),
        }
    }

    #[test]
    fn round_trips_every_valid_form() {
        for tail in [
            "db",
            "db-AbC123",
            "db:password::",
            "db::AWSPREVIOUS:",
            "db:password:AWSPREVIOUS:",
            "db:::",
        ] {
            assert!(ok(&format!("{SM}{tail}")).is_secrets_manager());
        }
        ok(&format!("{SM}db:::{UUID}"));
        ok("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b_c+=.@-d");
        ok("arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/a/b");
        for s in [
            "arn:aws:ssm:us-east-1:123456789012:parameter/foo",
            "/a/b",
            "x",
            "/aws/reference/secretsmanager/db",
        ] {
            assert!(!ok(s).is_secrets_manager());
        }
    }

    #[test]
    fn selector_fields_and_accessors() {
        let v = ok(&format!("{SM}db:::"));
        let r = sm(&v);
        assert_eq!(
            (r.json_key(), r.version_stage(), r.version_id()),
            (None, None, None)
        );
        assert_eq!(r.secret_id(), format!("{SM}db"));
        let v = ok(&format!("{SM}db-AbC123:password:AWSPREVIOUS:"));
        let r = sm(&v);
        assert_eq!(
            (r.partition(), r.region(), r.account()),
            ("aws", "us-east-1", "123456789012")
        );
        assert_eq!(
            (r.json_key(), r.version_stage(), r.version_id()),
            (Some("password"), Some("AWSPREVIOUS"), None)
        );
        assert_eq!(r.secret_name(), "db-AbC123");
        assert_eq!(r.secret_id(), format!("{SM}db-AbC123"));
        assert!(r.is_complete_arn());
        assert_eq!(r.iam_resource(), format!("{SM}db-AbC123"));
        let v = ok(&format!("{SM}db:::{UUID}"));
        assert_eq!(sm(&v).version_id(), Some(UUID));
        assert!(!sm(&v).is_complete_arn());
        assert_eq!(sm(&v).iam_resource(), format!("{SM}db-??????"));
    }

    #[test]
    fn ssm_accessors() {
        let p = |s: &str| match ok(s) {
            ValueFrom::Ssm(r) => r,
            other => panic!("{other:?}"),
        };
        let r = p("arn:aws:ssm:us-east-1:123456789012:parameter/a/b");
        assert_eq!(r.parameter_name(), "/a/b");
        assert_eq!(r.region(), Some("us-east-1"));
        assert_eq!(
            r.arn().as_deref(),
            Some("arn:aws:ssm:us-east-1:123456789012:parameter/a/b")
        );
        assert_eq!(
            p("arn:aws:ssm:us-east-1:123456789012:parameter/foo").parameter_name(),
            "foo"
        );
        let r = p("/a/b");
        assert_eq!(
            (r.parameter_name().as_str(), r.region(), r.arn()),
            ("/a/b", None, None)
        );
    }

    #[test]
    fn rejects_wrong_field_counts() {
        for (tail, n) in [
            ("db:password", "found 1"),
            ("db:password:AWSCURRENT", "found 2"),
            ("db:a:b:c:d", "found 4"),
            ("db:a:b:c:d:e:f", "found 6"),
        ] {
            bad(&format!("{SM}{tail}"), n);
        }
        bad(
            &format!("{SM}db:k:b"),
            "either no fields or exactly three (`:json-key:version-stage:version-id`)",
        );
    }

    #[test]
    fn rejects_bad_secret_arns() {
        bad(
            &format!("{SM}db::AWSCURRENT:{UUID}"),
            "both a version stage and a version id",
        );
        bad(&format!("{SM}db:::abc"), "shorter than 32");
        bad(&format!("{SM}db:::{}", "a".repeat(65)), "must be 1 to 64");
        bad("arn:aws:s3:::bucket/key", "service `s3` is not supported");
        bad(
            "arn:aws:secretsmanager:us-east-1:123456789012:rotation:db",
            "resource `rotation`",
        );
        bad(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret/db",
            "a colon, not a slash",
        );
        bad(
            "arn:aws:secretsmanager:us-east-1:123456789012",
            "incomplete",
        );
        bad(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret",
            "no secret name",
        );
        bad(
            "arn:aws:secretsmanager::123456789012:secret:db",
            "region is empty",
        );
        bad(
            "arn:aws:secretsmanager:us-east-1::secret:db",
            "account is empty",
        );
        bad(
            "arn:aws:secretsmanager:us-east-1:12345678901:secret:db",
            "has 11 digits",
        );
        bad(
            "arn:aws:secretsmanager:us-east-1:1234567890123:secret:db",
            "has 13 digits",
        );
        bad(
            "arn:AWS:secretsmanager:us-east-1:123456789012:secret:db",
            "partition `AWS` contains 'A'",
        );
        bad(
            "arn:aws:secretsmanager:1us:123456789012:secret:db",
            "start with a letter",
        );
        bad(&format!("{SM}my db"), "contains ' '");
        bad(&format!("{SM}db\u{1A}"), "contains '\\u{1a}'");
        bad(&format!("{SM}"), "secret name is empty");
        bad(&format!("{SM}{}", "a".repeat(513)), "must be 1 to 512");
        bad(
            "ARN:aws:ssm:us-east-1:123456789012:parameter/x",
            "lowercase `arn:`",
        );
    }

    #[test]
    fn rejects_bad_ssm() {
        bad(
            "arn:aws:ssm:us-east-1:123456789012:parameter:x",
            "slash after `parameter`, not a colon",
        );
        bad(
            "arn:aws:ssm:us-east-1:123456789012:parameter//x",
            "no double slash",
        );
        bad(
            "arn:aws:ssm:us-east-1:123456789012:parameter/x:1",
            "ECS does not accept a `:version` or `:label`",
        );
        bad(
            "arn:aws:ssm:us-east-1:123456789012:parameter/",
            "no parameter name",
        );
        bad(
            "arn:aws:ssm:us-east-1:123456789012:document/x",
            "resource `document/x`",
        );
        bad("name:label", "ECS does not accept a `:version` or `:label`");
        bad("name:1", "ECS does not accept");
        bad("", "valueFrom is empty");
        bad("a b", "contains ' '");
        bad("a/b", "hierarchies start with '/'");
        bad("/a//b", "empty path segment");
        bad("\u{1A}", "contains '\\u{1a}'");
    }

    #[test]
    fn builders() {
        assert_eq!(
            secret_arn("aws", "us-east-1", "123456789012", "db"),
            format!("{SM}db")
        );
        assert_eq!(
            ssm_arn("aws", "r", "1", "/a/b"),
            "arn:aws:ssm:r:1:parameter/a/b"
        );
        assert_eq!(
            ssm_arn("aws", "r", "1", "foo"),
            "arn:aws:ssm:r:1:parameter/foo"
        );
        assert_eq!(with_selector("A", None, None, None), "A");
        assert_eq!(with_selector("A", Some("k"), None, None), "A:k::");
        assert_eq!(
            with_selector("A", None, Some("AWSPREVIOUS"), None),
            "A::AWSPREVIOUS:"
        );
        assert_eq!(with_selector("A", None, None, Some("i")), "A:::i");
        assert_eq!(with_selector("A", Some(""), None, None), "A:::");
    }

    #[test]
    fn field_checks() {
        assert!(check_secret_name("prod/db_pw+=.@-x").is_ok());
        assert!(
            check_secret_name("db-AbC123")
                .unwrap_err()
                .contains("give the complete ARN")
        );
        assert!(check_secret_name("db-\u{1A}").is_ok());
        assert!(check_secret_name("").unwrap_err().contains("empty"));
        assert!(check_secret_name("a b").is_err());
        assert!(check_secret_name(&"a".repeat(513)).is_err());
        assert!(check_ssm_name("/a/b").is_ok() && check_ssm_name("\u{1A}/b").is_ok());
        assert!(
            check_ssm_name("x:1")
                .unwrap_err()
                .contains("ECS does not accept")
        );
        assert!(
            check_ssm_name("a/b").is_err()
                && check_ssm_name("//a").is_err()
                && check_ssm_name("/a/").is_err()
        );
        assert!(check_ssm_name(&"a".repeat(2049)).is_err());
        assert!(check_json_key("password").is_ok() && check_json_key("").is_err());
        assert!(
            check_json_key("a:b")
                .unwrap_err()
                .contains("ECS splits valueFrom on ':'")
        );
        assert!(check_version_stage("AWSPREVIOUS").is_ok() && check_version_stage("").is_err());
        assert!(
            check_version_stage(&"a".repeat(257)).is_err() && check_version_stage("a:b").is_err()
        );
        assert!(check_version_id(UUID).is_ok() && check_version_id("\u{1A}").is_ok());
        assert!(
            check_version_id("abc")
                .unwrap_err()
                .contains("GetSecretValue rejects version ids shorter than 32")
        );
        assert!(check_env_name("DB_PASSWORD").is_ok() && check_env_name("_x1").is_ok());
        assert!(
            check_env_name("1X").is_err()
                && check_env_name("A-B").is_err()
                && check_env_name("").is_err()
        );
        for p in [
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso-b",
            "\u{1A}",
            "aws-\u{1A}",
        ] {
            assert!(check_partition(p).is_ok(), "{p}");
        }
        for p in ["", "AWS", "azure", "aws-", "aws--x"] {
            assert!(check_partition(p).is_err(), "{p}");
        }
        assert!(
            check_region("us-east-1").is_ok()
                && check_region("\u{1A}").is_ok()
                && check_region("us-\u{1A}-1").is_ok()
        );
        assert!(
            check_region("").is_err() && check_region("US").is_err() && check_region("1a").is_err()
        );
        assert!(
            check_account("123456789012").is_ok()
                && check_account("\u{1A}").is_ok()
                && check_account("12\u{1A}").is_ok()
        );
        assert!(
            check_account("12345678901").is_err()
                && check_account("12x").is_err()
                && check_account("").is_err()
        );
        assert!(check_account(&format!("{}\u{1A}", "1".repeat(12))).is_err());
    }

    #[test]
    fn templates_parse() {
        use Piece::{Lit, Var};
        assert_eq!(
            parse_template("a{b}{{c}}{d_1}").unwrap(),
            vec![
                Lit("a".into()),
                Var("b".into()),
                Lit("{c}".into()),
                Var("d_1".into())
            ]
        );
        assert_eq!(parse_template("").unwrap(), vec![]);
        assert!(parse_template("a{b").unwrap_err().contains("unclosed '{'"));
        assert!(parse_template("a}b").unwrap_err().contains("lone '}'"));
        assert!(
            parse_template("a{}")
                .unwrap_err()
                .contains("empty placeholder")
        );
        assert!(
            parse_template("{1x}")
                .unwrap_err()
                .contains("not a valid name")
        );
        assert!(
            parse_template("{a-b}")
                .unwrap_err()
                .contains("not a valid name")
        );
        assert_eq!(placeholders("{a}{b}{a}{{c}}"), vec!["a", "b"]);
        assert!(placeholders("{a}{").is_empty());
        assert_eq!(to_wildcards("x{a}{{y}}").unwrap(), "x\u{1A}{y}");
        assert_eq!(escape("{a}"), "{{a}}");
        assert_eq!(
            parse_template(&escape("a{b}}c")).unwrap(),
            vec![Lit("a{b}}c".into())]
        );
    }

    #[test]
    fn templates_resolve() {
        let look = |n: &str| match n {
            "region" => Some("us-east-1".to_string()),
            "stage" => Some("prod".to_string()),
            "colon" => Some("a:b".to_string()),
            "empty" => Some(String::new()),
            "brace" => Some("}".to_string()),
            _ => None,
        };
        assert_eq!(
            resolve("{stage}/db-{region}-{stage}{{x}}", &look).unwrap(),
            "prod/db-us-east-1-prod{x}"
        );
        let errs = resolve("{nope}{colon}{empty}{brace}{nope}{stage}", &look).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert_eq!(errs[0].to_string(), "no value for placeholder `{nope}`");
        assert_eq!(
            errs[1].to_string(),
            "value for placeholder `{colon}` is invalid: it contains ':'"
        );
        assert!(errs[2].to_string().contains("it is empty"));
        assert!(errs[3].to_string().contains("it contains '}'"));
        let errs = resolve("{a", &look).unwrap_err();
        assert!(
            matches!(&errs[..], [TemplateError::Malformed(_)])
                && errs[0].to_string().starts_with("malformed template")
        );
        let calls = std::cell::Cell::new(0);
        let counting = |_: &str| {
            calls.set(calls.get() + 1);
            Some("v".to_string())
        };
        assert_eq!(resolve("{a}{a}{b}", &counting).unwrap(), "vvv");
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn wildcard_templates() {
        let w = |t: &str| ValueFrom::parse_with_wildcards(&to_wildcards(t).unwrap());
        let v =
            w("arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password::").unwrap();
        assert_eq!(sm(&v).json_key(), Some("password"));
        assert_eq!(
            v.to_string(),
            "arn:aws:secretsmanager:\u{1A}:\u{1A}:secret:\u{1A}/db:password::"
        );
        assert!(
            w("arn:aws:secretsmanager:{region}:12x:secret:a")
                .unwrap_err()
                .message()
                .contains("account `12x`")
        );
        assert!(w("arn:{p}:ssm:{r}:{a}:parameter/{env}/db").is_ok());
        assert!(w("{prefix}/db").is_ok() && w("{whole}").is_ok());
        assert!(
            w("arn:aws:{svc}:r:123456789012:secret:a")
                .unwrap_err()
                .message()
                .contains("written literally")
        );
        assert!(
            w("arn:aws:secretsmanager:us-east-1:{acct}:secret:{name}:{key}:{stage}:{id}")
                .unwrap_err()
                .message()
                .contains("both")
        );
        assert!(w("arn:aws:secretsmanager:us-east-1:{acct}:secret:{name}:::{id}").is_ok());
        assert!(
            w("arn:aws:secretsmanager:us-east-1:123456789012:secret:{a}:b")
                .unwrap_err()
                .message()
                .contains("found 1")
        );
        assert!(w("arn:aws:secretsmanager:us-east-1:123456789012:secret:my {a}").is_err());
        assert!(
            w("{name}:{version}")
                .unwrap_err()
                .message()
                .contains("ECS does not accept")
        );
        // The same template is rejected by the strict parser, which treats WILDCARD as a bad char.
        assert!(
            to_wildcards("{name}")
                .unwrap()
                .parse::<ValueFrom>()
                .is_err()
        );
    }
}
