#!/usr/bin/env bash
# §3 of BENCHMARKS.md: what ecs-secrets costs a build. Cold `cargo build` (dev profile) of three
# tiny binaries, each in its own temp dir with its own CARGO_TARGET_DIR:
#
#   ecs-secrets  a config struct with the derive, loaded from the environment, and its `secrets`
#                fragment and IAM policy printed (default features; path dependency on a snapshot
#                of runtime/, macros/ and grammar/ taken when the script starts)
#   envconfig    the same struct with envconfig (loading only: envconfig has no fragment)
#   floor        an empty binary with exactly the external crates default-feature ecs-secrets
#                depends on, read from runtime/Cargo.toml and macros/Cargo.toml (same versions and
#                features; the macro crate's through an empty proc-macro crate, as in ecs-secrets)
#
#   bench/build-cost.sh            # 2 runs of each, interleaved
#   BUILD_COST_RUNS=3 bench/build-cost.sh
#   BUILD_COST_JOBS=1 BUILD_COST_KEEP=1 bench/build-cost.sh   # profile: one unit at a time, keep
#                                                             # the crates and --timings reports
#
# Every crate gets the workspace's Cargo.lock, so all three resolve the same versions, and builds
# with --offline from the local registry cache (helpers in build-lib.sh, shared with
# service-cost.sh). Builds run one at a time; the minimum of the runs is the figure (the machine
# is shared: others' compiles only ever add time). Prints a table and merges the `build_cost`
# section of target/bench/results.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=build-cost
# shellcheck source=bench/build-lib.sh
source "$ROOT/bench/build-lib.sh"
RUNS="${BUILD_COST_RUNS:-2}"
build_init

snapshot_lib "$WORK/lib"
new_crate "$WORK/ecs-secrets" bench-build-ecs-secrets \
    "ecs-secrets = { path = \"$WORK/lib/runtime\" }" \
    "use ecs_secrets::{EcsSecrets, Role, Secret};

$APP_CONFIG
"'
fn main() {
    println!("{:?}", AppConfig::deployment().secrets());
    println!("{}", AppConfig::deployment().policy(Role::Execution));
    match AppConfig::from_env() {
        Ok(c) => println!("port {} db port {} flags {:?}", c.port, c.database_port, c.feature_flags),
        Err(e) => println!("{e}"),
    }
}'

new_crate "$WORK/envconfig" bench-build-envconfig \
    'envconfig = "0.11"' \
    'use envconfig::Envconfig;

#[derive(Envconfig)]
struct AppConfig {
    #[envconfig(from = "DATABASE_PASSWORD")]
    database_password: String,
    #[envconfig(from = "DATABASE_PORT")]
    database_port: u16,
    #[envconfig(from = "API_KEY")]
    api_key: String,
    #[envconfig(from = "PORT", default = "3000")]
    port: u16,
    #[envconfig(from = "FEATURE_FLAGS")]
    feature_flags: Option<String>,
}

fn main() {
    match AppConfig::init_from_env() {
        Ok(c) => println!(
            "port {} db port {} flags {:?} ({} {} bytes)",
            c.port,
            c.database_port,
            c.feature_flags,
            c.database_password.len(),
            c.api_key.len()
        ),
        Err(e) => println!("{e}"),
    }
}'

mkdir -p "$WORK/floor/floor-macros/src"
cat >"$WORK/floor/floor-macros/Cargo.toml" <<EOF
[package]
name = "floor-macros"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
proc-macro = true

[dependencies]
$(manifest_deps "$ROOT/macros/Cargo.toml")
EOF
: >"$WORK/floor/floor-macros/src/lib.rs"
new_crate "$WORK/floor" bench-build-floor \
    "$(manifest_deps "$ROOT/runtime/Cargo.toml")
floor-macros = { path = \"floor-macros\" }" \
    'fn main() {}'

CASES=(ecs-secrets envconfig floor)

for c in "${CASES[@]}"; do
    dependency_graph "$c"
done
log "floor dependencies (from runtime/Cargo.toml and macros/Cargo.toml):"
manifest_deps "$ROOT/runtime/Cargo.toml" | sed 's/^/    /' >&2
manifest_deps "$ROOT/macros/Cargo.toml" | sed 's/^/    /' >&2

# --- Cold builds, one at a time, interleaved so that a neighbour's burst hits all alike. ---
for run in $(seq 1 "$RUNS"); do
    for c in "${CASES[@]}"; do
        cold_build "$c" "$run" --timings ${BUILD_COST_JOBS:+-j "$BUILD_COST_JOBS"}
        cp "$WORK/$c/target/cargo-timings/cargo-timing.html" "$WORK/$c.$run.html"
        unit_times "$c" "$run"
    done
done

# --- Figures. ---
python3 - "$WORK" "$RUNS" "$(nproc)" "$(rustc --version)" <<'EOF'
import json, os, sys
work, runs, nproc, rustc = sys.argv[1:5]
cases = ["ecs-secrets", "envconfig", "floor"]
rows = [l.split() for l in open(os.path.join(work, "times"))]
def units(path):
    """Per-unit compile times of one build, slowest first: [(crate + target, seconds)]."""
    rows = [l.rstrip("\n").split("\t") for l in open(path)]
    return [(name + target, float(s)) for s, name, target in rows]

out = {}
for c in cases:
    mine = [r for r in rows if r[0] == c]
    walls = [float(r[2]) for r in mine]
    cpus = [float(r[3]) + float(r[4]) for r in mine]
    deps = [l.strip() for l in open(os.path.join(work, c + ".deps")) if l.strip()]
    fastest = mine[walls.index(min(walls))][1]
    out[c] = {
        "wall_s": walls,
        "wall_min_s": min(walls),
        "cpu_s": cpus,
        "cpu_min_s": min(cpus),
        "crates_compiled": int(mine[0][5]),
        "dependency_graph_crates": len(deps),
        "dependency_graph": deps,
        "units_of_fastest_run_s": units(os.path.join(work, f"{c}.{fastest}.units")),
    }
e, v, f = (out[c] for c in cases)
section = {
    "command": "bench/build-cost.sh",
    "profile": "dev (cargo build), cold: empty CARGO_TARGET_DIR, --offline, workspace Cargo.lock",
    "runs_each": int(runs),
    "nproc": int(nproc),
    "rustc": rustc,
    "note": "shared machine: other engineers compile concurrently; the minimum of the runs is the figure",
    "cases": out,
    "ratio_wall_to_floor": e["wall_min_s"] / f["wall_min_s"],
    "ratio_cpu_to_floor": e["cpu_min_s"] / f["cpu_min_s"],
    "ratio_wall_to_envconfig": e["wall_min_s"] / v["wall_min_s"],
    "ratio_cpu_to_envconfig": e["cpu_min_s"] / v["cpu_min_s"],
    "goal": "ecs-secrets' own code adds at most 20 % over its dependency floor (ratio_wall_to_floor <= 1.20)",
    "goal_met": e["wall_min_s"] / f["wall_min_s"] <= 1.20,
}
print(f"\n{'case':<12} {'wall min s':>10} {'all runs (wall s)':>22} {'cpu min s':>10} {'compiled':>9} {'graph':>6}")
for c in cases:
    o = out[c]
    runs_s = " ".join(f"{w:.2f}" for w in o["wall_s"])
    print(f"{c:<12} {o['wall_min_s']:>10.2f} {runs_s:>22} {o['cpu_min_s']:>10.2f} {o['crates_compiled']:>9} {o['dependency_graph_crates']:>6}")
for c in ["ecs-secrets", "floor"]:
    top = ", ".join(f"{n} {d:.2f}" for n, d in out[c]["units_of_fastest_run_s"][:8])
    print(f"slowest units of {c} (s, overlapping on {nproc} cores): {top}")
print(f"\necs-secrets / floor:     wall {section['ratio_wall_to_floor']:.2f}x  cpu {section['ratio_cpu_to_floor']:.2f}x  (goal <= 1.20: {'met' if section['goal_met'] else 'MISSED'})")
print(f"ecs-secrets / envconfig: wall {section['ratio_wall_to_envconfig']:.2f}x  cpu {section['ratio_cpu_to_envconfig']:.2f}x")
json.dump(section, open(os.path.join(work, "section.json"), "w"))
EOF
merge_results build_cost "$WORK/section.json"
