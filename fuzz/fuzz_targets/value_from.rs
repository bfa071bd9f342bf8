//! Fuzzes the `valueFrom` grammar (the `ecs-secrets-grammar` crate, shared by the derive and the
//! runtime).
//!
//! For every UTF-8 input: nothing panics; whatever the strict parser accepts displays as exactly
//! the input, re-parses equal, obeys ECS's grammar as written down independently of the parser
//! (`tests/support/ecs_grammar.rs`), and its accessors agree with the text. The template
//! functions (`{placeholder}` syntax) must round-trip too.

#![no_main]

use ecs_secrets_grammar::__derive::{self as derive, Piece, WILDCARD, parse_with_wildcards};
use ecs_secrets_grammar::{SecretsManagerRef, SsmRef, ValueFrom, placeholders, resolve, ssm_arn};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/support/ecs_grammar.rs"]
mod ecs_grammar;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    strict(s);
    wildcards(s);
    template(s);
    for check in [
        derive::check_secret_name,
        derive::check_ssm_name,
        derive::check_json_key,
        derive::check_version_stage,
        derive::check_version_id,
        derive::check_env_name,
        derive::check_partition,
        derive::check_region,
        derive::check_account,
    ] {
        let _ = check(s);
    }
});

fn strict(s: &str) {
    let Ok(v) = s.parse::<ValueFrom>() else {
        return;
    };
    assert_eq!(v.to_string(), s, "display gives the input back");
    assert_eq!(s.parse::<ValueFrom>().as_ref(), Ok(&v), "re-parse is equal");
    assert!(
        !s.contains(WILDCARD),
        "the strict parser accepted a wildcard"
    );
    if let Err(why) = ecs_grammar::check(s) {
        panic!("accepted {s:?}, which ECS's grammar rejects: {why}");
    }
    match &v {
        ValueFrom::SecretsManager(r) => secrets_manager_accessors(s, r),
        ValueFrom::Ssm(r) => ssm_accessors(s, r),
    }
}

/// Templates compile to wildcard text, which `parse_with_wildcards` checks; it too must give back
/// exactly what it accepted.
fn wildcards(s: &str) {
    if let Ok(v) = parse_with_wildcards(s) {
        assert_eq!(v.to_string(), s, "wildcard parse gives the input back");
    }
}

fn template(s: &str) {
    let _ = placeholders([s]);
    let Ok(pieces) = derive::parse_template(s) else {
        assert!(derive::to_wildcards(s).is_err());
        return;
    };
    // Re-escaping the pieces gives exactly the template.
    let mut back = String::new();
    for p in &pieces {
        match p {
            Piece::Lit(t) => back.push_str(&derive::escape(t)),
            Piece::Var(n) => back.push_str(&format!("{{{n}}}")),
        }
    }
    assert_eq!(back, s, "template pieces re-escape to the input");
    // Any literal text escapes to a template of exactly that text.
    let lit = derive::parse_template(&derive::escape(s)).expect("escaped text is a valid template");
    assert!(
        (s.is_empty() && lit.is_empty()) || lit == [Piece::Lit(s.to_owned())],
        "escape({s:?}) parsed as {lit:?}"
    );
    // The wildcard char stands for the placeholders, so literal text may not hold it; any other
    // template has its wildcard form.
    let literal_wildcard = pieces
        .iter()
        .any(|p| matches!(p, Piece::Lit(t) if t.contains(WILDCARD)));
    match derive::to_wildcards(s) {
        Ok(wild) => {
            assert!(!literal_wildcard, "{s:?} has {WILDCARD:?} in its text");
            if let Ok(v) = parse_with_wildcards(&wild) {
                assert_eq!(v.to_string(), wild);
            }
        }
        Err(e) => assert!(literal_wildcard, "{s:?} has no wildcard form: {e}"),
    }
    // Substitution: every placeholder becomes the same value, literals stay.
    let resolved = resolve(s, &|_| Some("v".to_owned())).expect("a valid value resolves");
    let expected: String = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(t) => t.as_str(),
            Piece::Var(_) => "v",
        })
        .collect();
    assert_eq!(resolved, expected);
    if let Ok(v) = resolved.parse::<ValueFrom>() {
        assert_eq!(v.to_string(), resolved);
    }
}

fn secrets_manager_accessors(s: &str, r: &SecretsManagerRef) {
    let parts: Vec<&str> = s.split(':').collect();
    assert_eq!(
        [r.partition(), r.region(), r.account(), r.secret_name()],
        [parts[1], parts[3], parts[4], parts[6]]
    );
    assert_eq!(r.secret_id(), parts[..7].join(":"));
    let field = |i: usize| parts.get(i).copied().filter(|f| !f.is_empty());
    assert_eq!(
        [r.json_key(), r.version_stage(), r.version_id()],
        [field(7), field(8), field(9)]
    );
    assert_eq!(
        r.is_complete_arn(),
        ecs_grammar::has_random_suffix(parts[6])
    );
    let iam = r.iam_resource();
    if r.is_complete_arn() {
        assert_eq!(iam, r.secret_id());
    } else {
        assert_eq!(iam, format!("{}-??????", r.secret_id()));
    }
}

fn ssm_accessors(s: &str, r: &SsmRef) {
    match r {
        SsmRef::Name(name) => {
            assert_eq!(name, s);
            assert_eq!(
                (r.parameter_name(), r.region(), r.arn()),
                (s.into(), None, None)
            );
        }
        SsmRef::Arn { name, region, .. } => {
            assert_eq!(r.arn().as_deref(), Some(s));
            assert_eq!(r.region(), Some(region.as_str()));
            let want = if name.contains('/') {
                format!("/{name}")
            } else {
                name.clone()
            };
            assert_eq!(r.parameter_name(), want);
            // The normalized name maps back to the same ARN (no double slash).
            let parts: Vec<&str> = s.split(':').collect();
            assert_eq!(ssm_arn(parts[1], parts[3], parts[4], &want), s);
        }
    }
}
