#!/usr/bin/env python3
"""Schema check of the Kubernetes recipes (no cluster, no kubeconform here).

For the kinds the recipes use (Deployment, DaemonSet, PersistentVolumeClaim)
it checks the fields the API server requires and their types, the
references inside a pod (mounts name volumes, probes name ports, the
selector matches the template), and what the recipe promises: a leakscoped
container with --metrics and a snapshot policy, reports on a volume that
outlives the pod (a claim or a host path, never an emptyDir), and a traced
container whose LEAKSCOPE_SOCKET is the daemon's socket on a shared volume.
Prints one line per problem; exit status 1 if there is any.
Usage: k8s_manifests_check.py FILE...
"""
import re
import sys

import yaml

QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
KINDS = {("v1", "PersistentVolumeClaim"), ("apps/v1", "Deployment"), ("apps/v1", "DaemonSet")}
VOLUME_SOURCES = {"emptyDir", "hostPath", "persistentVolumeClaim", "configMap", "secret"}
ACCESS_MODES = {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"}
HOST_PATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket"}


class Checker:
    def __init__(self):
        self.problems = []

    def need(self, cond, where, what):
        if not cond:
            self.problems.append(f"{where}: {what}")
        return cond

    def typed(self, obj, key, kind, where, required=True):
        if key not in obj:
            self.need(not required, where, f"missing {key}")
            return None
        self.need(isinstance(obj[key], kind), where, f"{key} must be {kind.__name__}")
        return obj[key] if isinstance(obj[key], kind) else None

    def quantities(self, res, where):
        for part in ("requests", "limits"):
            for name, value in (res.get(part) or {}).items():
                self.need(isinstance(value, str) and QUANTITY.match(value) or isinstance(value, int),
                          where, f"resources.{part}.{name} '{value}' is not a quantity")

    def probe(self, probe, ports, where):
        handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
        self.need(len(handlers) == 1, where, "a probe needs exactly one handler")
        if "exec" in probe:
            self.need(isinstance(probe["exec"].get("command"), list), where, "exec.command list")
        if "httpGet" in probe:
            port = probe["httpGet"].get("port")
            self.need(isinstance(port, int) or port in ports, where, f"httpGet port '{port}' unknown")

    def container(self, c, volumes, where):
        name = self.typed(c, "name", str, where)
        where = f"{where} container {name}"
        self.need(name and DNS_LABEL.match(name), where, "name must be a DNS label")
        self.typed(c, "image", str, where)
        for key in ("command", "args"):
            value = self.typed(c, key, list, where, required=False)
            for a in value or []:
                self.need(isinstance(a, str), where, f"{key} entries must be strings ('{a}')")
        ports = {}
        for p in self.typed(c, "ports", list, where, required=False) or []:
            self.need(isinstance(p.get("containerPort"), int) and 0 < p["containerPort"] < 65536,
                      where, "containerPort must be 1-65535")
            if "name" in p:
                ports[p["name"]] = p["containerPort"]
        for e in self.typed(c, "env", list, where, required=False) or []:
            self.need(isinstance(e.get("name"), str), where, "env entries need a name")
            self.need(("value" in e) != ("valueFrom" in e), where, f"env {e.get('name')}: value or valueFrom")
            self.need("value" not in e or isinstance(e["value"], str), where,
                      f"env {e.get('name')}: value must be a string")
        for m in self.typed(c, "volumeMounts", list, where, required=False) or []:
            self.need(m.get("name") in volumes, where, f"mount of unknown volume '{m.get('name')}'")
            self.need(str(m.get("mountPath", "")).startswith("/"), where, "mountPath must be absolute")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in c:
                self.probe(c[probe], ports, f"{where} {probe}")
        self.quantities(c.get("resources") or {}, where)
        return ports

    def pod(self, spec, where):
        volumes = {}
        for v in self.typed(spec, "volumes", list, where, required=False) or []:
            sources = [s for s in v if s != "name"]
            self.need(len(sources) == 1 and sources[0] in VOLUME_SOURCES, where,
                      f"volume {v.get('name')}: one known source, not {sources}")
            if "hostPath" in v:
                self.need(v["hostPath"].get("type", "") in HOST_PATH_TYPES, where, "hostPath.type")
            volumes[v.get("name")] = v
        names = []
        for c in spec.get("initContainers") or []:
            self.need(c.get("restartPolicy", "Always") == "Always", where, "init restartPolicy")
            self.container(c, volumes, where)
            names.append(c.get("name"))
        containers = self.typed(spec, "containers", list, where) or []
        self.need(containers, where, "containers must not be empty")
        for c in containers:
            self.container(c, volumes, where)
            names.append(c.get("name"))
        self.need(len(names) == len(set(names)), where, "container names must be unique")
        return volumes

    def workload(self, doc, where):
        spec = self.typed(doc, "spec", dict, where) or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        template = self.typed(spec, "template", dict, where) or {}
        labels = (template.get("metadata") or {}).get("labels") or {}
        self.need(selector and all(labels.get(k) == v for k, v in selector.items()), where,
                  "selector.matchLabels must match the template's labels")
        for k, v in ((template.get("metadata") or {}).get("annotations") or {}).items():
            self.need(isinstance(v, str), where, f"annotation {k} must be a string")
        return self.pod(template.get("spec") or {}, where)

    def claim(self, doc, where):
        spec = self.typed(doc, "spec", dict, where) or {}
        modes = self.typed(spec, "accessModes", list, where) or []
        self.need(modes and all(m in ACCESS_MODES for m in modes), where, "accessModes")
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        self.need(isinstance(storage, str) and QUANTITY.match(storage), where, "requests.storage")


def flag(args, name):
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else None


def under(path, mounts):
    """The mount (volume name, mount path) that holds path, if any."""
    best = None
    for m in mounts:
        mp = m["mountPath"].rstrip("/")
        if (path == mp or path.startswith(mp + "/")) and (not best or len(mp) > len(best[1])):
            best = (m["name"], mp)
    return best


def recipe(chk, docs, where):
    """What the leakscope recipes promise, across the documents of one file."""
    daemons, traced = [], []
    for doc in docs:
        if doc.get("kind") not in ("Deployment", "DaemonSet"):
            continue
        spec = doc["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for c in (spec.get("initContainers") or []) + spec["containers"]:
            args = (c.get("command") or []) + (c.get("args") or [])
            if args[:1] == ["leakscoped"]:
                daemons.append((c, args, volumes))
            env = {e["name"]: e.get("value") for e in c.get("env") or []}
            if "LEAKSCOPE_SOCKET" in env:
                traced.append((c, env["LEAKSCOPE_SOCKET"], volumes))
    chk.need(daemons, where, "no leakscoped container")
    chk.need(traced, where, "no container with LEAKSCOPE_SOCKET")
    for c, args, volumes in daemons:
        w = f"{where} {c['name']}"
        metrics = flag(args, "--metrics")
        if chk.need(metrics, w, "no --metrics"):
            port = int(metrics.rsplit(":", 1)[1])
            chk.need(port in [p["containerPort"] for p in c.get("ports") or []], w,
                     f"--metrics port {port} is not a container port")
        chk.need(flag(args, "--snapshot-interval") and flag(args, "--keep"), w,
                 "no snapshot policy (--snapshot-interval, --keep)")
        output = flag(args, "--output") or ""
        mount = under(re.sub(r"\$\([A-Z_]+\)", "x", output), c.get("volumeMounts") or [])
        if chk.need(mount, w, f"--output {output} is on no volume"):
            kind = [s for s in volumes[mount[0]] if s != "name"][0]
            chk.need(kind in ("persistentVolumeClaim", "hostPath"), w,
                     f"reports on {kind}: lost with the pod")
        socket = flag(args, "--socket") or ""
        smount = under(socket, c.get("volumeMounts") or [])
        chk.need(smount, w, f"--socket {socket} is on no volume")
        for t, value, tvolumes in traced:
            tm = under(value, t.get("volumeMounts") or [])
            same = (tm and smount and value[len(tm[1]):] == socket[len(smount[1]):] and
                    (tvolumes[tm[0]] == volumes[smount[0]] or
                     tvolumes[tm[0]].get("hostPath", {}).get("path") ==
                     volumes[smount[0]].get("hostPath", {}).get("path") is not None))
            chk.need(same, f"{where} {t['name']}",
                     f"LEAKSCOPE_SOCKET {value} is not the daemon's socket {socket}")


def main(files):
    chk = Checker()
    for path in files:
        with open(path) as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            where = f"{path}[{i}]"
            if not chk.need(isinstance(doc, dict), where, "not a mapping"):
                continue
            key = (doc.get("apiVersion"), doc.get("kind"))
            if not chk.need(key in KINDS, where, f"unknown kind {key}"):
                continue
            name = (doc.get("metadata") or {}).get("name")
            chk.need(isinstance(name, str) and DNS_LABEL.match(name), where, "metadata.name")
            if key[1] == "PersistentVolumeClaim":
                chk.claim(doc, where)
            else:
                chk.workload(doc, where)
        claims = {d["metadata"]["name"] for d in docs if d.get("kind") == "PersistentVolumeClaim"}
        for d in docs:
            for v in (d.get("spec", {}).get("template", {}).get("spec", {}).get("volumes") or []):
                if "persistentVolumeClaim" in v:
                    chk.need(v["persistentVolumeClaim"].get("claimName") in claims, path,
                             f"claim {v['persistentVolumeClaim'].get('claimName')} not in the file")
        if not chk.problems:
            recipe(chk, docs, path)
    for p in chk.problems:
        print(p)
    return 1 if chk.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
