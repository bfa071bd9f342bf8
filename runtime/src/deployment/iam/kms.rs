//! The conditions of the KMS statements: through which services a key may be used and, for the
//! roles that read values, to decrypt which secrets and parameters (see the
//! [module docs](super)).

use super::{Condition, SECRETS_MANAGER};

/// The `kms:ViaService` name of `service` in `region`: `amazonaws.com` in every partition (KMS
/// developer guide, `kms:ViaService`).
pub(super) fn via(service: &str, region: &str) -> String {
    format!("{service}.{region}.amazonaws.com")
}

/// The deploy steps' `kms:ViaService` values for a key in `region`: the services that read or
/// write references in that region (a key with none gets no statement).
pub(super) fn via_services(region: &str, readers: &[(&str, &str)]) -> Vec<String> {
    let mut services: Vec<&str> = readers
        .iter()
        .filter(|&&(r, _)| r == region)
        .map(|&(_, service)| service)
        .collect();
    services.sort_unstable();
    services.dedup();
    services.into_iter().map(|s| via(s, region)).collect()
}

/// The encryption context a decrypt through `service` in `region` must carry: one of the
/// secrets (`SecretARN`) or parameters (`PARAMETER_ARN`) read there, as that service names them
/// (`reads`: region, service, value).
pub(super) fn context(region: &str, service: &str, reads: &[(&str, &str, String)]) -> Condition {
    let mut values: Vec<String> = reads
        .iter()
        .filter(|&&(r, s, _)| (r, s) == (region, service))
        .map(|(_, _, value)| value.clone())
        .collect();
    values.sort_unstable();
    values.dedup();
    if service == SECRETS_MANAGER {
        Condition::SecretArn(values)
    } else {
        Condition::ParameterArn(values)
    }
}
