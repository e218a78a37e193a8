"""
nats_harness — real nats-server processes and complaintd cluster nodes on
loopback, for test_cluster.py (issue 18).

- NatsCluster(n) writes one config per server into a temporary directory
  (JetStream store there too, the mapping of config/nats/mapping.conf
  included), starts them on free loopback ports and waits until JetStream
  has a meta leader;
- node(...) starts a complaintd with --nats and --node-id (daemon_harness's
  Daemon, so logs are kept and the process is always killed);
- cluster_state() is `complaintctl cluster --nats` as a dict;
- send() and tail() are complaintctl send/tail --nats.

Every wait is bounded in time and in the number of polls.
"""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import daemon_harness as h

NATS_SERVER = shutil.which("nats-server") or "/usr/bin/nats-server"
MAPPING = os.path.join(h.ROOT, "config", "nats", "mapping.conf")
NATS_PROBE = os.path.join(h.BUILD, "tests", "nats_probe")


def fnv1a_partition(token, n=32):
    """nats-server's partition(n,1) of one token, computed independently."""
    x = 2166136261
    for b in token.encode():
        x ^= b
        x = (x * 16777619) & 0xFFFFFFFF
    return x % n


class NatsServer:
    def __init__(self, root, index, client_port, cluster_port, routes):
        self.index = index
        self.port = client_port
        self.url = "nats://127.0.0.1:%d" % client_port
        self.dir = os.path.join(root, "nats-%d" % index)
        os.makedirs(self.dir, exist_ok=True)
        shutil.copy(MAPPING, os.path.join(self.dir, "mapping.conf"))
        self.conf = os.path.join(self.dir, "server.conf")
        with open(self.conf, "w") as f:
            f.write("listen: 127.0.0.1:%d\nserver_name: t-nats-%d\n" % (client_port, index))
            f.write('jetstream { store_dir: "%s" }\n' % os.path.join(self.dir, "js"))
            if routes:
                f.write("cluster {\n  name: t-complaintd\n  listen: 127.0.0.1:%d\n  routes: [\n"
                        % cluster_port)
                for r in routes:
                    f.write("    nats-route://127.0.0.1:%d\n" % r)
                f.write("  ]\n}\n")
            f.write("include ./mapping.conf\n")
        self.proc = None
        self.lines = []
        self._lock = threading.Lock()

    def start(self):
        self.lines = []
        self.proc = subprocess.Popen([NATS_SERVER, "-c", self.conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc):
        for raw in iter(proc.stderr.readline, b""):
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def log(self):
        with self._lock:
            return "\n".join("[nats-%d] %s" % (self.index, l) for l in self.lines[-60:])

    def has(self, text):
        with self._lock:
            return any(text in l for l in self.lines)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


class NatsCluster:
    """n nats-servers (n = 1: a single server) with the partition mapping."""

    def __init__(self, n=3):
        self.root = h.make_tempdir("nats-")
        ports = set()
        while len(ports) < 2 * n:
            ports.add(h.free_port())
        ports = sorted(ports)
        client, route = ports[:n], ports[n:]
        self.servers = [NatsServer(self.root, i + 1, client[i], route[i],
                                   route if n > 1 else []) for i in range(n)]
        self.urls = ",".join(s.url for s in self.servers)

    def start(self, timeout=30.0):
        for s in self.servers:
            s.start()
        ready = "new metadata leader" if len(self.servers) > 1 else "Server is ready"
        deadline = time.monotonic() + timeout
        while not any(s.has(ready) for s in self.servers):
            if time.monotonic() > deadline:
                raise AssertionError("NATS not ready within %.0f s\n%s" % (timeout, self.log()))
            time.sleep(0.1)
        return self

    def log(self):
        return "\n".join(s.log() for s in self.servers)

    def kill(self):
        for s in self.servers:
            s.kill()


def node(cluster, node_id, data_dir=None, replicas=None, **config):
    """A complaintd node of the cluster (not started)."""
    cfg = {"nats_url": cluster.urls, "node_id": node_id,
           "nats_replicas": replicas or (3 if len(cluster.servers) >= 3 else 1),
           "lease_ttl_ms": 2000, "snapshot_interval_s": 2, "durable": 0}
    cfg.update(config)
    return h.Daemon(data_dir=data_dir, config=cfg, threads=1)


def cluster_state(urls, timeout=20):
    r = h.complaintctl(["cluster", "--nats", urls], timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("complaintctl cluster: %s" % r.stderr)
    return json.loads(r.stdout)


def send(urls, events, timeout=150):
    return h.complaintctl(["send", "--nats", urls], input_text=h.jsonl(events), timeout=timeout)


class AsyncSend:
    """complaintctl send --nats running in the background. wait() returns
    its exit code; stderr() what it printed (for the failure message)."""

    def __init__(self, urls, events):
        self.proc = subprocess.Popen([h.COMPLAINTCTL, "send", "--nats", urls],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.out = ("", "")
        self.thread = threading.Thread(target=self._talk, args=(h.jsonl(events),), daemon=True)
        self.thread.start()

    def _talk(self, lines):
        self.out = self.proc.communicate(lines)

    def wait(self, timeout):
        rc = self.proc.wait(timeout)
        self.thread.join(10)
        return rc

    def stderr(self):
        return "complaintctl send --nats printed:\n" + self.out[1]


def send_async(urls, events):
    """complaintctl send --nats in the background (an AsyncSend)."""
    return AsyncSend(urls, events)


def tail(urls, count, timeout_ms=30000):
    """The first `count` decisions of DECISIONS (dicts); fewer if they do not come."""
    r = h.complaintctl(["tail", "--nats", urls, "--from", "1", "--count", str(count),
                        "--timeout", str(timeout_ms)], timeout=timeout_ms / 1000 + 30)
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def wait_state(urls, pred, timeout, what):
    """Poll cluster_state until pred(state); at most every 0.2 s, bounded."""
    deadline = time.monotonic() + timeout
    state = None
    for _ in range(int(timeout / 0.2) + 1):
        try:
            state = cluster_state(urls)
        except (AssertionError, subprocess.TimeoutExpired, ValueError):
            state = None
        if state is not None and pred(state):
            return state
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    raise AssertionError("%s: not within %.0f s; last state %s" % (what, timeout, state))


def settled(state, nodes, partitions=32):
    """Every partition owned by one of `nodes`, nothing pending or unacked."""
    parts = state["partitions"]
    return (len(parts) == partitions and all(p["owner"] in nodes for p in parts)
            and all(p["pending"] == 0 and p["ack_pending"] == 0 for p in parts))
