"""PostgreSQL 15 (Debian's): a cluster made once by initdb, then a postgres
server on a private socket folder, bare and under `leakscope run` (every
allocation), each on its own copy of the cluster, as a user that is not root
(postgres refuses root: the leakscope-test user of scripts/install-deps.sh
when the test runs as root). Against each: `pgbench -i` (scale 1) and
`pgbench -c 2 -t 50 --random-seed=7`, then psql reads the balances back;
SIGINT to the postmaster (fast shutdown).

Same exit codes, same pgbench report (less its timings) and the same table
contents traced as bare. The reports: the postmaster (not forked, exited 0)
and, forked from it, every backend that took a connection (from the server
log), the checkpointer, background writer, walwriter, autovacuum launcher
and logical replication launcher (from pg_stat_activity), each exactly one
report (one stream from fork to exit), exited 0 (the logical replication
launcher 1, as postgres stops it), nothing dropped; the postmaster's own
sites pass through PostmasterMain, each backend's through PostgresMain."""

import argparse
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

PGBIN = "/usr/lib/postgresql/15/bin"
CLIENTS, TRANSACTIONS = 2, 50
SUMS = ("select (select sum(abalance) from pgbench_accounts), (select count(*) from"
        " pgbench_history), (select sum(delta) from pgbench_history), (select sum(tbalance)"
        " from pgbench_tellers), (select sum(bbalance) from pgbench_branches)")
AUX = ("checkpointer", "background writer", "walwriter", "autovacuum launcher",
       "logical replication launcher")
# pgbench -i; pgbench's own (vacuum) and its clients'; the two psql.
BACKENDS = 1 + 1 + CLIENTS + 2
TIMINGS = ("latency", "tps", "connection time")


def server_user():
    """Who runs initdb and postgres: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        u = pwd.getpwnam("leakscope-test")
    except KeyError:
        raise realprog.Failed("no user leakscope-test to run postgres as: run "
                              "scripts/install-deps.sh")
    return {"user": u.pw_uid, "group": u.pw_gid, "extra_groups": []}


def give(path, user):
    if user:
        os.chown(path, user["user"], user["group"])


def run_server(cmd, cluster, sock, port, log_path, user):
    """Starts postgres (or `leakscope run` of it), runs the work and stops it
    with a fast shutdown. Returns what the clients saw, the server's backend
    types by pid, and the exit status of cmd."""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **user)
    log.close()
    conn = ["-h", sock, "-p", str(port), "-U", "bench"]
    pid_file = os.path.join(cluster, "postmaster.pid")
    try:
        realprog.wait_until(lambda: _ready(pid_file), "postgres ready", timeout=120, proc=proc)
        init = realprog.run(["pgbench"] + conn + ["-i", "-q", "postgres"], timeout=300)
        bench = realprog.run(["pgbench"] + conn + ["-c", str(CLIENTS), "-t", str(TRANSACTIONS),
                                                   "--random-seed=7", "postgres"], timeout=300)
        sums = realprog.run(["psql"] + conn + ["-At", "-c", SUMS, "postgres"], timeout=120)
        types = realprog.run(["psql"] + conn + [
            "-At", "-F", " ", "-c", "select pid, backend_type from pg_stat_activity",
            "postgres"], timeout=120)
        postmaster = int(open(pid_file).readline())
        os.kill(postmaster, signal.SIGINT)
        status = proc.wait(timeout=300)
    except BaseException:
        realprog.stop(proc, signal.SIGKILL)
        raise
    seen = {
        "init": (init.returncode, init.stdout),
        "bench": (bench.returncode, [line for line in bench.stdout.splitlines()
                                     if not any(t in line for t in TIMINGS)], bench.stderr),
        "sums": (sums.returncode, sums.stdout, sums.stderr),
    }
    backend_types = {}
    for line in types.stdout.splitlines():
        pid, kind = line.split(" ", 1)
        backend_types[int(pid)] = kind
    return seen, backend_types, postmaster, status


def _ready(pid_file):
    """postmaster.pid's 8th line says "ready" once connections are accepted."""
    try:
        with open(pid_file) as f:
            lines = f.read().split("\n")
    except OSError:
        return False
    return len(lines) > 7 and lines[7].strip() == "ready"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)
    for tool in ("pgbench", "psql", PGBIN + "/postgres"):
        if not shutil.which(tool):
            raise realprog.Failed("no %s: run scripts/install-deps.sh" % tool)
    user = server_user()

    with tempfile.TemporaryDirectory(prefix="leakscope-postgres.") as work:
        give(work, user)
        template = os.path.join(work, "template")
        init = realprog.run([PGBIN + "/initdb", "-D", template, "-A", "trust", "-U", "bench",
                             "-N", "--no-instructions"], timeout=300) if not user else \
            subprocess.run([PGBIN + "/initdb", "-D", template, "-A", "trust", "-U", "bench",
                            "-N", "--no-instructions"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, **user)
        if init.returncode != 0:
            raise realprog.Failed("initdb exited %d: %s" % (init.returncode, init.stdout))
        results = {}
        for mode in ("bare", "traced"):
            cluster = os.path.join(work, mode)
            subprocess.run(["cp", "-a", template, cluster], check=True)
            sock = os.path.join(work, mode + ".sock")
            out_dir = os.path.join(work, mode + ".reports")
            for d in (sock, out_dir):
                os.makedirs(d)
                give(d, user)
            port = realprog.free_port()
            cmd = [PGBIN + "/postgres", "-D", cluster, "-k", sock, "-p", str(port),
                   "-c", "listen_addresses=", "-c", "fsync=off", "-c", "log_connections=on",
                   "-c", "log_line_prefix=%p "]
            if mode == "traced":
                cmd = realprog.traced(leakscope, out_dir, cmd)
            results[mode] = run_server(cmd, cluster, sock, port,
                                       os.path.join(work, mode + ".log"), user)
        (bare, _, _, bare_status), (traced, types, postmaster, status) = \
            results["bare"], results["traced"]
        if (bare_status, status) != (0, 0) or bare != traced:
            raise realprog.Failed("differs: exit bare %d, traced %d\nbare:   %r\ntraced: %r"
                                  % (bare_status, status, bare, traced))
        if bare["init"][0] or bare["bench"][0] or bare["sums"][0] or \
                "number of transactions actually processed: %d/%d" % (
                    CLIENTS * TRANSACTIONS, CLIENTS * TRANSACTIONS) not in bare["bench"][1]:
            raise realprog.Failed("pgbench failed: %r" % (bare,))
        print("pgbench and psql alike bare and traced: %s" % bare["sums"][1].strip())

        log = open(os.path.join(work, "traced.log")).read()
        backends = {int(p) for p in re.findall(r"^(\d+) LOG:  connection authorized", log, re.M)}
        aux = {pid: kind for pid, kind in types.items() if kind in AUX}
        found = realprog.reports(leakscope, os.path.join(work, "traced.reports"))
        by_pid = {}
        for r in found:
            by_pid.setdefault(r["process"]["pid"], []).append(r)
        print("%d reports; backends %s; %s" % (len(found), sorted(backends), aux))
        if sorted(aux.values()) != sorted(AUX) or len(backends) != BACKENDS:
            raise realprog.Failed("server processes: backends %s, others %s" % (backends, types))
        wanted = {postmaster} | backends | set(aux)
        if not wanted <= set(by_pid) or any(len(rs) != 1 for rs in by_pid.values()):
            raise realprog.Failed("expected one report for each of %s, got %s" % (
                sorted(wanted), [realprog.describe(r) for r in found]))
        for pid, (r,) in by_pid.items():
            p = r["process"]
            expected_status = 1 if aux.get(pid) == "logical replication launcher" else 0
            parent = (False, None) if pid == postmaster else (True, postmaster)
            if (p["end"], p.get("exit_status"), r["dropped_events"], r["reentrant_events"]) != (
                    "exited", expected_status, 0, 0) or p["exe"] != PGBIN + "/postgres" or \
                    (p["forked"], None if pid == postmaster else p["ppid"]) != parent:
                raise realprog.Failed("%s: dropped %d, lost %d" % (
                    realprog.describe(r), r["dropped_events"], r["reentrant_events"]))
            main_loop = "PostmasterMain" if pid == postmaster else "PostgresMain"
            own = [s for s in r["sites"] if s["allocations"] > 0]
            if pid == postmaster or pid in backends:
                if not any(f["function"] == main_loop for s in own for f in s["frames"]):
                    raise realprog.Failed("%s: no site of its own through %s"
                                          % (realprog.describe(r), main_loop))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
