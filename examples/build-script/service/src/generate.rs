//! The build script's work, as functions the tests can call too (`build.rs` includes this file).

use std::path::{Path, PathBuf};

use ecs_secrets::EcsSecrets;
use ecs_secrets_example_config::AppConfig;

/// The hand-written part of the task definition: image, sizes, roles, plain `environment`.
pub const BASE_FILE: &str = "task-definition.base.json";
/// The generated task definition.
pub const OUTPUT_FILE: &str = "task-definition.json";
/// The generated execution-role policy.
pub const POLICY_FILE: &str = "execution-role-policy.json";
/// The container whose `secrets` the config fills.
pub const CONTAINER: &str = "app";
/// Set to `1` to also write the outputs next to `Cargo.toml` (to commit them or deploy them).
pub const WRITE_VAR: &str = "ECS_SECRETS_WRITE_TASK_DEFINITION";

/// The base task definition with the config's `secrets` merged in, pretty-printed.
pub fn task_definition(base: &str) -> Result<String, String> {
    let mut td: serde_json::Value =
        serde_json::from_str(base).map_err(|e| format!("{BASE_FILE} is not valid JSON: {e}"))?;
    AppConfig::deployment()
        .merge_into(&mut td, CONTAINER)
        .map_err(|e| format!("{BASE_FILE}: {e}"))?;
    Ok(pretty(&td))
}

/// The execution role's policy, pretty-printed.
pub fn execution_role_policy() -> String {
    pretty(
        &AppConfig::deployment()
            .policy(ecs_secrets::Role::Execution)
            .to_json(),
    )
}

/// Reads the base file from `manifest_dir` and writes both outputs into `out_dir` and, when
/// `next_to_manifest`, into `manifest_dir` too. Returns the paths written.
pub fn generate(
    manifest_dir: &Path,
    out_dir: &Path,
    next_to_manifest: bool,
) -> Result<Vec<PathBuf>, String> {
    let base_path = manifest_dir.join(BASE_FILE);
    let base = std::fs::read_to_string(&base_path)
        .map_err(|e| format!("cannot read {}: {e}", base_path.display()))?;
    let outputs = [
        (OUTPUT_FILE, task_definition(&base)?),
        (POLICY_FILE, execution_role_policy()),
    ];
    let mut dirs = vec![out_dir];
    if next_to_manifest {
        dirs.push(manifest_dir);
    }
    let mut written = Vec::new();
    for dir in dirs {
        for (name, text) in &outputs {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values serialize");
    text.push('\n');
    text
}
