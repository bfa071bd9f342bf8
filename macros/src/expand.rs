//! Code generation only: the model checked by `valid.rs` becomes an `EcsSecrets` impl.

mod parts;

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, LitStr, Type};

use crate::ast::{self, Field};
use crate::valid::{self, Checked, Kind, Model};
use parts::Part;

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
                _: &'static [::ecs_secrets::Field],
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
    let consts = (model.fields.iter().enumerate())
        .filter_map(|(i, c)| field_const(model, &struct_name, i, c));
    let parts = parts::parts(model);
    let part_consts = parts.iter().map(Part::consts);
    let checks = flatten_checks(model, &parts);
    let fields = parts::fields_slice(&parts);
    let kms_keys = kms_keys(model);
    let load = load_body(model, &parts);
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #(#consts)*
            #(#part_consts)*
            const __FIELDS: &[::ecs_secrets::Field] = #fields;
            const __KMS_KEYS: &[&::core::primitive::str] = #kms_keys;
            #(#checks)*

            #[automatically_derived]
            impl ::ecs_secrets::EcsSecrets for #ident {
                const FIELDS: &'static [::ecs_secrets::Field] = __FIELDS;
                const KMS_KEYS: &'static [&'static ::core::primitive::str] = __KMS_KEYS;
                type __Placeholders = <::ecs_secrets::__private::Flag<{
                    ::ecs_secrets::__private::has_placeholders(__FIELDS, __KMS_KEYS)
                }> as ::ecs_secrets::__private::Choose>::Out;

                fn __load(
                    __fields: &'static [::ecs_secrets::Field],
                    __lookup: &dyn ::ecs_secrets::__private::Lookup,
                    __errors: &mut ::ecs_secrets::__private::Errors,
                ) -> ::core::option::Option<Self> {
                    #load
                }
            }
        };
    }
}

/// The name of the `const` that holds the `i`-th field's model as declared (fields count from
/// 0, flattened ones included, which have no const).
fn const_name(i: usize) -> Ident {
    format_ident!("__FIELD_{}", i)
}

/// The local that holds the `i`-th field's loaded value.
fn binding(i: usize) -> Ident {
    format_ident!("__v{}", i)
}

fn some_or_none(lit: Option<&LitStr>) -> TokenStream {
    match lit {
        Some(lit) => quote!(::core::option::Option::Some(#lit)),
        None => quote!(::core::option::Option::None),
    }
}

/// `const __FIELD_i: Field = …` for a field of this struct; `None` for a flattened one. A key of
/// the struct-level `secret` carries that secret and the struct's context: its reference is
/// made when it is spliced.
fn field_const(model: &Model, struct_name: &str, i: usize, c: &Checked) -> Option<TokenStream> {
    let source = match &c.kind {
        Kind::SecretsManager(t) => quote!(::ecs_secrets::Source::SecretsManager(
            ::ecs_secrets::Template::__new(#t)
        )),
        Kind::Ssm(t) => {
            quote!(::ecs_secrets::Source::Ssm(::ecs_secrets::Template::__new(#t)))
        }
        Kind::Env | Kind::Key(_) => quote!(::ecs_secrets::Source::Env),
        Kind::Flatten => return None,
    };
    let f = c.field;
    let (konst, name, env) = (const_name(i), f.name(), &c.env);
    let optional = f.option_inner.is_some();
    let default = some_or_none(f.attrs.default.as_ref());
    let (json, redacted) = (f.attrs.json.is_some(), f.redacted);
    let mut field = quote! {
        ::ecs_secrets::__private::field(
            #name, #struct_name, #env, #source, #optional, #default, #json, #redacted,
        )
    };
    if let (Kind::Key(selector), Some(secret)) = (&c.kind, &model.input.attrs.secret) {
        let a = &model.input.attrs;
        let [partition, region, account] =
            [&a.partition, &a.region, &a.account].map(|l| some_or_none(l.as_ref()));
        field = quote! {
            ::ecs_secrets::__private::with_key(
                #field,
                ::ecs_secrets::__private::key(#secret, #selector, #partition, #region, #account),
            )
        };
    }
    Some(quote! {
        const #konst: ::ecs_secrets::Field = #field;
    })
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
        &::ecs_secrets::__private::concat::<&'static ::core::primitive::str, {
            #own_count #(+ <#inner as ::ecs_secrets::EcsSecrets>::KMS_KEYS.len())*
        }>(
            &[&[#(#own),*], #(<#inner as ::ecs_secrets::EcsSecrets>::KMS_KEYS),*],
            "",
        )
    }
}

/// The body of `__load`: load every field from its place in `__fields` (recording every
/// problem), then build the struct if all of them loaded.
fn load_body(model: &Model, parts: &[Part]) -> TokenStream {
    let ident = model.input.ident;
    let loads = model.fields.iter().zip(parts).enumerate().map(load_field);
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

/// `let __v{i} = …;`: a flattened struct loads itself from its part of `__fields`; an own field
/// is `required` or `optional` and parsed with `FromStr` or serde, spanned at its type for the
/// trait-bound errors.
fn load_field((i, (c, part)): (usize, (&Checked, &Part))) -> TokenStream {
    let (var, f, at) = (binding(i), c.field, &part.offset);
    if let Kind::Flatten = c.kind {
        let (ty, len) = (f.ty, &part.len);
        return quote_spanned! {ty.span()=>
            let #var = <#ty as ::ecs_secrets::EcsSecrets>::__load(
                &__fields[#at..#at + #len], __lookup, __errors,
            );
        };
    }
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
        let #var = ::ecs_secrets::__private::#func(__lookup, &__fields[#at], __errors, #parse);
    }
}

/// What a `flatten` site does can only be seen once both structs' fields are known, so it is
/// checked by `const` assertions, evaluated by `cargo check` and spanned at the user's tokens:
/// env names shared with the flattened struct's (after its site's prefix), and a site's
/// `secret` for a struct that has no struct-level one to replace.
fn flatten_checks(model: &Model, parts: &[Part]) -> Vec<TokenStream> {
    let flat: Vec<(&Field, &Part)> = (model.fields.iter().zip(parts))
        .filter(|(c, _)| matches!(c.kind, Kind::Flatten))
        .map(|(c, p)| (c.field, p))
        .collect();
    let own = (model.fields.iter()).filter(|c| !matches!(c.kind, Kind::Flatten));
    let mut out: Vec<TokenStream> = own
        .flat_map(|c| flat.iter().map(move |inner| own_env_unique(c, *inner)))
        .collect();
    for (i, a) in flat.iter().enumerate() {
        out.extend(flat[i + 1..].iter().map(|b| flattened_disjoint(*a, *b)));
    }
    out.extend(flat.iter().filter_map(|inner| site_secret(*inner)));
    out
}

/// This struct's field `c` uses an env name that the flattened field `inner` does not.
fn own_env_unique(c: &Checked, (inner, part): (&Field, &Part)) -> TokenStream {
    let (env, names) = (&c.env, &part.name);
    let msg = format!(
        "env name `{env}` of field `{}` is also used inside flattened field `{}`; ECS rejects duplicate names",
        c.field.name(),
        inner.name()
    );
    quote_spanned! {c.field.env_span()=>
        const _: () = ::core::assert!(
            !::ecs_secrets::__private::has_env(&#names, #env),
            #msg
        );
    }
}

/// The flattened fields `a` and `b` (declared in that order) share no env name.
fn flattened_disjoint((a, pa): (&Field, &Part), (b, pb): (&Field, &Part)) -> TokenStream {
    let (na, nb) = (&pa.name, &pb.name);
    let msg = format!(
        "flattened fields `{}` and `{}` use the same env name; ECS rejects duplicate names: \
         give their `flatten` sites different `env_prefix`es",
        a.name(),
        b.name()
    );
    quote_spanned! {b.ident.span()=>
        const _: () = ::core::assert!(
            !::ecs_secrets::__private::share_env(&#na, &#nb),
            #msg
        );
    }
}

/// A site's `secret` replaces the struct-level `secret` of the struct it flattens, which must
/// have one.
fn site_secret((f, _): (&Field, &Part)) -> Option<TokenStream> {
    let lit = f.attrs.secret.as_ref()?;
    let ty = f.ty;
    let msg = format!(
        "`secret` at flatten site `{}` replaces the struct-level `secret` of the struct it \
         flattens, but that struct has none: give it #[ecs(secret = \"…\")], or remove this \
         `secret`",
        f.name()
    );
    Some(quote_spanned! {lit.span()=>
        const _: () = ::core::assert!(
            ::ecs_secrets::__private::has_own_keys(<#ty as ::ecs_secrets::EcsSecrets>::FIELDS),
            #msg
        );
    })
}
