# shellcheck shell=bash
# Sourced by scripts/test and scripts/with-moto: the local AWS endpoint (moto) for the tests.
#
#   moto_ensure_venv   create or reuse the venv with the pinned moto, AWS CLI and cfn-lint
#   moto_start         start moto_server on a free loopback port and export the test environment
#   moto_stop          stop it (idempotent; callers install it as an EXIT trap *before* moto_start)
#
# The venv lives at ${ECS_SECRETS_VENV:-target/venv}, relative to the repository root, and is made
# with ${ECS_SECRETS_PYTHON:-python3}. ECS_SECRETS_MOTO_TIMEOUT (seconds, default 60) bounds the start.

# Pins: the AWS CLI v1 release that pip resolves together with moto 5.2.5 (botocore 1.44.8).
MOTO_PIN='moto[server]==5.2.5'
AWSCLI_PIN='awscli==1.46.3'
# The independent validator of the CloudFormation output (tests/test_formats.rs).
CFNLINT_PIN='cfn-lint==1.58.0'

_moto_repo_root() { (cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); }

_moto_venv() {
    local venv="${ECS_SECRETS_VENV:-target/venv}"
    case "$venv" in
        /*) printf '%s\n' "$venv" ;;
        *) printf '%s/%s\n' "$(_moto_repo_root)" "$venv" ;;
    esac
}

_moto_log() { printf '[moto] %s\n' "$*" >&2; }

# Creates the venv and installs the pins, unless a marker says they are there already.
moto_ensure_venv() {
    local venv marker pins
    venv="$(_moto_venv)"
    marker="$venv/.ecs-secrets-pins"
    pins="$MOTO_PIN $AWSCLI_PIN $CFNLINT_PIN"
    if [[ -f "$marker" && "$(cat "$marker")" == "$pins" && -x "$venv/bin/moto_server" && -x "$venv/bin/aws" \
        && -x "$venv/bin/cfn-lint" ]] \
        && "$venv/bin/python" -c 'import moto, awscli' 2>/dev/null; then
        _moto_log "venv $venv is up to date ($pins)"
        return 0
    fi
    local python="${ECS_SECRETS_PYTHON:-python3}"
    if ! command -v "$python" >/dev/null 2>&1; then
        _moto_log "error: $python not found; the tests need Python 3 to run moto (the local AWS endpoint)"
        return 1
    fi
    # A venv whose interpreter no longer runs (Python moved or upgraded) is rebuilt from scratch.
    if [[ -d "$venv" ]] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        _moto_log "venv $venv is broken; recreating it"
        rm -rf "$venv"
    fi
    if [[ ! -x "$venv/bin/python" ]]; then
        _moto_log "creating venv $venv"
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv"
    fi
    _moto_log "installing $pins into $venv (about 45 s the first time)"
    local start=$SECONDS
    "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "$MOTO_PIN" "$AWSCLI_PIN" "$CFNLINT_PIN"
    printf '%s' "$pins" >"$marker"
    _moto_log "installed in $((SECONDS - start)) s"
}

# Waits until moto answers /moto-api/ (or the process dies, or the deadline passes), then warms the
# SSM backend: moto loads it lazily and the first SSM call takes ~1 s (3 s under load), which would
# otherwise land on whichever test happens to call SSM first.
_moto_wait_and_warm() {
    local venv=$1 port=$2 pid=$3 timeout=$4
    "$venv/bin/python" - "$port" "$pid" "$timeout" <<'EOF'
import os, sys, time, urllib.error, urllib.request

port, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
base = f"http://127.0.0.1:{port}"
deadline = time.monotonic() + timeout
last = None
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(f"[moto] error: moto_server (pid {pid}) exited before answering on {base}")
    try:
        with urllib.request.urlopen(base + "/moto-api/", timeout=5) as r:
            if r.status == 200:
                break
    except (urllib.error.URLError, OSError) as e:
        last = e
    if time.monotonic() > deadline:
        sys.exit(f"[moto] error: moto_server did not answer {base}/moto-api/ within {timeout:.0f} s (last error: {last})")
    time.sleep(0.1)

# Moto does not check signatures; the credential scope only tells it which service is meant.
req = urllib.request.Request(base + "/", data=b"{}", method="POST", headers={
    "X-Amz-Target": "AmazonSSM.DescribeParameters",
    "Content-Type": "application/x-amz-json-1.1",
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/ssm/aws4_request, "
                     "SignedHeaders=host;x-amz-date, Signature=0",
})
try:
    with urllib.request.urlopen(req, timeout=max(deadline - time.monotonic(), 30)) as r:
        r.read()
except (urllib.error.URLError, OSError) as e:
    sys.exit(f"[moto] error: warming up SSM on {base} failed: {e}")
EOF
}

# moto_server's own main, with one change: it handles one request at a time. Its backends are
# not thread-safe (Secrets Manager's store, for one, walks all its secrets on every lookup while
# another request's thread adds one: "dictionary changed size during iteration", an HTTP 500 the
# SDK retries), and the tests, several at once, count every request. Connections stay
# concurrent (werkzeug's threads); the handler, the answer's body included, runs under a lock.
_MOTO_SERIAL='
import sys, threading
from moto.moto_server import werkzeug_app
from moto.server import main

handle = werkzeug_app.DomainDispatcherApplication.__call__
lock = threading.Lock()

def serial(self, environ, start_response):
    with lock:
        return list(handle(self, environ, start_response))

werkzeug_app.DomainDispatcherApplication.__call__ = serial
main(sys.argv[1:])
'

# Starts moto_server in the background and records its pid in MOTO_PID, its port in MOTO_PORT.
# `-p 0` makes it bind a free port and print it on stderr; if that line never shows up (a changed
# log format), it is restarted on a port picked by Python.
_moto_spawn() {
    local venv=$1 port=$2
    MOTO_LOG="$(mktemp "${TMPDIR:-/tmp}/ecs-secrets-moto.XXXXXX")"
    "$venv/bin/python" -c "$_MOTO_SERIAL" -H 127.0.0.1 -p "$port" </dev/null >"$MOTO_LOG" 2>&1 &
    MOTO_PID=$!
}

moto_start() {
    local venv timeout=${ECS_SECRETS_MOTO_TIMEOUT:-60} start=$SECONDS
    venv="$(_moto_venv)"
    if [[ ! -x "$venv/bin/moto_server" ]]; then
        _moto_log "error: $venv/bin/moto_server not found; run moto_ensure_venv first"
        return 1
    fi
    _moto_spawn "$venv" 0
    MOTO_PORT=
    local i
    for ((i = 0; i < 100; i++)); do
        MOTO_PORT="$(sed -n 's#.*Running on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$MOTO_LOG" | head -n1)"
        [[ -n "$MOTO_PORT" ]] && break
        kill -0 "$MOTO_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z "$MOTO_PORT" ]]; then
        _moto_log "could not read the bound port from moto_server's output; picking one with Python"
        sed 's/^/[moto]   /' "$MOTO_LOG" >&2 || true
        moto_stop
        MOTO_PORT="$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        _moto_spawn "$venv" "$MOTO_PORT"
    fi
    if ! _moto_wait_and_warm "$venv" "$MOTO_PORT" "$MOTO_PID" "$timeout"; then
        _moto_log "moto_server output:"
        sed 's/^/[moto]   /' "$MOTO_LOG" >&2 || true
        moto_stop
        return 1
    fi

    export ECS_SECRETS_TEST_ENDPOINT="http://127.0.0.1:$MOTO_PORT"
    export ECS_SECRETS_TEST_AWS_CLI="$venv/bin/aws"
    export ECS_SECRETS_TEST_CFN_LINT="$venv/bin/cfn-lint"
    export AWS_ACCESS_KEY_ID=testing
    export AWS_SECRET_ACCESS_KEY=testing
    export AWS_REGION=us-east-1
    export AWS_DEFAULT_REGION=us-east-1
    export AWS_EC2_METADATA_DISABLED=true
    # Not AWS_ENDPOINT_URL: code under test must get its endpoint explicitly, never by accident.
    _moto_log "moto_server pid $MOTO_PID listening on $ECS_SECRETS_TEST_ENDPOINT (ready in $((SECONDS - start)) s; log $MOTO_LOG)"
}

moto_stop() {
    if [[ -n "${MOTO_PID:-}" ]]; then
        if kill -0 "$MOTO_PID" 2>/dev/null; then
            kill -TERM "$MOTO_PID" 2>/dev/null || true
            local i
            for ((i = 0; i < 50; i++)); do
                kill -0 "$MOTO_PID" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$MOTO_PID" 2>/dev/null || true
            wait "$MOTO_PID" 2>/dev/null || true
            _moto_log "stopped moto_server pid $MOTO_PID"
        fi
        MOTO_PID=
    fi
    if [[ -n "${MOTO_LOG:-}" ]]; then
        rm -f "$MOTO_LOG"
        MOTO_LOG=
    fi
}

# Installs moto_stop for every way the calling script can end. A fatal signal would otherwise skip
# the EXIT trap and leave the server running.
moto_install_traps() {
    trap moto_stop EXIT
    trap 'moto_stop; trap - INT; kill -INT $$' INT
    trap 'moto_stop; exit 143' TERM
    trap 'moto_stop; exit 129' HUP
}
