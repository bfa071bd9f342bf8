//! Load and resolve errors: every problem of a load at once, each naming field, variable and source — never
//! a value.

use core::fmt;

use crate::model::Field;
use crate::text::escaped;

/// Everything that went wrong while loading a configuration struct (`from_env`, `from_lookup`,
/// and the AWS loader).
///
/// `Display` lists one problem per line. No variant carries a value: a sourced field's error
/// text depends only on the field and the kind of failure, JSON errors keep only their
/// category, and `Secret` fields say only that parsing failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    errors: Vec<FieldError>,
}

/// Why a declaration could not be resolved for one environment
/// ([`EcsSecrets::deployment_for`](crate::EcsSecrets::deployment_for), pinning versions):
/// placeholder values that are missing or make invalid references, or (when pinning) secrets
/// whose current version could not be read. Every problem at once, in field order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveError {
    errors: Vec<FieldError>,
}

macro_rules! field_error_list {
    ($ty:ident, $what:literal) => {
        impl $ty {
            /// Builds the error from field errors (normally non-empty).
            pub fn new(errors: Vec<FieldError>) -> Self {
                $ty { errors }
            }

            /// Every problem, in field order.
            pub fn errors(&self) -> &[FieldError] {
                &self.errors
            }

            /// Consumes the error, giving the list.
            pub fn into_errors(self) -> Vec<FieldError> {
                self.errors
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_list(f, $what, &self.errors)
            }
        }

        impl std::error::Error for $ty {}
    };
}

field_error_list!(Error, "failed to load configuration");
field_error_list!(
    ResolveError,
    "cannot resolve the declaration for this environment"
);

fn write_list(f: &mut fmt::Formatter<'_>, what: &str, errors: &[FieldError]) -> fmt::Result {
    match errors {
        [one] => write!(f, "{what}: {one}"),
        many => {
            write!(f, "{what}: {} problems", many.len())?;
            for e in many {
                write!(f, "\n  - {e}")?;
            }
            Ok(())
        }
    }
}

/// One problem with one field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldError {
    /// The Rust field name.
    pub field: &'static str,
    /// The struct that declares the field.
    pub struct_name: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// `environment`, or the `valueFrom` (ARN or parameter) the value comes from.
    pub source: String,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl FieldError {
    /// An error for `field`, described with the field's own source.
    pub fn new(field: &Field, kind: ErrorKind) -> Self {
        FieldError {
            field: field.name,
            struct_name: field.struct_name,
            env: field.env,
            source: field.source_description().to_owned(),
            kind,
        }
    }

    /// The same error with a resolved source (a template's final `valueFrom`).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }
}

/// The source is printed escaped (control and invisible characters as `\n`, `\u{1b}`…): placeholder
/// values make it.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = escaped(&self.source);
        if self.env.is_empty() {
            // A struct-level attribute (`kms_key`), which has no variable.
            return write!(
                f,
                "attribute `{}` of `{}` (`{source}`): {}",
                self.field, self.struct_name, self.kind
            );
        }
        write!(
            f,
            "field `{}.{}` (env `{}`, from {source}): {}",
            self.struct_name, self.field, self.env, self.kind
        )
    }
}

/// What went wrong with a field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The variable is not set and the field is neither `Option` nor has a `default`.
    Missing,
    /// The variable is set but is not valid UTF-8.
    NotUnicode,
    /// `FromStr` failed. For a plain environment variable, the parser's message; for a secret
    /// (a Secrets Manager or SSM source, a `Secret<T>` field), only the type it is not a valid
    /// value of (`not a valid \`u16\``): parsers quote their input.
    Invalid {
        /// The parser's message, or `not a valid \`TYPE\``.
        reason: String,
    },
    /// A `json` field's value is not valid JSON for its type. Only the category is kept: serde's
    /// messages quote the input, and a position tells a secret's length or shape.
    InvalidJson {
        /// serde_json's category: `syntax`, `data`, `eof` or `io`.
        category: &'static str,
    },
    /// The `default` value itself does not parse.
    InvalidDefault {
        /// The parser's message.
        reason: String,
    },
    /// A placeholder of the source has no value, or a value that makes an invalid reference.
    Placeholder {
        /// Which placeholder and why.
        reason: String,
    },
    /// AWS answered a request for the value with an error (feature `aws`).
    Aws {
        /// The service's own error code (`ResourceNotFoundException`, `AccessDeniedException`,
        /// `ThrottlingException`…), as AWS spelled it.
        code: String,
        /// What happened, naming the operation.
        reason: String,
    },
    /// Fetching or extracting the value failed for a reason of this crate's own (feature
    /// `aws`): no answer in time, a JSON key that is not there, a binary secret…
    Fetch {
        /// Which failure.
        code: FetchCode,
        /// What happened, naming the operation where a request failed.
        reason: String,
    },
}

/// The failures of fetching a value that this crate reports itself (AWS's own error codes are
/// [`ErrorKind::Aws`]). `Display` is the variant's name, the same text as [`ErrorKind::code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchCode {
    /// The load's deadline passed before the request answered.
    DeadlineExceeded,
    /// The request's task ended without an answer.
    NoAnswer,
    /// Every attempt the retry policy allowed timed out.
    Timeout,
    /// The request could not be sent (connection refused, DNS, TLS…).
    Dispatch,
    /// The request could not be built (no region, no credentials provider…).
    Construction,
    /// The answer could not be read.
    Response,
    /// The SDK failed in a way it does not classify.
    Unknown,
    /// The answer did not mention this secret or parameter at all.
    NotInResponse,
    /// The answer named the item but carried no value.
    NoValue,
    /// SSM listed the parameter in `InvalidParameters`: it does not exist (or is not
    /// visible to the caller).
    ParameterNotFound,
    /// The secret holds `SecretBinary` only; ECS injects `SecretString` text only.
    BinarySecret,
    /// The secret is not JSON, so no key can be extracted from it.
    NotJson,
    /// The secret is JSON but not an object, so no key can be extracted from it.
    NotObject,
    /// The JSON object has no such top-level key.
    JsonKeyMissing,
    /// A watched `Option` field's source had a value and no longer exists.
    SourceVanished,
    /// The answer named no version id (pinning).
    NoVersionId,
}

impl FetchCode {
    /// The variant's name.
    pub fn as_str(&self) -> &'static str {
        match self {
            FetchCode::DeadlineExceeded => "DeadlineExceeded",
            FetchCode::NoAnswer => "NoAnswer",
            FetchCode::Timeout => "TimeoutError",
            FetchCode::Dispatch => "DispatchFailure",
            FetchCode::Construction => "ConstructionFailure",
            FetchCode::Response => "ResponseError",
            FetchCode::Unknown => "UnknownError",
            FetchCode::NotInResponse => "NotInResponse",
            FetchCode::NoValue => "NoValue",
            FetchCode::ParameterNotFound => "ParameterNotFound",
            FetchCode::BinarySecret => "BinarySecret",
            FetchCode::NotJson => "NotJson",
            FetchCode::NotObject => "NotObject",
            FetchCode::JsonKeyMissing => "JsonKeyMissing",
            FetchCode::SourceVanished => "SourceVanished",
            FetchCode::NoVersionId => "NoVersionId",
        }
    }
}

impl fmt::Display for FetchCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorKind {
    /// A stable name for logs and machine-readable output: the variant's name, AWS's own code
    /// for [`ErrorKind::Aws`], the [`FetchCode`]'s name for [`ErrorKind::Fetch`]. Match on the
    /// variants to act on an error.
    pub fn code(&self) -> &str {
        match self {
            ErrorKind::Missing => "Missing",
            ErrorKind::NotUnicode => "NotUnicode",
            ErrorKind::Invalid { .. } => "Invalid",
            ErrorKind::InvalidJson { .. } => "InvalidJson",
            ErrorKind::InvalidDefault { .. } => "InvalidDefault",
            ErrorKind::Placeholder { .. } => "Placeholder",
            ErrorKind::Aws { code, .. } => code,
            ErrorKind::Fetch { code, .. } => code.as_str(),
        }
    }
}

/// Reasons and AWS's codes are printed escaped (control and invisible characters as `\n`,
/// `\u{1b}`…): parsers, placeholder values and AWS's answers make them.
impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Missing => f.write_str("missing: the variable is not set"),
            ErrorKind::NotUnicode => f.write_str("the value is not valid UTF-8"),
            ErrorKind::Invalid { reason } => write!(f, "invalid value: {}", escaped(reason)),
            ErrorKind::InvalidJson { category } => write!(f, "invalid JSON: {category} error"),
            ErrorKind::InvalidDefault { reason } => {
                write!(f, "invalid default: {}", escaped(reason))
            }
            ErrorKind::Placeholder { reason } => write!(f, "{}", escaped(reason)),
            ErrorKind::Aws { code, reason } => {
                write!(f, "{}: {}", escaped(code), escaped(reason))
            }
            ErrorKind::Fetch { code, reason } => write!(f, "{code}: {}", escaped(reason)),
        }
    }
}
