"""Runs an example under leakscope and reads its report back through
`leakscope report FILE --json`: the same paths a user takes, either
`leakscope run` or the leakscoped daemon with the shim preloaded by hand."""

import glob
import json
import os
import subprocess


class RunFailed(Exception):
    pass


def traced_environment(extra_env):
    env = dict(os.environ)
    # Exact counts need every event: a full ring waits instead of dropping.
    env["LEAKSCOPE_LOSSLESS"] = "1"
    env.update(extra_env)
    return env


def only_report(example, out_dir, log):
    name = os.path.basename(example)
    reports = glob.glob(os.path.join(out_dir, name + ".*.lsr"))
    if len(reports) != 1:
        raise RunFailed("expected one %s.<pid>.lsr in %s, found %s\n%s"
                        % (name, out_dir, os.listdir(out_dir), log))
    return reports[0]


def run_and_report(leakscope, example, out_dir, extra_env=None):
    """`leakscope run`. Returns (parsed JSON report, .lsr path)."""
    run = subprocess.run([leakscope, "run", "-o", out_dir, "--", example],
                         env=traced_environment(extra_env or {}), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
    if run.returncode != 0:
        raise RunFailed("leakscope run exited %d\nstdout:\n%s\nstderr:\n%s"
                        % (run.returncode, run.stdout, run.stderr))
    path = only_report(example, out_dir, run.stderr)
    return read_json_report(leakscope, path), path


def read_line_containing(stream, text, log):
    """Reads the daemon's stderr up to a line containing `text`: its way of
    saying it listens, or that it wrote a report."""
    for line in stream:
        log.append(line)
        if text in line:
            return line
    raise RunFailed("leakscoped ended before printing %r:\n%s" % (text, "".join(log)))


def daemon_and_report(leakscope, leakscoped, shim, example, out_dir, extra_env=None):
    """leakscoped + LD_PRELOAD, as for a service. Returns (JSON report, path)."""
    socket_path = os.path.join(out_dir, "collector.sock")
    daemon = subprocess.Popen([leakscoped, "--socket", socket_path, "--output", out_dir],
                              stderr=subprocess.PIPE, universal_newlines=True)
    log = []
    try:
        read_line_containing(daemon.stderr, "listening on", log)
        env = traced_environment(extra_env or {})
        env.update(LD_PRELOAD=shim, LEAKSCOPE_SOCKET=socket_path)
        env.setdefault("LEAKSCOPE_SAMPLE_INTERVAL", "1")  # the shim alone samples by default
        traced = subprocess.run([example], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, universal_newlines=True, timeout=300)
        if traced.returncode != 0:
            raise RunFailed("%s exited %d: %s" % (example, traced.returncode, traced.stderr))
        read_line_containing(daemon.stderr, "wrote ", log)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
    path = only_report(example, out_dir, "".join(log))
    return read_json_report(leakscope, path), path


def read_json_report(leakscope, path):
    shown = subprocess.run([leakscope, "report", path, "--json"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=120)
    if shown.returncode != 0:
        raise RunFailed("leakscope report %s --json exited %d: %s"
                        % (path, shown.returncode, shown.stderr))
    return json.loads(shown.stdout)
