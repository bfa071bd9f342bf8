//! Task-definition JSON: the merge of a declaration's `secrets` into a container, and the drift
//! check (the guide is [`Deployment`](crate::Deployment)'s documentation, "Merge and drift
//! check"), and [`registration_input`].

use core::fmt;

use serde_json::{Map, Value};

use super::drift::{Drift, DriftReport};
use super::fragment::SecretRef;
use crate::model::{Field, Source};
use crate::text::{escaped, quoted};

/// ECS's limit on the size of a task definition: 64 KiB.
pub const MAX_TASK_DEFINITION_BYTES: usize = 65_536;

/// Fields of `describe-task-definition` output that ECS sets and `register-task-definition`
/// does not accept.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// Why a task definition could not be merged or checked. `Display` names the container and the
/// variables.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskDefinitionError {
    /// The JSON is not a task definition (no `containerDefinitions` list, a container without
    /// a name, an `environment` that is not a list of `{name, value}`…).
    Invalid {
        /// What is wrong, and where.
        reason: String,
    },
    /// No container of that name.
    UnknownContainer {
        /// The name asked for.
        container: String,
        /// The names the task definition has.
        available: Vec<String>,
    },
    /// Variables that are ours (secrets) but are already in the container's `environment`:
    /// ECS rejects a name that is in both.
    NameInEnvironment {
        /// The container.
        container: String,
        /// The variables, in declaration order.
        names: Vec<String>,
    },
    /// A name declared twice for one container of a [`Task`](crate::Task) (two declarations
    /// with the same variable): ECS rejects it ("Duplicate secret names found").
    DuplicateName {
        /// The container.
        container: String,
        /// The variables, in declaration order.
        names: Vec<String>,
    },
    /// Log secrets for a container whose `logConfiguration` names no `logDriver`: the
    /// `secretOptions` are options of a log driver, so there is nothing to give them to.
    NoLogDriver {
        /// The container.
        container: String,
    },
    /// The input is an Express Mode service input (`primaryContainer`) and the task asks for
    /// something it cannot hold.
    ExpressMode {
        /// What, naming the containers.
        reason: String,
    },
    /// With the secrets of every container of a [`Task`](crate::Task), the result would exceed
    /// ECS's 64 KiB limit. By how much is not said: the size counts the plain `environment`
    /// values, and no error tells anything that depends on them.
    TaskTooLarge {
        /// Every container that was merged into.
        containers: Vec<String>,
        /// [`MAX_TASK_DEFINITION_BYTES`].
        limit: usize,
    },
    /// The result would exceed ECS's 64 KiB limit (by how much is not said, as for
    /// [`TaskDefinitionError::TaskTooLarge`]).
    TooLarge {
        /// The container that was merged into.
        container: String,
        /// [`MAX_TASK_DEFINITION_BYTES`].
        limit: usize,
    },
}

/// Names are printed escaped (control and invisible characters as `\n`, `\u{1b}`…): they come from
/// the task definition or the command line.
impl fmt::Display for TaskDefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskDefinitionError::Invalid { reason } => {
                write!(f, "not a valid task definition: {}", escaped(reason))
            }
            TaskDefinitionError::UnknownContainer {
                container,
                available,
            } => {
                let container = escaped(container);
                write!(f, "the task definition has no container `{container}`")?;
                if available.is_empty() {
                    f.write_str(" (it has no containers)")
                } else {
                    write!(f, "; its containers are {}", quoted(available))
                }
            }
            TaskDefinitionError::NameInEnvironment { container, names } => {
                let (verb, pronoun) = if names.len() == 1 {
                    ("is", "it")
                } else {
                    ("are", "them")
                };
                write!(
                    f,
                    "container `{}`: {} {verb} already in `environment`, and ECS \
                     rejects a name that is in both `environment` and `secrets` (\"The secret \
                     name must be unique and not shared with any … environment variables\"); \
                     remove {pronoun} from `environment`",
                    escaped(container),
                    quoted(names)
                )
            }
            TaskDefinitionError::DuplicateName { container, names } => write!(
                f,
                "container `{}`: {} declared more than once (two declarations with the \
                 same variable), and ECS rejects duplicate secret names",
                escaped(container),
                quoted(names)
            ),
            TaskDefinitionError::NoLogDriver { container } => write!(
                f,
                "container `{}`: log secrets need a `logConfiguration` with a \
                 `logDriver` (the `secretOptions` are options of the log driver), and it has none",
                escaped(container)
            ),
            TaskDefinitionError::ExpressMode { reason } => {
                write!(
                    f,
                    "Express Mode service input (`primaryContainer`): {}",
                    escaped(reason)
                )
            }
            TaskDefinitionError::TaskTooLarge { containers, limit } => write!(
                f,
                "with the secrets of containers {} the task definition would exceed ECS's \
                 limit of {limit} bytes",
                quoted(containers)
            ),
            TaskDefinitionError::TooLarge { container, limit } => write!(
                f,
                "with the secrets of container `{}` the task definition would exceed ECS's \
                 limit of {limit} bytes",
                escaped(container)
            ),
        }
    }
}

impl std::error::Error for TaskDefinitionError {}

pub(crate) fn invalid(reason: impl Into<String>) -> TaskDefinitionError {
    TaskDefinitionError::Invalid {
        reason: reason.into(),
    }
}

/// The task definition proper: `taskDefinition` of describe output, else the value itself.
pub(crate) fn inner(td: &Value) -> Result<&Map<String, Value>, TaskDefinitionError> {
    let obj = td
        .as_object()
        .ok_or_else(|| invalid("expected a JSON object"))?;
    match obj.get("taskDefinition") {
        Some(Value::Object(inner)) => Ok(inner),
        Some(_) => Err(invalid("`taskDefinition` is not an object")),
        None => Ok(obj),
    }
}

pub(crate) fn inner_mut(td: &mut Value) -> Result<&mut Map<String, Value>, TaskDefinitionError> {
    let obj = td
        .as_object_mut()
        .ok_or_else(|| invalid("expected a JSON object"))?;
    if obj.contains_key("taskDefinition") {
        match obj.get_mut("taskDefinition") {
            Some(Value::Object(inner)) => Ok(inner),
            _ => Err(invalid("`taskDefinition` is not an object")),
        }
    } else {
        Ok(obj)
    }
}

pub(crate) fn containers(td: &Map<String, Value>) -> Result<&Vec<Value>, TaskDefinitionError> {
    match td.get("containerDefinitions") {
        Some(Value::Array(list)) => Ok(list),
        Some(_) => Err(invalid("`containerDefinitions` is not a list")),
        None => Err(invalid("there is no `containerDefinitions` list")),
    }
}

/// The index of the container named `name`; every container must have a string `name`.
pub(crate) fn find_container(list: &[Value], name: &str) -> Result<usize, TaskDefinitionError> {
    let mut names = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        match c.get("name") {
            Some(Value::String(n)) => names.push(n.clone()),
            _ => {
                return Err(invalid(format!(
                    "container definition #{} has no string `name`",
                    i + 1
                )));
            }
        }
    }
    let mut found = names.iter().enumerate().filter(|(_, n)| *n == name);
    match (found.next(), found.next()) {
        (Some((i, _)), None) => Ok(i),
        (Some(_), Some(_)) => Err(invalid(format!(
            "two container definitions are named `{name}`"
        ))),
        (None, _) => Err(TaskDefinitionError::UnknownContainer {
            container: name.to_owned(),
            available: names,
        }),
    }
}

/// The `name`s of a container's `environment` (or `secrets`) entries, with their `valueFrom`
/// for `secrets`. Never reads an environment `value`.
pub(crate) fn entries(
    container: &Value,
    list: &str,
    cname: &str,
) -> Result<Vec<(String, Option<String>)>, TaskDefinitionError> {
    let items = match container.get(list) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => {
            return Err(invalid(format!(
                "`{list}` of container `{cname}` is not a list"
            )));
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.get("name") {
            Some(Value::String(n)) => Ok((
                n.clone(),
                item.get("valueFrom")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            )),
            _ => Err(invalid(format!(
                "entry #{} of `{list}` of container `{cname}` has no string `name`",
                i + 1
            ))),
        })
        .collect()
}

/// The `register-task-definition --cli-input-json` input for a task definition in either shape:
/// describe output is unwrapped, the fields ECS sets ([`READ_ONLY_FIELDS`]) are dropped, and its
/// top-level `tags` (from `--include TAGS`) move inside. The input shape is returned unchanged.
pub fn registration_input(task_definition: &Value) -> Value {
    let Some(obj) = task_definition.as_object() else {
        return task_definition.clone();
    };
    let Some(Value::Object(inner)) = obj.get("taskDefinition") else {
        return task_definition.clone();
    };
    let mut out = inner.clone();
    for field in READ_ONLY_FIELDS {
        out.remove(*field);
    }
    if let Some(Value::Array(tags)) = obj.get("tags") {
        if !tags.is_empty() && !out.contains_key("tags") {
            out.insert("tags".to_owned(), Value::Array(tags.clone()));
        }
    }
    Value::Object(out)
}

/// The size ECS's limit applies to: the compact JSON of the [`registration_input`].
pub fn size_in_bytes(task_definition: &Value) -> usize {
    serde_json::to_vec(&registration_input(task_definition)).map_or(0, |v| v.len())
}

/// Sets the `secrets` of container `container` to `secrets`, leaving every other field as it
/// was (a container's previous `secrets` are replaced, not merged).
///
/// Refuses, leaving `task_definition` unchanged, when the container does not exist, when one of
/// the names is already in the container's `environment`, or when the result would exceed
/// [`MAX_TASK_DEFINITION_BYTES`].
pub(crate) fn merge(
    task_definition: &mut Value,
    container: &str,
    secrets: &[SecretRef],
) -> Result<(), TaskDefinitionError> {
    let mut merged = task_definition.clone();
    set_secrets(container_mut(&mut merged, container)?, container, secrets)?;
    if size_in_bytes(&merged) > MAX_TASK_DEFINITION_BYTES {
        return Err(TaskDefinitionError::TooLarge {
            container: container.to_owned(),
            limit: MAX_TASK_DEFINITION_BYTES,
        });
    }
    *task_definition = merged;
    Ok(())
}

/// The definition of container `container` in a task definition of either shape.
pub(crate) fn container_mut<'a>(
    task_definition: &'a mut Value,
    container: &str,
) -> Result<&'a mut Value, TaskDefinitionError> {
    let td = inner_mut(task_definition)?;
    let index = find_container(containers(td)?, container)?;
    let Some(Value::Array(list)) = td.get_mut("containerDefinitions") else {
        unreachable!("checked by containers()");
    };
    Ok(&mut list[index])
}

/// Sets a container's `secrets` (replacing them), refusing a name that is in its `environment`.
/// The rule for task-definition containers and Express Mode's `primaryContainer` alike.
pub(crate) fn set_secrets(
    def: &mut Value,
    container: &str,
    secrets: &[SecretRef],
) -> Result<(), TaskDefinitionError> {
    let env: Vec<String> = entries(def, "environment", container)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let clashes: Vec<String> = secrets
        .iter()
        .filter(|s| env.contains(&s.name))
        .map(|s| s.name.clone())
        .collect();
    if !clashes.is_empty() {
        return Err(TaskDefinitionError::NameInEnvironment {
            container: container.to_owned(),
            names: clashes,
        });
    }
    let Value::Object(def) = def else {
        return Err(invalid(format!("container `{container}` is not an object")));
    };
    let value = serde_json::to_value(secrets).expect("secret references always serialize");
    def.insert("secrets".to_owned(), value);
    Ok(())
}

/// Compares container `container` of a task definition with the declaration: its `secrets`
/// and the `required_env` plain variables (see [`Drift`] for what is reported).
pub(crate) fn check(
    task_definition: &Value,
    container: &str,
    secrets: &[SecretRef],
    required_env: &[&str],
) -> Result<DriftReport, TaskDefinitionError> {
    let td = inner(task_definition)?;
    let list = containers(td)?;
    let def = &list[find_container(list, container)?];
    check_container(def, container, secrets, required_env)
}

/// [`check`] of one container definition (or Express Mode's `primaryContainer`).
pub(crate) fn check_container(
    def: &Value,
    container: &str,
    secrets: &[SecretRef],
    required_env: &[&str],
) -> Result<DriftReport, TaskDefinitionError> {
    let env: Vec<String> = entries(def, "environment", container)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    let actual = entries(def, "secrets", container)?;
    let has_env_files = def
        .get("environmentFiles")
        .and_then(Value::as_array)
        .is_some_and(|files| !files.is_empty());

    let mut drifts = Vec::new();
    for s in secrets {
        match actual.iter().find(|(n, _)| *n == s.name) {
            Some((_, v)) if v.as_deref() == Some(s.value_from.as_str()) => {}
            Some((_, v)) => drifts.push(Drift::Changed {
                name: s.name.clone(),
                actual: v.clone(),
                expected: s.value_from.clone(),
            }),
            None if env.contains(&s.name) => drifts.push(Drift::InEnvironment {
                name: s.name.clone(),
                value_from: s.value_from.clone(),
            }),
            None => drifts.push(Drift::Missing {
                name: s.name.clone(),
                value_from: s.value_from.clone(),
            }),
        }
    }
    let mut seen: Vec<&String> = Vec::new();
    for (name, value_from) in &actual {
        if seen.contains(&name) {
            if !drifts
                .iter()
                .any(|d| matches!(d, Drift::Duplicate { name: n } if n == name))
            {
                drifts.push(Drift::Duplicate { name: name.clone() });
            }
        } else {
            seen.push(name);
            if !secrets.iter().any(|s| s.name == *name) {
                drifts.push(Drift::Extra {
                    name: name.clone(),
                    value_from: value_from.clone(),
                });
            }
        }
    }
    let mut unverified = Vec::new();
    for &name in required_env {
        if env.iter().any(|e| e == name) || actual.iter().any(|(n, _)| n == name) {
            continue;
        }
        if has_env_files {
            unverified.push(name.to_owned());
        } else {
            drifts.push(Drift::RequiredEnvUnset {
                name: name.to_owned(),
            });
        }
    }
    Ok(DriftReport {
        container: container.to_owned(),
        drifts,
        unverified,
    })
}

/// The plain environment variables a declaration cannot load without: no source, no `default`,
/// not `Option`.
pub(crate) fn required_env(fields: &[Field]) -> Vec<&'static str> {
    fields
        .iter()
        .filter(|f| matches!(f.source, Source::Env) && !f.optional && f.default.is_none())
        .map(|f| f.env)
        .collect()
}
