//! Load errors: every problem of a load at once, each naming field, variable and source — never
//! a value.

use core::fmt;

use crate::model::Field;

/// Everything that went wrong while loading a configuration struct.
///
/// `Display` lists one problem per line. No variant carries a value: parser messages are
/// scrubbed of the input, JSON errors keep only their category and position, and `Secret`
/// fields say only that parsing failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    errors: Vec<FieldError>,
    output: bool,
}

impl Error {
    /// Builds a load error from field errors (normally non-empty).
    pub fn new(errors: Vec<FieldError>) -> Self {
        Error {
            errors,
            output: false,
        }
    }

    /// Builds an error of producing deployment output (`secrets_with`, the policies, merge,
    /// drift check): placeholder values that are missing or make invalid references.
    pub fn output(errors: Vec<FieldError>) -> Self {
        Error {
            errors,
            output: true,
        }
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.output {
            "cannot resolve the declaration for this environment"
        } else {
            "failed to load configuration"
        };
        match self.errors.as_slice() {
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
}

impl std::error::Error for Error {}

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

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.env.is_empty() {
            // A struct-level attribute (`kms_key`), which has no variable.
            return write!(
                f,
                "attribute `{}` of `{}` (`{}`): {}",
                self.field, self.struct_name, self.source, self.kind
            );
        }
        write!(
            f,
            "field `{}.{}` (env `{}`, from {}): {}",
            self.struct_name, self.field, self.env, self.source, self.kind
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
    /// `FromStr` failed; the message is the parser's, with the value scrubbed out.
    Invalid {
        /// The parser's message, scrubbed.
        reason: String,
    },
    /// A `json` field's value is not valid JSON for its type.
    InvalidJson {
        /// serde_json's category: `syntax`, `data`, `eof` or `io`.
        category: &'static str,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
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
    /// Fetching or extracting the value failed (feature `aws`).
    Source {
        /// The AWS error code where AWS gave one (`ResourceNotFoundException`,
        /// `AccessDeniedException`…), else one of ours (`JsonKeyMissing`, `NotJson`,
        /// `NotObject`, `BinarySecret`, `ParameterNotFound`…).
        code: String,
        /// What happened, naming the operation where a request failed.
        reason: String,
    },
}

impl ErrorKind {
    /// A stable code for matching in tests and logs.
    pub fn code(&self) -> &str {
        match self {
            ErrorKind::Missing => "Missing",
            ErrorKind::NotUnicode => "NotUnicode",
            ErrorKind::Invalid { .. } => "Invalid",
            ErrorKind::InvalidJson { .. } => "InvalidJson",
            ErrorKind::InvalidDefault { .. } => "InvalidDefault",
            ErrorKind::Placeholder { .. } => "Placeholder",
            ErrorKind::Source { code, .. } => code,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Missing => f.write_str("missing: the variable is not set"),
            ErrorKind::NotUnicode => f.write_str("the value is not valid UTF-8"),
            ErrorKind::Invalid { reason } => write!(f, "invalid value: {reason}"),
            ErrorKind::InvalidJson {
                category,
                line,
                column,
            } => write!(
                f,
                "invalid JSON: {category} error at line {line}, column {column}"
            ),
            ErrorKind::InvalidDefault { reason } => write!(f, "invalid default: {reason}"),
            ErrorKind::Placeholder { reason } => write!(f, "{reason}"),
            ErrorKind::Source { code, reason } => write!(f, "{code}: {reason}"),
        }
    }
}
