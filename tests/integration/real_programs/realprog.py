"""Helpers for running real, unmodified Debian programs bare and under
`leakscope run`, and for reading their reports back as JSON.

Used by the tests in this directory and by scripts/bench-redis."""

import glob
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
DEFAULT_LEAKSCOPE = os.path.join(SOURCE_DIR, "build", "bin", "leakscope")
# Debian's interpreter: the `python3` first in PATH may be a pyenv shim script.
PYTHON = "/usr/bin/python3"


class Failed(Exception):
    pass


def leakscope_path(argv_value=None):
    path = argv_value or os.environ.get("LEAKSCOPE") or DEFAULT_LEAKSCOPE
    if not os.access(path, os.X_OK):
        raise Failed("no leakscope at %s (build first, or pass --leakscope)" % path)
    return path


def traced(leakscope, out_dir, cmd, sample_interval=None):
    """The command line that runs `cmd` under `leakscope run`."""
    line = [leakscope, "run", "-o", out_dir]
    if sample_interval:
        line += ["--sample-interval", str(sample_interval)]
    return line + ["--"] + list(cmd)


def run(cmd, timeout=60, env=None, cwd=None, stdin=None):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, input=stdin,
                          universal_newlines=True, timeout=timeout, env=env, cwd=cwd)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, what, timeout=30, proc=None, poll=0.02):
    """Polls `condition` until it is true; fails at the deadline or when
    `proc` ends first."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise Failed("%s: process ended (status %s) first" % (what, proc.returncode))
        if time.monotonic() > deadline:
            raise Failed("%s: not within %d s" % (what, timeout))
        time.sleep(poll)


def port_accepts(port):
    def check():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False
    return check


def stop(proc, sig=signal.SIGTERM, timeout=30):
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failed("pid %d did not end within %d s of signal %d" % (proc.pid, timeout, sig))


def reports(leakscope, out_dir):
    """Every report in out_dir, as parsed `leakscope report --json`."""
    found = []
    for path in sorted(glob.glob(os.path.join(out_dir, "*.lsr"))):
        shown = run([leakscope, "report", path, "--json"], timeout=120)
        if shown.returncode != 0:
            raise Failed("leakscope report %s --json exited %d: %s"
                         % (path, shown.returncode, shown.stderr))
        report = json.loads(shown.stdout)
        report["path"] = path
        found.append(report)
    return found


def describe(report):
    p = report["process"]
    return "%s pid %d ppid %d end %s status %s signal %s forked %s" % (
        os.path.basename(report["path"]), p["pid"], p["ppid"], p.get("end"),
        p.get("exit_status"), p.get("signal"), p.get("forked"))


# --- redis ------------------------------------------------------------------

REDIS_TESTS = ("SET", "GET", "LPUSH")
MODES = ("bare", "sampled", "every")
SAMPLED_INTERVAL = 65536
_RPS = re.compile(r"(?:^|\r|\n)\s*([A-Z]+): ([0-9.]+) requests per second")


def redis_server_cmd(port):
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--logfile", ""]


def start_redis(leakscope, mode, out_dir, extra_args=()):
    port = free_port()
    cmd = redis_server_cmd(port) + list(extra_args)
    if mode != "bare":
        cmd = traced(leakscope, out_dir, cmd,
                     SAMPLED_INTERVAL if mode == "sampled" else None)
    log = open(os.path.join(out_dir, "server.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    wait_until(port_accepts(port), "redis-server (%s) listening on %d" % (mode, port),
               proc=proc)
    return proc, port


def redis_benchmark(port, requests, pipeline=1):
    """Requests per second of each test; fails on any error line."""
    bench = run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q",
                 "-n", str(requests), "-t", "set,get,lpush", "-P", str(pipeline)], timeout=120)
    if bench.returncode != 0 or "ERR" in bench.stdout or bench.stderr.strip():
        raise Failed("redis-benchmark exited %d\nstdout:\n%s\nstderr:\n%s"
                     % (bench.returncode, bench.stdout, bench.stderr))
    rps = {name: float(value) for name, value in _RPS.findall(bench.stdout)}
    if sorted(rps) != sorted(REDIS_TESTS):
        raise Failed("redis-benchmark: expected results for %s, got %s\n%s"
                     % (REDIS_TESTS, rps, bench.stdout))
    return rps


def redis_cli(port, *args):
    return run(["redis-cli", "-h", "127.0.0.1", "-p", str(port)] + list(args), timeout=30)


def shutdown_redis(proc, port):
    """`redis-cli shutdown nosave` (it prints nothing when the server goes
    away), then the server's (or leakscope run's) exit status."""
    redis_cli(port, "shutdown", "nosave")
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failed("redis-server on %d still running 60 s after shutdown nosave" % port)


def bench_redis(leakscope, work_dir, requests=20000, repetitions=3, log=None, pipeline=1):
    """Each repetition starts a fresh server per mode (bare, sampled 64K,
    every allocation), runs the same redis-benchmark against it and shuts it
    down. Returns {mode: {test: [rps per repetition]}} and {mode: [reports]}
    (the reports of every traced run)."""
    rates = {mode: {t: [] for t in REDIS_TESTS} for mode in MODES}
    found = {mode: [] for mode in MODES}
    for rep in range(repetitions):
        for mode in MODES:
            out_dir = os.path.join(work_dir, "%s.%d" % (mode, rep))
            os.makedirs(out_dir)
            proc, port = start_redis(leakscope, mode, out_dir)
            try:
                rps = redis_benchmark(port, requests, pipeline)
                keys = redis_cli(port, "dbsize").stdout.strip()
                length = redis_cli(port, "llen", "mylist").stdout.strip()
            except BaseException:
                stop(proc, signal.SIGKILL)
                raise
            status = shutdown_redis(proc, port)
            if status != 0:
                raise Failed("%s server exited %d:\n%s" % (mode, status, open(
                    os.path.join(out_dir, "server.log")).read()))
            # The same work was done in every mode: one list of `requests`
            # elements and the SET key.
            if (keys, length) != ("2", str(requests)):
                raise Failed("%s: dbsize %s, llen mylist %s; expected 2, %d"
                             % (mode, keys, length, requests))
            for t in REDIS_TESTS:
                rates[mode][t].append(rps[t])
            if mode != "bare":
                found[mode].append(reports(leakscope, out_dir))
            if log:
                log("rep %d %-7s %s" % (rep + 1, mode, "  ".join(
                    "%s %.0f" % (t, rps[t]) for t in REDIS_TESTS)))
    return rates, found


def ratios(rates):
    """Median throughput of each mode over the bare server's, per test and
    over all tests (median of the per-repetition sums)."""
    def total(mode):
        reps = len(rates[mode][REDIS_TESTS[0]])
        return statistics.median(
            sum(rates[mode][t][i] for t in REDIS_TESTS) / len(REDIS_TESTS) for i in range(reps))
    result = {}
    for mode in MODES:
        row = {t: statistics.median(rates[mode][t]) for t in REDIS_TESTS}
        row["mean of tests"] = total(mode)
        result[mode] = row
    return {mode: {k: (v, result["bare"][k] / v) for k, v in result[mode].items()}
            for mode in MODES}
