#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod parse;
mod rules;
mod template;
mod types;

#[cfg(test)]
mod test_support;

pub use rules::{check_kms_key, strip_random_suffix};
pub use template::{TemplateError, placeholders, resolve};
pub use types::{
    SecretsManagerRef, SsmRef, ValueFrom, ValueFromError, secret_arn, ssm_arn, with_selector,
};

/// The checks `#[derive(EcsSecrets)]` runs on its attributes at compile time. Not a stable API:
/// use [`ValueFrom`]'s parser and the template functions instead.
#[doc(hidden)]
pub mod __derive {
    pub use crate::parse::parse_with_wildcards;
    pub use crate::rules::{
        WILDCARD, check_account, check_env_name, check_json_key, check_partition, check_region,
        check_secret_name, check_ssm_name, check_version_id, check_version_stage,
    };
    pub use crate::template::{Piece, escape, parse_template, to_wildcards};
}

/// `const` building blocks for the code `#[derive(EcsSecrets)]` generates: the same rules as
/// [`secret_arn`] and [`placeholders`], evaluated at compile time. Not a stable API.
#[doc(hidden)]
pub mod __const {
    pub use crate::template::has_placeholder;
    pub use crate::types::secret_arn_parts;
}
