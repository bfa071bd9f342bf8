//! The decisions of a migration, without AWS: given each variable's value and what its
//! destination holds now, what to write (at most one write per destination) and what to refuse.
//!
//! Pure, so that every rule is unit-tested here; `mod.rs` reads the current state, calls
//! [`plan`], and sends the writes.

use serde_json::{Map, Value};
use zeroize::{Zeroize, Zeroizing};

use super::{Refusal, StepAction};
use crate::deploy::{PARAMETER_STANDARD_LIMIT, PARAMETER_VALUE_LIMIT, SECRET_VALUE_LIMIT};
use crate::deployment::iam::SSM_SECRETS_MANAGER_REFERENCE;
use crate::extract::{self, ExtractError};
use crate::value_from::ValueFrom;

/// Where one variable's value goes. Two are the same destination when they name the same secret
/// or parameter, however written: a secret by partial and by complete ARN is one secret (one
/// read, one write carrying every key), so equality is by identity, not by text.
#[derive(Clone, Debug)]
pub(super) enum Dest {
    /// A Secrets Manager secret: its region, `SecretId` (the ARN without the ECS tail), the name
    /// `CreateSecret` takes, and whether the ARN is complete (ends in the random suffix).
    Secret {
        region: String,
        id: String,
        name: String,
        complete: bool,
    },
    /// An SSM parameter: its region (`None`: the caller's, for a bare name), the identifier
    /// `GetParameters` takes (the `valueFrom`), and the name `PutParameter` takes.
    Param {
        region: Option<String>,
        ident: String,
        name: String,
    },
}

impl PartialEq for Dest {
    fn eq(&self, other: &Dest) -> bool {
        // A complete ARN is its partial ARN plus the random suffix (a partial ARN that only
        // looks complete is refused when the declaration compiles).
        let secret = |id: &str| -> String {
            crate::value_from::strip_random_suffix(id)
                .unwrap_or(id)
                .to_owned()
        };
        match (self, other) {
            (
                Dest::Secret {
                    region: r, id: a, ..
                },
                Dest::Secret {
                    region: s, id: b, ..
                },
            ) => r == s && secret(a) == secret(b),
            (
                Dest::Param {
                    region: r,
                    ident: a,
                    ..
                },
                Dest::Param {
                    region: s,
                    ident: b,
                    ..
                },
            ) => r == s && a == b,
            _ => false,
        }
    }
}

impl Eq for Dest {}

impl Dest {
    pub(super) fn region(&self) -> Option<&str> {
        match self {
            Dest::Secret { region, .. } => Some(region),
            Dest::Param { region, .. } => region.as_deref(),
        }
    }

    /// The ARN (or name) the report shows.
    pub(super) fn shown(&self) -> &str {
        match self {
            Dest::Secret { id, .. } => id,
            Dest::Param { ident, .. } => ident,
        }
    }
}

/// The destination of a reference and its JSON key, or why a migration cannot write it.
pub(super) fn destination(value_from: &ValueFrom) -> Result<(Dest, Option<String>), Refusal> {
    match value_from {
        ValueFrom::SecretsManager(s) => {
            if !crate::deployment::iam::follows_current(s) {
                return Err(Refusal::Pinned);
            }
            Ok((
                Dest::Secret {
                    region: s.region().to_owned(),
                    id: s.secret_id(),
                    name: crate::value_from::strip_random_suffix(s.secret_name())
                        .unwrap_or(s.secret_name())
                        .to_owned(),
                    complete: s.is_complete_arn(),
                },
                s.json_key().map(str::to_owned),
            ))
        }
        ValueFrom::Ssm(p) => {
            let name = p.parameter_name();
            if name.starts_with(SSM_SECRETS_MANAGER_REFERENCE) {
                return Err(Refusal::ThroughSecretsManager);
            }
            Ok((
                Dest::Param {
                    region: p.region().map(str::to_owned),
                    ident: value_from.to_string(),
                    name,
                },
                None,
            ))
        }
    }
}

/// What a destination holds now.
pub(super) enum Current {
    /// It does not exist.
    Missing,
    /// Its current value (a secret's `SecretString`, a parameter's decrypted value).
    Text(Zeroizing<String>),
    /// A secret with only `SecretBinary`.
    Binary,
    /// A parameter stored in clear (`String` or `StringList`): its value is not kept.
    Plain,
    /// It could not be read: AWS's (or our) code and message, never a value.
    Unreadable { code: String, reason: String },
}

/// One variable to migrate, as the planner sees it.
pub(super) struct Input<'a> {
    /// Its value; `None` when [`Input::problem`] says why there is none.
    pub value: Option<&'a str>,
    /// Why it cannot be migrated whatever AWS holds (found in the JSON or the declaration).
    pub problem: Option<Refusal>,
    pub dest: Option<(Dest, Option<String>)>,
}

/// What the planner decided for one variable: its [`StepAction`], and whether the destination
/// exists (`None`: unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Decision {
    pub action: StepAction,
    pub exists: Option<bool>,
}

/// What to send: one write per destination, with every variable it carries.
pub(super) struct Write {
    pub op: Op,
    pub dest: Dest,
    /// The whole new value (a merged JSON object for keys).
    pub payload: Zeroizing<String>,
    /// The declared `kms_key` of the destination's region, for a new secret or any parameter.
    pub kms_key: Option<String>,
    /// `PutParameter`'s `Overwrite` (the value exists and differs, and overwriting was asked).
    pub overwrite: bool,
    /// `PutParameter`'s advanced tier (a value over the standard tier's limit).
    pub advanced: bool,
    /// The inputs this write stores, in order.
    pub inputs: Vec<usize>,
}

/// The request a [`Write`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    CreateSecret,
    PutSecretValue,
    PutParameter,
}

impl Op {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Op::CreateSecret => "CreateSecret",
            Op::PutSecretValue => "PutSecretValue",
            Op::PutParameter => "PutParameter",
        }
    }
}

/// Decides every input: `current(i)` is what the destination of input `i` holds (asked once
/// per destination). Returns a decision per input and the writes, in order of their first input.
pub(super) fn plan<'c>(
    inputs: &[Input<'_>],
    current: &dyn Fn(&Dest) -> &'c Current,
    kms_keys: &[String],
    overwrite: bool,
) -> (Vec<Decision>, Vec<Write>) {
    let mut decisions: Vec<Option<Decision>> = vec![None; inputs.len()];
    // Inputs grouped by destination, in order of first appearance.
    let mut groups: Vec<(&Dest, Vec<usize>)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        if let Some(problem) = &input.problem {
            decisions[i] = Some(refused(problem.clone(), None));
        }
        let Some((dest, _)) = &input.dest else {
            continue;
        };
        match groups.iter_mut().find(|(d, _)| *d == dest) {
            Some((_, members)) => members.push(i),
            None => groups.push((dest, vec![i])),
        }
    }
    let mut writes = Vec::new();
    for (dest, members) in groups {
        let live: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| decisions[i].is_none())
            .collect();
        if live.is_empty() {
            continue;
        }
        let ctx = Group {
            inputs,
            dest,
            current: current(dest),
            kms_key: key_for(dest, kms_keys),
            overwrite,
        };
        if let Some(write) = ctx.decide(&live, &mut decisions) {
            writes.push(write);
        }
    }
    let decisions = decisions
        .into_iter()
        .map(|d| d.expect("every input is decided"))
        .collect();
    (decisions, writes)
}

fn refused(refusal: Refusal, exists: Option<bool>) -> Decision {
    Decision {
        action: StepAction::Refused(refusal),
        exists,
    }
}

/// The declared `kms_key` of the destination's region: `Ok(None)` when none is declared there,
/// `Err` when several are (which one to encrypt with is not said).
fn key_for(dest: &Dest, kms_keys: &[String]) -> Result<Option<String>, Refusal> {
    let Some(region) = dest.region() else {
        return Ok(None);
    };
    let mut keys = kms_keys
        .iter()
        .filter(|k| crate::deployment::iam::key_region(k) == region);
    match (keys.next(), keys.next()) {
        (None, _) => Ok(None),
        (Some(key), None) => Ok(Some(key.clone())),
        (Some(_), Some(_)) => Err(Refusal::SeveralKeys {
            region: region.to_owned(),
        }),
    }
}

/// One destination's inputs.
struct Group<'a, 'c> {
    inputs: &'a [Input<'a>],
    dest: &'a Dest,
    current: &'c Current,
    kms_key: Result<Option<String>, Refusal>,
    overwrite: bool,
}

impl Group<'_, '_> {
    fn value(&self, i: usize) -> &str {
        self.inputs[i]
            .value
            .expect("inputs without a problem have a value")
    }

    fn key(&self, i: usize) -> Option<&str> {
        self.inputs[i].dest.as_ref().and_then(|(_, k)| k.as_deref())
    }

    fn exists(&self) -> Option<bool> {
        match self.current {
            Current::Missing => Some(false),
            Current::Text(_) | Current::Binary | Current::Plain => Some(true),
            Current::Unreadable { .. } => None,
        }
    }

    fn refuse_all(&self, members: &[usize], refusal: &Refusal, out: &mut [Option<Decision>]) {
        for &i in members {
            out[i] = Some(refused(refusal.clone(), self.exists()));
        }
    }

    /// Decides `members` (all without a problem); the write, if one is needed and nothing of
    /// this destination is refused.
    fn decide(&self, members: &[usize], out: &mut [Option<Decision>]) -> Option<Write> {
        if let Current::Unreadable { code, reason } = self.current {
            let refusal = Refusal::Unreadable {
                code: code.clone(),
                reason: reason.clone(),
            };
            self.refuse_all(members, &refusal, out);
            return None;
        }
        // Two variables for one value (the whole secret, a parameter, or one key) must agree.
        for (n, &i) in members.iter().enumerate() {
            let clash = members[..n]
                .iter()
                .any(|&j| self.key(j) == self.key(i) && self.value(j) != self.value(i));
            if clash {
                let same: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&j| self.key(j) == self.key(i))
                    .collect();
                self.refuse_all(&same, &Refusal::Conflict, out);
            }
        }
        let whole = members.iter().any(|&i| self.key(i).is_none());
        let keyed = members.iter().any(|&i| self.key(i).is_some());
        if whole && keyed {
            self.refuse_all(members, &Refusal::WholeAndKeys, out);
        }
        let live: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| out[i].is_none())
            .collect();
        let write = match self.dest {
            Dest::Secret { .. } if keyed => self.merge_keys(&live, out),
            Dest::Secret { .. } => self.whole_secret(&live, out),
            Dest::Param { .. } => self.parameter(&live, out),
        }?;
        // Any refusal of this destination: nothing is written to it.
        if members.iter().any(|&i| {
            matches!(
                out[i],
                Some(Decision {
                    action: StepAction::Refused(_),
                    ..
                })
            )
        }) {
            return None;
        }
        Some(write)
    }

    /// One decision for every live member, and the write they share.
    fn single(
        &self,
        live: &[usize],
        action: StepAction,
        out: &mut [Option<Decision>],
        write: impl FnOnce(Option<String>) -> Write,
    ) -> Option<Write> {
        if live.is_empty() {
            return None;
        }
        let writes = !matches!(action, StepAction::NothingToDo | StepAction::Refused(_));
        let kms_key = match (&self.kms_key, writes) {
            (Err(refusal), true) => {
                self.refuse_all(live, refusal, out);
                return None;
            }
            (Ok(key), _) => key.clone(),
            (Err(_), false) => None,
        };
        for &i in live {
            out[i] = Some(Decision {
                action: action.clone(),
                exists: self.exists(),
            });
        }
        writes.then(|| write(kms_key))
    }

    fn whole_secret(&self, live: &[usize], out: &mut [Option<Decision>]) -> Option<Write> {
        let &first = live.first()?;
        let value = self.value(first);
        let Dest::Secret { complete, .. } = self.dest else {
            unreachable!("called for secrets")
        };
        let action = if value.len() > SECRET_VALUE_LIMIT {
            StepAction::Refused(Refusal::TooLarge {
                limit: SECRET_VALUE_LIMIT,
            })
        } else {
            match self.current {
                Current::Missing if *complete => StepAction::Refused(Refusal::CompleteArnMissing),
                Current::Missing => StepAction::Create,
                Current::Text(now) if now.as_str() == value => StepAction::NothingToDo,
                Current::Text(_) | Current::Binary if self.overwrite => StepAction::NewVersion,
                Current::Text(_) => StepAction::Refused(Refusal::Different),
                Current::Binary | Current::Plain => StepAction::Refused(Refusal::Binary),
                Current::Unreadable { .. } => unreachable!("refused before"),
            }
        };
        let op = if matches!(action, StepAction::Create) {
            Op::CreateSecret
        } else {
            Op::PutSecretValue
        };
        self.single(live, action, out, |kms_key| Write {
            op,
            dest: self.dest.clone(),
            payload: Zeroizing::new(value.to_owned()),
            // An existing secret keeps its key: `PutSecretValue` takes none.
            kms_key: kms_key.filter(|_| op == Op::CreateSecret),
            overwrite: false,
            advanced: false,
            inputs: live.to_vec(),
        })
    }

    fn parameter(&self, live: &[usize], out: &mut [Option<Decision>]) -> Option<Write> {
        let &first = live.first()?;
        let value = self.value(first);
        let action = if value.len() > PARAMETER_VALUE_LIMIT {
            StepAction::Refused(Refusal::TooLarge {
                limit: PARAMETER_VALUE_LIMIT,
            })
        } else {
            match self.current {
                Current::Missing => StepAction::Create,
                Current::Text(now) if now.as_str() == value => StepAction::NothingToDo,
                Current::Text(_) if self.overwrite => StepAction::NewVersion,
                Current::Plain => StepAction::Refused(Refusal::NotSecure),
                Current::Text(_) | Current::Binary => StepAction::Refused(Refusal::Different),
                Current::Unreadable { .. } => unreachable!("refused before"),
            }
        };
        let overwrite = matches!(action, StepAction::NewVersion);
        self.single(live, action, out, |kms_key| Write {
            op: Op::PutParameter,
            dest: self.dest.clone(),
            payload: Zeroizing::new(value.to_owned()),
            kms_key,
            overwrite,
            advanced: value.len() > PARAMETER_STANDARD_LIMIT,
            inputs: live.to_vec(),
        })
    }

    /// JSON keys of one secret: each key compared as the ECS agent extracts it; the keys that
    /// differ (or are missing) merged into the object in one write.
    fn merge_keys(&self, live: &[usize], out: &mut [Option<Decision>]) -> Option<Write> {
        let Dest::Secret { complete, .. } = self.dest else {
            unreachable!("called for secrets")
        };
        let now: Option<&str> = match self.current {
            Current::Missing if *complete => {
                self.refuse_all(live, &Refusal::CompleteArnMissing, out);
                return None;
            }
            Current::Missing => None,
            Current::Text(text) => Some(text),
            Current::Binary | Current::Plain => {
                self.refuse_all(live, &Refusal::NotAnObject, out);
                return None;
            }
            Current::Unreadable { .. } => unreachable!("refused before"),
        };
        let mut changed: Vec<usize> = Vec::new();
        for &i in live {
            let key = self.key(i).expect("keyed members");
            let action = match now.map(|text| extract::json_key(text, key)) {
                None | Some(Err(ExtractError::KeyMissing)) => StepAction::MergeKey,
                Some(Ok(v)) if v.as_str() == self.value(i) => StepAction::NothingToDo,
                Some(Ok(_)) if self.overwrite => StepAction::MergeKey,
                Some(Ok(_)) => StepAction::Refused(Refusal::Different),
                Some(Err(_)) => {
                    self.refuse_all(live, &Refusal::NotAnObject, out);
                    return None;
                }
            };
            if action == StepAction::MergeKey {
                changed.push(i);
            }
            out[i] = Some(Decision {
                action,
                exists: self.exists(),
            });
        }
        if changed.is_empty() {
            return None;
        }
        if let Err(refusal) = &self.kms_key {
            self.refuse_all(&changed, refusal, out);
            return None;
        }
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for &i in &changed {
            let key = self.key(i).expect("keyed members");
            if !pairs.iter().any(|(k, _)| *k == key) {
                pairs.push((key, self.value(i)));
            }
        }
        let refusal = match merged_object(now, &pairs) {
            Ok(payload) if payload.len() <= SECRET_VALUE_LIMIT => {
                let op = if now.is_some() {
                    Op::PutSecretValue
                } else {
                    Op::CreateSecret
                };
                let kms_key = self.kms_key.clone().ok().flatten();
                return Some(Write {
                    op,
                    dest: self.dest.clone(),
                    payload,
                    kms_key: kms_key.filter(|_| op == Op::CreateSecret),
                    overwrite: false,
                    advanced: false,
                    inputs: changed,
                });
            }
            Ok(_) => Refusal::TooLarge {
                limit: SECRET_VALUE_LIMIT,
            },
            // serde_json refuses what Go accepted (a lone surrogate escape, deep nesting).
            Err(()) => Refusal::NotAnObject,
        };
        self.refuse_all(&changed, &refusal, out);
        None
    }
}

/// The secret's JSON object (`now`, or a new one) with `pairs` set as strings. Keys keep their
/// order with the `preserve-order` feature (the CLI's), else they come out sorted; every other
/// key keeps its JSON value, so the agent extracts the same text for it (serde_json may write it
/// with other whitespace or escapes). `Err` when `now` is not an object serde_json reads.
pub(super) fn merged_object(
    now: Option<&str>,
    pairs: &[(&str, &str)],
) -> Result<Zeroizing<String>, ()> {
    let mut map = match now.map(serde_json::from_str::<Value>) {
        None => Map::new(),
        Some(Ok(Value::Object(map))) => map,
        Some(Ok(other)) => {
            wipe(other);
            return Err(());
        }
        Some(Err(_)) => return Err(()),
    };
    for (key, value) in pairs {
        if let Some(old) = map.insert((*key).to_owned(), Value::String((*value).to_owned())) {
            wipe(old);
        }
    }
    let object = Value::Object(map);
    // Room for the worst case (every byte escaped as `\u00XX`), so the buffer never grows and
    // leaves an unwiped copy behind.
    let input: usize = now.map_or(0, str::len)
        + pairs
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(input * 6 + 2));
    let written = serde_json::to_writer(&mut *out, &object);
    wipe(object);
    written.map_err(|_| ())?;
    let bytes = std::mem::take(&mut *out);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            drop(Zeroizing::new(e.into_bytes()));
            Err(())
        }
    }
}

/// Wipes every string (keys too) of a JSON value as it drops it. serde_json nests at most 128
/// levels when it parses, so the recursion is bounded.
pub(crate) fn wipe(value: Value) {
    match value {
        Value::String(mut s) => s.zeroize(),
        Value::Array(items) => items.into_iter().for_each(wipe),
        Value::Object(map) => {
            for (mut key, item) in map {
                key.zeroize();
                wipe(item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
#[path = "steps_tests.rs"]
mod tests;
