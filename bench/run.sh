#!/usr/bin/env bash
# fusegen benchmarks: one command, one machine, every system in the same run.
#
#   bench/run.sh [--quick|--full] [--only KEYS] [--workloads KEYS] [--workdir DIR]
#                [--backing fresh|workdir|tmpfs] [--placement same|split|free|check]
#                [--placement-cpus A,B] [--perf] [--output FILE]
#
#   --quick      (default) small sizes, 2 runs per figure; a few minutes, for development
#   --full       the sizes of docs/benchmarks.md (1 GiB files, 100k files, 3 runs per figure)
#   --only       systems, comma-separated: tmpfs,ext4dir,pll,php,phpu,pypt,pytmpfs,fgpt,fgkpt,
#                fgptu,fgpth,fgpthu,fgmem,fgmemu (php, phpu: libfuse master's passthrough_hp
#                on /dev/fuse and io_uring, when LIBFUSE_PASSTHROUGH_HP names a hand-built one;
#                fgptu, fgpthu, fgmemu: fusegen on the io_uring transport; fgpth, fgpthu:
#                fusegen's passthrough with passthrough_hp's caching, compared with php, phpu)
#   --workloads  seqwrite,seqread,rand1,rand2,rand1d,rand2d,smallwrite,smallread,
#                create,stat,readdir,unlink
#   --workdir    where mountpoints and backing directories go (default /var/tmp)
#   --backing    fresh (default): every phase's backing directory is a new ext4 on a loop
#                image in the work directory, so no system inherits the deletes of another;
#                workdir: a plain directory of the work directory's file system;
#                tmpfs: a fresh tmpfs mount per phase (the server's own cost, no disk's)
#   --placement  same: caller (fio, metabench) and daemon pinned to one CPU; split: to two
#                different CPUs; free (default): neither pinned; check: all three
#   --placement-cpus A,B   the caller's CPU and the other one (default: the first two)
#   --perf       record every daemon with `perf record -g` into bench/target/perf/ (slows them)
#   --output     where to write the report (default bench/target/results/MODE-DATE.md)
#
# Needs root (mounts, drop_caches), /dev/fuse, fio, a C compiler with libfuse3-dev (for
# libfuse's passthrough_ll, compiled here from Debian's example source on every run, never
# kept in the repository), taskset (util-linux) for --placement, python3 with venv (pyfuse3
# and trio are installed into bench/target/venv; pyfuse3's examples come from its sdist),
# and cargo.
#
# Everything built or downloaded goes to bench/target/ (ignored by git). Every step is
# bounded in time; every mount made by the run is undone on exit, also on failure or Ctrl-C.

set -euo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
OUT="$BENCH/target"
MODE=quick
WORKDIR=/var/tmp
HARNESS_ARGS=()
ONLY=""
OUTPUT=""
PERF=0

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) MODE=quick ;;
        --full) MODE=full ;;
        --only) ONLY=$2; HARNESS_ARGS+=("$1" "$2"); shift ;;
        --workloads|--backing|--placement|--placement-cpus)
            HARNESS_ARGS+=("$1" "$2"); shift ;;
        --workdir) WORKDIR=$2; shift ;;
        --output) OUTPUT=$2; shift ;;
        --perf) PERF=1 ;;
        -h|--help) sed -n '2,34p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root: the harness mounts tmpfs, reads /proc/PID of the daemons and drops caches"
[[ -c /dev/fuse ]] || die "/dev/fuse is missing (modprobe fuse)"
mkdir -p "$OUT"

# --- cleanup: whatever happens, nothing stays mounted under our work directory -------------
RUN_DIR=""
HARNESS_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [[ -n "$HARNESS_PID" ]] && kill -0 "$HARNESS_PID" 2>/dev/null; then
        kill -TERM "$HARNESS_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$HARNESS_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$HARNESS_PID" 2>/dev/null || true
    fi
    if [[ -n "$RUN_DIR" && -d "$RUN_DIR" ]]; then
        # Deepest first; abort FUSE connections so that no unmount waits on a dead daemon.
        awk -v d="$RUN_DIR/" 'index($5, d) == 1 { print $3 " " $5 }' /proc/self/mountinfo |
            sort -k2 -r | while read -r dev mnt; do
                minor=${dev#*:}
                [[ -w /sys/fs/fuse/connections/$minor/abort ]] &&
                    echo 1 > "/sys/fs/fuse/connections/$minor/abort" 2>/dev/null || true
                timeout 30 umount -l "$mnt" 2>/dev/null ||
                    timeout 30 fusermount3 -u -z "$mnt" 2>/dev/null ||
                    echo "run.sh: WARNING: could not unmount $mnt" >&2
            done
        if ! awk -v d="$RUN_DIR/" 'index($5, d) == 1 { found = 1 } END { exit !found }' \
            /proc/self/mountinfo; then
            timeout 600 rm -rf --one-file-system "$RUN_DIR" || true
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Whether a system is selected (--only); setup steps for systems not selected are skipped.
wants() { local k; [[ -z "$ONLY" ]] && return 0; for k; do [[ ",$ONLY," == *",$k,"* ]] && return 0; done; return 1; }

SKIP=()
skip() { SKIP+=(--skip "$1=$2"); say "$1 will not run: $2"; }
SETUP_START=$SECONDS

# --- fio -----------------------------------------------------------------------------------
if ! command -v fio >/dev/null; then
    say "installing fio"
    timeout 600 apt-get install -y fio >/dev/null 2>&1 ||
        { timeout 600 apt-get update >/dev/null 2>&1 && timeout 600 apt-get install -y fio >/dev/null 2>&1; } ||
        die "fio is missing and apt-get install fio failed"
fi

# --- the metadata program (its own crate, not a workspace member) ---------------------------
say "building bench/metabench"
CARGO_TARGET_DIR="$OUT/metabench" timeout 900 cargo build --quiet --release \
    --manifest-path "$BENCH/metabench/Cargo.toml" || die "could not build bench/metabench"
METABENCH="$OUT/metabench/release/metabench"

# --- fusegen's examples ---------------------------------------------------------------------
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
build_example() { # name key
    local log="$OUT/build-$1.log"
    if ! grep -q "name = \"$1\"" "$ROOT/examples/Cargo.toml" 2>/dev/null; then
        skip "$2" "examples/$1 is not in examples/Cargo.toml yet"
        return 1
    fi
    say "building example $1 (release)"
    if ! (cd "$ROOT" && timeout 1200 cargo build --release --example "$1") >"$log" 2>&1; then
        skip "$2" "cargo build --release --example $1 failed (bench/target/build-$1.log)"
        return 1
    fi
}
FG_MEMFS="" FG_PASSTHROUGH=""
if wants fgmem fgmemu; then
    build_example memfs fgmem && FG_MEMFS="$TARGET/release/examples/memfs"
fi
if ! wants fgpt fgkpt fgptu fgpth fgpthu; then
    :
elif build_example passthrough fgpt; then
    FG_PASSTHROUGH="$TARGET/release/examples/passthrough"
else
    SKIP+=(--skip "fgkpt=see fusegen passthrough")
fi

# --- libfuse's passthrough_ll, compiled from Debian's example source into bench/target -----
PLL=""
PLL_SRC=$(dpkg -L libfuse3-dev 2>/dev/null | grep -E '/passthrough_ll\.c(\.gz)?$' | head -n1 || true)
if ! wants pll; then
    :
elif [[ -z "$PLL_SRC" ]]; then
    skip pll "passthrough_ll.c not found (apt-get install libfuse3-dev)"
else
    say "compiling libfuse's passthrough_ll from $PLL_SRC"
    rm -rf "$OUT/libfuse" && mkdir -p "$OUT/libfuse"
    src_dir=$(dirname "$PLL_SRC")
    for f in "$src_dir"/passthrough_ll.c* "$src_dir"/passthrough_helpers.h*; do
        [[ -e "$f" ]] || continue
        case "$f" in
            *.gz) zcat "$f" > "$OUT/libfuse/$(basename "${f%.gz}")" ;;
            *) cp "$f" "$OUT/libfuse/" ;;
        esac
    done
    # shellcheck disable=SC2046
    if timeout 300 cc -O2 -Wall -o "$OUT/libfuse/passthrough_ll" "$OUT/libfuse/passthrough_ll.c" \
        $(pkg-config fuse3 --cflags --libs) >"$OUT/libfuse/build.log" 2>&1; then
        PLL="$OUT/libfuse/passthrough_ll"
    else
        skip pll "compiling passthrough_ll failed (bench/target/libfuse/build.log)"
    fi
fi

# --- pyfuse3 and its examples ----------------------------------------------------------------
PY="" PYEX="$OUT/pyfuse3/examples"
VENV="$OUT/venv"
if ! wants pypt pytmpfs; then
    :
elif ! command -v python3 >/dev/null; then
    skip pypt "python3 is missing"; skip pytmpfs "python3 is missing"
else
    if ! "$VENV/bin/python" -c 'import pyfuse3, trio' 2>/dev/null; then
        say "installing pyfuse3 and trio into bench/target/venv (compiles pyfuse3; minutes)"
        rm -rf "$VENV"
        if ! { timeout 120 python3 -m venv "$VENV" &&
               timeout 1200 "$VENV/bin/pip" install --quiet --no-binary pyfuse3 pyfuse3 trio; } \
               >"$OUT/pyfuse3-install.log" 2>&1; then
            skip pypt "pip install pyfuse3 trio failed (bench/target/pyfuse3-install.log; needs pkg-config and libfuse3-dev)"
            SKIP+=(--skip "pytmpfs=see pyfuse3 passthroughfs.py")
        fi
    fi
    if "$VENV/bin/python" -c 'import pyfuse3, trio' 2>/dev/null; then
        PY="$VENV/bin/python"
        ver=$("$PY" -c 'import pyfuse3; print(pyfuse3.__version__)')
        if [[ ! -f "$PYEX/passthroughfs.py" || ! -f "$PYEX/tmpfs.py" || "$(cat "$PYEX/VERSION" 2>/dev/null)" != "$ver" ]]; then
            say "fetching pyfuse3 $ver's sdist for its examples"
            rm -rf "$OUT/pyfuse3" && mkdir -p "$OUT/pyfuse3/sdist" "$PYEX"
            if timeout 600 "$VENV/bin/pip" download --quiet --no-deps --no-binary pyfuse3 \
                "pyfuse3==$ver" -d "$OUT/pyfuse3/sdist" >"$OUT/pyfuse3/download.log" 2>&1 &&
               tar -xzf "$OUT"/pyfuse3/sdist/pyfuse3-*.tar.gz -C "$OUT/pyfuse3" &&
               cp "$OUT"/pyfuse3/pyfuse3-*/examples/{passthroughfs,tmpfs}.py "$PYEX/"; then
                echo "$ver" > "$PYEX/VERSION"
            else
                skip pypt "could not get pyfuse3's examples from its sdist (bench/target/pyfuse3/download.log)"
                skip pytmpfs "could not get pyfuse3's examples from its sdist"
            fi
        fi
    fi
fi
# --- libfuse master's passthrough_hp: only a hand-built one, given by its path ---------------
# Never built here (see docs/benchmarks.md for the manual steps); skipped when not given.
PHP=""
if [[ -z "${LIBFUSE_PASSTHROUGH_HP:-}" ]]; then
    why="LIBFUSE_PASSTHROUGH_HP is not set (path of a passthrough_hp built by hand from libfuse master; docs/benchmarks.md)"
    skip php "$why"; skip phpu "$why"
elif [[ ! -x "$LIBFUSE_PASSTHROUGH_HP" ]]; then
    why="LIBFUSE_PASSTHROUGH_HP=$LIBFUSE_PASSTHROUGH_HP is not an executable file"
    skip php "$why"; skip phpu "$why"
else
    PHP=$LIBFUSE_PASSTHROUGH_HP
    say "libfuse master's passthrough_hp: $PHP"
fi
say "setup took $((SECONDS - SETUP_START)) s"

# --- the run ---------------------------------------------------------------------------------
mkdir -p "$WORKDIR"
RUN_DIR=$(mktemp -d "$WORKDIR/fusegen-bench-run.XXXXXX")
[[ -n "$OUTPUT" ]] || OUTPUT="$OUT/results/$MODE-$(date -u +%Y%m%d-%H%M%S).md"
if [[ $PERF -eq 1 ]]; then
    command -v perf >/dev/null || die "--perf: perf is not installed"
    HARNESS_ARGS+=(--perf "$OUT/perf")
fi
case $MODE in
    quick) DEADLINE=900 ;;
    full) DEADLINE=10800 ;;
esac

args=(--mode "$MODE" --workdir "$RUN_DIR" --deadline "$DEADLINE" --metabench "$METABENCH"
      --output "$OUTPUT")
[[ -n "$PLL" ]] && args+=(--passthrough-ll "$PLL")
[[ -n "$PHP" ]] && args+=(--passthrough-hp "$PHP")
[[ -n "$FG_MEMFS" ]] && args+=(--fusegen-memfs "$FG_MEMFS")
[[ -n "$FG_PASSTHROUGH" ]] && args+=(--fusegen-passthrough "$FG_PASSTHROUGH")
[[ -n "$PY" ]] && args+=(--python "$PY" --pyfuse3-examples "$PYEX")

# The harness undoes its own mounts; the trap above catches anything it could not. Its own
# deadline stops starting systems; `timeout` is the hard bound (SIGINT: it still reports).
timeout --signal=INT --kill-after=120 $((DEADLINE + 1800)) \
    python3 "$BENCH/harness.py" "${args[@]}" "${SKIP[@]}" "${HARNESS_ARGS[@]}" &
HARNESS_PID=$!
wait "$HARNESS_PID"
