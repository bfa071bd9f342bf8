//! A model of the input struct that borrows from the syn tree, so every error can point at the
//! user's own tokens.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, PathArguments, Type};

use crate::attr::{self, FieldAttrs, StructAttrs};

pub struct Input<'a> {
    pub ident: &'a Ident,
    pub attrs: StructAttrs,
    pub fields: Vec<Field<'a>>,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// `T` of an `Option<T>` field.
    pub option_inner: Option<&'a Type>,
    /// The type is `Secret<…>` or `Option<Secret<…>>`.
    pub redacted: bool,
}

impl<'a> Field<'a> {
    /// The type that is parsed: `T` for `Option<T>`, else the field's type.
    pub fn value_ty(&self) -> &'a Type {
        self.option_inner.unwrap_or(self.ty)
    }

    /// Where an env-name problem points: the `env = "…"` literal, else the field's name.
    pub fn env_span(&self) -> Span {
        self.attrs
            .env
            .as_ref()
            .map_or(self.ident.span(), LitStr::span)
    }

    /// The field name as the user reads it (without `r#`).
    pub fn name(&self) -> String {
        let name = self.ident.to_string();
        name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
    }
}

/// Reads the struct. `None` when its shape cannot be derived at all (the error is recorded).
pub fn parse<'a>(input: &'a DeriveInput, errors: &mut Vec<syn::Error>) -> Option<Input<'a>> {
    let data = match &input.data {
        Data::Struct(data) => data,
        Data::Enum(e) => {
            errors.push(syn::Error::new(
                e.enum_token.span,
                "#[derive(EcsSecrets)] needs a struct with named fields, not an enum",
            ));
            return None;
        }
        Data::Union(u) => {
            errors.push(syn::Error::new(
                u.union_token.span,
                "#[derive(EcsSecrets)] needs a struct with named fields, not a union",
            ));
            return None;
        }
    };
    let named = match &data.fields {
        Fields::Named(named) => named,
        Fields::Unnamed(fields) => {
            errors.push(syn::Error::new(
                fields.paren_token.span.join(),
                "#[derive(EcsSecrets)] needs named fields: each field names an environment variable",
            ));
            return None;
        }
        Fields::Unit => {
            errors.push(syn::Error::new_spanned(
                &input.ident,
                "#[derive(EcsSecrets)] needs a struct with named fields, not a unit struct",
            ));
            return None;
        }
    };
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "#[derive(EcsSecrets)] does not support generic structs: the fields' sources and \
             types must be known when the task definition is generated",
        ));
    }
    let attrs = attr::struct_attrs(&input.attrs, errors);
    let fields = named
        .named
        .iter()
        .map(|f| {
            let option_inner = option_inner(&f.ty);
            Field {
                ident: f.ident.as_ref().expect("named fields have names"),
                ty: &f.ty,
                attrs: attr::field_attrs(&f.attrs, errors),
                option_inner,
                redacted: is_secret(option_inner.unwrap_or(&f.ty)),
            }
        })
        .collect();
    Some(Input {
        ident: &input.ident,
        attrs,
        fields,
    })
}

/// `T` when the type is `Option<T>`, `std::option::Option<T>` or `core::option::Option<T>`,
/// read from the path's segments rather than from its printed tokens.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segments: Vec<_> = path.path.segments.iter().collect();
    let last = segments.last()?;
    let prefix_ok = match segments.len() {
        1 => path.path.leading_colon.is_none(),
        3 => {
            (segments[0].ident == "std" || segments[0].ident == "core")
                && segments[1].ident == "option"
                && segments[..2].iter().all(|s| s.arguments.is_empty())
        }
        _ => false,
    };
    if !prefix_ok || last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// Whether the type is named `Secret<…>` (informational: it marks the field as redacted in the
/// model; the redaction itself is the type's own `Debug`).
fn is_secret(ty: &Type) -> bool {
    match ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Secret" && !s.arguments.is_empty()),
        _ => false,
    }
}
