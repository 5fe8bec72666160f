"""Runs an example under `leakscope run` and reads its report back through
`leakscope report FILE --json`: the same path a user takes."""

import glob
import json
import os
import subprocess


class RunFailed(Exception):
    pass


def run_and_report(leakscope, example, out_dir, args=()):
    """Returns (parsed JSON report, .lsr path, run's stderr)."""
    env = dict(os.environ)
    # Exact counts need every event: a full ring waits instead of dropping.
    env["LEAKSCOPE_LOSSLESS"] = "1"
    run = subprocess.run([leakscope, "run", "-o", out_dir, "--", example] + list(args),
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, timeout=300)
    if run.returncode != 0:
        raise RunFailed("leakscope run exited %d\nstdout:\n%s\nstderr:\n%s"
                        % (run.returncode, run.stdout, run.stderr))
    name = os.path.basename(example)
    reports = glob.glob(os.path.join(out_dir, name + ".*.lsr"))
    if len(reports) != 1:
        raise RunFailed("expected one %s.<pid>.lsr in %s, found %s\nstderr:\n%s"
                        % (name, out_dir, os.listdir(out_dir), run.stderr))
    return read_json_report(leakscope, reports[0]), reports[0], run.stderr


def read_json_report(leakscope, path):
    shown = subprocess.run([leakscope, "report", path, "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    if shown.returncode != 0:
        raise RunFailed("leakscope report %s --json exited %d: %s"
                        % (path, shown.returncode, shown.stderr))
    return json.loads(shown.stdout)
