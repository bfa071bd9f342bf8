//! The rules that involve more than one attribute or field: which keys go together, how a name
//! becomes an ARN, which fields are keys of a struct-level `secret`, env names and their
//! uniqueness, templates. Single values are checked by the grammar shared with the runtime (the
//! `ecs-secrets-grammar` crate), so a reference that compiles is one the runtime parser accepts.
//!
//! What a `flatten` site does to the struct it flattens cannot be seen here (the other struct's
//! fields are not visible to this derive): duplicate env names through `flatten`, and a site's
//! `secret` for a struct without a struct-level one, are `const` assertions that `expand.rs`
//! emits.

mod source;

use heck::ToShoutySnakeCase;
use proc_macro2::Span;
use syn::LitStr;

use crate::ast::{Field, Input};
use crate::attr::FieldAttrs;
use ecs_secrets_grammar::__derive as vf;
use ecs_secrets_grammar::check_kms_key;
use source::{base_secret, wildcards};

pub enum Kind {
    Env,
    /// The complete `valueFrom` template.
    SecretsManager(String),
    Ssm(String),
    /// A key of the struct-level `secret`: its `:key:stage:id`, escaped. The reference is made
    /// when the fields are spliced, where the context is known (the runtime's `splice`).
    Key(String),
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
pub struct Selector {
    key: Option<String>,
    stage: Option<String>,
    id: Option<String>,
}

fn err(lit: &LitStr, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(lit.span(), msg)
}

pub struct Context {
    partition: String,
    region: Option<String>,
    account: Option<String>,
    /// The struct has a struct-level `secret`.
    schema: bool,
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
        env_prefix(prefix, errors);
    }
    if let Some(secret) = &a.secret {
        base_secret(secret, errors);
    }
    // The grammar's one rule for a key, which the runtime applies to the resolved key too.
    for key in &a.kms_keys {
        if let Err(e) = check_kms_key(&key.value()) {
            errors.push(err(key, e));
        }
    }
    Context {
        partition: partition.unwrap_or_else(|| "aws".to_owned()),
        region,
        account,
        schema: a.secret.is_some(),
    }
}

fn env_prefix(prefix: &LitStr, errors: &mut Vec<syn::Error>) {
    let p = prefix.value();
    if !p.is_empty() && !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        errors.push(err(
            prefix,
            "an env_prefix may contain only ASCII letters, digits and `_`",
        ));
    }
}

pub fn check<'a>(input: &'a Input<'a>, errors: &mut Vec<syn::Error>) -> Model<'a> {
    let ctx = context(input, errors);
    let fields: Vec<Checked> = (input.fields.iter())
        .map(|field| check_field(input, &ctx, field, errors))
        .collect();
    duplicate_env_names(&fields, errors);
    if let Some(secret) = &input.attrs.secret {
        // Whether a field is meant as a key, also when its `key` is invalid (reported already).
        let is_key = |f: &Field| {
            let a = &f.attrs;
            a.secret.is_none() && a.ssm.is_none() && a.plain.is_none() && a.flatten.is_none()
        };
        if !input.fields.iter().any(is_key) {
            errors.push(err(
                secret,
                "no field of this struct is a key of this `secret`: every field has a source of \
                 its own, is `plain` or is `flatten`; remove the struct-level `secret`",
            ));
        }
    }
    Model { input, fields }
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

fn check_field<'a>(
    input: &Input,
    ctx: &Context,
    field: &'a Field<'a>,
    errors: &mut Vec<syn::Error>,
) -> Checked<'a> {
    if let Some(span) = field.attrs.flatten {
        flatten_site(&field.attrs, span, errors);
        let (env, kind) = (String::new(), Kind::Flatten);
        return Checked { field, env, kind };
    }
    if let Some(lit) = &field.attrs.env_prefix {
        errors.push(err(
            lit,
            "a field's `env_prefix` prefixes the names of the struct it flattens: it needs \
                 `flatten`; for this struct's own names, put `env_prefix` on the struct",
        ));
    }
    default_not_on_option(field, errors);
    let env = env_name(input, field, errors);
    plain(ctx, &field.attrs, errors);
    selector_needs_secret(ctx, &field.attrs, errors);
    let selector = selector(&field.attrs, errors);
    let kind = source::source(ctx, field, selector, errors);
    Checked { field, env, kind }
}

/// A `flatten` field takes everything from its own struct but a prefix for its env names and a
/// `secret` in place of its struct-level one: no other key goes with it.
fn flatten_site(a: &FieldAttrs, span: Span, errors: &mut Vec<syn::Error>) {
    let keys = [
        &a.env,
        &a.ssm,
        &a.key,
        &a.version_stage,
        &a.version_id,
        &a.default,
    ];
    for lit in keys.into_iter().flatten() {
        errors.push(err(
            lit,
            "a `flatten` field takes its sources and env names from its own struct (this site may \
                 add `env_prefix` and replace its struct-level `secret`); remove this key",
        ));
    }
    if let Some(span) = a.plain {
        errors.push(syn::Error::new(
            span,
            "`plain` and `flatten` cannot be combined: the flattened struct says which of its \
                 fields are plain",
        ));
    }
    if a.json.is_some() {
        errors.push(syn::Error::new(
            span,
            "`json` and `flatten` cannot be combined: `flatten` reads one variable per field of the inner struct, `json` reads one variable for the whole field",
        ));
    }
    if let Some(prefix) = &a.env_prefix {
        let p = prefix.value();
        if p.starts_with(|c: char| c.is_ascii_digit()) {
            errors.push(err(
                prefix,
                "this env_prefix starts every env name of the flattened struct, and a name \
                 cannot start with a digit",
            ));
        } else {
            env_prefix(prefix, errors);
        }
    }
    if let Some(secret) = &a.secret {
        base_secret(secret, errors);
    }
}

/// `plain` keeps a field of a struct with a struct-level `secret` a plain variable: it has no
/// source, and a struct without that `secret` has no use for it.
fn plain(ctx: &Context, a: &FieldAttrs, errors: &mut Vec<syn::Error>) {
    let Some(span) = a.plain else { return };
    if !ctx.schema {
        errors.push(syn::Error::new(
            span,
            "`plain` keeps a field out of the struct-level `secret`, but this struct has none \
             (a field without a source is a plain variable already); remove `plain`",
        ));
    }
    let keys = [&a.secret, &a.ssm, &a.key, &a.version_stage, &a.version_id];
    for lit in keys.into_iter().flatten() {
        errors.push(err(
            lit,
            "a `plain` field is a plain environment variable, without a source; remove this key \
             or `plain`",
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

/// `key`, `version_stage` and `version_id` only make sense for Secrets Manager: the field's
/// own `secret`, or the struct-level one when the field has no source of its own.
fn selector_needs_secret(ctx: &Context, a: &FieldAttrs, errors: &mut Vec<syn::Error>) {
    if a.plain.is_some() || (ctx.schema && a.ssm.is_none()) {
        return;
    }
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
                "; add `secret = \"…\"` to the field, or a struct-level `secret` whose key it is"
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
