"""The shim preloaded on its own (no LEAKSCOPE_SAMPLE_INTERVAL) samples at its
production default, 512 KiB, and the report says so; `leakscope run` records
every allocation unless asked otherwise."""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from leakscope_report import daemon_and_report, read_json_report  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope", required=True)
    ap.add_argument("--leakscoped", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--example", required=True)
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as d:
        # "" = unset for the shim (its parser falls back to the default).
        report, _ = daemon_and_report(a.leakscope, a.leakscoped, a.shim, a.example, d,
                                      {"LEAKSCOPE_SAMPLE_INTERVAL": ""})
        got = report["sampling_interval_bytes"]
        if got != 524288:
            failures.append("preloaded alone: sampling interval %r, want 524288" % got)
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if k != "LEAKSCOPE_SAMPLE_INTERVAL"}
        run = subprocess.run([a.leakscope, "run", "-o", d, "--", a.example], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             universal_newlines=True, timeout=300)
        reports = [f for f in os.listdir(d) if f.endswith(".lsr")]
        if run.returncode != 0 or len(reports) != 1:
            failures.append("leakscope run: exit %d, reports %r:\n%s"
                            % (run.returncode, reports, run.stdout))
        else:
            got = read_json_report(a.leakscope, os.path.join(d, reports[0]))
            got = got["sampling_interval_bytes"]
            if got != 1:
                failures.append("leakscope run: sampling interval %r, want 1" % got)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
