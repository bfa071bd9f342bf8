//! Code generation only: the model checked by `valid.rs` becomes an `EcsSecrets` impl.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitStr};

use crate::ast::{self, Field};
use crate::valid::{self, Kind, Model};

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
    let input = model.input;
    let ident = input.ident;
    let struct_name = ident.to_string();

    let mut consts = Vec::new();
    let mut parts = Vec::new(); // pieces of FIELDS: own field consts and flattened slices
    let mut count = Vec::new(); // terms of the field count
    let mut flattened = Vec::new(); // (field, type)
    let mut loads = Vec::new();
    let mut bindings = Vec::new();
    let mut inits = Vec::new();

    for (i, (field, checked)) in input.fields.iter().zip(&model.fields).enumerate() {
        let var = format_ident!("__v{}", i);
        let member = field.ident;
        bindings.push(var.clone());
        inits.push(quote!(#member: #var));
        let ty = field.ty;

        if let Kind::Flatten = checked.kind {
            let span = ty.span();
            parts.push(quote_spanned!(span=> <#ty as ::ecs_secrets::EcsSecrets>::FIELDS));
            count.push(quote_spanned!(span=> <#ty as ::ecs_secrets::EcsSecrets>::FIELDS.len()));
            loads.push(quote_spanned! {span=>
                let #var = <#ty as ::ecs_secrets::EcsSecrets>::__load(__lookup, __errors);
            });
            flattened.push(field);
            continue;
        }

        let konst = format_ident!("__FIELD_{}", i);
        let name = field.name();
        let env = &checked.env;
        let source = match &checked.kind {
            Kind::SecretsManager(t) => quote!(::ecs_secrets::Source::SecretsManager(
                ::ecs_secrets::Template::__new(#t)
            )),
            Kind::Ssm(t) => {
                quote!(::ecs_secrets::Source::Ssm(::ecs_secrets::Template::__new(#t)))
            }
            Kind::Env | Kind::Flatten => quote!(::ecs_secrets::Source::Env),
        };
        let optional = field.option_inner.is_some();
        let default = match &field.attrs.default {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        let json = field.attrs.json.is_some();
        let redacted = field.redacted;
        consts.push(quote! {
            const #konst: ::ecs_secrets::Field = ::ecs_secrets::__private::field(
                #name, #struct_name, #env, #source, #optional, #default, #json, #redacted,
            );
        });
        parts.push(quote!(&[#konst]));
        count.push(quote!(1));

        let value_ty = field.value_ty();
        let span = value_ty.span();
        let parse = if json {
            quote_spanned!(span=> ::ecs_secrets::__private::parse_json::<#value_ty>)
        } else {
            quote_spanned!(span=> ::ecs_secrets::__private::parse_str::<#value_ty>)
        };
        let func = if optional {
            quote!(optional)
        } else {
            quote!(required)
        };
        loads.push(quote! {
            let #var = ::ecs_secrets::__private::#func(__lookup, &#konst, __errors, #parse);
        });
    }

    let fields_const = if flattened.is_empty() {
        let own = input
            .fields
            .iter()
            .enumerate()
            .map(|(i, _)| format_ident!("__FIELD_{}", i));
        quote!(&[#(#own),*])
    } else {
        quote! {
            &::ecs_secrets::__private::concat::<::ecs_secrets::Field, { 0 #(+ #count)* }>(
                &[#(#parts),*],
                ::ecs_secrets::__private::FILL,
            )
        }
    };

    let own_flag = if model.has_placeholders {
        quote!(::ecs_secrets::__private::Yes)
    } else {
        quote!(::ecs_secrets::__private::No)
    };
    let placeholders = flattened.iter().rev().fold(own_flag, |acc, f| {
        let ty = f.ty;
        quote!(<(<#ty as ::ecs_secrets::EcsSecrets>::__Placeholders, #acc) as ::ecs_secrets::__private::Or>::Out)
    });

    let dup_checks = flatten_checks(model, &flattened);

    let own_kms = &input.attrs.kms_keys;
    let kms_const = if flattened.is_empty() {
        quote!(&[#(#own_kms),*])
    } else {
        let inner: Vec<_> = flattened.iter().map(|f| f.ty).collect();
        let own_count = own_kms.len();
        quote! {
            &::ecs_secrets::__private::concat::<&'static str, {
                #own_count #(+ <#inner as ::ecs_secrets::EcsSecrets>::KMS_KEYS.len())*
            }>(
                &[&[#(#own_kms),*], #(<#inner as ::ecs_secrets::EcsSecrets>::KMS_KEYS),*],
                "",
            )
        }
    };

    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #(#consts)*
            #(#dup_checks)*

            #[automatically_derived]
            impl ::ecs_secrets::EcsSecrets for #ident {
                const FIELDS: &'static [::ecs_secrets::Field] = #fields_const;
                const KMS_KEYS: &'static [&'static str] = #kms_const;
                type __Placeholders = #placeholders;

                fn __load(
                    __lookup: &dyn ::ecs_secrets::__private::Lookup,
                    __errors: &mut ::ecs_secrets::__private::Errors,
                ) -> ::core::option::Option<Self> {
                    #(#loads)*
                    match (#(#bindings,)*) {
                        (#(::core::option::Option::Some(#bindings),)*) => {
                            ::core::option::Option::Some(#ident { #(#inits),* })
                        }
                        _ => ::core::option::Option::None,
                    }
                }
            }
        };
    }
}

/// Env names shared with a flattened struct can only be seen once both structs' fields are
/// known, so they are `const` assertions: evaluated by `cargo check`, spanned at the field.
fn flatten_checks(model: &Model, flattened: &[&Field]) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let fields = model.input.fields.iter().zip(&model.fields);
    for (field, checked) in fields {
        if let Kind::Flatten = checked.kind {
            continue;
        }
        let span = field
            .attrs
            .env
            .as_ref()
            .map_or(field.ident.span(), LitStr::span);
        for inner in flattened {
            let ty = inner.ty;
            let msg = format!(
                "env name `{}` of field `{}` is also used inside flattened field `{}`; ECS rejects duplicate names",
                checked.env,
                field.name(),
                inner.name()
            );
            let env = &checked.env;
            out.push(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    !::ecs_secrets::__private::has_env(<#ty as ::ecs_secrets::EcsSecrets>::FIELDS, #env),
                    #msg
                );
            });
        }
    }
    for (i, a) in flattened.iter().enumerate() {
        for b in &flattened[i + 1..] {
            let (ta, tb) = (a.ty, b.ty);
            let msg = format!(
                "flattened fields `{}` and `{}` use the same env name; ECS rejects duplicate names",
                a.name(),
                b.name()
            );
            let span: Span = b.ident.span();
            out.push(quote_spanned! {span=>
                const _: () = ::core::assert!(
                    !::ecs_secrets::__private::share_env(
                        <#ta as ::ecs_secrets::EcsSecrets>::FIELDS,
                        <#tb as ::ecs_secrets::EcsSecrets>::FIELDS,
                    ),
                    #msg
                );
            });
        }
    }
    out
}
