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

const SECRET_NAME_MAX: usize = 512;
const SSM_NAME_MAX: usize = 2048;
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
    /// The name as written in the ARN, including the random `-XXXXXX` suffix if present.
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

/// "{what} `{s}` {rest}", with wildcards shown as the placeholders they stand for.
fn bad(what: &str, s: &str, rest: impl fmt::Display) -> String {
    format!("{what} `{}` {rest}", s.replace(WILDCARD, "{…}"))
}

/// Checks chars, then length: the maximum always (each WILDCARD is at least one char), the
/// minimum only without wildcards.
fn check_text(
    what: &str,
    s: &str,
    len: (usize, usize),
    ok: fn(char) -> bool,
    allowed: &str,
) -> Result<(), String> {
    let n = s.chars().count();
    if n == 0 {
        return Err(format!("{what} is empty"));
    }
    if let Some(c) = s.chars().find(|&c| c != WILDCARD && !ok(c)) {
        return Err(bad(
            what,
            s,
            format_args!("contains {c:?}; use only {allowed}"),
        ));
    }
    if n > len.1 || (n < len.0 && !s.contains(WILDCARD)) {
        return Err(bad(
            what,
            s,
            format_args!("is {n} characters long; the limit is {}..={}", len.0, len.1),
        ));
    }
    Ok(())
}

fn has_random_suffix(name: &str) -> bool {
    let tail: Vec<char> = name.chars().rev().take(7).collect();
    tail.len() == 7 && tail[6] == '-' && tail[..6].iter().all(char::is_ascii_alphanumeric)
}

fn lower_dash(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

fn secret_name_text(name: &str, max: usize) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c);
    check_text(
        "secret name",
        name,
        (1, max),
        ok,
        "ASCII letters, digits and `/_+=.@-`",
    )
}

/// A Secrets Manager secret NAME (not an ARN): 1–512 of `A-Za-z0-9/_+=.@-`; WILDCARD allowed.
/// A name ending in `-` + 6 alphanumerics is rejected: a partial ARN built from it looks
/// complete, so ECS and IAM would take its last 7 chars for the random suffix.
pub fn check_secret_name(name: &str) -> Result<(), String> {
    secret_name_text(name, SECRET_NAME_MAX)?;
    if has_random_suffix(name) {
        return Err(bad(
            "secret name",
            name,
            "ends in '-' and 6 letters/digits, like Secrets \
            Manager's random ARN suffix, so ECS and IAM cannot tell a partial ARN for it from a \
            complete one; give the complete ARN (with its real suffix) instead",
        ));
    }
    Ok(())
}

/// An SSM parameter name: 1–2048 of `a-zA-Z0-9_.-/` (WILDCARD allowed); a hierarchy starts with
/// '/', has no `//` and no trailing '/'. `name:version` / `name:label` are rejected because ECS
/// refuses them in `valueFrom`.
pub fn check_ssm_name(name: &str) -> Result<(), String> {
    const WHAT: &str = "SSM parameter name";
    if name.contains(':') {
        return Err(bad(
            WHAT,
            name,
            format_args!("contains ':'; {NO_SSM_SELECTOR}"),
        ));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "_.-/".contains(c);
    check_text(
        WHAT,
        name,
        (1, SSM_NAME_MAX),
        ok,
        "ASCII letters, digits and `_.-/`",
    )?;
    if name.contains('/') && !name.starts_with(['/', WILDCARD]) {
        return Err(bad(
            WHAT,
            name,
            "contains '/' but does not start with it; hierarchies start with '/'",
        ));
    }
    if name.contains("//") || name.ends_with('/') {
        return Err(bad(
            WHAT,
            name,
            "has an empty path segment ('//' or a trailing '/')",
        ));
    }
    Ok(())
}

/// Selector fields (key, stage, id) may hold any text but ':'.
fn check_field(what: &str, s: &str, len: (usize, usize)) -> Result<(), String> {
    if s.contains(':') {
        return Err(bad(
            what,
            s,
            "contains ':'; ECS splits valueFrom on ':', so it cannot hold one",
        ));
    }
    check_text(what, s, len, |_| true, "text without ':'")
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
        return Err(bad(
            "version id",
            id,
            format_args!(
                "is {n} characters long; GetSecretValue \
            rejects version ids shorter than 32 characters and ECS fails the task at start; give \
            the full id (usually a 36-character UUID)"
            ),
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
    Err(bad(
        "environment variable name",
        name,
        "is invalid; use `[A-Za-z_][A-Za-z0-9_]*`",
    ))
}

/// A partition: `aws` or `aws-` + lowercase/digit parts joined by '-'. WILDCARD allowed.
pub fn check_partition(p: &str) -> Result<(), String> {
    const HINT: &str = "partitions look like `aws`, `aws-cn` or `aws-us-gov`";
    check_text("partition", p, (1, usize::MAX), lower_dash, HINT)?;
    let rest = p.strip_prefix("aws-");
    if p == "aws"
        || rest.is_some_and(|r| r.split('-').all(|x| !x.is_empty()))
        || p.contains(WILDCARD)
    {
        return Ok(());
    }
    Err(bad(
        "partition",
        p,
        format_args!("is not a partition; {HINT}"),
    ))
}

/// A region like `us-east-1`: non-empty, lowercase letters, digits and '-', starting with a
/// letter. WILDCARD allowed.
pub fn check_region(r: &str) -> Result<(), String> {
    check_text(
        "region",
        r,
        (1, usize::MAX),
        lower_dash,
        "lowercase letters, digits and '-'",
    )?;
    if r.starts_with(|c: char| c != WILDCARD && !c.is_ascii_lowercase()) {
        return Err(bad(
            "region",
            r,
            "must start with a letter, like `us-east-1`",
        ));
    }
    Ok(())
}

/// An account id: exactly 12 ASCII digits. WILDCARD allowed.
pub fn check_account(a: &str) -> Result<(), String> {
    check_text(
        "account",
        a,
        (1, usize::MAX),
        |c| c.is_ascii_digit(),
        "digits",
    )?;
    let n = a.chars().count();
    if n > 12 || (n < 12 && !a.contains(WILDCARD)) {
        return Err(bad(
            "account",
            a,
            format_args!("has {n} digits; an account id has exactly 12"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parsing. WILDCARD is handled by the field checks; `from_str` rejects it up front.

fn parse(s: &str) -> Result<ValueFrom, String> {
    if s.is_empty() {
        return Err(
            "valueFrom is empty; give a Secrets Manager secret ARN, or an SSM parameter \
                    ARN or name"
                .into(),
        );
    }
    if s.starts_with("arn:") {
        return parse_arn(s);
    }
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:")) {
        return Err(bad(
            "valueFrom",
            s,
            "looks like an ARN, but ARNs start with lowercase `arn:`",
        ));
    }
    // ECS sends anything that is not an ARN to SSM, even a Secrets Manager secret name.
    check_ssm_name(s)?;
    Ok(ValueFrom::Ssm(SsmRef::Name(s.to_string())))
}

fn parse_arn(s: &str) -> Result<ValueFrom, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let expected = match parts.get(2).copied().unwrap_or("") {
        "secretsmanager" => "`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`",
        "ssm" => "`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`",
        other => {
            return Err(bad(
                "ARN service",
                other,
                "is not supported; ECS secrets come from \
                `secretsmanager` or `ssm` ARNs, with the service written literally",
            ));
        }
    };
    let [_, partition, service, region, account, kind, rest @ ..] = &parts[..] else {
        return Err(bad(
            "ARN",
            s,
            format_args!("is incomplete; expected {expected}"),
        ));
    };
    let at = |m: String| bad("in ARN", s, format_args!(": {m}"));
    check_partition(partition).map_err(at)?;
    check_region(region).map_err(at)?;
    check_account(account).map_err(at)?;
    let [partition, region, account] = [partition, region, account].map(|x| x.to_string());
    if *service == "ssm" {
        let Some(name) = kind.strip_prefix("parameter/") else {
            if let ("parameter", Some(n)) = (*kind, rest.first()) {
                return Err(bad(
                    "SSM ARN",
                    s,
                    format_args!(
                        "has a colon after `parameter`; \
                    SSM ARNs use a slash: `parameter/{}`",
                        n.replace(WILDCARD, "{…}")
                    ),
                ));
            }
            return Err(bad(
                "SSM ARN resource",
                kind,
                format_args!("is not supported; expected {expected}"),
            ));
        };
        if !rest.is_empty() {
            return Err(bad(
                "SSM ARN",
                s,
                format_args!("has ':' after the parameter name; {NO_SSM_SELECTOR}"),
            ));
        }
        if name.is_empty() {
            return Err(bad(
                "SSM ARN",
                s,
                format_args!("has no parameter name; expected {expected}"),
            ));
        }
        if name.starts_with('/') {
            return Err(bad(
                "SSM ARN",
                s,
                "has `parameter//`; the ARN of `/a/b` ends in \
                `:parameter/a/b` (no double slash)",
            ));
        }
        let r = SsmRef::Arn {
            partition,
            region,
            account,
            name: name.to_string(),
        };
        check_ssm_name(&r.parameter_name()).map_err(at)?;
        return Ok(ValueFrom::Ssm(r));
    }
    if *kind != "secret" {
        let hint = if kind.starts_with("secret/") {
            " (a colon, not a slash, after `secret`)"
        } else {
            ""
        };
        return Err(bad(
            "Secrets Manager ARN resource",
            kind,
            format_args!("is not supported; expected {expected}{hint}"),
        ));
    }
    let [name, fields @ ..] = rest else {
        return Err(bad(
            "Secrets Manager ARN",
            s,
            format_args!("has no secret name; expected {expected}"),
        ));
    };
    let selector = match fields {
        [] => None,
        [key, stage, id] => {
            let checks: [(&str, fn(&str) -> Result<(), String>); 3] = [
                (key, check_json_key),
                (stage, check_version_stage),
                (id, check_version_id),
            ];
            for (v, check) in checks.into_iter().filter(|(v, _)| !v.is_empty()) {
                check(v).map_err(at)?;
            }
            if !stage.is_empty() && !id.is_empty() {
                return Err(
                    "a Secrets Manager ARN cannot give both a version stage and a version \
                            id; keep one (`:key:STAGE:` or `:key::ID`)"
                        .into(),
                );
            }
            Some([key, stage, id].map(|x| x.to_string()))
        }
        _ => {
            return Err(format!(
                "a Secrets Manager ARN takes either no fields or exactly three \
                (`:json-key:version-stage:version-id`) after the secret name, found {}; leave \
                unused ones empty, e.g. `:password::`",
                fields.len()
            ));
        }
    };
    // An ARN may carry the 7-char random suffix on top of the 512-char name.
    secret_name_text(
        name,
        SECRET_NAME_MAX + if has_random_suffix(name) { 7 } else { 0 },
    )
    .map_err(at)?;
    let name = name.to_string();
    Ok(ValueFrom::SecretsManager(SecretsManagerRef {
        partition,
        region,
        account,
        name,
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
    let (mut out, mut lit) = (Vec::new(), String::new());
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '{' && c != '}' {
            lit.push(c);
        } else if it.next_if(|&(_, d)| d == c).is_some() {
            lit.push(c);
        } else if c == '}' {
            return Err(format!(
                "lone '}}' at byte {i}; write `}}}}` for a literal brace"
            ));
        } else {
            let Some((end, _)) = it.find(|&(_, d)| d == '}') else {
                return Err(format!(
                    "unclosed '{{' at byte {i}; close it with '}}' or write `{{{{`"
                ));
            };
            let name = &s[i + 1..end];
            if name.is_empty() {
                return Err(format!(
                    "empty placeholder `{{}}` at byte {i}; put a name inside"
                ));
            }
            if !is_ident(name) {
                return Err(format!(
                    "placeholder name `{name}` is not `[A-Za-z_][A-Za-z0-9_]*`"
                ));
            }
            if !lit.is_empty() {
                out.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            out.push(Piece::Var(name.to_string()));
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
    let pieces = parse_template(s)?.into_iter();
    Ok(pieces
        .map(|p| {
            if let Piece::Lit(t) = p {
                t
            } else {
                WILDCARD.to_string()
            }
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
            TemplateError::Invalid { name: n, reason } => {
                write!(f, "value for placeholder `{{{n}}}` is invalid: {reason}")
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
        let reason = match lookup(&name) {
            None => {
                errors.push(TemplateError::Missing(name));
                continue;
            }
            Some(v) if v.is_empty() => "it is empty".to_string(),
            Some(v) => match v.chars().find(|c| [':', '{', '}', WILDCARD].contains(c)) {
                Some(c) => format!("it contains {c:?}"),
                None => {
                    values.push((name, v));
                    continue;
                }
            },
        };
        errors.push(TemplateError::Invalid { name, reason });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let value = |n: &String| {
        values
            .iter()
            .find(|(k, _)| k == n)
            .map_or("", |(_, v)| v.as_str())
    };
    Ok(pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(t) => t.as_str(),
            Piece::Var(n) => value(n),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
    const PARAM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/";
    const UUID: &str = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE";
    const W: &str = "\u{1A}";

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
    /// Asserts each input fails and its message contains the needle.
    fn rejects(f: impl Fn(&str) -> Result<(), String>, cases: &[(&str, &str)]) {
        for (s, needle) in cases {
            let e = f(s).expect_err(s);
            assert!(e.contains(needle), "`{s}` gave `{e}`, expected `{needle}`");
        }
    }
    fn parses(s: &str) -> Result<(), String> {
        s.parse::<ValueFrom>().map(drop).map_err(|e| e.to_string())
    }
    fn accepts(f: fn(&str) -> Result<(), String>, good: &[&str], bad: &[&str]) {
        good.iter()
            .for_each(|s| assert!(f(s).is_ok(), "{s:?}: {:?}", f(s)));
        bad.iter()
            .for_each(|s| assert!(f(s).is_err(), "{s:?} accepted"));
    }

    #[test]
    fn round_trips_every_valid_form() {
        let tails = [
            "db",
            "db-AbC123",
            "db:password::",
            "db::AWSPREVIOUS:",
            "db:::",
        ];
        for tail in tails
            .iter()
            .chain(&["db:password:AWSPREVIOUS:", &format!("db:::{UUID}")])
        {
            assert!(ok(&format!("{SM}{tail}")).is_secrets_manager());
        }
        ok("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a/b_c+=.@-d");
        ok("arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/a/b");
        for s in [
            &format!("{PARAM}foo"),
            "/a/b",
            "x",
            "/aws/reference/secretsmanager/db",
        ] {
            assert!(!ok(s).is_secrets_manager());
        }
    }

    #[test]
    fn secrets_manager_accessors() {
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
            [r.partition(), r.region(), r.account()],
            ["aws", "us-east-1", "123456789012"]
        );
        assert_eq!(
            (r.json_key(), r.version_stage()),
            (Some("password"), Some("AWSPREVIOUS"))
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
            (r.parameter_name().as_str(), r.region()),
            ("/a/b", Some("us-east-1"))
        );
        assert_eq!(r.arn(), Some(format!("{PARAM}a/b")));
        assert_eq!(ssm(ok(&format!("{PARAM}foo"))).parameter_name(), "foo");
        let r = ssm(ok("/a/b"));
        assert_eq!(
            (r.parameter_name().as_str(), r.region(), r.arn()),
            ("/a/b", None, None)
        );
    }

    #[test]
    fn rejects_bad_secret_arns() {
        let sm = |tail: &str| format!("{SM}{tail}");
        let long = (
            sm(&format!("db:::{}", "a".repeat(65))),
            sm(&"a".repeat(513)),
        );
        rejects(
            parses,
            &[
                (
                    &sm("db:password"),
                    "either no fields or exactly three (`:json-key:version-stage:version-id`) after the secret name, found 1",
                ),
                (&sm("db:password:AWSCURRENT"), "found 2"),
                (&sm("db:a:b:c:d"), "found 4"),
                (&sm("db:a:b:c:d:e:f"), "found 6"),
                (
                    &sm(&format!("db::AWSCURRENT:{UUID}")),
                    "both a version stage and a version id",
                ),
                (&sm("db:::abc"), "shorter than 32"),
                (&long.0, "limit is 1..=64"),
                (&long.1, "limit is 1..=512"),
                (&sm("my db"), "contains ' '"),
                (&sm(""), "secret name is empty"),
                (&sm("db\u{1A}"), "control character"),
                ("arn:aws:s3:::bucket/key", "service `s3` is not supported"),
                (
                    "arn:aws:secretsmanager:us-east-1:123456789012:rotation:db",
                    "resource `rotation`",
                ),
                (
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret/db",
                    "a colon, not a slash",
                ),
                (
                    "arn:aws:secretsmanager:us-east-1:123456789012",
                    "is incomplete",
                ),
                (
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret",
                    "has no secret name",
                ),
                (
                    "arn:aws:secretsmanager::123456789012:secret:db",
                    "region is empty",
                ),
                (
                    "arn:aws:secretsmanager:us-east-1::secret:db",
                    "account is empty",
                ),
                (
                    "arn:aws:secretsmanager:us-east-1:12345678901:secret:db",
                    "has 11 digits",
                ),
                (
                    "arn:AWS:secretsmanager:us-east-1:123456789012:secret:db",
                    "partition `AWS` contains 'A'",
                ),
                (
                    "arn:aws:secretsmanager:1us:123456789012:secret:db",
                    "start with a letter",
                ),
                (
                    "ARN:aws:ssm:us-east-1:123456789012:parameter/x",
                    "lowercase `arn:`",
                ),
            ],
        );
    }

    #[test]
    fn rejects_bad_ssm() {
        rejects(
            parses,
            &[
                (
                    "arn:aws:ssm:us-east-1:123456789012:parameter:x",
                    "SSM ARNs use a slash: `parameter/x`",
                ),
                (&format!("{PARAM}/x"), "no double slash"),
                (
                    &format!("{PARAM}x:1"),
                    "ECS does not accept a `:version` or `:label`",
                ),
                (&format!("{PARAM}x:label"), "ECS does not accept"),
                (PARAM, "has no parameter name"),
                (
                    "arn:aws:ssm:us-east-1:123456789012:document/x",
                    "resource `document/x`",
                ),
                ("name:label", "ECS does not accept a `:version` or `:label`"),
                ("name:1", "ECS does not accept"),
                ("", "valueFrom is empty"),
                ("a b", "contains ' '"),
                ("a/b", "hierarchies start with '/'"),
                ("/a//b", "empty path segment"),
                (W, "control character"),
            ],
        );
    }

    #[test]
    fn builders() {
        assert_eq!(
            secret_arn("aws", "us-east-1", "123456789012", "db"),
            format!("{SM}db")
        );
        assert_eq!(
            ssm_arn("aws", "us-east-1", "123456789012", "/a/b"),
            format!("{PARAM}a/b")
        );
        assert_eq!(
            ssm_arn("aws", "us-east-1", "123456789012", "foo"),
            format!("{PARAM}foo")
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
        let s513 = "a".repeat(513);
        accepts(
            check_secret_name,
            &["prod/db_pw+=.@-x", "db-\u{1A}", W],
            &["", "a b", &s513],
        );
        rejects(check_secret_name, &[("db-AbC123", "give the complete ARN")]);
        let s2049 = "a".repeat(2049);
        accepts(
            check_ssm_name,
            &["/a/b", "x", "\u{1A}/b"],
            &["a/b", "//a", "/a/", "", &s2049],
        );
        rejects(check_ssm_name, &[("x:1", "ECS does not accept")]);
        accepts(check_json_key, &["password", W], &["", "a:b"]);
        rejects(check_json_key, &[("a:b", "ECS splits valueFrom on ':'")]);
        accepts(
            check_version_stage,
            &["AWSPREVIOUS", W],
            &["", "a:b", &"a".repeat(257)],
        );
        accepts(
            check_version_id,
            &[UUID, W],
            &["", &"a".repeat(65), &format!("{UUID}:")],
        );
        let short_id = "GetSecretValue rejects version ids shorter than 32 characters";
        rejects(check_version_id, &[("abc", short_id)]);
        accepts(
            check_env_name,
            &["DB_PASSWORD", "_x1"],
            &["1X", "A-B", "", W],
        );
        let parts = ["aws", "aws-cn", "aws-us-gov", "aws-iso-b", W, "aws-\u{1A}"];
        accepts(
            check_partition,
            &parts,
            &["", "AWS", "azure", "aws-", "aws--x"],
        );
        accepts(
            check_region,
            &["us-east-1", W, "us-\u{1A}-1"],
            &["", "US", "1a", "us east"],
        );
        let over = format!("{}\u{1A}", "1".repeat(12));
        let accounts = ["123456789012", W, "12\u{1A}"];
        accepts(
            check_account,
            &accounts,
            &["12345678901", "1234567890123", "12x", "", &over],
        );
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
        let parse = |s: &str| parse_template(s).map(drop);
        rejects(
            parse,
            &[
                ("a{b", "unclosed '{'"),
                ("a}b", "lone '}'"),
                ("a{}", "empty placeholder"),
                ("{1x}", "placeholder name `1x`"),
                ("{a-b}", "placeholder name `a-b`"),
            ],
        );
        assert_eq!(placeholders("{a}{b}{a}{{c}}"), ["a", "b"]);
        assert!(placeholders("{a}{").is_empty());
        assert_eq!(to_wildcards("x{a}{{y}}").unwrap(), "x\u{1A}{y}");
        assert_eq!(escape("{a}"), "{{a}}");
        assert_eq!(
            parse_template(&escape("a{b}}c")).unwrap(),
            [Lit("a{b}}c".into())]
        );
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
    fn wildcard_templates() {
        let w = |t: &str| ValueFrom::parse_with_wildcards(&to_wildcards(t).unwrap());
        let tpl = "arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password::";
        let v = w(tpl).unwrap();
        assert_eq!(sm(&v).json_key(), Some("password"));
        assert_eq!(v.to_string(), to_wildcards(tpl).unwrap());
        for t in [
            "arn:{p}:ssm:{r}:{a}:parameter/{env}/db",
            "{prefix}/db",
            "{whole}",
            "x-{a}",
        ] {
            assert!(w(t).is_ok(), "{t}");
        }
        assert!(w(&format!("{SM}{{name}}:::{{id}}")).is_ok());
        let check = |t: &str| w(t).map(drop).map_err(|e| e.to_string());
        rejects(
            check,
            &[
                (
                    "arn:aws:secretsmanager:{region}:12x:secret:a",
                    "account `12x` contains 'x'",
                ),
                (
                    "arn:aws:{svc}:us-east-1:123456789012:secret:a",
                    "written literally",
                ),
                (
                    &format!("{SM}{{name}}:{{key}}:{{stage}}:{{id}}"),
                    "both a version stage",
                ),
                (&format!("{SM}{{a}}:b"), "found 1"),
                (
                    &format!("{SM}my {{a}}"),
                    "secret name `my {…}` contains ' '",
                ),
                ("{name}:{version}", "ECS does not accept"),
            ],
        );
        // The strict parser treats WILDCARD as a bad char.
        assert!(
            to_wildcards("{name}")
                .unwrap()
                .parse::<ValueFrom>()
                .is_err()
        );
    }
}
