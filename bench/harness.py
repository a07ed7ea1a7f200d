#!/usr/bin/env python3
"""The benchmark harness behind bench/run.sh (see docs/benchmarks.md).

For each system in turn: mount it on a fresh mountpoint (with a fresh backing directory where
it has one), run the workloads, read the daemon's CPU time and peak RSS, stop it, check that
nothing is left mounted. Then print one markdown table and the ratios.

Every system is a small adapter (class System below): what it needs, how it starts for the
data and the metadata phase, and the options it is mounted with. Every external step is bounded
in time; every mount is undone on exit, also on an error or a signal.

Run it through bench/run.sh, which builds what it needs and passes the paths.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

MiB = 1 << 20
# `--backing fresh`: room for the 1 GiB sequential file and 100,000 small files.
BACKING_IMAGE_BYTES = 8 << 30
BACKING_INODES = 300_000
CLK_TCK = os.sysconf("SC_CLK_TCK")

MODES = {
    # seq_mib: size of the sequential file; rand_secs: time of one random-read run;
    # reps: runs per figure (the table shows the median); meta_files / small_files: counts.
    "quick": dict(seq_mib=256, rand_secs=0.5, reps=2, meta_files=10_000, small_files=1_000,
                  readdir_passes=1),
    "full": dict(seq_mib=1024, rand_secs=5, reps=3, meta_files=100_000, small_files=20_000,
                 readdir_passes=1),
}

# (key, label, unit, kind); kind picks the figure: "bw" MiB/s, "iops", "ops" per second.
WORKLOADS = [
    ("seqwrite", "seq write, 1 MiB blocks", "MiB/s", "bw"),
    ("seqread", "seq read, 1 MiB blocks, cold cache", "MiB/s", "bw"),
    ("rand1", "rand read 4 KiB, 1 job, warm", "k IOPS", "iops"),
    ("rand2", "rand read 4 KiB, 2 jobs, warm", "k IOPS", "iops"),
    ("rand1d", "rand read 4 KiB, 1 job, O_DIRECT", "k IOPS", "iops"),
    ("rand2d", "rand read 4 KiB, 2 jobs, O_DIRECT", "k IOPS", "iops"),
    ("smallwrite", "small files: create + write 4 KiB + close", "k files/s", "ops"),
    ("smallread", "small files: open + read 4 KiB + close", "k files/s", "ops"),
    ("create", "create (empty file, close)", "k ops/s", "ops"),
    ("stat", "stat, attr_timeout=0", "k ops/s", "ops"),
    ("readdir", "readdir", "k entries/s", "ops"),
    ("unlink", "unlink", "k ops/s", "ops"),
]
WORKLOAD_KEYS = [w[0] for w in WORKLOADS]
DATA_WORKLOADS = ["seqwrite", "seqread", "rand1", "rand2", "rand1d", "rand2d",
                  "smallwrite", "smallread"]
META_WORKLOADS = ["create", "stat", "readdir", "unlink"]


class Interrupted(Exception):
    pass


def log(msg):
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {msg}", file=sys.stderr, flush=True)


def on_signal(signum, _frame):
    raise Interrupted(f"signal {signal.Signals(signum).name}")


# ---------------------------------------------------------------------------------------------
# Processes, bounded in time


def run(cmd, timeout, **kw):
    """Runs cmd in its own process group; kills the group after `timeout` seconds.
    Returns (returncode or None on timeout, stdout, stderr)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, **kw)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        kill_group(proc)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = "", ""
        return None, out, err + f"\n(killed after {timeout} s)"


def kill_group(proc, sig=signal.SIGKILL):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass


def sh(cmd, timeout=60):
    rc, out, err = run(["sh", "-c", cmd], timeout)
    return rc == 0


def drop_caches():
    """Writes back dirty data, then empties the page, dentry and inode caches."""
    t0 = time.monotonic()
    ok = sh("sync && echo 3 > /proc/sys/vm/drop_caches", timeout=180)
    log(f"  drop_caches took {time.monotonic() - t0:.1f} s")
    return ok


# ---------------------------------------------------------------------------------------------
# Mounts


def mounts():
    """(mount point, fs type, device minor) of every mount, from /proc/self/mountinfo."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].replace("\\040", " ")
            minor = fields[2].split(":")[1]
            out.append((point, fields[sep + 1], minor))
    return out


def mount_of(path):
    for point, fstype, minor in reversed(mounts()):
        if point == path:
            return fstype, minor
    return None


def force_unmount(path):
    """Unmounts path for sure: aborts a FUSE connection first (so nothing waits on a daemon
    that no longer answers), then a lazy unmount."""
    m = mount_of(path)
    if m is None:
        return True
    fstype, minor = m
    if fstype.startswith("fuse"):
        abort = f"/sys/fs/fuse/connections/{minor}/abort"
        if os.path.exists(abort):
            try:
                with open(abort, "w") as f:
                    f.write("1")
            except OSError:
                pass
    for cmd in (["umount", "-l", path], ["fusermount3", "-u", "-z", path]):
        run(cmd, 30)
        if mount_of(path) is None:
            return True
    log(f"WARNING: could not unmount {path}")
    return False


def raise_nofile():
    """Raises this process's descriptor limit (which every daemon inherits) as far as allowed:
    a passthrough daemon holds a descriptor per inode the kernel knows, so 100k files need
    more than the usual soft limit of 1024. Returns the limit in force."""
    try:
        with open("/proc/sys/fs/nr_open") as f:
            wanted = int(f.read())
    except (OSError, ValueError):
        wanted = 1 << 20
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limits in ((wanted, wanted), (hard, hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------------------------------------
# Daemon statistics


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_mib(pid, field):
    """A memory figure of /proc/PID/status (`VmHWM`, `VmRSS`) in MiB, or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib(pid):
    return status_mib(pid, "VmHWM")


def sched_counts(pid):
    """(voluntary context switches, involuntary ones, CPU migrations) of a process, summed
    over its living threads (/proc/PID/task/*/status and .../sched), or None. A thread that
    exits takes its counts with it; migrations stay 0 without /proc/PID/task/TID/sched."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    vol = invol = migr = 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
        except (OSError, ValueError):
            continue
        try:
            with open(f"/proc/{pid}/task/{tid}/sched") as f:
                for line in f:
                    if line.startswith("se.nr_migrations"):
                        migr += int(line.split(":")[1])
                        break
        except (OSError, ValueError):
            pass
    return vol, invol, migr


def thread_cpus(pid):
    """{tid: Cpus_allowed_list} of a process's threads."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("Cpus_allowed_list:"):
                        out[tid] = line.split(":", 1)[1].strip()
        except OSError:
            pass
    return out


# ---------------------------------------------------------------------------------------------
# Systems: one small adapter each


class System:
    key = ""          # column key
    label = ""        # column label
    native = False    # a kernel filesystem: no daemon
    backing = False   # mirrors a directory of the backing filesystem
    counterpart = None  # native system it is compared with ("tmpfs" or "ext4dir")
    not_run = {}      # workload -> why this system does not run it
    max_files = None  # {mode: fewer files for metadata and small-file workloads}, and why
    transport = "dev"  # "io_uring": needs the fuse module's enable_uring during its mounts
    placement = "free"  # where caller and daemon run (--placement); set per instance

    def __init__(self, ctx, placement="free"):
        self.ctx = ctx
        self.base = self.key  # the system's key; `key` names this placement's column
        self.placement = placement
        if ctx.args.placement == "check":
            self.key = f"{self.base}@{placement}"
        if ctx.args.placement != "free":
            self.label = f"{self.label} [{placement}]"

    def unavailable(self):
        """None when the system can run, else why not."""
        return None

    def options(self, phase):
        """The options it is mounted with in this phase, for the table's notes."""
        return ""

    def command(self, phase, mnt, src):
        """argv of the daemon (foreground), or None for native systems."""
        return None

    def mount_native(self, phase, mnt, src):
        """For native systems: prepares mnt; returns the directory the workloads use."""
        return mnt

    def env(self):
        """Extra environment of the daemon."""
        return {}

    def check_started(self, log_text):
        """After INIT: None when the daemon runs as intended, else why not (from its log)."""
        return None


def need_file(path, what):
    if not path or not os.path.exists(path):
        return f"{what} not found ({path or 'not built'})"
    return None


class Tmpfs(System):
    key, label, native = "tmpfs", "tmpfs (native)", True

    def options(self, phase):
        return "`mount -t tmpfs -o size=8G`, fresh for each phase"

    def mount_native(self, phase, mnt, src):
        rc, _, err = run(["mount", "-t", "tmpfs", "-o", "size=8G,mode=0755", "tmpfs", mnt], 30)
        if rc != 0:
            raise RuntimeError(f"mount tmpfs: {err.strip()}")
        self.ctx.register_mount(mnt)
        return mnt


class BackingDir(System):
    key, label, native = "ext4dir", "backing dir (native)", True

    def __init__(self, ctx, placement="free"):
        self.label = f"{ctx.backing_fs} dir (native)"
        super().__init__(ctx, placement)

    def options(self, phase):
        return f"a fresh directory on the backing {self.ctx.backing_fs} ({self.ctx.backing_dev})"

    def mount_native(self, phase, mnt, src):
        return src


class PassthroughLL(System):
    key, label, backing, counterpart = "pll", "libfuse passthrough_ll", True, "ext4dir"

    def unavailable(self):
        return need_file(self.ctx.args.passthrough_ll, "passthrough_ll")

    def opts(self, phase):
        # default_permissions as every fusegen and pyfuse3 mount has it: the kernel checks
        # permissions itself, which costs a GETATTR of the directory per path step when
        # attributes are not cached (timeout=0).
        base = "cache=auto,default_permissions"
        return base if phase == "data" else base + ",timeout=0"

    def options(self, phase):
        return (f"`-o source=SRC,{self.opts(phase)}`"
                + (" (entry/attr timeout 1 s, no keep_cache)" if phase == "data"
                   else " (entry/attr timeout 0)")
                + f"; libfuse {self.ctx.libfuse_version} multi-threaded loop")

    def command(self, phase, mnt, src):
        return [self.ctx.args.passthrough_ll, "-f", "-o", f"source={src},{self.opts(phase)}",
                mnt]


class PassthroughHP(System):
    """libfuse master's C++ `passthrough_hp`, built by hand outside the repository and given
    by LIBFUSE_PASSTHROUGH_HP (see docs/benchmarks.md)."""
    key, label, backing, counterpart = "php", "libfuse master passthrough_hp", True, "ext4dir"

    def unavailable(self):
        if not self.ctx.args.passthrough_hp:
            return ("LIBFUSE_PASSTHROUGH_HP is not set (the path of a passthrough_hp built by "
                    "hand from libfuse master; see docs/benchmarks.md)")
        if self.transport == "io_uring" and not os.path.exists(ENABLE_URING):
            return "this kernel has no FUSE-over-io_uring (no fuse parameter enable_uring)"
        return need_file(self.ctx.args.passthrough_hp, "passthrough_hp")

    def flags(self, phase):
        # --nopassthrough: the daemon serves every read and write (as fgpt and pll do), not
        # the kernel's FUSE passthrough. Data phase: its own caching defaults (timeouts of
        # 86,400 s, keep_cache, and the writeback cache it turns on without passthrough);
        # metadata phase: --nocache, timeouts of 0.
        f = ["--nopassthrough"] + ([] if phase == "data" else ["--nocache"])
        if self.transport == "io_uring":
            f += ["-o", "io_uring"]
        return f

    def options(self, phase):
        why = ("(entry/attr timeout 86,400 s, keep_cache, writeback cache)" if phase == "data"
               else "(entry/attr timeout 0)")
        return (f"`{' '.join(self.flags(phase))}` {why}; libfuse "
                f"{self.ctx.libfuse_master_version} multi-threaded loop")

    def command(self, phase, mnt, src):
        return [self.ctx.args.passthrough_hp, "--foreground"] + self.flags(phase) + [src, mnt]

    def env(self):
        # libfuse master logs the outcome of INIT, io_uring's included, with this set.
        return {"FUSE_INIT_STATUS": "1"}

    def check_started(self, log_text):
        if self.transport != "io_uring":
            return None
        for line in log_text.splitlines():
            if "io_uring=" in line:
                return None if "io_uring=on" in line else f"not on io_uring: {line.strip()}"
        return "its log does not say whether io_uring is on (no FUSE_INIT status line)"


class PassthroughHPUring(PassthroughHP):
    key, label = "phpu", "libfuse master passthrough_hp, io_uring"
    transport = "io_uring"


class Pyfuse3(System):
    example = ""

    def unavailable(self):
        if not self.ctx.args.python:
            return "no pyfuse3 environment (see bench/run.sh setup output)"
        return need_file(os.path.join(self.ctx.args.pyfuse3_examples or "", self.example),
                         f"pyfuse3 {self.example}")

    def adapter_args(self, phase):
        timeout = "1" if phase == "data" else "0"
        return ["--timeout", timeout, "--keep-cache", "1" if self.keep_cache else "0"]

    def options(self, phase):
        t = "1 s" if phase == "data" else "0"
        kc = "keep_cache" if self.keep_cache else "no keep_cache"
        return (f"example unchanged; `bench/pyfuse3_adapter.py` sets entry/attr timeout {t}, "
                f"{kc}; `pyfuse3.main()` (1..99 tasks), pyfuse3 {self.ctx.pyfuse3_version}")

    def command(self, phase, mnt, src):
        example = os.path.join(self.ctx.args.pyfuse3_examples, self.example)
        argv = [self.ctx.args.python, os.path.join(self.ctx.bench_dir, "pyfuse3_adapter.py")
                ] + self.adapter_args(phase) + [example, "--"]
        return argv + ([src, mnt] if self.backing else [mnt])


class PyPassthrough(Pyfuse3):
    key, label, backing, counterpart = "pypt", "pyfuse3 passthroughfs.py", True, "ext4dir"
    example, keep_cache = "passthroughfs.py", False
    not_run = {k: "passthroughfs.py opens the source with the caller's O_DIRECT and reads into "
                  "an unaligned Python buffer: EINVAL, which ends pyfuse3's main loop"
               for k in ("rand1d", "rand2d")}
    max_files = ({"quick": 2_000, "full": 10_000},
                 "passthroughfs.py's readdir lists and stats the whole directory on every request "
                 "(quadratic in the number of files)")


class PyTmpfs(Pyfuse3):
    key, label, counterpart = "pytmpfs", "pyfuse3 tmpfs.py", "tmpfs"
    example, keep_cache = "tmpfs.py", True
    # tmpfs.py keeps a file as one SQLite blob that every read and write copies whole.
    not_run = {k: "tmpfs.py copies the whole file (one SQLite blob) on every read and write: "
                  "quadratic on large files" for k in ("seqwrite", "seqread", "rand1", "rand2",
                                                      "rand1d", "rand2d")}
    # Its getattr counts links with a SQLite query on an unindexed column: every operation
    # scans all entries, so 10,000 files take minutes and 100,000 hours.
    max_files = ({"quick": 1_000, "full": 1_000}, "tmpfs.py counts links with an unindexed SQLite query on every getattr "
                       "(each operation scans every entry: quadratic in the number of files)")


ENABLE_URING = "/sys/module/fuse/parameters/enable_uring"


class Fusegen(System):
    """A fusegen example, on the transport `transport` (`-o transport=...`)."""
    twin = None  # for io_uring systems: the same example on /dev/fuse, compared side by side

    def unavailable(self):
        if self.transport == "io_uring" and not os.path.exists(ENABLE_URING):
            return "this kernel has no FUSE-over-io_uring (no fuse parameter enable_uring)"
        return None

    def mount_opts(self, phase):
        o = [f"transport={self.transport}"]
        if phase != "data":
            o.append("attr_timeout=0,entry_timeout=0,negative_timeout=0")
        return ["-o", ",".join(o)]


class FusegenPassthrough(Fusegen):
    key, label, backing, counterpart = "fgpt", "fusegen passthrough", True, "ext4dir"
    flag = "--no-kernel-passthrough"

    def unavailable(self):
        return (need_file(self.ctx.args.fusegen_passthrough, "fusegen passthrough example")
                or super().unavailable())

    def opts(self, phase):
        return self.mount_opts(phase)

    def options(self, phase):
        o = " ".join([self.flag] + self.opts(phase))
        return f"`{o}`" + (" (1 s per-reply timeouts, no keep_cache)" if phase == "data" else "")

    def command(self, phase, mnt, src):
        return [self.ctx.args.fusegen_passthrough, self.flag, "-f"] + self.opts(phase) + [src, mnt]


class FusegenPassthroughKernel(FusegenPassthrough):
    key, label = "fgkpt", "fusegen passthrough, kernel passthrough"
    flag = "--kernel-passthrough"


class FusegenPassthroughUring(FusegenPassthrough):
    key, label = "fgptu", "fusegen passthrough, io_uring"
    transport, twin = "io_uring", "fgpt"


class FusegenPassthroughHPCache(FusegenPassthrough):
    """fusegen's passthrough with passthrough_hp's caching in the data phase (timeouts of a
    day, keep_cache, the writeback cache), so that rows which depend on the cache policy
    (warm and small-file reads, writes) compare servers, not policies. The metadata phase is
    the same as fgpt's: timeouts of 0, as passthrough_hp's there (--nocache)."""
    key, label = "fgpth", "fusegen passthrough, passthrough_hp's caching"
    HP_CACHE = "kernel_cache,writeback_cache,entry_timeout=86400,attr_timeout=86400"

    def opts(self, phase):
        o = self.mount_opts(phase)
        if phase == "data":
            o[-1] += "," + self.HP_CACHE
        return o

    def options(self, phase):
        o = " ".join([self.flag] + self.opts(phase))
        return f"`{o}`" + (" (passthrough_hp's caching)" if phase == "data" else "")


class FusegenPassthroughHPCacheUring(FusegenPassthroughHPCache):
    key, label = "fgpthu", "fusegen passthrough, io_uring, passthrough_hp's caching"
    transport, twin = "io_uring", "fgpth"


class FusegenMemfs(Fusegen):
    key, label, counterpart = "fgmem", "fusegen memfs", "tmpfs"

    def unavailable(self):
        return (need_file(self.ctx.args.fusegen_memfs, "fusegen memfs example")
                or super().unavailable())

    def opts(self, phase):
        return self.mount_opts(phase)

    def options(self, phase):
        o = " ".join(self.opts(phase))
        return f"`{o}`" + (" (memfs's own caching: timeouts of a day, keep_cache)" if phase == "data" else "")

    def command(self, phase, mnt, src):
        return [self.ctx.args.fusegen_memfs, "-f"] + self.opts(phase) + [mnt]


class FusegenMemfsUring(FusegenMemfs):
    key, label = "fgmemu", "fusegen memfs, io_uring"
    transport, twin = "io_uring", "fgmem"


SYSTEMS = [Tmpfs, BackingDir, PassthroughLL, PassthroughHP, PassthroughHPUring, PyPassthrough,
           PyTmpfs, FusegenPassthrough, FusegenPassthroughKernel, FusegenPassthroughUring,
           FusegenPassthroughHPCache, FusegenPassthroughHPCacheUring, FusegenMemfs,
           FusegenMemfsUring]
PLACEMENTS = ["same", "split", "free"]


def libfuse_build_version(path):
    """The libfuse version of a hand-built passthrough_hp: from the meson build directory it
    sits in (BUILD/example/passthrough_hp), else "master"."""
    if not path:
        return "?"
    info = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(path))),
                        "meson-info", "intro-projectinfo.json")
    try:
        with open(info) as f:
            return f"master ({json.load(f)['version']})"
    except (OSError, ValueError, KeyError):
        return "master"


# ---------------------------------------------------------------------------------------------
# The run


class Context:
    def __init__(self, args):
        self.args = args
        self.mode = MODES[args.mode]
        self.bench_dir = os.path.dirname(os.path.abspath(__file__))
        self.registered = []  # mountpoints to undo
        self.daemons = []     # Popen of running daemons
        self.work = tempfile.mkdtemp(prefix="fusegen-bench.", dir=args.workdir)
        self.results = {}     # system -> workload -> list of samples
        self.errors = {}      # system -> workload -> message
        self.skipped = {}     # system -> reason
        self.rss = {}         # system -> peak MiB
        self.notes = {}       # system -> {phase: options}
        self.deadline = time.monotonic() + args.deadline
        self.nofile = raise_nofile()
        self.file_counts = {}  # (system, "meta"|"small") -> files used
        self.scaling = {}      # system -> phase -> sample with a tenth of the files
        self.idle_rss = {}     # system -> MiB resident right after mounting (the least seen)
        self.fewer_files = {}  # system -> [why it used fewer files]
        fs = run(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T", self.work], 10)[1].split()
        self.backing_fs, self.backing_dev = (fs + ["?", "?"])[:2]
        if args.backing == "fresh":
            self.backing_dev = f"a fresh loop image per phase, on {self.backing_dev}"
            self.backing_fs = "ext4"
        elif args.backing == "tmpfs":
            self.backing_dev = "a fresh mount per phase, sized for the phase"
            self.backing_fs = "tmpfs"
        self.libfuse_version = run(["pkg-config", "--modversion", "fuse3"], 10)[1].strip() or "?"
        self.libfuse_master_version = libfuse_build_version(args.passthrough_hp)
        # --placement: the caller's CPU and the other one.
        self.cpus = self.placement_cpus(args.placement_cpus)
        self.uring_notes = []  # enable_uring changed by someone else during our mounts
        self.uring_mount = None  # the Mounted that turned enable_uring on, until it restores it
        self.pyfuse3_version = "?"
        if args.python:
            rc, out, _ = run([args.python, "-c",
                              "import pyfuse3, trio; print(pyfuse3.__version__, trio.__version__)"],
                             30)
            if rc == 0:
                self.pyfuse3_version = "{} (trio {})".format(*out.split())

    @staticmethod
    def placement_cpus(spec):
        allowed = sorted(os.sched_getaffinity(0))
        if spec:
            cpus = [int(c) for c in spec.split(",")]
        else:
            cpus = allowed[:2]
        if len(cpus) != 2 or cpus[0] == cpus[1] or any(c not in allowed for c in cpus):
            if spec:
                raise SystemExit(f"harness: --placement-cpus {spec}: two different CPUs of "
                                 f"{allowed} are needed")
            cpus = (allowed * 2)[:2]
        return cpus

    def caller_cpu(self, system):
        """The CPU the workload program is pinned to, or None (free)."""
        return None if system.placement == "free" else self.cpus[0]

    def daemon_cpu(self, system):
        """The CPU every thread of the daemon is pinned to, or None (free)."""
        return {"same": self.cpus[0], "split": self.cpus[1]}.get(system.placement)

    def files(self, system, kind):
        """How many files `system` gets in the metadata ("meta") or small-file workloads."""
        n = self.mode[f"{kind}_files"]
        notes = self.fewer_files.setdefault(system.key, [])
        if system.max_files:
            cap = system.max_files[0][self.args.mode]
            if cap < n:
                n = cap
                note = f"{cap} files only: {system.max_files[1]}"
                if note not in notes:
                    notes.append(note)
        if system.backing or system.base == "ext4dir":
            # One descriptor per inode the kernel knows (per file here), plus headroom.
            cap = (self.nofile - 2000) // 1000 * 1000
            if cap < n:
                n = cap
                note = (f"{cap} files only (this system and the other passthrough systems): "
                        f"a passthrough daemon holds a descriptor per file, and the descriptor "
                        f"limit here is {self.nofile} (it cannot be raised: no CAP_SYS_RESOURCE)")
                if note not in notes:
                    notes.append(note)
        self.file_counts[(system.key, kind)] = n
        return n

    def register_mount(self, mnt):
        self.registered.append(mnt)

    def cleanup(self):
        for proc in self.daemons:
            if proc.poll() is None:
                kill_group(proc, signal.SIGTERM)
        for proc in self.daemons:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(proc)
        for mnt in reversed(self.registered):
            force_unmount(mnt)
        # Anything else still mounted below our work directory.
        for point, _, _ in reversed(mounts()):
            if point.startswith(self.work + "/"):
                force_unmount(point)
        if not any(p.startswith(self.work + "/") for p, _, _ in mounts()):
            run(["rm", "-rf", "--one-file-system", self.work], 600)
        if self.uring_mount is not None:  # interrupted between its enable and its restore
            self.uring_mount.restore_uring()

    def time_left(self):
        return self.deadline - time.monotonic()


class Mounted:
    """One system mounted for one phase."""

    def __init__(self, ctx, system, phase):
        self.ctx, self.system, self.phase = ctx, system, phase
        name = f"{system.key}-{phase}"
        self.mnt = os.path.join(ctx.work, "mnt", name)
        self.src = os.path.join(ctx.work, "src", name)
        os.makedirs(self.mnt)
        os.makedirs(self.src)
        self.image = None
        self.backing_tmpfs = False
        self.uring_before = None
        self.proc = None
        self.pid = None
        self.logfile = os.path.join(ctx.work, f"{name}.log")
        uses_src = system.backing or system.base == "ext4dir"
        if not uses_src:
            pass  # memfs, tmpfs: no backing directory to prepare
        elif ctx.args.backing == "fresh":
            self.image = fresh_backing_fs(ctx, name, self.src)
        elif ctx.args.backing == "tmpfs":
            self.backing_tmpfs = True
            fresh_backing_tmpfs(ctx, phase, self.src)

    def start(self):
        s = self.system
        # Phases are named data0, data1, ..., meta0, ..., scale; options depend on the kind.
        phase = "data" if self.phase.startswith("data") else "meta"
        self.ctx.notes.setdefault(s.base, {})[phase] = s.options(phase)
        if s.native:
            self.dir = s.mount_native(phase, self.mnt, self.src)
            return
        argv = s.command(phase, self.mnt, self.src)
        cpu = self.ctx.daemon_cpu(s)
        if cpu is not None:
            # Every thread it makes inherits this; pin() catches threads that set their own.
            argv = ["taskset", "-c", str(cpu)] + argv
        if s.transport == "io_uring":
            self.enable_uring()
        log(f"  start: {shlex.join(argv)}")
        self.ctx.register_mount(self.mnt)
        with open(self.logfile, "w") as logf:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         env=dict(os.environ, **s.env()))
        self.ctx.daemons.append(self.proc)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = mount_of(self.mnt)
            if m is not None and m[0].startswith("fuse"):
                break
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.log_tail()}")
            time.sleep(0.05)
        else:
            raise RuntimeError(f"not mounted after 30 s: {self.log_tail()}")
        # The first access waits for INIT; bounded.
        if run(["stat", self.mnt], 20)[0] != 0:
            raise RuntimeError(f"mountpoint does not answer: {self.log_tail()}")
        self.dir = self.mnt
        try:
            with open(self.logfile) as f:
                why = s.check_started(f.read())
        except OSError as e:
            why = f"cannot read its log: {e}"
        if why:
            raise RuntimeError(why)
        self.pin()
        # Memory of a mounted daemon that has served nothing yet but INIT and one stat.
        idle = status_mib(self.pid, "VmRSS")
        if idle is not None:
            k = s.key
            self.ctx.idle_rss[k] = min(self.ctx.idle_rss.get(k, idle), idle)

    def enable_uring(self):
        """Turns the fuse module's enable_uring on for this mount only (stop() restores it):
        other users of the machine flip it too, so it is on no longer than needed."""
        try:
            with open(ENABLE_URING) as f:
                self.uring_before = f.read().strip()
            with open(ENABLE_URING, "w") as f:
                f.write("Y")
            self.ctx.uring_mount = self
        except OSError as e:
            raise RuntimeError(f"cannot enable FUSE-over-io_uring: {e}")

    def restore_uring(self):
        if self.uring_before is None:
            return
        try:
            with open(ENABLE_URING) as f:
                now = f.read().strip()
            if now != "Y":
                # Someone else changed it during the mount: leave theirs, say so.
                note = (f"{self.system.label}, {self.phase}: enable_uring was {now} at the end "
                        f"of the mount (set to Y at its start): changed by another user")
                self.ctx.uring_notes.append(note)
                log(f"  WARNING: {note}")
            else:
                with open(ENABLE_URING, "w") as f:
                    f.write(self.uring_before)
        except OSError as e:
            log(f"  WARNING: could not restore enable_uring: {e}")
        self.uring_before = None
        self.ctx.uring_mount = None

    def pin(self):
        """With a daemon placement, (re)pins every thread of the daemon to its CPU: a daemon
        may set its threads' affinity itself (per-CPU io_uring queues). Logs any that had."""
        cpu = self.ctx.daemon_cpu(self.system)
        if cpu is None or not self.pid:
            return
        stray = {t: c for t, c in thread_cpus(self.pid).items() if c != str(cpu)}
        if stray:
            rc, _, err = run(["taskset", "-a", "-p", "-c", str(cpu), str(self.pid)], 10)
            if rc != 0:
                raise RuntimeError(f"taskset -a -p {self.pid}: {err.strip()}")
            log(f"  {self.system.key}: pinned {len(stray)} thread(s) to CPU {cpu} that had "
                f"CPUs {sorted(set(stray.values()))} (set by the daemon itself)")

    def caller(self, argv):
        """argv of a workload program, pinned to the caller's CPU under a placement."""
        cpu = self.ctx.caller_cpu(self.system)
        return argv if cpu is None else ["taskset", "-c", str(cpu)] + argv

    def log_tail(self):
        try:
            with open(self.logfile) as f:
                return " | ".join(f.read().strip().splitlines()[-5:])
        except OSError:
            return ""

    def sample_rss(self):
        if self.pid:
            rss = peak_rss_mib(self.pid)
            if rss is not None:
                k = self.system.key
                self.ctx.rss[k] = max(self.ctx.rss.get(k, 0), rss)

    def cpu(self):
        return cpu_seconds(self.pid) if self.pid else None

    def sched(self):
        return sched_counts(self.pid) if self.pid else None

    def alive(self):
        return self.proc is None or self.proc.poll() is None

    def stop(self):
        s = self.system
        if s.native:
            if mount_of(self.mnt):
                force_unmount(self.mnt)
            return
        if self.proc is None:  # it never started
            self.restore_uring()
            return
        self.sample_rss()
        if self.proc.poll() is None:
            # pyfuse3's examples end cleanly on SIGINT, the others on SIGTERM.
            sig = signal.SIGINT if isinstance(s, Pyfuse3) else signal.SIGTERM
            kill_group(self.proc, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log(f"  {s.key}: daemon did not stop in 15 s; killing it")
                kill_group(self.proc)
                self.proc.wait(timeout=10)
        if mount_of(self.mnt) is not None:
            force_unmount(self.mnt)
        self.restore_uring()

    def release_backing(self):
        """Unmounts this phase's backing file system and deletes its image (`--backing fresh`
        and `tmpfs`)."""
        if self.backing_tmpfs:
            if mount_of(self.src) is not None:
                force_unmount(self.src)
            return
        if self.image is None:
            return
        if mount_of(self.src) is not None:
            force_unmount(self.src)
        try:
            os.unlink(self.image)
        except OSError:
            pass


def fresh_backing_fs(ctx, name, src):
    """Makes an empty ext4 on a sparse image in the work directory and mounts it at `src`.

    A file system that just deleted 100,000 files makes the next creations slower (ext4 skips
    recently freed inodes when it allocates), so systems measured later would pay for the
    deletes of those measured earlier; a fresh file system per phase gives each the same start.
    """
    image = os.path.join(ctx.work, "img", name + ".ext4")
    os.makedirs(os.path.dirname(image), exist_ok=True)
    with open(image, "wb") as f:
        f.truncate(BACKING_IMAGE_BYTES)
    # Inode tables initialised now, not by a kernel thread during the measurements.
    rc, _, err = run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                      "-N", str(BACKING_INODES), image], 300)
    if rc != 0:
        raise RuntimeError(f"mkfs.ext4: {err.strip()}")
    ctx.register_mount(src)
    rc, _, err = run(["mount", "-o", "loop", image, src], 60)
    if rc != 0:
        raise RuntimeError(f"mount -o loop {image}: {err.strip()}")
    return image


def fresh_backing_tmpfs(ctx, phase, src):
    """Mounts an empty tmpfs at `src`, sized for the phase: the data phase's sequential file
    and small files with room to spare, or the metadata phase's files (inodes)."""
    if phase.startswith("data"):
        size = ctx.mode["seq_mib"] * MiB + ctx.mode["small_files"] * 8192 + (256 << 20)
        inodes = ctx.mode["small_files"] * 2 + 10_000
    else:
        size = 64 << 20
        inodes = ctx.mode["meta_files"] * 2 + 10_000
    ctx.register_mount(src)
    rc, _, err = run(["mount", "-t", "tmpfs", "-o",
                      f"size={size},nr_inodes={inodes},mode=0755", "tmpfs", src], 30)
    if rc != 0:
        raise RuntimeError(f"mount tmpfs at {src}: {err.strip()}")


def record(ctx, system, workload, sample):
    ctx.results.setdefault(system.key, {}).setdefault(workload, []).append(sample)


def fail(ctx, system, workload, msg):
    msg = " ".join(msg.split())[:300]
    log(f"  {system.key} {workload}: FAILED: {msg}")
    ctx.errors.setdefault(system.key, {})[workload] = msg


def fio(ctx, m, workload, extra, timeout):
    path = m.dir
    argv = ["fio", "--output-format=json", f"--name={workload}", f"--directory={path}",
            "--filename=bench.dat", "--ioengine=psync", "--fallocate=none",
            "--group_reporting", "--randrepeat=0", "--norandommap",
            f"--size={ctx.mode['seq_mib']}M"] + extra
    m.pin()
    cpu0, sched0 = m.cpu(), m.sched()
    t0 = time.monotonic()
    rc, out, err = run(m.caller(argv), timeout)
    cpu1, sched1 = m.cpu(), m.sched()
    log(f"  {m.system.key} {workload}: fio took {time.monotonic() - t0:.1f} s")
    m.sample_rss()
    if rc is None and not m.system.native:
        # fio may wait on a daemon that stopped answering: abort the connection.
        force_unmount(m.mnt)
    try:
        data = json.loads(out[out.index("{"):])
        job = data["jobs"][0]
    except (ValueError, KeyError, IndexError):
        job = None
    if rc != 0 or job is None or job.get("error"):
        # fio prints its complaint on stderr, or on stdout before the JSON.
        text = err + "\n" + out[:out.find("{")] if "{" in out else err + "\n" + out
        lines = [l for l in text.splitlines() if l.strip()]
        first = next((l for l in lines if "error" in l.lower()), lines[0] if lines else "no output")
        code = job.get("error") if job else None
        fail(ctx, m.system, workload, f"fio rc={rc} error={code}: {first}")
        return False
    rw = job["write"] if job["write"]["total_ios"] else job["read"]
    secs = rw["runtime"] / 1000 or 1e-9
    sample = dict(ops=rw["total_ios"], secs=secs, bw=rw["bw_bytes"] / MiB, iops=rw["iops"],
                  cpu=(cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None)
    if sched0 is not None and sched1 is not None:
        sample.update(vcsw=sched1[0] - sched0[0], nvcsw=sched1[1] - sched0[1],
                      migr=sched1[2] - sched0[2])
    record(ctx, m.system, workload, sample)
    return True


def metabench(ctx, m, mode, rep, timeout, files=None, scaling=False):
    """Runs metabench; with `scaling`, its figures go to the scaling table, not the main one."""
    files = files or ctx.files(m.system, mode)
    argv = [ctx.args.metabench, mode, "--dir", os.path.join(m.dir, f"{mode}.{rep}"),
            "--files", str(files), "--readdir-passes", str(ctx.mode["readdir_passes"])]
    if m.pid:
        argv += ["--daemon-pid", str(m.pid)]
    m.pin()
    t0 = time.monotonic()
    rc, out, err = run(m.caller(argv), timeout)
    log(f"  {m.system.key} {mode}: metabench took {time.monotonic() - t0:.1f} s")
    m.sample_rss()
    if rc is None and not m.system.native:
        force_unmount(m.mnt)
    done = set()
    for line in out.splitlines():
        try:
            p = json.loads(line)
        except ValueError:
            continue
        done.add(p["phase"])
        sample = dict(ops=p["ops"], secs=p["secs"], ops_s=p["ops"] / max(p["secs"], 1e-9),
                      cpu=p["cpu"])
        for k in ("vcsw", "nvcsw", "migr"):
            if p.get(k) is not None:
                sample[k] = p[k]
        if scaling:
            ctx.scaling.setdefault(m.system.key, {})[p["phase"]] = sample
        else:
            record(ctx, m.system, p["phase"], sample)
    if rc != 0:
        msg = (err.strip().splitlines() or [f"rc={rc}"])[-1]
        phases = META_WORKLOADS if mode == "meta" else ["smallwrite", "smallread"]
        for ph in phases:
            if ph not in done:
                fail(ctx, m.system, ph, f"metabench: {msg}")
                break
        return False
    return True


def seq_timeout(ctx):
    # 1 MiB/ms would be fast; allow down to 5 MiB/s.
    return 60 + ctx.mode["seq_mib"] / 5


def data_phase(ctx, m, wanted, reps=None):
    reps = ctx.mode["reps"] if reps is None else reps
    rand = ctx.mode["rand_secs"]
    datafile = os.path.join(m.dir, "bench.dat")

    def write_file(workload):
        run(["rm", "-f", datafile], 60)
        ok = fio(ctx, m, workload, ["--rw=write", "--bs=1M", "--end_fsync=0"], seq_timeout(ctx))
        # Untimed: the next figure does not pay for this one's writeback.
        t0 = time.monotonic()
        sh("sync", timeout=180)
        log(f"  sync took {time.monotonic() - t0:.1f} s")
        return ok

    have_file = False
    if "seqwrite" in wanted or "seqread" in wanted:
        for rep in range(reps):
            if "seqwrite" in wanted or not have_file:
                if not write_file("seqwrite"):
                    return
                have_file = True
            if "seqread" in wanted:
                if not drop_caches():
                    log("  WARNING: drop_caches failed: reads are not cold")
                fio(ctx, m, "seqread", ["--rw=read", "--bs=1M"], seq_timeout(ctx))
    rand_keys = [k for k in ("rand1", "rand2", "rand1d", "rand2d") if k in wanted]
    if rand_keys and not have_file:
        if not write_file("setup"):
            return
        ctx.results.get(m.system.key, {}).pop("setup", None)
    for key, jobs, direct in (("rand1", 1, 0), ("rand2", 2, 0), ("rand1d", 1, 1),
                              ("rand2d", 2, 1)):
        if key not in wanted or not m.alive():
            continue
        if not direct:
            # Warm: the file is read whole first, and the runs do not invalidate it.
            fio(ctx, m, "warmup", ["--rw=read", "--bs=1M", "--invalidate=0"], seq_timeout(ctx))
            ctx.results.get(m.system.key, {}).pop("warmup", None)
        for rep in range(reps):
            ok = fio(ctx, m, key, ["--rw=randread", "--bs=4k", f"--numjobs={jobs}",
                                   f"--direct={direct}", "--invalidate=0",
                                   "--time_based", f"--runtime={int(rand * 1000)}ms"],
                     rand + 60)
            if not ok:
                break
    if {"smallwrite", "smallread"} & set(wanted) and m.alive():
        for rep in range(reps):
            if not metabench(ctx, m, "small", rep, 60 + ctx.mode["small_files"] / 50):
                break


def meta_phase(ctx, m, wanted, rep):
    metabench(ctx, m, "meta", rep, 60 + 4 * ctx.mode["meta_files"] / 100)


def system_steps(ctx, system, wanted, split_data=True):
    """The phases of one system, each on a mount of its own: the data workloads (one run of
    each per phase with `split_data`, else all runs in one phase), then each metadata run (so
    that no run inherits the inodes, descriptors or caches of the one before), then the
    scaling run."""
    wanted = [w for w in wanted if w not in system.not_run]
    data = [k for k in DATA_WORKLOADS if k in wanted]
    meta = [k for k in META_WORKLOADS if k in wanted]
    steps = []
    if not split_data:
        steps.append(("data", data, data_phase))
    for rep in range(ctx.mode["reps"] if data and split_data else 0):
        steps.append((f"data{rep}", data,
                      lambda ctx, m, todo: data_phase(ctx, m, todo, reps=1)))
    for rep in range(ctx.mode["reps"] if meta else 0):
        steps.append((f"meta{rep}", meta,
                      lambda ctx, m, todo, rep=rep: meta_phase(ctx, m, todo, rep)))
    full_size = ctx.files(system, "meta") == ctx.mode["meta_files"]
    if meta and ctx.args.mode == "full" and full_size and not system.max_files:
        # The same metadata workloads with a tenth of the files: does a big directory slow
        # the system down? (Systems capped below the full size are not compared.)
        steps.append(("scale", meta, lambda ctx, m, todo: metabench(
            ctx, m, "meta", "scale", 60 + 4 * ctx.mode["meta_files"] / 1000,
            files=ctx.mode["meta_files"] // 10, scaling=True)))
    return steps


def run_step(ctx, system, step):
    """One phase of one system on a fresh mount. False when the system should not go on."""
    phase, todo, body = step
    if not todo:
        return True
    if ctx.time_left() < 0:
        ctx.skipped.setdefault(system.key, "the run's time limit was reached")
        return False
    started = time.monotonic()
    m = None
    try:
        m = Mounted(ctx, system, phase)
        m.start()
        body(ctx, m, todo)
        if not m.alive():
            fail(ctx, system, todo[-1], f"daemon died: {m.log_tail()}")
    except RuntimeError as e:
        fail(ctx, system, todo[0], str(e))
    finally:
        if m is not None:
            m.stop()
            m.release_backing()
    src = os.path.join(ctx.work, "src", f"{system.key}-{phase}")
    if mount_of(src) is not None:  # a backing mount made before Mounted() failed
        force_unmount(src)
    run(["rm", "-rf", "--one-file-system", src], 600)
    log(f"{system.label}: {phase} took {time.monotonic() - started:.1f} s")
    # A failing metadata run fails the same way again.
    return not (system.key in ctx.errors and phase.startswith("meta") and
                any(k in ctx.errors[system.key] for k in META_WORKLOADS))


def bench_system(ctx, system, wanted):
    """Every phase of one system, one after another (used with `--perf`)."""
    for step in system_steps(ctx, system, wanted, split_data=False):
        if not run_step(ctx, system, step):
            return


def bench_interleaved(ctx, systems, wanted):
    """Every system's phases, round by round: the first run of every system, then the second
    of every system, and so on. The machine's speed drifts over a run of twenty minutes
    (other guests of the host, the page cache, the disk); measuring the systems one after
    another made their ratios move by a third between two runs, while a round holds every
    system to the same conditions and each figure's median is taken across rounds."""
    plans = {s.key: system_steps(ctx, s, wanted) for s in systems}
    stopped = set()
    for i in range(max((len(p) for p in plans.values()), default=0)):
        for s in systems:
            if s.key in stopped or i >= len(plans[s.key]):
                continue
            if not run_step(ctx, s, plans[s.key][i]):
                stopped.add(s.key)


# ---------------------------------------------------------------------------------------------
# Report


def fmt(x):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}" if x >= 1 else f"{x:.3f}"


def figure(ctx, sys_key, wl):
    """(median throughput in the table's unit, median daemon CPU s per 1k ops) or None."""
    samples = ctx.results.get(sys_key, {}).get(wl)
    if not samples:
        return None
    kind = next(w[3] for w in WORKLOADS if w[0] == wl)
    if kind == "bw":
        vals = [s["bw"] for s in samples]
    elif kind == "iops":
        vals = [s["iops"] / 1000 for s in samples]
    else:
        vals = [s["ops_s"] / 1000 for s in samples]
    cpus = [s["cpu"] / s["ops"] * 1000 for s in samples if s["cpu"] is not None and s["ops"]]
    return statistics.median(vals), (statistics.median(cpus) if cpus else None), len(vals)


def sched_figure(ctx, sys_key, wl):
    """Median daemon (voluntary, involuntary context switches, CPU migrations) per operation,
    or None."""
    samples = [s for s in ctx.results.get(sys_key, {}).get(wl, []) if "vcsw" in s and s["ops"]]
    if not samples:
        return None
    return tuple(statistics.median(s[k] / s["ops"] for s in samples)
                 for k in ("vcsw", "nvcsw", "migr"))


def cost_table(ctx, shown, wanted):
    """Daemon CPU and scheduling per operation, one row per workload."""
    daemons = [s for s in shown if not s.native]
    if not daemons:
        return ""
    out = ["\n#### Cost per operation\n\nPer operation of the workload (fio I/O, file or "
           "directory entry), medians over the runs: daemon CPU in µs (user + system, all "
           "threads) / voluntary context switches / involuntary ones / CPU migrations, of the "
           "daemon's threads (`/proc/PID/task/*/status` and `sched` before and after the "
           "workload; threads that exit during it are not counted).\n\n",
           "| workload | " + " | ".join(s.label for s in daemons) + " |\n",
           "|---|" + "---:|" * len(daemons) + "\n"]
    for key, label, _, _ in WORKLOADS:
        if key not in wanted:
            continue
        cells = []
        for s in daemons:
            f, c = figure(ctx, s.key, key), sched_figure(ctx, s.key, key)
            if f is None:
                cells.append("–")
                continue
            cpu = "–" if f[1] is None else f"{f[1] * 1000:.1f}"
            sched = "– / – / –" if c is None else f"{c[0]:.2f} / {c[1]:.2f} / {c[2]:.3f}"
            cells.append(f"{cpu} / {sched}")
        out.append(f"| {label} | " + " | ".join(cells) + " |\n")
    return "".join(out)


def placement_info(ctx):
    a, b = ctx.cpus
    what = {"same": f"caller (fio, metabench) and every daemon thread pinned to CPU {a}",
            "split": f"caller pinned to CPU {a}, every daemon thread to CPU {b}",
            "free": "neither pinned (the scheduler places both)"}
    if ctx.args.placement == "check":
        return ("- placement: every system three times, the column's [tag] says how: "
                + "; ".join(f"[{p}] {what[p]}" for p in PLACEMENTS) + "\n")
    return f"- placement [{ctx.args.placement}]: {what[ctx.args.placement]}\n"


def machine_info(ctx):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo") as f:
        mem = int(next(l for l in f if l.startswith("MemTotal")).split()[1]) / MiB * 1024
    fio_v = run(["fio", "--version"], 10)[1].strip()
    rustc = run(["rustc", "--version"], 10)[1].strip()
    git = run(["git", "-C", ctx.bench_dir, "describe", "--always", "--dirty"], 10)[1].strip()
    return (f"- machine: {cpu}, {os.cpu_count()} CPUs, {mem / 1024:.0f} GiB RAM; "
            f"Linux {platform.release()}\n"
            f"- backing filesystem: {ctx.backing_fs} on {ctx.backing_dev} "
            f"(work directory {ctx.args.workdir})\n"
            f"- tools: {fio_v}, libfuse {ctx.libfuse_version}, pyfuse3 {ctx.pyfuse3_version}, "
            f"{rustc}, fusegen {git or '?'}"
            + (f", passthrough_hp of libfuse {ctx.libfuse_master_version}"
               if ctx.args.passthrough_hp else "") + "\n"
            + placement_info(ctx))


def scaling_table(ctx, shown):
    """Metadata throughput with all the files against a tenth of them (full mode)."""
    rows = []
    n_small, n_big = ctx.mode["meta_files"] // 10, ctx.mode["meta_files"]
    for s in shown:
        small = ctx.scaling.get(s.key, {})
        for wl in META_WORKLOADS:
            fig = figure(ctx, s.key, wl)
            if wl not in small or fig is None:
                continue
            at_small = small[wl]["ops_s"] / 1000
            rows.append(f"| {s.label} | {wl} | {fmt(at_small)} | {fmt(fig[0])} | "
                        f"{fig[0] / at_small:.2f}× |\n")
    if not rows:
        return ""
    return ("\n#### Scaling\n\nk ops/s (readdir: k entries/s) with "
            f"{n_small} files (one run) and {n_big} files (the median above); the last column "
            f"is the second ÷ the first (1.00×: no slowdown in a bigger directory).\n\n"
            f"| system | workload | {n_small} files | {n_big} files | ratio |\n"
            "|---|---|---:|---:|---:|\n" + "".join(rows))


def report(ctx, systems, wanted, started, load0):
    mode = ctx.mode
    out = []
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out.append(f"### {ctx.args.mode} run, {when}\n")
    out.append(machine_info(ctx))
    load1 = os.getloadavg()
    out.append(f"- load average (1 min) before / after: {load0[0]:.2f} / {load1[0]:.2f}; "
               f"the run took {(time.monotonic() - started) / 60:.1f} min\n")
    out.append(f"- sizes: sequential file {mode['seq_mib']} MiB; random reads "
               f"{mode['rand_secs']} s per run; metadata {mode['meta_files']} files; small "
               f"files {mode['small_files']} × 4 KiB; every figure is the median of "
               f"{mode['reps']} runs\n")
    out.append(f"- every daemon runs with a descriptor limit (RLIMIT_NOFILE) of {ctx.nofile}\n")
    if ctx.args.backing == "tmpfs":
        out.append("- backing on tmpfs: \"cold\" reads start with the FUSE side's page cache "
                   "dropped; the backing files stay in memory\n")
    for note in ctx.uring_notes:
        out.append(f"- **{note}**\n")
    if ctx.args.perf:
        out.append("- **perf was recording the daemons: figures are slowed by profiling**\n")
    out.append("\n")
    shown = [s for s in systems if s.key in ctx.results or s.key in ctx.errors]
    head = "| workload | unit | " + " | ".join(s.label for s in shown) + " |"
    out.append(head + "\n")
    out.append("|---|---|" + "---:|" * len(shown) + "\n")
    for key, label, unit, _ in WORKLOADS:
        if key not in wanted:
            continue
        cells = []
        for s in shown:
            f = figure(ctx, s.key, key)
            err = ctx.errors.get(s.key, {}).get(key)
            if f is None:
                cells.append("fails" if err else "n/a" if key in s.not_run else "–")
                continue
            value, cpu, n = f
            cell = fmt(value)
            if cpu is not None and not s.native:
                cell += f" ({fmt(cpu)})"
            if n < mode["reps"]:
                cell += f" [{n} run{'s' if n > 1 else ''}]"
            kind = "small" if key.startswith("small") else "meta"
            n_files = ctx.file_counts.get((s.key, kind))
            if key in META_WORKLOADS + ["smallwrite", "smallread"] and n_files is not None \
                    and n_files != ctx.mode[f"{kind}_files"]:
                cell += f" [{n_files} files]"
            cells.append(cell)
        out.append(f"| {label} | {unit} | " + " | ".join(cells) + " |\n")
    cells = []
    for s in shown:
        cells.append("–" if s.native else fmt(ctx.rss.get(s.key)))
    out.append("| peak daemon RSS (VmHWM) | MiB | " + " | ".join(cells) + " |\n")
    cells = ["–" if s.native else fmt(ctx.idle_rss.get(s.key)) for s in shown]
    out.append("| idle daemon RSS, just mounted (VmRSS) | MiB | " + " | ".join(cells) + " |\n")
    out.append("\nIn parentheses: daemon CPU seconds (user + system, all threads) per 1,000 "
               "operations of the workload (fio I/Os, files or entries). "
               "\"fails\": see the failures below.\n")

    # Ratios
    pairs = []
    # Systems are compared within one placement.
    by_key = {(s.base, s.placement): s for s in shown}

    def pair(s, base):
        if (base, s.placement) in by_key:
            pairs.append((s, by_key[(base, s.placement)]))
            return True
        return False

    for s in shown:
        if not s.base.startswith("fg"):
            continue
        # passthrough_hp's data phase caches as fgpth does (see FusegenPassthroughHPCache):
        # fusegen's passthrough is set against it in that policy only.
        hp_policy = s.base not in ("fgpt", "fgptu")
        if s.twin:
            # An io_uring system: against the same example on /dev/fuse, and against
            # libfuse master's passthrough_hp on io_uring.
            pair(s, s.twin)
            if hp_policy:
                pair(s, "phpu")
            continue
        if s.base != "fgpth":
            pair(s, "pll")
        if hp_policy:
            pair(s, "php")
        if not pair(s, s.counterpart) and ctx.args.backing == "tmpfs" and s.backing:
            pair(s, "tmpfs")  # the backing is tmpfs: the tmpfs row is the native reference
    if pairs:
        out.append("\n#### Ratios\n\nThroughput of fusegen ÷ throughput of the reference "
                   "(above 1: fusegen is faster); for daemons, \"cpu\" is fusegen's CPU per "
                   "operation ÷ the reference's (below 1: fusegen uses less).\n\n")
        out.append("| workload | " + " | ".join(f"{a.label} vs {b.label}" for a, b in pairs)
                   + " |\n")
        out.append("|---|" + "---:|" * len(pairs) + "\n")
        for key, label, _, _ in WORKLOADS:
            if key not in wanted:
                continue
            cells = []
            for a, b in pairs:
                fa, fb = figure(ctx, a.key, key), figure(ctx, b.key, key)
                if not fa or not fb or not fb[0]:
                    cells.append("–")
                    continue
                cell = f"{fa[0] / fb[0]:.2f}×"
                if fa[1] is not None and fb[1] and not b.native:
                    cell += f" (cpu {fa[1] / fb[1]:.2f}×)"
                cells.append(cell)
            out.append(f"| {label} | " + " | ".join(cells) + " |\n")

    out.append(cost_table(ctx, shown, wanted))
    out.append(scaling_table(ctx, shown))
    out.append("\n#### Mount options\n\nData workloads (sequential, random, small files) run "
               "on one mount; each metadata run has a fresh mount of its own.\n\n")
    for s in systems:
        n = ctx.notes.get(s.base)
        if n and s.placement == systems[0].placement:  # once per system, not per placement
            phases = "; ".join(f"{p}: {o}" for p, o in n.items())
            label = type(s).label if s.base != "ext4dir" else f"{ctx.backing_fs} dir (native)"
            out.append(f"- {label}: {phases}\n")
    selected = {s.base for s in systems}
    skipped = {k: why for k, why in ctx.skipped.items() if k in selected}
    if skipped:
        out.append("\n#### Not run\n\n")
        for k, why in skipped.items():
            label = next((s.label for s in systems if s.base == k), k)
            out.append(f"- {label}: {why}\n")
    not_run = [s for s in systems if (s.not_run or ctx.fewer_files.get(s.key))
               and s.key in ctx.results]
    if not_run:
        out.append("\n#### Not measured, or measured smaller\n\n")
        for s in not_run:
            reasons = {}
            for wl, why in s.not_run.items():
                if wl in wanted:
                    reasons.setdefault(why, []).append(wl)
            for why, wls in reasons.items():
                out.append(f"- {s.label}, {', '.join(wls)}: n/a: {why}\n")
            for why in ctx.fewer_files.get(s.key, []):
                out.append(f"- {s.label}, metadata and small files: {why}\n")
    if ctx.errors:
        out.append("\n#### Failures\n\n")
        for k, errs in ctx.errors.items():
            label = next((s.label for s in systems if s.key == k), k)
            for wl, msg in errs.items():
                out.append(f"- {label}, {wl}: {msg}\n")
    return "".join(out)


def main():
    p = argparse.ArgumentParser(description="fusegen benchmark harness (use bench/run.sh)")
    p.add_argument("--mode", choices=sorted(MODES), default="quick")
    p.add_argument("--workdir", default="/var/tmp",
                   help="where mountpoints and backing directories are made (its filesystem "
                        "is the backing filesystem)")
    p.add_argument("--backing", choices=["fresh", "workdir", "tmpfs"], default="fresh",
                   help="fresh: each phase's backing directory is a new ext4 on a loop image in "
                        "the work directory (the same start for every system); workdir: a "
                        "directory of the work directory's own file system; tmpfs: a new tmpfs "
                        "mount per phase (the backing filesystem's cost out of the figures)")
    p.add_argument("--placement", choices=PLACEMENTS + ["check"], default="free",
                   help="same: caller and daemon pinned to one CPU; split: to two different "
                        "CPUs; free: neither pinned; check: every system in all three")
    p.add_argument("--placement-cpus", default="", metavar="A,B",
                   help="the caller's CPU and the other one (default: the first two allowed)")
    p.add_argument("--only", default="", help="comma-separated system keys: "
                   + ",".join(cls.key for cls in SYSTEMS))
    p.add_argument("--workloads", default="", help="comma-separated: " + ",".join(WORKLOAD_KEYS))
    p.add_argument("--deadline", type=float, default=3 * 3600,
                   help="seconds; systems not started by then are skipped")
    p.add_argument("--metabench", required=True)
    p.add_argument("--passthrough-ll")
    p.add_argument("--passthrough-hp", help="a hand-built libfuse master passthrough_hp")
    p.add_argument("--fusegen-memfs")
    p.add_argument("--fusegen-passthrough")
    p.add_argument("--python", help="python with pyfuse3 and trio")
    p.add_argument("--pyfuse3-examples", help="directory with passthroughfs.py and tmpfs.py")
    p.add_argument("--skip", action="append", default=[], metavar="KEY=REASON",
                   help="mark a system as not run, with the reason (from the setup)")
    p.add_argument("--perf", metavar="DIR",
                   help="record each daemon with perf into DIR (slows the figures)")
    p.add_argument("--output", help="also write the report to this file")
    args = p.parse_args()

    if os.geteuid() != 0:
        sys.exit("harness: must run as root (mount, drop_caches)")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    ctx = Context(args)
    started = time.monotonic()
    load0 = os.getloadavg()
    wanted = [w for w in WORKLOAD_KEYS if not args.workloads or w in args.workloads.split(",")]
    classes = [c for c in SYSTEMS if not args.only or c.key in args.only.split(",")]
    placements = PLACEMENTS if args.placement == "check" else [args.placement]
    systems = [c(ctx, p) for c in classes for p in placements]
    for item in args.skip:
        k, _, why = item.partition("=")
        ctx.skipped[k] = why
    perf_procs = []
    code = 0
    # io_uring systems need the fuse module's enable_uring: each of their mounts turns it on
    # and restores it when it ends (Mounted.enable_uring), since other users flip it too.
    try:
        log(f"work directory {ctx.work} ({ctx.backing_fs} on {ctx.backing_dev}); "
            f"mode {args.mode}: {ctx.mode}")
        log(placement_info(ctx).strip("- \n"))
        runnable = []
        for s in systems:
            if s.base in ctx.skipped:
                log(f"{s.label}: skipped: {ctx.skipped[s.base]}")
                continue
            why = s.unavailable()
            if why:
                ctx.skipped[s.base] = why
                log(f"{s.label}: skipped: {why}")
                continue
            runnable.append(s)
        if args.perf:
            for s in runnable:
                if not s.native:
                    bench_system_perf(ctx, s, wanted, perf_procs)
        else:
            bench_interleaved(ctx, runnable, wanted)
    except Interrupted as e:
        log(f"interrupted ({e}); cleaning up")
        code = 130
    finally:
        ctx.cleanup()
    text = report(ctx, systems, wanted, started, load0)
    print(text)
    if args.output:
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(args.output, "w") as f:
            f.write(text)
        with open(os.path.splitext(args.output)[0] + ".json", "w") as f:
            json.dump(dict(mode=args.mode, config=ctx.mode, backing=args.backing,
                           placement=args.placement, cpus=ctx.cpus, results=ctx.results,
                           errors=ctx.errors, skipped=ctx.skipped, rss=ctx.rss), f, indent=1)
        log(f"report written to {args.output}")
    sys.exit(code)


def bench_system_perf(ctx, system, wanted, perf_procs):
    """bench_system, with `perf record` attached to the daemon of each phase."""
    os.makedirs(ctx.args.perf, exist_ok=True)
    original_start = Mounted.start

    def start_and_record(m):
        original_start(m)
        if m.pid and m.system is system:
            out = os.path.join(ctx.args.perf, f"{system.key}-{m.phase}.data")
            proc = subprocess.Popen(["perf", "record", "-q", "-F", "1999", "-g", "-p",
                                     str(m.pid), "-o", out], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            perf_procs.append(proc)

    Mounted.start = start_and_record
    try:
        bench_system(ctx, system, wanted)
    finally:
        Mounted.start = original_start
        for proc in perf_procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                kill_group(proc)
        perf_procs.clear()


if __name__ == "__main__":
    main()
