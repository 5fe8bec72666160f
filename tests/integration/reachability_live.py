#!/usr/bin/env python3
"""integration/reachability/live-<mode>: examples/reachability_service under
leakscoped and the shim, scanned while it runs (issue #16).

Modes:
  asked        the daemon's default (no --reachability): `leakscope snapshot
               --reachability PID` scans anyway and prints the pause.
  daemon-cli   `leakscoped --reachability on`: a plain `leakscope snapshot PID`
               scans.
  daemon-usr1  `leakscoped --reachability on`: SIGUSR1 to the daemon scans.
  denied       the daemon lacks CAP_SYS_PTRACE and the service is not dumpable:
               ptrace is refused, said in one line, and the snapshot holds
               survivors only.
  sampled      the service samples (the shim's default interval): it cannot be
               scanned (a block held only by an unrecorded one would look
               lost), said in one line; the snapshot holds survivors only.
  fresh        as asked, but the shim's drain passes every 100 ms (the
               longest LEAKSCOPE_FLUSH_MS), and the service makes a block held
               by a global and frees an older one just before the scan
               ("churn"): the scan catches the live table up with the process
               first, so the new block is reachable and the freed one absent.
               Before, neither event had reached the collector when it scanned
               (the scan follows "churned" by well under 100 ms: the failure
               it showed was 20 runs in 20).
  budget       leakscoped --max-memory 4M: the stream fits, the scan's memory
               (at least 8 MiB: its mark phase's batch and chunk cache) does
               not; refused in one line, the snapshot holds survivors only.

Every mode then checks that the service runs on: it answers, its later
allocations are recorded (a second snapshot), and it exits 0."""

import argparse
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile

from leakscope_report import read_json_report, read_line_containing, traced_environment

VERDICTS = ("definitely_lost", "indirectly_lost", "possibly_lost", "reachable")
NONE = {v: [0, 0] for v in VERDICTS}
# Beside the code in examples/reachability_service.cc: [bytes, blocks].
EXPECTED = {
    "LoseBuffer": dict(NONE, definitely_lost=[25600, 100]),
    "NewListNode": dict(NONE, definitely_lost=[48, 1], indirectly_lost=[96, 2]),
    "CacheEntry": dict(NONE, reachable=[3200, 50]),
    "WorkerScratch": dict(NONE, reachable=[128, 1]),
    "OldBlock": dict(NONE, reachable=[40, 1]),
    "FreshBlock": NONE,
}
# After "churn": OldBlock freed, FreshBlock held by a global.
CHURNED = dict(EXPECTED, OldBlock=NONE, FreshBlock=dict(NONE, reachable=[24, 1]))
SCANNED = ("asked", "daemon-cli", "daemon-usr1", "fresh")


class Failed(Exception):
    pass


def call_site(site):
    """The call site's function name alone: "LoseBuffer" for
    "(anonymous namespace)::LoseBuffer()"."""
    if "call_site_frame" not in site:
        return None
    name = site["frames"][site["call_site_frame"]]["function"]
    prefix = "(anonymous namespace)::"
    return (name[len(prefix):] if name.startswith(prefix) else name).split("(")[0]


def verdicts(report, function):
    got = {v: [0, 0] for v in VERDICTS}
    for s in report["sites"]:
        if call_site(s) == function:
            for v in VERDICTS:
                got[v][0] += s.get(v + "_bytes", 0)
                got[v][1] += s.get(v + "_allocations", 0)
    return got


def live(report, function):
    sites = [s for s in report["sites"] if call_site(s) == function]
    return [sum(s["live_bytes"] for s in sites), sum(s["live_allocations"] for s in sites)]


def read_line(stream, deadline_s=60):
    """One line of the service's stdout (read a byte at a time from the
    descriptor, so nothing waits in a buffer select cannot see), or Failed."""
    line = b""
    while not line.endswith(b"\n"):
        ready, _, _ = select.select([stream.fileno()], [], [], deadline_s)
        byte = os.read(stream.fileno(), 1) if ready else b""
        if not byte:
            raise Failed("the service said nothing more (%r so far)" % line)
        line += byte
    return line.decode().rstrip("\n")


def next_snapshot(daemon_stderr, log):
    """The path of the next snapshot the daemon says it wrote."""
    line = read_line_containing(daemon_stderr, "leakscoped: snapshot /", log)
    return line.split("leakscoped: snapshot ", 1)[1].rstrip("\n")


def check_verdicts(report, errors, expected):
    for function, want in expected.items():
        got = verdicts(report, function)
        for v in VERDICTS:
            if got[v] != want[v]:
                errors.append("%s %s: got %s, expected %s" % (function, v, got[v], want[v]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--leakscope", required=True)
    parser.add_argument("--leakscoped", required=True)
    parser.add_argument("--shim", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--mode", required=True,
                        choices=SCANNED + ("denied", "sampled", "budget"))
    args = parser.parse_args()
    errors = []
    with tempfile.TemporaryDirectory() as out_dir:
        sock = os.path.join(out_dir, "collector.sock")
        daemon_cmd = [args.leakscoped, "--socket", sock, "--output", out_dir]
        if args.mode in ("daemon-cli", "daemon-usr1"):
            daemon_cmd += ["--reachability", "on"]
        if args.mode == "budget":
            daemon_cmd += ["--max-memory", "4M"]
        if args.mode == "denied":
            # Root without CAP_SYS_PTRACE may not trace a process that is not dumpable.
            daemon_cmd = ["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace",
                          "--"] + daemon_cmd
        daemon = subprocess.Popen(daemon_cmd, stderr=subprocess.PIPE, universal_newlines=True)
        log = []
        service = None
        try:
            read_line_containing(daemon.stderr, "listening on", log)
            env = traced_environment({"LD_PRELOAD": args.shim, "LEAKSCOPE_SOCKET": sock,
                                      "LEAKSCOPE_SAMPLE_INTERVAL": "1",
                                      "LEAKSCOPE_REACHABILITY": "1"})
            if args.mode == "sampled":
                del env["LEAKSCOPE_SAMPLE_INTERVAL"]
            if args.mode == "fresh":
                env["LEAKSCOPE_FLUSH_MS"] = "100"  # the longest the shim takes
            cmd = [args.example] + (["--not-dumpable"] if args.mode == "denied" else [])
            service = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, universal_newlines=True)
            pid = int(read_line(service.stdout).split()[1])
            if read_line(service.stdout) != "ready":
                raise Failed("the service did not say ready")
            if args.mode == "fresh":
                service.stdin.write("churn\n")
                service.stdin.flush()
                if read_line(service.stdout) != "churned":
                    raise Failed("the service did not say churned")
            snap_cmd = [args.leakscope, "snapshot", "--socket", sock]
            if args.mode == "daemon-usr1":
                daemon.send_signal(signal.SIGUSR1)
                path = next_snapshot(daemon.stderr, log)
            else:
                if args.mode in ("asked", "denied", "sampled", "fresh", "budget"):
                    snap_cmd.append("--reachability")
                done = subprocess.run(snap_cmd + [str(pid)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, universal_newlines=True,
                                      timeout=120)
                if done.returncode != 0:
                    raise Failed("leakscope snapshot exited %d: %s"
                                 % (done.returncode, done.stderr))
                lines = done.stdout.splitlines()
                path = lines[0]
                if args.mode in ("asked", "fresh"):
                    pause = "reachability: pid %d paused " % pid
                    if len(lines) != 2 or not lines[1].startswith(pause) \
                            or not lines[1].endswith(" ms (3 threads stopped)") or done.stderr:
                        errors.append("snapshot output %r, stderr %r" % (lines, done.stderr))
                want = None
                if args.mode == "denied":
                    want = ("leakscope snapshot: reachability: pid %d cannot be stopped (ptrace "
                            "not permitted: yama ptrace_scope, a container without "
                            "CAP_SYS_PTRACE, or another user's process): survivors only\n" % pid)
                if args.mode == "sampled":
                    want = ("leakscope snapshot: reachability: needs every allocation recorded "
                            "(LEAKSCOPE_SAMPLE_INTERVAL=1), and this process samples: survivors "
                            "only\n")
                if args.mode == "budget":
                    # The stream's own memory is the collector's business: its MiB are not asserted.
                    want = re.sub(r"\(\d+ MiB of", "(N MiB of", done.stderr)
                    if want != ("leakscope snapshot: reachability: the scan would take up to 9 MiB "
                                "more, over the memory budget (N MiB of 4 MiB in use by all "
                                "streams; --max-memory): survivors only\n"):
                        errors.append("budget: stderr %r" % done.stderr)
                    want = done.stderr
                if want is not None and (done.stderr != want or len(lines) != 1):
                    errors.append("%s: stdout %r, stderr %r, expected stderr %r"
                                  % (args.mode, lines, done.stderr, want))
            report = read_json_report(args.leakscope, path)
            scan = report.get("reachability", {})
            if args.mode == "denied":
                if scan.get("scanned") or "ptrace not permitted" not in scan.get("error", ""):
                    errors.append("denied: reachability %s" % scan)
                for function in EXPECTED:
                    if any(verdicts(report, function)[v] != [0, 0] for v in VERDICTS):
                        errors.append("denied: %s has verdicts" % function)
                if live(report, "LoseBuffer") != [25600, 100]:
                    errors.append("denied: survivors %s" % live(report, "LoseBuffer"))
            elif args.mode == "sampled":
                if scan.get("scanned") or "this process samples" not in scan.get("error", ""):
                    errors.append("sampled: reachability %s" % scan)
            elif args.mode == "budget":
                if scan.get("scanned") or "--max-memory" not in scan.get("error", ""):
                    errors.append("budget: reachability %s" % scan)
            else:
                if not scan.get("scanned") or scan.get("at_exit"):
                    errors.append("no scan while running: %s" % scan)
                if not scan.get("pause_ns", 0) > 0 or scan.get("threads") != 3:
                    errors.append("pause not stated: %s" % scan)
                if "table_behind_ms" in scan:
                    errors.append("the scan did not catch up: %s" % scan)
                check_verdicts(report, errors, CHURNED if args.mode == "fresh" else EXPECTED)
                if args.mode == "fresh" and live(report, "OldBlock") != [0, 0]:
                    errors.append("the freed block is live: %s" % live(report, "OldBlock"))
                text = subprocess.run([args.leakscope, "report", path], stdout=subprocess.PIPE,
                                      universal_newlines=True, timeout=120).stdout
                if "Reachability (while running, process stopped " not in text:
                    errors.append("the text report does not state the pause:\n%s" % text[:2000])
            # It runs on: answers, its new blocks are recorded, it exits 0.
            service.stdin.write("ping\n")
            service.stdin.flush()
            if read_line(service.stdout) != "pong":
                errors.append("no pong after the scan")
            service.stdin.write("alloc 10\n")
            service.stdin.flush()
            if read_line(service.stdout) != "allocated 10":
                errors.append("no answer to alloc after the scan")
            done = subprocess.run([args.leakscope, "snapshot", "--socket", sock, str(pid)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  universal_newlines=True, timeout=120)
            later = read_json_report(args.leakscope, done.stdout.splitlines()[0])
            if args.mode != "sampled":  # sampled figures are estimates
                if live(later, "LaterBlock") != [320, 10]:
                    errors.append("later blocks: got %s, expected [320, 10]"
                                  % live(later, "LaterBlock"))
                if live(later, "LoseBuffer") != [25600, 100]:
                    errors.append("lost blocks after: %s" % live(later, "LoseBuffer"))
            service.stdin.close()
            if service.wait(timeout=60) != 0:
                errors.append("the service exited %d" % service.returncode)
            service = None
        except Failed as e:
            errors.append(str(e))
        finally:
            if service is not None:
                service.kill()
                service.wait()
            daemon.terminate()
            daemon.wait(timeout=60)
            log.extend(daemon.stderr.readlines())
    for e in errors:
        print(e)
    if errors:
        print("daemon log:\n" + "".join(log))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
