//! Writes `task-definition.json` (the base file with the config's `secrets` merged into the
//! `app` container) and `execution-role-policy.json` into `OUT_DIR`, and also next to
//! `Cargo.toml` when `ECS_SECRETS_WRITE_TASK_DEFINITION=1`. A refused merge fails the build.

#[path = "src/generate.rs"]
mod generate;

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    let next_to_manifest = std::env::var(generate::WRITE_VAR).is_ok_and(|v| v == "1");

    println!("cargo::rerun-if-changed={}", generate::BASE_FILE);
    println!("cargo::rerun-if-env-changed={}", generate::WRITE_VAR);

    if let Err(e) = generate::generate(&manifest_dir, &out_dir, next_to_manifest) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
