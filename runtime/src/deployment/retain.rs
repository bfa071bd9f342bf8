//! Dropping references from a [`Deployment`] or a [`Task`]: how the deploy step leaves out the
//! references of `Option` fields that do not exist in an environment
//! ([`Loader::omit_missing_optional`](crate::aws::Loader::omit_missing_optional)).
//!
//! Every output is built from the references, so once one is dropped the `secrets` list, the
//! policies of every role, the merge and the drift check all agree that it is gone: it is
//! neither injected nor granted, a merge takes it out of the container, and a check reports it
//! as extra where a task definition still has it (ECS would fail the task on it). The fields
//! stay as declared, so a check still knows the required plain variables.

use super::Deployment;
use super::task::Task;

impl Deployment {
    /// Keeps the references for which `keep` is true; `keep` is given each reference's index
    /// in [`references`](Deployment::references), in order.
    pub(crate) fn retain_references(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut at = 0;
        self.references.retain(|_| {
            let kept = keep(at);
            at += 1;
            kept
        });
    }
}

impl Task {
    /// Keeps the declarations' references for which `keep` is true; `keep` is given each one's
    /// index among every declaration's references, in the order of preflight's checks:
    /// container by container, declaration by declaration, field by field. Log secrets and
    /// registry credentials are not declarations' references and are always kept.
    pub(crate) fn retain_references(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut at = 0;
        for container in &mut self.containers {
            for declaration in &mut container.declarations {
                declaration.retain_references(|_| {
                    let kept = keep(at);
                    at += 1;
                    kept
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{Action, Drift, EcsSecrets, Role, Task};

    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    #[allow(dead_code)]
    struct Config {
        #[ecs(secret = "app/db", key = "password")]
        password: String,
        #[ecs(ssm = "/app/flag")]
        flag: Option<String>,
        #[ecs(secret = "app/beta")]
        beta: Option<String>,
        #[ecs(default = "80")]
        port: u16,
    }

    const DB: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db";
    const FLAG: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/app/flag";
    const BETA: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/beta";

    #[test]
    fn every_output_agrees_that_a_dropped_reference_is_gone() {
        let mut d = Config::deployment();
        d.retain_references(|at| at != 2);
        let secrets = serde_json::to_value(d.secrets()).unwrap();
        assert_eq!(
            secrets,
            json!([{"name": "PASSWORD", "valueFrom": format!("{DB}:password::")},
                   {"name": "FLAG", "valueFrom": FLAG}])
        );
        for role in [Role::Execution, Role::Task] {
            let policy = d.policy(role);
            assert_eq!(
                policy.resources(Action::GetSecretValue),
                [format!("{DB}-??????")]
            );
            assert_eq!(policy.resources(Action::GetParameters), [FLAG]);
        }
        assert_eq!(d.fields().len(), 4, "the fields stay as declared");

        // The merge takes it out of the container; a check reports it as extra where it is still
        // set, and nothing as missing where it is not.
        let mut td = json!({"containerDefinitions": [{"name": "app", "secrets": [
            {"name": "BETA", "valueFrom": BETA}]}]});
        let before = td.clone();
        let report = d.check(&td, "app").unwrap();
        assert_eq!(
            report.drifts,
            [
                Drift::Missing {
                    name: "PASSWORD".into(),
                    value_from: format!("{DB}:password::")
                },
                Drift::Missing {
                    name: "FLAG".into(),
                    value_from: FLAG.into()
                },
                Drift::Extra {
                    name: "BETA".into(),
                    value_from: Some(BETA.into())
                },
            ]
        );
        d.merge_into(&mut td, "app").unwrap();
        assert_ne!(td, before);
        assert_eq!(td["containerDefinitions"][0]["secrets"], secrets);
        assert!(!d.check(&td, "app").unwrap().has_drift());
    }

    #[test]
    fn a_task_counts_its_declarations_references_in_preflight_order() {
        let mut task = Task::new()
            .container("app", Config::deployment())
            .log_secret("app", "apiKey", FLAG.parse().unwrap())
            .unwrap()
            .container("sidecar", Config::deployment());
        // app's FLAG (1) and sidecar's BETA (3 + 2).
        task.retain_references(|at| at != 1 && at != 5);
        let names = |c: &str| -> Vec<String> {
            task.secrets(c)
                .unwrap()
                .into_iter()
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(names("app"), ["PASSWORD", "BETA"]);
        assert_eq!(names("sidecar"), ["PASSWORD", "FLAG"]);
        assert_eq!(task.log_secrets("app").len(), 1, "log secrets are kept");
        let execution = task.policy(Role::Execution);
        assert_eq!(execution.resources(Action::GetParameters), [FLAG]);
        assert_eq!(
            execution.resources(Action::GetSecretValue),
            [format!("{BETA}-??????"), format!("{DB}-??????")]
        );
    }
}
