"""A collector that reads nothing for seconds (busy writing another process's
report: 9 s for a pgbench backend on a loaded machine) must not cut the
stream of a process that allocates a little all the time. It used to: the
shim sent a small frame every flush interval, each taking ~1 KiB of the
socket's send buffer, so after ~2 s the buffer was full, a send timed out
(SO_SNDTIMEO, 2 s) and the shim dropped the stream and its events; the
process got a second report, both incomplete.

The program (python3) allocates a 600 B bytes object every millisecond until
its stdin says stop. `leakscope run` (the collector) is stopped with SIGSTOP
for STALL seconds (the stall is the condition under test, not a wait for
something), then continued. Expected: one report, exited 0, nothing
dropped."""

import argparse
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "real_programs"))
import realprog  # noqa: E402

STALL = 8
PROGRAM = r"""
import os, select, sys, time
print("allocating", flush=True)
n = 0
while not select.select([sys.stdin], [], [], 0)[0]:
    keep = bytes(600)
    n += 1
    time.sleep(0.001)
print("stopped", flush=True)
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)
    with tempfile.TemporaryDirectory(prefix="leakscope-stall.") as work:
        proc = subprocess.Popen(realprog.traced(leakscope, work, [realprog.PYTHON, "-c", PROGRAM]),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True)
        try:
            if proc.stdout.readline() != "allocating\n":
                raise realprog.Failed("the program did not start")
            proc.send_signal(signal.SIGSTOP)
            try:
                proc.wait(timeout=STALL)
            except subprocess.TimeoutExpired:
                pass
            proc.send_signal(signal.SIGCONT)
            out, err = proc.communicate("stop\n", timeout=120)
        except BaseException:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0 or out != "stopped\n":
            raise realprog.Failed("exited %d, stdout %r, stderr %s" % (proc.returncode, out, err))
        found = realprog.reports(leakscope, work)
        print("\n".join("%s dropped %d" % (realprog.describe(r), r["dropped_events"])
                        for r in found))
        if len(found) != 1:
            raise realprog.Failed("expected one report, got %d" % len(found))
        p = found[0]["process"]
        if (p["end"], p.get("exit_status"), found[0]["dropped_events"]) != ("exited", 0, 0):
            raise realprog.Failed("%s, dropped %d" % (realprog.describe(found[0]),
                                                     found[0]["dropped_events"]))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
