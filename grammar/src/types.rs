//! The reference types, how they display, and the ARN builders.

use std::fmt;

use crate::rules::strip_random_suffix;

/// A parsed `valueFrom` of an ECS container definition's `secrets` entry.
///
/// Parse it with [`str::parse`]; [`Display`](fmt::Display) gives back exactly the parsed text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ValueFrom {
    /// A Secrets Manager secret ARN, optionally with a `:json-key:version-stage:version-id` tail.
    SecretsManager(SecretsManagerRef),
    /// An SSM Parameter Store parameter, by ARN or by bare name.
    Ssm(SsmRef),
}

/// A Secrets Manager secret ARN as written in `valueFrom`, kept raw so it displays unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SecretsManagerRef {
    pub(crate) partition: String,
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) name: String,
    /// `[json_key, version_stage, version_id]` exactly as written (each may be empty).
    pub(crate) selector: Option<[String; 3]>,
}

impl SecretsManagerRef {
    /// The ARN's partition, e.g. `aws` or `aws-cn`.
    pub fn partition(&self) -> &str {
        &self.partition
    }
    /// The secret's region.
    pub fn region(&self) -> &str {
        &self.region
    }
    /// The 12-digit account that owns the secret.
    pub fn account(&self) -> &str {
        &self.account
    }
    /// The name as written in the ARN, including the random six-character suffix if present.
    pub fn secret_name(&self) -> &str {
        &self.name
    }
    /// The ARN without the `:key:stage:id` tail: the `SecretId` for `GetSecretValue` and
    /// `BatchGetSecretValue`, which do not understand that ECS-only tail.
    pub fn secret_id(&self) -> String {
        secret_arn(&self.partition, &self.region, &self.account, &self.name)
    }
    fn field(&self, i: usize) -> Option<&str> {
        let s = self.selector.as_ref()?[i].as_str();
        (!s.is_empty()).then_some(s)
    }
    /// The top-level JSON key to extract; `None` when absent or empty (whole secret).
    pub fn json_key(&self) -> Option<&str> {
        self.field(0)
    }
    /// The version stage (e.g. `AWSPREVIOUS`); `None` when absent or empty (`AWSCURRENT`).
    pub fn version_stage(&self) -> Option<&str> {
        self.field(1)
    }
    /// The version id; `None` when absent or empty.
    pub fn version_id(&self) -> Option<&str> {
        self.field(2)
    }
    /// Whether the name ends in Secrets Manager's random suffix (see [`strip_random_suffix`]),
    /// i.e. this looks like a complete ARN.
    pub fn is_complete_arn(&self) -> bool {
        strip_random_suffix(&self.name).is_some()
    }
    /// The IAM resource for reading this secret. IAM matches the real, complete ARN, so a partial
    /// ARN gets `-??????` (exactly six chars; `-*` would also match other secrets). The
    /// `:key:stage:id` tail is never part of it.
    pub fn iam_resource(&self) -> String {
        let id = self.secret_id();
        if self.is_complete_arn() {
            id
        } else {
            id + "-??????"
        }
    }
}

/// An SSM parameter reference in `valueFrom`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SsmRef {
    /// `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`.
    Arn {
        /// The ARN's partition.
        partition: String,
        /// The parameter's region.
        region: String,
        /// The 12-digit account that owns the parameter.
        account: String,
        /// The text after `parameter/` (a hierarchy's leading '/' is not repeated there).
        name: String,
    },
    /// A bare parameter name, resolved by ECS in the task's own region and account.
    Name(String),
}

impl SsmRef {
    /// The normalized SSM parameter name: an ARN's `parameter/a/b` is `/a/b` and `parameter/foo`
    /// is `foo` (the ARN drops a hierarchy's leading slash); a bare name as written.
    pub fn parameter_name(&self) -> String {
        match self {
            SsmRef::Arn { name, .. } if name.contains('/') => format!("/{name}"),
            SsmRef::Arn { name, .. } | SsmRef::Name(name) => name.clone(),
        }
    }
    /// The ARN's region; `None` for a bare name.
    pub fn region(&self) -> Option<&str> {
        match self {
            SsmRef::Arn { region, .. } => Some(region),
            SsmRef::Name(_) => None,
        }
    }
    /// The parameter ARN for the `Arn` variant; `None` for a bare name.
    pub fn arn(&self) -> Option<String> {
        match self {
            SsmRef::Arn {
                partition: p,
                region: r,
                account: a,
                name,
            } => Some(ssm_arn(p, r, a, name)),
            SsmRef::Name(_) => None,
        }
    }
}

impl ValueFrom {
    /// Whether this refers to Secrets Manager (otherwise SSM Parameter Store).
    pub fn is_secrets_manager(&self) -> bool {
        matches!(self, ValueFrom::SecretsManager(_))
    }
}

impl fmt::Display for ValueFrom {
    /// Gives back exactly the parsed input (empty selector fields included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueFrom::SecretsManager(r) => match &r.selector {
                Some([k, s, i]) => write!(f, "{}:{k}:{s}:{i}", r.secret_id()),
                None => f.write_str(&r.secret_id()),
            },
            ValueFrom::Ssm(r) => f.write_str(&r.arn().unwrap_or_else(|| r.parameter_name())),
        }
    }
}

/// Why a `valueFrom` is invalid; the message says what is wrong and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueFromError {
    pub(crate) message: String,
}

impl ValueFromError {
    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValueFromError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueFromError {}

/// `arn:{partition}:secretsmanager:{region}:{account}:secret:{name}`.
pub fn secret_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    secret_arn_parts(partition, region, account, name).concat()
}

/// The pieces [`secret_arn`] joins, for code that builds the ARN at compile time (the derive's
/// `flatten` completes a struct-level secret's ARN in a `const`).
pub const fn secret_arn_parts<'a>(
    partition: &'a str,
    region: &'a str,
    account: &'a str,
    name: &'a str,
) -> [&'a str; 8] {
    [
        "arn:",
        partition,
        ":secretsmanager:",
        region,
        ":",
        account,
        ":secret:",
        name,
    ]
}

/// `arn:{partition}:ssm:{region}:{account}:parameter/{name}`, dropping ONE leading `/` from the
/// name because SSM ARNs of hierarchical names carry no double slash (`/a/b` → `parameter/a/b`).
pub fn ssm_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    let name = name.strip_prefix('/').unwrap_or(name);
    format!("arn:{partition}:ssm:{region}:{account}:parameter/{name}")
}

/// Appends `:key:stage:id` (absent ones empty) when any is `Some`; otherwise returns the ARN
/// unchanged. ECS accepts either no fields or all three after the name.
pub fn with_selector(
    arn: &str,
    key: Option<&str>,
    stage: Option<&str>,
    id: Option<&str>,
) -> String {
    if key.is_none() && stage.is_none() && id.is_none() {
        return arn.to_string();
    }
    let [k, s, i] = [key, stage, id].map(|x| x.unwrap_or(""));
    format!("{arn}:{k}:{s}:{i}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{PARAM, SM, UUID, ok, sm, ssm};

    #[test]
    fn round_trips_pick_the_service() {
        assert!(ok(&format!("{SM}db:password::")).is_secrets_manager());
        assert!(!ok(&format!("{PARAM}foo")).is_secrets_manager());
        assert!(!ok("foo").is_secrets_manager());
    }

    #[test]
    fn secrets_manager_accessors() {
        let v = ok(&format!("{SM}db:::"));
        let r = sm(&v);
        assert_eq!([r.json_key(), r.version_stage(), r.version_id()], [None; 3]);
        assert_eq!(r.secret_id(), format!("{SM}db"));
        let v = ok(&format!("{SM}db-AbC123:password:AWSPREVIOUS:"));
        let r = sm(&v);
        assert_eq!(
            [r.partition(), r.region(), r.account()],
            ["aws", "us-east-1", "123456789012"]
        );
        assert_eq!(
            [r.json_key(), r.version_stage()],
            [Some("password"), Some("AWSPREVIOUS")]
        );
        assert_eq!((r.secret_name(), r.version_id()), ("db-AbC123", None));
        assert_eq!(r.secret_id(), format!("{SM}db-AbC123"));
        assert!(r.is_complete_arn());
        assert_eq!(r.iam_resource(), format!("{SM}db-AbC123"));
        let v = ok(&format!("{SM}db:::{UUID}"));
        assert_eq!(sm(&v).version_id(), Some(UUID));
        assert!(!sm(&v).is_complete_arn());
        assert_eq!(sm(&v).iam_resource(), format!("{SM}db-??????"));
    }

    #[test]
    fn ssm_accessors() {
        let r = ssm(ok(&format!("{PARAM}a/b")));
        assert_eq!(
            (r.parameter_name(), r.region()),
            ("/a/b".into(), Some("us-east-1"))
        );
        assert_eq!(r.arn(), Some(format!("{PARAM}a/b")));
        assert_eq!(ssm(ok(&format!("{PARAM}foo"))).parameter_name(), "foo");
        let r = ssm(ok("/a/b"));
        assert_eq!(
            (r.parameter_name(), r.region(), r.arn()),
            ("/a/b".into(), None, None)
        );
    }

    #[test]
    fn builders() {
        let (p, r, a) = ("aws", "us-east-1", "123456789012");
        assert_eq!(secret_arn(p, r, a, "db"), format!("{SM}db"));
        assert_eq!(ssm_arn(p, r, a, "/a/b"), format!("{PARAM}a/b"));
        assert_eq!(ssm_arn(p, r, a, "foo"), format!("{PARAM}foo"));
        assert_eq!(with_selector("A", None, None, None), "A");
        assert_eq!(with_selector("A", Some("k"), None, None), "A:k::");
        assert_eq!(
            with_selector("A", None, Some("AWSPREVIOUS"), None),
            "A::AWSPREVIOUS:"
        );
        assert_eq!(with_selector("A", None, None, Some("i")), "A:::i");
        assert_eq!(with_selector("A", Some(""), None, None), "A:::");
    }
}
