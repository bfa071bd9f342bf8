//! An AWS Copilot manifest's `secrets:` map.
//!
//! Copilot takes an SSM parameter by name (`NAME: /param/name`) and a Secrets Manager secret as
//! `NAME: {secretsmanager: 'ID'}`, where ID is a name or an ARN with the ECS `:key:stage:id`
//! tail (Copilot documentation, "Secrets"). A declaration always holds ARNs; the secret's ARN is
//! kept as it is (it may be in any account), and a parameter is given by name only when it is
//! in the account and region the service deploys to, which only the caller knows.

use crate::deployment::fragment::SecretRef;
use crate::value_from::{SsmRef, ValueFrom};

/// The `secrets:` map of a Copilot manifest (YAML, a final newline). `home` is the
/// `(region, account)` the service deploys to, when known: a parameter there is given by its
/// name (`/prod/app/token`), every other one by its ARN.
pub fn copilot_secrets(secrets: &[SecretRef], home: Option<(&str, &str)>) -> String {
    let mut out = String::from("secrets:\n");
    for s in secrets {
        let value = match s.value_from.parse::<ValueFrom>() {
            Ok(ValueFrom::SecretsManager(_)) => {
                format!("{{secretsmanager: {}}}", quote(&s.value_from))
            }
            Ok(ValueFrom::Ssm(
                ref p @ SsmRef::Arn {
                    ref region,
                    ref account,
                    ..
                },
            )) if home == Some((region.as_str(), account.as_str())) => quote(&p.parameter_name()),
            _ => quote(&s.value_from),
        };
        out.push_str(&format!("  {}: {value}\n", s.name));
    }
    out
}

/// A single-quoted YAML scalar (`'` doubled): ARNs hold `:`, which a plain scalar cannot.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
