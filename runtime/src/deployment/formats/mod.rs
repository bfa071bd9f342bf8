//! The deploy tools' spellings of the outputs (the public docs: `crate::formats`).

mod cloudformation;
mod copilot;
mod yaml;

use serde_json::{Value, json};

use super::fragment::SecretRef;
use super::iam::{PolicyDocument, Role};
use super::task::Task;

pub use cloudformation::{cloudformation_containers, cloudformation_policy};
pub use copilot::copilot_secrets;

/// A deploy tool's form of the outputs (the CLI's `--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum Format {
    /// The ECS API's own JSON: `[{"name", "valueFrom"}]`, the IAM policy document.
    #[default]
    #[cfg_attr(feature = "cli", value(help = "The ECS and IAM JSON"))]
    Ecs,
    /// CloudFormation and CDK: `[{"Name", "ValueFrom"}]`, and the policy as a template with
    /// one `AWS::IAM::Policy` attached to the role named by parameter `ExecutionRoleName`.
    #[cfg_attr(
        feature = "cli",
        value(
            name = "cloudformation",
            help = "CloudFormation and CDK: Secrets entries, and a policy as a template with one AWS::IAM::Policy"
        )
    )]
    CloudFormation,
    /// [`Format::CloudFormation`] as YAML (block style, every string double-quoted), for
    /// templates kept in YAML.
    #[cfg_attr(
        feature = "cli",
        value(name = "cloudformation-yaml", help = "The cloudformation form in YAML")
    )]
    CloudFormationYaml,
    /// Terraform: `container_definitions` and `aws_iam_policy`'s `policy` take the ECS and IAM
    /// JSON themselves (through `file()` or `jsondecode`), so the text is the ECS form's.
    #[cfg_attr(
        feature = "cli",
        value(help = "Terraform: the ECS and IAM JSON, which its resources take as they are")
    )]
    Terraform,
    /// **Legacy** (Copilot is past its end of support): an AWS Copilot manifest's `secrets:` map
    /// (YAML), for the manifests that exist; every parameter by its ARN (see [`copilot_secrets`]
    /// for names). No policy: Copilot makes the execution role itself. Moving on:
    /// [from Copilot to Express Mode or CDK](crate::formats#from-copilot-to-express-mode-or-cdk).
    #[cfg_attr(
        feature = "cli",
        value(
            help = "Legacy: an AWS Copilot manifest's secrets map (Copilot is past end of support); no policy"
        )
    )]
    Copilot,
    /// The `secrets` input of `aws-actions/amazon-ecs-render-task-definition`: one
    /// `NAME=valueFrom` a line. No policy: the action takes none.
    #[cfg_attr(
        feature = "cli",
        value(
            name = "render-action",
            help = "The secrets input of aws-actions/amazon-ecs-render-task-definition; no policy"
        )
    )]
    RenderAction,
}

impl Format {
    /// The name the CLI's `--format` takes (`render-action`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Ecs => "ecs",
            Format::CloudFormation => "cloudformation",
            Format::CloudFormationYaml => "cloudformation-yaml",
            Format::Terraform => "terraform",
            Format::Copilot => "copilot",
            Format::RenderAction => "render-action",
        }
    }

    /// A container's `secrets` in this form.
    pub fn secrets(&self, secrets: &[SecretRef]) -> String {
        match self {
            Format::Ecs | Format::Terraform => pretty(&secrets),
            Format::CloudFormation => pretty(&cloudformation::secrets(secrets)),
            Format::CloudFormationYaml => yaml::to_yaml(&cloudformation::secrets(secrets)),
            Format::Copilot => copilot_secrets(secrets, None),
            Format::RenderAction => secrets
                .iter()
                .map(|s| format!("{}={}\n", s.name, s.value_from))
                .collect(),
        }
    }

    /// The policy of `role` in this form; `None` for the tools that take no policy (Copilot,
    /// the render action).
    pub fn policy(&self, policy: &PolicyDocument, role: Role) -> Option<String> {
        match self {
            Format::Ecs | Format::Terraform => Some(pretty(policy)),
            Format::CloudFormation => Some(pretty(&cloudformation_policy(policy, role))),
            Format::CloudFormationYaml => Some(yaml::to_yaml(&cloudformation_policy(policy, role))),
            Format::Copilot | Format::RenderAction => None,
        }
    }

    /// What `task` sets in its containers, in this form: for ECS and Terraform the
    /// `containerDefinitions` entries (`name` and what the task sets: `secrets`,
    /// `logConfiguration.secretOptions`, `repositoryCredentials`) to merge with the rest of each
    /// container; for CloudFormation the same with its property names. `None` for Copilot and
    /// the render action, whose inputs describe one container: use [`Format::secrets`] with
    /// [`Task::secrets`].
    pub fn task(&self, task: &Task) -> Option<String> {
        match self {
            Format::Ecs | Format::Terraform => Some(pretty(&ecs_containers(task))),
            Format::CloudFormation => Some(pretty(&cloudformation_containers(task))),
            Format::CloudFormationYaml => Some(yaml::to_yaml(&cloudformation_containers(task))),
            Format::Copilot | Format::RenderAction => None,
        }
    }
}

impl core::fmt::Display for Format {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

const SER: &str = "deployment outputs serialize";

/// Pretty JSON with a final newline.
pub(crate) fn pretty(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect(SER);
    text.push('\n');
    text
}

/// The `containerDefinitions` entries a task sets, in the ECS spelling.
fn ecs_containers(task: &Task) -> Value {
    let list = task.containers.iter().map(|c| {
        let mut def = serde_json::Map::new();
        def.insert("name".into(), json!(c.name));
        if !c.declarations.is_empty() {
            def.insert(
                "secrets".into(),
                serde_json::to_value(c.secrets()).expect(SER),
            );
        }
        if !c.log_secrets.is_empty() {
            let options = serde_json::to_value(c.secret_options()).expect(SER);
            def.insert("logConfiguration".into(), json!({"secretOptions": options}));
        }
        if let Some(credentials) = &c.repository_credentials {
            def.insert(
                "repositoryCredentials".into(),
                json!({"credentialsParameter": credentials.to_string()}),
            );
        }
        Value::Object(def)
    });
    Value::Array(list.collect())
}
