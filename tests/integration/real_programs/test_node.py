"""Node.js running a standard script with worker threads (workers.js) under
`leakscope run`, every allocation recorded: its output is byte for byte the
bare run's, it exits the same (3), and the report is whole (one process,
nothing dropped, exit status 3)."""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

SCRIPT = os.path.join(realprog.HERE, "workers.js")
WORKERS = 4  # as in workers.js
EXIT_CODE = 3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)
    node = shutil.which("node")
    if not node:
        raise realprog.Failed("no node: run scripts/install-deps.sh")

    with tempfile.TemporaryDirectory(prefix="leakscope-node.") as work:
        cmd = [node, SCRIPT]
        bare = realprog.run(cmd, timeout=120)
        traced = realprog.run(realprog.traced(leakscope, work, cmd), timeout=120)
        if bare.returncode != EXIT_CODE or traced.returncode != EXIT_CODE:
            raise realprog.Failed("bare exited %d, traced %d (expected %d): %s"
                                  % (bare.returncode, traced.returncode, EXIT_CODE,
                                     traced.stderr))
        if traced.stdout != bare.stdout or bare.stderr or \
                len(bare.stdout.splitlines()) != WORKERS:
            raise realprog.Failed("output differs:\nbare:\n%s%s\ntraced:\n%s"
                                  % (bare.stdout, bare.stderr, traced.stdout))
        found = realprog.reports(leakscope, work)
        if len(found) != 1:
            raise realprog.Failed("expected one report: %s" % [realprog.describe(r) for r in found])
        report = found[0]
        p = report["process"]
        print("traced: %s, %d sites" % (realprog.describe(report), len(report["sites"])))
        if (p["end"], p.get("exit_status"), report["dropped_events"]) != ("exited", EXIT_CODE, 0):
            raise realprog.Failed("process %s, dropped %d" % (p, report["dropped_events"]))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
