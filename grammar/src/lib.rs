#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod parse;
mod rules;
mod template;
mod types;

#[cfg(test)]
mod test_support;

pub use rules::strip_random_suffix;
pub use template::{
    TemplateError, check_kms_key, escape as escape_literal, has_placeholder, placeholders, resolve,
};
pub use types::{
    SecretsManagerRef, SsmRef, ValueFrom, ValueFromError, secret_arn, secret_arn_parts, ssm_arn,
    with_selector,
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
