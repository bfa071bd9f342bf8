//! `#[ecs(...)]` into typed values, with a closed set of keys. Rules that involve more than one
//! key live in `valid.rs`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::{Attribute, LitStr};

const STRUCT_KEYS: &str = "region, account, partition, env_prefix, kms_key, secret";
const FIELD_KEYS: &str =
    "env, secret, key, version_stage, version_id, ssm, default, json, plain, flatten, env_prefix";

/// Struct-level `#[ecs(...)]`.
#[derive(Default)]
pub struct StructAttrs {
    pub region: Option<LitStr>,
    pub account: Option<LitStr>,
    pub partition: Option<LitStr>,
    pub env_prefix: Option<LitStr>,
    pub kms_keys: Vec<LitStr>,
    /// The struct is the schema of this secret: a field without a source is one of its keys.
    pub secret: Option<LitStr>,
}

/// Field-level `#[ecs(...)]`.
#[derive(Default)]
pub struct FieldAttrs {
    pub env: Option<LitStr>,
    pub secret: Option<LitStr>,
    pub key: Option<LitStr>,
    pub version_stage: Option<LitStr>,
    pub version_id: Option<LitStr>,
    pub ssm: Option<LitStr>,
    pub default: Option<LitStr>,
    pub json: Option<Span>,
    /// A plain variable in a struct with a struct-level `secret`.
    pub plain: Option<Span>,
    pub flatten: Option<Span>,
    /// At a `flatten` site: prefixes every env name of the flattened struct.
    pub env_prefix: Option<LitStr>,
}

pub fn struct_attrs(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> StructAttrs {
    let mut out = StructAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("ecs")) {
        let result = attr.parse_nested_meta(|meta| {
            let slot = if meta.path.is_ident("region") {
                &mut out.region
            } else if meta.path.is_ident("account") {
                &mut out.account
            } else if meta.path.is_ident("partition") {
                &mut out.partition
            } else if meta.path.is_ident("env_prefix") {
                &mut out.env_prefix
            } else if meta.path.is_ident("kms_key") {
                out.kms_keys.push(meta.value()?.parse()?);
                return Ok(());
            } else if meta.path.is_ident("secret") {
                &mut out.secret
            } else {
                return unknown(&meta, STRUCT_KEYS, "struct", errors);
            };
            set_once(slot, &meta, errors)
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

pub fn field_attrs(attrs: &[Attribute], errors: &mut Vec<syn::Error>) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("ecs")) {
        let result = attr.parse_nested_meta(|meta| {
            let slot = if meta.path.is_ident("env") {
                &mut out.env
            } else if meta.path.is_ident("secret") {
                &mut out.secret
            } else if meta.path.is_ident("key") {
                &mut out.key
            } else if meta.path.is_ident("version_stage") {
                &mut out.version_stage
            } else if meta.path.is_ident("version_id") {
                &mut out.version_id
            } else if meta.path.is_ident("ssm") {
                &mut out.ssm
            } else if meta.path.is_ident("default") {
                &mut out.default
            } else if meta.path.is_ident("json") {
                return flag(&mut out.json, &meta, errors);
            } else if meta.path.is_ident("plain") {
                return flag(&mut out.plain, &meta, errors);
            } else if meta.path.is_ident("flatten") {
                return flag(&mut out.flatten, &meta, errors);
            } else if meta.path.is_ident("env_prefix") {
                &mut out.env_prefix
            } else {
                return unknown(&meta, FIELD_KEYS, "field", errors);
            };
            set_once(slot, &meta, errors)
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    out
}

fn key_name(meta: &ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map_or_else(|| "?".to_owned(), ToString::to_string)
}

fn set_once(
    slot: &mut Option<LitStr>,
    meta: &ParseNestedMeta,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<()> {
    let value: LitStr = meta.value()?.parse()?;
    if slot.is_some() {
        errors.push(syn::Error::new_spanned(
            &meta.path,
            format!("`{}` is given twice; keep one", key_name(meta)),
        ));
    } else {
        *slot = Some(value);
    }
    Ok(())
}

fn flag(
    slot: &mut Option<Span>,
    meta: &ParseNestedMeta,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<()> {
    if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
        return Err(meta.error(format!(
            "`{}` takes no value: write `#[ecs({})]`",
            key_name(meta),
            key_name(meta)
        )));
    }
    let span = meta
        .path
        .get_ident()
        .map_or_else(Span::call_site, syn::Ident::span);
    if slot.is_some() {
        errors.push(syn::Error::new(
            span,
            format!("`{}` is given twice; keep one", key_name(meta)),
        ));
    }
    *slot = Some(span);
    Ok(())
}

fn unknown(
    meta: &ParseNestedMeta,
    expected: &str,
    level: &str,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<()> {
    let name = key_name(meta);
    let hint = if level == "struct" && FIELD_KEYS.split(", ").any(|k| k == name) {
        format!("; `{name}` belongs on a field")
    } else if level == "field" && STRUCT_KEYS.split(", ").any(|k| k == name) {
        format!("; `{name}` belongs on the struct")
    } else if let Some(key) = crate::suggest::closest(&name, expected.split(", ")) {
        format!("; did you mean `{key}`?")
    } else {
        String::new()
    };
    errors.push(syn::Error::new_spanned(
        &meta.path,
        format!("unknown {level} attribute `{name}`; expected one of: {expected}{hint}"),
    ));
    // Skip the value so the remaining keys are still read.
    if meta.input.peek(syn::Token![=]) {
        let value = meta.value()?;
        while !value.is_empty() && !value.peek(syn::Token![,]) {
            value.parse::<proc_macro2::TokenTree>()?;
        }
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}
