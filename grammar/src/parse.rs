//! The parser: text to [`ValueFrom`], strictly ([`FromStr`]) or with [`WILDCARD`]s standing for
//! placeholder text ([`parse_with_wildcards`]).

use std::str::FromStr;

use crate::rules::{
    Check, NO_SSM_SELECTOR, WILDCARD, check_account, check_json_key, check_partition, check_region,
    check_secret_text, check_ssm_name, check_version_id, check_version_stage, shown,
    strip_random_suffix,
};
use crate::types::{SecretsManagerRef, SsmRef, ValueFrom, ValueFromError};

const EXPECTED_SM: &str = "`arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`";
const EXPECTED_SSM: &str = "`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME`";

impl FromStr for ValueFrom {
    type Err = ValueFromError;
    /// Strict parse: a `WILDCARD` char is rejected like any other illegal char.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(WILDCARD) {
            let message = format!("valueFrom {s:?} contains the control character {WILDCARD:?}");
            return Err(ValueFromError { message });
        }
        parse_with_wildcards(s)
    }
}

/// Parses a template in which `WILDCARD` chars stand for unknown placeholder text (see
/// [`to_wildcards`](crate::__derive::to_wildcards)). Rules that depend on the unknown text are
/// skipped; every literal char must still be legal, and `arn:`, the service, `secret:` and
/// `parameter/` must be literal.
pub fn parse_with_wildcards(s: &str) -> Result<ValueFrom, ValueFromError> {
    parse(s).map_err(|message| ValueFromError { message })
}

fn parse(s: &str) -> Result<ValueFrom, String> {
    if s.starts_with("arn:") {
        return parse_arn(s);
    }
    if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:")) {
        return Err(format!(
            "`{}` looks like an ARN, but ARNs start with `arn:`",
            shown(s)
        ));
    }
    if s.is_empty() {
        return Err(format!(
            "valueFrom is empty; give {EXPECTED_SM}, or an SSM parameter name"
        ));
    }
    // ECS sends anything that is not an ARN to SSM, even a Secrets Manager secret name.
    check_ssm_name(s)?;
    Ok(ValueFrom::Ssm(SsmRef::Name(s.to_string())))
}

fn parse_arn(s: &str) -> Result<ValueFrom, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let expected = match parts.get(2).copied() {
        Some("secretsmanager") => EXPECTED_SM,
        Some("ssm") => EXPECTED_SSM,
        None => {
            return Err(format!(
                "ARN `{}` is incomplete; expected {EXPECTED_SM}",
                shown(s)
            ));
        }
        Some(other) => {
            let other = shown(other);
            return Err(format!(
                "ARN service `{other}` is not supported; expected {EXPECTED_SM} \
                or {EXPECTED_SSM}, with the service written literally"
            ));
        }
    };
    let arn = shown(s);
    let [_, partition, service, region, account, kind, rest @ ..] = parts.as_slice() else {
        return Err(format!("ARN `{arn}` is incomplete; expected {expected}"));
    };
    check_partition(partition)?;
    check_region(region)?;
    check_account(account)?;
    let [partition, region, account, kind] = [*partition, *region, *account, *kind];
    if *service == "ssm" {
        let name = match (kind.strip_prefix("parameter/"), kind, rest) {
            (Some(name), _, []) => name,
            (Some(_), _, _) => {
                return Err(format!(
                    "SSM ARN `{arn}` has ':' after the name; {NO_SSM_SELECTOR}"
                ));
            }
            (None, "parameter", [name, ..]) => {
                let name = shown(name);
                return Err(format!(
                    "SSM ARN `{arn}` has a colon after `parameter`; SSM ARNs use a \
                    slash: `parameter/{name}`"
                ));
            }
            (None, ..) => {
                return Err(format!(
                    "ARN resource `{}` is not supported; expected {expected}",
                    shown(kind)
                ));
            }
        };
        if name.is_empty() || name.starts_with('/') {
            let problem = if name.is_empty() {
                "has no parameter name after `parameter/`"
            } else {
                "has `parameter//`; the ARN of `/a/b` ends in `parameter/a/b` (no `//`)"
            };
            return Err(format!("SSM ARN `{arn}` {problem}"));
        }
        let [partition, region, account, name] =
            [partition, region, account, name].map(String::from);
        let r = SsmRef::Arn {
            partition,
            region,
            account,
            name,
        };
        check_ssm_name(&r.parameter_name())?;
        return Ok(ValueFrom::Ssm(r));
    }
    if kind != "secret" {
        let hint = if kind.starts_with("secret/") {
            " (a colon, not a slash, after `secret`)"
        } else {
            ""
        };
        return Err(format!(
            "ARN resource `{}` is not supported; expected {expected}{hint}",
            shown(kind)
        ));
    }
    let [name, fields @ ..] = rest else {
        return Err(format!("ARN `{arn}` has no secret name after `secret:`"));
    };
    let selector = match *fields {
        [] => None,
        [key, stage, id] => {
            check_selector(key, stage, id)?;
            Some([key, stage, id].map(String::from))
        }
        _ => {
            let n = fields.len();
            return Err(format!(
                "a Secrets Manager ARN takes either no fields or exactly three \
                (`:json-key:version-stage:version-id`) after the secret name, found {n}; leave \
                unused ones empty, e.g. `:password::`"
            ));
        }
    };
    // An ARN may carry the 7-char random suffix on top of the 512-char name.
    let max = if strip_random_suffix(name).is_some() {
        519
    } else {
        512
    };
    check_secret_text(name, max)?;
    let [partition, region, account, name] = [partition, region, account, name].map(String::from);
    let r = SecretsManagerRef {
        partition,
        region,
        account,
        name,
        selector,
    };
    Ok(ValueFrom::SecretsManager(r))
}

/// Checks the non-empty fields of a `:key:stage:id` tail.
fn check_selector(key: &str, stage: &str, id: &str) -> Check {
    let present = |s: &str, check: fn(&str) -> Check| if s.is_empty() { Ok(()) } else { check(s) };
    present(key, check_json_key)?;
    present(stage, check_version_stage)?;
    present(id, check_version_id)?;
    if !stage.is_empty() && !id.is_empty() {
        return Err(
            "a Secrets Manager ARN cannot give both a version stage and a version id; \
            keep one (`:key:STAGE:` or `:key::ID`)"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::to_wildcards;
    use crate::test_support::{run_table, sm};

    /// `strict` is `FromStr`; `wild` is `parse_with_wildcards(to_wildcards(input))`. Every
    /// accepted input must display as itself (with wildcards for placeholders).
    const PARSE_CASES: &str = r"
        strict | $SMdb                             | ok
        strict | $SMdb-AbC123                      | ok
        strict | $SMdb:password::                  | ok
        strict | $SMdb::AWSPREVIOUS:               | ok
        strict | $SMdb:::$UUID                     | ok
        strict | $SMdb:password:AWSPREVIOUS:       | ok
        strict | $SMdb:::                          | ok
        strict | $SMa/b_c+=.@-d                    | ok
        strict | $SMrds!db-0a1b2c3d-e4f5-4a6b-8c7d-9e0f1a2b3c4d-AbC123:password:: | ok
        strict | $SMevents!connection/hook/0a1b2c3d | ok
        strict | $SMrds!db!x                       | has a '!' out of place
        strict | $SM!db                            | has a '!' out of place
        strict | $SMRds!db                         | has a '!' out of place
        strict | $SMmy/rds!db                      | has a '!' out of place
        strict | $SMrds!my db                      | contains ' '; use only ASCII letters
        strict | arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db:k::  | ok
        strict | arn:aws-us-gov:ssm:us-gov-west-1:123456789012:parameter/a/b      | ok
        strict | $Pfoo                             | ok
        strict | $Pa/b                             | ok
        strict | /a/b                              | ok
        strict | x                                 | ok
        strict | /aws/reference/secretsmanager/db   | ok
        strict | $SMdb:password                     | either no fields or exactly three (`:json-key:version-stage:version-id`) after the secret name, found 1
        strict | $SMdb:password:AWSCURRENT         | found 2
        strict | $SMdb:a:b:c:d                     | found 4
        strict | $SMdb:a:b:c:d:e:f                 | found 6
        strict | $SMdb::AWSCURRENT:$UUID           | both a version stage and a version id
        strict | $SMdb:::abc                       | shorter than 32
        strict | $SMdb:::$A65                      | limit is 1..=64
        strict | $SMdb:a$W::                       | control character
        strict | $SM$A513                          | limit is 1..=512
        strict | $SMmy db                          | contains ' '
        strict | $SM                               | secret name is empty
        strict | arn:aws:s3:::bucket/key           | service `s3` is not supported
        strict | arn:aws:secretsmanager:us-east-1:123456789012:rotation:db | resource `rotation`
        strict | arn:aws:secretsmanager:us-east-1:123456789012:secret/db   | a colon, not a slash
        strict | arn:aws:secretsmanager:us-east-1:123456789012             | is incomplete
        strict | arn:                              | is incomplete
        strict | arn:aws:secretsmanager:us-east-1:123456789012:secret/db:k:: | a colon, not a slash
        strict | arn:aws:secretsmanager:us-east-1:123456789012:secret      | has no secret name
        strict | arn:aws:secretsmanager::123456789012:secret:db            | region is empty
        strict | arn:aws:secretsmanager:us-east-1::secret:db               | account is empty
        strict | arn:aws:secretsmanager:us-east-1:12345678901:secret:db    | has 11 digits
        strict | arn:AWS:secretsmanager:us-east-1:123456789012:secret:db   | partition `AWS` contains 'A'
        strict | arn:aws:secretsmanager:1us:123456789012:secret:db         | must start with a letter
        strict | ARN:aws:ssm:us-east-1:123456789012:parameter/x            | ARNs start with `arn:`
        strict | arn:aws:ssm:us-east-1:123456789012:parameter:x            | SSM ARNs use a slash: `parameter/x`
        strict | arn:aws:ssm:us-east-1:123456789012:document/x             | resource `document/x`
        strict | $P/x                              | no `//`
        strict | $Px:1                             | ECS does not accept a `:version` or `:label`
        strict | $Px:label                         | ECS does not accept
        strict | $P                                | has no parameter name
        strict | $Pa//b                            | empty path segment
        strict | name:label                        | ECS does not accept a `:version` or `:label`
        strict | name:1                            | ECS does not accept
        strict |                                   | valueFrom is empty
        strict | a b                               | contains ' '
        strict | a/b                               | hierarchies start with '/'
        strict | /a//b                             | empty path segment
        strict | $W                                | control character
        strict | {name}                            | contains '{'
        wild   | arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password:: | ok
        wild   | arn:{p}:ssm:{r}:{a}:parameter/{env}/db     | ok
        wild   | {prefix}/db                                | ok
        wild   | {whole}                                    | ok
        wild   | $SM{name}:::{id}                           | ok
        wild   | $SM{name}-{suffix}:{key}::                 | ok
        wild   | $SM{service}!{name}                        | ok
        wild   | arn:aws:secretsmanager:{region}:12x:secret:a | account `12x` contains 'x'
        wild   | arn:aws:secretsmanager:{r}:{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}:secret:a | account `{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}{…}` has 13 digits
        wild   | arn:aws:{svc}:us-east-1:123456789012:secret:a | written literally
        wild   | $SM{name}:{key}:{stage}:{id}               | both a version stage
        wild   | $SM{a}:b                                   | found 1
        wild   | $SMmy {a}                                  | secret name `my {…}` contains ' '
        wild   | {name}:{version}                           | ECS does not accept
        wild   | a{b                                        | unclosed '{'
    ";

    #[test]
    fn parse_cases() {
        run_table(PARSE_CASES, |mode, s| {
            let s = if mode == "strict" {
                s.to_string()
            } else {
                to_wildcards(s)?
            };
            let v = match mode {
                "strict" => s.parse::<ValueFrom>(),
                _ => parse_with_wildcards(&s),
            };
            let v = v.map_err(|e| e.to_string())?;
            assert_eq!(v.to_string(), s, "round trip");
            Ok(())
        });
    }

    #[test]
    fn wildcard_round_trip() {
        let tpl = "arn:aws:secretsmanager:{region}:{account}:secret:{stage}/db:password::";
        let v = parse_with_wildcards(&to_wildcards(tpl).unwrap()).unwrap();
        assert_eq!(sm(&v).json_key(), Some("password"));
        assert_eq!(v.to_string(), to_wildcards(tpl).unwrap());
    }
}
