//! `FIELDS` in parts: each field of this struct, in declaration order, is one part, whose
//! fields are those of `FIELDS` from `offset` for `len`. A plain own field is its `const` as
//! declared; a key of the struct-level `secret` and a flattened struct are spliced (the
//! runtime's `splice`) into a `const __PART_i` of their own, through the struct itself or the
//! `flatten` site.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::{const_name, some_or_none};
use crate::valid::{Kind, Model};

pub struct Part {
    /// An array `const` expression of the part's fields.
    pub name: TokenStream,
    /// Where the part starts in `FIELDS`, and how many fields it has.
    pub offset: TokenStream,
    pub len: TokenStream,
    /// The `const`s that make the part (empty for a plain own field).
    consts: TokenStream,
}

impl Part {
    pub fn consts(&self) -> &TokenStream {
        &self.consts
    }
}

pub fn parts(model: &Model) -> Vec<Part> {
    let a = &model.input.attrs;
    let [partition, region, account] =
        [&a.partition, &a.region, &a.account].map(|l| some_or_none(l.as_ref()));
    // Where the next part starts: the number of fields before it, and the `FIELDS.len()` of
    // each flattened struct before it. Counted, not written as `0 + 1 + 1 + …`: that would make
    // the expressions of a struct of n fields O(n²) tokens long, and rustc's time and memory
    // with them.
    let mut count = 0usize;
    let mut flat_lens: Vec<TokenStream> = Vec::new();
    let mut out = Vec::with_capacity(model.fields.len());
    for (i, c) in model.fields.iter().enumerate() {
        let part = format_ident!("__PART_{}", i);
        let bytes = format_ident!("__BYTES_{}", i);
        let (name, len, consts) = match c.kind {
            Kind::Flatten => {
                let f = c.field;
                let (ty, site) = (f.ty, format_ident!("__SITE_{}", i));
                let fields = quote_spanned!(ty.span()=> <#ty as ::ecs_secrets::EcsSecrets>::FIELDS);
                let len = quote_spanned!(ty.span()=> #fields.len());
                let prefix = f
                    .attrs
                    .env_prefix
                    .as_ref()
                    .map_or_else(|| quote!(""), |p| quote!(#p));
                let secret = some_or_none(f.attrs.secret.as_ref());
                let consts = quote! {
                    const #site: ::ecs_secrets::__private::Site = ::ecs_secrets::__private::flatten(
                        #prefix, #secret, #partition, #region, #account,
                    );
                    const #bytes: [::core::primitive::u8; ::ecs_secrets::__private::spliced_len(&#site, #fields)] =
                        ::ecs_secrets::__private::spliced_bytes(&#site, #fields);
                    const #part: [::ecs_secrets::Field; #len] =
                        ::ecs_secrets::__private::splice(&#site, #fields, &#bytes);
                };
                (quote!(#part), len, consts)
            }
            Kind::Key(_) => {
                let (konst, site) = (const_name(i), quote!(::ecs_secrets::__private::Site::OWN));
                let consts = quote! {
                    const #bytes: [::core::primitive::u8; ::ecs_secrets::__private::spliced_len(&#site, &[#konst])] =
                        ::ecs_secrets::__private::spliced_bytes(&#site, &[#konst]);
                    const #part: [::ecs_secrets::Field; 1] =
                        ::ecs_secrets::__private::splice(&#site, &[#konst], &#bytes);
                };
                (quote!(#part), quote!(1), consts)
            }
            Kind::Env | Kind::SecretsManager(_) | Kind::Ssm(_) => {
                let konst = const_name(i);
                (quote!([#konst]), quote!(1), TokenStream::new())
            }
        };
        let offset = quote!(#count #(+ #flat_lens)*);
        if let Kind::Flatten = c.kind {
            flat_lens.push(len.clone());
        } else {
            count += 1;
        }
        out.push(Part {
            name,
            offset,
            len,
            consts,
        });
    }
    out
}

/// `FIELDS`: the parts in order (a `const fn` concatenation when any is spliced).
pub fn fields_slice(parts: &[Part]) -> TokenStream {
    if parts.iter().all(|p| p.consts.is_empty()) {
        let own = (0..parts.len()).map(const_name);
        return quote!(&[#(#own),*]);
    }
    let (names, lens) = (parts.iter().map(|p| &p.name), parts.iter().map(|p| &p.len));
    quote! {
        &::ecs_secrets::__private::concat::<::ecs_secrets::Field, { 0 #(+ #lens)* }>(
            &[#(&#names),*],
            ::ecs_secrets::__private::FILL,
        )
    }
}
