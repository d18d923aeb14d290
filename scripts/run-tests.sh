#!/usr/bin/env bash
# The whole test suite (`make test`), or only the linters (`make lint` -> run-tests.sh lint).
#   stage unit+functional+clients : SQLite + in-process bus
#   stage postgres+rabbitmq       : functional + clients again on PostgreSQL and RabbitMQ
#   stage browser                 : the dashboard in Debian's chromium (Playwright)
#   stage e2e                     : real QEMU/libvirt/namespaces (needs root)
# A stage that collects no tests fails (pytest exit code 5 is not a pass).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
BIN="$VENV/bin"
OUT=test-output
SERVICE_WAIT=${SERVICE_WAIT:-60}
mkdir -p "$OUT"

declare -a STAGES=() RESULTS=()
failed=0

record() { # record <stage> <exit code>
    STAGES+=("$1")
    if [[ $2 -eq 0 ]]; then RESULTS+=("passed"); else RESULTS+=("FAILED (exit $2)"); failed=1; fi
}

summary() {
    echo
    echo "==================== summary ===================="
    for i in "${!STAGES[@]}"; do
        printf '%-28s %s\n' "${STAGES[$i]}" "${RESULTS[$i]}"
    done
    if [[ $failed -ne 0 ]]; then echo "Some stages failed: see the output above and $OUT/*.xml."; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # wait_port <port> <name>: until something listens, or SERVICE_WAIT seconds
    local deadline=$((SECONDS + SERVICE_WAIT))
    until port_open "$1"; do
        if ((SECONDS >= deadline)); then
            echo "$2 is not listening on 127.0.0.1:$1 after ${SERVICE_WAIT}s; check its log (journal or /var/log/$2)." >&2
            return 1
        fi
        sleep 0.5 # polling a port against a deadline
    done
}

ensure_services() {
    if ! port_open 5432; then
        echo "Starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
    fi
    if ! port_open 5672; then
        echo "Starting RabbitMQ"
        rabbitmq-server -detached
    fi
    wait_port 5432 postgresql
    wait_port 5672 rabbitmq
}

run_lint() {
    local rc=0
    "$BIN/ruff" check . || rc=1
    "$BIN/ruff" format --check . || rc=1
    "$BIN/lint-imports" || rc=1
    return $rc
}

run_pytest() { # run_pytest <stage> <paths...>; env passed through
    local stage=$1
    shift
    local rc=0
    echo
    echo "==================== $stage ===================="
    if [[ $# -eq 0 ]]; then
        echo "$stage: none of its test directories exist (that is a failure)." >&2
        record "$stage" 5
        return
    fi
    "$BIN/python" -m pytest -q -rfEs -p no:cacheprovider --junitxml "$OUT/$stage.xml" "$@" || rc=$?
    if [[ $rc -eq 5 ]]; then echo "$stage: no tests were collected from $* (that is a failure)." >&2; fi
    record "$stage" "$rc"
}

existing() { # the given test directories that exist (pytest errors on missing paths)
    local d
    for d in "$@"; do [[ -e $d ]] && printf '%s\n' "$d"; done
    return 0
}

if [[ ${1:-} == lint ]]; then
    rc=0
    run_lint || rc=$?
    record lint "$rc"
    summary
    exit $failed
fi

rc=0
run_lint || rc=$?
record lint "$rc"

rc=0
ensure_services || rc=$?
record "postgresql+rabbitmq up" "$rc"

mapfile -t stage1 < <(existing tests/unit tests/functional tests/clients)
run_pytest unit-functional-clients "${stage1[@]}"

if [[ $rc -eq 0 ]]; then
    mapfile -t stage2 < <(existing tests/functional tests/clients)
    STRATUS_TEST_DATABASE=postgresql STRATUS_TEST_BUS=amqp run_pytest postgres-rabbitmq "${stage2[@]}"
else
    record postgres-rabbitmq 1
fi

mapfile -t browser < <(existing tests/browser)
run_pytest browser "${browser[@]}"

mapfile -t stage3 < <(existing tests/e2e)
run_pytest e2e "${stage3[@]}"

summary
exit $failed
