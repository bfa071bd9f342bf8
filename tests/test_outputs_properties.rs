//! Whatever the checks accept resolves, and every output of what resolves returns without a
//! panic: a derived declaration whose every part that may be a `{placeholder}` is one
//! (partition, region, account, names, ARNs, the `kms_key`s), resolved with generated values — mostly valid,
//! some near misses, some any text at all — gives either every problem as an error, or a
//! `Deployment` whose fragment, policies (every role), forms (every `Format`), warnings, merge
//! and check all work, and agree with each other.

use ecs_secrets::{Deployment, EcsSecrets, Format, PolicyDocument, Role, Task, ValueFrom, Vars};
use ecs_secrets_grammar::__derive::escape;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(
    partition = "{partition}",
    region = "{region}",
    account = "{account}",
    kms_key = "arn:{partition}:kms:{key_region}:{key_account}:key/{key_id}",
    kms_key = "arn:aws:kms:{region}:{account}:key/{key_id}"
)]
struct Wild {
    #[ecs(secret = "{secret}", key = "password")]
    by_name: String,
    #[ecs(secret = "{secret}", version_stage = "AWSPREVIOUS")]
    staged: String,
    #[ecs(
        secret = "arn:{partition}:secretsmanager:{other_region}:{other_account}:secret:{other_secret}",
        version_id = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE"
    )]
    pinned: Option<String>,
    #[ecs(ssm = "{parameter}")]
    parameter: String,
    #[ecs(ssm = "/aws/reference/secretsmanager/{other_secret}")]
    through_ssm: String,
    #[ecs(ssm = "arn:{partition}:ssm:{other_region}:{other_account}:parameter/{other_parameter}")]
    elsewhere: String,
    plain: String,
}

const ROLES: [Role; 6] = [
    Role::Execution,
    Role::Task,
    Role::Pin,
    Role::Preflight,
    Role::PreflightReadValues,
    Role::Migrate,
];

const FORMATS: [Format; 6] = [
    Format::Ecs,
    Format::CloudFormation,
    Format::CloudFormationYaml,
    Format::Terraform,
    Format::Copilot,
    Format::RenderAction,
];

/// Mostly a value of `valid`, sometimes one of the edge cases, now and then any text.
fn value(valid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        24 => proptest::string::string_regex(valid).unwrap(),
        1 => select(&["", ":", "{x}", "}", "\u{1a}", "a\nb", "\u{1b}[8m", "*", "é"][..])
            .prop_map(String::from),
        1 => any::<String>(),
    ]
}

fn vars() -> impl Strategy<Value = Vars> {
    let regions = "[a-z]{2}-[a-z]{3,9}-[0-9]";
    let parts = (
        (
            value("aws(-[a-z]{2,3})?"),
            value(regions),
            value("[0-9]{12}"),
            value(regions),
            value("[0-9]{12}"),
            value("[a-f0-9]{8}(-[a-f0-9]{4}){0,4}"),
        ),
        (
            value("[A-Za-z0-9/_+=.@-]{1,24}"),
            value(regions),
            value("[0-9]{12}"),
            value("[a-z0-9/_-]{1,20}(-[A-Za-z0-9]{6})?"),
        ),
        (
            value("(/[A-Za-z0-9_.-]{1,10}){1,3}|[A-Za-z0-9_.-]{1,12}"),
            value("[A-Za-z0-9_.-]{1,10}(/[A-Za-z0-9_.-]{1,10}){0,2}"),
        ),
    );
    parts.prop_map(|((p, r, a, kr, ka, id), (s, or, oa, os), (pa, op))| {
        Vars::new()
            .with("partition", p)
            .with("region", r)
            .with("account", a)
            .with("key_region", kr)
            .with("key_account", ka)
            .with("key_id", id)
            .with("secret", s)
            .with("other_region", or)
            .with("other_account", oa)
            .with("other_secret", os)
            .with("parameter", pa)
            .with("other_parameter", op)
    })
}

/// Every output of `d`, each checked against the others where they must agree.
fn every_output(d: &Deployment) -> Result<(), TestCaseError> {
    let secrets = d.secrets();
    prop_assert_eq!(secrets.len(), 6);
    for s in &secrets {
        // Each reference is one the strict parser takes back as it is.
        let parsed: ValueFrom = s
            .value_from
            .parse()
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", s.value_from.escape_debug())))?;
        prop_assert_eq!(parsed.to_string(), s.value_from.clone());
    }
    let task = Task::new().container("app", d.clone());
    for role in ROLES {
        let policy = d.policy(role);
        let json = policy.to_json();
        prop_assert_eq!(json["Version"].as_str(), Some("2012-10-17"));
        prop_assert!(!policy.to_string().is_empty());
        // A deployment's keys are ones a policy can be built for by hand too.
        let refs: Vec<&ValueFrom> = d.references().map(|(_, v)| v).collect();
        let keys = d.kms_keys().iter().map(String::as_str);
        let by_hand = PolicyDocument::from_references(role, refs, keys);
        prop_assert_eq!(by_hand.as_ref(), Ok(&policy));
        let _ = task.policy(role);
        for format in FORMATS {
            let _ = format.policy(&policy, role);
        }
    }
    for format in FORMATS {
        prop_assert!(!format.secrets(&secrets).is_empty());
        let _ = format.task(&task);
    }
    for w in d.warnings() {
        prop_assert!(!w.to_string().is_empty());
    }
    // Merged into a task definition, the container has exactly the declaration's secrets.
    let mut td = json!({"family": "app", "containerDefinitions": [
        {"name": "app", "environment": [{"name": "PLAIN", "value": "x"}]},
        {"name": "sidecar"},
    ]});
    d.merge_into(&mut td, "app").unwrap();
    prop_assert_eq!(
        &td["containerDefinitions"][0]["secrets"],
        &serde_json::to_value(&secrets).unwrap()
    );
    let report = d.check(&td, "app").unwrap();
    prop_assert!(!report.has_drift(), "{}", report);
    task.merge_into(&mut td).unwrap();
    prop_assert!(!task.check(&td).unwrap().has_drift());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Values the checks refuse are reported, all of them; values they accept make a
    /// deployment whose every output works.
    #[test]
    fn every_accepted_declaration_resolves_and_every_output_works(vars in vars()) {
        match Wild::deployment_for(&vars) {
            Ok(d) => every_output(&d)?,
            Err(e) => {
                prop_assert!(!e.errors().is_empty());
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    /// One rule for a key: the grammar's `check_kms_key` accepts exactly the keys a policy can
    /// be built for, and a policy built for one never panics.
    #[test]
    fn the_key_rule_is_the_policys(
        key in prop_oneof![
            "arn:aws(-cn)?:kms:[a-z]{2}-[a-z]{4}-[0-9]:[0-9]{12}:key/[a-zA-Z0-9-]{1,12}",
            "arn:[a-z-]{0,8}:kms:[a-z0-9{}-]{0,8}:[0-9{}]{10,13}:(key|alias)/[a-zA-Z0-9{}*\\x1a-]{0,8}",
            any::<String>(),
        ]
    ) {
        let accepted = ecs_secrets_grammar::check_kms_key(&escape(&key)).is_ok();
        for role in ROLES {
            let policy = PolicyDocument::from_references(role, [], [key.as_str()]);
            prop_assert_eq!(policy.is_ok(), accepted, "{:?}", key);
            if let Ok(policy) = policy {
                let _ = policy.to_string();
            }
        }
    }
}

/// The path the property takes when every value is valid, once for certain.
#[test]
fn a_valid_environment_resolves_and_every_output_works() {
    let vars = Vars::new()
        .with("partition", "aws")
        .with("region", "us-east-1")
        .with("account", "123456789012")
        .with("key_region", "eu-west-1")
        .with("key_account", "111122223333")
        .with("key_id", "1234abcd-12ab")
        .with("secret", "prod/db")
        .with("other_region", "eu-west-1")
        .with("other_account", "111122223333")
        .with("other_secret", "platform/api-AbC123")
        .with("parameter", "prod/token")
        .with("other_parameter", "platform/flags");
    let d = Wild::deployment_for(&vars).unwrap();
    every_output(&d).unwrap();
    assert_eq!(d.kms_keys().len(), 2);
}
