//! What a preflight checks, taken from a [`Deployment`] or from a whole [`Task`]: every
//! reference with what ECS fills from it and the JSON keys it needs, every declared key, the
//! execution role's policy, and the task definition the secrets will be merged into.

use serde_json::Value;

use crate::deployment::Deployment;
use crate::deployment::iam::{PolicyDocument, Role};
use crate::value_from::ValueFrom;
use crate::{Shape, Task, TaskDefinitionError};

use super::{Finding, PreflightOptions, Subject};

/// The JSON keys ECS reads from a registry-credentials secret.
const CREDENTIAL_KEYS: [&str; 2] = ["username", "password"];

/// One reference and where ECS uses it.
pub(super) struct Reference {
    pub container: Option<String>,
    pub subject: Subject,
    pub value_from: ValueFrom,
    /// The JSON keys the value must have: the reference's own key, or `username` and
    /// `password` for registry credentials.
    pub keys: Vec<String>,
}

/// One declared `kms_key` (each distinct key once, with the first declaration naming it).
pub(super) struct Key {
    pub container: Option<String>,
    pub struct_name: &'static str,
    pub key: String,
}

pub(super) struct Scope {
    pub name: String,
    pub references: Vec<Reference>,
    pub keys: Vec<Key>,
    /// What the execution role must allow, for the role check.
    pub execution_policy: PolicyDocument,
    /// The task definition's merge: `None` when none was given, else its findings (none when
    /// the secrets fit).
    pub task_definition: Option<Vec<Finding>>,
}

impl Scope {
    pub fn deployment(d: &Deployment, options: &PreflightOptions) -> Scope {
        let mut scope = Scope {
            name: d.name().to_owned(),
            references: Vec::new(),
            keys: Vec::new(),
            execution_policy: d.policy(Role::Execution),
            task_definition: options
                .get_task_definition()
                .map(|td| merge_findings(td, |td| merge_declaration(d, td))),
        };
        scope.add_declaration(None, d);
        scope
    }

    pub fn task(task: &Task, options: &PreflightOptions) -> Scope {
        let names: Vec<&str> = task.container_names().collect();
        let mut scope = Scope {
            name: format!("task (containers {})", names.join(", ")),
            references: Vec::new(),
            keys: Vec::new(),
            execution_policy: task.policy(Role::Execution),
            task_definition: options
                .get_task_definition()
                .map(|td| merge_findings(td, |td| task.merge_into(td).map(drop))),
        };
        for c in &task.containers {
            let container = Some(c.name.clone());
            for d in &c.declarations {
                scope.add_declaration(container.clone(), d);
            }
            for (option, value_from) in &c.log_secrets {
                scope.references.push(Reference {
                    container: container.clone(),
                    subject: Subject::LogOption {
                        option: option.clone(),
                    },
                    value_from: value_from.clone(),
                    keys: json_key(value_from),
                });
            }
            if let Some(value_from) = &c.repository_credentials {
                scope.references.push(Reference {
                    container: container.clone(),
                    subject: Subject::RepositoryCredentials,
                    value_from: value_from.clone(),
                    keys: CREDENTIAL_KEYS.iter().map(|k| (*k).to_owned()).collect(),
                });
            }
        }
        scope
    }

    fn add_declaration(&mut self, container: Option<String>, d: &Deployment) {
        for (field, value_from) in d.references() {
            self.references.push(Reference {
                container: container.clone(),
                subject: Subject::Field {
                    struct_name: field.struct_name,
                    field: field.name,
                    env: field.env,
                },
                value_from: value_from.clone(),
                keys: json_key(value_from),
            });
        }
        for key in d.kms_keys() {
            if !self.keys.iter().any(|k| k.key == *key) {
                self.keys.push(Key {
                    container: container.clone(),
                    struct_name: d.name(),
                    key: key.clone(),
                });
            }
        }
    }
}

fn json_key(value_from: &ValueFrom) -> Vec<String> {
    match value_from {
        ValueFrom::SecretsManager(s) => s.json_key().map(str::to_owned).into_iter().collect(),
        ValueFrom::Ssm(_) => Vec::new(),
    }
}

/// Merges into a copy of `td` (the input is never changed) and turns a refusal into a finding.
fn merge_findings(
    td: &Value,
    merge: impl FnOnce(&mut Value) -> Result<(), TaskDefinitionError>,
) -> Vec<Finding> {
    let mut copy = td.clone();
    match merge(&mut copy) {
        Ok(()) => Vec::new(),
        Err(error) => vec![Finding::TaskDefinition { error }],
    }
}

/// A declaration's secrets go into the task definition's only container.
fn merge_declaration(d: &Deployment, td: &mut Value) -> Result<(), TaskDefinitionError> {
    use crate::deployment::task_definition::{containers, inner};
    use crate::text::quoted;
    let names: Vec<String> = match Shape::of(td)? {
        Shape::ExpressMode => vec!["primaryContainer".to_owned()],
        Shape::TaskDefinition => containers(inner(td)?)?
            .iter()
            .map(|c| {
                c.get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            })
            .collect(),
    };
    match names.as_slice() {
        [one] => Task::new()
            .container(one, d.clone())
            .merge_into(td)
            .map(drop),
        _ => Err(TaskDefinitionError::Invalid {
            reason: format!(
                "it has {} containers ({}), and a declaration's preflight cannot tell which one \
                 takes its secrets: preflight a Task that names it",
                names.len(),
                quoted(&names)
            ),
        }),
    }
}
