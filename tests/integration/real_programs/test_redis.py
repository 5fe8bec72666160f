"""redis-server (Debian's, unmodified) bare, sampled (--sample-interval 65536)
and tracing every allocation, driven by redis-benchmark on loopback: the same
work is done without errors, each traced server writes exactly one report
(with --save '' redis forks nothing), which says how it ended; a SIGTERM'd
server says so too (and its BGSAVE child has its own report, forked from the
server), and a SIGKILL'd one. Prints the throughput ratios (scripts/bench-redis is the
benchmark proper)."""

import argparse
import os
import re
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402


def check_one_report(found, pid_expected=None, interval=1):
    if len(found) != 1:
        raise realprog.Failed("expected one report, got %s"
                              % [realprog.describe(r) for r in found])
    report = found[0]
    p = report["process"]
    # Debian's redis-server is a symlink to redis-check-rdb: the report is
    # named after the executable image.
    if p["exe"] != "/usr/bin/redis-check-rdb" or p["argv"][0] != "redis-server":
        raise realprog.Failed("unexpected process %s" % p)
    if (p["end"], p.get("exit_status"), p["forked"]) != ("exited", 0, False):
        raise realprog.Failed("expected exited/0, not forked: %s" % realprog.describe(report))
    if report["sampling_interval_bytes"] != interval or report["dropped_events"] != 0:
        raise realprog.Failed("sampling %s dropped %s" % (report["sampling_interval_bytes"],
                                                          report["dropped_events"]))
    t = report["totals"]
    if t["allocations"] <= 0 or t["live_bytes"] <= 0 or t["peak_live_bytes"] < t["live_bytes"]:
        raise realprog.Failed("implausible totals %s" % t)
    # Every redis allocation goes through zmalloc & co. (zmalloc.c), onto
    # Debian's libjemalloc underneath the shim.
    zsites = [s for s in report["sites"]
              if any(f["function"].startswith(("zmalloc", "zcalloc", "zrealloc", "ztrymalloc"))
                     for f in s["frames"])]
    if not zsites:
        raise realprog.Failed("no site through zmalloc in %s" % report["path"])
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--repetitions", type=int, default=2)
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)

    with tempfile.TemporaryDirectory(prefix="leakscope-redis.") as work:
        rates, found = realprog.bench_redis(leakscope, work, args.requests, args.repetitions,
                                            log=print)
        for mode, runs in found.items():
            for run_reports in runs:
                report = check_one_report(
                    run_reports, interval=realprog.SAMPLED_INTERVAL if mode == "sampled" else 1)
                if mode == "every":
                    # Every allocation recorded: the LPUSH tests alone made
                    # `requests` list entries, all of them allocations.
                    t = report["totals"]
                    if t["allocations"] < 3 * args.requests:
                        raise realprog.Failed("every allocation: only %d allocations"
                                              % t["allocations"])
        for mode, row in realprog.ratios(rates).items():
            print("%-7s " % mode + "  ".join("%s %.0f rps (x%.2f)" % (k, v, r)
                                               for k, (v, r) in row.items()))

        # BGSAVE forks a child that writes the dump and exits; then SIGTERM
        # to `leakscope run` is passed on: redis shuts down cleanly.
        out_dir = os.path.join(work, "sigterm")
        os.makedirs(out_dir)
        proc, port = realprog.start_redis(leakscope, "every", out_dir, ["--dir", out_dir])
        if realprog.redis_cli(port, "set", "k", "v").stdout.strip() != "OK":
            raise realprog.Failed("set k v failed")
        info = realprog.redis_cli(port, "info", "server").stdout
        server_pid = int(re.search(r"^process_id:(\d+)", info, re.M).group(1))
        if realprog.redis_cli(port, "bgsave").stdout.strip() != "Background saving started":
            raise realprog.Failed("bgsave refused")
        realprog.wait_until(lambda: "rdb_bgsave_in_progress:0" in realprog.redis_cli(
            port, "info", "persistence").stdout, "bgsave done", proc=proc)
        if "rdb_last_bgsave_status:ok" not in realprog.redis_cli(
                port, "info", "persistence").stdout:
            raise realprog.Failed("bgsave failed")
        status = realprog.stop(proc, signal.SIGTERM)
        log = open(os.path.join(out_dir, "server.log")).read()
        if status != 0 or "Received SIGTERM scheduling shutdown" not in log:
            raise realprog.Failed("leakscope run exited %d after SIGTERM\n%s" % (status, log))
        child_pid = int(re.search(r"Background saving started by pid (\d+)", log).group(1))
        found = realprog.reports(leakscope, out_dir)
        server = [r for r in found if r["process"]["pid"] == server_pid]
        child = [r for r in found if r["process"]["pid"] == child_pid]
        check_one_report(server)
        if len(found) != 2 or len(child) != 1 or os.path.basename(child[0]["path"]) != \
                "redis-check-rdb.%d.lsr" % child_pid:
            raise realprog.Failed("after BGSAVE: %s" % [realprog.describe(r) for r in found])
        c = child[0]["process"]
        if (c["ppid"], c["forked"], c["end"], c.get("exit_status")) != (
                server_pid, True, "exited", 0) or child[0]["totals"]["allocations"] <= 0:
            raise realprog.Failed("BGSAVE child: %s %s" % (realprog.describe(child[0]),
                                                          child[0]["totals"]))

        # SIGKILL to the server itself: `leakscope run` exits 128+9 and the
        # report (written when the kernel closed the shim's socket) says so.
        out_dir = os.path.join(work, "sigkill")
        os.makedirs(out_dir)
        proc, port = realprog.start_redis(leakscope, "every", out_dir)
        info = realprog.redis_cli(port, "info", "server").stdout
        server_pid = int(re.search(r"^process_id:(\d+)", info, re.M).group(1))
        os.kill(server_pid, signal.SIGKILL)
        status = proc.wait(timeout=60)
        found = realprog.reports(leakscope, out_dir)
        if status != 128 + signal.SIGKILL or len(found) != 1:
            raise realprog.Failed("after SIGKILL: leakscope run exited %d, reports %s"
                                  % (status, [realprog.describe(r) for r in found]))
        p = found[0]["process"]
        if (p["pid"], p["end"], p.get("signal"), p.get("exit_status")) != (
                server_pid, "signaled", signal.SIGKILL, None):
            raise realprog.Failed("after SIGKILL: %s" % realprog.describe(found[0]))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
