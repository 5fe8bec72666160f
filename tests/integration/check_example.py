#!/usr/bin/env python3
"""integration/<example>: runs an example under `leakscope run` (or, with
--leakscoped and --shim, under the daemon with the shim preloaded) and checks
its report against examples/<example>.expected.json: exactly the expected live
bytes and allocations at each marked line, no other live site in the example's
source, and no live memory anywhere else but the runtime internals the example
may show."""

import argparse
import os
import sys
import tempfile

from classify import classify
from expected import Expected
from leakscope_report import daemon_and_report, run_and_report
from sites import describe


def check_process(report, errors):
    """Under the daemon too, the shim reports the status main returned."""
    process = report["process"]
    if (process["end"], process.get("exit_status")) != ("exited", 0):
        errors.append("process did not exit with status 0: %s" % process)
    if report["sampling_interval_bytes"] != 1:
        errors.append("sampling interval %d, expected 1 (every allocation)"
                      % report["sampling_interval_bytes"])
    if report["dropped_events"] != 0:
        errors.append("%d events dropped despite LEAKSCOPE_LOSSLESS=1" % report["dropped_events"])


def check_totals(report, errors):
    totals = report["totals"]
    for field in ("live_bytes", "live_allocations"):
        summed = sum(site[field] for site in report["sites"])
        if summed != totals[field]:
            errors.append("sites add up to %s=%d, totals say %d" % (field, summed, totals[field]))


def check_sites(classified, expected, errors):
    want = expected.by_key()
    live_keys = classified.live_keys()
    for key in sorted(live_keys - set(want)):
        t = classified.by_key[key]
        errors.append("unexpected live site %s:%d %s: %d B in %d allocations"
                      % (key[1], key[2], key[0], t.live_bytes, t.live_allocations))
    for key, site in sorted(want.items()):
        got = classified.by_key.get(key)
        if got is None:
            found = ", ".join("%s:%d %s" % (k[1], k[2], k[0]) for k in sorted(live_keys))
            errors.append("no site at %s:%d %s (%s); live sites in %s: %s"
                          % (key[1], key[2], key[0], site.marker, expected.source, found or "none"))
            continue
        for field in ("live_bytes", "live_allocations", "allocations"):
            if getattr(got, field) != getattr(site, field):
                errors.append("%s (%s): %s is %d, expected %d"
                              % (key[0], site.marker, field, getattr(got, field),
                                 getattr(site, field)))
        if site.direct and not got.direct:
            errors.append("%s (%s): frames other than the allocator's come before it"
                          % (key[0], site.marker))


def check(report, expected, example_module):
    errors = []
    check_process(report, errors)
    check_totals(report, errors)
    classified = classify(report["sites"], expected.source, example_module,
                          expected.runtime_internals)
    check_sites(classified, expected, errors)
    for site in classified.unexplained:
        errors.append("unexplained live site: %d B in %d allocations\n%s"
                      % (site["live_bytes"], site["live_allocations"], describe(site["frames"])))
    return errors, classified


def print_summary(classified, report_path):
    print("report: %s" % report_path)
    for key, t in sorted(classified.by_key.items()):
        if t.live_bytes or t.live_allocations:
            print("  %s:%d %s: %d B live in %d of %d allocations (%d stacks)"
                  % (key[1], key[2], key[0], t.live_bytes, t.live_allocations, t.allocations,
                     t.stacks))
    for name, site in classified.internals:
        print("  runtime internal %s: %d B in %d allocations"
              % (name, site["live_bytes"], site["live_allocations"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leakscope", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--leakscoped", help="trace through this daemon instead of leakscope run")
    parser.add_argument("--shim", help="libleakscope.so, preloaded by hand with --leakscoped")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the traced example")
    args = parser.parse_args()
    expected = Expected(args.expected, args.source)
    extra_env = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory(prefix="leakscope-it-") as out_dir:
        if args.leakscoped:
            report, path = daemon_and_report(args.leakscope, args.leakscoped, args.shim,
                                             args.example, out_dir, extra_env)
        else:
            report, path = run_and_report(args.leakscope, args.example, out_dir, extra_env)
        errors, classified = check(report, expected, os.path.basename(args.example))
        print_summary(classified, path)
    for error in errors:
        print("FAIL: " + error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
