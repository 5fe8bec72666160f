"""Debian's nginx, master + 2 workers (master_process on, daemon off), in a
temporary prefix listening on 127.0.0.1, serving a bounded number of requests
from urllib, bare and under `leakscope run`: the same responses, and under
the shim one report per process: the master's (not forked, its parent is
`leakscope run`) and each worker's (forked, parent = the master), every one
ended exited/0. Halfway, SIGHUP reloads the configuration: the master starts
2 new workers and the old ones finish gracefully (5 processes in all); at the
end SIGQUIT to the master shuts everything down gracefully."""

import argparse
import hashlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

WORKERS = 2
ROUNDS = 50  # of the URLs below: 200 requests per server, half before the reload

CONFIG = """
worker_processes %(workers)d;
master_process on;
daemon off;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/logs/error.log notice;
events { worker_connections 64; }
http {
  access_log %(prefix)s/logs/access.log;
  client_body_temp_path %(prefix)s/tmp_body;
  proxy_temp_path %(prefix)s/tmp_proxy;
  fastcgi_temp_path %(prefix)s/tmp_fastcgi;
  uwsgi_temp_path %(prefix)s/tmp_uwsgi;
  scgi_temp_path %(prefix)s/tmp_scgi;
  server {
    listen 127.0.0.1:%(port)d;
    root %(prefix)s/html;
    location = /echo { return 200 "echo $arg_n\\n"; }
  }
}
"""


def fetch(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def serve(leakscope, work, name, traced):
    prefix = os.path.join(work, name)
    os.makedirs(os.path.join(prefix, "logs"))
    os.makedirs(os.path.join(prefix, "html"))
    with open(os.path.join(prefix, "html", "index.html"), "w") as f:
        f.write("hello from nginx\n")
    with open(os.path.join(prefix, "html", "big.bin"), "wb") as f:
        f.write(b"".join(hashlib.sha256(bytes([i % 256, i // 256])).digest()
                         for i in range(2048)))  # 64 KiB
    port = realprog.free_port()
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(CONFIG % {"workers": WORKERS, "prefix": prefix, "port": port})
    cmd = ["nginx", "-p", prefix, "-c", conf]
    out_dir = os.path.join(prefix, "reports")
    os.makedirs(out_dir)
    if traced:
        cmd = realprog.traced(leakscope, out_dir, cmd)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            universal_newlines=True)
    error_log = os.path.join(prefix, "logs", "error.log")

    def log():
        with open(error_log) as f:
            return f.read()

    try:
        realprog.wait_until(realprog.port_accepts(port), "nginx on %d" % port, proc=proc)
        # Both workers started (the master logs each one).
        realprog.wait_until(lambda: len(re.findall(r"start worker process \d+", log())) == WORKERS,
                            "%d workers started" % WORKERS, proc=proc)
        with open(os.path.join(prefix, "nginx.pid")) as f:
            master = int(f.read())
        responses = []
        for i in range(ROUNDS):
            if i == ROUNDS // 2:
                # Reload: new workers started, the old ones gone.
                first = re.findall(r"start worker process (\d+)", log())
                os.kill(master, signal.SIGHUP)

                def reloaded():
                    text = log()
                    return len(re.findall(r"start worker process \d+", text)) == 2 * WORKERS \
                        and all("worker process %s exited with code 0" % p in text for p in first)
                realprog.wait_until(reloaded, "reload: %d new workers, old ones exited" % WORKERS,
                                    proc=proc)
            for path in ("/", "/big.bin", "/missing", "/echo?n=%d" % i):
                status, body = fetch(port, path)
                responses.append((path, status, hashlib.sha256(body).hexdigest()))
        os.kill(master, signal.SIGQUIT)
        out, err = proc.communicate(timeout=60)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise realprog.Failed("%s nginx exited %d\n%s%s" % (name, proc.returncode, out, err))
    text = log()
    workers = sorted(int(p) for p in re.findall(r"start worker process (\d+)", text))
    exited = sorted(int(p) for p in re.findall(r"worker process (\d+) exited with code 0", text))
    if exited != workers or len(workers) != 2 * WORKERS or "[alert]" in text or \
            "[emerg]" in text:
        raise realprog.Failed("%s: workers %s, exited with code 0: %s\n%s"
                              % (name, workers, exited, text))
    with open(os.path.join(prefix, "logs", "access.log")) as f:
        served = len(f.read().splitlines())
    if served != 4 * ROUNDS:
        raise realprog.Failed("%s: access.log has %d requests, expected %d"
                              % (name, served, 4 * ROUNDS))
    return responses, master, workers, proc.pid, out_dir


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)

    with tempfile.TemporaryDirectory(prefix="leakscope-nginx.") as work:
        os.chmod(work, 0o755)  # workers run as nobody: they read html/
        bare, _, _, _, _ = serve(leakscope, work, "bare", False)
        traced, master, workers, runner, out_dir = serve(leakscope, work, "traced", True)
        statuses = sorted(set((path.split("?")[0], status) for path, status, _ in bare))
        if statuses != [("/", 200), ("/big.bin", 200), ("/echo", 200), ("/missing", 404)]:
            raise realprog.Failed("bare responses %s" % statuses)
        if traced != bare:
            raise realprog.Failed("responses differ under the shim: %s"
                                  % [(b, t) for b, t in zip(bare, traced) if b != t][:5])

        found = realprog.reports(leakscope, out_dir)
        for r in found:
            print(realprog.describe(r), "live", r["totals"]["live_bytes"],
                  "allocations", r["totals"]["allocations"])
        by_pid = {r["process"]["pid"]: r for r in found}
        if len(found) != 1 + 2 * WORKERS or sorted(by_pid) != sorted([master] + workers):
            raise realprog.Failed("expected reports of master %d and workers %s, got %s"
                                  % (master, workers, [realprog.describe(r) for r in found]))
        for pid, r in by_pid.items():
            p = r["process"]
            expected = (runner, False) if pid == master else (master, True)
            if (p["ppid"], p["forked"]) != expected:
                raise realprog.Failed("pid %d: ppid %d forked %s, expected %s"
                                      % (pid, p["ppid"], p["forked"], expected))
            if (p["exe"], p["end"], p.get("exit_status")) != ("/usr/sbin/nginx", "exited", 0):
                raise realprog.Failed("pid %d: %s" % (pid, realprog.describe(r)))
            if os.path.basename(r["path"]) != "nginx.%d.lsr" % pid:
                raise realprog.Failed("report of %d named %s" % (pid, r["path"]))
            if r["dropped_events"] != 0 or r["totals"]["allocations"] <= 0:
                raise realprog.Failed("pid %d: dropped %d, totals %s"
                                      % (pid, r["dropped_events"], r["totals"]))
            if not any(f["function"].startswith("ngx_") and
                       f["module"] == "/usr/sbin/nginx" for s in r["sites"] for f in s["frames"]):
                raise realprog.Failed("pid %d: no nginx (ngx_*) frame in any site" % pid)
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
