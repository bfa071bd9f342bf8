//! Migration: from plaintext `environment` values to the declared secrets and parameters, in one
//! reviewed step.
//!
//! For each declared variable that stands in the container's `environment` with a value, the
//! value goes where the declaration says — a Secrets Manager secret (created, or given a new
//! version), one key of a secret's JSON object (merged; every key of one secret is one write),
//! or an SSM `SecureString` (with the declared `kms_key` of its region) — and then the entries
//! leave `environment` and the container's `secrets` are set, as a merge sets them. What the
//! writes rely on (the ARN a new secret gets, the limits, which KMS calls each service makes):
//! docs/ecs-facts.md, "Writing secrets and parameters".
//!
//! - **Plan** (the default) only reads: `GetSecretValue` and decrypted `GetParameters`, one per
//!   destination, to say whether each exists and already holds the value. Values are compared
//!   in memory and wiped; the report never holds one.
//! - **Apply** refuses the whole run, writing nothing, while any variable is refused
//!   ([`Refusal`]: a different value without `overwrite`, a secret that is not a JSON object,
//!   a value over the limit, a pinned version…). Otherwise it sends the writes one after the
//!   other and changes the JSON only when all succeeded; if one fails, the JSON is left as it
//!   was and the report says which values are stored already, so a second run finds them equal
//!   and completes. A destination that already holds the value gets no write, and a JSON without
//!   declared variables in `environment` gets no request at all: a second run changes nothing.
//!
//! A new secret (`CreateSecret`) and every parameter (`PutParameter` takes a name, not an ARN)
//! are written in the caller's own account and the region of the reference, so before such a
//! write the migration asks whose credentials it runs with (`sts:GetCallerIdentity`, one
//! request, no permission needed) and refuses ([`Refusal::OtherAccount`]) a destination the
//! declaration puts in another account. A new version of an existing secret goes to the ARN,
//! whichever account holds it.
//!
//! Values are moved out of the JSON into `Zeroizing` (not copied), moved back when nothing is
//! changed, and wiped otherwise; a secret's JSON object is parsed, merged and serialized in
//! buffers that are wiped. What this cannot reach: the copies serde_json made while parsing the
//! caller's text (the caller owns that text: the CLI wipes it), the copy the SDK's request owns
//! (see `requests.rs`), and other keys of a merged secret, which serde_json copies as it parses.

mod json;
mod report;
mod requests;
mod steps;

use crate::deployment::Deployment;
use serde_json::Value;

use crate::aws::engine::Engine;
use crate::aws::engine::failure::unanswered;
use steps::{Current, Dest, Input};

pub use report::{MigrateError, MigrationReport, Refusal, Step, StepAction, StepStatus};
#[cfg(feature = "cli")]
pub(crate) use steps::wipe;

/// How [`Loader::migrate`](crate::aws::Loader::migrate) runs: a plan (the default: reads only)
/// or an apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MigrateOptions {
    apply: bool,
    overwrite: bool,
}

impl MigrateOptions {
    /// A plan: reads only, writes nothing, leaves the JSON as it was.
    pub fn new() -> Self {
        MigrateOptions::default()
    }

    /// Store the values and change the JSON (default: off, a plan).
    pub fn apply(mut self, on: bool) -> Self {
        self.apply = on;
        self
    }

    /// Replace a destination that holds a different value (default: off, such a variable is
    /// refused).
    pub fn overwrite(mut self, on: bool) -> Self {
        self.overwrite = on;
        self
    }

    /// Whether this is an apply.
    pub fn get_apply(&self) -> bool {
        self.apply
    }

    /// Whether a different value is replaced.
    pub fn get_overwrite(&self) -> bool {
        self.overwrite
    }
}

/// See the module docs and [`Loader::migrate`].
pub(super) async fn migrate(
    engine: &Engine,
    deployment: &Deployment,
    json: &mut Value,
    container: &str,
    options: MigrateOptions,
) -> Result<MigrationReport, MigrateError> {
    let (shape, mut candidates) = json::take(json, container, deployment)?;
    let mut report = MigrationReport {
        container: container.to_owned(),
        shape,
        apply: options.apply,
        steps: Vec::new(),
        writes: 0,
        changed: false,
    };
    if candidates.is_empty() {
        return Ok(report);
    }
    let outcome = run(
        engine,
        deployment,
        json,
        container,
        options,
        &mut candidates,
        &mut report,
    )
    .await;
    match outcome {
        Ok(Some(next)) => {
            *json = next;
            report.changed = true;
            // The values in `candidates` are wiped as they drop; `json`'s old strings were
            // empty.
            Ok(report)
        }
        other => {
            json::put_back(json, container, &mut candidates);
            match other {
                Ok(_) if report.is_refused() => Err(MigrateError::Refused(report)),
                Ok(_) if report.has_failed() => Err(MigrateError::Failed(report)),
                Ok(_) => Ok(report),
                Err(e) => Err(e),
            }
        }
    }
}

/// Refuses the writes that go by name (`CreateSecret`, `PutParameter`: they land in the
/// caller's account) to a place the declaration puts in another account. One
/// `GetCallerIdentity`, only when there is such a write; a failure of it refuses them too.
async fn by_name_in_the_declared_account(
    engine: &Engine,
    candidates: &[json::Candidate],
    writes: &[steps::Write],
    decisions: &mut [steps::Decision],
) {
    let by_name: Vec<(usize, &str, Option<&str>)> = writes
        .iter()
        .filter(|w| matches!(w.op, steps::Op::CreateSecret | steps::Op::PutParameter))
        .flat_map(|w| w.inputs.iter().map(move |&i| (i, w)))
        .filter_map(|(i, w)| {
            Some((
                i,
                crate::deployment::iam::account(&candidates[i].value_from)?,
                w.dest.region(),
            ))
        })
        .collect();
    let Some(&(_, _, region)) = by_name.first() else {
        return;
    };
    let caller = requests::caller_account(engine, region).await;
    for (i, declared, _) in by_name {
        let refusal = match &caller {
            Ok(caller) if caller == declared => continue,
            Ok(caller) => Refusal::OtherAccount {
                declared: declared.to_owned(),
                caller: caller.clone(),
            },
            Err(failure) => {
                let (code, reason) = failure.parts();
                Refusal::Unreadable { code, reason }
            }
        };
        decisions[i].action = StepAction::Refused(refusal);
    }
}

/// Plans, and with `apply` writes: `Some(json)` is the migrated JSON to take.
async fn run(
    engine: &Engine,
    deployment: &Deployment,
    json: &Value,
    container: &str,
    options: MigrateOptions,
    candidates: &mut [json::Candidate],
    report: &mut MigrationReport,
) -> Result<Option<Value>, MigrateError> {
    let inputs: Vec<Input<'_>> = candidates
        .iter()
        .map(|c| {
            let dest = steps::destination(&c.value_from);
            Input {
                value: c.value.as_ref().map(|v| v.as_str()),
                problem: c.problem.clone().or_else(|| dest.as_ref().err().cloned()),
                dest: dest.ok(),
            }
        })
        .collect();
    // One read per distinct destination, in order, under the engine's deadline.
    let mut dests: Vec<&Dest> = Vec::new();
    for input in &inputs {
        if let (None, Some((dest, _))) = (&input.problem, &input.dest) {
            if !dests.contains(&dest) {
                dests.push(dest);
            }
        }
    }
    let mut currents: Vec<Current> = Vec::with_capacity(dests.len());
    let reads = async {
        for dest in &dests {
            currents.push(requests::read(engine, dest).await);
        }
    };
    let missed = engine.run(0).within(reads).await;
    while currents.len() < dests.len() {
        let (code, reason) = unanswered("the reads", missed).parts();
        currents.push(Current::Unreadable { code, reason });
    }
    let current = |d: &Dest| {
        let at = dests
            .iter()
            .position(|x| *x == d)
            .expect("read every destination");
        &currents[at]
    };
    let (mut decisions, writes) =
        steps::plan(&inputs, &current, deployment.kms_keys(), options.overwrite);
    drop(currents);
    by_name_in_the_declared_account(engine, candidates, &writes, &mut decisions).await;
    report.steps = candidates
        .iter()
        .zip(&inputs)
        .zip(decisions)
        .map(|((c, input), d)| Step {
            variable: c.field.env.to_owned(),
            field: format!("{}.{}", c.field.struct_name, c.field.name),
            destination: input.dest.as_ref().map(|(d, _)| d.shown().to_owned()),
            key: input.dest.as_ref().and_then(|(_, k)| k.clone()),
            exists: d.exists,
            status: if d.action == StepAction::NothingToDo {
                StepStatus::Unchanged
            } else {
                StepStatus::Planned
            },
            action: d.action,
        })
        .collect();
    if !options.apply || report.is_refused() {
        return Ok(None);
    }
    // The JSON first (it may still be refused, too large), the writes, then the JSON is taken.
    let next = json::migrated(json, container, deployment, candidates)?;
    let mut failed = false;
    for write in &writes {
        let status = if failed {
            StepStatus::NotAttempted
        } else {
            match requests::write(engine, write).await {
                Ok(()) => {
                    report.writes += 1;
                    StepStatus::Stored
                }
                Err(failure) => {
                    failed = true;
                    let (code, reason) = failure.parts();
                    StepStatus::Failed { code, reason }
                }
            }
        };
        for &i in &write.inputs {
            report.steps[i].status = status.clone();
        }
    }
    if failed {
        return Ok(None);
    }
    Ok(Some(next))
}
