//! CloudFormation (and CDK, which takes the same property names in `CfnTaskDefinition` and
//! `iam.PolicyDocument.fromJson`): `AWS::ECS::TaskDefinition` `ContainerDefinitions` properties
//! and an `AWS::IAM::Policy`.

use serde_json::{Value, json};

use crate::deployment::fragment::SecretRef;
use crate::deployment::iam::{PolicyDocument, Role};
use crate::deployment::task::Task;

/// `[{"Name", "ValueFrom"}]`: the `Secrets` and `SecretOptions` property shape.
pub(super) fn secrets(secrets: &[SecretRef]) -> Value {
    secrets
        .iter()
        .map(|s| json!({"Name": s.name, "ValueFrom": s.value_from}))
        .collect()
}

/// A template with the policy of `role` as one `AWS::IAM::Policy`, attached to the role whose
/// name the template's parameter `ExecutionRoleName` (for [`Role::Execution`]; `TaskRoleName`,
/// `PinRoleName`, `PreflightRoleName`, `PreflightReadValuesRoleName`, `MigrateRoleName` for the
/// others) gives. The resource is named `EcsSecretsExecutionPolicy` (and
/// so on); `PolicyDocument` is exactly [`PolicyDocument::to_json`].
pub fn cloudformation_policy(policy: &PolicyDocument, role: Role) -> Value {
    let title = match role {
        Role::Execution => "Execution",
        Role::Task => "Task",
        Role::Pin => "Pin",
        Role::Preflight => "Preflight",
        Role::PreflightReadValues => "PreflightReadValues",
        Role::Migrate => "Migrate",
    };
    let parameter = format!("{title}RoleName");
    json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            parameter.clone(): {
                "Type": "String",
                "Description": format!("The name of the IAM role that gets the {role} policy")
            }
        },
        "Resources": {
            format!("EcsSecrets{title}Policy"): {
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyName": format!("ecs-secrets-{role}"),
                    "PolicyDocument": policy.to_json(),
                    "Roles": [{"Ref": parameter}]
                }
            }
        }
    })
}

/// What `task` sets in its containers as `AWS::ECS::TaskDefinition` `ContainerDefinitions`
/// entries: `Name`, and `Secrets`, `LogConfiguration.SecretOptions`,
/// `RepositoryCredentials.CredentialsParameter` where the task sets them. A fragment: each entry
/// joins the rest of its container (`Image`, `LogConfiguration.LogDriver`…).
pub fn cloudformation_containers(task: &Task) -> Value {
    let list = task.containers.iter().map(|c| {
        let mut def = serde_json::Map::new();
        def.insert("Name".into(), json!(c.name));
        if !c.declarations.is_empty() {
            def.insert("Secrets".into(), secrets(&c.secrets()));
        }
        if !c.log_secrets.is_empty() {
            let options = secrets(&c.secret_options());
            def.insert("LogConfiguration".into(), json!({"SecretOptions": options}));
        }
        if let Some(credentials) = &c.repository_credentials {
            def.insert(
                "RepositoryCredentials".into(),
                json!({"CredentialsParameter": credentials.to_string()}),
            );
        }
        Value::Object(def)
    });
    Value::Array(list.collect())
}
