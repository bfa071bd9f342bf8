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

const EXPECTED_SM: &str = "`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`";
const EXPECTED_SSM: &str = "`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`";
const NO_SSM_SELECTOR: &str = "ECS does not accept a `:version` or `:label` selector (nor a JSON \
    key) on an SSM parameter and rejects the task definition; give the parameter alone";

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
    /// The name as written in the ARN, including the random six-character suffix if present.
    pub fn secret_name(&self) -> &str {
        &self.name
    }
    /// The ARN without the `:key:stage:id` tail: the `SecretId` for `GetSecretValue` and
    /// `BatchGetSecretValue`, which do not understand that ECS-only tail.
    pub fn secret_id(&self) -> String {
        secret_arn(&self.partition, &self.region, &self.account, &self.name)
    }
    fn field(&self, i: usize) -> Option<&str> {
        let s = self.selector.as_ref()?[i].as_str();
        (!s.is_empty()).then_some(s)
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
    /// carrying Secrets Manager's random suffix.
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

/// An SSM parameter reference in `valueFrom`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SsmRef {
    /// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`.
    Arn {
        /// The ARN's partition.
        partition: String,
        /// The parameter's region.
        region: String,
        /// The 12-digit account that owns the parameter.
        account: String,
        /// The text after `parameter/` (a hierarchy's leading '/' is not repeated there).
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
                partition: p,
                region: r,
                account: a,
                name,
            } => Some(ssm_arn(p, r, a, name)),
            SsmRef::Name(_) => None,
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
    /// must still be legal, and `arn:`, the service, `secret:` and `parameter/` must be literal.
    pub fn parse_with_wildcards(s: &str) -> Result<ValueFrom, ValueFromError> {
        parse(s).map_err(|message| ValueFromError { message })
    }
}

impl FromStr for ValueFrom {
    type Err = ValueFromError;
    /// Strict parse: a `WILDCARD` char is rejected like any other illegal char.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(WILDCARD) {
            let message = format!("valueFrom {s:?} contains the control character {WILDCARD:?}");
            return Err(ValueFromError { message });
        }
        ValueFrom::parse_with_wildcards(s)
    }
}

impl fmt::Display for ValueFrom {
    /// Gives back exactly the parsed input (empty selector fields included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueFrom::SecretsManager(r) => match &r.selector {
                Some([k, s, i]) => write!(f, "{}:{k}:{s}:{i}", r.secret_id()),
                None => f.write_str(&r.secret_id()),
            },
            ValueFrom::Ssm(r) => f.write_str(&r.arn().unwrap_or_else(|| r.parameter_name())),
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
    arn: &str,
    key: Option<&str>,
    stage: Option<&str>,
    id: Option<&str>,
) -> String {
    if key.is_none() && stage.is_none() && id.is_none() {
        return arn.to_string();
    }
    let [k, s, i] = [key, stage, id].map(|x| x.unwrap_or(""));
    format!("{arn}:{k}:{s}:{i}")
}

// ---------------------------------------------------------------------------------------------
// Field checks. A WILDCARD passes every char test and stands for at least one char.

type Check = Result<(), String>;

/// Which chars a field allows, and how to describe them.
type Chars = (fn(char) -> bool, &'static str);

const SECRET_CHARS: Chars = (secret_char, "ASCII letters, digits and `/_+=.@-`");
const SSM_CHARS: Chars = (ssm_char, "ASCII letters, digits and `_.-/`");
const LOWER_DASH: Chars = (lower_dash, "lowercase letters, digits and '-'");
const DIGITS: Chars = (|c| c.is_ascii_digit(), "digits");
const NO_COLON: Chars = (|c| c != ':', "text without ':'");

/// Text for messages, with wildcards shown as the placeholders they stand for.
fn shown(s: &str) -> String {
    s.replace(WILDCARD, "{…}")
}

/// Checks chars, then length: the maximum always (each WILDCARD is at least one char), the
/// minimum only without wildcards.
fn check_text(what: &str, s: &str, (min, max): (usize, usize), (ok, chars): Chars) -> Check {
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

fn has_random_suffix(name: &str) -> bool {
    let tail: Vec<char> = name.chars().rev().take(7).collect();
    tail.len() == 7 && tail[6] == '-' && tail[..6].iter().all(char::is_ascii_alphanumeric)
}

fn secret_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

fn ssm_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-/".contains(c)
}

fn lower_dash(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

/// A Secrets Manager secret NAME (not an ARN): 1–512 of `A-Za-z0-9/_+=.@-`; WILDCARD allowed.
/// A name ending in `-` + 6 alphanumerics is rejected: a partial ARN built from it looks
/// complete, so ECS and IAM would take its last 7 chars for the random suffix.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    check_text("secret name", name, (1, 512), SECRET_CHARS)?;
    if has_random_suffix(name) {
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

fn is_ident(s: &str) -> bool {
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

/// Checks a `kms_key`: a KMS key ARN, never an alias, because IAM matches `kms:Decrypt` against
/// the key's ARN (an alias ARN in a policy grants nothing). `WILDCARD` stands for placeholder text.
pub fn check_kms_key(key: &str) -> Result<(), String> {
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

// ---------------------------------------------------------------------------------------------
// Parsing. WILDCARD is handled by the field checks; `from_str` rejects it up front.

fn parse(s: &str) -> Result<ValueFrom, String> {
    if s.starts_with("arn:") {
        return parse_arn(s);
    }
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:")) {
        return Err(format!(
            "`{}` looks like an ARN, but ARNs start with `arn:`",
            shown(s)
        ));
    }
    if s.is_empty() {
        return Err(format!(
            "valueFrom is empty; give {EXPECTED_SM}, or an SSM parameter name"
        ));
    }
    // ECS sends anything that is not an ARN to SSM, even a Secrets Manager secret name.
    check_ssm_name(s)?;
    Ok(ValueFrom::Ssm(SsmRef::Name(s.to_string())))
}

fn parse_arn(s: &str) -> Result<ValueFrom, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let expected = match parts.get(2).copied() {
        Some("secretsmanager") => EXPECTED_SM,
        Some("ssm") => EXPECTED_SSM,
        None => {
            return Err(format!(
                "ARN `{}` is incomplete; expected {EXPECTED_SM}",
                shown(s)
            ));
        }
        Some(other) => {
            let other = shown(other);
            return Err(format!(
                "ARN service `{other}` is not supported; expected {EXPECTED_SM} \
                or {EXPECTED_SSM}, with the service written literally"
            ));
        }
    };
    let arn = shown(s);
    let [_, partition, service, region, account, kind, rest @ ..] = parts.as_slice() else {
        return Err(format!("ARN `{arn}` is incomplete; expected {expected}"));
    };
    check_partition(partition)?;
    check_region(region)?;
    check_account(account)?;
    let [partition, region, account, kind] = [*partition, *region, *account, *kind];
    if *service == "ssm" {
        let name = match (kind.strip_prefix("parameter/"), kind, rest) {
            (Some(name), _, []) => name,
            (Some(_), _, _) => {
                return Err(format!(
                    "SSM ARN `{arn}` has ':' after the name; {NO_SSM_SELECTOR}"
                ));
            }
            (None, "parameter", [name, ..]) => {
                let name = shown(name);
                return Err(format!(
                    "SSM ARN `{arn}` has a colon after `parameter`; SSM ARNs use a \
                    slash: `parameter/{name}`"
                ));
            }
            (None, ..) => {
                return Err(format!(
                    "ARN resource `{}` is not supported; expected {expected}",
                    shown(kind)
                ));
            }
        };
        if name.is_empty() || name.starts_with('/') {
            let problem = if name.is_empty() {
                "has no parameter name after `parameter/`"
            } else {
                "has `parameter//`; the ARN of `/a/b` ends in `parameter/a/b` (no `//`)"
            };
            return Err(format!("SSM ARN `{arn}` {problem}"));
        }
        let [partition, region, account, name] =
            [partition, region, account, name].map(String::from);
        let r = SsmRef::Arn {
            partition,
            region,
            account,
            name,
        };
        check_ssm_name(&r.parameter_name())?;
        return Ok(ValueFrom::Ssm(r));
    }
    if kind != "secret" {
        let hint = if kind.starts_with("secret/") {
            " (a colon, not a slash, after `secret`)"
        } else {
            ""
        };
        return Err(format!(
            "ARN resource `{}` is not supported; expected {expected}{hint}",
            shown(kind)
        ));
    }
    let [name, fields @ ..] = rest else {
        return Err(format!("ARN `{arn}` has no secret name after `secret:`"));
    };
    let selector = match *fields {
        [] => None,
        [key, stage, id] => {
            check_selector(key, stage, id)?;
            Some([key, stage, id].map(String::from))
        }
        _ => {
            let n = fields.len();
            return Err(format!(
                "a Secrets Manager ARN takes either no fields or exactly three \
                (`:json-key:version-stage:version-id`) after the secret name, found {n}; leave \
                unused ones empty, e.g. `:password::`"
            ));
        }
    };
    // An ARN may carry the 7-char random suffix on top of the 512-char name.
    let max = if has_random_suffix(name) { 519 } else { 512 };
    check_text("secret name", name, (1, max), SECRET_CHARS)?;
    let [partition, region, account, name] = [partition, region, account, name].map(String::from);
    let r = SecretsManagerRef {
        partition,
        region,
        account,
        name,
        selector,
    };
    Ok(ValueFrom::SecretsManager(r))
}

/// Checks the non-empty fields of a `:key:stage:id` tail.
fn check_selector(key: &str, stage: &str, id: &str) -> Check {
    let present = |s: &str, check: fn(&str) -> Check| if s.is_empty() { Ok(()) } else { check(s) };
    present(key, check_json_key)?;
    present(stage, check_version_stage)?;
    present(id, check_version_id)?;
    if !stage.is_empty() && !id.is_empty() {
        return Err(
            "a Secrets Manager ARN cannot give both a version stage and a version id; \
            keep one (`:key:STAGE:` or `:key::ID`)"
                .into(),
        );
    }
    Ok(())
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
    let (mut out, mut lit) = (Vec::new(), String::new());
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if !matches!(c, '{' | '}') || it.next_if(|&(_, d)| d == c).is_some() {
            lit.push(c);
            continue;
        }
        if c == '}' {
            return Err(format!(
                "lone '}}' at byte {i}; write `}}}}` for a literal brace"
            ));
        }
        let Some((end, _)) = it.find(|&(_, d)| d == '}') else {
            return Err(format!(
                "unclosed '{{' at byte {i}; close it or write `{{{{`"
            ));
        };
        let name = &s[i + 1..end];
        if !is_ident(name) {
            return Err(if name.is_empty() {
                "empty placeholder `{}`: name it (`{stage}`), or write `{{}}` for literal braces"
                    .to_owned()
            } else {
                format!("placeholder `{name}` is not `[A-Za-z_][A-Za-z0-9_]*`")
            });
        }
        if !lit.is_empty() {
            out.push(Piece::Lit(std::mem::take(&mut lit)));
        }
        out.push(Piece::Var(name.to_string()));
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
        match p {
            Piece::Var(n) if !names.contains(&n) => names.push(n),
            _ => {}
        }
    }
    names
}

/// Replaces each `{name}` with one [`WILDCARD`] and undoes escapes, for
/// [`ValueFrom::parse_with_wildcards`] and the `check_*` functions.
pub fn to_wildcards(s: &str) -> Result<String, String> {
    let wild = |p: Piece| {
        if let Piece::Lit(t) = p {
            t
        } else {
            WILDCARD.to_string()
        }
    };
    Ok(parse_template(s)?.into_iter().map(wild).collect())
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
    /// The value would change the `valueFrom` structure (e.g. it contains ':').
    Invalid {
        /// The placeholder name.
        name: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// The template itself is malformed.
    Malformed(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Missing(n) => write!(f, "no value for placeholder `{{{n}}}`"),
            TemplateError::Invalid { name: n, reason: r } => {
                write!(f, "value for placeholder `{{{n}}}` is invalid: {r}")
            }
            TemplateError::Malformed(m) => write!(f, "malformed template: {m}"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// Substitute every placeholder; returns all problems at once. A value must be non-empty and
/// must not contain ':' , '{', '}' or `WILDCARD` (it would change the ARN's structure, which the
/// compile-time check assumed). The lookup is called once per distinct name.
pub fn resolve(
    s: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<TemplateError>> {
    let pieces = parse_template(s).map_err(|m| vec![TemplateError::Malformed(m)])?;
    let (mut values, mut errors) = (Vec::new(), Vec::new());
    for name in placeholders(s) {
        let value = lookup(&name);
        let bad = value
            .as_deref()
            .and_then(|v| v.chars().find(|c| [':', '{', '}', WILDCARD].contains(c)));
        let reason = match (value, bad) {
            (None, _) => {
                errors.push(TemplateError::Missing(name));
                continue;
            }
            (Some(v), _) if v.is_empty() => "it is empty".to_string(),
            (_, Some(c)) => format!("it contains {c:?}"),
            (Some(v), None) => {
                values.push((name, v));
                continue;
            }
        };
        errors.push(TemplateError::Invalid { name, reason });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let value = |n: &str| {
        values
            .iter()
            .find(|(k, _)| k == n)
            .map_or("", |(_, v)| v.as_str())
    };
    let text = pieces.iter().map(|p| match p {
        Piece::Lit(t) => t.as_str(),
        Piece::Var(n) => value(n),
    });
    Ok(text.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
    const PARAM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/";
    const UUID: &str = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE";
    const W: &str = "\u{1A}";

    /// Expands the shorthands used in the case tables below; a trailing `$A<n>` is n 'a's.
    fn expand(s: &str) -> String {
        let s = s.replace("$SM", SM).replace("$P", PARAM);
        let s = s.replace("$UUID", UUID).replace("$W", W);
        match s.split_once("$A") {
            Some((head, n)) => head.to_string() + &"a".repeat(n.parse().unwrap()),
            None => s,
        }
    }

    /// Runs a table of `function | input | "ok" or a needle the error message must contain`.
    fn run_table(table: &str, f: impl Fn(&str, &str) -> Result<(), String>) {
        for line in table.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let [func, input, want] =
                <[&str; 3]>::try_from(line.split('|').map(str::trim).collect::<Vec<_>>())
                    .expect(line);
            match (f(func, &expand(input)), want) {
                (Ok(()), "ok") => {}
                (Err(e), _) if want != "ok" && e.contains(&expand(want)) => {}
                (got, _) => panic!("{line}: got {got:?}"),
            }
        }
    }

    fn ok(s: &str) -> ValueFrom {
        let v: ValueFrom = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(v.to_string(), s, "round trip");
        v
    }

    fn sm(v: &ValueFrom) -> &SecretsManagerRef {
        match v {
            ValueFrom::SecretsManager(r) => r,
            other => panic!("not Secrets Manager: {other:?}"),
        }
    }

    fn ssm(v: ValueFrom) -> SsmRef {
        match v {
            ValueFrom::Ssm(r) => r,
            other => panic!("not SSM: {other:?}"),
        }
    }

    #[test]
    fn round_trips_pick_the_service() {
        assert!(ok(&format!("{SM}db:password::")).is_secrets_manager());
        assert!(!ok(&format!("{PARAM}foo")).is_secrets_manager());
        assert!(!ok("foo").is_secrets_manager());
    }

    #[test]
    fn secrets_manager_accessors() {
        let v = ok(&format!("{SM}db:::"));
        let r = sm(&v);
        assert_eq!([r.json_key(), r.version_stage(), r.version_id()], [None; 3]);
        assert_eq!(r.secret_id(), format!("{SM}db"));
        let v = ok(&format!("{SM}db-AbC123:password:AWSPREVIOUS:"));
        let r = sm(&v);
        assert_eq!(
            [r.partition(), r.region(), r.account()],
            ["aws", "us-east-1", "123456789012"]
        );
        assert_eq!(
            [r.json_key(), r.version_stage()],
            [Some("password"), Some("AWSPREVIOUS")]
        );
        assert_eq!((r.secret_name(), r.version_id()), ("db-AbC123", None));
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
        let r = ssm(ok(&format!("{PARAM}a/b")));
        assert_eq!(
            (r.parameter_name(), r.region()),
            ("/a/b".into(), Some("us-east-1"))
        );
        assert_eq!(r.arn(), Some(format!("{PARAM}a/b")));
        assert_eq!(ssm(ok(&format!("{PARAM}foo"))).parameter_name(), "foo");
        let r = ssm(ok("/a/b"));
        assert_eq!(
            (r.parameter_name(), r.region(), r.arn()),
            ("/a/b".into(), None, None)
        );
    }

    #[test]
    fn builders() {
        let (p, r, a) = ("aws", "us-east-1", "123456789012");
        assert_eq!(secret_arn(p, r, a, "db"), format!("{SM}db"));
        assert_eq!(ssm_arn(p, r, a, "/a/b"), format!("{PARAM}a/b"));
        assert_eq!(ssm_arn(p, r, a, "foo"), format!("{PARAM}foo"));
        assert_eq!(with_selector("A", None, None, None), "A");
        assert_eq!(with_selector("A", Some("k"), None, None), "A:k::");
        assert_eq!(
            with_selector("A", None, Some("AWSPREVIOUS"), None),
            "A::AWSPREVIOUS:"
        );
        assert_eq!(with_selector("A", None, None, Some("i")), "A:::i");
        assert_eq!(with_selector("A", Some(""), None, None), "A:::");
    }

    /// `strict` is `FromStr`; `wild` is `parse_with_wildcards(to_wildcards(input))`. Every
    /// accepted input must display as itself (with wildcards for placeholders).
    const PARSE_CASES: &str = r"
        strict | $SMdb                             | ok
        strict | $SMdb-AbC123                      | ok
        strict | $SMdb:password::                  | ok
        strict | $SMdb::AWSPREVIOUS:               | ok
        strict | $SMdb:::$UUID                     | ok
        strict | $SMdb:password:AWSPREVIOUS:       | ok
        strict | $SMdb:::                          | ok
        strict | $SMa/b_c+=.@-d                    | ok
        strict | arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db:k::  | ok
        strict | arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/a/b      | ok
        strict | $Pfoo                             | ok
        strict | $Pa/b                             | ok
        strict | /a/b                              | ok
        strict | x                                 | ok
        strict | /aws/reference/secretsmanager/db   | ok
        strict | $SMdb:password                     | either no fields or exactly three (`:json-key:version-stage:version-id`) after the secret name, found 1
        strict | $SMdb:password:AWSCURRENT         | found 2
        strict | $SMdb:a:b:c:d                     | found 4
        strict | $SMdb:a:b:c:d:e:f                 | found 6
        strict | $SMdb::AWSCURRENT:$UUID           | both a version stage and a version id
        strict | $SMdb:::abc                       | shorter than 32
        strict | $SMdb:::$A65                      | limit is 1..=64
        strict | $SMdb:a$W::                       | control character
        strict | $SM$A513                          | limit is 1..=512
        strict | $SMmy db                          | contains ' '
        strict | $SM                               | secret name is empty
        strict | arn:aws:s3:::bucket/key           | service `s3` is not supported
        strict | arn:aws:secretsmanager:us-east-1:123456789012:rotation:db | resource `rotation`
        strict | arn:aws:secretsmanager:us-east-1:123456789012:secret/db   | a colon, not a slash
        strict | arn:aws:secretsmanager:us-east-1:123456789012             | is incomplete
        strict | arn:                              | is incomplete
        strict | arn:aws:secretsmanager:us-east-1:123456789012:secret/db:k:: | a colon, not a slash
        strict | arn:aws:secretsmanager:us-east-1:123456789012:secret      | has no secret name
        strict | arn:aws:secretsmanager::123456789012:secret:db            | region is empty
        strict | arn:aws:secretsmanager:us-east-1::secret:db               | account is empty
        strict | arn:aws:secretsmanager:us-east-1:12345678901:secret:db    | has 11 digits
        strict | arn:AWS:secretsmanager:us-east-1:123456789012:secret:db   | partition `AWS` contains 'A'
        strict | arn:aws:secretsmanager:1us:123456789012:secret:db         | must start with a letter
        strict | ARN:aws:ssm:us-east-1:123456789012:parameter/x            | ARNs start with `arn:`
        strict | arn:aws:ssm:us-east-1:123456789012:parameter:x            | SSM ARNs use a slash: `parameter/x`
        strict | arn:aws:ssm:us-east-1:123456789012:document/x             | resource `document/x`
        strict | $P/x                              | no `//`
        strict | $Px:1                             | ECS does not accept a `:version` or `:label`
        strict | $Px:label                         | ECS does not accept
        strict | $P                                | has no parameter name
        strict | $Pa//b                            | empty path segment
        strict | name:label                        | ECS does not accept a `:version` or `:label`
        strict | name:1                            | ECS does not accept
        strict |                                   | valueFrom is empty
        strict | a b                               | contains ' '
        strict | a/b                               | hierarchies start with '/'
        strict | /a//b                             | empty path segment
        strict | $W                                | control character
        strict | {name}                            | contains '{'
        wild   | arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password:: | ok
        wild   | arn:{p}:ssm:{r}:{a}:parameter/{env}/db     | ok
        wild   | {prefix}/db                                | ok
        wild   | {whole}                                    | ok
        wild   | $SM{name}:::{id}                           | ok
        wild   | $SM{name}-{suffix}:{key}::                 | ok
        wild   | arn:aws:secretsmanager:{region}:12x:secret:a | account `12x` contains 'x'
        wild   | arn:aws:secretsmanager:{r}:{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}:secret:a | account `{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}` has 13 digits
        wild   | arn:aws:{svc}:us-east-1:123456789012:secret:a | written literally
        wild   | $SM{name}:{key}:{stage}:{id}               | both a version stage
        wild   | $SM{a}:b                                   | found 1
        wild   | $SMmy {a}                                  | secret name `my {…}` contains ' '
        wild   | {name}:{version}                           | ECS does not accept
        wild   | a{b                                        | unclosed '{'
    ";

    #[test]
    fn parse_cases() {
        run_table(PARSE_CASES, |mode, s| {
            let s = if mode == "strict" {
                s.to_string()
            } else {
                to_wildcards(s)?
            };
            let v = match mode {
                "strict" => s.parse::<ValueFrom>(),
                _ => ValueFrom::parse_with_wildcards(&s),
            };
            let v = v.map_err(|e| e.to_string())?;
            assert_eq!(v.to_string(), s, "round trip");
            Ok(())
        });
    }

    const FIELD_CASES: &str = r"
        secret    | prod/db_pw+=.@-x  | ok
        secret    | db-$W             | ok
        secret    | $W                | ok
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
            _ => panic!("unknown check {func}"),
        });
    }

    #[test]
    fn templates_parse() {
        use Piece::{Lit, Var};
        let pieces = parse_template("a{b}{{c}}{d_1}").unwrap();
        assert_eq!(
            pieces,
            [
                Lit("a".into()),
                Var("b".into()),
                Lit("{c}".into()),
                Var("d_1".into())
            ]
        );
        assert_eq!(parse_template("").unwrap(), []);
        assert_eq!(
            parse_template(&escape("a{b}}c")).unwrap(),
            [Lit("a{b}}c".into())]
        );
        assert_eq!(escape("{a}"), "{{a}}");
        assert_eq!(placeholders("{a}{b}{a}{{c}}"), ["a", "b"]);
        assert!(placeholders("{a}{").is_empty());
        assert_eq!(to_wildcards("x{a}{{y}}").unwrap(), "x\u{1A}{y}");
        let errors = ["a{b", "a}b", "a{}", "{1x}", "{a-b}"].map(|s| parse_template(s).unwrap_err());
        let needles = [
            "unclosed '{'",
            "lone '}'",
            "empty placeholder",
            "`1x`",
            "`a-b`",
        ];
        for (e, needle) in errors.iter().zip(needles) {
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn templates_resolve() {
        let look = |n: &str| {
            let v = [
                ("region", "us-east-1"),
                ("stage", "prod"),
                ("colon", "a:b"),
                ("empty", ""),
            ];
            let v = v
                .iter()
                .chain(&[("brace", "}"), ("wild", W)])
                .find(|(k, _)| *k == n);
            v.map(|(_, v)| v.to_string())
        };
        let out = resolve("{stage}/db-{region}-{stage}{{x}}", &look).unwrap();
        assert_eq!(out, "prod/db-us-east-1-prod{x}");
        let errs = resolve("{nope}{colon}{empty}{brace}{nope}{wild}{stage}", &look).unwrap_err();
        let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "no value for placeholder `{nope}`",
                "value for placeholder `{colon}` is invalid: it contains ':'",
                "value for placeholder `{empty}` is invalid: it is empty",
                "value for placeholder `{brace}` is invalid: it contains '}'",
                "value for placeholder `{wild}` is invalid: it contains '\\u{1a}'",
            ]
        );
        let errs = resolve("{a", &look).unwrap_err();
        assert!(matches!(&errs[..], [TemplateError::Malformed(m)] if m.contains("unclosed")));
        let calls = std::cell::Cell::new(0);
        let counting = |_: &str| Some(format!("v{}", calls.replace(calls.get() + 1)));
        assert_eq!(resolve("{a}{a}{b}", &counting).unwrap(), "v0v0v1");
    }

    #[test]
    fn wildcard_round_trip() {
        let tpl = "arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password::";
        let v = ValueFrom::parse_with_wildcards(&to_wildcards(tpl).unwrap()).unwrap();
        assert_eq!(sm(&v).json_key(), Some("password"));
        assert_eq!(v.to_string(), to_wildcards(tpl).unwrap());
    }
}
