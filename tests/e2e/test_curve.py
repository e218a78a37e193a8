"""CURVE: with a server key and an allowlist, only listed clients can send
events, receive decisions or use the control endpoint; plain TCP beyond
loopback is refused unless configured explicitly."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import zmq

import daemon_harness as h
from test_end_to_end import E2ETestCase

TEXT = "The kettle broke after two days, I want a refund"


def keygen(path):
    r = h.complaintctl(["keygen", path])
    assert r.returncode == 0, r.stderr
    with open(path) as f:
        keys = dict(line.split(" = ") for line in f.read().splitlines())
    assert keys["public"] == r.stdout.strip()
    assert (os.stat(path).st_mode & 0o777) == 0o600, "key file must be owner-only"
    return keys


def secure(sock, server_public, keys):
    sock.curve_serverkey = server_public.encode()
    sock.curve_publickey = keys["public"].encode()
    sock.curve_secretkey = keys["secret"].encode()
    return sock


class TestCurve(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="curve-")
        self.server = keygen(os.path.join(self.dir, "server.key"))
        self.client = keygen(os.path.join(self.dir, "client.key"))
        self.stranger = keygen(os.path.join(self.dir, "stranger.key"))
        allow = os.path.join(self.dir, "clients.allow")
        with open(allow, "w") as f:
            f.write("# the producer and the dashboard\n%s\n" % self.client["public"])
        self.d = h.Daemon(config={"curve_key_file": os.path.join(self.dir, "server.key"),
                                  "curve_clients_file": allow})
        self.addCleanup(self.d.kill)
        self.d.start()
        self.ctx = zmq.Context.instance()

    def socket(self, kind, keys):
        s = self.ctx.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        self.addCleanup(s.close)
        if keys:
            secure(s, self.server["public"], keys)
        return s

    def control(self, word, keys, timeout_ms=1500):
        s = self.socket(zmq.REQ, keys)
        s.setsockopt(zmq.RCVTIMEO, timeout_ms)
        s.connect(self.d.control)
        s.send(word.encode())
        try:
            return s.recv()
        except zmq.Again:
            return None

    def subscribe(self, keys):
        s = self.socket(zmq.SUB, keys)
        s.setsockopt(zmq.SUBSCRIBE, b"")
        s.setsockopt(zmq.RCVTIMEO, 1500)
        s.connect(self.d.publish)
        return s

    def push(self, keys, event_id):
        s = self.socket(zmq.PUSH, keys)
        s.setsockopt(zmq.SNDTIMEO, 1000)
        s.connect(self.d.ingest)
        try:
            s.send(h.event_bytes(event_id=event_id, customer_id="cc", channel="chat", lang="en",
                                 text=TEXT))
        except zmq.Again:
            pass  # a refused client may not even get to queue its message
        return s

    def test_only_listed_clients_get_in(self):
        friend_sub = self.subscribe(self.client)
        stranger_sub = self.subscribe(self.stranger)
        plain_sub = self.subscribe(None)
        time.sleep(0.5)
        self.assertEqual(self.control("ping", self.client), b"pong")
        self.assertIsNone(self.control("ping", self.stranger), "a stranger used the control endpoint")
        self.assertIsNone(self.control("ping", None), "a plaintext client used the control endpoint")

        self.push(self.stranger, "from-stranger")
        self.push(None, "from-plain")
        time.sleep(0.5)
        self.push(self.client, "from-friend")
        topic, body = friend_sub.recv_multipart()
        msg = h.pb().TriageDecision.FromString(body)
        self.assertEqual(msg.event_id, "from-friend")
        self.assertEqual(msg.seq, 1, "an event from a stranger was decided before the friend's")
        for s, who in ((stranger_sub, "stranger"), (plain_sub, "plaintext client")):
            with self.assertRaises(zmq.Again, msg="a %s received a decision" % who):
                s.recv_multipart()
        stats = json.loads(self.control("stats", self.client))
        self.assertEqual(stats["received"], 1)
        self.assertIn("client key not on the allowlist", self.d.log())

        # complaintctl with and without the keys.
        keys = ["--curve-server-key", self.server["public"],
                "--curve-key-file", os.path.join(self.dir, "client.key")]
        r = h.complaintctl(["stats", "--control", self.d.control] + keys)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = h.complaintctl(["stats", "--control", self.d.control, "--timeout", "1000"])
        self.assertEqual(r.returncode, 1)
        self.d.kill()


class TestPlaintextPolicy(unittest.TestCase):

    def test_plain_tcp_beyond_loopback_needs_explicit_consent(self):
        data = tempfile.mkdtemp(prefix="plain-")
        port = h.free_port()
        argv = [h.COMPLAINTD, "--ingest", "tcp://0.0.0.0:%d" % port, "--data-dir", data,
                "--rules", h.RULES, "--publish", "tcp://127.0.0.1:%d" % h.free_port(),
                "--control", "tcp://127.0.0.1:%d" % h.free_port(),
                "--ingest-acked", "tcp://127.0.0.1:%d" % h.free_port()]
        env = dict(os.environ, COMPLAINTD_CACHE=h.RULE_CACHE)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("refusing plain TCP on tcp://0.0.0.0:%d" % port, r.stderr)


if __name__ == "__main__":
    unittest.main()
