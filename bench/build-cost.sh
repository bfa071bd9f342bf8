#!/usr/bin/env bash
# §3 of docs/benchmarks.md: what ecs-secrets costs a build. Cold `cargo build` (dev profile) of three
# tiny binaries, each in its own temp dir with its own CARGO_TARGET_DIR:
#
#   ecs-secrets  a config struct with the derive, loaded from the environment, and its `secrets`
#                fragment and IAM policy printed (default features; path dependency on a snapshot
#                of runtime/ and macros/ taken when the script starts)
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
# with --offline from the local registry cache. Builds run one at a time; the minimum of the runs
# is the figure (the machine is shared: others' compiles only ever add time). Prints a table and
# merges the `build_cost` section of target/bench/results.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${BUILD_COST_RUNS:-2}"
RESULTS="${CARGO_TARGET_DIR:-$ROOT/target}/bench/results.json"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ecs-secrets-build-cost.XXXXXX")"
# BUILD_COST_KEEP=1 keeps the temp dir (the crates and cargo's --timings reports) for profiling.
if [[ "${BUILD_COST_KEEP:-0}" == 1 ]]; then
    trap 'echo "[build-cost] kept $WORK" >&2' EXIT
else
    trap 'rm -rf "$WORK"' EXIT
fi
log() { printf '[build-cost] %s\n' "$*" >&2; }

# --- A snapshot of the library, so that every run builds the same code while others edit. ---
mkdir -p "$WORK/lib"
cp -r "$ROOT/runtime" "$ROOT/macros" "$ROOT/README.md" "$WORK/lib/"
rm -rf "$WORK/lib/runtime/target" "$WORK/lib/macros/target"
python3 - "$ROOT/Cargo.toml" "$WORK/lib/Cargo.toml" <<'EOF'
import sys, tomllib, json
root = tomllib.load(open(sys.argv[1], "rb"))
pkg = root["workspace"]["package"]
with open(sys.argv[2], "w") as f:
    f.write('[workspace]\nmembers = ["runtime", "macros"]\nresolver = "3"\n\n[workspace.package]\n')
    for k, v in pkg.items():
        f.write(f"{k} = {json.dumps(v)}\n")
EOF

# --- The floor: the non-optional, non-path dependencies of runtime/ and macros/. ---
# Prints TOML dependency lines for one manifest.
floor_deps() {
    python3 - "$1" <<'EOF'
import sys, tomllib, json
deps = tomllib.load(open(sys.argv[1], "rb")).get("dependencies", {})
for name, spec in deps.items():
    if isinstance(spec, str):
        spec = {"version": spec}
    if spec.get("optional") or "path" in spec:
        continue
    parts = [f'version = {json.dumps(spec["version"])}']
    if spec.get("default-features") is False:
        parts.append("default-features = false")
    if spec.get("features"):
        parts.append(f'features = {json.dumps(spec["features"])}')
    print(f'{name} = {{ {", ".join(parts)} }}')
EOF
}

# new_crate DIR NAME DEPENDENCY-LINES MAIN.RS
new_crate() {
    mkdir -p "$1/src"
    cat >"$1/Cargo.toml" <<EOF
[package]
name = "$2"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
$3

[workspace]
EOF
    printf '%s\n' "$4" >"$1/src/main.rs"
    cp "$ROOT/Cargo.lock" "$1/Cargo.lock"
}

new_crate "$WORK/ecs-secrets" bench-build-ecs-secrets \
    "ecs-secrets = { path = \"$WORK/lib/runtime\" }" \
    'use ecs_secrets::{EcsSecrets, Secret};

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct AppConfig {
    #[ecs(secret = "my-app/database-credentials", key = "password")]
    database_password: Secret<String>,
    #[ecs(secret = "my-app/database-credentials", key = "port")]
    database_port: u16,
    #[ecs(ssm = "/my-app/api-key", env = "API_KEY")]
    api_key: Secret<String>,
    #[ecs(default = "3000")]
    port: u16,
    #[ecs(ssm = "/my-app/feature-flags")]
    feature_flags: Option<String>,
}

fn main() {
    println!("{:?}", AppConfig::secrets());
    println!("{}", AppConfig::iam_policy());
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
$(floor_deps "$ROOT/macros/Cargo.toml")
EOF
: >"$WORK/floor/floor-macros/src/lib.rs"
new_crate "$WORK/floor" bench-build-floor \
    "$(floor_deps "$ROOT/runtime/Cargo.toml")
floor-macros = { path = \"floor-macros\" }" \
    'fn main() {}'

CASES=(ecs-secrets envconfig floor)

# --- Dependency graphs. ---
for c in "${CASES[@]}"; do
    (cd "$WORK/$c" && cargo tree --offline --quiet -e normal --prefix none --no-dedupe) \
        | sed -e 's/ (\*)$//' -e 's/ (proc-macro)$//' -e 's/ (\/[^)]*)$//' | sort -u >"$WORK/$c.deps"
done
log "floor dependencies (from runtime/Cargo.toml and macros/Cargo.toml):"
floor_deps "$ROOT/runtime/Cargo.toml" | sed 's/^/    /' >&2
floor_deps "$ROOT/macros/Cargo.toml" | sed 's/^/    /' >&2

# --- Cold builds, one at a time, interleaved so that a neighbour's burst hits all alike. ---
: >"$WORK/times"
for run in $(seq 1 "$RUNS"); do
    for c in "${CASES[@]}"; do
        rm -rf "$WORK/$c/target"
        log "run $run/$RUNS: cold cargo build of $c"
        (cd "$WORK/$c" && CARGO_TARGET_DIR="$WORK/$c/target" \
            /usr/bin/time -f '%e %U %S' -o "$WORK/time" cargo build --offline --timings ${BUILD_COST_JOBS:+-j "$BUILD_COST_JOBS"} \
            2>"$WORK/$c.log") || {
            cat "$WORK/$c.log" >&2
            exit 1
        }
        units=$(grep -c '^ *Compiling ' "$WORK/$c.log" || true)
        read -r wall user sys <"$WORK/time"
        cp "$WORK/$c/target/cargo-timings/cargo-timing.html" "$WORK/$c.$run.html"
        echo "$c $run $wall $user $sys $units" >>"$WORK/times"
    done
done

# --- Figures. ---
python3 - "$WORK" "$RESULTS" "$RUNS" "$(nproc)" "$(rustc --version)" <<'EOF'
import json, os, sys
work, results_path, runs, nproc, rustc = sys.argv[1:6]
cases = ["ecs-secrets", "envconfig", "floor"]
rows = [l.split() for l in open(os.path.join(work, "times"))]
def units(html_path):
    """Per-unit compile times from cargo's --timings report: [(crate + target, seconds)]."""
    html = open(html_path).read()
    start = html.index("const UNIT_DATA = ") + len("const UNIT_DATA = ")
    data = json.JSONDecoder().raw_decode(html[start:])[0]
    rows = [(u["name"] + u["target"], round(u["duration"], 2)) for u in data]
    return sorted(rows, key=lambda r: -r[1])

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
        "units_of_fastest_run_s": units(os.path.join(work, f"{c}.{fastest}.html")),
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
os.makedirs(os.path.dirname(results_path), exist_ok=True)
try:
    with open(results_path) as fh:
        allr = json.load(fh)
except FileNotFoundError:
    allr = {}
allr["build_cost"] = section
with open(results_path, "w") as fh:
    json.dump(allr, fh, indent=2)
    fh.write("\n")
print(f"written to {results_path}")
EOF
