//! The derive behind [`ecs-secrets`](https://docs.rs/ecs-secrets). Depend on `ecs-secrets`,
//! which re-exports it and documents its attributes; this crate's version is pinned exactly by
//! it.

mod ast;
mod attr;
mod expand;
mod suggest;
mod valid;

// No doc comment: rustdoc appends it to the re-export's in `ecs-secrets`, whose documentation of
// the derive is the attribute reference.
#[proc_macro_derive(EcsSecrets, attributes(ecs))]
pub fn derive_ecs_secrets(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
