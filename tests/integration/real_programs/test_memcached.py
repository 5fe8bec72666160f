"""memcached (Debian's, 4 worker threads) bare and under `leakscope run`,
every allocation recorded, driven over TCP by 4 clients at once, each storing
500 known keys (values of 2 to 1,500 B, flags) then reading a third of them
back, and more commands (multi-key get, add, append, incr, delete, misses) on one
connection: every reply is byte for byte the bare server's. SIGTERM to
`leakscope run` reaches memcached, which exits 0; its one report says so,
with nothing dropped, and holds the slab pages it allocated exactly: its
largest site's live bytes are the `total_malloced` of `stats slabs`, in
pages of 1 MiB."""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

CLIENTS, KEYS = 4, 500
PAGE = 1024 * 1024
ENDS = (b"STORED\r\n", b"END\r\n", b"DELETED\r\n", b"NOT_FOUND\r\n", b"EXISTS\r\n",
        b"NOT_STORED\r\n", b"ERROR\r\n")


def request(sock, data, ends=ENDS):
    """Sends data; the reply up to the first of `ends` it finishes with."""
    sock.sendall(data)
    reply = b""
    while not reply.endswith(ends) and not reply[:-2].isdigit():
        chunk = sock.recv(65536)
        if not chunk:
            raise realprog.Failed("memcached closed the connection after %r" % reply)
        reply += chunk
    return reply


def client(port, c, transcript):
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        for i in range(KEYS):
            value = (b"%d:" % i) * (1 + (i * 7) % 300)
            transcript.append(request(s, b"set c%d_%d %d 0 %d\r\n%s\r\n" % (c, i, i, len(value),
                                                                        value)))
        for i in range(0, KEYS, 3):
            transcript.append(request(s, b"get c%d_%d\r\n" % (c, i)))


def single(port):
    """Commands whose replies depend on order (counters, deletes): one
    connection, after the clients. No gets: cas ids count the clients'
    interleaved stores."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        out.append(request(s, b"get c0_3 c1_6 c2_9\r\n"))
        out.append(request(s, b"add c0_0 0 0 1\r\nx\r\n"))
        out.append(request(s, b"append c0_1 0 0 4\r\ntail\r\n"))
        out.append(request(s, b"get c0_1 nothing_here\r\n"))
        out.append(request(s, b"set n 0 0 2\r\n41\r\n"))
        out.append(request(s, b"incr n 1\r\n"))
        out.append(request(s, b"delete c3_0\r\n"))
        out.append(request(s, b"delete c3_0\r\n"))
        out.append(request(s, b"get c3_0 n\r\n"))
    return b"".join(out)


def total_malloced(port):
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        stats = request(s, b"stats slabs\r\n")
    for line in stats.decode().splitlines():
        if line.startswith("STAT total_malloced "):
            return int(line.split()[2])
    raise realprog.Failed("no total_malloced in %r" % stats)


def serve(cmd, port, out_dir):
    log = open(os.path.join(out_dir, "memcached.log"), "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        realprog.wait_until(realprog.port_accepts(port), "memcached on %d" % port, proc=proc)
        transcripts = [[] for _ in range(CLIENTS)]
        threads = [threading.Thread(target=client, args=(port, c, transcripts[c]))
                   for c in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        replies = [b"".join(t) for t in transcripts] + [single(port)]
        malloced = total_malloced(port)
    except BaseException:
        realprog.stop(proc, signal.SIGKILL)
        raise
    return replies, malloced, realprog.stop(proc, signal.SIGTERM, timeout=120)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)

    with tempfile.TemporaryDirectory(prefix="leakscope-memcached.") as work:
        results = {}
        for mode in ("bare", "traced"):
            out_dir = os.path.join(work, mode)
            os.makedirs(out_dir)
            port = realprog.free_port()
            cmd = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-t", "4",
                   "-m", "64"] + (["-u", "nobody"] if os.geteuid() == 0 else [])
            if mode == "traced":
                cmd = realprog.traced(leakscope, out_dir, cmd)
            results[mode] = serve(cmd, port, out_dir)
        (bare, bare_malloced, bare_status) = results["bare"]
        (traced, malloced, status) = results["traced"]
        if (bare_status, status) != (0, 0):
            raise realprog.Failed("exit status bare %d, traced %d" % (bare_status, status))
        for c, (b, t) in enumerate(zip(bare, traced)):
            if b != t:
                raise realprog.Failed("connection %d: replies differ\nbare:   %r\ntraced: %r"
                                      % (c, b[:2000], t[:2000]))
        stored = sum(r.count(b"STORED\r\n") for r in bare[:CLIENTS])
        if stored != CLIENTS * KEYS or b"VALUE c0_1 1 " not in bare[-1]:
            raise realprog.Failed("bare server: %d stored; %r" % (stored, bare[-1]))
        if malloced != bare_malloced or malloced % PAGE:
            raise realprog.Failed("total_malloced %d traced, %d bare" % (malloced, bare_malloced))

        found = realprog.reports(leakscope, os.path.join(work, "traced"))
        if len(found) != 1:
            raise realprog.Failed("expected one report: %s" % [realprog.describe(r) for r in found])
        report = found[0]
        p = report["process"]
        print("traced: %s, %d sites, totals %s" % (realprog.describe(report),
                                                   len(report["sites"]), report["totals"]))
        if (p["exe"], p["end"], p.get("exit_status"), report["dropped_events"],
                report["reentrant_events"]) != ("/usr/bin/memcached", "exited", 0, 0, 0):
            raise realprog.Failed("process %s, dropped %d, lost %d" % (
                p, report["dropped_events"], report["reentrant_events"]))
        top = report["sites"][0]
        print("largest site: %d B in %d allocations; total_malloced %d"
              % (top["live_bytes"], top["live_allocations"], malloced))
        if (top["live_bytes"], top["live_allocations"], top["allocations"]) != (
                malloced, malloced // PAGE, malloced // PAGE):
            raise realprog.Failed("largest site %d B in %d allocations, expected the slab pages:"
                                  " %d B in %d" % (top["live_bytes"], top["live_allocations"],
                                                   malloced, malloced // PAGE))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
