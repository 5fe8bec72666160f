"""Debian's /usr/bin/python3 running a script that leaks 20,000 distinct
1 KiB bytes objects into a module-level list: the script prints the same
with and without the shim, and the report holds the leak at one site of the
interpreter's allocation path; sampled at 64 KiB, the same site with an
estimate within 20%.

The script ends with os._exit(0), like a service that never gets to tear
down: a normal interpreter exit would free the module's globals (and with
them the list) during finalization, leaving nothing live to report."""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

COUNT = 20000
PAYLOAD = 1024
# CPython 3.11 bytes object: PyBytesObject header (ob_refcnt, ob_type,
# ob_size, ob_shash = 32 bytes) + the payload + a terminating NUL byte.
OBJECT_SIZE = 32 + PAYLOAD + 1

SCRIPT = r"""
import hashlib, os, sys
LEAK = []
for i in range(%(count)d):
    # Distinct contents: 32 bytes of sha256 repeated to 1 KiB.
    LEAK.append(hashlib.sha256(i.to_bytes(4, "little")).digest() * %(reps)d)
print(len(LEAK), sum(map(len, LEAK)), len(set(LEAK)))
print(hashlib.sha256(b"".join(LEAK)).hexdigest())
sys.stdout.flush()
os._exit(0)
""" % {"count": COUNT, "reps": PAYLOAD // 32}

# Frames of CPython's object allocator (obmalloc falls back to malloc for
# objects over 512 bytes) and of bytes creation.
ALLOCATOR_FUNCTIONS = ("PyObject_Malloc", "_PyObject_Malloc", "PyMem_Malloc", "_PyMem_RawMalloc",
                       "PyMem_RawMalloc", "PyBytes_FromStringAndSize",
                       "_PyBytes_FromSize")


SAMPLE_INTERVAL = 65536


def sampled(leakscope, work, script, expected_stdout):
    """--sample-interval 65536: the same leak site comes out on top, its
    live bytes an estimate. 21,140,000 B is ~323 expected samples of 64 KiB,
    so the estimate's relative standard deviation is ~1/sqrt(323) = 5.6%;
    20% is 3.6 of them. The seed (and Python's hash seed) are fixed: the run
    is reproducible."""
    out_dir = os.path.join(work, "sampled")
    os.makedirs(out_dir)
    env = dict(os.environ, LEAKSCOPE_SEED="1", PYTHONHASHSEED="0")
    done = realprog.run(realprog.traced(leakscope, out_dir, [realprog.PYTHON, script],
                                        SAMPLE_INTERVAL), env=env)
    if done.returncode != 0 or done.stdout != expected_stdout:
        raise realprog.Failed("sampled: exited %d, stdout %r" % (done.returncode, done.stdout))
    found = realprog.reports(leakscope, out_dir)
    if len(found) != 1 or found[0]["sampling_interval_bytes"] != SAMPLE_INTERVAL:
        raise realprog.Failed("sampled: %s" % [realprog.describe(r) for r in found])
    top = found[0]["sites"][0]
    exact = COUNT * OBJECT_SIZE
    print("sampled 64K: top site estimate %d bytes (%+.1f%%), %d allocations, %s"
          % (top["live_bytes"], 100.0 * (top["live_bytes"] - exact) / exact,
             top["live_allocations"], top["frames"][0]["function"]))
    if abs(top["live_bytes"] - exact) > 0.2 * exact or \
            top["frames"][0]["function"] not in ALLOCATOR_FUNCTIONS:
        raise realprog.Failed("sampled: top site %d bytes at %s, expected %d +- 20%%"
                              % (top["live_bytes"], top["frames"][0], exact))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)

    with tempfile.TemporaryDirectory(prefix="leakscope-python.") as work:
        script = os.path.join(work, "leak.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        bare = realprog.run([realprog.PYTHON, script])
        out_dir = os.path.join(work, "reports")
        os.makedirs(out_dir)
        traced = realprog.run(realprog.traced(leakscope, out_dir, [realprog.PYTHON, script]))
        if bare.returncode != 0 or traced.returncode != 0:
            raise realprog.Failed("bare exited %d, traced %d: %s"
                                  % (bare.returncode, traced.returncode, traced.stderr))
        if traced.stdout != bare.stdout or bare.stderr:
            raise realprog.Failed("output differs:\nbare:\n%s%s\ntraced:\n%s"
                                  % (bare.stdout, bare.stderr, traced.stdout))
        first = bare.stdout.splitlines()[0]
        if first != "%d %d %d" % (COUNT, COUNT * PAYLOAD, COUNT):
            raise realprog.Failed("script printed %r" % first)

        found = realprog.reports(leakscope, out_dir)
        if len(found) != 1:
            raise realprog.Failed("expected one report: %s" % [realprog.describe(r) for r in found])
        report = found[0]
        p = report["process"]
        if (p["exe"], p["argv"], p["end"], p.get("exit_status"), p["forked"]) != (
                "/usr/bin/python3.11", [realprog.PYTHON, script], "exited", 0, False):
            raise realprog.Failed("process %s" % p)
        if report["dropped_events"] != 0 or report["sampling_interval_bytes"] != 1:
            raise realprog.Failed("dropped %d, sampling %d" % (report["dropped_events"],
                                                             report["sampling_interval_bytes"]))
        top = report["sites"][0]
        innermost = top["frames"][0]
        print("top site: %d bytes in %d allocations (%d calls); frames %s"
              % (top["live_bytes"], top["live_allocations"], top["allocations"],
                 [(f["function"], os.path.basename(f["module"])) for f in top["frames"][:6]]))
        # Exactly the leaked objects: all 20,000 of them, each its own
        # malloc() of header + payload, never freed.
        if (top["live_bytes"], top["live_allocations"], top["internal"]) != (
                COUNT * OBJECT_SIZE, COUNT, False):
            raise realprog.Failed("top site holds %d bytes in %d allocations, expected %d in %d"
                                  % (top["live_bytes"], top["live_allocations"],
                                     COUNT * OBJECT_SIZE, COUNT))
        if top["live_bytes"] < COUNT * PAYLOAD:
            raise realprog.Failed("top site smaller than the payload")
        if innermost["function"] not in ALLOCATOR_FUNCTIONS or \
                not os.path.basename(innermost["module"]).startswith(("python3.11", "libpython3.11")):
            raise realprog.Failed("innermost frame %s is not CPython's allocator" % innermost)
        if not any(f["function"] == "_PyEval_EvalFrameDefault" for f in top["frames"]):
            raise realprog.Failed("the leak's stack does not pass through the interpreter loop")
        t = report["totals"]
        if t["live_bytes"] < COUNT * OBJECT_SIZE or t["live_allocations"] < COUNT:
            raise realprog.Failed("totals %s" % t)
        sampled(leakscope, work, script, bare.stdout)
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
