#!/usr/bin/env python3
"""integration/reachability/<case>: examples/reachability_cases CASE under
`leakscope run --reachability`. The report's reachability scan ran at exit,
and each function of the case has exactly the expected bytes and blocks per
verdict (examples/reachability_cases.expected.json)."""

import argparse
import json
import subprocess
import sys
import tempfile

from leakscope_report import only_report, read_json_report, traced_environment

VERDICTS = ("definitely_lost", "indirectly_lost", "possibly_lost", "reachable")


def figures(sites, function):
    got = {v: [0, 0] for v in VERDICTS}
    for s in sites:
        call = s["frames"][s["call_site_frame"]] if "call_site_frame" in s else None
        if call is None or call["function"] != function:
            continue
        for v in VERDICTS:
            got[v][0] += s[v + "_bytes"]
            got[v][1] += s[v + "_allocations"]
    return got


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--leakscope", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--case", required=True)
    args = parser.parse_args()
    with open(args.expected) as f:
        expected = json.load(f)["cases"][args.case]
    errors = []
    with tempfile.TemporaryDirectory() as out_dir:
        done = subprocess.run(
            [args.leakscope, "run", "--reachability", "-o", out_dir, "--", args.example, args.case],
            env=traced_environment({}), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=300)
        if done.returncode != 0:
            print("leakscope run exited %d\n%s" % (done.returncode, done.stderr))
            return 1
        report = read_json_report(args.leakscope, only_report(args.example, out_dir, done.stderr))
    scan = report.get("reachability", {})
    if not scan.get("scanned") or not scan.get("at_exit"):
        errors.append("no scan at exit: %s" % scan)
    for want in expected:
        got = figures(report["sites"], want["function"])
        for v in VERDICTS:
            if got[v] != want[v]:
                errors.append("%s %s: got %s, expected %s" % (want["function"], v, got[v], want[v]))
    for e in errors:
        print(e)
    if errors:
        print(json.dumps(report["sites"], indent=1)[:6000])
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
