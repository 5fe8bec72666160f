#!/usr/bin/env python3
"""integration/heaptrack/<example>: runs an example under leakscope and under
heaptrack and checks that both find the same leaks: per site (first frame in
the example's source), the same leaked bytes and the same number of allocation
calls, and that these are the expected ones. heaptrack prints no count of live
allocations; check_example.py covers those."""

import argparse
import os
import sys
import tempfile

import heaptrack_report
from classify import classify
from expected import Expected
from leakscope_report import run_and_report
from sites import describe


def classify_both(leakscope, example, expected):
    module = os.path.basename(example)
    with tempfile.TemporaryDirectory(prefix="leakscope-it-") as out_dir:
        report, _ = run_and_report(leakscope, example, out_dir)
        ours = classify(report["sites"], expected.source, module, expected.runtime_internals)
    with tempfile.TemporaryDirectory(prefix="leakscope-ht-") as out_dir:
        theirs = classify(heaptrack_report.leaks(example, out_dir), expected.source, module,
                          expected.runtime_internals)
    return ours, theirs


def compare(ours, theirs, expected):
    errors = []
    want = expected.by_key()
    for tool, classified in (("leakscope", ours), ("heaptrack", theirs)):
        if classified.live_keys() != set(want):
            errors.append("%s leaks at %s, expected %s"
                          % (tool, sorted(classified.live_keys()), sorted(want)))
        for site in classified.unexplained:
            errors.append("%s: unexplained leak of %d B\n%s"
                          % (tool, site["live_bytes"], describe(site["frames"])))
    for key, site in sorted(want.items()):
        a, b = ours.by_key.get(key), theirs.by_key.get(key)
        if a is None or b is None:
            continue  # reported above
        print("%s:%d %s: leakscope %d B / %d calls, heaptrack %d B / %d calls"
              % (key[1], key[2], key[0], a.live_bytes, a.allocations, b.live_bytes,
                 b.allocations))
        if (a.live_bytes, a.allocations) != (b.live_bytes, b.allocations):
            errors.append("%s (%s): leakscope %d B in %d calls, heaptrack %d B in %d calls"
                          % (key[0], site.marker, a.live_bytes, a.allocations, b.live_bytes,
                             b.allocations))
        if (b.live_bytes, b.allocations) != (site.live_bytes, site.allocations):
            errors.append("%s (%s): heaptrack %d B in %d calls, expected %d B in %d calls"
                          % (key[0], site.marker, b.live_bytes, b.allocations, site.live_bytes,
                             site.allocations))
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leakscope", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--source", required=True)
    args = parser.parse_args()
    expected = Expected(args.expected, args.source)
    ours, theirs = classify_both(args.leakscope, args.example, expected)
    errors = compare(ours, theirs, expected)
    for error in errors:
        print("FAIL: " + error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
