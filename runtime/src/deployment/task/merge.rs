//! [`Task::merge_into`] and [`Task::check`] over the two shapes that carry container secrets: a
//! task definition and an ECS Express Mode service input.

use core::fmt;

use serde_json::{Map, Value};

use super::{Container, Task};
use crate::deployment::drift::{Drift, DriftReport};
use crate::deployment::fragment::SecretRef;
use crate::deployment::task_definition::{
    self as td, MAX_TASK_DEFINITION_BYTES, TaskDefinitionError, invalid,
};
use crate::text::quoted;

/// Which JSON a merge or check was given, told by its keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Shape {
    /// A task definition: `containerDefinitions` (the `register-task-definition` input) or
    /// `taskDefinition.containerDefinitions` (`describe-task-definition` output).
    TaskDefinition,
    /// An ECS Express Mode service input (`CreateExpressGatewayService`,
    /// `UpdateExpressGatewayService`): `primaryContainer`, whose `secrets` and
    /// `repositoryCredentials` have the task definition's shapes.
    ExpressMode,
}

impl Shape {
    /// Tells the shape of `input` by its keys.
    pub fn of(input: &Value) -> Result<Shape, TaskDefinitionError> {
        let obj = input
            .as_object()
            .ok_or_else(|| invalid("expected a JSON object"))?;
        let wrapped = obj
            .get("taskDefinition")
            .and_then(Value::as_object)
            .is_some_and(|inner| inner.contains_key("containerDefinitions"));
        match (
            obj.contains_key("containerDefinitions") || wrapped,
            obj.contains_key("primaryContainer"),
        ) {
            (true, false) => Ok(Shape::TaskDefinition),
            (false, true) => Ok(Shape::ExpressMode),
            (true, true) => Err(invalid(
                "it has both `containerDefinitions` (a task definition) and `primaryContainer` \
                 (an Express Mode service input)",
            )),
            (false, false) => Err(invalid(
                "it is neither a task definition (`containerDefinitions` or \
                 `taskDefinition.containerDefinitions`) nor an Express Mode service input \
                 (`primaryContainer`)",
            )),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::TaskDefinition => "task definition",
            Shape::ExpressMode => "Express Mode service input",
        })
    }
}

/// The drift of every container a [`Task`] names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskDriftReport {
    /// What was checked.
    pub shape: Shape,
    /// One report per container, in the task's order; each names its container.
    pub reports: Vec<DriftReport>,
}

impl TaskDriftReport {
    /// Whether any container differs from the declarations.
    pub fn has_drift(&self) -> bool {
        self.reports.iter().any(DriftReport::has_drift)
    }

    /// The report of container `container`.
    pub fn container(&self, container: &str) -> Option<&DriftReport> {
        self.reports.iter().find(|r| r.container == container)
    }
}

impl fmt::Display for TaskDriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.reports.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

/// The one container of an Express Mode input, refusing what it cannot hold.
fn express_container(task: &Task) -> Result<&Container, TaskDefinitionError> {
    let [c] = task.containers.as_slice() else {
        let names: Vec<String> = task.containers.iter().map(|c| c.name.clone()).collect();
        return Err(TaskDefinitionError::ExpressMode {
            reason: format!(
                "it has one container, `primaryContainer`, and the task names {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    quoted(&names)
                }
            ),
        });
    };
    if !c.log_secrets.is_empty() {
        return Err(TaskDefinitionError::ExpressMode {
            reason: format!(
                "container `{}` has log secrets, and `primaryContainer` takes none (its \
                 `awsLogsConfiguration` has no `secretOptions`)",
                c.name
            ),
        });
    }
    Ok(c)
}

fn primary(input: &Value) -> Result<&Value, TaskDefinitionError> {
    match input.get("primaryContainer") {
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(invalid(
            "`primaryContainer` of the Express Mode service input is not an object",
        )),
    }
}

fn refuse_duplicates(c: &Container) -> Result<(), TaskDefinitionError> {
    let names = c.duplicate_names();
    if names.is_empty() {
        return Ok(());
    }
    Err(TaskDefinitionError::DuplicateName {
        container: c.name.clone(),
        names,
    })
}

pub(super) fn merge(task: &Task, input: &mut Value) -> Result<Shape, TaskDefinitionError> {
    let shape = Shape::of(input)?;
    let mut merged = input.clone();
    match shape {
        Shape::TaskDefinition => {
            for c in &task.containers {
                set(td::container_mut(&mut merged, &c.name)?, c)?;
            }
            if td::size_in_bytes(&merged) > MAX_TASK_DEFINITION_BYTES {
                return Err(TaskDefinitionError::TaskTooLarge {
                    containers: task.containers.iter().map(|c| c.name.clone()).collect(),
                    limit: MAX_TASK_DEFINITION_BYTES,
                });
            }
        }
        Shape::ExpressMode => {
            let c = express_container(task)?;
            primary(&merged)?;
            set(&mut merged["primaryContainer"], c)?;
        }
    }
    *input = merged;
    Ok(shape)
}

/// Sets what the task declares for `c` in its definition `def`.
fn set(def: &mut Value, c: &Container) -> Result<(), TaskDefinitionError> {
    refuse_duplicates(c)?;
    if !c.declarations.is_empty() {
        td::set_secrets(def, &c.name, &c.secrets())?;
    }
    if !c.log_secrets.is_empty() {
        let has_driver = def
            .get("logConfiguration")
            .and_then(|l| l.get("logDriver"))
            .and_then(Value::as_str)
            .is_some_and(|d| !d.is_empty());
        if !has_driver {
            return Err(TaskDefinitionError::NoLogDriver {
                container: c.name.clone(),
            });
        }
        let options =
            serde_json::to_value(c.secret_options()).expect("secret references always serialize");
        let Some(Value::Object(log)) = def.get_mut("logConfiguration") else {
            unreachable!("a logConfiguration with a logDriver is an object");
        };
        log.insert("secretOptions".to_owned(), options);
    }
    if let Some(credentials) = &c.repository_credentials {
        let Value::Object(obj) = def else {
            return Err(invalid(format!("container `{}` is not an object", c.name)));
        };
        let slot = obj
            .entry("repositoryCredentials")
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        slot.as_object_mut().expect("made an object above").insert(
            "credentialsParameter".to_owned(),
            Value::String(credentials.to_string()),
        );
    }
    Ok(())
}

pub(super) fn check(task: &Task, input: &Value) -> Result<TaskDriftReport, TaskDefinitionError> {
    let shape = Shape::of(input)?;
    let mut reports = Vec::with_capacity(task.containers.len());
    match shape {
        Shape::TaskDefinition => {
            let inner = td::inner(input)?;
            let list = td::containers(inner)?;
            for c in &task.containers {
                let def = &list[td::find_container(list, &c.name)?];
                reports.push(check_one(def, c)?);
            }
        }
        Shape::ExpressMode => {
            let c = express_container(task)?;
            reports.push(check_one(primary(input)?, c)?);
        }
    }
    Ok(TaskDriftReport { shape, reports })
}

fn check_one(def: &Value, c: &Container) -> Result<DriftReport, TaskDefinitionError> {
    refuse_duplicates(c)?;
    let mut report = if c.declarations.is_empty() {
        DriftReport {
            container: c.name.clone(),
            drifts: Vec::new(),
            unverified: Vec::new(),
        }
    } else {
        td::check_container(def, &c.name, &c.secrets(), &c.required_env())?
    };
    if !c.log_secrets.is_empty() {
        let empty = Value::Null;
        let log = def.get("logConfiguration").unwrap_or(&empty);
        let actual = td::entries(log, "secretOptions", &c.name)?;
        report
            .drifts
            .extend(log_drift(&c.secret_options(), &actual));
    }
    if let Some(expected) = &c.repository_credentials {
        let actual = def
            .get("repositoryCredentials")
            .and_then(|r| r.get("credentialsParameter"))
            .and_then(Value::as_str);
        let expected = expected.to_string();
        if actual != Some(expected.as_str()) {
            report.drifts.push(Drift::RepositoryCredentials {
                actual: actual.map(str::to_owned),
                expected,
            });
        }
    }
    Ok(report)
}

fn log_drift(declared: &[SecretRef], actual: &[(String, Option<String>)]) -> Vec<Drift> {
    let mut drifts = Vec::new();
    for s in declared {
        match actual.iter().find(|(n, _)| *n == s.name) {
            Some((_, v)) if v.as_deref() == Some(s.value_from.as_str()) => {}
            Some((_, v)) => drifts.push(Drift::LogSecretChanged {
                option: s.name.clone(),
                actual: v.clone(),
                expected: s.value_from.clone(),
            }),
            None => drifts.push(Drift::LogSecretMissing {
                option: s.name.clone(),
                value_from: s.value_from.clone(),
            }),
        }
    }
    for (name, value_from) in actual {
        if !declared.iter().any(|s| s.name == *name) {
            drifts.push(Drift::LogSecretExtra {
                option: name.clone(),
                value_from: value_from.clone(),
            });
        }
    }
    drifts
}
