//! ECS's `valueFrom` grammar, written from the ECS, Secrets Manager and Systems Manager
//! documentation without calling the parser of the `ecs-secrets-grammar` crate, so that tests
//! and the fuzz target can check the parser against it. Shared by `tests/test_properties.rs` and
//! `fuzz/fuzz_targets/value_from.rs`.
//!
//! It checks only what a string the parser *accepts* must satisfy; it is not a second parser.

/// `Ok` when `s` is a `valueFrom` ECS would accept; otherwise the rule it breaks.
pub fn check(s: &str) -> Result<(), &'static str> {
    if s.contains('\u{1A}') {
        return Err("contains the placeholder wildcard");
    }
    if !s.starts_with("arn:") {
        // ECS hands anything that is not an ARN to SSM as a bare parameter name.
        return ssm_name(s);
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() < 6 {
        return Err("ARN with fewer than 6 parts");
    }
    let (partition, service, region, account) = (parts[1], parts[2], parts[3], parts[4]);
    if !is_partition(partition) {
        return Err("partition");
    }
    if !is_region(region) {
        return Err("region");
    }
    if !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
        return Err("account is not 12 digits");
    }
    match service {
        "secretsmanager" => {
            if parts[5] != "secret" {
                return Err("resource is not `secret`");
            }
            // `secret:NAME` then either no fields or exactly three (`:key:stage:id`).
            let (name, fields) = match &parts[6..] {
                [name] => (*name, None),
                [name, k, st, id] => (*name, Some((*k, *st, *id))),
                _ => return Err("not 0 or 3 fields after the secret name"),
            };
            // 1–512 chars, plus the 7-char random suffix of a complete ARN.
            let max = if has_random_suffix(name) { 519 } else { 512 };
            if name.is_empty() || name.len() > max || !is_secret_name(name) {
                return Err("secret name");
            }
            if let Some((_key, stage, id)) = fields {
                if !stage.is_empty() && !id.is_empty() {
                    return Err("both a version stage and a version id");
                }
                if stage.chars().count() > 256 {
                    return Err("version stage longer than 256");
                }
                if !id.is_empty() && !(32..=64).contains(&id.chars().count()) {
                    return Err("version id not 32..=64 characters");
                }
            }
            Ok(())
        }
        "ssm" => {
            if parts.len() != 6 {
                return Err("SSM ARN with ':' after the resource (a selector)");
            }
            let Some(name) = parts[5].strip_prefix("parameter/") else {
                return Err("SSM resource is not `parameter/NAME`");
            };
            if name.starts_with('/') {
                return Err("`parameter//`");
            }
            let name = if name.contains('/') {
                format!("/{name}")
            } else {
                name.to_owned()
            };
            ssm_name(&name)
        }
        _ => Err("service is neither secretsmanager nor ssm"),
    }
}

/// An SSM parameter name: 1–2048 of `A-Za-z0-9_.-/`, a hierarchy starts with '/', no empty
/// segment. No ':' (ECS rejects `name:version` and `name:label`).
pub fn ssm_name(n: &str) -> Result<(), &'static str> {
    if n.is_empty() || n.len() > 2048 {
        return Err("SSM name length");
    }
    if !n
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
    {
        return Err("SSM name characters");
    }
    if n.contains('/') && !n.starts_with('/') {
        return Err("SSM hierarchy does not start with '/'");
    }
    if n.contains("//") || n.ends_with('/') {
        return Err("SSM empty path segment");
    }
    Ok(())
}

/// `aws`, or `aws-` followed by non-empty lowercase/digit parts joined by '-'.
pub fn is_partition(p: &str) -> bool {
    let part = |x: &str| {
        !x.is_empty()
            && x.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    p == "aws"
        || p.strip_prefix("aws-")
            .is_some_and(|r| r.split('-').all(part))
}

/// Lowercase letters, digits and '-', starting with a letter.
pub fn is_region(r: &str) -> bool {
    r.starts_with(|c: char| c.is_ascii_lowercase())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Secret names: ASCII letters, digits and `/_+=.@-`.
pub fn secret_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b)
}

/// A secret name: [`secret_byte`]s, after the `service!` prefix (lowercase letters, digits and
/// `-`) that names a secret another AWS service manages, e.g. `rds!db-…`.
pub fn is_secret_name(name: &str) -> bool {
    let rest = match name.split_once('!') {
        Some((service, rest))
            if !service.is_empty()
                && service
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            rest
        }
        Some(_) => return false,
        None => name,
    };
    !rest.is_empty() && rest.bytes().all(secret_byte)
}

/// Ends in `-` plus 6 ASCII letters/digits: the random suffix of a complete secret ARN.
pub fn has_random_suffix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 7 && b[b.len() - 7] == b'-' && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
}
