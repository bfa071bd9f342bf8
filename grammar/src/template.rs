//! `{placeholder}` templates over `valueFrom` text: `{name}` is filled in per environment, `{{`
//! and `}}` are literal braces.

use std::fmt;

use crate::rules::{WILDCARD, check_kms_key_wildcards, is_ident};

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

/// The distinct placeholder names of `templates`, in order of first appearance; a malformed
/// template contributes none. The one place that list is made, for one template or several
/// (every source of a declaration, then its KMS keys).
///
/// ```
/// use ecs_secrets_grammar::placeholders;
///
/// assert_eq!(placeholders(["{stage}/db-{region}", "{stage}/{{literal}}"]), ["stage", "region"]);
/// ```
pub fn placeholders<'a>(templates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for template in templates {
        for piece in parse_template(template).unwrap_or_default() {
            match piece {
                Piece::Var(n) if !names.contains(&n) => names.push(n),
                _ => {}
            }
        }
    }
    names
}

/// Whether a well-formed template has a placeholder: a `{` that does not open a `{{`. A `const
/// fn` for the derive's generated code, which tells at compile time whether a declaration's
/// output depends on the environment; it agrees with [`placeholders`] on every template that
/// the template parser accepts.
pub const fn has_placeholder(template: &str) -> bool {
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if i + 1 < b.len() && b[i + 1] == b'{' {
                i += 2;
                continue;
            }
            return true;
        }
        i += 1;
    }
    false
}

/// Replaces each `{name}` with one [`WILDCARD`] and undoes escapes, for
/// [`parse_with_wildcards`](crate::__derive::parse_with_wildcards) and the `check_*` functions.
/// A `WILDCARD` written literally is refused: the checks would take it for placeholder text, and
/// the runtime, which sees it as the control character it is, would refuse what compiled.
pub fn to_wildcards(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    for piece in parse_template(s)? {
        match piece {
            Piece::Lit(t) if t.contains(WILDCARD) => {
                return Err(format!(
                    "the text contains the control character {WILDCARD:?}, which no reference may hold"
                ));
            }
            Piece::Lit(t) => out.push_str(&t),
            Piece::Var(_) => out.push(WILDCARD),
        }
    }
    Ok(out)
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
    for name in placeholders([s]) {
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

/// Checks a `kms_key`: the ARN of a customer-managed KMS key,
/// `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID`, never an alias, because IAM matches
/// `kms:Decrypt` against the key's ARN (an alias ARN in a policy grants nothing).
///
/// `template` may hold `{placeholders}` (with `{{` and `}}` for literal braces): each stands
/// for text not known yet, and every literal character must be one the key allows where it
/// stands. A key without placeholders is checked completely; a resolved key is checked as the
/// template of itself, its braces escaped. This is the one rule for a key: `#[derive(EcsSecrets)]`
/// runs it on the attribute at compile time and the runtime on every resolved key (and on the
/// keys a policy is built for), so a key that compiles is never refused later for a reason the
/// build could see.
///
/// ```
/// use ecs_secrets_grammar::check_kms_key;
///
/// assert_eq!(check_kms_key("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab"), Ok(()));
/// assert_eq!(check_kms_key("arn:aws:kms:{region}:123456789012:key/{key_id}"), Ok(()));
/// assert!(check_kms_key("arn:aws:kms:us-east-1:123456789012:alias/app").is_err());
/// assert!(check_kms_key("arn:aws:kms:us-east-1:123456789012:key/\u{1a}").is_err());
/// ```
pub fn check_kms_key(template: &str) -> Result<(), String> {
    let pieces = parse_template(template)?;
    let literal = pieces.iter().filter_map(|p| match p {
        Piece::Lit(text) => Some(text),
        Piece::Var(_) => None,
    });
    // Checked before the parts: a control character is valid nowhere in a key, and
    // `WILDCARD`, itself one, would otherwise pass for placeholder text.
    if let Some(c) = literal.flat_map(|t| t.chars()).find(|c| c.is_control()) {
        return Err(format!(
            "a KMS key ARN has no control characters, and this one has {c:?}"
        ));
    }
    check_kms_key_wildcards(&to_wildcards(template)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::W;

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
        assert_eq!(placeholders(["{a}{b}{a}{{c}}"]), ["a", "b"]);
        assert!(placeholders(["{a}{"]).is_empty());
        assert_eq!(placeholders(["{b}{a}", "{", "{c}{a}"]), ["b", "a", "c"]);
        assert!(placeholders([]).is_empty());
        for t in [
            "", "a", "{a}", "x{{y}}", "{{{a}", "}}{a}", "{{", "a}}b{{c", "{a}{{",
        ] {
            assert_eq!(has_placeholder(t), !placeholders([t]).is_empty(), "{t}");
        }
        assert_eq!(to_wildcards("x{a}{{y}}").unwrap(), "x\u{1A}{y}");
        assert_eq!(
            to_wildcards("x{a}\u{1A}").unwrap_err(),
            "the text contains the control character '\\u{1a}', which no reference may hold"
        );
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
}
