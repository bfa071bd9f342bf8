//! Generates the benchmark structs: 100 fields are too many to write out three times by hand,
//! and each loader must get exactly the same fields, types and data.
//!
//! `env100.rs` holds one 100-field configuration written three ways (ecs-secrets, envconfig,
//! envy), the environment they all read, and a `values()` per struct so the bench can check that
//! the three loaders produced the same configuration before it times them.

use std::fmt::Write as _;
use std::path::PathBuf;

/// Field `i`'s Rust type: half strings, the rest the numbers, flags and optionals a service has.
fn ty(i: usize) -> &'static str {
    match i % 10 {
        0..=4 => "String",
        5 | 6 => "u16",
        7 => "u64",
        8 => "bool",
        _ => "Option<String>",
    }
}

/// Field `i`'s value, as text in the environment.
fn value(i: usize) -> String {
    match i % 10 {
        0..=4 | 9 => format!("value-of-service-option-{i:03}"),
        5 | 6 => (1000 + i).to_string(),
        7 => (10_000_000_000 + 7 * i as u64).to_string(),
        _ => i.is_multiple_of(3).to_string(),
    }
}

fn name(i: usize) -> String {
    format!("service_option_{i:03}")
}

/// The `#[ecs(...)]` source of field `i`: ECS injects a fifth of the fields from Secrets Manager
/// and a tenth from SSM, as in a typical service. Loading from the environment does not look at
/// the source, but the declaration should be a realistic one.
fn ecs_attr(i: usize) -> String {
    match i % 10 {
        0 | 1 => format!(
            "#[ecs(secret = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:app/s{}-AbCdEf\", key = \"k{i}\")]\n",
            i / 20
        ),
        2 => format!("#[ecs(ssm = \"/app/param/{i}\")]\n"),
        _ => String::new(),
    }
}

fn env100() -> String {
    const N: usize = 100;
    let mut out = String::new();

    out.push_str("/// The 100-field configuration, loaded by ecs-secrets.\n");
    out.push_str("#[derive(Debug, ::ecs_secrets::EcsSecrets)]\n");
    out.push_str("#[ecs(region = \"us-east-1\", account = \"123456789012\")]\n");
    out.push_str("pub struct EcsConfig100 {\n");
    for i in 0..N {
        let _ = writeln!(out, "    {}pub {}: {},", ecs_attr(i), name(i), ty(i));
    }
    out.push_str("}\n\n");

    out.push_str("/// The same configuration, loaded by envconfig.\n");
    out.push_str("#[derive(Debug, ::envconfig::Envconfig)]\n");
    out.push_str("pub struct EnvconfigConfig100 {\n");
    for i in 0..N {
        let _ = writeln!(
            out,
            "    #[envconfig(from = \"{}\")]\n    pub {}: {},",
            name(i).to_uppercase(),
            name(i),
            ty(i)
        );
    }
    out.push_str("}\n\n");

    out.push_str("/// The same configuration, loaded by envy (serde).\n");
    out.push_str("#[derive(Debug, ::serde::Deserialize)]\n");
    out.push_str("pub struct EnvyConfig100 {\n");
    for i in 0..N {
        let _ = writeln!(out, "    pub {}: {},", name(i), ty(i));
    }
    out.push_str("}\n\n");

    out.push_str("/// The environment all three read: `(NAME, value)` for every field.\n");
    out.push_str("pub const ENV100: &[(&str, &str)] = &[\n");
    for i in 0..N {
        let _ = writeln!(out, "    ({:?}, {:?}),", name(i).to_uppercase(), value(i));
    }
    out.push_str("];\n\n");

    for ty in ["EcsConfig100", "EnvconfigConfig100", "EnvyConfig100"] {
        let _ = writeln!(out, "impl {ty} {{");
        out.push_str("    /// Every field's value in `Debug` form, to compare loaders.\n");
        out.push_str("    pub fn values(&self) -> Vec<String> {\n        vec![\n");
        for i in 0..N {
            let _ = writeln!(out, "            format!(\"{{:?}}\", self.{}),", name(i));
        }
        out.push_str("        ]\n    }\n}\n\n");
    }
    out
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(dir.join("env100.rs"), env100()).expect("write env100.rs");
    println!("cargo::rerun-if-changed=build.rs");
}
