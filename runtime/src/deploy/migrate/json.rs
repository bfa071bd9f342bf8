//! The container's `environment` in the input JSON: which declared variables stand there,
//! taking their values out (moved into `Zeroizing`, never copied) and putting them back, and the
//! JSON of a completed migration.

use std::mem;

use serde_json::Value;
use zeroize::Zeroizing;

use crate::Shape;
use crate::deployment::Deployment;
use crate::deployment::task_definition::{
    self as td, MAX_TASK_DEFINITION_BYTES, TaskDefinitionError, invalid,
};
use crate::model::Field;
use crate::value_from::ValueFrom;

use super::Refusal;

/// A declared variable found in the container's `environment`.
pub(super) struct Candidate {
    pub field: &'static Field,
    pub value_from: ValueFrom,
    /// Its entry's index in `environment`.
    pub index: usize,
    /// The value, moved out of the JSON (an empty string stands in its place until
    /// [`put_back`] or the migrated JSON replaces it); `None` with a [`Candidate::problem`].
    pub value: Option<Zeroizing<String>>,
    pub problem: Option<Refusal>,
}

/// The container's definition: `containerDefinitions[name]`, or Express Mode's
/// `primaryContainer` (its one container, whatever the name).
fn definition<'a>(
    json: &'a mut Value,
    container: &str,
) -> Result<(Shape, &'a mut Value), TaskDefinitionError> {
    let shape = Shape::of(json)?;
    let def = match shape {
        Shape::TaskDefinition => td::container_mut(json, container)?,
        Shape::ExpressMode => match json.get_mut("primaryContainer") {
            Some(def @ Value::Object(_)) => def,
            _ => {
                return Err(invalid(
                    "`primaryContainer` of the Express Mode service input is not an object",
                ));
            }
        },
    };
    Ok((shape, def))
}

fn environment(def: &mut Value) -> Option<&mut Vec<Value>> {
    def.get_mut("environment").and_then(Value::as_array_mut)
}

/// Finds every declared variable in the container's `environment` and takes its value out.
/// Checks the JSON's shape first (names of entries, the container), so an error leaves the JSON
/// as it was.
pub(super) fn take(
    json: &mut Value,
    container: &str,
    deployment: &Deployment,
) -> Result<(Shape, Vec<Candidate>), TaskDefinitionError> {
    let (shape, def) = definition(json, container)?;
    let names: Vec<String> = td::entries(def, "environment", container)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    td::entries(def, "secrets", container)?;
    let mut out = Vec::new();
    for (field, value_from) in deployment.references() {
        let at: Vec<usize> = (0..names.len())
            .filter(|&i| names[i] == field.env)
            .collect();
        let Some(&index) = at.first() else {
            continue;
        };
        let mut candidate = Candidate {
            field,
            value_from: value_from.clone(),
            index,
            value: None,
            problem: None,
        };
        if at.len() > 1 {
            candidate.problem = Some(Refusal::DuplicateEntry);
        } else {
            let entry = &mut environment(def).expect("entries() found the list")[index];
            match entry.get_mut("value") {
                Some(Value::String(s)) => candidate.value = Some(Zeroizing::new(mem::take(s))),
                _ => candidate.problem = Some(Refusal::NoValue),
            }
        }
        out.push(candidate);
    }
    Ok((shape, out))
}

/// Moves the values back where [`take`] found them: the JSON is as it was.
pub(super) fn put_back(json: &mut Value, container: &str, candidates: &mut [Candidate]) {
    let Ok((_, def)) = definition(json, container) else {
        return;
    };
    let Some(env) = environment(def) else {
        return;
    };
    for c in candidates {
        if let (Some(value), Some(Value::Object(entry))) = (&mut c.value, env.get_mut(c.index)) {
            entry.insert("value".to_owned(), Value::String(mem::take(&mut **value)));
        }
    }
}

/// The JSON after the migration: the candidates' entries removed from `environment` and the
/// declaration's `secrets` set (the same rule as a merge), within ECS's size limit. `json` still
/// has the values taken out, so the copy holds none of them.
pub(super) fn migrated(
    json: &Value,
    container: &str,
    deployment: &Deployment,
    candidates: &[Candidate],
) -> Result<Value, TaskDefinitionError> {
    let mut next = json.clone();
    let (shape, def) = definition(&mut next, container)?;
    if let Some(env) = environment(def) {
        let mut indexes: Vec<usize> = candidates.iter().map(|c| c.index).collect();
        indexes.sort_unstable();
        for i in indexes.into_iter().rev() {
            env.remove(i);
        }
    }
    td::set_secrets(def, container, &deployment.secrets())?;
    if shape == Shape::TaskDefinition && td::size_in_bytes(&next) > MAX_TASK_DEFINITION_BYTES {
        return Err(TaskDefinitionError::TooLarge {
            container: container.to_owned(),
            limit: MAX_TASK_DEFINITION_BYTES,
        });
    }
    Ok(next)
}
