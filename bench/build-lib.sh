# Helpers of the cold-build benchmarks (§3): build-cost.sh and service-cost.sh source this file.
# They write tiny crates into a temp dir, each built with its own CARGO_TARGET_DIR, offline from
# the local registry cache, with the workspace's Cargo.lock, so that every case resolves the same
# versions of the crates it shares with the others.
#
# The sourcing script sets ROOT (the repository) and NAME (its name, for the log and the temp
# dir), then calls build_init.

# build_init: the temp dir WORK (removed on exit unless <NAME>_KEEP=1, e.g. BUILD_COST_KEEP=1),
# RESULTS, and an empty WORK/times.
build_init() {
    RESULTS="${CARGO_TARGET_DIR:-$ROOT/target}/bench/results.json"
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/ecs-secrets-$NAME.XXXXXX")"
    local keep="${NAME^^}_KEEP"
    keep="${keep//-/_}"
    if [[ "${!keep:-0}" == 1 ]]; then
        trap 'log "kept $WORK"' EXIT
    else
        trap 'rm -rf "$WORK"' EXIT
    fi
    : >"$WORK/times"
}

# The config struct of both benchmarks' ecs-secrets cases: JSON keys of a secret, SSM
# parameters, a default and an `Option`.
APP_CONFIG='#[derive(Debug, EcsSecrets)]
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
}'

log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }

# snapshot_lib DEST [COMMIT]: the library's crates (runtime/, macros/, grammar/ and the README
# the runtime includes) as a workspace of their own in DEST, from the work tree when it starts
# (others edit the tree meanwhile: every run builds the same code) or from COMMIT.
snapshot_lib() {
    local dest="$1" commit="${2:-}" manifest
    mkdir -p "$dest"
    if [[ -n "$commit" ]]; then
        git -C "$ROOT" archive "$commit" runtime macros grammar README.md | tar -x -C "$dest"
        manifest="$(git -C "$ROOT" show "$commit:Cargo.toml")"
    else
        cp -r "$ROOT/runtime" "$ROOT/macros" "$ROOT/grammar" "$ROOT/README.md" "$dest/"
        rm -rf "$dest"/{runtime,macros,grammar}/target
        manifest="$(cat "$ROOT/Cargo.toml")"
    fi
    # The members need the root's [workspace.package] (version, edition…) and
    # [workspace.dependencies] (but for path dependencies outside the snapshot), nothing else.
    python3 -c '
import sys, tomllib, json
members = ["runtime", "macros", "grammar"]
ws = tomllib.loads(sys.stdin.read())["workspace"]
def value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)
print("[workspace]\nmembers = " + json.dumps(members) + "\nresolver = \"3\"\n\n[workspace.package]")
for k, v in ws["package"].items():
    print(f"{k} = {value(v)}")
print("\n[workspace.dependencies]")
for k, v in ws.get("dependencies", {}).items():
    if isinstance(v, dict) and "path" in v and v["path"] not in members:
        continue
    print(f"{k} = {value(v)}")
' <<<"$manifest" >"$dest/Cargo.toml"
}

# manifest_deps MANIFEST [NAME...]: TOML dependency lines with the version, default-features
# and features MANIFEST gives each dependency (with `workspace = true`, those of the root's
# [workspace.dependencies] and the member's features beside them): the NAMEs (optional or not),
# or without NAMEs every non-optional dependency that is not a path dependency.
manifest_deps() {
    python3 - "$ROOT/Cargo.toml" "$@" <<'EOF'
import sys, tomllib, json
shared = tomllib.load(open(sys.argv[1], "rb"))["workspace"].get("dependencies", {})
deps = tomllib.load(open(sys.argv[2], "rb")).get("dependencies", {})
names = sys.argv[3:]
def spec_of(spec):
    spec = {"version": spec} if isinstance(spec, str) else dict(spec)
    if spec.pop("workspace", False):
        base = spec_of(shared[name])
        features = base.get("features", []) + [f for f in spec.get("features", []) if f not in base.get("features", [])]
        base.update({k: v for k, v in spec.items() if k != "features"})
        if features:
            base["features"] = features
        spec = base
    return spec
for name in names or deps:
    spec = spec_of(deps[name])
    if not names and (spec.get("optional") or "path" in spec):
        continue
    parts = [f'version = {json.dumps(spec["version"])}']
    if spec.get("default-features") is False:
        parts.append("default-features = false")
    if spec.get("features"):
        parts.append(f'features = {json.dumps(spec["features"])}')
    print(f'{name} = {{ {", ".join(parts)} }}')
EOF
}

# new_crate DIR NAME DEPENDENCY-LINES MAIN.RS: a binary crate, its own workspace, with the
# workspace's Cargo.lock.
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

# dependency_graph CASE: WORK/CASE.deps, the packages of CASE's normal dependency graph (the
# crate itself included), one per line.
dependency_graph() {
    (cd "$WORK/$1" && cargo tree --offline --quiet -e normal --prefix none --no-dedupe) \
        | sed -e 's/ (\*)$//' -e 's/ (proc-macro)$//' -e 's/ (\/[^)]*)$//' | sort -u >"$WORK/$1.deps"
}

# cold_build CASE RUN [CARGO-BUILD-ARGS...]: `cargo build --offline` of WORK/CASE in an empty
# target dir. Appends "CASE RUN wall user sys compiled load1" to WORK/times (seconds; user and
# sys of cargo and every rustc and build script it waited for; compiled = cargo's `Compiling`
# lines; load1 = the 1-minute load average just before) and keeps cargo's output in
# WORK/CASE.RUN.log.
cold_build() {
    local c="$1" run="$2" load
    shift 2
    rm -rf "$WORK/$c/target"
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    log "run $run: cold cargo build of $c (load average before: $load)"
    (cd "$WORK/$c" && CARGO_TARGET_DIR="$WORK/$c/target" \
        /usr/bin/time -f '%e %U %S' -o "$WORK/time" cargo build --offline "$@" \
        2>"$WORK/$c.$run.log") || {
        cat "$WORK/$c.$run.log" >&2
        exit 1
    }
    local units wall user sys
    units=$(grep -c '^ *Compiling ' "$WORK/$c.$run.log" || true)
    read -r wall user sys <"$WORK/time"
    log "run $run: $c took ${wall} s wall, $(python3 -c "print(round($user + $sys, 2))") s CPU, $units packages compiled"
    echo "$c $run $wall $user $sys $units ${load%% *}" >>"$WORK/times"
}

# unit_times CASE RUN: WORK/CASE.RUN.units, one line per unit of cargo's --timings report of
# that build (run it with --timings): "seconds<TAB>package<TAB>target", slowest first.
unit_times() {
    python3 - "$WORK/$1/target/cargo-timings/cargo-timing.html" >"$WORK/$1.$2.units" <<'EOF'
import json, sys
html = open(sys.argv[1]).read()
start = html.index("const UNIT_DATA = ") + len("const UNIT_DATA = ")
data = json.JSONDecoder().raw_decode(html[start:])[0]
for u in sorted(data, key=lambda u: -u["duration"]):
    print(f'{u["duration"]:.2f}\t{u["name"]}\t{u["target"]}')
EOF
}

# merge_results SECTION FILE: the JSON object in FILE becomes SECTION of RESULTS, the other
# sections kept.
merge_results() {
    python3 - "$RESULTS" "$1" "$2" <<'EOF'
import json, os, sys
path, section, file = sys.argv[1:4]
os.makedirs(os.path.dirname(path), exist_ok=True)
try:
    with open(path) as fh:
        results = json.load(fh)
except FileNotFoundError:
    results = {}
results[section] = json.load(open(file))
with open(path, "w") as fh:
    json.dump(results, fh, indent=2)
    fh.write("\n")
print(f"written to {path} ({section})")
EOF
}
