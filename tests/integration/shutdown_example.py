#!/usr/bin/env python3
"""integration/shutdown/<how>: examples/shutdown_cache ended each way, under
`leakscope run`. Exiting (return from main, exit() from another thread), the
report's "Held until shutdown" is exactly the expected cache site and the
leaks are exactly the true leak; `check` passes within the leak's budget and
fails with --include-shutdown. Tearing nothing down (_exit, quick_exit), the
report has no such section and the cache is a leak."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from expected import Expected, marker_line
from leakscope_report import only_report, read_json_report, traced_environment


def run(leakscope, example, how, out_dir):
    done = subprocess.run([leakscope, "run", "-o", out_dir, "--", example, how],
                          env=traced_environment({}), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError("leakscope run exited %d\n%s" % (done.returncode, done.stderr))
    return only_report(example, out_dir, done.stderr)


def leakscope_output(leakscope, *args):
    done = subprocess.run([leakscope] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def expected_held(expected_path, source):

    with open(expected_path) as f:
        entries = json.load(f)["held_until_shutdown"]
    return [dict(e, line=marker_line(source, e["marker"])) for e in entries]


def check_held(report, held, errors):
    section = report.get("held_until_shutdown")
    if section is None:
        errors.append("no held_until_shutdown in the JSON report")
        return
    rows = section["by_site"]
    got = [(r["call_site"]["function"], os.path.basename(r["call_site"]["file"]),
            r["call_site"]["line"], r["bytes"], r["allocations"]) for r in rows]
    want = [(e["function"], e["file"], e["line"], e["bytes"], e["allocations"]) for e in held]
    if got != want:
        errors.append("held until shutdown: got %s, expected %s" % (got, want))
    total = (section["bytes"], section["allocations"])
    want_total = (sum(e["bytes"] for e in held), sum(e["allocations"] for e in held))
    if total != want_total:
        errors.append("held until shutdown totals %s, expected %s" % (total, want_total))


def check(args, how, out_dir):
    errors = []
    expected = Expected(args.expected, args.source)
    held = expected_held(args.expected, args.source)
    leaked = sum(s.live_bytes for s in expected.sites)
    path = run(args.leakscope, args.example, how, out_dir)
    report = read_json_report(args.leakscope, path)
    process = report["process"]
    want_how = {"return": "return from main", "thread-exit": "exit"}.get(how, how)
    if (process["end"], process.get("exit_status"), process.get("how")) != ("exited", 0, want_how):
        errors.append("process: %s, expected exited 0 by %s" % (process, want_how))
    code, text = leakscope_output(args.leakscope, "report", path)
    budget = "--max-leaked=%d" % leaked
    if how in ("return", "thread-exit"):
        check_held(report, held, errors)
        if report["leaks"]["live_bytes"] != leaked:
            errors.append("leaks: %d B, expected %d" % (report["leaks"]["live_bytes"], leaked))
        if "Held until shutdown (1 of 1 site): 103.1 KiB in 100 allocations" not in text:
            errors.append("text report without the section:\n" + text)
        code, out = leakscope_output(args.leakscope, "check", path, "--max-leaked", str(leaked))
        if code != 0:
            errors.append("check %s exited %d, expected 0:\n%s" % (budget, code, out))
        code, out = leakscope_output(args.leakscope, "check", path, "--max-leaked", str(leaked),
                                     "--include-shutdown")
        if code != 1 or held[0]["function"] not in out:
            errors.append("check %s --include-shutdown exited %d, expected 1 naming %s:\n%s"
                          % (budget, code, held[0]["function"], out))
    else:
        if "held_until_shutdown" in report:
            errors.append("%s tears nothing down, yet: %s" % (how, report["held_until_shutdown"]))
        cache = sum(e["bytes"] for e in held)
        if report["leaks"]["live_bytes"] != leaked + cache:
            errors.append("leaks: %d B, expected %d (the cache is never freed)"
                          % (report["leaks"]["live_bytes"], leaked + cache))
        if "Held until shutdown" in text:
            errors.append("text report has the section:\n" + text)
        code, out = leakscope_output(args.leakscope, "check", path, "--max-leaked",
                                     str(leaked + cache), "--include-shutdown")
        if code != 0:
            errors.append("check --include-shutdown exited %d, expected 0:\n%s" % (code, out))
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leakscope", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--how", required=True,
                        choices=["return", "thread-exit", "_exit", "quick_exit"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="leakscope-shutdown-") as out_dir:
        errors = check(args, args.how, out_dir)
    for error in errors:
        print("FAIL: " + error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
