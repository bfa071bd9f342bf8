//! The planner's rules, without AWS.

use zeroize::Zeroizing;

use super::*;

const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db";
const SSM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/app/token";
const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn vf(s: &str) -> ValueFrom {
    s.parse().expect("a valid valueFrom")
}

fn input<'a>(value_from: &str, value: &'a str) -> Input<'a> {
    let dest = destination(&vf(value_from));
    Input {
        value: Some(value),
        problem: dest.as_ref().err().cloned(),
        dest: dest.ok(),
    }
}

fn text(s: &str) -> Current {
    Current::Text(Zeroizing::new(s.to_owned()))
}

/// Plans `inputs` against one state for every destination.
fn run(inputs: &[Input<'_>], now: &Current, overwrite: bool) -> (Vec<StepAction>, Vec<Write>) {
    let (decisions, writes) = plan(inputs, &|_| now, &[KEY.to_owned()], overwrite);
    (decisions.into_iter().map(|d| d.action).collect(), writes)
}

#[test]
fn a_missing_secret_is_created_with_the_value_and_the_regions_key() {
    let (actions, writes) = run(&[input(SM, "pw")], &Current::Missing, false);
    assert_eq!(actions, [StepAction::Create]);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].op, Op::CreateSecret);
    assert_eq!(writes[0].payload.as_str(), "pw");
    assert_eq!(writes[0].kms_key.as_deref(), Some(KEY));
    assert!(matches!(&writes[0].dest, Dest::Secret { name, .. } if name == "app/db"));
}

#[test]
fn the_same_value_is_nothing_to_do_and_a_different_one_is_refused_unless_overwrite() {
    let (actions, writes) = run(&[input(SM, "pw")], &text("pw"), false);
    assert_eq!((actions, writes.len()), (vec![StepAction::NothingToDo], 0));
    let (actions, writes) = run(&[input(SM, "pw")], &text("other"), false);
    assert_eq!(actions, [StepAction::Refused(Refusal::Different)]);
    assert!(writes.is_empty());
    let (actions, writes) = run(&[input(SM, "pw")], &text("other"), true);
    assert_eq!(actions, [StepAction::NewVersion]);
    assert_eq!(writes[0].op, Op::PutSecretValue);
    assert_eq!(writes[0].kms_key, None, "an existing secret keeps its key");
}

#[test]
fn two_keys_of_one_secret_are_one_write_of_one_object() {
    let a = format!("{SM}:user::");
    let b = format!("{SM}:password::");
    let inputs = [input(&a, "admin"), input(&b, "pw")];
    let (actions, writes) = run(&inputs, &Current::Missing, false);
    assert_eq!(actions, [StepAction::MergeKey, StepAction::MergeKey]);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].inputs, [0, 1]);
    let object: serde_json::Value = serde_json::from_str(&writes[0].payload).unwrap();
    assert_eq!(
        object,
        serde_json::json!({"user": "admin", "password": "pw"})
    );

    // Into an existing object: other keys kept, an equal key nothing to do.
    let now = text(r#"{"password":"pw","port":5432,"host":"db"}"#);
    let (actions, writes) = run(&inputs, &now, false);
    assert_eq!(actions, [StepAction::MergeKey, StepAction::NothingToDo]);
    assert_eq!(writes[0].inputs, [0]);
    assert_eq!(writes[0].op, Op::PutSecretValue);
    let object: serde_json::Value = serde_json::from_str(&writes[0].payload).unwrap();
    assert_eq!(
        object,
        serde_json::json!({"password": "pw", "port": 5432, "host": "db", "user": "admin"})
    );
}

#[test]
fn a_key_into_what_is_not_an_object_is_refused_for_every_key() {
    let a = format!("{SM}:user::");
    let b = format!("{SM}:password::");
    let inputs = [input(&a, "admin"), input(&b, "pw")];
    for now in [text("plain"), text("[1]"), Current::Binary] {
        let (actions, writes) = run(&inputs, &now, true);
        assert_eq!(actions, vec![StepAction::Refused(Refusal::NotAnObject); 2]);
        assert!(writes.is_empty());
    }
}

#[test]
fn one_refused_key_stops_the_write_of_the_others() {
    let a = format!("{SM}:user::");
    let b = format!("{SM}:password::");
    let inputs = [input(&a, "admin"), input(&b, "pw")];
    let (actions, writes) = run(&inputs, &text(r#"{"password":"old"}"#), false);
    assert_eq!(
        actions,
        [
            StepAction::MergeKey,
            StepAction::Refused(Refusal::Different)
        ]
    );
    assert!(writes.is_empty());
}

#[test]
fn sizes_are_checked_against_each_destinations_limit() {
    let big = "x".repeat(SECRET_VALUE_LIMIT + 1);
    let (actions, _) = run(&[input(SM, &big)], &Current::Missing, false);
    assert_eq!(
        actions,
        [StepAction::Refused(Refusal::TooLarge {
            limit: SECRET_VALUE_LIMIT
        })]
    );
    let fits = "x".repeat(SECRET_VALUE_LIMIT);
    assert_eq!(
        run(&[input(SM, &fits)], &Current::Missing, false).0,
        [StepAction::Create]
    );

    let over = "x".repeat(PARAMETER_VALUE_LIMIT + 1);
    let (actions, _) = run(&[input(SSM, &over)], &Current::Missing, false);
    assert_eq!(
        actions,
        [StepAction::Refused(Refusal::TooLarge {
            limit: PARAMETER_VALUE_LIMIT
        })]
    );
    let advanced = "x".repeat(PARAMETER_STANDARD_LIMIT + 1);
    let (_, writes) = run(&[input(SSM, &advanced)], &Current::Missing, false);
    assert!(writes[0].advanced);
    let (_, writes) = run(&[input(SSM, "small")], &Current::Missing, false);
    assert!(!writes[0].advanced);

    // A merged object over the limit refuses the keys that would grow it.
    let key = format!("{SM}:k::");
    let (actions, _) = run(&[input(&key, &fits)], &Current::Missing, false);
    assert_eq!(
        actions,
        [StepAction::Refused(Refusal::TooLarge {
            limit: SECRET_VALUE_LIMIT
        })]
    );
}

#[test]
fn parameters_are_secure_strings_overwritten_only_when_different_and_asked() {
    let (actions, writes) = run(&[input(SSM, "t")], &Current::Missing, false);
    assert_eq!(actions, [StepAction::Create]);
    assert_eq!(writes[0].op, Op::PutParameter);
    assert!(!writes[0].overwrite);
    assert_eq!(writes[0].kms_key.as_deref(), Some(KEY));
    assert!(matches!(&writes[0].dest, Dest::Param { name, .. } if name == "/app/token"));
    assert!(run(&[input(SSM, "t")], &text("t"), true).1.is_empty());
    let (actions, writes) = run(&[input(SSM, "t")], &text("u"), true);
    assert_eq!(actions, [StepAction::NewVersion]);
    assert!(writes[0].overwrite);
    // A parameter in clear is never taken for a secret, even holding the value.
    for overwrite in [false, true] {
        let (actions, writes) = run(&[input(SSM, "t")], &Current::Plain, overwrite);
        assert_eq!(actions, [StepAction::Refused(Refusal::NotSecure)]);
        assert!(writes.is_empty());
    }
}

#[test]
fn declarations_a_migration_cannot_write_are_refused() {
    let pinned = format!("{SM}::AWSPREVIOUS:");
    let by_id = format!("{SM}:::0123456789abcdef0123456789abcdef");
    let via = "arn:aws:ssm:us-east-1:123456789012:parameter/aws/reference/secretsmanager/app/db";
    let (actions, writes) = run(
        &[input(&pinned, "a"), input(&by_id, "b"), input(via, "c")],
        &Current::Missing,
        false,
    );
    assert_eq!(
        actions,
        [
            StepAction::Refused(Refusal::Pinned),
            StepAction::Refused(Refusal::Pinned),
            StepAction::Refused(Refusal::ThroughSecretsManager)
        ]
    );
    assert!(writes.is_empty());
    // The current stage, spelled out, is not a pin.
    let current = format!("{SM}::AWSCURRENT:");
    assert_eq!(
        run(&[input(&current, "a")], &Current::Missing, false).0,
        [StepAction::Create]
    );
    // A complete ARN of a secret that does not exist cannot be created.
    let complete = format!("{SM}-AbCdEf");
    assert_eq!(
        run(&[input(&complete, "a")], &Current::Missing, false).0,
        [StepAction::Refused(Refusal::CompleteArnMissing)]
    );
}

#[test]
fn variables_for_one_place_must_agree() {
    let (actions, writes) = run(&[input(SM, "a"), input(SM, "a")], &Current::Missing, false);
    assert_eq!(actions, [StepAction::Create, StepAction::Create]);
    assert_eq!(writes.len(), 1, "one write for both");
    let (actions, _) = run(&[input(SM, "a"), input(SM, "b")], &Current::Missing, false);
    assert_eq!(actions, vec![StepAction::Refused(Refusal::Conflict); 2]);
    let key = format!("{SM}:k::");
    let (actions, _) = run(
        &[input(SM, "a"), input(&key, "a")],
        &Current::Missing,
        false,
    );
    assert_eq!(actions, vec![StepAction::Refused(Refusal::WholeAndKeys); 2]);
}

#[test]
fn unreadable_destinations_and_ambiguous_keys_are_refused() {
    let now = Current::Unreadable {
        code: "AccessDeniedException".into(),
        reason: "GetSecretValue failed: denied".into(),
    };
    let (actions, _) = run(&[input(SM, "a")], &now, false);
    assert!(
        matches!(&actions[0], StepAction::Refused(Refusal::Unreadable { code, .. }) if code == "AccessDeniedException")
    );
    let other = "arn:aws:kms:us-east-1:123456789012:key/2234abcd-12ab-34cd-56ef-1234567890ab";
    let inputs = [input(SM, "a")];
    let (decisions, writes) = plan(
        &inputs,
        &|_| &Current::Missing,
        &[KEY.to_owned(), other.to_owned()],
        false,
    );
    assert_eq!(
        decisions[0].action,
        StepAction::Refused(Refusal::SeveralKeys {
            region: "us-east-1".into()
        })
    );
    assert!(writes.is_empty());
    // Nothing to write needs no key.
    let same = text("a");
    let (decisions, _) = plan(
        &inputs,
        &|_| &same,
        &[KEY.to_owned(), other.to_owned()],
        false,
    );
    assert_eq!(decisions[0].action, StepAction::NothingToDo);
}

#[test]
fn merged_objects_are_wiped_buffers_and_refuse_what_is_not_an_object() {
    assert!(merged_object(Some("[]"), &[("k", "v")]).is_err());
    assert!(merged_object(Some("not json"), &[("k", "v")]).is_err());
    let out = merged_object(Some(r#"{"a":"\u00e9","n":1.5}"#), &[("k", "v\"")]).unwrap();
    let back: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(back, serde_json::json!({"a": "é", "n": 1.5, "k": "v\""}));
}

#[test]
fn one_secret_by_partial_and_complete_arn_is_one_destination_and_one_write() {
    let partial = format!("{SM}:user::");
    let complete = format!("{SM}-AbCdEf:password::");
    let inputs = [input(&partial, "u"), input(&complete, "pw")];
    let (actions, writes) = run(&inputs, &text(r#"{"other":"kept"}"#), false);
    assert_eq!(actions, [StepAction::MergeKey, StepAction::MergeKey]);
    assert_eq!(writes.len(), 1, "one write carries both keys");
    let merged: serde_json::Value = serde_json::from_str(writes[0].payload.as_str()).unwrap();
    assert_eq!(
        merged,
        serde_json::json!({"other": "kept", "user": "u", "password": "pw"})
    );
    assert_eq!(writes[0].inputs, [0, 1]);
}
