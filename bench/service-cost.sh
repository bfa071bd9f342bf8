#!/usr/bin/env bash
# §3 of the benchmarks, a service that loads: what feature `aws` costs the build of a service.
# Cold `cargo build` (dev profile) of tiny binaries, each in its own temp dir with its own
# CARGO_TARGET_DIR (helpers in build-lib.sh, shared with build-cost.sh):
#
#   ecs-secrets-aws  a derived config struct loaded with `aws::Loader::load` and kept live with
#                    `Loader::watch`; ecs-secrets with features = ["aws"] as a path dependency on
#                    a snapshot of runtime/, macros/ and grammar/ taken when the script starts
#   floor            the same service written directly on the SDK: one `GetSecretValue`, one
#                    `GetParameters`, on aws-config, aws-sdk-secretsmanager, aws-sdk-ssm and tokio
#                    with exactly the versions and features runtime/Cargo.toml gives them
#   before           (with SERVICE_COST_BEFORE=<commit>) ecs-secrets-aws against a snapshot of the
#                    library at that commit, e.g. 24438c3, the last before the split into `aws` and
#                    `deploy`, when `aws` also compiled the KMS, IAM and STS SDK crates
#
#   bench/service-cost.sh                               # 3 runs of each, interleaved
#   SERVICE_COST_BEFORE=24438c3 bench/service-cost.sh   # and the before/after figures
#   SERVICE_COST_RUNS=2 SERVICE_COST_JOBS=1 SERVICE_COST_KEEP=1 bench/service-cost.sh
#
# Builds run one at a time with -j SERVICE_COST_JOBS (default 2), interleaved so that a
# neighbour's burst hits every case alike; the load average before each build is printed and
# recorded. The minimum of the runs is the figure (others' compiles only ever add time), for
# wall time and for CPU time (user + sys), which neighbours disturb less; the ratios of each
# run's builds, made minutes apart, are given too. Prints a table, the units ecs-secrets adds
# (cargo --timings) and merges the `service_build_cost` section of target/bench/results.json.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=service-cost
# shellcheck source=bench/build-lib.sh
source "$ROOT/bench/build-lib.sh"
RUNS="${SERVICE_COST_RUNS:-3}"
JOBS="${SERVICE_COST_JOBS:-2}"
BEFORE="${SERVICE_COST_BEFORE:-}"
build_init

# The service's own dependencies ask for nothing ecs-secrets does not enable already
# (aws-config's default features would add the SSO SDK crates), so that it and the floor build
# the same SDK.
SERVICE_MAIN='use std::time::Duration;

use aws_config::BehaviorVersion;
use ecs_secrets::aws::{Loader, WatchOptions};
use ecs_secrets::{EcsSecrets, Secret};
'"$APP_CONFIG"'

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let loader = Loader::new(&config).deadline(Duration::from_secs(5));
    match loader.load::<AppConfig>().await {
        Ok(app) => println!("loaded {app:?}"),
        Err(e) => println!("{e}"),
    }
    match loader.watch::<AppConfig>(WatchOptions::new()).await {
        Ok(watch) => println!("watching, port {}", watch.current().port),
        Err(e) => println!("{e}"),
    }
}'
service_deps() {
    echo "ecs-secrets = { path = \"$1/runtime\", features = [\"aws\"] }
aws-config = { version = \"1.8\", default-features = false, features = [\"behavior-version-latest\"] }
tokio = { version = \"1\", features = [\"rt\", \"macros\"] }"
}

snapshot_lib "$WORK/lib"
new_crate "$WORK/ecs-secrets-aws" bench-service-ecs-secrets-aws "$(service_deps "$WORK/lib")" "$SERVICE_MAIN"

FLOOR_DEPS="$(manifest_deps "$ROOT/runtime/Cargo.toml" aws-config aws-sdk-secretsmanager aws-sdk-ssm tokio)"
new_crate "$WORK/floor" bench-service-floor "$FLOOR_DEPS" 'use aws_config::BehaviorVersion;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    match secrets.get_secret_value().secret_id("my-app/database-credentials").send().await {
        Ok(out) => println!("secret: {} bytes", out.secret_string().map_or(0, str::len)),
        Err(e) => println!("{e}"),
    }
    let ssm = aws_sdk_ssm::Client::new(&config);
    let parameters = ssm.get_parameters().names("/my-app/api-key").names("/my-app/feature-flags");
    match parameters.with_decryption(true).send().await {
        Ok(out) => println!("parameters: {}, invalid: {:?}", out.parameters().len(), out.invalid_parameters()),
        Err(e) => println!("{e}"),
    }
}'

CASES=(ecs-secrets-aws floor)
if [[ -n "$BEFORE" ]]; then
    snapshot_lib "$WORK/lib-before" "$BEFORE"
    new_crate "$WORK/before" bench-service-before "$(service_deps "$WORK/lib-before")" "$SERVICE_MAIN"
    CASES+=(before)
fi

log "floor dependencies (from runtime/Cargo.toml):"
sed 's/^/    /' <<<"$FLOOR_DEPS" >&2
for c in "${CASES[@]}"; do
    dependency_graph "$c"
done
log "uptime: $(uptime)"

for run in $(seq 1 "$RUNS"); do
    for c in "${CASES[@]}"; do
        cold_build "$c" "$run" -j "$JOBS" --timings
        unit_times "$c" "$run"
        grep -o '^ *Compiling [^ ]*' "$WORK/$c.$run.log" | awk '{print $2}' | sort >"$WORK/$c.$run.compiled"
        # A few GB each with the SDK's debug info; the next run starts from empty anyway.
        [[ "${SERVICE_COST_KEEP:-0}" == 1 ]] || rm -rf "$WORK/$c/target"
    done
done
log "uptime: $(uptime)"

# --- Figures. ---
python3 - "$WORK" "$RUNS" "$JOBS" "$(nproc)" "$(rustc --version)" "$BEFORE" "${CASES[@]}" <<'EOF'
import json, os, sys
work, runs, jobs, nproc, rustc, before = sys.argv[1:7]
cases = sys.argv[7:]
rows = [l.split() for l in open(os.path.join(work, "times"))]
deploy_only = ["aws-sdk-kms", "aws-sdk-iam", "aws-sdk-sts"]
out = {}
for c in cases:
    mine = [r for r in rows if r[0] == c]
    walls = [float(r[2]) for r in mine]
    cpus = [round(float(r[3]) + float(r[4]), 2) for r in mine]
    compiled = [l.strip() for l in open(os.path.join(work, f"{c}.{mine[0][1]}.compiled"))]
    deps = [l.strip() for l in open(os.path.join(work, c + ".deps")) if l.strip()]
    out[c] = {
        "wall_s": walls,
        "wall_min_s": min(walls),
        "cpu_s": cpus,
        "cpu_min_s": min(cpus),
        "load_average_before": [float(r[6]) for r in mine],
        "crates_compiled": int(mine[0][5]),
        "compiled": compiled,
        "deploy_sdk_crates_compiled": [d for d in deploy_only if d in compiled],
        "dependency_graph_crates": len(deps),
    }
e, f = out["ecs-secrets-aws"], out["floor"]
ratio = lambda a, b, k: round(a[k] / b[k], 3)
by_run = lambda a, b, k: [round(x / y, 3) for x, y in zip(a[k], b[k])]
# The units of packages the floor does not compile, in ecs-secrets-aws' run of least CPU.
best = [r for r in rows if r[0] == "ecs-secrets-aws"][e["cpu_s"].index(e["cpu_min_s"])][1]
own = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, f"ecs-secrets-aws.{best}.units"))]
own = [(name + target, float(secs)) for secs, name, target in own if name not in f["compiled"]]
section = {
    "command": "bench/service-cost.sh" if not before else f"SERVICE_COST_BEFORE={before} bench/service-cost.sh",
    "profile": "dev (cargo build), cold: empty CARGO_TARGET_DIR, --offline, workspace Cargo.lock",
    "jobs": int(jobs),
    "runs_each": int(runs),
    "nproc": int(nproc),
    "rustc": rustc,
    "note": "shared machine: other engineers compile concurrently; the minimum of the runs is the figure",
    "cases": out,
    "ratio_wall_to_floor": ratio(e, f, "wall_min_s"),
    "ratio_cpu_to_floor": ratio(e, f, "cpu_min_s"),
    "ratio_wall_to_floor_by_run": by_run(e, f, "wall_s"),
    "ratio_cpu_to_floor_by_run": by_run(e, f, "cpu_s"),
    "units_not_in_floor_s": own,
    "goal": "a service on feature `aws` builds within 5 % of the same service on the SDK alone (ratio_*_to_floor <= 1.05)",
    "goal_met_wall": e["wall_min_s"] / f["wall_min_s"] <= 1.05,
    "goal_met_cpu": e["cpu_min_s"] / f["cpu_min_s"] <= 1.05,
}
if before:
    b = out["before"]
    section["before_commit"] = before
    section["ratio_wall_after_to_before"] = ratio(e, b, "wall_min_s")
    section["ratio_cpu_after_to_before"] = ratio(e, b, "cpu_min_s")
    section["ratio_wall_before_to_floor"] = ratio(b, f, "wall_min_s")
    section["ratio_cpu_before_to_floor"] = ratio(b, f, "cpu_min_s")
    section["ratio_wall_after_to_before_by_run"] = by_run(e, b, "wall_s")
    section["ratio_cpu_after_to_before_by_run"] = by_run(e, b, "cpu_s")

print(f"\n{'case':<16} {'wall min s':>10} {'wall runs s':>22} {'cpu min s':>10} {'cpu runs s':>22} {'compiled':>9} {'kms/iam/sts':>12} {'load before':>16}")
for c in cases:
    o = out[c]
    join = lambda xs: " ".join(f"{x:.1f}" for x in xs)
    sdk = ",".join(d.removeprefix("aws-sdk-") for d in o["deploy_sdk_crates_compiled"]) or "none"
    print(f"{c:<16} {o['wall_min_s']:>10.2f} {join(o['wall_s']):>22} {o['cpu_min_s']:>10.2f} {join(o['cpu_s']):>22} {o['crates_compiled']:>9} {sdk:>12} {join(o['load_average_before']):>16}")
ok = lambda m: "met" if m else "MISSED"
runs_of = lambda k: " ".join(f"{x:.3f}" for x in section[k])
print(f"\necs-secrets-aws / floor: wall {section['ratio_wall_to_floor']:.3f}x  cpu {section['ratio_cpu_to_floor']:.3f}x"
      f"  (goal <= 1.05: wall {ok(section['goal_met_wall'])}, cpu {ok(section['goal_met_cpu'])})")
print(f"  by run:                wall {runs_of('ratio_wall_to_floor_by_run')}  cpu {runs_of('ratio_cpu_to_floor_by_run')}")
if before:
    print(f"after / before ({before}):  wall {section['ratio_wall_after_to_before']:.3f}x  cpu {section['ratio_cpu_after_to_before']:.3f}x")
    print(f"  by run:                wall {runs_of('ratio_wall_after_to_before_by_run')}  cpu {runs_of('ratio_cpu_after_to_before_by_run')}")
    print(f"before / floor:           wall {section['ratio_wall_before_to_floor']:.3f}x  cpu {section['ratio_cpu_before_to_floor']:.3f}x")
    extra = sorted(set(out["before"]["compiled"]) - set(e["compiled"]))
    print(f"compiled only before: {', '.join(extra) or 'none'}")
extra = sorted(set(e["compiled"]) - set(f["compiled"]))
print(f"compiled for ecs-secrets-aws, not the floor: {', '.join(extra) or 'none'}")
print(f"their units in run {best} (s, {sum(s for _, s in own):.1f} in all, overlapping on {jobs} jobs): "
      + ", ".join(f"{n} {s:.2f}" for n, s in own))
json.dump(section, open(os.path.join(work, "section.json"), "w"))
EOF
merge_results service_build_cost "$WORK/section.json"
