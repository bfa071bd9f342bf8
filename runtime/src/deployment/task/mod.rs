//! A task of several containers (the guide chapter is [`Task`]'s documentation).

mod merge;

use crate::text::escaped;
use core::fmt;

use serde_json::Value;

use super::Deployment;
use super::fragment::SecretRef;
use super::iam::{PolicyDocument, Role};
use super::task_definition::TaskDefinitionError;
use crate::value_from::ValueFrom;

pub use merge::{Shape, TaskDriftReport};

#[doc = include_str!("../../../docs/task.md")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Task {
    /// In the order they were first named.
    pub(crate) containers: Vec<Container>,
}

/// What a [`Task`] sets in one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Container {
    pub(crate) name: String,
    pub(crate) declarations: Vec<Deployment>,
    /// `logConfiguration.secretOptions`, option names unique.
    pub(crate) log_secrets: Vec<(String, ValueFrom)>,
    /// `repositoryCredentials.credentialsParameter`.
    pub(crate) repository_credentials: Option<ValueFrom>,
}

impl Container {
    /// The container's `secrets`: every declaration's, in the order they were added.
    pub(crate) fn secrets(&self) -> Vec<SecretRef> {
        self.declarations
            .iter()
            .flat_map(Deployment::secrets)
            .collect()
    }

    /// The `secretOptions` entries.
    pub(crate) fn secret_options(&self) -> Vec<SecretRef> {
        self.log_secrets
            .iter()
            .map(|(option, value_from)| SecretRef {
                name: option.clone(),
                value_from: value_from.to_string(),
            })
            .collect()
    }

    /// The required plain variables of every declaration.
    pub(crate) fn required_env(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for d in &self.declarations {
            for name in super::task_definition::required_env(d.fields()) {
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
        out
    }

    /// The names declared more than once, in declaration order.
    pub(crate) fn duplicate_names(&self) -> Vec<String> {
        let secrets = self.secrets();
        let mut out: Vec<String> = Vec::new();
        for (i, s) in secrets.iter().enumerate() {
            if secrets[..i].iter().any(|t| t.name == s.name) && !out.contains(&s.name) {
                out.push(s.name.clone());
            }
        }
        out
    }
}

impl Task {
    /// A task with no containers yet.
    pub fn new() -> Task {
        Task::default()
    }

    fn entry(&mut self, container: &str) -> &mut Container {
        let at = match self.containers.iter().position(|c| c.name == container) {
            Some(at) => at,
            None => {
                self.containers.push(Container {
                    name: container.to_owned(),
                    declarations: Vec::new(),
                    log_secrets: Vec::new(),
                    repository_credentials: None,
                });
                self.containers.len() - 1
            }
        };
        &mut self.containers[at]
    }

    /// Container `container` gets the `secrets` of `deployment`. Several containers may take
    /// the same declaration; a container named again gets this declaration's secrets after the
    /// ones it has (a name declared twice in one container is refused by
    /// [`merge_into`](Task::merge_into) and [`check`](Task::check)). Env names need to be
    /// unique per container only.
    pub fn container(mut self, container: impl AsRef<str>, deployment: Deployment) -> Task {
        self.entry(container.as_ref()).declarations.push(deployment);
        self
    }

    /// Container `container`'s log driver gets option `option` (`apiKey`, `splunk-token`…) from
    /// `value_from`, in `logConfiguration.secretOptions`.
    ///
    /// Refuses an empty option name, an option given twice for one container, and a bare SSM
    /// parameter name (ECS would read it in the task's own region and account, which no policy
    /// can name: give the parameter ARN).
    pub fn log_secret(
        mut self,
        container: impl AsRef<str>,
        option: impl Into<String>,
        value_from: ValueFrom,
    ) -> Result<Task, TaskError> {
        let (container, option) = (container.as_ref(), option.into());
        let refuse = |reason: &str| TaskError::LogSecret {
            container: container.to_owned(),
            option: option.clone(),
            reason: reason.to_owned(),
        };
        if option.trim().is_empty() {
            return Err(refuse("the option name is empty"));
        }
        if super::iam::region(&value_from).is_none() {
            return Err(refuse(
                "a bare parameter name names no region and account, so no policy can grant it; \
                 give the parameter ARN",
            ));
        }
        let entry = self.entry(container);
        if entry.log_secrets.iter().any(|(o, _)| *o == option) {
            return Err(refuse("the option is given twice"));
        }
        entry.log_secrets.push((option, value_from));
        Ok(self)
    }

    /// Container `container` pulls its image with the registry credentials in the Secrets
    /// Manager secret `value_from` (`repositoryCredentials.credentialsParameter`; the secret's
    /// JSON holds `username` and `password`).
    ///
    /// Refuses a reference that is not a Secrets Manager secret ARN, one with a JSON key,
    /// version stage or version id (ECS reads the whole current secret), and a second one for
    /// the same container.
    pub fn repository_credentials(
        mut self,
        container: impl AsRef<str>,
        value_from: ValueFrom,
    ) -> Result<Task, TaskError> {
        let container = container.as_ref();
        let refuse = |reason: &str| TaskError::RepositoryCredentials {
            container: container.to_owned(),
            value_from: value_from.to_string(),
            reason: reason.to_owned(),
        };
        match &value_from {
            ValueFrom::SecretsManager(s) => {
                if s.json_key().is_some() || s.version_stage().is_some() || s.version_id().is_some()
                {
                    return Err(refuse(
                        "registry credentials are the whole current secret: no JSON key, \
                         version stage or version id",
                    ));
                }
                if value_from.to_string() != s.secret_id() {
                    return Err(refuse("remove the empty `:key:stage:id` tail"));
                }
            }
            ValueFrom::Ssm(_) => {
                return Err(refuse(
                    "registry credentials must be a Secrets Manager secret ARN, not a parameter",
                ));
            }
        }
        let entry = self.entry(container);
        if entry.repository_credentials.is_some() {
            return Err(refuse("the container already has registry credentials"));
        }
        entry.repository_credentials = Some(value_from);
        Ok(self)
    }

    /// The containers' names, in the order they were first named.
    pub fn container_names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.containers.iter().map(|c| c.name.as_str())
    }

    /// The `secrets` list of container `container` (`None` for a container the task does not
    /// name; empty for one that has log secrets or credentials only).
    pub fn secrets(&self, container: &str) -> Option<Vec<SecretRef>> {
        self.find(container).map(Container::secrets)
    }

    /// The `logConfiguration.secretOptions` of container `container` (empty when none).
    pub fn log_secrets(&self, container: &str) -> Vec<SecretRef> {
        self.find(container)
            .map(Container::secret_options)
            .unwrap_or_default()
    }

    /// The `repositoryCredentials.credentialsParameter` of container `container`.
    pub fn credentials_parameter(&self, container: &str) -> Option<&ValueFrom> {
        self.find(container)?.repository_credentials.as_ref()
    }

    fn find(&self, container: &str) -> Option<&Container> {
        self.containers.iter().find(|c| c.name == container)
    }

    /// One policy for `role` over every container, built by
    /// [`PolicyDocument::from_references`] (deduplicated, same shape and rules as
    /// [`Deployment::policy`]). [`Role::Execution`] covers every declaration's references, the
    /// log secrets and the registry credentials (the ECS agent reads all three) and every
    /// declaration's `kms_key`, and so do [`Role::Preflight`] and [`Role::PreflightReadValues`]
    /// (a task's preflight checks all three); [`Role::Task`], [`Role::Pin`] and
    /// [`Role::Migrate`] cover only the declarations, which are what the application loads,
    /// what pinning pins and what a migration writes.
    pub fn policy(&self, role: Role) -> PolicyDocument {
        let mut refs: Vec<&ValueFrom> = Vec::new();
        let mut keys: Vec<&str> = Vec::new();
        for c in &self.containers {
            for d in &c.declarations {
                refs.extend(d.references().map(|(_, v)| v));
                keys.extend(d.kms_keys().iter().map(String::as_str));
            }
            if matches!(
                role,
                Role::Execution | Role::Preflight | Role::PreflightReadValues
            ) {
                refs.extend(c.log_secrets.iter().map(|(_, v)| v));
                refs.extend(c.repository_credentials.iter());
            }
        }
        PolicyDocument::from_references(role, refs, keys)
            .expect("declarations are resolved, log secrets and credentials checked when added")
    }

    /// Sets, in a task definition (registration input or describe output) or an Express Mode
    /// service input (`primaryContainer`), what the task declares for each named container:
    /// its `secrets`, its `logConfiguration.secretOptions`, its
    /// `repositoryCredentials.credentialsParameter`; every other field and container is left
    /// as it was.
    ///
    /// Refuses, changing nothing, with an error naming the container: a container the task
    /// definition does not have, a declared name that is in the container's `environment` or
    /// declared twice for it, log secrets for a container without `logConfiguration.logDriver`,
    /// and a task definition over 64 KiB with everything merged. An Express Mode input has one
    /// container (the task must name exactly one) and no log secrets.
    ///
    /// Where the task runs changes none of this: every compatibility a task definition can
    /// require (`EC2`, `FARGATE`, `EXTERNAL`, `MANAGED_INSTANCES`) takes all three fields and
    /// has the same size limit (docs/ecs-facts.md, "Where tasks run").
    pub fn merge_into(&self, input: &mut Value) -> Result<Shape, TaskDefinitionError> {
        merge::merge(self, input)
    }

    /// Compares every named container with what the task declares for it: the drift of
    /// [`Deployment::check`] plus missing, changed and extra log secrets and registry
    /// credentials. Each report names its container.
    pub fn check(&self, input: &Value) -> Result<TaskDriftReport, TaskDefinitionError> {
        merge::check(self, input)
    }
}

/// Why [`Task::log_secret`] or [`Task::repository_credentials`] refused its input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// A log secret that cannot be used.
    LogSecret {
        /// The container.
        container: String,
        /// The log driver option.
        option: String,
        /// Why.
        reason: String,
    },
    /// Registry credentials that cannot be used.
    RepositoryCredentials {
        /// The container.
        container: String,
        /// The reference given.
        value_from: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::LogSecret {
                container,
                option,
                reason,
            } => write!(
                f,
                "container `{}`: log secret `{}`: {}",
                escaped(container),
                escaped(option),
                escaped(reason)
            ),
            TaskError::RepositoryCredentials {
                container,
                value_from,
                reason,
            } => write!(
                f,
                "container `{}`: repository credentials `{}`: {}",
                escaped(container),
                escaped(value_from),
                escaped(reason)
            ),
        }
    }
}

impl std::error::Error for TaskError {}
