#!/usr/bin/env bash
# The stress-ng lock stressors (lockf, locka, lockofd, flock, fcntl) on the example filesystems:
# each run must finish in about its timeout, with `--verify`, and leave no request waiting on
# the FUSE connection (fusectl's /sys/fs/fuse/connections/N/waiting). memfs serves locks from
# `fusegen::locks`; passthrough leaves them to the kernel (docs/handlers.md).
#
#   tests/conformance/locks.sh                         # every stressor on memfs and passthrough
#   tests/conformance/locks.sh --fs memfs lockf flock  # some stressors on one filesystem
#   LOCKS_SECONDS=10 LOCKS_INSTANCES=4 tests/conformance/locks.sh
#
# Each stressor runs LOCKS_INSTANCES instances (default 1; the issue's command) for
# LOCKS_SECONDS (default 3) on a fresh mount; LOCKS_MOUNT_OPTIONS (default
# allow_other,default_permissions) are the filesystems' -o options. A run that overstays its
# timeout by LOCKS_SLACK seconds (default 10) is killed (`timeout -k`), the connection is
# aborted through fusectl so nothing stays blocked, and the stressor counts as failed. The
# transport is the runtime's default unless FUSEGEN_TRANSPORT says otherwise. Needs root (mount,
# fusectl), /dev/fuse, cargo and stress-ng (apt-get install stress-ng). Always unmounts; exits
# non-zero on any failure. Logs go to $CONFORMANCE_LOGS (default target/conformance/locks).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOGS="${CONFORMANCE_LOGS:-$ROOT/target/conformance/locks}"
SECONDS_PER_RUN="${LOCKS_SECONDS:-3}"
INSTANCES="${LOCKS_INSTANCES:-1}"
SLACK="${LOCKS_SLACK:-10}"
OPTIONS="${LOCKS_MOUNT_OPTIONS:-allow_other,default_permissions}"
FILESYSTEMS=(memfs passthrough)
STRESSORS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --fs) FILESYSTEMS=("$2"); shift ;;
        lockf | locka | lockofd | flock | fcntl) STRESSORS+=("$1") ;;
        -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "locks.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ ${#STRESSORS[@]} -eq 0 ] && STRESSORS=(lockf locka lockofd flock fcntl)

say() { echo "conformance(locks): $*"; }
fail() { echo "conformance(locks): FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "must run as root (mount(2), fusectl)"
[ -c /dev/fuse ] || fail "/dev/fuse is missing"
command -v stress-ng >/dev/null || fail "stress-ng is missing (apt-get install stress-ng)"
mkdir -p "$LOGS"

build() {
    say "building $1 (release)" >&2
    (cd "$ROOT" && cargo build --release --example "$1" --quiet) || fail "cargo build --example $1"
    echo "$ROOT/target/release/examples/$1"
}

# fusectl, for `waiting` and `abort`: mounted here when it is not yet, unmounted at the end.
FUSECTL=/sys/fs/fuse/connections
FUSECTL_OURS=""
if ! grep -q " $FUSECTL fusectl " /proc/mounts; then
    mount -t fusectl fusectl "$FUSECTL" || fail "cannot mount fusectl on $FUSECTL"
    FUSECTL_OURS=1
fi

WORK="$(mktemp -d /tmp/cl.XXXXXX)"
MNT="$WORK/m"
SRC="$WORK/s"
mkdir -p "$MNT" "$SRC"
chmod 755 "$WORK" "$MNT" "$SRC"
PID=""

is_mounted() { grep -q " $1 " /proc/self/mountinfo; }

# The connection number of the mount on $MNT: the minor of its device (0:N in mountinfo).
connection() { awk -v m="$MNT" '$5 == m { split($3, d, ":"); print d[2] }' /proc/self/mountinfo; }

abort_connection() {
    local n
    n="$(connection)"
    if [ -n "$n" ] && [ -e "$FUSECTL/$n/abort" ]; then
        say "aborting connection $n (waiting: $(cat "$FUSECTL/$n/waiting" 2>/dev/null || echo ?))"
        echo 1 >"$FUSECTL/$n/abort" || true
    fi
}

unmount_fs() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -INT "$PID" 2>/dev/null || true # Ctrl-C: the examples unmount and exit
        for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$PID" 2>/dev/null; then
            abort_connection
            kill -KILL "$PID" 2>/dev/null || true
        fi
        wait "$PID" 2>/dev/null || true
    fi
    PID=""
    if is_mounted "$MNT"; then umount -l "$MNT" || true; fi
}

cleanup() {
    unmount_fs
    rm -rf "$WORK"
    if [ -n "$FUSECTL_OURS" ]; then umount "$FUSECTL" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Mounts filesystem $1 on $MNT in the foreground of a background job; waits until mounted.
declare -A BIN
for fs in "${FILESYSTEMS[@]}"; do
    case "$fs" in
        memfs | passthrough) BIN[$fs]="$(build "$fs")" ;;
        *) fail "unknown filesystem '$fs'" ;;
    esac
done

mount_fs() {
    local bin="${BIN[$1]}" log="$LOGS/$1-$2.fs.log"
    case "$1" in
        memfs) "$bin" -f -o "$OPTIONS" "$MNT" >"$log" 2>&1 & ;;
        passthrough) "$bin" -f -o "$OPTIONS" "$SRC" "$MNT" >"$log" 2>&1 & ;;
    esac
    PID=$!
    for _ in $(seq 100); do is_mounted "$MNT" && return 0; sleep 0.1; done
    fail "$1 did not mount (see $log)"
}

failures=()
for fs in "${FILESYSTEMS[@]}"; do
    for stressor in "${STRESSORS[@]}"; do
        mount_fs "$fs" "$stressor"
        n="$(connection)"
        log="$LOGS/$fs-$stressor.log"
        started=$(date +%s%N)
        rc=0
        timeout -k 5 "$((SECONDS_PER_RUN + SLACK))" \
            stress-ng --temp-path "$MNT" --"$stressor" "$INSTANCES" --timeout "${SECONDS_PER_RUN}s" \
            --verify --metrics-brief >"$log" 2>&1 || rc=$?
        took_ms=$((($(date +%s%N) - started) / 1000000))
        took="$((took_ms / 1000)).$(printf %03d $((took_ms % 1000)))"
        # Requests of the stressors' processes still in the filesystem after they are gone.
        waiting=""
        for _ in $(seq 20); do
            waiting="$(cat "$FUSECTL/$n/waiting" 2>/dev/null || echo ?)"
            [ "$waiting" = 0 ] && break
            sleep 0.1
        done
        verdict=ok
        if [ "$rc" -ne 0 ]; then
            verdict="exit status $rc$([ "$rc" -ge 124 ] && echo ' (killed by the timeout)')"
        elif [ "$waiting" != 0 ]; then
            verdict="$waiting request(s) still waiting"
        fi
        say "$fs $stressor x$INSTANCES: ${took}s, waiting $waiting: $verdict"
        if [ "$verdict" != ok ]; then
            failures+=("$fs/$stressor: $verdict (see $log)")
            abort_connection
        fi
        unmount_fs
    done
done

if [ ${#failures[@]} -gt 0 ]; then
    printf '  %s\n' "${failures[@]}" >&2
    fail "${#failures[@]} lock stressor run(s)"
fi
say "every lock stressor finished in time with nothing left waiting"
