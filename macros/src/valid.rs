//! The rules that involve more than one attribute or field: which keys go together, how a name
//! becomes an ARN, env names and their uniqueness, templates. Single values are checked by the
//! grammar shared with the runtime (the `ecs-secrets-grammar` crate), so a reference that
//! compiles is one the runtime parser accepts.
//!
//! Duplicate env names through `flatten` cannot be seen here (the other struct's fields are not
//! visible to this derive); `expand.rs` emits them as `const` assertions.

use heck::ToShoutySnakeCase;
use proc_macro2::Span;
use syn::LitStr;

use crate::ast::{Field, Input};
use crate::attr::FieldAttrs;
use ecs_secrets_grammar::__derive::{self as vf, parse_with_wildcards};
use ecs_secrets_grammar::{ValueFrom, placeholders, secret_arn, ssm_arn, with_selector};

pub enum Kind {
    Env,
    /// The complete `valueFrom` template.
    SecretsManager(String),
    Ssm(String),
    Flatten,
}

/// A field with what the checks worked out for it.
pub struct Checked<'a> {
    pub field: &'a Field<'a>,
    /// The env name; empty for a `flatten` field, whose inner struct names its own.
    pub env: String,
    pub kind: Kind,
}

pub struct Model<'a> {
    pub input: &'a Input<'a>,
    /// Every field, in declaration order.
    pub fields: Vec<Checked<'a>>,
    /// The placeholder names of this struct's own fields' `valueFrom`s and `kms_key`s, in order
    /// of first appearance (the runtime's `placeholders::<T>()` lists them in the same order).
    pub placeholders: Vec<String>,
}

impl Model<'_> {
    /// The `flatten` fields, in declaration order.
    pub fn flattened(&self) -> impl Iterator<Item = &Field<'_>> {
        let flat = self
            .fields
            .iter()
            .filter(|c| matches!(c.kind, Kind::Flatten));
        flat.map(|c| c.field)
    }
}

/// The `:key:stage:id` a field asks for, each escaped for the template.
struct Selector {
    key: Option<String>,
    stage: Option<String>,
    id: Option<String>,
}

fn err(lit: &LitStr, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(lit.span(), msg)
}

/// Checks a template's syntax and returns its text with placeholders as wildcards.
fn wildcards(lit: &LitStr, errors: &mut Vec<syn::Error>) -> Option<String> {
    match vf::to_wildcards(&lit.value()) {
        Ok(w) => Some(w),
        Err(e) => {
            errors.push(err(lit, e));
            None
        }
    }
}

struct Context {
    partition: String,
    region: Option<String>,
    account: Option<String>,
}

fn context(input: &Input, errors: &mut Vec<syn::Error>) -> Context {
    let a = &input.attrs;
    let mut check = |lit: &Option<LitStr>, f: fn(&str) -> Result<(), String>| {
        let lit = lit.as_ref()?;
        let w = wildcards(lit, errors)?;
        if let Err(e) = f(&w) {
            errors.push(err(lit, e));
            return None;
        }
        Some(lit.value())
    };
    let partition = check(&a.partition, vf::check_partition);
    let region = check(&a.region, vf::check_region);
    let account = check(&a.account, vf::check_account);
    if let Some(prefix) = &a.env_prefix {
        let p = prefix.value();
        if !p.is_empty() && !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            errors.push(err(
                prefix,
                "an env_prefix may contain only ASCII letters, digits and `_`",
            ));
        }
    }
    for key in &a.kms_keys {
        if let Some(w) = wildcards(key, errors) {
            if let Err(e) = vf::check_kms_key(&w) {
                errors.push(err(key, e));
            }
        }
    }
    Context {
        partition: partition.unwrap_or_else(|| "aws".to_owned()),
        region,
        account,
    }
}

pub fn check<'a>(input: &'a Input<'a>, errors: &mut Vec<syn::Error>) -> Model<'a> {
    let ctx = context(input, errors);
    let fields: Vec<Checked> = (input.fields.iter())
        .map(|field| check_field(input, &ctx, field, errors))
        .collect();
    duplicate_env_names(&fields, errors);
    let placeholders = own_placeholders(input, &fields);
    Model {
        input,
        fields,
        placeholders,
    }
}

/// Duplicate env names among this struct's own fields (`expand.rs` checks the flattened ones).
fn duplicate_env_names(fields: &[Checked], errors: &mut Vec<syn::Error>) {
    let own: Vec<&Checked> = (fields.iter())
        .filter(|c| !matches!(c.kind, Kind::Flatten))
        .collect();
    for (i, c) in own.iter().enumerate() {
        if let Some(prev) = own[..i].iter().find(|p| p.env == c.env) {
            errors.push(syn::Error::new(
                c.field.env_span(),
                format!(
                    "env name `{}` is used by field `{}` too; ECS rejects duplicate names \
                     (\"Duplicate secret names found\"): give one of them another `env`",
                    c.env,
                    prev.field.name()
                ),
            ));
        }
    }
}

/// A `kms_key` template counts too: the IAM policies depend on its values.
fn own_placeholders(input: &Input, fields: &[Checked]) -> Vec<String> {
    let sources = fields.iter().filter_map(|c| match &c.kind {
        Kind::SecretsManager(t) | Kind::Ssm(t) => Some(t.as_str()),
        Kind::Env | Kind::Flatten => None,
    });
    let kms_keys: Vec<String> = input.attrs.kms_keys.iter().map(LitStr::value).collect();
    placeholders(sources.chain(kms_keys.iter().map(String::as_str)))
}

fn check_field<'a>(
    input: &Input,
    ctx: &Context,
    field: &'a Field<'a>,
    errors: &mut Vec<syn::Error>,
) -> Checked<'a> {
    if let Some(span) = field.attrs.flatten {
        flatten_alone(&field.attrs, span, errors);
        let (env, kind) = (String::new(), Kind::Flatten);
        return Checked { field, env, kind };
    }
    default_not_on_option(field, errors);
    let env = env_name(input, field, errors);
    selector_needs_secret(&field.attrs, errors);
    let selector = selector(&field.attrs, errors);
    let kind = source(ctx, field, selector, errors);
    Checked { field, env, kind }
}

/// A `flatten` field takes everything from its own struct: no other key goes with it.
fn flatten_alone(a: &FieldAttrs, span: Span, errors: &mut Vec<syn::Error>) {
    let keys = [
        &a.env,
        &a.secret,
        &a.ssm,
        &a.key,
        &a.version_stage,
        &a.version_id,
        &a.default,
    ];
    for lit in keys.into_iter().flatten() {
        errors.push(err(
            lit,
            "a `flatten` field takes its sources and env names from its own struct; remove this key",
        ));
    }
    if a.json.is_some() {
        errors.push(syn::Error::new(
            span,
            "`json` and `flatten` cannot be combined: `flatten` reads one variable per field of the inner struct, `json` reads one variable for the whole field",
        ));
    }
}

fn default_not_on_option(f: &Field, errors: &mut Vec<syn::Error>) {
    if let (Some(default), Some(_)) = (&f.attrs.default, f.option_inner) {
        errors.push(err(
            default,
            "`default` on an `Option` field: absent already means `None`; drop the `Option` or the `default`",
        ));
    }
}

/// `key`, `version_stage` and `version_id` only make sense for Secrets Manager.
fn selector_needs_secret(a: &FieldAttrs, errors: &mut Vec<syn::Error>) {
    let keys = [
        (
            &a.key,
            "`key` selects a JSON key of a Secrets Manager secret",
        ),
        (
            &a.version_stage,
            "`version_stage` pins a Secrets Manager secret version",
        ),
        (
            &a.version_id,
            "`version_id` pins a Secrets Manager secret version",
        ),
    ];
    for (lit, what) in keys {
        if let (Some(lit), None) = (lit, &a.secret) {
            let fix = if a.ssm.is_some() {
                "; ECS accepts no JSON key or version for SSM parameters"
            } else {
                "; add `secret = \"…\"`"
            };
            errors.push(err(
                lit,
                format!("{what}, but this field has no `secret`{fix}"),
            ));
        }
    }
}

/// The field's `:key:stage:id`; `None` when a part of it is invalid (every error is recorded).
fn selector(a: &FieldAttrs, errors: &mut Vec<syn::Error>) -> Option<Selector> {
    let one_version = one_version(a, errors);
    let values = [
        valid_value(&a.key, vf::check_json_key, errors),
        valid_value(&a.version_stage, vf::check_version_stage, errors),
        valid_value(&a.version_id, vf::check_version_id, errors),
    ];
    if !one_version || values.contains(&false) {
        return None;
    }
    let esc = |l: &Option<LitStr>| l.as_ref().map(|l| vf::escape(&l.value()));
    Some(Selector {
        key: esc(&a.key),
        stage: esc(&a.version_stage),
        id: esc(&a.version_id),
    })
}

fn one_version(a: &FieldAttrs, errors: &mut Vec<syn::Error>) -> bool {
    let (Some(_), Some(id)) = (&a.version_stage, &a.version_id) else {
        return true;
    };
    errors.push(err(
        id,
        "`version_stage` and `version_id` both select the version; the ECS guide asks for one, and the pair works only while both name the same version — keep one",
    ));
    false
}

/// Whether an optional attribute value passes `check`; records the error if not.
fn valid_value(
    lit: &Option<LitStr>,
    check: fn(&str) -> Result<(), String>,
    errors: &mut Vec<syn::Error>,
) -> bool {
    let Some(lit) = lit else { return true };
    check(&lit.value())
        .map_err(|e| errors.push(err(lit, e)))
        .is_ok()
}

/// The field's source: a Secrets Manager or SSM template, or the environment (also when the
/// source is invalid, so that generation still has something to work with).
fn source(
    ctx: &Context,
    f: &Field,
    selector: Option<Selector>,
    errors: &mut Vec<syn::Error>,
) -> Kind {
    match (&f.attrs.secret, &f.attrs.ssm) {
        (Some(_), Some(ssm)) => {
            errors.push(err(
                ssm,
                "a field has one source: `secret` (Secrets Manager) or `ssm` (Parameter Store), not both",
            ));
            Kind::Env
        }
        (Some(secret), None) => secret_template(ctx, f, secret, selector, errors)
            .map_or(Kind::Env, Kind::SecretsManager),
        (None, Some(ssm)) => ssm_template(ctx, ssm, errors).map_or(Kind::Env, Kind::Ssm),
        (None, None) => Kind::Env,
    }
}

fn env_name(input: &Input, f: &Field, errors: &mut Vec<syn::Error>) -> String {
    if let Some(lit) = &f.attrs.env {
        let name = lit.value();
        if let Err(e) = vf::check_env_name(&name) {
            errors.push(err(lit, e));
        }
        return name;
    }
    let prefix = input
        .attrs
        .env_prefix
        .as_ref()
        .map(LitStr::value)
        .unwrap_or_default();
    let name = format!("{prefix}{}", f.name().to_shouty_snake_case());
    if let Err(e) = vf::check_env_name(&name) {
        errors.push(syn::Error::new(
            f.ident.span(),
            format!("the derived env name `{name}` is not usable: {e}; set `env = \"…\"`"),
        ));
    }
    name
}

fn needs_context<'c>(
    ctx: &'c Context,
    lit: &LitStr,
    what: &str,
    errors: &mut Vec<syn::Error>,
) -> Option<(&'c str, &'c str)> {
    match (&ctx.region, &ctx.account) {
        (Some(r), Some(a)) => Some((r, a)),
        _ => {
            errors.push(err(
                lit,
                format!(
                    "{what} needs the struct-level `region` and `account` to become the ARN ECS \
                     requires; add #[ecs(region = \"…\", account = \"…\")] to the struct, or give the complete ARN"
                ),
            ));
            None
        }
    }
}

fn secret_template(
    ctx: &Context,
    f: &Field,
    lit: &LitStr,
    selector: Option<Selector>,
    errors: &mut Vec<syn::Error>,
) -> Option<String> {
    let w = wildcards(lit, errors)?;
    let a = &f.attrs;
    let has_selector = a.key.is_some() || a.version_stage.is_some() || a.version_id.is_some();
    let base = if w.starts_with("arn:") {
        match parse_with_wildcards(&w) {
            Ok(ValueFrom::SecretsManager(_)) => {
                if has_selector && w.matches(':').count() > 6 {
                    errors.push(err(
                        lit,
                        "this ARN already ends in `:key:stage:id`; give either those fields or `key`/`version_stage`/`version_id`, not both",
                    ));
                    return None;
                }
                lit.value()
            }
            Ok(ValueFrom::Ssm(_)) => {
                errors.push(err(lit, "this is an SSM parameter ARN; use `ssm = \"…\"`"));
                return None;
            }
            Err(e) => {
                errors.push(err(lit, e));
                return None;
            }
        }
    } else {
        if let Err(e) = vf::check_secret_name(&w) {
            errors.push(err(lit, e));
            return None;
        }
        let (region, account) = needs_context(ctx, lit, "a secret name", errors)?;
        secret_arn(&ctx.partition, region, account, &lit.value())
    };
    let Selector { key, stage, id } = selector?;
    let template = with_selector(&base, key.as_deref(), stage.as_deref(), id.as_deref());
    final_check(lit, &template, errors)
}

fn ssm_template(ctx: &Context, lit: &LitStr, errors: &mut Vec<syn::Error>) -> Option<String> {
    let w = wildcards(lit, errors)?;
    let template = if w.starts_with("arn:") {
        match parse_with_wildcards(&w) {
            Ok(ValueFrom::Ssm(_)) => lit.value(),
            Ok(ValueFrom::SecretsManager(_)) => {
                errors.push(err(
                    lit,
                    "this is a Secrets Manager ARN; use `secret = \"…\"`",
                ));
                return None;
            }
            Err(e) => {
                errors.push(err(lit, e));
                return None;
            }
        }
    } else {
        if let Err(e) = vf::check_ssm_name(&w) {
            errors.push(err(lit, e));
            return None;
        }
        let (region, account) = needs_context(ctx, lit, "an SSM parameter name", errors)?;
        ssm_arn(&ctx.partition, region, account, &lit.value())
    };
    final_check(lit, &template, errors)
}

/// The whole `valueFrom` must parse: with wildcards for a template, strictly otherwise.
fn final_check(lit: &LitStr, template: &str, errors: &mut Vec<syn::Error>) -> Option<String> {
    let result = match vf::to_wildcards(template) {
        Ok(w) if placeholders([template]).is_empty() => w.parse::<ValueFrom>().map(drop),
        Ok(w) => parse_with_wildcards(&w).map(drop),
        Err(e) => {
            errors.push(err(lit, e));
            return None;
        }
    };
    match result {
        Ok(()) => Some(template.to_owned()),
        Err(e) => {
            errors.push(err(
                lit,
                format!("the resulting valueFrom `{template}` is invalid: {e}"),
            ));
            None
        }
    }
}
