//! Code generation only: the model checked by `valid.rs` becomes an `EcsSecrets` impl.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Type};

use crate::ast::{self, Field};
use crate::valid::{self, Checked, Kind, Model};

pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Vec::new();
    let tokens = ast::parse(input, &mut errors).map(|parsed| {
        let model = valid::check(&parsed, &mut errors);
        generate(&model)
    });
    match (
        errors.into_iter().reduce(|mut a, b| {
            a.combine(b);
            a
        }),
        tokens,
    ) {
        (None, Some(tokens)) => tokens,
        (Some(e), _) => {
            let stub = fallback(input);
            let errors = e.to_compile_error();
            quote!(#errors #stub)
        }
        (None, None) => fallback(input),
    }
}

/// On error, a stub impl keeps call sites (`Config::from_env()`) from cascading into a second
/// wave of errors.
fn fallback(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[allow(unused_qualifications)]
        impl #impl_generics ::ecs_secrets::EcsSecrets for #ident #ty_generics #where_clause {
            const FIELDS: &'static [::ecs_secrets::Field] = &[];
            type __Placeholders = ::ecs_secrets::__private::No;
            fn __load(
                _: &dyn ::ecs_secrets::__private::Lookup,
                _: &mut ::ecs_secrets::__private::Errors,
            ) -> ::core::option::Option<Self> {
                ::core::option::Option::None
            }
        }
    }
}

fn generate(model: &Model) -> TokenStream {
    let ident = model.input.ident;
    let struct_name = ident.to_string();
    let consts =
        (model.fields.iter().enumerate()).filter_map(|(i, c)| field_const(&struct_name, i, c));
    let dup_checks = flatten_checks(model);
    let fields = fields_slice(model);
    let kms_keys = kms_keys(model);
    let placeholders = placeholder_flag(model);
    let markers = placeholder_markers(model);
    let load = load_body(model);
    quote! {
        #markers

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #(#consts)*
            #(#dup_checks)*

            #[automatically_derived]
            impl ::ecs_secrets::EcsSecrets for #ident {
                const FIELDS: &'static [::ecs_secrets::Field] = #fields;
                const KMS_KEYS: &'static [&'static str] = #kms_keys;
                type __Placeholders = #placeholders;

                fn __load(
                    __lookup: &dyn ::ecs_secrets::__private::Lookup,
                    __errors: &mut ::ecs_secrets::__private::Errors,
                ) -> ::core::option::Option<Self> {
                    #load
                }
            }
        };
    }
}

/// The name of the `const` that holds the `i`-th field's model (fields count from 0, flattened
/// ones included, which have no const).
fn const_name(i: usize) -> Ident {
    format_ident!("__FIELD_{}", i)
}

/// The local that holds the `i`-th field's loaded value.
fn binding(i: usize) -> Ident {
    format_ident!("__v{}", i)
}

/// `const __FIELD_i: Field = field(…)` for a field of this struct; `None` for a flattened one.
fn field_const(struct_name: &str, i: usize, c: &Checked) -> Option<TokenStream> {
    let source = match &c.kind {
        Kind::SecretsManager(t) => quote!(::ecs_secrets::Source::SecretsManager(
            ::ecs_secrets::Template::__new(#t)
        )),
        Kind::Ssm(t) => {
            quote!(::ecs_secrets::Source::Ssm(::ecs_secrets::Template::__new(#t)))
        }
        Kind::Env => quote!(::ecs_secrets::Source::Env),
        Kind::Flatten => return None,
    };
    let f = c.field;
    let (konst, name, env) = (const_name(i), f.name(), &c.env);
    let optional = f.option_inner.is_some();
    let default = match &f.attrs.default {
        Some(d) => quote!(::core::option::Option::Some(#d)),
        None => quote!(::core::option::Option::None),
    };
    let (json, redacted) = (f.attrs.json.is_some(), f.redacted);
    Some(quote! {
        const #konst: ::ecs_secrets::Field = ::ecs_secrets::__private::field(
            #name, #struct_name, #env, #source, #optional, #default, #json, #redacted,
        );
    })
}

/// `FIELDS`: this struct's consts, with each flattened struct's `FIELDS` in place (spanned at
/// its type, so a type that does not derive `EcsSecrets` is the error's place).
fn fields_slice(model: &Model) -> TokenStream {
    if model.flattened().next().is_none() {
        let own = (0..model.fields.len()).map(const_name);
        return quote!(&[#(#own),*]);
    }
    let (mut parts, mut count) = (Vec::new(), Vec::new());
    for (i, c) in model.fields.iter().enumerate() {
        if let Kind::Flatten = c.kind {
            let ty = c.field.ty;
            let span = ty.span();
            parts.push(quote_spanned!(span=> <#ty as ::ecs_secrets::EcsSecrets>::FIELDS));
            count.push(quote_spanned!(span=> <#ty as ::ecs_secrets::EcsSecrets>::FIELDS.len()));
        } else {
            let konst = const_name(i);
            parts.push(quote!(&[#konst]));
            count.push(quote!(1));
        }
    }
    quote! {
        &::ecs_secrets::__private::concat::<::ecs_secrets::Field, { 0 #(+ #count)* }>(
            &[#(#parts),*],
            ::ecs_secrets::__private::FILL,
        )
    }
}

/// `KMS_KEYS`: this struct's `kms_key`s, then each flattened struct's.
fn kms_keys(model: &Model) -> TokenStream {
    let own = &model.input.attrs.kms_keys;
    let inner: Vec<&Type> = model.flattened().map(|f| f.ty).collect();
    if inner.is_empty() {
        return quote!(&[#(#own),*]);
    }
    let own_count = own.len();
    quote! {
        &::ecs_secrets::__private::concat::<&'static str, {
            #own_count #(+ <#inner as ::ecs_secrets::EcsSecrets>::KMS_KEYS.len())*
        }>(
            &[&[#(#own),*], #(<#inner as ::ecs_secrets::EcsSecrets>::KMS_KEYS),*],
            "",
        )
    }
}

/// `__Placeholders`: `No` when neither this struct nor a struct it flattens declares
/// placeholders; otherwise a type that lists their names, for the compile error of
/// `deployment()` on such a struct (see `placeholder_markers`).
fn placeholder_flag(model: &Model) -> TokenStream {
    let ident = model.input.ident;
    let own = if model.placeholders.is_empty() {
        quote!(::ecs_secrets::__private::No)
    } else {
        quote!(<#ident as ::ecs_secrets::__private::PlaceholderList>::List)
    };
    let flattened: Vec<&Field> = model.flattened().collect();
    flattened.iter().rev().fold(own, |acc, f| {
        let ty = f.ty;
        quote!(<(<#ty as ::ecs_secrets::EcsSecrets>::__Placeholders, #acc) as ::ecs_secrets::__private::Or>::Out)
    })
}

/// One uninhabited type per placeholder, named like it, and the list of them: rustc prints the
/// list in the error of `deployment()` on a struct with placeholders (`(region, account,
/// stage)`), so the error names the struct's own placeholders. They live in a block of their own,
/// where only the struct's name is used, so that a placeholder named like a field's type cannot
/// shadow it.
fn placeholder_markers(model: &Model) -> TokenStream {
    if model.placeholders.is_empty() {
        return TokenStream::new();
    }
    let ident = model.input.ident;
    let markers: Vec<Ident> = (model.placeholders.iter())
        .map(|name| marker(name, ident))
        .collect();
    let list = marker_list(&markers);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #(
                pub enum #markers {}
                impl ::ecs_secrets::__private::Named for #markers {}
            )*
            impl ::ecs_secrets::__private::PlaceholderList for #ident {
                type List = #list;
            }
        };
    }
}

/// The marker type of placeholder `name`: the name itself (raw for a keyword), or with a `_`
/// appended where it cannot be a type's name (`self`, `_`…) or is the struct's own name.
fn marker(name: &str, ident: &Ident) -> Ident {
    let reserved = matches!(name, "self" | "Self" | "super" | "crate" | "_") || ident == name;
    if reserved {
        return format_ident!("{name}_");
    }
    syn::parse_str::<Ident>(name).unwrap_or_else(|_| Ident::new_raw(name, Span::call_site()))
}

/// One marker as itself, several as a tuple; more than twelve as nested tuples (the runtime
/// marks tuples of up to twelve).
fn marker_list(markers: &[Ident]) -> TokenStream {
    match markers {
        [one] => quote!(#one),
        few if few.len() <= 12 => quote!((#(#few,)*)),
        many => {
            let chunks = many.chunks(12).map(marker_list);
            quote!((#(#chunks,)*))
        }
    }
}

/// The body of `__load`: load every field (recording every problem), then build the struct if
/// all of them loaded.
fn load_body(model: &Model) -> TokenStream {
    let ident = model.input.ident;
    let loads = model.fields.iter().enumerate().map(load_field);
    let bindings: Vec<Ident> = (0..model.fields.len()).map(binding).collect();
    let members = model.fields.iter().map(|c| c.field.ident);
    quote! {
        #(#loads)*
        match (#(#bindings,)*) {
            (#(::core::option::Option::Some(#bindings),)*) => {
                ::core::option::Option::Some(#ident { #(#members: #bindings),* })
            }
            _ => ::core::option::Option::None,
        }
    }
}

/// `let __v{i} = …;`: a flattened struct loads itself; an own field is `required` or `optional`
/// and parsed with `FromStr` or serde, spanned at its type for the trait-bound errors.
fn load_field((i, c): (usize, &Checked)) -> TokenStream {
    let (var, f) = (binding(i), c.field);
    if let Kind::Flatten = c.kind {
        let ty = f.ty;
        return quote_spanned! {ty.span()=>
            let #var = <#ty as ::ecs_secrets::EcsSecrets>::__load(__lookup, __errors);
        };
    }
    let konst = const_name(i);
    let value_ty = f.value_ty();
    let span = value_ty.span();
    let parse = if f.attrs.json.is_some() {
        quote_spanned!(span=> ::ecs_secrets::__private::parse_json::<#value_ty>)
    } else {
        quote_spanned!(span=> ::ecs_secrets::__private::parse_str::<#value_ty>)
    };
    let func = if f.option_inner.is_some() {
        quote!(optional)
    } else {
        quote!(required)
    };
    quote! {
        let #var = ::ecs_secrets::__private::#func(__lookup, &#konst, __errors, #parse);
    }
}

/// Env names shared with a flattened struct can only be seen once both structs' fields are
/// known, so they are `const` assertions: evaluated by `cargo check`, spanned at the field.
fn flatten_checks(model: &Model) -> Vec<TokenStream> {
    let flattened: Vec<&Field> = model.flattened().collect();
    let own = model
        .fields
        .iter()
        .filter(|c| !matches!(c.kind, Kind::Flatten));
    let mut out: Vec<TokenStream> = own
        .flat_map(|c| flattened.iter().map(move |inner| own_env_unique(c, inner)))
        .collect();
    for (i, a) in flattened.iter().enumerate() {
        out.extend(flattened[i + 1..].iter().map(|b| flattened_disjoint(a, b)));
    }
    out
}

/// This struct's field `c` uses an env name that the flattened field `inner` does not.
fn own_env_unique(c: &Checked, inner: &Field) -> TokenStream {
    let (env, ty) = (&c.env, inner.ty);
    let msg = format!(
        "env name `{env}` of field `{}` is also used inside flattened field `{}`; ECS rejects duplicate names",
        c.field.name(),
        inner.name()
    );
    quote_spanned! {c.field.env_span()=>
        const _: () = ::core::assert!(
            !::ecs_secrets::__private::has_env(<#ty as ::ecs_secrets::EcsSecrets>::FIELDS, #env),
            #msg
        );
    }
}

/// The flattened fields `a` and `b` (declared in that order) share no env name.
fn flattened_disjoint(a: &Field, b: &Field) -> TokenStream {
    let (ta, tb) = (a.ty, b.ty);
    let msg = format!(
        "flattened fields `{}` and `{}` use the same env name; ECS rejects duplicate names",
        a.name(),
        b.name()
    );
    quote_spanned! {b.ident.span()=>
        const _: () = ::core::assert!(
            !::ecs_secrets::__private::share_env(
                <#ta as ::ecs_secrets::EcsSecrets>::FIELDS,
                <#tb as ::ecs_secrets::EcsSecrets>::FIELDS,
            ),
            #msg
        );
    }
}
