//! The derive behind [`ecs-secrets`](https://docs.rs/ecs-secrets). Depend on `ecs-secrets`,
//! which re-exports it; this crate's version is pinned exactly by it.

mod ast;
mod attr;
mod expand;
mod suggest;
mod valid;

/// Derives `ecs_secrets::EcsSecrets`; see the `ecs-secrets` crate for the attributes.
#[proc_macro_derive(EcsSecrets, attributes(ecs))]
pub fn derive_ecs_secrets(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
