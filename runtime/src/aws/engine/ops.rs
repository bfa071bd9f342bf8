//! The operations the crate sends, by the name AWS gives them: one definition each, for spans,
//! errors, metrics and deadline messages.

pub(crate) const GET_SECRET_VALUE: &str = "GetSecretValue";
pub(crate) const BATCH_GET_SECRET_VALUE: &str = "BatchGetSecretValue";
pub(crate) const DESCRIBE_SECRET: &str = "DescribeSecret";
pub(crate) const GET_PARAMETERS: &str = "GetParameters";

pub(crate) use aws_smithy_runtime_api::client::interceptors::context::Error as OperationError;

/// Reads AWS's error code from the operation errors of one service's operations, which the
/// SDK's interceptors and retry classifiers see type-erased: see [`error_codes!`].
#[cfg(feature = "metrics")]
pub(crate) type Codes = fn(&OperationError) -> Option<&str>;

/// Defines a [`Codes`] function that reads the code of any of the listed operation errors.
macro_rules! error_codes {
    ($(#[$doc:meta])* $name:ident: $($ty:ty),+ $(,)?) => {
        $(#[$doc])*
        pub(crate) fn $name(
            error: &$crate::aws::engine::ops::OperationError,
        ) -> Option<&str> {
            $(
                if let Some(e) = error.downcast_ref::<$ty>() {
                    return ::aws_sdk_secretsmanager::error::ProvideErrorMetadata::code(e);
                }
            )+
            None
        }
    };
}
// The deploy-time verbs build their own clients and read their own operations' codes.
#[cfg_attr(
    not(all(feature = "deploy", feature = "metrics")),
    allow(unused_imports)
)]
pub(crate) use error_codes;

error_codes!(
    /// The Secrets Manager operations the loader sends.
    secrets_codes:
    aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError,
    aws_sdk_secretsmanager::operation::batch_get_secret_value::BatchGetSecretValueError,
    aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretError,
);
error_codes!(
    /// The SSM operations the loader and preflight send.
    ssm_codes:
    aws_sdk_ssm::operation::get_parameters::GetParametersError,
    aws_sdk_ssm::operation::describe_parameters::DescribeParametersError,
);
