//! The command line of a task of several containers (`cli::run_task`): its one policy, what it
//! sets in each container, merge and check of a whole file, placeholders for the builder.

#[path = "support/task.rs"]
mod fixture;

use ecs_secrets::cli::{CliError, EXIT_DRIFT, Output, run_task};
use ecs_secrets::{EcsSecrets, Format, Role, Secret, Task, Vars};
use fixture::*;
use serde_json::{Value, json};

fn run(args: &[&str]) -> Result<Output, CliError> {
    let argv = std::iter::once("deploy-task").chain(args.iter().copied());
    run_task(argv, &|_| None, &[], |_: &Vars| Ok(task()))
}

fn ok(args: &[&str]) -> Output {
    run(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn file(name: &str, content: &Value) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("ecs-secrets-test-task-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(content).unwrap()).unwrap();
    path
}

#[test]
fn policy_and_containers_are_the_tasks() {
    assert_eq!(
        ok(&["policy"]).stdout,
        task().policy(Role::Execution).to_string() + "\n"
    );
    assert_eq!(
        ok(&["policy", "--format", "cloudformation"]).stdout,
        Format::CloudFormation
            .policy(&task().policy(Role::Execution), Role::Execution)
            .unwrap()
    );
    assert_eq!(
        ok(&["containers"]).stdout,
        Format::Ecs.task(&task()).unwrap()
    );
    assert_eq!(
        ok(&["containers", "--format", "cloudformation-yaml"]).stdout,
        Format::CloudFormationYaml.task(&task()).unwrap()
    );
    let err = run(&["containers", "--format", "copilot"]).unwrap_err();
    assert!(matches!(err, CliError::Usage(_)), "{err:?}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn merge_and_check_every_container_of_a_file() {
    let path = file("three.json", &registration("three"));
    let p = path.to_str().unwrap();
    // Before the merge: drift in the containers the task names, exit 1.
    let before = ok(&["check", p]);
    assert_eq!(before.code, EXIT_DRIFT);
    for container in ["app", "sidecar", "log_router"] {
        assert!(
            before.stdout.contains(&format!("container `{container}`")),
            "{}",
            before.stdout
        );
    }
    let printed: Value = serde_json::from_str(&ok(&["merge", p]).stdout).unwrap();
    assert_eq!(printed["containerDefinitions"], merged_containers());
    ok(&["merge", p, "--in-place"]);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(written, printed);
    let after = ok(&["check", p]);
    assert_eq!(after.code, 0, "{}", after.stdout);

    // A refusal names the container and changes nothing.
    let mut broken = registration("three");
    broken["containerDefinitions"]
        .as_array_mut()
        .unwrap()
        .retain(|c| c["name"] != "sidecar");
    let broken_path = file("broken.json", &broken);
    let err = run(&["merge", broken_path.to_str().unwrap(), "--in-place"]).unwrap_err();
    assert!(err.to_string().contains("sidecar"), "{err}");
    let unchanged: Value =
        serde_json::from_str(&std::fs::read_to_string(&broken_path).unwrap()).unwrap();
    assert_eq!(unchanged, broken);
}

#[test]
fn the_builder_gets_the_placeholder_values_and_its_errors_are_reported() {
    #[allow(dead_code)]
    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Staged {
        #[ecs(secret = "{stage}/app/db", key = "password")]
        password: Secret<String>,
    }
    let names = ecs_secrets::placeholders::<Staged>();
    let build = |vars: &Vars| -> Result<Task, Box<dyn std::error::Error>> {
        Ok(Task::new().container("app", Staged::deployment_for(vars)?))
    };
    let run = |args: &[&str], env: &dyn Fn(&str) -> Option<String>| {
        let argv = std::iter::once("deploy-task").chain(args.iter().copied());
        run_task(argv, env, &names, build)
    };
    let out = run(&["containers", "--var", "stage=prod"], &|_| None).unwrap();
    let containers: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        containers[0]["secrets"][0]["valueFrom"],
        json!("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/app/db:password::")
    );
    let from_env = run(&["containers", "--vars-from-env"], &|name| {
        (name == "STAGE").then(|| "staging".to_owned())
    })
    .unwrap();
    assert!(
        from_env.stdout.contains("secret:staging/app/db"),
        "{}",
        from_env.stdout
    );
    assert_eq!(run(&["placeholders"], &|_| None).unwrap().stdout, "stage\n");

    let missing = run(&["policy"], &|_| None).unwrap_err();
    assert!(matches!(missing, CliError::Task(_)), "{missing:?}");
    assert!(
        missing
            .to_string()
            .contains("no value for placeholder `{stage}`"),
        "{missing}"
    );
    let unknown = run(&["policy", "--var", "nope=1"], &|_| None).unwrap_err();
    assert!(
        matches!(unknown, CliError::UnknownVar { .. }),
        "{unknown:?}"
    );
}
