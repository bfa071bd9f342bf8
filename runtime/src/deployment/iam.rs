//! IAM policy documents (the public docs: `crate::iam`).

use core::fmt;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::text::escaped;
use crate::value_from::{self, ValueFrom};

mod grants;
mod kms;
mod statement;
use grants::{migrate_grants, preflight_grants, task_grants};
pub use statement::{Condition, Statement};

/// The IAM policy language version every document uses.
pub const POLICY_VERSION: &str = "2012-10-17";

/// SSM's reserved path for reading a Secrets Manager secret through Parameter Store.
pub(crate) const SSM_SECRETS_MANAGER_REFERENCE: &str = "/aws/reference/secretsmanager/";
/// The stage `GetSecretValue` reads when none is given.
pub(crate) const AWSCURRENT: &str = "AWSCURRENT";

/// The services that call KMS for a reader, as `kms:ViaService` names them (with the region).
const SECRETS_MANAGER: &str = "secretsmanager";
const SSM: &str = "ssm";

/// Which IAM role the policy is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum Role {
    /// The task execution role: the ECS agent reads the secrets and injects them as
    /// environment variables at container start.
    #[cfg_attr(
        feature = "cli",
        value(help = "The task execution role: ECS reads the secrets with it at container start")
    )]
    Execution,
    /// The task role: the application fetches the secrets itself (feature `aws`). The same
    /// reads, plus `secretsmanager:BatchGetSecretValue`, which the loader uses for unpinned
    /// secrets, and `secretsmanager:DescribeSecret` on each secret not pinned by version id,
    /// which a watch's refresh uses to skip unrotated secrets (metadata only; granted whether or
    /// not the application watches, since a declaration cannot say).
    #[cfg_attr(
        feature = "cli",
        value(help = "The task role: the service reads the secrets itself, with the AWS loader")
    )]
    Task,
    /// The deploy step that pins secrets to their current versions ([`Loader::pin`][pin], the
    /// CLI's `--pin-versions`):
    /// `secretsmanager:DescribeSecret` on each unpinned secret — metadata only, no value, no
    /// `kms:Decrypt`.
    #[cfg_attr(
        feature = "cli",
        value(
            help = "The deploy step that pins current versions (--pin-versions): DescribeSecret only"
        )
    )]
    #[cfg_attr(feature = "deploy", doc = "", doc = "[pin]: crate::aws::Loader::pin")]
    #[cfg_attr(
        not(feature = "deploy"),
        doc = "",
        doc = "[pin]: https://docs.rs/ecs-secrets/latest/ecs_secrets/aws/struct.Loader.html#method.pin"
    )]
    Pin,
    /// The deploy step that runs preflight ([`Loader::preflight`][preflight], the CLI's
    /// `preflight`) on metadata only: `secretsmanager:DescribeSecret` on each secret (also the one an
    /// `/aws/reference/secretsmanager/` parameter reads), `ssm:GetParameters` on each other
    /// parameter (called without decryption, so no `kms:Decrypt`) and `ssm:DescribeParameters`
    /// on `*` (tiers and key ids), `kms:DescribeKey` on each `kms_key`. No value is read. A
    /// `SecureString` encrypted with a key that is not declared gets no `kms:DescribeKey`: its
    /// check reports the denial (and the execution role gets no `kms:Decrypt` on it either).
    /// With an execution role to simulate (`--execution-role`), the deploy step also needs
    /// `iam:SimulatePrincipalPolicy` on that role's ARN, which a declaration does not know:
    /// add that statement yourself. Leaving out missing optional references
    /// (`aws::Loader::omit_missing_optional`,
    /// `--omit-missing-optional`) runs preflight: this policy, of the declaration as declared.
    #[cfg_attr(
        feature = "cli",
        value(help = "The deploy step that runs preflight, on metadata only")
    )]
    #[cfg_attr(
        feature = "deploy",
        doc = "",
        doc = "[preflight]: crate::aws::Loader::preflight"
    )]
    #[cfg_attr(
        not(feature = "deploy"),
        doc = "",
        doc = "[preflight]: https://docs.rs/ecs-secrets/latest/ecs_secrets/aws/struct.Loader.html#method.preflight"
    )]
    Preflight,
    /// Preflight that also reads the secrets' values to check JSON keys and sizes
    /// (`read_values`, `--read-values`): [`Role::Preflight`] plus
    /// `secretsmanager:GetSecretValue` on each Secrets Manager reference and `kms:Decrypt` on
    /// each `kms_key` through Secrets Manager only. A role of its own rather than a flag, so that
    /// `policy --role` can print it and a deploy role can be granted one or the other.
    #[cfg_attr(
        feature = "cli",
        value(help = "The deploy step that runs preflight --read-values")
    )]
    PreflightReadValues,
    /// The deploy step that moves plaintext `environment` values into the declared secrets and
    /// parameters ([`Loader::migrate`][migrate], the CLI's `migrate`): on each Secrets Manager reference `secretsmanager:GetSecretValue` (to
    /// compare, and to merge a JSON key into the object), `secretsmanager:PutSecretValue`, and
    /// `secretsmanager:CreateSecret` when the reference is a partial ARN (a complete ARN names a
    /// secret that exists: a new one would get another random suffix); on each parameter
    /// `ssm:GetParameters` (decrypted, to compare) and `ssm:PutParameter`; on each `kms_key`
    /// `kms:Encrypt`, `kms:GenerateDataKey` and `kms:Decrypt`, only through the services of the
    /// references in its region. References a migration refuses (a pinned version or stage, an
    /// `/aws/reference/secretsmanager/` parameter) get nothing.
    #[cfg_attr(
        feature = "cli",
        value(help = "The deploy step that migrates plaintext values (migrate)")
    )]
    #[cfg_attr(
        feature = "deploy",
        doc = "",
        doc = "[migrate]: crate::aws::Loader::migrate"
    )]
    #[cfg_attr(
        not(feature = "deploy"),
        doc = "",
        doc = "[migrate]: https://docs.rs/ecs-secrets/latest/ecs_secrets/aws/struct.Loader.html#method.migrate"
    )]
    Migrate,
}

impl Role {
    /// `execution`, `task`, `pin`, `preflight`, `preflight-read-values` or `migrate`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Execution => "execution",
            Role::Task => "task",
            Role::Pin => "pin",
            Role::Preflight => "preflight",
            Role::PreflightReadValues => "preflight-read-values",
            Role::Migrate => "migrate",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An IAM action a policy grants; the order of the variants is the order of the statements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Action {
    /// `secretsmanager:GetSecretValue`, on each secret.
    GetSecretValue,
    /// `secretsmanager:BatchGetSecretValue`, on `*` (the action has no resource type; each secret
    /// is still checked against `GetSecretValue`). Task role only.
    BatchGetSecretValue,
    /// `ssm:GetParameters` (plural: what ECS and the loader call), on each parameter.
    GetParameters,
    /// `kms:Decrypt`, on each customer-managed key.
    KmsDecrypt,
    /// `secretsmanager:DescribeSecret`, on each secret (metadata: its version ids and stages).
    DescribeSecret,
    /// `kms:DescribeKey`, on each customer-managed key (metadata: whether it is enabled).
    /// Preflight only.
    DescribeKey,
    /// `ssm:DescribeParameters`, on `*` (the action has no resource type): a parameter's tier
    /// and a `SecureString`'s key id. Preflight only.
    DescribeParameters,
    /// `secretsmanager:CreateSecret`, on each secret of a partial ARN (`NAME-??????`, the ARN
    /// the new secret gets). Migrate only.
    CreateSecret,
    /// `secretsmanager:PutSecretValue`, on each secret. Migrate only.
    PutSecretValue,
    /// `ssm:PutParameter`, on each parameter. Migrate only.
    PutParameter,
    /// `kms:Encrypt`, on each customer-managed key, through the services only (SSM encrypts a
    /// standard-tier `SecureString` with it). Migrate only.
    KmsEncrypt,
    /// `kms:GenerateDataKey`, on each customer-managed key, through the services only (Secrets
    /// Manager and advanced-tier `SecureString`s encrypt with a data key). Migrate only.
    KmsGenerateDataKey,
}

impl Action {
    /// The action as IAM spells it (`secretsmanager:GetSecretValue`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::GetSecretValue => "secretsmanager:GetSecretValue",
            Action::BatchGetSecretValue => "secretsmanager:BatchGetSecretValue",
            Action::GetParameters => "ssm:GetParameters",
            Action::KmsDecrypt => "kms:Decrypt",
            Action::DescribeSecret => "secretsmanager:DescribeSecret",
            Action::DescribeKey => "kms:DescribeKey",
            Action::DescribeParameters => "ssm:DescribeParameters",
            Action::CreateSecret => "secretsmanager:CreateSecret",
            Action::PutSecretValue => "secretsmanager:PutSecretValue",
            Action::PutParameter => "ssm:PutParameter",
            Action::KmsEncrypt => "kms:Encrypt",
            Action::KmsGenerateDataKey => "kms:GenerateDataKey",
        }
    }

    /// Whether this is a KMS action: one statement per region of the keys, under
    /// `kms:ViaService`.
    fn is_kms(self) -> bool {
        matches!(
            self,
            Action::KmsDecrypt | Action::KmsEncrypt | Action::KmsGenerateDataKey
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A least-privilege identity policy document. `Serialize` gives the IAM JSON (see the
/// [module docs](crate::iam) for its shape); `Display` gives it pretty-printed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// The policy `role` needs to read every reference in `refs` and decrypt with `kms_keys`
    /// (customer-managed key ARNs).
    ///
    /// Refuses, whatever the role, a reference without its region and account (a bare SSM
    /// parameter name) and a `kms_key` that is not a KMS key ARN: the first such input, references
    /// before keys. A [`Deployment`](crate::Deployment)'s references and keys never are, so
    /// [`Deployment::policy`](crate::Deployment::policy) cannot fail.
    pub fn from_references<'a>(
        role: Role,
        refs: impl IntoIterator<Item = &'a ValueFrom>,
        kms_keys: impl IntoIterator<Item = &'a str>,
    ) -> Result<PolicyDocument, PolicyError> {
        let refs: Vec<&ValueFrom> = refs.into_iter().collect();
        let kms_keys: Vec<&str> = kms_keys.into_iter().collect();
        if let Some(r) = refs.iter().copied().find(|r| region(r).is_none()) {
            return Err(PolicyError::NoRegionOrAccount {
                value_from: r.to_string(),
            });
        }
        for &key in &kms_keys {
            if let Err(reason) = check_key(key) {
                return Err(PolicyError::InvalidKmsKey {
                    key: key.to_owned(),
                    reason,
                });
            }
        }
        Ok(PolicyDocument::build(role, &refs, &kms_keys))
    }

    /// [`PolicyDocument::from_references`] once its input is known to be valid.
    fn build(role: Role, refs: &[&ValueFrom], kms_keys: &[&str]) -> PolicyDocument {
        // Sorted, deduplicated `Vec`s rather than `BTreeMap`s/`BTreeSet`s: the lists are short,
        // and the tree instantiations were a quarter of this crate's generated code
        // (docs/benchmarks.md, build cost), paid by every build script that uses the derive.
        // A grant is (action, key region and decrypting service of a KMS action or "", resource).
        let mut grants: Vec<(Action, &str, &str, String)> = Vec::new();
        let mut grant = |action, resource: String| grants.push((action, "", "", resource));
        // The deploy steps' services that decrypt for the references, by region.
        let mut readers: Vec<(&str, &str)> = Vec::new();
        // What the task's roles decrypt: (region, service, encryption-context value).
        let mut reads: Vec<(&str, &'static str, String)> = Vec::new();
        for &r in refs {
            match role {
                Role::Pin => {
                    if let ValueFrom::SecretsManager(s) = r {
                        if follows_current(s) {
                            grant(Action::DescribeSecret, s.iam_resource());
                        }
                    }
                }
                Role::Preflight | Role::PreflightReadValues => {
                    preflight_grants(role, r, &mut grant, &mut readers);
                }
                Role::Migrate => migrate_grants(r, &mut grant, &mut readers),
                Role::Execution | Role::Task => task_grants(role, r, &mut grant, &mut reads),
            }
        }
        if matches!(role, Role::Preflight | Role::PreflightReadValues) {
            for &key in kms_keys {
                grants.push((Action::DescribeKey, "", "", key.to_owned()));
            }
        }
        // The deploy steps decrypt (and migrate encrypts) only through a service that reads or
        // writes a reference in the key's region: a key no such reference uses gets nothing.
        if matches!(role, Role::PreflightReadValues | Role::Migrate) {
            let mut actions = vec![Action::KmsDecrypt];
            if role == Role::Migrate {
                actions.extend([Action::KmsEncrypt, Action::KmsGenerateDataKey]);
            }
            for &key in kms_keys {
                if readers.iter().any(|&(r, _)| r == key_region(key)) {
                    for &action in &actions {
                        grants.push((action, key_region(key), "", key.to_owned()));
                    }
                }
            }
        }
        // The task's roles decrypt through each service that reads a reference in the key's
        // region, for exactly those references (see `kms::context`).
        if matches!(role, Role::Execution | Role::Task) {
            for &key in kms_keys {
                let region = key_region(key);
                for service in [SECRETS_MANAGER, SSM] {
                    if reads.iter().any(|&(r, s, _)| (r, s) == (region, service)) {
                        grants.push((Action::KmsDecrypt, region, service, key.to_owned()));
                    }
                }
            }
        }
        grants.sort_unstable();
        grants.dedup();
        let mut statements: Vec<Statement> = Vec::new();
        let mut last = ("", "");
        for (action, region, service, resource) in grants {
            match statements.last_mut() {
                Some(s) if s.action == action && last == (region, service) => {
                    s.resources.push(resource);
                }
                _ => statements.push(Statement {
                    action,
                    resources: vec![resource],
                    condition: action.is_kms().then(|| match service {
                        "" => Condition::ViaService(kms::via_services(region, &readers)),
                        _ => Condition::ViaService(vec![kms::via(service, region)]),
                    }),
                    context: (!service.is_empty()).then(|| kms::context(region, service, &reads)),
                }),
            }
            last = (region, service);
        }
        PolicyDocument { statements }
    }

    /// The statements in the order of [`Action`]: one per action, except the KMS actions, which
    /// have one per region of their keys (and service, for the execution and task roles), in
    /// region order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The resources granted `action`, over all its statements, sorted and deduplicated (empty
    /// when it is not granted).
    pub fn resources(&self, action: Action) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .statements
            .iter()
            .filter(|s| s.action == action)
            .flat_map(|s| s.resources.iter().map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the document grants nothing (a declaration without secrets).
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The document as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a policy document always serializes")
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("PolicyDocument", 2)?;
        s.serialize_field("Version", POLICY_VERSION)?;
        s.serialize_field("Statement", &self.statements)?;
        s.end()
    }
}

impl fmt::Display for PolicyDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string_pretty(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// Why [`PolicyDocument::from_references`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// A reference without its region and account: a bare SSM parameter name (`/app/token`),
    /// which ECS reads in the task's own region and account. IAM matches the parameter's ARN,
    /// and a policy cannot know that region and account; give the ARN.
    NoRegionOrAccount {
        /// The reference, as ECS would read it.
        value_from: String,
    },
    /// A `kms_key` that is not a KMS key ARN (an alias, a malformed ARN).
    InvalidKmsKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::NoRegionOrAccount { value_from } => write!(
                f,
                "`{}` names no region and account (ECS reads a bare parameter name in \
                 the task's own), so no policy can name it without granting it in every region \
                 and account; give the parameter ARN `arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`",
                escaped(value_from)
            ),
            PolicyError::InvalidKmsKey { key, reason } => {
                write!(f, "kms_key `{}`: {}", escaped(key), escaped(reason))
            }
        }
    }
}

impl std::error::Error for PolicyError {}

/// The region of a checked KMS key ARN (`arn:PARTITION:kms:REGION:…`).
pub(crate) fn key_region(key: &str) -> &str {
    key.split(':').nth(3).unwrap_or_default()
}

/// The region of a reference; `None` for a bare SSM parameter name.
pub(crate) fn region(r: &ValueFrom) -> Option<&str> {
    match r {
        ValueFrom::SecretsManager(s) => Some(s.region()),
        ValueFrom::Ssm(p) => p.region(),
    }
}

/// The account that owns a reference's secret or parameter; `None` for a bare SSM parameter
/// name.
pub(crate) fn account(r: &ValueFrom) -> Option<&str> {
    match r {
        ValueFrom::SecretsManager(s) => Some(s.account()),
        ValueFrom::Ssm(value_from::SsmRef::Arn { account, .. }) => Some(account),
        ValueFrom::Ssm(value_from::SsmRef::Name(_)) => None,
    }
}

/// A resolved `kms_key`, checked with the grammar's one rule for keys (the derive's, at compile
/// time), as the template of itself: its braces are literal.
pub(crate) fn check_key(key: &str) -> Result<(), String> {
    value_from::check_kms_key(&value_from::escape_literal(key))
}

/// For `/aws/reference/secretsmanager/ID`, the IAM resource of the secret it reads: SSM checks the
/// caller's `GetSecretValue` on it (Systems Manager user guide, "Referencing AWS Secrets Manager
/// secrets from Parameter Store parameters"). The secret lives in the parameter's region and
/// account; `None` for any other parameter.
fn referenced_secret(p: &value_from::SsmRef) -> Option<String> {
    let value_from::SsmRef::Arn {
        partition,
        region,
        account,
        ..
    } = p
    else {
        return None;
    };
    let name = p.parameter_name();
    let id = name.strip_prefix(SSM_SECRETS_MANAGER_REFERENCE)?;
    let arn = value_from::secret_arn(partition, region, account, id);
    Some(match arn.parse::<ValueFrom>() {
        Ok(ValueFrom::SecretsManager(s)) => s.iam_resource(),
        // An id no secret name can be (longer than 512 characters): the same rule by hand.
        _ if value_from::strip_random_suffix(id).is_some() => arn,
        _ => arn + "-??????",
    })
}

/// Whether a reference follows the current version (no version id, no stage other than
/// `AWSCURRENT`): what the loader batches and what pinning pins.
pub(crate) fn follows_current(r: &value_from::SecretsManagerRef) -> bool {
    r.version_id().is_none() && r.version_stage().is_none_or(|stage| stage == AWSCURRENT)
}

/// The last path segment of a type name, without generics: `my_app::AppConfig` → `AppConfig`.
pub(crate) fn short_type_name<T>() -> &'static str {
    let full = core::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}
