//! Where a value comes from: a field's `secret` or `ssm` becomes its `valueFrom` template, and a
//! struct-level or `flatten`-site `secret` is checked as the base of its keys' references.

use syn::LitStr;

use super::{Context, Kind, Selector, err};
use crate::ast::Field;
use ecs_secrets_grammar::__derive::{self as vf, parse_with_wildcards};
use ecs_secrets_grammar::{ValueFrom, placeholders, secret_arn, ssm_arn, with_selector};

/// Checks a template's syntax and returns its text with placeholders as wildcards.
pub fn wildcards(lit: &LitStr, errors: &mut Vec<syn::Error>) -> Option<String> {
    match vf::to_wildcards(&lit.value()) {
        Ok(w) => Some(w),
        Err(e) => {
            errors.push(err(lit, e));
            None
        }
    }
}

/// The field's source: a Secrets Manager or SSM template, a key of the struct-level `secret`,
/// or the environment (also when the source is invalid, so that generation still has something
/// to work with).
pub fn source(
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
        (None, None) if ctx.schema && f.attrs.plain.is_none() => {
            let Some(Selector { key, stage, id }) = selector else {
                return Kind::Env;
            };
            let key = key.unwrap_or_else(|| vf::escape(&f.name()));
            Kind::Key(with_selector(
                "",
                Some(&key),
                stage.as_deref(),
                id.as_deref(),
            ))
        }
        (None, None) => Kind::Env,
    }
}

/// A struct-level or `flatten`-site `secret`: a secret name, or the ARN of a whole secret (each
/// field names its key). Its keys' references are made where the struct's context is known
/// (the runtime's `splice`), from this checked text and checked parts, so they need no check of
/// their own here.
pub fn base_secret(lit: &LitStr, errors: &mut Vec<syn::Error>) {
    let Some(w) = wildcards(lit, errors) else {
        return;
    };
    if !w.starts_with("arn:") {
        if let Err(e) = vf::check_secret_name(&w) {
            errors.push(err(lit, e));
        }
        return;
    }
    match parse_with_wildcards(&w) {
        Ok(ValueFrom::SecretsManager(_)) if w.matches(':').count() > 6 => errors.push(err(
            lit,
            "this ARN ends in `:key:stage:id`, but this `secret` is the whole secret whose keys \
             the fields are: give the ARN without them (a field's own `key`, `version_stage` or \
             `version_id` selects)",
        )),
        Ok(ValueFrom::SecretsManager(_)) => {}
        Ok(ValueFrom::Ssm(_)) => errors.push(err(
            lit,
            "this is an SSM parameter ARN; a struct-level `secret` is a Secrets Manager secret \
             whose keys are the fields",
        )),
        Err(e) => errors.push(err(lit, e)),
    }
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
