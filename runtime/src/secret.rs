//! [`Secret<T>`]: a value that never shows itself by accident.

use core::fmt;
use core::str::FromStr;

use secrecy::{ExposeSecret, SecretBox};
use zeroize::Zeroize;

/// The marker that `Debug` and `Display` print in place of a secret value.
pub const REDACTED: &str = "[REDACTED]";

/// A configuration value that is redacted in `Debug`/`Display`, zeroized when dropped, and
/// reachable only through [`Secret::expose_secret`].
///
/// Built on [`secrecy::SecretBox`], so the value lives on the heap and is wiped in place on drop
/// rather than leaving copies behind as a moved stack value would.
///
/// ```
/// use ecs_secrets::Secret;
///
/// let password: Secret<String> = "hunter2".parse().unwrap();
/// assert_eq!(format!("{password:?}"), "[REDACTED]");
/// assert_eq!(password.to_string(), "[REDACTED]");
/// assert_eq!(password.expose_secret(), "hunter2");
/// ```
pub struct Secret<T: Zeroize>(SecretBox<T>);

impl<T: Zeroize> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Secret(SecretBox::new(Box::new(value)))
    }

    /// The value itself. Every use of a secret is a visible call to this method.
    pub fn expose_secret(&self) -> &T {
        self.0.expose_secret()
    }
}

impl<T: Zeroize> ExposeSecret<T> for Secret<T> {
    fn expose_secret(&self) -> &T {
        self.0.expose_secret()
    }
}

impl<T: Zeroize> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret::new(value)
    }
}

impl<T: Zeroize + Clone> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Secret::new(self.expose_secret().clone())
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Zeroize> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The error of parsing a [`Secret<T>`]. It deliberately drops the inner parser's message,
/// because parsers such as `serde_json` or `url` quote the text they failed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretParseError;

impl fmt::Display for SecretParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the secret value could not be parsed (details withheld to keep it secret)")
    }
}

impl std::error::Error for SecretParseError {}

impl<T: Zeroize + FromStr> FromStr for Secret<T> {
    type Err = SecretParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        T::from_str(s)
            .map(Secret::new)
            .map_err(|_| SecretParseError)
    }
}

/// Deserializes `T`; on failure the error says only that the secret could not be parsed
/// ([`SecretParseError`]'s text): serde's messages quote the input (`invalid type: string
/// "hunter2", expected u16`). A format may still add where in the document it stopped (serde_json
/// appends the line and column), which is outside this type's reach.
impl<'de, T: Zeroize + serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer)
            .map(Secret::new)
            .map_err(|_| serde::de::Error::custom(SecretParseError))
    }
}
