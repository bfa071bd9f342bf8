//! Generates the benchmark structs: 100 to 1,000 fields are too many to write by hand, and
//! each approach must get exactly the same fields and data.
//!
//! - `env100.rs` (§2): one 100-field configuration written three ways (ecs-secrets, envconfig,
//!   envy), the environment they all read, and a `values()` per struct so the bench can check
//!   that the three loaders produced the same configuration before it times them.
//! - `fetch.rs` (§1): the direct-fetch configurations of 10, 50, 200 and 1,000 fields, each as an
//!   `EcsSecrets` struct and as a table (`Spec`) that the per-field approaches and the fixtures
//!   read. The 50-field one is the reference of docs/benchmarks.md §1: 30 Secrets Manager fields as JSON keys
//!   of 12 distinct secrets (2 pinned to a version), 20 SSM parameters (half SecureString). The
//!   other sizes keep those proportions.

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

/// The shape of the `n`-field direct-fetch configuration: 3/5 of the fields are JSON keys of
/// Secrets Manager secrets (12 distinct secrets per 50 fields, a sixth of them pinned), the rest
/// distinct SSM parameters (every other one a SecureString).
struct Shape {
    sm_fields: usize,
    secrets: usize,
    pinned: usize,
    params: usize,
}

impl Shape {
    fn new(n: usize) -> Self {
        let sm_fields = n * 3 / 5;
        let secrets = ((n * 12 + 25) / 50).max(1);
        Shape {
            sm_fields,
            secrets,
            pinned: (secrets + 3) / 6,
            params: n - sm_fields,
        }
    }

    /// Secret `s` is pinned (the last `pinned` ones): even ones to the stage `AWSPREVIOUS`, odd
    /// ones to the id of their first version.
    fn pin(&self, s: usize) -> &'static str {
        if s < self.secrets - self.pinned {
            "None"
        } else if s.is_multiple_of(2) {
            "PreviousStage"
        } else {
            "FirstVersionId"
        }
    }
}

fn fetch(sizes: &[usize]) -> String {
    let mut out = String::new();
    for &n in sizes {
        let shape = Shape::new(n);
        let _ = writeln!(
            out,
            "/// The {n}-field direct-fetch configuration: {} Secrets Manager fields (keys of {} \
             secrets, {} pinned) and {} SSM parameters.",
            shape.sm_fields, shape.secrets, shape.pinned, shape.params
        );
        out.push_str("#[derive(::ecs_secrets::EcsSecrets)]\n");
        out.push_str("#[ecs(region = \"us-east-1\", account = \"123456789012\")]\n");
        let _ = writeln!(out, "pub struct Fetch{n} {{");
        let mut fields = Vec::new();
        for f in 0..shape.sm_fields {
            let (s, k) = (f % shape.secrets, f / shape.secrets);
            let attr = match shape.pin(s) {
                "None" => format!("secret = \"{{p}}/s{s:04}\", key = \"k{k}\""),
                "PreviousStage" => format!(
                    "secret = \"{{p}}/s{s:04}\", key = \"k{k}\", version_stage = \"AWSPREVIOUS\""
                ),
                // A version id in an attribute must be literal; the ARN form takes a placeholder.
                _ => format!(
                    "secret = \"arn:aws:secretsmanager:us-east-1:123456789012:secret:{{p}}/s{s:04}:k{k}::{{v{s}}}\""
                ),
            };
            let _ = writeln!(out, "    #[ecs({attr})]\n    pub f{f:04}: String,");
            fields.push(format!(
                "Item::Secret {{ env: \"F{f:04}\", secret: {s}, key: \"k{k}\" }}"
            ));
        }
        for q in 0..shape.params {
            let f = shape.sm_fields + q;
            let _ = writeln!(
                out,
                "    #[ecs(ssm = \"/{{p}}/q{q:04}\")]\n    pub f{f:04}: String,"
            );
            fields.push(format!("Item::Param {{ env: \"F{f:04}\", param: {q} }}"));
        }
        out.push_str("}\n\n");

        let _ = writeln!(out, "impl Values for Fetch{n} {{");
        out.push_str("    fn values(&self) -> Vec<(&'static str, String)> {\n        vec![\n");
        for f in 0..n {
            let _ = writeln!(out, "            (\"F{f:04}\", self.f{f:04}.clone()),");
        }
        out.push_str("        ]\n    }\n}\n\n");

        let _ = writeln!(out, "/// The table of [`Fetch{n}`].");
        let _ = writeln!(out, "pub static SPEC{n}: Spec = Spec {{");
        let _ = writeln!(
            out,
            "    fields: &[\n        {}\n    ],",
            fields.join(",\n        ")
        );
        let secrets: Vec<String> = (0..shape.secrets)
            .map(|s| {
                let keys = (0..shape.sm_fields)
                    .filter(|f| f % shape.secrets == s)
                    .map(|f| format!("\"k{}\"", f / shape.secrets))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "SecretSpec {{ name: \"s{s:04}\", keys: &[{keys}], pin: Pin::{} }}",
                    shape.pin(s)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "    secrets: &[\n        {}\n    ],",
            secrets.join(",\n        ")
        );
        let params: Vec<String> = (0..shape.params)
            .map(|q| {
                format!(
                    "ParamSpec {{ name: \"q{q:04}\", secure: {} }}",
                    q.is_multiple_of(2)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "    params: &[\n        {}\n    ],",
            params.join(",\n        ")
        );
        out.push_str("};\n\n");
    }
    out
}

fn main() {
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(dir.join("env100.rs"), env100()).expect("write env100.rs");
    std::fs::write(dir.join("fetch.rs"), fetch(&[10, 50, 200, 1000])).expect("write fetch.rs");
    println!("cargo::rerun-if-changed=build.rs");
}
